/* SPDX-License-Identifier: MIT */
/*
 * rxlit.c - the words a pattern cannot match without.
 *
 * One question runs every lexicon and alias pattern over a few hundred bytes, and almost
 * none of them match; the regex interpreter still walks the text for each (two thirds of
 * a warm start). Most patterns cannot match unless some literal words are in the text:
 * `\bcost[- ]?(?:effective|efficient)` needs "cost" and one of "effective" or "efficient".
 * So each pattern gets a requirement - a formula of ANDs and ORs over words - and a text
 * that does not satisfy it is skipped without running the regex.
 *
 * The analysis is conservative: it reads the pattern syntax PCRE2 accepts, and anything it
 * does not follow fully ((?x) mode, \Q...\E, conditionals, (*ACCEPT) and the settings
 * that open a pattern) gives no requirement, so the pattern always runs. The backtracking
 * verbs ((*SKIP)(*FAIL) and the like) only take matches away, so they are passed over; a
 * (?(DEFINE)...) group matches nothing where it stands; a call of a group ((?&name), (?1),
 * (?R), \g<name>) and a back reference (\k<name>, \1, \g{-1}) need nothing more than
 * the group they name, and may match letters. A requirement is worked out bottom up,
 * following the pattern's own shape:
 *   - a run of letters and digits outside any quantifier is a word the sequence needs (a
 *     quantifier `?`, `*` or `{0,...}` takes the last letter out of the run; `+` or {n}
 *     keeps it and ends the run);
 *   - a sequence needs all of what its parts need (an AND);
 *   - a group that must match (no optional quantifier, not a negative lookaround) needs
 *     what one of its alternatives needs (an OR), and nothing if one alternative needs
 *     nothing; the top of the pattern is such a group. A positive lookahead or lookbehind
 *     counts: what it sees must be in the text, so
 *     `(?=[^.]*\b(?:read|load))(?=[^.]*\bagain\b)` needs "again" and one of "read" or
 *     "load" (the lexicon's order-free entries are written so), and an alternative of a
 *     group needs all of its own words: `(?:\bher\s+usual\s+desk|\bnothing\s+but)` is not
 *     passed by a text holding only "her".
 * The formula is flattened (an AND inside an AND is one AND), a word repeated in it is
 * kept once where that loses nothing, and the parts of an AND are ordered so that a check
 * fails soonest at the least cost: those of fewest words first, then the most selective
 * (the one whose weakest word is longest). A formula
 * of more than RXL_MAX_LEAVES words loses the least selective parts of its ANDs until it
 * fits (dropping a part only weakens the filter; each AND keeps its most selective part),
 * or needs nothing.
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
 * With the edges, " to " weighs as a word of four letters when parts are ordered.
 *
 * A check reads the table's requirements in place (rxlit_table_open): the text is first
 * cut into its runs of letters and digits, and every piece of each looked up in the
 * table's hash of words (rxl_text_scan), so that each word of a requirement is then one
 * bit; an AND stops at the first part the text lacks and an OR at the first it holds,
 * stepping over the rest by the sizes in each node's head. Most requirements are not read
 * at all: the table keeps, per word, the requirements whose key holds it (a key is a few
 * of a requirement's words of which every text it passes holds one), and the words the
 * text holds mark the requirements worth reading when the text is scanned.
 */
#include "rxlit.h"

#include <stdlib.h>
#include <string.h>

#define RXL_MAX_DEPTH 64        /* nesting of the pattern's groups */
#define RXL_MAX_LEAVES 4096     /* words kept per requirement */
#define RXL_MAX_NODES 65536     /* nodes per analysis: beyond, a part needs nothing */
#define RXL_MAX_NEST 160        /* nesting of a requirement's ANDs and ORs (the analysis
                                 * makes at most two per group of the pattern) */

/* RXLIT_START and RXLIT_END as in rxlit.h; RXL_PENDING: the word ends where its
 * alternative ends, so whether it ends a word of the text depends on what follows the
 * group (rxl_settle). */
#define RXL_PENDING 4u
#define RXL_EDGES (RXLIT_START | RXLIT_END)

/* A node of a requirement while it is worked out: a word (AT[0..LEN), its EDGES) or an
 * AND or an OR of its children (KID, then each one's NEXT). Node 0 stands for nothing
 * needed, which is what a node that could not be made gives. */
typedef struct {
	const char *at;
	uint32_t len;
	uint8_t kind;           /* RXLIT_NODE_* */
	uint8_t edges;
	uint32_t kid, next;
	uint32_t leaves;        /* its words, once normalised (rxl_norm) */
	uint32_t strength;      /* how selective: see rxl_norm */
} rxl_node;

typedef struct {
	rxl_node *v;
	uint32_t n, cap;
} rxl_pool;

typedef struct {
	const char *p;
	bool bad;               /* syntax this analysis does not follow */
	bool skim;              /* only skipping (rxl_next_edge): no look ahead, no nodes */
	bool nomem;
	unsigned depth;
	rxl_pool *pool;
} rxl;

static bool rxl_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
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

/* A new node of KIND in X's pool: its number, or 0 (nothing needed, which is always
 * safe) when skimming, out of memory or past RXL_MAX_NODES. */
static uint32_t rxl_node_new(rxl *x, uint8_t kind)
{
	rxl_pool *p = x->pool;
	if (!p || x->skim)
		return 0;
	if (p->n == p->cap) {
		if (p->cap >= RXL_MAX_NODES)
			return 0;
		uint32_t cap = p->cap ? p->cap * 2 : 64;
		rxl_node *v = realloc(p->v, cap * sizeof(*v));
		if (!v) {
			x->nomem = true;
			return 0;
		}
		p->v = v;
		p->cap = cap;
	}
	memset(&p->v[p->n], 0, sizeof(p->v[p->n]));
	p->v[p->n].kind = kind;
	return p->n++;
}

/* Appends CHILD to the children of PARENT, whose last one is *TAIL (0: none yet). A
 * CHILD 0 (nothing needed) is left out: for an AND that is right, and an OR is made
 * nothing by its caller instead. */
static void rxl_node_add(rxl *x, uint32_t parent, uint32_t *tail, uint32_t child)
{
	if (!parent || !child)
		return;
	if (*tail)
		x->pool->v[*tail].next = child;
	else
		x->pool->v[parent].kid = child;
	*tail = child;
}

/* The word AT[0..LEN) with EDGES as a node (0 for an empty word). */
static uint32_t rxl_leaf(rxl *x, const char *at, uint32_t len, unsigned edges)
{
	uint32_t i = len ? rxl_node_new(x, RXLIT_NODE_WORD) : 0;
	if (i) {
		x->pool->v[i].at = at;
		x->pool->v[i].len = len;
		x->pool->v[i].edges = (uint8_t)edges;
	}
	return i;
}

/* The first node made after X's pool held MARK nodes: the words from there on belong to
 * the part being read. */
