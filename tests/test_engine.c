/* SPDX-License-Identifier: MIT */
/*
 * test_engine.c - the engine's behaviour through its public API, with rules written in
 * the YAML rule language: working memory, joins, negation, tests and arithmetic,
 * salience and recency, refraction, chaining, logical support, procedural actions,
 * limits, justifications, near misses and the rule views. Facts in the tables are
 * "subject attribute value" triples; yes/no are booleans, numbers numbers, the rest symbols.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"

static eng *load(const char *yaml)
{
	eng *e = eng_new();
	cr_assert(e);
	cr_assert_eq(eng_conclusion_kind_add(e, "recommend"), ENG_OK);
	cr_assert_eq(eng_conclusion_kind_add(e, "reject"), ENG_OK);
	cr_assert_eq(eng_conclusion_kind_add(e, "answer"), ENG_OK);
	eng_diags *d = eng_diags_new(0);
	eng_status st = eng_load_string(e, "test.yaml", yaml, strlen(yaml), d);
	if (st) {
		for (size_t i = 0; i < eng_diags_count(d); i++) {
			const eng_diag *g = eng_diags_get(d, i);
			fprintf(stderr, "%u:%u: %s\n", g->line, g->col, g->message);
		}
	}
	cr_assert_eq(st, ENG_OK, "rules do not load");
	eng_diags_free(d);
	cr_assert_eq(eng_reset(e), ENG_OK);
	return e;
}

static eng_sym S(eng *e, const char *s)
{
	return eng_intern(e, s, strlen(s));
}

static eng_fact_id put(eng *e, const char *s, const char *a, eng_value v)
{
	eng_fact_id id = 0;
	cr_assert_eq(eng_assert(e, S(e, s), S(e, a), v, 0, &id, NULL), ENG_OK);
	return id;
}

static eng_fact_id put_sym(eng *e, const char *s, const char *a, const char *v)
{
	return put(e, s, a, eng_symbol(e, v));
}

/* The live conclusions as "kind target" lines, in order. */
static void concls(eng *e, char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = '\0';
	for (eng_concl_id c = eng_concl_next(e, 0); c; c = eng_concl_next(e, c)) {
		eng_conclusion cc;
		char v[128];
		cr_assert(eng_concl_get(e, c, &cc));
		eng_value_format(e, cc.target, v, sizeof(v));
		n += (size_t)snprintf(buf + n, size - n, "%s%s %s", n ? "; " : "",
		                      eng_sym_name(e, cc.kind), v);
	}
}

static void run(eng *e)
{
	cr_assert_eq(eng_run(e, NULL), ENG_OK, "run failed: %s", eng_error(e));
}

Test(wm, duplicate_facts_are_one_fact)
{
	eng *e = eng_new();
	bool added;
	eng_fact_id a, b;
	cr_assert_eq(eng_assert(e, S(e, "x"), S(e, "y"), eng_number(1), 7, &a, &added), ENG_OK);
	cr_assert(added);
	cr_assert_eq(eng_assert(e, S(e, "x"), S(e, "y"), eng_number(1.0), 9, &b, &added), ENG_OK);
	cr_assert_not(added);
	cr_assert_eq(a, b);
	cr_assert_eq(eng_fact_count(e), 1);
	/* typed: the symbol 1 and the string '1' are not the number 1 */
	eng_assert(e, S(e, "x"), S(e, "y"), eng_symbol(e, "1"), 0, &b, &added);
	cr_assert(added);
	eng_assert(e, S(e, "x"), S(e, "y"), eng_string(e, "1"), 0, &b, &added);
	cr_assert(added);
	cr_assert_eq(eng_fact_count(e), 3);
	uint64_t origin;
	eng_triple t;
	cr_assert(eng_fact_get(e, a, &t, &origin));
	cr_assert_eq(origin, 7);
	cr_assert_eq(eng_retract(e, a), ENG_OK);
	cr_assert_eq(eng_retract(e, a), ENG_ERR_NOT_FOUND);
	cr_assert_eq(eng_fact_count(e), 2);
	cr_assert_eq(eng_assert(e, 0, S(e, "y"), eng_number(1), 0, NULL, NULL), ENG_ERR_INVALID);
	eng_free(e);
}

