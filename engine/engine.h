/* SPDX-License-Identifier: MIT */
/*
 * engine.h - the public contract of the mlarch inference engine.
 *
 * A forward-chaining production system over (subject, attribute, value) triples,
 * matched incrementally by a Rete network, with logical support and justifications.
 * It knows nothing of AWS, of question text or of terminals: it never prints and never
 * exits. Every function that can fail returns an eng_status (ENG_OK == 0); details of
 * load errors go to an eng_diags list, details of run errors to eng_error().
 *
 * Ownership: the engine owns everything reachable from it (facts, rules, conclusions,
 * justifications, interned names); pointers it returns stay valid until the object they
 * describe is retracted or withdrawn, the engine is reset, or it is freed.
 * Two engines in one process share nothing.
 */
#ifndef MLARCH_ENGINE_H
#define MLARCH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct eng eng;
typedef struct eng_diags eng_diags;
typedef struct eng_doc eng_doc;
typedef struct eng_node eng_node;

typedef enum {
	ENG_OK = 0,
	ENG_ERR_NOMEM,          /* an allocation failed; the engine is unchanged */
	ENG_ERR_IO,             /* a file could not be read */
	ENG_ERR_LOAD,           /* YAML or rule errors: see the diagnostics */
	ENG_ERR_INVALID,        /* a bad argument or a call out of order */
	ENG_ERR_LIMIT_FIRINGS,  /* a run reached the firing cap; see eng_error() */
	ENG_ERR_LIMIT_FACTS,    /* working memory reached the fact cap; see eng_error() */
	ENG_ERR_EVAL,           /* an expression failed at run time (type, division by 0) */
	ENG_ERR_NOT_FOUND,      /* no such rule, fact or conclusion */
} eng_status;

/* A static English name for a status, e.g. "firing limit reached". */
const char *eng_status_str(eng_status st);

/* ---- values ---------------------------------------------------------------------- */

/* An interned name (symbol or string text); 0 is "no name". Valid for the engine's life. */
typedef uint32_t eng_sym;

typedef enum {
	ENG_NONE = 0,
	ENG_SYMBOL,
	ENG_STRING,
	ENG_NUMBER,
	ENG_BOOL,
} eng_type;

typedef struct {
	eng_type type;
	union {
		eng_sym sym;    /* ENG_SYMBOL and ENG_STRING */
		double num;     /* ENG_NUMBER */
		bool b;         /* ENG_BOOL */
	} u;
} eng_value;

/* Interns LEN bytes of S (need not be NUL-terminated). Returns 0 when out of memory. */
eng_sym eng_intern(eng *e, const char *s, size_t len);
/* The interned symbol for a NUL-terminated name, or 0 if it was never interned. */
eng_sym eng_sym_lookup(const eng *e, const char *s);
/* The NUL-terminated text of an interned name; "" for 0. */
const char *eng_sym_name(const eng *e, eng_sym s);

/* Value constructors. eng_symbol/eng_string intern; on OOM they return ENG_NONE. */
eng_value eng_symbol(eng *e, const char *s);
eng_value eng_string(eng *e, const char *s);
eng_value eng_number(double n);
eng_value eng_bool(bool b);
bool eng_value_eq(eng_value a, eng_value b);
/* Writes the value as it would be written in a rule file (strings quoted, numbers
 * shortest round-trip). Returns the length it needed, like snprintf. */
int eng_value_format(const eng *e, eng_value v, char *buf, size_t size);

/* ---- lifecycle and settings ---------------------------------------------------------- */

/* A new, empty engine, or NULL when out of memory. */
eng *eng_new(void);
/* Frees the engine and everything it owns. NULL is allowed. */
void eng_free(eng *e);

/* What one YAML document may hold; a field of 0 means its default. */
typedef struct {
	size_t max_bytes;       /* document size; default 16 MiB */
	uint32_t max_depth;     /* nesting of sequences and mappings; default 64 */
	uint32_t max_aliases;   /* alias references; default 1000 */
	size_t max_nodes;       /* nodes after alias expansion; default 1000000 */
} eng_doc_limits;

