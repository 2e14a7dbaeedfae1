/* SPDX-License-Identifier: MIT */
/*
 * fuzz_docimage.c - the document images of the compiled cache (engine/docimage.c). A
 * cache file's checksum catches damage, not a file made on purpose, so the image reader
 * must refuse whatever is not an image. Two doors per input:
 *   - the bytes as an image: eng_doc_deserialize must refuse them or give a tree that
 *     reads like one the YAML reader makes (keys are scalars, texts end with a NUL, sizes
 *     agree), within the limits;
 *   - the bytes as YAML: when they parse, serialise and deserialise the tree and check
 *     that every kind, text, quoting, position and shared node comes back the same;
 *     when they also load as rules, the summaries of the rules (eng_rules_deps_image)
 *     read back with the tree (eng_load_doc_lazy) give the same rules, and every
 *     truncation of the summaries is refused;
 *     The same with each rule's tree apart (eng_doc_serialize_rules): the cut tree and
 *     the rules' trees read back with the summaries (eng_load_doc_lazy_trees, the cut
 *     tree freed at once) give the same rules, and every truncation of the trees is
 *     refused;
 *   - the bytes as the summaries of a small rule file's rules: eng_load_doc_lazy refuses
 *     them or adds its rules, which then compile.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

/* Walks N (depth D) as consumers do; counts nodes in *SEEN (aliases expanded). */
static void walk(const eng_node *n, unsigned d, size_t *seen)
{
	FUZZ_CHECK(n != NULL, "a NULL node in a tree");
	FUZZ_CHECK(d <= 64, "a tree deeper than max_depth");
	FUZZ_CHECK(++*seen <= 1000000, "a tree larger than max_nodes");
	size_t len;
	const char *t = eng_node_text(n, &len);
	switch (eng_node_kind_of(n)) {
	case ENG_NODE_SCALAR:
		FUZZ_CHECK(t && t[len] == '\0', "a scalar without its NUL");
		break;
	case ENG_NODE_SEQ:
		for (size_t i = 0; i < eng_node_size(n); i++)
			walk(eng_node_item(n, i), d + 1, seen);
		break;
	case ENG_NODE_MAP:
		for (size_t i = 0; i < eng_node_size(n); i++) {
			FUZZ_CHECK(eng_node_kind_of(eng_node_key(n, i)) == ENG_NODE_SCALAR,
			           "a mapping key that is not a scalar");
			walk(eng_node_key(n, i), d + 1, seen);
			walk(eng_node_value(n, i), d + 1, seen);
		}
		break;
	default:
		FUZZ_CHECK(false, "a node of no kind");
	}
}

/* Whether A and B are the same tree, with the same items shared (aliases). */
static void same(const eng_node *a, const eng_node *b)
{
	FUZZ_CHECK(eng_node_kind_of(a) == eng_node_kind_of(b), "a kind changed");
	FUZZ_CHECK(eng_node_line(a) == eng_node_line(b) && eng_node_col(a) == eng_node_col(b),
	           "a position changed");
	FUZZ_CHECK(eng_node_quoted(a) == eng_node_quoted(b), "quoting changed");
	FUZZ_CHECK(eng_node_size(a) == eng_node_size(b), "a size changed");
	size_t la, lb;
	const char *ta = eng_node_text(a, &la), *tb = eng_node_text(b, &lb);
	FUZZ_CHECK(la == lb && (!ta || memcmp(ta, tb, la) == 0), "a text changed");
	if (eng_node_kind_of(a) == ENG_NODE_SEQ) {
		for (size_t i = 0; i < eng_node_size(a); i++) {
			same(eng_node_item(a, i), eng_node_item(b, i));
			for (size_t j = 0; j < i; j++)
				FUZZ_CHECK((eng_node_item(a, i) == eng_node_item(a, j)) ==
				           (eng_node_item(b, i) == eng_node_item(b, j)),
				           "sharing of nodes changed");
		}
	} else if (eng_node_kind_of(a) == ENG_NODE_MAP) {
		for (size_t i = 0; i < eng_node_size(a); i++) {
			same(eng_node_key(a, i), eng_node_key(b, i));
			same(eng_node_value(a, i), eng_node_value(b, i));
		}
	}
}

