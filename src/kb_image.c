/* SPDX-License-Identifier: MIT */
/*
 * kb_image.c - the sources, the catalog, the lexicon and its word families as one flat
 * image in the compiled cache (kbcache.h), so that a warm load reads them in place
 * instead of walking some three thousand entries of their YAML trees, checking every key
 * again and deserialising the trees at all: the files that hold nothing else are not
 * read.
 *
 * The image is written from a knowledge base that loaded without an error, and read back
 * only into a load whose files are the ones it was written from (the cache checks that),
 * so it holds results, not sources to check: per source its fields and position; per
 * catalog entry its id, name, kind, position, the numbers of its aliases' compiled
 * patterns in the cache, the facts it gave the engine and its cites; per family its name,
 * pattern as written, expansion, uses and position; per lexicon entry its id, the number
 * of its compiled pattern in the cache (whose key in the cache's table is the pattern as
 * written, with a hash of the families after a byte 1 for a pattern that uses them: such
 * a pattern's text as written is in the image too), scope, negation, position and the
 * facts it asserts. Texts are offsets into a block of NUL-terminated strings after the
 * records (the patterns in a second block); the knowledge base keeps pointing into the
 * cache file for them (it stays mapped until kb_free). The sources and the catalog
 * entries of a file are read where the load reaches that file, the lexicon once every
 * file is in, each interning its symbols and giving the engine its facts in the order in
 * which a load from the trees does, so that nothing downstream can tell the two apart.
 *
 *   u32 bytes of texts, u32 bytes of pattern texts
 *   u32 count of the files that hold only `sources:`, `catalog:`, `lexicon:` and
 *       `families:`, their numbers
 *   per such file: u32 sources: id, title, u8 topic (KBI_NO_WORD: none), u8 decides, why
 *       (or none), conflict (or none), u32 line, col; u32 catalog entries: id, name, u8
 *       kind (or none), u32 line, col, u32 aliases and their pattern numbers, u32 facts
 *       (attribute and a constant each), u32 cites and their texts
 *   u32 families: name, pattern, expansion (or none), u32 uses, u32 file, line, col
 *   u32 entries, u32 the number of the first's pattern: per entry id, u32 pattern
 *       number, pattern as written (none: the pattern's key), u8 scope, u8 negates, u32
 *       file, line, col, u32 facts; per fact attribute, u8 kind (0 a constant, 1 a
 *       capture; + 2 when need cues drop it, and then a u32 of their bits, kb_lexval.
 *       denied_by); a constant's u8 type and a text, a number
 *       (f64) or a boolean (u8); a capture's group, scale-by group (or none), u32
 *       factors, and per factor its key and f64 value
 *   the texts, then the pattern texts
 * A text is a u32 offset into the texts, or into the pattern texts for a pattern as
 * written and a family's expansion (KBI_NONE: none). The cache's checksum of the
 * section sees damage. What only a file made on purpose can hold, the reading refuses:
 * kbi_open the parts that say which files are skipped, kbi_read_file and kbi_read the
 * rest as they go (an offset or a number out of range, a count past the bytes, texts
 * without a final NUL), never reading past the image; the load then starts again from
 * the YAML (kb.c). kbi_check refuses all of it at once, for the fuzz target.
 */
#include "bytes.h"
#include "kb_private.h"

#include <string.h>

#define KBI_NONE UINT32_MAX
#define KBI_NO_WORD 0xFFu
#define KBI_ONLY_KEYS { "lexicon", "families", "catalog", "sources" }
#define KBI_SOURCE_FIXED 26     /* the fixed part of a source: four texts, two u8, two u32 */
#define KBI_ENTITY_FIXED 29     /* of a catalog entry: two texts, u8, five u32 */

/* ---- writing ---- */

typedef struct {
	byte_buf rec;           /* the records */
	byte_buf str;           /* the texts */
	byte_buf pat;           /* the pattern texts, after the others */
} kbi_out;

static void kbi_u8(kbi_out *o, uint8_t v)
{
	byte_put(&o->rec, &v, 1);
}

static void kbi_u32(kbi_out *o, uint32_t v)
{
	byte_put(&o->rec, &v, sizeof(v));
}

static void kbi_f64(kbi_out *o, double v)
{
	byte_put(&o->rec, &v, sizeof(v));
}

/* Text S (NULL: none) into the texts, or the pattern texts with PATTERN, and its offset
 * there into the record. */
