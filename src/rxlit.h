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

/* What every text the pattern matches holds: a formula of ANDs and ORs over words.
 * SHAPE[0..SHAPE_LEN) is the formula in prefix order: RXLIT_NODE_WORD for a word (the
 * next of WORDS); RXLIT_NODE_AND or RXLIT_NODE_OR with a head of RXLIT_NODE_HEAD - 1
 * more bytes: the number of its children (2 or more), the bytes they take and the number
 * of their words (two bytes each, little-endian), so that a check steps over what it no
 * longer needs; then the children. WORDS[0..NWORDS) (lowercase ASCII letters and digits) are the words
 * in that order, and EDGES[I] says where word I must stand in the text: RXLIT_START at
 * the start of a word of the text (the character before it, if any, is not an ASCII
 * letter, digit or "_"), RXLIT_END at the end of one, both, or anywhere (0).
 * NWORDS 0: nothing is known, the pattern may match anything (SHAPE unused; encoded as
 * one byte 0). */
#define RXLIT_NODE_WORD 1u
#define RXLIT_NODE_AND 2u
#define RXLIT_NODE_OR 3u
#define RXLIT_NODE_HEAD 7u
#define RXLIT_START 1u
#define RXLIT_END 2u
struct rxlit_table;
typedef struct rxlit {
	const char **words;
	const uint8_t *shape;
	const uint8_t *edges;
	char *buf;
	/* A requirement read from a table (rxlit_table_open): WORDS and EDGES are NULL, and
	 * word I is word IDS[I] (two bytes each, little-endian) of TABLE, with its edges.
	 * SHAPE and IDS are borrowed from the table's bytes. */
	const struct rxlit_table *table;
	const unsigned char *ids;
	uint32_t nwords;
	uint32_t shape_len;
	uint32_t index;         /* its number in TABLE */
} rxlit;                        /* the numbers last: a knowledge base keeps two per pattern */

/* Word I (< R->nwords) of R: its letters, *LEN of them (not NUL-terminated when R reads
 * a table). rxlit_word_edges: where it must stand (RXLIT_START, RXLIT_END). */
const char *rxlit_word(const rxlit *r, uint32_t i, size_t *len);
unsigned rxlit_word_edges(const rxlit *r, uint32_t i);

/* Works out the words PATTERN needs into *OUT (freed with rxlit_free). Returns false only
 * when out of memory (*OUT then needs nothing, which is always safe). */
bool rxlit_analyse(const char *pattern, rxlit *out);
void rxlit_free(rxlit *r);

/* R as bytes, for the compiled cache: its shape, then per word its
 * edges (a byte), a length byte and its letters (a word over RXLIT_WORD_MAX letters keeps
 * its first RXLIT_WORD_MAX, which a text holding the word holds too, and is no longer
 * needed at the end of a word). rxlit_encoded_size is how many bytes rxlit_encode writes
 * to OUT. */
#define RXLIT_WORD_MAX 255u
size_t rxlit_encoded_size(const rxlit *r);
void rxlit_encode(const rxlit *r, unsigned char *out);
/* Decodes one requirement from P[0..LEN) into *OUT (freed with rxlit_free) and returns the
 * bytes it took; 0, with *OUT needing nothing, when the bytes are not one rxlit_encode
 * could write (a shape that is not one tree, a count under 2 or over the analysis' caps,
 * an empty or cut word, a byte other than a lowercase ASCII letter or digit, edges other
 * than RXLIT_START and RXLIT_END) or, with *NOMEM set, when out of memory. */
size_t rxlit_decode(const unsigned char *p, size_t len, rxlit *out, bool *nomem);

/* The requirements of many patterns as one table, for the compiled cache: every distinct
 * word once, with a hash of them, and each requirement as its shape and the numbers of
 * its words, so that a cache opens with no copy (rxlit_table_open reads it in place) and
 * a question finds the words of the table its text holds in one pass over the text
 * (rxlit_text), however many patterns need them. With them, the table lists per word the
 * requirements whose key holds it: a key is a few of a requirement's words of which any
 * text it passes holds one (a word; all the words of an OR; the smallest key of an AND's
 * parts), so that a text's words mark the few requirements worth reading and the rest
 * (most of some thousands) cost one bit each. rxlit_table_encode writes NEEDS[0..N)
 * into *OUT (malloc'd, *LEN bytes); false when out of memory. A requirement with a word
 * past the table's RXLIT_TABLE_MAX - 1 is written as none (its pattern always runs). */
