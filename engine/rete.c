/* SPDX-License-Identifier: MIT */
/*
 * rete.c - the matcher: an incremental Rete network after Doorenbos's Rete/UL.
 *
 * How a fact flows through the network. A fact (subject, attribute, value) is first
 * offered to the alpha network: every alpha memory is keyed by which of the three fields
 * its pattern fixes to constants and by those constants, so a new fact probes one hash
 * table once for each constant mask in use (at most eight probes), then runs the few
 * remaining constant tests (`in` sets, `<` against a constant, a variable used twice in
 * one pattern). An alpha memory holds the facts that pass, optionally hashed on a field.
 * The memory of a pattern that every fact matches (`not: [?w, ?, ?]`: no constant, no
 * test) holds nothing: working memory is its content, and its nodes find a subject's
 * facts in the fact tables' chains by subject (engine.c), or walk every fact, instead of
 * an item and two index links for every fact in working memory.
 *
 * The beta network is a tree below a dummy top memory that holds one empty token. Its
 * nodes are of two sorts. Stores hold tokens (partial matches): MEM after a positive
 * condition, NEG for a negated condition, TEST for a `test:` condition and PROD at the end
 * of a rule. Joins hold nothing: a JOIN sits between a store (its parent) and an alpha
 * memory, and whenever one side gains an item it looks for partners on the other side
 * that pass its variable tests, handing each (token, fact) pair to its child stores.
 * Each store with an equality join below it is hashed on the token values that join
 * compares (one per field of the fact it tests, up to three), and the alpha memory on
 * the matching fields, so both directions look at one bucket instead of the whole
 * memory (an indexed alpha memory keeps no list of its own: a walk over all its items
 * goes through the buckets of its first index; items live in tables by size, 24 to 48
 * bytes, and name each other, like tokens, by 4-byte numbers). A store's buckets are its only list of
 * tokens (an unhashed store has one); nothing looks for a PROD store's tokens, so they
 * are in no list. A store is hashed for the first join built below it; a join of
 * another rule that shares the join above but compares other values gets a twin store
 * of its own, hashed for it (each token of the join above then goes to both), as CLIPS
 * keeps a left memory per join: one more token per match instead of a walk over the
 * whole store for every new fact.
 *
 * A rule's conditions are joined in its order, except that a control condition goes
 * last: one with a constant subject and attribute that some rule modifies (or retracts
 * with constant subject and attribute), binding nothing that other conditions use.
 * Changing a control fact (a `context` of several phases, a counter) then redoes the
 * last join only, not every partial match below it (cond_goes_last). And a positive
 * condition that shares no variable with those before it waits for a later one that
 * links it: of an entity's triples [?e, p1, ?p] [?e, p2, ?bp] after ?bp is bound, the
 * second goes first, instead of pairing every partial match with every p1 triple
 * (order_conds; negations and tests keep their place). Which rules match, and the
 * agenda, do not depend on the order of joins.
 *
 * A token extends its parent token by one level; level k holds the fact that matched the
 * k-th store's condition (none for NEG and TEST levels), so a rule variable is found by
 * walking up to the level that bound it (varloc). Tokens form a tree: every token lists
 * its children and every fact lists the tokens that hold it. Tokens live in the engine's
 * token table, one array aligned to a cache line, and name each other by number (4
 * bytes), so a token is 64 bytes, one line, where with pointers it was 96 over two; it
 * also keeps its fact's id, so the agenda reads time tags without visiting the facts.
 * A step up a token is an index into the array, but the array moves when it grows:
 * nothing keeps a token pointer across the making of a token (store_insert takes its
 * parent by number, and activations and firings hold their tokens by number).
 *
 * A NEG store keeps, for each of its tokens, one fact that blocks it (negres), as CLIPS
 * does; the token passes down only while it has none. A new token looks for a blocker
 * only until it finds one, trying first the fact that blocked the last one (the node's
 * hint); a new fact blocks only the tokens that had none (and deletes their
 * descendants), and when a blocker is retracted each token it blocked looks for another,
 * passing down if there is none: a `not` with an order test (no greater value) costs
 * what it finds, not the number of facts that block each token. A blocked token leaves
 * its store's buckets until it passes again, so that neither a new fact of the negated
 * pattern nor one of the join below walks over it.
 *
 * Retraction undoes matches by tree deletion: the fact leaves its alpha memories, every
 * token holding it is deleted with all its descendants, and the NEG tokens it blocked
 * find another blocker or are released. When a PROD token is deleted its activation leaves the agenda, and if the
 * rule already fired, the firing is withdrawn (engine.c): its conclusions die and the
 * facts that only it supported are queued for retraction, which runs once the network is
 * consistent again (wm_settle).
 *
 * The agenda (agenda.c) is a binary heap of activations ordered by salience, then by
 * recency of the facts matched (LEX: newest fact first, then the next newest, ...);
 * refraction comes for free, since a token activates its rule once and only a new token
 * (new facts) can activate it again. A deleted activation stays in the heap, marked,
 * until it reaches the top or the dead are half the heap.
 *
 * A procedural firing's assertions are matched when its actions are done, after its
 * retractions (engine.c, wm_match_deferred): a rule that modifies two control facts
 * does not first join the new value of one with partial matches that the other's
 * retraction is about to delete.
 *
 * What keeps the cost with what changes: a join whose alpha memory is empty does not
 * look at a new token, and one whose parent store is empty does not look at a new fact
 * (Rete/UL's unlinking, as two tests); an equality join looks in one hash bucket, on up
 * to three fields at once (the memory's multi-field index); clearing visits only the
 * memories and stores filled since the last clear, and the pools keep their memory.
 */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- values in facts and tokens ---- */

eng_value fact_field(const fact *f, uint8_t field)
{
	eng_value v = { ENG_SYMBOL, { 0 } };
	switch (field) {
	case 0: v.u.sym = f->t.subject; return v;
	case 1: v.u.sym = f->t.attribute; return v;
	default: return f->t.value;
	}
}

static inline void tok_value(const eng *e, const token *t, uint16_t level, uint8_t field,
                             eng_value *out)
{
	while (t->level > level)   /* the top token, at level 0, ends every walk */
		t = token_ref(e, t->parent);
	if (t->level == level && t->wme)
		*out = fact_field(t->wme, field);
	else
		out->type = ENG_NONE;
}

void token_bindings(const eng *e, const token *t, const rule *r, eng_value *out)
{
	for (uint32_t v = 0; v < r->ir->nvars; v++) {
		if (r->vars[v].level)
			tok_value(e, t, r->vars[v].level, r->vars[v].field, &out[v]);
		else
			out[v].type = ENG_NONE;
	}
}


/* eng_value_eq, inlined where the matcher spends its time. */
static inline bool value_eq(eng_value a, eng_value b)
{
	if (a.type != b.type)
		return false;
	switch (a.type) {
	case ENG_SYMBOL:
	case ENG_STRING: return a.u.sym == b.u.sym;
	case ENG_NUMBER: return a.u.num == b.u.num;
	case ENG_BOOL: return a.u.b == b.u.b;
	default: return true;
	}
}

/* cmp_values, inlined in the join tests: an order holds between two numbers only. */
static inline bool value_cmp(cmp_op op, eng_value a, eng_value b)
{
	bool nums = a.type == ENG_NUMBER && b.type == ENG_NUMBER;
	switch (op) {
	case CMP_EQ: return value_eq(a, b);
	case CMP_NE: return !value_eq(a, b);
	case CMP_LT: return nums && a.u.num < b.u.num;
	case CMP_LE: return nums && a.u.num <= b.u.num;
	case CMP_GT: return nums && a.u.num > b.u.num;
	case CMP_GE: return nums && a.u.num >= b.u.num;
	default: return false;
	}
}

bool cmp_values(cmp_op op, eng_value a, eng_value b)
{
	return value_cmp(op, a, b);
}

static bool atest_pass(const atest *t, const fact *f)
{
	eng_value v = fact_field(f, t->field);
	if (t->vs_field)
		return cmp_values(t->op, v, fact_field(f, t->other));
	if (t->op == CMP_IN || t->op == CMP_NOT_IN) {
		bool in = false;
		for (uint32_t i = 0; i < t->nset && !in; i++)
			in = eng_value_eq(v, t->set[i]);
		return t->op == CMP_IN ? in : !in;
	}
	return cmp_values(t->op, v, t->k);
}

/* The token's side of J's tests, for a loop over many facts against one token. */
static void jtests_values(const eng *e, const rnode *j, const token *tok, eng_value *vals)
{
	for (uint32_t i = 0; i < j->ntests; i++)
		tok_value(e, tok, j->tests[i].level, j->tests[i].lfield, &vals[i]);
}