static void kbi_text(kbi_out *o, const char *s, bool pattern)
{
	if (!s) {
		kbi_u32(o, KBI_NONE);
		return;
	}
	byte_buf *b = pattern ? &o->pat : &o->str;
	if (b->n >= UINT32_MAX / 2) {
		b->nomem = true;
		return;
	}
	kbi_u32(o, (uint32_t)b->n);
	byte_put(b, s, strlen(s) + 1);
}

/* The number of the file whose name (as the load kept it) is FILE. */
static uint32_t kbi_file(const kb_loader *L, const char *file)
{
	for (uint32_t i = 0; i < L->nfnames; i++)
		if (L->fnames[i] == file)
			return i;
	return KBI_NONE;
}

/* Whether the tree DOC holds nothing but sections the image gives. */
static bool kbi_only(const eng_doc *doc)
{
	static const char *const keys[] = KBI_ONLY_KEYS;
	const eng_node *root = doc ? eng_doc_root(doc) : NULL;
	if (!root || eng_node_kind_of(root) != ENG_NODE_MAP || eng_node_size(root) == 0)
		return false;
	for (size_t i = 0; i < eng_node_size(root); i++) {
		const char *name = eng_node_text(eng_node_key(root, i), NULL);
		bool known = false;
		for (size_t k = 0; name && k < KB_COUNT(keys) && !known; k++)
			known = strcmp(name, keys[k]) == 0;
		if (!known)
			return false;
	}
	return true;
}

/* Constant V: its type and its text, number or boolean. False for a type it cannot be. */
static bool kbi_const(kbi_out *o, const eng *e, eng_value v)
{
	kbi_u8(o, (uint8_t)v.type);
	if (v.type == ENG_SYMBOL || v.type == ENG_STRING)
		kbi_text(o, eng_sym_name(e, v.u.sym), false);
	else if (v.type == ENG_NUMBER)
		kbi_f64(o, v.u.num);
	else if (v.type == ENG_BOOL)
		kbi_u8(o, v.u.b);
	else
		return false;
	return true;
}

/* The number of W (one of SET's N words, or NULL) in SET; KBI_NO_WORD for NULL. */
static uint8_t kbi_word(const char *w, const char *const *set, size_t n)
{
	for (size_t i = 0; w && i < n; i++)
		if (set[i] == w)
			return (uint8_t)i;
	return KBI_NO_WORD;
}

/* Where the writing of the files' sources and entries has got to: the next entry's
 * first fact, the pattern after the last alias written. */
typedef struct {
	uint32_t fact, pat;
} kbi_cursor;

/* The sources and the catalog entries of file FILE; false when they do not fit the
 * shape (an alias not among the patterns PATS[0..NPATS) in order). */
static bool kbi_write_file(kbi_out *o, const kb_loader *L, uint32_t file, kbi_cursor *cur,
                           rx *const *pats, uint32_t npats)
{
	const kb *k = L->k;
	const char *name = L->fnames[file];
	uint32_t n = 0;
	for (uint32_t i = 0; i < k->nsources; i++)
		n += k->sources[i].file == name;
	kbi_u32(o, n);
	for (uint32_t i = 0; i < k->nsources; i++) {
		const kb_source *s = &k->sources[i];
		if (s->file != name)
			continue;
		if (!s->id || !s->title)
			return false;
		kbi_text(o, s->id, false);
		kbi_text(o, s->title, false);
		kbi_u8(o, kbi_word(s->topic, kb_topics, KB_NTOPICS));
		kbi_u8(o, s->decides);
		kbi_text(o, s->why, false);
		kbi_text(o, s->conflict, false);
		kbi_u32(o, s->line);
		kbi_u32(o, s->col);
	}
	n = 0;
	for (uint32_t i = 0; i < k->nentities; i++)
		n += k->entities[i].file == name;
	kbi_u32(o, n);
	for (uint32_t i = 0; i < k->nentities; i++) {
		const kb_entity *en = &k->entities[i];
		if (en->file != name)
			continue;
		if (!en->id || !en->name || !en->sym)
			return false;
		kbi_text(o, en->id, false);
		kbi_text(o, en->name, false);
		kbi_u8(o, kbi_word(en->kind, kb_kinds, KB_NKINDS));
		kbi_u32(o, en->line);
		kbi_u32(o, en->col);
		kbi_u32(o, en->naliases);
		for (uint32_t a = 0; a < en->naliases; a++) {
			while (cur->pat < npats && pats[cur->pat] != en->aliases[a])
				cur->pat++;
			if (cur->pat == npats)
				return false;
			kbi_u32(o, cur->pat++);
		}
		while (cur->fact < L->nefacts && L->efacts[cur->fact].entity < i)
			cur->fact++;
		uint32_t f0 = cur->fact;
		while (cur->fact < L->nefacts && L->efacts[cur->fact].entity == i)
			cur->fact++;
		kbi_u32(o, cur->fact - f0);
		for (uint32_t f = f0; f < cur->fact; f++) {
			kbi_text(o, eng_sym_name(k->e, L->efacts[f].attr), false);
			if (!kbi_const(o, k->e, L->efacts[f].val))
				return false;
		}
		kbi_u32(o, en->ncite);
		for (uint32_t c = 0; c < en->ncite; c++)
			kbi_text(o, en->cite[c], false);
	}
	return true;
}