/* The engine's limits. Each error that a limit causes names it and how to raise it. */
typedef struct {
	uint64_t max_firings;   /* per eng_run; default 100000 */
	uint64_t max_facts;     /* live facts at once; default 1000000 */
	eng_doc_limits doc;     /* documents read by eng_load_file and eng_load_string */
} eng_limits;

/* Fills *OUT with the defaults (every field set, none 0). */
void eng_limits_default(eng_limits *out);
void eng_limits_get(const eng *e, eng_limits *out);
/* Replaces the engine's limits; a 0 in LIMITS->doc means that field's default. */
void eng_limits_set(eng *e, const eng_limits *limits);

/* Declares a conclusion kind (e.g. "recommend"), making `KIND: target` a valid action.
 * Must be called before rules are loaded. */
eng_status eng_conclusion_kind_add(eng *e, const char *kind);
/* Declares a top-level section name that the loader should skip (the application reads
 * it itself), e.g. "lexicon". Unknown sections are errors otherwise. */
eng_status eng_section_skip(eng *e, const char *section);
/* The subject of shorthand patterns, "scenario" unless changed before loading. */
eng_status eng_default_subject_set(eng *e, const char *subject);
eng_sym eng_default_subject(const eng *e);

/* ---- diagnostics ----------------------------------------------------------------------- */

typedef enum { ENG_SEV_ERROR, ENG_SEV_WARNING, ENG_SEV_NOTE } eng_severity;

typedef struct {
	eng_severity severity;
	const char *file;       /* may be "" */
	uint32_t line, col;     /* 1-based; 0 when unknown */
	uint32_t span;          /* columns to underline, at least 1 when line > 0 */
	const char *message;
	const char *context;    /* e.g. "in rule `x` (line 3)"; may be NULL */
	const char *source;     /* the text of that line, without newline; may be NULL */
} eng_diag;

/* A new diagnostics list keeping at most CAP errors (0: default 100). NULL on OOM. */
eng_diags *eng_diags_new(size_t cap);
void eng_diags_free(eng_diags *d);
size_t eng_diags_count(const eng_diags *d);
size_t eng_diags_errors(const eng_diags *d);
const eng_diag *eng_diags_get(const eng_diags *d, size_t i);
/* True when more errors were found than the cap kept. */
bool eng_diags_truncated(const eng_diags *d);
void eng_diags_clear(eng_diags *d);
/* Adds a diagnostic (the application uses this for its own YAML sections). SOURCE may be
 * NULL. Returns ENG_ERR_NOMEM if it could not be recorded. */
eng_status eng_diags_add(eng_diags *d, eng_severity sev, const char *file, uint32_t line,
                         uint32_t col, uint32_t span, const char *source,
                         const char *context, const char *fmt, ...)
	__attribute__((format(printf, 9, 10)));

/* The index of the candidate closest to WORD[0..LEN) within two edits (and closer than
 * its own length, so that short words do not match everything), or -1. */
long eng_suggest(const char *word, size_t len, const char *const *cands, size_t n);
/* A " (did you mean `X`?)" suffix in BUF when one of the N candidates is within two edits
 * of WORD[0..LEN) (and closer than its own length), else "". Returns BUF. */
const char *eng_hint(char *buf, size_t size, const char *word, size_t len,
                     const char *const *cands, size_t n);

/* ---- YAML documents -------------------------------------------------------------------- */

typedef enum { ENG_NODE_SCALAR, ENG_NODE_SEQ, ENG_NODE_MAP } eng_node_kind;

/* Reads one YAML document from a file into a tree of nodes with positions. LIMITS may be
 * NULL for the defaults. On failure returns NULL and adds diagnostics to D (file:line:col);
 * *ST (if not NULL) says why (ENG_ERR_IO, ENG_ERR_LOAD, ENG_ERR_NOMEM). */
eng_doc *eng_doc_read_file(const char *path, const eng_doc_limits *limits, eng_diags *d,
                           eng_status *st);
