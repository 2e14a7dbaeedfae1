/* SPDX-License-Identifier: MIT */
/*
 * whynot.c - near misses: how far a rule's conditions get against the current facts, and
 * the first condition nothing satisfies. A plain backtracking search over working memory,
 * independent of the network, so it also answers for rules that never reached the agenda.
 * Also the rule-file rendering of conditions, for explanations.
 */
#include "core.h"

#include <stdio.h>
#include <string.h>

#define WHYNOT_BUDGET 2000000   /* match attempts before the search gives up */

typedef struct {
	const eng *e;
	const ir_rule *ir;
	eng_value *vals;
	uint32_t best;          /* deepest condition index reached */
	eng_value best_vals[16];
	uint64_t steps;
	bool full;
} search;

static bool operand(const search *s, const ir_operand *o, eng_value *out)
{
	if (o->kind == OPD_CONST) {
		*out = o->k;
		return true;
	}
	if (o->kind == OPD_VAR && s->vals[o->var].type != ENG_NONE) {
		*out = s->vals[o->var];
		return true;
	}
	return false;
}

/* Matches F against pattern C, binding unbound variables into vals; the indices bound
 * are recorded in NEWV so the caller can undo them. */
static bool match(search *s, const ir_cond *c, const fact *f, uint32_t *newv, uint32_t *nnew)
{
	*nnew = 0;
	for (uint8_t k = 0; k < 3; k++) {
		const ir_operand *o = &c->slot[k];
		eng_value v = fact_field(f, k);
		if (o->kind == OPD_CONST && !eng_value_eq(o->k, v))
			goto fail;
		if (o->kind == OPD_VAR) {
			if (s->vals[o->var].type == ENG_NONE) {
				s->vals[o->var] = v;
				newv[(*nnew)++] = o->var;
			} else if (!eng_value_eq(s->vals[o->var], v)) {
				goto fail;
			}
		}
	}
	for (uint32_t i = 0; i < c->ncons; i++) {
		const ir_constraint *k = &c->cons[i];
		eng_value v = f->t.value, w;
		if (k->op == CMP_IN || k->op == CMP_NOT_IN) {
			bool in = false;
			for (uint32_t j = 0; j < k->nset && !in; j++)
				in = eng_value_eq(v, k->set[j]);
			if (in != (k->op == CMP_IN))
				goto fail;
		} else if (!operand(s, &k->operand, &w) || !cmp_values(k->op, v, w)) {
			goto fail;
		}
	}
	return true;
fail:
	for (uint32_t i = 0; i < *nnew; i++)
		s->vals[newv[i]].type = ENG_NONE;
	*nnew = 0;
	return false;
}

static bool walk(search *s, uint32_t i)
{
	if (i > s->best) {
		s->best = i;
		for (uint32_t v = 0; v < s->ir->nvars && v < 16; v++)
			s->best_vals[v] = s->vals[v];
	}
	if (i == s->ir->nconds)
		return s->full = true;
	const ir_cond *c = &s->ir->conds[i];
	const eng *e = s->e;
	uint32_t newv[3], nnew;
	if (c->kind == COND_TEST) {
		eng_value out;
		char msg[128];
		if (expr_eval(c->test, e, s->vals, &out, msg, sizeof(msg)) == ENG_OK &&
		    out.type == ENG_BOOL && out.u.b)
			return walk(s, i + 1);
		return false;
	}
	bool any = false;
	for (uint32_t k = 0; k < e->nfacts && !any; k++) {
		const fact *f = e->facts[k];
		if (!f || f->dying || ++s->steps > WHYNOT_BUDGET)
			continue;
		if (!match(s, c, f, newv, &nnew))
			continue;
		if (c->kind == COND_NEG) {
			any = true;
		} else if (walk(s, i + 1)) {
			return true;
		}
		for (uint32_t j = 0; j < nnew; j++)
			s->vals[newv[j]].type = ENG_NONE;
	}
	if (c->kind == COND_NEG && !any)
		return walk(s, i + 1);
	return false;
}

/* The IR of rule I (compiled now if it was not), or NULL: no such rule, or it does not
 * compile. */
static const ir_rule *ir_at(const eng *e, size_t i)
{
	return i < e->nrules ? rule_ir(e, e->rules[i]) : NULL;
}

