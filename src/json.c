/* SPDX-License-Identifier: MIT */
/* json.c - every JSON document mlarch writes, built with jansson. */
#include <jansson.h>
#include <string.h>

#include "json.h"

static json_t *value_json(const kb *k, eng_value v)
{
	switch (v.type) {
	case ENG_SYMBOL:
	case ENG_STRING: return json_string(eng_sym_name(k->e, v.u.sym));
	case ENG_NUMBER: return json_real(v.u.num);
	case ENG_BOOL: return json_boolean(v.u.b);
	default: return json_null();
	}
}

static json_t *cite_json(const kb *k, uint32_t rule)
{
	eng_rule_info info;
	json_t *a = json_array();
	if (a && eng_rule_get(k->e, rule, &info))
		for (uint32_t i = 0; i < info.ncite; i++)
			json_array_append_new(a, json_string(eng_sym_name(k->e, info.cite[i])));
	return a;
}

static json_t *span_json(const kb *k, const judgement *j, const q_span *s)
{
	const char *pattern = s->source == XF_ENTITY
	                      ? (s->index < k->nentities ? k->entities[s->index].id : "")
	                      : (s->index < k->nlexicon ? k->lexicon[s->index].id : "");
	json_t *o = json_object();
	json_object_set_new(o, "start", json_integer((json_int_t)s->start));
	json_object_set_new(o, "end", json_integer((json_int_t)s->end));
	json_object_set_new(o, "text", json_stringn(j->q.text + s->start, s->end - s->start));
	json_object_set_new(o, "in", s->option < 0 ? json_string("stem")
	                    : json_sprintf("%c", j->opts[s->option].letter));
	json_object_set_new(o, "pattern", json_string(pattern));
	json_object_set_new(o, "source", json_string(s->source == XF_ENTITY ? "catalog" : "lexicon"));
	json_object_set_new(o, "attribute", json_string(eng_sym_name(k->e, s->attr)));
	json_object_set_new(o, "value", value_json(k, s->value));
	return o;
}

static json_t *reason_json(const kb *k, const judgement *j, const reason *r)
{
	char because[2048];
	eng_rule_info info;
	eng_rule_get(k->e, r->rule, &info);
	reason_because(k, r, because, sizeof(because));
	json_t *o = json_object();
	json_object_set_new(o, "kind", json_string(eng_sym_name(k->e, r->kind)));
	json_object_set_new(o, "effect", json_string(r->weight > 0   ? "supports"
	                                             : r->weight < 0 ? "rules-out"
	                                                             : "needs"));
	if (r->weight == 0)
		json_object_set_new(o, "met_by", r->met_by ? json_sprintf("%c", r->met_by)
		                                           : json_null());
	json_object_set_new(o, "weight", json_real(r->weight));
	json_object_set_new(o, "target", value_json(k, r->target));
	json_object_set_new(o, "rule", json_string(info.id));
	json_object_set_new(o, "because", json_string(because));
	json_object_set_new(o, "cite", cite_json(k, r->rule));
	json_t *spans = json_array();
	for (uint32_t i = 0; i < r->nspans; i++)
		json_array_append_new(spans, span_json(k, j, &r->spans[i]));
	json_object_set_new(o, "spans", spans);
	return o;
}

static char *dump(json_t *root)
{
	char *s = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(root);
	return s;
}

static const char *verdict_name(verdict v)
{
	return v == V_CORRECT ? "correct" : v == V_WRONG ? "wrong" : "undecided";
}