/* The same from memory; NAME is used in diagnostics. The text is copied. */
eng_doc *eng_doc_read_string(const char *name, const char *text, size_t len,
                             const eng_doc_limits *limits, eng_diags *d, eng_status *st);
void eng_doc_free(eng_doc *doc);
const char *eng_doc_name(const eng_doc *doc);
/* The root node, or NULL for an empty document. */
const eng_node *eng_doc_root(const eng_doc *doc);
/* The text of 1-based LINE (without newline) in *LEN bytes, or NULL. */
const char *eng_doc_line(const eng_doc *doc, uint32_t line, size_t *len);

/* A document as bytes, for an application that keeps the parsed form of files that have
 * not changed (docimage.c): the tree with every kind, text, quoting, line and column, and
 * nodes shared by aliases shared again; not the text of the lines. On success *OUT is a
 * malloc'd buffer of *LEN bytes that the caller frees; on failure (ENG_ERR_NOMEM,
 * ENG_ERR_INVALID) *OUT is NULL. */
eng_status eng_doc_serialize(const eng_doc *doc, unsigned char **out, size_t *len);
/* DOC as two images for eng_load_doc_lazy_trees: in *SKEL the tree with each rule of its
 * `rules:` sections (the items of a list under a top-level key `rules`) cut down to its
 * `id`, in *RULES each of those rules' trees alone, in order: a 32-bit count, per rule a
 * 32-bit offset (from the start of *RULES) and length and a 64-bit checksum of its image,
 * then the images. A document
 * without rules gives its whole image in *SKEL and none in *RULES (NULL, 0 bytes). Both
 * malloc'd, for the caller to free; on failure (ENG_ERR_NOMEM, ENG_ERR_INVALID) both
 * NULL. */
eng_status eng_doc_serialize_rules(const eng_doc *doc, unsigned char **skel, size_t *skellen,
                                   unsigned char **rules, size_t *ruleslen);
/* The document back from BUF[0..LEN) (not kept), named NAME in diagnostics; its lines are
 * read from the file SOURCE (may be NULL: none) when eng_doc_line first needs one. The
 * bytes are untrusted: anything but an image from the same format and YAML parser
 * version, within LIMITS (may be NULL), is ENG_ERR_INVALID in *ST and NULL; it never reads
 * outside BUF. The caller frees the document with eng_doc_free. */
eng_doc *eng_doc_deserialize(const char *name, const void *buf, size_t len,
                             const char *source, const eng_doc_limits *limits,
                             eng_status *st);
/* The same, except that the document's texts are left in BUF, which must then stay
 * unchanged until the document is freed: for an image in a mapped file. */
eng_doc *eng_doc_deserialize_borrowed(const char *name, const void *buf, size_t len,
                                      const char *source, const eng_doc_limits *limits,
                                      eng_status *st);

eng_node_kind eng_node_kind_of(const eng_node *n);
uint32_t eng_node_line(const eng_node *n);
uint32_t eng_node_col(const eng_node *n);
/* Scalars: the text (NUL-terminated; *LEN bytes, may contain NUL) and whether it was
 * quoted ('...' or "..." or a block scalar). */
const char *eng_node_text(const eng_node *n, size_t *len);
bool eng_node_quoted(const eng_node *n);
/* Sequences and mappings: number of items / pairs. */
size_t eng_node_size(const eng_node *n);
const eng_node *eng_node_item(const eng_node *seq, size_t i);
const eng_node *eng_node_key(const eng_node *map, size_t i);
const eng_node *eng_node_value(const eng_node *map, size_t i);
/* The value for a scalar KEY in a mapping, or NULL. */
const eng_node *eng_node_get(const eng_node *map, const char *key);
/* How N reads in a "found ..." phrase ("`text`", "`\"text\"`", "nothing", "a list", "an
 * empty mapping"), cut at 40 characters, into BUF; returns BUF. */
const char *eng_node_describe(const eng_node *n, char *buf, size_t size);

/* ---- loading rules and background facts ------------------------------------------------- */

