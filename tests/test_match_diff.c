/* SPDX-License-Identifier: MIT */
/*
 * test_match_diff.c - the differential test of the matcher: seeded random rule sets and
 * streams of asserts and retracts, the Rete network's live conclusions compared after
 * every step with a naive matcher written here from the definition (every combination of
 * facts for the positive conditions, negations checked with the bindings so far).
 * Layer-2 rules match facts that layer-1 rules derive, so chaining and the withdrawal of
 * logically supported facts are compared too.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NSUBJ 3
#define NATTR 3
#define NVAL 4
#define NVARS 3
#define MAXC 4
#define MAXF 64

typedef struct {
	uint64_t s;
} rng;

static uint32_t rnd(rng *r, uint32_t n)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return (uint32_t)(r->s % n);
}

typedef struct {
	eng *e;
	eng_sym subj[NSUBJ + 1], attr[NATTR + 1], hit, derived;
	eng_value val[NVAL];
	/* the reference's working memory */
	eng_triple facts[MAXF * 4];
	bool live[MAXF * 4];
	uint32_t nfacts;
	ir_rule *rules[16];
	uint32_t nrules;
} world;

static void world_init(world *w)
{
	memset(w, 0, sizeof(*w));
	w->e = eng_new();
	cr_assert(w->e);
	cr_assert_eq(eng_conclusion_kind_add(w->e, "hit"), ENG_OK);
	char name[16];
	for (int i = 0; i <= NSUBJ; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		w->subj[i] = eng_intern(w->e, name, strlen(name));
	}
	for (int i = 0; i <= NATTR; i++) {
		snprintf(name, sizeof(name), "a%d", i);
		w->attr[i] = eng_intern(w->e, name, strlen(name));
	}
	w->hit = eng_intern(w->e, "hit", 3);
	w->derived = w->attr[NATTR];   /* the attribute layer-1 rules assert */
	w->val[0] = eng_symbol(w->e, "v0");
	w->val[1] = eng_symbol(w->e, "v1");
	w->val[2] = eng_number(1);
	w->val[3] = eng_number(2);
}

static eng_value sym_value(eng_sym s)
{
	eng_value v = { ENG_SYMBOL, { 0 } };
	v.u.sym = s;
	return v;
}

/* A random operand for slot K of a pattern; VARS_OK says variables may appear. */
static ir_operand rnd_operand(world *w, rng *r, int k, bool var_ok, bool layer2)
{
	ir_operand o;
	memset(&o, 0, sizeof(o));
	uint32_t pick = rnd(r, 10);
	if (k == 1 && !layer2)
		pick = 9;   /* layer 1 must not see derived facts: constant attributes */
	if (var_ok && pick < 4) {
		o.kind = OPD_VAR;
		o.var = rnd(r, NVARS);
	} else if (pick < 5 && (k != 1 || layer2)) {
		o.kind = OPD_ANY;   /* [?x, ?, ?] and [?, ?, ?]: the whole memory (rete.c) */
	} else {
		o.kind = OPD_CONST;
		if (k == 0)
			o.k = sym_value(w->subj[rnd(r, NSUBJ)]);
		else if (k == 1)
			o.k = sym_value(w->attr[rnd(r, NATTR)]);
		else
			o.k = w->val[rnd(r, NVAL)];
	}
	return o;
}

/* Marks in BOUND the variables a positive pattern binds. */
static void bind_vars(const ir_cond *c, bool *bound)
{
	for (int k = 0; k < 3; k++)
		if (c->slot[k].kind == OPD_VAR)
			bound[c->slot[k].var] = true;
}

typedef struct {
	const bool *bound;
} var_ctx;

static long test_var(void *ctx, const char *name, size_t len)
{
	const var_ctx *c = ctx;
	if (len != 1 || name[0] < 'x' || name[0] > 'z' || !c->bound[name[0] - 'x'])
		return -1;
	return name[0] - 'x';
}

