/* SPDX-License-Identifier: MIT */
/*
 * judge.c - scoring options. The whole decision is the rules' conclusions; the judge only
 * adds them up: a conclusion bears on an option when its target is `option` itself or an
 * entity the option names. Weights come from the rules (`weight:`), soft kinds (prefer,
 * avoid) count half. It picks the best-scoring option(s) and abstains on no support or a
 * tie, because a guess presented as an answer is worse than "the notes do not say".
 */
#include "judge.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	eng_sym recommend, reject, require, prefer, avoid, answer, polarity, negative;
	eng_sym stated_number;
} kinds;

static void kinds_get(kb *k, kinds *s)
{
	s->recommend = eng_intern(k->e, "recommend", 9);
	s->reject = eng_intern(k->e, "reject", 6);
	s->require = eng_intern(k->e, "require", 7);
	s->prefer = eng_intern(k->e, "prefer", 6);
	s->avoid = eng_intern(k->e, "avoid", 5);
	s->answer = eng_intern(k->e, "answer", 6);
	s->polarity = eng_intern(k->e, "question.polarity", 17);
	s->negative = eng_intern(k->e, "negative", 8);
	s->stated_number = eng_intern(k->e, "stated.number", 13);
}

static eng_status reasons_add(reasons *rs, const reason *r)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		reason *v = realloc(rs->v, cap * sizeof(*v));
		if (!v)
			return ENG_ERR_NOMEM;
		rs->v = v;
		rs->cap = cap;
	}
	rs->v[rs->n++] = *r;
	return ENG_OK;
}

void reason_from(const kb *k, eng_concl_id id, const eng_conclusion *c, reason *r)
{
	eng_rule_info info;
	memset(r, 0, sizeof(*r));
	r->concl = id;
	r->rule = c->why->rule;
	r->kind = c->kind;
	r->target = c->target;
	r->role = c->role;
	r->weight = eng_rule_get(k->e, c->why->rule, &info) ? info.weight : 1;
	r->nbindings = c->why->nbindings < 32 ? c->why->nbindings : 32;
	memcpy(r->bindings, c->why->bindings, r->nbindings * sizeof(eng_value));
	r->nfacts = c->why->nfacts < 16 ? c->why->nfacts : 16;
	memcpy(r->facts, c->why->facts, r->nfacts * sizeof(eng_fact_id));
}

void reason_because(const kb *k, const reason *r, char *buf, size_t size)
{
	eng_value b[32];
	memcpy(b, r->bindings, sizeof(b));
	/* show entities by name in explanations */
	for (uint32_t i = 0; i < r->nbindings; i++) {
		const kb_entity *ent = b[i].type == ENG_SYMBOL ? kb_entity_by_sym(k, b[i].u.sym) : NULL;
		if (ent && ent->name) {
			eng_value v = eng_string(k->e, ent->name);
			if (v.type != ENG_NONE)
				b[i] = v;
		}
	}
	eng_rule_because_format(k->e, r->rule, r->nbindings ? b : NULL, buf, size);
}

const char *value_name(const kb *k, eng_value v, char *buf, size_t size)
{
	if (v.type == ENG_SYMBOL) {
		const kb_entity *ent = kb_entity_by_sym(k, v.u.sym);
		if (ent && ent->name)
			return ent->name;
		return eng_sym_name(k->e, v.u.sym);
	}
	if (v.type == ENG_STRING)
		return eng_sym_name(k->e, v.u.sym);
	eng_value_format(k->e, v, buf, size);
	return buf;
}

static eng_status assert_facts(kb *k, eng_sym subject, const xfacts *x, uint64_t kind,
                               uint64_t opt, eng_fact_id *ids)
{
	for (size_t i = 0; i < x->n; i++) {
		eng_sym s = x->v[i].subject ? x->v[i].subject : subject;
		eng_status st = eng_assert(k->e, s, x->v[i].attr, x->v[i].value,
		                           ORIGIN(kind, opt << 24 | i), &ids[i], NULL);
		if (st)
			return st;
	}
	return ENG_OK;
}

/* Whether the option now asserted, OP, uses TARGET: (option, uses, TARGET) holds, from
 * its words or from a rule, and its words do not name TARGET only in a negated clause
 * ("Glue cannot write RecordIO, so use EMR" names Glue only to deny it, so a conclusion
 * about Glue, for or against, says nothing of this option). */