typedef struct {
	const char *name;
	const char *rules;
	const char *facts;      /* "s a v; s a v" (v: number if it reads as one, else symbol) */
	const char *want;       /* conclusions after a run */
} match_case;

static void put_facts(eng *e, const char *spec)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *save = NULL, *f = strtok_r(buf, ";", &save); f; f = strtok_r(NULL, ";", &save)) {
		char s[64], a[64], v[64];
		cr_assert_eq(sscanf(f, " %63s %63s %63s", s, a, v), 3, "bad fact spec %s", f);
		char *end;
		double d = strtod(v, &end);
		if (!strcmp(v, "yes") || !strcmp(v, "no"))
			put(e, s, a, eng_bool(v[0] == 'y'));
		else
			put(e, s, a, *end ? eng_symbol(e, v) : eng_number(d));
	}
}

static const match_case match_cases[] = {
	{ "shorthand is about scenario",
	  "rules:\n- id: r\n  when: [{data.arrival: streaming}]\n  then: [{recommend: kdf}]\n"
	  "  because: b\n  cite: [n]\n",
	  "scenario data.arrival streaming", "recommend kdf" },
	{ "constant mismatch does not fire",
	  "rules:\n- id: r\n  when: [{data.arrival: streaming}]\n  then: [{recommend: kdf}]\n"
	  "  because: b\n  cite: [n]\n",
	  "scenario data.arrival batch; other data.arrival streaming", "" },
	{ "join on a variable",
	  "rules:\n- id: r\n  when:\n  - [option, uses, ?a]\n  - [?a, device, gpu]\n"
	  "  then: [{reject: ?a}]\n  because: b\n  cite: [n]\n",
	  "option uses xgb; option uses cnn; cnn device gpu; xgb device cpu", "reject cnn" },
	{ "in set",
	  "rules:\n- id: r\n  when: [{fmt: {in: [parquet, orc]}}]\n  then: [{recommend: athena}]\n"
	  "  because: b\n  cite: [n]\n",
	  "scenario fmt orc", "recommend athena" },
	{ "not-in set",
	  "rules:\n- id: r\n  when: [{fmt: {not-in: [parquet, orc]}}]\n  then: [{reject: athena}]\n"
	  "  because: b\n  cite: [n]\n",
	  "scenario fmt orc", "" },
	{ "numeric comparison against a constant",
	  "rules:\n- id: r\n  when: [{size: {'>=': 1000}}]\n  then: [{recommend: emr}]\n"
	  "  because: b\n  cite: [n]\n",
	  "scenario size 5000", "recommend emr" },
	{ "comparison with a bound variable",
	  "rules:\n- id: r\n  when:\n  - need: ?n\n  - [?i, mem, {as: ?m, '>=': ?n}]\n"
	  "  then: [{recommend: ?i}]\n  because: b\n  cite: [n]\n",
	  "scenario need 16; small mem 8; big mem 32", "recommend big" },
	{ "negation with no match fires",
	  "rules:\n- id: r\n  when: [{a: 1}, {not: {b: 1}}]\n  then: [{recommend: x}]\n"
	  "  because: b\n  cite: [n]\n",
	  "scenario a 1", "recommend x" },
	{ "negation blocked",
	  "rules:\n- id: r\n  when: [{a: 1}, {not: {b: 1}}]\n  then: [{recommend: x}]\n"
	  "  because: b\n  cite: [n]\n",
	  "scenario a 1; scenario b 1", "" },
	{ "negation with a variable bound earlier",
	  "rules:\n- id: r\n  when:\n  - [option, uses, ?s]\n  - not: [?s, serverless, yes]\n"
	  "  then: [{reject: ?s}]\n  because: b\n  cite: [n]\n",
	  "option uses emr; option uses kdf; kdf serverless yes", "reject emr" },
	{ "test with arithmetic",
	  "rules:\n- id: r\n  when:\n  - w: ?w\n  - r: ?r\n  - test: \"?w / 1000 > ?r / 2000\"\n"
	  "  then: [{recommend: write-bound}]\n  because: b\n  cite: [n]\n",
	  "scenario w 5000; scenario r 4000", "recommend write-bound" },
	{ "calc in an action: the Kinesis shard count of note de-1",
	  "rules:\n- id: r\n  when: [{kb: ?kb}, {rps: ?rps}, {c: ?c}]\n"
	  "  then: [{answer: {calc: \"ceil(max(?kb * ?rps / 1000, ?kb * ?rps * ?c / 2000))\"}}]\n"
	  "  because: b\n  cite: [de-1]\n",
	  "scenario kb 5; scenario rps 1000; scenario c 3", "answer 8" },
	{ "a variable used twice in one pattern",
	  "rules:\n- id: r\n  when: [[?x, same, ?x]]\n  then: [{recommend: ?x}]\n"
	  "  because: b\n  cite: [n]\n",
	  "a same a; a same b", "recommend a" },
	{ "chaining: derived facts fire other rules",
	  "rules:\n- id: r1\n  when: [{a: 1}]\n  then: [{assert: {b: 2}}]\n  because: b\n  cite: [n]\n"
	  "- id: r2\n  when: [{b: 2}]\n  then: [{recommend: chained}]\n  because: b\n  cite: [n]\n",
	  "scenario a 1", "recommend chained" },
	{ "one firing per distinct match",
	  "rules:\n- id: r\n  when: [[option, uses, ?s]]\n  then: [{recommend: ?s}]\n"
	  "  because: b\n  cite: [n]\n",
	  "option uses a; option uses b", "recommend b; recommend a" },
	{ "rule with only a negation",
	  "rules:\n- id: r\n  when: [{not: {a: 1}}]\n  then: [{recommend: empty}]\n"
	  "  because: b\n  cite: [n]\n",
	  "", "recommend empty" },
	{ "background facts join scenario facts",
	  "facts:\n- [xgb, device, cpu]\n- subject: cnn\n  device: [gpu, cpu]\n"
	  "rules:\n- id: r\n  when: [[option, uses, ?a], [?a, device, gpu]]\n"
	  "  then: [{recommend: ?a}]\n  because: b\n  cite: [n]\n",
	  "option uses cnn; option uses xgb", "recommend cnn" },
	{ "bind: later actions read the computed value",
	  "rules:\n- id: r\n  when: [{n: ?n}]\n"
	  "  then:\n  - bind: [?d, {calc: \"if(?n > 2, ?n * 2, 0)\"}]\n"
	  "  - bind: [?s, {calc: \"symbol(x, ?d)\"}]\n  - recommend: ?s\n"
	  "  - reject: {calc: \"?d + 1\"}\n  because: b {?d}\n  cite: [n]\n",
	  "scenario n 3", "recommend x6; reject 7" },
	{ "not-in with bound variables: no third value",
	  "rules:\n- id: r\n  when:\n  - [?a, to, ?b]\n  - [?a, to, {as: ?c, \"!=\": ?b}]\n"
	  "  - not: [?a, to, {not-in: [?b, ?c]}]\n  then: [{recommend: ?a}]\n"
	  "  because: b\n  cite: [n]\n",
	  "v to p; v to q; w to p; w to q; w to r", "recommend v; recommend v" },
	{ "not-in with variables and constants",
	  "rules:\n- id: r\n  when:\n  - [?a, to, ?b]\n"
	  "  - [?a, to, {as: ?c, not-in: [?b, z, y]}]\n  then: [{recommend: ?c}]\n"
	  "  because: b\n  cite: [n]\n",
	  "v to p; v to z", "recommend p" },
};

