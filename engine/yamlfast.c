/* SPDX-License-Identifier: MIT */
/*
 * yamlfast.c - a quick reader for the plain YAML that rule files are written in, giving
 * the events libyaml would give for the same text, at a small part of libyaml's cost
 * (most of the time of loading a large rule file went into libyaml's scanner).
 *
 * It reads block mappings and sequences (indentless ones too, and `- key: value`),
 * single-line scalars (plain; 'single' and "double" quoted without escapes) and flow
 * collections on one line, with comments and blank lines, in printable ASCII. Anything
 * else - tabs, other bytes, anchors, aliases, tags, block scalars, scalars over several
 * lines, empty values, explicit keys, document markers and directives - and anything
 * libyaml would refuse, it does not try: it stops and says so, and the caller reads the
 * text with libyaml (yamldoc.c), which then also reports the errors. So it needs to be
 * right about what it accepts only, and it accepts little: where YAML's rules are subtle
 * (which characters a plain scalar may hold, where a key may end) it takes the safe side.
 *
 * Inside flow collections `?x` is read as the plain scalar `?x`, as yamldoc.c has libyaml
 * read it (see doc_qmarks_find there).
 */
#include "doc.h"

#include <stdlib.h>
#include <string.h>

#define FAST_BLOCK_DEPTH 64     /* open block collections */
#define FAST_FLOW_DEPTH 32      /* nested flow collections */
#define FAST_KEY_MAX 1000       /* libyaml's simple keys hold at most 1024 characters */

typedef struct {
	int indent;             /* the column of its keys or dashes */
	bool seq;
	bool indentless;        /* a sequence at its parent key's column */
} fast_block;

typedef struct {
	const char *text;
	const char *line;       /* the current line's first byte */
	const char *eol;        /* its line break, or the end of the text */
	uint32_t lineno;        /* 0-based, as libyaml's marks */
	doc_ev_fn emit;
	void *ctx;
	char *buf;              /* a single-quoted scalar with its '' made ' */
	size_t cap;
	fast_block block[FAST_BLOCK_DEPTH];
	int depth;
} fast;

static bool fast_emit(fast *f, doc_ev_kind kind, const char *at, const char *text,
                      size_t len, uint8_t style)
{
	doc_ev ev = { kind, f->lineno, (uint32_t)(at - f->line), text, len, style };
	return f->emit(f->ctx, &ev);
}

static bool is_alnum(char c)
{
	unsigned char u = (unsigned char)c;
	return (unsigned)((u | 0x20) - 'a') < 26 || (unsigned)(u - '0') < 10;
}

/* The bytes a plain scalar may start with besides letters and digits, in block and in
 * flow context (a `-` followed by a non-blank, and in flow `?`, are handled apart). The
 * switches compile to bit tests. */
static bool plain_first(char c)
{
	if (is_alnum(c))
		return true;
	switch (c) {
	case '_': case '.': case '/': case '(': case ')': case '$': case '~': case '^':
	case '=': case '<': case ';': case '+':
		return true;
	default:
		return false;
	}
}

/* The bytes a plain scalar in a flow collection may hold after its first. */
static bool flow_plain_char(char c)
{
	if (is_alnum(c))
		return true;
	switch (c) {
	case '_': case '.': case '-': case '+': case '/': case '=': case '<': case '>':
	case '(': case ')': case '$': case '~': case '^': case ';':
		return true;
	default:
		return false;
	}
}

static const char *skip_spaces(const char *p, const char *eol)
{
	while (p < eol && *p == ' ')
		p++;
	return p;
}

/* Whether only spaces, or spaces and a comment, are left of the line from P. */
static bool rest_empty(const char *p, const char *eol)
{
	const char *q = skip_spaces(p, eol);
	return q == eol || (*q == '#' && q > p);
}

/* A quoted scalar from P (at its quote) to its end on this line: emitted, and the byte
 * after the closing quote in *END. False when it goes on past the line, has an escape,
 * or the emitter stops. */
