/* SPDX-License-Identifier: MIT */
/*
 * agenda.c - activations waiting to fire, in a binary heap: higher salience first, then
 * recency. One whose token is deleted is marked dead and stays in the heap until it comes
 * to the top or the dead make up half the heap, which is then rebuilt in O(n): a change
 * that deletes many activations at once (a context fact modified) costs O(1) for each.
 *
 * Recency is OPS5's LEX order, which CLIPS's `lex` strategy also follows: the ids of the
 * facts each activation matched (ids grow with time, so they are time tags) are sorted
 * newest first and compared in turn; the first difference decides, newer first; when one
 * list is a prefix of the other, the longer one (the more specific match) goes first;
 * when they are the same, the newer activation goes first. So when one fact completes
 * many matches at once, the match with the newest other facts fires first, whatever the
 * order in which the network found them.
 */
#include "core.h"

#include <string.h>

static bool before(const activation *a, const activation *b)
{
	if (a->salience != b->salience)
		return a->salience > b->salience;
	uint32_t n = a->ntags < b->ntags ? a->ntags : b->ntags;
	for (uint32_t i = 0; i < n; i++)
		if (a->tags[i] != b->tags[i])
			return a->tags[i] > b->tags[i];
	if (a->ntags != b->ntags)
		return a->ntags > b->ntags;
	return a->seq > b->seq;
}

/* Fills A's time tags from the facts of token T: the AGENDA_TAGS newest, newest first.
 * Activations of one rule tend to have their facts in the same order of age (contexts
 * newer than the data they look at), so the ids are sorted by insertion starting from
 * the order that sorted the rule's previous activation (rule.tag_perm, indices into the
 * facts as met going up the token): then each goes in with one comparison. A rule with
 * more facts than tags keeps the newest by insertion from the oldest end. */
static void tags_fill(const eng *e, activation *a, const token *t)
{
	uint8_t *perm = a->r->tag_perm;
	uint32_t n = 0;
	if (perm) {
		eng_fact_id met[AGENDA_TAGS];
		for (; t && n < AGENDA_TAGS; t = token_at(e, t->parent))
			if (t->wid)
				met[n++] = t->wid;
		if (n == a->r->npos) {   /* as it must be: a token holds a fact per condition */
			bool sorted = true;
			for (uint32_t k = 0; k < n; k++) {
				a->tags[k] = met[perm[k]];
				sorted = sorted && (k == 0 || a->tags[k - 1] > a->tags[k]);
			}
			a->ntags = n;
			if (sorted)
				return;
			for (uint32_t k = 1; k < n; k++) {
				eng_fact_id id = a->tags[k];
				uint8_t j = perm[k];
				uint32_t i = k;
				for (; i > 0 && a->tags[i - 1] < id; i--) {
					a->tags[i] = a->tags[i - 1];
					perm[i] = perm[i - 1];
				}
				a->tags[i] = id;
				perm[i] = j;
			}
			return;
		}
		n = 0;
		t = token_ref(e, a->tok);
	}
	for (; t; t = token_at(e, t->parent)) {
		if (!t->wid)
			continue;
		eng_fact_id id = t->wid;
		uint32_t i;
		if (n < AGENDA_TAGS)
			i = n++;
		else if (id <= a->tags[AGENDA_TAGS - 1])
			continue;
		else
			i = AGENDA_TAGS - 1;
		while (i > 0 && a->tags[i - 1] < id) {
			a->tags[i] = a->tags[i - 1];
			i--;
		}
		a->tags[i] = id;
	}
	a->ntags = n;
}

static void place(eng *e, uint32_t i, activation *a)
{
	e->heap[i] = a;
	a->heap = i;
}

static void sift_up(eng *e, uint32_t i)
{
	activation *a = e->heap[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!before(a, e->heap[p]))
			break;
		place(e, i, e->heap[p]);
		i = p;
	}
	place(e, i, a);
}

static void sift_down(eng *e, uint32_t i)
{
	activation *a = e->heap[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= e->nheap)
			break;
		if (c + 1 < e->nheap && before(e->heap[c + 1], e->heap[c]))
			c++;
		if (!before(e->heap[c], a))
			break;
		place(e, i, e->heap[c]);
		i = c;
	}
	place(e, i, a);
}

