/* SPDX-License-Identifier: MIT */
/*
 * rxlit.c - the words a pattern cannot match without.
 *
 * One question runs every lexicon and alias pattern over a few hundred bytes, and almost
 * none of them match; the regex interpreter still walks the text for each (two thirds of
 * a warm start). Most patterns cannot match unless some literal word is in the text:
 * `\bcost[- ]?(?:effective|efficient)` needs "cost". So each pattern gets a requirement -
 * a set of words of which the text must contain at least one - and a text lacking all of
 * them is skipped without running the regex.
 *
 * The analysis is conservative: it reads the pattern syntax PCRE2 accepts, and anything it
 * does not follow fully ((?x) mode, \Q...\E, conditionals, recursion, verbs, back
 * references) gives no requirement, so the pattern always runs. A requirement is worked
 * out bottom up:
 *   - a run of letters and digits outside any quantifier is a word the sequence needs (a
 *     quantifier `?`, `*` or `{0,...}` takes the last letter out of the run; `+` or {n}
 *     keeps it and ends the run);
 *   - a group that must match (no optional quantifier, not a negative lookaround) needs
 *     what its alternatives need: the union of one requirement from each, or nothing if
 *     one alternative needs nothing. A positive lookahead or lookbehind counts: what it
 *     sees must be in the text, so `(?=[^.]*\bread)(?=[^.]*\bagain\b)` needs "read" and
 *     "again" (the lexicon's order-free entries are written so);
 *   - a sequence needs whichever requirement of its parts is most selective: the one whose
 *     shortest word is longest, then the one with fewest words;
 *   - at the top of the pattern, each alternative needs all of (up to RXL_MAX_SETS of) its
 *     parts' requirements at once, and the pattern needs one alternative's: a text must
 *     hold "click" and one of "through" or "predict" for `\bclick\s*(?:through|predict)`,
 *     not only one of them. So a requirement is a list of clauses (alternatives), each a
 *     list of sets of words, and a text passes when it holds a word of every set of some
 *     clause.
 * Words are kept lowercase; the patterns are caseless, and the check runs on an ASCII
 * lowercase copy of the text (texts with other bytes are not filtered: caseless UTF-8
 * matching folds, for example, U+212A KELVIN SIGN to k).
 *
 * Short words are found inside longer ones ("to" in "store", "in" in "training"), so a
 * word also says where it must stand: at the start of a word of the text (RXLIT_START:
 * the character before it is not an ASCII letter, digit or "_", or there is none) and at
 * the end of one (RXLIT_END), when the pattern makes that certain. Going left to right,
 * the analysis knows at each place whether a letter that follows starts a word: after
 * \b, ^, \A, and after a space, punctuation, \s, \W or a class of those (one that
 * must match: after \s* it knows what it knew before the \s*); a lookaround, \K, an
 * option setting or a comment changes nothing; anything that may match a letter, a digit
 * or "_" (., \w, \d, a negated class, a range, "_") ends it. A group's alternatives start
 * with what was known before it, and after it what holds after all of them. For the end,
 * it looks ahead past the word: \b, $, \z, a space, punctuation, \s or \W (not
 * optional), or a group each of whose alternatives starts so; a word that ends its
 * alternative is settled by what follows the group. A repeated group's words get no edges
 * (its first and last times differ), and a word cut by a quantifier ("costs?") no end.
 * With the edges, " to " weighs as a word of four letters when the most selective
 * requirement is chosen.
 */
#include "rxlit.h"

#include <stdlib.h>
#include <string.h>

#define RXL_MAX_WORDS 64        /* a larger union is not worth checking */
#define RXL_MAX_DEPTH 64
#define RXL_MAX_CLAUSES 16      /* top-level alternatives kept apart; beyond, one union */
#define RXL_MAX_SETS 4          /* requirements kept per alternative: the most selective */

/* RXLIT_START and RXLIT_END as in rxlit.h; RXL_PENDING: the word ends where its
 * alternative ends, so whether it ends a word of the text depends on what follows the
 * group (rxl_settle). */
#define RXL_PENDING 4u
#define RXL_EDGES (RXLIT_START | RXLIT_END)

typedef struct {
	const char *at;
	uint32_t len;
	unsigned edges;
} rxl_word;

/* A requirement: at least one of V[0..N) occurs in the text; N == 0 means none. */
typedef struct {
	rxl_word v[RXL_MAX_WORDS];
	uint32_t n;
} rxl_req;

/* All of SET[0..N) at once: what one top-level alternative needs. */
typedef struct {
	rxl_req set[RXL_MAX_SETS];
	uint32_t n;
} rxl_conj;

typedef struct {
	const char *p;
	bool bad;               /* syntax this analysis does not follow */
	bool skim;              /* only skipping (rxl_next_edge): no look ahead */
	unsigned depth;
} rxl;

static bool rxl_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* How selective word W is: its letters, and one more for each end that must be the end
 * of a word of the text (" to " is rarer than "to", which "store" holds). */
static uint32_t rxl_weight(const rxl_word *w)
{
	return w->len + ((w->edges & RXLIT_START) != 0) + ((w->edges & RXLIT_END) != 0);
}

static uint32_t rxl_shortest(const rxl_req *r)
{
	uint32_t m = UINT32_MAX;
	for (uint32_t i = 0; i < r->n; i++)
		if (rxl_weight(&r->v[i]) < m)
			m = rxl_weight(&r->v[i]);
	return m;
}

/* Copies the words of SRC (not the whole array: requirements are mostly one word). */
static void rxl_copy(rxl_req *dst, const rxl_req *src)
{
	memcpy(dst->v, src->v, src->n * sizeof(*src->v));
	dst->n = src->n;
}

/* Keeps in *BEST the more selective of *BEST and *CAND. */
static void rxl_better(rxl_req *best, const rxl_req *cand)
{
	if (cand->n == 0)
		return;
	if (best->n == 0) {
		rxl_copy(best, cand);
		return;
	}
	uint32_t a = rxl_shortest(best), b = rxl_shortest(cand);
	if (b > a || (b == a && cand->n < best->n))
		rxl_copy(best, cand);
}

/* The word W as a candidate for *BEST. */
static void rxl_word_req(rxl_req *best, const rxl_word *w)
{
	if (w->len == 0)
		return;
	uint32_t n = rxl_weight(w);
	if (best->n == 0 || n > rxl_shortest(best) || (n == rxl_shortest(best) && best->n > 1)) {
		best->v[0] = *w;
		best->n = 1;
	}
}