static bool option_uses(kb *k, const j_option *op, eng_value target)
{
	if (target.type != ENG_SYMBOL ||
	    !eng_fact_find(k->e, k->s_option, k->s_uses, target))
		return false;
	for (size_t i = 0; i < op->facts.n; i++) {
		const xfact *x = &op->facts.v[i];
		if (x->attr == k->s_uses && eng_value_eq(x->value, target))
			return !x->negated;
	}
	return true;
}

/* What the option states in attribute ATTR (0: any attribute): whether it states V, and
 * whether it states any value of V's type there. */
static void option_states(kb *k, eng_sym attr, eng_value v, bool *same, bool *other)
{
	*same = *other = false;
	for (eng_fact_id f = eng_fact_next(k->e, 0); f; f = eng_fact_next(k->e, f)) {
		eng_triple t;
		if (!eng_fact_get(k->e, f, &t, NULL) || t.subject != k->s_option ||
		    (attr && t.attribute != attr))
			continue;
		if (eng_value_eq(t.value, v))
			*same = true;
		else if (t.value.type == v.type && attr)
			*other = true;
	}
}

/* The signed weight conclusion C adds to the option now asserted, or 0. CHOOSE is the
 * number of letters the answer takes: when it is more than one, another letter can bring
 * what a `require` asks for, so an option without it is not marked down. */
static double bearing(kb *k, const kinds *s, const eng_conclusion *c, double w,
                      uint32_t choose, const j_option *op)
{
	bool self = c->target.type == ENG_SYMBOL && c->target.u.sym == k->s_option;
	bool names = self || option_uses(k, op, c->target);
	if (c->kind == s->recommend)
		return names ? w : 0;
	if (c->kind == s->reject)
		return names ? -w : 0;
	if (c->kind == s->prefer)
		return names ? w / 2 : 0;
	if (c->kind == s->avoid)
		return names ? -w / 2 : 0;
	if (c->kind == s->require)
		return names ? w / 2 : choose > 1 ? 0 : -w;
	if (c->kind == s->answer) {
		/* `role:` names the option attribute that states the value; a number is compared
		 * with the numbers an option states (stated.number) by default. An option that
		 * states another value there is wrong; one that states nothing is not judged. */
		eng_sym attr = c->role.type == ENG_SYMBOL ? c->role.u.sym
		               : c->target.type == ENG_NUMBER ? s->stated_number : 0;
		bool same, other;
		option_states(k, attr, c->target, &same, &other);
		return same ? w : other ? -w : 0;
	}
	return 0;
}

void judge_trace(const kb *k, const judgement *j, eng_fact_id f, reason *r)
{
	/* an explicit stack: derivations can be deep, and a fact can be reached twice */
	eng_fact_id stack[256];
	uint32_t n = 0;
	stack[n++] = f;
	uint32_t visits = 0;
	while (n && visits++ < 4096) {
		eng_fact_id id = stack[--n];
		const eng_just *why = eng_fact_why(k->e, id);
		if (why) {
			for (uint32_t i = 0; i < why->nfacts && n < 256; i++)
				if (why->facts[i])
					stack[n++] = why->facts[i];
			continue;
		}
		uint64_t origin;
		eng_triple t;
		if (!eng_fact_get(k->e, id, &t, &origin))
			continue;
		const xfact *x = NULL;
		int opt = -1;
		uint64_t pay = ORIGIN_PAYLOAD(origin);
		if (ORIGIN_KIND(origin) == ORIGIN_STEM && pay < j->stem.n) {
			x = &j->stem.v[pay];
		} else if (ORIGIN_KIND(origin) == ORIGIN_OPTION) {
			uint32_t o = (uint32_t)(pay >> 24), i = (uint32_t)(pay & 0xffffff);
			if (o < j->nopts && i < j->opts[o].facts.n) {
				x = &j->opts[o].facts.v[i];
				opt = (int)o;
			}
		}
		if (!x)
			continue;
		bool seen = false;
		for (uint32_t s = 0; s < r->nspans && !seen; s++)
			seen = r->spans[s].start == x->start && r->spans[s].end == x->end &&
			       r->spans[s].attr == x->attr;
		if (seen || r->nspans == REASON_MAX_SPANS)
			continue;
		q_span *sp = &r->spans[r->nspans++];
		sp->start = x->start;
		sp->end = x->end;
		sp->source = x->source;
		sp->index = x->index;
		sp->attr = x->attr;
		sp->value = x->value;
		sp->option = opt;
	}
}

