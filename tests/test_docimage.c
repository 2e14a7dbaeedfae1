/* SPDX-License-Identifier: MIT */
/*
 * test_docimage.c - document images (engine/docimage.c): a table of YAML documents that
 * must come back from eng_doc_serialize / eng_doc_deserialize as the same tree (kinds,
 * texts, quoting, positions, shared alias nodes), with their lines read from the source
 * file on demand; and damaged images, every one of which must be refused.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

/* The same tree, with the same items shared; the case name on failure. */
static void same(const char *name, const eng_node *a, const eng_node *b)
{
	cr_assert_eq(eng_node_kind_of(a), eng_node_kind_of(b), "%s: kind", name);
	cr_assert_eq(eng_node_line(a), eng_node_line(b), "%s: line", name);
	cr_assert_eq(eng_node_col(a), eng_node_col(b), "%s: column", name);
	cr_assert_eq(eng_node_quoted(a), eng_node_quoted(b), "%s: quoted", name);
	cr_assert_eq(eng_node_size(a), eng_node_size(b), "%s: size", name);
	size_t la, lb;
	const char *ta = eng_node_text(a, &la), *tb = eng_node_text(b, &lb);
	cr_assert_eq(la, lb, "%s: text length", name);
	if (ta)
		cr_assert(memcmp(ta, tb, la + 1) == 0, "%s: text `%s` came back `%s`", name, ta, tb);
	size_t n = eng_node_size(a) * (eng_node_kind_of(a) == ENG_NODE_MAP ? 2 : 1);
	for (size_t i = 0; i < n; i++) {
		const eng_node *ai = eng_node_kind_of(a) == ENG_NODE_MAP
		                     ? (i % 2 ? eng_node_value(a, i / 2) : eng_node_key(a, i / 2))
		                     : eng_node_item(a, i);
		const eng_node *bi = eng_node_kind_of(b) == ENG_NODE_MAP
		                     ? (i % 2 ? eng_node_value(b, i / 2) : eng_node_key(b, i / 2))
		                     : eng_node_item(b, i);
		same(name, ai, bi);
	}
}

/* Whether B is A node for node, each scalar's text inside IMG[0..LEN). */
static void same_tree(const char *name, const eng_node *a, const eng_node *b,
                      const unsigned char *img, size_t len)
{
	cr_assert_eq(eng_node_kind_of(a), eng_node_kind_of(b), "%s", name);
	cr_assert_eq(eng_node_line(a), eng_node_line(b), "%s", name);
	cr_assert_eq(eng_node_size(a), eng_node_size(b), "%s", name);
	if (eng_node_kind_of(a) == ENG_NODE_SCALAR) {
		size_t la, lb;
		const char *ta = eng_node_text(a, &la), *tb = eng_node_text(b, &lb);
		cr_assert_eq(la, lb, "%s", name);
		cr_assert(memcmp(ta, tb, la) == 0, "%s", name);
		cr_assert((const unsigned char *)tb >= img &&
		          (const unsigned char *)tb + lb < img + len, "%s: a text outside the image",
		          name);
		return;
	}
	for (size_t i = 0; i < eng_node_size(a); i++) {
		if (eng_node_kind_of(a) == ENG_NODE_MAP) {
			same_tree(name, eng_node_key(a, i), eng_node_key(b, i), img, len);
			same_tree(name, eng_node_value(a, i), eng_node_value(b, i), img, len);
		} else {
			same_tree(name, eng_node_item(a, i), eng_node_item(b, i), img, len);
		}
	}
}

/* A round trip of TEXT; returns the image (the caller frees it) in *IMG. */
static eng_doc *round_trip(const char *name, const char *text, eng_doc **orig,
                           unsigned char **img, size_t *len)
{
	eng_status st;
	*orig = eng_doc_read_string(name, text, strlen(text), NULL, NULL, &st);
	cr_assert_not_null(*orig, "%s: does not parse", name);
	cr_assert_eq(eng_doc_serialize(*orig, img, len), ENG_OK, "%s: serialize", name);
	eng_doc *back = eng_doc_deserialize(name, *img, *len, NULL, NULL, &st);
	cr_assert_not_null(back, "%s: its own image refused (%s)", name, eng_status_str(st));
	cr_assert_eq(st, ENG_OK);
	cr_assert_str_eq(eng_doc_name(back), name);
	/* read in place: the same tree, its texts in the image */
	eng_doc *view = eng_doc_deserialize_borrowed(name, *img, *len, NULL, NULL, &st);
	cr_assert_not_null(view, "%s: its own image refused in place", name);
	cr_assert_eq(!eng_doc_root(view), !eng_doc_root(back), "%s", name);
	if (eng_doc_root(view))
		same_tree(name, eng_doc_root(back), eng_doc_root(view), *img, *len);
	eng_doc_free(view);
	return back;
}