eng_status eng_rule_whynot(const eng *e, size_t i, eng_whynot *out)
{
	if (i >= e->nrules)
		return ENG_ERR_NOT_FOUND;
	const ir_rule *ir = ir_at(e, i);
	if (!ir)
		return ENG_ERR_LOAD;
	eng_value vals[256];
	if (ir->nvars > 256)
		return ENG_ERR_INVALID;
	memset(out, 0, sizeof(*out));
	memset(vals, 0, sizeof(vals));
	search s = { e, ir, vals, 0, { { ENG_NONE, { 0 } } }, 0, false };
	walk(&s, 0);
	out->fired = s.full;
	out->matched = s.best;
	out->cond = s.best;
	for (uint32_t v = 0; v < 16; v++)
		out->bindings[v] = s.best_vals[v];
	if (s.full || s.best >= ir->nconds)
		return ENG_OK;
	/* a fact with the right subject and attribute whose value let the condition down */
	const ir_cond *c = &ir->conds[s.best];
	if (c->kind != COND_POS)
		return ENG_OK;
	memcpy(vals, s.best_vals, sizeof(s.best_vals));
	for (uint32_t k = 0; k < e->nfacts; k++) {
		const fact *f = e->facts[k];
		if (!f || f->dying)
			continue;
		eng_value sv, av;
		bool sok = !(c->slot[0].kind == OPD_CONST || c->slot[0].kind == OPD_VAR) ||
		           !operand(&s, &c->slot[0], &sv) || eng_value_eq(sv, fact_field(f, 0));
		bool aok = !(c->slot[1].kind == OPD_CONST || c->slot[1].kind == OPD_VAR) ||
		           !operand(&s, &c->slot[1], &av) || eng_value_eq(av, fact_field(f, 1));
		if (sok && aok && c->slot[1].kind == OPD_CONST) {
			out->has_actual = true;
			out->actual = f->t.value;
			out->actual_fact = f->id;
			break;
		}
	}
	return ENG_OK;
}

/* ---- rendering conditions as rule-file text ---- */

typedef struct {
	char *buf;
	size_t size, n;
} out_buf;

static void put(out_buf *o, const char *s)
{
	for (; *s; s++, o->n++)
		if (o->n + 1 < o->size)
			o->buf[o->n] = *s;
}

static void put_value(out_buf *o, const eng *e, eng_value v)
{
	char tmp[512];
	eng_value_format(e, v, tmp, sizeof(tmp));
	put(o, tmp);
}

static void put_operand(out_buf *o, const eng *e, const ir_rule *ir, const ir_operand *x)
{
	switch (x->kind) {
	case OPD_ANY: put(o, "?"); break;
	case OPD_CONST: put_value(o, e, x->k); break;
	case OPD_VAR: put(o, "?"); put(o, ir->var_names[x->var]); break;
	case OPD_CALC: put(o, "{calc: ...}"); break;
	}
}

static const char *op_name(cmp_op op)
{
	static const char *names[] = { "'='", "'!='", "'<'", "'<='", "'>'", "'>='", "in", "not-in" };
	return names[op];
}

static void put_value_spec(out_buf *o, const eng *e, const ir_rule *ir, const ir_cond *c)
{
	if (!c->ncons) {
		put_operand(o, e, ir, &c->slot[2]);
		return;
	}
	put(o, "{");
	bool sep = false;
	if (c->slot[2].kind == OPD_VAR) {
		put(o, "as: ");
		put_operand(o, e, ir, &c->slot[2]);
		sep = true;
	}
	for (uint32_t i = 0; i < c->ncons; i++) {
		const ir_constraint *k = &c->cons[i];
		if (sep)
			put(o, ", ");
		sep = true;
		put(o, op_name(k->op));
		put(o, ": ");
		if (k->op == CMP_IN || k->op == CMP_NOT_IN) {
			put(o, "[");
			for (uint32_t j = 0; j < k->nset; j++) {
				if (j)
					put(o, ", ");
				put_value(o, e, k->set[j]);
			}
			put(o, "]");
		} else {
			put_operand(o, e, ir, &k->operand);
		}
	}
	put(o, "}");
}