static uint32_t rxl_mark(const rxl *x)
{
	return x->pool && !x->skim ? x->pool->n : UINT32_MAX;
}

/* Sets the edges of the words made since MARK to (EDGES & KEEP) | SET. */
static void rxl_edges_set(rxl *x, uint32_t mark, unsigned keep, unsigned set)
{
	for (uint32_t i = mark; x->pool && i < x->pool->n; i++)
		if (x->pool->v[i].kind == RXLIT_NODE_WORD)
			x->pool->v[i].edges = (uint8_t)((x->pool->v[i].edges & keep) | set);
}

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
	case 'k': case 'g': {
		/* a back reference or (\g<...>, \g'...') a call: it needs nothing more than
		 * the group it names, and may match letters. \k<n> \k'n' \k{n} \g{n} \g<n>
		 * \g'n' \gN \g-N \g+N */
		static const char open[] = "<'{", close[] = ">'}";
		const char *o = strchr(open, *x->p);
		if (*x->p && o) {
			const char *c = x->p + 1;
			while (rxl_alnum(*c) || *c == '_' || *c == '-' || *c == '+')
				c++;
			if (*c != close[o - open] || c == x->p + 1) {
				x->bad = true;
				return RXL_NONE;
			}
			x->p = c + 1;
			return RXL_NONE;
		}
		if (e == 'g' && (*x->p == '-' || *x->p == '+'))
			x->p++;
		if (e == 'k' || !(*x->p >= '0' && *x->p <= '9')) {
			x->bad = true;
			return RXL_NONE;
		}
		while (*x->p >= '0' && *x->p <= '9')
			x->p++;
		return RXL_NONE;
	}
	case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
		/* a back reference, when one digit; \10 and on may be an octal character */
		if (*x->p >= '0' && *x->p <= '9')
			x->bad = true;
		return RXL_NONE;
	case '\0':
		x->bad = true;
		return RXL_NONE;
	default:
		/* escaped punctuation is a literal that is not part of a word; anything else
		 * (\Q, \E, \N, \c, \0 ...) is not followed */
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

static uint32_t rxl_alt(rxl *x, bool edge, bool *after);
static uint32_t rxl_seq(rxl *x, bool edge, bool *after);

enum { RXL_GROUP, RXL_LOOK, RXL_AHEAD, RXL_BEHIND, RXL_DEFINE, RXL_CALL, RXL_NOTHING };

/* Whether the group at P ("(*") is a backtracking verb that can only take matches away:
 * (*FAIL), (*F), (*SKIP), (*PRUNE), (*COMMIT), (*THEN), (*MARK), each perhaps with
 * ":NAME", or (*:NAME). A match of a pattern holding them is a match of the pattern
 * without them, so what that one needs, this one needs. Not (*ACCEPT), which ends a match
 * before the rest of the pattern, nor the settings that open a pattern ((*UTF), (*UCP),
 * (*LIMIT_MATCH=...), ...). Sets *END past the ')'. */
static bool rxl_verb(const char *p, const char **end)
{
	static const char *const verbs[] = { "FAIL", "F", "SKIP", "PRUNE", "COMMIT", "THEN",
	                                     "MARK", "" };
	p += 2;
	size_t n = 0;
	while (p[n] >= 'A' && p[n] <= 'Z')
		n++;
	bool known = false;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]) && !known; i++)
		known = strlen(verbs[i]) == n && strncmp(p, verbs[i], n) == 0;
	if (!known || (n == 0 && p[0] != ':'))
		return false;
	p += n;
	if (*p == ':')
		while (*p && *p != ')' && *p != '\\')
			p++;
	if (*p != ')')
		return false;
	*end = p + 1;
	return true;
}

/* Reads the opening of a group at X->p ('('): returns RXL_GROUP with X->p at its first
 * alternative, RXL_AHEAD or RXL_BEHIND for a positive lookahead or lookbehind and RXL_LOOK
 * for a negative one (X->p likewise), RXL_DEFINE for (?(DEFINE)...) (X->p likewise: its
 * groups are only called, it matches nothing where it stands), RXL_CALL with X->p past a
 * call of a group ((?&name), (?P>name), (?1), (?-1), (?+1), (?R)), or RXL_NOTHING with
 * X->p past a comment, an option setting or a backtracking verb (rxl_verb); X->bad for
 * what is not followed. */
