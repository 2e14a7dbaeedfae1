/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what the engine's modules share and users of engine.h never see:
 * the arena, the compiled-rule form (IR) that the YAML compiler produces and the matcher
 * consumes, and the expression interface.
 *
 * The load path: yamldoc.c (YAML bytes -> eng_doc tree with positions) -> compile.c (tree ->
 * checked ir_rule, diagnostics) -> rete.c (ir_rule -> network nodes).
 */
#ifndef MLARCH_ENGINE_INTERNAL_H
#define MLARCH_ENGINE_INTERNAL_H

#include "engine.h"

/* Variable names, in patterns and expressions alike: letters, digits and `_`. */

/* ---- arena: bump allocation for things that live as long as the engine (rules) ---- */

typedef struct arena arena;
typedef struct {
	void *block;
	size_t used;
} arena_mark;

arena *arena_new(void);
void arena_free(arena *a);
/* SIZE zeroed bytes aligned for any type, or NULL when out of memory. */
void *arena_alloc(arena *a, size_t size);
/* The same not zeroed: for arrays the caller fills whole (a rebuilt document's nodes). */
void *arena_alloc_raw(arena *a, size_t size);
/* The same aligned only for pointers and types no wider (not long double): for many
 * small objects. */
void *arena_alloc_small(arena *a, size_t size);
/* As arena_alloc_small, not zeroed: for what is written whole at once. */
void *arena_alloc_small_raw(arena *a, size_t size);
/* A NUL-terminated copy of LEN bytes of S, or NULL. */
char *arena_strndup(arena *a, const char *s, size_t len);
/* Frees everything allocated, keeping one block for what comes next. */
void arena_reset(arena *a);
/* Remembers the fill level, and later frees everything allocated since. */
arena_mark arena_mark_get(const arena *a);
void arena_rewind(arena *a, arena_mark m);
/* Gives back P, the newest allocation, if it is in the newest block (else does nothing;
 * the block stays for what comes next): for a record that turned out to be unneeded. */
void arena_pop(arena *a, void *p);

/* The engine's arena for rules; compile.c allocates IR from it. */
arena *eng_rules_arena(eng *e);

/* ---- values ---- */

uint64_t eng_value_hash(eng_value v);
/* Numeric/ordering comparison for <, <=, >, >=: both numbers. Returns false otherwise. */
bool eng_value_num(eng_value v, double *out);

/* ---- expressions (expr.c) ---- */

typedef struct expr expr;

/* Maps a variable name (without '?') to its index in the rule, or -1 if it is not bound
 * at this point (the parser then fails with "unbound variable ?name"). */
typedef long (*expr_var_fn)(void *ctx, const char *name, size_t len);

/* Parses SRC[0..LEN) into an expression allocated from A. Symbols are interned in E.
 * On a syntax error returns ENG_ERR_LOAD, with *ERR_OFF the byte offset of the problem in
 * SRC and a message in ERR (ERRSZ bytes). */
eng_status expr_parse(arena *a, eng *e, const char *src, size_t len, expr_var_fn var,
                      void *ctx, expr **out, size_t *err_off, char *err, size_t errsz);
/* Evaluates X with VARS[i] the value of variable i. On a type error or division by zero
 * returns ENG_ERR_EVAL with a message in ERR. */
eng_status expr_eval(const expr *x, const eng *e, const eng_value *vars, eng_value *out,
                     char *err, size_t errsz);

/* ---- compiled rules (IR) ---- */

typedef enum {
	OPD_ANY = 0,    /* `?`: matches anything */
	OPD_CONST,      /* a constant value */
	OPD_VAR,        /* a variable, by index */
	OPD_CALC,       /* an expression (actions only) */
} opd_kind;

typedef struct {
	union {             /* by kind: one field is meaningful */
		eng_value k;        /* OPD_CONST */
		uint32_t var;       /* OPD_VAR */
		expr *calc;         /* OPD_CALC */
	};
	opd_kind kind;
} ir_operand;

typedef enum {
	CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_IN, CMP_NOT_IN,
} cmp_op;

/* A constraint on a pattern's value slot: `value OP operand` (operand a constant or a
 * variable bound earlier), or membership in a constant set. */
typedef struct {
	cmp_op op;
	ir_operand operand;     /* not used by CMP_IN / CMP_NOT_IN */
	eng_value *set;
	uint32_t nset;
} ir_constraint;

typedef enum { COND_POS, COND_NEG, COND_TEST } cond_kind;

