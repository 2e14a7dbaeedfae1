/* SPDX-License-Identifier: MIT */
/* test_expr.c - the expression parser and evaluator (engine/expr.c), as tables of cases. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_VARS 4
#define ERR_SIZE 256

/* A value as a table writes it: 'n' number, 'y' symbol, 's' string, 'b' boolean (num != 0),
 * 0 none. */
typedef struct {
	char type;
	double num;
	const char *text;
} tval;

#define NUM(x) { 'n', (x), NULL }
#define SYM(s) { 'y', 0, (s) }
#define STR(s) { 's', 0, (s) }
#define TRUE_V { 'b', 1, NULL }
#define FALSE_V { 'b', 0, NULL }

/* Variable i of a case is vars[i]; a NULL name ends the list. */
typedef struct {
	const char *name;
	tval v;
} tvar;

typedef struct {
	const char *name;
	const char *src;
	tvar vars[MAX_VARS];
	tval want;
} value_case;

typedef struct {
	const char *name;
	const char *src;
	tvar vars[MAX_VARS];
	size_t off;
	const char *msg;        /* a substring of the message */
} parse_error_case;

typedef struct {
	const char *name;
	const char *src;
	tvar vars[MAX_VARS];
	const char *msg;        /* a substring of the message */
} eval_error_case;

static eng *e;
static arena *a;

static void setup(void)
{
	e = eng_new();
	a = arena_new();
	cr_assert(e && a, "out of memory in setup");
}

static void teardown(void)
{
	arena_free(a);
	eng_free(e);
}

TestSuite(expr, .init = setup, .fini = teardown);

static long var_index(void *ctx, const char *name, size_t len)
{
	const tvar *vars = ctx;
	for (long i = 0; vars && i < MAX_VARS && vars[i].name; i++)
		if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
			return i;
	return -1;
}

static eng_value to_value(tval t)
{
	switch (t.type) {
	case 'n': return eng_number(t.num);
	case 'y': return eng_symbol(e, t.text);
	case 's': return eng_string(e, t.text);
	case 'b': return eng_bool(t.num != 0);
	default: return (eng_value){ .type = ENG_NONE };
	}
}

static void bind(const tvar *vars, eng_value *out)
{
	for (size_t i = 0; i < MAX_VARS; i++)
		out[i] = vars && vars[i].name ? to_value(vars[i].v)
		                              : (eng_value){ .type = ENG_NONE };
}

/* Equal type and value; numbers exactly. */
static bool same(eng_value x, eng_value y)
{
	if (x.type != y.type)
		return false;
	switch (x.type) {
	case ENG_NUMBER: return x.u.num == y.u.num;
	case ENG_BOOL: return x.u.b == y.u.b;
	case ENG_SYMBOL:
	case ENG_STRING: return x.u.sym == y.u.sym;
	default: return true;
	}
}

static const char *show(eng_value v, char *buf, size_t size)
{
	static const char *const types[] = { "none", "symbol", "string", "number", "bool" };
	char text[128];
	eng_value_format(e, v, text, sizeof(text));
	snprintf(buf, size, "%s %s", types[v.type], text);
	return buf;
}

/* Parses and evaluates SRC with VARS; false (with a failure reported under NAME) if
 * either step fails. */
static bool run(const char *name, const char *src, const tvar *vars, eng_value *out)
{
	expr *x = NULL;
	size_t off = 0;
	char err[ERR_SIZE];
	eng_status st = expr_parse(a, e, src, strlen(src), var_index, (void *)vars, &x, &off,
	                           err, sizeof(err));
	if (st != ENG_OK) {
		cr_expect_fail("%s: `%s` failed to parse at %zu: %s", name, src, off, err);
		return false;
	}
	eng_value values[MAX_VARS];
	bind(vars, values);
	st = expr_eval(x, e, values, out, err, sizeof(err));
	if (st != ENG_OK) {
		cr_expect_fail("%s: `%s` failed to evaluate: %s", name, src, err);
		return false;
	}
	return true;
}

static void check_values(const value_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const value_case *c = &cases[i];
		eng_value got;
		if (!run(c->name, c->src, c->vars, &got))
			continue;
		eng_value want = to_value(c->want);
		char g[160], w[160];
		cr_expect(same(got, want), "%s: `%s` gave %s, expected %s", c->name, c->src,
		          show(got, g, sizeof(g)), show(want, w, sizeof(w)));
	}
}

#define KB_RPS_C(kb, rps, c) { { "kb", NUM(kb) }, { "rps", NUM(rps) }, { "c", NUM(c) } }
#define SHARDS "ceil(max(?kb * ?rps / 1000, ?kb * ?rps * ?c / 2000))"