static bool quoted(fast *f, const char *p, const char **end)
{
	char q = *p;
	const char *s = p + 1, *i = s;
	size_t squotes = 0;
	for (;; i++) {
		if (i == f->eol || (q == '"' && *i == '\\'))
			return false;
		if (*i != q)
			continue;
		if (q == '\'' && i + 1 < f->eol && i[1] == '\'') {
			squotes++;
			i++;
			continue;
		}
		break;
	}
	*end = i + 1;
	const char *text = s;
	size_t len = (size_t)(i - s);
	if (squotes) {
		if (len > f->cap) {
			char *b = realloc(f->buf, len);
			if (!b)
				return false;
			f->buf = b;
			f->cap = len;
		}
		size_t n = 0;
		for (const char *c = s; c < i; c++) {
			f->buf[n++] = *c;
			if (*c == '\'')
				c++;
		}
		text = f->buf;
		len = n;
	}
	return fast_emit(f, DOC_EV_SCALAR, p, text, len, q == '\'' ? 1 : 2);
}

/* A plain scalar of block context from P: its end (trailing spaces not included) in
 * *END, and in *STOP where it stopped: the line's end, a comment, or a `:` followed by
 * a blank (a key). Not emitted. False when it cannot start at P. */
static bool block_plain(fast *f, const char *p, const char **end, const char **stop)
{
	if (!plain_first(*p) && !(*p == '-' && p + 1 < f->eol && p[1] != ' '))
		return false;
	const char *i = p + 1, *last = p + 1;
	for (; i < f->eol; i++) {
		if (*i == ':' && (i + 1 == f->eol || i[1] == ' '))
			break;
		if (*i == '#' && i[-1] == ' ')
			break;
		if (*i != ' ')
			last = i + 1;
	}
	*end = last;
	*stop = i;
	return true;
}

static bool flow_node(fast *f, const char **pp, int depth);

/* A scalar inside a flow collection from P, emitted; the byte after it in *END. */
static bool flow_scalar(fast *f, const char *p, const char **end)
{
	if (*p == '\'' || *p == '"')
		return quoted(f, p, end);
	const char *i = p + 1;
	if (*p == '?') {
		/* `?x`, and `?` alone before `,` `]` `}`: a variable. libyaml first reads `?` as
		 * a key indicator (doc_qmarks_find), so what follows must start a token */
		if (i == f->eol || !(plain_first(*i) || *i == ',' || *i == ']' || *i == '}'))
			return false;
	} else if (*p == '-') {
		if (i == f->eol || !flow_plain_char(*i))   /* `-5` */
			return false;
	} else if (!plain_first(*p)) {
		return false;
	}
	const char *last = i;
	for (; i < f->eol; i++) {
		if (flow_plain_char(*i))
			last = i + 1;
		else if (*i != ' ')
			break;
	}
	if (i == f->eol)
		return false;   /* the collection goes on past the line */
	if (*i == ':' && (i + 1 == f->eol || i[1] != ' '))
		return false;
	if (*i != ',' && *i != ']' && *i != '}' && *i != ':')
		return false;   /* a comment, or a byte left to libyaml */
	*end = last;
	return fast_emit(f, DOC_EV_SCALAR, p, p, (size_t)(last - p), 0);
}

/* Reads `, item` or the closing bracket CLOSE after an item: *PP moves past the comma (and
 * the spaces after it), or past the bracket, which sets *DONE. */
static bool flow_next(fast *f, const char **pp, char close, bool *done)
{
	const char *p = skip_spaces(*pp, f->eol);
	if (p == f->eol)
		return false;
	if (*p == close) {
		*pp = p + 1;
		*done = true;
		return fast_emit(f, DOC_EV_END, p, NULL, 0, 0);
	}
	if (*p != ',')
		return false;
	p = skip_spaces(p + 1, f->eol);
	if (p == f->eol || *p == close || *p == ',')
		return false;   /* a trailing or doubled comma */
	*pp = p;
	*done = false;
	return true;
}

