/* SPDX-License-Identifier: MIT */
/*
 * test_defer.c - building the network late (defer.c): eng_rules_defer, then
 * eng_rules_build_for the kinds of input fact, builds the rules those facts can fire and
 * no other, and the engine then answers as one with every rule built; without a build
 * call the first reset builds them all. And mlarch's judge, asked one question with a
 * network built for it, answers as with the whole knowledge base.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "json.h"
#include "judge.h"
#include "kb.h"
#include "question.h"
#include "scenario.h"

/* Rules and background facts: `chain` rules fire from x.a: 1, through derived facts and
 * a background fact; `dead` rules need what nothing gives; two rules of one salience
 * match the same fact, so that the order of their firings is a tie that recency breaks. */
static const char *const KB =
	"facts:\n"
	"- [svc, kind, stream]\n"
	"rules:\n"
	"- id: chain-1\n  when: [{x.a: 1}]\n  then: [{assert: {y.b: 2}}]\n"
	"  because: b\n  cite: [n]\n"
	"- id: dead-1\n  when: [{z.c: yes}]\n  then: [{assert: {y.b: 3}}, {recommend: zed}]\n"
	"  because: b\n  cite: [n]\n"
	"- id: chain-2\n  when: [{y.b: 2}, [?s, kind, stream]]\n  then: [{recommend: ?s}]\n"
	"  because: b\n  cite: [n]\n"
	"- id: dead-2\n  when: [{y.b: 3}]\n  then: [{recommend: three}]\n"
	"  because: b\n  cite: [n]\n"
	"- id: chain-3\n  when: [{y.b: {in: [7, 2]}}, {not: {q: ?}}]\n"
	"  then: [{modify: [scenario, m, on]}]\n  because: b\n  cite: [n]\n"
	"- id: chain-4\n  when: [{m: on}, {x.a: ?v}]\n  then: [{recommend: modified}]\n"
	"  because: b\n  cite: [n]\n"
	"- id: tie-a\n  when: [{x.a: ?v}]\n  then: [{recommend: tie-a}]\n  because: b\n  cite: [n]\n"
	"- id: tie-b\n  when: [{x.a: ?v}]\n  then: [{recommend: tie-b}]\n  because: b\n  cite: [n]\n"
	"- id: dead-3\n  when: [{w: ?v}, {x.a: 1}]\n  then: [{recommend: w}]\n  because: b\n"
	"  cite: [n]\n";

static eng *load(const char *yaml, bool defer)
{
	eng *e = eng_new();
	cr_assert(e);
	cr_assert_eq(eng_conclusion_kind_add(e, "recommend"), ENG_OK);
	if (defer)
		eng_rules_defer(e);
	eng_diags *d = eng_diags_new(0);
	cr_assert_eq(eng_load_string(e, "test.yaml", yaml, strlen(yaml), d), ENG_OK);
	eng_diags_free(d);
	return e;
}

static eng_sym S(eng *e, const char *s)
{
	return eng_intern(e, s, strlen(s));
}

/* Resets E, asserts (scenario, x.a, 1), runs, and writes the conclusions in order. */
static void answer(eng *e, char *buf, size_t size)
{
	cr_assert_eq(eng_reset(e), ENG_OK);
	cr_assert_eq(eng_assert(e, S(e, "scenario"), S(e, "x.a"), eng_number(1), 0, NULL, NULL),
	             ENG_OK);
	cr_assert_eq(eng_run(e, NULL), ENG_OK, "%s", eng_error(e));
	size_t n = 0;
	buf[0] = '\0';
	for (eng_concl_id c = eng_concl_next(e, 0); c; c = eng_concl_next(e, c)) {
		eng_conclusion cc;
		char v[64];
		cr_assert(eng_concl_get(e, c, &cc));
		eng_value_format(e, cc.target, v, sizeof(v));
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? " " : "", v);
	}
}

Test(defer, builds_what_the_inputs_can_fire)
{
	eng *e = load(KB, true);
	cr_expect_eq(eng_rules_built(e), 0, "nothing is built before the inputs are known");
	eng_input in[] = { { S(e, "x.a"), eng_number(1) } };
	cr_assert_eq(eng_rules_build_for(e, in, 1), ENG_OK);
	cr_expect_eq(eng_rule_count(e), 9, "every rule stays known");
	cr_expect_eq(eng_rules_built(e), 6, "chain-1..4 and the two ties, not dead-1..3");
	cr_expect_eq(eng_rule_find(e, "dead-2"), 3);
	char got[256];
	answer(e, got, sizeof(got));
	cr_expect_str_eq(got, "svc modified tie-a tie-b");
	eng_free(e);
}