static int rxl_open(rxl *x)
{
	const char *p = x->p + 1;
	int kind = RXL_GROUP;
	if (*p == '*') {
		if (!rxl_verb(x->p, &x->p))
			x->bad = true;  /* (*ACCEPT), (*UTF), ... */
		return RXL_NOTHING;
	}
	if (*p == '?') {
		p++;
		if (strncmp(p, "(DEFINE)", 8) == 0) {
			x->p = p + 8;
			return RXL_DEFINE;
		}
		if (*p == '&' || (*p == 'P' && p[1] == '>') || *p == 'R' ||
		    ((*p == '-' || *p == '+') && p[1] >= '0' && p[1] <= '9') ||
		    (*p >= '0' && *p <= '9')) {
			p += *p == 'P' ? 2 : 1;
			while (rxl_alnum(*p) || *p == '_')
				p++;
			if (*p != ')') {
				x->bad = true;
				return RXL_NOTHING;
			}
			x->p = p + 1;
			return RXL_CALL;
		}
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
/* A group at X->p ('('), entered where EDGE says (see rxl_seq). Returns what it needs (0,
 * nothing, for a negative lookaround, an option setting or a comment), and sets *AFTER to
 * whether the place after it is the start of a word (for a letter that follows). */
static uint32_t rxl_group(rxl *x, bool edge, bool *after)
{
	*after = edge;
	int kind = rxl_open(x);
	if (!x->bad && kind == RXL_NOTHING && strchr("?*+{", *x->p) && *x->p)
		x->bad = true;  /* PCRE2 skips a comment: its quantifier is the letter's before */
	if (kind == RXL_CALL)
		*after = false; /* the called group needs nothing here and may end in a letter */
	if (x->bad || kind == RXL_NOTHING || kind == RXL_CALL)
		return 0;
	if (++x->depth > RXL_MAX_DEPTH) {
		x->bad = true;
		return 0;
	}
	bool inner;
	uint32_t mark = rxl_mark(x);
	/* a lookbehind's text ends where it stands: whether a word starts before it is not
	 * known there; a DEFINE group is only read past (skimmed: it makes no words) */
	bool skim = x->skim;
	x->skim = skim || kind == RXL_DEFINE;
	uint32_t out = rxl_alt(x, kind == RXL_BEHIND ? false : edge, &inner);
	x->skim = skim;
	x->depth--;
	if (x->bad)
		return 0;
	if (*x->p != ')') {
		x->bad = true;
		return 0;
	}
	x->p++;
	if (kind == RXL_LOOK || kind == RXL_DEFINE)
		return 0;       /* it needs nothing; it matches no character */
	if (kind == RXL_AHEAD || kind == RXL_BEHIND) {
		/* What a positive lookaround sees must be in the text, so its words are needed;
		 * but it matches no character: the place after is the place before, and a word
		 * ending where it ends is not followed by what follows it in the pattern. */
		rxl_edges_set(x, mark, ~RXL_PENDING & 0xffu, 0);
	} else {
		*after = inner;
	}
	return out;
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
			if (y.bad || kind == RXL_CALL || ++y.depth > RXL_MAX_DEPTH)
				return RXL_NONE;
			if (kind == RXL_NOTHING) {
				y.depth--;
				continue;
			}
			bool after;
			if (kind != RXL_GROUP) {   /* a lookaround: looked past */
				(void)rxl_alt(&y, false, &after);
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
				(void)rxl_seq(&y, false, &after);
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

/* Marks the words made since MARK that end where their alternative ends (RXL_PENDING) as
 * ending a word of the text, or not, as the place X->p says (rxl_next_edge). */
static void rxl_settle(rxl *x, uint32_t mark)
{
	bool pending = false;
	for (uint32_t i = mark; x->pool && i < x->pool->n && !pending; i++)
		pending = x->pool->v[i].kind == RXLIT_NODE_WORD && (x->pool->v[i].edges & RXL_PENDING);
	if (!pending)
		return;
	int next = rxl_next_edge(x);
	for (uint32_t i = mark; next != RXL_KEEP && i < x->pool->n; i++) {
		rxl_node *w = &x->pool->v[i];
		if (w->kind == RXLIT_NODE_WORD && (w->edges & RXL_PENDING))
			w->edges = (uint8_t)((w->edges & ~RXL_PENDING) | (next == RXL_EDGE ? RXLIT_END : 0u));
	}
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
 * that follows). Returns the AND of what its parts need; *AFTER: whether the place after
 * it is the start of a word. */
static uint32_t rxl_seq(rxl *x, bool edge, bool *after)
{
	uint32_t all = rxl_node_new(x, RXLIT_NODE_AND), tail = 0;
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
				rxl_node_add(x, all, &tail, rxl_leaf(x, run, (uint32_t)(end - run), start));
				run = NULL;
			}
			continue;
		}
		if (run) {
			unsigned e = start | rxl_word_end(x);
			rxl_node_add(x, all, &tail, rxl_leaf(x, run, (uint32_t)(x->p - run), e));
			run = NULL;
		}
		uint32_t part = 0, mark = rxl_mark(x);
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
			part = rxl_group(x, edge, &inner);
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
			part = 0;
			edge = edge && before;  /* present or not */
		} else if (q && group) {
			rxl_edges_set(x, mark, 0, 0);   /* repeated: the first and last time differ */
		} else if (!x->skim) {
			rxl_settle(x, mark);
		}
		rxl_node_add(x, all, &tail, part);
	}
	if (run)
		rxl_node_add(x, all, &tail,
		             rxl_leaf(x, run, (uint32_t)(x->p - run), start | rxl_word_end(x)));
	*after = edge;
	return all;
}

/* Alternatives up to ')' or the end: the OR of what each needs (0 when one needs
 * nothing). Each starts where EDGE says (see rxl_seq); *AFTER: whether the place after
 * every one of them is the start of a word. */
static uint32_t rxl_alt(rxl *x, bool edge, bool *after)
{
	uint32_t any = rxl_node_new(x, RXLIT_NODE_OR), tail = 0;
	bool none = false;
	*after = true;
	for (;;) {
		bool end;
		uint32_t s = rxl_seq(x, edge, &end);
		if (x->bad)
			return 0;
		*after = *after && end;
		if (!s)
			none = true;
		rxl_node_add(x, any, &tail, s);
		if (*x->p != '|')
			break;
		x->p++;
	}
	return none ? 0 : any;
}

/* How selective word W is: its letters, and one more for each end that must be the end
 * of a word of the text (" to " is rarer than "to", which "store" holds). */
static uint32_t rxl_weight(const rxl_node *w)
{
	return w->len + ((w->edges & RXLIT_START) != 0) + ((w->edges & RXLIT_END) != 0);
}

/* Whether node A should be checked before node B in an AND: it has fewer words (it costs
 * less to rule out), or as many and its weakest word is longer. */
static bool rxl_before(const rxl_node *a, const rxl_node *b)
{
	return a->leaves < b->leaves || (a->leaves == b->leaves && a->strength > b->strength);
}

/* Appends node K (normalised, not of ND's kind) to the children of ND (an AND or an OR,
 * whose last child is *TAIL), unless a word already there makes it needless. */
static void rxl_norm_add(rxl_pool *p, rxl_node *nd, uint32_t *tail, uint32_t k)
{
	rxl_node *w = &p->v[k];
	bool and = nd->kind == RXLIT_NODE_AND;
	for (uint32_t c = w->kind == RXLIT_NODE_WORD ? nd->kid : 0; c; c = p->v[c].next) {
		rxl_node *o = &p->v[c];
		if (o->kind != RXLIT_NODE_WORD || !rxl_same_word(o->at, o->len, w->at, w->len))
			continue;
		unsigned a = o->edges, b = w->edges;
		if (!and) {
			o->edges = (uint8_t)(a & b);    /* either is enough: the looser ends */
			return;
		}
		/* the same word needed twice: where both ask for the same ends, or one for
		 * fewer, once; else both stay (the ends may be of two occurrences) */
		if ((a & b) == b)
			return;
		if ((a & b) == a) {
			o->edges = (uint8_t)b;
			return;
		}
	}
	w->next = 0;
	if (*tail)
		p->v[*tail].next = k;
	else
		nd->kid = k;
	*tail = k;
}

/* Normalises node I of P: an AND or OR of one child is that child, an AND without
 * children or an OR with a child that needs nothing needs nothing (0 is returned), a child
 * of the same kind gives its children, repeated words go (rxl_norm_add); an AND's children
 * are ordered by rxl_before. Sets the node's leaves and strength (a word's weight, an
 * AND's strongest child's, an OR's weakest child's). Returns the node that stands for I. */
