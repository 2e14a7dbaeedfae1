/* SPDX-License-Identifier: MIT */
/*
 * regex.h - the one door to PCRE2 (regex.c is the only file that includes pcre2.h).
 * Patterns are compiled caseless and UTF, JIT-compiled where available, and matched with
 * match and depth limits, so that no pattern can run away on hostile text.
 */
#ifndef MLARCH_REGEX_H
#define MLARCH_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rx rx;

/* The work one match may take, carried by each compiled pattern. 0 means the default. */
typedef struct {
	uint32_t match;         /* PCRE2 match limit: backtracking steps; default 100000 */
	uint32_t depth;         /* PCRE2 depth limit: nested backtracking; default 5000 */
} rx_limits;

#define RX_MATCH_LIMIT_DEFAULT 100000u
#define RX_DEPTH_LIMIT_DEFAULT 5000u

/* Compiles PATTERN (NUL-terminated) to match within LIMITS (NULL: the defaults). On failure
 * returns NULL and writes a message and the byte offset of the problem in the pattern to
 * ERR / *ERR_OFF; errno is ENOMEM when memory ran out, EINVAL for a bad pattern. */
rx *rx_compile(const char *pattern, const rx_limits *limits, char *err, size_t errsz,
               size_t *err_off);
void rx_free(rx *r);
/* Records the words R's source PATTERN cannot match without, for rx_may_match (done by
 * rx_compile; a stored pattern has its words from its cache instead, rx_set_need, and this
 * returns false for it). False when out of memory: R then runs on every text, which is
 * only slower. */
bool rx_set_source(rx *r, const char *pattern);
/* The words R needs (see rxlit.h), as rx_set_source or rx_set_need left them: for a cache
 * of them. */
const struct rxlit *rx_need(const rx *r);
/* Gives R, a stored pattern (rx_stored; others keep their own), the requirement *NEED,
 * as decoded from a cache of what rx_set_source worked out for the same pattern: borrowed,
 * so *NEED must outlive R. */
void rx_set_need(rx *r, const struct rxlit *need);
/* Whether R may match a text whose ASCII-lowercase copy is LOWER[0..LEN) (see
 * rxlit_lower; NULL: it may): false means rx_find would find nothing. */
bool rx_may_match(const rx *r, const char *lower, size_t len);
/* The same on a text indexed by rxlit_text_index (NULL: it may). */
struct rxlit_text;
bool rx_may_match_in(const rx *r, struct rxlit_text *t);
/* Sets the match and depth limits of R (as rx_compile does): for a pattern decoded from
 * a cache, which keeps no limits. */
void rx_set_limits(rx *r, const rx_limits *limits);

/* Compiled patterns as bytes, for a cache of them. rx_build_id writes what such bytes
 * depend on (the PCRE2 version and build) into BUF and returns BUF. rx_encode encodes R
 * alone as a PCRE2 stream into *OUT (malloc'd, *LEN bytes); false when out of memory.
 * The streams of one PCRE2 build begin alike (a header and the character tables): a cache
 * keeps that head once and each pattern's rest. */
const char *rx_build_id(char *buf, size_t size);
bool rx_encode(const rx *r, unsigned char **out, size_t *len);

/* Patterns decoded when first used, from streams whose common head is HEAD[0..HEADLEN):
 * a store of them (rx_store_new; NULL when out of memory) and each pattern in it
 * (rx_stored: REST[0..RESTLEN) the rest of its stream, SUM what HASH gives of those bytes,
 * SOURCE its source; NULL when out of memory). A pattern is decoded by its first match
 * (or rx_has_group, rx_encode), its bytes read with COPY(CTX, OUT, REST, RESTLEN) (NULL:
 * memcpy; false: they cannot be read). When they do not have their checksum any more or
 * are not a pattern of this PCRE2 build, DAMAGED(CTX) is called (NULL: nothing is) and
 * the pattern is compiled from SOURCE instead (see rx_ready in regex.c for a SOURCE that
 * is a key, not a pattern). HEAD, REST and SOURCE are borrowed: they must stay as they
 * are while a pattern of the store lives. The patterns share one match-data block (see
 * rx_group) and keep the store until they are freed; rx_store_close drops the owner's
 * reference (NULL is allowed), after which DAMAGED is not called. The bytes themselves are
 * trusted once their checksum holds (PCRE2 does not check compiled code): HASH must be one
 * that damage does not fool. */
typedef struct rx_store rx_store;
rx_store *rx_store_new(const unsigned char *head, size_t headlen,
                       uint64_t (*hash)(const void *, size_t),
                       bool (*copy)(void *, unsigned char *, const unsigned char *, size_t),
                       void (*damaged)(void *), void *ctx);
rx *rx_stored(rx_store *s, const unsigned char *rest, size_t restlen, uint64_t sum,
              const char *source);
void rx_store_close(rx_store *s);
/* The sources given to S's patterns may be damaged too (their owner checks them only when
 * it must): a pattern whose bytes are damaged then fails every match instead of being
 * compiled from its source. Meant to be called from DAMAGED. NULL is allowed. */
void rx_store_distrust_sources(rx_store *s);
/* Whether R was made by rx_stored (decoded or not yet). */
bool rx_is_stored(const rx *r);

typedef struct {
	size_t start, end;      /* the whole match: byte offsets in the subject */
} rx_span;

/* What rx_find returns besides 1 (a match) and 0 (none): the text is then treated as not
 * matching, and the caller should say so. */
typedef enum {
	RX_ERR_MATCH_LIMIT = -1,        /* the match limit was reached */
	RX_ERR_DEPTH_LIMIT = -2,        /* the depth limit was reached */
	RX_ERR_FAILED = -3,             /* anything else (bad UTF-8, an offset inside a character) */
} rx_error;

/* Finds the first match in SUBJECT[0..LEN) at or after OFFSET. Returns 1 and *M on a
 * match, 0 when there is none, or an rx_error (negative). */
int rx_find(const rx *r, const char *subject, size_t len, size_t offset, rx_span *m);
/* The same without checking that SUBJECT is valid UTF-8: for a subject that
 * rx_utf8_valid or an rx_find from offset 0 has already accepted (unchanged since), at an
 * OFFSET on a character boundary. Linear in the matches instead of in the rest of the
 * subject, and no check per pattern when many run over one text. */
int rx_find_next(const rx *r, const char *subject, size_t len, size_t offset, rx_span *m);
/* Whether SUBJECT[0..LEN) is UTF-8 as PCRE2 requires it (RFC 3629). */
bool rx_utf8_valid(const char *subject, size_t len);
/* After a successful rx_find on the same subject with the same R, before any other
 * pattern of the same store runs (they share their match data): the span of
 * named group NAME; false if the group did not take part or does not exist, or another
 * pattern ran since. Not thread-safe per set of patterns. */
bool rx_group(const rx *r, const char *name, rx_span *out);
/* Whether the pattern of R declares a named group NAME. */
bool rx_has_group(const rx *r, const char *name);

#endif
