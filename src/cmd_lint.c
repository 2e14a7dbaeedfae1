/* SPDX-License-Identifier: MIT */
/*
 * cmd_lint.c - `mlarch lint` and `mlarch coverage`: checks of a knowledge base beyond what
 * loading checks (schema, duplicate ids, unknown citations are load errors already):
 * entities a rule names that the catalog lacks, conditions that nothing can produce,
 * rules that recommend and reject the same thing on the same conditions, and lexicon
 * facts no rule uses; and the map from notes to the rules citing them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "scenario.h"

/* What can appear in working memory: attributes, and the values seen for them (any value
 * when some producer's value is not a constant). */
typedef struct {
	eng_sym attr;
	bool any_value;
	eng_value *vals;
	size_t nvals, cap;
	bool subject_scenario;  /* produced about scenario/option (not about entities) */
} produced;

typedef struct {
	produced *v;
	size_t n, cap;
} produced_set;

static produced *prod_get(produced_set *p, eng_sym attr)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].attr == attr)
			return &p->v[i];
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		produced *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		p->v = v;
		p->cap = cap;
	}
	memset(&p->v[p->n], 0, sizeof(produced));
	p->v[p->n].attr = attr;
	return &p->v[p->n++];
}

static void prod_add(produced_set *p, eng_sym attr, const eng_value *v)
{
	produced *x = prod_get(p, attr);
	if (!x)
		return;
	if (!v) {
		x->any_value = true;
		return;
	}
	for (size_t i = 0; i < x->nvals; i++)
		if (eng_value_eq(x->vals[i], *v))
			return;
	if (x->nvals == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 8;
		eng_value *nv = realloc(x->vals, cap * sizeof(*nv));
		if (!nv)
			return;
		x->vals = nv;
		x->cap = cap;
	}
	x->vals[x->nvals++] = *v;
}

static bool prod_can(const produced_set *p, eng_sym attr, const eng_value *v)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].attr != attr)
			continue;
		if (!v || p->v[i].any_value)
			return true;
		for (size_t k = 0; k < p->v[i].nvals; k++)
			if (eng_value_eq(p->v[i].vals[k], *v))
				return true;
		return false;
	}
	return false;
}

static void collect_produced(kb *k, produced_set *p)
{
	eng *e = k->e;
	for (uint32_t i = 0; i < k->nlexicon; i++)
		for (uint32_t v = 0; v < k->lexicon[i].nvals; v++) {
			const kb_lexval *lv = &k->lexicon[i].vals[v];
			prod_add(p, lv->attr, lv->from_capture ? NULL : &lv->k);
		}
	prod_add(p, k->s_uses, NULL);
	prod_add(p, k->s_mentions, NULL);
	prod_add(p, k->s_uses_negated, NULL);
	prod_add(p, k->s_mentions_negated, NULL);
	prod_add(p, k->s_setting_current, NULL);
	prod_add(p, k->s_setting_proposed, NULL);
	prod_add(p, k->s_question_choose, NULL);
	/* background facts: what a reset asserts */
	eng_reset(e);
	for (eng_fact_id f = eng_fact_next(e, 0); f; f = eng_fact_next(e, f)) {
		eng_triple t;
		if (eng_fact_get(e, f, &t, NULL))
			prod_add(p, t.attribute, &t.value);
	}
	eng_clear(e);
	for (size_t r = 0; r < eng_rule_count(e); r++)
		for (uint32_t a = 0; a < eng_rule_action_count(e, r); a++) {
			eng_action_view av;
			if (!eng_rule_action_get(e, r, a, &av) || av.kind == ENG_ACT_CONCLUDE ||
			    av.kind == ENG_ACT_RETRACT || av.kind == ENG_ACT_BIND)
				continue;
			if (!av.slot[1].is_const) {
				/* a computed attribute: assume anything can be produced */
				continue;
			}
			prod_add(p, av.slot[1].k.u.sym, av.slot[2].is_const ? &av.slot[2].k : NULL);
		}
}

