/* SPDX-License-Identifier: MIT */
/*
 * kb_private.h - what the two halves of the knowledge-base loader share: kb.c (files,
 * memory, cross-checks, lookups) and kb_sections.c (the `sources:`, `catalog:` and
 * `lexicon:` sections read from a YAML node tree). Nothing else includes it.
 */
#ifndef MLARCH_KB_PRIVATE_H
#define MLARCH_KB_PRIVATE_H

#include "kb.h"
#include "kbcache.h"

#define KB_MSG_MAX 512
#define KB_HINT_MAX 96
#define KB_SOURCE_MAX 4096      /* longer lines are not copied into diagnostics */
#define KB_COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct kb_block {
	struct kb_block *next;
	size_t used, cap;
	max_align_t data[];
} kb_block;

/* What kb->mem points at: the bump allocator and the lookup indexes. */
typedef struct {
	kb_block *blocks;
	uint32_t capsources, capentities, caplexicon, capfamilies;
	/* the sources by id, the entities by id and by symbol: hashed (kb_index) */
	uint32_t *src_by_id, *ent_by_id, *ent_by_sym;
	uint32_t src_cap, ent_cap, sym_cap;
	/* the documents whose rules are compiled when needed (eng_load_doc_lazy), and the
	 * cache their texts are in: freed after the engine */
	eng_doc **docs;
	uint32_t ndocs;
	kbc *cache;
} kb_mem;

/* A `cite` item seen in a rule or catalog entry, checked once all files are loaded. */
typedef struct {
	const eng_doc *doc;
	const eng_node *node;
	const char *id;
	const char *what;       /* "rule" or "catalog entry" */
	const char *owner;      /* its id, or NULL */
	uint32_t owner_line;
} kb_cite_ref;

/* The ids seen so far of one kind of entry, to find duplicates: open addressing. */
typedef struct {
	const char **ids;
	uint32_t *idx;
	uint32_t n, cap;
} kb_idset;

/* A fact of a catalog entry, as the engine was given it: what the cache's image
 * (kb_image.c) records of an entry's `facts`. */
typedef struct {
	uint32_t entity;
	eng_sym attr;
	eng_value val;
} kb_efact;

/* A `lexicon:` section, read once every file is in (so that it may use the families of
 * any file). */
typedef struct {
	const eng_doc *doc;
	const char *file;
	const eng_node *node;
} kb_lexsec;

/* What the loader keeps of a family besides kb_family: where it was written, and how far
 * its expansion has gone (0: not started, 1: under way, 2: done). */
typedef struct {
	const eng_doc *doc;
	const eng_node *node;   /* its pattern */
	int state;
} kb_famsrc;

/* The image of a compiled cache (kb_image.c), checked: where its parts are. */
typedef struct {
	const unsigned char *p;         /* the records */
	size_t len;                     /* their end */
	size_t at;                      /* the next file's sources and catalog entries, then
	                                 * the families */
	const char *str, *pat;          /* the texts and the pattern texts */
	uint32_t nstr, npat;
	uint32_t nonly;                 /* the files that hold only what the image gives */
	const unsigned char *only;
	uint32_t nfiles;
	size_t npats;
} kbi;

/* The state of one kb_load: the knowledge base being filled, where diagnostics go, the
 * file being read and what must wait until every file is in. */
typedef struct {
	kb *k;
	kb_mem *m;
	eng_diags *d;
	const eng_doc *doc;     /* the file being read */
	const char *file;
	bool failed;            /* an error was reported */
	bool nomem;
	const char *sources_file;   /* the first file with a `sources:` section */
	/* context for diagnostics: "in catalog entry `x` (line 3)" */
	const char *ctx_what, *ctx_id;
	uint32_t ctx_line;
	kb_cite_ref *refs;
	uint32_t nrefs, caprefs;
	eng_doc **docs;
	uint32_t ndocs, capdocs;
	uint32_t *doc_rules;    /* the engine's rule count before docs[i] was loaded */
	uint32_t capdoc_rules;
	bool *doc_keep;         /* docs[i] has rules that wait to be compiled */
	uint32_t capdoc_keep;
	bool *doc_cached;       /* docs[i] came from the cache with its rules cut out: their
	                         * trees are the cache's (kbc_trees) */
	uint32_t capdoc_cached;
	bool lazy;              /* some document's rules wait to be compiled: the documents
	                         * and the cache they are read from stay with the kb */
	/* the compiled cache: the one read (NULL: none), the file to write (NULL: none) and
	 * the patterns compiled so far with their sources (borrowed), in load order */
	kbc *cache;
	const char *cache_path;
	bool no_write;
	rx **pats;
	const char **pat_srcs;
	uint32_t npats, cappats, cappatsrcs;
	kb_idset source_ids, entity_ids, lexicon_ids;
	/* the facts of the catalog entries, in load order, when a cache is to be written */
	kb_efact *efacts;
	uint32_t nefacts, capefacts;
	kb_lexsec *lexsecs;
	uint32_t nlexsecs, caplexsecs;
	uint32_t ncues;         /* the `negates: need` cues read so far (kb_lexeme.cue) */
	kb_famsrc *famsrcs;     /* parallel to k->families */
	uint32_t capfamsrcs;
	char famhash[17];       /* of every family's expansion: in the cache key of a pattern
	                         * that uses families */
	/* each file's name as the entries keep it, in load order */
	const char **fnames;
	uint32_t nfnames;
	/* the lexicon and its families come from the cache's image (FLAT): the files that
	 * hold nothing else and the sources and catalog entries are not read, and the
	 * others' `lexicon:` and `families:` are skipped; nor are the cites checked again,
	 * which the load that wrote the cache from these very files found known */
	bool flat;
	kbi img;
	uint32_t img_next;      /* the next of IMG's files to skip */
	bool img_bad;           /* IMG did not read as kbi_write writes: the load starts again
	                         * without the cache */
} kb_loader;

