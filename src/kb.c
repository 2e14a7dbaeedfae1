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
 * Citations are checked last, when every file is in: each `cite` of a rule or a catalog
 * entry must name a note of `sources:`. The documents stay open until then so that those
 * diagnostics can show the line they point at.
 *
 * Strings and small arrays live in one bump allocator (kb_mem); the three entry arrays
 * grow with realloc; compiled patterns are freed one by one in kb_free.
 */
#include "kb_private.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KB_DEPTH_MAX 32         /* directory nesting */
#define KB_BLOCK 16384

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
static const char *const kb_app_sections[] = { "catalog", "lexicon", "sources" };

/* ---- files ---- */

typedef struct {
	char **v;
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
				p->v[p->n++] = path;
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
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads and loads one file. Returns ENG_ERR_NOMEM to stop; other problems are reported
 * and set L->failed. */
static eng_status kb_load_file(kb_loader *L, const char *path)
{
	eng_status st = ENG_OK;
	eng_doc *doc = eng_doc_read_file(path, &L->k->limits.eng.doc, L->d, &st);
	if (!doc) {
		L->failed = true;
		return st == ENG_ERR_NOMEM ? st : ENG_OK;
	}
	if (!kb_grow((void **)&L->docs, L->ndocs, &L->capdocs, sizeof(*L->docs))) {
		eng_doc_free(doc);
		return ENG_ERR_NOMEM;
	}
	L->docs[L->ndocs++] = doc;
	st = eng_load_doc(L->k->e, doc, L->d);
	if (st == ENG_ERR_NOMEM)
		return st;
	if (st != ENG_OK)
		L->failed = true;
	L->doc = doc;
	L->file = kb_strndup(L->m, path, strlen(path));
	if (!L->file)
		return ENG_ERR_NOMEM;
	kb_read_doc(L, doc);
	L->doc = NULL;
	return L->nomem ? ENG_ERR_NOMEM : ENG_OK;
}

/* ---- indexes and the final checks ---- */

/* qsort has no context argument in C11, so each index travels with its sort key. */
typedef struct {
	uint32_t i;
	const char *id;
	eng_sym sym;
} kb_sortkey;

static int kb_cmp_id(const void *a, const void *b)
{
	return strcmp(((const kb_sortkey *)a)->id, ((const kb_sortkey *)b)->id);
}

static int kb_cmp_sym(const void *a, const void *b)
{
	eng_sym x = ((const kb_sortkey *)a)->sym, y = ((const kb_sortkey *)b)->sym;
	return x < y ? -1 : x > y;
}

/* Sorts N items described by KEYS with CMP and writes their indexes to *OUT (malloc'd).
 * Returns false when out of memory. */
static bool kb_index(kb_sortkey *keys, uint32_t n, int (*cmp)(const void *, const void *),
                     uint32_t **out)
{
	*out = malloc((n ? n : 1) * sizeof(**out));
	if (!*out)
		return false;
	qsort(keys, n, sizeof(*keys), cmp);
	for (uint32_t i = 0; i < n; i++)
		(*out)[i] = keys[i].i;
	return true;
}

static eng_status kb_build_indexes(kb *k)
{
	kb_mem *m = k->mem;
	uint32_t most = k->nsources > k->nentities ? k->nsources : k->nentities;
	kb_sortkey *keys = malloc((most ? most : 1) * sizeof(*keys));
	if (!keys)
		return ENG_ERR_NOMEM;
	bool ok = true;
	for (uint32_t i = 0; i < k->nsources; i++)
		keys[i] = (kb_sortkey){ i, k->sources[i].id ? k->sources[i].id : "", 0 };
	ok = ok && kb_index(keys, k->nsources, kb_cmp_id, &m->src_by_id);
	for (uint32_t i = 0; i < k->nentities; i++)
		keys[i] = (kb_sortkey){ i, k->entities[i].id ? k->entities[i].id : "",
		                        k->entities[i].sym };
	ok = ok && kb_index(keys, k->nentities, kb_cmp_id, &m->ent_by_id);
	ok = ok && kb_index(keys, k->nentities, kb_cmp_sym, &m->ent_by_sym);
	free(keys);
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
		if (kb_source_find(k, r->id))
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
	free(k->sources);
	free(k->entities);
	free(k->lexicon);
	kb_mem *m = k->mem;
	if (m) {
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
	eng_free(k->e);
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
	kb_limits_fill(&k->limits, limits);
	eng_limits_set(k->e, &k->limits.eng);
	eng_limits_get(k->e, &k->limits.eng);
	k->s_scenario = eng_intern(k->e, "scenario", 8);
	k->s_option = eng_intern(k->e, "option", 6);
	k->s_uses = eng_intern(k->e, "uses", 4);
	k->s_mentions = eng_intern(k->e, "mentions", 8);
	if (!k->s_scenario || !k->s_option || !k->s_uses || !k->s_mentions) {
		kb_free(k);
		return NULL;
	}
	return k;
}

/* Loads every YAML file under DIR (or the one file DIR names) into a new knowledge base.
 * Returns ENG_OK and *OUT (the caller frees it with kb_free); otherwise *OUT is NULL and
 * D holds the errors: ENG_ERR_LOAD for errors in the files, ENG_ERR_IO when DIR cannot
 * be read, ENG_ERR_NOMEM when memory ran out, ENG_ERR_INVALID when DIR, D or OUT is
 * NULL. */
eng_status kb_load(const char *dir, const kb_limits *limits, eng_diags *d, kb **out)
{
	if (!out)
		return ENG_ERR_INVALID;
	*out = NULL;
	if (!dir || !d)
		return ENG_ERR_INVALID;
	kb *k = kb_new(dir, limits);
	if (!k)
		return ENG_ERR_NOMEM;
	kb_loader L = { .k = k, .m = k->mem, .d = d };
	kb_paths paths = { NULL, 0, 0 };
	eng_status st = ENG_OK;
	struct stat sb;
	if (stat(dir, &sb) == 0 && S_ISREG(sb.st_mode)) {
		paths.v = malloc(sizeof(*paths.v));
		if (!paths.v || !(paths.v[0] = strdup(dir)))
			st = ENG_ERR_NOMEM;
		else
			paths.n = 1;
	} else {
		st = kb_walk(&L, dir, 0, &paths);
	}
	if (st == ENG_OK && paths.n > 1)
		qsort(paths.v, paths.n, sizeof(*paths.v), kb_cmp_path);
	for (uint32_t i = 0; i < paths.n && st == ENG_OK; i++)
		st = kb_load_file(&L, paths.v[i]);
	if (st == ENG_OK)
		st = kb_build_indexes(k);
	if (st == ENG_OK && L.sources_file) {
		kb_check_cites(&L);
		if (L.nomem)
			st = ENG_ERR_NOMEM;
	}
	if (st == ENG_OK && L.nomem)
		st = ENG_ERR_NOMEM;
	if (st == ENG_OK && L.failed)
		st = ENG_ERR_LOAD;
	for (uint32_t i = 0; i < paths.n; i++)
		free(paths.v[i]);
	free(paths.v);
	for (uint32_t i = 0; i < L.ndocs; i++)
		eng_doc_free(L.docs[i]);
	free(L.docs);
	free(L.refs);
	if (st != ENG_OK) {
		kb_free(k);
		return st;
	}
	*out = k;
	return ENG_OK;
}

/* The source with note id ID, or NULL. */
const kb_source *kb_source_find(const kb *k, const char *id)
{
	const kb_mem *m = k && id ? k->mem : NULL;
	if (!m || !m->src_by_id)
		return NULL;
	uint32_t lo = 0, hi = k->nsources;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const kb_source *s = &k->sources[m->src_by_id[mid]];
		int c = strcmp(s->id ? s->id : "", id);
		if (c == 0)
			return s;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The catalog entity with id ID, or NULL. */
const kb_entity *kb_entity_find(const kb *k, const char *id)
{
	const kb_mem *m = k && id ? k->mem : NULL;
	if (!m || !m->ent_by_id)
		return NULL;
	uint32_t lo = 0, hi = k->nentities;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const kb_entity *en = &k->entities[m->ent_by_id[mid]];
		int c = strcmp(en->id ? en->id : "", id);
		if (c == 0)
			return en;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The catalog entity whose interned id is SYM, or NULL. */
const kb_entity *kb_entity_by_sym(const kb *k, eng_sym sym)
{
	const kb_mem *m = k && sym ? k->mem : NULL;
	if (!m || !m->ent_by_sym)
		return NULL;
	uint32_t lo = 0, hi = k->nentities;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const kb_entity *en = &k->entities[m->ent_by_sym[mid]];
		if (en->sym == sym)
			return en;
		if (en->sym < sym)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
