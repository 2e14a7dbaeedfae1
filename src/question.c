/* SPDX-License-Identifier: MIT */
/*
 * question.c - a pasted exam question to stem, options and "choose N".
 *
 * Four passes over the text. The first checks UTF-8 and writes a normalised copy: line
 * breaks become LF, typographic quotes, dashes and Unicode spaces become their ASCII
 * forms, so that lexicon patterns only ever see plain punctuation. The second drops
 * trailing spaces on every line and blank space at both ends. The third finds the options
 * (on lines of their own, or else on one line: q_inline). The fourth tidies the stem and
 * each option for the patterns (q_tidy: a wrapped line's indentation goes, hyphen breaks
 * are joined, negative contractions are spelt out) and moves the offsets with it.
 *
 * Finding options is the delicate part, because a stem can start "A company ..." and an
 * option can wrap onto a line that starts "A Lambda function ...". Every line that starts
 * with a letter label is a candidate, with its style (the punctuation around the letter and
 * its case). A chain is a candidate labelled A followed by B, C, ... of the same style on
 * later lines; other lines between them continue the previous option. A chain counts only
 * if it has at least two options and starts after the first line (there must be a stem).
 * The longest chain wins; on a tie a punctuated style beats the bare "A text" form, and a
 * later chain beats an earlier one (options come at the end of a question).
 */
#include "question.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a label is written. Lowercase letters are allowed with DOT, CLOSE, PARENS and
 * BRACKETS, not after "Option". */
typedef enum {
	LBL_NONE,
	LBL_DOT,                /* "A." */
	LBL_CLOSE,              /* "A)" */
	LBL_PARENS,             /* "(A)" */
	LBL_BRACKETS,           /* "[A]" */
	LBL_COLON,              /* "A:" */
	LBL_DASH,               /* "A -" */
	LBL_BARE,               /* "A text" */
} q_label_style;

typedef struct {
	size_t start, end;      /* the line, without its LF */
	q_label_style style;
	bool lower;
	bool named;             /* "Option A:", "Choice A." */
	int letter;             /* 0 for A */
	size_t text;            /* where the option text starts after the label */
} q_line;

/* ---- UTF-8 and normalisation ---- */

/* Decodes the UTF-8 sequence at S[0..N). Returns its length and the code point in *CP, or
 * 0 if the sequence is ill-formed (overlong, surrogate, beyond U+10FFFF, truncated). */
static size_t q_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t need;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		*cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		*cp = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		*cp = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < need + 1)
		return 0;
	for (size_t i = 1; i <= need; i++) {
		unsigned char b = s[i];
		unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
		if (b < l || b > h)
			return 0;
		*cp = (*cp << 6) | (b & 0x3F);
	}
	return need + 1;
}

static bool q_is_unicode_space(uint32_t cp)
{
	return cp == 0x00A0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F ||
	       cp == 0x205F || cp == 0x3000;
}

/* The ASCII replacement for code point CP, or NULL to keep its bytes. "" drops it. */
static const char *q_replacement(uint32_t cp)
{
	switch (cp) {
	case '\t':             /* two: a tab parts a table's cells as two spaces do */
		return "  ";
	case '\v': case '\f':
		return " ";
	case 0x0085: case 0x2028: case 0x2029:
		return "\n";
	case 0x2018: case 0x2019: case 0x201A: case 0x201B: case 0x2032:
		return "'";
	case 0x201C: case 0x201D: case 0x201E: case 0x2033:
		return "\"";
	case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015:
	case 0x2212:
		return "-";
	case 0x2026:
		return "...";
	case 0x00AD: case 0x200B: case 0xFEFF:   /* soft hyphen, zero width space, BOM */
		return "";
	default:
		return q_is_unicode_space(cp) ? " " : NULL;
	}
}

/* Checks RAW and writes its normalised form to OUT (at least 2 * LEN + 1 bytes: no
 * replacement is longer than twice what it replaces). Returns Q_OK and *OUTLEN, or the
 * error with *ERR_OFF. */
static q_status q_normalise(const char *raw, size_t len, char *out, size_t *outlen,
                            size_t *err_off)
{
	const unsigned char *s = (const unsigned char *)raw;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		if (s[i] == '\0') {
			*err_off = i;
			return Q_ERR_NUL;
		}
		if (s[i] == '\r') {
			out[o++] = '\n';
			i += i + 1 < len && s[i + 1] == '\n' ? 2 : 1;
			continue;
		}
		uint32_t cp;
		size_t n = q_utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			*err_off = i;
			return Q_ERR_UTF8;
		}
		const char *rep = q_replacement(cp);
		if (rep) {
			size_t rl = strlen(rep);
			memcpy(out + o, rep, rl);
			o += rl;
		} else {
			memcpy(out + o, s + i, n);
			o += n;
		}
		i += n;
	}
	out[o] = '\0';
	*outlen = o;
	return Q_OK;
}

/* Drops trailing spaces on every line and white space at both ends of T, in place.
 * Returns the new length. */
static size_t q_trim(char *t, size_t len)
{
	size_t o = 0, i = 0;
	while (i < len && (t[i] == ' ' || t[i] == '\n'))
		i++;
	while (i < len) {
		size_t e = i;
		while (e < len && t[e] != '\n')
			e++;
		size_t ce = e;
		while (ce > i && t[ce - 1] == ' ')
			ce--;
		memmove(t + o, t + i, ce - i);
		o += ce - i;
		if (e < len)
			t[o++] = '\n';
		i = e < len ? e + 1 : e;
	}
	while (o > 0 && (t[o - 1] == '\n' || t[o - 1] == ' '))
		o--;
	t[o] = '\0';
	return o;
}