/* Whether requirement A is more selective than B (see rxl_better). */
static bool rxl_stricter(const rxl_req *a, const rxl_req *b)
{
	uint32_t x = rxl_shortest(a), y = rxl_shortest(b);
	return x > y || (x == y && a->n < b->n);
}

/* Whether the word A[0..N) equals B[0..M) but for case. */
static bool rxl_same_word(const char *a, uint32_t n, const char *b, uint32_t m)
{
	if (n != m)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		char x = a[i], y = b[i];
		x = x >= 'A' && x <= 'Z' ? (char)(x - 'A' + 'a') : x;
		y = y >= 'A' && y <= 'Z' ? (char)(y - 'A' + 'a') : y;
		if (x != y)
			return false;
	}
	return true;
}

/* Adds R to what C needs at once, keeping the RXL_MAX_SETS most selective requirements
 * (dropping one only weakens the filter). C NULL: nothing to do. */
static void rxl_conj_add(rxl_conj *c, const rxl_req *r)
{
	if (!c || r->n == 0)
		return;
	if (r->n == 1)
		for (uint32_t i = 0; i < c->n; i++) {
			rxl_word *w = &c->set[i].v[0];
			if (c->set[i].n != 1 || !rxl_same_word(w->at, w->len, r->v[0].at, r->v[0].len))
				continue;
			/* the same word needed twice: where both ask for the same ends, or one
			 * for fewer, once; else both stay (the ends may be of two occurrences) */
			unsigned a = w->edges & RXL_EDGES, b = r->v[0].edges & RXL_EDGES;
			if ((a & b) == b)
				return;
			if ((a & b) == a) {
				w->edges = r->v[0].edges;
				return;
			}
		}
	if (c->n < RXL_MAX_SETS) {
		rxl_copy(&c->set[c->n++], r);
		return;
	}
	uint32_t weakest = 0;
	for (uint32_t i = 1; i < c->n; i++)
		if (rxl_stricter(&c->set[weakest], &c->set[i]))
			weakest = i;
	if (rxl_stricter(r, &c->set[weakest]))
		rxl_copy(&c->set[weakest], r);
}

/* The word AT[0..LEN) with EDGES as a candidate for *BEST and for what C needs at once. */
static void rxl_word_cand(rxl_req *best, rxl_conj *c, const char *at, uint32_t len,
                          unsigned edges)
{
	rxl_word w = { at, len, edges };
	rxl_word_req(best, &w);
	if (c && len) {
		rxl_req one;
		one.v[0] = w;
		one.n = 1;
		rxl_conj_add(c, &one);
	}
}

/* Reads a quantifier at X->p, if any, with its lazy/possessive mark. Returns 0 for none,
 * 1 for one that allows zero repetitions, 2 for one that needs at least one. */
static int rxl_quant(rxl *x)
{
	const char *p = x->p;
	int kind;
	if (*p == '?' || *p == '*') {
		kind = 1;
		p++;
	} else if (*p == '+') {
		kind = 2;
		p++;
	} else if (*p == '{') {
		const char *q = p + 1;
		unsigned long min = 0;
		bool digits = false;
		while (*q == ' ')
			q++;
		while (*q >= '0' && *q <= '9') {
			min = min * 10 + (unsigned long)(*q++ - '0');
			digits = true;
			if (min > 100000)
				min = 100000;
		}
		while (*q == ' ')
			q++;
		if (*q == ',') {
			q++;
			while (*q == ' ' || (*q >= '0' && *q <= '9'))
				q++;
		} else if (!digits) {
			return 0;       /* a literal "{" */
		}
		if (*q != '}')
			return 0;
		p = q + 1;
		kind = digits && min > 0 ? 2 : 1;
	} else {
		return 0;
	}
	if (*p == '?' || *p == '+')
		p++;
	x->p = p;
	return kind;
}

/* The end of a POSIX class name at P ("[:", "[." or "[=" inside a class), just past its
 * ":]", as PCRE2 reads it: NULL when a "]" or another "[:" comes first (P's "[" is then a
 * literal, and that "]" may close the class: `[[.]|x]` is the class [.[] or "x]"). */
static const char *rxl_posix_end(const char *p)
{
	char term = p[1];
	for (p += 2; p[0] && p[1]; p++) {
		if (*p == '\\' && (p[1] == ']' || p[1] == '\\'))
			p++;
		else if ((*p == '[' && p[1] == term) || *p == ']')
			return NULL;
		else if (*p == term && p[1] == ']')
			return p + 2;
	}
	return NULL;
}

/* Skips a character class starting at X->p ('['). */
static void rxl_class(rxl *x)
{
	const char *p = x->p + 1;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']') {
		if (*p == '\\') {
			if (p[1] == 'Q' || p[1] == 'E' || !p[1]) {
				x->bad = true;
				return;
			}
			p += 2;
		} else if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			const char *e = rxl_posix_end(p);
			p = e ? e : p + 1;      /* not [:name:]: a literal "[" */
		} else {
			p++;
		}
	}
	if (*p != ']') {
		x->bad = true;
		return;
	}
	x->p = p + 1;
}

/* Skips "{...}" at X->p when present (the argument of \x, \p, \o ...). */
static void rxl_braces(rxl *x)
{
	if (*x->p != '{')
		return;
	const char *e = strchr(x->p, '}');
	if (!e)
		x->bad = true;
	else
		x->p = e + 1;
}

/* What an element of a pattern tells of the place after it, for a letter or digit that
 * follows: RXL_KEEP nothing new (it matches no character: a lookaround, \K); RXL_EDGE
 * the character before that letter is not one of a word (\b, ^, \A, or the element
 * matched a space or punctuation); RXL_NONE nothing is known (it may have matched a letter,
 * a digit or "_"). */
enum { RXL_NONE, RXL_EDGE, RXL_KEEP };

/* Skips an escape at X->p ('\\') that stands for something other than a letter or digit
 * of the text (or for nothing: \b, \A ...). Returns what it tells of the place after it. */