typedef struct {
	const cli_opts *o;
	kb *k;
	eng_diags *d;
	size_t errors, warnings;
	const char *text_file;  /* the rule file last read for a caret, and its text */
	char *text;
} linter;

static void rule_diag(linter *l, eng_severity sev, size_t r, uint32_t line, uint32_t col,
                      const char *msg)
{
	eng_rule_info info;
	eng_rule_get(l->k->e, r, &info);
	char ctx[256];
	snprintf(ctx, sizeof(ctx), "in rule `%s`", info.id);
	/* the source line for the caret: rules come file by file, so one file is kept */
	char *src = NULL;
	size_t len;
	if (!l->text_file || strcmp(l->text_file, info.file) != 0) {
		free(l->text);
		l->text = read_file(info.file, &len);
		l->text_file = info.file;
	}
	char *text = l->text;
	if (text && line) {
		char *p = text;
		for (uint32_t n = 1; n < line && p; n++) {
			p = strchr(p, '\n');
			if (p)
				p++;
		}
		if (p) {
			char *end = strchr(p, '\n');
			src = strndup(p, end ? (size_t)(end - p) : strlen(p));
		}
	}
	eng_diags_add(l->d, sev, info.file, line, col, 1, src, ctx, "%s", msg);
	free(src);
	if (sev == ENG_SEV_ERROR)
		l->errors++;
	else
		l->warnings++;
}

static bool is_entity_or_self(const kb *k, eng_value v)
{
	if (v.type != ENG_SYMBOL)
		return true;   /* numbers, strings: computed answers */
	return v.u.sym == k->s_option || kb_entity_by_sym(k, v.u.sym) != NULL;
}

static void check_rules(linter *l, const produced_set *p)
{
	eng *e = l->k->e;
	char msg[512], buf[256];
	for (size_t r = 0; r < eng_rule_count(e); r++) {
		eng_rule_info info;
		eng_rule_get(e, r, &info);
		for (uint32_t a = 0; a < eng_rule_action_count(e, r); a++) {
			eng_action_view av;
			if (!eng_rule_action_get(e, r, a, &av) || av.kind != ENG_ACT_CONCLUDE ||
			    !av.slot[2].is_const)
				continue;
			const char *kind = eng_sym_name(e, av.concl);
			if (strcmp(kind, "answer") && !is_entity_or_self(l->k, av.slot[2].k)) {
				eng_value_format(e, av.slot[2].k, buf, sizeof(buf));
				snprintf(msg, sizeof(msg), "`%s: %s` names no catalog entity (nor `option`)",
				         kind, buf);
				rule_diag(l, ENG_SEV_ERROR, r, av.line, av.col, msg);
			}
		}
		for (uint32_t c = 0; c < info.nconds; c++) {
			eng_cond_view cv;
			if (!eng_rule_cond_get(e, r, c, &cv) || cv.kind == ENG_COND_TEST)
				continue;
			/* (option|scenario, uses|mentions, ENTITY) must name a catalog entity */
			if (cv.slot[1].is_const && (cv.slot[1].k.u.sym == l->k->s_uses ||
			                            cv.slot[1].k.u.sym == l->k->s_mentions) &&
			    cv.slot[2].is_const && !is_entity_or_self(l->k, cv.slot[2].k)) {
				eng_value_format(e, cv.slot[2].k, buf, sizeof(buf));
				snprintf(msg, sizeof(msg), "`%s` is not in the catalog", buf);
				rule_diag(l, ENG_SEV_ERROR, r, cv.line, cv.col, msg);
				continue;
			}
			if (cv.kind != ENG_COND_POS || !cv.slot[1].is_const)
				continue;
			eng_sym attr = cv.slot[1].k.u.sym;
			bool ok = cv.slot[2].is_const ? prod_can(p, attr, &cv.slot[2].k)
			                              : prod_can(p, attr, NULL);
			if (ok && cv.nin) {
				ok = false;
				for (uint32_t m = 0; m < cv.nin && !ok; m++)
					ok = prod_can(p, attr, &cv.in[m]);
			}
			if (!ok) {
				eng_rule_cond_format(e, r, c, buf, sizeof(buf));
				snprintf(msg, sizeof(msg), "this rule can never fire: nothing (lexicon, "
				         "catalog, background facts or rules) produces `%s`", buf);
				rule_diag(l, ENG_SEV_ERROR, r, cv.line, cv.col, msg);
			}
		}
	}
}