/* ---- words ---- */

static bool q_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool q_alnum(char c)
{
	return q_letter(c) || (c >= '0' && c <= '9');
}

static char q_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether S[I..N) starts with the lowercase word W, ending at a word boundary. Adds its
 * length to *I when it does. */
static bool q_word(const char *s, size_t n, size_t *i, const char *w)
{
	size_t k = 0;
	for (; w[k]; k++)
		if (*i + k >= n || q_lower(s[*i + k]) != w[k])
			return false;
	if (*i + k < n && q_alnum(s[*i + k]))
		return false;
	*i += k;
	return true;
}

/* q_word followed by a space, which is skipped too ("Option A", "the TWO"). */
static bool q_word_sp(const char *s, size_t n, size_t *i, const char *w)
{
	size_t j = *i;
	if (!q_word(s, n, &j, w) || j >= n || s[j] != ' ')
		return false;
	*i = j + 1;
	return true;
}

/* ---- labels and options ---- */

/* Reads a label at the start of line L of T and fills its style, letter and text start;
 * style LBL_NONE if the line has none. */
static void q_label(const char *t, q_line *l)
{
	size_t i = l->start, e = l->end;
	l->style = LBL_NONE;
	while (i < e && t[i] == ' ')
		i++;
	/* "Option A:" and "Choice B." take the word away; the letter must be a capital and
	 * punctuated, so that "Option a lot ..." stays text */
	bool named = q_word_sp(t, e, &i, "option") || q_word_sp(t, e, &i, "choice");
	char open = i < e && (t[i] == '(' || t[i] == '[') ? t[i] : 0;
	if (open)
		i++;
	if (i >= e)
		return;
	char c = t[i];
	bool upper = c >= 'A' && c <= 'A' + Q_MAX_OPTIONS - 1;
	bool lower = c >= 'a' && c <= 'a' + Q_MAX_OPTIONS - 1;
	if (!upper && (!lower || named))
		return;
	size_t p = i + 1;       /* just after the letter */
	size_t text = 0;        /* where the option text starts */
	q_label_style st = LBL_NONE;
	if (open) {
		if (p < e && t[p] == (open == '(' ? ')' : ']')) {
			st = open == '(' ? LBL_PARENS : LBL_BRACKETS;
			text = p + 1;
		}
	} else if (p < e && (t[p] == '.' || t[p] == ')' || (t[p] == ':' && upper))) {
		st = t[p] == '.' ? LBL_DOT : t[p] == ')' ? LBL_CLOSE : LBL_COLON;
		text = p + 1;
	} else if (p < e && t[p] == ' ' && upper) {
		size_t q = p;
		while (q < e && t[q] == ' ')
			q++;
		if (q < e && t[q] == '-' && (q + 1 == e || t[q + 1] == ' ')) {
			st = LBL_DASH;
			text = q + 1;
		} else if (q < e) {
			st = LBL_BARE;
			text = q;
		}
	}
	if (st == LBL_NONE || (named && st == LBL_BARE))
		return;
	/* "A.I. is ..." or "A:B testing" is not a label: the punctuation must end a word. */
	if (text < e && t[text] != ' ' && st != LBL_BARE)
		return;
	while (text < e && t[text] == ' ')
		text++;
	l->style = st;
	l->lower = lower;
	l->named = named;
	l->letter = c - (upper ? 'A' : 'a');
	l->text = text;
}

/* Follows the chain that starts at line A: returns its length and writes its line indices
 * to IDX (at most Q_MAX_OPTIONS). */
static uint32_t q_chain(const q_line *lines, size_t n, size_t a, size_t *idx)
{
	uint32_t k = 0;
	idx[k++] = a;
	for (size_t i = a + 1; i < n && k < Q_MAX_OPTIONS; i++) {
		const q_line *l = &lines[i];
		if (l->style == lines[a].style && l->lower == lines[a].lower &&
		    l->named == lines[a].named && l->letter == (int)k)
			idx[k++] = i;
	}
	return k;
}

/* Whether an inline label of style ST for letter C starts at T[P]: "C." "C)" "C:" "(C)"
 * "[C]", after a space or a line start and before a space. Writes where its text starts. */
static bool q_inline_label(const char *t, size_t len, size_t p, q_label_style st, char c,
                           size_t *text)
{
	if (p > 0 && t[p - 1] != ' ' && t[p - 1] != '\n')
		return false;
	const char *form = st == LBL_DOT ? "C." : st == LBL_CLOSE ? "C)" : st == LBL_COLON ? "C:"
	                   : st == LBL_PARENS ? "(C)" : "[C]";
	size_t n = strlen(form);
	if (p + n >= len || t[p + n] != ' ')
		return false;
	for (size_t i = 0; i < n; i++)
		if (t[p + i] != (form[i] == 'C' ? c : form[i]))
			return false;
	*text = p + n + 1;
	return true;
}

/* The letter (0 for A) of an inline label of style ST at T[P], or -1; its text start in
 * *TEXT. */
static int q_inline_at(const char *t, size_t len, size_t p, q_label_style st, size_t *text)
{
	size_t at = st == LBL_PARENS || st == LBL_BRACKETS ? p + 1 : p;
	if (at >= len || t[at] < 'A' || t[at] >= 'A' + Q_MAX_OPTIONS)
		return -1;
	return q_inline_label(t, len, p, st, t[at], text) ? t[at] - 'A' : -1;
}

