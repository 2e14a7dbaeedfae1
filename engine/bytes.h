/* SPDX-License-Identifier: MIT */
/*
 * bytes.h - reading a binary image that may be truncated or damaged: a cursor that never
 * reads past its end. A read that does not fit marks the cursor bad and yields zeros, so
 * a reader checks `bad` once after a run of reads instead of after each one. Used by the
 * rule summaries (engine/defer.c) and the compiled cache (src/kbcache.c), which write
 * their images with the growing buffer below.
 */
#ifndef MLARCH_BYTES_H
#define MLARCH_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	const unsigned char *p;
	size_t n, off;          /* the image's length, the next byte to read */
	bool bad;               /* a read did not fit: every later read fails too */
} byte_cur;

/* The next N bytes, or NULL (and the cursor bad) when fewer are left. */
static inline const unsigned char *byte_take(byte_cur *c, size_t n)
{
	if (c->bad || n > c->n - c->off) {
		c->bad = true;
		return NULL;
	}
	const unsigned char *p = c->p + c->off;
	c->off += n;
	return p;
}

static inline uint8_t byte_u8(byte_cur *c)
{
	const unsigned char *p = byte_take(c, 1);
	return p ? *p : 0;
}

/* The next N bytes copied to OUT, which keeps what it held when they do not fit. */
static inline void byte_copy(byte_cur *c, void *out, size_t n)
{
	const unsigned char *p = byte_take(c, n);
	if (p)
		memcpy(out, p, n);
}

static inline uint32_t byte_u32(byte_cur *c)
{
	uint32_t v = 0;
	byte_copy(c, &v, sizeof(v));
	return v;
}

static inline uint64_t byte_u64(byte_cur *c)
{
	uint64_t v = 0;
	byte_copy(c, &v, sizeof(v));
	return v;
}

/* A buffer that grows as bytes are put in it. A failed allocation marks it and every
 * later put does nothing, so a writer checks `nomem` once at the end. */
typedef struct {
	unsigned char *p;
	size_t n, cap;
	bool nomem;
} byte_buf;

static inline void byte_put(byte_buf *b, const void *data, size_t n)
{
	if (b->nomem)
		return;
	if (n > b->cap - b->n) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->n < n)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p) {
			b->nomem = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->n, data, n);
	b->n += n;
}

#endif
