/* SPDX-License-Identifier: MIT */
/*
 * docimage.c - a document tree as bytes and back, so that an application can keep the
 * parsed form of files that have not changed instead of parsing them again.
 *
 * The image is a header of seven 32-bit words, the nodes (five words each: kind and
 * quoting, line, column, size, payload), the item table (node indexes) and a pool of the
 * scalars' texts, each followed by a NUL. A scalar's payload is the offset of its text in
 * the pool; a collection's is the index of its first item in the table (a mapping has two
 * per pair, key then value). Nodes come children first, so every item names a node with a
 * smaller index than its collection: the tree cannot hold a cycle, and one pass in index
 * order rebuilds it, fixing each index into a pointer. A node reached twice (an alias) is
 * written once and shared again. Words are in the machine's byte order; the magic number
 * tells another order apart.
 *
 * An image is untrusted input: eng_doc_deserialize checks every count, offset and index
 * against the buffer, the nesting against max_depth and the expanded size against
 * max_nodes (what the YAML reader guarantees of its trees), and refuses anything else.
 * It does not check what only a checksum can: a flipped byte inside a text.
 */
#include "doc.h"

#include <stdlib.h>
#include <string.h>

#define IMG_MAGIC 0x4D494445u    /* "EDIM" read as a little-endian word */
#define IMG_FORMAT 1u
#define IMG_HEADER_WORDS 7u
#define IMG_NODE_WORDS 5u
#define IMG_NONE UINT32_MAX

/* ---- writing ---- */

typedef struct {
	const eng_node **keys;  /* open addressing: the nodes written so far ... */
	uint32_t *vals;         /* ... and their indexes */
	size_t cap, n;
	uint32_t *nodes;        /* IMG_NODE_WORDS per node */
	size_t nnodes, capnodes;
	uint32_t *items;
	size_t nitems, capitems;
	char *pool;
	size_t npool, cappool;
	eng_status st;
} img_writer;

static size_t img_slot(const img_writer *w, const eng_node *n)
{
	uintptr_t h = (uintptr_t)n;
	h ^= h >> 17;
	h *= (uintptr_t)0x9E3779B97F4A7C15ull;
	size_t i = (size_t)(h >> 7) & (w->cap - 1);
	while (w->keys[i] && w->keys[i] != n)
		i = (i + 1) & (w->cap - 1);
	return i;
}

/* Makes room for MORE elements of ELEM bytes in *ARR (N used of *CAP). */
static bool img_reserve(img_writer *w, void **arr, size_t n, size_t *cap, size_t more,
                        size_t elem)
{
	if (w->st != ENG_OK)
		return false;
	if (n + more <= *cap)
		return true;
	size_t ncap = *cap ? *cap : 256;
	while (ncap < n + more)
		ncap *= 2;
	void *p = realloc(*arr, ncap * elem);
	if (!p) {
		w->st = ENG_ERR_NOMEM;
		return false;
	}
	*arr = p;
	*cap = ncap;
	return true;
}

/* Records that N has index IDX; grows the table at half full. */
static bool img_remember(img_writer *w, const eng_node *n, uint32_t idx)
{
	if (2 * (w->n + 1) > w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 1024;
		const eng_node **keys = calloc(ncap, sizeof(*keys));
		uint32_t *vals = calloc(ncap, sizeof(*vals));
		if (!keys || !vals) {
			free(keys);
			free(vals);
			w->st = ENG_ERR_NOMEM;
			return false;
		}
		img_writer old = *w;
		w->keys = keys;
		w->vals = vals;
		w->cap = ncap;
		for (size_t i = 0; i < old.cap; i++)
			if (old.keys[i]) {
				size_t s = img_slot(w, old.keys[i]);
				w->keys[s] = old.keys[i];
				w->vals[s] = old.vals[i];
			}
		free(old.keys);
		free(old.vals);
	}
	size_t s = img_slot(w, n);
	w->keys[s] = n;
	w->vals[s] = idx;
	w->n++;
	return true;
}

/* Writes the record of node N (SIZE: its length or number of items or pairs; PAYLOAD: where
 * its text or items start). Returns its index, or IMG_NONE after an error. */
