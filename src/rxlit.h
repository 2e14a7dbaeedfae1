/* SPDX-License-Identifier: MIT */
/*
 * rxlit.h - the words a pattern cannot match without (see rxlit.c): a cheap test that
 * skips a pattern on a text lacking all of them.
 */
#ifndef MLARCH_RXLIT_H
#define MLARCH_RXLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At least one of WORDS[0..NWORDS) (lowercase ASCII) is in every text the pattern
 * matches; NWORDS 0: no such set is known, the pattern may match anything. */
typedef struct {
	const char **words;
	uint32_t nwords;
	char *buf;
} rxlit;

/* Works out the words PATTERN needs into *OUT (freed with rxlit_free). Returns false only
 * when out of memory (*OUT then needs nothing, which is always safe). */
bool rxlit_analyse(const char *pattern, rxlit *out);
void rxlit_free(rxlit *r);

/* Writes TEXT[0..LEN) lowercased into OUT (LEN bytes) for rxlit_may_match. Returns false
 * when TEXT has a byte outside ASCII: caseless UTF-8 matching folds some other characters
 * to ASCII letters, so such a text is not filtered. */
bool rxlit_lower(const char *text, size_t len, char *out);

/* Whether a text whose lowercase copy is LOWER[0..LEN) may match: false only when it
 * holds none of R's words. LOWER NULL: true. */
bool rxlit_may_match(const rxlit *r, const char *lower, size_t len);

#endif