Test(match, cases)
{
	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const match_case *c = &match_cases[i];
		eng *e = load(c->rules);
		if (*c->facts)
			put_facts(e, c->facts);
		run(e);
		char got[1024];
		concls(e, got, sizeof(got));
		cr_expect_str_eq(got, c->want, "case '%s': got [%s], want [%s]", c->name, got, c->want);
		eng_free(e);
	}
}

Test(agenda, salience_then_recency)
{
	eng *e = load("rules:\n"
	              "- id: low\n  salience: -5\n  when: [{go: ?x}]\n  then: [{recommend: low}]\n"
	              "  because: b\n  cite: [n]\n"
	              "- id: high\n  salience: 10\n  when: [{go: ?x}]\n  then: [{recommend: high}]\n"
	              "  because: b\n  cite: [n]\n"
	              "- id: mid\n  when: [{go: ?x}]\n  then: [{recommend: ?x}]\n"
	              "  because: b\n  cite: [n]\n");
	put_sym(e, "scenario", "go", "first");
	put_sym(e, "scenario", "go", "second");
	run(e);
	char got[512];
	concls(e, got, sizeof(got));
	/* high fires first (twice: newest match first), then mid newest first, then low */
	cr_assert_str_eq(got, "recommend high; recommend high; recommend second; "
	                 "recommend first; recommend low; recommend low");
	eng_free(e);
}

