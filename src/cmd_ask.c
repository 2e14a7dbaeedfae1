/* SPDX-License-Identifier: MIT */
/*
 * cmd_ask.c - the question commands: ask, why-not, explain, facts. Each reads a question,
 * judges it, and prints what was asked for, as text or JSON.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "json.h"

/* ---- shared: load, read, judge ---- */

typedef struct {
	kb *k;
	bool borrowed;          /* k is o->kb, loaded once by the prompt */
	judgement j;
	bool judged;
} session;

/* The catalog entity named WHAT (its id, or its name in any case), or NULL. */
static const kb_entity *entity_named(const kb *k, const char *what)
{
	const kb_entity *ent = kb_entity_find(k, what);
	for (uint32_t i = 0; !ent && i < k->nentities; i++)
		if (k->entities[i].name && !strcasecmp(k->entities[i].name, what))
			ent = &k->entities[i];
	return ent;
}

/* Reads and judges the question of ARGV into S; returns an exit code, after a message
 * when it is not EXIT_OK. session_close frees S in either case. SERVICE (may be NULL):
 * a catalog entity that why-not will assert the use of. */
static int session_open(cli_opts *o, int argc, char **argv, const char *service, session *s)
{
	int code = EXIT_OK;
	memset(s, 0, sizeof(*s));
	size_t len;
	const char *name;
	char *raw = cli_read_question(o, argc, argv, &len, &name, &code);
	if (!raw)
		return code;
	question q;
	bool ok = cli_parse_question(o, name, raw, len, &q);
	free(raw);
	if (!ok)
		return EXIT_INPUT;
	s->borrowed = o->kb != NULL;
	if (!(s->k = s->borrowed ? o->kb : cli_kb_load(o, &code))) {
		question_free(&q);
		return code;
	}
	if (!s->borrowed) {
		/* one question: the network only needs what it can fire */
		const kb_entity *ent = service ? entity_named(s->k, service) : NULL;
		s->k->one_question = true;
		s->k->also_uses = ent ? ent->sym : 0;
	}
	eng_status st = judge_question(s->k, &q, &s->j);
	s->judged = true;
	if (st) {
		fprintf(stderr, "%s: %s%s%s\n", o->prog, eng_status_str(st),
		        *eng_error(s->k->e) ? ": " : "", eng_error(s->k->e));
		return st == ENG_ERR_NOMEM ? EXIT_NOMEM : EXIT_RUN;
	}
	char line[600];
	for (size_t i = 0; judge_limit_describe(s->k, &s->j, i, line, sizeof(line)); i++)
		fprintf(stderr, "%s: warning: %s\n", name, line);
	return EXIT_OK;
}

static void session_close(session *s)
{
	if (s->judged)
		judgement_free(&s->j);
	if (!s->borrowed)
		kb_free(s->k);
}

static int print_json(const cli_opts *o, char *doc)
{
	if (!doc) {
		fprintf(stderr, "%s: out of memory writing JSON\n", o->prog);
		return EXIT_NOMEM;
	}
	puts(doc);
	free(doc);
	return EXIT_OK;
}

/* Prints TEXT[0..LEN) on one line: newlines and runs of spaces folded, cut at MAX bytes
 * (on a UTF-8 boundary) with "...". */
static void put_oneline(FILE *fp, const char *text, size_t len, size_t max)
{
	size_t out = 0;
	bool space = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n' || c == ' ' || c == '\t') {
			space = out > 0;
			continue;
		}
		if (out >= max && (c & 0xc0) != 0x80) {
			fputs("...", fp);
			return;
		}
		if (space) {
			fputc(' ', fp);
			out++;
			space = false;
		}
		fputc(c, fp);
		out++;
	}
}

static void print_cites(const session *s, uint32_t rule, FILE *fp)
{
	eng_rule_info info;
	if (!eng_rule_get(s->k->e, rule, &info))
		return;
	fputs("[", fp);
	for (uint32_t i = 0; i < info.ncite; i++)
		fprintf(fp, "%s%s", i ? ", " : "", eng_sym_name(s->k->e, info.cite[i]));
	fputs("]", fp);
}

