/* SPDX-License-Identifier: MIT */
/* test_regex.c - the PCRE2 wrapper (src/regex.c): caseless UTF matching, named groups,
 * match limits and compile errors, as tables of cases. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regex.h"

typedef struct {
	const char *name;
	const char *pattern;
	const char *subject;
	size_t offset;
	int rc;                 /* 1 match, 0 none, or an rx_error */
	size_t start, end;      /* when rc == 1 */
} find_case;

static const find_case finds[] = {
	{ "literal", "firehose", "use firehose now", 0, 1, 4, 12 },
	{ "caseless ASCII", "firehose", "Kinesis FIREHOSE", 0, 1, 8, 16 },
	{ "caseless pattern upper", "\\bKDF\\b", "send to kdf.", 0, 1, 8, 11 },
	{ "no match", "glue", "kinesis", 0, 0, 0, 0 },
	{ "offset skips earlier match", "a", "aXa", 1, 1, 2, 3 },
	{ "offset at end", "a", "aXa", 3, 0, 0, 0 },
	{ "UTF literal, byte offsets", "caf\xC3\xA9", "le caf\xC3\xA9 ouvert", 0, 1, 3, 8 },
	{ "UTF caseless", "\xC3\x89T\xC3\x89", "un \xC3\xA9t\xC3\xA9 chaud", 0, 1, 3, 8 },
	{ "dot is one character", "^..$", "\xC3\xA9\xC3\xA9", 0, 1, 0, 4 },
	{ "\\w with Unicode properties", "\\w+", "na\xC3\xAFve", 0, 1, 0, 6 },
	{ "\\b around non-ASCII letters", "\\bna\\b", "na\xC3\xAF", 0, 0, 0, 0 },
	{ "\\s matches no-break space (UCP)", "1\\s+TB", "1\xC2\xA0TB", 0, 1, 0, 5 },
	{ "alternation, first position wins", "streams|data streams",
	  "kinesis data streams", 0, 1, 8, 20 },
	{ "empty match", "x*", "abc", 0, 1, 0, 0 },
	{ "invalid UTF-8 subject is an error", "a", "\xFF" "a", 0, RX_ERR_FAILED, 0, 0 },
	{ "offset beyond the subject", "a", "a", 5, RX_ERR_FAILED, 0, 0 },
};

Test(regex, find)
{
	for (size_t i = 0; i < sizeof(finds) / sizeof(*finds); i++) {
		const find_case *c = &finds[i];
		char err[256];
		size_t off;
		rx *r = rx_compile(c->pattern, NULL, err, sizeof(err), &off);
		cr_assert_not_null(r, "%s: `%s` did not compile: %s", c->name, c->pattern, err);
		rx_span m = { 99, 99 };
		int rc = rx_find(r, c->subject, strlen(c->subject), c->offset, &m);
		cr_expect_eq(rc, c->rc, "%s: rx_find gave %d, expected %d", c->name, rc, c->rc);
		if (rc == 1 && c->rc == 1)
			cr_expect(m.start == c->start && m.end == c->end,
			          "%s: span %zu..%zu, expected %zu..%zu", c->name, m.start, m.end,
			          c->start, c->end);
		rx_free(r);
	}
}

typedef struct {
	const char *name;
	const char *pattern;
	const char *subject;
	const char *group;
	const char *want;       /* the group's text, or NULL if it must not be there */
} group_case;

static const group_case groups[] = {
	{ "number", "(?<n>\\d+)\\s*(?<unit>GB|TB)", "about 12 tb of data", "n", "12" },
	{ "unit, caseless", "(?<n>\\d+)\\s*(?<unit>GB|TB)", "about 12 tb of data", "unit",
	  "tb" },
	{ "group that did not take part", "(?<a>x)|(?<b>y)", "y", "a", NULL },
	{ "the other branch", "(?<a>x)|(?<b>y)", "y", "b", "y" },
	{ "unknown group name", "(?<a>x)", "x", "nope", NULL },
	{ "empty group", "a(?<e>)b", "ab", "e", "" },
	{ "UTF group", "(?<w>\\w+)\\s+ouvert", "caf\xC3\xA9 ouvert", "w", "caf\xC3\xA9" },
};

