/* SPDX-License-Identifier: MIT */
/*
 * test_load.c - the rule compiler (compile.c, compile_value.c): every class of load
 * error with the exact position it is reported at, and what clean files compile to as
 * seen through the public API.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

/* An engine set up as mlarch sets it up. */
static eng *new_engine(void)
{
	static const char *const kinds[] = {
		"recommend", "reject", "require", "prefer", "avoid", "answer",
	};
	eng *e = eng_new();
	cr_assert(e);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		cr_assert_eq(eng_conclusion_kind_add(e, kinds[i]), ENG_OK);
	cr_assert_eq(eng_section_skip(e, "lexicon"), ENG_OK);
	cr_assert_eq(eng_section_skip(e, "catalog"), ENG_OK);
	cr_assert_eq(eng_section_skip(e, "sources"), ENG_OK);
	return e;
}

/* All diagnostics as text, one per line, for failure messages. */
static const char *diags_text(const eng_diags *d)
{
	static char buf[4096];
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < eng_diags_count(d) && n < sizeof(buf); i++) {
		const eng_diag *g = eng_diags_get(d, i);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n    %u:%u: %s", g->line, g->col,
		                      g->message);
	}
	return buf;
}

/* The first error diagnostic at POS ("line:col") whose message contains MSG, or NULL. */
static const eng_diag *find_diag(const eng_diags *d, const char *pos, const char *msg)
{
	for (size_t i = 0; i < eng_diags_count(d); i++) {
		const eng_diag *g = eng_diags_get(d, i);
		char at[32];
		snprintf(at, sizeof(at), "%u:%u", g->line, g->col);
		if (g->severity == ENG_SEV_ERROR && strcmp(at, pos) == 0 && strstr(g->message, msg))
			return g;
	}
	return NULL;
}

/* ---- errors ---- */

/* A rule `r1` at line 2 whose `when` items start at line 4, followed by `then` items. */
#define RULE(when, then)                                                       \
	"rules:\n  - id: r1\n    when:\n" when "    then:\n" then                 \
	"    because: b\n    cite: [n-1]\n"
#define W1 "      - a: 1\n"
#define T1 "      - recommend: x\n"
/* The same rule with keys given whole (line 2 is `- id: r1`, line 3 the first key). */
#define KEYS(keys) "rules:\n  - id: r1\n" keys
#define GOOD_WHEN "    when: [{a: 1}]\n"
#define GOOD_THEN "    then: [{recommend: x}]\n"
#define GOOD_WHY "    because: b\n"
#define GOOD_CITE "    cite: [n-1]\n"

typedef struct {
	const char *name;
	const char *yaml;
	const char *pos;        /* line:col */
	const char *msg;        /* a substring of the message */
} error_case;

