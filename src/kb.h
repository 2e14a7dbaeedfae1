/* SPDX-License-Identifier: MIT */
/*
 * kb.h - the knowledge base as the application sees it: the engine loaded with the rules
 * and background facts of every YAML file under a directory, plus what the engine does not
 * read itself: the sources (citable notes), the catalog (entities an option can name, with
 * their alias patterns) and the lexicon (patterns from wording to facts).
 * Formats: docs/knowledge-base.md. Nothing here prints; errors go to an eng_diags list.
 */
#ifndef MLARCH_KB_H
#define MLARCH_KB_H

#include "engine.h"
#include "question.h"
#include "regex.h"

/* Every limit on what mlarch reads and runs, carried by the knowledge base: the engine's
 * (firings, facts, and YAML documents: the rule files and scenario files), the PCRE2
 * limits each lexicon and catalog pattern is compiled with, and the longest question
 * read. A 0 field means its default. */
typedef struct {
	eng_limits eng;
	rx_limits rx;
	size_t question_bytes;  /* default Q_DEFAULT_MAX_BYTES */
} kb_limits;

/* Fills *OUT with the defaults (every field set, none 0). */
void kb_limits_default(kb_limits *out);

typedef struct {
	const char *id;
	const char *title;
	const char *topic;
	bool decides;           /* false: the note decides nothing (then `why` says why) */
	const char *why;
	const char *conflict;   /* NULL unless the note disagrees with another */
	const char *file;
	uint32_t line, col;
} kb_source;

typedef struct {
	const char *id;         /* e.g. "kinesis-data-firehose" */
	eng_sym sym;            /* the same, interned in the engine */
	const char *name;       /* display name */
	const char *kind;       /* service, algorithm, format, metric, technique, ... */
	rx **aliases;
	const char **alias_src;
	uint32_t naliases;
	const char **cite;
	uint32_t ncite;
	const char *file;
	uint32_t line, col;
} kb_entity;

typedef enum { LEX_ANY, LEX_STEM, LEX_OPTION } lex_scope;

/* One fact a lexicon entry asserts: ATTR gets a constant, or the text of a named capture
 * (a number if it reads as one, else a lowercased symbol), optionally multiplied by the
 * factor that another capture's text selects from a table (units). */
typedef struct {
	eng_sym attr;
	bool from_capture;
	uint32_t denied_by;     /* bit C: the clause of the `negates: need` cue whose
	                         * kb_lexeme.cue is C drops it (that cue's `drops:`) */
	eng_value k;
	const char *capture;
	const char *scale_by;
	const char **scale_keys;    /* compared caseless */
	double *scale_vals;
	uint32_t nscale;
} kb_lexval;

/* The most `negates: need` cues a lexicon holds: each is a bit of kb_lexval.denied_by. */
#define KB_MAX_NEED_CUES 32

/* What a lexicon entry's match negates (`negates:`). */
typedef enum {
	LEX_NEG_NONE,
	LEX_NEG_CLAUSE,    /* `clause`: the entities named in the clause around it */
	LEX_NEG_NEED,      /* `need`: the stem facts read in the clause around it */
	LEX_NEG_SPAN       /* `span`: the entities named inside the match itself, set aside
	                    * rather than used ("instead of X", "replace X with ...") */
} lex_negates;

typedef struct {
	const char *id;
	const char *pattern;
	rx *re;
	kb_lexval *vals;
	uint32_t nvals;
	lex_scope scope;
	const char **drops;     /* `drops:` of a `negates: need` cue: attribute names, `*`
	                         * globs allowed; read from the YAML only (the cache keeps
	                         * kb_lexval.denied_by instead) */
	uint32_t ndrops;
	uint8_t cue;            /* a `negates: need` cue's place among them, in lexicon order
	                         * (at most KB_MAX_NEED_CUES) */
	lex_negates negates;    /* `negates: clause`: entities named in the clause around a
	                         * match are named in the negative (xfact.negated) */
	const char *file;
	uint32_t line, col;
} kb_lexeme;