/* A test condition over the variables bound so far, or NULL if none is bound. */
static bool rnd_test(world *w, rng *r, arena *a, const bool *bound, ir_cond *c)
{
	int vars[NVARS], n = 0;
	for (int v = 0; v < NVARS; v++)
		if (bound[v])
			vars[n++] = v;
	if (!n)
		return false;
	static const char *forms[] = { "?%c != ?%c", "?%c = ?%c", "?%c != v0", "?%c = 1 or ?%c = v1",
	                               "not (?%c = ?%c)" };
	char src[64];
	char x = (char)('x' + vars[rnd(r, (uint32_t)n)]), y = (char)('x' + vars[rnd(r, (uint32_t)n)]);
	snprintf(src, sizeof(src), forms[rnd(r, 5)], x, y);
	var_ctx ctx = { bound };
	size_t off;
	char err[128];
	expr *x_ = NULL;
	cr_assert_eq(expr_parse(a, w->e, src, strlen(src), test_var, &ctx, &x_, &off, err,
	                        sizeof(err)), ENG_OK, "%s: %s", src, err);
	c->kind = COND_TEST;
	c->test = x_;
	c->text = arena_strndup(a, src, strlen(src));
	return true;
}

static ir_rule *rnd_rule(world *w, rng *r, arena *a, uint32_t idx, bool layer2)
{
	ir_rule *ir = arena_alloc(a, sizeof(*ir));
	char *id = arena_alloc(a, 16);
	snprintf(id, 16, "r%u", idx);
	ir->id = id;
	ir->because = "test";
	ir->weight = 1;
	ir->nvars = NVARS;
	ir->var_names = arena_alloc(a, NVARS * sizeof(char *));
	ir->var_names[0] = "x";
	ir->var_names[1] = "y";
	ir->var_names[2] = "z";
	uint32_t n = 1 + rnd(r, MAXC);
	bool bound[NVARS] = { false };
	ir->conds = arena_alloc(a, 2 * n * sizeof(ir_cond));
	for (uint32_t i = 0; i < n; i++) {
		ir_cond *c = &ir->conds[ir->nconds];
		if (rnd(r, 6) == 0 && rnd_test(w, r, a, bound, c)) {
			ir->nconds++;
			c = &ir->conds[ir->nconds];
		}
		bool neg = rnd(r, 4) == 0;
		c->kind = neg ? COND_NEG : COND_POS;
		for (int k = 0; k < 3; k++)
			c->slot[k] = rnd_operand(w, r, k, true, layer2);
		if (layer2 && i == 0) {   /* layer 2 starts from a derived fact */
			c->slot[1].kind = OPD_CONST;
			c->slot[1].k = sym_value(w->derived);
		}
		/* variables first seen in a negation stay local: only use bound ones there,
		 * or leave them (they then act as wildcards joined within the pattern) */
		if (rnd(r, 5) == 0) {
			ir_constraint *k = arena_alloc(a, sizeof(*k));
			uint32_t kind = rnd(r, 3);
			if (kind == 0) {
				k->op = rnd(r, 2) ? CMP_IN : CMP_NOT_IN;
				k->nset = 2;
				k->set = arena_alloc(a, 2 * sizeof(eng_value));
				k->set[0] = w->val[rnd(r, NVAL)];
				k->set[1] = w->val[rnd(r, NVAL)];
			} else if (kind == 1) {
				k->op = (cmp_op)(CMP_LT + rnd(r, 4));
				k->operand.kind = OPD_CONST;
				k->operand.k = eng_number(rnd(r, 3));
			} else {
				uint32_t v = rnd(r, NVARS);
				if (!bound[v]) {
					k->op = CMP_NE;
					k->operand.kind = OPD_CONST;
					k->operand.k = w->val[rnd(r, NVAL)];
				} else {
					/* order tests against a bound variable: negations with no
					 * equality test walk their memory for a blocker */
					static const cmp_op vs_var[] = { CMP_NE, CMP_EQ, CMP_LT,
					                                 CMP_LE, CMP_GT, CMP_GE };
					k->op = vs_var[rnd(r, 6)];
					k->operand.kind = OPD_VAR;
					k->operand.var = v;
				}
			}
			c->cons = k;
			c->ncons = 1;
		}
		if (!neg) {
			bind_vars(c, bound);
		}
		ir->nconds++;
	}
	ir->nacts = layer2 ? 1 : 2;
	ir->acts = arena_alloc(a, ir->nacts * sizeof(ir_action));
	ir->acts[0].kind = ACT_CONCLUDE;
	ir->acts[0].concl = w->hit;
	ir->acts[0].target.kind = OPD_CONST;
	ir->acts[0].target.k = eng_number(idx);
	if (!layer2) {
		/* derive (sK, a_derived, value) from a bound variable or a constant */
		ir_action *act = &ir->acts[1];
		act->kind = ACT_ASSERT;
		act->s.kind = OPD_CONST;
		act->s.k = sym_value(w->subj[rnd(r, NSUBJ)]);
		act->a.kind = OPD_CONST;
		act->a.k = sym_value(w->derived);
		act->v.kind = OPD_CONST;
		act->v.k = w->val[rnd(r, NVAL)];
		for (uint32_t v = 0; v < NVARS; v++)
			if (bound[v] && rnd(r, 2)) {
				act->v.kind = OPD_VAR;
				act->v.var = v;
				break;
			}
	}
	return ir;
}