bool kbi_write(const kb_loader *L, rx *const *pats, uint32_t npats, unsigned char **out,
               size_t *len)
{
	*out = NULL;
	*len = 0;
	const kb *k = L->k;
	kbi_out o = { { NULL, 0, 0, false }, { NULL, 0, 0, false }, { NULL, 0, 0, false } };
	bool ok = L->nfnames == L->ndocs;
	uint32_t nonly = 0;
	for (uint32_t i = 0; ok && i < L->ndocs; i++)
		nonly += kbi_only(L->docs[i]);
	kbi_u32(&o, nonly);
	for (uint32_t i = 0; ok && i < L->ndocs; i++)
		if (kbi_only(L->docs[i]))
			kbi_u32(&o, i);
	/* entries may lie in files read from their trees: the cursor passes them */
	kbi_cursor cur = { 0, 0 };
	for (uint32_t i = 0; ok && i < L->ndocs; i++)
		if (kbi_only(L->docs[i]))
			ok = kbi_write_file(&o, L, i, &cur, pats, npats);
	kbi_u32(&o, k->nfamilies);
	for (uint32_t i = 0; ok && i < k->nfamilies; i++) {
		const kb_family *f = &k->families[i];
		kbi_text(&o, f->name, false);
		kbi_text(&o, f->pattern, true);
		kbi_text(&o, f->expanded, true);
		kbi_u32(&o, f->uses);
		kbi_u32(&o, kbi_file(L, f->file));
		kbi_u32(&o, f->line);
		kbi_u32(&o, f->col);
		ok = kbi_file(L, f->file) != KBI_NONE;
	}
	/* the entries' patterns are the last of the load's, in entry order */
	uint32_t first = npats >= k->nlexicon ? npats - k->nlexicon : 0;
	kbi_u32(&o, k->nlexicon);
	kbi_u32(&o, first);
	for (uint32_t i = 0; ok && i < k->nlexicon; i++) {
		const kb_lexeme *lx = &k->lexicon[i];
		/* the pattern as written is its cache key, up to the byte 1 that starts the
		 * families' hash of a pattern that uses them (kb_lex_pattern) */
		const char *key = first + i < npats ? L->pat_srcs[first + i] : NULL;
		size_t kl = key ? strcspn(key, "\x01") : 0;
		ok = lx->re && key && pats[first + i] == lx->re && lx->id && lx->pattern &&
		     strlen(lx->pattern) == kl && memcmp(lx->pattern, key, kl) == 0 &&
		     kbi_file(L, lx->file) != KBI_NONE;
		kbi_text(&o, lx->id, false);
		kbi_u32(&o, first + i);
		kbi_text(&o, key && key[kl] ? lx->pattern : NULL, true);
		kbi_u8(&o, (uint8_t)lx->scope);
		kbi_u8(&o, lx->negates);
		kbi_u32(&o, kbi_file(L, lx->file));
		kbi_u32(&o, lx->line);
		kbi_u32(&o, lx->col);
		kbi_u32(&o, lx->nvals);
		for (uint32_t j = 0; ok && j < lx->nvals; j++) {
			const kb_lexval *v = &lx->vals[j];
			kbi_text(&o, eng_sym_name(k->e, v->attr), false);
			kbi_u8(&o, (uint8_t)(v->from_capture | (v->denied_by != 0) << 1));
			if (v->denied_by)
				kbi_u32(&o, v->denied_by);
			if (!v->from_capture) {
				ok = kbi_const(&o, k->e, v->k);
				continue;
			}
			kbi_text(&o, v->capture, false);
			kbi_text(&o, v->scale_by, false);
			kbi_u32(&o, v->nscale);
			for (uint32_t s = 0; s < v->nscale; s++) {
				kbi_text(&o, v->scale_keys[s], false);
				kbi_f64(&o, v->scale_vals[s]);
			}
		}
	}
	ok = ok && !o.rec.nomem && !o.str.nomem && !o.pat.nomem &&
	     o.str.n < UINT32_MAX / 2 && o.pat.n < UINT32_MAX / 2;
	byte_buf img = { NULL, 0, 0, false };
	if (ok) {
		uint32_t sl = (uint32_t)o.str.n, pl = (uint32_t)o.pat.n;
		byte_put(&img, &sl, sizeof(sl));
		byte_put(&img, &pl, sizeof(pl));
		byte_put(&img, o.rec.p, o.rec.n);
		byte_put(&img, o.str.p, o.str.n);
		byte_put(&img, o.pat.p, o.pat.n);
		ok = !img.nomem;
	}
	free(o.rec.p);
	free(o.str.p);
	free(o.pat.p);
	if (!ok) {
		free(img.p);
		return false;
	}
	*out = img.p;
	*len = img.n;
	return true;
}

