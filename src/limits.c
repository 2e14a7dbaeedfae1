/* SPDX-License-Identifier: MIT */
/*
 * limits.c - the limits a user can set: `--limit NAME=VALUE` into the kb_limits that the
 * knowledge base, its engine, its patterns and the question reader carry, and the table
 * that `mlarch limits` (or `--limit help`) prints. One row per limit: adding a limit means
 * a field in kb_limits (src/kb.h), a row here, and the error that names it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef enum { LIM_U32, LIM_U64, LIM_SIZE } lim_type;

static const struct {
	const char *name;
	size_t off;             /* of the field in kb_limits */
	lim_type type;
	const char *what;
} lim_defs[] = {
	{ "firings", offsetof(kb_limits, eng.max_firings), LIM_U64,
	  "rule firings in one run" },
	{ "facts", offsetof(kb_limits, eng.max_facts), LIM_U64,
	  "facts in working memory at once" },
	{ "question-bytes", offsetof(kb_limits, question_bytes), LIM_SIZE,
	  "bytes of a question" },
	{ "regex-match", offsetof(kb_limits, rx.match), LIM_U32,
	  "PCRE2 match limit of each pattern" },
	{ "regex-depth", offsetof(kb_limits, rx.depth), LIM_U32,
	  "PCRE2 depth limit of each pattern" },
	{ "yaml-bytes", offsetof(kb_limits, eng.doc.max_bytes), LIM_SIZE,
	  "bytes of a YAML file (rules, scenarios)" },
	{ "yaml-depth", offsetof(kb_limits, eng.doc.max_depth), LIM_U32,
	  "nesting in a YAML file" },
	{ "yaml-aliases", offsetof(kb_limits, eng.doc.max_aliases), LIM_U32,
	  "aliases (*name) in a YAML file" },
	{ "yaml-nodes", offsetof(kb_limits, eng.doc.max_nodes), LIM_SIZE,
	  "YAML nodes, aliases expanded" },
};

#define LIM_COUNT (sizeof(lim_defs) / sizeof(lim_defs[0]))

static uint64_t lim_max(lim_type t)
{
	return t == LIM_U32 ? UINT32_MAX : t == LIM_SIZE ? (uint64_t)SIZE_MAX : UINT64_MAX;
}

static uint64_t lim_get(const kb_limits *l, size_t i)
{
	const char *p = (const char *)l + lim_defs[i].off;
	switch (lim_defs[i].type) {
	case LIM_U32: return *(const uint32_t *)(const void *)p;
	case LIM_U64: return *(const uint64_t *)(const void *)p;
	case LIM_SIZE: return *(const size_t *)(const void *)p;
	}
	return 0;
}

static void lim_put(kb_limits *l, size_t i, uint64_t v)
{
	char *p = (char *)l + lim_defs[i].off;
	switch (lim_defs[i].type) {
	case LIM_U32: *(uint32_t *)(void *)p = (uint32_t)v; break;
	case LIM_U64: *(uint64_t *)(void *)p = v; break;
	case LIM_SIZE: *(size_t *)(void *)p = (size_t)v; break;
	}
}

/* Reads S as a whole number from 1 to MAX, with an optional K, M or G (1024, 1024^2,
 * 1024^3). False for anything else: empty, a sign, a space, 0, too big. */
static bool lim_parse(const char *s, uint64_t max, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return false;
	uint64_t mul = 1;
	if (*end == 'K' || *end == 'k')
		mul = 1024;
	else if (*end == 'M' || *end == 'm')
		mul = 1024 * 1024;
	else if (*end == 'G' || *end == 'g')
		mul = 1024 * 1024 * 1024;
	if (mul != 1)
		end++;
	if (*end || v == 0 || v > max / mul)
		return false;
	*out = v * mul;
	return true;
}

bool cli_limit_set(cli_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
	size_t i = 0;
	while (i < LIM_COUNT && (strlen(lim_defs[i].name) != nlen ||
	                         strncmp(lim_defs[i].name, arg, nlen) != 0))
		i++;
	if (i == LIM_COUNT) {
		const char *names[LIM_COUNT];
		for (size_t k = 0; k < LIM_COUNT; k++)
			names[k] = lim_defs[k].name;
		char hint[128];
		eng_hint(hint, sizeof(hint), arg, nlen, names, LIM_COUNT);
		if (!eq && !*hint)
			cli_usage_error(o, "--limit needs NAME=VALUE, not '%s'; '--limit help' lists "
			                "the limits", arg);
		else
			cli_usage_error(o, "unknown limit '%.*s'%s; '--limit help' lists the limits",
			                (int)nlen, arg, hint);
		return false;
	}
	uint64_t max = lim_max(lim_defs[i].type), v;
	if (!eq || !lim_parse(eq + 1, max, &v)) {
		cli_usage_error(o, "--limit %s needs a whole number from 1 to %llu (K, M and G "
		                "multiply by 1024, 1024^2 and 1024^3), not '%s'", lim_defs[i].name,
		                (unsigned long long)max, eq ? eq + 1 : "");
		return false;
	}
	lim_put(&o->limits, i, v);
	return true;
}

void cli_limits_print(const cli_opts *o, FILE *fp)
{
	kb_limits def;
	kb_limits_default(&def);
	fprintf(fp, "%-14s %10s %10s  %s\n", "LIMIT", "DEFAULT", "CURRENT", "WHAT");
	for (size_t i = 0; i < LIM_COUNT; i++)
		fprintf(fp, "%-14s %10llu %10llu  %s\n", lim_defs[i].name,
		        (unsigned long long)lim_get(&def, i),
		        (unsigned long long)lim_get(&o->limits, i), lim_defs[i].what);
	fprintf(fp, "\nSet one with --limit NAME=VALUE, before or after the command (a whole "
	        "number;\nK, M and G multiply by 1024, 1024^2 and 1024^3). Each error that a "
	        "limit causes\nnames it and the --limit that raises it.\n");
}

int cmd_limits(cli_opts *o, int argc, char **argv)
{
	(void)argv;
	if (argc > 0) {
		cli_usage_error(o, "limits takes no arguments");
		return EXIT_USAGE;
	}
	cli_limits_print(o, stdout);
	return EXIT_OK;
}
