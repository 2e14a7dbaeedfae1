/* SPDX-License-Identifier: MIT */
/*
 * yamldoc.c - YAML bytes to a tree of nodes with positions; the only file that includes
 * <yaml.h>.
 *
 * libyaml's event parser drives a small builder: scalars become leaves, sequence and
 * mapping events open and close frames whose items wait on one shared stack until the
 * collection ends and gets its own array. Every node keeps the 1-based line and column of
 * its event's start mark (columns count characters, as libyaml does). Aliases share the
 * anchored node; each alias adds the anchored node's expanded size to a running node
 * count, so an alias bomb hits max_nodes after a few dozen events instead of expanding.
 * The document keeps a copy of its text with line breaks turned into NULs, so that
 * eng_doc_line can hand out each line as a C string for diagnostics (a document rebuilt
 * from an image, docimage.c, reads that text only when a diagnostic needs a line).
 *
 * One deviation from plain YAML 1.1: inside flow collections `?x` is the variable the
 * rule language means, not an explicit-key indicator (see doc_qmarks_find).
 *
 * A text in the plain YAML that rule files are written in is read first by a quick
 * reader (yamlfast.c) that gives the builder the events libyaml would give, at a small
 * part of the cost; when it meets anything else it stops, and libyaml reads the text.
 */
#include "doc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define DOC_MAX_BYTES (16u << 20)
#define DOC_MAX_DEPTH 64
#define DOC_MAX_ALIASES 1000
#define DOC_MAX_NODES 1000000
#define DOC_MSG_MAX 512
#define DOC_SOURCE_MAX 4096
/* What a variable's `?` becomes inside flow collections, for the parser only. */
#define QMARK_STANDIN 'x'

/* An anchor seen so far; NODE is NULL while its collection is still open. */
typedef struct {
	char *name;
	const eng_node *node;
	size_t weight;          /* nodes in the anchored subtree, aliases expanded */
} doc_anchor;

/* A `?` of the text that the parser reads as a stand-in letter (see doc_qmarks_find). */
typedef struct {
	uint32_t line, col;
	size_t off;
} doc_qmark;

/* A short scalar text in the builder's table. */
typedef struct {
	const char *text;       /* in the document's arena; NULL: an empty slot */
	uint32_t len;
	uint32_t hash;
} doc_text_slot;

/* An open sequence or mapping. */
typedef struct {
	eng_node *node;
	size_t start;           /* its first item on the builder's stack */
	size_t nodes_before;    /* the node count before it */
	long anchor;            /* index in the anchor table, or -1 */
} doc_frame;

typedef struct {
	eng_doc *doc;
	eng_doc_limits lim;
	eng_diags *d;
	eng_status st;          /* ENG_OK, or why the builder stopped */
	size_t errors;
	const eng_node **stack;
	size_t nstack, capstack;
	doc_frame *frames;
	size_t depth, capframes;
	doc_anchor *anchors;
	size_t nanchors, capanchors;
	size_t nodes;
	uint32_t aliases;
	unsigned ndocs;
	doc_qmark *qmarks;      /* `?` turned into QMARK_STANDIN, in document order */
	size_t nqmarks, capqmarks, qnext;
	doc_text_slot *texts;   /* short scalar texts, stored once (doc_text) */
	size_t ntexts, captexts;
} doc_builder;

/* ---- lines and positions ---- */

/* The length of the line break at P (0 if none), as libyaml counts breaks: CR LF, CR,
 * LF, NEL, LS and PS. */
static size_t doc_break_len(const char *p, const char *end)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t left = (size_t)(end - p);
	if (u[0] == '\r')
		return left > 1 && u[1] == '\n' ? 2 : 1;
	if (u[0] == '\n')
		return 1;
	if (left > 1 && u[0] == 0xC2 && u[1] == 0x85)
		return 2;
	if (left > 2 && u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0xA8 || u[2] == 0xA9))
		return 3;
	return 0;
}

/* Copies TEXT into doc->lines with breaks turned into NULs and records where each line
 * starts; see doc.h. One pass over the copy: strcspn (vectorised in the C library) skips
 * to the next byte that can start a break, or to a NUL, which ends no line. */
eng_status doc_lines_init(eng_doc *doc, const char *text, size_t len)
{
	if (len > UINT32_MAX)
		return ENG_ERR_INVALID;
	size_t cap = len / 32 + 16, n = 1;
	doc->lines = malloc(len + 1);
	doc->starts = malloc(cap * sizeof(*doc->starts));
	if (!doc->lines || !doc->starts)
		return ENG_ERR_NOMEM;
	memcpy(doc->lines, text, len);
	doc->lines[len] = '\0';
	doc->len = len;
	doc->starts[0] = 0;
	char *lines = doc->lines, *end = lines + len;
	for (char *p = lines + strcspn(lines, "\n\r\xC2\xE2"); p < end;
	     p += strcspn(p, "\n\r\xC2\xE2")) {
		size_t b = doc_break_len(p, end);
		if (!b) {
			p++;   /* a NUL of the text, or a lead byte of another character */
			continue;
		}
		memset(p, 0, b);
		p += b;
		if (n == cap) {
			if (n >= UINT32_MAX)
				return ENG_ERR_INVALID;
			size_t *s = realloc(doc->starts, 2 * cap * sizeof(*s));
			if (!s)
				return ENG_ERR_NOMEM;
			doc->starts = s;
			cap *= 2;
		}
		doc->starts[n++] = (size_t)(p - lines);
	}
	doc->nlines = (uint32_t)n;
	return ENG_OK;
}

