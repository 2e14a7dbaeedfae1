/* SPDX-License-Identifier: MIT */
/*
 * fuzz_rxlit.c - arbitrary bytes as a pattern and a text (split at the first newline): when
 * the pattern compiles and matches the text, the words rxlit.c says it needs must be in
 * the text - the filter may never skip a text the pattern matches.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "regex.h"
#include "rxlit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
	rx_span m;
	if (rx_find(re, text, tlen, 0, &m) == 1)
		FUZZ_CHECK(rx_may_match(re, low, tlen), "the filter skipped a text the pattern matches");
	rx_free(re);
done:
	free(pattern);
	free(text);
	free(low);
	return 0;
}
