/* SPDX-License-Identifier: MIT */
/*
 * test_layout.c - an answer follows the option, not its place on the page or the shape of
 * the paste. Every text scenario of scenarios/ is asked again laid out otherwise: options
 * in reverse order and labelled "(A)", stem and options wrapped at a narrow width with
 * indented continuation lines and long words broken at their hyphens. Each must still pass
 * (its expected letters moved with the options); so must each asked on one line, stem
 * and options joined as a shell passes `mlarch ask "..."`. And the scenarios that use an -ize or -yze
 * word are asked again in British spelling ("optimise", "analyse"): the answer must not
 * depend on which spelling the writer learnt.
 *
 * Last, every text scenario is asked once more reworded as another writer would put it,
 * by the meaning-keeping rewordings of tests/rewordings.tsv ("Amazon Data Firehose" for
 * "Amazon Kinesis Data Firehose", "the cheapest" for "the most cost-effective", "needs to"
 * for "must", ...). Its answer must not change.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "kb.h"
#include "question.h"
#include "scenario.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

#define WIDTH 38

typedef struct {
	char *s;
	size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		cr_assert_not_null(b->s);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

/* Appends the words of TEXT[0..N) (any white space between them) wrapped at WIDTH
 * columns; the first line starts at column COL, the next ones with INDENT. A word too long
 * for the rest of a line is broken after a hyphen when its head fits. */
static void wrap(buf *b, const char *text, size_t n, size_t col, const char *indent)
{
	size_t i = 0;
	bool first = true;
	while (i < n) {
		while (i < n && (text[i] == ' ' || text[i] == '\n'))
			i++;
		size_t j = i;
		while (j < n && text[j] != ' ' && text[j] != '\n')
			j++;
		if (j == i)
			break;
		const char *w = text + i;
		size_t len = j - i;
		while (len) {
			size_t need = len + (first ? 0 : 1);
			if (!first && col + need > WIDTH) {
				size_t room = WIDTH > col + 1 ? WIDTH - col - 1 : 0, cut = 0;
				for (size_t h = 1; h + 1 < len && h < room; h++)
					if (w[h - 1] != '-' && w[h] == '-')
						cut = h + 1;
				if (cut) {
					put(b, " ", 1);
					put(b, w, cut);
					w += cut;
					len -= cut;
				}
				put(b, "\n", 1);
				put(b, indent, strlen(indent));
				col = strlen(indent);
				first = true;
				continue;
			}
			if (!first)
				put(b, " ", 1);
			put(b, w, len);
			col += need;
			first = false;
			len = 0;
		}
		i = j;
	}
}

/* The question of S laid out anew (see the top of the file) into OUT, and its expected
 * letters moved with the options into WANT. Returns false when S has no options. */
static bool relayout(const scenario *s, buf *out, char *want)
{
	question q;
	if (question_parse(s->question, s->question_len, 0, &q, NULL) != Q_OK)
		return false;
	/* a table's layout is part of what it says (which value stands under which heading):
	 * the reader has written its rows out, and wrapping them anew would be another question */
	if (q.nopts < 2 || q.nrows) {
		question_free(&q);
		return false;
	}
	/* the stem line by line, each line wrapped */
	size_t a = 0;
	while (a < q.stem_end) {
		size_t e = a;
		while (e < q.stem_end && q.text[e] != '\n')
			e++;
		wrap(out, q.text + a, e - a, 0, "");
		put(out, "\n", 1);
		a = e + 1;
	}
	for (uint32_t k = 0; k < q.nopts; k++) {
		const q_option *o = &q.opts[q.nopts - 1 - k];
		char label[8];
		int n = snprintf(label, sizeof(label), "(%c) ", 'A' + (int)k);
		put(out, label, (size_t)n);
		wrap(out, q.text + o->start, o->end - o->start, (size_t)n, "    ");
		put(out, "\n", 1);
	}
	size_t m = 0;
	for (const char *l = s->answer; *l; l++)
		want[m++] = (char)('A' + (int)q.nopts - 1 - (*l - 'A'));
	want[m] = '\0';
	/* sorted, as scenario answers are */
	for (size_t x = 1; x < m; x++)
		for (size_t y = x; y > 0 && want[y - 1] > want[y]; y--) {
			char t = want[y];
			want[y] = want[y - 1];
			want[y - 1] = t;
		}
	question_free(&q);
	return true;
}