/* The 1-based line and column of byte OFF, counting columns in characters as libyaml
 * does (a UTF-8 byte order mark at the start takes no column). */
static void doc_pos_of(const eng_doc *doc, size_t off, uint32_t *line, uint32_t *col)
{
	uint32_t lo = 0, hi = doc->nlines;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (doc->starts[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	size_t i = doc->starts[lo];
	if (i == 0 && doc->len >= 3 && memcmp(doc->lines, "\xEF\xBB\xBF", 3) == 0 && off >= 3)
		i = 3;
	uint32_t c = 1;
	for (; i < off && i < doc->len; i++)
		if (((unsigned char)doc->lines[i] & 0xC0) != 0x80)
			c++;
	*line = lo + 1;
	*col = c;
}

/* ---- diagnostics ---- */

static void doc_errorv(doc_builder *b, eng_status st, uint32_t line, uint32_t col,
                       const char *fmt, va_list ap)
{
	char msg[DOC_MSG_MAX];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	b->errors++;
	if (st != ENG_OK && b->st == ENG_OK)
		b->st = st;
	if (!b->d)
		return;
	size_t llen = 0;
	const char *source = line ? eng_doc_line(b->doc, line, &llen) : NULL;
	if (llen > DOC_SOURCE_MAX)
		source = NULL;     /* not worth a copy in every diagnostic */
	if (eng_diags_add(b->d, ENG_SEV_ERROR, b->doc->name, line, col, 1, source, NULL,
	                  "%s", msg) != ENG_OK)
		b->st = ENG_ERR_NOMEM;
}

/* Records an error that lets the builder go on collecting others. */
__attribute__((format(printf, 4, 5)))
static void doc_error(doc_builder *b, uint32_t line, uint32_t col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	doc_errorv(b, ENG_OK, line, col, fmt, ap);
	va_end(ap);
}

/* Records an error that stops the builder. */
__attribute__((format(printf, 4, 5)))
static void doc_fatal(doc_builder *b, uint32_t line, uint32_t col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	doc_errorv(b, ENG_ERR_LOAD, line, col, fmt, ap);
	va_end(ap);
}

static void doc_nomem(doc_builder *b)
{
	if (b->st == ENG_OK)
		b->st = ENG_ERR_NOMEM;
}

/* ---- the builder ---- */

static eng_node *doc_node_new(doc_builder *b, eng_node_kind kind, yaml_mark_t m)
{
	eng_node *n = arena_alloc_small_raw(b->doc->a, sizeof(*n));
	if (!n) {
		doc_nomem(b);
		return NULL;
	}
	*n = (eng_node){ .line = (uint32_t)m.line + 1, .col = (uint32_t)m.column + 1,
	                 .kind = (uint8_t)kind };
	return n;
}

/* Twice N, for "raise it with" hints; SIZE_MAX when that would overflow. A limit of the
 * engine's is named as mlarch's --limit option names it, then as the field of
 * eng_doc_limits. */
static size_t doc_twice(size_t n)
{
	return n > SIZE_MAX / 2 ? SIZE_MAX : n * 2;
}

/* Counts WEIGHT more nodes; false (after a fatal error) past max_nodes. */
static bool doc_count(doc_builder *b, size_t weight, yaml_mark_t m, const char *alias)
{
	if (weight > b->lim.max_nodes - b->nodes) {
		if (alias)
			doc_fatal(b, (uint32_t)m.line + 1, (uint32_t)m.column + 1,
			          "alias `*%s` expands the document past %zu nodes (limit yaml-nodes); "
			          "raise it with --limit yaml-nodes=%zu (eng_doc_limits.max_nodes)",
			          alias, b->lim.max_nodes, doc_twice(b->lim.max_nodes));
		else
			doc_fatal(b, (uint32_t)m.line + 1, (uint32_t)m.column + 1,
			          "document has more than %zu nodes (limit yaml-nodes); raise it "
			          "with --limit yaml-nodes=%zu (eng_doc_limits.max_nodes)",
			          b->lim.max_nodes, doc_twice(b->lim.max_nodes));
		return false;
	}
	b->nodes += weight;
	return true;
}

/* Gives a finished node to the open collection, or makes it the root. */
static void doc_push(doc_builder *b, const eng_node *n)
{
	if (b->depth == 0) {
		b->doc->root = n;
		return;
	}
	if (b->nstack == b->capstack) {
		size_t cap = b->capstack ? b->capstack * 2 : 64;
		const eng_node **s = realloc(b->stack, cap * sizeof(*s));
		if (!s) {
			doc_nomem(b);
			return;
		}
		b->stack = s;
		b->capstack = cap;
	}
	b->stack[b->nstack++] = n;
}

/* Registers anchor NAME (may be NULL: nothing to do). Returns its index, or -1. */
static long doc_anchor_add(doc_builder *b, const yaml_char_t *name, const eng_node *n,
                           size_t weight)
{
	if (!name)
		return -1;
	if (b->nanchors == b->capanchors) {
		size_t cap = b->capanchors ? b->capanchors * 2 : 16;
		doc_anchor *a = realloc(b->anchors, cap * sizeof(*a));
		if (!a) {
			doc_nomem(b);
			return -1;
		}
		b->anchors = a;
		b->capanchors = cap;
	}
	char *copy = strdup((const char *)name);
	if (!copy) {
		doc_nomem(b);
		return -1;
	}
	doc_anchor *a = &b->anchors[b->nanchors];
	a->name = copy;
	a->node = n;
	a->weight = weight;
	return (long)b->nanchors++;
}

static void doc_alias(doc_builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	yaml_mark_t m = ev->start_mark;
	uint32_t line = (uint32_t)m.line + 1, col = (uint32_t)m.column + 1;
	if (++b->aliases > b->lim.max_aliases) {
		doc_fatal(b, line, col, "more than %u aliases in the document (limit yaml-aliases); "
		          "raise it with --limit yaml-aliases=%zu (eng_doc_limits.max_aliases)",
		          b->lim.max_aliases, doc_twice(b->lim.max_aliases));
		return;
	}
	const doc_anchor *a = NULL;
	for (size_t i = b->nanchors; i-- > 0;) {
		if (strcmp(b->anchors[i].name, name) == 0) {
			a = &b->anchors[i];
			break;
		}
	}
	const eng_node *target = a ? a->node : NULL;
	if (!a)
		doc_error(b, line, col, "undefined alias `*%s`", name);
	else if (!a->node)
		doc_error(b, line, col, "alias `*%s` refers to a node that contains it", name);
	if (!target) {
		/* An empty placeholder keeps mappings in key/value pairs. */
		eng_node *n = doc_node_new(b, ENG_NODE_SCALAR, m);
		if (!n)
			return;
		n->u.text = "";
		doc_push(b, n);
		return;
	}
	if (doc_count(b, a->weight, m, name))
		doc_push(b, target);
}

/* Scalar texts of up to DOC_TEXT_SHARED bytes are stored once: a rule file repeats its
 * keys and symbols many times. */
#define DOC_TEXT_SHARED 32

/* A NUL-terminated copy of S[0..LEN) in the document's arena, shared with equal short
 * texts; NULL when out of memory. */
static const char *doc_text(doc_builder *b, const char *s, size_t len)
{
	if (len > DOC_TEXT_SHARED)
		return arena_strndup(b->doc->a, s, len);
	if ((b->ntexts + 1) * 2 > b->captexts) {
		size_t cap = b->captexts ? b->captexts * 2 : 1024;
		doc_text_slot *t = calloc(cap, sizeof(*t));
		if (!t)
			return arena_strndup(b->doc->a, s, len);   /* unshared, but stored */
		for (size_t i = 0; i < b->captexts; i++) {
			if (!b->texts[i].text)
				continue;
			size_t k = b->texts[i].hash & (cap - 1);
			while (t[k].text)
				k = (k + 1) & (cap - 1);
			t[k] = b->texts[i];
		}
		free(b->texts);
		b->texts = t;
		b->captexts = cap;
	}
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	size_t k = h & (b->captexts - 1);
	for (; b->texts[k].text; k = (k + 1) & (b->captexts - 1))
		if (b->texts[k].hash == h && b->texts[k].len == len &&
		    memcmp(b->texts[k].text, s, len) == 0)
			return b->texts[k].text;
	const char *copy = arena_strndup(b->doc->a, s, len);
	if (copy) {
		b->texts[k] = (doc_text_slot){ copy, (uint32_t)len, h };
		b->ntexts++;
	}
	return copy;
}

/* A scalar at M: VALUE[0..LEN) (writable: a `?` stand-in is put back), PLAIN when written
 * without quotes, its TAG and ANCHOR (either may be NULL). */
static void doc_scalar_at(doc_builder *b, yaml_mark_t m, char *value, size_t len, bool plain,
                          const char *tag, const yaml_char_t *anchor)
{
	if (!doc_count(b, 1, m, NULL))
		return;
	eng_node *n = doc_node_new(b, ENG_NODE_SCALAR, m);
	if (!n)
		return;
	n->size = (uint32_t)len;
	while (b->qnext < b->nqmarks && (b->qmarks[b->qnext].line < n->line ||
	                                 (b->qmarks[b->qnext].line == n->line &&
	                                  b->qmarks[b->qnext].col < n->col)))
		b->qnext++;
	if (b->qnext < b->nqmarks && b->qmarks[b->qnext].line == n->line &&
	    b->qmarks[b->qnext].col == n->col && n->size && plain)
		value[0] = '?';   /* the stand-in goes back to what was written */
	n->u.text = doc_text(b, value, len);
	if (!n->u.text) {
		doc_nomem(b);
		return;
	}
	n->quoted = !plain || (tag && strcmp(tag, YAML_STR_TAG) == 0);
	doc_anchor_add(b, anchor, n, 1);
	doc_push(b, n);
}

static void doc_scalar(doc_builder *b, const yaml_event_t *ev)
{
	/* the event's own copy of the value */
	doc_scalar_at(b, ev->start_mark, (char *)ev->data.scalar.value, ev->data.scalar.length,
	              ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE,
	              (const char *)ev->data.scalar.tag, ev->data.scalar.anchor);
}

/* Opens a collection of KIND at M, with ANCHOR (may be NULL). */
static void doc_open_at(doc_builder *b, yaml_mark_t m, eng_node_kind kind,
                        const yaml_char_t *anchor)
{
	if (b->depth >= b->lim.max_depth) {
		doc_fatal(b, (uint32_t)m.line + 1, (uint32_t)m.column + 1,
		          "nesting deeper than %u levels (limit yaml-depth); raise it with "
		          "--limit yaml-depth=%zu (eng_doc_limits.max_depth)", b->lim.max_depth,
		          doc_twice(b->lim.max_depth));
		return;
	}
	size_t before = b->nodes;
	if (!doc_count(b, 1, m, NULL))
		return;
	eng_node *n = doc_node_new(b, kind, m);
	if (!n)
		return;
	if (b->depth == b->capframes) {
		size_t cap = b->capframes ? b->capframes * 2 : 16;
		doc_frame *f = realloc(b->frames, cap * sizeof(*f));
		if (!f) {
			doc_nomem(b);
			return;
		}
		b->frames = f;
		b->capframes = cap;
	}
	doc_frame *f = &b->frames[b->depth++];
	f->node = n;
	f->start = b->nstack;
	f->nodes_before = before;
	f->anchor = doc_anchor_add(b, anchor, NULL, 0);
}

static void doc_open(doc_builder *b, const yaml_event_t *ev, eng_node_kind kind)
{
	doc_open_at(b, ev->start_mark, kind,
	            kind == ENG_NODE_SEQ ? ev->data.sequence_start.anchor
	                                 : ev->data.mapping_start.anchor);
}

typedef struct {
	const eng_node *key;
	size_t i;
} doc_key;

static int doc_key_cmp(const void *pa, const void *pb)
{
	const doc_key *a = pa, *b = pb;
	size_t n = a->key->size < b->key->size ? a->key->size : b->key->size;
	int c = memcmp(a->key->u.text, b->key->u.text, n);
	if (c)
		return c;
	if (a->key->size != b->key->size)
		return a->key->size < b->key->size ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* True when two of MAP's keys (all scalars) have the same text. */
static bool doc_keys_repeat(const eng_node *map)
{
	for (size_t i = 1; i < map->size; i++) {
		const eng_node *k = map->u.items[2 * i];
		for (size_t j = 0; j < i; j++) {
			const eng_node *o = map->u.items[2 * j];
			if (k->size == o->size && memcmp(k->u.text, o->u.text, k->size) == 0)
				return true;
		}
	}
	return false;
}

/* Checks a finished mapping: scalar keys, no merge keys, no key twice. */
static void doc_check_keys(doc_builder *b, const eng_node *map)
{
	size_t n = map->size, nscalar = 0;
	for (size_t i = 0; i < n; i++) {
		const eng_node *k = map->u.items[2 * i];
		if (k->kind != ENG_NODE_SCALAR)
			doc_error(b, k->line, k->col, "mapping keys must be scalars, found a %s",
			          k->kind == ENG_NODE_SEQ ? "sequence" : "mapping");
		else if (!k->quoted && strcmp(k->u.text, "<<") == 0)
			doc_error(b, k->line, k->col,
			          "merge keys (`<<`) are not supported; write the keys out");
		else
			nscalar++;
	}
	if (nscalar < 2)
		return;
	if (n <= 8 && nscalar == n && !doc_keys_repeat(map))
		return;   /* the usual small mapping: nothing to report, no sorting */
	doc_key *keys = malloc(nscalar * sizeof(*keys));
	if (!keys) {
		doc_nomem(b);
		return;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		const eng_node *k = map->u.items[2 * i];
		/* the keys counted above: a merge key is not one of them */
		if (k->kind == ENG_NODE_SCALAR && (k->quoted || strcmp(k->u.text, "<<") != 0)) {
			keys[m].key = k;
			keys[m++].i = i;
		}
	}
	qsort(keys, m, sizeof(*keys), doc_key_cmp);
	/* Equal keys are now adjacent, in document order: report all but the first. */
	for (size_t i = 1, first = 0; i < m; i++) {
		const eng_node *k = keys[i].key, *f = keys[first].key;
		if (k->size == f->size && memcmp(k->u.text, f->u.text, k->size) == 0)
			doc_error(b, k->line, k->col, "duplicate key `%s` (first at line %u)",
			          k->u.text, f->line);
		else
			first = i;
	}
	free(keys);
}

static void doc_close(doc_builder *b)
{
	doc_frame *f = &b->frames[--b->depth];
	eng_node *n = f->node;
	size_t count = b->nstack - f->start;
	if (count) {
		n->u.items = arena_alloc_small_raw(b->doc->a, count * sizeof(*n->u.items));
		if (!n->u.items) {
			doc_nomem(b);
			return;
		}
		memcpy(n->u.items, b->stack + f->start, count * sizeof(*n->u.items));
	}
	b->nstack = f->start;
	n->size = (uint32_t)(n->kind == ENG_NODE_MAP ? count / 2 : count);
	if (n->kind == ENG_NODE_MAP)
		doc_check_keys(b, n);
	if (f->anchor >= 0) {
		b->anchors[f->anchor].node = n;
		b->anchors[f->anchor].weight = b->nodes - f->nodes_before;
	}
	doc_push(b, n);
}

/* Handles one event. Returns false at the end of the stream or when the builder stops. */
static bool doc_event(doc_builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return false;
	case YAML_DOCUMENT_START_EVENT:
		if (++b->ndocs > 1) {
			doc_fatal(b, (uint32_t)ev->start_mark.line + 1,
			          (uint32_t)ev->start_mark.column + 1,
			          "a file holds one YAML document; found a second one here");
			return false;
		}
		break;
	case YAML_ALIAS_EVENT:
		doc_alias(b, ev);
		break;
	case YAML_SCALAR_EVENT:
		doc_scalar(b, ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
		doc_open(b, ev, ENG_NODE_SEQ);
		break;
	case YAML_MAPPING_START_EVENT:
		doc_open(b, ev, ENG_NODE_MAP);
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		doc_close(b);
		break;
	default:
		break;
	}
	return b->st == ENG_OK;
}

/* Turns libyaml's error into a diagnostic with a position. */
static void doc_parser_error(doc_builder *b, const yaml_parser_t *p)
{
	uint32_t line, col;
	switch (p->error) {
	case YAML_MEMORY_ERROR:
		doc_nomem(b);
		return;
	case YAML_READER_ERROR:
		doc_pos_of(b->doc, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			doc_fatal(b, line, col, "%s (byte 0x%02X)", p->problem,
			          (unsigned)p->problem_value & 0xFFu);
		else
			doc_fatal(b, line, col, "%s", p->problem);
		return;
	default:
		line = (uint32_t)p->problem_mark.line + 1;
		col = (uint32_t)p->problem_mark.column + 1;
		if (p->context)
			doc_fatal(b, line, col, "%s (%s at line %u, column %u)", p->problem,
			          p->context, (unsigned)p->context_mark.line + 1,
			          (unsigned)p->context_mark.column + 1);
		else
			doc_fatal(b, line, col, "%s", p->problem ? p->problem : "invalid YAML");
		return;
	}
}

/* Checks the raw bytes for what libyaml would report badly or not at all. */
static bool doc_check_bytes(doc_builder *b, const char *text, size_t len)
{
	const unsigned char *u = (const unsigned char *)text;
	if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) {
		doc_fatal(b, 1, 1, "the file is UTF-16; save it as UTF-8");
		return false;
	}
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		uint32_t line, col;
		doc_pos_of(b->doc, (size_t)(nul - text), &line, &col);
		doc_fatal(b, line, col, "NUL byte in the input");
		return false;
	}
	return true;
}

/* The byte offset of 1-based LINE and character column COL (a UTF-8 byte order mark at
 * the start takes no column, as in libyaml). */
static size_t doc_off_of(const eng_doc *doc, uint32_t line, uint32_t col)
{
	size_t off = doc->starts[line - 1];
	if (off == 0 && doc->len >= 3 && memcmp(doc->lines, "\xEF\xBB\xBF", 3) == 0)
		off = 3;
	for (uint32_t c = 1; c < col && off < doc->len; c++)
		while (++off < doc->len && ((unsigned char)doc->lines[off] & 0xC0) == 0x80)
			;
	return off;
}

static bool doc_blank(const char *text, size_t len, size_t off)
{
	return off >= len || text[off] == ' ' || text[off] == '\t' ||
	       doc_break_len(text + off, text + len) > 0;
}

/*
 * Inside flow collections YAML 1.1 (and so libyaml) reads `?` as the explicit-key
 * indicator even when a letter follows, so `[?alg, size, ?n]` would parse as a mapping
 * and `{as: ?m}` would not parse at all - while in block context `?m` is a plain scalar.
 * The rule language writes variables the same way everywhere, so a first pass over the
 * tokens finds each such `?` (an explicit key token in a flow collection, not followed
 * by a blank); the real pass reads a copy of the text with the `?` replaced by a letter
 * (same length, same positions), and doc_scalar puts the `?` back in the scalar that
 * starts there. A lone `?` before `,` `]` `}` (the anonymous variable) is handled alike.
 */
static void doc_qmarks_find(doc_builder *b, const char *text, size_t len)
{
	if (!memchr(text, '?', len))
		return;
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		doc_nomem(b);
		return;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	int flow = 0;
	bool done = false;
	while (!done && b->st == ENG_OK) {
		yaml_token_t tok;
		if (!yaml_parser_scan(&p, &tok))
			break;   /* the real pass reports it */
		switch (tok.type) {
		case YAML_STREAM_END_TOKEN:
			done = true;
			break;
		case YAML_FLOW_SEQUENCE_START_TOKEN:
		case YAML_FLOW_MAPPING_START_TOKEN:
			flow++;
			break;
		case YAML_FLOW_SEQUENCE_END_TOKEN:
		case YAML_FLOW_MAPPING_END_TOKEN:
			flow--;
			break;
		case YAML_KEY_TOKEN: {
			if (flow <= 0 || tok.end_mark.index != tok.start_mark.index + 1)
				break;
			uint32_t line = (uint32_t)tok.start_mark.line + 1;
			uint32_t col = (uint32_t)tok.start_mark.column + 1;
			size_t off = doc_off_of(b->doc, line, col);
			if (off >= len || text[off] != '?' || doc_blank(text, len, off + 1))
				break;
			if (b->nqmarks == b->capqmarks) {
				size_t cap = b->capqmarks ? b->capqmarks * 2 : 64;
				doc_qmark *q = realloc(b->qmarks, cap * sizeof(*q));
				if (!q) {
					doc_nomem(b);
					break;
				}
				b->qmarks = q;
				b->capqmarks = cap;
			}
			doc_qmark q = { line, col, off };
			b->qmarks[b->nqmarks++] = q;
			break;
		}
		default:
			break;
		}
		yaml_token_delete(&tok);
	}
	yaml_parser_delete(&p);
}

static void doc_builder_free(doc_builder *b)
{
	for (size_t i = 0; i < b->nanchors; i++)
		free(b->anchors[i].name);
	free(b->anchors);
	free(b->qmarks);
	free(b->texts);
	free(b->frames);
	free(b->stack);
}

/* Both passes: the `?` that need a stand-in, then libyaml's events into the builder. */
static void doc_read(doc_builder *b, const char *text, size_t len)
{
	doc_qmarks_find(b, text, len);
	if (b->st != ENG_OK)
		return;
	char *patched = NULL;
	if (b->nqmarks) {
		if (!(patched = malloc(len))) {
			doc_nomem(b);
			return;
		}
		memcpy(patched, text, len);
		for (size_t i = 0; i < b->nqmarks; i++)
			patched[b->qmarks[i].off] = QMARK_STANDIN;
		text = patched;
	}
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		free(patched);
		doc_nomem(b);
		return;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			doc_parser_error(b, &p);
			break;
		}
		bool more = doc_event(b, &ev);
		yaml_event_delete(&ev);
		if (!more)
			break;
	}
	yaml_parser_delete(&p);
	free(patched);
}

