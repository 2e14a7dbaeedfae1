/* SPDX-License-Identifier: MIT */
/*
 * defer.c - when rules go into the network: at once, or once the input is known, and
 * then only the rules that it can make fire.
 *
 * A program that answers one question loads a thousand rules of which the question can
 * fire a few dozen: every other rule has a positive condition that no fact will ever
 * match. Which facts can ever be in working memory is known once the input is: the
 * kinds of input fact the caller names, the background facts, and what the rules that can
 * fire assert or modify. So the rules that can fire are found by a fixpoint: a rule is
 * live when each of its positive conditions can be matched by a fact of those kinds (its
 * constant attribute with its constant value, or any value of the attribute for a
 * variable; `in` with any of the set), and what it asserts joins the kinds. The
 * estimate only errs on the side of life: subjects, negations, tests and comparisons are
 * not looked at, and a rule that asserts with a computed attribute makes every rule live.
 * A rule that is not live would build nodes that never hold a token, so leaving it out
 * changes no match, firing or conclusion; it stays known for everything else
 * (eng_rule_get, eng_rule_whynot, ...).
 *
 * The live rules are built in the order loaded, each as cond_goes_last saw the loaded
 * rules when it was added (rule.nchanged), so that each is built as it would have been
 * at once. After that, eng_assert checks each input fact against the kinds named: a fact
 * of another kind could match a rule left out.
 */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>

/* A kind of fact: (attribute, value), (attribute, any value), or "some fact with this
 * attribute" (what a condition with a variable value needs). */
enum { KIND_EXACT, KIND_ANY, KIND_ATTR };

typedef struct {
	uint64_t bits;          /* value_bits of the value; 0 for KIND_ANY and KIND_ATTR */
	eng_sym attr;
	uint8_t kind;
} kind_key;

struct inputs {
	kind_key *slots;        /* open addressing; attr 0 = empty */
	uint32_t nslots;        /* a power of two, at least twice count */
	uint32_t count;
	bool any_attr;          /* a fact with any attribute may come */
};

static uint32_t key_hash(const kind_key *k)
{
	return (uint32_t)mix64(k->bits ^ ((uint64_t)k->attr << 3 | k->kind) * 0x9E3779B97F4A7C15ull);
}

static bool key_eq(const kind_key *a, const kind_key *b)
{
	return a->attr == b->attr && a->kind == b->kind && a->bits == b->bits;
}

static bool set_has(const struct inputs *s, kind_key k)
{
	if (!s->nslots)
		return false;
	uint32_t mask = s->nslots - 1;
	for (uint32_t i = key_hash(&k) & mask; s->slots[i].attr; i = (i + 1) & mask)
		if (key_eq(&s->slots[i], &k))
			return true;
	return false;
}

/* Makes S hold one more key at most half full; false when out of memory. */
static bool set_room(struct inputs *s)
{
	if (2 * (s->count + 1) <= s->nslots)
		return true;
	uint32_t n = s->nslots ? s->nslots * 2 : 256;
	kind_key *slots = calloc(n, sizeof(*slots));
	if (!slots)
		return false;
	for (uint32_t i = 0; i < s->nslots; i++) {
		if (!s->slots[i].attr)
			continue;
		uint32_t j = key_hash(&s->slots[i]) & (n - 1);
		while (slots[j].attr)
			j = (j + 1) & (n - 1);
		slots[j] = s->slots[i];
	}
	free(s->slots);
	s->slots = slots;
	s->nslots = n;
	return true;
}

/* Adds K (*ADDED: it was not there); false only when out of memory. */
static bool set_put(struct inputs *s, kind_key k, bool *added)
{
	*added = false;
	if (!k.attr)
		return true;
	if (!set_room(s))
		return false;
	uint32_t mask = s->nslots - 1, i = key_hash(&k) & mask;
	for (; s->slots[i].attr; i = (i + 1) & mask)
		if (key_eq(&s->slots[i], &k))
			return true;
	s->slots[i] = k;
	s->count++;
	*added = true;
	return true;
}

/* Adds the facts with attribute ATTR and value V (any value when V has type ENG_NONE). */
static bool set_fact(struct inputs *s, eng_sym attr, eng_value v, bool *grew)
{
	bool a1, a2;
	kind_key k = { v.type == ENG_NONE ? 0 : value_bits(v), attr,
	               v.type == ENG_NONE ? KIND_ANY : KIND_EXACT };
	kind_key present = { 0, attr, KIND_ATTR };
	if (!set_put(s, k, &a1) || !set_put(s, present, &a2))
		return false;
	*grew = *grew || a1 || a2;
	return true;
}

/* Whether a fact with attribute ATTR and value V may come. */
static bool set_allows(const struct inputs *s, eng_sym attr, eng_value v)
{
	if (s->any_attr)
		return true;
	kind_key any = { 0, attr, KIND_ANY }, exact = { value_bits(v), attr, KIND_EXACT };
	return set_has(s, any) || set_has(s, exact);
}