/* Compiles the `rules:` and `facts:` sections of DOC into the engine. All errors are
 * collected into D (file:line:col, with the rule they belong to); on any error nothing of
 * DOC is added and ENG_ERR_LOAD is returned. Rules must be loaded while working memory is
 * empty (before the first assert, or right after eng_clear). On ENG_ERR_NOMEM the engine
 * may hold part of DOC and is only fit to be freed. */
eng_status eng_load_doc(eng *e, const eng_doc *doc, eng_diags *d);
/* eng_doc_read_file (within the engine's document limits) + eng_load_doc. */
eng_status eng_load_file(eng *e, const char *path, eng_diags *d);
eng_status eng_load_string(eng *e, const char *name, const char *text, size_t len,
                           eng_diags *d);
/* eng_load_doc for a document loaded before, whose rules' summaries IMG[0..LEN) were
 * written then by eng_rules_deps_image: its rules are added by id, and each is compiled
 * only when it is first needed (built into the network, or asked about with
 * eng_rule_get, eng_rule_whynot, ...), so that a question compiles only the rules it can
 * fire. What the engine does is the same as after eng_load_doc. DOC must stay valid,
 * unchanged, until eng_free. Returns ENG_ERR_INVALID, adding nothing, when IMG does not
 * describe DOC or DOC has errors (the caller then loads it with eng_load_doc, which reports
 * them); a compile error found later
 * (a document that no longer compiles) makes the call that needed the rule fail with
 * ENG_ERR_LOAD and a message in eng_error. */
eng_status eng_load_doc_lazy(eng *e, const eng_doc *doc, const void *img, size_t len);
/* eng_load_doc_lazy for DOC, the first image of eng_doc_serialize_rules read back, with
 * the second, TREES[0..TLEN): each rule is compiled from its own tree, read from TREES
 * (borrowed: it must stay unchanged until eng_free) when the rule is first needed, and
 * DOC need not outlive the call. Returns ENG_ERR_INVALID, adding nothing, as
 * eng_load_doc_lazy, and when TREES do not hold one tree per rule; a tree that cannot be
 * read later fails the call that needed its rule as a compile error does. */
eng_status eng_load_doc_lazy_trees(eng *e, const eng_doc *doc, const void *img, size_t len,
                                   const void *trees, size_t tlen);
/* Whether a rule's tree of eng_load_doc_lazy_trees failed its checksum when the rule was
 * compiled: it was compiled from its file instead (read again, by the document's name),
 * and the trees should be written anew. */
bool eng_rule_trees_damaged(const eng *e);
/* Compiles every rule of eng_load_doc_lazy not compiled yet: afterwards every symbol the
 * rules name is interned (eng_sym_lookup finds it). ENG_ERR_LOAD (message in eng_error)
 * when one does not compile, ENG_ERR_NOMEM. */
eng_status eng_rules_compile_all(eng *e);
/* The summaries of rules [FIRST, FIRST + N) (those of one eng_load_doc) as an image for
 * eng_load_doc_lazy, malloc'd into *OUT (*LEN bytes; the caller frees it). Returns
 * ENG_ERR_NOMEM, or ENG_ERR_INVALID for a range past the rules. */
eng_status eng_rules_deps_image(const eng *e, size_t first, size_t n, unsigned char **out,
                                size_t *len);
/* Adds a background fact, asserted by every eng_reset (the catalog's properties). */
eng_status eng_deffact_add(eng *e, eng_sym subject, eng_sym attribute, eng_value value);

/* Building the network can wait until the facts are known. After eng_rules_defer, rules
 * loaded are known (eng_rule_get, eng_rule_whynot, ...) but kept out of the matcher until
 * eng_rules_build_for or eng_rules_build_all; the first eng_reset or eng_assert builds
 * what is still left out, so a caller that does nothing more sees no difference. */
void eng_rules_defer(eng *e);

/* A kind of input fact: attribute ATTRIBUTE with value VALUE, or with any value when
 * VALUE has type ENG_NONE. */
typedef struct {
	eng_sym attribute;
	eng_value value;
} eng_input;