static void reason_trace(const kb *k, const judgement *j, reason *r)
{
	for (uint32_t i = 0; i < r->nfacts; i++)
		if (r->facts[i])
			judge_trace(k, j, r->facts[i], r);
}

static eng_status judge_option(kb *k, const kinds *s, judgement *j, uint32_t o)
{
	j_option *op = &j->opts[o];
	eng_fact_id *ids = calloc(op->facts.n + 1, sizeof(*ids));
	if (!ids)
		return ENG_ERR_NOMEM;
	eng_status st = assert_facts(k, k->s_option, &op->facts, ORIGIN_OPTION, o, ids);
	if (!st)
		st = eng_run(k->e, NULL);
	for (eng_concl_id c = st ? 0 : eng_concl_next(k->e, 0); c; c = eng_concl_next(k->e, c)) {
		eng_conclusion cc;
		if (!eng_concl_get(k->e, c, &cc))
			continue;
		reason r;
		reason_from(k, c, &cc, &r);
		double w = bearing(k, s, &cc, r.weight, j->q.choose, op);
		if (w == 0 && cc.kind == s->require && j->q.choose > 1) {
			/* left to another letter: kept to say which one brings it, if chosen */
			r.weight = 0;
			bool kept = false;
			for (size_t i = 0; i < op->needs.n && !kept; i++)
				kept = op->needs.v[i].rule == r.rule &&
				       eng_value_eq(op->needs.v[i].target, r.target);
			if (kept)
				continue;
			reason_trace(k, j, &r);
			if ((st = reasons_add(&op->needs, &r)))
				break;
			continue;
		}
		if (w == 0)
			continue;
		/* a rule gives one opinion of an option, however many of its matches bear on it */
		bool counted = false;
		for (size_t i = 0; i < op->why.n && !counted; i++)
			counted = op->why.v[i].rule == r.rule && op->why.v[i].kind == r.kind;
		if (counted)
			continue;
		r.weight = w;
		op->score += w;
		reason_trace(k, j, &r);
		if ((st = reasons_add(&op->why, &r)))
			break;
	}
	/* what it uses, for needs_met: only a choose-N answer leaves a need to another letter */
	op->nuses = 0;
	for (eng_fact_id f = j->q.choose > 1 ? eng_fact_next(k->e, 0) : 0;
	     f && op->nuses < J_MAX_USES; f = eng_fact_next(k->e, f)) {
		eng_triple t;
		if (eng_fact_get(k->e, f, &t, NULL) && t.subject == k->s_option &&
		    t.attribute == k->s_uses && option_uses(k, op, t.value))
			op->uses[op->nuses++] = t.value;
	}
	for (size_t i = op->facts.n; i-- > 0;)
		if (ids[i] && eng_fact_get(k->e, ids[i], NULL, NULL))
			eng_retract(k->e, ids[i]);
	free(ids);
	return st;
}

static int by_score(const void *a, const void *b, const judgement *j)
{
	double x = j->opts[*(const uint32_t *)a].score, y = j->opts[*(const uint32_t *)b].score;
	if (j->negative) {
		x = -x;
		y = -y;
	}
	if (x != y)
		return x > y ? -1 : 1;
	return (int)*(const uint32_t *)a - (int)*(const uint32_t *)b;
}

/* The first entity option O names that no note describes (a catalog entry without
 * `cite`), or NULL. */
static const kb_entity *undescribed(const kb *k, const j_option *o)
{
	for (size_t i = 0; i < o->facts.n; i++) {
		const xfact *f = &o->facts.v[i];
		if (f->source == XF_ENTITY && f->index < k->nentities &&
		    k->entities[f->index].ncite == 0)
			return &k->entities[f->index];
	}
	return NULL;
}

