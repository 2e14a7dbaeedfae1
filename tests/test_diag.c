/* SPDX-License-Identifier: MIT */
/* test_diag.c - the diagnostics list (diag.c): owned copies, the error cap, clearing. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine.h"

Test(diag, owns_copies)
{
	eng_diags *d = eng_diags_new(0);
	cr_assert(d);
	char file[] = "f.yaml", source[] = "  a: b", context[] = "in rule `x` (line 1)";
	cr_assert_eq(eng_diags_add(d, ENG_SEV_ERROR, file, 3, 4, 2, source, context,
	                           "bad `%s` %d", "thing", 7), ENG_OK);
	memset(file, 'X', sizeof(file) - 1);
	memset(source, 'X', sizeof(source) - 1);
	memset(context, 'X', sizeof(context) - 1);
	const eng_diag *g = eng_diags_get(d, 0);
	cr_assert(g);
	cr_expect_eq(g->severity, ENG_SEV_ERROR);
	cr_expect_str_eq(g->file, "f.yaml");
	cr_expect_eq(g->line, 3);
	cr_expect_eq(g->col, 4);
	cr_expect_eq(g->span, 2);
	cr_expect_str_eq(g->message, "bad `thing` 7");
	cr_expect_str_eq(g->context, "in rule `x` (line 1)");
	cr_expect_str_eq(g->source, "  a: b");
	cr_expect_null(eng_diags_get(d, 1));
	eng_diags_free(d);
}

typedef struct {
	const char *name;
	eng_severity sev;
	const char *file;
	uint32_t line, span;
	const char *source, *context;
	const char *want_file;
	uint32_t want_span;
} field_case;

static const field_case field_cases[] = {
	{ "no file", ENG_SEV_NOTE, NULL, 1, 0, NULL, NULL, "", 1 },
	{ "span at least 1 with a line", ENG_SEV_ERROR, "a", 5, 0, "x", NULL, "a", 1 },
	{ "no line, no span", ENG_SEV_WARNING, "a", 0, 0, NULL, "c", "a", 0 },
};

Test(diag, fields)
{
	for (size_t i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
		const field_case *tc = &field_cases[i];
		eng_diags *d = eng_diags_new(0);
		cr_assert_eq(eng_diags_add(d, tc->sev, tc->file, tc->line, 1, tc->span, tc->source,
		                           tc->context, "m"), ENG_OK, "%s", tc->name);
		const eng_diag *g = eng_diags_get(d, 0);
		cr_expect_str_eq(g->file, tc->want_file, "%s: file", tc->name);
		cr_expect_eq(g->span, tc->want_span, "%s: span", tc->name);
		cr_expect_eq(g->source == NULL, tc->source == NULL, "%s: source", tc->name);
		cr_expect_eq(g->context == NULL, tc->context == NULL, "%s: context", tc->name);
		cr_expect_eq(g->severity, tc->sev, "%s: severity", tc->name);
		eng_diags_free(d);
	}
}

Test(diag, cap_counts_errors_only)
{
	eng_diags *d = eng_diags_new(3);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(eng_diags_add(d, ENG_SEV_ERROR, "f", 1, 1, 1, NULL, NULL, "e%d", i),
		             ENG_OK);
		cr_assert_eq(eng_diags_add(d, ENG_SEV_WARNING, "f", 1, 1, 1, NULL, NULL, "w%d", i),
		             ENG_OK);
	}
	cr_expect_eq(eng_diags_errors(d), 3);
	cr_expect_eq(eng_diags_count(d), 8);
	cr_expect(eng_diags_truncated(d));
	cr_expect_str_eq(eng_diags_get(d, 7)->message, "w4");
	eng_diags_clear(d);
	cr_expect_eq(eng_diags_count(d), 0);
	cr_expect_eq(eng_diags_errors(d), 0);
	cr_expect_not(eng_diags_truncated(d));
	cr_assert_eq(eng_diags_add(d, ENG_SEV_ERROR, "f", 1, 1, 1, NULL, NULL, "again"), ENG_OK);
	cr_expect_eq(eng_diags_errors(d), 1);
	eng_diags_free(d);
}

Test(diag, default_cap)
{
	eng_diags *d = eng_diags_new(0);
	for (int i = 0; i < 150; i++)
		eng_diags_add(d, ENG_SEV_ERROR, "f", 1, 1, 1, NULL, NULL, "e%d", i);
	cr_expect_eq(eng_diags_errors(d), 100);
	cr_expect(eng_diags_truncated(d));
	cr_expect_eq(eng_diags_count(NULL), 0);
	cr_expect_null(eng_diags_get(NULL, 0));
	eng_diags_free(d);
	eng_diags_free(NULL);
}
