/* SPDX-License-Identifier: MIT */
/*
 * kbcache.h - the compiled cache of a knowledge base: the parsed trees of its YAML files,
 * the summaries of their rules (eng_rules_deps_image) and its compiled patterns with the
 * words each needs (rxlit.h) in one file, so that a run whose rules have not changed skips
 * the YAML parser and the regex compiler, and compiles only the rules it needs. kb.c uses it; where the file lives is the
 * caller's choice (the command line's: common.c). Nothing here prints, and every problem
 * with a cache file - missing, stale, truncated, corrupt, unwritable - only means it is
 * not used.
 */
#ifndef MLARCH_KBCACHE_H
#define MLARCH_KBCACHE_H

#include "engine.h"
#include "regex.h"

#include <signal.h>

struct stat;

/* The file's header (KBC_HEADER bytes): the magic, then these fields at these offsets, then
 * 8 zero bytes; the table of files follows it, and the sections start after the table, at
 * the next multiple of 8 (KBC_ALIGN). Named here for the reader, the writer and the tests
 * that damage a file on purpose. */
#define KBC_HEADER 48u
#define KBC_AT_FORMAT 8
#define KBC_AT_BOM 12
#define KBC_AT_TOTAL 16
#define KBC_AT_TABLEN 24
#define KBC_AT_TABSUM 32
#define KBC_AT_ZERO 40
#define KBC_ALIGN(n) (((n) + 7) & ~(size_t)7)

/* A file of the knowledge base as kb_load found it: what the cache is checked against. */
typedef struct {
	char *path;             /* the path as found, DIR/...; owned by the caller */
	const char *rel;        /* the same relative to DIR ("" when DIR is the file) */
	uint64_t size, ino, dev;
	int64_t mtime_s, ctime_s;
	uint32_t mtime_ns, ctime_ns;
	uint64_t hash;          /* kbc_hash of the bytes that were parsed (for kbc_write) */
} kbc_file;

/* A time of the real-time clock, which file times follow. */
typedef struct {
	int64_t s;
	uint32_t ns;
} kbc_time;

/* Fills F's size, times and identity from SB (stat of F->path). */
void kbc_file_set(kbc_file *f, const struct stat *sb);
/* The clock now. */
kbc_time kbc_now(void);
/* The checksum the cache uses, of P[0..N): for the contents of files. */
uint64_t kbc_hash(const void *p, size_t n);

/* An open cache that matched the knowledge base on disk. */
typedef struct kbc kbc;

/* The cache file of the knowledge base in DIR, inside CACHE_DIR: a malloc'd path
 * (CACHE_DIR/kb-HASH.bin, HASH from DIR's real path), or NULL when out of memory or DIR
 * has no real path. */
char *kbc_path(const char *cache_dir, const char *dir);

/* Opens the cache file PATH and checks it against the knowledge base in DIR, found as
 * FILES[0..N) (in load order): the format, this program's build, the PCRE2 build, DIR's
 * real path, every file's relative path, size, modification and change times and inode
 * (and its contents, when those times are too close to when the cache was made to tell),
 * and the checksum of its table (each section's is checked when it is first used).
 * Returns the cache, or NULL when there is none or anything differs. Free it with
 * kbc_close. */
kbc *kbc_open(const char *path, const char *dir, const kbc_file *files, size_t n);
/* The tree of file I (named NAME, read from NAME for diagnostics' lines), with each rule
 * cut down to its id when the file has rules (kbc_trees has them), or NULL when the cache
 * cannot give it (the caller parses the file). The caller frees it, before
 * kbc_close: its texts are read from the cache file. */
eng_doc *kbc_doc(kbc *c, size_t i, const char *name, const eng_doc_limits *limits);
/* File I's tree (kbc_doc) will be read little from now on: the pages of its image go
 * back to the system, and come back from the file when its texts are read again. */
void kbc_release_doc(kbc *c, size_t i);
/* The trees of file I's rules (the second image of eng_doc_serialize_rules; kbc_doc gives
 * the first, whose rules are cut down to their ids), *LEN bytes, valid until kbc_close;
 * NULL when it has none. Not checked here: each tree has its own checksum, checked by
 * the engine when it reads it (eng_rule_trees_damaged then says so: see kbc_drop). */
const void *kbc_trees(kbc *c, size_t i, size_t *len);
/* Part of the cache file was found damaged after the load (a rule's tree): the file goes,
 * unless another run has replaced it already, for the next run to write. NULL is
 * allowed. */