char *json_judgement(const kb *k, const judgement *j)
{
	json_t *root = json_object();
	json_t *answer = json_array();
	for (uint32_t i = 0; i < j->nanswer; i++)
		json_array_append_new(answer, json_sprintf("%c", j->answer[i]));
	json_object_set_new(root, "answer", answer);
	json_object_set_new(root, "abstained", json_boolean(j->abstained));
	json_object_set_new(root, "note", json_string(j->abstained ? j->note : ""));
	json_object_set_new(root, "choose", json_integer(j->q.choose ? j->q.choose : 1));
	json_object_set_new(root, "negative", json_boolean(j->negative));
	json_object_set_new(root, "limited", json_boolean(j->limited));
	json_t *rec = json_array();
	eng_sym recommend = eng_sym_lookup(k->e, "recommend");
	for (size_t i = 0; i < j->base.n; i++) {
		const reason *r = &j->base.v[i];
		if (r->kind != recommend || (r->target.type == ENG_SYMBOL &&
		                             r->target.u.sym == k->s_option))
			continue;
		char because[2048];
		eng_rule_info info;
		eng_rule_get(k->e, r->rule, &info);
		reason_because(k, r, because, sizeof(because));
		json_t *o = json_object();
		json_object_set_new(o, "service", value_json(k, r->target));
		json_object_set_new(o, "role", r->role.type == ENG_NONE ? json_null()
		                    : value_json(k, r->role));
		json_object_set_new(o, "rule", json_string(info.id));
		json_object_set_new(o, "because", json_string(because));
		json_object_set_new(o, "cite", cite_json(k, r->rule));
		json_array_append_new(rec, o);
	}
	json_object_set_new(root, "recommend", rec);
	json_t *conclusions = json_array();
	for (size_t i = 0; i < j->base.n; i++)
		json_array_append_new(conclusions, reason_json(k, j, &j->base.v[i]));
	json_object_set_new(root, "conclusions", conclusions);
	json_t *opts = json_array();
	for (uint32_t o = 0; o < j->nopts; o++) {
		const j_option *op = &j->opts[o];
		json_t *x = json_object();
		json_object_set_new(x, "letter", json_sprintf("%c", op->letter));
		json_object_set_new(x, "text", json_stringn(j->q.text + op->start, op->end - op->start));
		json_object_set_new(x, "verdict", json_string(verdict_name(op->verdict)));
		json_object_set_new(x, "score", json_real(op->score));
		json_t *rs = json_array();
		for (size_t i = 0; i < op->why.n; i++)
			json_array_append_new(rs, reason_json(k, j, &op->why.v[i]));
		json_object_set_new(x, "reasons", rs);
		json_array_append_new(opts, x);
	}
	json_object_set_new(root, "options", opts);
	return dump(root);
}

char *json_why_not(const kb *k, const judgement *j, const why_not_report *r)
{
	json_t *root = json_object();
	json_object_set_new(root, "what", json_string(r->what));
	if (r->option >= 0) {
		const j_option *op = &j->opts[r->option];
		json_t *x = json_object();
		json_object_set_new(x, "letter", json_sprintf("%c", op->letter));
		json_object_set_new(x, "text", json_stringn(j->q.text + op->start, op->end - op->start));
		json_object_set_new(x, "verdict", json_string(verdict_name(op->verdict)));
		json_object_set_new(x, "score", json_real(op->score));
		json_object_set_new(root, "option", x);
		json_object_set_new(root, "entity", json_null());
	} else {
		json_object_set_new(root, "option", json_null());
		json_t *x = json_object();
		json_object_set_new(x, "id", json_string(r->entity->id));
		json_object_set_new(x, "name", json_string(r->entity->name ? r->entity->name
		                                                           : r->entity->id));
		json_object_set_new(x, "kind", json_string(r->entity->kind ? r->entity->kind : ""));
		json_object_set_new(root, "entity", x);
		json_t *named = json_array();
		for (const char *c = r->named_by; c && *c; c++)
			json_array_append_new(named, json_sprintf("%c", *c));
		json_object_set_new(root, "named_by", named);
	}
	json_t *against = json_array();
	for (size_t i = 0; i < r->nagainst; i++)
		json_array_append_new(against, reason_json(k, j, &r->against[i]));
	json_object_set_new(root, "against", against);
	json_t *misses = json_array();
	for (size_t i = 0; i < r->nmisses; i++) {
		const why_not_miss *m = &r->misses[i];
		eng_rule_info info;
		char cond[512];
		if (!eng_rule_get(k->e, m->rule, &info))
			continue;
		eng_rule_cond_format(k->e, m->rule, m->w.cond, cond, sizeof(cond));
		json_t *x = json_object();
		json_object_set_new(x, "rule", json_string(info.id));
		json_object_set_new(x, "file", json_string(info.file));
		json_object_set_new(x, "line", json_integer(info.line));
		json_object_set_new(x, "matched", json_integer(m->w.matched));
		json_object_set_new(x, "conditions", json_integer(info.nconds));
		json_object_set_new(x, "expected", json_string(cond));
		json_object_set_new(x, "actual", m->w.has_actual ? value_json(k, m->w.actual)
		                                                 : json_null());
		json_object_set_new(x, "because", json_string(info.because));
		json_object_set_new(x, "cite", cite_json(k, (uint32_t)m->rule));
		json_array_append_new(misses, x);
	}
	json_object_set_new(root, "near_misses", misses);
	return dump(root);
}

/* The facts X read from the question TEXT, with offsets in it. */
static json_t *xfacts_json(const kb *k, const char *text, const xfacts *x)
{
	json_t *a = json_array();
	for (size_t i = 0; i < x->n; i++) {
		const xfact *f = &x->v[i];
		json_t *o = json_object();
		if (f->subject)         /* a setting's number: the entity is the subject */
			json_object_set_new(o, "subject", json_string(eng_sym_name(k->e, f->subject)));
		json_object_set_new(o, "attribute", json_string(eng_sym_name(k->e, f->attr)));
		json_object_set_new(o, "value", value_json(k, f->value));
		json_object_set_new(o, "source", json_string(f->source == XF_ENTITY ? "catalog"
		                                                                    : "lexicon"));
		json_object_set_new(o, "pattern", json_string(f->source == XF_ENTITY
		                    ? k->entities[f->index].id : k->lexicon[f->index].id));
		json_object_set_new(o, "start", json_integer((json_int_t)(f->start)));
		json_object_set_new(o, "end", json_integer((json_int_t)(f->end)));
		json_object_set_new(o, "text", json_stringn(text + f->start, f->end - f->start));
		if (f->source == XF_ENTITY)
			json_object_set_new(o, "negated", json_boolean(f->negated));
		json_array_append_new(a, o);
	}
	return a;
}

