/* SPDX-License-Identifier: MIT */
/*
 * compile_value.c - the inside of a rule: values typed by their spelling, variables and
 * where they are bound, the conditions of `when` and the actions of `then`, each checked
 * and turned into IR (internal.h).
 *
 * Variables get indices in order of first appearance. The first appearance in a positive
 * pattern binds; one in a negation makes the variable local to that negation. Every other
 * use (a test, a constraint operand, an action) needs a variable already bound: by an
 * earlier positive condition or, for a constraint operand, by the same pattern.
 */
#include "compile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMP_ERR_MAX 256

/* How a pattern slot or operand uses a variable. */
typedef enum {
	USE_BIND,               /* a slot of a positive pattern */
	USE_BIND_NEG,           /* a slot of a negated pattern */
	USE_READ,               /* a test, a constraint operand, an action */
} var_use;

/* ---- values ---- */

static bool comp_var_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_';
}

static bool comp_digits(const char **p)
{
	const char *s = *p;
	while (**p >= '0' && **p <= '9')
		(*p)++;
	return *p > s;
}

/* Whether S is a decimal number: [+-] digits [. digits] [e [+-] digits], with digits on
 * at least one side of the point. */
static bool comp_is_number(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	bool whole = comp_digits(&s), frac = false;
	if (*s == '.') {
		s++;
		frac = comp_digits(&s);
	}
	if (!whole && !frac)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!comp_digits(&s))
			return false;
	}
	return *s == '\0';
}

/* Types scalar N by its spelling (docs/rule-language.md, "Values"); CV_ERROR after
 * reporting a bad variable name, a number out of range or running out of memory. */
/* 1 for `true` and `yes`, 0 for `false` and `no`, -1 for any other T[0..N). */
static int comp_bool_word(const char *t, size_t n)
{
	switch (n) {
	case 2: return memcmp(t, "no", 2) == 0 ? 0 : -1;
	case 3: return memcmp(t, "yes", 3) == 0 ? 1 : -1;
	case 4: return memcmp(t, "true", 4) == 0 ? 1 : -1;
	case 5: return memcmp(t, "false", 5) == 0 ? 0 : -1;
	default: return -1;
	}
}

cv_kind comp_scalar(compiler *c, const eng_node *n, eng_value *k, const char **name,
                    size_t *len)
{
	size_t tlen;
	const char *t = eng_node_text(n, &tlen);
	if (eng_node_quoted(n) || (tlen && t[0] != '?')) {
		bool str = eng_node_quoted(n);
		int word = str ? -1 : comp_bool_word(t, tlen);
		if (word >= 0) {
			*k = eng_bool(word == 1);
		} else if (!str && comp_is_number(t)) {
			*k = eng_number(strtod(t, NULL));
			if (!isfinite(k->u.num)) {
				comp_error(c, n, "number `%s` is out of range", t);
				return CV_ERROR;
			}
		} else {
			k->type = str ? ENG_STRING : ENG_SYMBOL;
			k->u.sym = eng_intern(c->e, t, tlen);
			if (!k->u.sym) {
				comp_nomem(c);
				return CV_ERROR;
			}
		}
		return CV_CONST;
	}
	if (tlen == 0)
		return CV_EMPTY;
	if (tlen == 1)
		return CV_ANY;
	for (size_t i = 1; i < tlen; i++) {
		if (!comp_var_char(t[i])) {
			comp_error(c, n, "invalid variable name `%s` (use letters, digits and `_`)",
			           t);
			return CV_ERROR;
		}
	}
	if (name)
		*name = t + 1;
	if (len)
		*len = tlen - 1;
	return CV_VAR;
}

/* A subject, attribute or note id: a plain symbol or a quoted scalar, as a symbol.
 * Reports an error and returns false for anything else. */
bool comp_symbol(compiler *c, const eng_node *n, const char *what, eng_sym *out)
{
	char found[96];
	eng_value k;
	if (eng_node_kind_of(n) != ENG_NODE_SCALAR) {
		comp_error(c, n, "the %s must be a symbol, found %s", what,
		           eng_node_describe(n, found, sizeof(found)));
		return false;
	}
	cv_kind kind = comp_scalar(c, n, &k, NULL, NULL);
	if (kind == CV_ERROR)
		return false;
	if (kind == CV_CONST && (k.type == ENG_SYMBOL || k.type == ENG_STRING)) {
		*out = k.u.sym;
		return true;
	}
	comp_error(c, n, "the %s must be a symbol, found %s", what,
	           eng_node_describe(n, found, sizeof(found)));
	return false;
}

/* ---- variables ---- */

