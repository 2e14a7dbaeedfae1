/* SPDX-License-Identifier: MIT */
/*
 * bytes.h - reading a binary image that may be truncated or damaged: a cursor that never
 * reads past its end. A read that does not fit marks the cursor bad and yields zeros, so
 * a reader checks `bad` once after a run of reads instead of after each one. Used by the
 * rule summaries (engine/defer.c) and the compiled cache (src/kbcache.c).
 */
#ifndef MLARCH_BYTES_H
#define MLARCH_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

static inline uint32_t byte_u32(byte_cur *c)
{
	uint32_t v = 0;
	const unsigned char *p = byte_take(c, sizeof(v));
	if (p)
		memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t byte_u64(byte_cur *c)
{
	uint64_t v = 0;
	const unsigned char *p = byte_take(c, sizeof(v));
	if (p)
		memcpy(&v, p, sizeof(v));
	return v;
}

#endif
