/* SPDX-License-Identifier: MIT */
/*
 * compile.c - a YAML document (yamldoc.c) to compiled rules (IR) and background facts.
 *
 * The document is a mapping of sections. `rules:` and `facts:` are compiled here; the
 * sections the application declared with eng_section_skip are left to it; any other key
 * is an error. Every error goes to the diagnostics with the node's position, the text of
 * its line and the rule it belongs to, and compiling goes on to find the others. Only a
 * document without errors changes the engine: its rules go to eng_rules_add in one call,
 * then its facts to eng_deffact_add. The IR of a document with errors is given back to
 * the rules arena.
 */
#include "bytes.h"
#include "compile.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMP_MSG_MAX 512
#define COMP_CONTEXT_MAX 192
/* Longer source lines are left out of diagnostics rather than copied into each. */
#define COMP_SOURCE_MAX 4096
/* How much of a scalar a message quotes. */
#define COMP_QUOTE_MAX 40

/* A rule id seen in this document, for duplicate checks. */
typedef struct {
	const char *id;
	uint32_t line;
} comp_seen;

/* What one document adds: its rules and background facts, and the ids seen. */
typedef struct {
	ir_rule **rules;
	size_t nrules, caprules;
	eng_triple *facts;
	size_t nfacts, capfacts;
	comp_seen *seen;
	size_t nseen, capseen;
	uint32_t *seen_slots;   /* open addressing over seen: index + 1, 0 = empty */
	size_t nseen_slots;     /* a power of two, at least twice nseen */
	const char *file;       /* the document's name, in the rules arena */
	bool handed;            /* eng_rules_add was called: the IR may be in use */
} comp_out;

/* ---- diagnostics ---- */