/* The question of S on one line, as `mlarch ask "..."` gets it from a shell: stem and
 * options joined by spaces, labels "A." in place. Returns false when S has no options. */
static bool oneline(const scenario *s, buf *out)
{
	question q;
	if (question_parse(s->question, s->question_len, 0, &q, NULL) != Q_OK)
		return false;
	bool ok = q.nopts >= 2 && !q.nrows;     /* a table: see relayout */
	for (size_t i = 0; ok && i < q.stem_end; i++)
		put(out, q.text[i] == '\n' ? " " : q.text + i, 1);
	for (uint32_t k = 0; ok && k < q.nopts; k++) {
		char label[8];
		int n = snprintf(label, sizeof(label), " %c. ", 'A' + (int)k);
		put(out, label, (size_t)n);
		for (size_t i = q.opts[k].start; i < q.opts[k].end; i++)
			put(out, q.text[i] == '\n' ? " " : q.text + i, 1);
	}
	question_free(&q);
	return ok;
}

Test(layout, wrap_breaks_at_hyphens)
{
	buf b = { NULL, 0, 0 };
	const char *t = "Deliver all the records in near real-time to the data-lake bucket.";
	wrap(&b, t, strlen(t), 0, "  ");
	cr_expect_str_eq(b.s, "Deliver all the records in near real-\n  time to the data-lake bucket.");
	free(b.s);
}

/* Spells T British in place, keeping its length: "-iz-" after the stems of the words
 * exam questions use ("optimize", "serializer", "normalization") becomes "-is-", "-yz-" in
 * "analyze" and "paralyze" becomes "-ys-". Returns whether anything changed. */
static bool british(char *t)
{
	static const char *const stems[] = {
		"regular", "serial", "optim", "random", "normal", "token", "summar", "maxim", "minim",
		"visual", "standard", "synchron", "parallel", "factor", "categor", "vector",
		"character", "util", "real", "special", "general", "organ", "author", "recogn",
		"memor", "prior", "custom", "anonym", "central", "initial", "capital", "stabil",
		"equal", "emphas", "discret", "binar", "quant", "lemmat", "anal", "paral",
	};
	bool changed = false;
	for (char *p = t; *p; p++) {
		if ((p[0] != 'i' && p[0] != 'y') || p[1] != 'z')
			continue;
		for (size_t i = 0; i < sizeof(stems) / sizeof(*stems); i++) {
			size_t n = strlen(stems[i]);
			bool y = strcmp(stems[i], "anal") == 0 || strcmp(stems[i], "paral") == 0;
			if ((p[0] == 'y') != y || (size_t)(p - t) < n)
				continue;
			const char *w = p - n;
			size_t k = 0;
			while (k < n && tolower((unsigned char)w[k]) == stems[i][k])
				k++;
			if (k == n) {
				p[1] = 's';
				changed = true;
				break;
			}
		}
	}
	return changed;
}

Test(layout, british_spelling)
{
	char t[] = "Optimize the serializer; analyze the normalization, not the size or the prize.";
	cr_assert(british(t));
	cr_expect_str_eq(t, "Optimise the serialiser; analyse the normalisation, not the size or the "
	                    "prize.");
}

/* The full knowledge base and the scenario files, every STRIDE'th of them
 * (MLARCH_TEST_STRIDE=N, for `make valgrind`). */
typedef struct {
	eng_diags *d;
	kb *k;
	char **paths;
	size_t n, stride;
} suite;

static void suite_open(suite *t)
{
	t->d = eng_diags_new(0);
	t->k = NULL;
	cr_assert_eq(kb_load(SRCDIR "/rules", NULL, t->d, &t->k), ENG_OK);
	char *root = SRCDIR "/scenarios";
	const char *bad = NULL;
	t->n = 0;
	t->paths = scenario_find(&root, 1, &t->n, &bad);
	cr_assert_not_null(t->paths, "scenarios: %s", bad ? bad : "?");
	const char *env = getenv("MLARCH_TEST_STRIDE");
	t->stride = env && atoi(env) > 0 ? (size_t)atoi(env) : 1;
}

static void suite_close(suite *t)
{
	scenario_paths_free(t->paths, t->n);
	eng_diags_free(t->d);
	kb_free(t->k);
}