/* The words of a source's `topic` and of a catalog entry's `kind` (kb_sections.c). */
#define KB_NTOPICS 14
#define KB_NKINDS 8
extern const char *const kb_topics[KB_NTOPICS];
extern const char *const kb_kinds[KB_NKINDS];

/* ---- kb.c ---- */

/* SIZE zeroed bytes owned by M (freed with the knowledge base), or NULL when out of
 * memory. */
void *kb_alloc(kb_mem *m, size_t size);
/* A NUL-terminated copy of S[0..LEN) owned by M, or NULL. */
char *kb_strndup(kb_mem *m, const char *s, size_t len);
/* Makes room for one more item in *ARR (N items, capacity *CAP, items of ELEM bytes),
 * reallocating it. Returns false when out of memory (the array is unchanged). */
bool kb_grow(void **arr, uint32_t n, uint32_t *cap, size_t elem);

/* The index of the first entry of set S with id ID (kept by the caller for the load),
 * or -1 when there was none, in which case ID is recorded as entry I. Out of memory sets
 * L->nomem. */
long kb_id_first(kb_loader *L, kb_idset *s, const char *id, uint32_t i);
/* Frees what the set holds (not the ids). */
void kb_idset_free(kb_idset *s);

/* PATTERN compiled (rx_compile's contract), or taken from the cache when it holds that
 * pattern next; recorded for the cache to be written. */
rx *kb_regex(kb_loader *L, const char *pattern, char *err, size_t errsz, size_t *err_off);
/* The two halves of kb_regex, for a pattern whose cache key is not the text compiled (a
 * lexicon pattern with word families: see kb_lex_pattern): the cache's next pattern if its
 * source is KEY (else NULL), and the recording of R compiled from KEY (borrowed until the
 * cache is written). */
rx *kb_regex_cached(kb_loader *L, const char *key);
void kb_regex_record(kb_loader *L, rx *r, const char *key);

/* ---- kb_sections.c ---- */

/* Records that catalog entry ENTITY was given the fact (ATTR, VAL), for the cache's
 * image; does nothing when no cache is to be written. Out of memory stops the writing. */
void kb_efact_record(kb_loader *L, uint32_t entity, eng_sym attr, eng_value val);

/* Reads the application's sections of DOC (L->doc, L->file already set): sources, catalog
 * and lexicon entries into L->k, and the `cite` lists of rules into L->refs. Problems go
 * to L->d and set L->failed; an allocation failure sets L->nomem. */
void kb_read_doc(kb_loader *L, const eng_doc *doc);
/* Expands every family, then reads the `lexicon:` sections kb_read_doc set aside, in file
 * order. Problems as kb_read_doc. */
void kb_read_lexicons(kb_loader *L);
/* ---- kb_image.c ---- */

/* The lexicon and the families of L's knowledge base, loaded without errors from the
 * trees L->docs (one per file), as an image for the cache: *OUT (malloc'd, *LEN bytes).
 * PATS[0..NPATS) are the patterns the cache is written with, the lexicon's last. False
 * when out of memory or the load does not fit that shape (nothing is written then). */
bool kbi_write(const kb_loader *L, rx *const *pats, uint32_t npats, unsigned char **out,
               size_t *len);
/* Opens the image P[0..LEN) for a load of NFILES files whose cache holds NPATS patterns,
 * into *IM: false when the files it gives whole or its blocks of texts are not as
 * kbi_write writes them. The rest is checked as it is read. */
bool kbi_open(const unsigned char *p, size_t len, uint32_t nfiles, size_t npats, kbi *im);
/* kbi_open, and every record checked: false when the image is not one kbi_write could
 * have written for such a load (the fuzz target's door). */
bool kbi_check(const unsigned char *p, size_t len, uint32_t nfiles, size_t npats, kbi *im);
/* The number of the I'th file (I < IM->nonly, in increasing order) that the image gives
 * whole. */
uint32_t kbi_only_file(const kbi *im, uint32_t i);
/* Reads the sources and the catalog entries of the next file the open image IM gives
 * whole (file FILE, L->fnames[FILE]) into L->k, as kb_read_doc reads them from its tree:
 * the same symbols interned in the same order, the same facts given to the engine, the
 * patterns from L->cache. Running out of memory sets L->nomem; records that do not read
 * as kbi_write writes them set L->img_bad (what was read is then thrown away). */
void kbi_read_file(kb_loader *L, kbi *im, uint32_t file);
/* Reads the families and the lexicon of the open image IM, after its files' records,
 * into L->k, with their patterns from L->cache and their symbols interned as a load from
 * the trees does. Running out of memory sets L->nomem; records that do not read as
 * kbi_write writes them set L->img_bad. */
void kbi_read(kb_loader *L, const kbi *im);

/* Writes " (did you mean `X`?)" into BUF when one of the N candidates is within edit
 * distance 2 of WORD (and closer than its own length), else "". Returns BUF. */
const char *kb_hint(char *buf, size_t size, const char *word, const char *const *cands,
                    size_t n);
/* The columns to underline for node N of DOC: a scalar's width on its line (with its
 * quotes), else 1. */
uint32_t kb_span(const eng_doc *doc, const eng_node *n);

#endif
