/* SPDX-License-Identifier: MIT */
/*
 * test_yamlfast.c - the quick YAML reader (engine/yamlfast.c) against libyaml: every
 * text must give the same tree (kinds, texts, quoting, positions) or the same failure
 * whichever reads it. A table of cases, each saying whether the quick reader takes it
 * or leaves it to libyaml; every YAML file of the repository (rules, scenarios,
 * benchmarks, examples); and thousands of mutants of rule texts, bytes changed, put in
 * and taken out, which mostly are what the quick reader must refuse or read right.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "engine.h"

static void same(const char *name, const eng_node *a, const eng_node *b)
{
	cr_assert_eq(eng_node_kind_of(a), eng_node_kind_of(b), "%s: kind at %u:%u", name,
	             eng_node_line(a), eng_node_col(a));
	cr_assert_eq(eng_node_line(a), eng_node_line(b), "%s: line %u, quick %u", name,
	             eng_node_line(a), eng_node_line(b));
	cr_assert_eq(eng_node_col(a), eng_node_col(b), "%s: column at line %u: %u, quick %u",
	             name, eng_node_line(a), eng_node_col(a), eng_node_col(b));
	cr_assert_eq(eng_node_quoted(a), eng_node_quoted(b), "%s: quoted at %u:%u", name,
	             eng_node_line(a), eng_node_col(a));
	cr_assert_eq(eng_node_size(a), eng_node_size(b), "%s: size at %u:%u", name,
	             eng_node_line(a), eng_node_col(a));
	size_t la, lb;
	const char *ta = eng_node_text(a, &la), *tb = eng_node_text(b, &lb);
	cr_assert_eq(la, lb, "%s: text length at %u:%u", name, eng_node_line(a), eng_node_col(a));
	if (ta)
		cr_assert(memcmp(ta, tb, la + 1) == 0, "%s: `%s`, quick `%s`", name, ta, tb);
	size_t n = eng_node_size(a) * (eng_node_kind_of(a) == ENG_NODE_MAP ? 2 : 1);
	for (size_t i = 0; i < n; i++) {
		bool map = eng_node_kind_of(a) == ENG_NODE_MAP;
		same(name, map ? (i % 2 ? eng_node_value(a, i / 2) : eng_node_key(a, i / 2))
		               : eng_node_item(a, i),
		     map ? (i % 2 ? eng_node_value(b, i / 2) : eng_node_key(b, i / 2))
		         : eng_node_item(b, i));
	}
}

static bool ignore(void *ctx, const doc_ev *ev)
{
	(void)ctx;
	(void)ev;
	return true;
}

/* Reads TEXT both ways and compares; returns whether the quick reader took it. */
static bool compare(const char *name, const char *text, size_t len)
{
	eng_status sa, sb;
	eng_diags *da = eng_diags_new(64), *db = eng_diags_new(64);
	cr_assert(da && db);
	eng_doc *a = doc_read_string_libyaml(name, text, len, da, &sa);
	eng_doc *b = eng_doc_read_string(name, text, len, NULL, db, &sb);
	cr_assert_eq(sa, sb, "%s: status %s, quick %s\n%.*s", name, eng_status_str(sa),
	             eng_status_str(sb), (int)len, text);
	cr_assert_eq(!a, !b, "%s: read by one only", name);
	cr_assert_eq(eng_diags_count(da), eng_diags_count(db), "%s: diagnostics", name);
	if (a) {
		cr_assert_eq(!eng_doc_root(a), !eng_doc_root(b), "%s: root", name);
		if (eng_doc_root(a))
			same(name, eng_doc_root(a), eng_doc_root(b));
	}
	eng_doc_free(a);
	eng_doc_free(b);
	eng_diags_free(da);
	eng_diags_free(db);
	return doc_fast_read(text, len, ignore, NULL);
}