static int rxl_escape(rxl *x)
{
	char e = x->p[1];
	x->p += 2;
	switch (e) {
	case 'b': case 'A': case 'z': case 'Z':         /* after \z no letter can follow */
	case 's': case 'W': case 'h': case 'v': case 'R': case 'n': case 't': case 'r':
	case 'f': case 'e': case 'a':
		return RXL_EDGE;
	case 'K':
		return RXL_KEEP;
	case 'B': case 'd': case 'D': case 'S': case 'w': case 'H': case 'V': case 'G':
	case 'X':
		return RXL_NONE;
	case 'x': case 'o':
		if (*x->p == '{')
			rxl_braces(x);
		else
			while (rxl_alnum(*x->p) && (e == 'o' || x->p[0] <= 'f'))
				x->p++;
		return RXL_NONE;
	case 'p': case 'P':
		if (*x->p == '{')
			rxl_braces(x);
		else if (*x->p)
			x->p++;
		return RXL_NONE;
	case '\0':
		x->bad = true;
		return RXL_NONE;
	default:
		/* escaped punctuation is a literal that is not part of a word; anything else
		 * (\Q, \E, \N, \c, \g, \k, digits ...) is not followed */
		if (rxl_alnum(e) || (unsigned char)e >= 0x80)
			x->bad = true;
		return e == '_' ? RXL_NONE : RXL_EDGE;
	}
}

/* Whether the class at P ('[') matches only characters that are not part of a word (no
 * ASCII letter, digit or "_", nothing beyond ASCII): spaces and punctuation, listed one by
 * one or as \s, \h, \v, \W. A negation, a range, a POSIX class: not known. */
static bool rxl_class_nonword(const char *p)
{
	p++;
	if (*p == '^')
		return false;
	for (bool first = true; *p; first = false) {
		unsigned char c = (unsigned char)*p;
		if (c == ']' && !first)
			return true;
		if (c == '\\') {
			char e = p[1];
			if (!(e && strchr("shvWnrtfe", e)) &&
			    (rxl_alnum(e) || e == '_' || !e || (unsigned char)e >= 0x80))
				return false;
			p += 2;
		} else if (c == '-' && !first && p[1] != ']') {
			return false;           /* a range */
		} else if (c == '[' || rxl_alnum((char)c) || c == '_' || c >= 0x80 || c < 0x20) {
			return false;
		} else {
			p++;
		}
	}
	return false;
}

static void rxl_alt(rxl *x, rxl_req *out, bool edge, bool *after);
static void rxl_seq(rxl *x, rxl_req *best, rxl_conj *cj, bool edge, bool *after);

enum { RXL_GROUP, RXL_LOOK, RXL_AHEAD, RXL_BEHIND, RXL_NOTHING };

/* Reads the opening of a group at X->p ('('): returns RXL_GROUP with X->p at its first
 * alternative, RXL_AHEAD or RXL_BEHIND for a positive lookahead or lookbehind and RXL_LOOK
 * for a negative one (X->p likewise), or RXL_NOTHING with X->p past a
 * comment or an option setting; X->bad for what is not followed. */
static int rxl_open(rxl *x)
{
	const char *p = x->p + 1;
	int kind = RXL_GROUP;
	if (*p == '*') {
		x->bad = true;          /* (*VERB) */
		return RXL_NOTHING;
	}
	if (*p == '?') {
		p++;
		if (*p == ':' || *p == '>' || *p == '|') {
			p++;
		} else if (*p == '=' || *p == '!') {
			kind = *p == '=' ? RXL_AHEAD : RXL_LOOK;
			p++;
		} else if (*p == '<' && (p[1] == '=' || p[1] == '!')) {
			kind = p[1] == '=' ? RXL_BEHIND : RXL_LOOK;
			p += 2;
		} else if (*p == '<' || *p == '\'' || (*p == 'P' && p[1] == '<')) {
			const char *e = strchr(p, '>');
			if (*p == '\'')
				e = strchr(p + 1, '\'');
			if (!e) {
				x->bad = true;
				return RXL_NOTHING;
			}
			p = e + 1;
		} else if (*p == '#') {
			const char *e = strchr(p, ')');
			if (!e)
				x->bad = true;
			else
				x->p = e + 1;
			return RXL_NOTHING;
		} else {
			/* option letters: (?i) or (?i:...); x (extended) changes what spaces mean */
			while (*p && strchr("imnsJU-", *p))
				p++;
			if (*p == ')') {
				x->p = p + 1;
				return RXL_NOTHING;
			}
			if (*p != ':') {
				x->bad = true;
				return RXL_NOTHING;
			}
			p++;
		}
	}
	x->p = p;
	return kind;
}

/* A group at X->p ('('), entered where EDGE says (see rxl_seq). Sets *OUT to what it
 * needs (nothing for a negative lookaround, an option setting or a comment), and *AFTER to whether
 * the place after it is the start of a word (for a letter that follows). */
static void rxl_group(rxl *x, rxl_req *out, bool edge, bool *after)
{
	out->n = 0;
	*after = edge;
	int kind = rxl_open(x);
	if (!x->bad && kind == RXL_NOTHING && strchr("?*+{", *x->p) && *x->p)
		x->bad = true;  /* PCRE2 skips a comment: its quantifier is the letter's before */
	if (x->bad || kind == RXL_NOTHING)
		return;
	if (++x->depth > RXL_MAX_DEPTH) {
		x->bad = true;
		return;
	}
	bool inner;
	/* a lookbehind's text ends where it stands: whether a word starts before it is not
	 * known there */
	rxl_alt(x, out, kind == RXL_BEHIND ? false : edge, &inner);
	x->depth--;
	if (x->bad)
		return;
	if (*x->p != ')') {
		x->bad = true;
		return;
	}
	x->p++;
	if (kind == RXL_LOOK) {
		out->n = 0;     /* a negative lookaround needs nothing; it matches no character */
	} else if (kind == RXL_AHEAD || kind == RXL_BEHIND) {
		/* What a positive lookaround sees must be in the text, so its words are needed;
		 * but it matches no character: the place after is the place before, and a word
		 * ending where it ends is not followed by what follows it in the pattern. */
		for (uint32_t i = 0; i < out->n; i++)
			out->v[i].edges &= ~(unsigned)RXL_PENDING;
	} else {
		*after = inner;
	}
}

/* Where X->p stands, right after a letter or digit of the pattern, whether the text's next
 * character is certainly not part of a word (or the end of the text): RXL_EDGE for \b, $,
 * a space, punctuation, a class of those, \s, \W (not optional), or a group each of whose
 * alternatives begins so; RXL_KEEP when the alternative ends here (what follows the group
 * decides); RXL_NONE when not known. Lookarounds, comments and option settings are looked
 * past. X is not moved. */