static long comp_var_find(const compiler *c, const char *name, size_t len)
{
	for (uint32_t i = 0; i < c->nvars; i++)
		if (c->vars[i].len == len && memcmp(c->vars[i].name, name, len) == 0)
			return (long)i;
	return -1;
}

/* Why variable NAME cannot be read here, or NULL if it can: writes the message to BUF. */
static const char *comp_var_unreadable(const compiler *c, const char *name, size_t len,
                                       char *buf, size_t size)
{
	long i = comp_var_find(c, name, len);
	if (i < 0) {
		snprintf(buf, size, "unbound variable ?%.*s (bind it in a positive pattern "
		         "before this)", (int)len, name);
		return buf;
	}
	const comp_var *v = &c->vars[i];
	if (v->local && v->cond != c->cur) {
		snprintf(buf, size, "variable ?%.*s is local to the `not` at line %u and cannot "
		         "be used after it", (int)len, name, v->line);
		return buf;
	}
	return NULL;
}

/* The index of variable NAME used as USE at node N, adding it if this binds it; -1 after
 * reporting an error. */
static long comp_var_use(compiler *c, const eng_node *n, const char *name, size_t len,
                         var_use use)
{
	char msg[COMP_ERR_MAX];
	long i = comp_var_find(c, name, len);
	if (use == USE_READ || i >= 0) {
		const char *why = comp_var_unreadable(c, name, len, msg, sizeof(msg));
		if (why) {
			comp_error(c, n, "%s", why);
			return -1;
		}
		return i;
	}
	if (c->nvars == c->capvars) {
		uint32_t cap = c->capvars ? c->capvars * 2 : 16;
		comp_var *v = realloc(c->vars, cap * sizeof(*v));
		if (!v) {
			comp_nomem(c);
			return -1;
		}
		c->vars = v;
		c->capvars = cap;
	}
	comp_var *v = &c->vars[c->nvars];
	v->name = name;
	v->len = len;
	v->cond = c->cur;
	v->line = c->cur_line;
	v->local = use == USE_BIND_NEG;
	return (long)c->nvars++;
}

/* ---- expressions ---- */

typedef struct {
	compiler *c;
	const char *bad;        /* the first variable the parser could not use */
	size_t badlen;
} comp_expr_ctx;

static long comp_expr_var(void *ctx, const char *name, size_t len)
{
	comp_expr_ctx *x = ctx;
	char msg[COMP_ERR_MAX];
	if (comp_var_unreadable(x->c, name, len, msg, sizeof(msg))) {
		if (!x->bad) {
			x->bad = name;
			x->badlen = len;
		}
		return -1;
	}
	return comp_var_find(x->c, name, len);
}

/* The position of byte OFF of scalar N's text. Exact when the text up to OFF is what the
 * source line shows after N's column (and its opening quote); the scalar's own position
 * otherwise (escapes, folded lines, block scalars). */
static void comp_text_pos(const compiler *c, const eng_node *n, size_t off, uint32_t *line,
                          uint32_t *col)
{
	*line = eng_node_line(n);
	*col = eng_node_col(n);
	size_t tlen, llen;
	const char *t = eng_node_text(n, &tlen);
	const char *src = eng_doc_line(c->doc, *line, &llen);
	if (!src || off > tlen)
		return;
	size_t b = comp_col_byte(src, *col);
	uint32_t q = 0;
	if (eng_node_quoted(n)) {
		if (src[b] != '"' && src[b] != '\'')
			return;
		q = 1;
	}
	if (b + q + off > llen || memcmp(src + b + q, t, off) != 0)
		return;
	*col += q + comp_chars(t, off);
}

/* Parses scalar N as an expression; variables must be readable at this point. */
static expr *comp_expr(compiler *c, const eng_node *n)
{
	char found[96], msg[COMP_ERR_MAX];
	size_t len;
	const char *t = eng_node_text(n, &len);
	if (!t) {
		comp_error(c, n, "an expression must be a string, found %s",
		           eng_node_describe(n, found, sizeof(found)));
		return NULL;
	}
	comp_expr_ctx ctx = { c, NULL, 0 };
	expr *x = NULL;
	size_t off = 0;
	eng_status st = expr_parse(c->a, c->e, t, len, comp_expr_var, &ctx, &x, &off, msg,
	                           sizeof(msg));
	if (st == ENG_OK)
		return x;
	if (st == ENG_ERR_NOMEM) {
		comp_nomem(c);
		return NULL;
	}
	uint32_t line, col;
	comp_text_pos(c, n, off, &line, &col);
	if (ctx.bad) {
		comp_var_unreadable(c, ctx.bad, ctx.badlen, msg, sizeof(msg));
		comp_error_at(c, line, col, comp_chars(ctx.bad, ctx.badlen) + 1, "%s", msg);
	} else {
		comp_error_at(c, line, col, 1, "%s", msg);
	}
	return NULL;
}