Test(agenda, refraction_and_refire_after_retract)
{
	eng *e = load("rules:\n- id: r\n  when: [{a: 1}]\n  then: [{recommend: x}]\n"
	              "  because: b\n  cite: [n]\n");
	eng_fact_id f = put(e, "scenario", "a", eng_number(1));
	uint64_t fired;
	cr_assert_eq(eng_run(e, &fired), ENG_OK);
	cr_assert_eq(fired, 1);
	cr_assert_eq(eng_run(e, &fired), ENG_OK);
	cr_assert_eq(fired, 0, "refraction: the same match fires once");
	cr_assert_eq(eng_retract(e, f), ENG_OK);
	cr_assert_eq(eng_concl_next(e, 0), 0, "the conclusion went with its fact");
	put(e, "scenario", "a", eng_number(1));
	cr_assert_eq(eng_run(e, &fired), ENG_OK);
	cr_assert_eq(fired, 1, "a new fact is a new match");
	eng_free(e);
}

Test(support, derived_facts_withdrawn_transitively)
{
	eng *e = load("rules:\n"
	              "- id: r1\n  when: [{a: 1}]\n  then: [{assert: {b: 1}}]\n  because: b\n  cite: [n]\n"
	              "- id: r2\n  when: [{b: 1}]\n  then: [{assert: {c: 1}}, {recommend: c}]\n"
	              "  because: b\n  cite: [n]\n");
	eng_fact_id a = put(e, "scenario", "a", eng_number(1));
	run(e);
	cr_assert_eq(eng_fact_count(e), 3);
	eng_fact_id c = eng_fact_find(e, S(e, "scenario"), S(e, "c"), eng_number(1));
	cr_assert(c);
	const eng_just *why = eng_fact_why(e, c);
	cr_assert(why);
	eng_rule_info info;
	cr_assert(eng_rule_get(e, why->rule, &info));
	cr_assert_str_eq(info.id, "r2");
	cr_assert_eq(why->nfacts, 1);
	cr_assert_null(eng_fact_why(e, a), "input facts have no justification");
	cr_assert_eq(eng_retract(e, a), ENG_OK);
	cr_assert_eq(eng_fact_count(e), 0, "b and c rested on a");
	cr_assert_eq(eng_concl_next(e, 0), 0);
	eng_free(e);
}

Test(support, negation_withdraws_when_blocked)
{
	eng *e = load("rules:\n- id: r\n  when: [{a: 1}, {not: {stop: yes}}]\n"
	              "  then: [{assert: {d: 1}}, {recommend: x}]\n  because: b\n  cite: [n]\n");
	put(e, "scenario", "a", eng_number(1));
	run(e);
	cr_assert(eng_fact_find(e, S(e, "scenario"), S(e, "d"), eng_number(1)));
	put(e, "scenario", "stop", eng_bool(true));
	cr_assert_eq(eng_fact_find(e, S(e, "scenario"), S(e, "d"), eng_number(1)), 0);
	cr_assert_eq(eng_concl_next(e, 0), 0);
	eng_free(e);
}

/* A rule whose assertion meets its own negation undoes the match it fired on: the firing
 * supports nothing, so the fact is not left behind with a dead supporter (it used to stay
 * after its input was retracted, and rules built on it kept their conclusions). */
Test(support, assertion_undoing_its_own_match)
{
	eng *e = load("rules:\n"
	              "- id: derive\n  when: [{col: ?c}, {not: {label: ?}}]\n"
	              "  then: [{assert: {label: ?c}}]\n  because: b\n  cite: [n]\n"
	              "- id: score\n  when: [{label: first}]\n  then: [{recommend: x}]\n"
	              "  because: b\n  cite: [n]\n");
	eng_limits l;
	eng_limits_get(e, &l);
	l.max_firings = 40;
	eng_limits_set(e, &l);
	eng_fact_id col = put_sym(e, "scenario", "col", "first");
	uint64_t fired;
	cr_assert_eq(eng_run(e, &fired), ENG_ERR_LIMIT_FIRINGS, "the rule re-enables itself");
	cr_assert(strstr(eng_error(e), "derive"), "the error names the rule: %s", eng_error(e));
	eng_retract(e, col);
	cr_assert_eq(eng_fact_find(e, S(e, "scenario"), S(e, "label"), eng_symbol(e, "first")), 0,
	             "no derived fact outlives its input");
	char buf[256];
	concls(e, buf, sizeof(buf));
	cr_assert_str_eq(buf, "", "no conclusion outlives its input");
	eng_free(e);
}

