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
 *
 * The fixpoint reads each rule's summary (rule_deps: the kinds its positive conditions
 * need, the facts it asserts, the control facts it changes), not its IR. A summary is
 * worked out from the IR when a rule is compiled, and can be written out
 * (eng_rules_deps_image) and read back with the rule's document (eng_load_doc_lazy):
 * such a rule is known by its id and summary, and compiled from its document's node only
 * when something needs its IR (rule_ir: building it, eng_rule_get, why-not). So a
 * question whose knowledge base comes from the compiled cache compiles only the rules it
 * can fire. Compiling later interns the rule's symbols later, which changes their
 * numbers but nothing that depends on names or on the order of firings.
 */
#include "bytes.h"
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Whether some fact of the kinds in S can match a condition that needs N. */
static bool need_possible(const struct inputs *s, const dep_need *n)
{
	if (s->any_attr)
		return true;
	if (n->any) {
		kind_key present = { 0, n->attr, KIND_ATTR };
		return set_has(s, present);
	}
	for (uint32_t j = 0; j < n->nvals; j++)
		if (set_allows(s, n->attr, n->vals[j]))
			return true;
	return false;
}

static bool rule_possible(const struct inputs *s, const rule_deps *d)
{
	for (uint32_t i = 0; i < d->nneeds; i++)
		if (!need_possible(s, &d->needs[i]))
			return false;
	return true;
}

/* Adds to S what D's rule asserts or modifies; false when out of memory. */
static bool rule_products(struct inputs *s, const rule_deps *d, bool *grew)
{
	for (uint32_t i = 0; i < d->nprods; i++) {
		const dep_prod *p = &d->prods[i];
		if (!p->attr) {
			*grew = *grew || !s->any_attr;
			s->any_attr = true;
			continue;
		}
		if (!set_fact(s, p->attr, p->v, grew))
			return false;
	}
	return true;
}

/* ---- the summary of a rule ---- */

/* What a positive condition C with a constant attribute needs: its constant value, the
 * value of its first `=` constraint with a constant or the set of its first `in`, else
 * any value. The first of those decides, as they are tried in order. */
static dep_need need_of(const ir_cond *c)
{
	dep_need n = { c->slot[1].k.u.sym, false, 0, NULL };
	if (c->slot[2].kind == OPD_CONST) {
		n.nvals = 1;
		n.vals = &c->slot[2].k;
		return n;
	}
	for (uint32_t i = 0; i < c->ncons; i++) {
		const ir_constraint *k = &c->cons[i];
		if (k->op == CMP_EQ && k->operand.kind == OPD_CONST) {
			n.nvals = 1;
			n.vals = &k->operand.k;
			return n;
		}
		if (k->op == CMP_IN) {
			n.nvals = k->nset;
			n.vals = k->set;
			return n;
		}
	}
	n.any = true;
	return n;
}

const rule_deps *deps_from_ir(eng *e, const ir_rule *ir)
{
	rule_deps *d = arena_alloc(e->rules_arena, sizeof(*d));
	if (!d)
		return NULL;
	uint32_t nn = 0, np = 0, nc = 0;
	for (uint32_t i = 0; i < ir->nconds; i++)
		nn += ir->conds[i].kind == COND_POS && ir->conds[i].slot[1].kind == OPD_CONST;
	for (uint32_t i = 0; i < ir->nacts; i++) {
		const ir_action *a = &ir->acts[i];
		np += a->kind == ACT_ASSERT || a->kind == ACT_MODIFY;
		nc += a->kind == ACT_MODIFY || (a->kind == ACT_RETRACT &&
		      a->s.kind == OPD_CONST && a->a.kind == OPD_CONST);
	}
	d->needs = arena_alloc_small(e->rules_arena, nn * sizeof(*d->needs));
	d->prods = arena_alloc_small(e->rules_arena, np * sizeof(*d->prods));
	d->changes = arena_alloc_small(e->rules_arena, nc * sizeof(*d->changes));
	if ((nn && !d->needs) || (np && !d->prods) || (nc && !d->changes))
		return NULL;
	/* the values stay where the IR has them: both live in the rules arena */
	for (uint32_t i = 0; i < ir->nconds; i++)
		if (ir->conds[i].kind == COND_POS && ir->conds[i].slot[1].kind == OPD_CONST)
			d->needs[d->nneeds++] = need_of(&ir->conds[i]);
	for (uint32_t i = 0; i < ir->nacts; i++) {
		const ir_action *a = &ir->acts[i];
		bool sc = a->s.kind == OPD_CONST, ac = a->a.kind == OPD_CONST;
		if (a->kind == ACT_ASSERT || a->kind == ACT_MODIFY) {
			dep_prod p = { ac ? a->a.k.u.sym : 0, { ENG_NONE, { 0 } } };
			if (ac && a->v.kind == OPD_CONST)
				p.v = a->v.k;
			d->prods[d->nprods++] = p;
		}
		if (a->kind == ACT_MODIFY)
			d->modifies = true;
		if (a->kind == ACT_MODIFY || (a->kind == ACT_RETRACT && sc && ac)) {
			eng_triple t = { sc ? a->s.k.u.sym : 0, ac ? a->a.k.u.sym : 0,
			                 { ENG_NONE, { 0 } } };
			d->changes[d->nchanges++] = t;
		}
	}
	return d;
}

