/* SPDX-License-Identifier: MIT */
/*
 * expr.c - the expression language of `test:` conditions and `{calc: ...}` values:
 * a recursive-descent parser from source text to an immutable tree allocated from an
 * arena, and an evaluator over that tree that never allocates.
 *
 * Grammar, loosest first:
 *
 *   or    := and ('or' and)*
 *   and   := not ('and' not)*
 *   not   := 'not' not | cmp
 *   cmp   := add (('=' | '==' | '!=' | '<' | '<=' | '>' | '>=') add)?
 *   add   := mul (('+' | '-') mul)*
 *   mul   := unary (('*' | '/') unary)*
 *   unary := '-' unary | primary
 *   primary := NUMBER | STRING | SYMBOL | 'true' | 'false' | ?VAR
 *            | '(' or ')' | FUNC '(' (or (',' or)*)? ')'
 *
 * Comparisons do not chain (`1 < ?x < 3` is a syntax error: write `and`).
 *
 * Tokens. A symbol starts with a letter and goes on with letters, digits and `_ - . /`,
 * so that `kinesis-data-firehose` and `ml.p3.2xlarge` are single symbols. The lexer is
 * greedy, which settles what `-` and `/` mean: right after a symbol character they continue
 * the symbol (`a-b` and `a/b` are symbols); anywhere else - after a variable, a number, a
 * `)`, or a space - they are operators (`?a-?b`, `?a - ?b`, `3-1`, `a - b` subtract).
 * A variable is `?` followed by letters, digits and `_` (no `-`: `?a-b` is `?a - b`).
 * Numbers are decimal: digits, an optional fraction, an optional exponent; a sign is the
 * unary operator. Strings are '...' or "..." with no escapes (use the other quote to
 * embed one). The words `and or not true false` are reserved; a symbol followed by `(`
 * is a function call and must name a function of the table below.
 *
 * Depth. Chains of one operator (`1 + 2 - 3`, `a and b and c`, `min(1, 2, 3)`) are single
 * n-ary nodes, so only nesting (parentheses, calls, unary `-`, `not`) deepens the tree.
 * Nesting is capped at EXPR_MAX_DEPTH levels, which bounds the recursion of both the
 * parser and the evaluator: at most the six grammar levels per nesting level, a few hundred
 * frames in all, whatever the length of the source.
 */
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPR_MAX_DEPTH 64
/* Longest token text quoted in a message before it is cut with "...". */
#define EXPR_QUOTE_MAX 32

typedef enum {
	EX_CONST,       /* k */
	EX_VAR,         /* var */
	EX_NEG,         /* -args[0] */
	EX_NOT,         /* not args[0] */
	EX_ARITH,       /* args[0] ops[1] args[1] ops[2] args[2] ..., left to right */
	EX_CMP,         /* args[0] op args[1] */
	EX_AND,         /* all args, left to right, stopping at the first false */
	EX_OR,          /* all args, left to right, stopping at the first true */
	EX_CALL,        /* fn(args...) */
} expr_kind;

typedef enum {
	FN_CEIL, FN_FLOOR, FN_ROUND, FN_ABS, FN_MIN, FN_MAX, FN_SYMBOL, FN_SQRT, FN_LOG, FN_EXP,
	FN_ATAN, FN_ATAN2, FN_PI, FN_IF,
} expr_fn;

struct expr {
	expr_kind kind;
	int op;                 /* EX_ARITH: unused; EX_CMP: cmp_op; EX_CALL: expr_fn */
	eng_value k;            /* EX_CONST */
	uint32_t var;           /* EX_VAR */
	uint32_t n;             /* number of args */
	expr **args;
	char *ops;              /* EX_ARITH: ops[i] ('+' '-' '*' '/') joins args[i-1], args[i] */
};

#define ANY_ARGS UINT32_MAX

/* The built-in functions: adding one means a row here and a case in eval_call. */
static const struct {
	const char *name;
	expr_fn fn;
	uint32_t min_args, max_args;    /* max_args ANY_ARGS: no limit */
} expr_fns[] = {
	{ "ceil", FN_CEIL, 1, 1 },
	{ "floor", FN_FLOOR, 1, 1 },
	{ "round", FN_ROUND, 1, 1 },     /* halves away from zero */
	{ "abs", FN_ABS, 1, 1 },
	{ "min", FN_MIN, 1, ANY_ARGS },
	{ "max", FN_MAX, 1, ANY_ARGS },
	{ "symbol", FN_SYMBOL, 1, ANY_ARGS },   /* the texts of its arguments joined, as a symbol */
	{ "sqrt", FN_SQRT, 1, 1 },
	{ "log", FN_LOG, 1, 1 },         /* natural logarithm */
	{ "exp", FN_EXP, 1, 1 },
	{ "atan", FN_ATAN, 1, 1 },       /* radians, in [-pi/2, pi/2] */
	{ "atan2", FN_ATAN2, 2, 2 },     /* atan2(y, x): the angle of (x, y), in [-pi, pi] */
	{ "pi", FN_PI, 0, 0 },
	{ "if", FN_IF, 3, 3 },           /* if(c, a, b): a when c is true, else b; only one runs */
};