/* ---- reading ---- */

/* Reads into *N a count of records of at least SIZE bytes each; a count the bytes left in C
 * cannot hold marks C bad. Returns whether C is still good. */
static bool kbi_count(byte_cur *c, size_t size, uint32_t *n)
{
	*n = byte_u32(c);
	if (*n > (c->n - c->off) / size) {
		c->bad = true;
		*n = 0;
	}
	return !c->bad;
}

/* The text at the offset C reads, from the texts or (PATTERN) the pattern texts of IM;
 * NULL for none. An offset out of range makes C bad. */
static const char *kbi_str(byte_cur *c, const kbi *im, bool pattern)
{
	uint32_t at = byte_u32(c);
	if (at == KBI_NONE)
		return NULL;
	const char *base = pattern ? im->pat : im->str;
	uint32_t n = pattern ? im->npat : im->nstr;
	if (at >= n) {
		c->bad = true;
		return NULL;
	}
	return base + at;
}

/* Whether the text at the offset C reads is there (not NONE): for the texts that must. */
static const char *kbi_must(byte_cur *c, const kbi *im, bool pattern)
{
	const char *s = kbi_str(c, im, pattern);
	if (!s)
		c->bad = true;
	return s;
}

/* Reads or (with L NULL) only checks a constant: its symbol interned with L. */
static eng_value kbi_const_read(byte_cur *c, const kbi *im, kb_loader *L)
{
	uint8_t type = byte_u8(c);
	eng_value k = { ENG_NONE, { 0 } };
	if (type == ENG_SYMBOL || type == ENG_STRING) {
		const char *t = kbi_must(c, im, false);
		if (L && t && !c->bad) {
			k.type = (eng_type)type;
			k.u.sym = eng_intern(L->k->e, t, strlen(t));
			if (!k.u.sym)
				L->nomem = true;
		}
	} else if (type == ENG_NUMBER) {
		uint64_t bits = byte_u64(c);
		double num;
		memcpy(&num, &bits, sizeof(num));
		k = eng_number(num);
	} else if (type == ENG_BOOL) {
		uint8_t b = byte_u8(c);
		if (b > 1)
			c->bad = true;
		k = eng_bool(b);
	} else {
		c->bad = true;
	}
	return k;
}

/* Reads or (with L NULL) only checks the sources of file FILE, from C. */
static void kbi_sources(byte_cur *c, const kbi *im, kb_loader *L, const char *file)
{
	kb *k = L ? L->k : NULL;
	uint32_t n;
	if (!kbi_count(c, KBI_SOURCE_FIXED, &n))
		return;
	for (uint32_t i = 0; i < n && !c->bad; i++) {
		kb_source s = { NULL, NULL, NULL, false, NULL, NULL, file, 0, 0 };
		s.id = kbi_must(c, im, false);
		s.title = kbi_must(c, im, false);
		uint8_t topic = byte_u8(c), decides = byte_u8(c);
		s.why = kbi_str(c, im, false);
		s.conflict = kbi_str(c, im, false);
		s.line = byte_u32(c);
		s.col = byte_u32(c);
		if ((topic >= KB_NTOPICS && topic != KBI_NO_WORD) || decides > 1)
			c->bad = true;
		if (!L || c->bad)
			continue;
		s.topic = topic == KBI_NO_WORD ? NULL : kb_topics[topic];
		s.decides = decides;
		if (!kb_grow((void **)&k->sources, k->nsources, &L->m->capsources,
		             sizeof(kb_source))) {
			L->nomem = true;
			return;
		}
		k->sources[k->nsources++] = s;
	}
}

