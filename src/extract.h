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
} xfact;

typedef struct {
	xfact *v;
	size_t n, cap;
	bool limited;           /* a pattern hit its match limit on this text */
} xfacts;

/* Runs the lexicon entries whose scope fits (LEX_STEM for a stem, LEX_OPTION for an
 * option) and the catalog aliases over TEXT[0..LEN). Entity facts get attribute
 * ENTITY_ATTR (kb->s_mentions for a stem, kb->s_uses for an option). Where alias matches
 * of two entities overlap, the longer match wins (then the earlier entity). The same
 * (attr, value) pair is reported once, at its first span. Appends to OUT. */
eng_status extract(const kb *k, const char *text, size_t len, lex_scope scope,
                   eng_sym entity_attr, xfacts *out);
void xfacts_free(xfacts *x);

#endif