Test(regex, named_groups)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(*groups); i++) {
		const group_case *c = &groups[i];
		rx *r = rx_compile(c->pattern, NULL, NULL, 0, NULL);
		cr_assert_not_null(r, "%s: did not compile", c->name);
		rx_span m, g;
		cr_assert_eq(rx_find(r, c->subject, strlen(c->subject), 0, &m), 1,
		             "%s: no match", c->name);
		bool got = rx_group(r, c->group, &g);
		if (!c->want) {
			cr_expect(!got, "%s: group `%s` reported as %zu..%zu", c->name, c->group,
			          g.start, g.end);
		} else {
			cr_expect(got, "%s: group `%s` missing", c->name, c->group);
			if (got)
				cr_expect(g.end - g.start == strlen(c->want) &&
				          strncmp(c->subject + g.start, c->want, g.end - g.start) == 0,
				          "%s: group `%s` is `%.*s`, expected `%s`", c->name, c->group,
				          (int)(g.end - g.start), c->subject + g.start, c->want);
		}
		rx_free(r);
	}
}

Test(regex, has_group)
{
	rx *r = rx_compile("(?<n>\\d+)(x)(?<unit>MB)?", NULL, NULL, 0, NULL);
	cr_assert_not_null(r);
	cr_expect(rx_has_group(r, "n"));
	cr_expect(rx_has_group(r, "unit"));
	cr_expect(!rx_has_group(r, "N"), "group names are case-sensitive");
	cr_expect(!rx_has_group(r, "x"));
	rx_free(r);
}

Test(regex, group_after_failed_find)
{
	rx *r = rx_compile("(?<n>\\d+)", NULL, NULL, 0, NULL);
	cr_assert_not_null(r);
	rx_span m, g;
	cr_assert_eq(rx_find(r, "12", 2, 0, &m), 1);
	cr_expect(rx_group(r, "n", &g));
	cr_assert_eq(rx_find(r, "ab", 2, 0, &m), 0);
	cr_expect(!rx_group(r, "n", &g), "a group survived a failed match");
	rx_free(r);
}

