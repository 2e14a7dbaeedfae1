/* SPDX-License-Identifier: MIT */
/*
 * extract.c - the lexicon and the catalog aliases run over one piece of text.
 *
 * Lexicon entries are independent: each pattern is run over the whole text, match after
 * match, and every match asserts the entry's facts. Catalog aliases compete: "Kinesis
 * Data Firehose" must not also count as "Kinesis", so every match of every alias is
 * collected first, then kept longest first (the earlier entity on a tie), dropping any that
 * overlaps text already claimed. Finally a fact found twice keeps its earliest span, and
 * the facts of one call come out in text order.
 */
#include "extract.h"
#include "rxlit.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An alias match waiting for overlap resolution. */
typedef struct {
	size_t start, end;
	uint32_t entity;
} x_cand;

typedef struct {
	x_cand *v;
	size_t n, cap;
} x_cands;

/* ---- output ---- */

/* Makes room in *V (N elements of ELEM bytes, *CAP allocated) for one more, doubling.
 * Returns false when out of memory (*V is then unchanged). */
static bool x_grow(void **v, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 16;
	void *p = realloc(*v, c * elem);
	if (!p)
		return false;
	*v = p;
	*cap = c;
	return true;
}

/* Adds a fact to OUT unless (attr, value) is already among OUT->v[BASE..n); then the
 * earlier of the two spans is kept. */
static eng_status x_add(xfacts *out, size_t base, const xfact *f)
{
	for (size_t i = base; i < out->n; i++) {
		xfact *g = &out->v[i];
		if (g->attr == f->attr && g->subject == f->subject && eng_value_eq(g->value, f->value)) {
			bool negated = g->negated && f->negated;   /* once named plainly, it is */
			if (f->start < g->start)
				*g = *f;
			g->negated = negated;
			return ENG_OK;
		}
	}
	if (!x_grow((void **)&out->v, &out->cap, out->n, sizeof(*out->v)))
		return ENG_ERR_NOMEM;
	out->v[out->n++] = *f;
	return ENG_OK;
}

static int x_cmp_fact(const void *a, const void *b)
{
	const xfact *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;
	if (x->source != y->source)
		return x->source < y->source ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* ---- captured values ---- */

/* Reads S[0..N) as a number: [+-] digits (with "," between groups of three) [. digits].
 * Returns false if it is anything else. */
static bool x_number(const char *s, size_t n, double *out)
{
	char buf[64];
	size_t o = 0, i = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		buf[o++] = s[i++];
	size_t digits = 0, group = 0;
	bool commas = false;
	for (; i < n && o < sizeof(buf) - 1; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			buf[o++] = s[i];
			digits++;
			group++;
		} else if (s[i] == ',' && digits > 0 && (!commas ? group <= 3 : group == 3)) {
			commas = true;
			group = 0;
		} else {
			break;
		}
	}
	if (digits == 0 || (commas && group != 3))
		return false;
	if (i < n && s[i] == '.') {
		buf[o++] = s[i++];
		size_t frac = 0;
		for (; i < n && s[i] >= '0' && s[i] <= '9' && o < sizeof(buf) - 1; i++, frac++)
			buf[o++] = s[i];
		if (frac == 0)
			return false;
	}
	if (i != n)
		return false;
	buf[o] = '\0';
	*out = strtod(buf, NULL);
	return true;
}

/* The number set right after an entity's name ending at T[AT], as configuration writes it:
 * "num_trees=100", "num_trees: 100", "\"k\": \"12\"", "max_depth = 6" (a closing quote of
 * the name, '=' or ':', an opening quote of the value; no exponent). Returns where the
 * number ends and its value in *V, or 0 when no number is set there. */
static size_t x_setting(const char *t, size_t len, size_t at, double *v)
{
	size_t i = at;
	if (i < len && (t[i] == '"' || t[i] == '\'' || t[i] == '`'))
		i++;
	while (i < len && t[i] == ' ')
		i++;
	if (i >= len || (t[i] != '=' && t[i] != ':'))
		return 0;
	for (i++; i < len && t[i] == ' '; i++)
		;
	if (i < len && (t[i] == '"' || t[i] == '\''))
		i++;
	size_t s = i;
	if (i < len && (t[i] == '-' || t[i] == '+'))
		i++;
	while (i < len && ((t[i] >= '0' && t[i] <= '9') ||
	                   ((t[i] == ',' || t[i] == '.') && i + 1 < len && t[i + 1] >= '0' &&
	                    t[i + 1] <= '9')))
		i++;
	bool word_goes_on = i < len && (isalnum((unsigned char)t[i]) || t[i] == '_');
	return !word_goes_on && x_number(t + s, i - s, v) ? i : 0;
}

