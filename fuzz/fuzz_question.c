/* SPDX-License-Identifier: MIT */
/*
 * fuzz_question.c - arbitrary bytes as a pasted question: question_parse, then extract over
 * the stem and each option with the real knowledge base, checking that every offset the
 * two hand out lies inside the text it describes, and that skipping the patterns whose
 * words the text lacks (rxlit.c) finds exactly the facts that running every pattern does.
 */
#include "fuzz.h"

#include <string.h>

#include "extract.h"
#include "question.h"

/* The facts of TEXT[0..LEN) with every pattern run must be those of X. */
static void check_prefilter(kb *k, const char *text, size_t len, lex_scope scope,
                            eng_sym attr, const xfacts *x)
{
	xfacts all = { .v = NULL };
	k->no_prefilter = true;
	eng_status st = extract(k, text, len, scope, attr, &all);
	k->no_prefilter = false;
	if (st == ENG_OK) {
		FUZZ_CHECK(all.n == x->n, "the prefilter changed the number of facts");
		for (size_t i = 0; i < all.n; i++)
			FUZZ_CHECK(all.v[i].attr == x->v[i].attr && all.v[i].start == x->v[i].start &&
			           all.v[i].end == x->v[i].end &&
			           eng_value_eq(all.v[i].value, x->v[i].value),
			           "the prefilter changed a fact");
	}
	xfacts_free(&all);
}

static void check_facts(const xfacts *x, size_t len)
{
	for (size_t i = 0; i < x->n; i++) {
		FUZZ_CHECK(x->v[i].start <= x->v[i].end && x->v[i].end <= len,
		           "a fact's span lies outside its text");
		FUZZ_CHECK(x->v[i].attr != 0, "a fact without an attribute");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	question q;
	size_t off = (size_t)-1;
	q_status qs = question_parse((const char *)data, size, 0, &q, &off);
	FUZZ_CHECK(q_status_str(qs) != NULL, "a status without a name");
	if (qs != Q_OK) {
		FUZZ_CHECK(q.text == NULL, "a failed parse left text behind");
		FUZZ_CHECK(qs == Q_ERR_NOMEM || qs == Q_ERR_TOO_LONG || off <= size,
		           "an error offset outside the input");
		return 0;
	}
	FUZZ_CHECK(q.text && q.len > 0 && q.text[q.len] == '\0', "a parsed question is not a string");
	FUZZ_CHECK(strlen(q.text) == q.len, "a NUL inside the normalised text");
	/* tabs: at most 2 x; tables written out: at most 3 x that + 1 KB; contractions spelt
	 * out: at most twice the result (question.h) */
	FUZZ_CHECK(q.len <= 2 * (3 * 2 * size + 1024), "normalising grew the text past its bound");
	for (uint32_t r = 0; r < q.nrows; r++)
		FUZZ_CHECK(q.rows[r].start <= q.rows[r].label_start &&
		           q.rows[r].label_start <= q.rows[r].label_end &&
		           q.rows[r].label_end <= q.rows[r].end && q.rows[r].end <= q.stem_end,
		           "a table row outside the stem");
	FUZZ_CHECK(q.stem_end <= q.len, "the stem ends past the text");
	FUZZ_CHECK(q.nopts <= Q_MAX_OPTIONS, "too many options");
	FUZZ_CHECK(q.choose >= 1, "choose must be at least 1");
	for (uint32_t i = 0; i < q.nopts; i++) {
		FUZZ_CHECK(q.opts[i].letter == (char)('A' + i), "options out of order");
		FUZZ_CHECK(q.opts[i].start <= q.opts[i].end && q.opts[i].end <= q.len,
		           "an option outside the text");
		FUZZ_CHECK(q.opts[i].start >= q.stem_end, "an option inside the stem");
	}
	kb *k = fuzz_kb();
	xfacts x = { .v = NULL };
	if (extract(k, q.text, q.stem_end, LEX_STEM, k->s_mentions, &x) == ENG_OK) {
		check_facts(&x, q.stem_end);
		check_prefilter(k, q.text, q.stem_end, LEX_STEM, k->s_mentions, &x);
	}
	xfacts_free(&x);
	for (uint32_t i = 0; i < q.nopts; i++) {
		size_t len = q.opts[i].end - q.opts[i].start;
		if (extract(k, q.text + q.opts[i].start, len, LEX_OPTION, k->s_uses, &x) == ENG_OK) {
			check_facts(&x, len);
			check_prefilter(k, q.text + q.opts[i].start, len, LEX_OPTION, k->s_uses, &x);
		}
		xfacts_free(&x);
	}
	question_free(&q);
	return 0;
}