Test(defer, answers_as_with_every_rule_built)
{
	char want[256], got[256];
	eng *all = load(KB, false);
	answer(all, want, sizeof(want));
	cr_expect_eq(eng_rules_built(all), 9);
	eng_free(all);
	eng *e = load(KB, true);
	eng_input in[] = { { S(e, "x.a"), eng_number(1) } };
	cr_assert_eq(eng_rules_build_for(e, in, 1), ENG_OK);
	answer(e, got, sizeof(got));
	cr_expect_str_eq(got, want);
	eng_free(e);
}

Test(defer, a_fact_of_another_kind_is_refused)
{
	eng *e = load(KB, true);
	eng_input in[] = { { S(e, "x.a"), eng_number(1) },
	                   { S(e, "q"), { ENG_NONE, { 0 } } } };
	cr_assert_eq(eng_rules_build_for(e, in, 2), ENG_OK);
	cr_assert_eq(eng_reset(e), ENG_OK);
	cr_expect_eq(eng_assert(e, S(e, "scenario"), S(e, "q"), eng_symbol(e, "any"), 0, NULL,
	                        NULL), ENG_OK, "any value of q was named");
	cr_expect_eq(eng_assert(e, S(e, "scenario"), S(e, "x.a"), eng_number(2), 0, NULL, NULL),
	             ENG_ERR_INVALID, "x.a: 2 was not named");
	cr_expect(strstr(eng_error(e), "x.a"), "the error names the fact: %s", eng_error(e));
	cr_expect_eq(eng_assert(e, S(e, "scenario"), S(e, "z.c"), eng_bool(true), 0, NULL, NULL),
	             ENG_ERR_INVALID);
	eng_clear(e);
	const char *more = "rules:\n- id: late\n  when: [{x.a: 1}]\n  then: [{recommend: l}]\n"
	                   "  because: b\n  cite: [n]\n";
	eng_diags *d = eng_diags_new(0);
	cr_expect_neq(eng_load_string(e, "more.yaml", more, strlen(more), d), ENG_OK,
	              "no rule can be added once the network is built for some inputs");
	eng_diags_free(d);
	cr_expect_eq(eng_rules_build_for(e, in, 2), ENG_ERR_INVALID, "built once only");
	eng_free(e);
}

Test(defer, the_first_reset_builds_every_rule)
{
	eng *e = load(KB, true);
	char got[256];
	answer(e, got, sizeof(got));
	cr_expect_eq(eng_rules_built(e), 9);
	cr_expect_str_eq(got, "svc modified tie-a tie-b");
	cr_expect_eq(eng_rules_build_for(e, NULL, 0), ENG_ERR_INVALID, "working memory holds facts");
	eng_free(e);
	/* a knowledge base of no rule (a lexicon only) still gets the check of its inputs */
	e = load("facts:\n- [k, v, 1]\n", true);
	eng_input in[] = { { S(e, "x.a"), { ENG_NONE, { 0 } } } };
	cr_expect_eq(eng_rules_build_for(e, in, 1), ENG_OK);
	cr_assert_eq(eng_reset(e), ENG_OK);
	cr_expect_eq(eng_assert(e, S(e, "scenario"), S(e, "x.a"), eng_number(5), 0, NULL, NULL),
	             ENG_OK);
	cr_expect_eq(eng_assert(e, S(e, "scenario"), S(e, "x.b"), eng_number(5), 0, NULL, NULL),
	             ENG_ERR_INVALID);
	eng_free(e);
}

Test(defer, a_computed_attribute_makes_every_rule_live)
{
	char yaml[2048];
	snprintf(yaml, sizeof(yaml), "%s- id: any-attr\n  when: [{x.a: 1}]\n"
	         "  then: [{assert: [scenario, {calc: \"symbol('z.', 'c')\"}, yes]}]\n"
	         "  because: b\n  cite: [n]\n", KB);
	eng *e = load(yaml, true);
	eng_input in[] = { { S(e, "x.a"), eng_number(1) } };
	cr_assert_eq(eng_rules_build_for(e, in, 1), ENG_OK);
	cr_expect_eq(eng_rules_built(e), 10);
	char got[256];
	answer(e, got, sizeof(got));
	cr_expect(strstr(got, "zed"), "dead-1 fires on the computed z.c: %s", got);
	eng_free(e);
}

/* ---- rules compiled when needed (eng_load_doc_lazy) ---- */