/* Builds the network of the rules left out by eng_rules_defer, in the order loaded, that
 * facts of the kinds IN[0..N) can make fire: those of which every positive condition can
 * be matched by such a fact, a background fact or what another such rule asserts. The
 * others could never fire, and are not built; from then on eng_assert refuses
 * (ENG_ERR_INVALID, with a message in eng_error) a fact of another kind, and
 * eng_rules_add any rule. Call once, with working memory empty: ENG_ERR_INVALID otherwise;
 * ENG_ERR_NOMEM leaves the engine only fit to be freed. */
eng_status eng_rules_build_for(eng *e, const eng_input *in, size_t n);
/* Builds every rule left out by eng_rules_defer; ENG_OK when there is none. */
eng_status eng_rules_build_all(eng *e);
/* How many rules are in the network (all of them unless deferred or built for a few). */
size_t eng_rules_built(const eng *e);

/* ---- working memory ---------------------------------------------------------------------- */

typedef uint32_t eng_fact_id;   /* 0 is "no fact" */

typedef struct {
	eng_sym subject;
	eng_sym attribute;
	eng_value value;
} eng_triple;

/* Adds a fact. ORIGIN is the caller's tag for where it came from (a text span, a file
 * line), returned by eng_fact_get; 0 for none. If the triple is already present, nothing
 * changes, *ADDED is false and *ID names the existing fact. ID and ADDED may be NULL.
 * Matching is done at once; rules fire only in eng_run. */
eng_status eng_assert(eng *e, eng_sym subject, eng_sym attribute, eng_value value,
                      uint64_t origin, eng_fact_id *id, bool *added);
/* Removes a fact, and withdraws what rules derived from it (logical support). */
eng_status eng_retract(eng *e, eng_fact_id id);
/* Removes every fact and conclusion, empties the agenda (rules stay). */
void eng_clear(eng *e);
/* eng_clear, then asserts the background facts. */
eng_status eng_reset(eng *e);

/* Reads a live fact. Returns false if ID is not live. ORIGIN may be NULL. */
bool eng_fact_get(const eng *e, eng_fact_id id, eng_triple *out, uint64_t *origin);
/* The live fact with this triple, or 0. */
eng_fact_id eng_fact_find(const eng *e, eng_sym subject, eng_sym attribute, eng_value value);
/* Iteration over live facts in assertion order: start with 0; returns 0 at the end. */
eng_fact_id eng_fact_next(const eng *e, eng_fact_id after);
size_t eng_fact_count(const eng *e);

/* ---- running ---------------------------------------------------------------------------- */

/* Fires activations until the agenda is empty or a limit is reached. *FIRED (may be NULL)
 * gets the number of firings of this call. On a limit or an evaluation error the run
 * stops with the matching status and eng_error() names the limit and the rule. */
eng_status eng_run(eng *e, uint64_t *fired);
/* A description of the last run error ("" if none). */
const char *eng_error(const eng *e);
/* Number of activations waiting. */
size_t eng_agenda_size(const eng *e);

/* ---- rules ------------------------------------------------------------------------------ */

typedef struct {
	const char *id;
	const char *because;
	const eng_sym *cite;
	uint32_t ncite;
	int32_t salience;
	double weight;
	const char *file;
	uint32_t line;
	uint32_t nconds;        /* conditions in `when`, in order */
	uint32_t nvars;         /* variables of the rule */
	bool logical;           /* its assertions are logically supported by its match */
} eng_rule_info;

size_t eng_rule_count(const eng *e);
/* Fills *OUT for rule index I; false if I is out of range. */
bool eng_rule_get(const eng *e, size_t i, eng_rule_info *out);
/* The index of the rule with this id, or -1. */
long eng_rule_find(const eng *e, const char *id);
/* The name of variable V of rule I (without '?'), or NULL. */
const char *eng_rule_var_name(const eng *e, size_t i, uint32_t v);
/* Writes condition C of rule I as rule-file text; returns the length needed. */
int eng_rule_cond_format(const eng *e, size_t i, uint32_t c, char *buf, size_t size);
/* The source position of condition C of rule I. */
bool eng_rule_cond_pos(const eng *e, size_t i, uint32_t c, uint32_t *line, uint32_t *col);
/* A read-only view of one condition or action, for checking a knowledge base. A slot is a
 * constant (is_const), a variable (var >= 0) or anything (neither). */
