/* SPDX-License-Identifier: MIT */
/*
 * kb.c - a directory of YAML files to a knowledge base.
 *
 * Every *.yaml / *.yml file under the directory (recursively, hidden names skipped, in
 * sorted path order so that diagnostics and rule order never depend on the file system)
 * is read once into a node tree. The engine compiles its sections (`rules:`, `facts:`) from
 * that tree; kb_sections.c reads the application's sections (`sources:`, `catalog:`,
 * `lexicon:`) from the same tree. Loading goes on after an error to collect the others;
 * the knowledge base is returned only when there were none.
 *
 * The `lexicon:` sections are read after every file is in, so that a pattern may use the
 * word families (`families:`, `{{must}}`) of any file. Citations are checked last: each
 * `cite` of a rule or a catalog entry must name a note of `sources:`. The documents stay
 * open until then so that those diagnostics can show the line they point at.
 *
 * Strings and small arrays live in one bump allocator (kb_mem); the three entry arrays
 * grow with realloc; compiled patterns are freed one by one in kb_free.
 */
#include "kb_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KB_DEPTH_MAX 32         /* directory nesting */
#define KB_BLOCK 16384
#define KB_FILE_MAX ((size_t)64 << 20)     /* past the engine's own limit, which says so */

/* ---- memory ---- */