static uint32_t img_record(img_writer *w, const eng_node *n, size_t size, uint32_t payload)
{
	if (w->st == ENG_OK && w->nnodes >= IMG_NONE - 1)
		w->st = ENG_ERR_INVALID;
	if (!img_reserve(w, (void **)&w->nodes, w->nnodes * IMG_NODE_WORDS, &w->capnodes,
	                 IMG_NODE_WORDS, sizeof(*w->nodes)))
		return IMG_NONE;
	uint32_t *rec = w->nodes + w->nnodes * IMG_NODE_WORDS;
	rec[0] = (uint32_t)n->kind | (n->quoted ? 1u << 8 : 0);
	rec[1] = n->line;
	rec[2] = n->col;
	rec[3] = (uint32_t)size;
	rec[4] = payload;
	return (uint32_t)w->nnodes++;
}

/* Writes the sequence or mapping N of SIZE items or pairs whose nodes (for a mapping, keys
 * and values in turn) were written as ITEMS[0..COUNT). Returns its index, or IMG_NONE after
 * an error. */
static uint32_t img_collection(img_writer *w, const eng_node *n, size_t size,
                               const uint32_t *items, size_t count)
{
	if (w->st == ENG_OK && w->nitems + count >= UINT32_MAX)
		w->st = ENG_ERR_INVALID;
	if (!img_reserve(w, (void **)&w->items, w->nitems, &w->capitems, count, sizeof(*w->items)))
		return IMG_NONE;
	uint32_t payload = (uint32_t)w->nitems;
	if (count)
		memcpy(w->items + w->nitems, items, count * sizeof(*items));
	w->nitems += count;
	return img_record(w, n, size, payload);
}

/* Writes N after its children; returns its index, or IMG_NONE after an error. */
static uint32_t img_node(img_writer *w, const eng_node *n)
{
	if (w->cap) {
		size_t s = img_slot(w, n);
		if (w->keys[s])
			return w->vals[s];
	}
	uint32_t idx;
	if (n->kind == ENG_NODE_SCALAR) {
		if (n->size >= UINT32_MAX || w->npool > UINT32_MAX - n->size - 1) {
			w->st = ENG_ERR_INVALID;
			return IMG_NONE;
		}
		if (!img_reserve(w, (void **)&w->pool, w->npool, &w->cappool, n->size + 1, 1))
			return IMG_NONE;
		uint32_t payload = (uint32_t)w->npool;
		if (n->size)
			memcpy(w->pool + w->npool, n->u.text, n->size);
		w->pool[w->npool + n->size] = '\0';
		w->npool += n->size + 1;
		idx = img_record(w, n, n->size, payload);
	} else {
		size_t count = n->kind == ENG_NODE_MAP ? 2 * n->size : n->size;
		uint32_t *kids = malloc((count ? count : 1) * sizeof(*kids));
		if (!kids) {
			w->st = ENG_ERR_NOMEM;
			return IMG_NONE;
		}
		for (size_t i = 0; i < count && w->st == ENG_OK; i++)
			kids[i] = img_node(w, n->u.items[i]);
		idx = img_collection(w, n, n->size, kids, count);
		free(kids);
	}
	return idx != IMG_NONE && img_remember(w, n, idx) ? idx : IMG_NONE;
}

/* Writes a rule of a `rules:` section cut down to its `id` pair (the whole node when it
 * has none): the mapping of one pair. Returns its index, or IMG_NONE after an error. */
static uint32_t img_rule_stub(img_writer *w, const eng_node *n)
{
	size_t at = SIZE_MAX;
	for (size_t i = 0; n->kind == ENG_NODE_MAP && i < n->size && at == SIZE_MAX; i++) {
		const eng_node *k = n->u.items[2 * i];
		if (k->kind == ENG_NODE_SCALAR && k->size == 2 && memcmp(k->u.text, "id", 2) == 0)
			at = i;
	}
	if (at == SIZE_MAX)
		return img_node(w, n);
	uint32_t kids[2] = { img_node(w, n->u.items[2 * at]), img_node(w, n->u.items[2 * at + 1]) };
	return img_collection(w, n, 1, kids, 2);
}