/* ---- lexer ---- */

typedef enum {
	T_END, T_NUM, T_STR, T_SYM, T_VAR, T_TRUE, T_FALSE, T_AND, T_OR, T_NOT,
	T_LP, T_RP, T_COMMA, T_PLUS, T_MINUS, T_STAR, T_SLASH,
	T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
} tok_kind;

typedef struct {
	tok_kind kind;
	size_t off, len;        /* the whole token in the source */
	double num;             /* T_NUM */
} tok;

typedef struct {
	arena *a;
	eng *e;
	const char *src;
	size_t len;
	size_t pos;             /* where the lexer goes on after t */
	expr_var_fn var;
	void *ctx;
	tok t;                  /* the current token */
	unsigned depth;
	eng_status st;
	size_t *err_off;
	char *err;
	size_t errsz;
} parser;

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_sym_char(char c)
{
	return is_letter(c) || is_digit(c) || c == '_' || c == '-' || c == '.' || c == '/';
}

static bool is_var_char(char c)
{
	return is_letter(c) || is_digit(c) || c == '_';
}

static void fail(parser *p, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records the first error only: later ones are consequences of it. */
static void fail(parser *p, size_t off, const char *fmt, ...)
{
	if (p->st != ENG_OK)
		return;
	p->st = ENG_ERR_LOAD;
	if (p->err_off)
		*p->err_off = off;
	if (p->err && p->errsz) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->err, p->errsz, fmt, ap);
		va_end(ap);
	}
}

static void fail_nomem(parser *p)
{
	if (p->st != ENG_OK)
		return;
	p->st = ENG_ERR_NOMEM;
	if (p->err_off)
		*p->err_off = p->t.off;
	if (p->err && p->errsz)
		snprintf(p->err, p->errsz, "out of memory");
}

/* Writes SRC[OFF..OFF+LEN) into BUF for a message: cut at EXPR_QUOTE_MAX bytes with
 * "...", bytes outside printable ASCII as '?'. */
static const char *quote(const parser *p, size_t off, size_t len, char *buf, size_t size)
{
	size_t n = len > EXPR_QUOTE_MAX ? EXPR_QUOTE_MAX : len;
	if (n > size - 4)
		n = size - 4;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p->src[off + i];
		buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (n < len) {
		memcpy(buf + n, "...", 4);
	} else {
		buf[n] = '\0';
	}
	return buf;
}

/* Converts the decimal number SRC[OFF..OFF+LEN) (already checked by the lexer). */
static bool number_value(parser *p, size_t off, size_t len, double *out)
{
	char small[64];
	/* strtod needs a terminated string; the source need not be one. strtod follows the
	 * C locale's decimal point, which the library never changes. */
	if (len < sizeof(small)) {
		memcpy(small, p->src + off, len);
		small[len] = '\0';
		*out = strtod(small, NULL);
		return true;
	}
	arena_mark m = arena_mark_get(p->a);
	char *big = arena_strndup(p->a, p->src + off, len);
	if (!big)
		return false;
	*out = strtod(big, NULL);
	arena_rewind(p->a, m);
	return true;
}

static size_t skip_digits(const parser *p, size_t i)
{
	while (i < p->len && is_digit(p->src[i]))
		i++;
	return i;
}

static void lex_number(parser *p, size_t start)
{
	size_t i = skip_digits(p, start);
	if (i + 1 < p->len && p->src[i] == '.' && is_digit(p->src[i + 1]))
		i = skip_digits(p, i + 1);
	if (i < p->len && (p->src[i] == 'e' || p->src[i] == 'E')) {
		size_t j = i + 1;
		if (j < p->len && (p->src[j] == '+' || p->src[j] == '-'))
			j++;
		if (j < p->len && is_digit(p->src[j]))
			i = skip_digits(p, j);
	}
	if (i < p->len && (is_sym_char(p->src[i]) && p->src[i] != '-' && p->src[i] != '/')) {
		size_t end = i;
		while (end < p->len && is_sym_char(p->src[end]) && p->src[end] != '-' &&
		       p->src[end] != '/')
			end++;
		char q[EXPR_QUOTE_MAX + 4];
		fail(p, start, "malformed number `%s`", quote(p, start, end - start, q, sizeof(q)));
		return;
	}
	p->t.kind = T_NUM;
	p->t.len = i - start;
	p->pos = i;
	if (!number_value(p, start, i - start, &p->t.num)) {
		fail_nomem(p);
		return;
	}
	if (isinf(p->t.num)) {
		char q[EXPR_QUOTE_MAX + 4];
		fail(p, start, "number `%s` is out of range", quote(p, start, i - start, q, sizeof(q)));
	}
}