/* A procedural rule that never fires (nothing has the attribute `hit`) and modifies
 * (S, A): a constant or any subject, a constant attribute. */
static ir_rule *changer_rule(world *w, rng *r, arena *a)
{
	ir_rule *ir = arena_alloc(a, sizeof(*ir));
	ir->id = "changer";
	ir->because = "test";
	ir->weight = 1;
	ir->procedural = true;
	ir->nvars = NVARS;
	ir->var_names = arena_alloc(a, NVARS * sizeof(char *));
	ir->var_names[0] = "x";
	ir->var_names[1] = "y";
	ir->var_names[2] = "z";
	ir->conds = arena_alloc(a, sizeof(ir_cond));
	ir->nconds = 1;
	ir->conds[0].kind = COND_POS;
	ir->conds[0].slot[0].kind = OPD_VAR;
	ir->conds[0].slot[0].var = 0;
	ir->conds[0].slot[1].kind = OPD_CONST;
	ir->conds[0].slot[1].k = sym_value(w->hit);
	ir->conds[0].slot[2].kind = OPD_ANY;
	ir->acts = arena_alloc(a, sizeof(ir_action));
	ir->nacts = 1;
	ir_action *act = &ir->acts[0];
	act->kind = ACT_MODIFY;
	if (rnd(r, 3)) {
		act->s.kind = OPD_CONST;
		act->s.k = sym_value(w->subj[rnd(r, NSUBJ)]);
	} else {
		act->s.kind = OPD_VAR;
		act->s.var = 0;
	}
	act->a.kind = OPD_CONST;
	act->a.k = sym_value(w->attr[rnd(r, NATTR)]);
	act->v.kind = OPD_CONST;
	act->v.k = w->val[0];
	return ir;
}

/* ---- the reference matcher ---- */

typedef struct {
	uint32_t rule;
	uint32_t facts[MAXC];   /* reference fact indices of the positive conditions */
	uint32_t n;
} ref_match;

typedef struct {
	ref_match *m;
	uint32_t n, cap;
} ref_set;

static bool ref_operand(const ir_operand *o, const eng_value *vals, const bool *set,
                        eng_value *out)
{
	if (o->kind == OPD_CONST) {
		*out = o->k;
		return true;
	}
	if (o->kind == OPD_VAR && set[o->var]) {
		*out = vals[o->var];
		return true;
	}
	return false;
}

static bool ref_cmp(cmp_op op, eng_value a, eng_value b)
{
	switch (op) {
	case CMP_EQ: return eng_value_eq(a, b);
	case CMP_NE: return !eng_value_eq(a, b);
	default: break;
	}
	if (a.type != ENG_NUMBER || b.type != ENG_NUMBER)
		return false;
	switch (op) {
	case CMP_LT: return a.u.num < b.u.num;
	case CMP_LE: return a.u.num <= b.u.num;
	case CMP_GT: return a.u.num > b.u.num;
	case CMP_GE: return a.u.num >= b.u.num;
	default: return false;
	}
}