/* Counts UTF-8 lead bytes: columns, as libyaml counts them. */
uint32_t comp_chars(const char *s, size_t len)
{
	uint32_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* Walks COL - 1 characters into the NUL-terminated LINE. */
size_t comp_col_byte(const char *line, uint32_t col)
{
	size_t b = 0;
	for (uint32_t ch = 1; ch < col && line[b]; ch++) {
		b++;
		while (((unsigned char)line[b] & 0xC0) == 0x80)
			b++;
	}
	return b;
}

/* Marks the document as failed for lack of memory; compiling stops soon after. */
void comp_nomem(compiler *c)
{
	c->st = ENG_ERR_NOMEM;
}

static void comp_report(compiler *c, eng_severity sev, uint32_t line, uint32_t col,
                        uint32_t span, const char *fmt, va_list ap)
{
	char msg[COMP_MSG_MAX], context[COMP_CONTEXT_MAX];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (sev == ENG_SEV_ERROR)
		c->errors++;
	if (!c->d)
		return;
	size_t llen = 0;
	const char *source = c->doc ? eng_doc_line(c->doc, line, &llen) : NULL;   /* NUL-terminated too */
	if (llen > COMP_SOURCE_MAX)
		source = NULL;
	if (c->rule_line && c->rule_id)
		snprintf(context, sizeof(context), "in rule `%s` (line %u)", c->rule_id,
		         c->rule_line);
	else if (c->rule_line)
		snprintf(context, sizeof(context), "in the rule at line %u", c->rule_line);
	if (eng_diags_add(c->d, sev, c->doc ? eng_doc_name(c->doc) : c->doc_name, line, col,
	                  span, source,
	                  c->rule_line ? context : NULL, "%s", msg) != ENG_OK)
		comp_nomem(c);
}

/* The columns to underline for node N: a scalar's width on its line (with its quotes),
 * else 1. */
static uint32_t comp_span(const compiler *c, const eng_node *n)
{
	size_t len, llen;
	const char *t = eng_node_text(n, &len);
	const char *src = eng_doc_line(c->doc, eng_node_line(n), &llen);
	if (!t || !src)
		return 1;
	const char *nl = memchr(t, '\n', len);
	uint32_t span = comp_chars(t, nl ? (size_t)(nl - t) : len);
	uint32_t col = eng_node_col(n), avail = comp_chars(src, llen);
	if (eng_node_quoted(n) && !nl && col <= avail) {
		size_t b = comp_col_byte(src, col);
		if (src[b] == '"' || src[b] == '\'')
			span += 2;
	}
	if (col <= avail && span > avail - col + 1)
		span = avail - col + 1;
	return span ? span : 1;
}

/* Counts and records an error at N; see compile.h. */
void comp_error(compiler *c, const eng_node *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	comp_report(c, ENG_SEV_ERROR, eng_node_line(n), eng_node_col(n), comp_span(c, n), fmt,
	            ap);
	va_end(ap);
}

/* Counts and records an error at LINE:COL; see compile.h. */
void comp_error_at(compiler *c, uint32_t line, uint32_t col, uint32_t span,
                   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	comp_report(c, ENG_SEV_ERROR, line, col, span, fmt, ap);
	va_end(ap);
}

/* Records a warning at N; warnings do not fail the load. */
void comp_warning(compiler *c, const eng_node *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	comp_report(c, ENG_SEV_WARNING, eng_node_line(n), eng_node_col(n), comp_span(c, n), fmt,
	            ap);
	va_end(ap);
}

bool comp_is(const eng_node *n, const char *word)
{
	const char *t = eng_node_text(n, NULL);
	return t && !eng_node_quoted(n) && strcmp(t, word) == 0;
}

/* ---- growing arrays ---- */

static bool comp_grow(compiler *c, void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap * 2 : 16;
	void *q = realloc(*p, n * elem);
	if (!q) {
		comp_nomem(c);
		return false;
	}
	*p = q;
	*cap = n;
	return true;
}

static void comp_fact_add(compiler *c, comp_out *out, eng_sym s, eng_sym a, eng_value v)
{
	if (!comp_grow(c, (void **)&out->facts, &out->capfacts, out->nfacts + 1,
	               sizeof(*out->facts)))
		return;
	eng_triple t = { s, a, v };
	out->facts[out->nfacts++] = t;
}

/* ---- background facts ---- */

/* The value of a fact: a constant, or a list of constants giving one fact each. */
static void comp_fact_values(compiler *c, comp_out *out, eng_sym s, eng_sym a,
                             const eng_node *n, bool in_list)
{
	char found[96];
	eng_value k;
	if (eng_node_kind_of(n) == ENG_NODE_SEQ && !in_list) {
		for (size_t i = 0; i < eng_node_size(n); i++)
			comp_fact_values(c, out, s, a, eng_node_item(n, i), true);
		return;
	}
	cv_kind kind = eng_node_kind_of(n) == ENG_NODE_SCALAR ?
	               comp_scalar(c, n, &k, NULL, NULL) : CV_EMPTY;
	switch (kind) {
	case CV_ERROR:
		return;
	case CV_CONST:
		comp_fact_add(c, out, s, a, k);
		return;
	case CV_VAR:
	case CV_ANY:
		comp_error(c, n, "variables cannot appear in facts, found %s",
		           eng_node_describe(n, found, sizeof(found)));
		return;
	case CV_EMPTY:
		comp_error(c, n, "a fact's value must be a constant%s, found %s",
		           in_list ? "" : " or a list of constants",
		           eng_node_describe(n, found, sizeof(found)));
		return;
	}
}

static void comp_fact_item(compiler *c, comp_out *out, const eng_node *it)
{
	char found[96];
	eng_sym s, a;
	if (eng_node_kind_of(it) == ENG_NODE_SEQ) {
		if (eng_node_size(it) != 3) {
			comp_error(c, it, "a fact triple needs 3 items [SUBJECT, ATTRIBUTE, "
			           "VALUE], found %zu", eng_node_size(it));
			return;
		}
		if (comp_symbol(c, eng_node_item(it, 0), "subject", &s) &&
		    comp_symbol(c, eng_node_item(it, 1), "attribute", &a))
			comp_fact_values(c, out, s, a, eng_node_item(it, 2), false);
		return;
	}
	if (eng_node_kind_of(it) != ENG_NODE_MAP) {
		comp_error(c, it, "a fact must be a triple [SUBJECT, ATTRIBUTE, VALUE] or a "
		           "mapping with `subject:`, found %s",
		           eng_node_describe(it, found, sizeof(found)));
		return;
	}
	const eng_node *subject = eng_node_get(it, "subject");
	if (!subject) {
		comp_error(c, it, "a fact mapping needs a `subject:` key");
		return;
	}
	if (eng_node_size(it) == 1) {
		comp_error(c, it, "a fact mapping needs attributes beside `subject:`");
		return;
	}
	if (!comp_symbol(c, subject, "subject", &s))
		return;
	for (size_t i = 0; i < eng_node_size(it); i++) {
		const eng_node *k = eng_node_key(it, i);
		if (comp_is(k, "subject"))
			continue;
		if (comp_symbol(c, k, "attribute", &a))
			comp_fact_values(c, out, s, a, eng_node_value(it, i), false);
	}
}

static void comp_facts(compiler *c, comp_out *out, const eng_node *n)
{
	char found[96];
	if (eng_node_kind_of(n) != ENG_NODE_SEQ) {
		if (!comp_is(n, ""))
			comp_error(c, n, "`facts` must be a list of facts, found %s",
			           eng_node_describe(n, found, sizeof(found)));
		return;
	}
	for (size_t i = 0; i < eng_node_size(n); i++)
		comp_fact_item(c, out, eng_node_item(n, i));
}

/* ---- rules ---- */

enum { K_ID, K_WHEN, K_THEN, K_BECAUSE, K_CITE, K_SALIENCE, K_WEIGHT, K_LOGICAL, K_COUNT };
static const char *const comp_rule_keys[K_COUNT] = {
	"id", "when", "then", "because", "cite", "salience", "weight", "logical",
};
#define COMP_REQUIRED K_SALIENCE

static uint64_t comp_id_hash(const char *id)
{
	uint64_t h = 1469598103934665603ull;
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211ull;
	return h;
}

/* The slot of ID in out->seen_slots: where it is, or the empty slot where it would go. */
static size_t comp_seen_slot(const comp_out *out, const char *id)
{
	size_t mask = out->nseen_slots - 1, i = (size_t)comp_id_hash(id) & mask;
	while (out->seen_slots[i] && strcmp(out->seen[out->seen_slots[i] - 1].id, id) != 0)
		i = (i + 1) & mask;
	return i;
}

static bool comp_seen_rehash(compiler *c, comp_out *out)
{
	size_t n = out->nseen_slots ? out->nseen_slots * 2 : 256;
	uint32_t *slots = calloc(n, sizeof(*slots));
	if (!slots) {
		comp_nomem(c);
		return false;
	}
	free(out->seen_slots);
	out->seen_slots = slots;
	out->nseen_slots = n;
	for (size_t k = 0; k < out->nseen; k++)
		slots[comp_seen_slot(out, out->seen[k].id)] = (uint32_t)k + 1;
	return true;
}

/* Checks the id for emptiness and duplicates (earlier in the document or loaded
 * already); records it. Returns false after an error. */
static bool comp_rule_id(compiler *c, comp_out *out, const eng_node *n)
{
	char found[96];
	size_t len;
	const char *id = eng_node_text(n, &len);
	if (!id || len == 0 || memchr(id, '\0', len)) {
		comp_error(c, n, "`id` must be a non-empty name, found %s",
		           eng_node_describe(n, found, sizeof(found)));
		return false;
	}
	if (c->lazy)
		return true;
	if ((out->nseen + 1) * 2 > out->nseen_slots && !comp_seen_rehash(c, out))
		return false;
	size_t slot = comp_seen_slot(out, id);
	if (out->seen_slots[slot]) {
		comp_error(c, n, "duplicate rule id `%s` (first defined at line %u)", id,
		           out->seen[out->seen_slots[slot] - 1].line);
		return false;
	}
	long prev = eng_rule_find(c->e, id);
	if (prev >= 0) {
		eng_rule_info info;
		if (eng_rule_get(c->e, (size_t)prev, &info))
			comp_error(c, n, "duplicate rule id `%s` (already loaded from %s:%u)", id,
			           info.file, info.line);
		return false;
	}
	if (!comp_grow(c, (void **)&out->seen, &out->capseen, out->nseen + 1,
	               sizeof(*out->seen)))
		return false;
	out->seen[out->nseen].id = id;
	out->seen[out->nseen++].line = eng_node_line(n);
	out->seen_slots[slot] = (uint32_t)out->nseen;
	return true;
}

/* `because`: a non-empty sentence. Warns about {?var} that names no variable of the
 * rule. Returns the text trimmed of surrounding white space, in the arena, or NULL. */
static const char *comp_because(compiler *c, const eng_node *n)
{
	char found[96];
	size_t len;
	const char *t = eng_node_text(n, &len);
	while (t && len && isspace((unsigned char)*t))
		t++, len--;
	while (t && len && isspace((unsigned char)t[len - 1]))
		len--;
	if (!t || len == 0) {
		comp_error(c, n, "`because` must be a non-empty sentence, found %s",
		           eng_node_describe(n, found, sizeof(found)));
		return NULL;
	}
	for (const char *p = t; (p = memchr(p, '{', len - (size_t)(p - t))) != NULL; p++) {
		const char *close = memchr(p, '}', len - (size_t)(p - t));
		if (!close || p[1] != '?')
			continue;
		const char *name = p + 2;
		size_t nlen = (size_t)(close - name);
		bool known = false;
		for (uint32_t i = 0; i < c->nvars && !known; i++)
			known = c->vars[i].len == nlen && memcmp(c->vars[i].name, name, nlen) == 0;
		if (!known)
			comp_warning(c, n, "`because` mentions {?%.*s}, which is not a variable of "
			             "this rule", (int)nlen, name);
	}
	const char *copy = arena_strndup(c->a, t, len);
	if (!copy)
		comp_nomem(c);
	return copy;
}

/* `cite`: a non-empty list of note ids (symbols). */
static void comp_cite(compiler *c, const eng_node *n, ir_rule *r)
{
	char found[96];
	size_t size = eng_node_size(n);
	if (eng_node_kind_of(n) != ENG_NODE_SEQ || size == 0) {
		comp_error(c, n, "`cite` must be a non-empty list of note ids such as [de-8], "
		           "found %s", eng_node_describe(n, found, sizeof(found)));
		return;
	}
	r->cite = arena_alloc(c->a, size * sizeof(*r->cite));
	if (!r->cite) {
		comp_nomem(c);
		return;
	}
	for (size_t i = 0; i < size; i++)
		if (comp_symbol(c, eng_node_item(n, i), "note id", &r->cite[r->ncite]))
			r->ncite++;
}

static void comp_salience(compiler *c, const eng_node *n, ir_rule *r)
{
	char found[96];
	const char *t = eng_node_text(n, NULL);
	const char *p = t;
	if (p && !eng_node_quoted(n) && (*p == '-' || *p == '+'))
		p++;
	bool digits = p && *p && !eng_node_quoted(n) && strspn(p, "0123456789") == strlen(p);
	double v = digits ? strtod(t, NULL) : 0;
	if (!digits || v < INT32_MIN || v > INT32_MAX) {
		comp_error(c, n, "`salience` must be an integer%s, found %s",
		           digits ? " between -2147483648 and 2147483647" : "",
		           eng_node_describe(n, found, sizeof(found)));
		return;
	}
	r->salience = (int32_t)v;
}

/* Reads the value of a one-scalar rule setting (weight, logical) into *K: CV_CONST, or
 * CV_ERROR once reported, or another kind (a list, a variable, nothing) to complain of. */
static cv_kind comp_setting(compiler *c, const eng_node *n, eng_value *k)
{
	return eng_node_kind_of(n) == ENG_NODE_SCALAR ? comp_scalar(c, n, k, NULL, NULL)
	                                              : CV_EMPTY;
}

static void comp_weight(compiler *c, const eng_node *n, ir_rule *r)
{
	char found[96];
	eng_value k;
	cv_kind kind = comp_setting(c, n, &k);
	if (kind == CV_ERROR)
		return;
	if (kind != CV_CONST || k.type != ENG_NUMBER || !(k.u.num > 0)) {
		comp_error(c, n, "`weight` must be a number greater than 0, found %s",
		           eng_node_describe(n, found, sizeof(found)));
		return;
	}
	r->weight = k.u.num;
}

/* `logical: no` makes what the rule asserts stand on its own (as in a rule with a
 * retract or modify): the facts stay until retracted, whatever happens to the match. */
static void comp_logical(compiler *c, const eng_node *n)
{
	char found[96];
	eng_value k;
	cv_kind kind = comp_setting(c, n, &k);
	if (kind == CV_ERROR)
		return;
	if (kind != CV_CONST || k.type != ENG_BOOL) {
		comp_error(c, n, "`logical` must be yes or no, found %s",
		           eng_node_describe(n, found, sizeof(found)));
		return;
	}
	if (!k.u.b)
		c->procedural = true;
}

/* Copies the rule's conditions, actions and variable names into the arena. */
static bool comp_rule_finish(compiler *c, ir_rule *r)
{
	r->nconds = c->nconds;
	r->nacts = c->nacts;
	r->nvars = c->nvars;
	r->procedural = c->procedural;
	r->conds = arena_alloc_small(c->a, c->nconds * sizeof(*r->conds));
	r->acts = arena_alloc_small(c->a, c->nacts * sizeof(*r->acts));
	r->var_names = arena_alloc_small(c->a, c->nvars * sizeof(*r->var_names));
	if (!r->conds || !r->acts || !r->var_names)
		return false;
	memcpy(r->conds, c->conds, c->nconds * sizeof(*r->conds));
	memcpy(r->acts, c->acts, c->nacts * sizeof(*r->acts));
	for (uint32_t i = 0; i < c->nvars; i++)
		if (!(r->var_names[i] = arena_strndup(c->a, c->vars[i].name, c->vars[i].len)))
			return false;
	return true;
}

static void comp_rule(compiler *c, comp_out *out, const eng_node *rn)
{
	char found[96], hint[96];
	if (eng_node_kind_of(rn) != ENG_NODE_MAP) {
		comp_error(c, rn, "a rule must be a mapping with `id`, `when`, `then`, `because` "
		           "and `cite`, found %s", eng_node_describe(rn, found, sizeof(found)));
		return;
	}
	size_t errors = c->errors;
	const eng_node *idn = eng_node_get(rn, "id");
	c->rule_line = eng_node_line(rn);
	c->rule_id = idn && eng_node_text(idn, NULL) && eng_node_text(idn, NULL)[0] ?
	             eng_node_text(idn, NULL) : NULL;
	c->nvars = c->nconds = c->nacts = 0;
	c->procedural = false;

	const eng_node *val[K_COUNT] = { NULL };
	bool suggested[K_COUNT] = { false };
	for (size_t i = 0; i < eng_node_size(rn); i++) {
		const eng_node *k = eng_node_key(rn, i);
		size_t klen;
		const char *kt = eng_node_text(k, &klen);
		size_t j = 0;
		while (j < K_COUNT && strcmp(comp_rule_keys[j], kt) != 0)
			j++;
		if (j < K_COUNT) {
			val[j] = eng_node_value(rn, i);
			continue;
		}
		long sug = eng_suggest(kt, klen, comp_rule_keys, K_COUNT);
		if (sug >= 0)
			suggested[sug] = true;
		comp_error(c, k, "unknown key `%s` in rule%s", kt,
		           eng_hint(hint, sizeof(hint), kt, klen, comp_rule_keys, K_COUNT));
	}
	/* A key reported as misspelt is not reported missing as well. */
	for (size_t j = 0; j < COMP_REQUIRED; j++)
		if (!val[j] && !suggested[j])
			comp_error(c, rn, "rule is missing `%s` (a rule needs `id`, `when`, "
			           "`then`, `because` and `cite`)", comp_rule_keys[j]);

	ir_rule *r = arena_alloc(c->a, sizeof(*r));
	if (!r) {
		comp_nomem(c);
		return;
	}
	r->weight = 1;
	r->file = out->file;
	r->line = eng_node_line(rn);
	r->col = eng_node_col(rn);
	if (val[K_ID] && comp_rule_id(c, out, val[K_ID]))
		r->id = arena_strndup(c->a, c->rule_id, strlen(c->rule_id));
	if (val[K_WHEN])
		comp_when(c, val[K_WHEN]);
	if (val[K_THEN])
		comp_then(c, val[K_THEN]);
	if (val[K_BECAUSE])
		r->because = comp_because(c, val[K_BECAUSE]);
	if (val[K_CITE])
		comp_cite(c, val[K_CITE], r);
	if (val[K_SALIENCE])
		comp_salience(c, val[K_SALIENCE], r);
	if (val[K_WEIGHT])
		comp_weight(c, val[K_WEIGHT], r);
	if (val[K_LOGICAL])
		comp_logical(c, val[K_LOGICAL]);

	if (c->errors == errors && c->st == ENG_OK) {
		if (!r->id || !comp_rule_finish(c, r))
			comp_nomem(c);
		else if (comp_grow(c, (void **)&out->rules, &out->caprules, out->nrules + 1,
		                   sizeof(*out->rules)))
			out->rules[out->nrules++] = r;
	}
	c->rule_line = 0;
	c->rule_id = NULL;
}

static void comp_rules(compiler *c, comp_out *out, const eng_node *n)
{
	char found[96];
	if (eng_node_kind_of(n) != ENG_NODE_SEQ) {
		if (!comp_is(n, ""))
			comp_error(c, n, "`rules` must be a list of rules, found %s",
			           eng_node_describe(n, found, sizeof(found)));
		return;
	}
	for (size_t i = 0; i < eng_node_size(n) && c->st == ENG_OK; i++)
		comp_rule(c, out, eng_node_item(n, i));
}

/* ---- the document ---- */

/* Section names the engine reads, and those mlarch's application reads (suggested only
 * when the application declared them with eng_section_skip). */
static const char *const comp_sections[] = { "rules", "facts", "catalog", "lexicon",
                                             "sources" };
#define COMP_NSECTIONS (sizeof(comp_sections) / sizeof(comp_sections[0]))

static void comp_section(compiler *c, comp_out *out, const eng_node *key,
                         const eng_node *val)
{
	size_t len;
	const char *name = eng_node_text(key, &len);
	if (strcmp(name, "rules") == 0) {
		comp_rules(c, out, val);
	} else if (strcmp(name, "facts") == 0) {
		comp_facts(c, out, val);
	} else if (!eng_section_skipped(c->e, name)) {
		const char *cands[COMP_NSECTIONS];
		size_t n = 0;
		for (size_t i = 0; i < COMP_NSECTIONS; i++)
			if (i < 2 || eng_section_skipped(c->e, comp_sections[i]))
				cands[n++] = comp_sections[i];
		char hint[96];
		comp_error(c, key, "unknown section `%s`%s", name,
		           eng_hint(hint, sizeof(hint), name, len, cands, n));
	}
}

/* Hands a clean document's rules and facts to the engine. */
static eng_status comp_commit(compiler *c, comp_out *out)
{
	if (out->nrules) {
		if (eng_fact_count(c->e) > 0) {
			c->rule_line = 0;
			comp_error_at(c, 0, 0, 0, "rules must be loaded while working memory is "
			              "empty (before the first assert, or after eng_clear)");
			return ENG_ERR_INVALID;
		}
		out->handed = true;
		eng_status st = eng_rules_add(c->e, out->rules, out->nrules);
		if (st != ENG_OK) {
			if (st == ENG_ERR_INVALID)
				comp_error_at(c, 0, 0, 0, "the engine refused the rules of this "
				              "file (is working memory empty?)");
			return st;
		}
	}
	for (size_t i = 0; i < out->nfacts; i++) {
		eng_triple *t = &out->facts[i];
		eng_status st = eng_deffact_add(c->e, t->subject, t->attribute, t->value);
		if (st != ENG_OK)
			return st;
	}
	return ENG_OK;
}

/* Compiles DOC into E: ENG_OK with its rules and facts added, or ENG_ERR_LOAD with
 * the errors in D (and nothing added), or ENG_ERR_NOMEM. D may be NULL. */
static eng_status compile(eng *e, const eng_doc *doc, eng_doc *owned, eng_diags *d)
{
	char found[96];
	compiler c = { .e = e, .doc = doc, .d = d, .a = eng_rules_arena(e) };
	comp_out out = { 0 };
	arena_mark mark = arena_mark_get(c.a);
	const eng_node *root = eng_doc_root(doc);
	if (!root || comp_is(root, "")) {
		/* an empty document adds nothing */
	} else if (eng_node_kind_of(root) != ENG_NODE_MAP) {
		comp_error(&c, root, "a rule file must be a mapping of sections (`rules:`, "
		           "`facts:`, ...), found %s", eng_node_describe(root, found, sizeof(found)));
	} else if (!(out.file = arena_strndup(c.a, eng_doc_name(doc),
	                                      strlen(eng_doc_name(doc))))) {
		comp_nomem(&c);
	} else {
		for (size_t i = 0; i < eng_node_size(root) && c.st == ENG_OK; i++)
			comp_section(&c, &out, eng_node_key(root, i), eng_node_value(root, i));
	}

	eng_status st = c.st;
	if (st == ENG_OK && c.errors)
		st = ENG_ERR_LOAD;
	if (owned) {
		/* the IR holds copies of what it needs: the tree goes before the network is
		 * built, so that the two are never in memory at once */
		c.doc_name = out.file ? out.file : "";
		c.doc = NULL;
		eng_doc_free(owned);
	}
	if (st == ENG_OK)
		st = comp_commit(&c, &out);
	/* Once handed to eng_rules_add, the IR may be part of the network even on failure. */
	if (st != ENG_OK && !out.handed)
		arena_rewind(c.a, mark);
	free(out.rules);
	free(out.facts);
	free(out.seen);
	free(out.seen_slots);
	free(c.vars);
	free(c.conds);
	free(c.acts);
	return st;
}

eng_status compile_doc(eng *e, const eng_doc *doc, eng_diags *d)
{
	return compile(e, doc, NULL, d);
}

eng_status compile_doc_owned(eng *e, eng_doc *doc, eng_diags *d)
{
	return compile(e, doc, doc, d);
}

/* ---- loading ---- */

/* Compiles a document read with eng_doc_read_*; DOC stays the caller's. */
eng_status eng_load_doc(eng *e, const eng_doc *doc, eng_diags *d)
{
	if (!e || !doc)
		return ENG_ERR_INVALID;
	return compile_doc(e, doc, d);
}

/* Reads and compiles one file: ENG_ERR_IO if it cannot be read, else as compile_doc. */
eng_status eng_load_file(eng *e, const char *path, eng_diags *d)
{
	if (!e || !path)
		return ENG_ERR_INVALID;
	eng_status st;
	eng_limits lim;
	eng_limits_get(e, &lim);
	eng_doc *doc = eng_doc_read_file(path, &lim.doc, d, &st);
	if (!doc)
		return st;
	return compile_doc_owned(e, doc, d);
}

/* Compiles LEN bytes of TEXT (copied) named NAME in diagnostics, as compile_doc. */
eng_status eng_load_string(eng *e, const char *name, const char *text, size_t len,
                           eng_diags *d)
{
	if (!e)
		return ENG_ERR_INVALID;
	eng_status st;
	eng_limits lim;
	eng_limits_get(e, &lim);
	eng_doc *doc = eng_doc_read_string(name, text, len, &lim.doc, d, &st);
	if (!doc)
		return st;
	return compile_doc_owned(e, doc, d);
}

/* ---- rules compiled when needed ---- */

/* Compiles the rule at RN; see internal.h. */
eng_status compile_rule_lazy(eng *e, const eng_doc *doc, const eng_node *rn,
                             const char *file, ir_rule **out)
{
	compiler c = { .e = e, .doc = doc, .d = NULL, .a = eng_rules_arena(e), .lazy = true };
	comp_out o = { .file = file };
	arena_mark mark = arena_mark_get(c.a);
	comp_rule(&c, &o, rn);
	eng_status st = c.st;
	if (st == ENG_OK && (c.errors || o.nrules != 1))
		st = ENG_ERR_LOAD;
	*out = st == ENG_OK ? o.rules[0] : NULL;
	if (st != ENG_OK) {
		arena_rewind(c.a, mark);
		size_t size;
		char *msg = eng_error_buf(e, &size);
		const eng_node *id = eng_node_kind_of(rn) == ENG_NODE_MAP ? eng_node_get(rn, "id")
		                                                          : NULL;
		const char *name = id ? eng_node_text(id, NULL) : NULL;
		if (st == ENG_ERR_NOMEM)
			snprintf(msg, size, "out of memory compiling rule `%s`", name ? name : "?");
		else
			snprintf(msg, size, "rule `%s` (%s:%u) no longer compiles: the rules changed "
			         "while they were in use", name ? name : "?", file ? file : "",
			         eng_node_line(rn));
	}
	free(o.rules);
	free(c.vars);
	free(c.conds);
	free(c.acts);
	return st;
}

/* The stubs of the `rules:` sections of ROOT (a mapping), matched with the N of the
 * image in order; the `facts:` sections compiled into OUT. False when they do not fit. */
static bool lazy_sections(compiler *c, comp_out *out, const eng_node *root, rule_stub *stubs,
                          size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < eng_node_size(root) && c->st == ENG_OK; i++) {
		const char *name = eng_node_text(eng_node_key(root, i), NULL);
		const eng_node *val = eng_node_value(root, i);
		if (!name)
			return false;
		if (strcmp(name, "facts") == 0) {
			comp_facts(c, out, val);
			continue;
		}
		if (strcmp(name, "rules") != 0) {
			if (!eng_section_skipped(c->e, name))
				return false;
			continue;
		}
		if (eng_node_kind_of(val) != ENG_NODE_SEQ)
			return comp_is(val, "");
		for (size_t j = 0; j < eng_node_size(val); j++, k++) {
			const eng_node *rn = eng_node_item(val, j);
			const eng_node *idn = eng_node_kind_of(rn) == ENG_NODE_MAP ?
			                      eng_node_get(rn, "id") : NULL;
			size_t len;
			const char *id = idn ? eng_node_text(idn, &len) : NULL;
			if (k >= n || !id || len != stubs[k].idlen || memcmp(id, stubs[k].id, len))
				return false;
			stubs[k].id = id;
			stubs[k].node = rn;
		}
	}
	return k == n;
}