/* Whether S[0..N) equals the NUL-terminated KEY, ignoring ASCII case. */
static bool x_caseless_eq(const char *s, size_t n, const char *key)
{
	size_t i = 0;
	for (; i < n && key[i]; i++) {
		char a = s[i], b = key[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return i == n && key[i] == '\0';
}

/* Reads S[0..N) as a number written in words, up to ninety-nine: "six", "twelve",
 * "twenty-four", "forty five". Returns false if it is anything else. */
static bool x_number_word(const char *s, size_t n, double *out)
{
	static const char *const units[] = {
		"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
		"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
		"seventeen", "eighteen", "nineteen"
	};
	static const char *const tens[] = {
		"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"
	};
	size_t cut = 0;   /* where a second word starts, after "-" or " " */
	while (cut < n && s[cut] != '-' && s[cut] != ' ')
		cut++;
	for (size_t u = 0; cut == n && u < sizeof(units) / sizeof(*units); u++)
		if (x_caseless_eq(s, n, units[u])) {
			*out = (double)u;
			return true;
		}
	for (size_t t = 0; t < sizeof(tens) / sizeof(*tens); t++) {
		if (!x_caseless_eq(s, cut, tens[t]))
			continue;
		double v = 20.0 + 10.0 * (double)t;
		if (cut == n) {
			*out = v;
			return true;
		}
		for (size_t u = 1; u < 10; u++)
			if (x_caseless_eq(s + cut + 1, n - cut - 1, units[u])) {
				*out = v + (double)u;
				return true;
			}
		return false;
	}
	return false;
}

/* Reads S[0..N) as a fraction said before a unit or a magnitude word: "half a" or "half
 * an" (0.5), "a quarter of a(n)" or "one quarter of a(n)" (0.25), words apart by spaces or
 * newlines ("half a kilobyte", "half a million"). Returns false if it is anything else. */
static bool x_number_fraction(const char *s, size_t n, double *out)
{
	static const struct {
		const char *const words[5];
		double value;
	} forms[] = {
		{ { "half", "a", NULL }, 0.5 },
		{ { "half", "an", NULL }, 0.5 },
		{ { "a", "quarter", "of", "a", NULL }, 0.25 },
		{ { "a", "quarter", "of", "an", NULL }, 0.25 },
		{ { "one", "quarter", "of", "a", NULL }, 0.25 },
		{ { "one", "quarter", "of", "an", NULL }, 0.25 },
	};
	for (size_t f = 0; f < sizeof(forms) / sizeof(*forms); f++) {
		size_t i = 0, w = 0;
		for (; forms[f].words[w]; w++) {
			if (w > 0) {
				size_t gap = i;
				while (i < n && (s[i] == ' ' || s[i] == '\n'))
					i++;
				if (i == gap)
					break;
			}
			size_t start = i;
			while (i < n && s[i] != ' ' && s[i] != '\n')
				i++;
			if (!x_caseless_eq(s + start, i - start, forms[f].words[w]))
				break;
		}
		if (!forms[f].words[w] && i == n) {
			*out = forms[f].value;
			return true;
		}
	}
	return false;
}

static const struct {
	const char *word;
	double factor;
} x_mag_words[] = { { "hundred", 1e2 }, { "thousand", 1e3 }, { "million", 1e6 },
		    { "billion", 1e9 } };

/* Whether the whole word WORD (any case) follows TEXT[AT] after one to four spaces or
 * newlines, with *END just past it. */
static bool x_word_after(const char *text, size_t len, size_t at, const char *word, size_t *end)
{
	size_t i = at;
	while (i < len && i - at < 4 && (text[i] == ' ' || text[i] == '\n'))
		i++;
	size_t n = strlen(word);
	if (i == at || i + n > len || !x_caseless_eq(text + i, n, word) ||
	    (i + n < len && (text[i + n] | 0x20) >= 'a' && (text[i + n] | 0x20) <= 'z'))
		return false;
	*end = i + n;
	return true;
}

/* The index in x_mag_words of the whole word that follows TEXT[AT] after one to four
 * spaces or newlines, with *END just past it; -1 when none does. */
static int x_mag_word(const char *text, size_t len, size_t at, size_t *end)
{
	for (size_t w = 0; w < sizeof(x_mag_words) / sizeof(*x_mag_words); w++)
		if (x_word_after(text, len, at, x_mag_words[w].word, end))
			return (int)w;
	return -1;
}

/* Whether TEXT[AT..LEN) goes on with " and a half", with *END just past it. */
static bool x_and_a_half(const char *text, size_t len, size_t at, size_t *end)
{
	size_t i;
	return x_word_after(text, len, at, "and", &i) && x_word_after(text, len, i, "a", &i) &&
	       x_word_after(text, len, i, "half", end);
}

/* The factor of a magnitude word that follows a number at TEXT[AT..LEN): "2 thousand"
 * reads 2000, "1.5 million" 1500000, "two hundred thousand" 200000; 1 when none follows. */
static double x_magnitude(const char *text, size_t len, size_t at)
{
	size_t end;
	int w = x_mag_word(text, len, at, &end);
	if (w < 0)
		return 1;
	double factor = x_mag_words[w].factor;
	if (factor == 1e2) {    /* "two hundred thousand": hundred before a larger word */
		int more = x_mag_word(text, len, end, &end);
		if (more >= 0 && x_mag_words[more].factor > 1e2)
			factor *= x_mag_words[more].factor;
	}
	return factor;
}

/* The value LV gives for the last match of LX over TEXT[0..LEN). Returns ENG_ERR_NOT_FOUND
 * when the fact does not apply (the group did not take part, the unit is not in the table),
 * or ENG_ERR_NOMEM. A number may be written in words up to ninety-nine ("six days"); one
 * followed by "hundred", "thousand", "million" or "billion" counts as written out ("2
 * thousand records" is 2000 records, "ten million" 10000000, "one hundred" 100, "two
 * hundred thousand" 200000), and "and a half" before those adds a half ("two and a half
 * thousand" is 2500, "six and a half hours" 6.5 hours). "Half a" and "a quarter of a" read
 * 0.5 and 0.25 ("half a kilobyte", "a quarter of a million"). */
static eng_status x_lexval(const kb *k, const kb_lexeme *lx, const kb_lexval *lv,
                           const char *text, size_t len, eng_value *out)
{
	if (!lv->from_capture) {
		*out = lv->k;
		return ENG_OK;
	}
	rx_span g;
	if (!rx_group(lx->re, lv->capture, &g))
		return ENG_ERR_NOT_FOUND;
	const char *s = text + g.start;
	size_t n = g.end - g.start;
	while (n && (*s == ' ' || *s == '\n')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n'))
		n--;
	if (n == 0)
		return ENG_ERR_NOT_FOUND;
	double num;
	if (x_number(s, n, &num) || x_number_word(s, n, &num) ||
	    x_number_fraction(s, n, &num)) {
		/* "two and a half thousand" is 2500, "two and a half" 2.5 ({{mag}} reads it) */
		size_t after = (size_t)(s + n - text), half;
		if (x_and_a_half(text, len, after, &half)) {
			num += 0.5;
			after = half;
		}
		num *= x_magnitude(text, len, after);
		if (lv->scale_by) {
			rx_span u;
			if (!rx_group(lx->re, lv->scale_by, &u))
				return ENG_ERR_NOT_FOUND;
			uint32_t i = 0;
			while (i < lv->nscale && !x_caseless_eq(text + u.start, u.end - u.start,
			                                        lv->scale_keys[i]))
				i++;
			if (i == lv->nscale)
				return ENG_ERR_NOT_FOUND;
			/* 500 * 0.001 should read 0.5, not 0.5000000000000001 */
			char buf[32];
			snprintf(buf, sizeof(buf), "%.15g", num * lv->scale_vals[i]);
			num = strtod(buf, NULL);
		}
		*out = eng_number(num);
		return ENG_OK;
	}
	if (lv->scale_by)
		return ENG_ERR_NOT_FOUND;       /* a unit without a number */
	char *low = malloc(n + 1);
	if (!low)
		return ENG_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		low[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
	low[n] = '\0';
	eng_sym sym = eng_intern(k->e, low, n);
	free(low);
	if (!sym)
		return ENG_ERR_NOMEM;
	out->type = ENG_SYMBOL;
	out->u.sym = sym;
	return ENG_OK;
}

/* ---- matching ---- */

/* Where to look after match M: its end, or one character further for an empty match. */
static size_t x_next(const char *text, size_t len, rx_span m)
{
	if (m.end > m.start)
		return m.end;
	size_t p = m.end + 1;
	while (p < len && ((unsigned char)text[p] & 0xC0) == 0x80)
		p++;
	return p;
}

/* Notes that pattern (SOURCE, INDEX, ALIAS) stopped with rx_error ERROR. */
static void x_limited(xfacts *out, xf_source source, uint32_t index, uint32_t alias,
                      int error)
{
	if (out->nlimits < X_LIMITS_KEPT)
		out->limits[out->nlimits] = (x_limit){ source, index, alias, error };
	if (out->nlimits < UINT32_MAX)
		out->nlimits++;
}

/* Whether every fact of LX is a constant: then its first match gives all it can (a later
 * match would give the same facts at a later span, and x_add keeps the earliest). */
static bool x_constant(const kb_lexeme *lx)
{
	for (uint32_t j = 0; j < lx->nvals; j++)
		if (lx->vals[j].from_capture)
			return false;
	return true;
}

/* ---- negated clauses ---- */

/* The clauses around the matches of `negates: clause` entries in one text. */
typedef struct {
	rx_span *v;
	size_t n, cap;
} x_spans;

/* Whether a clause ends before T[I]: punctuation, or a word that opens another clause
 * ("Glue cannot write it, so use EMR", "use EMR because Glue cannot", "do not use EMR and
 * run Glue"). */
static bool x_clause_break(const char *t, size_t len, size_t i)
{
	static const char *const words[] = { "because", "since", "so", "but", "while", "whereas",
	                                     "instead", "then", "and", "therefore", "which" };
	if (strchr(",;:.!?()", t[i]))   /* a line break is a wrap, not a clause */
		return true;
	if ((t[i] != ' ' && t[i] != '\n') || i + 1 >= len)
		return false;
	for (size_t w = 0; w < sizeof(words) / sizeof(*words); w++) {
		size_t n = strlen(words[w]);
		if (i + 1 + n <= len && x_caseless_eq(t + i + 1, n, words[w]) &&
		    (i + 1 + n == len || !isalnum((unsigned char)t[i + 1 + n])))
			return true;
	}
	return false;
}

/* The clause of T around the cue M. A cue right after "that" or "who" opens a relative
 * clause whose subject is the noun before it ("a workflow that requires no servers", "a
 * team who cannot code"): the clause starts there, and the noun is not denied with it (in
 * "results that it does not need", the noun is the denial's object, and stays in). */
static rx_span x_clause_of(const char *t, size_t len, rx_span m)
{
	size_t cs = m.start, ce = m.end;
	static const char *const rel[] = { "that ", "who " };
	bool relative = false;
	for (size_t w = 0; w < sizeof(rel) / sizeof(*rel) && !relative; w++) {
		size_t n = strlen(rel[w]);
		relative = m.start > n && x_caseless_eq(t + m.start - n, n, rel[w]) &&
		           !isalnum((unsigned char)t[m.start - n - 1]);
		if (relative)
			cs = m.start - n;
	}
	while (!relative && cs > 0 && !x_clause_break(t, len, cs - 1))
		cs--;
	while (ce < len && !x_clause_break(t, len, ce))
		ce++;
	return (rx_span){ cs, ce };
}

/* Adds to NEG the clause of T around the negation M (or M itself, when ONLY_MATCH), worked
 * out once for all the entities of the text. */
static eng_status x_negation_add(x_spans *neg, const char *t, size_t len, rx_span m,
                                 bool only_match)
{
	if (!x_grow((void **)&neg->v, &neg->cap, neg->n, sizeof(*neg->v)))
		return ENG_ERR_NOMEM;
	neg->v[neg->n++] = only_match ? m : x_clause_of(t, len, m);
	return ENG_OK;
}

/* The clauses denied by the matches of `negates: need` cues in one stem, each with its cue. */
typedef struct {
	struct x_denial {
		rx_span clause, cue;
		uint32_t entry;
		uint32_t bit;   /* its cue's bit in kb_lexval.denied_by */
	} *v;
	size_t n, cap;
} x_denials;

/* The denial of a fact read at START..END, or NULL: it lies inside the clause around a cue
 * whose bit is in BY (the cues that drop its attribute) and does not hold the cue itself,
 * so that an entry reading the denial ("no need to manage servers") keeps its fact while
 * "does not need real-time results" gives no real-time need. */
static const struct x_denial *x_need_denied(const x_denials *d, uint32_t by, size_t start,
                                            size_t end)
{
	for (size_t i = 0; i < d->n; i++) {
		rx_span clause = d->v[i].clause, cue = d->v[i].cue;
		if ((by & d->v[i].bit) && start >= clause.start && end <= clause.end &&
		    (end <= cue.start || start >= cue.end))
			return &d->v[i];
	}
	return NULL;
}

/* Whether START..END lies inside one of the negated clauses NEG. */
static bool x_in_negated_clause(const x_spans *neg, size_t start, size_t end)
{
	for (size_t i = 0; i < neg->n; i++)
		if (start >= neg->v[i].start && end <= neg->v[i].end)
			return true;
	return false;
}

static int x_cmp_dropped(const void *a, const void *b)
{
	return x_cmp_fact(&((const x_dropped *)a)->fact, &((const x_dropped *)b)->fact);
}

/* Keeps F, denied by D, for `mlarch facts` to show. */
static eng_status x_drop(xfacts *out, const xfact *f, const struct x_denial *d)
{
	if (!x_grow((void **)&out->dropped, &out->capdropped, out->ndropped,
	            sizeof(*out->dropped)))
		return ENG_ERR_NOMEM;
	out->dropped[out->ndropped++] = (x_dropped){ *f, d->entry, d->cue.start, d->cue.end };
	return ENG_OK;
}

/* Forgets the dropped facts of OUT (from DBASE on) that were read plainly too, each fact
 * once (at its first span), so that what is left was denied wherever it was read. */
static void x_drops_settle(xfacts *out, size_t base, size_t dbase)
{
	size_t n = dbase;
	for (size_t i = dbase; i < out->ndropped; i++) {
		const xfact *f = &out->dropped[i].fact;
		bool known = false;
		for (size_t j = base; j < out->n && !known; j++)
			known = out->v[j].attr == f->attr && eng_value_eq(out->v[j].value, f->value);
		for (size_t j = dbase; j < n && !known; j++)
			known = out->dropped[j].fact.attr == f->attr &&
			        eng_value_eq(out->dropped[j].fact.value, f->value);
		if (!known)
			out->dropped[n++] = out->dropped[i];
	}
	out->ndropped = n;
	if (n > dbase)
		qsort(out->dropped + dbase, n - dbase, sizeof(*out->dropped), x_cmp_dropped);
}

/* What one run of the lexicon over a text collects besides its facts. */
typedef struct {
	x_spans neg;            /* clauses around `negates: clause` cues */
	x_denials denied;       /* clauses around `negates: need` cues */
} x_negations;

/* Runs lexicon entry I over TEXT, adding its facts to OUT and its cue's clause to NEG. */
static eng_status x_lexeme(const kb *k, uint32_t i, const char *text, size_t len,
                           bool valid, xfacts *out, size_t base, x_negations *neg)
{
	const kb_lexeme *lx = &k->lexicon[i];
	/* a constant fact needs one match, unless a cue dropped it (every cue counts) */
	bool once = x_constant(lx) && !lx->negates;
	bool dropped = false;
	rx_span m;
	for (size_t off = 0; off <= len; off = once && !dropped ? len + 1 : x_next(text, len, m)) {
		/* the text was checked once for all patterns (else the first call of each
		 * checks it); the next ones start where a match ended, on a character
		 * boundary */
		int rc = off || valid ? rx_find_next(lx->re, text, len, off, &m)
		                      : rx_find(lx->re, text, len, off, &m);
		if (rc < 0)
			x_limited(out, XF_LEXICON, i, 0, rc);
		if (rc <= 0)
			break;
		if ((lx->negates == LEX_NEG_CLAUSE || lx->negates == LEX_NEG_SPAN) &&
		    m.end > m.start &&
		    x_negation_add(&neg->neg, text, len, m, lx->negates == LEX_NEG_SPAN) != ENG_OK)
			return ENG_ERR_NOMEM;
		if (lx->negates == LEX_NEG_NEED && m.end > m.start) {
			x_denials *d = &neg->denied;
			if (!x_grow((void **)&d->v, &d->cap, d->n, sizeof(*d->v)))
				return ENG_ERR_NOMEM;
			d->v[d->n++] = (struct x_denial){ x_clause_of(text, len, m), m, i,
			                                  (uint32_t)1 << lx->cue };
		}
		dropped = false;
		for (uint32_t j = 0; j < lx->nvals; j++) {
			xfact f = { lx->vals[j].attr, { ENG_NONE, { 0 } }, XF_LEXICON, i,
			            m.start, m.end, false, 0 };
			eng_status st = x_lexval(k, lx, &lx->vals[j], text, len, &f.value);
			if (st == ENG_ERR_NOT_FOUND)
				continue;
			const struct x_denial *denied =
				st == ENG_OK && lx->negates == LEX_NEG_NONE && lx->vals[j].denied_by
					? x_need_denied(&neg->denied, lx->vals[j].denied_by, m.start, m.end)
					: NULL;
			if (denied) {
				st = x_drop(out, &f, denied);
				dropped = true;
			} else if (st == ENG_OK)
				st = x_add(out, base, &f);
			if (st != ENG_OK)
				return st;
		}
	}
	return ENG_OK;
}

/* Runs the lexicon entries whose scope fits over TEXT: the `negates: need` cues first, so
 * that the clauses they deny are known before any fact is added (x_add keeps one span of
 * a fact read twice, and it must be one that no cue denies). */
static eng_status x_lexicon(const kb *k, const char *text, size_t len, bool valid,
                            rxlit_text *lower, lex_scope scope, xfacts *out,
                            size_t base, x_negations *neg)
{
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < k->nlexicon; i++) {
			const kb_lexeme *lx = &k->lexicon[i];
			if ((lx->negates == LEX_NEG_NEED) != (pass == 0) || !lx->re ||
			    (lx->scope != LEX_ANY && scope != LEX_ANY && lx->scope != scope) ||
			    !rx_may_match_in(lx->re, lower))
				continue;
			eng_status st = x_lexeme(k, i, text, len, valid, out, base, neg);
			if (st != ENG_OK)
				return st;
		}
	}
	return ENG_OK;
}

static int x_cmp_cand(const void *a, const void *b)
{
	const x_cand *x = a, *y = b;
	size_t lx = x->end - x->start, ly = y->end - y->start;
	if (lx != ly)
		return lx > ly ? -1 : 1;
	if (x->entity != y->entity)
		return x->entity < y->entity ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Every non-empty match of every alias into C. */
static eng_status x_collect(const kb *k, const char *text, size_t len, bool valid,
                            rxlit_text *lower, x_cands *c, xfacts *out)
{
	for (uint32_t e = 0; e < k->nentities; e++) {
		const kb_entity *ent = &k->entities[e];
		for (uint32_t a = 0; a < ent->naliases; a++) {
			if (!rx_may_match_in(ent->aliases[a], lower))
				continue;
			rx_span m;
			for (size_t off = 0; off <= len; off = x_next(text, len, m)) {
				int rc = off || valid ? rx_find_next(ent->aliases[a], text, len, off, &m)
				                      : rx_find(ent->aliases[a], text, len, off, &m);
				if (rc < 0)
					x_limited(out, XF_ENTITY, e, a, rc);
				if (rc <= 0)
					break;
				if (m.end == m.start)
					continue;
				if (!x_grow((void **)&c->v, &c->cap, c->n, sizeof(*c->v)))
					return ENG_ERR_NOMEM;
				c->v[c->n++] = (x_cand){ m.start, m.end, e };
			}
		}
	}
	return ENG_OK;
}

static eng_status x_entities(const kb *k, const char *text, size_t len, bool valid,
                             rxlit_text *lower, eng_sym attr, xfacts *out,
                             size_t base, const x_spans *neg)
{
	x_cands c = { NULL, 0, 0 };
	eng_status st = x_collect(k, text, len, valid, lower, &c, out);
	if (st != ENG_OK || c.n == 0) {
		free(c.v);
		return st;
	}
	qsort(c.v, c.n, sizeof(*c.v), x_cmp_cand);
	/* The bytes claimed by kept matches. Testing a candidate against every kept match
	 * instead was quadratic: 60,000 "EMR " in a pasted text took half a minute. The
	 * matches of one alias do not overlap, so the scans add up to a few times LEN. */
	unsigned char *claimed = calloc(len ? len : 1, 1);
	if (!claimed) {
		free(c.v);
		return ENG_ERR_NOMEM;
	}
	for (size_t i = 0; i < c.n && st == ENG_OK; i++) {
		if (memchr(claimed + c.v[i].start, 1, c.v[i].end - c.v[i].start))
			continue;
		memset(claimed + c.v[i].start, 1, c.v[i].end - c.v[i].start);
		const kb_entity *ent = &k->entities[c.v[i].entity];
		xfact f = { attr, { ENG_SYMBOL, { .sym = ent->sym } }, XF_ENTITY, c.v[i].entity,
		            c.v[i].start, c.v[i].end,
		            x_in_negated_clause(neg, c.v[i].start, c.v[i].end), 0 };
		st = x_add(out, base, &f);
		double v;
		size_t end = x_setting(text, len, c.v[i].end, &v);
		if (end && st == ENG_OK) {
			xfact s = { attr == k->s_uses ? k->s_setting_proposed : k->s_setting_current,
			            { ENG_NUMBER, { .num = v } }, XF_ENTITY, c.v[i].entity,
			            c.v[i].start, end, false, ent->sym };
			st = x_add(out, base, &s);
		}
	}
	free(claimed);
	free(c.v);
	/* an entity named only in negated clauses also gives (subject, uses.negated, entity),
	 * so that rules can tell a denied service from a proposed one */
	eng_sym neg_attr = attr == k->s_uses ? k->s_uses_negated
	                   : attr == k->s_mentions ? k->s_mentions_negated : 0;
	for (size_t i = base, n = out->n; i < n && st == ENG_OK && neg_attr; i++) {
		xfact f = out->v[i];
		if (f.source != XF_ENTITY || f.attr != attr || !f.negated)
			continue;
		f.attr = neg_attr;
		st = x_add(out, base, &f);
	}
	return st;
}

/* ---- public ---- */

/* Appends to OUT the facts that TEXT[0..LEN) gives (see extract.h), in text order, each
 * (attr, value) once at its earliest span. Returns ENG_OK, or ENG_ERR_NOMEM (OUT then
 * holds what was found before; the caller still frees it). */
eng_status extract(const kb *k, const char *text, size_t len, lex_scope scope,
                   eng_sym entity_attr, xfacts *out)
{
	if (!k || !out || (!text && len))
		return ENG_ERR_INVALID;
	if (!text)
		text = "";
	size_t base = out->n, dbase = out->ndropped;
	/* PCRE2 would check the UTF-8 of the whole text for each of a thousand patterns */
	bool valid = rx_utf8_valid(text, len);
	/* most patterns need a word the text lacks: they are skipped on a lowercase copy
	 * (none for a text beyond ASCII, or when out of memory: every pattern then runs) */
	char *lower = k->no_prefilter ? NULL : malloc(len ? len : 1);
	if (lower && !rxlit_lower(text, len, lower)) {
		free(lower);
		lower = NULL;
	}
	rxlit_text index, *low = NULL;
	if (lower) {
		rxlit_text_index(&index, lower, len);
		low = &index;
	}
	x_negations neg = { { NULL, 0, 0 }, { NULL, 0, 0 } };
	eng_status st = x_lexicon(k, text, len, valid, low, scope, out, base, &neg);
	if (st == ENG_OK)
		st = x_entities(k, text, len, valid, low, entity_attr, out, base, &neg.neg);
	free(neg.neg.v);
	free(neg.denied.v);
	x_drops_settle(out, base, dbase);
	free(lower);
	if (st == ENG_OK && out->n > base)
		qsort(out->v + base, out->n - base, sizeof(*out->v), x_cmp_fact);
	return st;
}

/* Moves the offsets of the facts of X (and of every denied need) by BY: the facts of a
 * piece of a larger text then point into the larger text. */
void xfacts_move(xfacts *x, size_t by)
{
	for (size_t i = 0; i < x->n; i++) {
		x->v[i].start += by;
		x->v[i].end += by;
	}
	for (size_t i = 0; i < x->ndropped; i++) {
		x_dropped *d = &x->dropped[i];
		d->fact.start += by;
		d->fact.end += by;
		d->cue_start += by;
		d->cue_end += by;
	}
}

/* Appends to OUT the catalog entities that TEXT[START..END) names plainly (not only in a
 * negated clause), as facts of attribute ENTITY_ATTR with offsets in TEXT; an entity OUT
 * already has keeps its fact. Returns ENG_OK or ENG_ERR_NOMEM. */
eng_status extract_entities_at(const kb *k, const char *text, size_t start, size_t end,
                               eng_sym entity_attr, xfacts *out)
{
	if (!k || !out || !text || start > end)
		return ENG_ERR_INVALID;
	xfacts tmp = { 0 };
	eng_status st = extract(k, text + start, end - start, LEX_OPTION, entity_attr, &tmp);
	size_t n = out->n;
	for (size_t i = 0; i < tmp.n && st == ENG_OK; i++) {
		xfact f = tmp.v[i];
		if (f.source != XF_ENTITY || f.attr != entity_attr || f.negated)
			continue;
		bool have = false;
		for (size_t m = 0; m < n && !have; m++)
			have = out->v[m].attr == f.attr && eng_value_eq(out->v[m].value, f.value);
		if (have)
			continue;
		f.start += start;
		f.end += start;
		st = x_add(out, n, &f);
	}
	xfacts_free(&tmp);
	if (st == ENG_OK && out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), x_cmp_fact);
	return st;
}

/* Frees the facts of X and leaves it empty. NULL is allowed. */
void xfacts_free(xfacts *x)
{
	if (!x)
		return;
	free(x->v);
	free(x->dropped);
	x->v = NULL;
	x->dropped = NULL;
	x->n = x->cap = 0;
	x->ndropped = x->capdropped = 0;
	x->nlimits = 0;
}

const char *x_limit_name(int error)
{
	return error == RX_ERR_MATCH_LIMIT ? "regex-match" :
	       error == RX_ERR_DEPTH_LIMIT ? "regex-depth" : "";
}

const char *x_limit_describe(const kb *k, const x_limit *h, char *buf, size_t size)
{
	const char *file = "";
	uint32_t line = 0, col = 0;
	int n;
	if (h->source == XF_LEXICON && h->index < k->nlexicon) {
		const kb_lexeme *lx = &k->lexicon[h->index];
		file = lx->file;
		line = lx->line;
		col = lx->col;
		n = snprintf(buf, size, "lexicon entry `%s`", lx->id);
	} else if (h->source == XF_ENTITY && h->index < k->nentities) {
		const kb_entity *en = &k->entities[h->index];
		file = en->file;
		line = en->line;
		col = en->col;
		n = snprintf(buf, size, "alias %u of catalog entry `%s`", h->alias + 1, en->id);
	} else {
		n = snprintf(buf, size, "a pattern");
	}
	size_t at = n < 0 ? 0 : (size_t)n < size ? (size_t)n : size;
	if (line && at < size) {
		n = snprintf(buf + at, size - at, " (%s:%u:%u)", file ? file : "", line, col);
		at = n < 0 ? at : at + (size_t)n < size ? at + (size_t)n : size;
	}
	const char *name = x_limit_name(h->error);
	if (at >= size)
		return buf;
	if (!*name) {
		snprintf(buf + at, size - at, " could not be matched (a PCRE2 error)");
		return buf;
	}
	uint32_t lim = h->error == RX_ERR_MATCH_LIMIT ? k->limits.rx.match : k->limits.rx.depth;
	unsigned long long twice = (unsigned long long)lim * 2;
	if (twice > UINT32_MAX)
		twice = UINT32_MAX;
	snprintf(buf + at, size - at, " hit the %s limit of %u; raise it with --limit %s=%llu",
	         name, lim, name, twice);
	return buf;
}
