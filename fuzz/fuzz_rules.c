/* SPDX-License-Identifier: MIT */
/*
 * fuzz_rules.c - arbitrary bytes as a rule file: eng_load_string into an engine set up as
 * mlarch sets it up. When the file loads, every rule is looked at through the read-only
 * views, each positive condition is turned into a fact that satisfies it, and the engine
 * runs, retracts half of those facts, runs again and explains what it derived - with low
 * caps, so that a rule set that loops is stopped quickly instead of timing out.
 */
#include "fuzz.h"

#include <string.h>

static const char *const kinds[] = { "recommend", "reject", "require", "prefer", "avoid",
                                     "answer" };
static const char *const skipped[] = { "catalog", "lexicon", "sources" };

#define FUZZ_FACTS_MAX 256

/* Every diagnostic must be a readable string with a sane position. */
static void check_diags(const eng_diags *d)
{
	for (size_t i = 0; i < eng_diags_count(d); i++) {
		const eng_diag *g = eng_diags_get(d, i);
		FUZZ_CHECK(g && g->message, "a diagnostic without a message");
		FUZZ_CHECK(strlen(g->message) > 0, "an empty diagnostic");
		FUZZ_CHECK(g->file != NULL, "a diagnostic without a file");
		if (g->source)
			(void)strlen(g->source);
		if (g->context)
			(void)strlen(g->context);
		FUZZ_CHECK(!g->line || g->span >= 1, "a positioned diagnostic with no span");
	}
}

/* A value for one slot of a condition: its constant, or something plausible. */
static eng_value slot_value(eng *e, const eng_slot_view *s, const eng_cond_view *c,
                            int which)
{
	if (s->is_const)
		return s->k;
	if (which == 2 && c->nin)
		return c->in[0];
	if (which == 2)
		return eng_number(1);
	return eng_symbol(e, which == 0 ? "scenario" : "x");
}

/* Asserts one fact per positive condition that can hold one; ids into IDS. */
static size_t assert_matching(eng *e, eng_fact_id *ids)
{
	size_t n = 0;
	for (size_t i = 0; i < eng_rule_count(e) && n < FUZZ_FACTS_MAX; i++) {
		eng_rule_info info;
		FUZZ_CHECK(eng_rule_get(e, i, &info), "eng_rule_get of a listed rule failed");
		for (uint32_t c = 0; c < info.nconds && n < FUZZ_FACTS_MAX; c++) {
			eng_cond_view v;
			if (!eng_rule_cond_get(e, i, c, &v) || v.kind != ENG_COND_POS)
				continue;
			eng_value sv = slot_value(e, &v.slot[0], &v, 0);
			eng_value av = slot_value(e, &v.slot[1], &v, 1);
			eng_value val = slot_value(e, &v.slot[2], &v, 2);
			if (sv.type != ENG_SYMBOL || av.type != ENG_SYMBOL)
				continue;
			bool added;
			eng_fact_id id;
			eng_status st = eng_assert(e, sv.u.sym, av.u.sym, val, n + 1, &id, &added);
			if (st != ENG_OK)
				return n;
			if (added)
				ids[n++] = id;
		}
	}
	return n;
}

/* Reads what the engine holds after a run, the way explain and why-not do. */
static void inspect(eng *e)
{
	char buf[512];
	for (eng_fact_id f = eng_fact_next(e, 0); f; f = eng_fact_next(e, f)) {
		eng_triple t;
		FUZZ_CHECK(eng_fact_get(e, f, &t, NULL), "an iterated fact is not live");
		eng_value_format(e, t.value, buf, sizeof(buf));
		const eng_just *j = eng_fact_why(e, f);
		if (j) {
			FUZZ_CHECK(j->rule < eng_rule_count(e), "a justification names no rule");
			for (uint32_t k = 0; k < j->nfacts; k++)
				if (j->facts[k])
					eng_fact_get(e, j->facts[k], &t, NULL);
		}
	}
	for (eng_concl_id c = eng_concl_next(e, 0); c; c = eng_concl_next(e, c)) {
		eng_conclusion cc;
		FUZZ_CHECK(eng_concl_get(e, c, &cc), "an iterated conclusion is not live");
		FUZZ_CHECK(cc.why && cc.why->rule < eng_rule_count(e), "a conclusion without a rule");
		eng_rule_because_format(e, cc.why->rule, cc.why->bindings, buf, sizeof(buf));
	}
	for (size_t i = 0; i < eng_rule_count(e); i++) {
		eng_whynot w;
		eng_status st = eng_rule_whynot(e, i, &w);
		FUZZ_CHECK(st == ENG_OK || st == ENG_ERR_INVALID, "eng_rule_whynot failed");
		eng_rule_info info;
		eng_rule_get(e, i, &info);
		FUZZ_CHECK(st != ENG_OK || w.cond <= info.nconds, "a near miss past the last condition");
	}
}