static uint32_t rxl_norm(rxl_pool *p, uint32_t i)
{
	if (!i)
		return 0;
	rxl_node *nd = &p->v[i];
	if (nd->kind == RXLIT_NODE_WORD) {
		nd->edges &= RXL_EDGES;
		nd->leaves = 1;
		nd->strength = rxl_weight(nd);
		return i;
	}
	bool and = nd->kind == RXLIT_NODE_AND;
	uint32_t c = nd->kid, tail = 0;
	nd->kid = 0;
	while (c) {
		uint32_t next = p->v[c].next, k = rxl_norm(p, c);
		if (!k && !and)
			return 0;
		if (k && p->v[k].kind == nd->kind) {
			for (uint32_t g = p->v[k].kid, gn; g; g = gn) {
				gn = p->v[g].next;
				rxl_norm_add(p, nd, &tail, g);
			}
		} else if (k) {
			rxl_norm_add(p, nd, &tail, k);
		}
		c = next;
	}
	uint32_t n = 0, leaves = 0, strength = and ? 0 : UINT32_MAX;
	for (c = nd->kid; c; c = p->v[c].next) {
		n++;
		leaves += p->v[c].leaves;
		uint32_t s = p->v[c].strength;
		strength = and ? (s > strength ? s : strength) : (s < strength ? s : strength);
	}
	if (n == 0)
		return 0;
	if (n == 1) {
		uint32_t only = nd->kid;
		p->v[only].next = 0;
		return only;
	}
	nd->leaves = leaves;
	nd->strength = strength;
	if (and) {      /* insertion sort of a short list, stable */
		uint32_t sorted = 0;
		for (c = nd->kid; c;) {
			uint32_t next = p->v[c].next;
			uint32_t *at = &sorted;
			while (*at && !rxl_before(&p->v[c], &p->v[*at]))
				at = &p->v[*at].next;
			p->v[c].next = *at;
			*at = c;
			c = next;
		}
		nd->kid = sorted;
	}
	return i;
}

/* Whether node A is less selective than node B: its weakest word is shorter, or as long
 * and it has more words. */
static bool rxl_weaker(const rxl_node *a, const rxl_node *b)
{
	return a->strength < b->strength || (a->strength == b->strength && a->leaves > b->leaves);
}

/* The least selective child of an AND in the tree under node I that is not its AND's most
 * selective one, as its parent and the sibling before it (0 when it is the first): *PARENT
 * stays 0 when there is none. */
static void rxl_weakest(const rxl_pool *p, uint32_t i, uint32_t *parent, uint32_t *prev)
{
	const rxl_node *nd = &p->v[i];
	if (nd->kind == RXLIT_NODE_WORD)
		return;
	uint32_t keep = 0;
	for (uint32_t c = nd->kid; nd->kind == RXLIT_NODE_AND && c; c = p->v[c].next)
		if (!keep || rxl_weaker(&p->v[keep], &p->v[c]))
			keep = c;
	for (uint32_t c = nd->kid, before = 0; c; before = c, c = p->v[c].next) {
		if (nd->kind == RXLIT_NODE_AND && c != keep) {
			const rxl_node *best = *parent ? &p->v[*prev ? p->v[*prev].next : p->v[*parent].kid]
			                               : NULL;
			if (!best || rxl_weaker(&p->v[c], best)) {
				*parent = i;
				*prev = before;
			}
		}
		rxl_weakest(p, c, parent, prev);
	}
}

/* Cuts the normalised tree under ROOT down to RXL_MAX_LEAVES words by dropping the least
 * selective parts of ANDs (each AND keeps its most selective part). Returns its new root
 * (0: it needs nothing). */