/* Options written on one line with the stem or with each other ("Which? A. Firehose
 * B. Glue"), as a question given on the command line is: for each punctuated style, the
 * chain from an "A" label to the first "B" after it, then the first "C" ..., the longest
 * with a stem before it (of a style, the later one on a tie: "Plan A. failed. Which?
 * A. x B. y" keeps the second A). Only when no line starts an option chain.
 * One backward pass per style finds every chain's length (the nearest label of each
 * letter to the right is kept as the pass goes), so a long text costs linear time.
 * Returns Q_ERR_NOMEM or Q_OK. */
static q_status q_inline(question *q)
{
	static const q_label_style styles[] = { LBL_DOT, LBL_CLOSE, LBL_PARENS, LBL_BRACKETS,
	                                        LBL_COLON };
	const char *t = q->text;
	unsigned char *chain = malloc(q->len + 1);
	if (!chain)
		return Q_ERR_NOMEM;
	size_t best_a = 0;
	q_label_style best_st = LBL_NONE;
	uint32_t nbest = 0;
	for (size_t s = 0; s < sizeof(styles) / sizeof(*styles); s++) {
		size_t next[Q_MAX_OPTIONS + 1];
		for (size_t k = 0; k <= Q_MAX_OPTIONS; k++)
			next[k] = SIZE_MAX;
		for (size_t p = q->len; p-- > 1;) {
			size_t text;
			int k = q_inline_at(t, q->len, p, styles[s], &text);
			if (k < 0)
				continue;
			size_t n = next[k + 1];
			chain[p] = (unsigned char)(1 + (n != SIZE_MAX ? chain[n] : 0));
			next[k] = p;
			if (k == 0 && chain[p] >= 2 && chain[p] > nbest) {
				nbest = chain[p];
				best_a = p;
				best_st = styles[s];
			}
		}
	}
	free(chain);
	size_t e = best_a;
	while (e > 0 && (t[e - 1] == '\n' || t[e - 1] == ' '))
		e--;
	if (!nbest || e == 0)
		return Q_OK;
	size_t pos[Q_MAX_OPTIONS], text[Q_MAX_OPTIONS];
	uint32_t k = 0;
	for (size_t p = best_a; p < q->len && k < nbest; p++) {
		size_t x;
		if (q_inline_at(t, q->len, p, best_st, &x) == (int)k) {
			pos[k] = p;
			text[k++] = x;
		}
	}
	q->stem_end = e;
	for (uint32_t i = 0; i < k; i++) {
		size_t start = text[i], end = i + 1 < k ? pos[i + 1] : q->len;
		while (start < end && (t[start] == ' ' || t[start] == '\n'))
			start++;
		while (end > start && (t[end - 1] == ' ' || t[end - 1] == '\n'))
			end--;
		q->opts[i] = (q_option){ (char)('A' + i), start, end };
	}
	q->nopts = k;
	return Q_OK;
}

/* Splits T into stem and options (see the top of the file). Returns Q_ERR_NOMEM or Q_OK. */
static q_status q_split(question *q)
{
	const char *t = q->text;
	size_t n = 1;
	for (size_t i = 0; i < q->len; i++)
		n += t[i] == '\n';
	q_line *lines = calloc(n, sizeof(*lines));
	if (!lines)
		return Q_ERR_NOMEM;
	size_t li = 0, s = 0;
	for (size_t i = 0; i <= q->len; i++) {
		if (i == q->len || t[i] == '\n') {
			lines[li].start = s;
			lines[li].end = i;
			q_label(t, &lines[li]);
			li++;
			s = i + 1;
		}
	}
	size_t best[Q_MAX_OPTIONS], cur[Q_MAX_OPTIONS];
	uint32_t nbest = 0;
	bool best_bare = false;
	for (size_t i = 1; i < n; i++) {
		if (lines[i].style == LBL_NONE || lines[i].letter != 0)
			continue;
		uint32_t k = q_chain(lines, n, i, cur);
		bool bare = lines[i].style == LBL_BARE;
		if (k < 2)
			continue;
		if (k > nbest || (k == nbest && (best_bare || !bare))) {
			nbest = k;
			best_bare = bare;
			memcpy(best, cur, k * sizeof(*cur));
		}
	}
	q->stem_end = q->len;
	q->nopts = 0;
	if (nbest) {
		size_t e = lines[best[0]].start;
		while (e > 0 && (t[e - 1] == '\n' || t[e - 1] == ' '))
			e--;
		q->stem_end = e;
		for (uint32_t k = 0; k < nbest; k++) {
			q_option *o = &q->opts[k];
			const q_line *l = &lines[best[k]];
			size_t end = k + 1 < nbest ? lines[best[k + 1]].start : q->len;
			size_t start = l->text;
			while (start < end && (t[start] == ' ' || t[start] == '\n'))
				start++;
			while (end > start && (t[end - 1] == ' ' || t[end - 1] == '\n'))
				end--;
			o->letter = (char)('A' + k);
			o->start = start;
			o->end = end;
		}
		q->nopts = nbest;
	}
	free(lines);
	return q->nopts ? Q_OK : q_inline(q);
}

/* ---- exhibits: tables in the stem ---- */