/* The facts of X that a clause denied, each with its cue (offsets in the whole of TEXT). */
static json_t *dropped_json(const kb *k, const char *text, const xfacts *x)
{
	json_t *a = json_array();
	for (size_t i = 0; i < x->ndropped; i++) {
		const x_dropped *d = &x->dropped[i];
		json_t *o = json_object(), *cue = json_object();
		json_object_set_new(o, "attribute", json_string(eng_sym_name(k->e, d->fact.attr)));
		json_object_set_new(o, "value", value_json(k, d->fact.value));
		json_object_set_new(o, "pattern", json_string(k->lexicon[d->fact.index].id));
		json_object_set_new(o, "start", json_integer((json_int_t)(d->fact.start)));
		json_object_set_new(o, "end", json_integer((json_int_t)(d->fact.end)));
		json_object_set_new(o, "text", json_stringn(text + d->fact.start,
		                                            d->fact.end - d->fact.start));
		json_object_set_new(cue, "pattern", json_string(k->lexicon[d->cue].id));
		json_object_set_new(cue, "start", json_integer((json_int_t)(d->cue_start)));
		json_object_set_new(cue, "end", json_integer((json_int_t)(d->cue_end)));
		json_object_set_new(cue, "text", json_stringn(text + d->cue_start,
		                                              d->cue_end - d->cue_start));
		json_object_set_new(o, "denied_by", cue);
		json_array_append_new(a, o);
	}
	return a;
}

char *json_facts(const kb *k, const judgement *j)
{
	json_t *root = json_object();
	json_object_set_new(root, "stem", xfacts_json(k, j->q.text, &j->stem));
	json_object_set_new(root, "stem_denied", dropped_json(k, j->q.text, &j->stem));
	json_t *opts = json_object();
	for (uint32_t o = 0; o < j->nopts; o++) {
		char letter[2] = { j->opts[o].letter, '\0' };
		json_object_set_new(opts, letter, xfacts_json(k, j->q.text, &j->opts[o].facts));
	}
	json_object_set_new(root, "options", opts);
	return dump(root);
}

char *json_batch(const batch_row *rows, size_t n, size_t passed, size_t failed)
{
	json_t *root = json_object();
	json_object_set_new(root, "passed", json_integer((json_int_t)passed));
	json_object_set_new(root, "failed", json_integer((json_int_t)failed));
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_string(rows[i].id));
		json_object_set_new(o, "file", json_string(rows[i].file));
		json_object_set_new(o, "pass", json_boolean(rows[i].pass));
		json_object_set_new(o, "expected", json_string(rows[i].expected ? rows[i].expected : ""));
		json_object_set_new(o, "got", json_string(rows[i].got ? rows[i].got : ""));
		json_object_set_new(o, "abstained", json_boolean(rows[i].abstained));
		json_object_set_new(o, "message", rows[i].message ? json_string(rows[i].message)
		                    : json_null());
		json_object_set_new(o, "ms", json_real(rows[i].ms));
		json_object_set_new(o, "blind", json_boolean(rows[i].blind));
		json_array_append_new(a, o);
	}
	json_object_set_new(root, "scenarios", a);
	return dump(root);
}

char *json_coverage(const coverage_row *rows, size_t n)
{
	json_t *root = json_object();
	json_t *cited = json_array(), *uncited = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_string(rows[i].id));
		json_object_set_new(o, "topic", json_string(rows[i].topic ? rows[i].topic : ""));
		json_object_set_new(o, "title", json_string(rows[i].title ? rows[i].title : ""));
		if (rows[i].nrules) {
			json_t *r = json_array();
			for (size_t k = 0; k < rows[i].nrules; k++)
				json_array_append_new(r, json_string(rows[i].rules[k]));
			json_object_set_new(o, "rules", r);
			json_array_append_new(cited, o);
		} else {
			json_object_set_new(o, "reason", json_string(!rows[i].decides && rows[i].why
			                    ? rows[i].why : "no rule cites it yet"));
			json_array_append_new(uncited, o);
		}
	}
	json_object_set_new(root, "cited", cited);
	json_object_set_new(root, "uncited", uncited);
	return dump(root);
}