/* A new activation waits in the pending list, unsorted, until the agenda is next
 * consulted (agenda_flush): a firing's later actions often delete what its first ones
 * matched (a context fact replaced twice), and those activations then cost a push and a
 * pop instead of a heap insertion. Its time tags are read now, while the network has just
 * walked its token (later they are out of the cache). The order is the same either way:
 * the heap sorts by rule and facts, and seq keeps the order of creation. */
eng_status agenda_add(eng *e, tref tr, token *t, rule *r)
{
	if (grow((void **)&e->pending, &e->cappending, e->npending + 1, sizeof(activation *)))
		return ENG_ERR_NOMEM;
	activation *a = pool_get_raw(&e->act_pool);   /* every field is set below or at flush */
	if (!a)
		return ENG_ERR_NOMEM;
	a->tok = tr;
	a->r = r;
	a->salience = r->ir->salience;
	a->seq = ++e->seq;
	a->pending = true;
	a->dead = false;
	tags_fill(e, a, t);
	t->act = a;
	a->heap = e->npending;
	e->pending[e->npending++] = a;
	return ENG_OK;
}

/* Moves the pending activations into the heap. */
eng_status agenda_flush(eng *e)
{
	if (!e->npending && !e->unsorted)
		return ENG_OK;
	if (grow((void **)&e->heap, &e->capheap, e->nheap + e->npending, sizeof(activation *)))
		return ENG_ERR_NOMEM;
	/* many at once: append them all and rebuild the heap bottom-up, in O(n) */
	bool rebuild = e->unsorted || e->npending > e->nheap;
	for (uint32_t k = 0; k < e->npending; k++) {
		activation *a = e->pending[k];
		a->pending = false;
		e->heap[e->nheap] = a;
		a->heap = e->nheap++;
		if (!rebuild)
			sift_up(e, a->heap);
	}
	e->npending = 0;
	if (rebuild)
		for (uint32_t i = e->nheap / 2; i-- > 0;)
			sift_down(e, i);
	e->unsorted = false;
	return ENG_OK;
}

/* Drops the dead activations from the heap; it is rebuilt bottom-up, in O(n), when it is
 * next read (agenda_flush). */
static void compact(eng *e)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < e->nheap; i++) {
		activation *a = e->heap[i];
		if (a->dead)
			pool_put(&e->act_pool, a);
		else
			place(e, n++, a);
	}
	e->nheap = n;
	e->ndead = 0;
	e->unsorted = n > 1;   /* rebuilt when next read: often all go before that */
}

/* Removes A from the agenda and frees it (an activation in the heap is only marked: the
 * heap drops the dead ones when they reach the top or make up half of it, so that a
 * change that deletes many activations costs no reordering for each). */
void agenda_remove(eng *e, activation *a)
{
	uint32_t i = a->heap;
	token_ref(e, a->tok)->act = NULL;
	if (a->pending) {
		activation *last = e->pending[--e->npending];
		e->pending[i] = last;
		last->heap = i;
		pool_put(&e->act_pool, a);
		return;
	}
	a->dead = true;
	if (++e->ndead * 2 > e->nheap)
		compact(e);
}

/* The first activation, without taking it; NULL when there is none (or when the pending
 * ones cannot be sorted in for want of memory). */
activation *agenda_top(eng *e)
{
	if (agenda_flush(e) != ENG_OK)
		return NULL;
	while (e->nheap && e->heap[0]->dead) {
		pool_put(&e->act_pool, e->heap[0]);
		e->ndead--;
		if (--e->nheap) {
			place(e, 0, e->heap[e->nheap]);
			sift_down(e, 0);
		}
	}
	return e->nheap ? e->heap[0] : NULL;
}

/* Takes the first activation off the heap; the caller frees it. NULL when empty (or when
 * the pending ones cannot be sorted in for want of memory). */
activation *agenda_pop(eng *e)
{
	activation *a = agenda_top(e);
	if (!a)
		return NULL;
	e->nheap--;
	if (e->nheap) {
		place(e, 0, e->heap[e->nheap]);
		sift_down(e, 0);
	}
	return a;
}

void agenda_clear(eng *e)
{
	e->nheap = 0;
	e->ndead = 0;
	e->unsorted = false;
	e->npending = 0;
	pool_reset(&e->act_pool);
}

size_t eng_agenda_size(const eng *e)
{
	return e->nheap - e->ndead + e->npending;
}
