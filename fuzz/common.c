/* SPDX-License-Identifier: MIT */
/* common.c - the knowledge base shared by the fuzz targets, and their failure check. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_RULES_DIR
#define FUZZ_RULES_DIR "rules"
#endif
#ifndef FUZZ_EXAMPLE_KB
#define FUZZ_EXAMPLE_KB "examples/kb"
#endif

static kb *fuzz_kb_cached;

void fuzz_fail(const char *file, int line, const char *msg)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, msg);
	abort();
}

/* Loads DIR, or returns NULL after printing why (the first diagnostic). */
static kb *fuzz_kb_try(const char *dir)
{
	eng_diags *d = eng_diags_new(0);
	if (!d)
		return NULL;
	kb *k = NULL;
	eng_status st = kb_load(dir, NULL, d, &k);
	if (st != ENG_OK) {
		const eng_diag *g = eng_diags_count(d) ? eng_diags_get(d, 0) : NULL;
		fprintf(stderr, "fuzz: the knowledge base in %s does not load (%s)%s%s:%u:%u: %s\n",
		        dir, eng_status_str(st), g ? "; first error: " : "", g ? g->file : "",
		        g ? g->line : 0, g ? g->col : 0, g ? g->message : "");
		k = NULL;
	}
	eng_diags_free(d);
	return k;
}

kb *fuzz_kb(void)
{
	if (fuzz_kb_cached)
		return fuzz_kb_cached;
	const char *env = getenv("MLARCH_RULES");
	const char *dir = env && *env ? env : FUZZ_RULES_DIR;
	fuzz_kb_cached = fuzz_kb_try(dir);
	if (!fuzz_kb_cached) {
		fprintf(stderr, "fuzz: using %s instead\n", FUZZ_EXAMPLE_KB);
		fuzz_kb_cached = fuzz_kb_try(FUZZ_EXAMPLE_KB);
	}
	if (!fuzz_kb_cached)
		abort();
	return fuzz_kb_cached;
}