static bool ref_match_fact(const ir_cond *c, const eng_triple *t, eng_value *vals, bool *set)
{
	eng_value f[3] = { sym_value(t->subject), sym_value(t->attribute), t->value };
	for (int k = 0; k < 3; k++) {
		const ir_operand *o = &c->slot[k];
		if (o->kind == OPD_CONST && !eng_value_eq(o->k, f[k]))
			return false;
		if (o->kind == OPD_VAR) {
			if (set[o->var] && !eng_value_eq(vals[o->var], f[k]))
				return false;
			vals[o->var] = f[k];
			set[o->var] = true;
		}
	}
	for (uint32_t i = 0; i < c->ncons; i++) {
		const ir_constraint *k = &c->cons[i];
		if (k->op == CMP_IN || k->op == CMP_NOT_IN) {
			bool in = false;
			for (uint32_t j = 0; j < k->nset; j++)
				in = in || eng_value_eq(f[2], k->set[j]);
			if (in != (k->op == CMP_IN))
				return false;
		} else {
			eng_value w;
			if (!ref_operand(&k->operand, vals, set, &w) || !ref_cmp(k->op, f[2], w))
				return false;
		}
	}
	return true;
}

static void ref_walk(const world *w, const ir_rule *ir, uint32_t ri, uint32_t i,
                     eng_value *vals, bool *set, ref_match *cur, ref_set *out)
{
	if (i == ir->nconds) {
		if (out->n == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 64;
			out->m = realloc(out->m, out->cap * sizeof(ref_match));
		}
		out->m[out->n] = *cur;
		out->m[out->n].rule = ri;
		out->n++;
		return;
	}
	const ir_cond *c = &ir->conds[i];
	eng_value v2[NVARS];
	bool s2[NVARS];
	if (c->kind == COND_TEST) {
		eng_value res;
		char err[128];
		if (expr_eval(c->test, w->e, vals, &res, err, sizeof(err)) == ENG_OK &&
		    res.type == ENG_BOOL && res.u.b)
			ref_walk(w, ir, ri, i + 1, vals, set, cur, out);
		return;
	}
	if (c->kind == COND_NEG) {
		for (uint32_t k = 0; k < w->nfacts; k++) {
			if (!w->live[k])
				continue;
			memcpy(v2, vals, sizeof(v2));
			memcpy(s2, set, sizeof(s2));
			if (ref_match_fact(c, &w->facts[k], v2, s2))
				return;
		}
		ref_walk(w, ir, ri, i + 1, vals, set, cur, out);
		return;
	}
	for (uint32_t k = 0; k < w->nfacts; k++) {
		if (!w->live[k])
			continue;
		memcpy(v2, vals, sizeof(v2));
		memcpy(s2, set, sizeof(s2));
		if (!ref_match_fact(c, &w->facts[k], v2, s2))
			continue;
		cur->facts[cur->n++] = k;
		ref_walk(w, ir, ri, i + 1, v2, s2, cur, out);
		cur->n--;
	}
}

static void ref_matches(const world *w, uint32_t from, uint32_t to, ref_set *out)
{
	for (uint32_t ri = from; ri < to; ri++) {
		eng_value vals[NVARS];
		bool set[NVARS] = { false };
		ref_match cur = { 0, { 0 }, 0 };
		ref_walk(w, w->rules[ri], ri, 0, vals, set, &cur, out);
	}
}

static uint32_t ref_fact_index(world *w, eng_triple t, bool add)
{
	for (uint32_t k = 0; k < w->nfacts; k++)
		if (w->facts[k].subject == t.subject && w->facts[k].attribute == t.attribute &&
		    eng_value_eq(w->facts[k].value, t.value))
			return k;
	if (!add)
		return UINT32_MAX;
	w->facts[w->nfacts] = t;
	w->live[w->nfacts] = false;
	return w->nfacts++;
}

static eng_value ref_action_value(const ir_operand *o, const world *w, const ref_match *m,
                                  const ir_rule *ir)
{
	if (o->kind == OPD_CONST)
		return o->k;
	/* recompute the binding from the matched facts */
	eng_value vals[NVARS];
	bool set[NVARS] = { false };
	uint32_t p = 0;
	for (uint32_t i = 0; i < ir->nconds; i++)
		if (ir->conds[i].kind == COND_POS)
			ref_match_fact(&ir->conds[i], &w->facts[m->facts[p++]], vals, set);
	return vals[o->var];
}