Test(support, two_supporters_keep_a_fact)
{
	eng *e = load("rules:\n"
	              "- id: r1\n  when: [{a: 1}]\n  then: [{assert: {d: 1}}]\n  because: b\n  cite: [n]\n"
	              "- id: r2\n  when: [{b: 1}]\n  then: [{assert: {d: 1}}]\n  because: b\n  cite: [n]\n");
	eng_fact_id a = put(e, "scenario", "a", eng_number(1));
	eng_fact_id b = put(e, "scenario", "b", eng_number(1));
	run(e);
	eng_retract(e, a);
	cr_assert(eng_fact_find(e, S(e, "scenario"), S(e, "d"), eng_number(1)));
	eng_retract(e, b);
	cr_assert_eq(eng_fact_find(e, S(e, "scenario"), S(e, "d"), eng_number(1)), 0);
	eng_free(e);
}

Test(procedural, retract_and_modify)
{
	eng *e = load("rules:\n"
	              "- id: count\n  when: [{n: {as: ?n, '<': 5}}]\n"
	              "  then: [{modify: [scenario, n, {calc: \"?n + 1\"}]}]\n  because: b\n  cite: [n]\n"
	              "- id: done\n  when: [{n: 5}, {tmp: ?t}]\n  then: [{retract: [scenario, tmp, ?t]}]\n"
	              "  because: b\n  cite: [n]\n");
	put(e, "scenario", "n", eng_number(0));
	put(e, "scenario", "tmp", eng_number(1));
	uint64_t fired;
	cr_assert_eq(eng_run(e, &fired), ENG_OK, "%s", eng_error(e));
	cr_assert_eq(fired, 6);
	cr_assert(eng_fact_find(e, S(e, "scenario"), S(e, "n"), eng_number(5)));
	cr_assert_eq(eng_fact_find(e, S(e, "scenario"), S(e, "n"), eng_number(4)), 0);
	cr_assert_eq(eng_fact_find(e, S(e, "scenario"), S(e, "tmp"), eng_number(1)), 0);
	cr_assert_eq(eng_fact_count(e), 1);
	eng_free(e);
}

/* A procedural firing's assertions are matched once its actions are done: a fact it
 * asserts and retracts again matches nothing, only the last of two modifies matches,
 * and a blocker it retracts no longer blocks what its new facts complete. */
Test(procedural, assertions_match_when_the_firing_ends)
{
	eng *e = load("rules:\n"
	              "- id: step\n  when: [{phase: 1}]\n"
	              "  then: [{assert: {tmp: yes}}, {assert: {keep: yes}},\n"
	              "         {retract: [scenario, tmp, yes]}, {modify: [scenario, phase, 2]},\n"
	              "         {modify: [scenario, phase, 3]}, {retract: [scenario, stop, yes]}]\n"
	              "  because: b\n  cite: [n]\n"
	              "- id: seen\n  when: [{tmp: yes}]\n  then: [{recommend: tmp}]\n"
	              "  because: b\n  cite: [n]\n"
	              "- id: two\n  when: [{phase: 2}]\n  then: [{recommend: two}]\n"
	              "  because: b\n  cite: [n]\n"
	              "- id: three\n  when: [{phase: 3}, {keep: yes}, {not: {stop: yes}}]\n"
	              "  then: [{recommend: three}]\n  because: b\n  cite: [n]\n");
	put(e, "scenario", "phase", eng_number(1));
	put(e, "scenario", "stop", eng_bool(true));
	uint64_t fired;
	cr_assert_eq(eng_run(e, &fired), ENG_OK, "%s", eng_error(e));
	cr_assert_eq(fired, 2);
	char buf[256];
	concls(e, buf, sizeof(buf));
	cr_assert_str_eq(buf, "recommend three");
	cr_assert_eq(eng_fact_count(e), 2);
	cr_assert_eq(eng_fact_find(e, S(e, "scenario"), S(e, "tmp"), eng_bool(true)), 0);
	/* the network holds what working memory holds: retracting keep withdraws three */
	cr_assert_eq(eng_retract(e, eng_fact_find(e, S(e, "scenario"), S(e, "keep"),
	                                          eng_bool(true))), ENG_OK);
	concls(e, buf, sizeof(buf));
	cr_assert_str_eq(buf, "");
	eng_free(e);
}