static const struct {
	const char *name, *text;
	bool quick;     /* the quick reader takes it */
} cases[] = {
	{ "rule", "rules:\n  - id: r1\n    because: it is so, (really) [sure]\n    when:\n"
	  "      - [?alg, 'q', \"dq\", ?, 12, -3.5]\n      - [?x, a, {as: ?m, \"!=\": ?p1}]\n"
	  "    then:\n      - assert: [?x, b, yes]   # a comment\n", true },
	{ "indentless sequence", "a:\n- 1\n- [x, y]\nb: 2\n", true },
	{ "nested indentless", "- id: x\n  when:\n  - a\n  - b\n  then: c\n- id: y\n", true },
	{ "compact mappings", "-   k: v\n    k2: 'w'\n- 'q': 1\n", true },
	{ "comments and blanks", "# head\n\na: 1 # c\n\n# mid\nb:   # c\n  - x#y\n", true },
	{ "single quotes", "a: 'it''s'\nb: ''\nc: [' x ', '']\n", true },
	{ "double quotes", "a: \"x # y\"\nb: \"\"\n", true },
	{ "empty flow", "a: []\nb: {}\nc: [[], {}]\n", true },
	{ "nested flow", "a: [1, [2, [3]], {k: [4]}]\n", true },
	{ "colons inside", "a: http://x.y/z\nb: a:b\n", true },
	{ "spaces inside", "a: [one two, three]\nb: x  y  \n", true },
	{ "lone qmarks", "a: [?, ?]\nb: {x: ?}\n", true },
	{ "no final newline", "a: 1", true },
	{ "indented root", "  a: 1\n  b: 2\n", true },
	{ "root sequence", "- 1\n- 2\n", true },
	{ "duplicate key", "a: 1\na: 2\n", true },
	{ "merge key", "<<: 1\n", true },
	{ "deep", "a:\n b:\n  c:\n   d: [1]\n", true },
	{ "tab", "a:\t1\n", false },
	{ "CRLF", "a: 1\r\nb: 2\r\n", false },
	{ "UTF-8", "a: \xC3\xA9t\xC3\xA9\n", false },
	{ "anchor and alias", "a: &x 1\nb: *x\n", false },
	{ "tag", "a: !!str 1\n", false },
	{ "block scalar", "a: |\n  x\n", false },
	{ "folded scalar", "a: >\n  x\n", false },
	{ "plain over two lines", "a: one\n  two\n", false },
	{ "quoted over two lines", "a: 'one\n  two'\n", false },
	{ "flow over two lines", "a: [1,\n  2]\n", false },
	{ "escape", "a: \"x\\ty\"\n", false },
	{ "empty value", "a:\nb: 1\n", false },
	{ "empty value at the end", "a: 1\nb:\n", false },
	{ "empty item", "-\n- 1\n", false },
	{ "explicit key", "? a\n: b\n", false },
	{ "explicit key in flow", "a: [? x]\n", false },
	{ "document marker", "---\na: 1\n", false },
	{ "document end", "a: 1\n...\n", false },
	{ "directive", "%YAML 1.1\n---\na: 1\n", false },
	{ "two documents", "a: 1\n---\nb: 2\n", false },
	{ "scalar root", "hello\n", false },
	{ "empty", "", false },
	{ "only comments", "# x\n", false },
	{ "mapping in a value", "a: b: c\n", false },
	{ "sequence in a value", "a: - b\n", false },
	{ "nested sequence on a line", "- - a\n", false },
	{ "bad dedent", "a:\n    b: 1\n  c: 2\n", false },
	{ "key after root", "- a\nb: 1\n", false },
	{ "trailing comma", "a: [1, 2,]\n", false },
	{ "pair in flow sequence", "a: [x: 1]\n", false },
	{ "flow key", "[a]: 1\n", false },
	{ "text after quotes", "a: 'x' y\n", false },
	{ "text after flow", "a: [x] y\n", false },
	{ "comment in flow", "a: [x #c\n  ]\n", false },
	{ "flow colon", "a: [x:y]\n", false },
	{ "deeper comment", "a: x\n   # c\nb: 1\n", false },
	{ "unclosed flow", "a: [x, y\n", false },
	{ "indicator start", "a: @x\n", false },
	{ "comma start", "a: ,x\n", false },
	{ "backtick", "a: `x\n", false },
	{ "NUL", "a: 1\n\0b: 2\n", false },
};