void kbc_drop(kbc *c);
/* Whether the cache holds rules of file I (summaries or trees, sound or not): then the
 * tree kbc_doc gives lacks them. */
bool kbc_has_rules(const kbc *c, size_t i);
/* The summaries of file I's rules (eng_rules_deps_image) in the cache, *LEN bytes; NULL
 * when it has none or they fail their checksum (the file should then be written again).
 * They stay valid until kbc_close. */
const void *kbc_deps(kbc *c, size_t i, size_t *len);
/* The next compiled pattern, if its source is PATTERN, with its words (rx_need) set: the
 * caller owns it, and frees it before kbc_close, for it is decoded from the cache file
 * when it first runs (rx_stored). NULL when the cache has no such pattern next (the
 * caller compiles it; the cache gives no more). */
rx *kbc_pattern(kbc *c, const char *pattern);
/* The pattern I of the cache (in load order), with its words set and its source (the
 * cache key it was written under, valid until kbc_close) in *SRC, whatever was given
 * before: for an image that names its patterns by number (kb_image.c). NULL when there is
 * no such pattern or memory ran out. The caller owns it as kbc_pattern's. The source is
 * not checked: it always ends within the file, but only kbc_sources_ok says it is what
 * was written; nothing a warm load does reads it. */
rx *kbc_pattern_at(kbc *c, size_t i, const char **src);
/* Whether the sources of C's patterns have their checksum: checked the first time (a
 * megabyte), before anything trusts them (a cache written from this load). When they do
 * not, the file goes, for the next run to write anew. False for NULL. */
bool kbc_sources_ok(kbc *c);
/* How many compiled patterns the cache holds. */
size_t kbc_npats(const kbc *c);
/* File I's tree is not needed: the load has what it holds from the cache's image. */
void kbc_skip_doc(kbc *c, size_t i);
/* The image of the lexicon (kb_image.c) in the cache, *LEN bytes, valid until
 * kbc_close; NULL when there is none or it fails its checksum (then the file should be
 * written again). */
const void *kbc_app(kbc *c, size_t *len);
/* The checksum of file I's contents recorded in the cache (kbc_file.hash of the file the
 * cache matched), for writing it again. */
uint64_t kbc_file_hash(const kbc *c, size_t i);
/* What the cache gave could not be used (kb.c loaded that part otherwise): the file
 * should be written again. NULL is allowed. */
void kbc_refused(kbc *c);
/* Whether every document and pattern of the cache was given out, in order, and nothing
 * else was asked for: otherwise the file should be written again. */
bool kbc_complete(const kbc *c);
/* Frees the cache and the patterns not taken. NULL is allowed. */
void kbc_close(kbc *c);

/* Writes the cache file PATH (creating its folder) for the knowledge base in DIR: the
 * trees DOCS[i] of FILES[i] with the summaries of their rules DEPS[i] (DEPSLEN[i] bytes,
 * 0 for none), the patterns PATS[j] compiled from SRCS[j], in load order, and the
 * image of the sources, catalog and lexicon APP[0..APPLEN) (kb_image.c; 0 bytes for none). SEEN is when FILES were looked at (before they were read): a file changed since
 * may still show the times it had (file times are coarse), so a file whose times are that
 * recent is checked by content when the cache is opened. Written to a temporary file
 * renamed into place, so that a reader sees a whole file or none. Returns false, leaving
 * nothing behind, when it could not be written. Once written, the folder's other cache files
 * that no run has written for 30 days, and temporary files a killed writer left a day ago or
 * more, are removed. */
bool kbc_write(const char *path, const char *dir, kbc_time seen, const kbc_file *files,
               eng_doc *const *docs, unsigned char *const *deps, const size_t *depslen,
               size_t n, rx *const *pats, const char *const *srcs, size_t npats,
               const unsigned char *app, size_t applen);

/* Makes every checksum of the cache image BUF[0..LEN) (the table's and each section's)
 * fit its bytes as they are now: for tests that damage an image on purpose, so that only
 * the structure checks can refuse it. False when the table cannot be walked. */
bool kbc_reseal(unsigned char *buf, size_t len);

/* Blocks SIGINT, SIGTERM, SIGHUP and SIGQUIT (the old mask in *OLD, restored with
 * sigprocmask(SIG_SETMASK, OLD, NULL)): while a file is written to a temporary name and
 * renamed, so that an interrupted run leaves neither a partial file nor a stray temporary. */
void kbc_signals_hold(sigset_t *old);

#endif