static void print_spans(const cli_opts *o, const session *s, const reason *r, FILE *fp,
                        const char *indent)
{
	if (!r->nspans)
		return;
	fprintf(fp, "%s%sfrom:%s ", indent, clr(o, "dim"), clr(o, "reset"));
	for (uint32_t i = 0; i < r->nspans; i++) {
		const q_span *sp = &r->spans[i];
		/* one span that gave several facts (a pattern's captures) is quoted once */
		bool quoted = false;
		for (uint32_t p = 0; p < i && !quoted; p++)
			quoted = r->spans[p].start == sp->start && r->spans[p].end == sp->end;
		if (quoted)
			continue;
		fprintf(fp, "%s\"", i ? ", " : "");
		put_oneline(fp, s->j.q.text + sp->start, sp->end - sp->start, 60);
		fputc('"', fp);
		if (sp->option >= 0)
			fprintf(fp, " (%c)", s->j.opts[sp->option].letter);
	}
	fputc('\n', fp);
}

static void print_reason(const cli_opts *o, const session *s, const reason *r, FILE *fp)
{
	char because[2048];
	eng_rule_info info;
	eng_rule_get(s->k->e, r->rule, &info);
	reason_because(s->k, r, because, sizeof(because));
	bool pro = r->weight > 0;
	if (r->weight == 0 && r->met_by)  /* a require this chosen option leaves to another */
		fprintf(fp, "     %s= needs, which %c brings:%s %s ", clr(o, "cyan"), r->met_by,
		        clr(o, "reset"), because);
	else if (r->weight == 0)
		fprintf(fp, "     %s! needs, which no other chosen option brings:%s %s ",
		        clr(o, "yellow"), clr(o, "reset"), because);
	else
		fprintf(fp, "     %s%s%s %s ", pro ? clr(o, "green") : clr(o, "red"),
		        pro ? "+ supports:" : "- rules out:", clr(o, "reset"), because);
	fprintf(fp, "%s(%s ", clr(o, "dim"), info.id);
	print_cites(s, r->rule, fp);
	fprintf(fp, ")%s\n", clr(o, "reset"));
	print_spans(o, s, r, fp, "       ");
}

static const char *verdict_word(verdict v)
{
	return v == V_CORRECT ? "correct" : v == V_WRONG ? "wrong" : "undecided";
}

/* The first sentence of the strongest supporting reason of option O, for the answer line. */
static void summary(const session *s, uint32_t o, char *buf, size_t size)
{
	const reason *best = NULL;
	for (size_t i = 0; i < s->j.opts[o].why.n; i++) {
		const reason *r = &s->j.opts[o].why.v[i];
		if ((s->j.negative ? -r->weight : r->weight) > 0 &&
		    (!best || fabs(r->weight) > fabs(best->weight)))
			best = r;
	}
	if (!best) {
		snprintf(buf, size, "the notes rule out every other option");
		return;
	}
	reason_because(s->k, best, buf, size);
	char *dot = strstr(buf, ". ");
	if (dot)
		dot[1] = '\0';
}