static int rxl_next_edge(const rxl *x)
{
	rxl y = *x;
	y.skim = true;
	for (;;) {
		char c = *y.p;
		if (!c || c == '|' || c == ')')
			return RXL_KEEP;
		if (c == '$')
			return RXL_EDGE;
		if (c == '\\') {
			char e = y.p[1];
			if (e == 'b' || e == 'z' || e == 'Z')
				return RXL_EDGE;
			if (e == 'K') {
				y.p += 2;
				continue;
			}
			if (rxl_escape(&y) != RXL_EDGE || y.bad)
				return RXL_NONE;
		} else if (c == '[') {
			if (!rxl_class_nonword(y.p))
				return RXL_NONE;
			rxl_class(&y);
		} else if (c == '(') {
			int kind = rxl_open(&y);
			if (y.bad || ++y.depth > RXL_MAX_DEPTH)
				return RXL_NONE;
			if (kind == RXL_NOTHING)
				continue;
			rxl_req scratch;
			bool after;
			if (kind != RXL_GROUP) {   /* a lookaround: looked past */
				rxl_alt(&y, &scratch, false, &after);
				if (y.bad || *y.p != ')')
					return RXL_NONE;
				y.p++;
				if (rxl_quant(&y) == 0) {
					y.depth--;
					continue;
				}
				return RXL_NONE;
			}
			for (;;) {
				if (rxl_next_edge(&y) != RXL_EDGE)
					return RXL_NONE;
				rxl_seq(&y, &scratch, NULL, false, &after);
				if (y.bad)
					return RXL_NONE;
				if (*y.p != '|')
					break;
				y.p++;
			}
			if (*y.p != ')')
				return RXL_NONE;
			y.p++;
			return rxl_quant(&y) == 1 ? RXL_NONE : RXL_EDGE;
		} else if ((unsigned char)c < 0x80 && c > ' ' && !rxl_alnum(c) && c != '_' &&
		           !strchr(".^*+?{", c)) {
			y.p++;          /* punctuation */
		} else if (c == ' ') {
			y.p++;
		} else {
			return RXL_NONE;
		}
		return rxl_quant(&y) == 1 ? RXL_NONE : RXL_EDGE;
	}
}

/* Marks the words of R that end where their alternative ends (RXL_PENDING) as ending a
 * word of the text, or not, as the place X->p says (rxl_next_edge). */
static void rxl_settle(const rxl *x, rxl_req *r)
{
	bool pending = false;
	for (uint32_t i = 0; i < r->n; i++)
		pending = pending || (r->v[i].edges & RXL_PENDING);
	if (!pending)
		return;
	int next = rxl_next_edge(x);
	for (uint32_t i = 0; i < r->n; i++)
		if ((r->v[i].edges & RXL_PENDING) && next != RXL_KEEP)
			r->v[i].edges = (r->v[i].edges & ~RXL_PENDING) |
			                (next == RXL_EDGE ? RXLIT_END : 0u);
}

/* What the end of a word AT X->p (just past its last letter) is: RXLIT_END, RXL_PENDING
 * or 0 (see rxl_next_edge). */
static unsigned rxl_word_end(const rxl *x)
{
	if (x->skim)
		return 0;
	int next = rxl_next_edge(x);
	return next == RXL_EDGE ? RXLIT_END : next == RXL_KEEP ? RXL_PENDING : 0u;
}

/* One alternative: up to '|', ')' or the end, starting where EDGE says whether the text
 * is at the start of a word (the character before is not part of a word, for a letter
 * that follows). *BEST gets its most selective requirement; CJ (when not NULL) all of
 * them, up to RXL_MAX_SETS; *AFTER whether the place after it is the start of a word. */
static void rxl_seq(rxl *x, rxl_req *best, rxl_conj *cj, bool edge, bool *after)
{
	rxl_req part;
	best->n = 0;
	const char *run = NULL;         /* start of the current run of letters and digits */
	unsigned start = 0;             /* RXLIT_START when the run starts a word */
	while (!x->bad && *x->p && *x->p != '|' && *x->p != ')') {
		char c = *x->p;
		if (rxl_alnum(c)) {
			if (!run) {
				run = x->p;
				start = edge ? RXLIT_START : 0u;
			}
			edge = false;
			x->p++;
			char n = *x->p;
			if (n != '?' && n != '*' && n != '+' && n != '{')
				continue;       /* the run goes on */
			const char *end = x->p;
			int q = rxl_quant(x);
			if (q == 1)
				end--;          /* the last letter may be absent */
			if (q) {
				/* what follows the run is one of its letters, or not */
				rxl_word_cand(best, cj, run, (uint32_t)(end - run), start);
				run = NULL;
			}
			continue;
		}
		if (run) {
			rxl_word_cand(best, cj, run, (uint32_t)(x->p - run), start | rxl_word_end(x));
			run = NULL;
		}
		part.n = 0;
		bool before = edge;
		int says = RXL_NONE;
		bool group = false;
		if (c == '\\') {
			says = rxl_escape(x);
		} else if (c == '[') {
			says = rxl_class_nonword(x->p) ? RXL_EDGE : RXL_NONE;
			rxl_class(x);
		} else if (c == '(') {
			bool inner;
			rxl_group(x, &part, edge, &inner);
			says = inner ? RXL_EDGE : RXL_NONE;
			group = true;
		} else if ((unsigned char)c >= 0x80) {
			x->p++;
			while (((unsigned char)*x->p & 0xC0) == 0x80)
				x->p++;
		} else if (c == '?' || c == '*' || c == '+' || c == '{') {
			if (rxl_quant(x) == 0)
				x->p++;         /* a literal "{" */
			edge = false;
			continue;
		} else {
			/* ^ and $ (no letter follows $), a space and punctuation; "." and "_" may
			 * be part of a word */
			says = c == '.' || c == '_' ? RXL_NONE : RXL_EDGE;
			x->p++;
		}
		if (x->bad)
			break;
		edge = says == RXL_KEEP ? before : says == RXL_EDGE;
		char n = *x->p;
		int q = (n == '?' || n == '*' || n == '+' || n == '{') ? rxl_quant(x) : 0;
		if (q == 1) {
			part.n = 0;
			edge = edge && before;  /* present or not */
		}
		if (q && group)
			for (uint32_t i = 0; i < part.n; i++)
				part.v[i].edges = 0;    /* repeated: the first and last time differ */
		else if (!x->skim)
			rxl_settle(x, &part);
		rxl_better(best, &part);
		rxl_conj_add(cj, &part);
	}
	if (run)
		rxl_word_cand(best, cj, run, (uint32_t)(x->p - run), start | rxl_word_end(x));
	*after = edge;
}