/* Whether slot C of a negated condition surely matches slot A of an assertion of the same
 * rule: C takes anything (no constant, or a variable only the negation uses), or both are
 * the same constant, or the same variable. */
static bool slot_meets(const eng *e, size_t r, const eng_rule_info *info, eng_slot_view c,
                       eng_slot_view a)
{
	if (c.is_const)
		return a.is_const && eng_value_eq(c.k, a.k);
	if (c.var < 0)
		return true;
	if (!a.is_const && a.var == c.var)
		return true;
	for (uint32_t k = 0; k < info->nconds; k++) {
		eng_cond_view pv;
		if (eng_rule_cond_get(e, r, k, &pv) && pv.kind == ENG_COND_POS)
			for (int s = 0; s < 3; s++)
				if (!pv.slot[s].is_const && pv.slot[s].var == c.var)
					return false;    /* bound by the match: may differ */
	}
	return true;
}

/* A logically supported rule that asserts what one of its own `not:` conditions forbids:
 * the fact undoes the match that made it, is withdrawn, and the rule fires again, forever. */
static void check_self_undoing(linter *l)
{
	eng *e = l->k->e;
	char msg[512], buf[256];
	for (size_t r = 0; r < eng_rule_count(e); r++) {
		eng_rule_info info;
		if (!eng_rule_get(e, r, &info) || !info.logical)
			continue;
		for (uint32_t a = 0; a < eng_rule_action_count(e, r); a++) {
			eng_action_view av;
			if (!eng_rule_action_get(e, r, a, &av) || av.kind != ENG_ACT_ASSERT)
				continue;
			for (uint32_t c = 0; c < info.nconds; c++) {
				eng_cond_view cv;
				if (!eng_rule_cond_get(e, r, c, &cv) || cv.kind != ENG_COND_NEG || cv.nin ||
				    !slot_meets(e, r, &info, cv.slot[0], av.slot[0]) ||
				    !slot_meets(e, r, &info, cv.slot[1], av.slot[1]) ||
				    !slot_meets(e, r, &info, cv.slot[2], av.slot[2]))
					continue;
				eng_rule_cond_format(e, r, c, buf, sizeof(buf));
				snprintf(msg, sizeof(msg), "this rule asserts a fact that meets its own `%s` "
				         "(line %u): the fact undoes the match it stands on, is withdrawn, "
				         "and the rule fires again until the firing limit; make the rule "
				         "`logical: no` or change the condition", buf, cv.line);
				rule_diag(l, ENG_SEV_ERROR, r, av.line, av.col, msg);
				break;
			}
		}
	}
}

