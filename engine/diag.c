/* SPDX-License-Identifier: MIT */
/*
 * diag.c - diagnostics as data: a list of eng_diag, each owning copies of its strings.
 * Errors are kept up to a cap (the list says when it dropped some); warnings and notes are
 * always kept and do not count toward the cap. (eng_status_str is in engine.c.)
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIAG_DEFAULT_CAP 100

/* One entry: the public view and the block that holds its strings. */
typedef struct {
	eng_diag d;
	char *mem;
} diag_item;

struct eng_diags {
	diag_item *items;
	size_t n, alloc;
	size_t max_errors;
	size_t errors;          /* errors kept */
	bool truncated;
};

/* A new empty list keeping at most CAP errors (0: 100). NULL when out of memory;
 * the caller frees it with eng_diags_free. */
eng_diags *eng_diags_new(size_t cap)
{
	eng_diags *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->max_errors = cap ? cap : DIAG_DEFAULT_CAP;
	return d;
}

/* Frees the list and every string it holds. NULL is allowed. */
void eng_diags_free(eng_diags *d)
{
	if (!d)
		return;
	eng_diags_clear(d);
	free(d->items);
	free(d);
}

/* Entries of every severity; 0 for NULL. */
size_t eng_diags_count(const eng_diags *d)
{
	return d ? d->n : 0;
}

/* The number of errors in the list (not counting those dropped past the cap). */
size_t eng_diags_errors(const eng_diags *d)
{
	return d ? d->errors : 0;
}

/* Entry I, valid until the list is cleared or freed; NULL when out of range. */
const eng_diag *eng_diags_get(const eng_diags *d, size_t i)
{
	return d && i < d->n ? &d->items[i].d : NULL;
}

/* Whether errors past the cap were dropped since the last clear. */
bool eng_diags_truncated(const eng_diags *d)
{
	return d && d->truncated;
}

/* Frees every entry; the list keeps its cap and can be reused. */
void eng_diags_clear(eng_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->items[i].mem);
	d->n = 0;
	d->errors = 0;
	d->truncated = false;
}

/* Copies S (NULL allowed) into *P, advancing it; returns the copy or NULL. */
static const char *diag_put(char **p, const char *s, size_t len)
{
	if (!s)
		return NULL;
	char *out = *p;
	memcpy(out, s, len);
	out[len] = '\0';
	*p += len + 1;
	return out;
}

/* The whole entry lives in one allocation: file, message, context and source, each
 * NUL-terminated, so freeing the entry is one free(). */
eng_status eng_diags_add(eng_diags *d, eng_severity sev, const char *file, uint32_t line,
                         uint32_t col, uint32_t span, const char *source,
                         const char *context, const char *fmt, ...)
{
	if (!d || !fmt)
		return ENG_ERR_INVALID;
	if (sev == ENG_SEV_ERROR && d->errors >= d->max_errors) {
		d->truncated = true;
		return ENG_OK;
	}
	if (d->n == d->alloc) {
		size_t alloc = d->alloc ? d->alloc * 2 : 16;
		diag_item *items = realloc(d->items, alloc * sizeof(*items));
		if (!items)
			return ENG_ERR_NOMEM;
		d->items = items;
		d->alloc = alloc;
	}

	va_list ap;
	va_start(ap, fmt);
	int mlen = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (mlen < 0)
		return ENG_ERR_INVALID;
	if (!file)
		file = "";
	size_t flen = strlen(file);
	size_t clen = context ? strlen(context) : 0;
	size_t slen = source ? strlen(source) : 0;
	char *mem = malloc(flen + (size_t)mlen + clen + slen + 4);
	if (!mem)
		return ENG_ERR_NOMEM;

	char *p = mem;
	diag_item *it = &d->items[d->n];
	it->mem = mem;
	it->d.severity = sev;
	it->d.line = line;
	it->d.col = col;
	it->d.span = line > 0 && span == 0 ? 1 : span;
	it->d.file = diag_put(&p, file, flen);
	it->d.message = p;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)mlen + 1, fmt, ap);
	va_end(ap);
	p += mlen + 1;
	it->d.context = diag_put(&p, context, clen);
	it->d.source = diag_put(&p, source, slen);

	d->n++;
	if (sev == ENG_SEV_ERROR)
		d->errors++;
	return ENG_OK;
}

/* ---- message helpers shared by every loader ---- */

#define DIAG_QUOTE_MAX 40

/* Optimal string alignment distance (edits, with adjacent transpositions), or a value
 * above 2 as soon as it cannot be 2 or less. */
static size_t diag_distance(const char *a, size_t la, const char *b, size_t lb)
{
	enum { MAXW = 32 };
	if (la > MAXW || lb > MAXW || (la > lb ? la - lb : lb - la) > 2)
		return 3;
	size_t d[MAXW + 1][MAXW + 1];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < best)
				best = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* The index of the candidate closest to WORD within distance 2 (and closer than its own
 * length, so that short words do not match everything), or -1. */
long eng_suggest(const char *word, size_t len, const char *const *cands, size_t n)
{
	long best = -1;
	size_t bestd = 3;
	for (size_t i = 0; i < n; i++) {
		size_t cl = strlen(cands[i]);
		size_t dist = diag_distance(word, len, cands[i], cl);
		if (dist < bestd && dist < cl) {
			best = (long)i;
			bestd = dist;
		}
	}
	return best;
}

/* Writes the "did you mean" suffix for WORD into BUF (or ""); returns BUF. */
const char *eng_hint(char *buf, size_t size, const char *word, size_t len,
                     const char *const *cands, size_t n)
{
	long best = eng_suggest(word, len, cands, n);
	if (best >= 0)
		snprintf(buf, size, " (did you mean `%s`?)", cands[best]);
	else if (size)
		buf[0] = '\0';
	return buf;
}

/* Writes how N reads in a "found ..." phrase into BUF; returns BUF. */
const char *eng_node_describe(const eng_node *n, char *buf, size_t size)
{
	size_t len;
	const char *t = eng_node_text(n, &len);
	if (!t) {
		snprintf(buf, size, "%s %s", eng_node_size(n) ? "a" : "an empty",
		         eng_node_kind_of(n) == ENG_NODE_SEQ ? "list" : "mapping");
		return buf;
	}
	if (len == 0 && !eng_node_quoted(n)) {
		snprintf(buf, size, "nothing");
		return buf;
	}
	size_t cut = len;
	const char *nl = memchr(t, '\n', len);
	if (nl)
		cut = (size_t)(nl - t);
	if (cut > DIAG_QUOTE_MAX) {
		cut = DIAG_QUOTE_MAX;
		while (cut > 0 && ((unsigned char)t[cut] & 0xC0) == 0x80)
			cut--;
	}
	const char *q = eng_node_quoted(n) ? "\"" : "";
	snprintf(buf, size, "`%s%.*s%s%s`", q, (int)cut, t, cut < len ? "..." : "", q);
	return buf;
}

/* Whether N is a plain scalar spelling WORD (a quoted "not" is a name, not a keyword). */
