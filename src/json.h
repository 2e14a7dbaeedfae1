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

/* A rule that could have concluded in favour of what why-not asks about, and did not. */
typedef struct {
	size_t rule;
	eng_whynot w;
} why_not_miss;

/* What `why-not` found about an option letter or a catalog entity. */
typedef struct {
	const char *what;           /* the letter or the entity id asked about */
	int option;                 /* the option's index, or -1 for an entity */
	const kb_entity *entity;    /* NULL for an option */
	const char *named_by;       /* entity: letters of the options naming it */
	reason *against;            /* the reasons ruling it out (weight < 0) */
	size_t nagainst;
	why_not_miss *misses;
	size_t nmisses;
} why_not_report;

/* `why-not --json`: {what, option|entity, named_by, against: [reasons], near_misses:
 * [{rule, file, line, matched, conditions, expected, actual, because, cite}]} */
char *json_why_not(const kb *k, const judgement *j, const why_not_report *r);

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

/* `batch --json`: {passed, failed, scenarios: [{id, file, pass, expected, got, abstained,
 * message, ms, blind}]} */
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