static bool jtests_pass_values(const rnode *j, const eng_value *vals, const fact *f)
{
	for (uint32_t i = 0; i < j->ntests; i++) {
		const jtest *t = &j->tests[i];
		eng_value fv = fact_field(f, t->field);
		if (t->op == CMP_EQ ? !value_eq(fv, vals[i]) : !value_cmp(t->op, fv, vals[i]))
			return false;
	}
	return true;
}

static bool jtests_pass(const eng *e, const rnode *j, const token *tok, const fact *f)
{
	for (uint32_t i = 0; i < j->ntests; i++) {
		const jtest *t = &j->tests[i];
		eng_value tv, fv = fact_field(f, t->field);
		tok_value(e, tok, t->level, t->lfield, &tv);
		if (t->op == CMP_EQ ? !value_eq(fv, tv) : !value_cmp(t->op, fv, tv))
			return false;
	}
	return true;
}

/* ---- hash indexes ---- */

/* The hash of the fields in MASK, from their values' bits, in field order, mixed once. */
static inline uint32_t bits_hash(uint8_t mask, const uint64_t *bits)
{
	uint64_t h = mask;
	for (int i = 0; i < 3; i++)
		if (mask & (1u << i))
			h = h * 0x9e3779b97f4a7c15ull + bits[i];
	return (uint32_t)mix64(h);
}

/* The same from the values. */
static inline uint32_t fields_hash(uint8_t mask, const eng_value *v)
{
	uint64_t bits[3] = { 0, 0, 0 };
	for (int i = 0; i < 3; i++)
		if (mask & (1u << i))
			bits[i] = value_bits(v[i]);
	return bits_hash(mask, bits);
}

static uint32_t amem_key_hash(uint8_t mask, const eng_value *k)
{
	return fields_hash(mask, k);
}

/* The hash of a multi-field key from the values of its fields, in field order. */
static uint32_t multi_hash(uint8_t mask, const eng_value *v)
{
	return fields_hash(mask, v);
}

/* The hash of fact F in index FIELD (AIDX_*) of M. */
static uint32_t item_hash(const amem *m, uint8_t field, const fact *f)
{
	if (field < AIDX_MULTI)
		return (uint32_t)value_hash(fact_field(f, field));
	eng_value v[3] = { fact_field(f, 0), fact_field(f, 1), f->t.value };
	return multi_hash(m->multi_mask, v);
}

/* An item's next and previous in the bucket of the index in slot S. */
#define IT_NEXT(it, s) ((it)->link[2 * (s)])
#define IT_PREV(it, s) ((it)->link[2 * (s) + 1])

/* ---- the item tables ---- */

/* A new item of class CLS (its memory's pairs of links, less one), zeroed, or 0 when
 * there is no memory for one. */
static iref item_alloc(eng *e, uint32_t cls)
{
	itable *t = &e->items[cls];
	iref r;
	if (t->free) {
		r = t->free;
		t->free = item_at(e, r)->fnext;
	} else {
		uint32_t chunk = t->next >> 8;
		if (chunk == t->nchunks) {
			if (t->next >= IINDEX_MASK - 256)
				return 0;
			if (grow((void **)&t->chunks, &t->capchunks, chunk + 1, sizeof(*t->chunks)))
				return 0;
			unsigned char *c = aligned_alloc(64, (size_t)t->size * 256);
			if (!c)
				return 0;
			t->chunks[t->nchunks++] = c;
		}
		r = cls << ICLASS_SHIFT | t->next++;
	}
	memset(item_at(e, r), 0, t->size);
	return r;
}

static void item_free(eng *e, iref r, amem_item *it)
{
	itable *t = &e->items[r >> ICLASS_SHIFT];
	it->fnext = t->free;
	t->free = r;
}

/* Empties the item tables, keeping their memory: place 0 of each stands for none. */
static void items_reset(eng *e)
{
	for (uint32_t c = 0; c < AIDX_COUNT; c++) {
		e->items[c].next = 1;
		e->items[c].free = 0;
	}
}

void rete_items_init(eng *e)
{
	for (uint32_t c = 0; c < AIDX_COUNT; c++)
		e->items[c].size = (uint32_t)(sizeof(amem_item) + 2 * (c + 1) * sizeof(iref));
	items_reset(e);
}

void rete_items_free(eng *e)
{
	for (uint32_t c = 0; c < AIDX_COUNT; c++) {
		for (uint32_t i = 0; i < e->items[c].nchunks; i++)
			free(e->items[c].chunks[i]);
		free(e->items[c].chunks);
		e->items[c].chunks = NULL;
		e->items[c].nchunks = e->items[c].capchunks = 0;
	}
	items_reset(e);
	free(e->amem_ids);
	e->amem_ids = NULL;
}

/* The size class of M's items. */
static inline uint32_t item_class(const amem *m)
{
	return m->nidx ? m->nidx - 1u : 0;
}

/* Puts item R (IT) at the head of the list *HEAD through its links in slot S. */
static inline void item_link(eng *e, iref *head, iref r, amem_item *it, int s)
{
	IT_PREV(it, s) = 0;
	IT_NEXT(it, s) = *head;
	if (*head)
		IT_PREV(item_at(e, *head), s) = r;
	*head = r;
}

/* (Re)builds index FIELD of M with NBUCKETS buckets. A new index gets a slot of links in
 * the items (the first one takes the links of the memory's list), so it can only be
 * added while the memory is empty (rules are added with working memory empty); a rebuilt
 * one moves its items from its old buckets. */
static eng_status aindex_build(eng *e, amem *m, uint8_t field, uint32_t nbuckets)
{
	aindex *ix = &m->idx[field];
	if (!ix->nbuckets && m->count)
		return ENG_ERR_INVALID;
	iref *b = calloc(nbuckets, sizeof(*b));
	if (!b)
		return ENG_ERR_NOMEM;
	if (!ix->nbuckets) {
		if (!m->nidx)
			m->first = field;
		m->slot[field] = (int8_t)m->nidx++;
	}
	int s = m->slot[field];
	for (uint32_t i = 0; i < ix->nbuckets; i++)
		for (iref r = ix->buckets[i], next; r; r = next) {
			amem_item *it = item_at(e, r);
			next = IT_NEXT(it, s);
			item_link(e, &b[item_hash(m, field, it->f) & (nbuckets - 1)], r, it, s);
		}
	free(ix->buckets);
	ix->buckets = b;
	ix->nbuckets = nbuckets;
	return ENG_OK;
}

/* A walk over the facts of an alpha memory that may pass a node's tests: one bucket of
 * an index, the memory's list, or every bucket of its first index; for the whole memory,
 * the facts of one subject (the chain of the fact tables that holds them), or every fact
 * in working memory. A fact not matched yet (deferred) is in no memory. */
enum { AWALK_ITEMS, AWALK_SUBJECT, AWALK_ALL };

typedef struct {
	const eng *e;
	fact *f;                /* the current fact, NULL at the end */
	amem_item *it;          /* its item (AWALK_ITEMS) */
	int slot;               /* the links followed */
	uint32_t b, nb;         /* walking every bucket: the next one, and how many */
	const iref *buckets;
	uint8_t walk;           /* AWALK_* */
	eng_sym subject;        /* AWALK_SUBJECT */
	uint32_t i;             /* AWALK_ALL: the next place in eng.facts */
} aiter;

static inline void aiter_at(aiter *a, iref r)
{
	while (!r && a->b < a->nb)
		r = a->buckets[a->b++];
	a->it = r ? item_at(a->e, r) : NULL;
	a->f = r ? a->it->f : NULL;
}

/* From fact F on, the first one of the walk's subject (AWALK_SUBJECT) or the first one
 * in working memory (AWALK_ALL), matched. */
static void aiter_wm(aiter *a, fact *f)
{
	if (a->walk == AWALK_SUBJECT) {
		while (f && (f->t.subject != a->subject || f->deferred))
			f = f->sanext;
	} else {
		for (f = NULL; !f && a->i < a->e->nfacts; a->i++)
			if ((f = a->e->facts[a->i]) && f->deferred)
				f = NULL;
	}
	a->f = f;
}

static inline void aiter_next(aiter *a)
{
	if (a->walk == AWALK_ITEMS)
		aiter_at(a, IT_NEXT(a->it, a->slot));
	else
		aiter_wm(a, a->walk == AWALK_SUBJECT ? a->f->sanext : NULL);
}

/* The facts of N's alpha memory that may pass its tests, given the token's side of the
 * tests in VALS: one bucket of an index, or all of them. */