/* Rules with the same conditions, one recommending and one rejecting the same target. */
static void check_contradictions(linter *l)
{
	eng *e = l->k->e;
	size_t n = eng_rule_count(e);
	char **sig = calloc(n + 1, sizeof(char *));
	if (!sig)
		return;
	for (size_t r = 0; r < n; r++) {
		eng_rule_info info;
		eng_rule_get(e, r, &info);
		char *buf = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&buf, &len);
		if (!fp)
			continue;
		for (uint32_t c = 0; c < info.nconds; c++) {
			char cond[512];
			eng_rule_cond_format(e, r, c, cond, sizeof(cond));
			fprintf(fp, "%s\n", cond);
		}
		fclose(fp);
		sig[r] = buf;
	}
	eng_sym rec = eng_sym_lookup(e, "recommend"), rej = eng_sym_lookup(e, "reject");
	for (size_t a = 0; a < n; a++)
		for (size_t b = 0; b < n; b++) {
			if (a == b || !sig[a] || !sig[b] || strcmp(sig[a], sig[b]))
				continue;
			eng_sym ka[8], kb_[8];
			eng_value ta[8], tb[8];
			size_t na = eng_rule_conclusions(e, a, ka, ta, 8);
			size_t nb = eng_rule_conclusions(e, b, kb_, tb, 8);
			for (size_t i = 0; i < na && i < 8; i++)
				for (size_t j = 0; j < nb && j < 8; j++)
					if (ka[i] == rec && kb_[j] == rej && ta[i].type != ENG_NONE &&
					    eng_value_eq(ta[i], tb[j])) {
						eng_rule_info ib;
						eng_rule_get(e, b, &ib);
						char msg[512], tv[128];
						eng_value_format(e, ta[i], tv, sizeof(tv));
						snprintf(msg, sizeof(msg), "recommends `%s` on exactly the conditions "
						         "on which rule `%s` (%s:%u) rejects it", tv, ib.id, ib.file,
						         ib.line);
						eng_rule_info ia;
						eng_rule_get(e, a, &ia);
						rule_diag(l, ENG_SEV_ERROR, a, ia.line, 1, msg);
					}
		}
	for (size_t r = 0; r < n; r++)
		free(sig[r]);
	free(sig);
}

/* Word families no pattern uses, and lexicon facts that no rule condition can match. */
static void check_lexicon_use(linter *l)
{
	eng *e = l->k->e;
	/* the judge compares an option's stated values with `answer:` conclusions */
	bool answers = false;
	eng_sym answer = eng_sym_lookup(e, "answer");
	for (size_t r = 0; r < eng_rule_count(e) && !answers; r++)
		for (uint32_t a = 0; a < eng_rule_action_count(e, r) && !answers; a++) {
			eng_action_view av;
			answers = eng_rule_action_get(e, r, a, &av) && av.kind == ENG_ACT_CONCLUDE &&
			          av.concl == answer;
		}
	for (uint32_t i = 0; i < l->k->nfamilies; i++) {
		const kb_family *f = &l->k->families[i];
		if (f->uses)
			continue;
		eng_diags_add(l->d, ENG_SEV_WARNING, f->file, f->line, f->col, 1, NULL, NULL,
		              "family `%s` is used by no lexicon pattern", f->name);
		l->warnings++;
	}
	for (uint32_t i = 0; i < l->k->nlexicon; i++) {
		const kb_lexeme *lx = &l->k->lexicon[i];
		for (uint32_t v = 0; v < lx->nvals; v++) {
			const kb_lexval *lv = &lx->vals[v];
			/* the judge itself reads the question's polarity */
			bool used = (answers && lx->scope == LEX_OPTION) ||
			            !strcmp(eng_sym_name(e, lv->attr), "question.polarity");
			for (size_t r = 0; r < eng_rule_count(e) && !used; r++) {
				eng_rule_info info;
				eng_rule_get(e, r, &info);
				for (uint32_t c = 0; c < info.nconds && !used; c++) {
					eng_cond_view cv;
					if (!eng_rule_cond_get(e, r, c, &cv) || cv.kind == ENG_COND_TEST)
						continue;
					if (cv.slot[1].is_const && cv.slot[1].k.u.sym != lv->attr)
						continue;
					if (!cv.slot[2].is_const || lv->from_capture)
						used = cv.nin == 0 || lv->from_capture;
					else
						used = eng_value_eq(cv.slot[2].k, lv->k);
					if (!used && cv.nin && !lv->from_capture)
						for (uint32_t m = 0; m < cv.nin && !used; m++)
							used = eng_value_eq(cv.in[m], lv->k);
				}
			}
			if (!used) {
				char val[128];
				if (lv->from_capture)
					snprintf(val, sizeof(val), "(captured)");
				else
					eng_value_format(e, lv->k, val, sizeof(val));
				eng_diags_add(l->d, ENG_SEV_WARNING, lx->file, lx->line, lx->col, 1, NULL,
				              NULL, "lexicon entry `%s` gives `%s: %s`, which no rule uses",
				              lx->id, eng_sym_name(e, lv->attr), val);
				l->warnings++;
			}
		}
	}
}