/* ---- conditions ---- */

static ir_cond *comp_cond_new(compiler *c, cond_kind kind, const eng_node *at)
{
	if (c->nconds == c->capconds) {
		uint32_t cap = c->capconds ? c->capconds * 2 : 16;
		ir_cond *v = realloc(c->conds, cap * sizeof(*v));
		if (!v) {
			comp_nomem(c);
			return NULL;
		}
		c->conds = v;
		c->capconds = cap;
	}
	ir_cond *cd = &c->conds[c->nconds];
	memset(cd, 0, sizeof(*cd));
	cd->kind = kind;
	cd->line = eng_node_line(at);
	cd->col = eng_node_col(at);
	c->cur_line = cd->line;
	return cd;
}

/* The subject or attribute slot of a pattern: a symbol, a variable or `?`. */
static void comp_slot(compiler *c, const eng_node *n, const char *what, bool neg,
                      ir_operand *out)
{
	char found[96];
	eng_value k;
	const char *name;
	size_t len;
	if (eng_node_kind_of(n) != ENG_NODE_SCALAR) {
		comp_error(c, n, "the %s must be a symbol or a variable, found %s", what,
		           eng_node_describe(n, found, sizeof(found)));
		return;
	}
	switch (comp_scalar(c, n, &k, &name, &len)) {
	case CV_ERROR:
		return;
	case CV_ANY:
		out->kind = OPD_ANY;
		return;
	case CV_VAR: {
		long v = comp_var_use(c, n, name, len, neg ? USE_BIND_NEG : USE_BIND);
		if (v >= 0) {
			out->kind = OPD_VAR;
			out->var = (uint32_t)v;
		}
		return;
	}
	case CV_CONST:
		if (k.type == ENG_SYMBOL || k.type == ENG_STRING) {
			out->kind = OPD_CONST;
			out->k.type = ENG_SYMBOL;
			out->k.u.sym = k.u.sym;
			return;
		}
		break;
	case CV_EMPTY:
		break;
	}
	comp_error(c, n, "the %s must be a symbol or a variable, found %s", what,
	           eng_node_describe(n, found, sizeof(found)));
}

static const struct {
	const char *name;
	cmp_op op;
} comp_ops[] = {
	{ "=", CMP_EQ }, { "!=", CMP_NE }, { "<", CMP_LT }, { "<=", CMP_LE },
	{ ">", CMP_GT }, { ">=", CMP_GE }, { "in", CMP_IN }, { "not-in", CMP_NOT_IN },
};
#define COMP_NOPS (sizeof(comp_ops) / sizeof(comp_ops[0]))

/* `in: [a, b]`: a non-empty list of constants, into cd->cons[cd->ncons] with OP.
 * `not-in: [...]` may also list variables bound earlier: each becomes a `!=` constraint
 * of its own after the set of constants (which is left out when it is empty). Adds the
 * constraints to cd->ncons when all items are good; the caller sized cd->cons for them. */
static void comp_set(compiler *c, const eng_node *key, const eng_node *n, cmp_op op,
                     ir_cond *cd)
{
	char found[96];
	const char *opname = eng_node_text(key, NULL);
	size_t size = eng_node_size(n);
	if (eng_node_kind_of(n) != ENG_NODE_SEQ || size == 0) {
		comp_error(c, n, "`%s` needs a non-empty list of %s, found %s", opname,
		           op == CMP_IN ? "constants" : "constants or bound variables",
		           eng_node_describe(n, found, sizeof(found)));
		return;
	}
	ir_constraint *k = &cd->cons[cd->ncons];
	memset(k, 0, sizeof(*k));   /* a failed constraint before may have used the slot */
	k->op = op;
	k->set = arena_alloc(c->a, size * sizeof(*k->set));
	if (!k->set) {
		comp_nomem(c);
		return;
	}
	ir_constraint *extra = k + 1;   /* room for one per item: the caller's sizing */
	uint32_t nextra = 0;
	bool ok = true;
	for (size_t i = 0; i < size; i++) {
		const eng_node *it = eng_node_item(n, i);
		const char *name;
		size_t len;
		cv_kind kind = eng_node_kind_of(it) == ENG_NODE_SCALAR ?
		               comp_scalar(c, it, &k->set[k->nset], &name, &len) : CV_EMPTY;
		if (kind == CV_CONST) {
			k->nset++;
		} else if (kind == CV_VAR && op == CMP_NOT_IN) {
			long v = comp_var_use(c, it, name, len, USE_READ);
			if (v < 0) {
				ok = false;
				continue;
			}
			memset(&extra[nextra], 0, sizeof(extra[nextra]));
			extra[nextra].op = CMP_NE;
			extra[nextra].operand.kind = OPD_VAR;
			extra[nextra].operand.var = (uint32_t)v;
			nextra++;
		} else {
			if (kind != CV_ERROR)
				comp_error(c, it, "`%s` takes %s, found %s", opname,
				           op == CMP_IN ? "constants only" : "constants and bound variables",
				           eng_node_describe(it, found, sizeof(found)));
			ok = false;
		}
	}
	if (!ok)
		return;
	if (k->nset == 0)   /* variables only: the `!=` constraints take the set's place */
		memmove(k, extra, nextra * sizeof(*k));
	else
		cd->ncons++;
	cd->ncons += nextra;
}