static tok_kind keyword(const char *s, size_t len)
{
	static const struct {
		const char *word;
		tok_kind kind;
	} words[] = {
		{ "and", T_AND }, { "or", T_OR }, { "not", T_NOT },
		{ "true", T_TRUE }, { "false", T_FALSE }, { "yes", T_TRUE }, { "no", T_FALSE },
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].word) == len && memcmp(words[i].word, s, len) == 0)
			return words[i].kind;
	return T_SYM;
}

/* Reads the next token into p->t. On a lexical error p->st is set and p->t is T_END. */
static void next(parser *p)
{
	const char *s = p->src;
	size_t i = p->pos;
	while (i < p->len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	p->t.kind = T_END;
	p->t.off = i;
	p->t.len = 0;
	p->pos = i;
	if (i >= p->len || p->st != ENG_OK)
		return;

	char c = s[i];
	char c2 = i + 1 < p->len ? s[i + 1] : '\0';
	size_t n = 1;
	tok_kind k;
	switch (c) {
	case '(': k = T_LP; break;
	case ')': k = T_RP; break;
	case ',': k = T_COMMA; break;
	case '+': k = T_PLUS; break;
	case '-': k = T_MINUS; break;
	case '*': k = T_STAR; break;
	case '/': k = T_SLASH; break;
	case '=': k = T_EQ; n = c2 == '=' ? 2 : 1; break;
	case '<': k = c2 == '=' ? T_LE : T_LT; n = c2 == '=' ? 2 : 1; break;
	case '>': k = c2 == '=' ? T_GE : T_GT; n = c2 == '=' ? 2 : 1; break;
	case '!':
		if (c2 != '=') {
			fail(p, i, "unexpected `!` (did you mean `!=` or `not`?)");
			return;
		}
		k = T_NE;
		n = 2;
		break;
	case '\'':
	case '"': {
		const char *close = memchr(s + i + 1, c, p->len - i - 1);
		if (!close) {
			fail(p, i, "unterminated string");
			return;
		}
		k = T_STR;
		n = (size_t)(close - (s + i)) + 1;
		break;
	}
	case '?': {
		size_t j = i + 1;
		while (j < p->len && is_var_char(s[j]))
			j++;
		if (j == i + 1) {
			fail(p, i, "expected a variable name after `?`");
			return;
		}
		k = T_VAR;
		n = j - i;
		break;
	}
	default:
		if (is_digit(c)) {
			lex_number(p, i);
			if (p->st != ENG_OK)
				p->t.kind = T_END;
			return;
		}
		if (is_letter(c)) {
			size_t j = i + 1;
			while (j < p->len && is_sym_char(s[j]))
				j++;
			n = j - i;
			k = keyword(s + i, n);
			break;
		}
		if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
			fail(p, i, "unexpected character `%c`", c);
		else
			fail(p, i, "unexpected byte 0x%02x", (unsigned)(unsigned char)c);
		return;
	}
	p->t.kind = k;
	p->t.len = n;
	p->pos = i + n;
}

/* ---- parser ---- */

static expr *node_new(parser *p, expr_kind kind, uint32_t n)
{
	expr *x = arena_alloc(p->a, sizeof(*x));
	if (!x) {
		fail_nomem(p);
		return NULL;
	}
	x->kind = kind;
	x->n = n;
	if (n) {
		x->args = arena_alloc(p->a, n * sizeof(*x->args));
		if (!x->args) {
			fail_nomem(p);
			return NULL;
		}
	}
	return x;
}

/* An operand list that grows in the arena (doubling, so the waste stays bounded). */
typedef struct {
	expr **items;
	char *ops;
	uint32_t n, cap;
} expr_list;

static bool list_push(parser *p, expr_list *l, expr *x, char op)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 4;
		if (cap <= l->cap) {
			fail(p, p->t.off, "expression too long");
			return false;
		}
		expr **items = arena_alloc(p->a, cap * sizeof(*items));
		char *ops = arena_alloc(p->a, cap);
		if (!items || !ops) {
			fail_nomem(p);
			return false;
		}
		if (l->n) {
			memcpy(items, l->items, l->n * sizeof(*items));
			memcpy(ops, l->ops, l->n);
		}
		l->items = items;
		l->ops = ops;
		l->cap = cap;
	}
	l->items[l->n] = x;
	l->ops[l->n] = op;
	l->n++;
	return true;
}

