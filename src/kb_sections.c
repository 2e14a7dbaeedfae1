/* SPDX-License-Identifier: MIT */
/*
 * kb_sections.c - the application's sections of one rule file, read from its YAML node
 * tree: `sources:` (citable notes), `catalog:` (entities, their alias patterns and
 * background facts) and `lexicon:` (patterns from wording to facts), plus the `cite`
 * lists of `rules:`, kept for kb.c to check once every file is in.
 *
 * Every key and value is checked: unknown keys (with a did-you-mean), wrong types,
 * missing keys, duplicate ids, values outside their set, patterns that do not compile
 * (reported at the offending character when the pattern sits on one source line) and
 * captures the pattern does not declare. Each problem is reported at file:line:col with
 * the entry it belongs to, and reading goes on.
 */
#include "bytes.h"
#include "kb_private.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KB_FOUND_MAX 96

const char *const kb_topics[KB_NTOPICS] = {
	"ingestion", "etl", "storage", "query", "training-input", "algorithms", "instances",
	"evaluation", "data-prep", "fitting", "deployment", "security", "ai-services", "general",
};
const char *const kb_kinds[KB_NKINDS] = {
	"service", "feature", "algorithm", "format", "metric", "technique", "instance",
	"concept",
};
static const char *const kb_scopes[] = { "any", "stem", "option" };
static const char *const kb_negates[] = { "clause", "need", "span" };

/* ---- small text helpers ---- */