/* The operand of `=`, `!=`, `<`, ...: a constant (a number for the ordering ones) or a
 * variable bound earlier or in this pattern. */
static bool comp_cmp_operand(compiler *c, const eng_node *key, const eng_node *n,
                             ir_constraint *k)
{
	char found[96];
	const char *op = eng_node_text(key, NULL);
	bool order = k->op != CMP_EQ && k->op != CMP_NE;
	const char *name;
	size_t len;
	cv_kind kind = eng_node_kind_of(n) == ENG_NODE_SCALAR ?
	               comp_scalar(c, n, &k->operand.k, &name, &len) : CV_EMPTY;
	if (kind == CV_ERROR)
		return false;
	if (kind == CV_VAR) {
		long v = comp_var_use(c, n, name, len, USE_READ);
		if (v < 0)
			return false;
		k->operand.kind = OPD_VAR;
		k->operand.var = (uint32_t)v;
		return true;
	}
	if (kind == CV_CONST && (!order || k->operand.k.type == ENG_NUMBER)) {
		k->operand.kind = OPD_CONST;
		return true;
	}
	comp_error(c, n, "`%s` needs %s or a bound variable, found %s", op,
	           order ? "a number" : "a constant", eng_node_describe(n, found, sizeof(found)));
	return false;
}

/* A value spec given as a mapping of constraints: `as` first (it binds, and the other
 * operands may use it), then the comparisons in their order. */
static void comp_constraints(compiler *c, const eng_node *n, bool neg, ir_cond *cd)
{
	static const char *const names[] = {
		"as", "in", "not-in", "=", "!=", "<", "<=", ">", ">=",
	};
	char found[96], hint[96];
	size_t size = eng_node_size(n);
	if (size == 0) {
		comp_error(c, n, "empty constraint mapping (use `?` to match any value)");
		return;
	}
	const eng_node *as = eng_node_get(n, "as");
	if (as) {
		const char *name;
		size_t len;
		cv_kind kind = eng_node_kind_of(as) == ENG_NODE_SCALAR ?
		               comp_scalar(c, as, &cd->slot[2].k, &name, &len) : CV_EMPTY;
		memset(&cd->slot[2].k, 0, sizeof(cd->slot[2].k));   /* `as` gives no constant */
		if (kind == CV_VAR) {
			long v = comp_var_use(c, as, name, len, neg ? USE_BIND_NEG : USE_BIND);
			if (v >= 0) {
				cd->slot[2].kind = OPD_VAR;
				cd->slot[2].var = (uint32_t)v;
			}
		} else if (kind != CV_ERROR) {
			comp_error(c, as, "`as` needs a variable, found %s",
			           eng_node_describe(as, found, sizeof(found)));
		}
	}
	size_t cap = size;  /* one per key, and one per item of a `not-in` (its variables) */
	for (size_t i = 0; i < size; i++)
		if (comp_is(eng_node_key(n, i), "not-in") &&
		    eng_node_kind_of(eng_node_value(n, i)) == ENG_NODE_SEQ)
			cap += eng_node_size(eng_node_value(n, i));
	cd->cons = arena_alloc(c->a, cap * sizeof(*cd->cons));
	if (!cd->cons) {
		comp_nomem(c);
		return;
	}
	for (size_t i = 0; i < size; i++) {
		const eng_node *key = eng_node_key(n, i), *val = eng_node_value(n, i);
		size_t klen;
		const char *ktext = eng_node_text(key, &klen);
		if (comp_is(key, "as") || !ktext)
			continue;
		size_t o = 0;
		while (o < COMP_NOPS && strcmp(comp_ops[o].name, ktext) != 0)
			o++;
		if (o == COMP_NOPS) {
			comp_error(c, key, "unknown constraint `%s`%s", ktext,
			           eng_hint(hint, sizeof(hint), ktext, klen, names,
			                     sizeof(names) / sizeof(names[0])));
			continue;
		}
		if (comp_ops[o].op == CMP_IN || comp_ops[o].op == CMP_NOT_IN) {
			comp_set(c, key, val, comp_ops[o].op, cd);
			continue;
		}
		ir_constraint *k = &cd->cons[cd->ncons];
		k->op = comp_ops[o].op;
		if (comp_cmp_operand(c, key, val, k))
			cd->ncons++;
	}
}