static void node_items(const eng *e, const rnode *n, const eng_value *vals, aiter *a)
{
	const amem *m = n->am;
	a->e = e;
	a->b = a->nb = 0;
	a->walk = AWALK_ITEMS;
	if (m->whole) {
		a->i = 0;
		a->walk = n->mtest[0] >= 0 ? AWALK_SUBJECT : AWALK_ALL;
		if (a->walk == AWALK_ALL) {
			aiter_wm(a, NULL);
			return;
		}
		eng_value v = vals[n->mtest[0]];
		if (v.type != ENG_SYMBOL || !e->nftable) {   /* subjects are symbols */
			a->f = NULL;
			return;
		}
		a->subject = v.u.sym;
		aiter_wm(a, e->satable[subject_hash(v.u.sym) & (e->nftable - 1)]);
		return;
	}
	if (n->aidx < 0) {
		a->slot = 0;
		if (!m->nidx) {
			aiter_at(a, m->items);
		} else {
			a->buckets = m->idx[m->first].buckets;
			a->nb = m->count ? m->idx[m->first].nbuckets : 0;
			aiter_at(a, 0);
		}
		return;
	}
	a->slot = n->islot;
	const aindex *ix = &m->idx[n->aidx];
	uint32_t h;
	if (n->aidx < AIDX_MULTI) {
		h = (uint32_t)value_hash(vals[n->hashed_test]);
	} else {
		eng_value v[3] = { { ENG_NONE, { 0 } }, { ENG_NONE, { 0 } }, { ENG_NONE, { 0 } } };
		for (int i = 0; i < 3; i++)
			if (m->multi_mask & (1u << i))
				v[i] = vals[n->mtest[i]];
		h = multi_hash(m->multi_mask, v);
	}
	aiter_at(a, ix->buckets[h & (ix->nbuckets - 1)]);
}

/* The hash of a store key from its values, mixed once. */
static inline uint32_t key_hash(const eng_value *v, uint32_t n)
{
	uint64_t h = value_bits(v[0]);
	for (uint32_t i = 1; i < n; i++)
		h = h * 0x9e3779b97f4a7c15ull + value_bits(v[i]);
	return (uint32_t)mix64(h);
}

/* The hash of T's key in store S: one walk up the token, the key being deepest first;
 * 0 in a store that is not hashed. */
static uint32_t store_hash(const eng *e, const rnode *s, const token *t)
{
	if (!s->nkey)
		return 0;
	eng_value v[3];
	for (uint32_t i = 0; i < s->nkey; i++) {
		while (t->level > s->key_level[i])
			t = token_ref(e, t->parent);
		if (t->level == s->key_level[i] && t->wme)
			v[i] = fact_field(t->wme, s->key_field[i]);
		else
			v[i].type = ENG_NONE;
	}
	return key_hash(v, s->nkey);
}

/* Links token R (T) into bucket B. */
static inline void bucket_link(eng *e, tref *b, tref r, token *t)
{
	t->hnext = *b;
	t->hprev = TREF_HEAD;
	if (*b)
		token_at(e, *b)->hprev = r;
	*b = r;
}

#define TOKEN_HASH_SPAN 65536   /* the buckets that token.hash can pick from */

/* The bucket of S that holds T. */
static tref *bucket_of(eng *e, rnode *s, const token *t)
{
	uint32_t h = s->ntbuckets > TOKEN_HASH_SPAN ? store_hash(e, s, t) : t->hash;
	return &s->tbuckets[h & (s->ntbuckets - 1)];
}

/* Spreads S's tokens over NBUCKETS new buckets (a store that has none of its own keeps
 * its one list in s->tokens). */
static eng_status store_rehash(eng *e, rnode *s, uint32_t nbuckets)
{
	tref *b = calloc(nbuckets, sizeof(*b));
	if (!b)
		return ENG_ERR_NOMEM;
	bool fresh = s->tbuckets == &s->tokens;   /* not hashed until now: no hash kept */
	for (uint32_t i = 0; i < s->ntbuckets; i++)
		for (tref r = s->tbuckets[i], next; r; r = next) {
			token *t = token_at(e, r);
			next = t->hnext;
			uint32_t h = t->hash;
			if (fresh || nbuckets > TOKEN_HASH_SPAN)
				h = store_hash(e, s, t);
			t->hash = (uint16_t)h;
			bucket_link(e, &b[h & (nbuckets - 1)], r, t);
		}
	if (s->tbuckets != &s->tokens)
		free(s->tbuckets);
	s->tokens = 0;
	s->tbuckets = b;
	s->ntbuckets = nbuckets;
	return ENG_OK;
}

/* ---- token stores ---- */

static void propagate(eng *e, rnode *node, tref r);

/* Puts token R (T), whose hash in S is H, into S's buckets. */
static void store_relink(eng *e, rnode *s, tref r, token *t, uint32_t h)
{
	s->ntokens++;
	if (!s->dirty) {
		s->dirty = true;
		s->dirty_next = e->dirty_stores;
		e->dirty_stores = s;
	}
	if (s->nkey && s->ntokens > s->ntbuckets)
		(void)store_rehash(e, s, s->ntbuckets * 4);  /* on failure the old buckets stay */
	t->hash = (uint16_t)h;
	bucket_link(e, &s->tbuckets[h & (s->ntbuckets - 1)], r, t);
}

/* Takes T out of S's buckets, if it is in them (a blocked NEG token is in none; a PROD
 * token, in none either, never comes here: its links hold act and fired), leaving the
 * buckets as they are: a walk over them may go on. */
static void bucket_unlink(eng *e, rnode *s, token *t)
{
	if (!t->hprev)
		return;
	s->ntokens--;
	if (t->hprev == TREF_HEAD)
		*bucket_of(e, s, t) = t->hnext;
	else
		token_at(e, t->hprev)->hnext = t->hnext;
	if (t->hnext)
		token_at(e, t->hnext)->hprev = t->hprev;
	t->hprev = 0;
}

static void store_unlink(eng *e, rnode *s, token *t)
{
	bucket_unlink(e, s, t);
	/* a store that emptied keeps a quarter of its buckets, so that a walk over all its
	 * tokens costs about what it holds (on failure the old buckets stay) */
	if (s->ntbuckets > 64 && s->ntokens * 16 < s->ntbuckets)
		(void)store_rehash(e, s, s->ntbuckets / 4);
}

static void negres_free(eng *e, negres *r)
{
	if (r->fprev)
		r->fprev->fnext = r->fnext;
	else
		r->f->negs = r->fnext;
	if (r->fnext)
		r->fnext->fprev = r->fprev;
	pool_put(&e->neg_pool, r);
}

static void token_drop(eng *e, tref r, token *t);

/* Deletes T's descendants. The children go all at once, so none is unlinked from the
 * others. */
static void token_delete_children(eng *e, token *t)
{
	tref c = t->children;
	t->children = 0;
	while (c) {
		token *ct = token_ref(e, c);
		tref next = ct->next_sib;
		token_drop(e, c, ct);
		c = next;
	}
}

/* Gives token R back to the table. */
static void token_free(eng *e, tref r, token *t)
{
	t->parent = e->tfree;
	e->tfree = r;
}

/* Deletes token R (T) and its descendants, but for its links to its siblings. */
static void token_drop(eng *e, tref r, token *t)
{
	token_delete_children(e, t);
	rnode *s = t->node;
	if (s->kind != RN_PROD)   /* a PROD token is in no bucket (its links are act, fired) */
		store_unlink(e, s, t);
	if (t->wme) {
		if (t->fprev)
			token_at(e, t->fprev)->fnext = t->fnext;
		else
			t->wme->tokens = t->fnext;
		if (t->fnext)
			token_at(e, t->fnext)->fprev = t->fprev;
	}
	if (s->kind == RN_NEG) {
		if (t->results)
			negres_free(e, t->results);
	} else if (s->kind == RN_PROD) {
		if (t->act)
			agenda_remove(e, t->act);
		if (t->fired)
			firing_withdraw(e, t->fired);
	}
	token_free(e, r, t);
}

static void token_delete(eng *e, tref r)
{
	token *t = token_at(e, r);
	if (t->parent) {
		if (t->prev_sib)
			token_at(e, t->prev_sib)->next_sib = t->next_sib;
		else
			token_at(e, t->parent)->children = t->next_sib;
		if (t->next_sib)
			token_at(e, t->next_sib)->prev_sib = t->prev_sib;
	}
	token_drop(e, r, t);
}

/* Doubles the token table; false when there is no memory for it (the table stays). The
 * table keeps to a cache line, so a token (64 bytes) is on one: realloc keeps only its
 * own alignment, and the tokens move to the line boundary of the new block if it has
 * another offset. */