/* Characters (not bytes) in S[0..LEN). */
static uint32_t kb_chars(const char *s, size_t len)
{
	uint32_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

/* Writes " (did you mean `X`?)" into BUF when one of the N candidates is within edit
 * distance 2 of WORD (and closer than its own length), else "". Returns BUF. */
const char *kb_hint(char *buf, size_t size, const char *word, const char *const *cands,
                    size_t n)
{
	return eng_hint(buf, size, word, strlen(word), cands, n);
}

/* The byte offset of 1-based character column COL in LINE[0..LEN), or LEN. */
static size_t kb_col_byte(const char *line, size_t len, uint32_t col)
{
	size_t b = 0;
	for (uint32_t ch = 1; ch < col && b < len; ch++)
		while (++b < len && ((unsigned char)line[b] & 0xC0) == 0x80)
			;
	return b;
}

/* The columns to underline for node N of DOC: a scalar's width on its line (with its
 * quotes), else 1. */
uint32_t kb_span(const eng_doc *doc, const eng_node *n)
{
	size_t len, llen;
	const char *t = eng_node_text(n, &len);
	const char *src = eng_doc_line(doc, eng_node_line(n), &llen);
	if (!t || !src)
		return 1;
	const char *nl = memchr(t, '\n', len);
	uint32_t span = kb_chars(t, nl ? (size_t)(nl - t) : len);
	uint32_t col = eng_node_col(n), avail = kb_chars(src, llen);
	if (eng_node_quoted(n) && !nl && col <= avail) {
		size_t b = kb_col_byte(src, llen, col);
		if (src[b] == '"' || src[b] == '\'')
			span += 2;
	}
	if (col <= avail && span > avail - col + 1)
		span = avail - col + 1;
	return span ? span : 1;
}

/* ---- diagnostics ---- */

static void kb_report(kb_loader *L, const eng_doc *doc, eng_severity sev, uint32_t line,
                      uint32_t col, uint32_t span, const char *ctx, const char *fmt,
                      va_list ap)
{
	char msg[KB_MSG_MAX];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (sev == ENG_SEV_ERROR)
		L->failed = true;
	size_t llen = 0;
	const char *source = line ? eng_doc_line(doc, line, &llen) : NULL;
	if (llen > KB_SOURCE_MAX)
		source = NULL;
	if (eng_diags_add(L->d, sev, eng_doc_name(doc), line, col, span, source, ctx, "%s",
	                  msg) != ENG_OK)
		L->nomem = true;
}

/* The context of the entry being read, written into BUF, or NULL outside entries. */
static const char *kb_context(const kb_loader *L, char *buf, size_t size)
{
	if (!L->ctx_what)
		return NULL;
	if (L->ctx_id)
		snprintf(buf, size, "in %s `%s` (line %u)", L->ctx_what, L->ctx_id, L->ctx_line);
	else
		snprintf(buf, size, "in the %s at line %u", L->ctx_what, L->ctx_line);
	return buf;
}

__attribute__((format(printf, 3, 4)))
static void kb_error(kb_loader *L, const eng_node *n, const char *fmt, ...)
{
	char ctx[KB_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	kb_report(L, L->doc, ENG_SEV_ERROR, eng_node_line(n), eng_node_col(n),
	          kb_span(L->doc, n), kb_context(L, ctx, sizeof(ctx)), fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 5, 6)))
static void kb_error_at(kb_loader *L, uint32_t line, uint32_t col, uint32_t span,
                        const char *fmt, ...)
{
	char ctx[KB_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	kb_report(L, L->doc, ENG_SEV_ERROR, line, col, span, kb_context(L, ctx, sizeof(ctx)),
	          fmt, ap);
	va_end(ap);
}

/* ---- reading nodes ---- */

/* The text of scalar N, or NULL after reporting that WHAT must be a scalar. */
static const char *kb_scalar(kb_loader *L, const eng_node *n, const char *what, size_t *len)
{
	char found[KB_FOUND_MAX];
	if (eng_node_kind_of(n) != ENG_NODE_SCALAR) {
		kb_error(L, n, "%s must be a single value, found %s", what,
		         eng_node_describe(n, found, sizeof(found)));
		return NULL;
	}
	return eng_node_text(n, len);
}

/* A non-empty single-line text for key WHAT, copied into the knowledge base; NULL after
 * an error. */
static const char *kb_text(kb_loader *L, const eng_node *n, const char *what)
{
	char found[KB_FOUND_MAX];
	size_t len;
	const char *t = kb_scalar(L, n, what, &len);
	if (!t)
		return NULL;
	if (len == 0) {
		kb_error(L, n, "%s must not be empty, found %s", what,
		         eng_node_describe(n, found, sizeof(found)));
		return NULL;
	}
	const char *copy = kb_strndup(L->m, t, len);
	if (!copy)
		L->nomem = true;
	return copy;
}

/* An identifier for key WHAT: a plain or quoted name without spaces. With STRICT, only
 * lowercase letters, digits, `-`, `.` and `_` (entity ids become rule symbols). */
static const char *kb_ident(kb_loader *L, const eng_node *n, const char *what, bool strict)
{
	char found[KB_FOUND_MAX];
	size_t len;
	const char *t = kb_scalar(L, n, what, &len);
	if (!t)
		return NULL;
	bool ok = len > 0 && t[0] != '?';
	for (size_t i = 0; i < len && ok; i++) {
		unsigned char c = (unsigned char)t[i];
		if (strict)
			ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			     c == '.' || c == '_';
		else
			ok = c > ' ';
	}
	if (!ok) {
		kb_error(L, n, "%s must be a name %s, found %s", what,
		         strict ? "of lowercase letters, digits, `-`, `.` and `_`"
		                : "without spaces",
		         eng_node_describe(n, found, sizeof(found)));
		return NULL;
	}
	const char *copy = kb_strndup(L->m, t, len);
	if (!copy)
		L->nomem = true;
	return copy;
}

/* Whether S is a decimal number: [+-] digits [. digits] [e [+-] digits]. */
static bool kb_is_number(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	const char *p = s;
	while (*s >= '0' && *s <= '9')
		s++;
	bool digits = s > p;
	if (*s == '.') {
		p = ++s;
		while (*s >= '0' && *s <= '9')
			s++;
		digits = digits || s > p;
	}
	if (!digits)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		p = s;
		while (*s >= '0' && *s <= '9')
			s++;
		if (s == p)
			return false;
	}
	return *s == '\0';
}

/* Types scalar N as docs/rule-language.md says (quoted: string; plain: boolean, number or
 * symbol). Returns false after reporting an error (WHAT names the value). */
static bool kb_value(kb_loader *L, const eng_node *n, const char *what, eng_value *out)
{
	char found[KB_FOUND_MAX];
	size_t len;
	const char *t = kb_scalar(L, n, what, &len);
	if (!t)
		return false;
	if (len == 0) {
		kb_error(L, n, "%s is %s", what, eng_node_quoted(n) ? "empty" : "missing");
		return false;
	} else if (eng_node_quoted(n)) {
		/* a string: typed below */
	} else if (t[0] == '?') {
		kb_error(L, n, "variables cannot appear in %s, found %s", what,
		         eng_node_describe(n, found, sizeof(found)));
		return false;
	} else if (strcmp(t, "true") == 0 || strcmp(t, "yes") == 0) {
		*out = eng_bool(true);
		return true;
	} else if (strcmp(t, "false") == 0 || strcmp(t, "no") == 0) {
		*out = eng_bool(false);
		return true;
	} else if (kb_is_number(t)) {
		*out = eng_number(strtod(t, NULL));
		if (!isfinite(out->u.num)) {
			kb_error(L, n, "number `%s` is out of range", t);
			return false;
		}
		return true;
	}
	out->type = eng_node_quoted(n) ? ENG_STRING : ENG_SYMBOL;
	out->u.sym = eng_intern(L->k->e, t, len);
	if (!out->u.sym) {
		L->nomem = true;
		return false;
	}
	return true;
}

/* An attribute name (a mapping key): any non-empty scalar, interned. */
static eng_sym kb_attr(kb_loader *L, const eng_node *n)
{
	size_t len;
	const char *t = kb_scalar(L, n, "an attribute", &len);
	if (!t)
		return 0;
	if (len == 0) {
		kb_error(L, n, "empty attribute name");
		return 0;
	}
	eng_sym s = eng_intern(L->k->e, t, len);
	if (!s)
		L->nomem = true;
	return s;
}

/* A boolean for key WHAT. */
static bool kb_bool(kb_loader *L, const eng_node *n, const char *what, bool *out)
{
	char found[KB_FOUND_MAX];
	const char *t = eng_node_text(n, NULL);
	if (t && !eng_node_quoted(n)) {
		if (strcmp(t, "true") == 0 || strcmp(t, "yes") == 0) {
			*out = true;
			return true;
		}
		if (strcmp(t, "false") == 0 || strcmp(t, "no") == 0) {
			*out = false;
			return true;
		}
	}
	kb_error(L, n, "%s must be true or false, found %s", what,
	         eng_node_describe(n, found, sizeof(found)));
	return false;
}

/* One of the N words of SET, or -1 after reporting the value (with a did-you-mean). */
static int kb_choice(kb_loader *L, const eng_node *n, const char *what,
                     const char *const *set, size_t nset)
{
	char found[KB_FOUND_MAX], hint[KB_HINT_MAX];
	size_t len;
	const char *t = kb_scalar(L, n, what, &len);
	if (!t)
		return -1;
	for (size_t i = 0; i < nset; i++)
		if (strcmp(t, set[i]) == 0)
			return (int)i;
	char list[KB_MSG_MAX];
	size_t o = 0;
	list[0] = '\0';
	for (size_t i = 0; i < nset && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", set[i]);
	kb_error(L, n, "%s must be one of %s, found %s%s", what, list,
	         eng_node_describe(n, found, sizeof(found)), kb_hint(hint, sizeof(hint), t, set, nset));
	return -1;
}

/* Checks that mapping N has only the N keys of KEYS and all those flagged in REQUIRED
 * (a string of '1'/'0' per key). WHAT names the entry ("a catalog entry"). Returns false
 * if N is not a mapping. */
static bool kb_keys(kb_loader *L, const eng_node *n, const char *what,
                    const char *const *keys, size_t nkeys, const char *required)
{
	char found[KB_FOUND_MAX], hint[KB_HINT_MAX];
	if (eng_node_kind_of(n) != ENG_NODE_MAP) {
		kb_error(L, n, "%s must be a mapping, found %s", what,
		         eng_node_describe(n, found, sizeof(found)));
		return false;
	}
	for (size_t i = 0; i < eng_node_size(n); i++) {
		const eng_node *key = eng_node_key(n, i);
		const char *t = eng_node_text(key, NULL);
		if (!t)
			continue;       /* the YAML reader reported it */
		bool known = false;
		for (size_t j = 0; j < nkeys && !known; j++)
			known = strcmp(t, keys[j]) == 0;
		if (!known)
			kb_error(L, key, "unknown key `%s` in %s%s", t, what,
			         kb_hint(hint, sizeof(hint), t, keys, nkeys));
	}
	for (size_t j = 0; j < nkeys; j++)
		if (required[j] == '1' && !eng_node_get(n, keys[j]))
			kb_error(L, n, "%s is missing `%s`", what, keys[j]);
	return true;
}

/* Sets the context of later diagnostics to entry N of kind WHAT (its `id` if readable). */
static void kb_enter(kb_loader *L, const char *what, const eng_node *n)
{
	L->ctx_what = what;
	L->ctx_line = eng_node_line(n);
	L->ctx_id = NULL;
	const eng_node *id = eng_node_kind_of(n) == ENG_NODE_MAP ? eng_node_get(n, "id") : NULL;
	const char *t = id ? eng_node_text(id, NULL) : NULL;
	if (t && *t)
		L->ctx_id = t;
}

static void kb_leave(kb_loader *L)
{
	L->ctx_what = NULL;
	L->ctx_id = NULL;
	L->ctx_line = 0;
}

/* Reports a duplicate ID first declared at FILE:LINE. */
static void kb_duplicate(kb_loader *L, const eng_node *n, const char *what, const char *id,
                         const char *file, uint32_t line)
{
	if (strcmp(file, L->file) == 0)
		kb_error(L, n, "duplicate %s `%s` (first defined at line %u)", what, id, line);
	else
		kb_error(L, n, "duplicate %s `%s` (already loaded from %s:%u)", what, id, file,
		         line);
}

/* Records the `cite` list N of an entry (for the check at the end) and, when IDS is not
 * NULL, copies the ids into *IDS / *NIDS. */
static void kb_cites(kb_loader *L, const eng_node *n, const char *what, const char ***ids,
                     uint32_t *nids)
{
	bool quiet = ids == NULL;       /* a rule's: the engine reports malformed lists */
	char found[KB_FOUND_MAX];
	bool seq = eng_node_kind_of(n) == ENG_NODE_SEQ;
	size_t count = seq ? eng_node_size(n) : 1;
	if (seq && count == 0) {
		if (!quiet)
			kb_error(L, n, "`cite` must be a list of note ids such as [de-8], "
			         "found %s", eng_node_describe(n, found, sizeof(found)));
		return;
	}
	if (ids) {
		*ids = kb_alloc(L->m, count * sizeof(**ids));
		if (!*ids) {
			L->nomem = true;
			return;
		}
	}
	for (size_t i = 0; i < count; i++) {
		const eng_node *it = seq ? eng_node_item(n, i) : n;
		size_t len;
		const char *t = eng_node_text(it, &len);
		if (!t || len == 0) {
			if (!quiet)
				kb_error(L, it, "a note id must be a name such as de-8, found %s",
				         eng_node_describe(it, found, sizeof(found)));
			continue;
		}
		if (ids) {
			const char *copy = kb_strndup(L->m, t, len);
			if (!copy) {
				L->nomem = true;
				return;
			}
			(*ids)[(*nids)++] = copy;
		}
		if (!kb_grow((void **)&L->refs, L->nrefs, &L->caprefs, sizeof(*L->refs))) {
			L->nomem = true;
			return;
		}
		kb_cite_ref *r = &L->refs[L->nrefs++];
		r->doc = L->doc;
		r->node = it;
		r->id = t;
		r->what = what;
		r->owner = L->ctx_id;
		r->owner_line = L->ctx_line;
	}
}

/* ---- sources ---- */

static void kb_source_entry(kb_loader *L, const eng_node *n)
{
	static const char *const keys[] = { "id", "title", "topic", "decides", "why",
	                                    "conflict" };
	kb_enter(L, "source", n);
	if (!kb_keys(L, n, "a source", keys, KB_COUNT(keys), "111000")) {
		kb_leave(L);
		return;
	}
	kb *k = L->k;
	if (!kb_grow((void **)&k->sources, k->nsources, &L->m->capsources, sizeof(kb_source))) {
		L->nomem = true;
		return;
	}
	kb_source *s = &k->sources[k->nsources++];
	memset(s, 0, sizeof(*s));
	s->decides = true;
	s->file = L->file;
	s->line = eng_node_line(n);
	s->col = eng_node_col(n);
	const eng_node *v;
	if ((v = eng_node_get(n, "id")) && (s->id = kb_ident(L, v, "a note id", false))) {
		long i = kb_id_first(L, &L->source_ids, s->id, k->nsources - 1);
		if (i >= 0)
			kb_duplicate(L, v, "note id", s->id, k->sources[i].file, k->sources[i].line);
	}
	if ((v = eng_node_get(n, "title")))
		s->title = kb_text(L, v, "`title`");
	if ((v = eng_node_get(n, "topic"))) {
		int t = kb_choice(L, v, "`topic`", kb_topics, KB_COUNT(kb_topics));
		if (t >= 0)
			s->topic = kb_topics[t];
	}
	if ((v = eng_node_get(n, "decides")))
		kb_bool(L, v, "`decides`", &s->decides);
	if ((v = eng_node_get(n, "why")))
		s->why = kb_text(L, v, "`why`");
	if ((v = eng_node_get(n, "conflict")))
		s->conflict = kb_text(L, v, "`conflict`");
	if (!s->decides && !eng_node_get(n, "why"))
		kb_error(L, n, "a source with `decides: false` needs `why` (what it lacks)");
	kb_leave(L);
}

/* ---- patterns ---- */

/* The column of byte ERR_OFF of the pattern in scalar N, when the pattern sits on one
 * line of the source as written (plain, or quoted with only simple escapes); else the
 * node's own column. */
static uint32_t kb_pattern_col(const eng_doc *doc, const eng_node *n, size_t err_off)
{
	size_t len, llen;
	const char *t = eng_node_text(n, &len);
	const char *src = eng_doc_line(doc, eng_node_line(n), &llen);
	uint32_t col = eng_node_col(n);
	if (!t || !src || err_off > len || memchr(t, '\n', len))
		return col;
	size_t b = kb_col_byte(src, llen, col);
	char quote = 0;
	if (eng_node_quoted(n)) {
		if (b >= llen || (src[b] != '\'' && src[b] != '"'))
			return col;     /* a block scalar */
		quote = src[b++];
	}
	size_t start = b;
	for (size_t i = 0; i < err_off; i++) {
		if (b >= llen)
			return col;
		if (quote == '\'' && t[i] == '\'') {
			if (b + 1 >= llen || src[b] != '\'' || src[b + 1] != '\'')
				return col;
			b += 2;
		} else if (quote == '"' && (t[i] == '\\' || t[i] == '"')) {
			if (b + 1 >= llen || src[b] != '\\' || src[b + 1] != t[i])
				return col;
			b += 2;
		} else if (quote == '"' && src[b] == '\\') {
			return col;     /* another escape: give up on precision */
		} else if (src[b] == t[i]) {
			b++;
		} else {
			return col;     /* folded or otherwise rewritten */
		}
	}
	return col + (quote ? 1 : 0) + kb_chars(src + start, b - start);
}

/* Compiles the pattern in scalar N; reports a bad one at the offending character. */
static rx *kb_pattern(kb_loader *L, const eng_node *n, const char *what, const char **src)
{
	char err[256], found[KB_FOUND_MAX];
	size_t len, off = 0;
	const char *t = kb_scalar(L, n, what, &len);
	if (!t)
		return NULL;
	if (len == 0 || strlen(t) != len) {
		kb_error(L, n, "%s must be a non-empty regular expression, found %s", what,
		         eng_node_describe(n, found, sizeof(found)));
		return NULL;
	}
	rx *r = kb_regex(L, t, err, sizeof(err), &off);
	if (!r && errno == ENOMEM) {
		L->nomem = true;
		return NULL;
	}
	if (!r) {
		kb_error_at(L, eng_node_line(n), kb_pattern_col(L->doc, n, off), 1,
		            "invalid regular expression in %s: %s (at offset %zu)", what, err, off);
		return NULL;
	}
	*src = kb_strndup(L->m, t, len);
	if (!*src)
		L->nomem = true;
	return r;
}

/* ---- word families ---- */

/* A family reference `{{name}}` in a pattern: where its expansion sits in the expanded
 * text, and where the reference sits in the text as written. */
typedef struct {
	size_t exp_at, exp_len, src_at, src_len;
	uint32_t fam;
} kb_ref;

/* The index just past the escape (`\x`, `\Q...\E`) or character class that starts at
 * P[I] (of LEN bytes), or I when neither starts there: the parentheses of a family are
 * counted outside them. */
static size_t kb_rx_skip(const char *p, size_t len, size_t i)
{
	if (p[i] == '\\') {
		if (i + 1 < len && p[i + 1] == 'Q') {
			for (size_t j = i + 2; j + 1 < len; j++)
				if (p[j] == '\\' && p[j + 1] == 'E')
					return j + 2;
			return len;
		}
		return i + 2 < len ? i + 2 : len;
	}
	if (p[i] != '[')
		return i;
	size_t j = i + 1;
	if (j < len && p[j] == '^')
		j++;
	if (j < len && p[j] == ']')
		j++;            /* a leading `]` is a member */
	while (j < len && p[j] != ']') {
		if (p[j] == '\\') {
			j += 2;
		} else if (p[j] == '[' && j + 1 < len && p[j + 1] == ':') {
			size_t k = j + 2;
			while (k + 1 < len && p[k] != ']' && !(p[k] == ':' && p[k + 1] == ']'))
				k++;
			j = k + 1 < len && p[k] == ':' ? k + 2 : j + 1;
		} else {
			j++;
		}
	}
	return j < len ? j + 1 : len;
}

static bool kb_fam_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (!first && ((c >= '0' && c <= '9') || c == '-' ||
	                                              c == '_'));
}

/* The length of the family name at S[0..LEN) (lowercase letters, digits, `-`, `_`,
 * starting with a letter), 0 if there is none. */
static size_t kb_fam_name(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && kb_fam_char(s[i], i == 0))
		i++;
	return i;
}