/* A flow node at *PP (spaces skipped): a scalar, or a collection closed on this line. */
static bool flow_node(fast *f, const char **pp, int depth)
{
	const char *p = skip_spaces(*pp, f->eol);
	if (p == f->eol)
		return false;
	if (*p != '[' && *p != '{')
		return flow_scalar(f, p, pp);
	if (depth >= FAST_FLOW_DEPTH)
		return false;
	char close = *p == '[' ? ']' : '}';
	if (!fast_emit(f, *p == '[' ? DOC_EV_SEQ_START : DOC_EV_MAP_START, p, NULL, 0, 0))
		return false;
	p = skip_spaces(p + 1, f->eol);
	if (p < f->eol && *p == close) {
		*pp = p + 1;
		return fast_emit(f, DOC_EV_END, p, NULL, 0, 0);
	}
	for (bool done = false; !done;) {
		if (close == '}') {
			if (*p == '[' || *p == '{' || !flow_scalar(f, p, &p))
				return false;
			if (p == f->eol || *p != ':' || p + 1 == f->eol || p[1] != ' ')
				return false;
			p = skip_spaces(p + 1, f->eol);
			if (p == f->eol || *p == ',' || *p == '}')
				return false;   /* an empty value */
		}
		if (!flow_node(f, &p, depth + 1))
			return false;
		const char *q = skip_spaces(p, f->eol);
		if (q < f->eol && *q == ':')
			return false;   /* a pair that makes a mapping of one key */
		if (!flow_next(f, &p, close, &done))
			return false;
	}
	*pp = p;
	return true;
}

/* A value after `key: ` or `- ` at P, that is not a mapping: a scalar or a flow
 * collection, ending the line. */
static bool inline_value(fast *f, const char *p)
{
	if (*p == '[' || *p == '{') {
		return flow_node(f, &p, 0) && rest_empty(p, f->eol);
	}
	const char *end;
	if (*p == '\'' || *p == '"')
		return quoted(f, p, &end) && rest_empty(end, f->eol);
	const char *stop;
	if (!block_plain(f, p, &end, &stop) || (stop < f->eol && *stop == ':'))
		return false;
	return fast_emit(f, DOC_EV_SCALAR, p, p, (size_t)(end - p), 0);
}

/* Whether the line from P is `key:` followed by a blank: the key's end in *COLON. */
static bool is_key(fast *f, const char *p, const char **colon)
{
	const char *end, *stop;
	if (*p == '\'' || *p == '"') {
		const char *i = p + 1;
		while (i < f->eol && *i != *p)
			i++;
		if (i == f->eol)
			return false;
		end = i + 1;
	} else if (!block_plain(f, p, &end, &stop) || stop == f->eol || *stop != ':' ||
	           end != stop) {
		return false;   /* no key, or spaces before its colon */
	}
	*colon = end;
	return end < f->eol && *end == ':' && (end + 1 == f->eol || end[1] == ' ') &&
	       end - p <= FAST_KEY_MAX;
}

static bool block_push(fast *f, bool seq, int indent, bool indentless, const char *at)
{
	if (f->depth == FAST_BLOCK_DEPTH)
		return false;
	f->block[f->depth++] = (fast_block){ indent, seq, indentless };
	return fast_emit(f, seq ? DOC_EV_SEQ_START : DOC_EV_MAP_START, at, NULL, 0, 0);
}

/* `key: value` at P, in the mapping on top, whose keys are in P's column: the key, and
 * the value if it is on this line. *PENDING is set when it is on the lines below. */
static bool key_value(fast *f, const char *p, bool *pending)
{
	const char *colon, *end;
	if (!is_key(f, p, &colon))
		return false;
	if (*p == '\'' || *p == '"') {
		if (!quoted(f, p, &end))
			return false;
	} else if (!fast_emit(f, DOC_EV_SCALAR, p, p, (size_t)(colon - p), 0)) {
		return false;
	}
	const char *v = skip_spaces(colon + 1, f->eol);
	if (v == f->eol || *v == '#') {
		*pending = true;
		return true;
	}
	return inline_value(f, v);
}