static bool tokens_grow(eng *e)
{
	uint64_t cap = e->tcap ? (uint64_t)e->tcap * 2 : 256;
	if (cap > TREF_HEAD)
		cap = TREF_HEAD;   /* numbers below TREF_HEAD */
	if (cap <= e->tcap || cap > (SIZE_MAX - 63) / sizeof(token))
		return false;
	size_t off = e->tokens ? (size_t)((unsigned char *)e->tokens - e->traw) : 0;
	unsigned char *raw = realloc(e->traw, (size_t)cap * sizeof(token) + 63);
	if (!raw)
		return false;
	size_t now = (size_t)(-(uintptr_t)raw & 63);
	if (e->tokens && now != off)
		memmove(raw + now, raw + off, (size_t)e->tnext * sizeof(token));
	e->traw = raw;
	e->tokens = (token *)(void *)(raw + now);
	e->tcap = (uint32_t)cap;
	return true;
}

/* A token of the table, or 0 when there is no memory for one. The table may move: a
 * token pointer taken before this is stale after it. */
static tref token_alloc(eng *e)
{
	if (e->tfree) {
		tref r = e->tfree;
		e->tfree = token_ref(e, r)->parent;
		return r;
	}
	if (e->tnext >= e->tcap && !tokens_grow(e))
		return 0;
	return e->tnext++;
}

/* A new token of store S below token PR (0 for none) holding WME, linked in everywhere;
 * NULL when there is no memory for one. Its number goes to *OUT. Token pointers taken
 * before the call are stale after it (token_alloc). */
static token *token_new(eng *e, rnode *s, tref pr, fact *wme, tref *out)
{
	tref r = token_alloc(e);
	if (!r)
		return NULL;
	token *t = token_ref(e, r);   /* hot: every field is set here */
	*t = (token){ .parent = pr, .wme = wme, .node = s, .level = s->level,
	              .wid = wme ? wme->id : 0 };
	if (pr) {
		token *parent = token_ref(e, pr);
		t->next_sib = parent->children;
		if (parent->children)
			token_ref(e, parent->children)->prev_sib = r;
		parent->children = r;
	}
	if (wme) {
		t->fnext = wme->tokens;
		if (wme->tokens)
			token_ref(e, wme->tokens)->fprev = r;
		wme->tokens = r;
	}
	if (s->kind != RN_PROD)   /* nothing looks for a production's tokens in its store */
		store_relink(e, s, r, t, store_hash(e, s, t));
	*out = r;
	return t;
}

/* Empties the token table, keeping its memory: token 0 stands for none. */
static void tokens_reset(eng *e)
{
	e->tnext = 1;
	e->tfree = 0;
}

void rete_tokens_free(eng *e)
{
	free(e->traw);
	e->traw = NULL;
	e->tokens = NULL;
	e->tcap = 0;
	tokens_reset(e);
}

static void set_nomem(eng *e)
{
	if (!e->match_error) {
		e->match_error = ENG_ERR_NOMEM;
		snprintf(e->error, sizeof(e->error), "out of memory while matching");
	}
}

static bool test_pass(eng *e, rnode *s, token *parent)
{
	const rule *r = s->owner;
	token_bindings(e, parent, r, s->scratch);
	eng_value out;
	char msg[256];
	eng_status st = expr_eval(s->test, e, s->scratch, &out, msg, sizeof(msg));
	if (st == ENG_OK && out.type == ENG_BOOL)
		return out.u.b;
	if (!e->match_error) {
		e->match_error = st ? st : ENG_ERR_EVAL;
		snprintf(e->error, sizeof(e->error), "in rule `%s` (%s:%u): %s", r->ir->id,
		         r->ir->file ? r->ir->file : "", r->ir->line,
		         st ? msg : "a test must give true or false");
	}
	return false;
}

/* A fact of NEG's alpha memory that blocks its token T, or NULL. The fact that blocked
 * the last token is tried first: when one fact blocks many tokens (no greater value, no
 * pending task), the search for the others then costs one test instead of a walk over
 * the memory. */
static fact *neg_blocker(const eng *e, rnode *neg, const token *t)
{
	eng_value vals[16];   /* patterns have at most 16 join tests */
	jtests_values(e, neg, t, vals);
	if (neg->hint && jtests_pass_values(neg, vals, neg->hint))
		return neg->hint;
	aiter a;
	for (node_items(e, neg, vals, &a); a.f; aiter_next(&a))
		if (jtests_pass_values(neg, vals, a.f))
			return neg->hint = a.f;
	return NULL;
}

/* Records that fact F blocks the negative token T, which has no blocker, and takes T
 * out of its store's buckets: what looks there (a new fact of the negated pattern, a new
 * fact of the join below) wants only the tokens that pass, so a blocked token costs
 * nothing until its blocker goes (rete_remove_fact puts it back). */
static bool neg_block(eng *e, tref tr, token *t, fact *f)
{
	negres *r = pool_get(&e->neg_pool);
	if (!r)
		return false;
	bucket_unlink(e, t->node, t);   /* neg_right may be walking the buckets */
	r->owner = tr;
	r->f = f;
	t->results = r;
	r->fnext = f->negs;
	if (f->negs)
		f->negs->fprev = r;
	f->negs = r;
	return true;
}

/* A store receives (parent token PR, fact) from above: make the token and pass it on.
 * Token pointers taken before the call are stale after it (token_new). */
static void store_insert(eng *e, rnode *s, tref pr, fact *wme)
{
	if (s->kind == RN_TEST && !test_pass(e, s, token_ref(e, pr)))
		return;
	tref r;
	token *t = token_new(e, s, pr, wme, &r);
	if (!t) {
		set_nomem(e);
		return;
	}
	switch (s->kind) {
	case RN_NEG: {
		fact *b = neg_blocker(e, s, t);
		if (!b)
			propagate(e, s, r);
		else if (!neg_block(e, r, t, b))
			set_nomem(e);
		break;
	}
	case RN_PROD:
		if (agenda_add(e, r, t, s->prod) != ENG_OK)
			set_nomem(e);
		break;
	default:
		propagate(e, s, r);
		break;
	}
}

/* Joins token R (T, stale once the first match is stored) with J's alpha memory. */
static void join_left(eng *e, rnode *j, tref r, const token *t)
{
	if (!j->am->count)
		return;   /* Rete/UL's left unlinking, as a test */
	eng_value vals[16];   /* patterns have at most 16 join tests */
	jtests_values(e, j, t, vals);
	aiter a;
	for (node_items(e, j, vals, &a); a.f; aiter_next(&a))
		if (jtests_pass_values(j, vals, a.f))
			for (rnode *c = j->children; c; c = c->sibling)
				store_insert(e, c, r, a.f);
}

/* Passes a store's new token R to its children. */
static void propagate(eng *e, rnode *node, tref r)
{
	for (rnode *c = node->children; c; c = c->sibling) {
		if (c->kind == RN_JOIN)
			join_left(e, c, r, token_ref(e, r));
		else
			store_insert(e, c, r, NULL);
	}
}

/* Whether store S is hashed on token values that equality tests of J compare with the
 * fields S's key names: then a fact's partners are in one bucket. */
static bool key_fits(const rnode *s, const rnode *j)
{
	if (!s->nkey)
		return false;
	for (uint32_t i = 0; i < s->nkey; i++) {
		int k = j->mtest[s->key_ffield[i]];
		if (k < 0 || j->tests[k].level != s->key_level[i] ||
		    j->tests[k].lfield != s->key_field[i])
			return false;
	}
	return true;
}

/* The buckets [*FIRST, *END) of store S that hold the tokens join or negative node J
 * could pair with fact F: one when S is hashed on values J's equality tests compare,
 * else all of them. */
static void candidates(const rnode *s, const rnode *j, const fact *f, uint32_t *first,
                       uint32_t *end)
{
	if (!j->keyed) {
		*first = 0;
		*end = s->ntbuckets;
		return;
	}
	eng_value v[3];
	for (uint32_t i = 0; i < s->nkey; i++)
		v[i] = fact_field(f, s->key_ffield[i]);
	*first = key_hash(v, s->nkey) & (s->ntbuckets - 1);
	*end = *first + 1;
}

static void join_right(eng *e, rnode *j, fact *f)
{
	rnode *s = j->parent;
	uint32_t b, end;
	candidates(s, j, f, &b, &end);
	for (; b < end; b++)
		for (tref r = s->tbuckets[b], next; r; r = next) {
			token *t = token_at(e, r);
			next = t->hnext;
			if (jtests_pass(e, j, t, f))
				for (rnode *c = j->children; c; c = c->sibling)
					store_insert(e, c, r, f);
		}
}

static void neg_right(eng *e, rnode *n, fact *f)
{
	uint32_t b, end;
	candidates(n, n, f, &b, &end);
	for (; b < end; b++)
		for (tref r = n->tbuckets[b], next; r; r = next) {
			token *t = token_at(e, r);
			next = t->hnext;
			if (!jtests_pass(e, n, t, f))
				continue;   /* not blocked by F (a blocked token is in no bucket) */
			token_delete_children(e, t);
			if (!neg_block(e, r, t, f)) {
				set_nomem(e);
				return;
			}
		}
}