static void print_answer(const cli_opts *o, const session *s, FILE *fp)
{
	const judgement *j = &s->j;
	if (j->abstained) {
		fprintf(fp, "%sAnswer: none%s — %s\n", clr(o, "bold"), clr(o, "reset"), j->note);
	} else {
		char sum[2048] = "";
		for (uint32_t i = 0; i < j->nopts; i++)
			if (j->opts[i].letter == j->answer[0])
				summary(s, i, sum, sizeof(sum));
		fprintf(fp, "%sAnswer: ", clr(o, "bold"));
		for (uint32_t i = 0; i < j->nanswer; i++)
			fprintf(fp, "%s%c", i ? ", " : "", j->answer[i]);
		fprintf(fp, "%s — %s\n", clr(o, "reset"), sum);
	}
	if (j->negative)
		fprintf(fp, "(the question asks which option is NOT right: the answer is the option "
		        "the notes rule out)\n");
	for (uint32_t i = 0; i < j->nopts; i++) {
		const j_option *op = &j->opts[i];
		const char *c = op->verdict == V_CORRECT ? clr(o, "green")
		                : op->verdict == V_WRONG ? clr(o, "red") : clr(o, "yellow");
		fprintf(fp, "\n  %c. ", op->letter);
		put_oneline(fp, j->q.text + op->start, op->end - op->start, 90);
		fprintf(fp, "\n     %s%s%s (score %+g)\n", c, verdict_word(op->verdict),
		        clr(o, "reset"), op->score);
		for (size_t r = 0; r < op->why.n; r++)
			print_reason(o, s, &op->why.v[r], fp);
	}
	bool header = false;
	eng_sym recommend = eng_sym_lookup(s->k->e, "recommend");
	for (size_t i = 0; i < j->base.n; i++) {
		const reason *r = &j->base.v[i];
		if (r->kind != recommend || (r->target.type == ENG_SYMBOL &&
		                             r->target.u.sym == s->k->s_option))
			continue;
		if (!header)
			fprintf(fp, "\nRecommended for this scenario:\n");
		header = true;
		char name[256], because[2048];
		eng_rule_info info;
		eng_rule_get(s->k->e, r->rule, &info);
		reason_because(s->k, r, because, sizeof(because));
		fprintf(fp, "  - %s%s%s", clr(o, "bold"), value_name(s->k, r->target, name,
		        sizeof(name)), clr(o, "reset"));
		if (r->role.type != ENG_NONE)
			fprintf(fp, " (%s)", value_name(s->k, r->role, name, sizeof(name)));
		fprintf(fp, ": %s %s(%s ", because, clr(o, "dim"), info.id);
		print_cites(s, r->rule, fp);
		fprintf(fp, ")%s\n", clr(o, "reset"));
	}
}

int cmd_ask(cli_opts *o, int argc, char **argv)
{
	session s;
	int code = session_open(o, argc, argv, NULL, &s);
	if (code == EXIT_OK) {
		if (o->json)
			code = print_json(o, json_judgement(s.k, &s.j));
		else
			print_answer(o, &s, stdout);
	}
	session_close(&s);
	return code;
}

/* ---- why-not ---- */

#define MAX_MISSES 6

/* Adds to M (at most MAX_MISSES, most conditions matched first, no rule twice) the rules
 * that could have concluded in favour of TARGET (an entity, or `option`) and did not. */
static void misses_collect(const session *s, eng_value target, why_not_miss *m, size_t *n)
{
	eng *e = s->k->e;
	eng_sym good[3] = { eng_sym_lookup(e, "recommend"), eng_sym_lookup(e, "prefer"),
	                    eng_sym_lookup(e, "require") };
	for (size_t i = 0; i < eng_rule_count(e); i++) {
		eng_sym kinds[8];
		eng_value targets[8];
		size_t nc = eng_rule_conclusions(e, i, kinds, targets, 8);
		bool relevant = false;
		for (size_t c = 0; c < nc && c < 8; c++)
			relevant = relevant || ((kinds[c] == good[0] || kinds[c] == good[1] ||
			                         kinds[c] == good[2]) && eng_value_eq(targets[c], target));
		bool seen = false;
		for (size_t k = 0; k < *n && !seen; k++)
			seen = m[k].rule == i;
		if (!relevant || seen)
			continue;
		why_not_miss x = { i, { 0 } };
		if (eng_rule_whynot(e, i, &x.w) != ENG_OK || x.w.fired)
			continue;
		size_t at;
		if (*n < MAX_MISSES)
			at = (*n)++;
		else if (x.w.matched > m[MAX_MISSES - 1].w.matched)
			at = MAX_MISSES - 1;
		else
			continue;
		m[at] = x;
		for (; at > 0 && m[at].w.matched > m[at - 1].w.matched; at--) {
			why_not_miss t = m[at];
			m[at] = m[at - 1];
			m[at - 1] = t;
		}
	}
}

static void misses_print(const cli_opts *o, const session *s, const why_not_miss *m, size_t n,
                         FILE *fp)
{
	eng *e = s->k->e;
	if (!n)
		return;
	fprintf(fp, "\nNear misses (rules that would have supported it):\n");
	for (size_t i = 0; i < n; i++) {
		eng_rule_info info;
		char cond[512], val[256];
		eng_rule_get(e, m[i].rule, &info);
		eng_rule_cond_format(e, m[i].rule, m[i].w.cond, cond, sizeof(cond));
		fprintf(fp, "  - %s%s%s (%s:%u) ", clr(o, "bold"), info.id, clr(o, "reset"),
		        info.file, info.line);
		fprintf(fp, "matched %u of %u conditions; it needs `%s`", m[i].w.matched,
		        info.nconds, cond);
		if (m[i].w.has_actual)
			fprintf(fp, ", but the question gives `%s`",
			        value_name(s->k, m[i].w.actual, val, sizeof(val)));
		else
			fprintf(fp, ", and nothing in the question gives it");
		fprintf(fp, "\n      %s ", info.because);
		print_cites(s, m[i].rule, fp);
		fputc('\n', fp);
	}
}