static uint64_t sum_of(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static void note_damage(void *ctx)
{
	++*(int *)ctx;
}

/* Patterns encoded one by one and stored with their common head: each is decoded when
 * first used, they share their match data (each still finds its own groups, the widest
 * pattern's too, and a pattern's groups are gone once another one ran), and a pattern
 * whose bytes lost their checksum is compiled from its source, with the damage told. */
Test(regex, stored_patterns)
{
	const char *src[] = { "(?<w>[a-z]+)", "(?<n>\\d+)\\s*(?<unit>KB|MB)", "plain", "x+y" };
	enum { N = 4 };
	rx *c[N], *d[N];
	unsigned char *enc[N];
	size_t len[N];
	for (int i = 0; i < N; i++) {
		cr_assert_not_null(c[i] = rx_compile(src[i], NULL, NULL, 0, NULL));
		cr_assert(rx_encode(c[i], &enc[i], &len[i]));
	}
	size_t head = len[0];
	for (int i = 1; i < N; i++)
		for (size_t k = 0; k < head; k++)
			if (k >= len[i] || enc[i][k] != enc[0][k]) {
				head = k;
				break;
			}
	cr_expect_gt(head, 16, "the streams share their header and tables");
	int damaged = 0;
	rx_store *s = rx_store_new(enc[0], head, sum_of, NULL, note_damage, &damaged);
	cr_assert_not_null(s);
	for (int i = 0; i < N; i++)
		cr_assert_not_null(d[i] = rx_stored(s, enc[i] + head, len[i] - head,
		                                    sum_of(enc[i] + head, len[i] - head), src[i]));
	cr_expect(rx_is_stored(d[0]) && !rx_is_stored(c[0]));
	rx_span m, g;
	const char *t = "size 12 MB";
	cr_assert_eq(rx_find(d[1], t, strlen(t), 0, &m), 1);
	cr_expect(rx_group(d[1], "unit", &g) && g.start == 8 && g.end == 10);
	cr_expect(rx_group(d[1], "n", &g) && g.start == 5 && g.end == 7);
	cr_assert_eq(rx_find(d[0], t, strlen(t), 0, &m), 1);
	cr_expect(rx_group(d[0], "w", &g) && g.start == 0 && g.end == 4);
	cr_expect(!rx_group(d[1], "n", &g), "another pattern's match was read as its own");
	cr_assert_eq(rx_find(d[2], t, strlen(t), 0, &m), 0);
	cr_expect(!rx_group(d[0], "w", &g));
	cr_assert_eq(rx_find(d[1], t, strlen(t), 0, &m), 1);
	cr_expect(rx_group(d[1], "unit", &g) && g.start == 8);
	cr_expect_eq(damaged, 0);
	/* the last one's bytes damaged before its first use: compiled from its source */
	enc[3][len[3] - 1] ^= 0x10;
	cr_expect_eq(rx_find(d[3], "a xxy b", 7, 0, &m), 1);
	cr_expect(m.start == 2 && m.end == 5);
	cr_expect_eq(damaged, 1, "the damage was told");
	/* with the sources distrusted too, a damaged pattern matches nothing */
	rx *e;
	cr_assert_not_null(e = rx_stored(s, enc[2] + head, len[2] - head,
	                                 sum_of(enc[2] + head, len[2] - head) ^ 1, src[2]));
	rx_store_distrust_sources(s);
	cr_expect_lt(rx_find(e, "plain", 5, 0, &m), 0, "a distrusted source was compiled");
	cr_expect_eq(damaged, 2);
	rx_free(e);
	rx_store_close(s);      /* the patterns keep it */
	for (int i = 0; i < N; i++) {
		rx_free(c[i]);
		rx_free(d[i]);
		free(enc[i]);
	}
}

typedef struct {
	const char *name;
	const char *pattern;
	const char *subject;
} limit_case;

static const limit_case limits[] = {
	{ "nested plus", "(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!" },
	{ "words and spaces", "^(\\w+\\s?)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!" },
	{ "alternation overlap", "(a|aa)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!" },
};

Test(regex, catastrophic_patterns_stop_at_the_limit)
{
	for (size_t i = 0; i < sizeof(limits) / sizeof(*limits); i++) {
		const limit_case *c = &limits[i];
		rx *r = rx_compile(c->pattern, NULL, NULL, 0, NULL);
		cr_assert_not_null(r, "%s: did not compile", c->name);
		rx_span m;
		/* the limit stops it (make check times nothing: that it returns is the test) */
		int rc = rx_find(r, c->subject, strlen(c->subject), 0, &m);
		cr_expect_eq(rc, -1, "%s: rx_find gave %d, expected the limit (-1)", c->name, rc);
		cr_expect(!rx_group(r, "x", NULL), "%s: groups after a limit", c->name);
		rx_free(r);
	}
}

typedef struct {
	const char *name;
	const char *pattern;
	size_t off;
	const char *msg;        /* a substring of the message */
} error_case;

static const error_case errors[] = {
	{ "unclosed group", "(abc", 4, "missing closing parenthesis" },
	{ "unmatched close", "abc)", 3, "unmatched closing parenthesis" },
	{ "quantifier order", "a{2,1}", 5, "numbers out of order" },
	{ "class range order", "[z-a]", 3, "range out of order" },
	{ "double quantifier", "x**", 2, "quantifier does not follow" },
	{ "trailing backslash", "\\", 1, "at end of pattern" },
	{ "byte offset after UTF-8", "caf\xC3\xA9)", 5, "unmatched closing parenthesis" },
	{ "duplicate group names", "(?<n>a)(?<n>b)", 12, "same name" },
};

Test(regex, compile_errors)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(*errors); i++) {
		const error_case *c = &errors[i];
		char err[256] = "untouched";
		size_t off = 999;
		rx *r = rx_compile(c->pattern, NULL, err, sizeof(err), &off);
		cr_expect_null(r, "%s: `%s` compiled", c->name, c->pattern);
		rx_free(r);
		cr_expect_eq(off, c->off, "%s: offset %zu, expected %zu", c->name, off, c->off);
		cr_expect(strstr(err, c->msg) != NULL, "%s: message `%s` lacks `%s`", c->name, err,
		          c->msg);
	}
}

Test(regex, small_error_buffer_and_null_outputs)
{
	char err[8];
	cr_expect_null(rx_compile("(", NULL, err, sizeof(err), NULL));
	cr_expect_lt(strlen(err), sizeof(err));
	cr_expect_null(rx_compile("(", NULL, NULL, 0, NULL));
	rx_free(NULL);
}