/* SIZE zeroed bytes owned by M, or NULL when out of memory. */
void *kb_alloc(kb_mem *m, size_t size)
{
	size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (size == 0)
		size = sizeof(max_align_t);
	kb_block *b = m->blocks;
	if (!b || b->cap - b->used < size) {
		size_t cap = size > KB_BLOCK ? size : KB_BLOCK;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = m->blocks;
		m->blocks = b;
	}
	char *p = (char *)b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

/* A NUL-terminated copy of S[0..LEN) owned by M, or NULL when out of memory. */
char *kb_strndup(kb_mem *m, const char *s, size_t len)
{
	char *p = kb_alloc(m, len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* Makes room for one more item in *ARR (of N items, capacity *CAP). Returns false when out
 * of memory (the array is unchanged). */
bool kb_grow(void **arr, uint32_t n, uint32_t *cap, size_t elem)
{
	if (n < *cap)
		return true;
	uint32_t ncap = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, (size_t)ncap * elem);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

static const char *const kb_conclusions[] = {
	"recommend", "reject", "require", "prefer", "avoid", "answer",
};
static const char *const kb_app_sections[] = { "catalog", "lexicon", "sources", "families" };

/* ---- duplicate ids ---- */

static uint32_t kb_str_hash(const char *s)
{
	uint32_t h = 2166136261u;      /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot of S (whose CAP is not 0) that holds ID, or the empty one where it would go. */
static uint32_t kb_id_slot(const kb_idset *s, const char *id)
{
	uint32_t h = kb_str_hash(id) & (s->cap - 1);
	while (s->ids[h] && strcmp(s->ids[h], id) != 0)
		h = (h + 1) & (s->cap - 1);
	return h;
}

long kb_id_first(kb_loader *L, kb_idset *s, const char *id, uint32_t i)
{
	if (2 * (s->n + 1) > s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 256;
		kb_idset t = { calloc(cap, sizeof(*t.ids)), calloc(cap, sizeof(*t.idx)), s->n, cap };
		if (!t.ids || !t.idx) {
			kb_idset_free(&t);
			L->nomem = true;
			return -1;
		}
		for (uint32_t j = 0; j < s->cap; j++) {
			if (!s->ids[j])
				continue;
			uint32_t h = kb_str_hash(s->ids[j]) & (cap - 1);
			while (t.ids[h])
				h = (h + 1) & (cap - 1);
			t.ids[h] = s->ids[j];
			t.idx[h] = s->idx[j];
		}
		kb_idset_free(s);
		*s = t;
	}
	uint32_t h = kb_id_slot(s, id);
	if (s->ids[h])
		return (long)s->idx[h];
	s->ids[h] = id;
	s->idx[h] = i;
	s->n++;
	return -1;
}

/* Whether ID is in S. */
static bool kb_id_known(const kb_idset *s, const char *id)
{
	return s->cap && s->ids[kb_id_slot(s, id)];
}

void kb_idset_free(kb_idset *s)
{
	free(s->ids);
	free(s->idx);
	s->ids = NULL;
	s->idx = NULL;
	s->n = s->cap = 0;
}

/* ---- files ---- */

/* Reads all of FD (at most KB_FILE_MAX bytes) into a malloc'd buffer; NULL when it cannot
 * (the engine's reader then tells why). */
static char *kb_slurp(int fd, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			char *nb = cap < KB_FILE_MAX ? realloc(buf, cap * 2) : NULL;
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0) {
			*len = n;
			return buf;
		}
		n += (size_t)r;
	}
	free(buf);
	return NULL;
}

typedef struct {
	kbc_file *v;
	uint32_t n, cap;
} kb_paths;

static bool kb_is_yaml(const char *name)
{
	size_t n = strlen(name);
	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static char *kb_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	bool slash = dl > 0 && dir[dl - 1] == '/';
	char *p = malloc(dl + nl + 2);
	if (p) {
		memcpy(p, dir, dl);
		if (!slash)
			p[dl++] = '/';
		memcpy(p + dl, name, nl + 1);
	}
	return p;
}

/* Adds the YAML files under DIR to P. Returns ENG_OK, ENG_ERR_NOMEM, or ENG_ERR_IO after
 * reporting a directory that cannot be read. */
static eng_status kb_walk(kb_loader *L, const char *dir, unsigned depth, kb_paths *p)
{
	DIR *dh = opendir(dir);
	if (!dh) {
		L->failed = true;
		if (eng_diags_add(L->d, ENG_SEV_ERROR, dir, 0, 0, 0, NULL, NULL,
		                  "cannot read the directory: %s", strerror(errno)) != ENG_OK)
			return ENG_ERR_NOMEM;
		return ENG_ERR_IO;
	}
	eng_status st = ENG_OK;
	struct dirent *ent;
	while (st == ENG_OK && (ent = readdir(dh))) {
		if (ent->d_name[0] == '.')
			continue;
		char *path = kb_join(dir, ent->d_name);
		if (!path) {
			st = ENG_ERR_NOMEM;
			break;
		}
		struct stat sb;
		if (stat(path, &sb) != 0) {
			free(path);
			continue;       /* a dangling link */
		}
		if (S_ISDIR(sb.st_mode)) {
			if (depth < KB_DEPTH_MAX) {
				eng_status ws = kb_walk(L, path, depth + 1, p);
				if (ws == ENG_ERR_NOMEM)
					st = ws;
			}
			free(path);
		} else if (S_ISREG(sb.st_mode) && kb_is_yaml(ent->d_name)) {
			if (!kb_grow((void **)&p->v, p->n, &p->cap, sizeof(*p->v))) {
				free(path);
				st = ENG_ERR_NOMEM;
			} else {
				kbc_file *f = &p->v[p->n++];
				memset(f, 0, sizeof(*f));
				f->path = path;
				kbc_file_set(f, &sb);
			}
		} else {
			free(path);
		}
	}
	closedir(dh);
	return st;
}

static int kb_cmp_path(const void *a, const void *b)
{
	return strcmp(((const kbc_file *)a)->path, ((const kbc_file *)b)->path);
}

/* Parses file F. With a cache to write, the bytes parsed are read here, to record their
 * checksum; the engine reads the file otherwise (and when this read fails, so that the
 * diagnostic is the engine's). */
static eng_doc *kb_parse(kb_loader *L, kbc_file *f, eng_status *st)
{
	if (L->cache_path) {
		size_t len = 0;
		int fd = open(f->path, O_RDONLY | O_CLOEXEC);
		char *buf = fd >= 0 ? kb_slurp(fd, &len) : NULL;
		if (fd >= 0)
			close(fd);
		if (buf) {
			f->hash = kbc_hash(buf, len);
			eng_doc *doc = eng_doc_read_string(f->path, buf, len, &L->k->limits.eng.doc,
			                                   L->d, st);
			free(buf);
			return doc;
		}
		L->no_write = true;
	}
	return eng_doc_read_file(f->path, &L->k->limits.eng.doc, L->d, st);
}

/* Reads (from the cache, else by parsing) and loads file I. Returns ENG_ERR_NOMEM to stop;
 * other problems are reported and set L->failed. */
static eng_status kb_load_file(kb_loader *L, kbc_file *f, uint32_t i)
{
	eng_status st = ENG_OK;
	const char *path = f->path;
	if (!kb_grow((void **)&L->docs, L->ndocs, &L->capdocs, sizeof(*L->docs)) ||
	    !kb_grow((void **)&L->doc_rules, L->ndocs, &L->capdoc_rules, sizeof(*L->doc_rules)) ||
	    !kb_grow((void **)&L->doc_keep, L->ndocs, &L->capdoc_keep, sizeof(*L->doc_keep)) ||
	    !kb_grow((void **)&L->doc_cached, L->ndocs, &L->capdoc_cached,
	             sizeof(*L->doc_cached)))
		return ENG_ERR_NOMEM;
	if (L->flat && L->img_next < L->img.nonly && kbi_only_file(&L->img, L->img_next) == i) {
		/* all it holds is in the cache's image: no tree (kb_write_cache parses it
		 * should the cache be written again) */
		L->img_next++;
		kbc_skip_doc(L->cache, i);
		f->hash = kbc_file_hash(L->cache, i);
		L->doc_rules[L->ndocs] = (uint32_t)eng_rule_count(L->k->e);
		L->doc_keep[L->ndocs] = false;
		L->doc_cached[L->ndocs] = false;
		L->docs[L->ndocs++] = NULL;
		kbi_read_file(L, &L->img, i);
		return L->nomem ? ENG_ERR_NOMEM : L->img_bad ? ENG_ERR_INVALID : ENG_OK;
	}
	/* a file over yaml-bytes is parsed, so that the reader reports it */
	bool fits = f->size <= L->k->limits.eng.doc.max_bytes;
	eng_doc *doc = L->cache && fits ? kbc_doc(L->cache, i, path, &L->k->limits.eng.doc)
	                                : NULL;
	/* from the cache, the rules are compiled when needed, each from its own tree: a
	 * question needs few; the file's tree has them cut down to their ids */
	size_t dlen = 0, tlen = 0;
	const void *deps = doc ? kbc_deps(L->cache, i, &dlen) : NULL;
	const void *trees = deps ? kbc_trees(L->cache, i, &tlen) : NULL;
	size_t before = eng_rule_count(L->k->e);
	eng_status lazy = trees ? eng_load_doc_lazy_trees(L->k->e, doc, deps, dlen, trees, tlen)
	                        : ENG_ERR_INVALID;
	if (lazy == ENG_ERR_NOMEM) {
		eng_doc_free(doc);
		return lazy;
	}
	if (doc && lazy != ENG_OK && kbc_has_rules(L->cache, i)) {
		/* summaries or trees that do not fit: the rules come from the YAML, and the
		 * cache is written anew */
		kbc_refused(L->cache);
		eng_doc_free(doc);
		doc = NULL;
	}
	if (doc)
		f->hash = kbc_file_hash(L->cache, i);   /* for a cache written again */
	else
		doc = kb_parse(L, f, &st);
	if (!doc) {
		L->failed = true;
		return st == ENG_ERR_NOMEM ? st : ENG_OK;
	}
	L->doc_rules[L->ndocs] = (uint32_t)before;
	L->doc_keep[L->ndocs] = false;
	L->doc_cached[L->ndocs] = lazy == ENG_OK;
	L->docs[L->ndocs++] = doc;
	st = lazy == ENG_OK ? ENG_OK : eng_load_doc(L->k->e, doc, L->d);
	if (st == ENG_ERR_NOMEM)
		return st;
	if (st != ENG_OK)
		L->failed = true;
	L->doc = doc;
	L->file = L->fnames[i];
	kb_read_doc(L, doc);
	L->doc = NULL;
	if (!L->doc_keep[L->ndocs - 1])
		kbc_release_doc(L->cache, i);   /* read: copied into the kb */
	return L->nomem ? ENG_ERR_NOMEM : ENG_OK;
}

/* ---- indexes and the final checks ---- */

/* An index of N items (none with the same key: a knowledge base loads only without
 * duplicates) by hashing their keys: *SLOTS (malloc'd, *CAP of them, a power of two at
 * least twice N) holds 1 + an item's number, or 0. HASH (I) is item I's hash. Returns
 * false when out of memory. */
static bool kb_index(const kb *k, uint32_t n, uint32_t (*hash)(const kb *, uint32_t),
                     uint32_t **slots, uint32_t *cap)
{
	uint32_t c = 16;
	while (c < 2 * (uint64_t)n)
		c *= 2;
	*slots = calloc(c, sizeof(**slots));
	if (!*slots)
		return false;
	*cap = c;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t h = hash(k, i) & (c - 1);
		while ((*slots)[h])
			h = (h + 1) & (c - 1);
		(*slots)[h] = i + 1;
	}
	return true;
}

static uint32_t kb_sym_hash(eng_sym sym)
{
	return (uint32_t)(((uint64_t)sym * 0x9E3779B97F4A7C15ull) >> 32);
}

static uint32_t kb_src_key(const kb *k, uint32_t i)
{
	return kb_str_hash(k->sources[i].id ? k->sources[i].id : "");
}

static uint32_t kb_ent_key(const kb *k, uint32_t i)
{
	return kb_str_hash(k->entities[i].id ? k->entities[i].id : "");
}

static uint32_t kb_ent_sym_key(const kb *k, uint32_t i)
{
	return kb_sym_hash(k->entities[i].sym);
}

static eng_status kb_build_indexes(kb *k)
{
	kb_mem *m = k->mem;
	bool ok = kb_index(k, k->nsources, kb_src_key, &m->src_by_id, &m->src_cap) &&
	          kb_index(k, k->nentities, kb_ent_key, &m->ent_by_id, &m->ent_cap) &&
	          kb_index(k, k->nentities, kb_ent_sym_key, &m->ent_by_sym, &m->sym_cap);
	return ok ? ENG_OK : ENG_ERR_NOMEM;
}

/* Whether A and B hold the same digits in the same order: "de-99" is no typo of "de-8",
 * while "algo-xgbost" may well be one of "algo-xgboost". */
static bool kb_same_digits(const char *a, const char *b)
{
	for (;;) {
		while (*a && (*a < '0' || *a > '9'))
			a++;
		while (*b && (*b < '0' || *b > '9'))
			b++;
		if (*a != *b)
			return false;
		if (!*a)
			return true;
		a++;
		b++;
	}
}

/* Every recorded `cite` must name a source. */
static void kb_check_cites(kb_loader *L)
{
	const kb *k = L->k;
	const char **ids = malloc((k->nsources ? k->nsources : 1) * sizeof(*ids));
	if (!ids) {
		L->nomem = true;
		return;
	}
	for (uint32_t i = 0; i < L->nrefs && !L->nomem; i++) {
		const kb_cite_ref *r = &L->refs[i];
		if (kb_id_known(&L->source_ids, r->id))     /* kb_source_find, hashed */
			continue;
		size_t nids = 0;
		for (uint32_t j = 0; j < k->nsources; j++)
			if (k->sources[j].id && kb_same_digits(k->sources[j].id, r->id))
				ids[nids++] = k->sources[j].id;
		char ctx[KB_MSG_MAX], hint[KB_HINT_MAX];
		if (r->owner)
			snprintf(ctx, sizeof(ctx), "in %s `%s` (line %u)", r->what, r->owner,
			         r->owner_line);
		else
			snprintf(ctx, sizeof(ctx), "in the %s at line %u", r->what, r->owner_line);
		kb_hint(hint, sizeof(hint), r->id, ids, nids);
		char msg[KB_MSG_MAX];
		snprintf(msg, sizeof(msg), "unknown note id `%s` (not in %s)%s", r->id,
		         L->sources_file, hint);
		size_t llen = 0;
		uint32_t line = eng_node_line(r->node);
		const char *source = eng_doc_line(r->doc, line, &llen);
		if (llen > KB_SOURCE_MAX)
			source = NULL;
		L->failed = true;
		if (eng_diags_add(L->d, ENG_SEV_ERROR, eng_doc_name(r->doc), line,
		                  eng_node_col(r->node), kb_span(r->doc, r->node), source, ctx,
		                  "%s", msg) != ENG_OK)
			L->nomem = true;
	}
	free(ids);
}

/* ---- public ---- */

/* Frees the knowledge base, its engine and its patterns. NULL is allowed. */
void kb_free(kb *k)
{
	if (!k)
		return;
	for (uint32_t i = 0; i < k->nentities; i++)
		for (uint32_t j = 0; j < k->entities[i].naliases; j++)
			rx_free(k->entities[i].aliases[j]);
	for (uint32_t i = 0; i < k->nlexicon; i++)
		rx_free(k->lexicon[i].re);
	if (k->mem && eng_rule_trees_damaged(k->e))
		kbc_drop(((kb_mem *)k->mem)->cache);     /* the next run writes it anew */
	free(k->sources);
	free(k->entities);
	free(k->lexicon);
	free(k->families);
	eng_free(k->e);
	kb_mem *m = k->mem;
	if (m) {
		for (uint32_t i = 0; i < m->ndocs; i++)
			eng_doc_free(m->docs[i]);
		free(m->docs);
		kbc_close(m->cache);    /* after the trees and the patterns: they read from it */
		while (m->blocks) {
			kb_block *b = m->blocks;
			m->blocks = b->next;
			free(b);
		}
		free(m->src_by_id);
		free(m->ent_by_id);
		free(m->ent_by_sym);
		free(m);
	}
	free(k);
}

void kb_limits_default(kb_limits *out)
{
	eng_limits_default(&out->eng);
	out->rx.match = RX_MATCH_LIMIT_DEFAULT;
	out->rx.depth = RX_DEPTH_LIMIT_DEFAULT;
	out->question_bytes = Q_DEFAULT_MAX_BYTES;
}

/* *OUT = IN (may be NULL) with each 0 field replaced by its default. */
static void kb_limits_fill(kb_limits *out, const kb_limits *in)
{
	kb_limits_default(out);
	if (!in)
		return;
	/* eng_limits_set gives the document limits their defaults */
	out->eng.doc = in->eng.doc;
	if (in->eng.max_firings)
		out->eng.max_firings = in->eng.max_firings;
	if (in->eng.max_facts)
		out->eng.max_facts = in->eng.max_facts;
	if (in->rx.match)
		out->rx.match = in->rx.match;
	if (in->rx.depth)
		out->rx.depth = in->rx.depth;
	if (in->question_bytes)
		out->question_bytes = in->question_bytes;
}

/* A new knowledge base with its engine set up for mlarch, or NULL when out of memory. */
static kb *kb_new(const char *dir, const kb_limits *limits)
{
	kb *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	kb_mem *m = calloc(1, sizeof(*m));
	k->mem = m;
	k->e = eng_new();
	if (!m || !k->e || !(k->dir = kb_strndup(m, dir, strlen(dir)))) {
		kb_free(k);
		return NULL;
	}
	for (size_t i = 0; i < KB_COUNT(kb_app_sections); i++)
		if (eng_section_skip(k->e, kb_app_sections[i]) != ENG_OK) {
			kb_free(k);
			return NULL;
		}
	for (size_t i = 0; i < KB_COUNT(kb_conclusions); i++)
		if (eng_conclusion_kind_add(k->e, kb_conclusions[i]) != ENG_OK) {
			kb_free(k);
			return NULL;
		}
	/* the network waits for the first reset, or for judge_question (kb.one_question) */
	eng_rules_defer(k->e);
	kb_limits_fill(&k->limits, limits);
	eng_limits_set(k->e, &k->limits.eng);
	eng_limits_get(k->e, &k->limits.eng);
	k->s_scenario = eng_intern(k->e, "scenario", 8);
	k->s_option = eng_intern(k->e, "option", 6);
	k->s_uses = eng_intern(k->e, "uses", 4);
	k->s_mentions = eng_intern(k->e, "mentions", 8);
	k->s_uses_negated = eng_intern(k->e, "uses.negated", 12);
	k->s_mentions_negated = eng_intern(k->e, "mentions.negated", 16);
	k->s_setting_current = eng_intern(k->e, "setting.current", 15);
	k->s_setting_proposed = eng_intern(k->e, "setting.proposed", 16);
	k->s_question_choose = eng_intern(k->e, "question.choose", 15);
	if (!k->s_scenario || !k->s_option || !k->s_uses || !k->s_mentions ||
	    !k->s_uses_negated || !k->s_mentions_negated || !k->s_setting_current ||
	    !k->s_setting_proposed || !k->s_question_choose) {
		kb_free(k);
		return NULL;
	}
	return k;
}

/* The pattern the cache holds next if its source is KEY (kb_private.h), with the limits
 * of this load; NULL when it does not. */
rx *kb_regex_cached(kb_loader *L, const char *key)
{
	rx *r = kbc_pattern(L->cache, key);
	if (r)
		rx_set_limits(r, &L->k->limits.rx);     /* its words came with it */
	return r;
}

/* Records R, compiled from source KEY (borrowed until the cache is written), for the
 * cache to be written. */
void kb_regex_record(kb_loader *L, rx *r, const char *key)
{
	if (!r || !L->cache_path || L->no_write)
		return;
	if (!kb_grow((void **)&L->pats, L->npats, &L->cappats, sizeof(*L->pats)) ||
	    !kb_grow((void **)&L->pat_srcs, L->npats, &L->cappatsrcs, sizeof(*L->pat_srcs)))
		L->no_write = true;     /* a cache is a luxury: the load goes on */
	else {
		L->pats[L->npats] = r;
		L->pat_srcs[L->npats++] = key;
	}
}

/* The pattern PATTERN compiled: from the cache when it has it next, else by PCRE2; see
 * kb_private.h. */
rx *kb_regex(kb_loader *L, const char *pattern, char *err, size_t errsz, size_t *err_off)
{
	rx *r = kb_regex_cached(L, pattern);
	if (!r)
		r = rx_compile(pattern, &L->k->limits.rx, err, errsz, err_off);
	kb_regex_record(L, r, pattern);
	return r;
}

/* Writes the cache file PATH of DIR, whose files FILES were looked at at SEEN, from what
 * L loaded: the trees, the summaries of each file's rules and the patterns. */
static bool kb_write_cache(kb_loader *L, const char *path, const char *dir, kbc_time seen,
                           kbc_file *files)
{
	unsigned char **deps = calloc(L->ndocs ? L->ndocs : 1, sizeof(*deps));
	size_t *depslen = calloc(L->ndocs ? L->ndocs : 1, sizeof(*depslen));
	bool ok = deps && depslen;
	/* the trees of the files the cache's image gave whole, and whole trees for those
	 * whose rules the cache gave apart, for the new cache */
	for (uint32_t i = 0; ok && i < L->ndocs; i++) {
		eng_status st = ENG_OK;
		if (L->docs[i] && !L->doc_cached[i])
			continue;
		eng_doc *doc = kb_parse(L, &files[i], &st);
		ok = doc && !L->no_write;
		if (!doc)
			continue;
		eng_doc_free(L->docs[i]);       /* nothing reads it now: its rules have theirs */
		L->docs[i] = doc;
		L->doc_cached[i] = false;
	}
	unsigned char *app = NULL;
	size_t applen = 0;
	if (ok && !kbi_write(L, L->pats, L->npats, &app, &applen))
		applen = 0;     /* a cache without the image: the next load reads the trees */
	size_t nrules = eng_rule_count(L->k->e);
	for (uint32_t i = 0; ok && i < L->ndocs; i++) {
		size_t end = i + 1 < L->ndocs ? L->doc_rules[i + 1] : nrules;
		if (end > L->doc_rules[i])
			ok = eng_rules_deps_image(L->k->e, L->doc_rules[i], end - L->doc_rules[i],
			                          &deps[i], &depslen[i]) == ENG_OK;
	}
	ok = ok && kbc_write(path, dir, seen, files, L->docs, deps, depslen, L->ndocs, L->pats,
	                     L->pat_srcs, L->npats, app, applen);
	free(app);
	for (uint32_t i = 0; deps && i < L->ndocs; i++)
		free(deps[i]);
	free(deps);
	free(depslen);
	return ok;
}

/* Loads every YAML file under DIR (or the one file DIR names) into a new knowledge base,
 * with a compiled cache when OPTS asks for one; see kb.h. */
eng_status kb_load_with(const char *dir, const kb_load_opts *opts, eng_diags *d, kb **out,
                        kb_cache_result *cache)
{
	kb_cache_result dummy;
	if (!cache)
		cache = &dummy;
	*cache = KB_CACHE_UNUSED;
	if (!out)
		return ENG_ERR_INVALID;
	*out = NULL;
	if (!dir || !d)
		return ENG_ERR_INVALID;
	kb_load_opts none = { NULL, NULL, false };
	if (!opts)
		opts = &none;
	kb *k = kb_new(dir, opts->limits);
	if (!k)
		return ENG_ERR_NOMEM;
	size_t ndiags = eng_diags_count(d);
	kb_loader L = { .k = k, .m = k->mem, .d = d };
	kb_paths paths = { NULL, 0, 0 };
	eng_status st = ENG_OK;
	/* before the files are looked at: see kbc_write */
	kbc_time seen = opts->cache_dir ? kbc_now() : (kbc_time){ 0, 0 };
	struct stat sb;
	if (stat(dir, &sb) == 0 && S_ISREG(sb.st_mode)) {
		paths.v = calloc(1, sizeof(*paths.v));
		if (!paths.v || !(paths.v[0].path = strdup(dir))) {
			st = ENG_ERR_NOMEM;
		} else {
			paths.n = 1;
			kbc_file_set(&paths.v[0], &sb);
		}
	} else {
		st = kb_walk(&L, dir, 0, &paths);
	}
	if (st == ENG_OK && paths.n > 1)
		qsort(paths.v, paths.n, sizeof(*paths.v), kb_cmp_path);
	size_t dl = strlen(dir);
	for (uint32_t i = 0; i < paths.n; i++) {
		const char *p = paths.v[i].path;
		paths.v[i].rel = strncmp(p, dir, dl) ? p : p + dl + (p[dl] == '/');
	}
	char *cache_path = NULL;
	if (st == ENG_OK && opts->cache_dir && !L.failed) {
		cache_path = kbc_path(opts->cache_dir, dir);
		L.cache_path = cache_path;
		if (cache_path && !opts->cache_no_read)
			L.cache = kbc_open(cache_path, dir, paths.v, paths.n);
	}
	L.fnames = st == ENG_OK ? calloc(paths.n ? paths.n : 1, sizeof(*L.fnames)) : NULL;
	if (st == ENG_OK && !L.fnames)
		st = ENG_ERR_NOMEM;
	for (uint32_t i = 0; i < paths.n && st == ENG_OK; i++)
		if (!(L.fnames[L.nfnames++] = kb_strndup(L.m, paths.v[i].path,
		                                         strlen(paths.v[i].path))))
			st = ENG_ERR_NOMEM;
	if (st == ENG_OK && L.cache) {
		/* the sources, catalog and lexicon from the cache's image, checked as read */
		size_t applen;
		const void *app = kbc_app(L.cache, &applen);
		L.flat = app && kbi_open(app, applen, paths.n, kbc_npats(L.cache), &L.img);
		if (app && !L.flat)
			kbc_refused(L.cache);
	}
	for (uint32_t i = 0; i < paths.n && st == ENG_OK; i++)
		st = kb_load_file(&L, &paths.v[i], i);
	if (st == ENG_OK) {
		if (L.flat && L.img_next == L.img.nonly)
			kbi_read(&L, &L.img);
		else if (L.flat)
			L.img_bad = true;
		else
			kb_read_lexicons(&L);   /* once every file's families are in */
		if (L.nomem)
			st = ENG_ERR_NOMEM;
		else if (L.img_bad)
			st = ENG_ERR_INVALID;
	}
	if (st == ENG_OK)
		st = kb_build_indexes(k);
	if (st == ENG_OK && L.sources_file && !L.flat) {
		kb_check_cites(&L);
		if (L.nomem)
			st = ENG_ERR_NOMEM;
	}
	if (st == ENG_OK && L.nomem)
		st = ENG_ERR_NOMEM;
	if (st == ENG_OK && L.failed)
		st = ENG_ERR_LOAD;
	if (st == ENG_OK && cache_path) {
		if (kbc_complete(L.cache))
			*cache = KB_CACHE_HIT;
		/* a new cache takes the old one's sources for the patterns it gave */
		else if (!L.no_write && L.ndocs == paths.n &&
		         (!L.cache || kbc_sources_ok(L.cache)) &&
		         kb_write_cache(&L, cache_path, dir, seen, paths.v))
			*cache = KB_CACHE_WRITTEN;
		else
			*cache = KB_CACHE_UNWRITTEN;
	}
	free(cache_path);
	free(L.pats);
	free(L.pat_srcs);
	kb_idset_free(&L.source_ids);
	kb_idset_free(&L.entity_ids);
	kb_idset_free(&L.lexicon_ids);
	for (uint32_t i = 0; i < paths.n; i++)
		free(paths.v[i].path);
	free(paths.v);
	/* the cache stays open with the knowledge base: the patterns it gave are decoded from
	 * it when first used, and the trees kept read their texts from it */
	kb_mem *m = k->mem;
	m->cache = L.cache;
	if (st == ENG_OK && L.lazy) {
		/* the rules not compiled yet are read from their documents when needed */
		m->docs = L.docs;
		for (uint32_t i = 0; i < L.ndocs; i++)
			if (L.doc_keep[i])
				m->docs[m->ndocs++] = L.docs[i];
			else
				eng_doc_free(L.docs[i]);
	} else {
		for (uint32_t i = 0; i < L.ndocs; i++)
			eng_doc_free(L.docs[i]);
		free(L.docs);
	}
	free(L.doc_rules);
	free(L.doc_keep);
	free(L.doc_cached);
	free(L.fnames);
	free(L.refs);
	free(L.efacts);
	free(L.lexsecs);
	free(L.famsrcs);
	if (st != ENG_OK) {
		kb_free(k);
		if (L.img_bad && st == ENG_ERR_INVALID && eng_diags_count(d) == ndiags) {
			/* an image made on purpose, with a checksum that fits: the YAML instead,
			 * and the cache written anew */
			kb_load_opts again = *opts;
			again.cache_no_read = true;
			return kb_load_with(dir, &again, d, out, cache);
		}
		return st;
	}
	*out = k;
	return ENG_OK;
}

/* kb_load_with without a cache. */
eng_status kb_load(const char *dir, const kb_limits *limits, eng_diags *d, kb **out)
{
	kb_load_opts opts = { limits, NULL, false };
	return kb_load_with(dir, &opts, d, out, NULL);
}

/* The source with note id ID, or NULL. */
const kb_source *kb_source_find(const kb *k, const char *id)
{
	const kb_mem *m = k && id ? k->mem : NULL;
	if (!m || !m->src_by_id)
		return NULL;
	for (uint32_t h = kb_str_hash(id) & (m->src_cap - 1); m->src_by_id[h];
	     h = (h + 1) & (m->src_cap - 1)) {
		const kb_source *s = &k->sources[m->src_by_id[h] - 1];
		if (strcmp(s->id ? s->id : "", id) == 0)
			return s;
	}
	return NULL;
}

/* The catalog entity with id ID, or NULL. */
const kb_entity *kb_entity_find(const kb *k, const char *id)
{
	const kb_mem *m = k && id ? k->mem : NULL;
	if (!m || !m->ent_by_id)
		return NULL;
	for (uint32_t h = kb_str_hash(id) & (m->ent_cap - 1); m->ent_by_id[h];
	     h = (h + 1) & (m->ent_cap - 1)) {
		const kb_entity *en = &k->entities[m->ent_by_id[h] - 1];
		if (strcmp(en->id ? en->id : "", id) == 0)
			return en;
	}
	return NULL;
}

/* The catalog entity whose interned id is SYM, or NULL. */
const kb_entity *kb_entity_by_sym(const kb *k, eng_sym sym)
{
	const kb_mem *m = k && sym ? k->mem : NULL;
	if (!m || !m->ent_by_sym)
		return NULL;
	for (uint32_t h = kb_sym_hash(sym) & (m->sym_cap - 1); m->ent_by_sym[h];
	     h = (h + 1) & (m->sym_cap - 1)) {
		const kb_entity *en = &k->entities[m->ent_by_sym[h] - 1];
		if (en->sym == sym)
			return en;
	}
	return NULL;
}