/* The quick reader's events (yamlfast.c) into builder CTX, as libyaml's would go: no
 * tags, anchors or aliases (the quick reader leaves documents with them to libyaml). */
static bool doc_fast_event(void *ctx, const doc_ev *fe)
{
	doc_builder *b = ctx;
	yaml_mark_t m = { .line = fe->line, .column = fe->col };
	switch (fe->kind) {
	case DOC_EV_SCALAR:
		/* doc_scalar_at writes to the text only to put back a `?` that libyaml read as
		 * a stand-in: none here */
		doc_scalar_at(b, m, (char *)fe->text, fe->len, fe->style == 0, NULL, NULL);
		break;
	case DOC_EV_SEQ_START:
		doc_open_at(b, m, ENG_NODE_SEQ, NULL);
		break;
	case DOC_EV_MAP_START:
		doc_open_at(b, m, ENG_NODE_MAP, NULL);
		break;
	default:   /* DOC_EV_END: the builder closes either kind alike */
		doc_close(b);
		break;
	}
	return b->st == ENG_OK;
}

/* Builds B's document with the quick reader (yamlfast.c), reporting nothing: true when
 * it did so without a fault. Else what it built is dropped and the document is as it
 * was, for libyaml, which also reports what is wrong (the quick reader may have stopped
 * at what is right, or the builder found a fault it will find again). */
