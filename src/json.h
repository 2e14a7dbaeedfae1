/* SPDX-License-Identifier: MIT */
/*
 * json.h - JSON output (json.c is the only file that includes jansson: escaping, UTF-8
 * and number formatting are the library's job, not ours). Each function returns a
 * malloc'd NUL-terminated document, or NULL when out of memory.
 */
#ifndef MLARCH_JSON_H
#define MLARCH_JSON_H

#include "judge.h"

/* `ask --json`: answer, abstained, note, choose, recommend, options (with reasons). */
char *json_judgement(const kb *k, const judgement *j);
/* `facts --json`: the facts of the stem and of each option, with spans and patterns. */
char *json_facts(const kb *k, const judgement *j);

typedef struct {
	const char *id;
	const char *file;
	bool pass;
	const char *message;    /* why it failed, or NULL */
	const char *expected;   /* letters */
	const char *got;
	bool abstained;
	double ms;
	bool blind;
} batch_row;

/* `batch --json`: {passed, failed, scenarios: [...]} */
char *json_batch(const batch_row *rows, size_t n, size_t passed, size_t failed);

typedef struct {
	const char *id;
	const char *title;
	const char *topic;
	const char **rules;
	size_t nrules;
	bool decides;
	const char *why;
} coverage_row;

/* `coverage --json`: {cited: [{id, topic, rules}], uncited: [{id, topic, reason}]} */
char *json_coverage(const coverage_row *rows, size_t n);

#endif
