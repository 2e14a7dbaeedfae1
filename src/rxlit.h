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

/* What every text the pattern matches holds: for some clause, a word of each of its sets.
 * SHAPE: the number of clauses, then per clause the number of its sets followed by the
 * number of words of each set; WORDS[0..NWORDS) (lowercase ASCII letters and digits) are
 * the sets' words in that order, and EDGES[I] says where word I must stand in the text:
 * RXLIT_START at the start of a word of the text (the character before it, if any, is not
 * an ASCII letter, digit or "_"), RXLIT_END at the end of one, both, or anywhere (0).
 * NWORDS 0: nothing is known, the pattern may match anything (SHAPE unused). */
#define RXLIT_START 1u
#define RXLIT_END 2u
struct rxlit_table;
typedef struct rxlit {
	const char **words;
	uint32_t nwords;
	const uint8_t *shape;
	const uint8_t *edges;
	char *buf;
	/* A requirement read from a table (rxlit_table_open): WORDS and EDGES are NULL, and
	 * word I is word IDS[I] (two bytes each, little-endian) of TABLE, with its edges.
	 * SHAPE and IDS are borrowed from the table's bytes. */
	const struct rxlit_table *table;
	const unsigned char *ids;
} rxlit;

/* Word I (< R->nwords) of R: its letters, *LEN of them (not NUL-terminated when R reads
 * a table). rxlit_word_edges: where it must stand (RXLIT_START, RXLIT_END). */
const char *rxlit_word(const rxlit *r, uint32_t i, size_t *len);
unsigned rxlit_word_edges(const rxlit *r, uint32_t i);

/* Works out the words PATTERN needs into *OUT (freed with rxlit_free). Returns false only
 * when out of memory (*OUT then needs nothing, which is always safe). */
bool rxlit_analyse(const char *pattern, rxlit *out);
void rxlit_free(rxlit *r);

/* R as bytes, for the compiled cache: its shape (one byte per count), then per word its
 * edges (a byte), a length byte and its letters (a word over RXLIT_WORD_MAX letters keeps
 * its first RXLIT_WORD_MAX, which a text holding the word holds too, and is no longer
 * needed at the end of a word). rxlit_encoded_size is how many bytes rxlit_encode writes
 * to OUT. */
#define RXLIT_WORD_MAX 255u
size_t rxlit_encoded_size(const rxlit *r);
void rxlit_encode(const rxlit *r, unsigned char *out);
/* Decodes one requirement from P[0..LEN) into *OUT (freed with rxlit_free) and returns the
 * bytes it took; 0, with *OUT needing nothing, when the bytes are not one rxlit_encode
 * could write (a count of 0 or over the analysis' caps, an empty or cut word, a byte other
 * than a lowercase ASCII letter or digit, edges other than RXLIT_START and RXLIT_END) or, with *NOMEM set, when out of memory. */
size_t rxlit_decode(const unsigned char *p, size_t len, rxlit *out, bool *nomem);

/* The requirements of many patterns as one table, for the compiled cache: every distinct
 * word once, and each requirement as its shape and the numbers of its words, so that a
 * cache opens with no copy (rxlit_table_open reads it in place) and a question looks up
 * each word once however many patterns need it (rxlit_text). rxlit_table_encode writes
 * NEEDS[0..N) into *OUT (malloc'd, *LEN bytes); false when out of memory. A requirement
 * with a word past the table's 65536 is written as none (its pattern always runs). */
bool rxlit_table_encode(const rxlit *const *needs, size_t n, unsigned char **out,
                        size_t *len);
/* Checks P[0..LEN), which must hold the N requirements rxlit_table_encode writes, and
 * sets OUT[0..N) to read them in place: P must stay as it is while they and the table are
 * used. Returns the table (freed with rxlit_table_free, after every requirement of it),
 * or NULL when the bytes are not such a table (a word or a count rxlit_table_encode
 * cannot write, a word number past the table, bytes left over) or memory ran out; OUT
 * then needs nothing. */
typedef struct rxlit_table rxlit_table;
rxlit_table *rxlit_table_open(const unsigned char *p, size_t len, size_t n, rxlit *out);
void rxlit_table_free(rxlit_table *t);

/* Writes TEXT[0..LEN) lowercased into OUT (LEN bytes) for rxlit_may_match. Returns false
 * when TEXT has a byte outside ASCII: caseless UTF-8 matching folds some other characters
 * to ASCII letters, so such a text is not filtered. */
bool rxlit_lower(const char *text, size_t len, char *out);

/* Whether a text whose lowercase copy is LOWER[0..LEN) may match: false only when for
 * every clause of R, it lacks all the words of some set (where they must stand: see
 * EDGES). LOWER NULL: true. */
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
	/* the words of one table (the first a check meets) looked up so far, and found */
	const struct rxlit_table *table;
	uint64_t known[RXLIT_TABLE_MAX / 64];
	uint64_t found[RXLIT_TABLE_MAX / 64];
} rxlit_text;

/* Indexes LOWER[0..LEN) (kept by reference, as rxlit_lower wrote it) into *T. */
void rxlit_text_index(rxlit_text *t, const char *lower, size_t len);
/* rxlit_may_match on an indexed text (T NULL: true); the same answer, faster. T
 * remembers which words of a table it holds, for the next requirements of that table. */
bool rxlit_may_match_in(const rxlit *r, rxlit_text *t);

#endif