static bool doc_read_fast(doc_builder *b, const char *text, size_t len)
{
	doc_builder q = { .doc = b->doc, .lim = b->lim };   /* no diagnostics */
	arena_mark m = arena_mark_get(b->doc->a);
	yaml_event_t start;
	memset(&start, 0, sizeof(start));
	start.type = YAML_DOCUMENT_START_EVENT;
	bool ok = doc_event(&q, &start) && doc_fast_read(text, len, doc_fast_event, &q) &&
	          q.st == ENG_OK && !q.errors && !q.depth;
	doc_builder_free(&q);
	if (!ok) {
		arena_rewind(b->doc->a, m);
		b->doc->root = NULL;
	}
	return ok;
}

void eng_doc_limits_fill(eng_doc_limits *out, const eng_doc_limits *in)
{
	eng_doc_limits def = { DOC_MAX_BYTES, DOC_MAX_DEPTH, DOC_MAX_ALIASES, DOC_MAX_NODES };
	eng_doc_limits given = in ? *in : def;
	*out = def;
	in = &given;
	if (in->max_bytes)
		out->max_bytes = in->max_bytes;
	if (in->max_depth)
		out->max_depth = in->max_depth;
	if (in->max_aliases)
		out->max_aliases = in->max_aliases;
	if (in->max_nodes)
		out->max_nodes = in->max_nodes;
}