static const value_case arithmetic[] = {
	{ "mul before add", "2*3+4", { { 0 } }, NUM(10) },
	{ "mul before add, right", "2+3*4", { { 0 } }, NUM(14) },
	{ "parentheses", "(2+3)*4", { { 0 } }, NUM(20) },
	{ "sub is left-assoc", "10 - 4 - 3", { { 0 } }, NUM(3) },
	{ "div is left-assoc", "100 / 10 / 5", { { 0 } }, NUM(2) },
	{ "mul and div left-assoc", "8 / 2 * 4", { { 0 } }, NUM(16) },
	{ "mixed chain", "1 + 2 * 3 - 4 / 2", { { 0 } }, NUM(5) },
	{ "sub then mul", "10 - 2 * 3", { { 0 } }, NUM(4) },
	{ "fraction", "2 * 3 / 4", { { 0 } }, NUM(1.5) },
	{ "no spaces", "1+2*3", { { 0 } }, NUM(7) },
	{ "spaces of all kinds", " \t1\n+\r2 ", { { 0 } }, NUM(3) },
	{ "unary minus", "-3", { { 0 } }, NUM(-3) },
	{ "double unary minus", "- -3", { { 0 } }, NUM(3) },
	{ "unary binds tighter than mul", "-2 * 3", { { 0 } }, NUM(-6) },
	{ "unary on a group", "-(2 + 3)", { { 0 } }, NUM(-5) },
	{ "minus a negative", "2 - -3", { { 0 } }, NUM(5) },
	{ "minus then minus", "-2 - 3", { { 0 } }, NUM(-5) },
	{ "unary on a variable", "-?a", { { "a", NUM(4) } }, NUM(-4) },
	{ "decimal fraction", "0.25 * 4", { { 0 } }, NUM(1) },
	{ "exponent", "1.5e3", { { 0 } }, NUM(1500) },
	{ "negative exponent", "2.5E-1", { { 0 } }, NUM(0.25) },
	{ "signed exponent", "1e+2", { { 0 } }, NUM(100) },
	{ "leading zeros", "007", { { 0 } }, NUM(7) },
	{ "variables", "?a * ?b + ?c", { { "a", NUM(2) }, { "b", NUM(5) }, { "c", NUM(1) } },
	  NUM(11) },
	{ "minus after a variable subtracts", "?a-?b", { { "a", NUM(5) }, { "b", NUM(3) } },
	  NUM(2) },
	{ "minus after a variable, spaced", "?a - ?b", { { "a", NUM(5) }, { "b", NUM(3) } },
	  NUM(2) },
	{ "minus after a variable, before a number", "?a-1", { { "a", NUM(5) } }, NUM(4) },
	{ "minus after a number subtracts", "3-1", { { 0 } }, NUM(2) },
	{ "minus after `)` subtracts", "(4)-1", { { 0 } }, NUM(3) },
	{ "slash after a variable divides", "?a/2", { { "a", NUM(5) } }, NUM(2.5) },
	{ "slash after `)` divides", "ceil(3.5)/2", { { 0 } }, NUM(2) },
	{ "a variable alone", "?a", { { "a", SYM("streaming") } }, SYM("streaming") },
};

