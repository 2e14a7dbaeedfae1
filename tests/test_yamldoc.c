/* SPDX-License-Identifier: MIT */
/*
 * test_yamldoc.c - the YAML document reader (yamldoc.c): positions and quoting of nodes,
 * what it refuses and where it says so, the limits that keep hostile input cheap, and
 * reading files.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

static const char *diags_text(const eng_diags *d)
{
	static char buf[4096];
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < eng_diags_count(d) && n < sizeof(buf); i++) {
		const eng_diag *g = eng_diags_get(d, i);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n    %s:%u:%u: %s", g->file,
		                      g->line, g->col, g->message);
	}
	return buf;
}

/* The node at PATH below N: items separated by '/', a number indexes a sequence, a name
 * looks a key up in a mapping, and "@name" gives the key node itself. */
static const eng_node *node_at(const eng_node *n, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save = NULL, *part = strtok_r(buf, "/", &save); part && n;
	     part = strtok_r(NULL, "/", &save)) {
		if (eng_node_kind_of(n) == ENG_NODE_SEQ) {
			n = eng_node_item(n, (size_t)atoi(part));
		} else if (part[0] == '@') {
			const eng_node *key = NULL;
			for (size_t i = 0; i < eng_node_size(n) && !key; i++)
				if (strcmp(eng_node_text(eng_node_key(n, i), NULL), part + 1) == 0)
					key = eng_node_key(n, i);
			n = key;
		} else {
			n = eng_node_get(n, part);
		}
	}
	return n;
}

/* ---- nodes: positions, text, quoting ---- */

static const char node_doc[] =
	"rules:\n"                                      /* 1 */
	"  - id: r1\n"                                  /* 2 */
	"    when:\n"                                   /* 3 */
	"      - [?alg, 'quoted', \"dq\", ?, 12]\n"     /* 4 */
	"      - {as: ?m, x: ?}\n"                      /* 5 */
	"    because: |\n"                              /* 6 */
	"      literal\n"                               /* 7 */
	"    fold: >\n"                                 /* 8 */
	"      folded\n"                                /* 9 */
	"    tagged: !!str 5\n"                         /* 10 */
	"    other: !custom 5\n"                        /* 11 */
	"    \"k y\": \xc3\xa9t\xc3\xa9 x\n"            /* 12 */
	"    empty:\n"                                  /* 13 */
	"    plainvar: ?x > 1\n"                        /* 14 */
	"? explicit\n"                                  /* 15 */
	": value\n";                                    /* 16 */

typedef struct {
	const char *path;
	eng_node_kind kind;
	uint32_t line, col;
	bool quoted;
	const char *text;       /* scalars */
} node_case;

static const node_case node_cases[] = {
	{ "rules", ENG_NODE_SEQ, 2, 3, false, NULL },
	{ "@rules", ENG_NODE_SCALAR, 1, 1, false, "rules" },
	{ "rules/0", ENG_NODE_MAP, 2, 5, false, NULL },
	{ "rules/0/@id", ENG_NODE_SCALAR, 2, 5, false, "id" },
	{ "rules/0/id", ENG_NODE_SCALAR, 2, 9, false, "r1" },
	{ "rules/0/when/0", ENG_NODE_SEQ, 4, 9, false, NULL },
	{ "rules/0/when/0/0", ENG_NODE_SCALAR, 4, 10, false, "?alg" },
	{ "rules/0/when/0/1", ENG_NODE_SCALAR, 4, 16, true, "quoted" },
	{ "rules/0/when/0/2", ENG_NODE_SCALAR, 4, 26, true, "dq" },
	{ "rules/0/when/0/3", ENG_NODE_SCALAR, 4, 32, false, "?" },
	{ "rules/0/when/0/4", ENG_NODE_SCALAR, 4, 35, false, "12" },
	{ "rules/0/when/1", ENG_NODE_MAP, 5, 9, false, NULL },
	{ "rules/0/when/1/as", ENG_NODE_SCALAR, 5, 14, false, "?m" },
	{ "rules/0/when/1/x", ENG_NODE_SCALAR, 5, 21, false, "?" },
	{ "rules/0/because", ENG_NODE_SCALAR, 6, 14, true, "literal\n" },
	{ "rules/0/fold", ENG_NODE_SCALAR, 8, 11, true, "folded\n" },
	{ "rules/0/tagged", ENG_NODE_SCALAR, 10, 13, true, "5" },
	{ "rules/0/other", ENG_NODE_SCALAR, 11, 12, false, "5" },
	{ "rules/0/@k y", ENG_NODE_SCALAR, 12, 5, true, "k y" },
	{ "rules/0/k y", ENG_NODE_SCALAR, 12, 12, false, "\xc3\xa9t\xc3\xa9 x" },
	{ "rules/0/empty", ENG_NODE_SCALAR, 13, 11, false, "" },
	{ "rules/0/plainvar", ENG_NODE_SCALAR, 14, 15, false, "?x > 1" },
	{ "@explicit", ENG_NODE_SCALAR, 15, 3, false, "explicit" },
	{ "explicit", ENG_NODE_SCALAR, 16, 3, false, "value" },
};