/* The summaries image of YAML's rules, as a first load writes it for the cache. */
static unsigned char *deps_of(const char *yaml, size_t *len)
{
	eng *e = load(yaml, true);
	unsigned char *img = NULL;
	cr_expect_eq(eng_rules_deps_image(e, 1, eng_rule_count(e), &img, len), ENG_ERR_INVALID,
	             "a range past the rules");
	cr_expect_null(img);
	cr_assert_eq(eng_rules_deps_image(e, 0, eng_rule_count(e), &img, len), ENG_OK);
	eng_free(e);
	return img;
}

/* An engine like load(YAML, true), its rules read with the image IMG[0..LEN) of DOC. */
static eng *load_lazy(const eng_doc *doc, const unsigned char *img, size_t len,
                      eng_status want)
{
	eng *e = eng_new();
	cr_assert(e);
	cr_assert_eq(eng_conclusion_kind_add(e, "recommend"), ENG_OK);
	eng_rules_defer(e);
	cr_assert_eq(eng_load_doc_lazy(e, doc, img, len), want);
	return e;
}

static eng_doc *doc_of(const char *yaml)
{
	eng_status st;
	eng_doc *doc = eng_doc_read_string("test.yaml", yaml, strlen(yaml), NULL, NULL, &st);
	cr_assert_not_null(doc);
	return doc;
}

Test(defer, lazy_rules_answer_as_compiled_ones)
{
	char want[256], got[256];
	eng *all = load(KB, true);
	eng_input in[] = { { S(all, "x.a"), eng_number(1) } };
	cr_assert_eq(eng_rules_build_for(all, in, 1), ENG_OK);
	answer(all, want, sizeof(want));
	size_t len;
	unsigned char *img = deps_of(KB, &len);
	eng_doc *doc = doc_of(KB);
	eng *e = load_lazy(doc, img, len, ENG_OK);
	cr_expect_eq(eng_rule_count(e), 9);
	cr_expect_eq(eng_rule_find(e, "dead-2"), 3, "ids are known before the rules compile");
	eng_input in2[] = { { S(e, "x.a"), eng_number(1) } };
	cr_assert_eq(eng_rules_build_for(e, in2, 1), ENG_OK);
	cr_expect_eq(eng_rules_built(e), eng_rules_built(all), "the same rules are live");
	answer(e, got, sizeof(got));
	cr_expect_str_eq(got, want);
	/* a rule never built still tells what it is, compiled when asked */
	eng_rule_info a, b;
	for (size_t i = 0; i < eng_rule_count(e); i++) {
		cr_assert(eng_rule_get(e, i, &b), "rule %zu", i);
		cr_assert(eng_rule_get(all, i, &a));
		cr_expect_str_eq(b.id, a.id);
		cr_expect_str_eq(b.because, a.because);
		cr_expect_eq(b.line, a.line);
		cr_expect_eq(b.nconds, a.nconds);
		cr_expect_eq(b.salience, a.salience);
		char ca[128], cb[128];
		eng_rule_cond_format(all, i, 0, ca, sizeof(ca));
		eng_rule_cond_format(e, i, 0, cb, sizeof(cb));
		cr_expect_str_eq(cb, ca, "rule %zu", i);
	}
	eng_whynot w;
	cr_expect_eq(eng_rule_whynot(e, 3, &w), ENG_OK);
	cr_expect_not(w.fired);
	eng_free(e);
	eng_free(all);
	/* with every rule built at the first reset */
	e = load_lazy(doc, img, len, ENG_OK);
	answer(e, got, sizeof(got));
	cr_expect_eq(eng_rules_built(e), 9);
	cr_expect_str_eq(got, "svc modified tie-a tie-b");
	eng_free(e);
	eng_doc_free(doc);
	free(img);
}

/* An image that does not describe the document, or is damaged, adds nothing. */
Test(defer, lazy_rules_refuse_another_image)
{
	size_t len;
	unsigned char *img = deps_of(KB, &len);
	eng_doc *doc = doc_of(KB);
	for (size_t cut = 0; cut < len; cut++) {
		eng *e = load_lazy(doc, img, cut, ENG_ERR_INVALID);
		cr_expect_eq(eng_rule_count(e), 0, "cut at %zu", cut);
		eng_free(e);
	}
	/* every byte changed: refused, or read as some summaries of these rules, never past
	 * its end (ASan) */
	for (size_t i = 0; i < len; i++) {
		unsigned char keep = img[i];
		img[i] ^= 0x5a;
		eng *e = eng_new();
		eng_rules_defer(e);
		eng_status st = eng_load_doc_lazy(e, doc, img, len);
		cr_expect(st == ENG_OK || st == ENG_ERR_INVALID, "byte %zu: %d", i, st);
		cr_expect_eq(eng_rule_count(e), st == ENG_OK ? 9 : 0, "byte %zu", i);
		eng_free(e);
		img[i] = keep;
	}
	/* the image of other rules */
	const char *other = "rules:\n- id: chain-1\n  when: [{x.a: 1}]\n  then: [{recommend: x}]\n"
	                    "  because: b\n  cite: [n]\n";
	eng_doc *od = doc_of(other);
	eng *e = load_lazy(od, img, len, ENG_ERR_INVALID);
	cr_expect_eq(eng_rule_count(e), 0);
	eng_free(e);
	eng_doc_free(od);
	eng_doc_free(doc);
	free(img);
}