static const value_case functions[] = {
	{ "ceil", "ceil(1.2)", { { 0 } }, NUM(2) },
	{ "ceil of an integer", "ceil(3)", { { 0 } }, NUM(3) },
	{ "floor of a negative", "floor(-1.5)", { { 0 } }, NUM(-2) },
	{ "round half up", "round(2.5)", { { 0 } }, NUM(3) },
	{ "round half away from zero", "round(-2.5)", { { 0 } }, NUM(-3) },
	{ "round down", "round(2.4)", { { 0 } }, NUM(2) },
	{ "abs", "abs(-4)", { { 0 } }, NUM(4) },
	{ "sqrt: RMSE from an MSE", "sqrt(16)", { { 0 } }, NUM(4) },
	{ "log of e", "log(exp(1))", { { 0 } }, NUM(1) },
	{ "log of one", "log(1)", { { 0 } }, NUM(0) },
	{ "min of one", "min(3)", { { 0 } }, NUM(3) },
	{ "min of three", "min(3, 1, 2)", { { 0 } }, NUM(1) },
	{ "max of three", "max(3, 1, 2)", { { 0 } }, NUM(3) },
	{ "max of negatives", "max(-1, -5)", { { 0 } }, NUM(-1) },
	{ "space before `(`", "ceil (1.5)", { { 0 } }, NUM(2) },
	{ "nested calls", "max(min(1, 2), abs(-3))", { { 0 } }, NUM(3) },
	{ "expressions as arguments", "max(1 + 1, 2 * 2) - 1", { { 0 } }, NUM(3) },
	{ "function name as a symbol", "?a = round", { { "a", SYM("round") } }, TRUE_V },
	{ "pi", "pi()", { { 0 } }, NUM(3.14159265358979323846) },
	{ "atan of zero", "atan(0)", { { 0 } }, NUM(0) },
	{ "atan of one is a quarter turn", "atan(1) * 4 = pi()", { { 0 } }, TRUE_V },
	{ "atan of a negative", "atan(-1) = -pi() / 4", { { 0 } }, TRUE_V },
	{ "atan2 on the y axis", "atan2(1, 0) = pi() / 2", { { 0 } }, TRUE_V },
	{ "atan2 to the left", "atan2(0, -1)", { { 0 } }, NUM(3.14159265358979323846) },
	{ "atan2 third quadrant", "atan2(-1, -1) = -3 * pi() / 4", { { 0 } }, TRUE_V },
	{ "atan2 of the origin", "atan2(0, 0)", { { 0 } }, NUM(0) },
	{ "if true", "if(1 < 2, 10, 20)", { { 0 } }, NUM(10) },
	{ "if false", "if(?a > 2, 10, 20)", { { "a", NUM(1) } }, NUM(20) },
	{ "if gives a symbol", "if(?a = 0, tee, fork)", { { "a", NUM(0) } }, SYM("tee") },
	{ "if runs one branch", "if(?a = 0, 0, 1 / ?a)", { { "a", NUM(0) } }, NUM(0) },
	{ "if nested", "if(?a < 0, neg, if(?a = 0, zero, pos))", { { "a", NUM(5) } }, SYM("pos") },
	{ "shards: kb=5 rps=1000 c=3", SHARDS, KB_RPS_C(5, 1000, 3), NUM(8) },
	{ "shards: kb=1 rps=500 c=1", SHARDS, KB_RPS_C(1, 500, 1), NUM(1) },
	{ "shards: kb=1 rps=1000 c=1", SHARDS, KB_RPS_C(1, 1000, 1), NUM(1) },
	{ "shards: kb=2 rps=1500 c=5", SHARDS, KB_RPS_C(2, 1500, 5), NUM(8) },
	{ "shards: kb=1000 rps=1000 c=2", SHARDS, KB_RPS_C(1000, 1000, 2), NUM(1000) },
	{ "shards: kb=3 rps=700 c=2", SHARDS, KB_RPS_C(3, 700, 2), NUM(3) },
	{ "shards: kb=0.5 rps=10 c=1", SHARDS, KB_RPS_C(0.5, 10, 1), NUM(1) },
};

static const value_case comparisons[] = {
	{ "less", "1 < 2", { { 0 } }, TRUE_V },
	{ "less or equal", "2 <= 2", { { 0 } }, TRUE_V },
	{ "greater", "3 > 4", { { 0 } }, FALSE_V },
	{ "greater or equal", "4 >= 4", { { 0 } }, TRUE_V },
	{ "equal", "1 = 1", { { 0 } }, TRUE_V },
	{ "equal, C spelling", "1 == 1", { { 0 } }, TRUE_V },
	{ "not equal", "1 != 1", { { 0 } }, FALSE_V },
	{ "arithmetic before comparison", "1 + 1 = 2", { { 0 } }, TRUE_V },
	{ "comparison of expressions", "2 * 3 > 10 - 5", { { 0 } }, TRUE_V },
	{ "exact number equality", "0.1 + 0.2 = 0.3", { { 0 } }, FALSE_V },
	{ "symbol equals symbol", "?a = csv", { { "a", SYM("csv") } }, TRUE_V },
	{ "symbol is not a string", "?a = 'csv'", { { "a", SYM("csv") } }, FALSE_V },
	{ "symbol differs from string", "?a != 'csv'", { { "a", SYM("csv") } }, TRUE_V },
	{ "string equals string", "?a = 'csv'", { { "a", STR("csv") } }, TRUE_V },
	{ "string in double quotes", "?a = \"csv\"", { { "a", STR("csv") } }, TRUE_V },
	{ "string is not a symbol", "?a = csv", { { "a", STR("csv") } }, FALSE_V },
	{ "quotes of either kind", "'a' = \"a\"", { { 0 } }, TRUE_V },
	{ "the other quote inside", "?a = \"it's\"", { { "a", STR("it's") } }, TRUE_V },
	{ "empty string", "?a = ''", { { "a", STR("") } }, TRUE_V },
	{ "different types are unequal", "csv = 1", { { 0 } }, FALSE_V },
	{ "number vs string", "1 = '1'", { { 0 } }, FALSE_V },
	{ "booleans", "true = true", { { 0 } }, TRUE_V },
	{ "boolean variable", "?a = false", { { "a", FALSE_V } }, TRUE_V },
	{ "symbol with dashes", "?s = kinesis-data-firehose",
	  { { "s", SYM("kinesis-data-firehose") } }, TRUE_V },
	{ "symbol with dots and digits", "ml.p3.2xlarge = ?s", { { "s", SYM("ml.p3.2xlarge") } },
	  TRUE_V },
	{ "symbol with a slash", "?s = text/csv", { { "s", SYM("text/csv") } }, TRUE_V },
	{ "symbol with underscore", "?s = a_b", { { "s", SYM("a_b") } }, TRUE_V },
	{ "`a-b` is one symbol", "?s = a-b", { { "s", SYM("a-b") } }, TRUE_V },
	{ "keyword prefix makes a symbol", "?s = not-in", { { "s", SYM("not-in") } }, TRUE_V },
	{ "symbols are case-sensitive", "?s = CSV", { { "s", SYM("csv") } }, FALSE_V },
	{ "comparison with a variable", "?m >= ?need",
	  { { "m", NUM(4096) }, { "need", NUM(512) } }, TRUE_V },
};