static eng *fuzz_engine(void)
{
	eng *e = eng_new();
	FUZZ_CHECK(e != NULL, "out of memory");
	eng_conclusion_kind_add(e, "recommend");
	eng_rules_defer(e);
	return e;
}

/* Every rule of E compiles, as it does in ALL (NULL: no reference). */
static void rules_compile(eng *e, eng *all)
{
	for (size_t i = 0; i < eng_rule_count(e); i++) {
		eng_rule_info a, b;
		FUZZ_CHECK(eng_rule_get(e, i, &b), "a lazy rule that does not compile");
		if (!all)
			continue;
		FUZZ_CHECK(eng_rule_get(all, i, &a) && strcmp(a.id, b.id) == 0 &&
		           a.line == b.line && a.nconds == b.nconds && a.salience == b.salience,
		           "a lazy rule differs from the compiled one");
	}
}

/* The bytes as summaries of a fixed rule file's rules. */
static void deps_door(const uint8_t *data, size_t size)
{
	static const char yaml[] =
		"rules:\n- id: a\n  when: [{x.a: 1}, {y: {in: [p, 2]}}]\n"
		"  then: [{assert: {z: yes}}, {recommend: s}]\n  because: b\n  cite: [n]\n"
		"- id: b\n  when: [{z: ?v}]\n  then: [{modify: [scenario, m, 1]}]\n"
		"  because: b\n  cite: [n]\n";
	eng_status st;
	eng_doc *doc = eng_doc_read_string("fixed.yaml", yaml, sizeof(yaml) - 1, NULL, NULL, &st);
	FUZZ_CHECK(doc != NULL, "the fixed rule file does not parse");
	eng *e = fuzz_engine();
	st = eng_load_doc_lazy(e, doc, data, size);
	FUZZ_CHECK(st == ENG_OK || st == ENG_ERR_INVALID || st == ENG_ERR_NOMEM,
	           "an unexpected status");
	FUZZ_CHECK(st == ENG_OK ? eng_rule_count(e) == 2 : eng_rule_count(e) == 0,
	           "a refused image added rules, or an accepted one not all");
	if (st == ENG_OK)
		rules_compile(e, NULL);
	eng_free(e);
	eng_doc_free(doc);
}

/* DOC, whose rules ALL holds with their summaries IMG[0..LEN), as a cut tree and the
 * rules' own trees: read back, the same rules. */
static void trees_roundtrip(const eng_doc *doc, eng *all, const unsigned char *img, size_t len)
{
	unsigned char *skel = NULL, *trees = NULL;
	size_t slen = 0, tlen = 0;
	eng_status st = eng_doc_serialize_rules(doc, &skel, &slen, &trees, &tlen);
	FUZZ_CHECK(st == ENG_OK || st == ENG_ERR_NOMEM, "rules that do not serialise apart");
	if (st != ENG_OK)
		return;
	eng_doc *cut = eng_doc_deserialize("fuzz.yaml", skel, slen, NULL, NULL, &st);
	FUZZ_CHECK(cut || st == ENG_ERR_NOMEM, "a cut tree refused by its own reader");
	if (cut) {
		eng *e = fuzz_engine();
		st = eng_load_doc_lazy_trees(e, cut, img, len, trees, tlen);
		eng_doc_free(cut);      /* the rules read their own trees */
		FUZZ_CHECK(st == ENG_OK || st == ENG_ERR_NOMEM ||
		           (eng_rule_count(all) == 0 && st == ENG_ERR_INVALID),
		           "rules' trees refused by their own reader");
		if (st == ENG_OK) {
			FUZZ_CHECK(eng_rule_count(e) == eng_rule_count(all), "the rules changed");
			rules_compile(e, all);
		}
		eng_free(e);
		for (size_t c = 0; eng_rule_count(all) && c < tlen; c += 1 + tlen / 64) {
			cut = eng_doc_deserialize("fuzz.yaml", skel, slen, NULL, NULL, &st);
			if (!cut)
				break;
			e = fuzz_engine();
			st = eng_load_doc_lazy_trees(e, cut, img, len, trees, c);
			FUZZ_CHECK(st != ENG_OK && eng_rule_count(e) == 0,
			           "truncated rules' trees were accepted");
			eng_free(e);
			eng_doc_free(cut);
		}
	}
	free(skel);
	free(trees);
}