/* Points each of the N STUBS at its tree in TREES[0..TLEN) (eng_doc_serialize_rules), with
 * its id copied into arena A (the document it was read from need not stay). False when
 * they do not fit; C's status ENG_ERR_NOMEM when memory ran out. */
static bool lazy_trees(compiler *c, rule_stub *stubs, size_t n, const unsigned char *trees,
                       size_t tlen)
{
	byte_cur cur = { trees, tlen, 0, false };
	if (byte_u32(&cur) != n || n > (tlen - 4) / 16)
		return false;
	for (size_t k = 0; k < n; k++) {
		uint32_t off = byte_u32(&cur), len = byte_u32(&cur);
		uint64_t sum = byte_u64(&cur);
		if (cur.bad || off > tlen || len > tlen - off || len == 0)
			return false;
		char *id = arena_strndup(c->a, stubs[k].id, stubs[k].idlen);
		if (!id) {
			c->st = ENG_ERR_NOMEM;
			return false;
		}
		stubs[k].id = id;
		stubs[k].node = NULL;
		stubs[k].tree = trees + off;
		stubs[k].treelen = len;
		stubs[k].treesum = sum;
	}
	return true;
}

eng_status eng_load_doc_lazy(eng *e, const eng_doc *doc, const void *img, size_t len)
{
	return eng_load_doc_lazy_trees(e, doc, img, len, NULL, 0);
}

