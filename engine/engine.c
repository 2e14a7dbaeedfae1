/* SPDX-License-Identifier: MIT */
/*
 * engine.c - the engine's lifecycle, symbols and values, working memory, the run loop,
 * actions, logical support and conclusions. The matcher is in rete.c, the agenda in
 * agenda.c.
 */
#include "core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

eng_status grow(void **ptr, uint32_t *cap, uint32_t need, size_t elem)
{
	if (need <= *cap)
		return ENG_OK;
	uint32_t n = *cap ? *cap : 8;
	while (n < need) {
		if (n > UINT32_MAX / 2)
			return ENG_ERR_NOMEM;
		n *= 2;
	}
	void *p = realloc(*ptr, (size_t)n * elem);
	if (!p)
		return ENG_ERR_NOMEM;
	*ptr = p;
	*cap = n;
	return ENG_OK;
}

/* The hash of a symbol's name: eight bytes a step, then mix64 (core.h) so that the low
 * bits, which pick the slot, depend on every byte. Loading a knowledge base interns tens
 * of thousands of names. */
static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0x9E3779B97F4A7C15ull ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, sizeof(w));
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	uint64_t w = 0;
	memcpy(&w, s + i, len - i);
	return mix64(h ^ w);
}

/* ---- pools ---- */

#define POOL_CHUNK 256
/* A chunk's objects start one cache line in (the line holds the chunk list's link), and
 * the chunk on a line: an object's first bytes, which the matcher reads the most (a
 * token's parent and fact, a fact's triple and id), then share a line with each other. */
#define POOL_LINE 64

void pool_init(pool *p, size_t size)
{
	memset(p, 0, sizeof(*p));
	p->size = (size + 7) & ~(size_t)7;   /* pointer alignment: nothing pooled needs more */
}

void *pool_get(pool *p)
{
	void *obj = pool_get_raw(p);
	if (obj)
		memset(obj, 0, p->size);
	return obj;
}

void *pool_get_raw(pool *p)
{
	void *obj;
	if (p->free) {
		obj = p->free;
		p->free = *(void **)obj;
	} else {
		if (p->left == 0) {
			unsigned char *c = p->spare;
			size_t bytes = (POOL_LINE + p->size * POOL_CHUNK + POOL_LINE - 1) &
			               ~(size_t)(POOL_LINE - 1);   /* aligned_alloc: a multiple */
			if (c)
				p->spare = *(void **)c;
			else if (!(c = aligned_alloc(POOL_LINE, bytes)))
				return NULL;
			*(void **)c = p->chunks;
			p->chunks = c;
			p->next = c + POOL_LINE;
			p->left = POOL_CHUNK;
		}
		obj = p->next;
		p->next += p->size;
		p->left--;
	}
	return obj;
}

void pool_put(pool *p, void *obj)
{
	*(void **)obj = p->free;
	p->free = obj;
}

void pool_reset(pool *p)
{
	while (p->chunks) {
		void *c = p->chunks;
		p->chunks = *(void **)c;
		*(void **)c = p->spare;
		p->spare = c;
	}
	p->free = NULL;
	p->left = 0;
	p->next = NULL;
}

void pool_drop(pool *p)
{
	pool_reset(p);
	while (p->spare) {
		void *c = p->spare;
		p->spare = *(void **)c;
		free(c);
	}
}

/* ---- status ---- */

const char *eng_status_str(eng_status st)
{
	switch (st) {
	case ENG_OK: return "ok";
	case ENG_ERR_NOMEM: return "out of memory";
	case ENG_ERR_IO: return "cannot read input";
	case ENG_ERR_LOAD: return "errors in the knowledge base";
	case ENG_ERR_INVALID: return "invalid argument";
	case ENG_ERR_LIMIT_FIRINGS: return "firing limit reached";
	case ENG_ERR_LIMIT_FACTS: return "fact limit reached";
	case ENG_ERR_EVAL: return "expression error";
	case ENG_ERR_NOT_FOUND: return "not found";
	}
	return "unknown status";
}

/* ---- symbols ---- */