/* A chain of one element is the element itself. */
static expr *list_node(parser *p, expr_kind kind, expr_list *l)
{
	if (l->n == 1)
		return l->items[0];
	expr *x = node_new(p, kind, 0);
	if (!x)
		return NULL;
	x->n = l->n;
	x->args = l->items;
	x->ops = l->ops;
	return x;
}

/* Enters one level of nesting at OFF; false (with the error set) past the cap. */
static bool enter(parser *p, size_t off)
{
	if (p->depth >= EXPR_MAX_DEPTH) {
		fail(p, off, "expression nested too deeply (more than %d levels)", EXPR_MAX_DEPTH);
		return false;
	}
	p->depth++;
	return true;
}

static expr *parse_or(parser *p);

/* Fails at the current token, which cannot start an operand. */
static void fail_operand(parser *p)
{
	char q[EXPR_QUOTE_MAX + 4];
	if (p->t.kind == T_END)
		fail(p, p->t.off, "unexpected end of expression");
	else
		fail(p, p->t.off, "expected a value, found `%s`",
		     quote(p, p->t.off, p->t.len, q, sizeof(q)));
}

/* Fails at the current token, which should have been `)` closing the `(` at OPEN. */
static void fail_close(parser *p, size_t open, bool in_call)
{
	fail(p, p->t.off, in_call ? "expected `,` or `)` to close `(` at %zu"
	                          : "expected `)` to close `(` at %zu", open);
}

/* NAME is the current token (a symbol) and `(` follows it. */
static expr *parse_call(parser *p)
{
	size_t name_off = p->t.off, name_len = p->t.len;
	const char *name = p->src + name_off;
	size_t f;
	for (f = 0; f < sizeof(expr_fns) / sizeof(expr_fns[0]); f++)
		if (strlen(expr_fns[f].name) == name_len &&
		    memcmp(expr_fns[f].name, name, name_len) == 0)
			break;
	if (f == sizeof(expr_fns) / sizeof(expr_fns[0])) {
		char q[EXPR_QUOTE_MAX + 4];
		fail(p, name_off, "unknown function `%s`", quote(p, name_off, name_len, q, sizeof(q)));
		return NULL;
	}
	next(p);                /* the name */
	size_t open = p->t.off;
	if (!enter(p, open))
		return NULL;
	next(p);                /* `(` */
	expr_list args = { 0 };
	if (p->t.kind != T_RP) {
		for (;;) {
			expr *a = parse_or(p);
			if (!a || !list_push(p, &args, a, ','))
				return NULL;
			if (p->t.kind != T_COMMA)
				break;
			next(p);
		}
	}
	if (p->t.kind != T_RP) {
		if (p->st == ENG_OK)
			fail_close(p, open, true);
		return NULL;
	}
	next(p);
	p->depth--;
	uint32_t lo = expr_fns[f].min_args, hi = expr_fns[f].max_args;
	if (args.n < lo || args.n > hi) {
		if (lo == hi)
			fail(p, name_off, "`%s` takes %u argument%s, got %u", expr_fns[f].name,
			     lo, lo == 1 ? "" : "s", args.n);
		else
			fail(p, name_off, "`%s` takes at least %u argument%s, got %u",
			     expr_fns[f].name, lo, lo == 1 ? "" : "s", args.n);
		return NULL;
	}
	expr *x = node_new(p, EX_CALL, 0);
	if (!x)
		return NULL;
	x->op = (int)expr_fns[f].fn;
	x->n = args.n;
	x->args = args.items;
	return x;
}

static expr *parse_const(parser *p, eng_value v)
{
	expr *x = node_new(p, EX_CONST, 0);
	if (!x)
		return NULL;
	x->k = v;
	next(p);
	return x;
}

static expr *parse_primary(parser *p)
{
	eng_value v = { .type = ENG_NONE };
	switch (p->t.kind) {
	case T_NUM:
		v.type = ENG_NUMBER;
		v.u.num = p->t.num;
		return parse_const(p, v);
	case T_TRUE:
	case T_FALSE:
		v.type = ENG_BOOL;
		v.u.b = p->t.kind == T_TRUE;
		return parse_const(p, v);
	case T_STR:
		v.type = ENG_STRING;
		v.u.sym = eng_intern(p->e, p->src + p->t.off + 1, p->t.len - 2);
		if (!v.u.sym) {
			fail_nomem(p);
			return NULL;
		}
		return parse_const(p, v);
	case T_SYM: {
		/* A symbol directly followed by `(` (spaces allowed) is a call. */
		size_t i = p->pos;
		while (i < p->len && (p->src[i] == ' ' || p->src[i] == '\t' ||
		                      p->src[i] == '\n' || p->src[i] == '\r'))
			i++;
		if (i < p->len && p->src[i] == '(')
			return parse_call(p);
		v.type = ENG_SYMBOL;
		v.u.sym = eng_intern(p->e, p->src + p->t.off, p->t.len);
		if (!v.u.sym) {
			fail_nomem(p);
			return NULL;
		}
		return parse_const(p, v);
	}
	case T_VAR: {
		long idx = p->var ? p->var(p->ctx, p->src + p->t.off + 1, p->t.len - 1) : -1;
		if (idx < 0 || (unsigned long)idx > UINT32_MAX) {
			char q[EXPR_QUOTE_MAX + 4];
			fail(p, p->t.off, "unbound variable %s",
			     quote(p, p->t.off, p->t.len, q, sizeof(q)));
			return NULL;
		}
		expr *x = node_new(p, EX_VAR, 0);
		if (!x)
			return NULL;
		x->var = (uint32_t)idx;
		next(p);
		return x;
	}
	case T_LP: {
		size_t open = p->t.off;
		if (!enter(p, open))
			return NULL;
		next(p);
		expr *x = parse_or(p);
		if (!x)
			return NULL;
		if (p->t.kind != T_RP) {
			fail_close(p, open, false);
			return NULL;
		}
		next(p);
		p->depth--;
		return x;
	}
	default:
		fail_operand(p);
		return NULL;
	}
}