/* Reports an error at byte OFF of the pattern in scalar N of DOC (which need not be the
 * file being read), underlining SPAN characters. */
__attribute__((format(printf, 6, 7)))
static void kb_error_in(kb_loader *L, const eng_doc *doc, const eng_node *n, size_t off,
                        uint32_t span, const char *fmt, ...)
{
	char ctx[KB_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	kb_report(L, doc, ENG_SEV_ERROR, eng_node_line(n), kb_pattern_col(doc, n, off), span,
	          kb_context(L, ctx, sizeof(ctx)), fmt, ap);
	va_end(ap);
}

static long kb_family_find(const kb *k, const char *name, size_t len)
{
	for (uint32_t i = 0; i < k->nfamilies; i++)
		if (strlen(k->families[i].name) == len && memcmp(k->families[i].name, name, len) == 0)
			return (long)i;
	return -1;
}

static void kb_family_resolve(kb_loader *L, uint32_t i);

/* The first `{{` in S[0..LEN), or NULL (memchr is much faster than strstr here: most
 * patterns hold no reference and few braces). */
static const char *kb_braces(const char *s, size_t len)
{
	for (const char *p = s, *end = s + len; p < end; p++) {
		p = memchr(p, '{', (size_t)(end - p));
		if (!p || p + 1 >= end)
			return NULL;
		if (p[1] == '{')
			return p;
	}
	return NULL;
}

typedef struct {
	kb_ref *v;
	size_t n, cap;
} kb_refs;

/* Finds the family references `{{name}}` of the pattern SRC[0..LEN) (NUL-terminated;
 * scalar N of DOC) and records them in *OUT (malloc'd: the caller frees OUT->v), expanding
 * first any family they name that is not expanded yet. A `{{` after an odd number of
 * backslashes is two literal braces; anywhere else (a character class too) it starts a
 * reference. Returns false after reporting a malformed reference, an unknown name or a
 * family that uses itself, or when a family named is bad itself (reported where it is
 * written), or on L->nomem. With COUNT, each family's `uses` grows. */
static bool kb_refs_scan(kb_loader *L, const eng_doc *doc, const eng_node *n,
                         const char *src, size_t len, kb_refs *out, bool count)
{
	bool ok = true;
	for (const char *p = kb_braces(src, len); p && !L->nomem;
	     p = kb_braces(p, len - (size_t)(p - src))) {
		size_t i = (size_t)(p - src), bs = 0;
		while (bs < i && src[i - 1 - bs] == '\\')
			bs++;
		if (bs & 1) {
			p++;            /* `\{`: the next brace may start one */
			continue;
		}
		size_t nl = kb_fam_name(p + 2, len - i - 2);
		size_t end = i + 2 + nl;
		if (nl == 0 || end + 1 >= len || src[end] != '}' || src[end + 1] != '}') {
			kb_error_in(L, doc, n, i, 2, "`{{` starts a family reference such as "
			            "`{{must}}`; write `\\{{` for two literal braces");
			ok = false;
			p += 2;
			continue;
		}
		size_t rlen = end + 2 - i;
		p += rlen;
		long f = kb_family_find(L->k, src + i + 2, nl);
		if (f < 0) {
			char name[64], hint[KB_HINT_MAX];
			snprintf(name, sizeof(name), "%.*s", (int)nl, src + i + 2);
			const char **names = malloc((L->k->nfamilies + 1) * sizeof(*names));
			if (!names) {
				L->nomem = true;
				break;
			}
			for (uint32_t k = 0; k < L->k->nfamilies; k++)
				names[k] = L->k->families[k].name;
			kb_error_in(L, doc, n, i, (uint32_t)rlen, "unknown family `%s`%s", name,
			            kb_hint(hint, sizeof(hint), name, names, L->k->nfamilies));
			free(names);
			ok = false;
			continue;
		}
		if (L->famsrcs[f].state == 1) {
			kb_error_in(L, doc, n, i, (uint32_t)rlen, "family `%s` uses itself",
			            L->k->families[f].name);
			ok = false;
			continue;
		}
		if (L->famsrcs[f].state == 0)
			kb_family_resolve(L, (uint32_t)f);
		if (!L->k->families[f].expanded) {
			ok = false;     /* reported where the family is written */
			continue;
		}
		if (count)
			L->k->families[f].uses++;
		if (out->n == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 8;
			kb_ref *v = realloc(out->v, cap * sizeof(*v));
			if (!v) {
				L->nomem = true;
				break;
			}
			out->v = v;
			out->cap = cap;
		}
		out->v[out->n++] = (kb_ref){ 0, 0, i, rlen, (uint32_t)f };
	}
	return ok && !L->nomem;
}

/* SRC[0..LEN) with each of its references REFS (from kb_refs_scan, whose expansion
 * offsets this fills in) replaced by `(?:` + the family's expansion + `)`: a malloc'd
 * string, or NULL when out of memory. */
static char *kb_refs_expand(const kb *k, const char *src, size_t len, kb_refs *refs)
{
	byte_buf b = { NULL, 0, 0, false };
	size_t lit = 0;
	for (size_t r = 0; r < refs->n; r++) {
		kb_ref *ref = &refs->v[r];
		const char *x = k->families[ref->fam].expanded;
		byte_put(&b, src + lit, ref->src_at - lit);
		ref->exp_at = b.n;
		byte_put(&b, "(?:", 3);
		byte_put(&b, x, strlen(x));
		byte_put(&b, ")", 1);
		ref->exp_len = b.n - ref->exp_at;
		lit = ref->src_at + ref->src_len;
	}
	byte_put(&b, src + lit, len - lit);
	byte_put(&b, "", 1);
	if (b.nomem) {
		free(b.p);
		return NULL;
	}
	return (char *)b.p;
}

/* Checks the fragment of family F as written: no named group (a pattern using the family
 * twice would declare the name twice), parentheses that balance (so that `(?:` and `)`
 * around it cannot be escaped). Reports and returns false otherwise. */
static bool kb_family_check(kb_loader *L, const kb_famsrc *fs, const char *p, size_t len)
{
	int depth = 0;
	for (size_t i = 0; i < len;) {
		size_t j = kb_rx_skip(p, len, i);
		if (j != i) {
			i = j;
			continue;
		}
		if (p[i] == '(') {
			bool named = (i + 2 < len && p[i + 1] == '?' && p[i + 2] == '\'') ||
			             (i + 3 < len && p[i + 1] == '?' && p[i + 2] == 'P' && p[i + 3] == '<') ||
			             (i + 3 < len && p[i + 1] == '?' && p[i + 2] == '<' && p[i + 3] != '=' &&
			              p[i + 3] != '!');
			if (named) {
				kb_error_in(L, fs->doc, fs->node, i, 1, "a family must not hold a named "
				            "group (a pattern using it twice would name two groups alike); "
				            "write `(?:...)`");
				return false;
			}
			depth++;
		} else if (p[i] == ')' && --depth < 0) {
			kb_error_in(L, fs->doc, fs->node, i, 1, "this `)` closes a group the family "
			            "did not open");
			return false;
		}
		i++;
	}
	if (depth > 0) {
		kb_error_in(L, fs->doc, fs->node, len, 1, "the family leaves %d group%s open", depth,
		            depth == 1 ? "" : "s");
		return false;
	}
	return true;
}

/* Expands family I (and the families it uses, first), leaving its `expanded` NULL when it
 * is bad. */
static void kb_family_resolve(kb_loader *L, uint32_t i)
{
	kb_famsrc *fs = &L->famsrcs[i];
	kb_family *f = &L->k->families[i];
	if (fs->state)
		return;
	fs->state = 1;
	const char *what = L->ctx_what, *id = L->ctx_id;
	uint32_t line = L->ctx_line;
	L->ctx_what = "family";
	L->ctx_id = f->name;
	L->ctx_line = f->line;
	size_t len = strlen(f->pattern);
	kb_refs refs = { NULL, 0, 0 };
	if (kb_family_check(L, fs, f->pattern, len) &&
	    kb_refs_scan(L, fs->doc, fs->node, f->pattern, len, &refs, false)) {
		char *x = kb_refs_expand(L->k, f->pattern, len, &refs);
		f->expanded = x ? kb_strndup(L->m, x, strlen(x)) : NULL;
		if (!f->expanded)
			L->nomem = true;
		free(x);
	}
	free(refs.v);
	fs->state = 2;
	L->ctx_what = what;
	L->ctx_id = id;
	L->ctx_line = line;
}

/* Reads a `families:` section: a mapping of family names to PCRE2 fragments. */
static void kb_families(kb_loader *L, const eng_node *n)
{
	char found[KB_FOUND_MAX];
	if (eng_node_kind_of(n) != ENG_NODE_MAP) {
		if (eng_node_kind_of(n) == ENG_NODE_SCALAR && eng_node_text(n, NULL)[0] == '\0' &&
		    !eng_node_quoted(n))
			return;
		kb_error(L, n, "`families` must be a mapping of `name: pattern`, found %s",
		         eng_node_describe(n, found, sizeof(found)));
		return;
	}
	kb *k = L->k;
	for (size_t i = 0; i < eng_node_size(n) && !L->nomem; i++) {
		const eng_node *key = eng_node_key(n, i), *v = eng_node_value(n, i);
		size_t nlen, plen;
		const char *name = kb_scalar(L, key, "a family name", &nlen);
		if (!name)
			continue;
		if (nlen == 0 || kb_fam_name(name, nlen) != nlen) {
			kb_error(L, key, "a family name must be lowercase letters, digits, `-` and `_`, "
			         "starting with a letter, found %s",
			         eng_node_describe(key, found, sizeof(found)));
			continue;
		}
		long dup = kb_family_find(k, name, nlen);
		if (dup >= 0) {
			kb_duplicate(L, key, "family", k->families[dup].name, k->families[dup].file,
			             k->families[dup].line);
			continue;
		}
		const char *pat = kb_scalar(L, v, "a family's pattern", &plen);
		if (!pat)
			continue;
		if (plen == 0 || strlen(pat) != plen) {
			kb_error(L, v, "a family's pattern must be a non-empty regular expression, "
			         "found %s", eng_node_describe(v, found, sizeof(found)));
			continue;
		}
		if (!kb_grow((void **)&k->families, k->nfamilies, &L->m->capfamilies,
		             sizeof(*k->families)) ||
		    !kb_grow((void **)&L->famsrcs, k->nfamilies, &L->capfamsrcs,
		             sizeof(*L->famsrcs))) {
			L->nomem = true;
			return;
		}
		kb_family *f = &k->families[k->nfamilies];
		memset(f, 0, sizeof(*f));
		f->name = kb_strndup(L->m, name, nlen);
		f->pattern = kb_strndup(L->m, pat, plen);
		f->file = L->file;
		f->line = eng_node_line(key);
		f->col = eng_node_col(key);
		if (!f->name || !f->pattern) {
			L->nomem = true;
			return;
		}
		L->famsrcs[k->nfamilies++] = (kb_famsrc){ L->doc, v, 0 };
	}
}

/* Compiles the `match:` pattern in scalar N with its family references expanded; reports
 * a bad one at the offending character of the pattern as written (at the reference, when
 * the problem lies inside a family's text). *SRC gets the pattern as written.
 *
 * The compiled cache knows such a pattern by the text as written plus a hash of every
 * family (L->famhash), so that a warm start checks the references but never expands
 * them, and a changed family can never bring back a pattern compiled from the old one. */
static rx *kb_lex_pattern(kb_loader *L, const eng_node *n, const char **src)
{
	char err[256];
	size_t len, off = 0;
	const char *t = eng_node_kind_of(n) == ENG_NODE_SCALAR ? eng_node_text(n, &len) : NULL;
	if (!t || len < 4 || !kb_braces(t, len) || strlen(t) != len)
		return kb_pattern(L, n, "`match`", src);
	kb_refs refs = { NULL, 0, 0 };
	if (!kb_refs_scan(L, L->doc, n, t, len, &refs, true)) {
		free(refs.v);
		return NULL;
	}
	char *key = kb_alloc(L->m, len + 18);
	if (!key) {
		free(refs.v);
		L->nomem = true;
		return NULL;
	}
	memcpy(key, t, len);
	key[len] = '\x01';
	memcpy(key + len + 1, L->famhash, 16);
	key[len + 17] = '\0';
	rx *r = kb_regex_cached(L, key);
	if (r)
		kb_regex_record(L, r, key);     /* for a cache written again */
	if (!r) {
		char *x = kb_refs_expand(L->k, t, len, &refs);
		if (!x) {
			free(refs.v);
			L->nomem = true;
			return NULL;
		}
		r = rx_compile(x, &L->k->limits.rx, err, sizeof(err), &off);
		bool nomem = !r && errno == ENOMEM;
		free(x);
		if (nomem) {
			free(refs.v);
			L->nomem = true;
			return NULL;
		}
		if (!r) {
			size_t so = off;
			const kb_ref *in = NULL;
			for (size_t i = 0; i < refs.n && !in; i++) {
				if (off >= refs.v[i].exp_at + refs.v[i].exp_len)
					so = so - refs.v[i].exp_len + refs.v[i].src_len;
				else if (off >= refs.v[i].exp_at)
					in = &refs.v[i];
				else
					break;
			}
			if (in)
				kb_error_in(L, L->doc, n, in->src_at, (uint32_t)in->src_len,
				            "invalid regular expression in `match`, inside family `%s`: %s",
				            L->k->families[in->fam].name, err);
			else
				kb_error_in(L, L->doc, n, so, 1, "invalid regular expression in `match`: "
				            "%s (at offset %zu)", err, so);
			free(refs.v);
			return NULL;
		}
		kb_regex_record(L, r, key);
	}
	free(refs.v);
	*src = kb_strndup(L->m, t, len);
	if (!*src)
		L->nomem = true;
	return r;
}

/* ---- catalog ---- */

void kb_efact_record(kb_loader *L, uint32_t entity, eng_sym attr, eng_value val)
{
	if (!L->cache_path || L->no_write)
		return;
	if (!kb_grow((void **)&L->efacts, L->nefacts, &L->capefacts, sizeof(*L->efacts)))
		L->no_write = true;     /* a cache is a luxury: the load goes on */
	else
		L->efacts[L->nefacts++] = (kb_efact){ entity, attr, val };
}

/* The `facts` N of catalog entry ENTITY (whose id is SUBJECT) to the engine. */
static void kb_entity_facts(kb_loader *L, uint32_t entity, eng_sym subject, const eng_node *n)
{
	char found[KB_FOUND_MAX];
	if (eng_node_kind_of(n) != ENG_NODE_MAP) {
		kb_error(L, n, "`facts` must be a mapping of `attribute: value`, found %s",
		         eng_node_describe(n, found, sizeof(found)));
		return;
	}
	for (size_t i = 0; i < eng_node_size(n) && !L->nomem; i++) {
		eng_sym attr = kb_attr(L, eng_node_key(n, i));
		const eng_node *v = eng_node_value(n, i);
		bool seq = eng_node_kind_of(v) == ENG_NODE_SEQ;
		size_t count = seq ? eng_node_size(v) : 1;
		if (seq && count == 0)
			kb_error(L, v, "a fact's value list is empty");
		for (size_t j = 0; j < count; j++) {
			const eng_node *it = seq ? eng_node_item(v, j) : v;
			eng_value val;
			if (!kb_value(L, it, "a fact's value", &val) || !attr || !subject)
				continue;
			eng_status st = eng_deffact_add(L->k->e, subject, attr, val);
			if (st == ENG_OK)
				kb_efact_record(L, entity, attr, val);
			else if (st == ENG_ERR_NOMEM)
				L->nomem = true;
			else if (st != ENG_OK)
				kb_error(L, it, "the engine refused this fact: %s", eng_status_str(st));
		}
	}
}

static void kb_catalog_entry(kb_loader *L, const eng_node *n)
{
	static const char *const keys[] = { "id", "name", "kind", "aliases", "facts", "cite" };
	char found[KB_FOUND_MAX];
	kb_enter(L, "catalog entry", n);
	if (!kb_keys(L, n, "a catalog entry", keys, KB_COUNT(keys), "111000")) {
		kb_leave(L);
		return;
	}
	kb *k = L->k;
	if (!kb_grow((void **)&k->entities, k->nentities, &L->m->capentities,
	             sizeof(kb_entity))) {
		L->nomem = true;
		return;
	}
	uint32_t idx = k->nentities++;
	kb_entity *ent = &k->entities[idx];
	memset(ent, 0, sizeof(*ent));
	ent->file = L->file;
	ent->line = eng_node_line(n);
	ent->col = eng_node_col(n);
	const eng_node *v;
	if ((v = eng_node_get(n, "id")) && (ent->id = kb_ident(L, v, "an entity id", true))) {
		long i = kb_id_first(L, &L->entity_ids, ent->id, idx);
		if (i >= 0)
			kb_duplicate(L, v, "entity id", ent->id, k->entities[i].file,
			             k->entities[i].line);
		ent->sym = eng_intern(k->e, ent->id, strlen(ent->id));
		if (!ent->sym)
			L->nomem = true;
	}
	if ((v = eng_node_get(n, "name")))
		ent->name = kb_text(L, v, "`name`");
	if ((v = eng_node_get(n, "kind"))) {
		int t = kb_choice(L, v, "`kind`", kb_kinds, KB_COUNT(kb_kinds));
		if (t >= 0)
			ent->kind = kb_kinds[t];
	}
	if ((v = eng_node_get(n, "aliases"))) {
		bool seq = eng_node_kind_of(v) == ENG_NODE_SEQ;
		size_t count = seq ? eng_node_size(v) : 1;
		if (eng_node_kind_of(v) == ENG_NODE_MAP || count == 0) {
			kb_error(L, v, "`aliases` must be a list of patterns, found %s",
			         eng_node_describe(v, found, sizeof(found)));
		} else {
			ent->aliases = kb_alloc(L->m, count * sizeof(*ent->aliases));
			ent->alias_src = kb_alloc(L->m, count * sizeof(*ent->alias_src));
			if (!ent->aliases || !ent->alias_src) {
				L->nomem = true;
				kb_leave(L);
				return;
			}
			for (size_t i = 0; i < count; i++) {
				const eng_node *it = seq ? eng_node_item(v, i) : v;
				const char *src = NULL;
				rx *r = kb_pattern(L, it, "an alias", &src);
				if (r) {
					ent->aliases[ent->naliases] = r;
					ent->alias_src[ent->naliases++] = src;
				}
			}
		}
	}
	if ((v = eng_node_get(n, "facts")))
		kb_entity_facts(L, idx, ent->sym, v);
	if ((v = eng_node_get(n, "cite")))
		kb_cites(L, v, "catalog entry", &ent->cite, &ent->ncite);
	kb_leave(L);
}

/* ---- lexicon ---- */

/* Scale table of an `assert` value: {KEY: number, ...}. */
static void kb_lex_scale(kb_loader *L, const eng_node *n, kb_lexval *lv)
{
	char found[KB_FOUND_MAX];
	size_t count = eng_node_size(n);
	if (eng_node_kind_of(n) != ENG_NODE_MAP || count == 0) {
		kb_error(L, n, "`scale` must be a mapping of factors such as {MB: 0.001, GB: 1}, "
		         "found %s", eng_node_describe(n, found, sizeof(found)));
		return;
	}
	lv->scale_keys = kb_alloc(L->m, count * sizeof(*lv->scale_keys));
	lv->scale_vals = kb_alloc(L->m, count * sizeof(*lv->scale_vals));
	if (!lv->scale_keys || !lv->scale_vals) {
		L->nomem = true;
		return;
	}
	for (size_t i = 0; i < count; i++) {
		size_t len;
		const char *key = kb_scalar(L, eng_node_key(n, i), "a scale key", &len);
		const eng_node *v = eng_node_value(n, i);
		eng_value val;
		if (!key || !kb_value(L, v, "a scale factor", &val))
			continue;
		if (val.type != ENG_NUMBER || eng_node_quoted(v)) {
			kb_error(L, v, "a scale factor must be a number, found %s",
			         eng_node_describe(v, found, sizeof(found)));
			continue;
		}
		lv->scale_keys[lv->nscale] = kb_strndup(L->m, key, len);
		if (!lv->scale_keys[lv->nscale]) {
			L->nomem = true;
			return;
		}
		lv->scale_vals[lv->nscale++] = val.u.num;
	}
}

/* The name of a capture group for key WHAT of an `assert` value; checks that the pattern
 * declares it (when the pattern compiled). A pattern from the compiled cache passed this
 * check when the cache was written (only a load without errors writes one), with the
 * same source and the same file: it is not decoded for it. */
static const char *kb_lex_group(kb_loader *L, const eng_node *n, const char *what,
                                const kb_lexeme *lx)
{
	const char *name = kb_ident(L, n, what, false);
	if (name && lx->re && !rx_is_stored(lx->re) && !rx_has_group(lx->re, name))
		kb_error(L, n, "%s `%s` is not a named group of the pattern (write `(?<%s>...)`)",
		         what, name, name);
	return name;
}

/* One value of `assert`: a constant, a list of constants or {capture, scale-by, scale}. */
static void kb_lex_value(kb_loader *L, kb_lexeme *lx, eng_sym attr, const eng_node *v,
                         kb_lexval *out, uint32_t *nout)
{
	static const char *const keys[] = { "capture", "scale-by", "scale" };
	char found[KB_FOUND_MAX];
	eng_node_kind kind = eng_node_kind_of(v);
	if (kind == ENG_NODE_MAP) {
		if (!kb_keys(L, v, "a captured value", keys, KB_COUNT(keys), "100"))
			return;
		kb_lexval *lv = &out[(*nout)++];
		lv->attr = attr;
		lv->from_capture = true;
		const eng_node *c = eng_node_get(v, "capture");
		const eng_node *by = eng_node_get(v, "scale-by");
		const eng_node *sc = eng_node_get(v, "scale");
		if (c)
			lv->capture = kb_lex_group(L, c, "`capture`", lx);
		if (by)
			lv->scale_by = kb_lex_group(L, by, "`scale-by`", lx);
		if (sc)
			kb_lex_scale(L, sc, lv);
		if (by && !sc)
			kb_error(L, by, "`scale-by` needs a `scale` table beside it");
		if (sc && !by)
			kb_error(L, sc, "`scale` needs `scale-by` (the group that picks the factor)");
		return;
	}
	bool seq = kind == ENG_NODE_SEQ;
	size_t count = seq ? eng_node_size(v) : 1;
	if (seq && count == 0)
		kb_error(L, v, "a value list is empty, found %s", eng_node_describe(v, found, sizeof(found)));
	for (size_t j = 0; j < count; j++) {
		const eng_node *it = seq ? eng_node_item(v, j) : v;
		eng_value val;
		if (!kb_value(L, it, "a lexicon value", &val))
			continue;
		kb_lexval *lv = &out[(*nout)++];
		lv->attr = attr;
		lv->k = val;
	}
}

static void kb_lex_assert(kb_loader *L, kb_lexeme *lx, const eng_node *n)
{
	char found[KB_FOUND_MAX];
	if (eng_node_kind_of(n) != ENG_NODE_MAP || eng_node_size(n) == 0) {
		kb_error(L, n, "`assert` must be a mapping of `attribute: value`, found %s",
		         eng_node_describe(n, found, sizeof(found)));
		return;
	}
	size_t cap = 0;
	for (size_t i = 0; i < eng_node_size(n); i++) {
		const eng_node *v = eng_node_value(n, i);
		cap += eng_node_kind_of(v) == ENG_NODE_SEQ ? eng_node_size(v) : 1;
	}
	lx->vals = kb_alloc(L->m, cap * sizeof(*lx->vals));
	if (!lx->vals) {
		L->nomem = true;
		return;
	}
	for (size_t i = 0; i < eng_node_size(n) && !L->nomem; i++) {
		eng_sym attr = kb_attr(L, eng_node_key(n, i));
		if (attr)
			kb_lex_value(L, lx, attr, eng_node_value(n, i), lx->vals, &lx->nvals);
	}
}

/* `drops:` of a `negates: need` cue N: a list of attribute names, each may hold `*`. */
static void kb_lex_drops(kb_loader *L, kb_lexeme *lx, const eng_node *n)
{
	if (lx->negates != LEX_NEG_NEED) {
		kb_error(L, n, "`drops` belongs to a lexicon entry with `negates: need`");
		return;
	}
	if (eng_node_kind_of(n) != ENG_NODE_SEQ || eng_node_size(n) == 0) {
		kb_error(L, n, "`drops` must be a list of attribute names");
		return;
	}
	lx->drops = kb_alloc(L->m, eng_node_size(n) * sizeof(*lx->drops));
	if (!lx->drops) {
		L->nomem = true;
		return;
	}
	for (size_t i = 0; i < eng_node_size(n); i++) {
		const eng_node *item = eng_node_item(n, i);
		size_t len = 0;
		const char *t = eng_node_kind_of(item) == ENG_NODE_SCALAR ? eng_node_text(item, &len)
		                                                          : NULL;
		if (!t || !len || strlen(t) != len) {
			kb_error(L, item, "`drops` must be a list of attribute names");
			return;
		}
		if (!(lx->drops[lx->ndrops++] = kb_strndup(L->m, t, len))) {
			L->nomem = true;
			return;
		}
	}
}

/* Marks each lexicon fact whose attribute a `negates: need` cue drops (fnmatch) with that
 * cue's bit: a cue's clause drops only what its own `drops:` lists. */
static void kb_mark_deniable(kb_loader *L)
{
	kb *k = L->k;
	for (uint32_t c = 0; c < k->nlexicon; c++) {
		const kb_lexeme *cue = &k->lexicon[c];
		for (uint32_t d = 0; d < cue->ndrops; d++)
			for (uint32_t i = 0; i < k->nlexicon; i++)
				for (uint32_t j = 0; j < k->lexicon[i].nvals; j++) {
					kb_lexval *v = &k->lexicon[i].vals[j];
					if (fnmatch(cue->drops[d], eng_sym_name(k->e, v->attr), 0) == 0)
						v->denied_by |= (uint32_t)1 << cue->cue;
				}
	}
}

static void kb_lexicon_entry(kb_loader *L, const eng_node *n)
{
	static const char *const keys[] = { "id", "match", "assert", "scope", "negates", "drops" };
	kb_enter(L, "lexicon entry", n);
	if (!kb_keys(L, n, "a lexicon entry", keys, KB_COUNT(keys), "110000")) {
		kb_leave(L);
		return;
	}
	kb *k = L->k;
	if (!kb_grow((void **)&k->lexicon, k->nlexicon, &L->m->caplexicon, sizeof(kb_lexeme))) {
		L->nomem = true;
		return;
	}
	uint32_t idx = k->nlexicon++;
	kb_lexeme *lx = &k->lexicon[idx];
	memset(lx, 0, sizeof(*lx));
	lx->file = L->file;
	lx->line = eng_node_line(n);
	lx->col = eng_node_col(n);
	const eng_node *v;
	if ((v = eng_node_get(n, "id")) && (lx->id = kb_ident(L, v, "a lexicon id", false))) {
		long i = kb_id_first(L, &L->lexicon_ids, lx->id, idx);
		if (i >= 0)
			kb_duplicate(L, v, "lexicon id", lx->id, k->lexicon[i].file,
			             k->lexicon[i].line);
	}
	if ((v = eng_node_get(n, "match")))
		lx->re = kb_lex_pattern(L, v, &lx->pattern);
	if ((v = eng_node_get(n, "scope"))) {
		int s = kb_choice(L, v, "`scope`", kb_scopes, KB_COUNT(kb_scopes));
		lx->scope = s == 1 ? LEX_STEM : s == 2 ? LEX_OPTION : LEX_ANY;
	}
	if ((v = eng_node_get(n, "negates"))) {
		int c = kb_choice(L, v, "`negates`", kb_negates, KB_COUNT(kb_negates));
		lx->negates = c == 0   ? LEX_NEG_CLAUSE
		              : c == 1 ? LEX_NEG_NEED
		              : c == 2 ? LEX_NEG_SPAN
		                       : LEX_NEG_NONE;
	}
	if (lx->negates == LEX_NEG_NEED) {
		if (L->ncues >= KB_MAX_NEED_CUES)
			kb_error(L, n, "more than %d lexicon entries with `negates: need`",
			         KB_MAX_NEED_CUES);
		lx->cue = (uint8_t)(L->ncues++ % KB_MAX_NEED_CUES);
	}
	if ((v = eng_node_get(n, "assert")))
		kb_lex_assert(L, lx, v);
	else if (lx->negates != LEX_NEG_NEED && lx->negates != LEX_NEG_SPAN)
		/* a need cue may only drop facts, a span only set entities aside */
		kb_error(L, n, "a lexicon entry is missing `assert`");
	if ((v = eng_node_get(n, "drops")))
		kb_lex_drops(L, lx, v);
	else if (lx->negates == LEX_NEG_NEED)
		kb_error(L, n, "a lexicon entry with `negates: need` is missing `drops`");
	kb_leave(L);
}

/* ---- sections ---- */

/* Calls ENTRY for each item of the list N (section NAME). */
static void kb_section(kb_loader *L, const char *name, const eng_node *n,
                       void (*entry)(kb_loader *, const eng_node *))
{
	char found[KB_FOUND_MAX];
	if (eng_node_kind_of(n) != ENG_NODE_SEQ) {
		if (eng_node_kind_of(n) == ENG_NODE_SCALAR && eng_node_text(n, NULL)[0] == '\0' &&
		    !eng_node_quoted(n))
			return;         /* `catalog:` with nothing under it */
		kb_error(L, n, "`%s` must be a list of entries, found %s", name,
		         eng_node_describe(n, found, sizeof(found)));
		return;
	}
	for (size_t i = 0; i < eng_node_size(n) && !L->nomem; i++)
		entry(L, eng_node_item(n, i));
}

/* Records the `cite` lists of the rules in section N; the engine checks everything else
 * about them. */
static void kb_rule_cites(kb_loader *L, const eng_node *n)
{
	if (eng_node_kind_of(n) != ENG_NODE_SEQ)
		return;
	for (size_t i = 0; i < eng_node_size(n) && !L->nomem; i++) {
		const eng_node *r = eng_node_item(n, i);
		const eng_node *cite = eng_node_kind_of(r) == ENG_NODE_MAP ?
		                       eng_node_get(r, "cite") : NULL;
		if (!cite || (eng_node_kind_of(cite) == ENG_NODE_SEQ && !eng_node_size(cite)) ||
		    eng_node_kind_of(cite) == ENG_NODE_MAP)
			continue;       /* the engine reports it */
		kb_enter(L, "rule", r);
		kb_cites(L, cite, "rule", NULL, NULL);
		kb_leave(L);
	}
}

void kb_read_doc(kb_loader *L, const eng_doc *doc)
{
	const eng_node *root = eng_doc_root(doc);
	if (!root || eng_node_kind_of(root) != ENG_NODE_MAP)
		return;         /* empty, or reported by the engine */
	for (size_t i = 0; i < eng_node_size(root) && !L->nomem; i++) {
		const char *name = eng_node_text(eng_node_key(root, i), NULL);
		const eng_node *v = eng_node_value(root, i);
		if (!name)
			continue;
		if (strcmp(name, "sources") == 0) {
			if (!L->sources_file)
				L->sources_file = L->file;
			kb_section(L, name, v, kb_source_entry);
		} else if (strcmp(name, "catalog") == 0) {
			kb_section(L, name, v, kb_catalog_entry);
		} else if (L->flat && (strcmp(name, "lexicon") == 0 ||
		                       strcmp(name, "families") == 0)) {
			/* the cache's image gives them (kb_image.c) */
		} else if (strcmp(name, "lexicon") == 0) {
			/* read once every file is in: kb_read_lexicons */
			if (!kb_grow((void **)&L->lexsecs, L->nlexsecs, &L->caplexsecs,
			             sizeof(*L->lexsecs)))
				L->nomem = true;
			else
				L->lexsecs[L->nlexsecs++] = (kb_lexsec){ doc, L->file, v };
		} else if (strcmp(name, "families") == 0) {
			kb_families(L, v);
		} else if (strcmp(name, "rules") == 0 && !L->flat) {
			kb_rule_cites(L, v);
		}
	}
}

void kb_read_lexicons(kb_loader *L)
{
	/* every family's name and expansion, hashed for the cache keys (kb_lex_pattern) */
	byte_buf all = { NULL, 0, 0, false };
	for (uint32_t i = 0; i < L->k->nfamilies && !L->nomem; i++) {
		kb_family_resolve(L, i);
		const kb_family *f = &L->k->families[i];
		const char *x = f->expanded ? f->expanded : "";
		byte_put(&all, f->name, strlen(f->name) + 1);
		byte_put(&all, x, strlen(x) + 1);
	}
	if (all.nomem)
		L->nomem = true;
	uint64_t h = kbc_hash(all.p, all.n);
	free(all.p);
	snprintf(L->famhash, sizeof(L->famhash), "%016llx", (unsigned long long)h);
	for (uint32_t i = 0; i < L->nlexsecs && !L->nomem; i++) {
		L->doc = L->lexsecs[i].doc;
		L->file = L->lexsecs[i].file;
		kb_section(L, "lexicon", L->lexsecs[i].node, kb_lexicon_entry);
	}
	L->doc = NULL;
	kb_mark_deniable(L);
}