typedef struct {
	bool is_const;
	eng_value k;
	int32_t var;
} eng_slot_view;

typedef enum { ENG_COND_POS, ENG_COND_NEG, ENG_COND_TEST } eng_cond_kind;

typedef struct {
	eng_cond_kind kind;
	eng_slot_view slot[3];      /* subject, attribute, value */
	const eng_value *in;        /* an `in:` set on the value, if any */
	uint32_t nin;
	uint32_t line, col;
} eng_cond_view;

typedef enum {
	ENG_ACT_ASSERT, ENG_ACT_RETRACT, ENG_ACT_MODIFY, ENG_ACT_CONCLUDE, ENG_ACT_BIND
} eng_act_kind;

typedef struct {
	eng_act_kind kind;
	eng_slot_view slot[3];      /* assert/retract/modify: the triple; conclude: target in [2];
	                               bind: the variable in [0], its value in [2] */
	eng_sym concl;              /* conclude: the kind */
	uint32_t line, col;
} eng_action_view;

bool eng_rule_cond_get(const eng *e, size_t i, uint32_t c, eng_cond_view *out);
size_t eng_rule_action_count(const eng *e, size_t i);
bool eng_rule_action_get(const eng *e, size_t i, uint32_t a, eng_action_view *out);

/* The conclusions rule I can make: for each conclusion action, its kind and its target
 * (ENG_NONE when the target is computed or a variable). Fills at most MAX pairs and
 * returns how many the rule has. */
size_t eng_rule_conclusions(const eng *e, size_t i, eng_sym *kinds, eng_value *targets,
                            size_t max);
/* Writes the rule's `because`, with {?var} replaced from BINDINGS (NULL: left as is). */
int eng_rule_because_format(const eng *e, size_t i, const eng_value *bindings, char *buf,
                            size_t size);

/* ---- justifications and conclusions ------------------------------------------------------ */

/* Why something holds: the rule that fired, the facts that matched its positive
 * conditions (facts[k] for the k-th positive condition, in `when` order), and the values of
 * all the rule's variables (bindings[v] for variable v; ENG_NONE if unbound). */
typedef struct {
	uint32_t rule;
	const eng_fact_id *facts;
	uint32_t nfacts;
	const eng_value *bindings;
	uint32_t nbindings;
} eng_just;

/* The justification of a derived fact: the first rule firing that asserted it; NULL for
 * facts asserted from outside (or not live). */
const eng_just *eng_fact_why(const eng *e, eng_fact_id id);

typedef uint32_t eng_concl_id;  /* 0 is "none"; ids grow with time */

typedef struct {
	eng_sym kind;           /* e.g. "recommend" */
	eng_value target;
	eng_value role;         /* ENG_NONE when the action gave no role */
	const eng_just *why;
} eng_conclusion;

/* Iteration over live conclusions in the order they were made: start with 0, 0 at end. */
eng_concl_id eng_concl_next(const eng *e, eng_concl_id after);
bool eng_concl_get(const eng *e, eng_concl_id id, eng_conclusion *out);
/* The largest conclusion id made so far (to tell what a later run added). */
eng_concl_id eng_concl_last(const eng *e);

/* ---- near misses --------------------------------------------------------------------------- */

typedef struct {
	bool fired;             /* the rule matches the current facts in full */
	uint32_t cond;          /* the first condition that no extension of a partial match
	                           satisfies (the deepest the rule got) */
	uint32_t matched;       /* how many conditions matched before it */
	bool has_actual;        /* a fact with the same subject and attribute exists ... */
	eng_value actual;       /* ... and this is its value (it failed the value test) */
	eng_fact_id actual_fact;
	eng_value bindings[16]; /* variable values of the deepest partial match (first 16) */
} eng_whynot;

/* Says why rule I does not match the current facts. ENG_ERR_NOT_FOUND for a bad index. */
eng_status eng_rule_whynot(const eng *e, size_t i, eng_whynot *out);

#endif
