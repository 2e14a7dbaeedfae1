/* SPDX-License-Identifier: MIT */
/*
 * agenda.c - activations waiting to fire, in a binary heap: higher salience first, then
 * the newest activation (recency). Each activation knows its heap slot, so one whose
 * token is deleted leaves in O(log n).
 */
#include "core.h"

static bool before(const activation *a, const activation *b)
{
	int32_t sa = a->r->ir->salience, sb = b->r->ir->salience;
	if (sa != sb)
		return sa > sb;
	return a->seq > b->seq;
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

eng_status agenda_add(eng *e, token *t, rule *r)
{
	if (grow((void **)&e->heap, &e->capheap, e->nheap + 1, sizeof(activation *)))
		return ENG_ERR_NOMEM;
	activation *a = pool_get(&e->act_pool);
	if (!a)
		return ENG_ERR_NOMEM;
	a->tok = t;
	a->r = r;
	a->seq = ++e->seq;
	t->act = a;
	e->heap[e->nheap] = a;
	a->heap = e->nheap++;
	sift_up(e, a->heap);
	return ENG_OK;
}

/* Removes A from the heap and frees it. */
void agenda_remove(eng *e, activation *a)
{
	uint32_t i = a->heap;
	a->tok->act = NULL;
	e->nheap--;
	if (i != e->nheap) {
		activation *moved = e->heap[e->nheap];
		place(e, i, moved);
		sift_down(e, i);
		if (e->heap[i] == moved)
			sift_up(e, i);
	}
	pool_put(&e->act_pool, a);
}

/* Takes the first activation off the heap; the caller frees it. NULL when empty. */
activation *agenda_pop(eng *e)
{
	if (!e->nheap)
		return NULL;
	activation *a = e->heap[0];
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
	pool_drop(&e->act_pool);
}

size_t eng_agenda_size(const eng *e)
{
	return e->nheap;
}