/* Asks S again with TEXT for its question and, unless WANT is NULL, WANT for its expected
 * letters; it must pass. HOW names the variant in the failure. S is left as it was. */
static void ask_variant(suite *t, scenario *s, const char *path, const char *text, size_t len,
                        const char *want, const char *how)
{
	char *orig = s->question;
	size_t orig_len = s->question_len;
	char orig_answer[sizeof(s->answer)];
	memcpy(orig_answer, s->answer, sizeof(orig_answer));
	s->question = (char *)text;
	s->question_len = len;
	if (want)
		memcpy(s->answer, want, strlen(want) + 1);
	sc_result r;
	cr_assert_eq(scenario_run(t->k, s, &r), ENG_OK, "%s", path);
	cr_expect(r.pass, "%s %s: %s\n%s", path, how, r.message, text);
	s->question = orig;
	s->question_len = orig_len;
	memcpy(s->answer, orig_answer, sizeof(orig_answer));
}

/* Every text scenario, laid out anew, on one line and in British spelling. */
Test(layout, scenarios_keep_their_answers, .timeout = 600)
{
	suite t;
	suite_open(&t);
	size_t asked = 0, spelt = 0;
	for (size_t i = 0; i < t.n; i += t.stride) {
		const char *path = t.paths[i];
		scenario s;
		cr_assert_eq(scenario_load(t.k, path, t.d, &s), ENG_OK, "%s", path);
		buf b = { NULL, 0, 0 };
		char want[Q_MAX_OPTIONS + 1];
		if (s.question && s.has_answer && relayout(&s, &b, want)) {
			ask_variant(&t, &s, path, b.s, b.n, want, "laid out anew");
			asked++;
		}
		free(b.s);
		buf one = { NULL, 0, 0 };
		if (s.question && s.has_answer && oneline(&s, &one))
			ask_variant(&t, &s, path, one.s, one.n, NULL, "on one line");
		free(one.s);
		if (s.question && s.has_answer && british(s.question)) {
			ask_variant(&t, &s, path, s.question, s.question_len, NULL,
			            "in British spelling");
			spelt++;
		}
		scenario_free(&s);
	}
	cr_expect_gt(asked, t.n / t.stride / 2, "only %zu of %zu scenarios were asked", asked, t.n);
	/* a twentieth at least: one in ten of the stems has an American spelling to change,
	 * and a sparse sample (`make valgrind` asks one in a hundred) may catch fewer */
	cr_expect_gt(spelt, t.n / t.stride / 20, "only %zu scenarios had words to spell", spelt);
	suite_close(&t);
}

/* One line of tests/rewordings.tsv: a pattern and what replaces its matches, the ALT'th of
 * the NALTS lines of its group. */
typedef struct {
	char group[32];
	uint32_t line, alt, nalts;
	pcre2_code *re;
	char *with;
	size_t used;            /* scenarios it changed */
} reword;

#define MAX_REWORDS 512

static size_t rewords_load(reword *v)
{
	FILE *f = fopen(SRCDIR "/tests/rewordings.tsv", "r");
	cr_assert_not_null(f, "tests/rewordings.tsv");
	char line[1024];
	size_t n = 0;
	uint32_t lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *pat = strchr(line, '\t');
		char *with = pat ? strchr(pat + 1, '\t') : NULL;
		cr_assert_not_null(with, "rewordings.tsv:%u: want group, pattern and replacement",
		                   lineno);
		*pat++ = '\0';
		*with++ = '\0';
		cr_assert_lt(n, MAX_REWORDS);
		reword *r = &v[n];
		cr_assert_lt(strlen(line), sizeof(r->group), "rewordings.tsv:%u: long group", lineno);
		memset(r, 0, sizeof(*r));
		strcpy(r->group, line);
		r->line = lineno;
		int err;
		PCRE2_SIZE off;
		r->re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
		                      PCRE2_UTF | PCRE2_MULTILINE, &err, &off, NULL);
		cr_assert_not_null(r->re, "rewordings.tsv:%u:%zu: bad pattern", lineno,
		                   (size_t)off + 1);
		r->with = strdup(with);
		for (size_t i = 0; i < n; i++)
			r->alt += strcmp(v[i].group, r->group) == 0;
		n++;
	}
	fclose(f);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			v[i].nalts += strcmp(v[i].group, v[j].group) == 0;
	return n;
}