/* Whether N is the value of a top-level `rules` key of ROOT: a section whose rules
 * eng_doc_serialize_rules cuts down. */
static bool img_is_rules(const eng_node *root, size_t i)
{
	const eng_node *k = root->u.items[2 * i], *v = root->u.items[2 * i + 1];
	return k->kind == ENG_NODE_SCALAR && k->size == 5 && memcmp(k->u.text, "rules", 5) == 0 &&
	       v->kind == ENG_NODE_SEQ;
}

/* Writes the root ROOT, with the rules of its `rules:` sections cut down to their ids
 * when STUBS. Returns its index, or IMG_NONE after an error. */
static uint32_t img_root(img_writer *w, const eng_node *root, bool stubs)
{
	bool cut = false;
	for (size_t i = 0; stubs && root->kind == ENG_NODE_MAP && i < root->size; i++)
		cut = cut || img_is_rules(root, i);
	if (!cut)
		return img_node(w, root);
	/* as img_node, one level down: the sections' values are written with their rules
	 * cut (a rule node shared with another section is written twice: no harm) */
	size_t count = 2 * root->size;
	uint32_t *kids = malloc(count * sizeof(*kids));
	if (!kids) {
		w->st = ENG_ERR_NOMEM;
		return IMG_NONE;
	}
	for (size_t i = 0; i < root->size && w->st == ENG_OK; i++) {
		const eng_node *v = root->u.items[2 * i + 1];
		kids[2 * i] = img_node(w, root->u.items[2 * i]);
		if (!img_is_rules(root, i)) {
			kids[2 * i + 1] = img_node(w, v);
			continue;
		}
		uint32_t *rules = malloc((v->size ? v->size : 1) * sizeof(*rules));
		if (!rules) {
			w->st = ENG_ERR_NOMEM;
			break;
		}
		for (size_t j = 0; j < v->size && w->st == ENG_OK; j++)
			rules[j] = img_rule_stub(w, v->u.items[j]);
		kids[2 * i + 1] = img_collection(w, v, v->size, rules, v->size);
		free(rules);
	}
	uint32_t idx = img_collection(w, root, root->size, kids, count);
	free(kids);
	return idx;
}

/* The image of the tree at ROOT (NULL: an empty document), its rules cut down with
 * STUBS, in a malloc'd *OUT of *LEN bytes. */
static eng_status img_serialize(const eng_node *root_node, bool stubs, unsigned char **out,
                                size_t *len)
{
	img_writer w = { .st = ENG_OK };
	uint32_t root = root_node ? img_root(&w, root_node, stubs) : IMG_NONE;
	eng_status st = w.st;
	unsigned char *buf = NULL;
	size_t total = 0;
	if (st == ENG_OK) {
		total = IMG_HEADER_WORDS * 4 + w.nnodes * IMG_NODE_WORDS * 4 + w.nitems * 4 +
		        w.npool;
		buf = malloc(total);
		if (!buf)
			st = ENG_ERR_NOMEM;
	}
	if (st == ENG_OK) {
		int major = 0, minor = 0, patch = 0;
		doc_parser_version(&major, &minor, &patch);
		uint32_t head[IMG_HEADER_WORDS] = {
			IMG_MAGIC, IMG_FORMAT,
			(uint32_t)major << 20 | (uint32_t)minor << 10 | (uint32_t)patch,
			(uint32_t)w.nnodes, (uint32_t)w.nitems, (uint32_t)w.npool, root,
		};
		unsigned char *p = buf;
		memcpy(p, head, sizeof(head));
		p += sizeof(head);
		if (w.nnodes)
			memcpy(p, w.nodes, w.nnodes * IMG_NODE_WORDS * 4);
		p += w.nnodes * IMG_NODE_WORDS * 4;
		if (w.nitems)
			memcpy(p, w.items, w.nitems * 4);
		p += w.nitems * 4;
		if (w.npool)
			memcpy(p, w.pool, w.npool);
		*out = buf;
		*len = total;
	}
	free(w.keys);
	free(w.vals);
	free(w.nodes);
	free(w.items);
	free(w.pool);
	return st;
}