static const struct {
	const char *name, *text;
} docs[] = {
	{ "empty document", "" },
	{ "one scalar", "hello\n" },
	{ "rule with variables",
	  "rules:\n  - id: r1\n    when:\n      - [?alg, 'q', \"dq\", ?, 12]\n"
	  "      - {as: ?m, x: ?}\n    because: |\n      two\n      lines\n" },
	{ "aliases shared", "a: &x {k: [1, 2]}\nb: *x\nc: [*x, *x]\n" },
	{ "quoting kept", "p: plain\ns: 'single'\nd: \"double\"\nt: !!str 12\nf: >\n  folded\n" },
	{ "UTF-8 columns", "clé: été\nnext: [ü, ß]\n" },
	{ "empty collections", "a: []\nb: {}\nc: ~\n" },
	{ "text with a NUL escape", "a: \"x\\0y\"\n" },
};

Test(docimage, round_trip_table)
{
	for (size_t c = 0; c < sizeof(docs) / sizeof(docs[0]); c++) {
		eng_doc *orig;
		unsigned char *img;
		size_t len;
		eng_status st;
		eng_doc *probe = eng_doc_read_string("p", docs[c].text, strlen(docs[c].text), NULL,
		                                     NULL, &st);
		if (!probe)
			continue;       /* a case that is not valid YAML proves nothing here */
		eng_doc_free(probe);
		eng_doc *back = round_trip(docs[c].name, docs[c].text, &orig, &img, &len);
		cr_assert_eq(!eng_doc_root(orig), !eng_doc_root(back), "%s: root", docs[c].name);
		if (eng_doc_root(orig))
			same(docs[c].name, eng_doc_root(orig), eng_doc_root(back));
		eng_doc_free(back);
		eng_doc_free(orig);
		free(img);
	}
}

Test(docimage, aliases_stay_shared)
{
	eng_doc *orig;
	unsigned char *img;
	size_t len;
	eng_doc *back = round_trip("alias", "a: &x {k: [1, 2]}\nb: *x\n", &orig, &img, &len);
	const eng_node *r = eng_doc_root(back);
	cr_expect_eq(eng_node_get(r, "a"), eng_node_get(r, "b"), "an alias is the same node");
	eng_doc_free(back);
	eng_doc_free(orig);
	free(img);
}

Test(docimage, lines_read_from_the_source_on_demand)
{
	char path[] = "/tmp/mlarch-img-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	const char text[] = "rules:\n  - id: r1\n    because: text\n";
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	eng_status st;
	eng_doc *orig = eng_doc_read_file(path, NULL, NULL, &st);
	cr_assert_not_null(orig);
	unsigned char *img;
	size_t len;
	cr_assert_eq(eng_doc_serialize(orig, &img, &len), ENG_OK);
	eng_doc *back = eng_doc_deserialize(path, img, len, path, NULL, &st);
	cr_assert_not_null(back);
	size_t ll;
	cr_expect_str_eq(eng_doc_line(back, 3, &ll), "    because: text");
	cr_expect_eq(ll, 17);
	cr_expect_str_eq(eng_doc_line(back, 4, NULL), "", "after the last line break");
	cr_expect_null(eng_doc_line(back, 5, NULL));
	eng_doc *blind = eng_doc_deserialize("x", img, len, NULL, NULL, &st);
	cr_expect_null(eng_doc_line(blind, 1, NULL), "no source, no lines");
	eng_doc *gone = eng_doc_deserialize("x", img, len, "/nonexistent/mlarch", NULL, &st);
	cr_expect_null(eng_doc_line(gone, 1, NULL), "an unreadable source, no lines");
	eng_doc_free(gone);
	eng_doc_free(blind);
	eng_doc_free(back);
	eng_doc_free(orig);
	free(img);
	unlink(path);
}