eng_status deps_note_changes(eng *e, const rule_deps *d)
{
	if (d->modifies)
		e->by_subject = true;   /* engine.c indexes facts by subject from now on */
	for (uint32_t i = 0; i < d->nchanges; i++) {
		const eng_triple *t = &d->changes[i];
		uint32_t k = 0;
		while (k < e->nchanged &&
		       (e->changed[k].subject != t->subject || e->changed[k].attribute != t->attribute))
			k++;
		if (k < e->nchanged)
			continue;
		if (grow((void **)&e->changed, &e->capchanged, e->nchanged + 1, sizeof(eng_triple)))
			return ENG_ERR_NOMEM;
		e->changed[e->nchanged++] = *t;
	}
	return ENG_OK;
}

/* The mapping of the rule with id ID in a `rules:` section of ROOT, or NULL. */
static const eng_node *rule_node_find(const eng_node *root, const char *id)
{
	for (size_t i = 0; root && eng_node_kind_of(root) == ENG_NODE_MAP &&
	                   i < eng_node_size(root); i++) {
		const char *name = eng_node_text(eng_node_key(root, i), NULL);
		const eng_node *v = eng_node_value(root, i);
		if (!name || strcmp(name, "rules") != 0 || eng_node_kind_of(v) != ENG_NODE_SEQ)
			continue;
		for (size_t j = 0; j < eng_node_size(v); j++) {
			const eng_node *rn = eng_node_item(v, j);
			const eng_node *idn = eng_node_kind_of(rn) == ENG_NODE_MAP ?
			                      eng_node_get(rn, "id") : NULL;
			const char *t = idn ? eng_node_text(idn, NULL) : NULL;
			if (t && strcmp(t, id) == 0)
				return rn;
		}
	}
	return NULL;
}

/* Compiles R from its file, read again: for a rule whose stored tree was damaged. */
static eng_status rule_compile_from_file(eng *e, rule *r, ir_rule **ir)
{
	eng_status st = ENG_ERR_LOAD;
	eng_doc *doc = r->file ? eng_doc_read_file(r->file, &e->limits.doc, NULL, &st) : NULL;
	const eng_node *rn = doc ? rule_node_find(eng_doc_root(doc), r->id) : NULL;
	if (rn) {
		st = compile_rule_lazy(e, doc, rn, r->file, ir);
	} else if (st != ENG_ERR_NOMEM) {
		size_t size;
		char *msg = eng_error_buf(e, &size);
		snprintf(msg, size, "rule `%s` (%s) no longer compiles: the rules changed while "
		         "they were in use", r->id, r->file ? r->file : "");
		st = ENG_ERR_LOAD;
	}
	eng_doc_free(doc);
	return st;
}

bool eng_rule_trees_damaged(const eng *e)
{
	return e && e->trees_damaged;
}