/* Layer 1 over the base facts, their derived facts, then layer 2 over both. */
static void ref_all(world *w, uint32_t nlayer1, const bool *base_live, ref_set *out)
{
	for (uint32_t k = 0; k < w->nfacts; k++)
		w->live[k] = base_live[k];
	ref_matches(w, 0, nlayer1, out);
	uint32_t n1 = out->n;
	for (uint32_t i = 0; i < n1; i++) {
		const ir_rule *ir = w->rules[out->m[i].rule];
		eng_triple t = { ir->acts[1].s.k.u.sym, ir->acts[1].a.k.u.sym,
		                 ref_action_value(&ir->acts[1].v, w, &out->m[i], ir) };
		uint32_t k = ref_fact_index(w, t, true);
		w->live[k] = true;
	}
	ref_matches(w, nlayer1, w->nrules, out);
}

/* ---- comparison ---- */

typedef struct {
	uint32_t rule;
	eng_triple f[MAXC];
	uint32_t n;
} key;

static int key_cmp(const void *a, const void *b)
{
	const key *x = a, *y = b;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	for (uint32_t i = 0; i < x->n; i++) {
		const eng_triple *p = &x->f[i], *q = &y->f[i];
		if (p->subject != q->subject)
			return p->subject < q->subject ? -1 : 1;
		if (p->attribute != q->attribute)
			return p->attribute < q->attribute ? -1 : 1;
		if (p->value.type != q->value.type)
			return p->value.type < q->value.type ? -1 : 1;
		uint64_t a1 = eng_value_hash(p->value), b1 = eng_value_hash(q->value);
		if (a1 != b1)
			return a1 < b1 ? -1 : 1;
	}
	return 0;
}

static void compare(world *w, uint32_t nlayer1, const bool *base_live, uint64_t seed,
                    uint32_t step)
{
	ref_set ref = { NULL, 0, 0 };
	ref_all(w, nlayer1, base_live, &ref);
	key *want = calloc(ref.n + 1, sizeof(key));
	for (uint32_t i = 0; i < ref.n; i++) {
		want[i].rule = ref.m[i].rule;
		want[i].n = ref.m[i].n;
		for (uint32_t k = 0; k < ref.m[i].n; k++)
			want[i].f[k] = w->facts[ref.m[i].facts[k]];
	}
	uint32_t ngot = 0, capgot = 64;
	key *got = calloc(capgot, sizeof(key));
	for (eng_concl_id c = eng_concl_next(w->e, 0); c; c = eng_concl_next(w->e, c)) {
		eng_conclusion cc;
		cr_assert(eng_concl_get(w->e, c, &cc));
		if (ngot == capgot) {
			capgot *= 2;
			got = realloc(got, capgot * sizeof(key));
		}
		key *k = &got[ngot++];
		memset(k, 0, sizeof(*k));
		k->rule = (uint32_t)cc.target.u.num;
		k->n = cc.why->nfacts;
		for (uint32_t i = 0; i < k->n; i++)
			cr_assert(eng_fact_get(w->e, cc.why->facts[i], &k->f[i], NULL),
			          "seed %llu step %u: a conclusion rests on a dead fact",
			          (unsigned long long)seed, step);
	}
	qsort(want, ref.n, sizeof(key), key_cmp);
	qsort(got, ngot, sizeof(key), key_cmp);
	if (getenv("MATCH_DEBUG") && ngot != ref.n) {
		char buf[256];
		for (size_t ri = 0; ri < w->nrules; ri++) {
			fprintf(stderr, "rule %zu:", ri);
			for (uint32_t c = 0; c < w->rules[ri]->nconds; c++) {
				eng_rule_cond_format(w->e, ri, c, buf, sizeof(buf));
				fprintf(stderr, "  %s;", buf);
			}
			fprintf(stderr, "\n");
		}
		for (eng_fact_id f = eng_fact_next(w->e, 0); f; f = eng_fact_next(w->e, f)) {
			eng_triple t;
			eng_fact_get(w->e, f, &t, NULL);
			eng_value_format(w->e, t.value, buf, sizeof(buf));
			fprintf(stderr, "fact %u: %s %s %s\n", f, eng_sym_name(w->e, t.subject),
			        eng_sym_name(w->e, t.attribute), buf);
		}
		for (uint32_t i = 0; i < ngot; i++)
			fprintf(stderr, "got rule %u n %u\n", got[i].rule, got[i].n);
		for (uint32_t i = 0; i < ref.n; i++)
			fprintf(stderr, "want rule %u n %u\n", want[i].rule, want[i].n);
	}
	cr_assert_eq(ngot, ref.n, "seed %llu step %u: %u live conclusions, reference has %u",
	             (unsigned long long)seed, step, ngot, ref.n);
	for (uint32_t i = 0; i < ngot; i++)
		cr_assert_eq(key_cmp(&got[i], &want[i]), 0,
		             "seed %llu step %u: match %u differs (rule %u vs %u)",
		             (unsigned long long)seed, step, i, got[i].rule, want[i].rule);
	free(want);
	free(got);
	free(ref.m);
}