static const error_case error_cases[] = {
	/* the document and its sections */
	{ "root not a mapping", "- a\n", "1:1", "a rule file must be a mapping of sections" },
	{ "unknown section, suggested", "rule:\n  - x\n", "1:1",
	  "unknown section `rule` (did you mean `rules`?)" },
	{ "unknown section", "stuff: 1\n", "1:1", "unknown section `stuff`" },
	{ "unknown section, skipped one suggested", "lexicn: []\n", "1:1",
	  "unknown section `lexicn` (did you mean `lexicon`?)" },
	{ "rules not a list", "rules: {a: 1}\n", "1:8",
	  "`rules` must be a list of rules, found a mapping" },
	{ "facts not a list", "facts: x\n", "1:8", "`facts` must be a list of facts, found `x`" },
	{ "yaml syntax error", "rules: [a\n", "2:1", "did not find expected ',' or ']'" },
	{ "yaml duplicate key in a rule",
	  KEYS("    id: r2\n" GOOD_WHEN GOOD_THEN GOOD_WHY GOOD_CITE), "3:5",
	  "duplicate key `id` (first at line 2)" },

	/* rules and their keys */
	{ "rule not a mapping", "rules:\n  - x\n", "2:5", "a rule must be a mapping" },
	{ "unknown key, suggested",
	  KEYS(GOOD_WHEN GOOD_THEN "    becuase: b\n" GOOD_CITE), "5:5",
	  "unknown key `becuase` in rule (did you mean `because`?)" },
	{ "unknown key", KEYS(GOOD_WHEN GOOD_THEN GOOD_WHY GOOD_CITE "    colour: red\n"),
	  "7:5", "unknown key `colour` in rule" },
	{ "missing key", KEYS(GOOD_WHEN GOOD_THEN GOOD_WHY), "2:5", "rule is missing `cite`" },
	{ "missing id", "rules:\n  - when: [{a: 1}]\n" GOOD_THEN GOOD_WHY GOOD_CITE, "2:5",
	  "rule is missing `id`" },
	{ "duplicate id in the file",
	  KEYS(GOOD_WHEN GOOD_THEN GOOD_WHY GOOD_CITE)
	  "  - id: r1\n" GOOD_WHEN GOOD_THEN GOOD_WHY GOOD_CITE, "7:9",
	  "duplicate rule id `r1` (first defined at line 2)" },
	{ "empty id", "rules:\n  - id: ''\n" GOOD_WHEN GOOD_THEN GOOD_WHY GOOD_CITE, "2:9",
	  "`id` must be a non-empty name, found `\"\"`" },
	{ "because a list", KEYS(GOOD_WHEN GOOD_THEN "    because: [a]\n" GOOD_CITE), "5:14",
	  "`because` must be a non-empty sentence, found a list" },
	{ "because empty", KEYS(GOOD_WHEN GOOD_THEN "    because: '  '\n" GOOD_CITE), "5:14",
	  "`because` must be a non-empty sentence" },
	{ "cite not a list", KEYS(GOOD_WHEN GOOD_THEN GOOD_WHY "    cite: de-8\n"), "6:11",
	  "`cite` must be a non-empty list of note ids such as [de-8], found `de-8`" },
	{ "cite empty", KEYS(GOOD_WHEN GOOD_THEN GOOD_WHY "    cite: []\n"), "6:11",
	  "found an empty list" },
	{ "cite item a number", KEYS(GOOD_WHEN GOOD_THEN GOOD_WHY "    cite: [de-8, 12]\n"),
	  "6:18", "the note id must be a symbol, found `12`" },
	{ "salience a word",
	  KEYS(GOOD_WHEN GOOD_THEN GOOD_WHY GOOD_CITE "    salience: high\n"), "7:15",
	  "`salience` must be an integer, found `high`" },
	{ "salience a fraction",
	  KEYS(GOOD_WHEN GOOD_THEN GOOD_WHY GOOD_CITE "    salience: 1.5\n"), "7:15",
	  "`salience` must be an integer, found `1.5`" },
	{ "salience too big",
	  KEYS(GOOD_WHEN GOOD_THEN GOOD_WHY GOOD_CITE "    salience: 99999999999\n"), "7:15",
	  "`salience` must be an integer between" },
	{ "weight zero", KEYS(GOOD_WHEN GOOD_THEN GOOD_WHY GOOD_CITE "    weight: 0\n"), "7:13",
	  "`weight` must be a number greater than 0, found `0`" },
	{ "weight a word", KEYS(GOOD_WHEN GOOD_THEN GOOD_WHY GOOD_CITE "    weight: much\n"),
	  "7:13", "`weight` must be a number greater than 0, found `much`" },
	{ "when a mapping", KEYS("    when: {a: 1}\n" GOOD_THEN GOOD_WHY GOOD_CITE), "3:11",
	  "`when` must be a non-empty list of conditions, found a mapping" },
	{ "when empty", KEYS("    when: []\n" GOOD_THEN GOOD_WHY GOOD_CITE), "3:11",
	  "`when` must be a non-empty list of conditions, found an empty list" },
	{ "then empty", KEYS(GOOD_WHEN "    then:\n" GOOD_WHY GOOD_CITE), "4:10",
	  "`then` must be a non-empty list of actions, found nothing" },

	/* conditions */
	{ "condition a scalar", RULE("      - a\n", T1), "4:9", "a condition must be a mapping" },
	{ "empty condition", RULE("      - {}\n", T1), "4:9", "empty condition" },
	{ "triple of two", RULE("      - [a, b]\n", T1), "4:9",
	  "a triple pattern needs 3 items [SUBJECT, ATTRIBUTE, VALUE], found 2" },
	{ "subject a number", RULE("      - [12, b, c]\n", T1), "4:10",
	  "the subject must be a symbol or a variable, found `12`" },
	{ "attribute a boolean", RULE("      - [a, yes, c]\n", T1), "4:13",
	  "the attribute must be a symbol or a variable, found `yes`" },
	{ "attribute a list", RULE("      - [a, [b], c]\n", T1), "4:13",
	  "the attribute must be a symbol or a variable, found a list" },
	{ "value a list", RULE("      - x: [a, b]\n", T1), "4:12",
	  "found a list (for one of several values write `{in: [...]}`)" },
	{ "value missing", RULE("      - x:\n", T1), "4:9",
	  "missing value for `x` (use `?` to match any value)" },
	{ "bad variable name", RULE("      - x: ?a-b\n", T1), "4:12",
	  "invalid variable name `?a-b` (use letters, digits and `_`)" },
	{ "number out of range", RULE("      - x: 1e999\n", T1), "4:12",
	  "number `1e999` is out of range" },
	{ "unknown constraint, suggested", RULE("      - x: {not_in: [a]}\n", T1), "4:13",
	  "unknown constraint `not_in` (did you mean `not-in`?)" },
	{ "unknown constraint", RULE("      - x: {between: [1, 2]}\n", T1), "4:13",
	  "unknown constraint `between`" },
	{ "in not a list", RULE("      - x: {in: a}\n", T1), "4:17",
	  "`in` needs a non-empty list of constants, found `a`" },
	{ "in empty", RULE("      - x: {not-in: []}\n", T1), "4:21",
	  "`not-in` needs a non-empty list of constants or bound variables, found an empty list" },
	{ "not-in with an unbound variable", RULE("      - x: {not-in: [a, ?v]}\n", T1), "4:25",
	  "unbound variable ?v" },
	{ "not-in with a mapping inside", RULE("      - x: ?v\n      - y: {not-in: [?v, {a: 1}]}\n", T1),
	  "5:26", "`not-in` takes constants and bound variables, found a mapping" },
	{ "in with a variable", RULE("      - x: ?v\n      - y: {in: [a, ?v]}\n", T1), "5:21",
	  "`in` takes constants only, found `?v`" },
	{ "order against a symbol", RULE("      - x: {\"<\": high}\n", T1), "4:18",
	  "`<` needs a number or a bound variable, found `high`" },
	{ "equal to anything", RULE("      - x: {\"=\": ?}\n", T1), "4:18",
	  "`=` needs a constant or a bound variable, found `?`" },
	{ "as not a variable", RULE("      - x: {as: x}\n", T1), "4:17",
	  "`as` needs a variable, found `x`" },
	{ "operand unbound", RULE("      - [?a, max.dim, {\">=\": ?need}]\n", T1), "4:30",
	  "unbound variable ?need (bind it in a positive pattern before this)" },
	{ "empty constraints", RULE("      - x: {}\n", T1), "4:12", "empty constraint mapping" },
	{ "not with two keys", RULE("      - not: {a: 1, b: 2}\n", T1), "4:21",
	  "`not` takes one pattern, found 2 keys" },
	{ "not a scalar", RULE("      - not: x\n", T1), "4:14",
	  "`not` takes a pattern (`attr: value` or a triple), found `x`" },
	{ "not around a test", RULE("      - not: {test: \"1 = 1\"}\n", T1), "4:15",
	  "`not` takes a pattern (`attr: value` or a triple), found `test`" },
	{ "local variable used after its not",
	  RULE("      - not: [?o, a, b]\n      - [?o, c, d]\n", T1), "5:10",
	  "variable ?o is local to the `not` at line 4 and cannot be used after it" },
	{ "local variable used in an action",
	  RULE(W1 "      - not: {b: ?o}\n", "      - recommend: ?o\n"), "7:20",
	  "variable ?o is local to the `not` at line 5" },
	{ "test unbound, quoted", RULE("      - test: \"?x > 1\"\n", T1), "4:16",
	  "unbound variable ?x (bind it in a positive pattern before this)" },
	{ "test unbound, plain, inside", RULE(W1 "      - test: 1 < ?y\n", T1), "5:19",
	  "unbound variable ?y" },
	{ "test unbound in a flow mapping", RULE("      - {test: ?z = 1}\n", T1), "4:16",
	  "unbound variable ?z" },
	{ "test syntax error", RULE(W1 "      - test: \"1 +\"\n", T1), "5:19",
	  "unexpected end of expression" },
	{ "test with escapes falls back to the scalar",
	  RULE(W1 "      - test: \"\\x41 = ?q\"\n", T1), "5:15", "unbound variable ?q" },
	{ "test block scalar", RULE(W1 "      - test: >\n          ?w = 1\n", T1), "5:15",
	  "unbound variable ?w" },
	{ "test empty", RULE("      - test:\n", T1), "4:9", "`test` needs an expression" },

	/* actions */
	{ "action a scalar", RULE(W1, "      - x\n"), "6:9", "an action must be a mapping" },
	{ "unknown action, suggested", RULE(W1, "      - recomend: x\n"), "6:9",
	  "unknown action `recomend` (did you mean `recommend`?)" },
	{ "unknown action, suggested assert", RULE(W1, "      - asert: {a: 1}\n"), "6:9",
	  "unknown action `asert` (did you mean `assert`?)" },
	{ "unknown action", RULE(W1, "      - frobnicate: x\n"), "6:9",
	  "unknown action `frobnicate`" },
	{ "two actions in one item", RULE(W1, "      - {assert: {b: 1}, recommend: x}\n"),
	  "6:26", "one action per item: found `recommend` after `assert`" },
	{ "role alone", RULE(W1, "      - role: x\n"), "6:9", "`role` goes beside a conclusion" },
	{ "role beside assert", RULE(W1, "      - {assert: {b: 1}, role: x}\n"), "6:26",
	  "`role` goes only with a conclusion, not with `assert`" },
	{ "assert a scalar", RULE(W1, "      - assert: x\n"), "6:17",
	  "`assert` needs a mapping `{attr: value}` or a triple" },
	{ "retract a mapping", RULE(W1, "      - retract: {a: 1}\n"), "6:18",
	  "`retract` needs a triple [SUBJECT, ATTRIBUTE, VALUE], found a mapping" },
	{ "modify of two", RULE(W1, "      - modify: [a, b]\n"), "6:17",
	  "`modify` needs a triple" },
	{ "bind a scalar", RULE(W1, "      - bind: ?w\n"), "6:15",
	  "`bind` needs a list [?VARIABLE, VALUE], found `?w`" },
	{ "bind a constant", RULE(W1, "      - bind: [w, 1]\n"), "6:16",
	  "`bind` names a variable first, found `w`" },
	{ "bind a bound variable", RULE("      - a: ?x\n", "      - bind: [?x, 1]\n"), "6:16",
	  "?x is already bound; `bind` makes a new variable" },
	{ "bind reads itself", RULE(W1, "      - bind: [?y, {calc: \"?y + 1\"}]\n"), "6:28",
	  "unbound variable ?y" },
	{ "unbound in a conclusion", RULE(W1, "      - recommend: ?x\n"), "6:20",
	  "unbound variable ?x (bind it in a positive pattern before this)" },
	{ "unbound in a role", RULE(W1, "      - recommend: x\n        role: ?r\n"), "7:15",
	  "unbound variable ?r" },
	{ "anonymous in an action", RULE(W1, "      - assert: [a, b, ?]\n"), "6:24",
	  "`?` matches anything in a condition but means nothing in an action" },
	{ "attribute a number", RULE(W1, "      - assert: {5: x}\n"), "6:18",
	  "the attribute must be a symbol or a bound variable, found `5`" },
	{ "calc unbound", RULE(W1, "      - assert: {n: {calc: \"?a + ?q\"}}\n"), "6:29",
	  "unbound variable ?a" },
	{ "calc syntax", RULE("      - a: ?a\n", "      - answer: {calc: \"ceil(?a\"}\n"),
	  "6:32", "expected `,` or `)`" },
	{ "calc misspelt", RULE(W1, "      - assert: {n: {calk: \"1\"}}\n"), "6:22",
	  "unknown key `calk` in a value (did you mean `calc`?)" },
	{ "calc in retract", RULE(W1, "      - retract: [a, b, {calc: \"1\"}]\n"), "6:25",
	  "the value must be a constant or a bound variable, found a mapping" },
	{ "quoted action key is not a kind", RULE(W1, "      - 'recommend': x\n"), "6:9",
	  "unknown action `recommend`" },

	/* background facts */
	{ "fact of two", "facts:\n  - [a, b]\n", "2:5", "a fact triple needs 3 items" },
	{ "fact with a variable", "facts:\n  - [a, b, ?x]\n", "2:12",
	  "variables cannot appear in facts, found `?x`" },
	{ "fact list in a list", "facts:\n  - [a, b, [c, [d]]]\n", "2:16",
	  "a fact's value must be a constant, found a list" },
	{ "fact mapping without subject", "facts:\n  - {a: 1}\n", "2:5",
	  "a fact mapping needs a `subject:` key" },
	{ "fact mapping with only a subject", "facts:\n  - {subject: a}\n", "2:5",
	  "a fact mapping needs attributes beside `subject:`" },
	{ "fact a scalar", "facts:\n  - a\n", "2:5", "a fact must be a triple" },
	{ "fact subject a number", "facts:\n  - subject: 3\n    a: 1\n", "2:14",
	  "the subject must be a symbol, found `3`" },
	{ "fact value missing", "facts:\n  - subject: s\n    a:\n", "3:7",
	  "a fact's value must be a constant or a list of constants, found nothing" },
};