static const value_case logic[] = {
	{ "and", "true and false", { { 0 } }, FALSE_V },
	{ "or", "true or false", { { 0 } }, TRUE_V },
	{ "not", "not true", { { 0 } }, FALSE_V },
	{ "not not", "not not true", { { 0 } }, TRUE_V },
	{ "and before or", "true or true and false", { { 0 } }, TRUE_V },
	{ "and before or, left", "false or true and false", { { 0 } }, FALSE_V },
	{ "not before and", "not false and false", { { 0 } }, FALSE_V },
	{ "comparison before not", "not 1 = 2", { { 0 } }, TRUE_V },
	{ "comparisons joined", "1 < 2 and 2 < 3", { { 0 } }, TRUE_V },
	{ "grouping", "not (true and false)", { { 0 } }, TRUE_V },
	{ "and chain", "true and true and true", { { 0 } }, TRUE_V },
	{ "or chain", "false or false or true", { { 0 } }, TRUE_V },
	{ "and short-circuits division by zero", "false and (1/0 = 1)", { { 0 } }, FALSE_V },
	{ "or short-circuits division by zero", "true or 1/0 = 1", { { 0 } }, TRUE_V },
	{ "and short-circuits a type error", "false and ?s", { { "s", SYM("x") } }, FALSE_V },
	{ "or short-circuits a type error", "true or 5", { { 0 } }, TRUE_V },
	{ "later operand skipped in a chain", "true and false and 1 / 0 = 1", { { 0 } },
	  FALSE_V },
	{ "rule-like test", "?rps * ?kb > 1000 and ?fmt = parquet",
	  { { "rps", NUM(500) }, { "kb", NUM(4) }, { "fmt", SYM("parquet") } }, TRUE_V },
};

Test(expr, arithmetic)
{
	check_values(arithmetic, sizeof(arithmetic) / sizeof(arithmetic[0]));
}

Test(expr, functions)
{
	check_values(functions, sizeof(functions) / sizeof(functions[0]));
}

Test(expr, comparisons)
{
	check_values(comparisons, sizeof(comparisons) / sizeof(comparisons[0]));
}

Test(expr, logic)
{
	check_values(logic, sizeof(logic) / sizeof(logic[0]));
}