/* Whether some fact of the kinds in S can match positive condition C. */
static bool cond_possible(const struct inputs *s, const ir_cond *c)
{
	if (s->any_attr || c->slot[1].kind != OPD_CONST)
		return true;
	eng_sym attr = c->slot[1].k.u.sym;
	if (c->slot[2].kind == OPD_CONST)
		return set_allows(s, attr, c->slot[2].k);
	for (uint32_t i = 0; i < c->ncons; i++) {
		const ir_constraint *k = &c->cons[i];
		if (k->op == CMP_EQ && k->operand.kind == OPD_CONST)
			return set_allows(s, attr, k->operand.k);
		if (k->op == CMP_IN) {
			for (uint32_t j = 0; j < k->nset; j++)
				if (set_allows(s, attr, k->set[j]))
					return true;
			return false;
		}
	}
	kind_key present = { 0, attr, KIND_ATTR };
	return set_has(s, present);
}

static bool rule_possible(const struct inputs *s, const ir_rule *ir)
{
	for (uint32_t i = 0; i < ir->nconds; i++)
		if (ir->conds[i].kind == COND_POS && !cond_possible(s, &ir->conds[i]))
			return false;
	return true;
}

/* Adds to S what IR asserts or modifies; false when out of memory. */
static bool rule_products(struct inputs *s, const ir_rule *ir, bool *grew)
{
	for (uint32_t i = 0; i < ir->nacts; i++) {
		const ir_action *a = &ir->acts[i];
		if (a->kind != ACT_ASSERT && a->kind != ACT_MODIFY)
			continue;
		if (a->a.kind != OPD_CONST) {
			*grew = *grew || !s->any_attr;
			s->any_attr = true;
			continue;
		}
		eng_value v = { ENG_NONE, { 0 } };
		if (a->v.kind == OPD_CONST)
			v = a->v.k;
		if (!set_fact(s, a->a.k.u.sym, v, grew))
			return false;
	}
	return true;
}

static void inputs_free(struct inputs *s)
{
	if (s) {
		free(s->slots);
		free(s);
	}
}

/* Builds rule R as it would have been built when it was added. */
static eng_status rule_build(eng *e, rule *r)
{
	uint32_t now = e->nchanged;
	e->nchanged = r->nchanged;
	eng_status st = rete_build_rule(e, r);
	e->nchanged = now;
	return st;
}

void eng_rules_defer(eng *e)
{
	e->defer = true;
}

eng_status defer_build_pending(eng *e)
{
	for (; e->nplaced < e->nrules; e->nplaced++) {
		eng_status st = rule_build(e, e->rules[e->nplaced]);
		if (st)
			return st;
	}
	return ENG_OK;
}

eng_status eng_rules_build_all(eng *e)
{
	if (e->live || e->nfacts)
		return ENG_ERR_INVALID;
	return defer_build_pending(e);
}

eng_status eng_rules_build_for(eng *e, const eng_input *in, size_t n)
{
	if (e->live || e->nfacts || e->inputs)
		return ENG_ERR_INVALID;
	struct inputs *allowed = calloc(1, sizeof(*allowed));
	struct inputs *facts = calloc(1, sizeof(*facts));
	bool *live = calloc(e->nrules - e->nplaced + 1, sizeof(*live));
	bool ok = allowed && facts && live, grew = false;
	for (size_t i = 0; ok && i < n; i++)
		ok = set_fact(allowed, in[i].attribute, in[i].value, &grew) &&
		     set_fact(facts, in[i].attribute, in[i].value, &grew);
	for (uint32_t i = 0; ok && i < e->ndeffacts; i++)
		ok = set_fact(facts, e->deffacts[i].attribute, e->deffacts[i].value, &grew);
	/* the rules already in the network assert what they assert */
	for (uint32_t i = 0; ok && i < e->nplaced; i++)
		if (e->rules[i]->prod)
			ok = rule_products(facts, e->rules[i]->ir, &grew);
	for (grew = true; ok && grew;) {
		grew = false;
		for (uint32_t i = e->nplaced; ok && i < e->nrules; i++) {
			bool *l = &live[i - e->nplaced];
			if (!*l && rule_possible(facts, e->rules[i]->ir)) {
				*l = grew = true;
				ok = rule_products(facts, e->rules[i]->ir, &grew);
			}
		}
	}
	eng_status st = ok ? ENG_OK : ENG_ERR_NOMEM;
	uint32_t first = e->nplaced;
	for (; !st && e->nplaced < e->nrules; e->nplaced++)
		if (live[e->nplaced - first])
			st = rule_build(e, e->rules[e->nplaced]);
	inputs_free(facts);
	free(live);
	if (st) {
		inputs_free(allowed);
		return st;
	}
	e->inputs = allowed;
	return ENG_OK;
}

size_t eng_rules_built(const eng *e)
{
	size_t n = 0;
	for (uint32_t i = 0; i < e->nrules; i++)
		n += e->rules[i]->prod != NULL;
	return n;
}

bool defer_input_allowed(eng *e, eng_sym attribute, eng_value value)
{
	if (set_allows(e->inputs, attribute, value))
		return true;
	char name[128], val[128];
	eng_value a = { ENG_SYMBOL, { 0 } };
	a.u.sym = attribute;
	eng_value_format(e, a, name, sizeof(name));
	eng_value_format(e, value, val, sizeof(val));
	snprintf(e->error, sizeof(e->error), "the network was built for other facts than "
	         "(%s, %s): rules it could match were left out", name, val);
	return false;
}

void defer_free(eng *e)
{
	inputs_free(e->inputs);
	e->inputs = NULL;
}