Test(regex, limits_hold_after_jit)
{
	/* JIT compilation starts after a few uses; results and limits must not change. */
	rx *r = rx_compile("(a+)+$", NULL, NULL, 0, NULL);
	rx *ok = rx_compile("(?<w>fire)hose", NULL, NULL, 0, NULL);
	cr_assert(r && ok);
	const char *bad = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!";
	const char *text = "Kinesis Data FIREHOSE";
	for (int i = 0; i < 40; i++) {
		rx_span m, g;
		cr_expect_eq(rx_find(r, bad, strlen(bad), 0, &m), -1, "use %d: not limited", i);
		cr_expect_eq(rx_find(ok, text, strlen(text), 0, &m), 1, "use %d: no match", i);
		cr_expect(m.start == 13 && m.end == 21, "use %d: span %zu..%zu", i, m.start, m.end);
		cr_expect(rx_group(ok, "w", &g) && g.start == 13 && g.end == 17, "use %d: group", i);
	}
	rx_free(r);
	rx_free(ok);
}

typedef struct {
	const char *name;
	const char *pattern;
	const char *unit;       /* the subject: 200 of these, then "c" */
	rx_limits limits;
	int rc;                 /* with LIMITS; with the defaults the pattern matches */
} set_limit_case;

static const set_limit_case set_limits[] = {
	{ "match limit of 10", "(?:a|ab)*c", "ab", { 10, 0 }, RX_ERR_MATCH_LIMIT },
	{ "depth limit of 10", "(?:(a)|b)*c", "ab", { 0, 10 }, RX_ERR_DEPTH_LIMIT },
	{ "both generous", "(?:a|ab)*c", "ab", { 100000, 1000 }, 1 },
};

Test(regex, limits_are_per_pattern)
{
	/* Each pattern carries its own limits: the same pattern compiled with the defaults
	 * next to it still matches, use after use (the JIT comes in after a few uses: it
	 * honours the match limit; a depth limit applies where the interpreter runs, which is
	 * the first uses here). */
	for (size_t i = 0; i < sizeof(set_limits) / sizeof(*set_limits); i++) {
		const set_limit_case *c = &set_limits[i];
		rx *lim = rx_compile(c->pattern, &c->limits, NULL, 0, NULL);
		rx *def = rx_compile(c->pattern, NULL, NULL, 0, NULL);
		cr_assert(lim && def, "%s: did not compile", c->name);
		char subject[1024] = "";
		for (int k = 0; k < 200; k++)
			strcat(subject, c->unit);
		strcat(subject, "c");
		size_t len = strlen(subject);
		int uses = c->rc == RX_ERR_DEPTH_LIMIT ? 8 : 40;
		for (int u = 0; u < uses; u++) {
			rx_span m;
			int rc = rx_find(lim, subject, len, 0, &m);
			cr_expect_eq(rc, c->rc, "%s, use %d: %d, expected %d", c->name, u, rc, c->rc);
			cr_expect_eq(rx_find(def, subject, len, 0, &m), 1, "%s, use %d: the "
			             "default limits did not match", c->name, u);
		}
		rx_free(lim);
		rx_free(def);
	}
}

Test(regex, long_subject_keeps_the_limits)
{
	/* A long subject gets the JIT at once: results and the match limit stay the same. */
	size_t n = 20000;
	char *text = malloc(n + 2);
	cr_assert_not_null(text);
	for (size_t i = 0; i < n; i++)
		text[i] = i % 2 ? 'b' : 'a';
	text[n] = 'c';
	text[n + 1] = '\0';
	rx_limits small = { 50, 0 };
	rx *lim = rx_compile("(?:a|b)*c", &small, NULL, 0, NULL);
	rx *word = rx_compile("ab+c", NULL, NULL, 0, NULL);
	cr_assert(lim && word);
	rx_span m;
	cr_expect_eq(rx_find(lim, text, n + 1, 0, &m), RX_ERR_MATCH_LIMIT);
	cr_expect_eq(rx_find(word, text, n + 1, 0, &m), 1);
	cr_expect(m.start == n - 2 && m.end == n + 1, "span %zu..%zu", m.start, m.end);
	rx_free(lim);
	rx_free(word);
	free(text);
}