static const parse_error_case parse_errors[] = {
	{ "empty", "", { { 0 } }, 0, "empty expression" },
	{ "blank", "   ", { { 0 } }, 3, "empty expression" },
	{ "missing right operand", "1 +", { { 0 } }, 3, "unexpected end of expression" },
	{ "missing operand before `)`", "(1 + )", { { 0 } }, 5, "expected a value, found `)`" },
	{ "empty parentheses", "()", { { 0 } }, 1, "expected a value, found `)`" },
	{ "lone `(`", "(", { { 0 } }, 1, "unexpected end of expression" },
	{ "unclosed `(`", "2 * (3 + 4", { { 0 } }, 10, "expected `)` to close `(` at 4" },
	{ "unclosed `(` before a token", "(1 + 2 3", { { 0 } }, 7,
	  "expected `)` to close `(` at 0" },
	{ "unclosed call", "max(1, (2 + 3)", { { 0 } }, 14,
	  "expected `,` or `)` to close `(` at 3" },
	{ "missing comma", "max(1 2)", { { 0 } }, 6, "expected `,` or `)` to close `(` at 3" },
	{ "trailing comma", "max(1,)", { { 0 } }, 6, "expected a value, found `)`" },
	{ "unmatched `)`", "1 + 2)", { { 0 } }, 5, "unmatched `)`" },
	{ "two operands", "1 2", { { 0 } }, 2, "expected an operator, found `2`" },
	{ "symbol after a value", "?a csv", { { "a", NUM(1) } }, 3,
	  "expected an operator, found `csv`" },
	{ "unknown function", "cbrt(4)", { { 0 } }, 0, "unknown function `cbrt`" },
	{ "unknown function inside", "1 + cbrt(4)", { { 0 } }, 4, "unknown function `cbrt`" },
	{ "unbound variable", "?a + ?nope", { { "a", NUM(1) } }, 5, "unbound variable ?nope" },
	{ "no variables at all", "?x", { { 0 } }, 0, "unbound variable ?x" },
	{ "variable name missing", "? + 1", { { 0 } }, 0, "expected a variable name after `?`" },
	{ "unterminated string", "'abc", { { 0 } }, 0, "unterminated string" },
	{ "unterminated string later", "1 = \"abc'", { { 0 } }, 4, "unterminated string" },
	{ "two dots", "1.2.3", { { 0 } }, 0, "malformed number `1.2.3`" },
	{ "letters after digits", "2xlarge", { { 0 } }, 0, "malformed number `2xlarge`" },
	{ "exponent without digits", "1e", { { 0 } }, 0, "malformed number `1e`" },
	{ "trailing dot", "3.", { { 0 } }, 0, "malformed number `3.`" },
	{ "hexadecimal", "0x10", { { 0 } }, 0, "malformed number `0x10`" },
	{ "leading dot", ".5", { { 0 } }, 0, "unexpected character `.`" },
	{ "number out of range", "1 + 1e999", { { 0 } }, 4, "number `1e999` is out of range" },
	{ "stray character", "1 # 2", { { 0 } }, 2, "unexpected character `#`" },
	{ "control byte", "1 +\x01", { { 0 } }, 3, "unexpected byte 0x01" },
	{ "bang alone", "1 ! 2", { { 0 } }, 2, "unexpected `!`" },
	{ "chained comparison", "1 < 2 < 3", { { 0 } }, 6, "comparisons do not chain" },
	{ "ceil arity", "ceil(1, 2)", { { 0 } }, 0, "`ceil` takes 1 argument, got 2" },
	{ "abs arity", "1 + abs()", { { 0 } }, 4, "`abs` takes 1 argument, got 0" },
	{ "max arity", "max()", { { 0 } }, 0, "`max` takes at least 1 argument, got 0" },
	{ "pi takes nothing", "pi(1)", { { 0 } }, 0, "`pi` takes 0 arguments, got 1" },
	{ "atan2 arity", "atan2(1)", { { 0 } }, 0, "`atan2` takes 2 arguments, got 1" },
	{ "if arity", "2 * if(true, 1)", { { 0 } }, 4, "`if` takes 3 arguments, got 2" },
	{ "not alone", "not", { { 0 } }, 3, "unexpected end of expression" },
	{ "not after a comparison", "1 = not true", { { 0 } }, 4,
	  "expected a value, found `not`" },
	{ "and at the end", "true and", { { 0 } }, 8, "unexpected end of expression" },
	{ "operator first", "* 2", { { 0 } }, 0, "expected a value, found `*`" },
	{ "keyword as a value", "1 + or", { { 0 } }, 4, "expected a value, found `or`" },
	{ "true is not a function", "true(1)", { { 0 } }, 4, "expected an operator, found `(`" },
	{ "long token is cut", "1 abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz", { { 0 } },
	  2, "found `abcdefghijklmnopqrstuvwxyzabcdef...`" },
};

Test(expr, parse_errors)
{
	for (size_t i = 0; i < sizeof(parse_errors) / sizeof(parse_errors[0]); i++) {
		const parse_error_case *c = &parse_errors[i];
		expr *x = (expr *)1;
		size_t off = (size_t)-1;
		char err[ERR_SIZE];
		eng_status st = expr_parse(a, e, c->src, strlen(c->src), var_index,
		                           (void *)c->vars, &x, &off, err, sizeof(err));
		cr_expect_eq(st, ENG_ERR_LOAD, "%s: `%s` gave status %d, expected a syntax error",
		             c->name, c->src, (int)st);
		if (st != ENG_ERR_LOAD)
			continue;
		cr_expect_null(x, "%s: *out is not NULL after an error", c->name);
		cr_expect_eq(off, c->off, "%s: `%s` error at %zu (%s), expected at %zu", c->name,
		             c->src, off, err, c->off);
		cr_expect(strstr(err, c->msg) != NULL, "%s: `%s` says \"%s\", expected \"%s\"",
		          c->name, c->src, err, c->msg);
	}
}