Test(load, errors)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const error_case *tc = &error_cases[i];
		eng *e = new_engine();
		eng_diags *d = eng_diags_new(0);
		eng_status st = eng_load_string(e, "t.yaml", tc->yaml, strlen(tc->yaml), d);
		cr_expect_eq(st, ENG_ERR_LOAD, "%s: status %d", tc->name, st);
		cr_expect_eq(eng_rule_count(e), 0, "%s: rules were added", tc->name);
		cr_expect(find_diag(d, tc->pos, tc->msg), "%s: no error %s: %s; got:%s", tc->name,
		          tc->pos, tc->msg, diags_text(d));
		eng_diags_free(d);
		eng_free(e);
	}
}

/* ---- what clean files compile to ---- */

typedef struct {
	const char *name;
	const char *when;       /* the items of `when`, each line indented by 6 */
	const char *conds[8];   /* eng_rule_cond_format of each condition; NULL ends */
	const char *vars[8];    /* the variables in index order; NULL ends */
} rule_case;

static const rule_case rule_cases[] = {
	{ "shorthand constants are typed by spelling",
	  "      - {a: streaming, b: 'csv', c: 12, d: yes, e: -0.5, f: 1e6, g: ml.p3.2xlarge}\n",
	  { "a: streaming", "b: 'csv'", "c: 12", "d: true", "e: -0.5", "f: 1000000",
	    "g: ml.p3.2xlarge" }, { NULL } },
	{ "block scalars and no are a string and false",
	  "      - a: |\n          text\n      - b: no\n",
	  { "a: 'text\n'", "b: false" }, { NULL } },
	{ "triple with variables in a flow sequence",
	  "      - [?alg, training.device, gpu]\n      - [?alg, ?, ?]\n",
	  { "[?alg, training.device, gpu]", "[?alg, ?, ?]" }, { "alg" } },
	{ "variables numbered in order of first appearance",
	  "      - [?b, x, ?a]\n      - [?a, y, ?c]\n      - size: ?b\n",
	  { "[?b, x, ?a]", "[?a, y, ?c]", "size: ?b" }, { "b", "a", "c" } },
	{ "negation with a local variable",
	  "      - [?alg, kind, algorithm]\n      - not: [?o, uses, ?alg]\n",
	  { "[?alg, kind, algorithm]", "not: [?o, uses, ?alg]" }, { "alg", "o" } },
	{ "the same local variable in two negations is an error only after; reuse inside",
	  "      - not: [?o, uses, ?o]\n",
	  { "not: [?o, uses, ?o]" }, { "o" } },
	{ "negated shorthand",
	  "      - not: {ops.manage_servers: yes}\n",
	  { "not: {ops.manage_servers: true}" }, { NULL } },
	{ "constraints",
	  "      - need: ?need\n"
	  "      - [?alg, max.dim, {as: ?m, \">=\": ?need}]\n"
	  "      - fmt: {in: [parquet, orc]}\n"
	  "      - size: {\"<\": 3, \">\": 1}\n"
	  "      - kind: {not-in: [c], \"!=\": \"x\"}\n",
	  { "need: ?need", "[?alg, max.dim, {as: ?m, '>=': ?need}]", "fmt: {in: [parquet, orc]}",
	    "size: {'<': 3, '>': 1}", "kind: {not-in: [c], '!=': 'x'}" },
	  { "need", "alg", "m" } },
	{ "as in a block mapping binds like a variable",
	  "      - size:\n          as: ?s\n          \">\": 0\n      - test: ?s < 10\n",
	  { "size: {as: ?s, '>': 0}", "test: \"?s < 10\"" }, { "s" } },
	{ "operand bound in the same pattern",
	  "      - [?a, limit, {\">\": ?a}]\n",
	  { "[?a, limit, {'>': ?a}]" }, { "a" } },
	{ "test with a variable bound earlier",
	  "      - size: ?m\n      - test: \"?m > 2 and ?m < 9\"\n",
	  { "size: ?m", "test: \"?m > 2 and ?m < 9\"" }, { "m" } },
	{ "several keys in one item are several patterns",
	  "      - {a: 1, not: {b: 2}, test: \"1 = 1\", c: ?}\n",
	  { "a: 1", "not: {b: 2}", "test: \"1 = 1\"", "c: ?" }, { NULL } },
	{ "quoted subject and attribute are symbols",
	  "      - ['option', \"uses\", glue]\n",
	  { "[option, uses, glue]" }, { NULL } },
	{ "variable attribute in shorthand",
	  "      - ?attr: 1\n",
	  { "[scenario, ?attr, 1]" }, { "attr" } },
};