/* Prints R (text or JSON) and frees what it holds. */
static int why_not_report_print(const cli_opts *o, session *s, why_not_report *r)
{
	int code = EXIT_OK;
	if (o->json) {
		code = print_json(o, json_why_not(s->k, &s->j, r));
	} else {
		for (size_t i = 0; i < r->nagainst; i++)
			print_reason(o, s, &r->against[i], stdout);
		if (!r->nagainst)
			printf("   No rule of the notes rules out %s here.\n", r->what);
		misses_print(o, s, r->misses, r->nmisses, stdout);
	}
	free(r->against);
	return code;
}

static int why_not_option(cli_opts *o, session *s, uint32_t opt)
{
	j_option *op = &s->j.opts[opt];
	why_not_miss misses[MAX_MISSES];
	char what[2] = { op->letter, '\0' };
	why_not_report r = { .what = what, .option = (int)opt, .named_by = "", .misses = misses };
	r.against = calloc(op->why.n + 1, sizeof(reason));
	if (!r.against) {
		fprintf(stderr, "%s: out of memory\n", o->prog);
		return EXIT_NOMEM;
	}
	for (size_t i = 0; i < op->why.n; i++)
		if ((s->j.negative ? -op->why.v[i].weight : op->why.v[i].weight) < 0)
			r.against[r.nagainst++] = op->why.v[i];
	/* near misses are looked for with the option's facts in working memory */
	eng_fact_id *ids;
	eng_status st = judge_option_enter(s->k, &s->j, opt, &ids);
	if (st == ENG_OK) {
		eng_value self = { ENG_SYMBOL, { 0 } };
		self.u.sym = s->k->s_option;
		misses_collect(s, self, misses, &r.nmisses);
		for (size_t i = 0; i < op->facts.n; i++)
			if (op->facts.v[i].source == XF_ENTITY)
				misses_collect(s, op->facts.v[i].value, misses, &r.nmisses);
	}
	if (ids)
		judge_option_leave(s->k, &s->j, opt, ids);
	if (st) {
		free(r.against);
		fprintf(stderr, "%s: %s\n", o->prog, eng_status_str(st));
		return st == ENG_ERR_NOMEM ? EXIT_NOMEM : EXIT_RUN;
	}
	if (!o->json) {
		printf("%c. ", op->letter);
		put_oneline(stdout, s->j.q.text + op->start, op->end - op->start, 100);
		printf("\n   %s (score %+g)\n", verdict_word(op->verdict), op->score);
	}
	return why_not_report_print(o, s, &r);
}

/* The reason conclusion C gives, with weight W and the question's words behind it. */
static void reason_of(const session *s, eng_concl_id id, const eng_conclusion *c, double w,
                      reason *r)
{
	reason_from(s->k, id, c, r);
	r->weight = w;
	for (uint32_t i = 0; i < r->nfacts; i++)
		if (r->facts[i])
			judge_trace(s->k, &s->j, r->facts[i], r);
}

/* Why entity ENT is wrong here: the judge is asked about an option that would use it
 * (what an option naming it gives), so rules against such an option fire, as do rules
 * against the entity itself and requirements it does not meet. */