/* The value slot of a pattern: a constant, a variable, `?` or a constraint mapping. */
static void comp_value_spec(compiler *c, const eng_node *n, const eng_node *attr, bool neg,
                            ir_cond *cd)
{
	const char *name;
	size_t len;
	switch (eng_node_kind_of(n)) {
	case ENG_NODE_MAP:
		comp_constraints(c, n, neg, cd);
		return;
	case ENG_NODE_SEQ:
		comp_error(c, n, "a value must be a constant, a variable or a mapping of "
		           "constraints, found a list (for one of several values write "
		           "`{in: [...]}`)");
		return;
	case ENG_NODE_SCALAR:
		break;
	}
	switch (comp_scalar(c, n, &cd->slot[2].k, &name, &len)) {
	case CV_ERROR:
		return;
	case CV_CONST:
		cd->slot[2].kind = OPD_CONST;
		return;
	case CV_ANY:
		cd->slot[2].kind = OPD_ANY;
		return;
	case CV_VAR: {
		long v = comp_var_use(c, n, name, len, neg ? USE_BIND_NEG : USE_BIND);
		if (v >= 0) {
			cd->slot[2].kind = OPD_VAR;
			cd->slot[2].var = (uint32_t)v;
		}
		return;
	}
	case CV_EMPTY:
		break;
	}
	if (attr && eng_node_text(attr, NULL))
		comp_error(c, attr, "missing value for `%s` (use `?` to match any value)",
		           eng_node_text(attr, NULL));
	else
		comp_error(c, n, "missing value (use `?` to match any value)");
}

/* One pattern: SUBJECT (NULL: the default subject), ATTR and VALUE, at node AT. */
static void comp_pattern(compiler *c, const eng_node *at, const eng_node *subject,
                         const eng_node *attr, const eng_node *value, bool neg)
{
	ir_cond *cd = comp_cond_new(c, neg ? COND_NEG : COND_POS, at);
	if (!cd)
		return;
	if (subject) {
		comp_slot(c, subject, "subject", neg, &cd->slot[0]);
	} else {
		cd->slot[0].kind = OPD_CONST;
		cd->slot[0].k.type = ENG_SYMBOL;
		cd->slot[0].k.u.sym = eng_default_subject(c->e);
	}
	comp_slot(c, attr, "attribute", neg, &cd->slot[1]);
	comp_value_spec(c, value, attr, neg, cd);
	c->nconds++;
	c->cur = c->nconds;
}

static void comp_triple(compiler *c, const eng_node *seq, bool neg)
{
	size_t size = eng_node_size(seq);
	if (size != 3) {
		comp_error(c, seq, "a triple pattern needs 3 items [SUBJECT, ATTRIBUTE, VALUE], "
		           "found %zu", size);
		return;
	}
	comp_pattern(c, seq, eng_node_item(seq, 0), eng_node_item(seq, 1),
	             eng_node_item(seq, 2), neg);
}

static void comp_not(compiler *c, const eng_node *key, const eng_node *n)
{
	char found[96];
	switch (eng_node_kind_of(n)) {
	case ENG_NODE_SEQ:
		comp_triple(c, n, true);
		return;
	case ENG_NODE_MAP:
		if (eng_node_size(n) == 1) {
			const eng_node *k = eng_node_key(n, 0);
			if (comp_is(k, "not") || comp_is(k, "test")) {
				comp_error(c, k, "`not` takes a pattern (`attr: value` or a "
				           "triple), found `%s`", eng_node_text(k, NULL));
				return;
			}
			comp_pattern(c, k, NULL, k, eng_node_value(n, 0), true);
			return;
		}
		if (eng_node_size(n) > 1) {
			comp_error(c, eng_node_key(n, 1), "`not` takes one pattern, found %zu keys "
			           "(write one `not:` per pattern)", eng_node_size(n));
			return;
		}
		break;
	case ENG_NODE_SCALAR:
		break;
	}
	comp_error(c, eng_node_kind_of(n) == ENG_NODE_SCALAR ? n : key,
	           "`not` takes a pattern (`attr: value` or a triple), found %s",
	           eng_node_describe(n, found, sizeof(found)));
}