Test(load, rules)
{
	for (size_t i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++) {
		const rule_case *tc = &rule_cases[i];
		char yaml[2048];
		snprintf(yaml, sizeof(yaml), RULE("%s", "      - recommend: x\n"), tc->when);
		eng *e = new_engine();
		eng_diags *d = eng_diags_new(0);
		eng_status st = eng_load_string(e, "t.yaml", yaml, strlen(yaml), d);
		cr_expect_eq(st, ENG_OK, "%s: status %d:%s", tc->name, st, diags_text(d));
		eng_rule_info info;
		if (st != ENG_OK || !eng_rule_get(e, 0, &info)) {
			eng_diags_free(d);
			eng_free(e);
			continue;
		}
		uint32_t n = 0;
		while (n < 8 && tc->conds[n])
			n++;
		cr_expect_eq(info.nconds, n, "%s: %u conditions, expected %u", tc->name,
		             info.nconds, n);
		for (uint32_t c = 0; c < n && c < info.nconds; c++) {
			char buf[256];
			eng_rule_cond_format(e, 0, c, buf, sizeof(buf));
			cr_expect_str_eq(buf, tc->conds[c], "%s: condition %u is %s", tc->name, c,
			                 buf);
		}
		uint32_t nv = 0;
		while (nv < 8 && tc->vars[nv])
			nv++;
		cr_expect_eq(info.nvars, nv, "%s: %u variables, expected %u", tc->name,
		             info.nvars, nv);
		for (uint32_t v = 0; v < nv && v < info.nvars; v++)
			cr_expect_str_eq(eng_rule_var_name(e, 0, v), tc->vars[v], "%s: variable %u",
			                 tc->name, v);
		eng_diags_free(d);
		eng_free(e);
	}
}