Test(yamldoc, nodes)
{
	eng_diags *d = eng_diags_new(0);
	eng_status st;
	eng_doc *doc = eng_doc_read_string("n.yaml", node_doc, sizeof(node_doc) - 1, NULL, d, &st);
	cr_assert(doc, "%s", diags_text(d));
	cr_assert_eq(st, ENG_OK);
	for (size_t i = 0; i < sizeof(node_cases) / sizeof(node_cases[0]); i++) {
		const node_case *tc = &node_cases[i];
		const eng_node *n = node_at(eng_doc_root(doc), tc->path);
		cr_expect(n, "%s: no such node", tc->path);
		if (!n)
			continue;
		cr_expect_eq(eng_node_kind_of(n), tc->kind, "%s: kind", tc->path);
		cr_expect(eng_node_line(n) == tc->line && eng_node_col(n) == tc->col,
		          "%s: at %u:%u, expected %u:%u", tc->path, eng_node_line(n),
		          eng_node_col(n), tc->line, tc->col);
		cr_expect_eq(eng_node_quoted(n), tc->quoted, "%s: quoted", tc->path);
		if (tc->text) {
			size_t len;
			const char *t = eng_node_text(n, &len);
			cr_expect(t && len == strlen(tc->text) && strcmp(t, tc->text) == 0,
			          "%s: text `%s`, expected `%s`", tc->path, t ? t : "(null)",
			          tc->text);
		}
	}
	eng_doc_free(doc);
	eng_diags_free(d);
}

Test(yamldoc, accessors)
{
	static const char text[] = "a: [x, y]\nb: {c: 1}\n";
	eng_doc *doc = eng_doc_read_string("a.yaml", text, sizeof(text) - 1, NULL, NULL, NULL);
	cr_assert(doc);
	const eng_node *root = eng_doc_root(doc);
	const eng_node *a = eng_node_get(root, "a"), *b = eng_node_get(root, "b");
	cr_expect_str_eq(eng_doc_name(doc), "a.yaml");
	cr_expect_eq(eng_node_size(root), 2);
	cr_expect_eq(eng_node_size(a), 2);
	cr_expect_null(eng_node_item(a, 2));
	cr_expect_null(eng_node_key(a, 0));
	cr_expect_null(eng_node_item(b, 0));
	cr_expect_null(eng_node_get(a, "x"));
	cr_expect_null(eng_node_get(root, "zz"));
	size_t len = 9;
	cr_expect_null(eng_node_text(a, &len));
	cr_expect_eq(len, 0);
	cr_expect_eq(eng_node_size(eng_node_item(a, 0)), 0);
	cr_expect_str_eq(eng_node_text(eng_node_value(b, 0), NULL), "1");
	cr_expect_str_eq(eng_node_text(eng_node_key(b, 0), NULL), "c");
	eng_doc_free(doc);
}