static void comp_test(compiler *c, const eng_node *key, const eng_node *n)
{
	char found[96];
	size_t len;
	const char *t = eng_node_text(n, &len);
	if (!t || (len == 0 && !eng_node_quoted(n))) {
		comp_error(c, t ? key : n, "`test` needs an expression, found %s",
		           eng_node_describe(n, found, sizeof(found)));
		return;
	}
	expr *x = comp_expr(c, n);
	ir_cond *cd = comp_cond_new(c, COND_TEST, key);
	if (!cd)
		return;
	cd->test = x;
	cd->text = arena_strndup(c->a, t, len);
	if (!cd->text)
		comp_nomem(c);
	c->nconds++;
	c->cur = c->nconds;
}

/* Compiles `when` into c->conds, binding variables as it goes; errors are reported
 * and counted, and compiling goes on. */
void comp_when(compiler *c, const eng_node *when)
{
	char found[96];
	if (eng_node_kind_of(when) != ENG_NODE_SEQ || eng_node_size(when) == 0) {
		comp_error(c, when, "`when` must be a non-empty list of conditions, found %s",
		           eng_node_describe(when, found, sizeof(found)));
		return;
	}
	c->cur = 0;
	for (size_t i = 0; i < eng_node_size(when); i++) {
		const eng_node *it = eng_node_item(when, i);
		switch (eng_node_kind_of(it)) {
		case ENG_NODE_SEQ:
			comp_triple(c, it, false);
			break;
		case ENG_NODE_MAP:
			for (size_t j = 0; j < eng_node_size(it); j++) {
				const eng_node *k = eng_node_key(it, j), *v = eng_node_value(it, j);
				if (comp_is(k, "not"))
					comp_not(c, k, v);
				else if (comp_is(k, "test"))
					comp_test(c, k, v);
				else
					comp_pattern(c, k, NULL, k, v, false);
			}
			if (eng_node_size(it) == 0)
				comp_error(c, it, "empty condition");
			break;
		case ENG_NODE_SCALAR:
			comp_error(c, it, "a condition must be a mapping (`attr: value`, `not:`, "
			           "`test:`) or a triple [SUBJECT, ATTRIBUTE, VALUE], found %s",
			           eng_node_describe(it, found, sizeof(found)));
			break;
		}
	}
}

/* ---- actions ---- */