/* Lints the knowledge base O names (--rules, or the default); returns an exit code. */
static int lint_one(const cli_opts *o)
{
	int code = EXIT_OK;
	/* lint parses every file afresh whatever the cache holds (and refreshes it) */
	cli_opts fresh = *o;
	fresh.cache_no_read = true;
	kb *k = cli_kb_load(&fresh, &code);
	if (!k)
		return code == EXIT_KB ? EXIT_FAIL : code;
	linter l = { o, k, eng_diags_new(0), 0, 0, NULL, NULL };
	if (!l.d) {
		kb_free(k);
		return EXIT_NOMEM;
	}
	produced_set p = { NULL, 0, 0 };
	collect_produced(k, &p);
	check_rules(&l, &p);
	check_contradictions(&l);
	check_self_undoing(&l);
	check_lexicon_use(&l);
	report_diags(o, l.d, stderr);
	printf("%s: %zu rules, %u catalog entities, %u lexicon entries, %u notes: %zu errors, "
	       "%zu warnings\n", paths_rules_dir(o), eng_rule_count(k->e), k->nentities,
	       k->nlexicon, k->nsources, l.errors, l.warnings);
	for (size_t i = 0; i < p.n; i++)
		free(p.v[i].vals);
	free(p.v);
	eng_diags_free(l.d);
	free(l.text);
	kb_free(k);
	return l.errors ? EXIT_FAIL : EXIT_OK;
}

int cmd_lint(cli_opts *o, int argc, char **argv)
{
	if (argc == 0)
		return lint_one(o);
	/* each folder is a knowledge base of its own; the worst exit code wins */
	int code = EXIT_OK;
	for (int i = 0; i < argc; i++) {
		cli_opts lo = *o;
		lo.rules_dir = argv[i];
		int c = lint_one(&lo);
		if (c > code)
			code = c;
	}
	return code;
}

/* For `coverage PATH...`: how many scenarios cite each note, in COUNTS (by source index).
 * Returns false after an error message. */
static bool scenario_cites(const cli_opts *o, kb *k, int argc, char **argv, size_t *counts)
{
	size_t n = 0;
	const char *bad = NULL;
	char **files = scenario_find(argv, argc, &n, &bad);
	if (!files) {
		fprintf(stderr, "%s: %s: %s\n", o->prog, bad ? bad : "?", strerror(errno));
		return false;
	}
	eng_diags *d = eng_diags_new(0);
	bool ok = d != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		scenario s;
		if (scenario_load(k, files[i], d, &s) == ENG_OK)
			for (size_t c = 0; c < s.ncite; c++)
				for (uint32_t m = 0; m < k->nsources; m++)
					if (!strcmp(k->sources[m].id, s.cite[c]))
						counts[m]++;
		scenario_free(&s);
	}
	if (d && eng_diags_errors(d)) {
		report_diags(o, d, stderr);
		ok = false;
	}
	eng_diags_free(d);
	scenario_paths_free(files, n);
	return ok;
}