/* Builds a document from TEXT[0..LEN) (not copied; TEXT[LEN] need not be NUL). NAME is
 * copied. SIZE is the whole input's size when TEXT holds only its start (a file cut at
 * max_bytes), for the message. Returns the document, or NULL with diagnostics in D and
 * the reason in *ST. */
static eng_doc *doc_parse(const char *name, const char *text, size_t len, size_t size,
                          const eng_doc_limits *limits, bool quick, eng_diags *d,
                          eng_status *st)
{
	doc_builder b = { .d = d };
	eng_doc_limits_fill(&b.lim, limits);
	eng_doc *doc = calloc(1, sizeof(*doc));
	if (!doc) {
		*st = ENG_ERR_NOMEM;
		return NULL;
	}
	b.doc = doc;
	doc->a = arena_new();
	if (!doc->a || !(doc->name = arena_strndup(doc->a, name, strlen(name)))) {
		eng_doc_free(doc);
		*st = ENG_ERR_NOMEM;
		return NULL;
	}
	eng_status lst = ENG_OK;
	if (len > b.lim.max_bytes)
		doc_fatal(&b, 0, 0, "input is larger than the limit of %zu bytes (limit yaml-bytes); "
		          "raise it with --limit yaml-bytes=%zu (eng_doc_limits.max_bytes)",
		          b.lim.max_bytes, size > len ? size : len);
	else if ((lst = doc_lines_init(doc, text, len)) == ENG_ERR_INVALID)
		doc_fatal(&b, 0, 0, "too many lines, or more than 4 GiB");
	else if (lst != ENG_OK)
		doc_nomem(&b);
	else if (doc_check_bytes(&b, text, len) && !(quick && doc_read_fast(&b, text, len)))
		doc_read(&b, text, len);
	doc_builder_free(&b);
	if (b.st != ENG_OK || b.errors) {
		*st = b.st != ENG_OK ? b.st : ENG_ERR_LOAD;
		eng_doc_free(doc);
		return NULL;
	}
	*st = ENG_OK;
	return doc;
}