static int why_not_entity(cli_opts *o, session *s, const kb_entity *ent)
{
	eng *e = s->k->e;
	eng_value v = { ENG_SYMBOL, { 0 } };
	v.u.sym = ent->sym;
	why_not_miss misses[MAX_MISSES];
	why_not_report r = { .what = ent->id, .option = -1, .entity = ent, .misses = misses };
	char named[Q_MAX_OPTIONS + 1] = "";
	size_t nn = 0;
	for (uint32_t i = 0; i < s->j.nopts; i++)
		for (size_t f = 0; f < s->j.opts[i].facts.n; f++)
			if (s->j.opts[i].facts.v[f].source == XF_ENTITY &&
			    eng_value_eq(s->j.opts[i].facts.v[f].value, v) &&
			    !memchr(named, s->j.opts[i].letter, nn))
				named[nn++] = s->j.opts[i].letter;
	r.named_by = named;
	eng_fact_id fact = 0;
	bool added = false;
	eng_status st = eng_assert(e, s->k->s_option, s->k->s_uses, v, 0, &fact, &added);
	if (!st)
		st = eng_run(e, NULL);
	eng_sym reject = eng_sym_lookup(e, "reject"), avoid = eng_sym_lookup(e, "avoid"),
	        require = eng_sym_lookup(e, "require");
	size_t cap = 0;
	for (eng_concl_id c = st ? 0 : eng_concl_next(e, 0); c; c = eng_concl_next(e, c)) {
		eng_conclusion cc;
		eng_rule_info info;
		if (!eng_concl_get(e, c, &cc) || !eng_rule_get(e, cc.why->rule, &info))
			continue;
		bool names = eng_value_eq(cc.target, v) || (cc.target.type == ENG_SYMBOL &&
		                                             cc.target.u.sym == s->k->s_option);
		double w = cc.kind == reject && names ? -info.weight
		           : cc.kind == avoid && names ? -info.weight / 2
		           : cc.kind == require && !names ? -info.weight : 0;
		if (w >= 0)
			continue;
		if (r.nagainst == cap) {
			cap = cap ? cap * 2 : 8;
			reason *nv = realloc(r.against, cap * sizeof(reason));
			if (!nv) {
				st = ENG_ERR_NOMEM;
				break;
			}
			r.against = nv;
		}
		reason_of(s, c, &cc, w, &r.against[r.nagainst++]);
	}
	if (!st)
		misses_collect(s, v, misses, &r.nmisses);
	if (added)
		eng_retract(e, fact);
	if (st) {
		free(r.against);
		fprintf(stderr, "%s: %s%s%s\n", o->prog, eng_status_str(st),
		        *eng_error(e) ? ": " : "", eng_error(e));
		return st == ENG_ERR_NOMEM ? EXIT_NOMEM : EXIT_RUN;
	}
	if (!o->json) {
		printf("%s (%s)", ent->name ? ent->name : ent->id, ent->id);
		if (nn)
			for (size_t i = 0; i < nn; i++)
				printf("%s%c", i ? ", " : ", named by option ", named[i]);
		else
			printf(", named by no option");
		printf("; judged as an option that uses it:\n");
	}
	return why_not_report_print(o, s, &r);
}

int cmd_why_not(cli_opts *o, int argc, char **argv)
{
	if (argc < 1) {
		cli_usage_error(o, "why-not needs an option letter or an entity id");
		return EXIT_USAGE;
	}
	const char *what = argv[0];
	session s;
	int code = session_open(o, argc - 1, argv + 1, what, &s);
	if (code != EXIT_OK) {
		session_close(&s);
		return code;
	}
	if (strlen(what) == 1 && isalpha((unsigned char)what[0])) {
		char letter = (char)toupper((unsigned char)what[0]);
		for (uint32_t i = 0; i < s.j.nopts; i++)
			if (s.j.opts[i].letter == letter) {
				code = why_not_option(o, &s, i);
				session_close(&s);
				return code;
			}
		fprintf(stderr, "%s: the question has no option %c\n", o->prog, letter);
		session_close(&s);
		return EXIT_USAGE;
	}
	const kb_entity *ent = entity_named(s.k, what);
	if (!ent) {
		fprintf(stderr, "%s: '%s' is neither an option letter nor a catalog entity "
		        "(ids look like kinesis-data-firehose)\n", o->prog, what);
		session_close(&s);
		return EXIT_USAGE;
	}
	code = why_not_entity(o, &s, ent);
	session_close(&s);
	return code;
}

/* ---- explain ---- */

typedef struct {
	const cli_opts *o;
	session *s;
	FILE *fp;
	bool dot;
	unsigned next_id;
} tree;