static expr *parse_unary(parser *p)
{
	if (p->t.kind != T_MINUS)
		return parse_primary(p);
	if (!enter(p, p->t.off))
		return NULL;
	next(p);
	expr *arg = parse_unary(p);
	if (!arg)
		return NULL;
	p->depth--;
	expr *x = node_new(p, EX_NEG, 1);
	if (!x)
		return NULL;
	x->args[0] = arg;
	return x;
}

/* A left-associative chain of the operators OPS (token kinds) with their characters. */
static expr *parse_arith(parser *p, expr *(*operand)(parser *), tok_kind op1, char c1,
                         tok_kind op2, char c2)
{
	expr_list l = { 0 };
	expr *x = operand(p);
	if (!x || !list_push(p, &l, x, 0))
		return NULL;
	while (p->t.kind == op1 || p->t.kind == op2) {
		char c = p->t.kind == op1 ? c1 : c2;
		next(p);
		x = operand(p);
		if (!x || !list_push(p, &l, x, c))
			return NULL;
	}
	return list_node(p, EX_ARITH, &l);
}

static expr *parse_mul(parser *p)
{
	return parse_arith(p, parse_unary, T_STAR, '*', T_SLASH, '/');
}

static expr *parse_add(parser *p)
{
	return parse_arith(p, parse_mul, T_PLUS, '+', T_MINUS, '-');
}

static bool cmp_of(tok_kind k, cmp_op *op)
{
	switch (k) {
	case T_EQ: *op = CMP_EQ; return true;
	case T_NE: *op = CMP_NE; return true;
	case T_LT: *op = CMP_LT; return true;
	case T_LE: *op = CMP_LE; return true;
	case T_GT: *op = CMP_GT; return true;
	case T_GE: *op = CMP_GE; return true;
	default: return false;
	}
}

static expr *parse_cmp(parser *p)
{
	expr *lhs = parse_add(p);
	cmp_op op;
	if (!lhs || !cmp_of(p->t.kind, &op))
		return lhs;
	next(p);
	expr *rhs = parse_add(p);
	if (!rhs)
		return NULL;
	cmp_op again;
	if (cmp_of(p->t.kind, &again)) {
		fail(p, p->t.off, "comparisons do not chain: join them with `and`");
		return NULL;
	}
	expr *x = node_new(p, EX_CMP, 2);
	if (!x)
		return NULL;
	x->op = (int)op;
	x->args[0] = lhs;
	x->args[1] = rhs;
	return x;
}

static expr *parse_not(parser *p)
{
	if (p->t.kind != T_NOT)
		return parse_cmp(p);
	if (!enter(p, p->t.off))
		return NULL;
	next(p);
	expr *arg = parse_not(p);
	if (!arg)
		return NULL;
	p->depth--;
	expr *x = node_new(p, EX_NOT, 1);
	if (!x)
		return NULL;
	x->args[0] = arg;
	return x;
}

static expr *parse_bool_chain(parser *p, expr *(*operand)(parser *), tok_kind op,
                              expr_kind kind)
{
	expr_list l = { 0 };
	expr *x = operand(p);
	if (!x || !list_push(p, &l, x, 0))
		return NULL;
	while (p->t.kind == op) {
		next(p);
		x = operand(p);
		if (!x || !list_push(p, &l, x, 0))
			return NULL;
	}
	return list_node(p, kind, &l);
}

static expr *parse_and(parser *p)
{
	return parse_bool_chain(p, parse_not, T_AND, EX_AND);
}

static expr *parse_or(parser *p)
{
	return parse_bool_chain(p, parse_and, T_OR, EX_OR);
}