static const eval_error_case eval_errors[] = {
	{ "add a symbol", "?a + 1", { { "a", SYM("abc") } },
	  "`+` needs numbers, got symbol `abc`" },
	{ "subtract a string", "1 - ?a", { { "a", STR("csv") } },
	  "`-` needs numbers, got string `'csv'`" },
	{ "multiply a boolean", "2 * true", { { 0 } }, "`*` needs numbers, got boolean `true`" },
	{ "divide a symbol", "csv / 2", { { 0 } }, "`/` needs numbers, got symbol `csv`" },
	{ "comparison result in arithmetic", "(1 < 2) + 1", { { 0 } },
	  "`+` needs numbers, got boolean `true`" },
	{ "division by zero", "1 / 0", { { 0 } }, "division by zero" },
	{ "square root of a negative", "sqrt(-1)", { { 0 } }, "not a real number" },
	{ "log of zero", "log(0)", { { 0 } }, "not a real number" },
	{ "if on a number", "if(1, 2, 3)", { { 0 } }, "`if` needs booleans, got number `1`" },
	{ "if: the branch taken fails", "if(true, 1 / 0, 0)", { { 0 } }, "division by zero" },
	{ "atan2 of a symbol", "atan2(?a, 1)", { { "a", SYM("x") } },
	  "`atan2` needs numbers, got symbol `x`" },
	{ "division by a computed zero", "?a / (?b - ?b)", { { "a", NUM(1) }, { "b", NUM(2) } },
	  "division by zero" },
	{ "overflow", "1e300 * 1e300", { { 0 } }, "`*` overflowed" },
	{ "negate a symbol", "-?a", { { "a", SYM("x") } }, "`-` needs a number, got symbol `x`" },
	{ "ceil of a symbol", "ceil(?a)", { { "a", SYM("x") } },
	  "`ceil` needs a number, got symbol `x`" },
	{ "max of a string", "max(1, ?a)", { { "a", STR("x") } },
	  "`max` needs numbers, got string `'x'`" },
	{ "order a symbol", "?a < 3", { { "a", SYM("big") } },
	  "`<` needs numbers, got symbol `big`" },
	{ "order a boolean", "3 >= true", { { 0 } }, "`>=` needs numbers, got boolean `true`" },
	{ "and on a number", "1 and true", { { 0 } }, "`and` needs booleans, got number `1`" },
	{ "or on a number", "false or 0", { { 0 } }, "`or` needs booleans, got number `0`" },
	{ "not on a symbol", "not ?a", { { "a", SYM("yes") } },
	  "`not` needs booleans, got symbol `yes`" },
	{ "no short circuit when it must go on", "true and 1 / 0 = 1", { { 0 } },
	  "division by zero" },
	{ "a dash after a variable subtracts", "?max-dim", { { "max", NUM(1) } },
	  "`-` needs numbers, got symbol `dim`" },
	{ "long value is cut", "?a + 1",
	  { { "a", SYM("a-very-long-symbol-name-that-goes-on-and-on-and-on-forever") } },
	  "got symbol `a-very-long-symbol-name-that-goes-on-and-on-...`" },
};

Test(expr, eval_errors)
{
	for (size_t i = 0; i < sizeof(eval_errors) / sizeof(eval_errors[0]); i++) {
		const eval_error_case *c = &eval_errors[i];
		expr *x = NULL;
		size_t off = 0;
		char err[ERR_SIZE];
		eng_status st = expr_parse(a, e, c->src, strlen(c->src), var_index,
		                           (void *)c->vars, &x, &off, err, sizeof(err));
		cr_expect_eq(st, ENG_OK, "%s: `%s` failed to parse at %zu: %s", c->name, c->src,
		             off, err);
		if (st != ENG_OK)
			continue;
		eng_value values[MAX_VARS], got;
		bind(c->vars, values);
		st = expr_eval(x, e, values, &got, err, sizeof(err));
		cr_expect_eq(st, ENG_ERR_EVAL, "%s: `%s` gave status %d, expected ENG_ERR_EVAL",
		             c->name, c->src, (int)st);
		cr_expect(strstr(err, c->msg) != NULL, "%s: `%s` says \"%s\", expected \"%s\"",
		          c->name, c->src, err, c->msg);
	}
}

/* ---- depth and length ---- */

/* PREFIX COUNT times, then MIDDLE, then SUFFIX COUNT times, in a malloc'd string. */
static char *repeat(const char *prefix, size_t count, const char *middle,
                    const char *suffix)
{
	size_t lp = strlen(prefix), lm = strlen(middle), ls = strlen(suffix);
	char *s = malloc(count * (lp + ls) + lm + 1);
	cr_assert_not_null(s);
	char *p = s;
	for (size_t i = 0; i < count; i++, p += lp)
		memcpy(p, prefix, lp);
	memcpy(p, middle, lm);
	p += lm;
	for (size_t i = 0; i < count; i++, p += ls)
		memcpy(p, suffix, ls);
	*p = '\0';
	return s;
}