int eng_rule_cond_format(const eng *e, size_t i, uint32_t c, char *buf, size_t size)
{
	out_buf o = { buf, size, 0 };
	if (size)
		buf[0] = '\0';
	const ir_rule *ir = ir_at(e, i);
	if (!ir || c >= ir->nconds)
		return 0;
	const ir_cond *cd = &ir->conds[c];
	if (cd->kind == COND_TEST) {
		put(&o, "test: \"");
		put(&o, cd->text ? cd->text : "");
		put(&o, "\"");
	} else {
		if (cd->kind == COND_NEG)
			put(&o, "not: ");
		if (cd->slot[0].kind == OPD_CONST && cd->slot[0].k.type == ENG_SYMBOL &&
		    cd->slot[0].k.u.sym == e->default_subject && cd->slot[1].kind == OPD_CONST) {
			put(&o, cd->kind == COND_NEG ? "{" : "");
			put_value(&o, e, cd->slot[1].k);
			put(&o, ": ");
			put_value_spec(&o, e, ir, cd);
			put(&o, cd->kind == COND_NEG ? "}" : "");
		} else {
			put(&o, "[");
			put_operand(&o, e, ir, &cd->slot[0]);
			put(&o, ", ");
			put_operand(&o, e, ir, &cd->slot[1]);
			put(&o, ", ");
			put_value_spec(&o, e, ir, cd);
			put(&o, "]");
		}
	}
	if (size)
		buf[o.n < size ? o.n : size - 1] = '\0';
	return (int)o.n;
}

bool eng_rule_cond_pos(const eng *e, size_t i, uint32_t c, uint32_t *line, uint32_t *col)
{
	const ir_rule *ir = ir_at(e, i);
	if (!ir || c >= ir->nconds)
		return false;
	*line = ir->conds[c].line;
	*col = ir->conds[c].col;
	return true;
}

size_t eng_rule_conclusions(const eng *e, size_t i, eng_sym *kinds, eng_value *targets,
                            size_t max)
{
	const ir_rule *ir = ir_at(e, i);
	if (!ir)
		return 0;
	size_t n = 0;
	for (uint32_t a = 0; a < ir->nacts; a++) {
		const ir_action *act = &ir->acts[a];
		if (act->kind != ACT_CONCLUDE)
			continue;
		if (n < max) {
			kinds[n] = act->concl;
			if (act->target.kind == OPD_CONST)
				targets[n] = act->target.k;
			else
				targets[n].type = ENG_NONE;
		}
		n++;
	}
	return n;
}

static void slot_view(const ir_operand *o, eng_slot_view *v)
{
	v->is_const = o->kind == OPD_CONST;
	v->k = o->kind == OPD_CONST ? o->k : (eng_value){ ENG_NONE, { 0 } };
	v->var = o->kind == OPD_VAR ? (int32_t)o->var : -1;
}

bool eng_rule_cond_get(const eng *e, size_t i, uint32_t c, eng_cond_view *out)
{
	const ir_rule *ir = ir_at(e, i);
	if (!ir || c >= ir->nconds)
		return false;
	const ir_cond *cd = &ir->conds[c];
	memset(out, 0, sizeof(*out));
	out->kind = cd->kind == COND_POS ? ENG_COND_POS : cd->kind == COND_NEG ? ENG_COND_NEG
	            : ENG_COND_TEST;
	for (int k = 0; k < 3; k++)
		slot_view(&cd->slot[k], &out->slot[k]);
	for (uint32_t k = 0; k < cd->ncons; k++)
		if (cd->cons[k].op == CMP_IN) {
			out->in = cd->cons[k].set;
			out->nin = cd->cons[k].nset;
		}
	out->line = cd->line;
	out->col = cd->col;
	return true;
}

size_t eng_rule_action_count(const eng *e, size_t i)
{
	const ir_rule *ir = ir_at(e, i);
	return ir ? ir->nacts : 0;
}

bool eng_rule_action_get(const eng *e, size_t i, uint32_t a, eng_action_view *out)
{
	const ir_rule *ir = ir_at(e, i);
	if (!ir || a >= ir->nacts)
		return false;
	const ir_action *act = &ir->acts[a];
	memset(out, 0, sizeof(*out));
	switch (act->kind) {
	case ACT_ASSERT: out->kind = ENG_ACT_ASSERT; break;
	case ACT_RETRACT: out->kind = ENG_ACT_RETRACT; break;
	case ACT_MODIFY: out->kind = ENG_ACT_MODIFY; break;
	case ACT_CONCLUDE: out->kind = ENG_ACT_CONCLUDE; break;
	case ACT_BIND: out->kind = ENG_ACT_BIND; break;
	}
	if (act->kind == ACT_BIND) {
		out->slot[0].var = (int32_t)act->var;
		out->slot[1].var = -1;
		slot_view(&act->v, &out->slot[2]);
	} else if (act->kind == ACT_CONCLUDE) {
		out->slot[0].var = out->slot[1].var = -1;
		slot_view(&act->target, &out->slot[2]);
		out->concl = act->concl;
	} else {
		slot_view(&act->s, &out->slot[0]);
		slot_view(&act->a, &out->slot[1]);
		slot_view(&act->v, &out->slot[2]);
	}
	out->line = act->line;
	out->col = act->col;
	return true;
}
