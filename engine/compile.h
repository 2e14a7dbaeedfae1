/* SPDX-License-Identifier: MIT */
/*
 * compile.h - what the two halves of the rule compiler share: compile.c (the document,
 * its sections, rules and background facts, diagnostics) and compile_value.c (values,
 * variables, conditions and actions). Nothing outside the compiler includes it.
 */
#ifndef MLARCH_ENGINE_COMPILE_H
#define MLARCH_ENGINE_COMPILE_H

#include "internal.h"

/* The condition index used while compiling actions: after every condition. */
#define COMP_AFTER_WHEN UINT32_MAX

/* A variable of the rule being compiled. */
typedef struct {
	const char *name;       /* without '?'; points into the document */
	size_t len;
	uint32_t cond;          /* the condition where it first appeared */
	uint32_t line;          /* that condition's line */
	bool local;             /* first seen in a negation: usable only inside it */
} comp_var;

/* The compiler's state for one document. The per-rule arrays are scratch space, reused
 * from rule to rule and copied into the rules arena when a rule compiles cleanly. */
typedef struct {
	eng *e;
	const eng_doc *doc;
	eng_diags *d;
	arena *a;               /* eng_rules_arena(e) */
	eng_status st;          /* ENG_ERR_NOMEM once an allocation failed */
	size_t errors;          /* errors found in this document */
	/* the rule being compiled; rule_line is 0 outside rules */
	const char *rule_id;
	uint32_t rule_line;
	comp_var *vars;
	uint32_t nvars, capvars;
	ir_cond *conds;
	uint32_t nconds, capconds;
	ir_action *acts;
	uint32_t nacts, capacts;
	uint32_t cur;           /* the condition being compiled, or COMP_AFTER_WHEN */
	uint32_t cur_line;      /* ... and its line */
	bool procedural;
	bool lazy;              /* compile_rule_lazy: the rule's id is known to the engine */
	const char *doc_name;   /* the document's name once DOC is freed (compile_doc_owned) */
} compiler;

/* What a scalar means as a value (see docs/rule-language.md, "Values"). */
typedef enum {
	CV_ERROR,               /* reported already (bad variable name, number out of range) */
	CV_CONST,
	CV_VAR,                 /* `?name` */
	CV_ANY,                 /* `?` */
	CV_EMPTY,               /* an empty plain scalar: the YAML null */
} cv_kind;

/* ---- compile.c ---- */

/* Report an error at node N (its line, column and width), with the current rule as
 * context. Allocation failures set c->st. */
void comp_error(compiler *c, const eng_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same at an explicit position, with SPAN columns underlined. */
void comp_error_at(compiler *c, uint32_t line, uint32_t col, uint32_t span,
                   const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void comp_warning(compiler *c, const eng_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void comp_nomem(compiler *c);
/* Whether scalar N is plain and spells exactly WORD. */
bool comp_is(const eng_node *n, const char *word);
/* Characters (not bytes) in S[0..LEN). */
uint32_t comp_chars(const char *s, size_t len);
/* The byte offset of 1-based character column COL in the NUL-terminated LINE. */
size_t comp_col_byte(const char *line, uint32_t col);

/* ---- compile_value.c ---- */

/* Types the scalar N by its spelling; a constant goes to *K (strings and symbols are
 * interned), a variable's name (without '?') to *NAME and *LEN (both may be NULL). */
cv_kind comp_scalar(compiler *c, const eng_node *n, eng_value *k, const char **name,
                    size_t *len);
/* A symbol for a subject or attribute: a plain symbol or any quoted scalar (WHAT names the
 * role in messages). Returns false after reporting an error. */
bool comp_symbol(compiler *c, const eng_node *n, const char *what, eng_sym *out);
/* Compiles the `when` list into c->conds and c->vars. */
void comp_when(compiler *c, const eng_node *when);
/* Compiles the `then` list into c->acts, after comp_when. */
void comp_then(compiler *c, const eng_node *then);

#endif
