/* SPDX-License-Identifier: MIT */
/*
 * doc.h - the inside of a YAML document tree, shared by the two files that build one:
 * yamldoc.c (from YAML text, with libyaml) and docimage.c (from a serialised image).
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

#endif