static ir_action *comp_act_new(compiler *c, act_kind kind, const eng_node *at)
{
	if (c->nacts == c->capacts) {
		uint32_t cap = c->capacts ? c->capacts * 2 : 8;
		ir_action *v = realloc(c->acts, cap * sizeof(*v));
		if (!v) {
			comp_nomem(c);
			return NULL;
		}
		c->acts = v;
		c->capacts = cap;
	}
	ir_action *a = &c->acts[c->nacts++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->line = eng_node_line(at);
	a->col = eng_node_col(at);
	a->role.kind = OPD_ANY;
	return a;
}

/* A value in an action: a constant, a bound variable, or (when CALC) `{calc: "..."}`.
 * WHAT names the slot in messages; SYMBOL asks for a subject or attribute. */
static void comp_act_value(compiler *c, const eng_node *n, const char *what, bool calc,
                           bool symbol, ir_operand *out)
{
	char found[96], hint[64];
	const char *name;
	size_t len;
	const char *expect = calc && symbol ? "a symbol, a bound variable or `{calc: ...}`" :
	                     calc ? "a constant, a bound variable or `{calc: ...}`" :
	                     symbol ? "a symbol or a bound variable" :
	                     "a constant or a bound variable";
	if (eng_node_kind_of(n) == ENG_NODE_MAP && calc && eng_node_size(n) == 1) {
		static const char *const keys[] = { "calc" };
		const eng_node *k = eng_node_key(n, 0);
		size_t klen;
		const char *kt = eng_node_text(k, &klen);
		if (comp_is(k, "calc")) {
			out->calc = comp_expr(c, eng_node_value(n, 0));
			out->kind = OPD_CALC;
			return;
		}
		if (eng_hint(hint, sizeof(hint), kt, klen, keys, 1)[0]) {
			comp_error(c, k, "unknown key `%s` in a value%s", kt, hint);
			return;
		}
	}
	if (eng_node_kind_of(n) != ENG_NODE_SCALAR) {
		comp_error(c, n, "the %s must be %s, found %s", what, expect,
		           eng_node_describe(n, found, sizeof(found)));
		return;
	}
	switch (comp_scalar(c, n, &out->k, &name, &len)) {
	case CV_ERROR:
		return;
	case CV_VAR: {
		long v = comp_var_use(c, n, name, len, USE_READ);
		if (v >= 0) {
			out->kind = OPD_VAR;
			out->var = (uint32_t)v;
		}
		return;
	}
	case CV_CONST:
		if (!symbol) {
			out->kind = OPD_CONST;
			return;
		}
		if (out->k.type == ENG_SYMBOL || out->k.type == ENG_STRING) {
			out->kind = OPD_CONST;
			out->k.type = ENG_SYMBOL;
			return;
		}
		break;
	case CV_ANY:
		comp_error(c, n, "`?` matches anything in a condition but means nothing in an "
		           "action; the %s must be %s", what, expect);
		return;
	case CV_EMPTY:
		break;
	}
	comp_error(c, n, "the %s must be %s, found %s", what, expect,
	           eng_node_describe(n, found, sizeof(found)));
}

/* `assert: {attr: VALUE, ...}` or `assert: [S, A, V]`; `retract:` and `modify:` take the
 * triple only. */
static void comp_fact_action(compiler *c, act_kind kind, const eng_node *key,
                             const eng_node *n)
{
	char found[96];
	const char *verb = eng_node_text(key, NULL);
	if (kind == ACT_ASSERT && eng_node_kind_of(n) == ENG_NODE_MAP && eng_node_size(n)) {
		for (size_t i = 0; i < eng_node_size(n); i++) {
			const eng_node *k = eng_node_key(n, i);
			ir_action *a = comp_act_new(c, kind, k);
			if (!a)
				return;
			a->s.kind = OPD_CONST;
			a->s.k.type = ENG_SYMBOL;
			a->s.k.u.sym = eng_default_subject(c->e);
			comp_act_value(c, k, "attribute", false, true, &a->a);
			comp_act_value(c, eng_node_value(n, i), "value", true, false, &a->v);
		}
		return;
	}
	if (eng_node_kind_of(n) != ENG_NODE_SEQ || eng_node_size(n) != 3) {
		if (kind == ACT_ASSERT)
			comp_error(c, n, "`assert` needs a mapping `{attr: value}` or a triple "
			           "[SUBJECT, ATTRIBUTE, VALUE], found %s",
			           eng_node_describe(n, found, sizeof(found)));
		else
			comp_error(c, n, "`%s` needs a triple [SUBJECT, ATTRIBUTE, VALUE], "
			           "found %s", verb, eng_node_describe(n, found, sizeof(found)));
		return;
	}
	ir_action *a = comp_act_new(c, kind, key);
	if (!a)
		return;
	/* a computed subject or attribute (symbol(...)) names entities made at run time */
	comp_act_value(c, eng_node_item(n, 0), "subject", true, true, &a->s);
	comp_act_value(c, eng_node_item(n, 1), "attribute", true, true, &a->a);
	comp_act_value(c, eng_node_item(n, 2), "value", kind != ACT_RETRACT, false, &a->v);
}

static void comp_conclude(compiler *c, eng_sym kind, const eng_node *key,
                          const eng_node *target, const eng_node *role)
{
	ir_action *a = comp_act_new(c, ACT_CONCLUDE, key);
	if (!a)
		return;
	a->concl = kind;
	comp_act_value(c, target, "target", true, false, &a->target);
	if (role)
		comp_act_value(c, role, "role", false, true, &a->role);
}

/* `bind: [?VAR, VALUE]`: the later actions may read ?VAR, a new variable, as the value
 * (a constant, a bound variable or `{calc: ...}`) computed when the rule fires. */
static void comp_bind(compiler *c, const eng_node *key, const eng_node *n)
{
	char found[96];
	const char *name;
	size_t len;
	if (eng_node_kind_of(n) != ENG_NODE_SEQ || eng_node_size(n) != 2) {
		comp_error(c, n, "`bind` needs a list [?VARIABLE, VALUE], found %s",
		           eng_node_describe(n, found, sizeof(found)));
		return;
	}
	const eng_node *vn = eng_node_item(n, 0);
	eng_value k;
	cv_kind kind = eng_node_kind_of(vn) == ENG_NODE_SCALAR ?
	               comp_scalar(c, vn, &k, &name, &len) : CV_EMPTY;
	if (kind == CV_ERROR)
		return;
	if (kind != CV_VAR) {
		comp_error(c, vn, "`bind` names a variable first, found %s",
		           eng_node_describe(vn, found, sizeof(found)));
		return;
	}
	if (comp_var_find(c, name, len) >= 0) {
		comp_error(c, vn, "?%.*s is already bound; `bind` makes a new variable",
		           (int)len, name);
		return;
	}
	ir_action *a = comp_act_new(c, ACT_BIND, key);
	if (!a)
		return;
	comp_act_value(c, eng_node_item(n, 1), "value", true, false, &a->v);   /* before ?VAR exists */
	long v = comp_var_use(c, vn, name, len, USE_BIND);
	if (v >= 0)
		a->var = (uint32_t)v;
}

/* The action keys the engine knows besides conclusion kinds, and the kinds mlarch
 * registers (only those declared with eng_conclusion_kind_add are suggested). */
static const char *const comp_act_words[] = {
	"assert", "retract", "modify", "bind", "role",
	"recommend", "reject", "require", "prefer", "avoid", "answer",
};

static eng_sym comp_kind(const compiler *c, const char *name)
{
	eng_sym s = eng_sym_lookup(c->e, name);
	return s && eng_conclusion_kind_known(c->e, s) ? s : 0;
}

static void comp_unknown_action(compiler *c, const eng_node *k)
{
	const char *cands[sizeof(comp_act_words) / sizeof(comp_act_words[0])];
	size_t n = 0, len;
	const char *text = eng_node_text(k, &len);
	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++)
		if (i < 5 || comp_kind(c, comp_act_words[i]))
			cands[n++] = comp_act_words[i];
	char hint[96];
	comp_error(c, k, "unknown action `%s`%s", text, eng_hint(hint, sizeof(hint), text, len,
	                                                          cands, n));
}

