/* SPDX-License-Identifier: MIT */
/*
 * scenario.h - scenario files: an exam-style question (or a set of facts) with the answer
 * the notes give, the conclusions expected, and the notes that decide it. Format:
 * docs/knowledge-base.md, "Scenario files". Nothing here prints.
 */
#ifndef MLARCH_SCENARIO_H
#define MLARCH_SCENARIO_H

#include "judge.h"

typedef struct {
	eng_sym attr;
	eng_value value;
	uint32_t line;
} sc_fact;

typedef struct {
	char *file;
	char *id;
	char *question;         /* NULL for a structured scenario */
	size_t question_len;
	uint32_t question_line;
	sc_fact *facts;
	size_t nfacts;
	bool has_answer;
	char answer[Q_MAX_OPTIONS + 1];   /* sorted letters; "" = abstain */
	char **recommend;
	size_t nrecommend;
	char **reject;
	size_t nreject;
	char **cite;
	size_t ncite;
} scenario;

/* Reads scenario file PATH, checking its shape (unknown keys, types, letters). Symbols are
 * interned in K's engine. On error returns non-zero with diagnostics in D (ENG_ERR_NOMEM
 * when memory ran out). The caller frees *OUT with scenario_free either way. */
eng_status scenario_load(const kb *k, const char *path, eng_diags *d, scenario *out);
/* The same from TEXT[0..LEN) (copied); NAME stands for the path in diagnostics and ids. */
eng_status scenario_load_string(const kb *k, const char *name, const char *text, size_t len,
                                eng_diags *d, scenario *out);
void scenario_free(scenario *s);

/* Collects the scenario files under each of PATHS (files as given; folders searched for
 * *.yaml recursively, sorted). Returns a malloc'd array of malloc'd paths, or NULL with
 * errno set and the offending path in *BAD. */
char **scenario_find(char **paths, int npaths, size_t *n, const char **bad);
void scenario_paths_free(char **p, size_t n);

#define SC_WARNINGS 4

typedef struct {
	bool pass;
	char got[Q_MAX_OPTIONS + 1];
	bool abstained;
	char message[512];
	char warnings[SC_WARNINGS][512];    /* patterns that hit a PCRE2 limit (judge.h) */
	uint32_t nwarnings;
} sc_result;

/* Runs S against K and compares with what it expects. Returns non-zero only for an
 * engine failure (the message says which); a wrong answer is a result, not an error.
 * A pattern that hit a PCRE2 limit fails the scenario, whatever the answer: its
 * sentences are in r->warnings, the first also in r->message. */
eng_status scenario_run(kb *k, const scenario *s, sc_result *r);

#endif