static void decide(const kb *k, judgement *j)
{
	uint32_t order[Q_MAX_OPTIONS];
	for (uint32_t i = 0; i < j->nopts; i++)
		order[i] = i;
	/* insertion sort: at most eight options */
	for (uint32_t i = 1; i < j->nopts; i++)
		for (uint32_t m = i; m > 0 && by_score(&order[m - 1], &order[m], j) > 0; m--) {
			uint32_t t = order[m];
			order[m] = order[m - 1];
			order[m - 1] = t;
		}
	uint32_t want = j->q.choose ? j->q.choose : 1;
	double sign = j->negative ? -1 : 1;
	j->abstained = true;
	if (j->nopts == 0) {
		snprintf(j->note, sizeof(j->note), "the question has no lettered options");
	} else if (want > j->nopts) {
		snprintf(j->note, sizeof(j->note), "it asks for %u answers but has %u options",
		         want, j->nopts);
	} else {
		double kth = sign * j->opts[order[want - 1]].score;
		double next = want < j->nopts ? sign * j->opts[order[want]].score : -INFINITY;
		bool support = false;
		for (uint32_t i = 0; i < j->nopts; i++)
			support = support || j->opts[i].why.n > 0;
		if (!support)
			snprintf(j->note, sizeof(j->note),
			         "no rule bears on any option: the notes do not decide this");
		else if (kth <= next)
			snprintf(j->note, sizeof(j->note),
			         "options tie at score %g: the notes do not separate them",
			         j->opts[order[want - 1]].score);
		else if (kth <= 0 && next >= 0)
			snprintf(j->note, sizeof(j->note),
			         "no option has positive support from the notes");
		else
			j->abstained = false;
		/* Left standing only because the others are ruled out, an option naming what the
		 * notes never describe is not an answer the notes give: they say nothing of it. */
		for (uint32_t i = 0; i < want && !j->abstained; i++) {
			const j_option *op = &j->opts[order[i]];
			if (sign * op->score > 0)
				continue;
			const kb_entity *ent = undescribed(k, op);
			if (ent || op->facts.n == 0)
				j->abstained = true;
			if (ent)
				snprintf(j->note, sizeof(j->note),
				         "the notes rule out the other options but say nothing of %s, "
				         "which %c names", ent->name ? ent->name : ent->id, op->letter);
			else if (op->facts.n == 0)
				snprintf(j->note, sizeof(j->note),
				         "the notes rule out the other options but nothing in %c is "
				         "something they describe", op->letter);
		}
	}
	j->nanswer = 0;
	if (!j->abstained) {
		char letters[Q_MAX_OPTIONS];
		for (uint32_t i = 0; i < want; i++)
			letters[i] = j->opts[order[i]].letter;
		/* letters in alphabetical order */
		for (uint32_t i = 1; i < want; i++)
			for (uint32_t m = i; m > 0 && letters[m - 1] > letters[m]; m--) {
				char t = letters[m];
				letters[m] = letters[m - 1];
				letters[m - 1] = t;
			}
		memcpy(j->answer, letters, want);
		j->nanswer = want;
	}
	j->answer[j->nanswer] = '\0';
	for (uint32_t i = 0; i < j->nopts; i++) {
		j_option *op = &j->opts[i];
		bool chosen = memchr(j->answer, op->letter, j->nanswer) != NULL;
		bool against = false;
		for (size_t r = 0; r < op->why.n; r++)
			against = against || op->why.v[r].weight * sign < 0;
		if (chosen)
			op->verdict = V_CORRECT;
		else if (against || (!j->abstained && sign * op->score < sign *
		                     j->opts[order[want - 1]].score))
			op->verdict = V_WRONG;
		else
			op->verdict = V_UNDECIDED;
	}
}

/* Whether option P of J uses V while judged. */
static bool brings(const j_option *p, eng_value v)
{
	for (uint32_t u = 0; u < p->nuses; u++)
		if (eng_value_eq(p->uses[u], v))
			return true;
	return false;
}

/* A choose-N answer: each chosen option's requires that it left to another letter join its
 * reasons (weight 0), each with the chosen letter that brings its target. A rule that
 * accepts one of several targets is met when any is brought: only the brought ones are
 * shown; when none is, each is shown unmet (met_by '\0'), so a reader sees that the chosen
 * set leaves the rule's need open. */