/* ---- facts in and out ---- */

static eng_status amem_add(eng *e, amem *m, fact *f)
{
	iref r = item_alloc(e, item_class(m));
	if (!r)
		return ENG_ERR_NOMEM;
	amem_item *it = item_at(e, r);
	if (!m->dirty) {
		m->dirty = true;
		m->dirty_next = e->dirty_amems;
		e->dirty_amems = m;
	}
	it->f = f;
	it->mem = m->id;
	m->count++;
	it->fnext = f->items;
	f->items = r;
	if (!m->nidx) {
		item_link(e, &m->items, r, it, 0);
		return ENG_OK;
	}
	for (uint8_t fld = 0; fld < AIDX_COUNT; fld++) {
		aindex *ix = &m->idx[fld];
		if (!ix->nbuckets)
			continue;
		if (m->count > ix->nbuckets)
			(void)aindex_build(e, m, fld, ix->nbuckets * 4);   /* on failure the old
			                                                    * buckets stay */
		uint32_t h = item_hash(m, fld, f) & (ix->nbuckets - 1);
		item_link(e, &ix->buckets[h], r, it, m->slot[fld]);
	}
	return ENG_OK;
}

/* Takes item R (IT) out of memory M and frees it. */
static void amem_remove(eng *e, amem *m, iref r, amem_item *it)
{
	m->count--;
	if (!m->nidx) {
		if (IT_PREV(it, 0))
			IT_NEXT(item_at(e, IT_PREV(it, 0)), 0) = IT_NEXT(it, 0);
		else
			m->items = IT_NEXT(it, 0);
		if (IT_NEXT(it, 0))
			IT_PREV(item_at(e, IT_NEXT(it, 0)), 0) = IT_PREV(it, 0);
	}
	for (uint8_t fld = 0; fld < AIDX_COUNT; fld++) {
		aindex *ix = &m->idx[fld];
		if (!ix->nbuckets)
			continue;
		int s = m->slot[fld];
		if (IT_PREV(it, s))
			IT_NEXT(item_at(e, IT_PREV(it, s)), s) = IT_NEXT(it, s);
		else {
			uint32_t h = item_hash(m, fld, it->f) & (ix->nbuckets - 1);
			if (ix->buckets[h] == r)
				ix->buckets[h] = IT_NEXT(it, s);
		}
		if (IT_NEXT(it, s))
			IT_PREV(item_at(e, IT_NEXT(it, s)), s) = IT_PREV(it, s);
	}
	item_free(e, r, it);
}

/* Counts a fact into the whole memory M: the fact is in working memory already. */
static void whole_add(eng *e, amem *m)
{
	if (!m->dirty) {
		m->dirty = true;
		m->dirty_next = e->dirty_amems;
		e->dirty_amems = m;
	}
	m->count++;
}

/* Clears the hints of M's negative nodes that name F, a fact leaving M. */
static void hints_drop(amem *m, const fact *f)
{
	for (uint32_t i = 0; i < m->nsucc; i++)
		if (m->succ[i]->hint == f)
			m->succ[i]->hint = NULL;   /* a hint is in the memory */
}

eng_status rete_add_fact(eng *e, fact *f)
{
	eng_value k[3] = { fact_field(f, 0), fact_field(f, 1), f->t.value };
	uint64_t bits[3] = { value_bits(k[0]), value_bits(k[1]), value_bits(k[2]) };
	for (uint8_t mask = 0; mask < 8; mask++) {
		if (!(e->masks_used & (1u << mask)))
			continue;
		uint32_t h = bits_hash(mask, bits) & (e->amem_nbuckets - 1);
		for (amem *m = e->amem_table[h]; m; m = m->next) {
			if (m->mask != mask)
				continue;
			bool ok = true;
			for (int i = 0; i < 3 && ok; i++)
				if (mask & (1u << i))
					ok = value_eq(m->k[i], k[i]);
			for (uint32_t i = 0; i < m->ntests && ok; i++)
				ok = atest_pass(&m->tests[i], f);
			if (!ok)
				continue;
			if (m->whole)
				whole_add(e, m);
			else if (amem_add(e, m, f) != ENG_OK)
				return ENG_ERR_NOMEM;
			/* descendants before ancestors, so that a fact matching two conditions of
			 * one rule makes each pair once */
			for (uint32_t i = m->nsucc; i-- > 0;) {
				rnode *n = m->succ[i];
				/* a node whose left side holds no token can make nothing of a new fact
				 * (Rete/UL's right unlinking, as a test) */
				if (n->kind == RN_JOIN) {
					if (n->parent->ntokens)
						join_right(e, n, f);
				} else if (n->ntokens) {
					neg_right(e, n, f);
				}
			}
		}
	}
	if (e->match_error == ENG_ERR_NOMEM)
		return ENG_ERR_NOMEM;
	return ENG_OK;
}

void rete_remove_fact(eng *e, fact *f)
{
	while (f->items) {
		iref r = f->items;
		amem_item *it = item_at(e, r);
		amem *m = e->amem_ids[it->mem];
		f->items = it->fnext;
		hints_drop(m, f);
		amem_remove(e, m, r, it);
	}
	if (e->whole && e->whole->count) {   /* every fact that was matched is in it */
		e->whole->count--;
		hints_drop(e->whole, f);
	}
	while (f->tokens)
		token_delete(e, f->tokens);
	/* F has left the alpha memories: a token it blocked is blocked by another fact, or
	 * passes down */
	while (f->negs) {
		negres *r = f->negs;
		tref or = r->owner;
		token *owner = token_at(e, or);
		owner->results = NULL;
		negres_free(e, r);
		fact *b = neg_blocker(e, owner->node, owner);
		if (!b) {
			store_relink(e, owner->node, or, owner, store_hash(e, owner->node, owner));
			propagate(e, owner->node, or);
		} else if (!neg_block(e, or, owner, b)) {
			/* unblocked for want of memory */
			store_relink(e, owner->node, or, owner, store_hash(e, owner->node, owner));
			set_nomem(e);
		}
	}
}

/* ---- building the network ---- */

static eng_status amem_table_grow(eng *e)
{
	uint32_t n = e->amem_nbuckets ? e->amem_nbuckets * 2 : 256;
	amem **tab = calloc(n, sizeof(*tab));
	if (!tab)
		return ENG_ERR_NOMEM;
	for (amem *m = e->amems; m; m = m->all)
		m->next = NULL;
	for (amem *m = e->amems; m; m = m->all) {
		uint32_t h = amem_key_hash(m->mask, m->k) & (n - 1);
		m->next = tab[h];
		tab[h] = m;
	}
	free(e->amem_table);
	e->amem_table = tab;
	e->amem_nbuckets = n;
	return ENG_OK;
}

static bool atests_same(const atest *a, uint32_t na, const atest *b, uint32_t nb)
{
	if (na != nb)
		return false;
	for (uint32_t i = 0; i < na; i++) {
		if (a[i].field != b[i].field || a[i].vs_field != b[i].vs_field || a[i].op != b[i].op ||
		    a[i].other != b[i].other || !eng_value_eq(a[i].k, b[i].k) || a[i].nset != b[i].nset)
			return false;
		for (uint32_t k = 0; k < a[i].nset; k++)
			if (!eng_value_eq(a[i].set[k], b[i].set[k]))
				return false;
	}
	return true;
}

static eng_status amem_get(eng *e, uint8_t mask, const eng_value *k, atest *tests,
                           uint32_t ntests, amem **out)
{
	static const eng_value none = { ENG_NONE, { 0 } };
	eng_value key[3];
	for (int i = 0; i < 3; i++)
		key[i] = mask & (1u << i) ? k[i] : none;
	if (e->amem_nbuckets) {
		uint32_t h = amem_key_hash(mask, key) & (e->amem_nbuckets - 1);
		for (amem *m = e->amem_table[h]; m; m = m->next) {
			if (m->mask == mask && eng_value_eq(m->k[0], key[0]) &&
			    eng_value_eq(m->k[1], key[1]) && eng_value_eq(m->k[2], key[2]) &&
			    atests_same(m->tests, m->ntests, tests, ntests)) {
				*out = m;
				return ENG_OK;
			}
		}
	}
	amem *m = arena_alloc_small(e->rules_arena, sizeof(*m));
	if (!m)
		return ENG_ERR_NOMEM;
	m->mask = mask;
	memcpy(m->k, key, sizeof(key));
	memset(m->slot, -1, sizeof(m->slot));
	if (ntests) {
		m->tests = arena_alloc(e->rules_arena, ntests * sizeof(atest));
		if (!m->tests)
			return ENG_ERR_NOMEM;
		memcpy(m->tests, tests, ntests * sizeof(atest));
		m->ntests = ntests;
	}
	if (grow((void **)&e->amem_ids, &e->capamem_ids, e->namems + 1, sizeof(amem *)))
		return ENG_ERR_NOMEM;
	m->id = e->namems;
	e->amem_ids[m->id] = m;
	m->all = e->amems;
	e->amems = m;
	if (++e->namems > e->amem_nbuckets) {
		if (amem_table_grow(e))   /* links every memory, this one too */
			return ENG_ERR_NOMEM;
	} else {
		uint32_t h = amem_key_hash(mask, key) & (e->amem_nbuckets - 1);
		m->next = e->amem_table[h];
		e->amem_table[h] = m;
	}
	e->masks_used |= (uint8_t)(1u << mask);
	if (!mask && !ntests) {
		/* any fact matches: working memory is its content, and the fact tables find a
		 * subject's facts (the only lookup its nodes need an index for) */
		m->whole = true;
		e->whole = m;
		e->by_subject = true;
	}
	*out = m;
	return ENG_OK;
}