typedef struct {
	ir_operand slot[3];     /* subject, attribute, value: ANY, CONST or VAR */
	ir_constraint *cons;    /* extra constraints on the value */
	expr *test;             /* COND_TEST */
	const char *text;       /* COND_TEST: the expression's source */
	uint32_t ncons;
	uint32_t line, col;
	cond_kind kind;
} ir_cond;

typedef enum { ACT_ASSERT, ACT_RETRACT, ACT_MODIFY, ACT_CONCLUDE, ACT_BIND } act_kind;

typedef struct {
	union {
		struct {
			ir_operand s, a, v;     /* ASSERT, RETRACT, MODIFY: CONST, VAR or CALC;
			                         * BIND: the value in v */
		};
		struct {
			ir_operand target;      /* CONCLUDE */
			ir_operand role;        /* CONCLUDE: OPD_ANY when absent */
		};
	};
	act_kind kind;
	eng_sym concl;          /* CONCLUDE: the kind */
	uint32_t var;           /* BIND: the variable that gets the value v */
	uint32_t line, col;
} ir_action;

typedef struct {
	const char *id;
	const char *because;
	eng_sym *cite;
	uint32_t ncite;
	int32_t salience;
	double weight;
	const char *file;
	uint32_t line, col;
	ir_cond *conds;
	uint32_t nconds;
	ir_action *acts;
	uint32_t nacts;
	const char **var_names; /* without '?' */
	uint32_t nvars;
	bool procedural;        /* has retract/modify: assertions not logically supported */
} ir_rule;

/* Everything in the IR is allocated from eng_rules_arena(e). Variables: index order is
 * order of first appearance; a variable's first appearance in a positive pattern binds it;
 * one first seen in a negation is local to it; tests and actions use only bound ones. */

/* Adds compiled rules to the network, all or none. Fails with ENG_ERR_INVALID when
 * working memory is not empty, ENG_ERR_NOMEM on allocation failure. */
eng_status eng_rules_add(eng *e, ir_rule *const *rules, size_t n);
/* A rule of eng_load_doc_lazy before it is compiled: its id (in DOC) and summary. */
typedef struct rule_deps rule_deps;
typedef struct {
	const char *id;         /* NUL-terminated once it is the document's */
	size_t idlen;
	const eng_node *node;   /* its mapping in the document */
	const rule_deps *deps;
	const unsigned char *tree;      /* or its own tree's image (eng_load_doc_lazy_trees) */
	uint32_t treelen;
	uint64_t treesum;       /* ... and its checksum (doc_image_sum) */
} rule_stub;
/* docimage.c: the checksum eng_doc_serialize_rules gives each rule's tree, of P[0..N). */
uint64_t doc_image_sum(const void *p, size_t n);
/* Adds rules of document DOC (named FILE, a string in the rules arena) that are compiled
 * when first needed, all or none; as eng_rules_add. */
eng_status eng_rules_add_lazy(eng *e, const eng_doc *doc, const char *file,
                              const rule_stub *stubs, size_t n);
/* defer.c: reads an image of eng_rules_deps_image into *OUT (malloc'd, N stubs whose ids
 * point into IMG, their summaries in the rules arena). ENG_ERR_INVALID when it is not
 * well formed, ENG_ERR_NOMEM. */
eng_status deps_image_read(eng *e, const unsigned char *img, size_t len, rule_stub **out,
                           size_t *n);
/* compile.c: compiles the rule at node RN of DOC (named FILE) to IR, without checking its
 * id against the rules loaded (it is one of them). ENG_ERR_LOAD, with the first error in
 * e's error message, when it does not compile. */
eng_status compile_rule_lazy(eng *e, const eng_doc *doc, const eng_node *rn,
                             const char *file, ir_rule **out);
/* The engine's error message buffer and its size. */
char *eng_error_buf(eng *e, size_t *size);
/* Whether KIND was declared with eng_conclusion_kind_add. */
bool eng_conclusion_kind_known(const eng *e, eng_sym kind);
/* Whether a top-level section is to be skipped by the loader. */
bool eng_section_skipped(const eng *e, const char *name);

/* ---- documents (yamldoc.c) and the compiler (compile.c) ---- */

/* *OUT = IN (may be NULL) with each 0 field replaced by its default. */
void eng_doc_limits_fill(eng_doc_limits *out, const eng_doc_limits *in);

/* compile.c: compiles DOC's `rules:` and `facts:` into IR and background facts, then
 * calls eng_rules_add; on any error adds nothing. */
eng_status compile_doc(eng *e, const eng_doc *doc, eng_diags *d);
/* The same, and frees DOC (in every case), as soon as the rules are compiled: before
 * they go into the network. */
eng_status compile_doc_owned(eng *e, eng_doc *doc, eng_diags *d);

#endif