/* ---- reading ---- */

void doc_parser_version(int *major, int *minor, int *patch)
{
	yaml_get_version(major, minor, patch);
}

/* Parses LEN bytes of TEXT (copied; need not be NUL-terminated) named NAME in
 * diagnostics. The caller frees the document with eng_doc_free. */
eng_doc *eng_doc_read_string(const char *name, const char *text, size_t len,
                             const eng_doc_limits *limits, eng_diags *d, eng_status *st)
{
	eng_status dummy;
	if (!st)
		st = &dummy;
	if (!text && len) {
		*st = ENG_ERR_INVALID;
		return NULL;
	}
	return doc_parse(name ? name : "", text ? text : "", len, len, limits, true, d, st);
}

eng_doc *doc_read_string_libyaml(const char *name, const char *text, size_t len,
                                 eng_diags *d, eng_status *st)
{
	return doc_parse(name, text, len, len, NULL, false, d, st);
}

static eng_doc *doc_io_error(const char *path, int err, eng_diags *d, eng_status *st)
{
	char buf[256];
	if (strerror_r(err, buf, sizeof(buf)) != 0)
		snprintf(buf, sizeof(buf), "error %d", err);
	*st = ENG_ERR_IO;
	if (d && eng_diags_add(d, ENG_SEV_ERROR, path, 0, 0, 0, NULL, NULL,
	                       "cannot read `%s`: %s", path, buf) != ENG_OK)
		*st = ENG_ERR_NOMEM;
	return NULL;
}