/* The image of DOC in a malloc'd buffer *OUT of *LEN bytes, which the caller frees.
 * Returns ENG_ERR_NOMEM, or ENG_ERR_INVALID for NULL arguments or a document too large
 * for 32-bit offsets; *OUT is then NULL. */
eng_status eng_doc_serialize(const eng_doc *doc, unsigned char **out, size_t *len)
{
	if (!out || !len)
		return ENG_ERR_INVALID;
	*out = NULL;
	*len = 0;
	if (!doc)
		return ENG_ERR_INVALID;
	return img_serialize(doc->root, false, out, len);
}

/* Not cryptographic: it tells a damaged tree from a whole one. Each step (xor a word in,
 * multiply by an odd constant, rotate) is a bijection, so one changed word always changes
 * the sum. */
uint64_t doc_image_sum(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t h = 0x243F6A8885A308D3ull ^ n, w;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, sizeof(w));
		h = (h ^ w) * 0x9E3779B97F4A7C15ull;
		h = h << 27 | h >> 37;
	}
	w = 0;
	if (i < n)
		memcpy(&w, p + i, n - i);
	h = (h ^ w) * 0x9E3779B97F4A7C15ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

/* Puts the 32-bit word V at *AT of B, a buffer of at least *AT + 4 bytes. */
static void img_put_word(unsigned char *b, size_t *at, uint32_t v)
{
	memcpy(b + *at, &v, sizeof(v));
	*at += sizeof(v);
}

eng_status eng_doc_serialize_rules(const eng_doc *doc, unsigned char **skel, size_t *skellen,
                                   unsigned char **rules, size_t *ruleslen)
{
	if (!skel || !skellen || !rules || !ruleslen)
		return ENG_ERR_INVALID;
	*skel = *rules = NULL;
	*skellen = *ruleslen = 0;
	if (!doc)
		return ENG_ERR_INVALID;
	const eng_node *root = doc->root;
	size_t n = 0;
	for (size_t i = 0; root && root->kind == ENG_NODE_MAP && i < root->size; i++)
		if (img_is_rules(root, i))
			n += root->u.items[2 * i + 1]->size;
	if (n == 0)
		return img_serialize(root, false, skel, skellen);
	if (n >= UINT32_MAX / 16)
		return ENG_ERR_INVALID;
	unsigned char **imgs = calloc(n, sizeof(*imgs));
	size_t *lens = calloc(n, sizeof(*lens));
	eng_status st = imgs && lens ? ENG_OK : ENG_ERR_NOMEM;
	size_t k = 0, total = 4 + 16 * (size_t)n;
	for (size_t i = 0; st == ENG_OK && i < root->size; i++) {
		if (!img_is_rules(root, i))
			continue;
		const eng_node *v = root->u.items[2 * i + 1];
		for (size_t j = 0; st == ENG_OK && j < v->size; j++, k++) {
			st = img_serialize(v->u.items[j], false, &imgs[k], &lens[k]);
			total += lens[k];
			if (st == ENG_OK && total >= UINT32_MAX)
				st = ENG_ERR_INVALID;
		}
	}
	unsigned char *b = st == ENG_OK ? malloc(total) : NULL;
	if (st == ENG_OK && !b)
		st = ENG_ERR_NOMEM;
	if (st == ENG_OK) {
		size_t at = 0, off = 4 + 16 * n;
		img_put_word(b, &at, (uint32_t)n);
		for (size_t j = 0; j < n; j++) {
			uint64_t sum = doc_image_sum(imgs[j], lens[j]);
			img_put_word(b, &at, (uint32_t)off);
			img_put_word(b, &at, (uint32_t)lens[j]);
			memcpy(b + at, &sum, sizeof(sum));
			at += sizeof(sum);
			memcpy(b + off, imgs[j], lens[j]);
			off += lens[j];
		}
		st = img_serialize(root, true, skel, skellen);
	}
	for (size_t j = 0; imgs && j < n; j++)
		free(imgs[j]);
	free(imgs);
	free(lens);
	if (st != ENG_OK) {
		free(b);
		return st;
	}
	*rules = b;
	*ruleslen = total;
	return ENG_OK;
}