/* A table laid out in columns ("feature   count   p25(Q1) ...", or "| a | b |") says which
 * value belongs to which heading only by its place on the page, and the patterns see the
 * text without its layout. So each table is read here into plain lines, one per row, each
 * cell after its column's heading: "feature: excursion_min; count: 8,191; p25(Q1): 42.".
 * A row's label (a first cell that no heading stands over, as in a confusion matrix) opens
 * its line bare; an empty cell is left out. A block of lines counts as a table when all of
 * these hold:
 * - every line has at least two cells, split by runs of two or more spaces, or by '|' (a
 *   '|' table keeps its empty cells, and its rule line "|---|---|" is skipped);
 * - the first line is a heading line: each cell has at most Q_HEAD_MAX bytes and
 *   Q_HEAD_WORDS words, none ends a sentence or sets a value ("eta=0.3"), and each has a
 *   letter or is a percentile ("25%"), never a number or a date; only the first may be
 *   empty (the corner over the rows' labels);
 * - it is set off: indented, or written with '|', or at least three columns wide;
 * - every cell of every row stands under its heading: with as many cells as headings, the
 *   K-th under the K-th; with one more, the first is the row's label and the rest follow
 *   the headings in order; with fewer (blank cells), each under the heading it overlaps
 *   most, no heading used twice, and only a first cell may stand under none. Without
 *   '|', "under" also means overlapping the heading's columns, give or take Q_COL_SLACK;
 *   and no cell repeats its heading (log lines that start alike are no table).
 * A block ends at the first line that is no such row; a heading line with no row under it
 * is left as it is, and so is a table that would take the text past Q_TABLES_BUDGET (each
 * row repeats the headings). Everything else in the stem is left as it is. The first
 * Q_MAX_ROWS rows are kept in question.rows with their labels, for options that name a row. */

#define Q_MAX_CELLS 12
/* The most the text may grow to with its tables written out (see question.h). */
#define Q_TABLES_BUDGET(len) (3 * (len) + 1024)
#define Q_HEAD_MAX 40
#define Q_HEAD_WORDS 5
#define Q_COL_SLACK 2

typedef struct {
	size_t start, end;      /* the cell's bytes in the text */
	size_t col0, col1;      /* its columns on the line (code points from the line start) */
} q_cell;

typedef struct {
	q_cell c[Q_MAX_CELLS];
	uint32_t n;
	bool piped;             /* written with '|' */
	bool rule;              /* a '|'-table's rule line ("|---|:---|") */
	size_t indent;
} q_row;

/* The column of T[I] on the line starting at LS: UTF-8 continuation bytes take none. */
static size_t q_col(const char *t, size_t ls, size_t i)
{
	size_t c = 0;
	for (size_t k = ls; k < i; k++)
		c += ((unsigned char)t[k] & 0xC0) != 0x80;
	return c;
}

/* Adds the cell T[A..B) of the line starting at LS to R, without its spaces; an empty one
 * only when KEEP_EMPTY (a '|' table's cells stand by their place). */
static void q_cell_add(const char *t, size_t ls, size_t a, size_t b, q_row *r, bool *over,
                       bool keep_empty)
{
	while (a < b && t[a] == ' ')
		a++;
	while (b > a && t[b - 1] == ' ')
		b--;
	if (a == b && !keep_empty)
		return;
	if (r->n == Q_MAX_CELLS) {
		*over = true;
		return;
	}
	q_cell *c = &r->c[r->n++];
	c->start = a;
	c->end = b;
	c->col0 = q_col(t, ls, a);
	c->col1 = c->col0 + q_col(t, a, b);
}

/* Splits the line T[LS..LE) into cells. Returns false for a line of more than Q_MAX_CELLS. */
static bool q_cells(const char *t, size_t ls, size_t le, q_row *r)
{
	memset(r, 0, sizeof(*r));
	size_t i = ls;
	while (i < le && t[i] == ' ')
		i++;
	r->indent = i - ls;
	bool over = false;
	if (i < le && t[i] == '|') {
		r->piped = true;
		r->rule = true;
		for (size_t k = i; k < le; k++)
			if (t[k] != '|' && t[k] != '-' && t[k] != ':' && t[k] != ' ')
				r->rule = false;
		size_t a = i + 1, e = le;
		if (e > a && t[e - 1] == '|')
			e--;
		for (size_t k = a; k <= e; k++)
			if (k == e || t[k] == '|') {
				q_cell_add(t, ls, a, k, r, &over, true);
				a = k + 1;
			}
		return !over;
	}
	size_t a = i;
	for (size_t k = i; k <= le;) {
		size_t s = k;
		while (s < le && t[s] == ' ')
			s++;
		if (k == le || s - k >= 2) {
			q_cell_add(t, ls, a, k, r, &over, false);
			a = s;
			if (k == le)
				break;
			k = s;
		} else {
			k = s > k ? s : k + 1;
		}
	}
	return !over;
}

static bool q_has_letter(const char *t, size_t a, size_t b)
{
	for (size_t k = a; k < b; k++)
		if (q_letter(t[k]))
			return true;
	return false;
}

static bool q_heading_line(const char *t, const q_row *h)
{
	if (h->n < 2 || h->rule)
		return false;
	for (uint32_t k = 0; k < h->n; k++) {
		const q_cell *c = &h->c[k];
		if (c->start == c->end) {       /* only the corner over the rows' labels */
			if (k)
				return false;
			continue;
		}
		char last = t[c->end - 1];
		bool digit = t[c->start] >= '0' && t[c->start] <= '9';
		uint32_t words = 1;
		for (size_t i = c->start; i < c->end; i++) {
			words += t[i] == ' ';
			if (t[i] == '=')        /* a setting ("max_depth=6"), not a heading */
				return false;
		}
		if (c->end - c->start > Q_HEAD_MAX || words > Q_HEAD_WORDS || last == '.' ||
		    last == '?' || last == '!' ||
		    (digit ? last != '%' : !q_has_letter(t, c->start, c->end)))
			return false;
	}
	return true;
}