Test(limits, firing_cap_names_the_rule)
{
	eng *e = load("rules:\n- id: forever\n  when: [{n: ?n}]\n"
	              "  then: [{modify: [scenario, n, {calc: \"?n + 1\"}]}]\n  because: b\n  cite: [n]\n");
	eng_limits l;
	eng_limits_get(e, &l);
	l.max_firings = 50;
	eng_limits_set(e, &l);
	put(e, "scenario", "n", eng_number(0));
	uint64_t fired;
	cr_assert_eq(eng_run(e, &fired), ENG_ERR_LIMIT_FIRINGS);
	cr_assert_eq(fired, 50);
	cr_assert(strstr(eng_error(e), "forever"), "error names the rule: %s", eng_error(e));
	cr_assert(strstr(eng_error(e), "50"), "error names the limit: %s", eng_error(e));
	cr_assert(strstr(eng_error(e), "raise it with --limit firings=100 (eng_limits.max_firings)"),
	          "error says how to raise it: %s", eng_error(e));
	eng_free(e);
}

Test(limits, fact_cap)
{
	eng *e = load("rules:\n- id: grow\n  when: [{n: ?n}]\n"
	              "  then: [{assert: {n: {calc: \"?n + 1\"}}}]\n  because: b\n  cite: [n]\n");
	eng_limits l;
	eng_limits_get(e, &l);
	l.max_facts = 10;
	eng_limits_set(e, &l);
	put(e, "scenario", "n", eng_number(0));
	cr_assert_eq(eng_run(e, NULL), ENG_ERR_LIMIT_FACTS);
	cr_assert(strstr(eng_error(e), "grow"), "%s", eng_error(e));
	cr_assert(strstr(eng_error(e), "fact limit of 10 reached") &&
	          strstr(eng_error(e), "raise it with --limit facts=20"), "%s", eng_error(e));
	cr_assert_eq(eng_fact_count(e), 10);
	eng_free(e);
}

Test(limits, defaults_and_document_limits)
{
	eng *e = eng_new();
	cr_assert_not_null(e);
	eng_limits def, got;
	eng_limits_default(&def);
	eng_limits_get(e, &got);
	cr_expect(def.max_firings == 100000 && def.max_facts == 1000000 &&
	          def.doc.max_bytes == 16u << 20 && def.doc.max_depth == 64 &&
	          def.doc.max_aliases == 1000 && def.doc.max_nodes == 1000000);
	cr_expect_eq(memcmp(&def, &got, sizeof(def)), 0, "a new engine has the defaults");
	/* eng_load_string reads within the engine's document limits; 0 fields are defaults */
	eng_limits l = def;
	memset(&l.doc, 0, sizeof(l.doc));
	l.doc.max_depth = 2;
	eng_limits_set(e, &l);
	eng_limits_get(e, &got);
	cr_expect_eq(got.doc.max_depth, 2);
	cr_expect_eq(got.doc.max_bytes, def.doc.max_bytes);
	eng_diags *d = eng_diags_new(0);
	const char *deep = "facts:\n  - [a, b, [[1]]]\n";
	cr_expect_eq(eng_load_string(e, "deep.yaml", deep, strlen(deep), d), ENG_ERR_LOAD);
	cr_expect(eng_diags_count(d) && strstr(eng_diags_get(d, 0)->message,
	                                         "(limit yaml-depth); raise it with --limit "
	                                         "yaml-depth=4"), "%s",
	          eng_diags_count(d) ? eng_diags_get(d, 0)->message : "no diagnostic");
	eng_diags_free(d);
	eng_free(e);
}