/* ---- reading ---- */

static uint32_t img_word(const unsigned char *p, size_t i)
{
	uint32_t v;
	memcpy(&v, p + 4 * i, sizeof(v));
	return v;
}

/* Rebuilds the nodes of an image whose sizes were checked; false on anything else. */
static bool img_nodes(const unsigned char *recs, const unsigned char *tab,
                      const char *pool, uint32_t nnodes, uint32_t nitems, uint32_t npool,
                      const eng_doc_limits *lim, eng_node *nodes, const eng_node **items,
                      uint32_t *depth, size_t *weight)
{
	for (uint32_t i = 0; i < nnodes; i++) {
		const unsigned char *r = recs + (size_t)i * IMG_NODE_WORDS * 4;
		uint32_t kq = img_word(r, 0), size = img_word(r, 3), payload = img_word(r, 4);
		eng_node *n = &nodes[i];
		if (kq & ~(0xFFu | 1u << 8))
			return false;
		n->line = img_word(r, 1);
		n->col = img_word(r, 2);
		n->quoted = (kq >> 8) & 1;
		n->size = size;
		switch (kq & 0xFF) {
		case ENG_NODE_SCALAR:
			if (size >= npool || payload > npool - size - 1 || pool[payload + size])
				return false;
			n->kind = ENG_NODE_SCALAR;
			n->u.text = pool + payload;
			depth[i] = 0;
			weight[i] = 1;
			continue;
		case ENG_NODE_SEQ:
			n->kind = ENG_NODE_SEQ;
			break;
		case ENG_NODE_MAP:
			n->kind = ENG_NODE_MAP;
			break;
		default:
			return false;
		}
		uint64_t count = n->kind == ENG_NODE_MAP ? 2 * (uint64_t)size : size;
		if (payload > nitems || count > nitems - payload)
			return false;
		uint32_t d = 0;
		size_t wt = 1;
		for (uint32_t j = 0; j < count; j++) {
			uint32_t c = img_word(tab, payload + j);
			if (c >= i)
				return false;   /* children come first: no cycle, no forward index */
			if (n->kind == ENG_NODE_MAP && j % 2 == 0 && nodes[c].kind != ENG_NODE_SCALAR)
				return false;   /* the reader allows scalar keys only */
			items[payload + j] = &nodes[c];
			if (depth[c] > d)
				d = depth[c];
			wt = weight[c] > lim->max_nodes - wt ? lim->max_nodes + 1 : wt + weight[c];
		}
		if (d + 1 > lim->max_depth || wt > lim->max_nodes)
			return false;
		depth[i] = d + 1;
		weight[i] = wt;
		n->u.items = count ? &items[payload] : NULL;
	}
	return true;
}

/* Rebuilds a document from an image made by eng_doc_serialize, named NAME (copied) in
 * diagnostics. SOURCE (copied; may be NULL) is the file eng_doc_line reads the lines from
 * when first asked. LIMITS as for eng_doc_read_file (max_depth and max_nodes apply).
 * Returns the document (freed with eng_doc_free), or NULL with *ST (may be NULL)
 * ENG_ERR_INVALID for a buffer that is not such an image - truncated, from another
 * format or parser version, any count, offset or index out of range - or ENG_ERR_NOMEM.
 * Never reads outside BUF[0..LEN). */