/*
 * Parses SRC[0..LEN) into an expression tree allocated from A, interning its symbols and
 * strings in E and resolving each `?name` through VAR(CTX, name, len).
 * Returns ENG_OK with *OUT set; on a syntax error ENG_ERR_LOAD, on allocation failure
 * ENG_ERR_NOMEM, in both cases with *OUT NULL, *ERR_OFF the byte offset of the problem in
 * SRC and a lowercase message in ERR (ERRSZ bytes, truncated to fit). ERR_OFF and ERR may
 * be NULL. On failure everything the parse allocated from A is given back (names it
 * interned stay, as they do for the engine's life); on success the tree lives as long as
 * A and is never changed.
 */
eng_status expr_parse(arena *a, eng *e, const char *src, size_t len, expr_var_fn var,
                      void *ctx, expr **out, size_t *err_off, char *err, size_t errsz)
{
	*out = NULL;
	if (err && errsz)
		err[0] = '\0';
	if (err_off)
		*err_off = 0;
	parser p = {
		.a = a, .e = e, .src = src, .len = len, .var = var, .ctx = ctx,
		.st = ENG_OK, .err_off = err_off, .err = err, .errsz = errsz,
	};
	arena_mark m = arena_mark_get(a);
	next(&p);
	expr *x = NULL;
	if (p.st == ENG_OK && p.t.kind == T_END) {
		fail(&p, p.t.off, "empty expression");
	} else if (p.st == ENG_OK) {
		x = parse_or(&p);
		if (x && p.t.kind != T_END) {
			char q[EXPR_QUOTE_MAX + 4];
			if (p.t.kind == T_RP)
				fail(&p, p.t.off, "unmatched `)`");
			else
				fail(&p, p.t.off, "expected an operator, found `%s`",
				     quote(&p, p.t.off, p.t.len, q, sizeof(q)));
		}
	}
	if (p.st != ENG_OK || !x) {
		if (p.st == ENG_OK)
			fail_nomem(&p);     /* unreachable: every NULL comes with an error */
		arena_rewind(a, m);
		return p.st;
	}
	*out = x;
	return ENG_OK;
}

/* ---- evaluation ---- */

static const char *type_name(eng_type t)
{
	switch (t) {
	case ENG_SYMBOL: return "symbol";
	case ENG_STRING: return "string";
	case ENG_NUMBER: return "number";
	case ENG_BOOL: return "boolean";
	default: return "nothing";
	}
}

/* "`WHAT` needs NEED, got TYPE `VALUE`" into ERR; returns ENG_ERR_EVAL. */
static eng_status type_error(const eng *e, char *err, size_t errsz, const char *what,
                             const char *need, eng_value v)
{
	if (!err || !errsz)
		return ENG_ERR_EVAL;
	if (v.type == ENG_NONE) {
		snprintf(err, errsz, "`%s` needs %s, got no value", what, need);
		return ENG_ERR_EVAL;
	}
	char buf[48];
	int n = eng_value_format(e, v, buf, sizeof(buf));
	if (n < 0)
		buf[0] = '\0';
	else if ((size_t)n >= sizeof(buf))
		memcpy(buf + sizeof(buf) - 4, "...", 4);
	snprintf(err, errsz, "`%s` needs %s, got %s `%s`", what, need, type_name(v.type), buf);
	return ENG_ERR_EVAL;
}

static eng_status eval(const expr *x, const eng *e, const eng_value *vars, eng_value *out,
                       char *err, size_t errsz);

/* One zero, as eng_number has it: -0 and 0 are the same value. */
static double no_neg_zero(double d)
{
	return d == 0 ? 0.0 : d;
}

static eng_status eval_num(const expr *x, const eng *e, const eng_value *vars, double *out,
                           const char *what, const char *need, char *err, size_t errsz)
{
	eng_value v;
	eng_status st = eval(x, e, vars, &v, err, errsz);
	if (st != ENG_OK)
		return st;
	if (v.type != ENG_NUMBER)
		return type_error(e, err, errsz, what, need, v);
	*out = v.u.num;
	return ENG_OK;
}

static eng_status eval_bool(const expr *x, const eng *e, const eng_value *vars, bool *out,
                            const char *what, char *err, size_t errsz)
{
	eng_value v;
	eng_status st = eval(x, e, vars, &v, err, errsz);
	if (st != ENG_OK)
		return st;
	if (v.type != ENG_BOOL)
		return type_error(e, err, errsz, what, "booleans", v);
	*out = v.u.b;
	return ENG_OK;
}