/* A word family of the lexicon (`families:`): a named PCRE2 fragment that `match:`
 * patterns use as `{{NAME}}`, expanded at load into `(?:FRAGMENT)`. See
 * docs/knowledge-base.md. */
typedef struct {
	const char *name;
	const char *pattern;    /* as written */
	const char *expanded;   /* with the families it uses expanded; NULL if it is bad */
	uint32_t uses;          /* references to it from lexicon patterns */
	const char *file;
	uint32_t line, col;
} kb_family;

typedef struct kb {
	eng *e;
	const char *dir;
	kb_source *sources;
	uint32_t nsources;
	kb_entity *entities;
	uint32_t nentities;
	kb_lexeme *lexicon;
	uint32_t nlexicon;
	kb_family *families;
	uint32_t nfamilies;
	void *mem;              /* owner of the strings and arrays above */
	kb_limits limits;       /* as given to kb_load, 0 fields filled with defaults */
	bool no_prefilter;      /* extraction runs every pattern (tests compare the two) */
	/* Set by a caller that judges one question only: the next judge_question builds the
	 * network for the rules that question can fire (eng_rules_build_for) and clears it;
	 * no other facts can be asserted after. ALSO_USES: an entity the caller asserts
	 * (option, uses, it) of as well (why-not SERVICE), 0 for none. */
	bool one_question;
	eng_sym also_uses;
	/* symbols the application uses often */
	eng_sym s_scenario, s_option, s_uses, s_mentions;
	eng_sym s_uses_negated, s_mentions_negated;   /* entities named only to be denied */
	eng_sym s_question_choose;      /* (scenario question.choose N): the letters asked for */
	eng_sym s_setting_current, s_setting_proposed;  /* a number set for an entity in the
	                                                 * stem, in an option ("num_trees=100") */
} kb;

/* Loads every *.yaml file under DIR (recursively, in sorted path order) into a new
 * knowledge base: the engine (with mlarch's conclusion kinds registered), the sources,
 * catalog and lexicon. Collects all errors into D with file:line:col. Returns ENG_OK and
 * *OUT, or an error status with *OUT NULL (nothing to free). LIMITS (NULL: the defaults)
 * apply to the files read, the patterns compiled and, kept in (*OUT)->limits, to what is
 * read and run later. */
eng_status kb_load(const char *dir, const kb_limits *limits, eng_diags *d, kb **out);

typedef struct {
	const kb_limits *limits;    /* NULL: the defaults */
	const char *cache_dir;      /* the folder of compiled caches (kbcache.h); NULL: none */
	bool cache_no_read;         /* parse every file even if the cache matches; refresh it */
} kb_load_opts;

typedef enum {
	KB_CACHE_UNUSED,        /* no cache folder, or the load failed */
	KB_CACHE_HIT,           /* every tree and pattern came from the cache */
	KB_CACHE_WRITTEN,       /* the cache did not match (or was not read): written anew */
	KB_CACHE_UNWRITTEN,     /* it did not match and could not be written */
} kb_cache_result;

/* kb_load with options (OPTS may be NULL: kb_load's defaults). With OPTS->cache_dir, the
 * parsed trees and compiled patterns come from the cache file of DIR in that folder when
 * it matches the files on disk, and the file is written anew when it did not and the
 * load succeeded; a cache that cannot be read or written changes nothing but speed, and
 * never the result or the diagnostics. *CACHE (may be NULL) says what happened. */
eng_status kb_load_with(const char *dir, const kb_load_opts *opts, eng_diags *d, kb **out,
                        kb_cache_result *cache);
void kb_free(kb *k);

const kb_source *kb_source_find(const kb *k, const char *id);
const kb_entity *kb_entity_find(const kb *k, const char *id);
const kb_entity *kb_entity_by_sym(const kb *k, eng_sym sym);

#endif