static void run_case(uint64_t seed)
{
	world w;
	world_init(&w);
	rng r = { seed * 2654435761u + 1 };
	arena *a = eng_rules_arena(w.e);
	uint32_t nlayer1 = 1 + rnd(&r, 6);
	uint32_t nlayer2 = rnd(&r, 3);
	for (uint32_t i = 0; i < nlayer1 + nlayer2; i++)
		w.rules[w.nrules++] = rnd_rule(&w, &r, a, i, i >= nlayer1);
	/* in half the cases a rule that never fires modifies some (S, A): conditions on it
	 * with a constant subject and attribute then join last (rete.c, cond_goes_last) */
	rng r2 = { seed * 0x9e3779b97f4a7c15ull + 7 };
	ir_rule *batch[17];
	memcpy(batch, w.rules, w.nrules * sizeof(*batch));
	uint32_t nbatch = w.nrules;
	if (rnd(&r2, 2))
		batch[nbatch++] = changer_rule(&w, &r2, a);
	cr_assert_eq(eng_rules_add(w.e, batch, nbatch), ENG_OK, "seed %llu",
	             (unsigned long long)seed);
	bool base_live[MAXF * 4] = { false };
	eng_fact_id ids[MAXF * 4] = { 0 };
	uint32_t steps = 10 + rnd(&r, 30);
	for (uint32_t step = 0; step < steps; step++) {
		bool retract = rnd(&r, 3) == 0;
		if (retract) {
			uint32_t live[MAXF * 4], n = 0;
			for (uint32_t k = 0; k < w.nfacts; k++)
				if (base_live[k])
					live[n++] = k;
			if (n) {
				uint32_t k = live[rnd(&r, n)];
				base_live[k] = false;
				cr_assert_eq(eng_retract(w.e, ids[k]), ENG_OK);
				ids[k] = 0;
			}
		} else {
			eng_triple t = { w.subj[rnd(&r, NSUBJ)], w.attr[rnd(&r, NATTR)],
			                 w.val[rnd(&r, NVAL)] };
			uint32_t k = ref_fact_index(&w, t, true);
			if (!base_live[k]) {
				base_live[k] = true;
				cr_assert_eq(eng_assert(w.e, t.subject, t.attribute, t.value, 0, &ids[k],
				                        NULL), ENG_OK);
			}
		}
		if (rnd(&r, 2) || step + 1 == steps) {
			cr_assert_eq(eng_run(w.e, NULL), ENG_OK, "seed %llu: %s",
			             (unsigned long long)seed, eng_error(w.e));
			compare(&w, nlayer1, base_live, seed, step);
		}
	}
	/* a reset empties everything; the same stream again gives the same matches */
	eng_clear(w.e);
	cr_assert_eq(eng_fact_count(w.e), 0);
	cr_assert_eq(eng_concl_next(w.e, 0), 0);
	eng_free(w.e);
}

Test(match_diff, random_rules_and_streams)
{
	const char *one = getenv("MATCH_SEED");
	if (one) {
		run_case(strtoull(one, NULL, 10));
		return;
	}
	for (uint64_t seed = 1; seed <= 20000; seed++)
		run_case(seed);
}