static eng_status eval_arith(const expr *x, const eng *e, const eng_value *vars,
                             double *out, char *err, size_t errsz)
{
	char what[2] = { x->ops[1], '\0' };
	double acc = 0;
	eng_status st = eval_num(x->args[0], e, vars, &acc, what, "numbers", err, errsz);
	for (uint32_t i = 1; st == ENG_OK && i < x->n; i++) {
		double r = 0;
		what[0] = x->ops[i];
		st = eval_num(x->args[i], e, vars, &r, what, "numbers", err, errsz);
		if (st != ENG_OK)
			break;
		switch (x->ops[i]) {
		case '+': acc += r; break;
		case '-': acc -= r; break;
		case '*': acc *= r; break;
		default:
			if (r == 0) {
				if (err && errsz)
					snprintf(err, errsz, "division by zero");
				return ENG_ERR_EVAL;
			}
			acc /= r;
			break;
		}
		/* An infinity or a NaN would be a value no rule can match or compare. */
		if (!isfinite(acc)) {
			if (err && errsz)
				snprintf(err, errsz, "`%s` overflowed: the result is out of range",
				         what);
			return ENG_ERR_EVAL;
		}
	}
	*out = acc;
	return st;
}

static eng_status eval_call(const expr *x, const eng *e, const eng_value *vars, double *out,
                            char *err, size_t errsz)
{
	const char *name = "";
	for (size_t f = 0; f < sizeof(expr_fns) / sizeof(expr_fns[0]); f++)
		if ((int)expr_fns[f].fn == x->op)
			name = expr_fns[f].name;
	const char *need = x->n == 1 ? "a number" : "numbers";
	if (x->op == FN_PI) {
		*out = 3.14159265358979323846;   /* the double nearest pi */
		return ENG_OK;
	}
	double acc = 0;
	eng_status st = eval_num(x->args[0], e, vars, &acc, name, need, err, errsz);
	if (st == ENG_OK && x->op == FN_ATAN2) {
		double xx = 0;
		st = eval_num(x->args[1], e, vars, &xx, name, need, err, errsz);
		*out = atan2(acc, xx);
		return st;
	}
	for (uint32_t i = 1; st == ENG_OK && i < x->n; i++) {
		double r = 0;
		st = eval_num(x->args[i], e, vars, &r, name, need, err, errsz);
		if (st == ENG_OK && (x->op == FN_MIN ? r < acc : r > acc))
			acc = r;
	}
	if (st != ENG_OK)
		return st;
	switch ((expr_fn)x->op) {
	case FN_CEIL: acc = ceil(acc); break;
	case FN_FLOOR: acc = floor(acc); break;
	case FN_ROUND: acc = round(acc); break;
	case FN_ABS: acc = fabs(acc); break;
	case FN_SQRT:
	case FN_LOG:
		if (acc < 0 || (x->op == FN_LOG && acc == 0)) {
			if (err && errsz)
				snprintf(err, errsz, "`%s` of %g is not a real number", name, acc);
			return ENG_ERR_EVAL;
		}
		acc = x->op == FN_SQRT ? sqrt(acc) : log(acc);
		break;
	case FN_EXP: acc = exp(acc); break;
	case FN_ATAN: acc = atan(acc); break;
	case FN_MIN: case FN_MAX: case FN_SYMBOL: case FN_ATAN2: case FN_PI: case FN_IF: break;
	}
	*out = acc;
	return ENG_OK;
}

static eng_status eval_cmp(const expr *x, const eng *e, const eng_value *vars, bool *out,
                           char *err, size_t errsz)
{
	static const char *const names[] = {
		[CMP_LT] = "<", [CMP_LE] = "<=", [CMP_GT] = ">", [CMP_GE] = ">=",
	};
	cmp_op op = (cmp_op)x->op;
	if (op == CMP_EQ || op == CMP_NE) {
		eng_value l, r;
		eng_status st = eval(x->args[0], e, vars, &l, err, errsz);
		if (st == ENG_OK)
			st = eval(x->args[1], e, vars, &r, err, errsz);
		if (st == ENG_OK)
			*out = eng_value_eq(l, r) == (op == CMP_EQ);
		return st;
	}
	double l = 0, r = 0;
	eng_status st = eval_num(x->args[0], e, vars, &l, names[op], "numbers", err, errsz);
	if (st == ENG_OK)
		st = eval_num(x->args[1], e, vars, &r, names[op], "numbers", err, errsz);
	if (st != ENG_OK)
		return st;
	switch (op) {
	case CMP_LT: *out = l < r; break;
	case CMP_LE: *out = l <= r; break;
	case CMP_GT: *out = l > r; break;
	default: *out = l >= r; break;
	}
	return ENG_OK;
}

#define EXPR_SYMBOL_MAX 256

/* symbol(a, b, ...): the arguments written as rule-file text (strings without quotes)
 * and joined, interned as a symbol, e.g. symbol(s, ?n) gives s12 for ?n = 12. Entity
 * ids are built this way. Interning is the one change evaluation makes to the engine:
 * the symbol table only grows, so what callers hold of it stays valid. */