eng_status eng_load_doc_lazy_trees(eng *e, const eng_doc *doc, const void *img, size_t len,
                                   const void *trees, size_t tlen)
{
	if (!e || !doc || (!trees && tlen))
		return ENG_ERR_INVALID;
	/* no diagnostics: a document that has any is loaded again by eng_load_doc */
	compiler c = { .e = e, .doc = doc, .a = eng_rules_arena(e) };
	comp_out out = { 0 };
	arena_mark mark = arena_mark_get(c.a);
	rule_stub *stubs = NULL;
	size_t n = 0;
	eng_status st = deps_image_read(e, img, len, &stubs, &n);
	const eng_node *root = eng_doc_root(doc);
	if (st == ENG_OK) {
		if (!root || comp_is(root, ""))
			st = n ? ENG_ERR_INVALID : ENG_OK;
		else if (eng_node_kind_of(root) != ENG_NODE_MAP)
			st = ENG_ERR_INVALID;
		else if (!(out.file = arena_strndup(c.a, eng_doc_name(doc), strlen(eng_doc_name(doc)))))
			st = ENG_ERR_NOMEM;
		else if (!lazy_sections(&c, &out, root, stubs, n))
			st = c.st ? c.st : ENG_ERR_INVALID;
		else if (c.st || c.errors)
			st = c.st ? c.st : ENG_ERR_INVALID;
		else if (trees && !lazy_trees(&c, stubs, n, trees, tlen))
			st = c.st ? c.st : ENG_ERR_INVALID;
	}
	bool handed = false;
	if (st == ENG_OK && n) {
		if (eng_fact_count(e) > 0) {
			st = ENG_ERR_INVALID;
		} else {
			handed = true;
			st = eng_rules_add_lazy(e, doc, out.file, stubs, n);
		}
	}
	for (size_t i = 0; st == ENG_OK && i < out.nfacts; i++) {
		eng_triple *t = &out.facts[i];
		st = eng_deffact_add(e, t->subject, t->attribute, t->value);
	}
	if (st != ENG_OK && !handed)
		arena_rewind(c.a, mark);
	free(stubs);
	free(out.rules);
	free(out.facts);
	free(c.vars);
	free(c.conds);
	free(c.acts);
	return st;
}