Test(eval, runtime_error_names_rule)
{
	eng *e = load("rules:\n- id: div\n  when: [{n: ?n}]\n"
	              "  then: [{assert: {m: {calc: \"1 / ?n\"}}}]\n  because: b\n  cite: [n]\n");
	put(e, "scenario", "n", eng_number(0));
	cr_assert_eq(eng_run(e, NULL), ENG_ERR_EVAL);
	cr_assert(strstr(eng_error(e), "div"), "%s", eng_error(e));
	eng_free(e);
}

Test(reset, background_facts_come_back)
{
	eng *e = load("facts:\n- [k, v, 1]\n"
	              "rules:\n- id: r\n  when: [[k, v, 1], {go: yes}]\n  then: [{recommend: k}]\n"
	              "  because: b\n  cite: [n]\n");
	cr_assert_eq(eng_fact_count(e), 1);
	put(e, "scenario", "go", eng_bool(true));
	run(e);
	cr_assert_neq(eng_concl_next(e, 0), 0);
	cr_assert_eq(eng_reset(e), ENG_OK);
	cr_assert_eq(eng_fact_count(e), 1);
	cr_assert_eq(eng_concl_next(e, 0), 0);
	put(e, "scenario", "go", eng_bool(true));
	run(e);
	cr_assert_neq(eng_concl_next(e, 0), 0, "the network works again after a reset");
	eng_free(e);
}

Test(whynot, first_failing_condition_and_actual_value)
{
	eng *e = load("rules:\n- id: r\n  when:\n  - data.arrival: streaming\n"
	              "  - output.format: parquet\n  - not: {ops.manage_servers: yes}\n"
	              "  then: [{recommend: kdf}]\n  because: b\n  cite: [n]\n");
	put_sym(e, "scenario", "data.arrival", "streaming");
	put_sym(e, "scenario", "output.format", "csv");
	run(e);
	eng_whynot w;
	cr_assert_eq(eng_rule_whynot(e, 0, &w), ENG_OK);
	cr_assert_not(w.fired);
	cr_assert_eq(w.cond, 1);
	cr_assert_eq(w.matched, 1);
	cr_assert(w.has_actual);
	char buf[128];
	eng_value_format(e, w.actual, buf, sizeof(buf));
	cr_assert_str_eq(buf, "csv");
	eng_rule_cond_format(e, 0, 1, buf, sizeof(buf));
	cr_assert_str_eq(buf, "output.format: parquet");
	eng_rule_cond_format(e, 0, 2, buf, sizeof(buf));
	cr_assert_str_eq(buf, "not: {ops.manage_servers: true}");
	put_sym(e, "scenario", "output.format", "parquet");
	cr_assert_eq(eng_rule_whynot(e, 0, &w), ENG_OK);
	cr_assert(w.fired);
	cr_assert_eq(eng_rule_whynot(e, 9, &w), ENG_ERR_NOT_FOUND);
	eng_free(e);
}

Test(rules, because_interpolates_bindings)
{
	eng *e = load("rules:\n- id: r\n  when: [{kb: ?kb}]\n  then: [{answer: ?kb}]\n"
	              "  because: \"{?kb} KB records; {?missing} stays\"\n  cite: [de-1, de-8]\n");
	put(e, "scenario", "kb", eng_number(5));
	run(e);
	eng_conclusion c;
	cr_assert(eng_concl_get(e, eng_concl_next(e, 0), &c));
	char buf[128];
	eng_rule_because_format(e, c.why->rule, c.why->bindings, buf, sizeof(buf));
	cr_assert_str_eq(buf, "5 KB records; {?missing} stays");
	eng_rule_info info;
	cr_assert(eng_rule_get(e, 0, &info));
	cr_assert_eq(info.ncite, 2);
	cr_assert_str_eq(eng_sym_name(e, info.cite[1]), "de-8");
	cr_assert_eq(eng_rule_find(e, "r"), 0);
	cr_assert_eq(eng_rule_find(e, "nope"), -1);
	eng_free(e);
}

Test(rules, load_after_facts_is_refused)
{
	eng *e = load("rules: []\n");
	put(e, "scenario", "a", eng_number(1));
	eng_diags *d = eng_diags_new(0);
	const char *y = "rules:\n- id: r\n  when: [{a: 1}]\n  then: [{recommend: x}]\n"
	                "  because: b\n  cite: [n]\n";
	cr_assert_neq(eng_load_string(e, "late.yaml", y, strlen(y), d), ENG_OK);
	eng_diags_free(d);
	eng_free(e);
}