typedef struct {
	const char *name;
	const char *prefix, *middle, *suffix;
	size_t count;
	tval want;              /* type 0: a depth error is expected ... */
	size_t off;             /* ... at this offset */
} depth_case;

static const depth_case depths[] = {
	{ "64 parentheses", "(", "1", ")", 64, NUM(1), 0 },
	{ "65 parentheses", "(", "1", ")", 65, { 0 }, 64 },
	{ "64 unary minus", "-", "1", "", 64, NUM(1), 0 },
	{ "65 unary minus", "-", "1", "", 65, { 0 }, 64 },
	{ "64 nots", "not ", "true", "", 64, TRUE_V, 0 },
	{ "65 nots", "not ", "true", "", 65, { 0 }, 256 },
	{ "64 calls", "abs(", "1", ")", 64, NUM(1), 0 },
	{ "65 calls", "abs(", "1", ")", 65, { 0 }, 259 },
	{ "32 levels of two kinds", "-(", "1", ")", 32, NUM(1), 0 },
	{ "33 levels of two kinds", "-(", "1", ")", 33, { 0 }, 64 },
	{ "10000 parentheses", "(", "1", ")", 10000, { 0 }, 64 },
};

Test(expr, depth_cap)
{
	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		const depth_case *c = &depths[i];
		char *src = repeat(c->prefix, c->count, c->middle, c->suffix);
		expr *x = NULL;
		size_t off = 0;
		char err[ERR_SIZE];
		eng_status st = expr_parse(a, e, src, strlen(src), var_index, NULL, &x, &off, err,
		                           sizeof(err));
		if (c->want.type) {
			cr_expect_eq(st, ENG_OK, "%s: failed to parse at %zu: %s", c->name, off, err);
			eng_value got;
			if (st == ENG_OK) {
				st = expr_eval(x, e, NULL, &got, err, sizeof(err));
				cr_expect_eq(st, ENG_OK, "%s: failed to evaluate: %s", c->name, err);
				cr_expect(st != ENG_OK || same(got, to_value(c->want)),
				          "%s: wrong value", c->name);
			}
		} else {
			cr_expect_eq(st, ENG_ERR_LOAD, "%s: parsed, expected a depth error", c->name);
			cr_expect_eq(off, c->off, "%s: error at %zu (%s), expected %zu", c->name, off,
			             err, c->off);
			cr_expect(strstr(err, "nested too deeply") != NULL, "%s: says \"%s\"", c->name,
			          err);
		}
		free(src);
	}
}

typedef struct {
	const char *name;
	const char *first, *each, *last;
	size_t count;
	tval want;
} chain_case;

/* Long chains of one operator are flat: they neither hit the depth cap nor deepen the
 * evaluator's recursion. */
static const chain_case chains[] = {
	{ "10000 additions", "0", " + 1", "", 10000, NUM(10000) },
	{ "10000 subtractions", "10000", "-1", "", 10000, NUM(0) },
	{ "5000 ands", "true", " and true", "", 5000, TRUE_V },
	{ "5000 ors", "false", " or false", " or true", 5000, TRUE_V },
	{ "max of 3001", "max(0", ", 1", ", 2)", 3000, NUM(2) },
};

Test(expr, long_chains)
{
	for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
		const chain_case *c = &chains[i];
		char *body = repeat(c->each, c->count, "", "");
		size_t n = strlen(c->first) + strlen(body) + strlen(c->last) + 1;
		char *src = malloc(n);
		cr_assert_not_null(src);
		snprintf(src, n, "%s%s%s", c->first, body, c->last);
		eng_value got;
		if (run(c->name, src, NULL, &got))
			cr_expect(same(got, to_value(c->want)), "%s: wrong value", c->name);
		free(src);
		free(body);
	}
}

/* ---- interface details ---- */

Test(expr, no_negative_zero)
{
	static const char *const srcs[] = { "0 * -1", "-0", "-(1 - 1)", "round(-0.4)" };
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		eng_value got;
		if (run(srcs[i], srcs[i], NULL, &got))
			cr_expect(got.type == ENG_NUMBER && got.u.num == 0 && !signbit(got.u.num),
			          "%s: gave -0", srcs[i]);
	}
}

Test(expr, source_need_not_be_terminated)
{
	/* Only LEN bytes are read: "1 + 2" out of "1 + 23". */
	expr *x = NULL;
	char err[ERR_SIZE];
	cr_assert_eq(expr_parse(a, e, "1 + 23", 5, var_index, NULL, &x, NULL, err, sizeof(err)),
	             ENG_OK, "%s", err);
	eng_value got;
	cr_assert_eq(expr_eval(x, e, NULL, &got, err, sizeof(err)), ENG_OK, "%s", err);
	cr_expect(same(got, eng_number(3)));
	/* A string or number cut by LEN. */
	cr_expect_eq(expr_parse(a, e, "'abc'", 4, var_index, NULL, &x, NULL, NULL, 0),
	             ENG_ERR_LOAD);
}