/* Reads or (with L NULL) only checks the facts of a catalog entry EN (NULL with L NULL),
 * from C, giving them to the engine. */
static void kbi_entity_facts(byte_cur *c, const kbi *im, kb_loader *L, const kb_entity *en)
{
	uint32_t n;
	if (!kbi_count(c, 5, &n))  /* an attribute and a type at least */
		return;
	for (uint32_t i = 0; i < n && !c->bad && !(L && L->nomem); i++) {
		const char *name = kbi_must(c, im, false);
		eng_sym attr = 0;
		if (L && name && !c->bad && !(attr = eng_intern(L->k->e, name, strlen(name)))) {
			L->nomem = true;
			return;
		}
		eng_value v = kbi_const_read(c, im, L);
		if (!L || c->bad || L->nomem)
			continue;
		/* the only refusal left: out of memory (subject and attribute are interned) */
		if (eng_deffact_add(L->k->e, en->sym, attr, v) != ENG_OK)
			L->nomem = true;
		else
			kb_efact_record(L, (uint32_t)(en - L->k->entities), attr, v);
	}
}

/* Reads or (with L NULL) only checks the catalog entries of file FILE, from C. NPATS
 * bounds the pattern numbers. */
static void kbi_entities(byte_cur *c, const kbi *im, kb_loader *L, const char *file,
                         size_t npats)
{
	kb *k = L ? L->k : NULL;
	uint32_t n;
	if (!kbi_count(c, KBI_ENTITY_FIXED, &n))
		return;
	for (uint32_t i = 0; i < n && !c->bad && !(L && L->nomem); i++) {
		const char *id = kbi_must(c, im, false), *name = kbi_must(c, im, false);
		uint8_t kind = byte_u8(c);
		uint32_t line = byte_u32(c), col = byte_u32(c), nalias = byte_u32(c);
		if ((kind >= KB_NKINDS && kind != KBI_NO_WORD) || nalias > (c->n - c->off) / 4)
			c->bad = true;
		kb_entity *en = NULL;
		if (L && !c->bad) {
			if (!kb_grow((void **)&k->entities, k->nentities, &L->m->capentities,
			             sizeof(kb_entity))) {
				L->nomem = true;
				return;
			}
			en = &k->entities[k->nentities++];
			memset(en, 0, sizeof(*en));
			en->id = id;
			en->name = name;
			en->kind = kind == KBI_NO_WORD ? NULL : kb_kinds[kind];
			en->file = file;
			en->line = line;
			en->col = col;
			en->sym = eng_intern(k->e, id, strlen(id));
			if (nalias) {
				en->aliases = kb_alloc(L->m, nalias * sizeof(*en->aliases));
				en->alias_src = kb_alloc(L->m, nalias * sizeof(*en->alias_src));
			}
			if (!en->sym || (nalias && (!en->aliases || !en->alias_src))) {
				L->nomem = true;
				return;
			}
		}
		for (uint32_t a = 0; a < nalias && !c->bad; a++) {
			uint32_t pat = byte_u32(c);
			if (pat >= npats)
				c->bad = true;
			if (!en || c->bad)
				continue;
			const char *src;
			rx *r = kbc_pattern_at(L->cache, pat, &src);
			if (!r) {
				L->nomem = true;
				return;
			}
			rx_set_limits(r, &k->limits.rx);
			kb_regex_record(L, r, src);
			en->aliases[en->naliases] = r;
			en->alias_src[en->naliases++] = src;
		}
		kbi_entity_facts(c, im, L, en);
		uint32_t ncite;
		if (!kbi_count(c, 4, &ncite))
			return;
		if (en && ncite && !(en->cite = kb_alloc(L->m, ncite * sizeof(*en->cite)))) {
			L->nomem = true;
			return;
		}
		for (uint32_t j = 0; j < ncite && !c->bad; j++) {
			const char *t = kbi_must(c, im, false);
			if (en && t)
				en->cite[en->ncite++] = t;
		}
	}
}