static eng_status sym_rehash(symtab *t, uint32_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return ENG_ERR_NOMEM;
	for (uint32_t id = 1; id < t->count; id++) {
		uint64_t h = hash_bytes(t->names[id], t->lens[id]);
		uint32_t i = (uint32_t)h & (nslots - 1);
		while (slots[i])
			i = (i + 1) & (nslots - 1);
		slots[i] = id;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return ENG_OK;
}

static uint32_t sym_find(const symtab *t, const char *s, size_t len, uint64_t h)
{
	if (!t->nslots)
		return 0;
	uint32_t i = (uint32_t)h & (t->nslots - 1);
	while (t->slots[i]) {
		uint32_t id = t->slots[i];
		if (t->lens[id] == len && memcmp(t->names[id], s, len) == 0)
			return id;
		i = (i + 1) & (t->nslots - 1);
	}
	return 0;
}

eng_sym eng_intern(eng *e, const char *s, size_t len)
{
	symtab *t = &e->syms;
	if (len > UINT32_MAX)
		return 0;
	uint64_t h = hash_bytes(s, len);
	uint32_t id = sym_find(t, s, len, h);
	if (id)
		return id;
	if ((uint64_t)(t->count + 1) * 2 > t->nslots &&
	    sym_rehash(t, t->nslots ? t->nslots * 2 : 256) != ENG_OK)
		return 0;
	if (t->count + 1 > t->cap) {
		uint32_t cap = t->cap;
		if (grow((void **)&t->names, &cap, t->count + 1, sizeof(char *)) != ENG_OK)
			return 0;
		uint32_t cap2 = t->cap;
		if (grow((void **)&t->lens, &cap2, t->count + 1, sizeof(uint32_t)) != ENG_OK)
			return 0;
		t->cap = cap < cap2 ? cap : cap2;
	}
	char *copy = arena_strndup(t->text, s, len);
	if (!copy)
		return 0;
	id = t->count++;
	t->names[id] = copy;
	t->lens[id] = (uint32_t)len;
	uint32_t i = (uint32_t)h & (t->nslots - 1);
	while (t->slots[i])
		i = (i + 1) & (t->nslots - 1);
	t->slots[i] = id;
	return id;
}

eng_sym eng_sym_lookup(const eng *e, const char *s)
{
	size_t len = strlen(s);
	return sym_find(&e->syms, s, len, hash_bytes(s, len));
}

const char *eng_sym_name(const eng *e, eng_sym s)
{
	return s < e->syms.count ? e->syms.names[s] : "";
}

/* ---- values ---- */

eng_value eng_symbol(eng *e, const char *s)
{
	eng_value v = { ENG_NONE, { 0 } };
	eng_sym id = eng_intern(e, s, strlen(s));
	if (id) {
		v.type = ENG_SYMBOL;
		v.u.sym = id;
	}
	return v;
}

eng_value eng_string(eng *e, const char *s)
{
	eng_value v = eng_symbol(e, s);
	if (v.type == ENG_SYMBOL)
		v.type = ENG_STRING;
	return v;
}

eng_value eng_number(double n)
{
	eng_value v = { ENG_NUMBER, { 0 } };
	v.u.num = n == 0 ? 0.0 : n;  /* one zero: -0 and 0 are the same value */
	return v;
}

eng_value eng_bool(bool b)
{
	eng_value v = { ENG_BOOL, { 0 } };
	v.u.b = b;
	return v;
}

bool eng_value_eq(eng_value a, eng_value b)
{
	if (a.type != b.type)
		return false;
	switch (a.type) {
	case ENG_NONE: return true;
	case ENG_SYMBOL:
	case ENG_STRING: return a.u.sym == b.u.sym;
	case ENG_NUMBER: return a.u.num == b.u.num;
	case ENG_BOOL: return a.u.b == b.u.b;
	}
	return false;
}

uint64_t eng_value_hash(eng_value v)
{
	return value_hash(v);
}

bool eng_value_num(eng_value v, double *out)
{
	if (v.type != ENG_NUMBER)
		return false;
	*out = v.u.num;
	return true;
}

/* What snprintf(buf, size, "%s", text) does, quoted in '' when QUOTE: `symbol` calls of
 * rule actions format names all the time, and printf's format parsing was most of it. */
static int format_name(const eng *e, eng_sym s, bool quote, char *buf, size_t size)
{
	const char *text = s < e->syms.count ? e->syms.names[s] : "";
	size_t len = s < e->syms.count ? e->syms.lens[s] : 0, k = 0;
	const char *nul = memchr(text, '\0', len);   /* as %s stops at one */
	if (nul)
		len = (size_t)(nul - text);
	if (!size)
		return (int)(len + 2 * quote);
	if (quote && k + 1 < size)
		buf[k++] = '\'';
	size_t c = len < size - 1 - k ? len : size - 1 - k;
	memcpy(buf + k, text, c);
	k += c;
	if (quote && k + 1 < size)
		buf[k++] = '\'';
	buf[k] = '\0';
	return (int)(len + 2 * quote);
}

int eng_value_format(const eng *e, eng_value v, char *buf, size_t size)
{
	switch (v.type) {
	case ENG_NONE: return snprintf(buf, size, "nil");
	case ENG_SYMBOL: return format_name(e, v.u.sym, false, buf, size);
	case ENG_STRING: return format_name(e, v.u.sym, true, buf, size);
	case ENG_BOOL: return snprintf(buf, size, "%s", v.u.b ? "true" : "false");
	case ENG_NUMBER: {
		double d = v.u.num;
		if (d == floor(d) && fabs(d) < 1e15) {
			/* what "%.0f" prints, without printf's arbitrary-precision path: the
			 * `symbol` calculations of rule actions format numbers all the time */
			char tmp[24], dig[20];
			int n = 0, nd = 0;
			unsigned long long u = (unsigned long long)fabs(d);
			do {
				dig[nd++] = (char)('0' + u % 10);
				u /= 10;
			} while (u);
			if (signbit(d))
				tmp[n++] = '-';
			while (nd)
				tmp[n++] = dig[--nd];
			if (size) {
				size_t k = (size_t)n < size - 1 ? (size_t)n : size - 1;
				memcpy(buf, tmp, k);
				buf[k] = '\0';
			}
			return n;
		}
		for (int prec = 6; prec <= 17; prec++) {
			char tmp[64];
			snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
			if (strtod(tmp, NULL) == d)
				return snprintf(buf, size, "%s", tmp);
		}
		return snprintf(buf, size, "%.17g", d);
	}
	}
	return snprintf(buf, size, "?");
}

/* ---- lifecycle ---- */

eng *eng_new(void)
{
	eng *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	eng_limits_default(&e->limits);
	e->syms.text = arena_new();
	e->rules_arena = arena_new();
	rete_items_init(e);
	pool_init(&e->neg_pool, sizeof(negres));
	pool_init(&e->act_pool, sizeof(activation));
	pool_init(&e->support_pool, sizeof(support));
	pool_init(&e->effect_pool, sizeof(effect));
	pool_init(&e->fact_pool, sizeof(fact));
	e->run_arena = arena_new();
	if (!e->syms.text || !e->rules_arena || !e->run_arena || eng_intern(e, "", 0) != 0 ||
	    rete_top_init(e) != ENG_OK) {
		eng_free(e);
		return NULL;
	}
	e->default_subject = eng_intern(e, "scenario", 8);
	if (!e->default_subject) {
		eng_free(e);
		return NULL;
	}
	return e;
}


void eng_free(eng *e)
{
	if (!e)
		return;
	eng_clear(e);
	rete_free(e);
	free(e->facts);
	free(e->ftable);
	free(e->satable);
	free(e->deferred);
	free(e->dying);
	free(e->heap);
	free(e->pending);
	free(e->concls);
	free(e->rules);
	free(e->rule_slots);
	free(e->deffacts);
	free(e->deffact_slots);
	free(e->changed);
	defer_free(e);
	free(e->concl_kinds);
	for (uint32_t i = 0; i < e->nskip; i++)
		free(e->skip_sections[i]);
	free(e->skip_sections);
	free(e->syms.names);
	free(e->syms.lens);
	free(e->syms.slots);
	arena_free(e->syms.text);
	arena_free(e->rules_arena);
	rete_tokens_free(e);
	rete_items_free(e);
	pool_drop(&e->neg_pool);
	pool_drop(&e->act_pool);
	pool_drop(&e->support_pool);
	pool_drop(&e->effect_pool);
	pool_drop(&e->fact_pool);
	arena_free(e->run_arena);
	free(e);
}

void eng_limits_default(eng_limits *out)
{
	out->max_firings = 100000;
	out->max_facts = 1000000;
	eng_doc_limits_fill(&out->doc, NULL);
}

void eng_limits_get(const eng *e, eng_limits *out)
{
	*out = e->limits;
}

void eng_limits_set(eng *e, const eng_limits *limits)
{
	e->limits = *limits;
	eng_doc_limits_fill(&e->limits.doc, &limits->doc);
}

eng_status eng_conclusion_kind_add(eng *e, const char *kind)
{
	eng_sym s = eng_intern(e, kind, strlen(kind));
	if (!s)
		return ENG_ERR_NOMEM;
	if (eng_conclusion_kind_known(e, s))
		return ENG_OK;
	uint32_t cap = e->nconcl_kinds;
	if (grow((void **)&e->concl_kinds, &cap, e->nconcl_kinds + 1, sizeof(eng_sym)))
		return ENG_ERR_NOMEM;
	e->concl_kinds[e->nconcl_kinds++] = s;
	return ENG_OK;
}

bool eng_conclusion_kind_known(const eng *e, eng_sym kind)
{
	for (uint32_t i = 0; i < e->nconcl_kinds; i++)
		if (e->concl_kinds[i] == kind)
			return true;
	return false;
}

eng_status eng_section_skip(eng *e, const char *section)
{
	if (eng_section_skipped(e, section))
		return ENG_OK;
	uint32_t cap = e->nskip;
	if (grow((void **)&e->skip_sections, &cap, e->nskip + 1, sizeof(char *)))
		return ENG_ERR_NOMEM;
	char *copy = strdup(section);
	if (!copy)
		return ENG_ERR_NOMEM;
	e->skip_sections[e->nskip++] = copy;
	return ENG_OK;
}

bool eng_section_skipped(const eng *e, const char *name)
{
	for (uint32_t i = 0; i < e->nskip; i++)
		if (strcmp(e->skip_sections[i], name) == 0)
			return true;
	return false;
}

eng_status eng_default_subject_set(eng *e, const char *subject)
{
	eng_sym s = eng_intern(e, subject, strlen(subject));
	if (!s)
		return ENG_ERR_NOMEM;
	e->default_subject = s;
	return ENG_OK;
}

eng_sym eng_default_subject(const eng *e)
{
	return e->default_subject;
}

arena *eng_rules_arena(eng *e)
{
	return e->rules_arena;
}

/* ---- rules ---- */

/* The slot of rule id ID in e->rule_slots: where it is, or the empty slot where it goes. */
static uint32_t rule_slot(const eng *e, const char *id)
{
	uint32_t mask = e->nrule_slots - 1;
	uint32_t i = (uint32_t)hash_bytes(id, strlen(id)) & mask;
	while (e->rule_slots[i] && strcmp(e->rules[e->rule_slots[i] - 1]->id, id) != 0)
		i = (i + 1) & mask;
	return i;
}

/* For an open-addressing table of *N slots (a slot holds index + 1) that must hold NEED
 * entries at most half full: a new empty table in *SLOTS (the old one freed, *N its size)
 * and true when it must grow, so that the caller places every entry again; false and
 * nothing changed when it has room; ENG_ERR_NOMEM in *ST when memory runs out. */
static bool slots_regrow(uint32_t **slots, uint32_t *n, uint32_t need, eng_status *st)
{
	*st = ENG_OK;
	if ((uint64_t)need * 2 <= *n)
		return false;
	uint32_t size = *n ? *n : 256;
	while ((uint64_t)need * 2 > size) {
		if (size > UINT32_MAX / 2) {
			*st = ENG_ERR_NOMEM;
			return false;
		}
		size *= 2;
	}
	uint32_t *fresh = calloc(size, sizeof(*fresh));
	if (!fresh) {
		*st = ENG_ERR_NOMEM;
		return false;
	}
	free(*slots);
	*slots = fresh;
	*n = size;
	return true;
}

/* Makes room in the id index for NEED rules. */
static eng_status rule_slots_grow(eng *e, uint32_t need)
{
	eng_status st;
	if (!slots_regrow(&e->rule_slots, &e->nrule_slots, need, &st))
		return st;
	uint32_t *slots = e->rule_slots;
	for (uint32_t k = 0; k < e->nrules; k++)
		slots[rule_slot(e, e->rules[k]->id)] = k + 1;
	return ENG_OK;
}

/* Adds N rules, each compiled (IRS[i]) or to be compiled when needed (STUBS[i] of DOC,
 * named FILE); see eng_rules_add. */
static eng_status rules_add(eng *e, ir_rule *const *irs, const eng_doc *doc, const char *file,
                            const rule_stub *stubs, size_t n)
{
	if (e->live || e->nfacts || e->inputs)
		return ENG_ERR_INVALID;
	if (grow((void **)&e->rules, &e->caprules, e->nrules + (uint32_t)n, sizeof(rule *)) ||
	    rule_slots_grow(e, e->nrules + (uint32_t)n))
		return ENG_ERR_NOMEM;
	rule **made = malloc((n ? n : 1) * sizeof(*made));
	if (!made)
		return ENG_ERR_NOMEM;
	eng_status st = ENG_OK;
	for (size_t i = 0; !st && i < n; i++) {
		rule *r = made[i] = arena_alloc(e->rules_arena, sizeof(*r));
		if (!r) {
			st = ENG_ERR_NOMEM;
		} else if (irs) {
			r->ir = irs[i];
			r->id = irs[i]->id;
			r->file = irs[i]->file;
			r->cite = irs[i]->cite;
			if (!(r->deps = deps_from_ir(e, irs[i])))
				st = ENG_ERR_NOMEM;
		} else {
			r->id = stubs[i].id;
			r->deps = stubs[i].deps;
			r->doc = stubs[i].tree ? NULL : doc;
			r->node = stubs[i].tree ? NULL : stubs[i].node;
			r->tree = stubs[i].tree;
			r->treelen = stubs[i].treelen;
			r->treesum = stubs[i].treesum;
			r->file = file;
		}
	}
	/* first: which facts rules change (rete_build_rule) */
	for (size_t i = 0; !st && i < n; i++)
		st = deps_note_changes(e, made[i]->deps);
	for (size_t i = 0; !st && i < n; i++) {
		rule *r = made[i];
		r->index = e->nrules;
		r->nchanged = e->nchanged;
		if (!e->defer) {
			if (!rule_ir(e, r))
				st = ENG_ERR_LOAD;
			else if (!(st = rete_build_rule(e, r)))
				e->nplaced = e->nrules + 1;
			if (st)
				break;
		}
		e->rules[e->nrules++] = r;
		e->rule_slots[rule_slot(e, r->id)] = e->nrules;
	}
	free(made);
	return st;
}

eng_status eng_rules_add(eng *e, ir_rule *const *irs, size_t n)
{
	return rules_add(e, irs, NULL, NULL, NULL, n);
}

eng_status eng_rules_add_lazy(eng *e, const eng_doc *doc, const char *file,
                              const rule_stub *stubs, size_t n)
{
	return rules_add(e, NULL, doc, file, stubs, n);
}

char *eng_error_buf(eng *e, size_t *size)
{
	*size = sizeof(e->error);
	return e->error;
}

static uint32_t deffact_hash(eng_sym subject, eng_sym attribute, eng_value value)
{
	return (uint32_t)mix64(((uint64_t)subject << 32 | attribute) ^ value_hash(value));
}

/* The slot of triple (S, A, V) in the background-fact table: its own, or the empty one
 * where it would go. */
static uint32_t deffact_slot(const eng *e, eng_sym s, eng_sym a, eng_value v)
{
	uint32_t mask = e->ndeffact_slots - 1, i = deffact_hash(s, a, v) & mask;
	for (; e->deffact_slots[i]; i = (i + 1) & mask) {
		const eng_triple *t = &e->deffacts[e->deffact_slots[i] - 1];
		if (t->subject == s && t->attribute == a && eng_value_eq(t->value, v))
			break;
	}
	return i;
}

/* Makes the background-fact table hold NEED facts at most half full. */
static eng_status deffact_slots_grow(eng *e, uint32_t need)
{
	eng_status st;
	if (!slots_regrow(&e->deffact_slots, &e->ndeffact_slots, need, &st))
		return st;
	uint32_t *slots = e->deffact_slots;
	for (uint32_t i = 0; i < e->ndeffacts; i++) {
		const eng_triple *t = &e->deffacts[i];
		slots[deffact_slot(e, t->subject, t->attribute, t->value)] = i + 1;
	}
	return ENG_OK;
}

eng_status eng_deffact_add(eng *e, eng_sym subject, eng_sym attribute, eng_value value)
{
	if (!subject || !attribute)
		return ENG_ERR_INVALID;
	if (deffact_slots_grow(e, e->ndeffacts + 1))
		return ENG_ERR_NOMEM;
	uint32_t slot = deffact_slot(e, subject, attribute, value);
	if (e->deffact_slots[slot])
		return ENG_OK;
	if (grow((void **)&e->deffacts, &e->capdeffacts, e->ndeffacts + 1, sizeof(eng_triple)))
		return ENG_ERR_NOMEM;
	eng_triple t = { subject, attribute, value };
	e->deffacts[e->ndeffacts++] = t;
	e->deffact_slots[slot] = e->ndeffacts;
	return ENG_OK;
}

size_t eng_rule_count(const eng *e)
{
	return e->nrules;
}

bool eng_rule_get(const eng *e, size_t i, eng_rule_info *out)
{
	const ir_rule *ir = i < e->nrules ? rule_ir(e, e->rules[i]) : NULL;
	if (!ir)
		return false;
	out->id = ir->id;
	out->because = ir->because;
	out->cite = ir->cite;
	out->ncite = ir->ncite;
	out->salience = ir->salience;
	out->weight = ir->weight;
	out->file = ir->file ? ir->file : "";
	out->line = ir->line;
	out->nconds = ir->nconds;
	out->nvars = ir->nvars;
	out->logical = !ir->procedural;
	return true;
}

long eng_rule_find(const eng *e, const char *id)
{
	if (!e->nrule_slots)
		return -1;
	uint32_t k = e->rule_slots[rule_slot(e, id)];
	return k ? (long)k - 1 : -1;
}

const char *eng_rule_var_name(const eng *e, size_t i, uint32_t v)
{
	const ir_rule *ir = i < e->nrules ? rule_ir(e, e->rules[i]) : NULL;
	if (!ir || v >= ir->nvars)
		return NULL;
	return ir->var_names[v];
}

int eng_rule_because_format(const eng *e, size_t i, const eng_value *bindings, char *buf,
                            size_t size)
{
	const ir_rule *ir = i < e->nrules ? rule_ir(e, e->rules[i]) : NULL;
	if (!ir)
		return snprintf(buf, size, "%s", "");
	const char *s = ir->because ? ir->because : "";
	size_t n = 0;
	while (*s) {
		const char *close;
		if (bindings && s[0] == '{' && s[1] == '?' && (close = strchr(s, '}'))) {
			size_t len = (size_t)(close - s - 2);
			uint32_t v;
			for (v = 0; v < ir->nvars; v++)
				if (strlen(ir->var_names[v]) == len &&
				    memcmp(ir->var_names[v], s + 2, len) == 0)
					break;
			if (v < ir->nvars && bindings[v].type != ENG_NONE) {
				char tmp[256];
				eng_value val = bindings[v];
				if (val.type == ENG_STRING)  /* show strings without quotes */
					val.type = ENG_SYMBOL;
				eng_value_format(e, val, tmp, sizeof(tmp));
				for (const char *p = tmp; *p; p++, n++)
					if (n + 1 < size)
						buf[n] = *p;
				s = close + 1;
				continue;
			}
		}
		if (n + 1 < size)
			buf[n] = *s;
		n++;
		s++;
	}
	if (size)
		buf[n < size ? n : size - 1] = '\0';
	return (int)n;
}

/* ---- working memory ---- */

fact *wm_get(const eng *e, eng_fact_id id)
{
	return id && id <= e->nfacts ? e->facts[id - 1] : NULL;
}

/* Its low FACT_HASH_BITS bits: what a fact keeps (core.h). */
static uint32_t triple_hash(eng_triple t)
{
	return (uint32_t)mix64(((uint64_t)t.subject << 32 | t.attribute) ^
	                       eng_value_hash(t.value)) & FACT_HASH_MASK;
}

static fact *wm_find(const eng *e, eng_triple t, uint32_t h)
{
	if (!e->nftable)
		return NULL;
	for (fact *f = e->ftable[h & (e->nftable - 1)]; f; f = f->hnext)
		if (f->hash == h && f->t.subject == t.subject && f->t.attribute == t.attribute &&
		    eng_value_eq(f->t.value, t.value))
			return f;
	return NULL;
}

static eng_status ftable_grow(eng *e)
{
	uint32_t n = e->nftable ? e->nftable * 2 : 1024;
	fact **tab = calloc(n, sizeof(*tab));
	fact **sa = calloc(n, sizeof(*sa));
	if (!tab || !sa) {
		free(tab);
		free(sa);
		return ENG_ERR_NOMEM;
	}
	for (uint32_t i = 0; i < e->nftable; i++) {
		for (fact *f = e->ftable[i], *next; f; f = next) {
			next = f->hnext;
			f->hnext = tab[f->hash & (n - 1)];
			tab[f->hash & (n - 1)] = f;
			if (e->by_subject) {
				uint64_t h = subject_hash(f->t.subject) & (n - 1);
				f->sanext = sa[h];
				sa[h] = f;
			}
		}
	}
	free(e->ftable);
	free(e->satable);
	e->ftable = tab;
	e->satable = sa;
	e->nftable = n;
	return ENG_OK;
}

static void ftable_link(eng *e, fact *f)
{
	f->hnext = e->ftable[f->hash & (e->nftable - 1)];
	e->ftable[f->hash & (e->nftable - 1)] = f;
	if (!e->by_subject)
		return;
	uint64_t h = subject_hash(f->t.subject) & (e->nftable - 1);
	f->sanext = e->satable[h];
	e->satable[h] = f;
}

static void ftable_unlink(eng *e, fact *f)
{
	fact **p = &e->ftable[f->hash & (e->nftable - 1)];
	while (*p != f)
		p = &(*p)->hnext;
	*p = f->hnext;
	if (!e->by_subject)
		return;
	p = &e->satable[subject_hash(f->t.subject) & (e->nftable - 1)];
	while (*p != f)
		p = &(*p)->sanext;
	*p = f->sanext;
}

/* Sets the run error for limit ST: which limit, the rule being fired, and how to raise it
 * (mlarch's option, then the field of eng_limits). */
static void limit_error(eng *e, eng_status st, const char *what, uint64_t limit)
{
	bool facts = st == ENG_ERR_LIMIT_FACTS;
	unsigned long long twice = limit > UINT64_MAX / 2 ? UINT64_MAX : limit * 2;
	char at[300] = "";
	e->run_error = st;
	if (e->current)
		snprintf(at, sizeof(at), " while firing rule `%s` (%s:%u)", e->current->ir->id,
		         e->current->ir->file ? e->current->ir->file : "", e->current->ir->line);
	snprintf(e->error, sizeof(e->error), "%s limit of %llu reached%s; raise it with "
	         "--limit %s=%llu (eng_limits.%s)", what, (unsigned long long)limit, at,
	         facts ? "facts" : "firings", twice, facts ? "max_facts" : "max_firings");
}

/* Drains the retraction queue: facts whose logical support went while the network was
 * busy with another change. */
static void wm_settle(eng *e)
{
	if (e->busy)
		return;
	e->busy = true;
	while (e->ndying) {
		fact *f = e->dying[--e->ndying];
		wm_retract(e, f);
	}
	e->busy = false;
}

/* Adds a fact or finds it. INPUT marks facts that stand on their own (not logically
 * supported). On ENG_ERR_LIMIT_FACTS the error text is set. */
eng_status wm_assert(eng *e, eng_triple t, uint64_t origin, bool input, fact **out,
                     bool *added)
{
	uint32_t h = triple_hash(t);
	fact *f = wm_find(e, t, h);
	if (f && !f->dying) {
		if (input)
			f->input = true;
		*out = f;
		if (added)
			*added = false;
		return ENG_OK;
	}
	if (f && f->dying) {
		/* asserted again before its queued retraction ran: keep it */
		f->dying = false;
		for (uint32_t i = 0; i < e->ndying; i++)
			if (e->dying[i] == f) {
				e->dying[i] = e->dying[--e->ndying];
				break;
			}
		f->input = f->input || input;   /* a bit-field: no |= of a bool */
		*out = f;
		if (added)
			*added = false;
		return ENG_OK;
	}
	if (e->live >= e->limits.max_facts) {
		limit_error(e, ENG_ERR_LIMIT_FACTS, "fact", e->limits.max_facts);
		return ENG_ERR_LIMIT_FACTS;
	}
	if (e->nfacts == UINT32_MAX - 1)
		return ENG_ERR_NOMEM;
	/* up to two facts a chain on average: the two tables cost 8 to 16 bytes a fact */
	if (e->live + 1 > (size_t)e->nftable * 2 && ftable_grow(e))
		return ENG_ERR_NOMEM;
	if (grow((void **)&e->facts, &e->capfacts, e->nfacts + 1, sizeof(fact *)))
		return ENG_ERR_NOMEM;
	f = pool_get(&e->fact_pool);
	if (!f)
		return ENG_ERR_NOMEM;
	f->id = e->nfacts + 1;
	f->t = t;
	f->origin = origin;
	f->hash = h;
	f->input = input;
	ftable_link(e, f);
	e->facts[e->nfacts++] = f;
	e->live++;
	if (e->deferring) {
		/* matched when the firing ends (wm_flush_deferred), after its retractions */
		if (grow((void **)&e->deferred, &e->capdeferred, e->ndeferred + 1, sizeof(fact *))) {
			wm_retract(e, f);
			return ENG_ERR_NOMEM;
		}
		f->deferred = true;
		e->deferred[e->ndeferred++] = f;
		*out = f;
		if (added)
			*added = true;
		return ENG_OK;
	}
	bool was_busy = e->busy;
	e->busy = true;
	eng_status st = rete_add_fact(e, f);
	e->busy = was_busy;
	if (st) {
		wm_retract(e, f);
		return st;
	}
	wm_settle(e);
	*out = f;
	if (added)
		*added = true;
	return ENG_OK;
}

/* Matches the facts a procedural firing asserted, once its actions are done. A firing
 * that replaces context facts (modify: retract, then assert) would otherwise match each
 * new fact against partial matches that a later action of the same firing retracts;
 * matching the assertions after the retractions makes the same network and agenda with
 * less work, since no rule fires in between. Only the creation order (seq) of
 * activations with the very same facts can differ from matching as they come. On
 * failure the fact that could not be matched is retracted and the first error returned. */
static eng_status wm_match_deferred(eng *e)
{
	eng_status first = ENG_OK;
	e->deferring = false;
	for (uint32_t i = 0; i < e->ndeferred; i++) {
		fact *f = e->deferred[i];
		if (!f)
			continue;   /* retracted by a later action */
		f->deferred = false;
		e->deferred[i] = NULL;
		bool was_busy = e->busy;
		e->busy = true;
		eng_status st = rete_add_fact(e, f);
		e->busy = was_busy;
		if (st) {
			wm_retract(e, f);
			if (!first)
				first = st;
		}
		wm_settle(e);
	}
	e->ndeferred = 0;
	return first;
}

static void queue_retract(eng *e, fact *f)
{
	if (f->dying)
		return;
	if (grow((void **)&e->dying, &e->capdying, e->ndying + 1, sizeof(fact *)) != ENG_OK) {
		/* no room to queue: retract now; the network tolerates it between changes */
		wm_retract(e, f);
		return;
	}
	f->dying = true;
	e->dying[e->ndying++] = f;
}

/* Removes F from working memory and the network, and frees it. */
void wm_retract(eng *e, fact *f)
{
	if (e->facts[f->id - 1] != f)
		return;
	bool was_busy = e->busy;
	e->busy = true;
	f->dying = true;
	ftable_unlink(e, f);
	e->facts[f->id - 1] = NULL;   /* out of working memory before the network (the whole
	                               * memory is working memory) */
	if (f->deferred) {
		/* never matched: nothing in the network to undo */
		for (uint32_t i = e->ndeferred; i-- > 0;)
			if (e->deferred[i] == f) {
				e->deferred[i] = NULL;
				break;
			}
	} else {
		rete_remove_fact(e, f);
	}
	while (f->supporters) {
		support *s = f->supporters;
		f->supporters = s->next;
		for (effect **p = &s->f->effects; *p; p = &(*p)->next)
			if (!(*p)->is_concl && (*p)->u.f == f) {
				effect *ef = *p;
				*p = ef->next;
				pool_put(&e->effect_pool, ef);
				break;
			}
		pool_put(&e->support_pool, s);
	}
	e->live--;
	pool_put(&e->fact_pool, f);
	e->busy = was_busy;
	wm_settle(e);
}

eng_status eng_assert(eng *e, eng_sym subject, eng_sym attribute, eng_value value,
                      uint64_t origin, eng_fact_id *id, bool *added)
{
	if (!subject || !attribute || value.type == ENG_NONE ||
	    subject >= e->syms.count || attribute >= e->syms.count)
		return ENG_ERR_INVALID;
	eng_status st;
	if (e->nplaced < e->nrules && (st = defer_build_pending(e)))
		return st;
	if (e->inputs && !defer_input_allowed(e, attribute, value))
		return ENG_ERR_INVALID;
	eng_triple t = { subject, attribute, value };
	fact *f;
	e->current = NULL;
	st = wm_assert(e, t, origin, true, &f, added);
	if (st)
		return st;
	if (id)
		*id = f->id;
	return ENG_OK;
}

eng_status eng_retract(eng *e, eng_fact_id id)
{
	fact *f = wm_get(e, id);
	if (!f)
		return ENG_ERR_NOT_FOUND;
	wm_retract(e, f);
	return ENG_OK;
}

void eng_clear(eng *e)
{
	agenda_clear(e);
	arena_reset(e->run_arena);
	rete_clear(e);
	/* empty the dedup table bucket by bucket when few facts were made, else at once */
	if (e->ftable && (uint64_t)e->nfacts * 8 < e->nftable) {
		for (uint32_t i = 0; i < e->nfacts; i++) {
			fact *f = e->facts[i];
			if (f) {
				e->ftable[f->hash & (e->nftable - 1)] = NULL;
				if (e->by_subject)
					e->satable[subject_hash(f->t.subject) &
					           (e->nftable - 1)] = NULL;
			}
		}
	} else if (e->ftable) {
		memset(e->ftable, 0, e->nftable * sizeof(*e->ftable));
		if (e->by_subject)
			memset(e->satable, 0, e->nftable * sizeof(*e->satable));
	}
	e->ndeferred = 0;
	e->deferring = false;
	pool_reset(&e->fact_pool);
	e->nfacts = 0;
	e->live = 0;
	e->ndying = 0;
	e->nconcls = 0;
	pool_reset(&e->support_pool);
	pool_reset(&e->effect_pool);
	e->run_error = ENG_OK;
	e->error[0] = '\0';
}

eng_status eng_reset(eng *e)
{
	eng_clear(e);
	eng_status st;
	if (e->nplaced < e->nrules && (st = defer_build_pending(e)))
		return st;
	for (uint32_t i = 0; i < e->ndeffacts; i++) {
		fact *f;
		st = wm_assert(e, e->deffacts[i], 0, true, &f, NULL);
		if (st)
			return st;
	}
	return ENG_OK;
}

bool eng_fact_get(const eng *e, eng_fact_id id, eng_triple *out, uint64_t *origin)
{
	fact *f = wm_get(e, id);
	if (!f)
		return false;
	if (out)
		*out = f->t;
	if (origin)
		*origin = f->origin;
	return true;
}

eng_fact_id eng_fact_find(const eng *e, eng_sym subject, eng_sym attribute, eng_value value)
{
	eng_triple t = { subject, attribute, value };
	fact *f = wm_find(e, t, triple_hash(t));
	return f && !f->dying ? f->id : 0;
}

eng_fact_id eng_fact_next(const eng *e, eng_fact_id after)
{
	for (uint32_t i = after; i < e->nfacts; i++)
		if (e->facts[i])
			return i + 1;
	return 0;
}

size_t eng_fact_count(const eng *e)
{
	return e->live;
}

const eng_just *eng_fact_why(const eng *e, eng_fact_id id)
{
	fact *f = wm_get(e, id);
	if (!f)
		return NULL;
	return f->supporters ? &f->supporters->f->just : f->why;
}

/* ---- logical support ---- */

static eng_status effect_add(eng *e, firing *fr, fact *f, uint32_t concl_id)
{
	effect *ef = pool_get(&e->effect_pool);
	if (!ef)
		return ENG_ERR_NOMEM;
	ef->is_concl = f == NULL;
	if (f)
		ef->u.f = f;
	else
		ef->u.concl = concl_id;
	ef->next = fr->effects;
	fr->effects = ef;
	return ENG_OK;
}

/* Called when the token behind a logical firing goes: its conclusions die and the facts
 * it alone supported are retracted (queued, since the network is mid-change). */
void firing_withdraw(eng *e, firing *fr)
{
	if (fr->withdrawn)
		return;
	fr->withdrawn = true;
	fr->tok = 0;
	for (effect *ef = fr->effects; ef; ef = ef->next) {
		if (ef->is_concl) {
			e->concls[ef->u.concl].live = false;
			continue;
		}
		fact *f = ef->u.f;
		support **p = &f->supporters;
		while (*p && (*p)->f != fr)
			p = &(*p)->next;
		if (*p) {
			support *s = *p;
			*p = s->next;
			pool_put(&e->support_pool, s);
		}
		if (!f->supporters && !f->input)
			queue_retract(e, f);
	}
}

/* ---- actions ---- */

static eng_status operand_value(eng *e, const ir_operand *o, const eng_value *vars,
                                eng_value *out)
{
	switch (o->kind) {
	case OPD_CONST:
		*out = o->k;
		return ENG_OK;
	case OPD_VAR:
		*out = vars[o->var];
		return ENG_OK;
	case OPD_CALC: {
		char msg[256];
		eng_status st = expr_eval(o->calc, e, vars, out, msg, sizeof(msg));
		if (st) {
			e->run_error = st;
			snprintf(e->error, sizeof(e->error), "in rule `%s` (%s:%u): %s",
			         e->current->ir->id, e->current->ir->file ? e->current->ir->file : "",
			         e->current->ir->line, msg);
		}
		return st;
	}
	case OPD_ANY:
		break;
	}
	out->type = ENG_NONE;
	return ENG_OK;
}

static eng_status triple_from(eng *e, const ir_action *a, const eng_value *vars,
                              eng_triple *t)
{
	eng_value s, at, v;
	eng_status st;
	if ((st = operand_value(e, &a->s, vars, &s)) || (st = operand_value(e, &a->a, vars, &at)) ||
	    (st = operand_value(e, &a->v, vars, &v)))
		return st;
	if (s.type != ENG_SYMBOL || at.type != ENG_SYMBOL || v.type == ENG_NONE) {
		e->run_error = ENG_ERR_EVAL;
		snprintf(e->error, sizeof(e->error),
		         "in rule `%s` (%s:%u): subject and attribute of a fact must be symbols",
		         e->current->ir->id, e->current->ir->file ? e->current->ir->file : "",
		         a->line);
		return ENG_ERR_EVAL;
	}
	t->subject = s.u.sym;
	t->attribute = at.u.sym;
	t->value = v;
	return ENG_OK;
}

static eng_status act_conclude(eng *e, firing *fr, const ir_action *a, const eng_value *vars)
{
	concl c = { a->concl, { ENG_NONE, { 0 } }, { ENG_NONE, { 0 } }, fr, true };
	eng_status st = operand_value(e, &a->target, vars, &c.target);
	if (!st && a->role.kind != OPD_ANY)
		st = operand_value(e, &a->role, vars, &c.role);
	if (st)
		return st;
	if (grow((void **)&e->concls, &e->capconcls, e->nconcls + 2, sizeof(concl)))
		return ENG_ERR_NOMEM;
	if (e->nconcls == 0)
		e->nconcls = 1;   /* id 0 is "none" */
	uint32_t id = e->nconcls++;
	e->concls[id] = c;
	fr->named = true;
	if (fr->tok)
		return effect_add(e, fr, NULL, id);
	return ENG_OK;
}

static eng_status act_assert(eng *e, firing *fr, const ir_action *a, const eng_value *vars)
{
	eng_triple t;
	eng_status st = triple_from(e, a, vars, &t);
	if (st)
		return st;
	bool logical = fr->tok != 0;
	bool added;
	fact *f;
	if ((st = wm_assert(e, t, 0, !logical, &f, &added)))
		return st;
	if (!logical) {
		if (added) {
			f->why = &fr->just;
			fr->named = true;
		}
		return ENG_OK;
	}
	if (fr->withdrawn) {
		/* The fact undid the match that fired the rule (it meets one of the rule's own
		 * `not:` conditions), so the firing supports nothing: a fact that stood only on
		 * it goes again. The rule may then match and fire once more; one that keeps
		 * doing so is stopped by the firing limit, which names it. */
		if (!f->supporters && !f->input)
			wm_retract(e, f);
		return ENG_OK;
	}
	support *s = pool_get(&e->support_pool);
	if (!s)
		return ENG_ERR_NOMEM;
	s->f = fr;
	s->next = NULL;
	support **tail = &f->supporters;   /* oldest first: eng_fact_why names the first */
	while (*tail)
		tail = &(*tail)->next;
	*tail = s;
	return effect_add(e, fr, f, 0);
}

static eng_status act_retract(eng *e, const ir_action *a, const eng_value *vars, bool modify)
{
	eng_triple t;
	eng_status st = triple_from(e, a, vars, &t);
	if (st)
		return st;
	if (!modify) {
		eng_fact_id id = eng_fact_find(e, t.subject, t.attribute, t.value);
		if (id)
			wm_retract(e, wm_get(e, id));
		return ENG_OK;
	}
	/* modify: drop every (S, A, *) but the new value, then assert the new one */
	for (;;) {
		/* the oldest first, as a scan of working memory would find them */
		fact *old = NULL;
		if (e->nftable)
			for (fact *f = e->satable[subject_hash(t.subject) & (e->nftable - 1)]; f;
			     f = f->sanext)
				if (!f->dying && f->t.subject == t.subject &&
				    f->t.attribute == t.attribute && !eng_value_eq(f->t.value, t.value) &&
				    (!old || f->id < old->id))
					old = f;
		if (!old)
			break;
		wm_retract(e, old);   /* may retract others too: look again from the start */
	}
	fact *f;
	if ((st = wm_assert(e, t, 0, true, &f, NULL)))
		return st;
	return ENG_OK;
}

static eng_status fire(eng *e, activation *act)
{
	rule *r = act->r;
	const ir_rule *ir = r->ir;
	token *tok = token_ref(e, act->tok);   /* not kept: the actions make tokens */
	tok->act = NULL;
	size_t sz = sizeof(firing) + r->npos * sizeof(eng_fact_id) + ir->nvars * sizeof(eng_value);
	firing *fr = arena_alloc_small(e->run_arena, sz);
	if (!fr)
		return ENG_ERR_NOMEM;
	eng_value *vars = (eng_value *)(fr + 1);
	eng_fact_id *ids = (eng_fact_id *)(vars + ir->nvars);
	token_bindings(e, tok, r, vars);
	for (uint32_t k = 0; k < r->npos; k++)
		ids[k] = 0;
	for (const token *t = tok; t; t = token_at(e, t->parent))   /* one walk up the token */
		if (t->wid && r->level_pos[t->level])
			ids[r->level_pos[t->level] - 1] = t->wid;
	fr->just.rule = r->index;
	fr->just.facts = ids;
	fr->just.nfacts = r->npos;
	fr->just.bindings = vars;
	fr->just.nbindings = ir->nvars;
	if (!ir->procedural) {
		fr->tok = act->tok;
		tok->fired = fr;
	}
	e->current = r;
	e->deferring = ir->procedural;
	eng_status st = ENG_OK;
	for (uint32_t i = 0; i < ir->nacts && !st; i++) {
		const ir_action *a = &ir->acts[i];
		switch (a->kind) {
		case ACT_ASSERT: st = act_assert(e, fr, a, vars); break;
		case ACT_RETRACT: st = act_retract(e, a, vars, false); break;
		case ACT_MODIFY: st = act_retract(e, a, vars, true); break;
		case ACT_CONCLUDE: st = act_conclude(e, fr, a, vars); break;
		case ACT_BIND: st = operand_value(e, &a->v, vars, &vars[a->var]); break;
		default: st = ENG_ERR_INVALID; break;
		}
		if (fr->withdrawn)  /* an action undid the rule's own match */
			break;
	}
	eng_status fst = wm_match_deferred(e);
	if (!fr->tok && !fr->named && !fr->withdrawn)
		arena_pop(e->run_arena, fr);   /* nothing can read it: its explanation goes */
	return st ? st : fst;
}

eng_status eng_run(eng *e, uint64_t *fired)
{
	uint64_t n = 0;
	eng_status st = ENG_OK;
	e->run_error = ENG_OK;
	e->error[0] = '\0';
	for (;;) {
		if (agenda_flush(e) != ENG_OK) {
			st = ENG_ERR_NOMEM;
			snprintf(e->error, sizeof(e->error), "out of memory in the agenda");
			break;
		}
		if (!agenda_top(e))
			break;
		if (n >= e->limits.max_firings) {
			/* the activation stays: the caller may raise the limit and run again */
			e->current = e->heap[0]->r;
			limit_error(e, ENG_ERR_LIMIT_FIRINGS, "firing", e->limits.max_firings);
			st = ENG_ERR_LIMIT_FIRINGS;
			break;
		}
		activation *act = agenda_pop(e);
		const rule *r = act->r;     /* fire may fail before it sets e->current */
		n++;
		st = fire(e, act);
		pool_put(&e->act_pool, act);
		if (st) {
			if (st == ENG_ERR_NOMEM && !e->error[0])
				snprintf(e->error, sizeof(e->error), "out of memory in rule `%s`",
				         r->id);
			break;
		}
	}
	e->current = NULL;
	if (fired)
		*fired = n;
	return st;
}

const char *eng_error(const eng *e)
{
	return e->error;
}

/* ---- conclusions ---- */

eng_concl_id eng_concl_next(const eng *e, eng_concl_id after)
{
	for (uint32_t i = after + 1; i < e->nconcls; i++)
		if (e->concls[i].live)
			return i;
	return 0;
}

bool eng_concl_get(const eng *e, eng_concl_id id, eng_conclusion *out)
{
	if (id == 0 || id >= e->nconcls || !e->concls[id].live)
		return false;
	const concl *c = &e->concls[id];
	out->kind = c->kind;
	out->target = c->target;
	out->role = c->role;
	out->why = &c->why->just;
	return true;
}

eng_concl_id eng_concl_last(const eng *e)
{
	return e->nconcls ? e->nconcls - 1 : 0;
}