/* A document whose rule no longer compiles (its tree was not what the image was made
 * from): the rule is known, and what needs it fails with a message. */
Test(defer, a_lazy_rule_that_does_not_compile)
{
	const char *good = "rules:\n- id: r\n  when: [{x.a: 1}]\n  then: [{recommend: x}]\n"
	                   "  because: b\n  cite: [n]\n";
	const char *bad = "rules:\n- id: r\n  when: [{x.a: 1}]\n  then: [{recommend: ?nope}]\n"
	                  "  because: b\n  cite: [n]\n";
	size_t len;
	unsigned char *img = deps_of(good, &len);
	eng_doc *doc = doc_of(bad);
	eng *e = load_lazy(doc, img, len, ENG_OK);
	eng_rule_info info;
	cr_expect_not(eng_rule_get(e, 0, &info));
	eng_input in[] = { { S(e, "x.a"), eng_number(1) } };
	cr_expect_eq(eng_rules_build_for(e, in, 1), ENG_ERR_LOAD);
	cr_expect(strstr(eng_error(e), "`r`"), "%s", eng_error(e));
	eng_free(e);
	eng_doc_free(doc);
	free(img);
}

static kb *kb_of_rules(void)
{
	eng_diags *d = eng_diags_new(0);
	kb_load_opts opts = { NULL, getenv("MLARCH_CACHE_DIR"), false };
	kb *k = NULL;
	cr_assert_eq(kb_load_with(SRCDIR "/rules", &opts, d, &k, NULL), ENG_OK);
	eng_diags_free(d);
	return k;
}

/* The JSON answer to TEXT[0..LEN) from K. */
static char *judged(kb *k, const char *text, size_t len)
{
	question q;
	cr_assert_eq(question_parse(text, len, 0, &q, NULL), Q_OK);
	judgement j;
	cr_assert_eq(judge_question(k, &q, &j), ENG_OK, "%s", eng_error(k->e));
	char *json = json_judgement(k, &j);
	cr_assert_not_null(json);
	judgement_free(&j);
	return json;
}

/* Every 40th text scenario (every 40 * Nth with MLARCH_TEST_STRIDE=N, `make valgrind`):
 * judged by a knowledge base of its own that builds only what the question can fire, and
 * by one shared knowledge base with every rule built. */
Test(defer, one_question_answers_as_the_whole_knowledge_base, .timeout = 300)
{
	char *root = SRCDIR "/scenarios";
	size_t n = 0, asked = 0;
	const char *bad = NULL;
	char **paths = scenario_find(&root, 1, &n, &bad);
	cr_assert_not_null(paths, "scenarios: %s", bad ? bad : "?");
	size_t step = 40;
	const char *env = getenv("MLARCH_TEST_STRIDE");
	if (env && atoi(env) > 0)
		step *= (size_t)atoi(env);
	kb *all = kb_of_rules();
	eng_diags *d = eng_diags_new(0);
	for (size_t i = 0; i < n; i += step) {
		scenario s;
		cr_assert_eq(scenario_load(all, paths[i], d, &s), ENG_OK, "%s", paths[i]);
		if (s.question) {
			char *want = judged(all, s.question, s.question_len);
			cr_expect_eq(eng_rules_built(all->e), eng_rule_count(all->e));
			kb *one = kb_of_rules();
			one->one_question = true;
			char *got = judged(one, s.question, s.question_len);
			cr_expect_lt(eng_rules_built(one->e), eng_rule_count(one->e), "%s", paths[i]);
			cr_expect_str_eq(got, want, "%s", paths[i]);
			free(got);
			free(want);
			kb_free(one);
			asked++;
		}
		scenario_free(&s);
	}
	cr_expect_gt(asked, n / step / 2, "only %zu questions were asked", asked);
	eng_diags_free(d);
	kb_free(all);
	scenario_paths_free(paths, n);
}