/* How many columns the cell D shares with the heading H, counting Q_COL_SLACK on each side
 * of H; 0 when none. */
static size_t q_overlap(const q_cell *h, const q_cell *d)
{
	size_t a = h->col0 > Q_COL_SLACK ? h->col0 - Q_COL_SLACK : 0, b = h->col1 + Q_COL_SLACK;
	size_t lo = d->col0 > a ? d->col0 : a, hi = d->col1 < b ? d->col1 : b;
	return hi > lo ? hi - lo : 0;
}

/* Which heading of H stands over each cell of the row R (-1: the row's label), into AT, by
 * the cells' places (see the top of this section). Returns false when R is no row of H. */
static bool q_row_place(const q_row *h, const q_row *r, int *at)
{
	if (r->n < 2 || r->rule || r->piped != h->piped)
		return false;
	/* as many cells as headings, or one more: the row's label first */
	if (r->n == h->n || r->n == h->n + 1) {
		uint32_t label = r->n - h->n;
		if (label)
			at[0] = -1;
		for (uint32_t k = label; k < r->n; k++) {
			const q_cell *hc = &h->c[k - label];
			if (!h->piped && !q_overlap(hc, &r->c[k]))
				return false;
			at[k] = hc->start == hc->end ? -1 : (int)(k - label);
		}
		return true;
	}
	if (r->n > h->n || h->piped)
		return false;
	bool used[Q_MAX_CELLS] = { false };
	for (uint32_t k = 0; k < r->n; k++) {
		size_t best = 0;
		int bi = -1;
		for (uint32_t j = 0; j < h->n; j++) {
			size_t o = q_overlap(&h->c[j], &r->c[k]);
			if (o > best && !used[j]) {
				best = o;
				bi = (int)j;
			}
		}
		if (bi < 0 && (k > 0 || r->c[0].col1 > h->c[0].col0))
			return false;
		if (bi >= 0)
			used[bi] = true;
		at[k] = bi;
	}
	return true;
}

/* Whether cells A of T and B of T hold the same words but for case. */
static bool q_same_cell(const char *t, const q_cell *a, const q_cell *b)
{
	if (a->end - a->start != b->end - b->start)
		return false;
	for (size_t i = 0; i < a->end - a->start; i++)
		if (q_lower(t[a->start + i]) != q_lower(t[b->start + i]))
			return false;
	return true;
}

/* q_row_place, and false too when R repeats a heading under itself (lines of a log:
 * "INFO  epoch 1 ..." under "INFO  epoch 0 ..."). */
static bool q_row_under(const char *t, const q_row *h, const q_row *r, int *at)
{
	if (!q_row_place(h, r, at))
		return false;
	for (uint32_t k = 0; k < r->n; k++)
		if (at[k] >= 0 && r->c[k].start < r->c[k].end && q_same_cell(t, &h->c[at[k]], &r->c[k]))
			return false;
	return true;
}

typedef struct {
	char *v;
	size_t n, cap;
	bool nomem;
} q_buf;

static void q_put(q_buf *b, const char *s, size_t n)
{
	if (b->nomem)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (b->n + n + 1 > cap)
			cap *= 2;
		char *v = realloc(b->v, cap);
		if (!v) {
			b->nomem = true;
			return;
		}
		b->v = v;
		b->cap = cap;
	}
	memcpy(b->v + b->n, s, n);
	b->n += n;
}

/* Writes the row R of the table headed H as one line (see above), and keeps it in Q's rows
 * while there is room. */
static void q_put_row(q_buf *b, question *q, const q_row *h, const q_row *r, const int *at)
{
	const char *t = q->text;
	q_table_row row = { b->n, 0, b->n, b->n };     /* no label: an empty one at the start */
	for (uint32_t k = 0, put = 0; k < r->n; k++) {
		if (r->c[k].start == r->c[k].end)
			continue;
		if (put++)
			q_put(b, "; ", 2);
		if (at[k] >= 0) {
			const q_cell *hc = &h->c[at[k]];
			q_put(b, t + hc->start, hc->end - hc->start);
			q_put(b, ": ", 2);
		}
		if (!k)
			row.label_start = b->n;
		q_put(b, t + r->c[k].start, r->c[k].end - r->c[k].start);
		if (!k)
			row.label_end = b->n;
	}
	q_put(b, ".", 1);
	row.end = b->n;
	if (!b->nomem && q->nrows < Q_MAX_ROWS)
		q->rows[q->nrows++] = row;
}

/* The end of the line that starts at I in T[0..N). */
static size_t q_eol(const char *t, size_t n, size_t i)
{
	while (i < n && t[i] != '\n')
		i++;
	return i;
}

/* Reads the tables of the stem into lines (see above) and moves the offsets after them.
 * Returns Q_ERR_NOMEM or Q_OK. */