/* One item of `then`: one action, plus `role` beside a conclusion. */
static void comp_action(compiler *c, const eng_node *it)
{
	const eng_node *key = NULL, *val = NULL;
	const eng_node *role = eng_node_get(it, "role");
	const eng_node *role_key = NULL;
	for (size_t j = 0; j < eng_node_size(it); j++) {
		const eng_node *k = eng_node_key(it, j);
		if (comp_is(k, "role")) {
			role_key = k;
			continue;
		}
		if (key) {
			comp_error(c, k, "one action per item: found `%s` after `%s` (start a "
			           "new item with `-`)", eng_node_text(k, NULL),
			           eng_node_text(key, NULL));
			continue;
		}
		key = k;
		val = eng_node_value(it, j);
	}
	if (!key) {
		comp_error(c, role_key ? role_key : it, "`role` goes beside a conclusion, as in "
		           "`recommend: x` with `role: y`");
		return;
	}
	eng_sym kind = 0;
	if (comp_is(key, "assert")) {
		comp_fact_action(c, ACT_ASSERT, key, val);
	} else if (comp_is(key, "retract")) {
		comp_fact_action(c, ACT_RETRACT, key, val);
		c->procedural = true;
	} else if (comp_is(key, "modify")) {
		comp_fact_action(c, ACT_MODIFY, key, val);
		c->procedural = true;
	} else if (comp_is(key, "bind")) {
		comp_bind(c, key, val);
	} else if (!eng_node_quoted(key) && (kind = comp_kind(c, eng_node_text(key, NULL)))) {
		comp_conclude(c, kind, key, val, role);
		return;
	} else {
		comp_unknown_action(c, key);
		return;
	}
	if (role_key)
		comp_error(c, role_key, "`role` goes only with a conclusion, not with `%s`",
		           eng_node_text(key, NULL));
}

/* Compiles `then` into c->acts; every variable must be bound by `when`. Sets
 * c->procedural for retract and modify. */
void comp_then(compiler *c, const eng_node *then)
{
	char found[96];
	c->cur = COMP_AFTER_WHEN;
	if (eng_node_kind_of(then) != ENG_NODE_SEQ || eng_node_size(then) == 0) {
		comp_error(c, then, "`then` must be a non-empty list of actions, found %s",
		           eng_node_describe(then, found, sizeof(found)));
		return;
	}
	for (size_t i = 0; i < eng_node_size(then); i++) {
		const eng_node *it = eng_node_item(then, i);
		if (eng_node_kind_of(it) == ENG_NODE_MAP && eng_node_size(it))
			comp_action(c, it);
		else
			comp_error(c, it, "an action must be a mapping such as `assert: {...}` "
			           "or `recommend: x`, found %s",
			           eng_node_describe(it, found, sizeof(found)));
	}
}