static void fact_text(const kb *k, eng_fact_id f, char *buf, size_t size)
{
	eng_triple t;
	char v[256];
	if (!eng_fact_get(k->e, f, &t, NULL)) {
		snprintf(buf, size, "(gone)");
		return;
	}
	eng_value_format(k->e, t.value, v, sizeof(v));
	snprintf(buf, size, "%s %s %s", eng_sym_name(k->e, t.subject),
	         eng_sym_name(k->e, t.attribute), v);
}

static void dot_quote(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

/* Prints fact F and what it rests on; returns its DOT node id. */
static unsigned tree_fact(tree *t, eng_fact_id f, int depth)
{
	kb *k = t->s->k;
	char ft[512];
	fact_text(k, f, ft, sizeof(ft));
	unsigned id = ++t->next_id;
	const eng_just *why = eng_fact_why(k->e, f);
	if (t->dot) {
		fprintf(t->fp, "  n%u [shape=box label=", id);
		dot_quote(t->fp, ft);
		fprintf(t->fp, "];\n");
	} else {
		fprintf(t->fp, "%*s- fact (%s)", depth * 2, "", ft);
	}
	if (why && depth < 24) {
		eng_rule_info info;
		eng_rule_get(k->e, why->rule, &info);
		if (t->dot) {
			unsigned rid = ++t->next_id;
			fprintf(t->fp, "  n%u [shape=ellipse label=", rid);
			dot_quote(t->fp, info.id);
			fprintf(t->fp, "];\n  n%u -> n%u;\n", rid, id);
			for (uint32_t i = 0; i < why->nfacts; i++)
				if (why->facts[i])
					fprintf(t->fp, "  n%u -> n%u;\n", tree_fact(t, why->facts[i], depth + 1),
					        rid);
		} else {
			fprintf(t->fp, " derived by rule %s\n", info.id);
			for (uint32_t i = 0; i < why->nfacts; i++)
				if (why->facts[i])
					tree_fact(t, why->facts[i], depth + 1);
		}
		return id;
	}
	/* an input fact: the words behind it */
	reason r;
	memset(&r, 0, sizeof(r));
	judge_trace(k, &t->s->j, f, &r);
	for (uint32_t i = 0; i < r.nspans; i++) {
		const q_span *sp = &r.spans[i];
		const char *pat = sp->source == XF_ENTITY ? k->entities[sp->index].id
		                                          : k->lexicon[sp->index].id;
		if (t->dot) {
			unsigned sid = ++t->next_id;
			/* the words on one line, cut on a character boundary: DOT wants UTF-8 */
			char folded[160] = "", words[512];
			FILE *m = fmemopen(folded, sizeof(folded), "w");
			if (m) {
				put_oneline(m, t->s->j.q.text + sp->start, sp->end - sp->start, 120);
				fclose(m);
			}
			snprintf(words, sizeof(words), "\"%s\"\n(%s %s)", folded,
			         sp->source == XF_ENTITY ? "catalog" : "lexicon", pat);
			fprintf(t->fp, "  n%u [shape=note label=", sid);
			dot_quote(t->fp, words);
			fprintf(t->fp, "];\n  n%u -> n%u;\n", sid, id);
		} else {
			fprintf(t->fp, " from \"");
			put_oneline(t->fp, t->s->j.q.text + sp->start, sp->end - sp->start, 60);
			if (sp->option < 0)
				fprintf(t->fp, "\" (stem, %s)", pat);
			else
				fprintf(t->fp, "\" (option %c, %s)", t->s->j.opts[sp->option].letter, pat);
		}
	}
	if (!t->dot)
		fputc('\n', t->fp);
	return id;
}

static unsigned tree_conclusion(tree *t, const eng_conclusion *c, const char *label, int depth)
{
	kb *k = t->s->k;
	eng_rule_info info;
	char tv[256], because[2048];
	eng_rule_get(k->e, c->why->rule, &info);
	reason r;
	memset(&r, 0, sizeof(r));
	r.rule = c->why->rule;
	r.nbindings = c->why->nbindings < 32 ? c->why->nbindings : 32;
	memcpy(r.bindings, c->why->bindings, r.nbindings * sizeof(eng_value));
	reason_because(k, &r, because, sizeof(because));
	value_name(k, c->target, tv, sizeof(tv));
	unsigned id = ++t->next_id;
	if (t->dot) {
		char text[2400];
		snprintf(text, sizeof(text), "%s %s\n(rule %s)", eng_sym_name(k->e, c->kind),
		         eng_value_eq(c->target, (eng_value){ ENG_SYMBOL, { .sym = k->s_option } })
		         ? label : value_name(k, c->target, tv, sizeof(tv)), info.id);
		fprintf(t->fp, "  n%u [shape=ellipse style=bold label=", id);
		dot_quote(t->fp, text);
		fprintf(t->fp, "];\n");
		for (uint32_t i = 0; i < c->why->nfacts; i++)
			if (c->why->facts[i])
				fprintf(t->fp, "  n%u -> n%u;\n", tree_fact(t, c->why->facts[i], depth + 1), id);
	} else {
		fprintf(t->fp, "%*s- %s %s by rule %s ", depth * 2, "", eng_sym_name(k->e, c->kind),
		        c->target.type == ENG_SYMBOL && c->target.u.sym == k->s_option ? label
		        : value_name(k, c->target, tv, sizeof(tv)), info.id);
		print_cites(t->s, c->why->rule, t->fp);
		fprintf(t->fp, "\n%*s  because %s\n", depth * 2, "", because);
		for (uint32_t i = 0; i < c->why->nfacts; i++)
			if (c->why->facts[i])
				tree_fact(t, c->why->facts[i], depth + 1);
	}
	return id;
}

/* Explains option O: its facts are asserted again so its conclusions are live. */
static void tree_option(tree *t, uint32_t o)
{
	session *s = t->s;
	j_option *op = &s->j.opts[o];
	if (!op->why.n)
		return;
	char label[32];
	snprintf(label, sizeof(label), "option %c", op->letter);
	unsigned oid = ++t->next_id;
	if (t->dot) {
		char text[64];
		snprintf(text, sizeof(text), "%c: %s (%+g)", op->letter, verdict_word(op->verdict),
		         op->score);
		fprintf(t->fp, "  n%u [shape=doubleoctagon label=", oid);
		dot_quote(t->fp, text);
		fprintf(t->fp, "];\n");
		if (op->verdict == V_CORRECT)
			fprintf(t->fp, "  n%u -> answer;\n", oid);
	} else {
		fprintf(t->fp, "\n%c. ", op->letter);
		put_oneline(t->fp, s->j.q.text + op->start, op->end - op->start, 90);
		fprintf(t->fp, "\n  %s, score %+g, because:\n", verdict_word(op->verdict), op->score);
	}
	eng_fact_id *ids;
	if (judge_option_enter(s->k, &s->j, o, &ids) == ENG_OK) {
		for (size_t r = 0; r < op->why.n; r++) {
			/* the live conclusion of the same rule and target */
			for (eng_concl_id c = eng_concl_next(s->k->e, 0); c;
			     c = eng_concl_next(s->k->e, c)) {
				eng_conclusion cc;
				if (!eng_concl_get(s->k->e, c, &cc) || cc.why->rule != op->why.v[r].rule ||
				    !eng_value_eq(cc.target, op->why.v[r].target))
					continue;
				unsigned cid = tree_conclusion(t, &cc, label, 1);
				if (t->dot)
					fprintf(t->fp, "  n%u -> n%u [label=\"%+g\"];\n", cid, oid,
					        op->why.v[r].weight);
				break;
			}
		}
	}
	judge_option_leave(s->k, &s->j, o, ids);
}

static int explain_to(cli_opts *o, session *s, FILE *fp)
{
	tree t = { o, s, fp, o->dot, 0 };
	if (o->dot) {
		fprintf(fp, "digraph mlarch {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
		char ans[64];
		snprintf(ans, sizeof(ans), "answer: %s", s->j.abstained ? "none" : s->j.answer);
		fprintf(fp, "  answer [shape=doublecircle label=");
		dot_quote(fp, ans);
		fprintf(fp, "];\n");
	} else {
		print_answer(o, s, fp);
		fprintf(fp, "\nProof (question words -> facts -> rules -> conclusions):\n");
	}
	size_t shown = 0;
	for (uint32_t i = 0; i < s->j.nopts; i++) {
		tree_option(&t, i);
		shown += s->j.opts[i].why.n > 0;
	}
	if (s->j.nopts && !shown && !o->dot)
		fprintf(fp, "  (no rule bears on any option: there is nothing to prove)\n");
	if (!s->j.nopts) {
		for (eng_concl_id c = eng_concl_next(s->k->e, 0); c; c = eng_concl_next(s->k->e, c)) {
			eng_conclusion cc;
			if (eng_concl_get(s->k->e, c, &cc))
				tree_conclusion(&t, &cc, "option", 0);
		}
	}
	if (o->dot)
		fprintf(fp, "}\n");
	return EXIT_OK;
}

int cmd_explain(cli_opts *o, int argc, char **argv)
{
	session s;
	int code = session_open(o, argc, argv, NULL, &s);
	if (code != EXIT_OK) {
		session_close(&s);
		return code;
	}
	if (!o->output) {
		code = explain_to(o, &s, stdout);
		session_close(&s);
		return code;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	if (!mem) {
		session_close(&s);
		fprintf(stderr, "%s: out of memory\n", o->prog);
		return EXIT_NOMEM;
	}
	cli_opts plain = *o;
	plain.color = false;
	code = explain_to(&plain, &s, mem);
	fclose(mem);
	char err[512];
	if (code == EXIT_OK && !write_atomic(o->output, buf, len, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", o->prog, err);
		code = EXIT_INPUT;
	}
	free(buf);
	session_close(&s);
	return code;
}

/* ---- facts ---- */

/* Prints the facts X read from the question TEXT (their spans are offsets in it). */
static void print_xfacts(const cli_opts *o, const kb *k, const char *text, const xfacts *x)
{
	if (!x->n)
		printf("    (no facts)\n");
	for (size_t i = 0; i < x->n; i++) {
		const xfact *f = &x->v[i];
		char v[256];
		eng_value_format(k->e, f->value, v, sizeof(v));
		printf("    %s%s%s = %s%s%s  \"", f->subject ? eng_sym_name(k->e, f->subject) : "",
		       f->subject ? " " : "", eng_sym_name(k->e, f->attr), clr(o, "bold"), v,
		       clr(o, "reset"));
		put_oneline(stdout, text + f->start, f->end - f->start, 60);
		printf("\"  %s(%s %s, bytes %zu-%zu)%s%s\n", clr(o, "dim"),
		       f->source == XF_ENTITY ? "catalog" : "lexicon",
		       f->source == XF_ENTITY ? k->entities[f->index].id : k->lexicon[f->index].id,
		       f->start, f->end, f->negated ? " (negated)" : "",
		       clr(o, "reset"));
	}
	for (size_t i = 0; i < x->ndropped; i++) {
		const x_dropped *d = &x->dropped[i];
		char v[256];
		eng_value_format(k->e, d->fact.value, v, sizeof(v));
		printf("    %snot read: %s = %s  \"", clr(o, "dim"), eng_sym_name(k->e, d->fact.attr),
		       v);
		put_oneline(stdout, text + d->fact.start, d->fact.end - d->fact.start, 40);
		printf("\"  (lexicon %s, bytes %zu-%zu): its clause denies the need, \"",
		       k->lexicon[d->fact.index].id, d->fact.start, d->fact.end);
		put_oneline(stdout, text + d->cue_start, d->cue_end - d->cue_start, 40);
		printf("\" (lexicon %s, bytes %zu-%zu)%s\n", k->lexicon[d->cue].id,
		       d->cue_start, d->cue_end, clr(o, "reset"));
	}
}

int cmd_facts(cli_opts *o, int argc, char **argv)
{
	session s;
	int code = session_open(o, argc, argv, NULL, &s);
	if (code == EXIT_OK) {
		if (o->json) {
			code = print_json(o, json_facts(s.k, &s.j));
		} else {
			printf("stem:\n");
			print_xfacts(o, s.k, s.j.q.text, &s.j.stem);
			for (uint32_t i = 0; i < s.j.nopts; i++) {
				printf("%c:\n", s.j.opts[i].letter);
				print_xfacts(o, s.k, s.j.q.text, &s.j.opts[i].facts);
			}
			printf("choose: %u\n", s.j.q.choose ? s.j.q.choose : 1);
		}
	}
	session_close(&s);
	return code;
}