/* Reads or (with L NULL) only checks one fact of an entry into *V. */
static void kbi_fact(byte_cur *c, const kbi *im, kb_loader *L, kb_lexval *v)
{
	const char *attr = kbi_must(c, im, false);
	uint8_t kind = byte_u8(c), deniable = kind >> 1;
	kind &= 1;
	uint32_t by = deniable == 1 ? byte_u32(c) : 0;
	if (deniable > 1 || (deniable && !by))
		c->bad = true;
	if (L && !c->bad)
		v->denied_by = by;
	if (L && attr && !c->bad) {
		v->attr = eng_intern(L->k->e, attr, strlen(attr));
		if (!v->attr)
			L->nomem = true;
	}
	if (kind > 1) {
		c->bad = true;
		return;
	}
	if (kind == 0) {
		eng_value k = kbi_const_read(c, im, L);
		if (L)
			v->k = k;
		return;
	}
	const char *capture = kbi_must(c, im, false);
	const char *scale_by = kbi_str(c, im, false);
	uint32_t nscale;
	if (!kbi_count(c, 12, &nscale))  /* a key and a factor: 12 bytes */
		return;
	const char **keys = NULL;
	double *vals = NULL;
	if (L && nscale) {
		keys = kb_alloc(L->m, nscale * sizeof(*keys));
		vals = kb_alloc(L->m, nscale * sizeof(*vals));
		if (!keys || !vals) {
			L->nomem = true;
			return;
		}
	}
	for (uint32_t s = 0; s < nscale; s++) {
		const char *key = kbi_must(c, im, false);
		uint64_t bits = byte_u64(c);
		if (keys) {
			keys[s] = key;
			memcpy(&vals[s], &bits, sizeof(double));
		}
	}
	if (L) {
		v->from_capture = true;
		v->capture = capture;
		v->scale_by = scale_by;
		v->scale_keys = keys;
		v->scale_vals = vals;
		v->nscale = nscale;
	}
}

/* Reads or (with L NULL) only checks the families and the entries of IM, from C (after
 * the files' numbers). NFILES and NPATS bound the numbers of files and patterns. */
static void kbi_walk(byte_cur *c, const kbi *im, kb_loader *L, uint32_t nfiles,
                     size_t npats)
{
	kb *k = L ? L->k : NULL;
	uint32_t nfam;
	if (!kbi_count(c, 28, &nfam))  /* three texts and four numbers */
		return;
	if (L && nfam) {
		k->families = calloc(nfam, sizeof(*k->families));
		if (!k->families) {
			L->nomem = true;
			return;
		}
		L->m->capfamilies = nfam;
	}
	for (uint32_t i = 0; i < nfam && !c->bad; i++) {
		kb_family f = { NULL, NULL, NULL, 0, NULL, 0, 0 };
		f.name = kbi_must(c, im, false);
		f.pattern = kbi_must(c, im, true);
		f.expanded = kbi_str(c, im, true);
		f.uses = byte_u32(c);
		uint32_t file = byte_u32(c);
		f.line = byte_u32(c);
		f.col = byte_u32(c);
		if (file >= nfiles)
			c->bad = true;
		if (L && !c->bad) {
			f.file = L->fnames[file];
			k->families[k->nfamilies++] = f;
		}
	}
	uint32_t nlex = byte_u32(c);
	(void)byte_u32(c);      /* the first entry's pattern: each says its own */
	if (nlex > (c->n - c->off) / 30) {      /* the fixed part of an entry */
		c->bad = true;
		return;
	}
	if (L && nlex) {
		k->lexicon = calloc(nlex, sizeof(*k->lexicon));
		if (!k->lexicon) {
			L->nomem = true;
			return;
		}
		L->m->caplexicon = nlex;
	}
	uint32_t ncues = 0;   /* the `negates: need` cues so far (kb_lexeme.cue) */
	for (uint32_t i = 0; i < nlex && !c->bad && !(L && L->nomem); i++) {
		kb_lexeme *lx = L ? &k->lexicon[k->nlexicon] : NULL;
		const char *id = kbi_must(c, im, false);
		uint32_t pat = byte_u32(c);
		const char *written = kbi_str(c, im, true);
		uint8_t scope = byte_u8(c), negates = byte_u8(c);
		uint32_t file = byte_u32(c), line = byte_u32(c), col = byte_u32(c);
		uint32_t nvals;
		if (!kbi_count(c, 5, &nvals))   /* a fact: a text and its kind at least */
			break;
		if (negates == LEX_NEG_NEED && ncues++ >= KB_MAX_NEED_CUES)
			c->bad = true;
		if (pat >= npats || scope > LEX_OPTION || negates > LEX_NEG_SPAN || file >= nfiles ||
		    c->bad) {
			c->bad = true;
			break;
		}
		if (lx) {
			lx->id = id;
			lx->scope = (lex_scope)scope;
			lx->negates = (lex_negates)negates;
			if (negates == LEX_NEG_NEED)
				lx->cue = (uint8_t)(ncues - 1);   /* counted above, at most the limit */
			lx->file = L->fnames[file];
			lx->line = line;
			lx->col = col;
			lx->vals = nvals ? kb_alloc(L->m, nvals * sizeof(*lx->vals)) : NULL;
			if (nvals && !lx->vals) {
				L->nomem = true;
				break;
			}
			k->nlexicon++;
		}
		for (uint32_t j = 0; j < nvals && !c->bad; j++)
			kbi_fact(c, im, L, lx ? &lx->vals[j] : NULL);
		if (lx)
			lx->nvals = nvals;
		if (lx && !c->bad) {
			/* its compiled pattern, in its place among the cache's */
			const char *src;
			lx->re = kbc_pattern_at(L->cache, pat, &src);
			if (!lx->re) {
				L->nomem = true;
			} else {
				rx_set_limits(lx->re, &k->limits.rx);
				kb_regex_record(L, lx->re, src);
				/* the pattern as written: its key, unless families are hashed in */
				lx->pattern = written ? written : src;
			}
		}
	}
}