/* Reads all of FD, up to MAX bytes plus one (so the caller sees it is too big). On
 * success *OUT is a malloc'd buffer the caller frees. Returns 0 or an errno value. */
static int doc_slurp(int fd, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return ENOMEM;
	for (;;) {
		if (n == cap) {
			if (n > max)
				break;
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			free(buf);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Reads PATH whole (at most max_bytes) and parses it. An unreadable path (missing,
 * a directory, no permission) is ENG_ERR_IO with "cannot read `PATH`: REASON". The
 * caller frees the document with eng_doc_free. */
eng_doc *eng_doc_read_file(const char *path, const eng_doc_limits *limits, eng_diags *d,
                           eng_status *st)
{
	eng_status dummy;
	if (!st)
		st = &dummy;
	if (!path) {
		*st = ENG_ERR_INVALID;
		return NULL;
	}
	eng_doc_limits lim;
	eng_doc_limits_fill(&lim, limits);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return doc_io_error(path, errno, d, st);
	struct stat sb;
	int err = fstat(fd, &sb) != 0 ? errno : S_ISDIR(sb.st_mode) ? EISDIR : 0;
	if (err) {
		close(fd);
		return doc_io_error(path, err, d, st);
	}
	char *buf = NULL;
	size_t len = 0;
	err = doc_slurp(fd, lim.max_bytes, &buf, &len);
	close(fd);
	if (err == ENOMEM) {
		*st = ENG_ERR_NOMEM;
		return NULL;
	}
	if (err)
		return doc_io_error(path, err, d, st);
	size_t size = S_ISREG(sb.st_mode) && sb.st_size > 0 ? (size_t)sb.st_size : len;
	eng_doc *doc = doc_parse(path, buf, len, size, &lim, true, d, st);
	free(buf);
	return doc;
}

/* Frees the document and all its nodes. NULL is allowed. */
void eng_doc_free(eng_doc *doc)
{
	if (!doc)
		return;
	arena_free(doc->a);
	free(doc->source);
	free(doc->lines);
	free(doc->starts);
	free(doc);
}

/* The name given when reading (the path for files); "" for NULL. */
const char *eng_doc_name(const eng_doc *doc)
{
	return doc ? doc->name : "";
}

/* The root node; NULL for a document with no content. */
const eng_node *eng_doc_root(const eng_doc *doc)
{
	return doc ? doc->root : NULL;
}

/* Reads the lines of a document rebuilt from an image from its source file, once. If the
 * file cannot be read the document simply has no lines (diagnostics go without them). */
static void doc_lines_load(eng_doc *doc)
{
	doc->source_tried = true;
	int fd = open(doc->source, O_RDONLY);
	if (fd < 0)
		return;
	char *buf = NULL;
	size_t len = 0;
	int err = doc_slurp(fd, DOC_MAX_BYTES, &buf, &len);
	close(fd);
	if (err)
		return;
	if (len > DOC_MAX_BYTES || doc_lines_init(doc, buf, len) != ENG_OK) {
		free(doc->lines);
		free(doc->starts);
		doc->lines = NULL;
		doc->starts = NULL;
		doc->nlines = 0;
	}
	free(buf);
}

/* The text is also NUL-terminated at the end of the line. LEN may be NULL. A document
 * rebuilt from an image reads its source file on the first call (so this one call may do
 * I/O; a document is not to be shared between threads). */
const char *eng_doc_line(const eng_doc *doc, uint32_t line, size_t *len)
{
	if (doc && !doc->lines && doc->source && !doc->source_tried)
		doc_lines_load((eng_doc *)doc);     /* documents are never const objects */
	if (!doc || !doc->lines || line == 0 || line > doc->nlines)
		return NULL;
	const char *s = doc->lines + doc->starts[line - 1];
	if (len)
		*len = strlen(s);
	return s;
}

/* ---- nodes ---- */

/* Scalar, sequence or mapping. N must not be NULL. */
eng_node_kind eng_node_kind_of(const eng_node *n)
{
	return (eng_node_kind)n->kind;
}

/* 1-based line of the node's first character; 0 for NULL. */
uint32_t eng_node_line(const eng_node *n)
{
	return n ? n->line : 0;
}

/* 1-based column (in characters) of the node's first character; 0 for NULL. */
uint32_t eng_node_col(const eng_node *n)
{
	return n ? n->col : 0;
}

/* NULL (and *LEN 0) for a node that is not a scalar. LEN may be NULL. */
const char *eng_node_text(const eng_node *n, size_t *len)
{
	bool scalar = n && n->kind == ENG_NODE_SCALAR;
	if (len)
		*len = scalar ? n->size : 0;
	return scalar ? n->u.text : NULL;
}

/* True for single- and double-quoted scalars, block scalars and `!!str`. */
bool eng_node_quoted(const eng_node *n)
{
	return n && n->kind == ENG_NODE_SCALAR && n->quoted;
}

/* 0 for a scalar. */
size_t eng_node_size(const eng_node *n)
{
	return n && n->kind != ENG_NODE_SCALAR ? n->size : 0;
}

/* Item I of a sequence; NULL when SEQ is not a sequence or I is out of range. */
const eng_node *eng_node_item(const eng_node *seq, size_t i)
{
	if (!seq || seq->kind != ENG_NODE_SEQ || i >= seq->size)
		return NULL;
	return seq->u.items[i];
}

/* The key of pair I of a mapping; NULL when MAP is not one or I is out of range. */
const eng_node *eng_node_key(const eng_node *map, size_t i)
{
	if (!map || map->kind != ENG_NODE_MAP || i >= map->size)
		return NULL;
	return map->u.items[2 * i];
}

/* The value of pair I of a mapping; NULL when MAP is not one or I is out of range. */
const eng_node *eng_node_value(const eng_node *map, size_t i)
{
	if (!map || map->kind != ENG_NODE_MAP || i >= map->size)
		return NULL;
	return map->u.items[2 * i + 1];
}

/* The value whose scalar key spells KEY exactly (quoted or not); NULL if none. */
const eng_node *eng_node_get(const eng_node *map, const char *key)
{
	if (!map || map->kind != ENG_NODE_MAP || !key)
		return NULL;
	size_t len = strlen(key);
	for (size_t i = 0; i < map->size; i++) {
		const eng_node *k = map->u.items[2 * i];
		if (k->kind == ENG_NODE_SCALAR && k->size == len &&
		    memcmp(k->u.text, key, len) == 0)
			return map->u.items[2 * i + 1];
	}
	return NULL;
}
