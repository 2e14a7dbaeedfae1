/* SPDX-License-Identifier: MIT */
/*
 * doc.h - the inside of a YAML document tree, shared by the two files that build one:
 * yamldoc.c (from YAML text, with libyaml or, for plain rule files, yamlfast.c) and
 * docimage.c (from a serialised image).
 * Everything else reads documents through the eng_node_* functions of engine.h.
 */
#ifndef MLARCH_ENGINE_DOC_H
#define MLARCH_ENGINE_DOC_H

#include "internal.h"

struct eng_node {
	union {
		const char *text;
		const eng_node **items; /* mapping: key0, value0, key1, value1, ... */
	} u;
	uint32_t line, col;
	uint32_t size;          /* scalar: bytes of text; sequence: items; mapping: pairs (a
	                         * document is at most UINT32_MAX bytes: doc_lines_init) */
	uint8_t kind;           /* eng_node_kind */
	bool quoted;
};

struct eng_doc {
	arena *a;
	const char *name;
	char *lines;            /* the text, line breaks replaced by NULs; NULL until known */
	size_t len;
	size_t *starts;         /* byte offset of each line in LINES */
	uint32_t nlines;
	const eng_node *root;
	/* A document rebuilt from an image has no text: its lines are read from SOURCE
	 * (malloc'd) the first time a diagnostic asks for one (see eng_doc_line). */
	char *source;
	bool source_tried;
};

/* Copies TEXT[0..LEN) into DOC's lines (line breaks turned into NULs) and records where
 * each line starts. ENG_ERR_NOMEM, or ENG_ERR_INVALID past UINT32_MAX lines; the doc keeps
 * what it got either way (eng_doc_free frees it). */
eng_status doc_lines_init(eng_doc *doc, const char *text, size_t len);
/* The version of the YAML parser behind documents (an image records it: another parser
 * might read the same text otherwise). */
void doc_parser_version(int *major, int *minor, int *patch);

/* eng_doc_read_string (without limits) with libyaml only: for the tests that compare the
 * quick reader with it. NAME and TEXT are not NULL. */
eng_doc *doc_read_string_libyaml(const char *name, const char *text, size_t len,
                                 eng_diags *d, eng_status *st);

/* An event of the quick reader (yamlfast.c), as libyaml gives it for the same text. */
typedef enum { DOC_EV_SCALAR, DOC_EV_SEQ_START, DOC_EV_MAP_START, DOC_EV_END } doc_ev_kind;

typedef struct {
	doc_ev_kind kind;
	uint32_t line, col;     /* where it starts, 0-based as libyaml's marks */
	const char *text;       /* a scalar's, not NUL-terminated, until the next event */
	size_t len;
	uint8_t style;          /* a scalar's: 0 plain, 1 single-quoted, 2 double-quoted */
} doc_ev;

/* Takes one event; false stops the reader. */
typedef bool (*doc_ev_fn)(void *ctx, const doc_ev *ev);

/* Reads TEXT[0..LEN) if it keeps to the plain YAML that rule files are written in,
 * handing EMIT the events of its one document's content (no stream or document events):
 * true when it read it all. False when it met something it leaves to libyaml, or EMIT
 * stopped it; the events given so far are then to be dropped. Allocates nothing that
 * outlives the call. */
bool doc_fast_read(const char *text, size_t len, doc_ev_fn emit, void *ctx);

#endif