/* Rewrites B by R, every match. Returns whether anything matched. */
static bool substitute(const reword *r, buf *b)
{
	PCRE2_SIZE size = b->n * 2 + 256;
	char *out = malloc(size);
	cr_assert_not_null(out);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->re, NULL);
	cr_assert_not_null(md);
	uint32_t how = PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH |
	               PCRE2_SUBSTITUTE_UNSET_EMPTY;
	int rc = pcre2_substitute(r->re, (PCRE2_SPTR)b->s, b->n, 0, how, md, NULL,
	                          (PCRE2_SPTR)r->with, PCRE2_ZERO_TERMINATED,
	                          (PCRE2_UCHAR *)out, &size);
	if (rc == PCRE2_ERROR_NOMEMORY) {
		out = realloc(out, size);
		cr_assert_not_null(out);
		rc = pcre2_substitute(r->re, (PCRE2_SPTR)b->s, b->n, 0, how, md, NULL,
		                      (PCRE2_SPTR)r->with, PCRE2_ZERO_TERMINATED,
		                      (PCRE2_UCHAR *)out, &size);
	}
	pcre2_match_data_free(md);
	cr_assert_geq(rc, 0, "rewordings.tsv:%u: substitution failed (%d)", r->line, rc);
	if (rc > 0) {
		b->n = 0;
		put(b, out, size);
	}
	free(out);
	return rc > 0;
}

/* The question of S reworded into OUT: each group in the order of its first line, by the
 * group's line numbered (the question's length) modulo (the group's size). Returns
 * whether any rewording applied. */
static bool reworded(const scenario *s, reword *v, size_t n, buf *out)
{
	put(out, s->question, s->question_len);
	bool changed = false;
	for (size_t i = 0; i < n; i++) {
		if (v[i].alt != 0)
			continue;
		uint32_t pick = (uint32_t)(s->question_len % v[i].nalts);
		for (size_t j = i; j < n; j++)
			if (strcmp(v[j].group, v[i].group) == 0 && v[j].alt == pick &&
			    substitute(&v[j], out)) {
				v[j].used++;
				changed = true;
			}
	}
	return changed;
}

Test(layout, rewordings_apply)
{
	reword v[MAX_REWORDS];
	size_t n = rewords_load(v);
	cr_assert_gt(n, 0);
	char q[] = "The company must use Amazon Kinesis Data Firehose.";
	scenario s = { .question = q, .question_len = sizeof(q) - 1 };
	buf b = { NULL, 0, 0 };
	cr_assert(reworded(&s, v, n, &b));
	cr_expect(strstr(b.s, "Kinesis Data Firehose") == NULL, "%s", b.s);
	cr_expect(strstr(b.s, "Firehose.") != NULL, "%s", b.s);
	free(b.s);
	for (size_t i = 0; i < n; i++) {
		pcre2_code_free(v[i].re);
		free(v[i].with);
	}
}

/* Every text scenario reworded. */
Test(layout, rewordings_keep_answers, .timeout = 600)
{
	reword v[MAX_REWORDS];
	size_t nv = rewords_load(v);
	suite t;
	suite_open(&t);
	size_t asked = 0;
	for (size_t i = 0; i < t.n; i += t.stride) {
		scenario s;
		cr_assert_eq(scenario_load(t.k, t.paths[i], t.d, &s), ENG_OK, "%s", t.paths[i]);
		buf b = { NULL, 0, 0 };
		if (s.question && s.has_answer && reworded(&s, v, nv, &b)) {
			ask_variant(&t, &s, t.paths[i], b.s, b.n, NULL, "reworded");
			asked++;
		}
		free(b.s);
		scenario_free(&s);
	}
	cr_expect_gt(asked, t.n / t.stride / 2, "only %zu of %zu scenarios were reworded", asked,
	             t.n);
	/* a rewording no scenario uses tests nothing */
	for (size_t i = 0; i < nv; i++) {
		cr_expect(t.stride > 1 || v[i].used > 0,
		          "rewordings.tsv:%u (%s) changes no scenario", v[i].line, v[i].group);
		pcre2_code_free(v[i].re);
		free(v[i].with);
	}
	suite_close(&t);
}