/* Alternatives up to ')' or the end into *ALL: the union of one requirement from each.
 * Each starts where EDGE says (see rxl_seq); *AFTER: whether the place after every one of
 * them is the start of a word. */
static void rxl_alt(rxl *x, rxl_req *all, bool edge, bool *after)
{
	rxl_req r;
	bool none = false;
	all->n = 0;
	*after = true;
	for (;;) {
		bool end;
		rxl_seq(x, &r, NULL, edge, &end);
		if (x->bad)
			return;
		*after = *after && end;
		if (r.n == 0 || all->n + r.n > RXL_MAX_WORDS)
			none = true;
		if (!none) {
			memcpy(all->v + all->n, r.v, r.n * sizeof(*r.v));
			all->n += r.n;
		}
		if (*x->p != '|')
			break;
		x->p++;
	}
	if (none)
		all->n = 0;
}

/* The top of the pattern: its alternatives, each with what it needs at once, into
 * CL[0..*NCL); *ALL gets the union of one requirement from each (what is kept when there
 * are more than RXL_MAX_CLAUSES alternatives). *NCL 0: the pattern needs nothing. */
static void rxl_top(rxl *x, rxl_conj *cl, uint32_t *ncl, rxl_req *all)
{
	rxl_req r;
	bool none = false, wide = false;
	uint32_t n = 0;
	all->n = 0;
	for (;;) {
		rxl_conj *c = n < RXL_MAX_CLAUSES ? &cl[n] : NULL;
		if (c)
			c->n = 0;
		bool after;
		rxl_seq(x, &r, c, false, &after);       /* a match may start inside a word */
		if (x->bad)
			return;
		if (r.n == 0)
			none = true;
		if (n++ >= RXL_MAX_CLAUSES)
			wide = true;
		if (all->n + r.n > RXL_MAX_WORDS)
			all->n = RXL_MAX_WORDS + 1;     /* too wide a union: unusable */
		else {
			memcpy(all->v + all->n, r.v, r.n * sizeof(*r.v));
			all->n += r.n;
		}
		if (*x->p != '|')
			break;
		x->p++;
	}
	*ncl = none ? 0 : n;
	if (!none && wide) {
		/* one clause of one set, the union, if it is not too wide */
		*ncl = all->n <= RXL_MAX_WORDS ? 1 : 0;
		if (*ncl) {
			rxl_copy(&cl[0].set[0], all);
			cl[0].n = 1;
		}
	}
}