static eng_doc *img_read(const char *name, const void *buf, size_t len, const char *source,
                         const eng_doc_limits *limits, bool borrow, eng_status *st)
{
	eng_status dummy;
	if (!st)
		st = &dummy;
	*st = ENG_ERR_INVALID;
	const unsigned char *p = buf;
	if (!p || len < IMG_HEADER_WORDS * 4)
		return NULL;
	int major = 0, minor = 0, patch = 0;
	doc_parser_version(&major, &minor, &patch);
	uint32_t parser = (uint32_t)major << 20 | (uint32_t)minor << 10 | (uint32_t)patch;
	uint32_t nnodes = img_word(p, 3), nitems = img_word(p, 4), npool = img_word(p, 5);
	uint32_t root = img_word(p, 6);
	eng_doc_limits lim;
	eng_doc_limits_fill(&lim, limits);
	uint64_t need = IMG_HEADER_WORDS * 4 + (uint64_t)nnodes * IMG_NODE_WORDS * 4 +
	                (uint64_t)nitems * 4 + npool;
	if (img_word(p, 0) != IMG_MAGIC || img_word(p, 1) != IMG_FORMAT ||
	    img_word(p, 2) != parser || need != len || nnodes > lim.max_nodes ||
	    (root != IMG_NONE && root >= nnodes))
		return NULL;
	*st = ENG_ERR_NOMEM;
	eng_doc *doc = calloc(1, sizeof(*doc));
	if (!doc)
		return NULL;
	uint32_t *depth = malloc((nnodes ? nnodes : 1) * sizeof(*depth));
	size_t *weight = malloc((nnodes ? nnodes : 1) * sizeof(*weight));
	eng_node *nodes = NULL;
	const eng_node **items = NULL;
	const char *pool = NULL;
	char *copy = NULL;
	/* the nodes, the items, the name and the copied pool in one allocation: the arena
	 * gives a large one a block of its size, where the name alone took a block of
	 * ARENA_BLOCK (64 KB a file, 1.8 MB for mlarch's rules); not zeroed: img_nodes sets
	 * every field of every node, and every item a node's range covers (no other item is
	 * read); the pool is copied, unless borrowed */
	size_t namelen = name ? strlen(name) : 0;
	uint64_t total = (uint64_t)nnodes * sizeof(*nodes) + (uint64_t)nitems * sizeof(*items) +
	                 namelen + 1 + (borrow ? 0 : npool);
	unsigned char *all = NULL;
	bool ok = depth && weight && total <= SIZE_MAX && (doc->a = arena_new()) &&
	          (all = arena_alloc_raw(doc->a, (size_t)total)) &&
	          (!source || (doc->source = strdup(source)));
	if (ok) {
		_Static_assert(sizeof(eng_node) % sizeof(const eng_node *) == 0,
		               "the items follow the nodes aligned");
		nodes = nnodes ? (eng_node *)all : NULL;
		unsigned char *at = all + (size_t)nnodes * sizeof(*nodes);
		items = nitems ? (const eng_node **)at : NULL;
		at += (size_t)nitems * sizeof(*items);
		memcpy(at, name ? name : "", namelen);
		at[namelen] = '\0';
		doc->name = (const char *)at;
		at += namelen + 1;
		copy = borrow || !npool ? NULL : (char *)at;
	}
	if (ok) {
		const unsigned char *recs = p + IMG_HEADER_WORDS * 4;
		const unsigned char *tab = recs + (size_t)nnodes * IMG_NODE_WORDS * 4;
		pool = (const char *)tab + (size_t)nitems * 4;
		if (copy) {
			memcpy(copy, pool, npool);
			pool = copy;
		}
		*st = ENG_ERR_INVALID;
		ok = img_nodes(recs, tab, pool, nnodes, nitems, npool, &lim, nodes, items,
		               depth, weight) &&
		     (root == IMG_NONE || weight[root] <= lim.max_nodes);
	}
	free(depth);
	free(weight);
	if (!ok) {
		eng_doc_free(doc);
		return NULL;
	}
	doc->root = root == IMG_NONE ? NULL : &nodes[root];
	*st = ENG_OK;
	return doc;
}

eng_doc *eng_doc_deserialize(const char *name, const void *buf, size_t len,
                             const char *source, const eng_doc_limits *limits,
                             eng_status *st)
{
	return img_read(name, buf, len, source, limits, false, st);
}

/* eng_doc_deserialize, but the texts stay in BUF: no copy of them is made. */
eng_doc *eng_doc_deserialize_borrowed(const char *name, const void *buf, size_t len,
                                      const char *source, const eng_doc_limits *limits,
                                      eng_status *st)
{
	return img_read(name, buf, len, source, limits, true, st);
}