Test(load, rule_info)
{
	static const char yaml[] =
		"rules:\n"
		"  - id: firehose-converts-json\n"
		"    salience: -5\n"
		"    weight: 0.5\n"
		"    when:\n"
		"      - data.arrival: streaming\n"
		"      - storage.format: {in: [parquet, orc]}\n"
		"    then:\n"
		"      - recommend: kinesis-data-firehose\n"
		"        role: ingestion\n"
		"    because: >\n"
		"      Firehose converts JSON\n"
		"      on the way in.\n"
		"    cite: [de-8, de-13]\n"
		"  - id: defaults\n"
		"    when: [{a: 1}]\n"
		"    then: [{assert: {b: 2}}]\n"
		"    because: b\n"
		"    cite: [n-1]\n";
	eng *e = new_engine();
	eng_diags *d = eng_diags_new(0);
	cr_assert_eq(eng_load_string(e, "rules/x.yaml", yaml, sizeof(yaml) - 1, d), ENG_OK, "%s",
	             diags_text(d));
	cr_assert_eq(eng_rule_count(e), 2);
	eng_rule_info r;
	cr_assert(eng_rule_get(e, 0, &r));
	cr_expect_str_eq(r.id, "firehose-converts-json");
	cr_expect_str_eq(r.because, "Firehose converts JSON on the way in.");
	cr_expect_eq(r.salience, -5);
	cr_expect_eq(r.weight, 0.5);
	cr_expect_str_eq(r.file, "rules/x.yaml");
	cr_expect_eq(r.line, 2);
	cr_expect_eq(r.nconds, 2);
	cr_expect_eq(r.nvars, 0);
	cr_assert_eq(r.ncite, 2);
	cr_expect_str_eq(eng_sym_name(e, r.cite[0]), "de-8");
	cr_expect_str_eq(eng_sym_name(e, r.cite[1]), "de-13");
	uint32_t line, col;
	cr_assert(eng_rule_cond_pos(e, 0, 1, &line, &col));
	cr_expect(line == 7 && col == 9, "condition 1 at %u:%u", line, col);
	cr_assert(eng_rule_get(e, 1, &r));
	cr_expect_eq(r.salience, 0);
	cr_expect_eq(r.weight, 1.0);
	cr_expect_eq(eng_rule_find(e, "defaults"), 1);
	cr_expect_eq(eng_diags_count(d), 0);
	eng_diags_free(d);
	eng_free(e);
}