Test(expr, small_or_missing_error_buffers)
{
	expr *x = NULL;
	char err[8];
	memset(err, 'x', sizeof(err));
	cr_expect_eq(expr_parse(a, e, "cbrt(2)", 7, var_index, NULL, &x, NULL, err, sizeof(err)),
	             ENG_ERR_LOAD);
	cr_expect_str_eq(err, "unknown");
	cr_expect_eq(expr_parse(a, e, "(", 1, var_index, NULL, &x, NULL, NULL, 0), ENG_ERR_LOAD);
	cr_assert_eq(expr_parse(a, e, "1/0", 3, var_index, NULL, &x, NULL, NULL, 0), ENG_OK);
	eng_value got;
	cr_expect_eq(expr_eval(x, e, NULL, &got, NULL, 0), ENG_ERR_EVAL);
	cr_expect_eq(expr_eval(x, e, NULL, &got, err, sizeof(err)), ENG_ERR_EVAL);
	cr_expect_str_eq(err, "divisio");
}

Test(expr, failed_parse_gives_back_its_memory)
{
	/* A tree parsed before a failure must survive the failure's rewind. */
	expr *keep = NULL, *bad = NULL;
	cr_assert_eq(expr_parse(a, e, "max(1, 2)", 9, var_index, NULL, &keep, NULL, NULL, 0),
	             ENG_OK);
	for (int i = 0; i < 100; i++) {
		char *src = repeat("1 + ", 5000, "(", "");
		cr_expect_eq(expr_parse(a, e, src, strlen(src), var_index, NULL, &bad, NULL, NULL, 0),
		             ENG_ERR_LOAD);
		free(src);
	}
	eng_value got;
	cr_assert_eq(expr_eval(keep, e, NULL, &got, NULL, 0), ENG_OK);
	cr_expect(same(got, eng_number(2)));
}

Test(expr, symbols_are_interned_in_the_engine)
{
	expr *x = NULL;
	cr_assert_eq(expr_parse(a, e, "brand-new-symbol", 16, var_index, NULL, &x, NULL, NULL, 0),
	             ENG_OK);
	eng_value got;
	cr_assert_eq(expr_eval(x, e, NULL, &got, NULL, 0), ENG_OK);
	cr_expect_eq(got.type, ENG_SYMBOL);
	cr_expect_str_eq(eng_sym_name(e, got.u.sym), "brand-new-symbol");
	cr_expect_eq(got.u.sym, eng_sym_lookup(e, "brand-new-symbol"));
}

Test(expr, symbol_joins_its_arguments)
{
	static const struct {
		const char *name, *src, *want;
	} cases[] = {
		{ "symbol and number", "symbol(s, 12)", "s12" },
		{ "arithmetic inside", "symbol(p, 2 + 3)", "p5" },
		{ "string without quotes", "symbol('a b', c)", "a bc" },
		{ "fraction", "symbol(x, 0.5)", "x0.5" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expr *x = NULL;
		cr_assert_eq(expr_parse(a, e, cases[i].src, strlen(cases[i].src), var_index, NULL, &x,
		                        NULL, NULL, 0), ENG_OK, "case '%s': parse", cases[i].name);
		eng_value got;
		cr_assert_eq(expr_eval(x, e, NULL, &got, NULL, 0), ENG_OK, "case '%s'", cases[i].name);
		cr_expect_eq(got.type, ENG_SYMBOL, "case '%s': a symbol", cases[i].name);
		cr_expect_str_eq(eng_sym_name(e, got.u.sym), cases[i].want, "case '%s'", cases[i].name);
	}
}

/* arena_pop (engine.c drops a firing nothing names with it): the newest allocation goes
 * back and the next one takes its place; an older pointer is left alone. */
Test(expr, arena_pop_gives_back_the_newest)
{
	char *p = arena_alloc_small(a, 24);
	char *q = arena_alloc_small(a, 40);
	cr_assert(p && q);
	arena_pop(a, q);
	char *r = arena_alloc_small(a, 40);
	cr_assert_eq(r, q, "the popped space is reused");
	memset(r, 0x5a, 40);
	arena_pop(a, a);            /* not in the block: nothing happens */
	char *s = arena_alloc_small(a, 8);
	cr_assert(s >= r + 40, "a foreign pointer does not rewind the arena");
	cr_assert_eq(p[0], 0, "older allocations are untouched");
}