int cmd_coverage(cli_opts *o, int argc, char **argv)
{
	int code = EXIT_OK;
	kb *k = cli_kb_load(o, &code);
	if (!k)
		return code;
	size_t *sc_counts = NULL;
	if (argc) {
		sc_counts = calloc(k->nsources + 1, sizeof(size_t));
		if (!sc_counts || !scenario_cites(o, k, argc, argv, sc_counts)) {
			free(sc_counts);
			kb_free(k);
			return sc_counts ? EXIT_INPUT : EXIT_NOMEM;
		}
	}
	coverage_row *rows = calloc(k->nsources + 1, sizeof(coverage_row));
	/* every rule compiled: the notes they cite are symbols that eng_sym_lookup finds */
	eng_status st = eng_rules_compile_all(k->e);
	if (!rows || st) {
		if (st && st != ENG_ERR_NOMEM)
			fprintf(stderr, "%s: %s\n", o->prog, eng_error(k->e));
		free(rows);
		free(sc_counts);
		kb_free(k);
		return !rows || st == ENG_ERR_NOMEM ? EXIT_NOMEM : EXIT_KB;
	}
	size_t cited = 0;
	/* one shared array of rule ids, sliced per note */
	const char **all = calloc(eng_rule_count(k->e) * 8 + 1, sizeof(char *));
	size_t used = 0, cap = eng_rule_count(k->e) * 8;
	for (uint32_t s = 0; s < k->nsources; s++) {
		const kb_source *src = &k->sources[s];
		coverage_row *row = &rows[s];
		row->id = src->id;
		row->title = src->title;
		row->topic = src->topic;
		row->decides = src->decides;
		row->why = src->why;
		row->rules = all ? all + used : NULL;
		eng_sym sym = eng_sym_lookup(k->e, src->id);
		for (size_t r = 0; sym && all && r < eng_rule_count(k->e); r++) {
			eng_rule_info info;
			eng_rule_get(k->e, r, &info);
			for (uint32_t c = 0; c < info.ncite; c++)
				if (info.cite[c] == sym && used < cap) {
					all[used++] = info.id;
					row->nrules++;
					break;
				}
		}
		cited += row->nrules > 0;
	}
	if (o->json) {
		char *doc = json_coverage(rows, k->nsources);
		if (doc)
			puts(doc);
		else
			code = EXIT_NOMEM;
		free(doc);
	} else {
		/* by topic, in order of first appearance */
		for (uint32_t s = 0; s < k->nsources; s++) {
			const char *topic = rows[s].topic ? rows[s].topic : "";
			bool first = true;
			for (uint32_t t = 0; t < s && first; t++)
				first = strcmp(rows[t].topic ? rows[t].topic : "", topic) != 0;
			if (!first)
				continue;
			size_t n = 0, c = 0;
			for (uint32_t t = s; t < k->nsources; t++)
				if (!strcmp(rows[t].topic ? rows[t].topic : "", topic)) {
					n++;
					c += rows[t].nrules > 0;
				}
			printf("%s%s%s: %zu of %zu notes cited\n", clr(o, "bold"), topic, clr(o, "reset"),
			       c, n);
			for (uint32_t t = s; t < k->nsources; t++) {
				if (strcmp(rows[t].topic ? rows[t].topic : "", topic))
					continue;
				printf("  %-22s ", rows[t].id);
				if (sc_counts)
					printf("%3zu scen. ", sc_counts[t]);
				if (rows[t].nrules) {
					printf("%zu rule%s: ", rows[t].nrules, rows[t].nrules == 1 ? "" : "s");
					for (size_t r = 0; r < rows[t].nrules && r < 3; r++)
						printf("%s%s", r ? ", " : "", rows[t].rules[r]);
					printf("%s\n", rows[t].nrules > 3 ? ", ..." : "");
				} else {
					printf("%suncited%s: %s\n", clr(o, "yellow"), clr(o, "reset"),
					       !rows[t].decides && rows[t].why ? rows[t].why
					       : "no rule cites it yet");
				}
			}
		}
		printf("%zu of %u notes cited by rules; %u uncited\n", cited, k->nsources,
		       k->nsources - (uint32_t)cited);
		if (sc_counts) {
			size_t missing = 0;
			for (uint32_t t = 0; t < k->nsources; t++)
				if (k->sources[t].decides && !sc_counts[t]) {
					printf("%s%s", missing ? ", " : "deciding notes no scenario cites: ",
					       k->sources[t].id);
					missing++;
				}
			printf("%s%zu deciding notes without a scenario\n", missing ? "\n" : "", missing);
		}
	}
	free(all);
	free(rows);
	free(sc_counts);
	kb_free(k);
	return code;
}