static void views(eng *e)
{
	char buf[512];
	for (size_t i = 0; i < eng_rule_count(e); i++) {
		eng_rule_info info;
		eng_rule_get(e, i, &info);
		FUZZ_CHECK(info.id && eng_rule_find(e, info.id) == (long)i, "rule ids do not round-trip");
		for (uint32_t c = 0; c < info.nconds; c++) {
			eng_rule_cond_format(e, i, c, buf, sizeof(buf));
			uint32_t line, col;
			eng_rule_cond_pos(e, i, c, &line, &col);
		}
		for (uint32_t v = 0; v < info.nvars; v++)
			FUZZ_CHECK(eng_rule_var_name(e, i, v) != NULL, "a variable without a name");
		size_t nact = eng_rule_action_count(e, i);
		for (uint32_t a = 0; a < nact; a++) {
			eng_action_view av;
			FUZZ_CHECK(eng_rule_action_get(e, i, a, &av), "an action view failed");
		}
		eng_sym ks[8];
		eng_value ts[8];
		eng_rule_conclusions(e, i, ks, ts, 8);
		eng_rule_because_format(e, i, NULL, buf, sizeof(buf));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eng *e = eng_new();
	eng_diags *d = eng_diags_new(0);
	if (!e || !d)
		goto out;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
		if (eng_conclusion_kind_add(e, kinds[i]) != ENG_OK)
			goto out;
	for (size_t i = 0; i < sizeof(skipped) / sizeof(*skipped); i++)
		if (eng_section_skip(e, skipped[i]) != ENG_OK)
			goto out;
	eng_limits lim;
	eng_limits_get(e, &lim);
	lim.max_firings = 2000;
	lim.max_facts = 5000;
	eng_limits_set(e, &lim);
	eng_status st = eng_load_string(e, "fuzz.yaml", (const char *)data, size, d);
	check_diags(d);
	FUZZ_CHECK(st != ENG_OK || eng_diags_errors(d) == 0, "loaded with errors");
	FUZZ_CHECK(st == ENG_OK || st == ENG_ERR_LOAD || st == ENG_ERR_NOMEM,
	           "an unexpected load status");
	FUZZ_CHECK(st != ENG_ERR_LOAD || eng_diags_errors(d) > 0, "failed without a diagnostic");
	if (st != ENG_OK)
		goto out;
	views(e);
	if (eng_reset(e) != ENG_OK)
		goto out;
	eng_fact_id ids[FUZZ_FACTS_MAX];
	size_t n = assert_matching(e, ids);
	st = eng_run(e, NULL);
	FUZZ_CHECK(st == ENG_OK || *eng_error(e), "a run error without a message");
	inspect(e);
	for (size_t i = 0; i < n; i += 2)
		if (eng_fact_get(e, ids[i], NULL, NULL))
			eng_retract(e, ids[i]);
	st = eng_run(e, NULL);
	FUZZ_CHECK(st == ENG_OK || *eng_error(e), "a run error without a message");
	inspect(e);
	eng_clear(e);
	FUZZ_CHECK(eng_fact_count(e) == 0 && eng_agenda_size(e) == 0, "eng_clear left something");
out:
	eng_diags_free(d);
	eng_free(e);
	return 0;
}