Test(engines, two_engines_do_not_interfere)
{
	const char *y = "rules:\n- id: r\n  when: [{a: ?x}]\n  then: [{recommend: ?x}]\n"
	                "  because: b\n  cite: [n]\n";
	eng *a = load(y), *b = load(y);
	put_sym(a, "scenario", "a", "one");
	put_sym(b, "scenario", "a", "two");
	run(a);
	run(b);
	char ga[128], gb[128];
	concls(a, ga, sizeof(ga));
	concls(b, gb, sizeof(gb));
	cr_assert_str_eq(ga, "recommend one");
	cr_assert_str_eq(gb, "recommend two");
	eng_free(a);
	eng_free(b);
}

Test(procedural, logical_no_keeps_what_a_rule_asserted)
{
	eng *e = load("rules:\n"
	              "- id: copy\n  logical: no\n  when: [{a: ?x}]\n"
	              "  then: [{assert: [{calc: \"symbol(item, ?x)\"}, seen, yes]}]\n"
	              "  because: b\n  cite: [n]\n");
	eng_fact_id f = put(e, "scenario", "a", eng_number(7));
	run(e);
	eng_value yes = eng_bool(true);
	cr_assert(eng_fact_find(e, S(e, "item7"), S(e, "seen"), yes), "symbol() names the subject");
	cr_assert_eq(eng_retract(e, f), ENG_OK);
	cr_assert(eng_fact_find(e, S(e, "item7"), S(e, "seen"), yes),
	          "with logical: no the assertion outlives its match");
	eng_free(e);
}

/* LEX: when one fact completes several matches, the one with the newest other fact fires
 * first, whatever order the network found them in; a longer match beats its prefix. */
Test(agenda, recency_compares_every_fact)
{
	eng *e = load("rules:\n"
	              "- id: pick\n  when: [[?x, ready, yes], {go: yes}]\n"
	              "  then: [{recommend: ?x}]\n  because: b\n  cite: [n]\n"
	              "- id: short\n  when: [{go: yes}]\n  then: [{answer: short}]\n"
	              "  because: b\n  cite: [n]\n");
	put(e, "old", "ready", eng_bool(true));
	put(e, "new", "ready", eng_bool(true));
	put(e, "scenario", "go", eng_bool(true));
	run(e);
	char got[512];
	concls(e, got, sizeof(got));
	cr_assert_str_eq(got, "recommend new; recommend old; answer short");
	eng_free(e);
}

/* modify finds every (S, A, *) through the subject-attribute table, also after the
 * tables grew and after retractions. */
Test(procedural, modify_replaces_every_value)
{
	eng *e = load("rules:\n"
	              "- id: m\n  when: [{go: yes}]\n"
	              "  then: [{modify: [s, a, 4]}, {modify: [t, a, 0]}]\n  because: b\n  cite: [n]\n");
	for (int i = 0; i < 3000; i++)
		put(e, i % 2 ? "t" : "u", "a", eng_number(i));
	put(e, "s", "a", eng_number(1));
	put(e, "s", "a", eng_number(2));
	eng_fact_id three = put(e, "s", "a", eng_number(3));
	put(e, "s", "b", eng_number(1));
	cr_assert_eq(eng_retract(e, three), ENG_OK);
	put(e, "scenario", "go", eng_bool(true));
	run(e);
	cr_assert(eng_fact_find(e, S(e, "s"), S(e, "a"), eng_number(4)));
	cr_assert_eq(eng_fact_find(e, S(e, "s"), S(e, "a"), eng_number(1)), 0);
	cr_assert_eq(eng_fact_find(e, S(e, "s"), S(e, "a"), eng_number(2)), 0);
	cr_assert(eng_fact_find(e, S(e, "s"), S(e, "b"), eng_number(1)));
	cr_assert(eng_fact_find(e, S(e, "t"), S(e, "a"), eng_number(0)));
	cr_assert(eng_fact_find(e, S(e, "u"), S(e, "a"), eng_number(2)));
	/* 1500 u facts, t a 0, s a 4, s b 1, scenario go */
	cr_assert_eq(eng_fact_count(e), 1504);
	eng_free(e);
}
