/* SPDX-License-Identifier: MIT */
/* arena.c - bump allocation in chained blocks, with mark and rewind. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 65536
#define ARENA_ALIGN 16

struct block {
	struct block *prev;
	size_t size;    /* usable bytes in data */
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
	struct block *top;
};

arena *arena_new(void)
{
	return calloc(1, sizeof(arena));
}

void arena_free(arena *a)
{
	if (!a)
		return;
	while (a->top) {
		struct block *b = a->top;
		a->top = b->prev;
		free(b);
	}
	free(a);
}

/* SIZE bytes (zeroed when ZERO) at an offset that is a multiple of ALIGN (a power of two,
 * at most ARENA_ALIGN), or NULL. */
static void *arena_get(arena *a, size_t size, size_t align, bool zero)
{
	struct block *b = a->top;
	size_t off = b ? (b->used + align - 1) & ~(align - 1) : 0;
	if (!b || off > b->size || b->size - off < size) {
		size_t cap = size > ARENA_BLOCK / 2 ? size : ARENA_BLOCK;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->prev = a->top;
		b->size = cap;
		b->used = 0;
		a->top = b;
		off = 0;
	}
	void *p = b->data + off;
	b->used = off + size;
	if (zero)
		memset(p, 0, size);
	return p;
}

void *arena_alloc(arena *a, size_t size)
{
	return arena_get(a, size ? size : 1, ARENA_ALIGN, true);
}

void *arena_alloc_raw(arena *a, size_t size)
{
	return arena_get(a, size ? size : 1, ARENA_ALIGN, false);
}

void *arena_alloc_small(arena *a, size_t size)
{
	return arena_get(a, size ? size : 1, sizeof(void *), true);
}

void *arena_alloc_small_raw(arena *a, size_t size)
{
	return arena_get(a, size ? size : 1, sizeof(void *), false);
}

char *arena_strndup(arena *a, const char *s, size_t len)
{
	char *p = arena_get(a, len + 1, 1, false);
	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void arena_reset(arena *a)
{
	struct block *keep = a ? a->top : NULL;
	if (!keep)
		return;
	while (keep->prev) {   /* keep the oldest block: it has the usual size */
		struct block *b = keep;
		keep = b->prev;
		free(b);
	}
	keep->used = 0;
	a->top = keep;
}

arena_mark arena_mark_get(const arena *a)
{
	arena_mark m = { a->top, a->top ? a->top->used : 0 };
	return m;
}

void arena_rewind(arena *a, arena_mark m)
{
	while (a->top && a->top != m.block) {
		struct block *b = a->top;
		a->top = b->prev;
		free(b);
	}
	if (a->top)
		a->top->used = m.used;
}

void arena_pop(arena *a, void *p)
{
	struct block *b = a->top;
	unsigned char *q = p;
	if (b && q >= b->data && q < b->data + b->used)
		b->used = (size_t)(q - b->data);
}