static q_status q_exhibits(question *q)
{
	const char *t = q->text;
	size_t se = q->stem_end, copied = 0;
	q_buf b = { NULL, 0, 0, false };
	for (size_t ls = 0; ls < se;) {
		size_t le = q_eol(t, se, ls);
		q_row h, r;
		int at[Q_MAX_CELLS];
		size_t next = le < se ? le + 1 : se;
		if (!q_cells(t, ls, le, &h) || !q_heading_line(t, &h) ||
		    (!h.piped && !h.indent && h.n < 3)) {
			ls = next;
			continue;
		}
		size_t rows = 0, end = le, mark = b.n;
		uint32_t nrows = q->nrows;
		for (size_t rs = next; rs < se;) {
			size_t re = q_eol(t, se, rs);
			if (!q_cells(t, rs, re, &r))
				break;
			if (!(r.rule && h.piped && rows == 0 && rs == next)) {
				if (!q_row_under(t, &h, &r, at))
					break;
				if (!rows)
					q_put(&b, t + copied, ls - copied);
				else
					q_put(&b, "\n", 1);
				q_put_row(&b, q, &h, &r, at);
				rows++;
			}
			end = re;
			rs = re < se ? re + 1 : se;
		}
		/* headings repeated on every row: past the budget a table stays as it was */
		if (!rows || b.n + (q->len - end) > Q_TABLES_BUDGET(q->len)) {
			b.n = mark;
			q->nrows = nrows;
			ls = next;
			continue;
		}
		copied = end;
		ls = end < se ? end + 1 : se;
	}
	if (!b.v && !b.nomem)
		return Q_OK;
	size_t stem_end = b.n + (se - copied);
	q_put(&b, t + copied, q->len - copied);
	if (b.nomem) {
		free(b.v);
		return Q_ERR_NOMEM;
	}
	b.v[b.n] = '\0';
	for (uint32_t k = 0; k < q->nopts; k++) {
		q->opts[k].start = q->opts[k].start - se + stem_end;
		q->opts[k].end = q->opts[k].end - se + stem_end;
	}
	free(q->text);
	q->text = b.v;
	q->len = b.n;
	q->stem_end = stem_end;
	return Q_OK;
}

/* ---- wrapped lines and contractions ---- */

/* Whether S[I..N) is "n't" ending a word that began before I ("doesn't", "CAN'T"). */
static bool q_nt(const char *s, size_t from, size_t n, size_t i)
{
	return i > from && q_letter(s[i - 1]) && i + 2 < n && (s[i] == 'n' || s[i] == 'N') &&
	       s[i + 1] == '\'' && (s[i + 2] == 't' || s[i + 2] == 'T') &&
	       (i + 3 == n || !q_letter(s[i + 3]));
}

/* Writes the "n't" at S[I] of the word begun at D[WORD..*W) spelt out: "doesn't" becomes
 * "does not", "can't" "cannot", "won't" "will not", in the case of the "n". */
static void q_expand_nt(const char *s, size_t i, char *d, size_t word, size_t *w)
{
	bool up = s[i] == 'N';
	const char *not = up ? "NOT" : "not";
	size_t len = *w - word;
	char a = len == 2 ? (char)(d[word] | 0x20) : 0, b = len == 2 ? (char)(d[word + 1] | 0x20) : 0;
	if (a == 'c' && b == 'a') {                     /* can't */
		d[(*w)++] = s[i];
	} else if (a == 'w' && b == 'o') {              /* won't */
		bool cap = d[word] == 'W';
		*w = word;
		const char *will = up ? "WILL " : cap ? "Will " : "will ";
		memcpy(d + *w, will, 5);
		*w += 5;
	} else {
		d[(*w)++] = ' ';
	}
	memcpy(d + *w, not, 3);
	*w += 3;
}

/* ---- compound durations ---- */

/* The unit word at S[*I..N) of the duration family F (0: hours, 1: minutes, 2: seconds),
 * whole, skipped when it is one: "hour(s)", "hr(s)"; "minute(s)", "min(s)"; "second(s)",
 * "sec(s)". */
static bool q_unit(const char *s, size_t n, size_t *i, int f)
{
	static const char *const words[3][4] = {
		{ "hours", "hour", "hrs", "hr" },
		{ "minutes", "minute", "mins", "min" },
		{ "seconds", "second", "secs", "sec" },
	};
	for (size_t k = 0; k < 4; k++)
		if (q_word(s, n, i, words[f][k]))
			return true;
	return false;
}

/* A whole number of at most six digits at S[*I..N), skipped; -1 when none starts there. */
static long q_whole(const char *s, size_t n, size_t *i)
{
	size_t j = *i;
	long v = 0;
	while (j < n && j - *i < 6 && s[j] >= '0' && s[j] <= '9')
		v = v * 10 + (s[j++] - '0');
	if (j == *i || (j < n && (q_alnum(s[j]) || ((s[j] == '.' || s[j] == ',') && j + 1 < n &&
	                                            s[j + 1] >= '0' && s[j + 1] <= '9'))))
		return -1;
	*i = j;
	return v;
}

/* A duration told in two units at S[I..N), "1 minute 4 seconds", "2 hours and 15 minutes",
 * "3 min, 20 sec" (whole numbers, the second below 60), written in the smaller unit as
 * it names it ("64 seconds", "135 minutes") to D[*W..), so that a pattern reads one number;
 * returns where the duration ends in S, or I when none starts there (nor after a letter,
 * a digit or a decimal point). The result is never longer than what it replaces. */