Test(yamlfast, table)
{
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t len = strlen(cases[c].text);
		if (!strcmp(cases[c].name, "NUL"))
			len = 11;
		bool quick = compare(cases[c].name, cases[c].text, len);
		cr_expect_eq(quick, cases[c].quick, "%s: the quick reader %s it", cases[c].name,
		             quick ? "takes" : "leaves");
	}
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (size_t r; buf && (r = fread(buf + n, 1, cap - n, f)) > 0;) {
		n += r;
		if (n == cap) {
			char *b = realloc(buf, cap *= 2);
			if (!b)
				free(buf);
			buf = b;
		}
	}
	fclose(f);
	*len = n;
	return buf;
}

/* Compares every .yaml file under DIR (not the held-out sets); counts files and those
 * the quick reader took. */
static void compare_tree(const char *dir, size_t *files, size_t *quick)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.' || !strncmp(e->d_name, "heldout", 7))
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		size_t n = strlen(e->d_name);
		if (n > 5 && !strcmp(e->d_name + n - 5, ".yaml")) {
			size_t len = 0;
			char *text = slurp(path, &len);
			cr_assert_not_null(text, "%s", path);
			*quick += compare(path, text, len);
			++*files;
			free(text);
		} else if (!strchr(e->d_name, '.')) {
			compare_tree(path, files, quick);
		}
	}
	closedir(d);
}

Test(yamlfast, repository_files)
{
	size_t files = 0, quick = 0;
	const char *dirs[] = { "rules", "scenarios", "bench", "examples", "tests" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		compare_tree(dirs[i], &files, &quick);
	cr_assert_gt(files, 100, "the repository's YAML files were found (%zu)", files);
	cr_expect_gt(quick, 0, "the quick reader took none of %zu files", files);
}

/* Mutants of rule texts: one to three edits each, from bytes that matter to YAML. */
Test(yamlfast, mutants)
{
	static const char *seeds[] = {
		"rules:\n  - id: r1\n    because: it is so\n    when:\n      - [?a, b, 'c']\n"
		"      - {as: ?m, \"<\": 3}\n    then:\n      - assert: [?a, d, yes]\n",
		"a:\n- [x, y]\n- k: v\n  k2: [1, {z: ?}]\nb: 'it''s' # c\n",
	};
	static const char alphabet[] = " :-#[]{},'\"?\n&*!|>%@`x1.\\\t";
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	size_t quick = 0, total = 0;
	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		for (int m = 0; m < 3000; m++) {
			char buf[512];
			size_t len = strlen(seeds[s]);
			memcpy(buf, seeds[s], len);
			char name[64];
			int edits = 1 + (int)(rng % 3);
			for (int k = 0; k < edits; k++) {
				rng = rng * 6364136223846793005ull + 1442695040888963407ull;
				size_t at = (size_t)(rng >> 33) % (len + 1);
				char c = alphabet[(rng >> 20) % (sizeof(alphabet) - 1)];
				switch ((rng >> 8) % 3) {
				case 0:   /* replace */
					if (at < len)
						buf[at] = c;
					break;
				case 1:   /* insert */
					memmove(buf + at + 1, buf + at, len - at);
					buf[at] = c;
					len++;
					break;
				default:  /* delete */
					if (at < len) {
						memmove(buf + at, buf + at + 1, len - at - 1);
						len--;
					}
					break;
				}
			}
			snprintf(name, sizeof(name), "seed %zu mutant %d", s, m);
			quick += compare(name, buf, len);
			total++;
		}
	}
	cr_expect_gt(quick, total / 10, "the quick reader took %zu of %zu mutants", quick, total);
}