/* The compiled rule does what the file says: joins, `as`, a comparison with a variable,
 * a negation, a test, a conclusion with a role and an assert with calc. */
Test(load, rules_run)
{
	static const char yaml[] =
		"facts:\n"
		"  - [xgb, max.dim, 10]\n"
		"  - subject: knn\n"
		"    max.dim: 3\n"
		"  - [lin, max.dim, 50]\n"
		"  - [lin, banned, yes]\n"
		"rules:\n"
		"  - id: pick\n"
		"    when:\n"
		"      - need.dim: ?need\n"
		"      - [?alg, max.dim, {as: ?m, \">=\": ?need}]\n"
		"      - not: [?alg, banned, yes]\n"
		"      - test: \"?m > 0\"\n"
		"    then:\n"
		"      - recommend: ?alg\n"
		"        role: algo\n"
		"      - assert: {picked.dim: {calc: \"?m * 2\"}}\n"
		"    because: \"{?alg} handles {?need}\"\n"
		"    cite: [n-1]\n";
	eng *e = new_engine();
	eng_diags *d = eng_diags_new(0);
	cr_assert_eq(eng_load_string(e, "t.yaml", yaml, sizeof(yaml) - 1, d), ENG_OK, "%s",
	             diags_text(d));
	cr_assert_eq(eng_reset(e), ENG_OK);
	cr_expect_eq(eng_fact_count(e), 4);
	eng_sym scenario = eng_default_subject(e);
	cr_assert_eq(eng_assert(e, scenario, eng_intern(e, "need.dim", 8), eng_number(5), 0, NULL,
	                        NULL), ENG_OK);
	cr_assert_eq(eng_run(e, NULL), ENG_OK, "%s", eng_error(e));
	size_t n = 0;
	for (eng_concl_id id = eng_concl_next(e, 0); id; id = eng_concl_next(e, id)) {
		eng_conclusion c;
		cr_assert(eng_concl_get(e, id, &c));
		cr_expect_str_eq(eng_sym_name(e, c.kind), "recommend");
		cr_expect(eng_value_eq(c.target, eng_symbol(e, "xgb")));
		cr_expect(eng_value_eq(c.role, eng_symbol(e, "algo")));
		n++;
	}
	cr_expect_eq(n, 1);
	cr_expect(eng_fact_find(e, scenario, eng_intern(e, "picked.dim", 10), eng_number(20)));
	eng_diags_free(d);
	eng_free(e);
}