static eng_status eval_symbol(const expr *x, const eng *e, const eng_value *vars,
                              eng_value *out, char *err, size_t errsz)
{
	char buf[EXPR_SYMBOL_MAX];
	size_t n = 0;
	for (uint32_t i = 0; i < x->n; i++) {
		eng_value v;
		eng_status st = eval(x->args[i], e, vars, &v, err, errsz);
		if (st != ENG_OK)
			return st;
		if (v.type == ENG_STRING)
			v.type = ENG_SYMBOL;
		int len = v.type == ENG_NONE ? -1 : eng_value_format(e, v, buf + n, sizeof(buf) - n);
		if (len < 0 || (size_t)len >= sizeof(buf) - n) {
			if (err && errsz)
				snprintf(err, errsz, len < 0 ? "`symbol` got an unbound value"
				         : "`symbol` made a name longer than %d bytes", EXPR_SYMBOL_MAX - 1);
			return ENG_ERR_EVAL;
		}
		n += (size_t)len;
	}
	eng_sym id = n ? eng_intern((eng *)e, buf, n) : 0;
	if (!id) {
		if (err && errsz)
			snprintf(err, errsz, n ? "out of memory" : "`symbol` made an empty name");
		return n ? ENG_ERR_NOMEM : ENG_ERR_EVAL;
	}
	out->type = ENG_SYMBOL;
	out->u.sym = id;
	return ENG_OK;
}

/* Recursion is bounded by the tree's depth, which the parser caps. */
static eng_status eval(const expr *x, const eng *e, const eng_value *vars, eng_value *out,
                       char *err, size_t errsz)
{
	eng_status st = ENG_OK;
	switch (x->kind) {
	case EX_CONST:
		*out = x->k;
		return ENG_OK;
	case EX_VAR:
		*out = vars[x->var];
		return ENG_OK;
	case EX_NEG: {
		double d = 0;
		st = eval_num(x->args[0], e, vars, &d, "-", "a number", err, errsz);
		out->type = ENG_NUMBER;
		out->u.num = no_neg_zero(-d);
		return st;
	}
	case EX_NOT: {
		bool b = false;
		st = eval_bool(x->args[0], e, vars, &b, "not", err, errsz);
		out->type = ENG_BOOL;
		out->u.b = !b;
		return st;
	}
	case EX_ARITH:
	case EX_CALL: {
		if (x->kind == EX_CALL && x->op == FN_SYMBOL)
			return eval_symbol(x, e, vars, out, err, errsz);
		if (x->kind == EX_CALL && x->op == FN_IF) {
			bool c = false;
			st = eval_bool(x->args[0], e, vars, &c, "if", err, errsz);
			if (st != ENG_OK)
				return st;
			return eval(x->args[c ? 1 : 2], e, vars, out, err, errsz);
		}
		double d = 0;
		st = x->kind == EX_ARITH ? eval_arith(x, e, vars, &d, err, errsz)
		                         : eval_call(x, e, vars, &d, err, errsz);
		out->type = ENG_NUMBER;
		out->u.num = no_neg_zero(d);
		return st;
	}
	case EX_CMP:
		out->type = ENG_BOOL;
		return eval_cmp(x, e, vars, &out->u.b, err, errsz);
	case EX_AND:
	case EX_OR: {
		bool stop = x->kind == EX_OR;   /* the value that decides the chain */
		const char *what = x->kind == EX_OR ? "or" : "and";
		bool b = !stop;
		for (uint32_t i = 0; i < x->n && b != stop; i++) {
			st = eval_bool(x->args[i], e, vars, &b, what, err, errsz);
			if (st != ENG_OK)
				return st;
		}
		out->type = ENG_BOOL;
		out->u.b = b;
		return ENG_OK;
	}
	}
	return ENG_ERR_INVALID;
}

/*
 * Evaluates X with VARS[i] the value of variable i (every index X uses must be valid).
 * Returns ENG_OK with the value in *OUT (a number for arithmetic and functions, a boolean
 * for comparisons and `and`/`or`/`not`); ENG_ERR_EVAL on arithmetic or a comparison
 * other than `=`/`!=` on a non-number, a boolean operator on a non-boolean, division
 * by zero or an arithmetic result too large for a double, with a message in ERR (ERRSZ
 * bytes; ERR may be NULL) and *OUT unspecified.
 * `and`/`or` stop at the first operand that decides them. Allocates nothing, except
 * that `symbol(...)` interns the name it makes in E.
 */
eng_status expr_eval(const expr *x, const eng *e, const eng_value *vars, eng_value *out,
                     char *err, size_t errsz)
{
	if (err && errsz)
		err[0] = '\0';
	return eval(x, e, vars, out, err, errsz);
}