/* The list grows by doubling: a memory that feeds thousands of rules costs a few times
 * its size in the arena, not the square of it. */
static eng_status amem_succ_add(eng *e, amem *m, rnode *n)
{
	if (m->nsucc == m->capsucc) {
		uint32_t cap = m->capsucc ? m->capsucc * 2 : 4;
		rnode **s = arena_alloc(e->rules_arena, cap * sizeof(*s));
		if (!s)
			return ENG_ERR_NOMEM;
		if (m->nsucc)
			memcpy(s, m->succ, m->nsucc * sizeof(*s));
		m->succ = s;
		m->capsucc = cap;
	}
	m->succ[m->nsucc++] = n;
	return ENG_OK;
}

static void child_add(rnode *parent, rnode *child)
{
	child->parent = parent;
	child->sibling = parent->children;
	parent->children = child;
}

static rnode *node_new(eng *e, rnode_kind kind, rnode *parent)
{
	rnode *n = arena_alloc_small(e->rules_arena, sizeof(*n));
	if (!n)
		return NULL;
	n->kind = kind;
	n->hashed_test = -1;
	n->aidx = -1;
	memset(n->mtest, -1, sizeof(n->mtest));
	if (kind != RN_JOIN) {
		n->next_all = e->stores;
		e->stores = n;
		n->tbuckets = &n->tokens;
		n->ntbuckets = 1;
	}
	if (parent)
		child_add(parent, n);
	return n;
}

static bool jtests_same(const jtest *a, uint32_t na, const jtest *b, uint32_t nb)
{
	if (na != nb)
		return false;
	for (uint32_t i = 0; i < na; i++)
		if (a[i].field != b[i].field || a[i].lfield != b[i].lfield ||
		    a[i].level != b[i].level || a[i].op != b[i].op)
			return false;
	return true;
}

/* Chooses the equality tests to hash on and makes sure the memories are indexed for
 * them: the token store on the first one, the alpha memory on every field that an
 * equality test compares when there are several (its multi-field index, unless the
 * memory's is taken by other fields) or else on the first one's field. */
static eng_status setup_hashing_of(eng *e, rnode *n, rnode *left);

static eng_status setup_hashing(eng *e, rnode *n, rnode *left)
{
	eng_status st = setup_hashing_of(e, n, left);
	n->keyed = st == ENG_OK && key_fits(left, n);   /* the left key is set for good */
	return st;
}

static eng_status setup_hashing_of(eng *e, rnode *n, rnode *left)
{
	int8_t mtest[3] = { -1, -1, -1 };
	uint8_t mask = 0;
	for (uint32_t i = 0; i < n->ntests; i++)
		if (n->tests[i].op == CMP_EQ && mtest[n->tests[i].field] < 0) {
			mtest[n->tests[i].field] = (int8_t)i;
			mask |= (uint8_t)(1u << n->tests[i].field);
		}
	memcpy(n->mtest, mtest, sizeof(mtest));
	bool whole = n->am->whole;   /* indexed by subject in the fact tables, nothing else */
	if (!whole && mask && (mask & (mask - 1)) &&
	    (!n->am->multi_mask || n->am->multi_mask == mask)) {
		if (!n->am->multi_mask) {
			n->am->multi_mask = mask;
			if (aindex_build(e, n->am, AIDX_MULTI, 64) != ENG_OK) {
				n->am->multi_mask = 0;
				return ENG_ERR_NOMEM;
			}
		}
		n->aidx = AIDX_MULTI;
		n->islot = n->am->slot[AIDX_MULTI];
	}
	for (uint32_t i = 0; i < n->ntests; i++) {
		if (n->tests[i].op != CMP_EQ)
			continue;
		n->hashed_test = (int)i;
		const jtest *t = &n->tests[i];
		if (n->aidx < 0 && !whole) {
			if (!n->am->idx[t->field].nbuckets &&
			    aindex_build(e, n->am, t->field, 64) != ENG_OK)
				return ENG_ERR_NOMEM;
			n->aidx = (int8_t)t->field;
			n->islot = n->am->slot[t->field];
		}
		if (!left->nkey) {   /* on every field an equality test compares */
			for (uint8_t f = 0; f < 3; f++) {
				if (mtest[f] < 0)
					continue;
				const jtest *k = &n->tests[mtest[f]];
				uint32_t at = left->nkey++;   /* deepest level first (store_hash) */
				for (; at > 0 && left->key_level[at - 1] < k->level; at--) {
					left->key_level[at] = left->key_level[at - 1];
					left->key_field[at] = left->key_field[at - 1];
					left->key_ffield[at] = left->key_ffield[at - 1];
				}
				left->key_level[at] = k->level;
				left->key_field[at] = k->lfield;
				left->key_ffield[at] = f;
			}
			if (store_rehash(e, left, 64) != ENG_OK)
				return ENG_ERR_NOMEM;
		}
		return ENG_OK;
	}
	return ENG_OK;
}

typedef struct {
	uint8_t mask;
	eng_value k[3];
	atest at[16];
	uint32_t nat;
	jtest jt[16];
	uint32_t njt;
} pattern;

/* A join below store CUR on memory M with the tests of P, to share, or NULL. */
static rnode *join_find(const rnode *cur, const amem *m, const pattern *p)
{
	for (uint32_t k = 0; k < m->nsucc; k++) {
		rnode *x = m->succ[k];
		if (x->parent == cur && x->kind == RN_JOIN &&
		    jtests_same(x->tests, x->ntests, p->jt, p->njt))
			return x;
	}
	return NULL;
}

/* Whether a join with tests JT below store S would find its partners in one bucket of
 * S, or could have S hashed for it: S is not hashed yet, or hashed on values that the
 * first equality tests on the fields in its key compare. A join with no equality test
 * fits any store. */
static bool tests_fit(const rnode *s, const jtest *jt, uint32_t njt)
{
	int mtest[3] = { -1, -1, -1 };
	bool eq = false;
	for (uint32_t i = 0; i < njt; i++)
		if (jt[i].op == CMP_EQ && mtest[jt[i].field] < 0) {
			mtest[jt[i].field] = (int)i;
			eq = true;
		}
	if (!eq || !s->nkey)
		return true;
	for (uint32_t i = 0; i < s->nkey; i++) {
		int k = mtest[s->key_ffield[i]];
		if (k < 0 || jt[k].level != s->key_level[i] || jt[k].lfield != s->key_field[i])
			return false;
	}
	return true;
}