/* Lowercases AT[0..LEN) into W (LEN + 1 bytes, NUL-terminated). */
static void rxl_lower_word(char *w, const char *at, uint32_t len)
{
	for (uint32_t j = 0; j < len; j++) {
		char c = at[j];
		w[j] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	w[len] = '\0';
}

bool rxlit_analyse(const char *pattern, rxlit *out)
{
	memset(out, 0, sizeof(*out));
	if (!pattern)
		return true;
	rxl x = { pattern, false, false, 0 };
	rxl_req *all = malloc(sizeof(*all));
	rxl_conj *cl = malloc(RXL_MAX_CLAUSES * sizeof(*cl));
	if (!all || !cl) {
		free(all);
		free(cl);
		return false;
	}
	uint32_t ncl = 0;
	rxl_top(&x, cl, &ncl, all);
	bool ok = true;
	if (!x.bad && *x.p == '\0' && ncl > 0) {
		/* the most selective set of each clause first: it fails soonest */
		size_t bytes = 0, nshape = 1, nw = 0;
		for (uint32_t c = 0; c < ncl; c++) {
			rxl_conj *cj = &cl[c];
			for (uint32_t i = 1; i < cj->n; i++)
				for (uint32_t j = i; j > 0 && rxl_stricter(&cj->set[j], &cj->set[j - 1]); j--) {
					rxl_req *t = all;       /* all is no longer needed: a swap buffer */
					rxl_copy(t, &cj->set[j]);
					rxl_copy(&cj->set[j], &cj->set[j - 1]);
					rxl_copy(&cj->set[j - 1], t);
				}
			nshape += 1 + cj->n;
			for (uint32_t i = 0; i < cj->n; i++)
				for (uint32_t k = 0; k < cj->set[i].n; k++) {
					bytes += cj->set[i].v[k].len + 1;
					nw++;
				}
		}
		char *buf = malloc(bytes + nshape + nw);
		const char **words = malloc(nw * sizeof(*words));
		ok = buf && words;
		if (ok) {
			uint8_t *shape = (uint8_t *)buf + bytes, *edges = shape + nshape;
			char *w = buf;
			uint32_t n = 0, at = 0;
			shape[at++] = (uint8_t)ncl;
			for (uint32_t c = 0; c < ncl; c++) {
				shape[at++] = (uint8_t)cl[c].n;
				for (uint32_t i = 0; i < cl[c].n; i++) {
					const rxl_req *r = &cl[c].set[i];
					uint32_t first = n;
					for (uint32_t k = 0; k < r->n; k++) {
						rxl_lower_word(w, r->v[k].at, r->v[k].len);
						/* a word repeated in a set counts once: "(?:cost|costs?)",
						 * with the ends both ask for (either is enough) */
						uint8_t e = (uint8_t)(r->v[k].edges & RXL_EDGES);
						bool seen = false;
						for (uint32_t j = first; j < n && !seen; j++)
							if (strcmp(words[j], w) == 0) {
								seen = true;
								edges[j] &= e;
							}
						if (!seen) {
							edges[n] = e;
							words[n++] = w;
							w += r->v[k].len + 1;
						}
					}
					shape[at++] = (uint8_t)(n - first);
				}
			}
			out->words = words;
			out->nwords = n;
			out->shape = shape;
			out->edges = edges;
			out->buf = buf;
		} else {
			free(buf);
			free(words);
		}
	}
	free(all);
	free(cl);
	return ok;      /* otherwise no requirement: the pattern always runs */
}

void rxlit_free(rxlit *r)
{
	if (!r)
		return;
	free(r->words);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

struct rxlit_table {
	const unsigned char *p;         /* the bytes rxlit_table_encode wrote (borrowed) */
	uint32_t n;                     /* distinct words */
	uint32_t *at;                   /* word I: its edges at P[AT[I]], length, letters */
};

/* Where word I of R, read from a table, is in the table's bytes. */
static const unsigned char *rxl_table_word(const rxlit *r, uint32_t i)
{
	const unsigned char *id = r->ids + 2 * (size_t)i;
	return r->table->p + r->table->at[id[0] | (uint32_t)id[1] << 8];
}

const char *rxlit_word(const rxlit *r, uint32_t i, size_t *len)
{
	if (r->words) {
		*len = strlen(r->words[i]);
		return r->words[i];
	}
	const unsigned char *w = rxl_table_word(r, i);
	*len = w[1];
	return (const char *)w + 2;
}

unsigned rxlit_word_edges(const rxlit *r, uint32_t i)
{
	return r->words ? r->edges[i] : rxl_table_word(r, i)[0];
}

static uint32_t rxl_coded_len(size_t n)
{
	return n > RXLIT_WORD_MAX ? RXLIT_WORD_MAX : (uint32_t)n;
}

/* The edges of word I of R as coded: a word cut to RXLIT_WORD_MAX letters has lost its end. */
static unsigned char rxl_coded_edges(const rxlit *r, uint32_t i, size_t len)
{
	unsigned e = rxlit_word_edges(r, i);
	return (unsigned char)(len > RXLIT_WORD_MAX ? e & ~RXLIT_END : e);
}

/* The bytes of R's shape: 1 + clauses + sets. */
static size_t rxl_shape_len(const rxlit *r)
{
	if (r->nwords == 0)
		return 1;
	const uint8_t *sh = r->shape;
	size_t n = 1;
	for (uint32_t c = 0, ncl = sh[0]; c < ncl; c++) {
		uint32_t ns = sh[n];
		n += 1 + ns;
	}
	return n;
}

size_t rxlit_encoded_size(const rxlit *r)
{
	size_t n = rxl_shape_len(r), wl;
	for (uint32_t i = 0; i < r->nwords; i++) {
		(void)rxlit_word(r, i, &wl);
		n += 2 + rxl_coded_len(wl);
	}
	return n;
}

void rxlit_encode(const rxlit *r, unsigned char *out)
{
	if (r->nwords == 0) {
		*out = 0;
		return;
	}
	size_t sl = rxl_shape_len(r);
	memcpy(out, r->shape, sl);
	out += sl;
	for (uint32_t i = 0; i < r->nwords; i++) {
		size_t wl;
		const char *w = rxlit_word(r, i, &wl);
		uint32_t n = rxl_coded_len(wl);
		*out++ = rxl_coded_edges(r, i, wl);
		*out++ = (unsigned char)n;
		memcpy(out, w, n);
		out += n;
	}
}

/* The words array, the shape, the edges and the letters share one block: WORDS[0..N)
 * pointers, the shape, EDGES[0..N), then the NUL-terminated words. */
size_t rxlit_decode(const unsigned char *p, size_t len, rxlit *out, bool *nomem)
{
	memset(out, 0, sizeof(*out));
	*nomem = false;
	if (len < 1 || p[0] > RXL_MAX_CLAUSES)
		return 0;
	size_t off = 1, n = 0;
	for (uint32_t c = 0; c < p[0]; c++) {
		if (off >= len || p[off] == 0 || p[off] > RXL_MAX_SETS)
			return 0;
		uint32_t ns = p[off++];
		for (uint32_t i = 0; i < ns; i++) {
			if (off >= len || p[off] == 0 || p[off] > RXL_MAX_WORDS)
				return 0;
			n += p[off++];
		}
	}
	size_t sl = off, letters = 0;
	for (size_t i = 0; i < n; i++) {
		if (len - off < 2 || (p[off] & ~RXL_EDGES) || p[off + 1] == 0 ||
		    p[off + 1] > len - off - 2)
			return 0;
		size_t wl = p[off + 1];
		for (size_t j = 0; j < wl; j++) {
			unsigned char c = p[off + 2 + j];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
				return 0;
		}
		letters += wl + 1;
		off += 2 + wl;
	}
	if (n == 0)
		return off;
	const char **words = malloc(n * sizeof(*words) + sl + n + letters);
	if (!words) {
		*nomem = true;
		return 0;
	}
	uint8_t *shape = (uint8_t *)(words + n), *edges = shape + sl;
	memcpy(shape, p, sl);
	char *w = (char *)edges + n;
	for (size_t i = 0, at = sl; i < n; i++) {
		size_t wl = p[at + 1];
		edges[i] = p[at];
		memcpy(w, p + at + 2, wl);
		w[wl] = '\0';
		words[i] = w;
		w += wl + 1;
		at += 2 + wl;
	}
	out->words = words;
	out->nwords = (uint32_t)n;
	out->shape = shape;
	out->edges = edges;
	return off;
}

bool rxlit_lower(const char *text, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c >= 0x80)
			return false;
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : (char)c;
	}
	return true;
}

/* Whether C can be part of a word for \b: an ASCII letter, digit or "_" (a text with
 * other bytes is not filtered). */
static bool rxl_wordbyte(char c)
{
	return rxl_alnum(c) || c == '_';
}

/* Whether the text LOWER[0..LEN) holds the word W[0..N), where EDGES says. */
static bool rxl_holds(const char *lower, size_t len, const char *w, size_t n, unsigned edges)
{
	for (const char *p = lower, *end = lower + len; (size_t)(end - p) >= n; p++) {
		p = memchr(p, w[0], (size_t)(end - p) - n + 1);
		if (!p)
			break;
		if (memcmp(p, w, n) == 0 &&
		    !((edges & RXLIT_START) && p > lower && rxl_wordbyte(p[-1])) &&
		    !((edges & RXLIT_END) && p + n < end && rxl_wordbyte(p[n])))
			return true;
	}
	return false;
}

/* 1..36 for a lowercase letter or a digit, 0 for anything else: the pair index. */
static unsigned rxl_code(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 1u;
	if (c >= '0' && c <= '9')
		return c - '0' + 27u;
	return 0;
}