/* Compiles R if it was not: ENG_OK, or compile_rule_lazy's failure. */
static eng_status rule_compile(eng *e, rule *r)
{
	if (r->ir)
		return ENG_OK;
	ir_rule *ir;
	eng_status st;
	if (r->tree && doc_image_sum(r->tree, r->treelen) != r->treesum) {
		/* its stored tree is damaged (the cache checks it here, when first read) */
		e->trees_damaged = true;
		st = rule_compile_from_file(e, r, &ir);
	} else if (r->tree) {
		/* its own tree, read for the compiler and dropped: the IR keeps no node */
		eng_doc *doc = eng_doc_deserialize_borrowed(r->file, r->tree, r->treelen, r->file,
		                                            &e->limits.doc, &st);
		const eng_node *root = doc ? eng_doc_root(doc) : NULL;
		if (!root) {
			size_t size;
			char *msg = eng_error_buf(e, &size);
			if (st == ENG_ERR_NOMEM)
				snprintf(msg, size, "out of memory reading rule `%s`", r->id);
			else
				snprintf(msg, size, "rule `%s` (%s): its stored tree cannot be read",
				         r->id, r->file ? r->file : "");
			eng_doc_free(doc);
			return st == ENG_ERR_NOMEM ? st : ENG_ERR_LOAD;
		}
		st = compile_rule_lazy(e, doc, root, r->file, &ir);
		eng_doc_free(doc);
	} else {
		st = compile_rule_lazy(e, r->doc, r->node, r->file, &ir);
	}
	if (st)
		return st;
	r->ir = ir;
	r->cite = ir->cite;
	r->doc = NULL;
	r->node = NULL;
	r->tree = NULL;
	return ENG_OK;
}

const ir_rule *rule_ir(const eng *e, rule *r)
{
	/* see core.h: compiling only fills in what was deferred */
	return r->ir || !rule_compile((eng *)e, r) ? r->ir : NULL;
}

static void inputs_free(struct inputs *s)
{
	if (s) {
		free(s->slots);
		free(s);
	}
}

/* Builds rule R (compiled first if it was not) as it would have been built when it was
 * added. */
