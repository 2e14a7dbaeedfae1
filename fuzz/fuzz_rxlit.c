/* SPDX-License-Identifier: MIT */
/*
 * fuzz_rxlit.c - arbitrary bytes as a pattern and a text (split at the first newline): when
 * the pattern compiles and matches the text, the words rxlit.c says it needs must be in
 * the text - the filter may never skip a text the pattern matches. And the bytes as the
 * words of a compiled cache (rxlit_decode): refused, or words that encode back to the same
 * bytes; the bytes as a table of words (rxlit_table_open), checked against a text; the
 * words of the pattern survive encoding and decoding.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "regex.h"
#include "rxlit.h"

/* Decodes DATA[0..SIZE) as cached words: refused, or encoded back to the same bytes. */
static void decode_door(const uint8_t *data, size_t size)
{
	rxlit r;
	bool nomem;
	size_t used = rxlit_decode(data, size, &r, &nomem);
	FUZZ_CHECK(used <= size, "decoded past the end");
	if (!used) {
		FUZZ_CHECK(r.nwords == 0, "words from refused bytes");
		return;
	}
	FUZZ_CHECK(rxlit_encoded_size(&r) == used, "a size that does not fit the bytes");
	unsigned char *back = malloc(used);
	if (back) {
		rxlit_encode(&r, back);
		FUZZ_CHECK(memcmp(back, data, used) == 0, "words that do not encode back");
		free(back);
	}
	rxlit_free(&r);
}

/* DATA[1..SIZE) as the words table of a compiled cache (rxlit_table_open) of DATA[0] % 8
 * patterns: refused, or requirements that can be checked against a text whatever their
 * bytes (only the table's frame is checked when it opens), and that, when their encoding
 * is one rxlit_decode accepts, answer as the decoded copy does. */
static void table_door(const uint8_t *data, size_t size)
{
	enum { MAXN = 8 };
	static const char text[] = "a b ab abc to s3 kinesis data firehose";
	if (size < 1)
		return;
	size_t n = data[0] % MAXN;
	rxlit v[MAXN];
	rxlit_table *t = rxlit_table_open(data + 1, size - 1, n, v);
	rxlit_text in_table, in_copy;
	rxlit_text_index(&in_table, text, sizeof(text) - 1);
	rxlit_text_index(&in_copy, text, sizeof(text) - 1);
	for (size_t i = 0; t && i < n; i++) {
		bool may = rxlit_may_match_in(&v[i], &in_table);
		size_t el = rxlit_encoded_size(&v[i]);
		unsigned char *buf = malloc(el);
		if (!buf)
			break;
		rxlit_encode(&v[i], buf);
		rxlit back;
		bool nomem;
		size_t used = rxlit_decode(buf, el, &back, &nomem);
		FUZZ_CHECK(!used || used == el, "a requirement of a table decodes to another size");
		FUZZ_CHECK(!used || back.nwords == v[i].nwords, "words lost from a table");
		FUZZ_CHECK(!used || rxlit_may_match_in(&back, &in_copy) == may,
		           "a requirement of a table answers otherwise than its copy");
		rxlit_free(&back);
		free(buf);
	}
	rxlit_table_free(t);
}

/* The words of PATTERN through rxlit_encode and rxlit_decode come back the same. */
static void round_trip(const rx *re)
{
	const rxlit *need = rx_need(re);
	size_t n = rxlit_encoded_size(need);
	unsigned char *buf = malloc(n);
	if (!buf)
		return;
	rxlit_encode(need, buf);
	rxlit back;
	bool nomem;
	size_t used = rxlit_decode(buf, n, &back, &nomem);
	FUZZ_CHECK(used == n || nomem, "the words of a pattern were refused");
	FUZZ_CHECK(!used || back.nwords == need->nwords, "words lost on the way");
	for (uint32_t i = 0; used && i < back.nwords; i++)
		FUZZ_CHECK(strncmp(back.words[i], need->words[i], RXLIT_WORD_MAX) == 0,
		           "a word changed on the way");
	for (uint32_t i = 0; used && i < back.nwords; i++)      /* a cut word loses its end */
		FUZZ_CHECK((rxlit_word_edges(&back, i) & ~rxlit_word_edges(need, i)) == 0 &&
		           ((rxlit_word_edges(need, i) & ~rxlit_word_edges(&back, i)) == 0 ||
		            strlen(need->words[i]) > RXLIT_WORD_MAX),
		           "the edges of a word changed on the way");
	rxlit_free(&back);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_door(data, size);
	table_door(data, size);
	const uint8_t *nl = memchr(data, '\n', size);
	if (!nl)
		return 0;
	size_t plen = (size_t)(nl - data), tlen = size - plen - 1;
	char *pattern = malloc(plen + 1), *text = malloc(tlen + 1), *low = malloc(tlen + 1);
	if (!pattern || !text || !low)
		goto done;
	memcpy(pattern, data, plen);
	pattern[plen] = '\0';
	memcpy(text, nl + 1, tlen);
	text[tlen] = '\0';
	if (strlen(pattern) != plen || !rxlit_lower(text, tlen, low))
		goto done;
	rx *re = rx_compile(pattern, NULL, NULL, 0, NULL);
	if (!re)
		goto done;
	round_trip(re);
	rx_span m;
	if (rx_find(re, text, tlen, 0, &m) == 1)
		FUZZ_CHECK(rx_may_match(re, low, tlen), "the filter skipped a text the pattern matches");
	rxlit_text t;
	rxlit_text_index(&t, low, tlen);
	FUZZ_CHECK(rx_may_match_in(re, &t) == rx_may_match(re, low, tlen),
	           "the indexed filter answered otherwise");
	rx_free(re);
done:
	free(pattern);
	free(text);
	free(low);
	return 0;
}