/* DOC loaded as rules; when it loads, its summaries read back with it. */
static void deps_roundtrip(const eng_doc *doc)
{
	eng *all = fuzz_engine();
	if (eng_load_doc(all, doc, NULL) != ENG_OK) {
		eng_free(all);
		return;
	}
	unsigned char *img = NULL;
	size_t len = 0;
	if (eng_rules_deps_image(all, 0, eng_rule_count(all), &img, &len) != ENG_OK) {
		eng_free(all);
		return;
	}
	eng *e = fuzz_engine();
	eng_status st = eng_load_doc_lazy(e, doc, img, len);
	FUZZ_CHECK(st == ENG_OK || st == ENG_ERR_NOMEM, "summaries refused by their own reader");
	if (st == ENG_OK) {
		FUZZ_CHECK(eng_rule_count(e) == eng_rule_count(all), "the rules changed");
		rules_compile(e, all);
	}
	eng_free(e);
	for (size_t cut = 0; cut < len; cut += 1 + len / 64) {
		e = fuzz_engine();
		st = eng_load_doc_lazy(e, doc, img, cut);
		FUZZ_CHECK(st != ENG_OK && eng_rule_count(e) == 0, "truncated summaries were accepted");
		eng_free(e);
	}
	trees_roundtrip(doc, all, img, len);
	free(img);
	eng_free(all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	deps_door(data, size);
	eng_status st;
	eng_doc *img = eng_doc_deserialize("fuzz.bin", data, size, NULL, NULL, &st);
	FUZZ_CHECK((img != NULL) == (st == ENG_OK), "a status that does not fit the result");
	FUZZ_CHECK(img || st == ENG_ERR_INVALID || st == ENG_ERR_NOMEM, "an unexpected status");
	if (img) {
		size_t seen = 0;
		if (eng_doc_root(img))
			walk(eng_doc_root(img), 0, &seen);
		FUZZ_CHECK(eng_doc_line(img, 1, NULL) == NULL, "lines without a source");
		eng_doc_free(img);
	}
	/* the same bytes read in place (texts left in them) pass or fail alike */
	eng_status bst;
	eng_doc *view = eng_doc_deserialize_borrowed("fuzz.bin", data, size, NULL, NULL, &bst);
	FUZZ_CHECK(!view == !img || bst == ENG_ERR_NOMEM || st == ENG_ERR_NOMEM,
	           "read in place, the image is judged otherwise");
	if (view) {
		size_t seen = 0;
		if (eng_doc_root(view))
			walk(eng_doc_root(view), 0, &seen);
		eng_doc_free(view);
	}

	eng_doc *doc = eng_doc_read_string("fuzz.yaml", (const char *)data, size, NULL, NULL, &st);
	if (!doc)
		return 0;
	unsigned char *buf = NULL;
	size_t len = 0;
	st = eng_doc_serialize(doc, &buf, &len);
	FUZZ_CHECK(st == ENG_OK || st == ENG_ERR_NOMEM, "a tree that does not serialise");
	if (st == ENG_OK) {
		eng_doc *back = eng_doc_deserialize("fuzz.yaml", buf, len, NULL, NULL, &st);
		FUZZ_CHECK(back || st == ENG_ERR_NOMEM, "an image refused by its own reader");
		if (back) {
			FUZZ_CHECK(!eng_doc_root(doc) == !eng_doc_root(back), "the root changed");
			if (eng_doc_root(doc))
				same(eng_doc_root(doc), eng_doc_root(back));
			/* every truncation is refused, never read past */
			for (size_t cut = 0; cut < len; cut += 1 + len / 64) {
				eng_doc *part = eng_doc_deserialize("cut", buf, cut, NULL, NULL, &st);
				FUZZ_CHECK(!part && st == ENG_ERR_INVALID, "a truncated image was accepted");
			}
			eng_doc_free(back);
		}
	}
	free(buf);
	deps_roundtrip(doc);
	eng_doc_free(doc);
	return 0;
}