static eng_status rule_build(eng *e, rule *r)
{
	eng_status st = rule_compile(e, r);
	if (st)
		return st;
	uint32_t now = e->nchanged;
	e->nchanged = r->nchanged;
	st = rete_build_rule(e, r);
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
			ok = rule_products(facts, e->rules[i]->deps, &grew);
	for (grew = true; ok && grew;) {
		grew = false;
		for (uint32_t i = e->nplaced; ok && i < e->nrules; i++) {
			bool *l = &live[i - e->nplaced];
			if (!*l && rule_possible(facts, e->rules[i]->deps)) {
				*l = grew = true;
				ok = rule_products(facts, e->rules[i]->deps, &grew);
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

eng_status eng_rules_compile_all(eng *e)
{
	eng_status st = ENG_OK;
	for (uint32_t i = 0; !st && i < e->nrules; i++)
		st = rule_compile(e, e->rules[i]);
	return st;
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

/* ---- the summaries as an image (a compiled cache keeps them) ----
 *
 *   u32 DEPS_MAGIC, u32 rules, u32 names, the names (u32 length, the bytes);
 *   per rule: its id (u32 length, the bytes), u32 needs, each (u32 attribute, u8 any,
 *   u32 values, the values), u32 products, each (u32 attribute, a value), u32 changes,
 *   each (u32 subject, u32 attribute), u8 modifies.
 *   A symbol is written as the number of its name (NO_SYM for 0); a value as a u8 type,
 *   then a name (symbol, string), 8 bytes (number), a u8 (bool) or nothing.
 *
 * The image is untrusted: every count and number is checked against what is left. */

#define DEPS_MAGIC 0x4D4C4431u      /* "MLD1" */
#define NO_SYM UINT32_MAX

typedef struct {
	byte_buf w;
	uint32_t *names;        /* symbol -> 1 + its number in the image, 0: not yet */
	uint32_t nnames;
	eng_sym *order;         /* the symbols in the order numbered */
} dbuf;

static void dput(dbuf *b, const void *data, size_t n)
{
	byte_put(&b->w, data, n);
}

static void dput_u32(dbuf *b, uint32_t v)
{
	dput(b, &v, sizeof(v));
}

static void dput_u8(dbuf *b, uint8_t v)
{
	dput(b, &v, 1);
}

/* The number of symbol S in the image (numbered on first use), or NO_SYM for 0. */
static uint32_t dsym(dbuf *b, eng_sym s)
{
	if (!s)
		return NO_SYM;
	if (!b->names[s]) {
		b->order[b->nnames] = s;
		b->names[s] = ++b->nnames;
	}
	return b->names[s] - 1;
}

static void dput_value(dbuf *b, eng_value v)
{
	dput_u8(b, (uint8_t)v.type);
	switch (v.type) {
	case ENG_SYMBOL:
	case ENG_STRING: dput_u32(b, dsym(b, v.u.sym)); break;
	case ENG_NUMBER: dput(b, &v.u.num, sizeof(v.u.num)); break;
	case ENG_BOOL: dput_u8(b, v.u.b); break;
	default: break;
	}
}

/* The rules' part of the image, numbering the symbols it names. */
static void dput_rules(dbuf *b, const eng *e, size_t first, size_t n)
{
	for (size_t i = first; i < first + n; i++) {
		const rule *r = e->rules[i];
		const rule_deps *d = r->deps;
		size_t idlen = strlen(r->id);
		dput_u32(b, (uint32_t)idlen);
		dput(b, r->id, idlen);
		dput_u32(b, d->nneeds);
		for (uint32_t k = 0; k < d->nneeds; k++) {
			const dep_need *nd = &d->needs[k];
			dput_u32(b, dsym(b, nd->attr));
			dput_u8(b, nd->any);
			dput_u32(b, nd->nvals);
			for (uint32_t j = 0; j < nd->nvals; j++)
				dput_value(b, nd->vals[j]);
		}
		dput_u32(b, d->nprods);
		for (uint32_t k = 0; k < d->nprods; k++) {
			dput_u32(b, dsym(b, d->prods[k].attr));
			dput_value(b, d->prods[k].v);
		}
		dput_u32(b, d->nchanges);
		for (uint32_t k = 0; k < d->nchanges; k++) {
			dput_u32(b, dsym(b, d->changes[k].subject));
			dput_u32(b, dsym(b, d->changes[k].attribute));
		}
		dput_u8(b, d->modifies);
	}
}

eng_status eng_rules_deps_image(const eng *e, size_t first, size_t n, unsigned char **out,
                                size_t *len)
{
	*out = NULL;
	*len = 0;
	if (first > e->nrules || n > e->nrules - first)
		return ENG_ERR_INVALID;
	dbuf rules = { 0 }, b = { 0 };
	rules.names = calloc(e->syms.count + 1, sizeof(*rules.names));
	rules.order = malloc((e->syms.count + 1) * sizeof(*rules.order));
	if (!rules.names || !rules.order) {
		free(rules.names);
		free(rules.order);
		return ENG_ERR_NOMEM;
	}
	dput_rules(&rules, e, first, n);
	dput_u32(&b, DEPS_MAGIC);
	dput_u32(&b, (uint32_t)n);
	dput_u32(&b, rules.nnames);
	for (uint32_t i = 0; i < rules.nnames; i++) {
		eng_sym s = rules.order[i];
		dput_u32(&b, e->syms.lens[s]);
		dput(&b, e->syms.names[s], e->syms.lens[s]);
	}
	dput(&b, rules.w.p, rules.w.n);
	bool nomem = rules.w.nomem || b.w.nomem;
	free(rules.w.p);
	free(rules.names);
	free(rules.order);
	if (nomem) {
		free(b.w.p);
		return ENG_ERR_NOMEM;
	}
	*out = b.w.p;
	*len = b.w.n;
	return ENG_OK;
}

typedef struct {
	byte_cur b;
	const eng_sym *syms;
	uint32_t nsyms;
} dcur;

/* A count of items of at least MIN bytes each, checked against what is left. */
static uint32_t dget_count(dcur *c, size_t min)
{
	uint32_t n = byte_u32(&c->b);
	if (!c->b.bad && (size_t)n > (c->b.n - c->b.off) / min)
		c->b.bad = true;
	return c->b.bad ? 0 : n;
}

/* A symbol; 0 for NO_SYM when NONE_OK. */
static eng_sym dget_sym(dcur *c, bool none_ok)
{
	uint32_t i = byte_u32(&c->b);
	if (i == NO_SYM && none_ok)
		return 0;
	if (i >= c->nsyms) {
		c->b.bad = true;
		return 0;
	}
	return c->syms[i];
}

static eng_value dget_value(dcur *c)
{
	eng_value v = { ENG_NONE, { 0 } };
	uint8_t t = byte_u8(&c->b);
	switch (t) {
	case ENG_NONE: break;
	case ENG_SYMBOL:
	case ENG_STRING: v.type = (eng_type)t; v.u.sym = dget_sym(c, false); break;
	case ENG_NUMBER: v.type = ENG_NUMBER; byte_copy(&c->b, &v.u.num, sizeof(v.u.num)); break;
	case ENG_BOOL: {
		uint8_t b = byte_u8(&c->b);
		v.type = ENG_BOOL;
		v.u.b = b != 0;
		c->b.bad = c->b.bad || b > 1;
		break;
	}
	default: c->b.bad = true; break;
	}
	return v;
}

/* One rule's summary into *D (arrays from arena A); false when out of memory. */
static bool dget_rule(dcur *c, arena *a, rule_deps *d)
{
	d->nneeds = dget_count(c, 9);
	d->needs = arena_alloc_small(a, (size_t)d->nneeds * sizeof(*d->needs));
	if (d->nneeds && !d->needs)
		return false;
	for (uint32_t k = 0; k < d->nneeds && !c->b.bad; k++) {
		dep_need *nd = &d->needs[k];
		nd->attr = dget_sym(c, false);
		uint8_t any = byte_u8(&c->b);
		nd->any = any != 0;
		c->b.bad = c->b.bad || any > 1;
		nd->nvals = dget_count(c, 1);
		eng_value *vals = arena_alloc_small(a, (size_t)nd->nvals * sizeof(*vals));
		if (nd->nvals && !vals)
			return false;
		for (uint32_t j = 0; j < nd->nvals && !c->b.bad; j++)
			vals[j] = dget_value(c);
		nd->vals = vals;
	}
	d->nprods = dget_count(c, 5);
	d->prods = arena_alloc_small(a, (size_t)d->nprods * sizeof(*d->prods));
	if (d->nprods && !d->prods)
		return false;
	for (uint32_t k = 0; k < d->nprods && !c->b.bad; k++) {
		d->prods[k].attr = dget_sym(c, true);
		d->prods[k].v = dget_value(c);
	}
	d->nchanges = dget_count(c, 8);
	d->changes = arena_alloc_small(a, (size_t)d->nchanges * sizeof(*d->changes));
	if (d->nchanges && !d->changes)
		return false;
	for (uint32_t k = 0; k < d->nchanges && !c->b.bad; k++) {
		d->changes[k].subject = dget_sym(c, true);
		d->changes[k].attribute = dget_sym(c, true);
		d->changes[k].value.type = ENG_NONE;
	}
	uint8_t m = byte_u8(&c->b);
	d->modifies = m != 0;
	c->b.bad = c->b.bad || m > 1;
	return true;
}

eng_status deps_image_read(eng *e, const unsigned char *img, size_t len, rule_stub **out,
                           size_t *n)
{
	*out = NULL;
	*n = 0;
	dcur c = { { img, len, 0, false }, NULL, 0 };
	if (!img || byte_u32(&c.b) != DEPS_MAGIC)
		return ENG_ERR_INVALID;
	uint32_t nrules = dget_count(&c, 18), nsyms = dget_count(&c, 4);
	eng_sym *syms = malloc((nsyms ? nsyms : 1) * sizeof(*syms));
	rule_stub *stubs = malloc((nrules ? nrules : 1) * sizeof(*stubs));
	eng_status st = syms && stubs ? ENG_OK : ENG_ERR_NOMEM;
	for (uint32_t i = 0; !st && !c.b.bad && i < nsyms; i++) {
		uint32_t l = byte_u32(&c.b);
		const unsigned char *p = byte_take(&c.b, l);
		c.b.bad = c.b.bad || !l;    /* symbol 0, the empty name, is written as NO_SYM */
		if (p && l && !(syms[i] = eng_intern(e, (const char *)p, l)))
			st = ENG_ERR_NOMEM;
	}
	c.syms = syms;
	c.nsyms = nsyms;
	for (uint32_t i = 0; !st && !c.b.bad && i < nrules; i++) {
		uint32_t l = byte_u32(&c.b);
		const unsigned char *p = byte_take(&c.b, l);
		rule_deps *d = arena_alloc(e->rules_arena, sizeof(*d));
		if (!d || !dget_rule(&c, e->rules_arena, d)) {
			st = ENG_ERR_NOMEM;
			break;
		}
		stubs[i].id = (const char *)p;
		stubs[i].idlen = l;
		stubs[i].node = NULL;
		stubs[i].deps = d;
		stubs[i].tree = NULL;
		stubs[i].treelen = 0;
		stubs[i].treesum = 0;
		c.b.bad = c.b.bad || !l;
	}
	free(syms);
	if (!st && (c.b.bad || c.b.off != len))
		st = ENG_ERR_INVALID;
	if (st) {
		free(stubs);
		return st;
	}
	*out = stubs;
	*n = nrules;
	return ENG_OK;
}