Test(yamldoc, lines)
{
	static const char text[] = "a: 1\r\nb: 2\rc: 3\n\nd: \"x\xc2\x85y\"\n";
	eng_doc *doc = eng_doc_read_string("l.yaml", text, sizeof(text) - 1, NULL, NULL, NULL);
	cr_assert(doc);
	static const char *const want[] = { "a: 1", "b: 2", "c: 3", "", "d: \"x", "y\"", "" };
	for (uint32_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		size_t len;
		const char *l = eng_doc_line(doc, i + 1, &len);
		cr_expect(l && len == strlen(want[i]) && memcmp(l, want[i], len) == 0,
		          "line %u: `%s`", i + 1, l ? l : "(null)");
	}
	cr_expect_null(eng_doc_line(doc, 0, NULL));
	cr_expect_null(eng_doc_line(doc, 8, NULL));
	cr_expect_eq(eng_node_line(eng_node_get(eng_doc_root(doc), "c")), 3);
	eng_doc_free(doc);
}

Test(yamldoc, empty_documents)
{
	static const char *const texts[] = { "", "# only a comment\n", "\n\n" };
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		eng_status st = ENG_ERR_INVALID;
		eng_doc *doc = eng_doc_read_string("e.yaml", texts[i], strlen(texts[i]), NULL, NULL,
		                                   &st);
		cr_expect(doc && st == ENG_OK, "text %zu", i);
		cr_expect_null(eng_doc_root(doc), "text %zu", i);
		eng_doc_free(doc);
	}
	eng_doc *doc = eng_doc_read_string("e.yaml", "---\n", 4, NULL, NULL, NULL);
	cr_assert(doc);
	cr_expect_str_eq(eng_node_text(eng_doc_root(doc), NULL), "");
	eng_doc_free(doc);
}

Test(yamldoc, aliases_share_nodes)
{
	static const char text[] = "a: &x [1, 2]\nb: *x\nc: &s v\nd: *s\n";
	eng_doc *doc = eng_doc_read_string("a.yaml", text, sizeof(text) - 1, NULL, NULL, NULL);
	cr_assert(doc);
	const eng_node *root = eng_doc_root(doc);
	cr_expect_eq(eng_node_get(root, "a"), eng_node_get(root, "b"));
	cr_expect_str_eq(eng_node_text(eng_node_get(root, "d"), NULL), "v");
	eng_doc_free(doc);
}

/* ---- what it refuses ---- */

typedef struct {
	const char *name;
	const char *text;
	size_t len;             /* 0: strlen(text) */
	eng_doc_limits limits;  /* zero fields: the defaults */
	const char *pos;        /* line:col */
	const char *msg;        /* a substring of the message */
} error_case;