void rxlit_text_index(rxlit_text *t, const char *lower, size_t len)
{
	t->lower = lower;
	t->len = len;
	t->table = NULL;        /* KNOWN is cleared when a table's words are first looked up */
	memset(t->pairs, 0, sizeof(t->pairs));
	memset(t->triples, 0, sizeof(t->triples));
	unsigned prev2 = 0, prev = len ? rxl_code((unsigned char)lower[0]) : 0;
	for (size_t i = 1; i < len; i++) {
		unsigned cur = rxl_code((unsigned char)lower[i]);
		if (prev && cur) {
			unsigned b = prev * 37u + cur;
			t->pairs[b / 64] |= (uint64_t)1 << (b % 64);
			if (prev2) {
				b += prev2 * 37u * 37u;
				t->triples[b / 64] |= (uint64_t)1 << (b % 64);
			}
		}
		prev2 = prev;
		prev = cur;
	}
}

/* Whether the text LOWER[0..LEN) (indexed as T, when not NULL) holds word W[0..WL), where
 * EDGES says. */
static bool rxl_has(const rxlit_text *t, const char *lower, size_t len, const char *w,
                    size_t wl, unsigned edges)
{
	if (t) {
		/* words are letters and digits (rxlit_analyse, rxlit_decode, rxlit_table_open):
		 * each pair and triple of them must be in the text */
		unsigned prev = 0;
		for (size_t n = 1; n < wl; n++) {
			unsigned b = rxl_code((unsigned char)w[n - 1]) * 37u +
			             rxl_code((unsigned char)w[n]);
			if (!((t->pairs[b / 64] >> (b % 64)) & 1))
				return false;
			if (prev) {
				b += prev * 37u * 37u;
				if (!((t->triples[b / 64] >> (b % 64)) & 1))
					return false;
			}
			prev = rxl_code((unsigned char)w[n - 1]);
		}
	}
	return rxl_holds(lower, len, w, wl, edges);
}

/* Whether the text holds word I of R: looked up once per text for a word of a table. */
static bool rxl_has_word(const rxlit *r, uint32_t i, rxlit_text *t, const char *lower,
                         size_t len)
{
	size_t wl;
	if (t && r->table && t->table != r->table && !t->table) {
		t->table = r->table;
		memset(t->known, 0, sizeof(t->known));
	}
	if (!t || !r->table || t->table != r->table) {
		const char *w = rxlit_word(r, i, &wl);
		return rxl_has(t, lower, len, w, wl, rxlit_word_edges(r, i));
	}
	const unsigned char *idp = r->ids + 2 * (size_t)i;
	uint32_t id = idp[0] | (uint32_t)idp[1] << 8;
	uint64_t bit = (uint64_t)1 << (id % 64);
	if (t->known[id / 64] & bit)
		return (t->found[id / 64] & bit) != 0;
	const unsigned char *w = rxl_table_word(r, i);  /* edges, length, letters */
	bool has = rxl_has(t, lower, len, (const char *)w + 2, w[1], w[0]);
	t->known[id / 64] |= bit;
	if (has)
		t->found[id / 64] |= bit;
	else
		t->found[id / 64] &= ~bit;
	return has;
}

/* Whether some clause of R has a word of each of its sets in the text (see rxl_has). */
static bool rxl_passes(const rxlit *r, rxlit_text *t, const char *lower, size_t len)
{
	const uint8_t *sh = r->shape;
	uint32_t ncl = *sh++, w = 0;
	for (uint32_t c = 0; c < ncl; c++) {
		uint32_t ns = *sh++;
		bool all = true;
		for (uint32_t i = 0; i < ns; i++) {
			uint32_t nw = *sh++;
			bool any = false;
			for (uint32_t k = 0; all && k < nw && !any; k++)
				any = rxl_has_word(r, w + k, t, lower, len);
			all = all && any;
			w += nw;
		}
		if (all)
			return true;
	}
	return false;
}

bool rxlit_may_match_in(const rxlit *r, rxlit_text *t)
{
	if (!r || r->nwords == 0 || !t || !t->lower)
		return true;
	return rxl_passes(r, t, t->lower, t->len);
}

bool rxlit_may_match(const rxlit *r, const char *lower, size_t len)
{
	if (!r || r->nwords == 0 || !lower)
		return true;
	return rxl_passes(r, NULL, lower, len);
}

/* ---- tables ---- */

/* A distinct-word index for rxlit_table_encode: open addressing over word numbers. */
typedef struct {
	const char **w;         /* word I's letters, length and edges */
	uint32_t *len;
	unsigned char *edges;
	uint32_t n, cap;        /* words so far; slots (a power of two) */
	uint32_t *slot;         /* word number + 1, 0 for an empty slot */
} rxl_index;

static uint32_t rxl_hash(const char *w, size_t n)
{
	uint32_t h = 2166136261u;       /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)w[i]) * 16777619u;
	return h;
}

/* The number of word W[0..N) with EDGES in X, added when new; UINT32_MAX when out of
 * memory. */
static uint32_t rxl_index_id(rxl_index *x, const char *w, uint32_t n, unsigned char edges)
{
	if (2 * (x->n + 1) > x->cap) {
		uint32_t cap = x->cap ? x->cap * 2 : 1024;
		uint32_t *slot = calloc(cap, sizeof(*slot));
		const char **ws = realloc(x->w, cap / 2 * sizeof(*ws));
		if (ws)
			x->w = ws;
		uint32_t *ls = realloc(x->len, cap / 2 * sizeof(*ls));
		if (ls)
			x->len = ls;
		unsigned char *es = realloc(x->edges, cap / 2);
		if (es)
			x->edges = es;
		if (!slot || !ws || !ls || !es) {
			free(slot);
			return UINT32_MAX;
		}
		for (uint32_t i = 0; i < x->n; i++) {
			uint32_t h = (rxl_hash(x->w[i], x->len[i]) + x->edges[i]) & (cap - 1);
			while (slot[h])
				h = (h + 1) & (cap - 1);
			slot[h] = i + 1;
		}
		free(x->slot);
		x->slot = slot;
		x->cap = cap;
	}
	uint32_t h = (rxl_hash(w, n) + edges) & (x->cap - 1);
	for (; x->slot[h]; h = (h + 1) & (x->cap - 1)) {
		uint32_t i = x->slot[h] - 1;
		if (x->len[i] == n && x->edges[i] == edges && memcmp(x->w[i], w, n) == 0)
			return i;
	}
	x->w[x->n] = w;
	x->len[x->n] = n;
	x->edges[x->n] = edges;
	x->slot[h] = ++x->n;
	return x->n - 1;
}