/* Word W of the image (the header has seven: magic, format, parser, nodes, items, pool
 * bytes, root; then five per node). */
static void set_word(unsigned char *img, size_t w, uint32_t v)
{
	memcpy(img + 4 * w, &v, 4);
}

Test(docimage, damaged_images_are_refused)
{
	eng_doc *orig;
	unsigned char *img;
	size_t len;
	eng_doc *back = round_trip("damage", "a: [x, {b: c}]\nd: e\n", &orig, &img, &len);
	eng_doc_free(back);
	eng_status st;
	for (size_t cut = 0; cut < len; cut++)
		cr_assert_null(eng_doc_deserialize("c", img, cut, NULL, NULL, &st),
		               "truncated to %zu of %zu bytes", cut, len);
	unsigned char *longer = malloc(len + 1);
	memcpy(longer, img, len);
	longer[len] = 0;
	cr_expect_null(eng_doc_deserialize("c", longer, len + 1, NULL, NULL, &st), "a byte more");
	free(longer);
	/* nodes, children first: 0 a, 1 x, 2 b, 3 c, 4 {b: c}, 5 [x, ...], 6 d, 7 e, 8 root */
	static const struct {
		const char *name;
		size_t word;
		uint32_t value;
	} cases[] = {
		{ "magic", 0, 0x12345678 },
		{ "format version", 1, 99 },
		{ "parser version", 2, 0 },
		{ "node count", 3, 7 },
		{ "root out of range", 6, 9 },
		{ "unknown kind", 7 + 5 * 0, 3 },
		{ "flag bits", 7 + 5 * 0, 1u << 9 },
		{ "scalar past the pool", 7 + 5 * 0 + 4, 1000 },
		{ "scalar size past the pool", 7 + 5 * 0 + 3, 1000 },
		{ "collection past the items", 7 + 5 * 4 + 3, 100 },
		{ "mapping key not a scalar", 7 + 5 * 2, 1 },   /* b: a list of node 0 */
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		unsigned char *bad = malloc(len);
		memcpy(bad, img, len);
		set_word(bad, cases[c].word, cases[c].value);
		eng_doc *d = eng_doc_deserialize("bad", bad, len, NULL, NULL, &st);
		cr_expect_null(d, "%s: accepted", cases[c].name);
		cr_expect_eq(st, ENG_ERR_INVALID, "%s: status %s", cases[c].name,
		             eng_status_str(st));
		eng_doc_free(d);
		free(bad);
	}
	/* an item naming its own collection or a later node: a cycle */
	size_t items = 7 + 5 * 9;       /* the item table follows the nine nodes */
	unsigned char *bad = malloc(len);
	memcpy(bad, img, len);
	set_word(bad, items, 8);
	cr_expect_null(eng_doc_deserialize("cycle", bad, len, NULL, NULL, &st), "a cycle");
	free(bad);
	/* every single byte changed: refused or a well-formed tree, never a crash */
	for (size_t i = 0; i < len; i++) {
		unsigned char *flip = malloc(len);
		memcpy(flip, img, len);
		flip[i] ^= 0xA5;
		eng_doc_free(eng_doc_deserialize("flip", flip, len, NULL, NULL, &st));
		free(flip);
	}
	eng_doc_free(orig);
	free(img);
}

Test(docimage, limits_hold)
{
	eng_doc *orig;
	unsigned char *img;
	size_t len;
	eng_doc *back = round_trip("deep", "a: [[[[x]]]]\nb: &y [1, 2, 3]\nc: [*y, *y, *y]\n",
	                           &orig, &img, &len);
	eng_doc_free(back);
	eng_status st;
	eng_doc_limits shallow = { 0, 4, 0, 0 };
	cr_expect_null(eng_doc_deserialize("d", img, len, NULL, &shallow, &st), "max_depth");
	eng_doc_limits deep_enough = { 0, 5, 0, 0 };
	eng_doc *ok = eng_doc_deserialize("d", img, len, NULL, &deep_enough, &st);
	cr_expect_not_null(ok, "five levels fit max_depth 5");
	eng_doc_free(ok);
	eng_doc_limits few = { 0, 0, 0, 20 };
	cr_expect_null(eng_doc_deserialize("d", img, len, NULL, &few, &st),
	               "aliases expanded past max_nodes");
	eng_doc_free(orig);
	free(img);
}