Test(load, facts)
{
	static const char yaml[] =
		"facts:\n"
		"  - [xgboost, training.device, cpu]\n"
		"  - subject: linear-learner\n"
		"    problem: [classification, regression]\n"
		"    training.device: [cpu, gpu]\n"
		"  - [a, b, [1, 'two']]\n";
	eng *e = new_engine();
	eng_diags *d = eng_diags_new(0);
	cr_assert_eq(eng_load_string(e, "t.yaml", yaml, sizeof(yaml) - 1, d), ENG_OK, "%s",
	             diags_text(d));
	cr_assert_eq(eng_reset(e), ENG_OK);
	cr_expect_eq(eng_fact_count(e), 7);
	struct { const char *s, *a; eng_value v; } want[] = {
		{ "xgboost", "training.device", eng_symbol(e, "cpu") },
		{ "linear-learner", "problem", eng_symbol(e, "classification") },
		{ "linear-learner", "problem", eng_symbol(e, "regression") },
		{ "linear-learner", "training.device", eng_symbol(e, "cpu") },
		{ "linear-learner", "training.device", eng_symbol(e, "gpu") },
		{ "a", "b", eng_number(1) },
		{ "a", "b", eng_string(e, "two") },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(eng_fact_find(e, eng_intern(e, want[i].s, strlen(want[i].s)),
		                        eng_intern(e, want[i].a, strlen(want[i].a)), want[i].v),
		          "fact %zu missing", i);
	eng_diags_free(d);
	eng_free(e);
}

/* ---- loading as a whole ---- */

#define GOOD(id) "rules:\n  - id: " id "\n" GOOD_WHEN GOOD_THEN GOOD_WHY GOOD_CITE

Test(load, duplicate_of_loaded_rule)
{
	eng *e = new_engine();
	eng_diags *d = eng_diags_new(0);
	cr_assert_eq(eng_load_string(e, "a.yaml", GOOD("r1"), strlen(GOOD("r1")), d), ENG_OK);
	cr_expect_eq(eng_load_string(e, "b.yaml", GOOD("r1"), strlen(GOOD("r1")), d),
	             ENG_ERR_LOAD);
	cr_expect(find_diag(d, "2:9", "duplicate rule id `r1` (already loaded from a.yaml:2)"),
	          "%s", diags_text(d));
	cr_expect_eq(eng_rule_count(e), 1);
	eng_diags_free(d);
	eng_free(e);
}

/* A file with one bad rule adds nothing, not even its good rules and facts; the engine
 * stays usable. */
Test(load, all_or_nothing)
{
	static const char bad[] =
		"facts:\n  - [a, b, c]\n"
		"rules:\n  - id: ok\n" GOOD_WHEN GOOD_THEN GOOD_WHY GOOD_CITE
		"  - id: bad\n" GOOD_WHEN GOOD_THEN GOOD_WHY "    cite: 3\n";
	eng *e = new_engine();
	eng_diags *d = eng_diags_new(0);
	cr_expect_eq(eng_load_string(e, "bad.yaml", bad, sizeof(bad) - 1, d), ENG_ERR_LOAD);
	cr_expect_eq(eng_rule_count(e), 0);
	cr_assert_eq(eng_reset(e), ENG_OK);
	cr_expect_eq(eng_fact_count(e), 0);
	cr_expect_eq(eng_load_string(e, "ok.yaml", GOOD("ok"), strlen(GOOD("ok")), d), ENG_OK);
	cr_expect_eq(eng_rule_count(e), 1);
	eng_diags_free(d);
	eng_free(e);
}

Test(load, working_memory_not_empty)
{
	eng *e = new_engine();
	eng_diags *d = eng_diags_new(0);
	cr_assert_eq(eng_assert(e, eng_intern(e, "a", 1), eng_intern(e, "b", 1), eng_number(1), 0,
	                        NULL, NULL), ENG_OK);
	cr_expect_neq(eng_load_string(e, "a.yaml", GOOD("r1"), strlen(GOOD("r1")), d), ENG_OK);
	cr_expect_eq(eng_rule_count(e), 0);
	cr_expect_geq(eng_diags_errors(d), 1);
	cr_expect(strstr(eng_diags_get(d, 0)->message, "working memory"), "%s", diags_text(d));
	eng_diags_free(d);
	eng_free(e);
}

Test(load, diagnostic_fields)
{
	static const char yaml[] = KEYS(GOOD_WHEN GOOD_THEN GOOD_WHY GOOD_CITE
	                                "    salience: high\n");
	eng *e = new_engine();
	eng_diags *d = eng_diags_new(0);
	cr_expect_eq(eng_load_string(e, "rules/t.yaml", yaml, sizeof(yaml) - 1, d), ENG_ERR_LOAD);
	cr_assert_eq(eng_diags_count(d), 1, "%s", diags_text(d));
	const eng_diag *g = eng_diags_get(d, 0);
	cr_expect_eq(g->severity, ENG_SEV_ERROR);
	cr_expect_str_eq(g->file, "rules/t.yaml");
	cr_expect_eq(g->line, 7);
	cr_expect_eq(g->col, 15);
	cr_expect_eq(g->span, 4);
	cr_expect_str_eq(g->message, "`salience` must be an integer, found `high`");
	cr_expect_str_eq(g->context, "in rule `r1` (line 2)");
	cr_expect_str_eq(g->source, "    salience: high");
	eng_diags_free(d);
	eng_free(e);
}

/* Spans cover a quoted scalar with its quotes, and stop at the end of the line. */
Test(load, diagnostic_spans)
{
	static const char yaml[] = RULE("      - x: {in: \"abc\"}\n", T1);
	eng *e = new_engine();
	eng_diags *d = eng_diags_new(0);
	cr_expect_eq(eng_load_string(e, "t.yaml", yaml, sizeof(yaml) - 1, d), ENG_ERR_LOAD);
	const eng_diag *g = find_diag(d, "4:17", "`in` needs a non-empty list");
	cr_assert(g, "%s", diags_text(d));
	cr_expect_eq(g->span, 5);
	eng_diags_free(d);
	eng_free(e);
}

Test(load, because_mentions_unknown_variable)
{
	static const char yaml[] = KEYS("    when: [{a: ?x}]\n" GOOD_THEN
	                                "    because: \"{?x} and {?y}\"\n" GOOD_CITE);
	eng *e = new_engine();
	eng_diags *d = eng_diags_new(0);
	cr_expect_eq(eng_load_string(e, "t.yaml", yaml, sizeof(yaml) - 1, d), ENG_OK);
	cr_assert_eq(eng_diags_count(d), 1, "%s", diags_text(d));
	cr_expect_eq(eng_diags_get(d, 0)->severity, ENG_SEV_WARNING);
	cr_expect(strstr(eng_diags_get(d, 0)->message, "{?y}"));
	cr_expect_eq(eng_diags_errors(d), 0);
	eng_diags_free(d);
	eng_free(e);
}

Test(load, error_cap)
{
	char *yaml = malloc(150 * 64 + 16);
	cr_assert(yaml);
	size_t n = (size_t)sprintf(yaml, "rules:\n");
	for (int i = 0; i < 150; i++)
		n += (size_t)sprintf(yaml + n, "  - x%d\n", i);
	eng *e = new_engine();
	eng_diags *d = eng_diags_new(100);
	cr_expect_eq(eng_load_string(e, "t.yaml", yaml, n, d), ENG_ERR_LOAD);
	cr_expect_eq(eng_diags_errors(d), 100);
	cr_expect(eng_diags_truncated(d));
	free(yaml);
	eng_diags_free(d);
	eng_free(e);
}

Test(load, empty_documents)
{
	static const char *const docs[] = { "", "# nothing\n", "---\n", "rules:\nfacts:\n",
	                                    "lexicon: [whatever]\n" };
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		eng *e = new_engine();
		eng_diags *d = eng_diags_new(0);
		cr_expect_eq(eng_load_string(e, "t.yaml", docs[i], strlen(docs[i]), d), ENG_OK,
		             "doc %zu:%s", i, diags_text(d));
		cr_expect_eq(eng_rule_count(e), 0);
		eng_diags_free(d);
		eng_free(e);
	}
}

Test(load, files)
{
	char dir[] = "/tmp/mlarch-load-XXXXXX";
	cr_assert(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/r.yaml", dir);
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fputs(GOOD("from-file"), f);
	fclose(f);
	eng *e = new_engine();
	eng_diags *d = eng_diags_new(0);
	cr_expect_eq(eng_load_file(e, path, d), ENG_OK, "%s", diags_text(d));
	eng_rule_info r;
	cr_assert(eng_rule_get(e, 0, &r));
	cr_expect_str_eq(r.file, path);
	cr_expect_eq(eng_load_file(e, dir, d), ENG_ERR_IO);
	cr_expect(find_diag(d, "0:0", "Is a directory"), "%s", diags_text(d));
	unlink(path);
	rmdir(dir);
	eng_diags_free(d);
	eng_free(e);
}