static size_t q_duration(const char *s, size_t lo, size_t n, size_t i, char *d, size_t *w)
{
	if (i > lo && (q_alnum(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == ','))
		return i;
	for (int f = 0; f < 2; f++) {
		size_t j = i;
		long a = q_whole(s, n, &j);
		if (a < 0 || j >= n || s[j] != ' ')
			continue;
		j++;
		if (!q_unit(s, n, &j, f))
			continue;
		if (j < n && s[j] == ',')
			j++;
		if (j >= n || s[j] != ' ')
			continue;
		j++;
		q_word_sp(s, n, &j, "and");
		long b = q_whole(s, n, &j);
		if (b < 0 || b >= 60 || j >= n || s[j] != ' ')
			continue;
		size_t unit = ++j;
		if (!q_unit(s, n, &j, f + 1))
			continue;
		char num[24];
		int len = snprintf(num, sizeof(num), "%ld ", a * 60 + b);
		memcpy(d + *w, num, (size_t)len);
		*w += (size_t)len;
		memcpy(d + *w, s + unit, j - unit);
		*w += j - unit;
		return j;
	}
	return i;
}

/* Copies S[FROM..TO), a piece of S[LO..HI), to D[*W..), tidying it as part of the whole
 * (so that a text tidied piece by piece reads as if tidied at once) for the patterns:
 * - between two words, a line break loses the indentation around it ("of\n   training"
 *   reads "of\ntraining", so a pattern's `\s` or lookbehind sees one character, as on one
 *   line), a word broken at its hyphen ("real-\n  time") is joined again, and a run of
 *   spaces becomes one; line breaks themselves stay (the stem keeps its lines), and so do
 *   blank lines and the white space at either end;
 * - negative contractions are spelt out ("doesn't" reads "does not"), so that one pattern
 *   for "does not" reads both;
 * - a duration told in two units is written in the smaller one ("1 minute 4 seconds" reads
 *   "64 seconds", q_duration), so that one number can be read and compared.
 * D has room for twice TO - FROM (a contraction grows by at most three of its five). */
static void q_tidy(const char *s, size_t lo, size_t hi, size_t from, size_t to, char *d,
                   size_t *w)
{
	size_t i = from, word = *w;
	while (i < to) {
		if (q_nt(s, lo, to, i)) {
			q_expand_nt(s, i, d, word, w);
			i += 3;
			continue;
		}
		if (s[i] >= '0' && s[i] <= '9') {
			size_t j = q_duration(s, lo, to, i, d, w);
			if (j > i) {
				word = *w + 1;
				i = j;
				continue;
			}
		}
		if (s[i] != ' ' && s[i] != '\n') {
			if (!q_letter(s[i]))
				word = *w + 1;
			else if (i == lo || !q_letter(s[i - 1]))
				word = *w;
			d[(*w)++] = s[i++];
			continue;
		}
		size_t j = i, breaks = 0;
		for (; j < to && (s[j] == ' ' || s[j] == '\n'); j++)
			breaks += s[j] == '\n';
		bool inner = i > lo && j < hi && breaks <= 1;
		if (!inner) {
			while (i < j)
				d[(*w)++] = s[i++];
			continue;
		}
		bool hyphen = breaks == 1 && i >= lo + 2 && s[i - 1] == '-' &&
		              q_letter(s[i - 2]) && q_letter(s[j]);
		if (!hyphen)
			d[(*w)++] = breaks ? '\n' : ' ';
		i = j;
	}
}

/* Tidies the stem and each option (see q_tidy) into a new text and moves the offsets.
 * Returns Q_ERR_NOMEM or Q_OK. */
static q_status q_compact(question *q)
{
	const char *t = q->text;
	char *d = malloc(2 * q->len + 1);
	if (!d)
		return Q_ERR_NOMEM;
	size_t w = 0, r = 0;
	/* a table's rows are tidied on their own, so that their offsets can move with them;
	 * a row that tidying changes inside is no longer kept */
	uint32_t kept = 0;
	for (uint32_t k = 0; k < q->nrows; k++) {
		q_table_row *row = &q->rows[k];
		q_tidy(t, 0, q->stem_end, r, row->start, d, &w);
		size_t start = w;
		q_tidy(t, 0, q->stem_end, row->start, row->end, d, &w);
		r = row->end;
		if (w - start != row->end - row->start)
			continue;
		size_t by = row->start - start;
		q->rows[kept++] = (q_table_row){ start, w, row->label_start - by,
		                                 row->label_end - by };
	}
	q->nrows = kept;
	q_tidy(t, 0, q->stem_end, r, q->stem_end, d, &w);
	size_t stem_end = w;
	r = q->stem_end;
	for (uint32_t k = 0; k < q->nopts; k++) {
		q_option *o = &q->opts[k];
		while (r < o->start)
			d[w++] = t[r++];
		size_t start = w;
		q_tidy(t, o->start, o->end, o->start, o->end, d, &w);
		r = o->end;
		o->start = start;
		o->end = w;
	}
	while (r < q->len)
		d[w++] = t[r++];
	d[w] = '\0';
	free(q->text);
	q->text = d;
	q->len = w;
	q->stem_end = stem_end;
	return Q_OK;
}

/* ---- "Choose two" ---- */

static const char *const q_nums[] = { "one", "two", "three", "four", "five" };

/* The count at S[*J..N): a digit from LO to HI not followed by a letter or digit, or a
 * number word from LO to five ("two", "THREE"); 0 if none. Skips it. */
static uint32_t q_count(const char *s, size_t n, size_t *j, uint32_t lo, uint32_t hi)
{
	size_t i = *j;
	if (i < n && s[i] >= (char)('0' + lo) && s[i] <= (char)('0' + hi) &&
	    (i + 1 >= n || !q_alnum(s[i + 1]))) {
		*j = i + 1;
		return (uint32_t)(s[i] - '0');
	}
	for (uint32_t k = lo; k <= sizeof(q_nums) / sizeof(*q_nums); k++)
		if (q_word(s, n, j, q_nums[k - 1]))
			return k;
	return 0;
}

/* The count in "Which TWO services ...?", "What three steps ...?" in S[0..N), or 1: a
 * question that opens with how many it wants, without "choose". */
static uint32_t q_which_n(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && q_alnum(s[i - 1]))
			continue;
		size_t j = i;
		if (!q_word(s, n, &j, "which") && !q_word(s, n, &j, "what"))
			continue;
		/* a wrapped question may break the line after any of its words */
		if (j >= n || (s[j] != ' ' && s[j] != '\n'))
			continue;
		/* it opens its sentence: "Between which two values ...?" asks for one range */
		size_t b = i;
		while (b > 0 && (s[b - 1] == ' ' || s[b - 1] == '\n'))
			b--;
		if (b > 0 && !strchr(".?!:", s[b - 1]))
			continue;
		while (j < n && (s[j] == ' ' || s[j] == '\n'))
			j++;
		uint32_t num = q_count(s, n, &j, 2, 5);   /* "which one" asks for one */
		/* a noun follows ("which two services", not "which two-step plan"), and the
		 * sentence asks ("... decide which two regions to use." does not) */
		if (!num || j + 1 >= n || (s[j] != ' ' && s[j] != '\n') || !q_alnum(s[j + 1]))
			continue;
		size_t e = j;
		while (e < n && s[e] != '.' && s[e] != '?')
			e++;
		if (e < n && s[e] == '?')
			return num;
	}
	return 1;
}