static eng_status needs_met(judgement *j)
{
	eng_status st = ENG_OK;
	for (uint32_t o = 0; o < j->nopts && !st; o++) {
		j_option *op = &j->opts[o];
		if (op->verdict != V_CORRECT)   /* decide(): correct is chosen */
			continue;
		for (size_t i = 0; i < op->needs.n; i++) {
			reason *n = &op->needs.v[i];
			n->met_by = 0;
			for (uint32_t p = 0; p < j->nopts && !n->met_by; p++)
				if (p != o && j->opts[p].verdict == V_CORRECT &&
				    brings(&j->opts[p], n->target))
					n->met_by = j->opts[p].letter;
		}
		for (size_t i = 0; i < op->needs.n && !st; i++) {
			const reason *n = &op->needs.v[i];
			bool rule_met = false;
			for (size_t m = 0; m < op->needs.n && !rule_met; m++)
				rule_met = op->needs.v[m].rule == n->rule && op->needs.v[m].met_by;
			if (n->met_by || !rule_met)
				st = reasons_add(&op->why, n);
		}
	}
	return st;
}

/* How many letters J's question asks for, as the number rules read in question.choose. */
static eng_value choose_value(const judgement *j)
{
	return eng_number(j->q.choose ? j->q.choose : 1);
}

/* Builds the network for the facts of J's question (k->one_question): its stem's and
 * options' facts, and k->also_uses. */
static eng_status judge_build(kb *k, const judgement *j)
{
	size_t n = j->stem.n + 2;
	for (uint32_t o = 0; o < j->nopts; o++)
		n += j->opts[o].facts.n;
	eng_input *in = malloc(n * sizeof(*in));
	if (!in)
		return ENG_ERR_NOMEM;
	n = 0;
	for (size_t i = 0; i < j->stem.n; i++)
		in[n++] = (eng_input){ j->stem.v[i].attr, j->stem.v[i].value };
	for (uint32_t o = 0; o < j->nopts; o++)
		for (size_t i = 0; i < j->opts[o].facts.n; i++)
			in[n++] = (eng_input){ j->opts[o].facts.v[i].attr, j->opts[o].facts.v[i].value };
	in[n++] = (eng_input){ k->s_question_choose, choose_value(j) };
	if (k->also_uses) {
		eng_value v = { ENG_SYMBOL, { 0 } };
		v.u.sym = k->also_uses;
		in[n++] = (eng_input){ k->s_uses, v };
	}
	eng_clear(k->e);
	eng_status st = eng_rules_build_for(k->e, in, n);
	free(in);
	k->one_question = false;        /* built once: another question has no rules to add */
	return st;
}

/* The row of a table in Q's stem whose label the option text Q->text[START..END) is, but for
 * case and a closing full stop ("C. shelf-products" names the row labelled
 * "shelf-products"), or NULL. */
static const q_table_row *named_row(const question *q, size_t start, size_t end)
{
	if (end > start && q->text[end - 1] == '.')
		end--;
	for (uint32_t r = 0; r < q->nrows; r++) {
		const q_table_row *row = &q->rows[r];
		size_t n = row->label_end - row->label_start, i = 0;
		if (n != end - start || !n)
			continue;
		while (i < n && tolower((unsigned char)q->text[start + i]) ==
		                tolower((unsigned char)q->text[row->label_start + i]))
			i++;
		if (i == n)
			return row;
	}
	return NULL;
}