static uint32_t rxl_prune(rxl_pool *p, uint32_t root)
{
	while (root && p->v[root].leaves > RXL_MAX_LEAVES) {
		uint32_t parent = 0, prev = 0;
		rxl_weakest(p, root, &parent, &prev);
		if (!parent)
			return 0;
		uint32_t *link = prev ? &p->v[prev].next : &p->v[parent].kid;
		*link = p->v[*link].next;
		root = rxl_norm(p, root);
	}
	return root;
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

/* The tree under node I of P in prefix order into OUT: its shape (see rxlit.h) at
 * SHAPE[*NS...] and its words as OUT's next ones, their letters at *W. False when it
 * nests deeper than RXL_MAX_NEST. */
static bool rxl_emit(const rxl_pool *p, uint32_t i, unsigned depth, rxlit *out,
                     uint8_t *shape, size_t *ns, uint8_t *edges, char **w)
{
	const rxl_node *nd = &p->v[i];
	if (depth > RXL_MAX_NEST)
		return false;
	shape[(*ns)++] = nd->kind;
	if (nd->kind == RXLIT_NODE_WORD) {
		rxl_lower_word(*w, nd->at, nd->len);
		edges[out->nwords] = nd->edges;
		out->words[out->nwords++] = *w;
		*w += nd->len + 1;
		return true;
	}
	size_t head = *ns;
	uint32_t n = 0, first = out->nwords;
	*ns += RXLIT_NODE_HEAD - 1;
	for (uint32_t c = nd->kid; c; c = p->v[c].next, n++)
		if (!rxl_emit(p, c, depth + 1, out, shape, ns, edges, w))
			return false;
	/* each child has a word, each node a head: all fit two bytes (RXL_MAX_LEAVES) */
	size_t size = *ns - head - (RXLIT_NODE_HEAD - 1);
	uint32_t words = out->nwords - first;
	shape[head] = (uint8_t)n;
	shape[head + 1] = (uint8_t)(n >> 8);
	shape[head + 2] = (uint8_t)size;
	shape[head + 3] = (uint8_t)(size >> 8);
	shape[head + 4] = (uint8_t)words;
	shape[head + 5] = (uint8_t)(words >> 8);
	return true;
}

/* The letters of the words of the tree under node I. */
static size_t rxl_letters(const rxl_pool *p, uint32_t i)
{
	const rxl_node *nd = &p->v[i];
	if (nd->kind == RXLIT_NODE_WORD)
		return nd->len + 1;
	size_t n = 0;
	for (uint32_t c = nd->kid; c; c = p->v[c].next)
		n += rxl_letters(p, c);
	return n;
}

bool rxlit_analyse(const char *pattern, rxlit *out)
{
	memset(out, 0, sizeof(*out));
	if (!pattern)
		return true;
	rxl_pool pool = { NULL, 0, 0 };
	rxl x = { pattern, false, false, false, 0, &pool };
	(void)rxl_node_new(&x, RXLIT_NODE_WORD);      /* node 0: nothing needed */
	bool after;
	uint32_t root = rxl_alt(&x, false, &after);   /* a match may start inside a word */
	bool ok = !x.nomem;
	if (ok && !x.bad && *x.p == '\0' && root)
		root = rxl_prune(&pool, rxl_norm(&pool, root));
	else
		root = 0;
	if (root) {
		uint32_t nw = pool.v[root].leaves;
		/* a word takes a byte, a node its head, and there are fewer nodes than words
		 * (each has two children or more) */
		size_t letters = rxl_letters(&pool, root), nshape = (RXLIT_NODE_HEAD + 1) * (size_t)nw;
		char *buf = malloc(letters + nshape + nw);
		const char **words = malloc(nw * sizeof(*words));
		ok = buf && words;
		size_t ns = 0;
		if (ok) {
			uint8_t *shape = (uint8_t *)buf + letters, *edges = shape + nshape;
			char *w = buf;
			out->words = words;
			out->shape = shape;
			out->edges = edges;
			out->buf = buf;
			if (rxl_emit(&pool, root, 0, out, shape, &ns, edges, &w))
				out->shape_len = (uint32_t)ns;
			else
				rxlit_free(out);
		} else {
			free(buf);
			free(words);
		}
	}
	free(pool.v);
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

/* The table's bytes, read in place (see rxlit_table_encode): only their frame is checked
 * when it is opened, and a word or a requirement as it is read, so that opening costs
 * nothing per word. */
/* The table's bytes, read in place (see rxlit_table_encode). The words are checked when
 * it opens (in one pass over their letters); a requirement as a check reads it, so that
 * opening costs nothing per requirement. */
struct rxlit_table {
	const unsigned char *p;         /* the bytes rxlit_table_encode wrote (borrowed) */
	size_t len;
	uint32_t n;                     /* distinct words */
	uint32_t nslots;                /* of the words' hash, a power of two */
	uint32_t longest;               /* letters of the longest word */
	const unsigned char *edges, *lens, *starts, *slots, *letters;
	/* the keys (rxlit_table_encode), or KEYS NULL: W + 2 numbers of four bytes, where the
	 * requirements of word I start among the NPOSTS numbers of two bytes at POSTS (word W
	 * stands for the requirements with no key, read on every text), and those numbers */
	const unsigned char *keys, *posts;
	uint32_t nreq, nposts;
	void (*damaged)(void *);        /* told of a requirement that is not one */
	void *ctx;
};

static uint32_t rxl_get_u32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The number of word I of R, read from a table (below the table's count: checked by
 * rxl_node_holds, or UINT32_MAX). */
static uint32_t rxl_table_id(const rxlit *r, uint32_t i)
{
	const unsigned char *idp = r->ids + 2 * (size_t)i;
	uint32_t id = idp[0] | (uint32_t)idp[1] << 8;
	return id < r->table->n ? id : UINT32_MAX;
}

const char *rxlit_word(const rxlit *r, uint32_t i, size_t *len)
{
	if (r->words) {
		*len = strlen(r->words[i]);
		return r->words[i];
	}
	uint32_t id = rxl_table_id(r, i);
	if (id == UINT32_MAX) {
		*len = 0;
		return "";
	}
	*len = r->table->lens[id];
	return (const char *)r->table->letters + rxl_get_u32(r->table->starts + 4 * (size_t)id);
}

unsigned rxlit_word_edges(const rxlit *r, uint32_t i)
{
	if (r->words)
		return r->edges[i];
	uint32_t id = rxl_table_id(r, i);
	return id == UINT32_MAX ? 0u : r->table->edges[id];
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

/* Checks the node at P[*OFF..LEN) and the nodes under it (see rxlit.h), DEPTH deep,
 * counting its words into *NWORDS and moving *OFF past it: false when it is not a node
 * rxlit_encode could write (an unknown tag, fewer than 2 children, sizes that are not
 * its own, nested deeper than RXL_MAX_NEST, more than RXL_MAX_LEAVES words). */
static bool rxl_shape_node(const unsigned char *p, size_t len, size_t *off, uint32_t *nwords,
                           unsigned depth)
{
	if (*off >= len || depth > RXL_MAX_NEST)
		return false;
	unsigned char tag = p[(*off)++];
	if (tag == RXLIT_NODE_WORD)
		return ++*nwords <= RXL_MAX_LEAVES;
	if ((tag != RXLIT_NODE_AND && tag != RXLIT_NODE_OR) || len - *off < RXLIT_NODE_HEAD - 1)
		return false;
	const unsigned char *h = p + *off;
	uint32_t n = h[0] | (uint32_t)h[1] << 8, size = h[2] | (uint32_t)h[3] << 8,
	         words = h[4] | (uint32_t)h[5] << 8, first = *nwords;
	*off += RXLIT_NODE_HEAD - 1;
	size_t start = *off;
	if (n < 2)
		return false;
	for (uint32_t k = 0; k < n; k++)
		if (!rxl_shape_node(p, len, off, nwords, depth + 1))
			return false;
	return *off - start == size && *nwords - first == words;
}

/* The length of the shape at P[0..LEN), with its words in *NWORDS: 1 for a 0 (nothing
 * needed), else one node (rxl_shape_node). 0 when the bytes are not such a shape. */
static size_t rxl_shape_scan(const unsigned char *p, size_t len, uint32_t *nwords)
{
	size_t off = 0;
	*nwords = 0;
	if (len == 0)
		return 0;
	if (p[0] == 0)
		return 1;
	return rxl_shape_node(p, len, &off, nwords, 0) ? off : 0;
}

/* The bytes of R's shape. */
static size_t rxl_shape_len(const rxlit *r)
{
	return r->nwords == 0 ? 1 : r->shape_len;
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
	uint32_t n;
	size_t off = rxl_shape_scan(p, len, &n);
	if (off == 0)
		return 0;
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
	out->shape_len = (uint32_t)sl;
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
	t->table = NULL;        /* FOUND and CAND are cleared when a table's words are first looked up */
	t->cands = false;
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
	if (wl == 0)
		return true;    /* a word a damaged table lost: nothing is known */
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

/* Whether the text holds word I of R (not read from T's table: see rxl_next_word). */
static bool rxl_has_word(const rxlit *r, uint32_t i, rxlit_text *t, const char *lower,
                         size_t len)
{
	size_t wl;
	const char *w = rxlit_word(r, i, &wl);
	return rxl_has(t, lower, len, w, wl, rxlit_word_edges(r, i));
}

/* FNV-1a, as rxl_text_scan computes it letter by letter. */
#define RXL_FNV_BASIS 2166136261u
#define RXL_FNV_PRIME 16777619u

/* Marks in T->cand the requirements of list X of TB's keys. False when the list is not
 * one rxlit_table_encode writes: its bounds out of order or past the numbers, or a
 * requirement past the table. */
static bool rxl_mark_list(rxlit_text *t, const rxlit_table *tb, uint32_t x)
{
	uint32_t a = rxl_get_u32(tb->keys + 4 * (size_t)x);
	uint32_t b = rxl_get_u32(tb->keys + 4 * ((size_t)x + 1));
	if (a > b || b > tb->nposts)
		return false;
	for (uint32_t j = a; j < b; j++) {
		uint32_t q = tb->posts[2 * (size_t)j] | (uint32_t)tb->posts[2 * (size_t)j + 1] << 8;
		if (q >= tb->nreq)
			return false;
		t->cand[q / 64] |= (uint64_t)1 << (q % 64);
	}
	return true;
}

/* Sets T->found to the words of table TB that T's text holds, where they must stand: every
 * piece of every run of letters and digits of the text, up to the longest word's length,
 * looked up in the table's hash; and, when TB has keys, T->cand to the requirements whose
 * key holds one of them (keys that are not what rxlit_table_encode writes leave every
 * requirement to be read, and are reported). */
static void rxl_text_scan(rxlit_text *t, const rxlit_table *tb)
{
	memset(t->found, 0, ((size_t)tb->n + 63) / 64 * sizeof(*t->found));
	bool bad = false;
	t->cands = tb->keys != NULL;
	if (t->cands)
		memset(t->cand, 0, ((size_t)tb->nreq + 63) / 64 * sizeof(*t->cand));
	const char *s = t->lower;
	size_t len = t->len;
	uint32_t mask = tb->nslots - 1;
	for (size_t a = 0; a < len;) {
		if (!rxl_alnum(s[a])) {
			a++;
			continue;
		}
		size_t b = a;
		while (b < len && rxl_alnum(s[b]))
			b++;
		unsigned first = a == 0 || !rxl_wordbyte(s[a - 1]) ? RXLIT_START : 0u;
		unsigned last = b == len || !rxl_wordbyte(s[b]) ? RXLIT_END : 0u;
		for (size_t i = a; i < b; i++) {
			uint32_t h = RXL_FNV_BASIS;
			size_t stop = b - i > tb->longest ? i + tb->longest : b;
			for (size_t j = i; j < stop; j++) {
				h = (h ^ (unsigned char)s[j]) * RXL_FNV_PRIME;
				unsigned here = (i == a ? first : 0u) | (j + 1 == b ? last : 0u);
				size_t n = j + 1 - i;
				for (uint32_t k = h & mask;; k = (k + 1) & mask) {
					uint32_t v = tb->slots[2 * (size_t)k] | (uint32_t)tb->slots[2 * (size_t)k + 1] << 8;
					if (v == 0)
						break;
					uint32_t id = v - 1;
					if (id < tb->n && tb->lens[id] == n && !(tb->edges[id] & ~here) &&
					    memcmp(tb->letters + rxl_get_u32(tb->starts + 4 * (size_t)id), s + i, n) == 0) {
						uint64_t bit = (uint64_t)1 << (id % 64);
						if (t->cands && !(t->found[id / 64] & bit) && !rxl_mark_list(t, tb, id))
							bad = true;
						t->found[id / 64] |= bit;
					}
				}
			}
		}
		a = b;
	}
	if (t->cands && !rxl_mark_list(t, tb, tb->n))
		bad = true;
	if (bad) {
		t->cands = false;
		if (tb->damaged)
			tb->damaged(tb->ctx);
	}
}

/* Where a check of a requirement stands: the next node at SH (before END), its first
 * word W; FOUND the words of the requirement's table the text holds (rxl_text_scan), or
 * NULL to look each word up; BAD once the bytes turn out not to be a requirement (a
 * table's requirements are checked as they are read: see rxlit_table_open). */
typedef struct {
	const uint8_t *sh, *end;
	uint32_t w;
	const uint64_t *found;
	bool bad;
} rxl_cursor;

/* Whether the text holds the next word of R at C. */
static inline bool rxl_next_word(const rxlit *r, rxl_cursor *c, rxlit_text *t,
                                 const char *lower, size_t len)
{
	if (c->w >= r->nwords) {
		c->bad = true;
		return true;
	}
	if (!c->found)
		return rxl_has_word(r, c->w++, t, lower, len);
	const unsigned char *idp = r->ids + 2 * (size_t)c->w++;
	uint32_t id = idp[0] | (uint32_t)idp[1] << 8;
	if (id >= r->table->n) {
		c->bad = true;
		return true;
	}
	return (c->found[id / 64] >> (id % 64)) & 1;
}

/* Whether the text holds what the node of R at C needs (see rxl_has), moving C past it.
 * An AND stops at its first part the text lacks, an OR at its first part the text holds,
 * and steps over the rest by the sizes in its head. True (and C->bad) when the bytes are
 * not a node. */
static bool rxl_node_holds(const rxlit *r, rxl_cursor *c, rxlit_text *t, const char *lower,
                           size_t len, unsigned depth)
{
	if (c->sh >= c->end || depth > RXL_MAX_NEST) {
		c->bad = true;
		return true;
	}
	uint8_t tag = *c->sh++;
	if (tag == RXLIT_NODE_WORD)
		return rxl_next_word(r, c, t, lower, len);
	const uint8_t *h = c->sh;
	if ((tag != RXLIT_NODE_AND && tag != RXLIT_NODE_OR) ||
	    c->end - h < (ptrdiff_t)RXLIT_NODE_HEAD - 1) {
		c->bad = true;
		return true;
	}
	uint32_t n = h[0] | (uint32_t)h[1] << 8, size = h[2] | (uint32_t)h[3] << 8,
	         words = h[4] | (uint32_t)h[5] << 8;
	c->sh += RXLIT_NODE_HEAD - 1;
	if (size > (size_t)(c->end - c->sh) || words > r->nwords - c->w) {
		c->bad = true;
		return true;
	}
	const uint8_t *stop = c->sh + size;
	uint32_t wstop = c->w + words;
	bool and = tag == RXLIT_NODE_AND;
	for (uint32_t k = 0; k < n; k++) {
		bool v;
		if (c->sh < stop && *c->sh == RXLIT_NODE_WORD) {       /* most children */
			c->sh++;
			v = rxl_next_word(r, c, t, lower, len);
		} else {
			v = rxl_node_holds(r, c, t, lower, len, depth + 1);
		}
		if (c->bad)
			return true;
		if (v != and) {
			c->sh = stop;
			c->w = wstop;
			return v;
		}
	}
	if (c->sh != stop || c->w != wstop)
		c->bad = true;
	return and || c->bad;
}

/* Whether the text holds what R needs (see rxl_has); true for bytes that are not a
 * requirement, which are reported to the table's damage hook. */
static bool rxl_passes(const rxlit *r, rxlit_text *t, const char *lower, size_t len)
{
	rxl_cursor c = { r->shape, r->shape + r->shape_len, 0, NULL, false };
	if (t && r->table && t->table == r->table)
		c.found = t->found;
	bool v = rxl_node_holds(r, &c, t, lower, len, 0);
	if (c.bad && r->table && r->table->damaged)
		r->table->damaged(r->table->ctx);
	return v || c.bad;
}

bool rxlit_may_match_in(const rxlit *r, rxlit_text *t)
{
	if (!r || r->nwords == 0 || !t || !t->lower)
		return true;
	if (r->table && !t->table) {
		t->table = r->table;
		rxl_text_scan(t, r->table);
	}
	if (t->cands && r->table == t->table && !((t->cand[r->index / 64] >> (r->index % 64)) & 1))
		return false;
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

static void rxl_set_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* A growing list of numbers. */
typedef struct {
	uint32_t *v;
	size_t n, cap;
} rxl_nums;

static bool rxl_nums_add(rxl_nums *a, uint32_t x)
{
	if (a->n == a->cap) {
		size_t c = a->cap ? 2 * a->cap : 16;
		uint32_t *v = realloc(a->v, c * sizeof(*v));
		if (!v)
			return false;
		a->v = v;
		a->cap = c;
	}
	a->v[a->n++] = x;
	return true;
}

/* Appends to KEY the numbers (in R) of the words of the node at *SH, *W its first word,
 * of which a text the node passes holds one (see rxlit.h), moving both past the node.
 * False when out of memory or when the bytes are not a node of R (then KEY is unusable). */
static bool rxl_key(const rxlit *r, const uint8_t **sh, const uint8_t *end, uint32_t *w,
                    rxl_nums *key, unsigned depth)
{
	if (*sh >= end || depth > RXL_MAX_NEST)
		return false;
	uint8_t tag = *(*sh)++;
	if (tag == RXLIT_NODE_WORD)
		return *w < r->nwords && rxl_nums_add(key, (*w)++);
	if ((tag != RXLIT_NODE_AND && tag != RXLIT_NODE_OR) ||
	    end - *sh < (ptrdiff_t)RXLIT_NODE_HEAD - 1)
		return false;
	uint32_t n = (*sh)[0] | (uint32_t)(*sh)[1] << 8;
	*sh += RXLIT_NODE_HEAD - 1;
	if (tag == RXLIT_NODE_OR) {
		for (uint32_t k = 0; k < n; k++)
			if (!rxl_key(r, sh, end, w, key, depth + 1))
				return false;
		return true;
	}
	/* an AND: the smallest key of its parts */
	rxl_nums best = { NULL, 0, 0 }, part = { NULL, 0, 0 };
	bool ok = true;
	for (uint32_t k = 0; ok && k < n; k++) {
		part.n = 0;
		ok = rxl_key(r, sh, end, w, &part, depth + 1);
		if (ok && (k == 0 || part.n < best.n)) {
			rxl_nums t = best;
			best = part;
			part = t;
		}
	}
	for (size_t i = 0; ok && i < best.n; i++)
		ok = rxl_nums_add(key, best.v[i]);
	free(best.v);
	free(part.v);
	return ok;
}

static int rxl_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Appends the keys of NEEDS[0..N) to *OUT (see rxlit_table_encode), IDS[I] the numbers
 * in the table of requirement I's words, NW the table's words: a requirement with a word
 * past them was written as none and has no key. False when out of memory. */
static bool rxl_put_keys(const rxlit *const *needs, size_t n, uint32_t *const *ids,
                         uint32_t nw, unsigned char **out, size_t *len, size_t *cap)
{
	/* each requirement's key as the table's word numbers, each once (a word the formula
	 * repeats): pairs of word and requirement, the requirements in order */
	rxl_nums key = { NULL, 0, 0 }, word = { NULL, 0, 0 }, req = { NULL, 0, 0 };
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		const rxlit *r = needs[i];
		bool fits = r->nwords > 0;
		for (uint32_t k = 0; fits && k < r->nwords; k++)
			fits = ids[i][k] < nw;
		if (!fits)
			continue;
		const uint8_t *sh = r->shape;
		uint32_t w = 0;
		key.n = 0;
		if (rxl_key(r, &sh, r->shape + rxl_shape_len(r), &w, &key, 0)) {
			for (size_t k = 0; k < key.n; k++)
				key.v[k] = ids[i][key.v[k]];
			qsort(key.v, key.n, sizeof(*key.v), rxl_cmp_u32);
		} else {
			key.n = 0;      /* no key: list NW, read on every text */
			ok = rxl_nums_add(&key, nw);
		}
		for (size_t k = 0; ok && k < key.n; k++)
			if (k == 0 || key.v[k] != key.v[k - 1])
				ok = rxl_nums_add(&word, key.v[k]) && rxl_nums_add(&req, (uint32_t)i);
	}
	/* the lists by word (a counting sort keeps each in the requirements' order): where
	 * each starts, then the numbers */
	uint32_t *at = ok ? calloc((size_t)nw + 2, sizeof(*at)) : NULL;
	uint32_t *post = ok ? malloc((word.n ? word.n : 1) * sizeof(*post)) : NULL;
	ok = at && post;
	for (size_t j = 0; ok && j < word.n; j++)
		at[word.v[j] + 1]++;
	for (uint32_t x = 0; ok && x <= nw; x++)
		at[x + 1] += at[x];
	for (size_t j = 0; ok && j < word.n; j++)
		post[at[word.v[j]]++] = req.v[j];
	/* each start moved to the next list's: put them back */
	for (uint32_t x = nw + 1; ok && x > 0; x--)
		at[x] = at[x - 1];
	if (ok)
		at[0] = 0;
	for (uint32_t x = 0; ok && x <= nw + 1; x++) {
		unsigned char b[4];
		rxl_set_u32(b, at[x]);
		ok = rxl_put(out, len, cap, b, 4);
	}
	for (size_t j = 0; ok && j < word.n; j++) {
		unsigned char b[2] = { (unsigned char)post[j], (unsigned char)(post[j] >> 8) };
		ok = rxl_put(out, len, cap, b, 2);
	}
	free(at);
	free(post);
	free(key.v);
	free(word.v);
	free(req.v);
	return ok;
}

/* The table: four numbers of four bytes (little-endian, as every number here): the words
 * W, the requirements N, the slots S of the words' hash (a power of two) and the bytes L
 * of the words' letters; then each word's edges (W bytes), each word's length (W bytes),
 * where each word's letters start in the letters (four bytes each), the hash (S slots of
 * two bytes: 0 for none, else a word's number + 1, found from the FNV-1a hash of its
 * letters by linear probing), the letters (L bytes), the offset in the table of each
 * requirement and of the end (N + 1 of them, four bytes each), and the requirements,
 * each as the number of its words and the length of its shape (two bytes each), its
 * shape and the numbers of its words (two bytes each). A requirement of no words is those
 * four bytes 0. Then, with fewer than RXLIT_TABLE_MAX requirements, the keys: W + 2 numbers
 * of four bytes, where each word's list starts and the end of the last, and the lists,
 * each the numbers of the requirements (two bytes each, ascending) whose key holds the
 * word; list W holds the requirements whose key could not be worked out (bytes that are
 * not a requirement), which every text may pass. */
bool rxlit_table_encode(const rxlit *const *needs, size_t n, unsigned char **out,
                        size_t *len)
{
	*out = NULL;
	*len = 0;
	if (n >= UINT32_MAX / 8)
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
	/* a slot holds a word's number + 1 in two bytes */
	uint32_t nw = x.n < RXLIT_TABLE_MAX - 1 ? x.n : RXLIT_TABLE_MAX - 1, slots = 16, letters = 0;
	while (slots < 2 * nw)
		slots *= 2;
	for (uint32_t i = 0; i < nw; i++)
		letters += x.len[i];
	size_t head = 16 + 2 * (size_t)nw + 4 * (size_t)nw + 2 * (size_t)slots + letters;
	size_t offs = head, cap = 0;
	head += 4 * (n + 1);
	unsigned char *zero = calloc(1, head);
	ok = ok && zero && rxl_put(out, len, &cap, zero, head);
	free(zero);
	if (ok) {
		unsigned char *b = *out;
		rxl_set_u32(b, nw);
		rxl_set_u32(b + 4, (uint32_t)n);
		rxl_set_u32(b + 8, slots);
		rxl_set_u32(b + 12, letters);
		unsigned char *edges = b + 16, *lens = edges + nw, *starts = lens + nw;
		unsigned char *slot = starts + 4 * (size_t)nw, *lt = slot + 2 * (size_t)slots;
		for (uint32_t i = 0, at = 0; i < nw; i++) {
			edges[i] = x.edges[i];
			lens[i] = (unsigned char)x.len[i];
			rxl_set_u32(starts + 4 * (size_t)i, at);
			memcpy(lt + at, x.w[i], x.len[i]);
			at += x.len[i];
			uint32_t k = rxl_hash(x.w[i], x.len[i]) & (slots - 1);
			while (slot[2 * (size_t)k] | slot[2 * (size_t)k + 1])
				k = (k + 1) & (slots - 1);
			slot[2 * (size_t)k] = (unsigned char)(i + 1);
			slot[2 * (size_t)k + 1] = (unsigned char)((i + 1) >> 8);
		}
	}
	for (size_t i = 0; ok && i <= n; i++) {
		ok = *len <= UINT32_MAX - 4096;
		if (ok)
			rxl_set_u32(*out + offs + 4 * i, (uint32_t)*len);
		if (!ok || i == n)
			break;
		const rxlit *r = needs[i];
		bool fits = r->nwords > 0;
		for (uint32_t k = 0; fits && k < r->nwords; k++)
			fits = ids[i][k] < nw;
		size_t sl = fits ? rxl_shape_len(r) : 0;
		uint32_t words = fits ? r->nwords : 0;
		unsigned char h[4] = { (unsigned char)words, (unsigned char)(words >> 8),
		                       (unsigned char)sl, (unsigned char)(sl >> 8) };
		ok = rxl_put(out, len, &cap, h, 4);
		if (!fits)
			continue;       /* its pattern always runs */
		ok = ok && rxl_put(out, len, &cap, r->shape, sl);
		for (uint32_t k = 0; ok && k < r->nwords; k++) {
			unsigned char b[2] = { (unsigned char)ids[i][k], (unsigned char)(ids[i][k] >> 8) };
			ok = rxl_put(out, len, &cap, b, 2);
		}
	}
	/* the keys, which number requirements in two bytes */
	if (ok && n < RXLIT_TABLE_MAX)
		ok = rxl_put_keys(needs, n, ids, nw, out, len, &cap);
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

/* Whether the N bytes at P are all lowercase ASCII letters or digits (one pass, without
 * a branch per byte). */
static bool rxl_all_alnum(const unsigned char *p, size_t n)
{
	unsigned bad = 0;
	for (size_t i = 0; i < n; i++)
		bad |= (unsigned)((unsigned char)(p[i] - 'a') > 25 && (unsigned char)(p[i] - '0') > 9);
	return bad == 0;
}

rxlit_table *rxlit_table_open(const unsigned char *p, size_t len, size_t n, rxlit *out)
{
	memset(out, 0, n * sizeof(*out));
	if (!p || len < 16 || rxl_get_u32(p + 4) != n || n >= UINT32_MAX / 8)
		return NULL;
	uint32_t nw = rxl_get_u32(p), slots = rxl_get_u32(p + 8), letters = rxl_get_u32(p + 12);
	/* a slot holds a word's number + 1 in two bytes: fewer than 65536 words */
	if (nw >= RXLIT_TABLE_MAX || slots < 16 || (slots & (slots - 1)) || slots < 2 * (uint64_t)nw ||
	    16 + 6 * (uint64_t)nw + 2 * (uint64_t)slots + letters + 4 * ((uint64_t)n + 1) > len)
		return NULL;
	rxlit_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->p = p;
	t->len = len;
	t->n = nw;
	t->nslots = slots;
	t->edges = p + 16;
	t->lens = t->edges + nw;
	t->starts = t->lens + nw;
	t->slots = t->starts + 4 * (size_t)nw;
	t->letters = t->slots + 2 * (size_t)slots;
	/* the words: known edges, letters and digits that fill the letters in order; the
	 * slots' numbers are checked as they are read (rxl_text_scan) */
	bool ok = rxl_all_alnum(t->letters, letters);
	unsigned edges = 0;
	uint32_t at = 0;
	for (uint32_t i = 0; ok && i < nw; i++) {
		edges |= t->edges[i];
		ok = t->lens[i] > 0 && rxl_get_u32(t->starts + 4 * (size_t)i) == at;
		at += t->lens[i];
		if (t->lens[i] > t->longest)
			t->longest = t->lens[i];
	}
	ok = ok && at == letters && !(edges & ~RXL_EDGES);
	/* each requirement within the bytes, after the offsets, and in order: its four
	 * bytes, its shape and its words' numbers fill it; what they say is checked as they
	 * are read (rxl_node_holds) */
	const unsigned char *offs = t->letters + letters;
	size_t first = (size_t)(offs - p) + 4 * (n + 1), cur = ok ? rxl_get_u32(offs) : 0;
	ok = ok && cur == first && cur <= len;
	for (size_t i = 0; ok && i < n; i++) {
		size_t end = rxl_get_u32(offs + 4 * (i + 1));
		ok = end >= cur && end <= len && end - cur >= 4;
		if (!ok)
			break;
		uint32_t words = p[cur] | (uint32_t)p[cur + 1] << 8;
		uint32_t sl = p[cur + 2] | (uint32_t)p[cur + 3] << 8;
		ok = end - cur == 4 + (size_t)sl + 2 * (size_t)words && (words == 0) == (sl == 0);
		if (ok && words) {
			out[i].nwords = words;
			out[i].shape = p + cur + 4;
			out[i].shape_len = sl;
			out[i].table = t;
			out[i].ids = p + cur + 4 + sl;
			out[i].index = (uint32_t)i;
		}
		cur = end;
	}
	/* the keys, which a table of fewer than RXLIT_TABLE_MAX requirements has: their frame
	 * here, their lists (in order, within the numbers) as they are read (rxl_text_scan) */
	size_t kb = 4 * ((size_t)nw + 2);
	if (ok && n < RXLIT_TABLE_MAX) {
		size_t np = len - cur >= kb ? (len - cur - kb) / 2 : 0;
		ok = len - cur == kb + 2 * np && rxl_get_u32(p + cur) == 0 &&
		     rxl_get_u32(p + cur + kb - 4) == np;
		if (ok) {
			t->keys = p + cur;
			t->posts = p + cur + kb;
			t->nposts = (uint32_t)np;
			t->nreq = (uint32_t)n;
			cur = len;
		}
	}
	if (!ok || cur != len) {
		memset(out, 0, n * sizeof(*out));
		rxlit_table_free(t);
		return NULL;
	}
	return t;
}

void rxlit_table_on_damage(rxlit_table *t, void (*damaged)(void *), void *ctx)
{
	if (t) {
		t->damaged = damaged;
		t->ctx = ctx;
	}
}

void rxlit_table_free(rxlit_table *t)
{
	free(t);
}