static eng_status pattern_from(rule *r, const ir_cond *c, uint16_t level,
                               bool binds, pattern *p)
{
	int32_t local[3] = { -1, -1, -1 };  /* var index bound in this pattern, per field */
	memset(p, 0, sizeof(*p));
	for (uint8_t f = 0; f < 3; f++) {
		const ir_operand *o = &c->slot[f];
		if (o->kind == OPD_CONST) {
			p->mask |= (uint8_t)(1u << f);
			p->k[f] = o->k;
		} else if (o->kind == OPD_VAR) {
			uint32_t v = o->var;
			int same = -1;
			for (uint8_t g = 0; g < f; g++)
				if (local[g] == (int32_t)v)
					same = g;
			if (same >= 0) {
				if (p->nat == 16)
					return ENG_ERR_INVALID;
				atest t = { f, (uint8_t)same, true, CMP_EQ, { ENG_NONE, { 0 } }, NULL, 0 };
				p->at[p->nat++] = t;
			} else if (r->vars[v].level) {
				if (p->njt == 16)
					return ENG_ERR_INVALID;
				jtest t = { f, r->vars[v].field, r->vars[v].level, CMP_EQ };
				p->jt[p->njt++] = t;
			} else {
				local[f] = (int32_t)v;
				if (binds) {
					r->vars[v].level = level;
					r->vars[v].field = f;
				}
			}
		}
	}
	for (uint32_t i = 0; i < c->ncons; i++) {
		const ir_constraint *k = &c->cons[i];
		if (k->op == CMP_IN || k->op == CMP_NOT_IN || k->operand.kind == OPD_CONST) {
			if (p->nat == 16)
				return ENG_ERR_INVALID;
			atest t = { 2, 0, false, k->op, k->operand.k, k->set, k->nset };
			p->at[p->nat++] = t;
			continue;
		}
		if (k->operand.kind != OPD_VAR)
			return ENG_ERR_INVALID;
		uint32_t v = k->operand.var;
		int same = -1;
		for (uint8_t g = 0; g < 3; g++)
			if (local[g] == (int32_t)v)
				same = g;
		if (same >= 0) {
			if (p->nat == 16)
				return ENG_ERR_INVALID;
			atest t = { 2, (uint8_t)same, true, k->op, { ENG_NONE, { 0 } }, NULL, 0 };
			p->at[p->nat++] = t;
		} else if (r->vars[v].level && r->vars[v].level < level) {
			if (p->njt == 16)
				return ENG_ERR_INVALID;
			jtest t = { 2, r->vars[v].field, r->vars[v].level, k->op };
			p->jt[p->njt++] = t;
		} else {
			return ENG_ERR_INVALID;   /* the compiler lets no unbound operand through */
		}
	}
	return ENG_OK;
}

static eng_status copy_jtests(eng *e, rnode *n, const pattern *p)
{
	if (!p->njt)
		return ENG_OK;
	n->tests = arena_alloc(e->rules_arena, p->njt * sizeof(jtest));
	if (!n->tests)
		return ENG_ERR_NOMEM;
	memcpy(n->tests, p->jt, p->njt * sizeof(jtest));
	n->ntests = p->njt;
	return ENG_OK;
}

/* Feeds a node that was just added below a store with tokens. Rules are added while
 * working memory is empty, so only the top token (and what it reached without facts)
 * exists, and alpha memories are empty. */
static void node_prime(eng *e, rnode *n)
{
	rnode *p = n->parent;
	if (p->kind == RN_JOIN)
		return;   /* alpha memories are empty: a join has no matches yet */
	for (uint32_t b = 0; b < p->ntbuckets; b++)
		for (tref r = p->tbuckets[b], next; r; r = next) {
			token *t = token_at(e, r);
			next = t->hnext;
			if (p->kind == RN_NEG && t->results)
				continue;
			if (n->kind == RN_JOIN)
				join_left(e, n, r, t);
			else
				store_insert(e, n, r, NULL);
		}
}

/* ---- the order of joins ---- */

static eng_status build_chain(eng *e, rule *r, const uint32_t *order, const uint16_t *posof);

/* Whether the value of a control fact is what condition I of IR matches: the condition
 * fixes the fact's subject and attribute, a rule changes that (S, A) (modify, or retract),
 * and no other condition uses a variable it binds. Such a condition goes last in the
 * chain of joins (the advice of OPS5 and CLIPS manuals: volatile patterns last), so
 * that changing the control fact redoes one join instead of every partial match below
 * it; being one fact, it multiplies nothing at the end of the chain. Which facts match,
 * and the agenda, do not depend on the order of joins. */
static bool cond_goes_last(const eng *e, const ir_rule *ir, uint32_t i)
{
	const ir_cond *c = &ir->conds[i];
	if (c->kind != COND_POS || c->slot[0].kind != OPD_CONST || c->slot[1].kind != OPD_CONST)
		return false;
	eng_sym subj = c->slot[0].k.u.sym, attr = c->slot[1].k.u.sym;
	bool changed = false;
	for (uint32_t k = 0; k < e->nchanged && !changed; k++)
		changed = (!e->changed[k].subject || e->changed[k].subject == subj) &&
		          (!e->changed[k].attribute || e->changed[k].attribute == attr);
	if (!changed || c->slot[2].kind != OPD_VAR)
		return changed;
	/* the value slot binds ?v unless an earlier condition did */
	uint32_t v = c->slot[2].var;
	for (uint32_t j = 0; j < i; j++)
		if (ir->conds[j].kind == COND_POS)
			for (int f = 0; f < 3; f++)
				if (ir->conds[j].slot[f].kind == OPD_VAR && ir->conds[j].slot[f].var == v)
					return true;
	for (uint32_t j = 0; j < ir->nconds; j++) {
		const ir_cond *d = &ir->conds[j];
		if (j == i)
			continue;
		for (int f = 0; f < 3; f++)
			if (d->slot[f].kind == OPD_VAR && d->slot[f].var == v)
				return false;
		for (uint32_t k = 0; k < d->ncons; k++)
			if (d->cons[k].operand.kind == OPD_VAR && d->cons[k].operand.var == v)
				return false;
		if (d->kind == COND_TEST) {
			/* by its text: a longer name that starts the same only makes this careful */
			const char *name = ir->var_names[v];
			for (const char *q = d->text ? strchr(d->text, '?') : NULL; q; q = strchr(q + 1, '?'))
				if (!strncmp(q + 1, name, strlen(name)))
					return false;
		}
	}
	return true;
}

/* Whether positive condition C can be joined now, with the variables in BOUND bound:
 * it shares a variable with what is joined so far (or has none), and the variables its
 * constraints compare with are bound or its own. */
static bool cond_connected(const ir_cond *c, const bool *bound)
{
	bool shares = false, vars = false;
	for (int f = 0; f < 3; f++)
		if (c->slot[f].kind == OPD_VAR) {
			vars = true;
			shares = shares || bound[c->slot[f].var];
		}
	for (uint32_t k = 0; k < c->ncons; k++) {
		const ir_operand *o = &c->cons[k].operand;
		if (c->cons[k].op == CMP_IN || c->cons[k].op == CMP_NOT_IN || o->kind != OPD_VAR ||
		    bound[o->var])
			continue;
		bool own = false;
		for (int f = 0; f < 3; f++)
			own = own || (c->slot[f].kind == OPD_VAR && c->slot[f].var == o->var);
		if (!own)
			return false;
	}
	return shares || !vars;
}

/* The order of IR's joins, but for the conditions marked LAST: the rule's order, except
 * that a positive condition that shares no variable with the conditions before it (a
 * cross product: every partial match so far times every fact it matches) waits until
 * a later one links it, as a rule author would write it. Negations and tests stay where
 * they are, after every positive condition written before them (a variable first seen in
 * a negation is local to it, so nothing after it may move before it). BOUND (nvars
 * entries) and PLACED (nconds entries), all false, are scratch. Writes ORDER and returns
 * how many it holds. */
static uint32_t order_conds(const ir_rule *ir, const bool *last, bool *bound, bool *placed,
                            uint32_t *order)
{
	uint32_t n = 0;
	for (uint32_t seg = 0; seg < ir->nconds;) {
		/* a run of positive conditions [seg, end), then the one that ends it */
		uint32_t end = seg;
		while (end < ir->nconds && ir->conds[end].kind == COND_POS)
			end++;
		for (;;) {
			uint32_t pick = UINT32_MAX;
			for (uint32_t i = seg; i < end && pick == UINT32_MAX; i++)
				if (!last[i] && !placed[i] && cond_connected(&ir->conds[i], bound))
					pick = i;
			for (uint32_t i = seg; i < end && pick == UINT32_MAX; i++)
				if (!last[i] && !placed[i])
					pick = i;   /* none is linked: the first left */
			if (pick == UINT32_MAX)
				break;
			placed[pick] = true;
			order[n++] = pick;
			for (int f = 0; f < 3; f++)
				if (ir->conds[pick].slot[f].kind == OPD_VAR)
					bound[ir->conds[pick].slot[f].var] = true;
		}
		if (end < ir->nconds)
			order[n++] = end;
		seg = end + 1;
	}
	return n;
}