static const error_case error_cases[] = {
	{ "syntax", "a: [1, 2\nb: 3\n", 0, { 0 }, "2:2",
	  "did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 4)" },
	{ "tab indentation", "a:\n\tb: 1\n", 0, { 0 }, "2:1",
	  "found character that cannot start any token" },
	{ "duplicate key", "a: 1\nb: 2\na: 3\n", 0, { 0 }, "3:1",
	  "duplicate key `a` (first at line 1)" },
	{ "duplicate key, third time", "a: 1\na: 2\na: 3\n", 0, { 0 }, "3:1",
	  "duplicate key `a` (first at line 1)" },
	{ "duplicate key in a flow mapping", "- {x: 1, y: 2, x: 3}\n", 0, { 0 }, "1:16",
	  "duplicate key `x`" },
	{ "mapping as a key", "? {a: 1}\n: b\n", 0, { 0 }, "1:3",
	  "mapping keys must be scalars, found a mapping" },
	{ "merge key", "a: &a {x: 1}\nb:\n  <<: *a\n", 0, { 0 }, "3:3",
	  "merge keys (`<<`) are not supported" },
	/* found by fuzz_rules: the duplicate-key check overran its array */
	{ "merge key among other keys", "a: 1\nb: 2\n<<: {c: 1}\n", 0, { 0 }, "3:1",
	  "merge keys (`<<`) are not supported" },
	{ "second document", "a: 1\n---\nb: 2\n", 0, { 0 }, "2:1",
	  "a file holds one YAML document; found a second one" },
	{ "NUL byte", "a: 1\nbb: x\0y\n", 11, { 0 }, "2:6", "NUL byte in the input" },
	{ "invalid UTF-8", "a: 1\nb: \xe9t\xe9\n", 0, { 0 }, "2:5",
	  "invalid trailing UTF-8 octet (byte 0x74)" },
	{ "invalid leading byte", "a: \xc3\xa9\xff\n", 0, { 0 }, "1:5",
	  "invalid leading UTF-8 octet (byte 0xFF)" },
	{ "UTF-16", "\xff\xfe" "a\0:\0", 6, { 0 }, "1:1", "the file is UTF-16" },
	{ "undefined alias", "a: *nope\n", 0, { 0 }, "1:4", "undefined alias `*nope`" },
	{ "recursive alias", "a: &a [1, *a]\n", 0, { 0 }, "1:11",
	  "alias `*a` refers to a node that contains it" },
	{ "too deep", "[[[[x]]]]\n", 0, { 0, 3, 0, 0 }, "1:4",
	  "nesting deeper than 3 levels (limit yaml-depth); raise it with --limit yaml-depth=6 (eng_doc_limits.max_depth)" },
	{ "too many aliases", "a: &a x\nb: [*a, *a, *a]\n", 0, { 0, 0, 2, 0 }, "2:13",
	  "more than 2 aliases in the document (limit yaml-aliases); raise it with --limit yaml-aliases=4" },
	{ "too many nodes", "[1, 2, 3, 4, 5]\n", 0, { 0, 0, 0, 4 }, "1:11",
	  "document has more than 4 nodes (limit yaml-nodes); raise it with --limit yaml-nodes=8" },
	{ "aliases expand past the node limit", "a: &a [1, 2, 3]\nb: [*a, *a]\n", 0,
	  { 0, 0, 0, 13 }, "2:9", "alias `*a` expands the document past 13 nodes (limit yaml-nodes); raise it with --limit yaml-nodes=26" },
	{ "too big", "a: 12345\n", 0, { 5, 0, 0, 0 }, "0:0",
	  "input is larger than the limit of 5 bytes (limit yaml-bytes); raise it with --limit yaml-bytes=9 (eng_doc_limits.max_bytes)" },
};

Test(yamldoc, errors)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const error_case *tc = &error_cases[i];
		eng_diags *d = eng_diags_new(0);
		eng_status st = ENG_OK;
		size_t len = tc->len ? tc->len : strlen(tc->text);
		eng_doc *doc = eng_doc_read_string("t.yaml", tc->text, len, &tc->limits, d, &st);
		cr_expect_null(doc, "%s: read", tc->name);
		cr_expect_eq(st, ENG_ERR_LOAD, "%s: status %d", tc->name, st);
		bool found = false;
		for (size_t j = 0; j < eng_diags_count(d); j++) {
			const eng_diag *g = eng_diags_get(d, j);
			char at[32];
			snprintf(at, sizeof(at), "%u:%u", g->line, g->col);
			found |= strcmp(at, tc->pos) == 0 && strstr(g->message, tc->msg) &&
			         strcmp(g->file, "t.yaml") == 0;
		}
		cr_expect(found, "%s: no error %s: %s; got:%s", tc->name, tc->pos, tc->msg,
		          diags_text(d));
		eng_doc_free(doc);
		eng_diags_free(d);
	}
}

/* The billion laughs: nine levels of nine aliases. It must stop at the node limit
 * without expanding anything. */