eng_status judge_question(kb *k, question *q, judgement *j)
{
	memset(j, 0, sizeof(*j));
	j->q = *q;
	memset(q, 0, sizeof(*q));
	kinds s;
	kinds_get(k, &s);
	/* every fact of the question first: the network is built for them (judge_build) */
	eng_status st = extract(k, j->q.text, j->q.stem_end, LEX_STEM, k->s_mentions, &j->stem);
	if (st)
		return st;
	j->limited = j->stem.nlimits > 0;
	j->nopts = j->q.nopts;
	for (uint32_t o = 0; o < j->nopts; o++) {
		j_option *op = &j->opts[o];
		op->letter = j->q.opts[o].letter;
		op->start = j->q.opts[o].start;
		op->end = j->q.opts[o].end;
		st = extract(k, j->q.text + op->start, op->end - op->start, LEX_OPTION, k->s_uses,
		             &op->facts);
		if (st)
			return st;
		xfacts_move(&op->facts, op->start);
		const q_table_row *row = named_row(&j->q, op->start, op->end);
		if (row && (st = extract_entities_at(k, j->q.text, row->start, row->end, k->s_uses,
		                                     &op->facts)))
			return st;
		j->limited = j->limited || op->facts.nlimits;
	}
	if ((k->one_question && (st = judge_build(k, j))) || (st = eng_reset(k->e)))
		return st;
	eng_fact_id *ids = calloc(j->stem.n + 1, sizeof(*ids));
	if (!ids)
		return ENG_ERR_NOMEM;
	st = assert_facts(k, k->s_scenario, &j->stem, ORIGIN_STEM, 0, ids);
	free(ids);
	/* the letters asked for, from the question reader ("(Choose two.)"): no words of its
	 * own to trace, so its payload is past the stem's facts */
	if (!st)
		st = eng_assert(k->e, k->s_scenario, k->s_question_choose, choose_value(j),
		                ORIGIN(ORIGIN_STEM, j->stem.n), NULL, NULL);
	if (st || (st = eng_run(k->e, NULL)))
		return st;
	eng_value neg = { ENG_SYMBOL, { 0 } };
	neg.u.sym = s.negative;
	j->negative = eng_fact_find(k->e, k->s_scenario, s.polarity, neg) != 0;
	for (eng_concl_id c = eng_concl_next(k->e, 0); c; c = eng_concl_next(k->e, c)) {
		eng_conclusion cc;
		reason r;
		if (!eng_concl_get(k->e, c, &cc))
			continue;
		reason_from(k, c, &cc, &r);
		reason_trace(k, j, &r);
		if ((st = reasons_add(&j->base, &r)))
			return st;
	}
	for (uint32_t o = 0; o < j->nopts; o++)
		if ((st = judge_option(k, &s, j, o)))
			return st;
	decide(k, j);
	return needs_met(j);
}

eng_status judge_option_enter(kb *k, judgement *j, uint32_t o, eng_fact_id **ids)
{
	j_option *op = &j->opts[o];
	*ids = calloc(op->facts.n + 1, sizeof(**ids));
	if (!*ids)
		return ENG_ERR_NOMEM;
	eng_status st = assert_facts(k, k->s_option, &op->facts, ORIGIN_OPTION, o, *ids);
	if (!st)
		st = eng_run(k->e, NULL);
	return st;
}

void judge_option_leave(kb *k, judgement *j, uint32_t o, eng_fact_id *ids)
{
	/* IDS is NULL when judge_option_enter ran out of memory */
	for (size_t i = ids ? j->opts[o].facts.n : 0; i-- > 0;)
		if (ids[i] && eng_fact_get(k->e, ids[i], NULL, NULL))
			eng_retract(k->e, ids[i]);
	free(ids);
}

bool judge_limit_describe(const kb *k, const judgement *j, size_t i, char *buf, size_t size)
{
	const xfacts *x = &j->stem;
	uint32_t o = 0;
	const char *where = "the stem";
	char opt[16];
	while (i >= (x->nlimits < X_LIMITS_KEPT ? x->nlimits : X_LIMITS_KEPT)) {
		i -= x->nlimits < X_LIMITS_KEPT ? x->nlimits : X_LIMITS_KEPT;
		if (o >= j->nopts)
			return false;
		snprintf(opt, sizeof(opt), "option %c", j->opts[o].letter);
		where = opt;
		x = &j->opts[o++].facts;
	}
	char what[400];
	x_limit_describe(k, &x->limits[i], what, sizeof(what));
	uint32_t more = i + 1 == X_LIMITS_KEPT ? x->nlimits - X_LIMITS_KEPT : 0;
	char tail[64] = "";
	if (more)
		snprintf(tail, sizeof(tail), " (%u more patterns did too)", more);
	snprintf(buf, size, "on %s, %s; facts may be missing%s", where, what, tail);
	return true;
}

void judgement_free(judgement *j)
{
	question_free(&j->q);
	xfacts_free(&j->stem);
	free(j->base.v);
	for (uint32_t o = 0; o < Q_MAX_OPTIONS; o++) {
		xfacts_free(&j->opts[o].facts);
		free(j->opts[o].why.v);
		free(j->opts[o].needs.v);
	}
	memset(j, 0, sizeof(*j));
}
