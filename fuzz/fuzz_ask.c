/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ask.c - arbitrary bytes through the whole `ask` pipeline with the real knowledge
 * base: question_parse, judge_question, the JSON answer, and each option entered and left
 * again as explain and why-not do. Checks that the answer is made of the question's own
 * letters and that every span points into the text.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "judge.h"

static void check_reasons(const judgement *j, const reasons *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		const reason *r = &rs->v[i];
		FUZZ_CHECK(r->nspans <= REASON_MAX_SPANS, "too many spans");
		for (uint32_t s = 0; s < r->nspans; s++) {
			FUZZ_CHECK(r->spans[s].start <= r->spans[s].end &&
			           r->spans[s].end <= j->q.len, "a span outside the question");
			FUZZ_CHECK(r->spans[s].option < (int)j->nopts, "a span of no option");
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	question q;
	if (question_parse((const char *)data, size, 0, &q, NULL) != Q_OK)
		return 0;
	kb *k = fuzz_kb();
	judgement j;
	eng_status st = judge_question(k, &q, &j);
	FUZZ_CHECK(q.text == NULL, "judge_question did not take the question");
	if (st == ENG_OK) {
		FUZZ_CHECK(j.nanswer <= j.nopts && strlen(j.answer) == j.nanswer, "a bad answer");
		FUZZ_CHECK(!j.abstained || j.nanswer == 0, "an answer while abstaining");
		for (uint32_t i = 0; i < j.nanswer; i++)
			FUZZ_CHECK(j.answer[i] >= 'A' && j.answer[i] < (char)('A' + j.nopts),
			           "an answer letter the question does not have");
		check_reasons(&j, &j.base);
		for (uint32_t o = 0; o < j.nopts; o++)
			check_reasons(&j, &j.opts[o].why);
		free(json_judgement(k, &j));
		free(json_facts(k, &j));
		for (uint32_t o = 0; o < j.nopts; o++) {
			eng_fact_id *ids = NULL;
			if (judge_option_enter(k, &j, o, &ids) == ENG_OK) {
				for (eng_concl_id c = eng_concl_next(k->e, 0); c; c = eng_concl_next(k->e, c)) {
					eng_conclusion cc;
					if (eng_concl_get(k->e, c, &cc))
						for (uint32_t f = 0; f < cc.why->nfacts; f++) {
							reason r;
							memset(&r, 0, sizeof(r));
							if (cc.why->facts[f])
								judge_trace(k, &j, cc.why->facts[f], &r);
						}
				}
			}
			judge_option_leave(k, &j, o, ids);
		}
	} else {
		FUZZ_CHECK(*eng_error(k->e) || st == ENG_ERR_NOMEM, "a run error without a message");
	}
	judgement_free(&j);
	return 0;
}