Test(yamldoc, alias_bomb, .timeout = 5)
{
	static const char text[] =
		"a: &a [x, x, x, x, x, x, x, x, x]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
		"i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	eng_diags *d = eng_diags_new(0);
	eng_status st;
	eng_doc *doc = eng_doc_read_string("bomb.yaml", text, sizeof(text) - 1, NULL, d, &st);
	cr_expect_null(doc);
	cr_expect_eq(st, ENG_ERR_LOAD);
	cr_assert_eq(eng_diags_count(d), 1, "%s", diags_text(d));
	cr_expect(strstr(eng_diags_get(d, 0)->message, "(limit yaml-nodes)"), "%s", diags_text(d));
	eng_diags_free(d);
}

/* Deep nesting stops at the default depth, long before libyaml's own stack grows. */
Test(yamldoc, deep_nesting, .timeout = 5)
{
	size_t n = 100000;
	char *text = malloc(n);
	cr_assert(text);
	memset(text, '[', n);
	eng_diags *d = eng_diags_new(0);
	eng_status st;
	cr_expect_null(eng_doc_read_string("deep.yaml", text, n, NULL, d, &st));
	cr_expect_eq(st, ENG_ERR_LOAD);
	cr_expect(eng_diags_count(d) == 1 && eng_diags_get(d, 0)->col == 65 &&
	          strstr(eng_diags_get(d, 0)->message, "64 levels (limit yaml-depth)"), "%s",
	          diags_text(d));
	free(text);
	eng_diags_free(d);
}

/* Errors that do not stop the parser are all collected. */
Test(yamldoc, several_errors)
{
	static const char text[] = "a: 1\na: 2\nb: *x\nc: {d: 1, d: 2}\n";
	eng_diags *d = eng_diags_new(0);
	cr_expect_null(eng_doc_read_string("t.yaml", text, sizeof(text) - 1, NULL, d, NULL));
	cr_expect_eq(eng_diags_errors(d), 3, "%s", diags_text(d));
	eng_diags_free(d);
}

/* ---- files ---- */

Test(yamldoc, files)
{
	char dir[] = "/tmp/mlarch-yamldoc-XXXXXX";
	cr_assert(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/d.yaml", dir);
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fputs("a: 1\nb: [2]\n", f);
	fclose(f);
	eng_diags *d = eng_diags_new(0);
	eng_status st;

	eng_doc *doc = eng_doc_read_file(path, NULL, d, &st);
	cr_assert(doc, "%s", diags_text(d));
	cr_expect_eq(st, ENG_OK);
	cr_expect_str_eq(eng_doc_name(doc), path);
	cr_expect_eq(eng_node_line(eng_node_get(eng_doc_root(doc), "b")), 2);
	eng_doc_free(doc);

	eng_doc_limits small = { 4, 0, 0, 0 };
	cr_expect_null(eng_doc_read_file(path, &small, d, &st));
	cr_expect_eq(st, ENG_ERR_LOAD);

	eng_diags_clear(d);
	cr_expect_null(eng_doc_read_file(dir, NULL, d, &st));
	cr_expect_eq(st, ENG_ERR_IO);
	cr_assert_eq(eng_diags_count(d), 1);
	char want[300];
	snprintf(want, sizeof(want), "cannot read `%s`: Is a directory", dir);
	cr_expect_str_eq(eng_diags_get(d, 0)->message, want);
	cr_expect_str_eq(eng_diags_get(d, 0)->file, dir);

	eng_diags_clear(d);
	snprintf(path, sizeof(path), "%s/missing.yaml", dir);
	cr_expect_null(eng_doc_read_file(path, NULL, d, &st));
	cr_expect_eq(st, ENG_ERR_IO);
	cr_expect(eng_diags_count(d) == 1 &&
	          strstr(eng_diags_get(d, 0)->message, "No such file or directory") &&
	          strstr(eng_diags_get(d, 0)->message, "missing.yaml"), "%s", diags_text(d));

	snprintf(path, sizeof(path), "%s/d.yaml", dir);
	unlink(path);
	rmdir(dir);
	eng_diags_free(d);
}
