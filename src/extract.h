/* SPDX-License-Identifier: MIT */
/*
 * extract.h - facts from words: the lexicon's patterns and the catalog's aliases run over a
 * piece of text (the stem, or one option), each fact keeping the span that produced it.
 */
#ifndef MLARCH_EXTRACT_H
#define MLARCH_EXTRACT_H

#include "kb.h"

typedef enum { XF_LEXICON, XF_ENTITY } xf_source;

typedef struct {
	eng_sym attr;           /* the attribute (for entities: `uses` or `mentions`) */
	eng_value value;        /* for entities: the entity's symbol */
	xf_source source;
	uint32_t index;         /* the lexicon entry or catalog entity */
	size_t start, end;      /* byte offsets in the text given to extract() */
	bool negated;           /* an entity named only in negated clauses ("Glue cannot ...",
	                         * "do not use EMR"): see extract() */
	eng_sym subject;        /* 0: the text's own subject (scenario or option); else the
	                         * entity a setting gives a number: see extract() */
} xfact;

/* A pattern that hit a PCRE2 limit: its matches from there on are missing. */
typedef struct {
	xf_source source;       /* a lexicon entry or an alias of a catalog entity */
	uint32_t index;         /* the lexicon entry or the entity */
	uint32_t alias;         /* which of the entity's aliases */
	int error;              /* the rx_error: RX_ERR_MATCH_LIMIT, RX_ERR_DEPTH_LIMIT, ... */
} x_limit;

#define X_LIMITS_KEPT 4

/* A fact a stem's clause denied (`negates: need`), with the cue that denied it. */
typedef struct {
	xfact fact;
	uint32_t cue;           /* the cue's lexicon entry */
	size_t cue_start, cue_end;
} x_dropped;

typedef struct {
	xfact *v;
	size_t n, cap;
	x_dropped *dropped;     /* denied needs not read again elsewhere, in text order */
	size_t ndropped, capdropped;
	x_limit limits[X_LIMITS_KEPT];  /* the first patterns that hit a limit on this text */
	uint32_t nlimits;       /* how many did, kept or not */
} xfacts;

/* Runs the lexicon entries whose scope fits (LEX_STEM for a stem, LEX_OPTION for an
 * option) and the catalog aliases over TEXT[0..LEN). Entity facts get attribute
 * ENTITY_ATTR (kb->s_mentions for a stem, kb->s_uses for an option). An entity's name
 * followed by a number set as configuration writes it ("num_trees=100", "\"k\": \"12\"")
 * also gives (ENTITY, setting.current, 100) in a stem, (ENTITY, setting.proposed, 100) in
 * an option: a fact whose subject is the entity. Where alias matches
 * of two entities overlap, the longer match wins (then the earlier entity). The same
 * (attr, value) pair is reported once, at its first span. Appends to OUT. */
eng_status extract(const kb *k, const char *text, size_t len, lex_scope scope,
                   eng_sym entity_attr, xfacts *out);
void xfacts_free(xfacts *x);
/* Moves the offsets of X's facts and of its denied needs by BY. */
void xfacts_move(xfacts *x, size_t by);
/* Appends to OUT, as facts of ENTITY_ATTR, the catalog entities that TEXT[START..END) names
 * plainly and OUT lacks, with offsets in TEXT; then sorts OUT in text order. The judge
 * reads an option that names a row of a table in the stem with the row's entities. */
eng_status extract_entities_at(const kb *k, const char *text, size_t start, size_t end,
                               eng_sym entity_attr, xfacts *out);

/* The name of the limit an rx_error means, as the --limit option spells it: "regex-match",
 * "regex-depth", or "" for an error that is no limit. */
const char *x_limit_name(int error);
/* Describes H in BUF: which pattern of K (lexicon entry or catalog alias, with its file
 * position), which limit and its value, and how to raise it. Returns BUF. */
const char *x_limit_describe(const kb *k, const x_limit *h, char *buf, size_t size);

#endif