bool kbi_open(const unsigned char *p, size_t len, uint32_t nfiles, size_t npats, kbi *im)
{
	memset(im, 0, sizeof(*im));
	byte_cur c = { p, len, 0, false };
	uint32_t sl = byte_u32(&c), pl = byte_u32(&c);
	if (c.bad || sl > len - 8 || pl > len - 8 - sl)
		return false;
	size_t rend = len - sl - pl;
	im->str = (const char *)p + rend;
	im->nstr = sl;
	im->pat = im->str + sl;
	im->npat = pl;
	/* every text ends within its block: the blocks end with a NUL */
	if ((sl && im->str[sl - 1] != '\0') || (pl && im->pat[pl - 1] != '\0'))
		return false;
	c.n = rend;
	im->nonly = byte_u32(&c);
	if (im->nonly > nfiles || im->nonly > (c.n - c.off) / 4)
		return false;
	im->only = byte_take(&c, (size_t)im->nonly * 4);
	for (uint32_t i = 0; i < im->nonly && !c.bad; i++) {
		uint32_t f;
		memcpy(&f, im->only + 4 * (size_t)i, 4);
		if (f >= nfiles || (i && f <= kbi_only_file(im, i - 1)))
			return false;
	}
	im->at = c.off;
	im->p = p;
	im->len = rend;
	im->nfiles = nfiles;
	im->npats = npats;
	return !c.bad;
}

bool kbi_check(const unsigned char *p, size_t len, uint32_t nfiles, size_t npats, kbi *im)
{
	if (!kbi_open(p, len, nfiles, npats, im))
		return false;
	byte_cur c = { im->p, im->len, im->at, false };
	for (uint32_t i = 0; i < im->nonly && !c.bad; i++) {
		kbi_sources(&c, im, NULL, NULL);
		kbi_entities(&c, im, NULL, NULL, npats);
	}
	kbi_walk(&c, im, NULL, nfiles, npats);
	return !c.bad && c.off == c.n;
}

uint32_t kbi_only_file(const kbi *im, uint32_t i)
{
	uint32_t f;
	memcpy(&f, im->only + 4 * (size_t)i, 4);
	return f;
}

void kbi_read(kb_loader *L, const kbi *im)
{
	byte_cur c = { im->p, im->len, im->at, false };
	kbi_walk(&c, im, L, im->nfiles, im->npats);
	if (c.bad || c.off != c.n)
		L->img_bad = true;
}

void kbi_read_file(kb_loader *L, kbi *im, uint32_t file)
{
	byte_cur c = { im->p, im->len, im->at, false };
	kbi_sources(&c, im, L, L->fnames[file]);
	kbi_entities(&c, im, L, L->fnames[file], im->npats);
	im->at = c.off;
	if (c.bad)
		L->img_bad = true;
}