eng_status rete_build_rule(eng *e, rule *r)
{
	const ir_rule *ir = r->ir;
	r->vars = arena_alloc(e->rules_arena, (ir->nvars + 1) * sizeof(varloc));
	r->pos_level = arena_alloc(e->rules_arena, (ir->nconds + 1) * sizeof(uint16_t));
	if (!r->vars || !r->pos_level)
		return ENG_ERR_NOMEM;
	if (ir->nconds >= UINT16_MAX)
		return ENG_ERR_INVALID;
	/* the order of joins: control conditions last; pos_level stays in the rule's order.
	 * The four work arrays share one buffer, on the stack for the usual small rule. */
	size_t no = (size_t)ir->nconds + 1, nv = (size_t)ir->nvars + 1;
	size_t bytes = no * (sizeof(uint32_t) + sizeof(uint16_t) + 2 * sizeof(bool)) +
	               nv * sizeof(bool);
	_Alignas(uint32_t) unsigned char small[512];
	unsigned char *buf = bytes <= sizeof(small) ? small : malloc(bytes);
	if (!buf)
		return ENG_ERR_NOMEM;
	memset(buf, 0, bytes);
	uint32_t *order = (uint32_t *)(void *)buf, n = 0;
	uint16_t *posof = (uint16_t *)(void *)(buf + no * sizeof(uint32_t));
	bool *last = (bool *)(buf + no * (sizeof(uint32_t) + sizeof(uint16_t)));
	bool *bound = last + 2 * no;
	for (uint32_t i = 0, npos = 0; i < ir->nconds; i++)
		if (ir->conds[i].kind == COND_POS)
			posof[i] = (uint16_t)npos++;
	for (uint32_t i = 0; i < ir->nconds; i++)
		last[i] = cond_goes_last(e, ir, i);
	n = order_conds(ir, last, bound, last + ir->nconds + 1, order);
	for (uint32_t i = 0; i < ir->nconds; i++)
		if (last[i])
			order[n++] = i;
	eng_status st = build_chain(e, r, order, posof);
	if (buf != small)
		free(buf);
	return st;
}

/* Builds R's nodes, taking its conditions in the order ORDER; POSOF gives each positive
 * condition's index among the rule's positive conditions. */
static eng_status build_chain(eng *e, rule *r, const uint32_t *order, const uint16_t *posof)
{
	const ir_rule *ir = r->ir;
	rnode *cur = e->top;
	rnode *first_new = NULL;
	for (uint32_t oi = 0; oi < ir->nconds; oi++) {
		uint32_t i = order[oi];
		const ir_cond *c = &ir->conds[i];
		uint16_t level = (uint16_t)(cur->level + 1);
		bool last = oi + 1 == ir->nconds;
		pattern p;
		eng_status st;
		amem *m;
		if (c->kind == COND_TEST) {
			rnode *t = node_new(e, RN_TEST, cur);
			if (!t)
				return ENG_ERR_NOMEM;
			t->level = level;
			t->test = c->test;
			t->owner = r;
			t->scratch = arena_alloc(e->rules_arena, (ir->nvars + 1) * sizeof(eng_value));
			if (!t->scratch)
				return ENG_ERR_NOMEM;
			if (!first_new)
				first_new = t;
			cur = t;
			continue;
		}
		if ((st = pattern_from(r, c, level, c->kind == COND_POS, &p)))
			return st;
		if ((st = amem_get(e, p.mask, p.k, p.at, p.nat, &m)))
			return st;
		if (c->kind == COND_NEG) {
			rnode *n = NULL;
			if (!first_new)   /* a node to share is among those the memory feeds */
				for (uint32_t k = 0; k < m->nsucc && !n; k++) {
					rnode *x = m->succ[k];
					if (x->parent == cur && x->kind == RN_NEG &&
					    jtests_same(x->tests, x->ntests, p.jt, p.njt))
						n = x;
				}
			if (!n) {
				if (!(n = node_new(e, RN_NEG, cur)))
					return ENG_ERR_NOMEM;
				n->level = level;
				n->am = m;
				if ((st = copy_jtests(e, n, &p)) || (st = amem_succ_add(e, m, n)) ||
				    (st = setup_hashing(e, n, n)))
					return st;
				if (!first_new)
					first_new = n;
			}
			cur = n;
			continue;
		}
		r->pos_level[posof[i]] = level;
		r->npos++;
		rnode *j = NULL;
		if (!first_new)   /* not cur->children: the top node has thousands */
			j = join_find(cur, m, &p);
		if (!j && !first_new && cur->kind == RN_MEM && cur->parent &&
		    !tests_fit(cur, p.jt, p.njt)) {
			/* the store is hashed for another join: one of its twins (stores of the
			 * same join) may fit, or a new twin will */
			for (rnode *x = cur->parent->children; x && !j; x = x->sibling)
				if (x != cur && x->kind == RN_MEM) {
					j = join_find(x, m, &p);
					if (j || tests_fit(x, p.jt, p.njt))
						cur = x;
				}
			if (!j && !tests_fit(cur, p.jt, p.njt)) {
				rnode *twin = node_new(e, RN_MEM, cur->parent);
				if (!twin)
					return ENG_ERR_NOMEM;
				twin->level = cur->level;
				cur = first_new = twin;
			}
		}
		if (!j) {
			if (!(j = node_new(e, RN_JOIN, cur)))
				return ENG_ERR_NOMEM;
			j->am = m;
			j->level = cur->level;
			if ((st = copy_jtests(e, j, &p)) || (st = amem_succ_add(e, m, j)) ||
			    (st = setup_hashing(e, j, cur)))
				return st;
			if (!first_new)
				first_new = j;
		}
		if (last) {
			cur = j;
			break;
		}
		rnode *mem = NULL;
		for (rnode *x = j->children; x; x = x->sibling)
			if (x->kind == RN_MEM)
				mem = x;
		if (!mem) {
			if (!(mem = node_new(e, RN_MEM, j)))
				return ENG_ERR_NOMEM;
			mem->level = level;
		}
		cur = mem;
	}
	if (r->npos <= AGENDA_TAGS) {
		if (!(r->tag_perm = arena_alloc(e->rules_arena, r->npos + 1)))
			return ENG_ERR_NOMEM;
		for (uint32_t k = 0; k < r->npos; k++)
			r->tag_perm[k] = (uint8_t)k;
	}
	rnode *prod = node_new(e, RN_PROD, cur);
	if (!prod)
		return ENG_ERR_NOMEM;
	prod->level = (uint16_t)(cur->level + 1);
	if (!(r->level_pos = arena_alloc(e->rules_arena, (prod->level + 1u) * sizeof(uint16_t))))
		return ENG_ERR_NOMEM;
	for (uint32_t k = 0; k < r->npos; k++)
		r->level_pos[r->pos_level[k]] = (uint16_t)(k + 1);
	prod->prod = r;
	r->prod = prod;
	if (!first_new)
		first_new = prod;
	node_prime(e, first_new);
	return e->match_error == ENG_ERR_NOMEM ? ENG_ERR_NOMEM : ENG_OK;
}

eng_status rete_top_init(eng *e)
{
	e->top = node_new(e, RN_MEM, NULL);
	if (!e->top)
		return ENG_ERR_NOMEM;
	tokens_reset(e);
	tref r;
	if (!token_new(e, e->top, 0, NULL, &r))
		return ENG_ERR_NOMEM;
	return ENG_OK;
}

/* Drops every token, item and result at once, then puts back the top token and what it
 * reaches without facts (rules with only negations and tests). */
void rete_clear(eng *e)
{
	/* Only the memories and stores filled since the last clear are visited, so a clear
	 * costs what the run before it touched, not the size of the network. */
	for (amem *m = e->dirty_amems, *next; m; m = next) {
		next = m->dirty_next;
		m->dirty = false;
		m->dirty_next = NULL;
		m->items = 0;
		m->count = 0;
		for (int f = 0; f < AIDX_COUNT; f++)
			if (m->idx[f].nbuckets)
				memset(m->idx[f].buckets, 0, m->idx[f].nbuckets * sizeof(iref));
	}
	e->dirty_amems = NULL;
	for (rnode *s = e->dirty_stores, *next; s; s = next) {
		next = s->dirty_next;
		s->dirty = false;
		s->dirty_next = NULL;
		s->ntokens = 0;
		s->hint = NULL;
		if (s->ntbuckets == 1)
			s->tbuckets[0] = 0;
		else
			memset(s->tbuckets, 0, s->ntbuckets * sizeof(tref));
	}
	e->dirty_stores = NULL;
	/* the facts go too (eng_clear), so their lists of items and tokens need no reset */
	tokens_reset(e);
	items_reset(e);
	pool_reset(&e->neg_pool);
	e->match_error = ENG_OK;
	if (!e->top)
		return;         /* eng_new failed before the network was made */
	tref r;
	if (!token_new(e, e->top, 0, NULL, &r)) {
		set_nomem(e);   /* nothing can match now: asserts fail until the next clear */
		return;
	}
	/* every alpha memory is empty now: only what needs no fact can match */
	for (rnode *c = e->top->children; c; c = c->sibling)
		if (c->kind != RN_JOIN)
			store_insert(e, c, r, NULL);
}

void rete_free(eng *e)
{
	for (amem *m = e->amems; m; m = m->all)
		for (int f = 0; f < AIDX_COUNT; f++)
			free(m->idx[f].buckets);
	for (rnode *s = e->stores; s; s = s->next_all)
		if (s->tbuckets != &s->tokens)
			free(s->tbuckets);
	free(e->amem_table);
}