/* Appends P[0..N) to *OUT (*LEN bytes of *CAP); false when out of memory. */
static bool rxl_put(unsigned char **out, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (n > *cap - *len) {
		size_t c = *cap ? *cap : 4096;
		while (n > c - *len)
			c *= 2;
		unsigned char *b = realloc(*out, c);
		if (!b)
			return false;
		*out = b;
		*cap = c;
	}
	if (n)
		memcpy(*out + *len, p, n);
	*len += n;
	return true;
}

static bool rxl_put_u32(unsigned char **out, size_t *len, size_t *cap, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8),
	                       (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
	return rxl_put(out, len, cap, b, 4);
}

/* The table: the number of words, each word (its edges, a length byte, its letters), the
 * number of
 * requirements, and each requirement: its shape (as rxlit_encode writes it) and the
 * numbers of its words, two bytes each. */
bool rxlit_table_encode(const rxlit *const *needs, size_t n, unsigned char **out,
                        size_t *len)
{
	*out = NULL;
	*len = 0;
	if (n > UINT32_MAX)
		return false;
	rxl_index x = { NULL, NULL, NULL, 0, 0, NULL };
	uint32_t **ids = calloc(n ? n : 1, sizeof(*ids));
	bool ok = ids != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		const rxlit *r = needs[i];
		if (r->nwords == 0)
			continue;
		ids[i] = malloc(r->nwords * sizeof(**ids));
		ok = ids[i] != NULL;
		for (uint32_t k = 0; ok && k < r->nwords; k++) {
			size_t wl;
			const char *w = rxlit_word(r, k, &wl);
			ids[i][k] = rxl_index_id(&x, w, rxl_coded_len(wl), rxl_coded_edges(r, k, wl));
			ok = ids[i][k] != UINT32_MAX;
		}
	}
	size_t cap = 0;
	uint32_t nw = x.n < RXLIT_TABLE_MAX ? x.n : RXLIT_TABLE_MAX;
	ok = ok && rxl_put_u32(out, len, &cap, nw);
	for (uint32_t i = 0; ok && i < nw; i++) {
		unsigned char el[2] = { x.edges[i], (unsigned char)x.len[i] };
		ok = rxl_put(out, len, &cap, el, 2) && rxl_put(out, len, &cap, x.w[i], el[1]);
	}
	ok = ok && rxl_put_u32(out, len, &cap, (uint32_t)n);
	for (size_t i = 0; ok && i < n; i++) {
		const rxlit *r = needs[i];
		bool fits = r->nwords > 0;
		for (uint32_t k = 0; fits && k < r->nwords; k++)
			fits = ids[i][k] < RXLIT_TABLE_MAX;
		if (!fits) {
			unsigned char none = 0;
			ok = rxl_put(out, len, &cap, &none, 1);
			continue;
		}
		ok = rxl_put(out, len, &cap, r->shape, rxl_shape_len(r));
		for (uint32_t k = 0; ok && k < r->nwords; k++) {
			unsigned char b[2] = { (unsigned char)ids[i][k], (unsigned char)(ids[i][k] >> 8) };
			ok = rxl_put(out, len, &cap, b, 2);
		}
	}
	for (size_t i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
	free(x.w);
	free(x.len);
	free(x.edges);
	free(x.slot);
	if (!ok) {
		free(*out);
		*out = NULL;
		*len = 0;
	}
	return ok;
}

static uint32_t rxl_get_u32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

rxlit_table *rxlit_table_open(const unsigned char *p, size_t len, size_t n, rxlit *out)
{
	memset(out, 0, n * sizeof(*out));
	rxlit_table *t = calloc(1, sizeof(*t));
	if (!t || len < 4 || !p) {
		free(t);
		return NULL;
	}
	t->p = p;
	t->n = rxl_get_u32(p);
	size_t off = 4;
	bool ok = t->n <= RXLIT_TABLE_MAX && t->n <= (len - off) / 3;
	t->at = ok ? malloc((t->n ? t->n : 1) * sizeof(*t->at)) : NULL;
	ok = ok && t->at;
	for (uint32_t i = 0; ok && i < t->n; i++) {
		ok = len - off >= 2 && !(p[off] & ~RXL_EDGES);
		size_t wl = ok ? p[off + 1] : 0;
		ok = ok && wl > 0 && wl <= len - off - 2;
		for (size_t j = 0; ok && j < wl; j++) {
			unsigned char c = p[off + 2 + j];
			ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		}
		t->at[i] = (uint32_t)off;
		off += 2 + wl;
	}
	ok = ok && len - off >= 4 && rxl_get_u32(p + off) == n;
	off += 4;
	for (size_t i = 0; ok && i < n; i++) {
		const unsigned char *shape = p + off;
		ok = off < len && p[off] <= RXL_MAX_CLAUSES;
		uint32_t ncl = ok ? p[off++] : 0, nw = 0;
		for (uint32_t c = 0; ok && c < ncl; c++) {
			ok = off < len && p[off] > 0 && p[off] <= RXL_MAX_SETS;
			uint32_t ns = ok ? p[off++] : 0;
			for (uint32_t k = 0; ok && k < ns; k++) {
				ok = off < len && p[off] > 0 && p[off] <= RXL_MAX_WORDS;
				if (ok)
					nw += p[off++];
			}
		}
		ok = ok && (size_t)nw * 2 <= len - off;
		for (uint32_t k = 0; ok && k < nw; k++)
			ok = (p[off + 2 * k] | (uint32_t)p[off + 2 * k + 1] << 8) < t->n;
		if (ok && nw) {
			out[i].nwords = nw;
			out[i].shape = shape;
			out[i].table = t;
			out[i].ids = p + off;
		}
		off += 2 * (size_t)nw;
	}
	if (!ok || off != len) {
		memset(out, 0, n * sizeof(*out));
		rxlit_table_free(t);
		return NULL;
	}
	return t;
}

void rxlit_table_free(rxlit_table *t)
{
	if (!t)
		return;
	free(t->at);
	free(t);
}