bool rxlit_table_encode(const rxlit *const *needs, size_t n, unsigned char **out,
                        size_t *len);
/* Sets OUT[0..N) to read in place the N requirements that P[0..LEN), written by
 * rxlit_table_encode, holds: P must stay as it is while they and the table are used. The
 * frame (the counts, the offsets, that each requirement fills the bytes they give it) and
 * the words are checked here; a requirement's shape and word numbers as a check reads
 * them, and a word's list of keyed requirements as a text holding the word is scanned,
 * so that opening costs nothing per requirement: one that is not what rxlit_table_encode
 * writes makes its pattern run (rxlit_may_match_in is true), a list that is not one makes
 * every requirement be read on that text, and both are reported to the table's damage
 * hook (rxlit_table_on_damage). Returns the table (freed
 * with rxlit_table_free, after every requirement of it), or NULL when the bytes are not
 * such a table (a count, an offset out of order or past the end, a word rxlit_table_encode
 * cannot write, bytes left over) or memory ran out; OUT then needs nothing. */
typedef struct rxlit_table rxlit_table;
rxlit_table *rxlit_table_open(const unsigned char *p, size_t len, size_t n, rxlit *out);
/* Has DAMAGED(CTX) called (NULL: nothing is) when a check finds a requirement, or a scan
 * a list of keys, of T that rxlit_table_encode cannot have written. */
void rxlit_table_on_damage(rxlit_table *t, void (*damaged)(void *), void *ctx);
void rxlit_table_free(rxlit_table *t);

/* Writes TEXT[0..LEN) lowercased into OUT (LEN bytes) for rxlit_may_match. Returns false
 * when TEXT has a byte outside ASCII: caseless UTF-8 matching folds some other characters
 * to ASCII letters, so such a text is not filtered. */
bool rxlit_lower(const char *text, size_t len, char *out);

/* Whether a text whose lowercase copy is LOWER[0..LEN) may match: false only when the
 * words it holds (where they must stand: see EDGES) do not satisfy R's formula. LOWER
 * NULL: true. */
bool rxlit_may_match(const rxlit *r, const char *lower, size_t len);

/* A lowercase text with the pairs and triples of adjacent letters and digits it holds, so
 * that a word with a pair or triple the text lacks is ruled out without a scan: for many
 * patterns over one text. */
#define RXLIT_PAIRS (37u * 37u)
#define RXLIT_TRIPLES (37u * 37u * 37u)
#define RXLIT_TABLE_MAX 65536u
typedef struct rxlit_text {
	const char *lower;
	size_t len;
	uint64_t pairs[(RXLIT_PAIRS + 63) / 64];
	uint64_t triples[(RXLIT_TRIPLES + 63) / 64];
	/* the words of one table (the first a check meets) that the text holds, found in
	 * one pass over the text when that table is first met */
	const struct rxlit_table *table;
	uint64_t found[RXLIT_TABLE_MAX / 64];
	/* with CANDS, the requirements of that table the text may pass: those with a word of
	 * their key (see rxlit_table_encode) among FOUND. The others fail unread. */
	bool cands;
	uint64_t cand[RXLIT_TABLE_MAX / 64];
} rxlit_text;

/* Indexes LOWER[0..LEN) (kept by reference, as rxlit_lower wrote it) into *T. */
void rxlit_text_index(rxlit_text *t, const char *lower, size_t len);
/* rxlit_may_match on an indexed text (T NULL: true); the same answer, faster. The first
 * requirement read from a table (rxlit_table_open) makes T find which words of that table
 * its text holds, in one pass over the text, and the requirements whose key holds one of
 * them: a requirement of that table is then false unread when it is not one of those,
 * else read from bits. */
bool rxlit_may_match_in(const rxlit *r, rxlit_text *t);

#endif