/* The count in "choose two", "Select THREE", "(Choose 2 answers)" ... in S[0..N), or 1.
 * The number must end the phrase (a period, a parenthesis, the end of a line) or be
 * followed by a word like "answers", so that "select two features" is not read as one. */
static uint32_t q_choose(const char *s, size_t n)
{
	static const char *const after[] = { "answers", "answer", "options", "option",
	                                     "responses", "response", "choices", "correct" };
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && q_alnum(s[i - 1]))
			continue;
		size_t j = i;
		if (!q_word(s, n, &j, "choose") && !q_word(s, n, &j, "select"))
			continue;
		/* a wrapped question may break the line inside "(Select\nTWO.)" */
		if (j >= n || (s[j] != ' ' && s[j] != '\n'))
			continue;
		while (j < n && (s[j] == ' ' || s[j] == '\n'))
			j++;
		q_word_sp(s, n, &j, "the");
		uint32_t num = q_count(s, n, &j, 1, 9);
		if (!num)
			continue;
		while (j < n && s[j] == ' ')
			j++;
		q_word_sp(s, n, &j, "best");   /* "Select the TWO best answers" */
		bool ends = j >= n || strchr(".)],;:!\n", s[j]) != NULL;
		for (size_t k = 0; !ends && k < sizeof(after) / sizeof(*after); k++) {
			size_t w = j;
			ends = q_word(s, n, &w, after[k]);
		}
		if (ends)
			return num;
	}
	return q_which_n(s, n);
}

/* ---- public ---- */

/* Normalises and splits RAW[0..LEN) into *Q (see question.h). On error *Q holds nothing to
 * free and *ERR_OFF (if not NULL) is the byte offset of the problem in RAW. */
q_status question_parse(const char *raw, size_t len, size_t max_bytes, question *q,
                        size_t *err_off)
{
	size_t off_dummy;
	if (!err_off)
		err_off = &off_dummy;
	*err_off = 0;
	memset(q, 0, sizeof(*q));
	if (!max_bytes)
		max_bytes = Q_DEFAULT_MAX_BYTES;
	if (len > max_bytes) {
		*err_off = max_bytes;
		return Q_ERR_TOO_LONG;
	}
	char *t = malloc(2 * len + 1);
	if (!t)
		return Q_ERR_NOMEM;
	size_t n;
	q_status st = q_normalise(raw ? raw : "", raw ? len : 0, t, &n, err_off);
	if (st != Q_OK) {
		free(t);
		return st;
	}
	n = q_trim(t, n);
	if (n == 0) {
		free(t);
		return Q_ERR_EMPTY;
	}
	q->text = t;
	q->len = n;
	st = q_split(q);
	if (st != Q_OK) {
		question_free(q);
		return st;
	}
	if ((st = q_exhibits(q)) != Q_OK || (st = q_compact(q)) != Q_OK) {
		question_free(q);
		return st;
	}
	q->choose = q_choose(q->text, q->stem_end);
	return Q_OK;
}

/* Frees what question_parse gave *Q and leaves it empty. NULL is allowed. */
void question_free(question *q)
{
	if (!q)
		return;
	free(q->text);
	memset(q, 0, sizeof(*q));
}

/* A static English description of ST. */
const char *q_status_str(q_status st)
{
	switch (st) {
	case Q_OK: return "ok";
	case Q_ERR_NOMEM: return "out of memory";
	case Q_ERR_UTF8: return "invalid UTF-8";
	case Q_ERR_NUL: return "NUL byte in the text";
	case Q_ERR_EMPTY: return "the question is empty";
	case Q_ERR_TOO_LONG: return "the question is too long";
	}
	return "unknown error";
}