/* A `- ` item's content at P: a mapping that starts on this line, or a value. */
static bool item(fast *f, const char *p, bool *pending)
{
	const char *colon;
	if (!is_key(f, p, &colon))
		return inline_value(f, p);
	return block_push(f, false, (int)(p - f->line), false, p) && key_value(f, p, pending);
}

/* Reads the lines of F's text: false as soon as something is left to libyaml. */
static bool fast_lines(fast *f, const char *end)
{
	bool pending = false, started = false;
	for (const char *p = f->text; p < end; p = f->eol + 1, f->lineno++) {
		f->line = p;
		f->eol = memchr(p, '\n', (size_t)(end - p));
		if (!f->eol)
			f->eol = end;
		const char *s = skip_spaces(p, f->eol);
		int col = (int)(s - p);
		int top = f->depth ? f->block[f->depth - 1].indent : -1;
		if (s == f->eol)
			continue;
		if (*s == '#') {
			if (col > top && !pending && started)
				return false;   /* deeper than the block: it may end a scalar */
			continue;
		}
		/* the text need not end in a NUL: "-" as the last byte is no "---" */
		if (col == 0 && (*s == '%' || (f->eol - s >= 3 &&
		                               (!memcmp(s, "---", 3) || !memcmp(s, "...", 3)) &&
		                               (s + 3 == f->eol || s[3] == ' '))))
			return false;
		bool dash = *s == '-' && (s + 1 == f->eol || s[1] == ' ');
		if (pending) {
			/* the value of the key above: a sequence at the key's column or deeper, or a
			 * mapping deeper */
			pending = false;
			if (col < top || (col == top && !dash))
				return false;   /* an empty value */
			if (!block_push(f, dash, col, col == top, s))
				return false;
		} else {
			while (f->depth && (f->block[f->depth - 1].indent > col ||
			                    (f->block[f->depth - 1].indentless &&
			                     f->block[f->depth - 1].indent == col && !dash))) {
				f->depth--;
				if (!fast_emit(f, DOC_EV_END, s, NULL, 0, 0))
					return false;
			}
			if (!f->depth) {
				if (started)
					return false;   /* more after the root: libyaml says what */
				started = true;
				if (!block_push(f, dash, col, false, s))
					return false;
			} else if (f->block[f->depth - 1].indent != col ||
			           f->block[f->depth - 1].seq != dash) {
				return false;
			}
		}
		if (!dash) {
			if (!key_value(f, s, &pending))
				return false;
			continue;
		}
		const char *c = skip_spaces(s + 1, f->eol);
		if (c == f->eol || *c == '#' || !item(f, c, &pending))
			return false;   /* an empty item, or one on the lines below */
	}
	if (pending || !started)
		return false;
	while (f->depth) {
		f->depth--;
		if (!fast_emit(f, DOC_EV_END, f->line, NULL, 0, 0))
			return false;
	}
	return true;
}

bool doc_fast_read(const char *text, size_t len, doc_ev_fn emit, void *ctx)
{
	/* Tabs, CR and other bytes are libyaml's. Blocks are tested whole, without an early
	 * exit, so that the compiler can test many bytes at once. */
	size_t i = 0;
	for (; i + 64 <= len; i += 64) {
		unsigned bad = 0;
		for (size_t j = i; j < i + 64; j++) {
			unsigned char c = (unsigned char)text[j];
			bad |= (unsigned)((c < 0x20 || c > 0x7E) & (c != '\n'));
		}
		if (bad)
			return false;
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c < 0x20 || c > 0x7E) && c != '\n')
			return false;
	}
	fast f = { .text = text, .emit = emit, .ctx = ctx };
	bool ok = fast_lines(&f, text + len);
	free(f.buf);
	return ok;
}
