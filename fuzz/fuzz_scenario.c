/* SPDX-License-Identifier: MIT */
/*
 * fuzz_scenario.c - arbitrary bytes as a scenario file: scenario_load_string against the
 * real knowledge base, then, when it loads, scenario_run (a question through the judge,
 * or structured facts through the engine) as `mlarch batch` does.
 */
#include "fuzz.h"

#include <string.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kb *k = fuzz_kb();
	eng_diags *d = eng_diags_new(0);
	if (!d)
		return 0;
	scenario s;
	eng_status st = scenario_load_string(k, "fuzz.yaml", (const char *)data, size, d, &s);
	for (size_t i = 0; i < eng_diags_count(d); i++) {
		const eng_diag *g = eng_diags_get(d, i);
		FUZZ_CHECK(g->message && *g->message, "a diagnostic without a message");
		if (g->source)
			(void)strlen(g->source);
	}
	FUZZ_CHECK(st == ENG_OK || eng_diags_errors(d) > 0 || st == ENG_ERR_NOMEM,
	           "a scenario failed without a diagnostic");
	if (st == ENG_OK) {
		FUZZ_CHECK(s.id && s.file, "a loaded scenario without an id");
		FUZZ_CHECK(strlen(s.answer) <= Q_MAX_OPTIONS, "an answer too long");
		sc_result r;
		scenario_run(k, &s, &r);
		FUZZ_CHECK(memchr(r.message, '\0', sizeof(r.message)) != NULL,
		           "an unterminated result message");
	}
	scenario_free(&s);
	eng_diags_free(d);
	return 0;
}
