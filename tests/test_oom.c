/* SPDX-License-Identifier: MIT */
/*
 * test_oom.c - allocation failures, one at a time, everywhere along a run.
 *
 * This binary alone is linked with --wrap=malloc,calloc,realloc,free,strdup,strndup and
 * aligned_alloc (see the Makefile), so every allocation the project's code makes goes
 * through the wrappers below. They keep the set of live blocks and can fail allocation
 * number N. Each test runs a piece of work once to count its allocations, then once for
 * every N from 1 to that count with allocation N failing, and checks that
 *   - the work reports ENG_ERR_NOMEM (or succeeds with the same result as the clean run:
 *     a few failures are recovered from, such as a diagnostic without its source line),
 *   - what survives a failure still works (the engine runs as before once reset; a
 *     knowledge base judges as before after a failed judgement),
 *   - nothing leaks: once everything is freed, no block allocated since the start is live.
 * Allocations made inside libyaml, PCRE2, jansson and libc are not wrapped and never fail
 * here. The tests have no Criterion .timeout: its timer leaks under LeakSanitizer.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "judge.h"
#include "kb.h"

/* ---- the wrappers ---- */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__real_aligned_alloc(size_t align, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);
void *__wrap_realloc(void *p, size_t size);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

#define LIVE_BITS 20
#define LIVE_MASK ((1u << LIVE_BITS) - 1)

static struct {
	bool armed;             /* count allocations (and fail one) */
	unsigned long count;    /* allocations counted since arming */
	unsigned long fail_at;  /* the allocation to fail; 0: none */
	bool failed;            /* it was reached */
	size_t live;            /* blocks in the table */
} oom;

/* The live blocks the project's code allocated: an open-addressing set of pointers. */
static void *live_tab[1u << LIVE_BITS];

static size_t live_slot(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	x ^= x >> 29;
	x *= 0x9E3779B97F4A7C15ull;
	return (size_t)(x >> (64 - LIVE_BITS));
}

static void live_add(void *p)
{
	if (oom.live >= LIVE_MASK) {
		fprintf(stderr, "test_oom: the live-block table is full\n");
		abort();
	}
	size_t i = live_slot(p);
	while (live_tab[i])
		i = (i + 1) & LIVE_MASK;
	live_tab[i] = p;
	oom.live++;
}

/* Removes P; false if it is not in the set (a block libc or a library allocated). */
static bool live_del(void *p)
{
	size_t i = live_slot(p);
	while (live_tab[i] && live_tab[i] != p)
		i = (i + 1) & LIVE_MASK;
	if (!live_tab[i])
		return false;
	live_tab[i] = NULL;
	oom.live--;
	/* backward shift: move up the entries that probed past the hole */
	for (size_t j = (i + 1) & LIVE_MASK; live_tab[j]; j = (j + 1) & LIVE_MASK) {
		size_t k = live_slot(live_tab[j]);
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (stays)
			continue;
		live_tab[i] = live_tab[j];
		live_tab[j] = NULL;
		i = j;
	}
	return true;
}

static bool oom_fail_now(void)
{
	if (!oom.armed)
		return false;
	if (++oom.count != oom.fail_at)
		return false;
	oom.failed = true;
	return true;
}

void *__wrap_malloc(size_t size)
{
	if (oom_fail_now())
		return NULL;
	void *p = __real_malloc(size);
	if (p)
		live_add(p);
	return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
	if (oom_fail_now())
		return NULL;
	void *p = __real_calloc(n, size);
	if (p)
		live_add(p);
	return p;
}

void *__wrap_aligned_alloc(size_t align, size_t size)
{
	if (oom_fail_now())
		return NULL;
	void *p = __real_aligned_alloc(align, size);
	if (p)
		live_add(p);
	return p;
}

void *__wrap_realloc(void *p, size_t size)
{
	if (oom_fail_now())
		return NULL;
	bool ours = !p || live_del(p);
	void *q = __real_realloc(p, size);
	if (!q && p && size) {
		if (ours)
			live_add(p);   /* realloc failed for real: P is still there */
		return NULL;
	}
	if (q && ours)
		live_add(q);
	return q;
}

void __wrap_free(void *p)
{
	if (p)
		live_del(p);
	__real_free(p);
}

char *__wrap_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = __wrap_malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = __wrap_malloc(len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* Arms the wrappers to fail allocation N (0: count only). */
static void oom_arm(unsigned long n)
{
	oom.count = 0;
	oom.fail_at = n;
	oom.failed = false;
	oom.armed = true;
}

/* Disarms them; returns the number of allocations counted. */
static unsigned long oom_disarm(void)
{
	oom.armed = false;
	return oom.count;
}

/* ---- fixtures ---- */

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	cr_assert_not_null(fp, "cannot read %s", path);
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	char *buf = __real_malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static const char *const kinds[] = { "recommend", "reject", "require", "prefer", "avoid",
                                     "answer" };
static const char *const skipped[] = { "catalog", "lexicon", "sources" };

/* A new engine set up as mlarch sets it up, or NULL and the status in *ST. */
static eng *engine_new(eng_status *st)
{
	eng *e = eng_new();
	*st = e ? ENG_OK : ENG_ERR_NOMEM;
	for (size_t i = 0; e && !*st && i < sizeof(kinds) / sizeof(*kinds); i++)
		*st = eng_conclusion_kind_add(e, kinds[i]);
	for (size_t i = 0; e && !*st && i < sizeof(skipped) / sizeof(*skipped); i++)
		*st = eng_section_skip(e, skipped[i]);
	if (*st) {
		eng_free(e);
		return NULL;
	}
	return e;
}

/* ---- the rule loader ---- */

typedef struct {
	eng_status st;
	size_t rules;
} load_result;

static load_result load_rules(const char *text, size_t len)
{
	load_result r = { ENG_OK, 0 };
	eng_diags *d = eng_diags_new(0);
	eng *e = d ? engine_new(&r.st) : NULL;
	if (!d)
		r.st = ENG_ERR_NOMEM;
	if (e)
		r.st = eng_load_string(e, "tiny.yaml", text, len, d);
	if (!r.st)
		r.rules = eng_rule_count(e);
	eng_free(e);
	eng_diags_free(d);
	return r;
}

Test(oom, rule_loader)
{
	size_t len;
	char *text = slurp("examples/kb/tiny.yaml", &len);
	size_t base = oom.live;
	oom_arm(0);
	load_result ref = load_rules(text, len);
	unsigned long total = oom_disarm();
	cr_assert_eq(ref.st, ENG_OK, "examples/kb/tiny.yaml does not load");
	cr_assert_gt(ref.rules, 0);
	cr_assert_eq(oom.live, base, "the clean load leaks %zu blocks", oom.live - base);
	for (unsigned long n = 1; n <= total; n++) {
		oom_arm(n);
		load_result r = load_rules(text, len);
		oom_disarm();
		cr_expect(r.st == ENG_ERR_NOMEM || (r.st == ENG_OK && r.rules == ref.rules),
		          "allocation %lu of %lu failing: status %d (%s), %zu rules", n, total,
		          r.st, eng_status_str(r.st), r.rules);
		cr_expect_eq(oom.live, base, "allocation %lu of %lu failing: %zu blocks leak", n,
		             total, oom.live - base);
		base = oom.live;
	}
	__real_free(text);
}

/* ---- the engine ---- */

static const char engine_rules[] =
	"facts:\n"
	"  - [xgboost, device, cpu]\n"
	"  - [linear-learner, device, gpu]\n"
	"rules:\n"
	"  - id: streaming\n"
	"    when:\n"
	"      - arrival: streaming\n"
	"      - format: {in: [parquet, orc]}\n"
	"      - not: {servers: yes}\n"
	"    then:\n"
	"      - recommend: firehose\n"
	"      - assert: {columnar: yes}\n"
	"    because: b\n"
	"    cite: [x]\n"
	"  - id: columnar\n"
	"    when:\n"
	"      - columnar: yes\n"
	"      - [?alg, device, ?d]\n"
	"    then:\n"
	"      - assert: [?alg, usable, ?d]\n"
	"      - recommend: ?alg\n"
	"    because: b\n"
	"    cite: [x]\n"
	"  - id: size\n"
	"    when:\n"
	"      - size: {as: ?s, \">\": 10}\n"
	"      - test: \"?s * 2 > 30\"\n"
	"    then:\n"
	"      - assert: {shards: {calc: \"ceil(?s / 4)\"}}\n"
	"      - reject: emr\n"
	"    because: b\n"
	"    cite: [x]\n"
	"  - id: count-down\n"
	"    when:\n"
	"      - [counter, n, {as: ?n, \">\": 0}]\n"
	"    then:\n"
	"      - modify: [counter, n, {calc: \"?n - 1\"}]\n"
	"    because: b\n"
	"    cite: [x]\n";

/* Asserts the scenario, runs, retracts one fact and runs again. Returns the first
 * failure, and in *CONCLS the live conclusions at the end. */
static eng_status engine_work(eng *e, size_t *concls)
{
	eng_sym sc = eng_intern(e, "scenario", 8);
	eng_status st = eng_reset(e);
	eng_fact_id ids[5] = { 0 };
	const char *attrs[4] = { "arrival", "format", "size", "servers" };
	eng_value vals[4] = { eng_symbol(e, "streaming"), eng_symbol(e, "parquet"),
	                      eng_number(17), eng_bool(false) };
	for (int i = 0; i < 4 && !st; i++) {
		if (vals[i].type == ENG_NONE)
			return ENG_ERR_NOMEM;
		eng_sym a = eng_intern(e, attrs[i], strlen(attrs[i]));
		st = a && sc ? eng_assert(e, sc, a, vals[i], 0, &ids[i], NULL) : ENG_ERR_NOMEM;
	}
	eng_sym counter = eng_intern(e, "counter", 7), n = eng_intern(e, "n", 1);
	if (!st)
		st = counter && n ? eng_assert(e, counter, n, eng_number(5), 0, &ids[4], NULL)
		                  : ENG_ERR_NOMEM;
	if (!st)
		st = eng_run(e, NULL);
	if (!st)
		st = eng_retract(e, ids[1]);
	if (!st)
		st = eng_run(e, NULL);
	if (!st)
		st = eng_assert(e, sc, eng_intern(e, "format", 6), eng_symbol(e, "orc"), 0, NULL,
		                NULL);
	if (!st)
		st = eng_run(e, NULL);
	*concls = 0;
	for (eng_concl_id c = eng_concl_next(e, 0); c; c = eng_concl_next(e, c))
		(*concls)++;
	return st;
}

Test(oom, engine)
{
	size_t base = oom.live;
	eng_status st;
	eng *e = engine_new(&st);
	cr_assert_not_null(e);
	eng_diags *d = eng_diags_new(0);
	cr_assert_eq(eng_load_string(e, "e.yaml", engine_rules, sizeof(engine_rules) - 1, d),
	             ENG_OK);
	eng_diags_free(d);
	size_t ref = 0;
	oom_arm(0);
	st = engine_work(e, &ref);
	unsigned long total = oom_disarm();
	cr_assert_eq(st, ENG_OK, "the clean run fails: %s", eng_error(e));
	cr_assert_gt(ref, 0);
	for (unsigned long n = 1; n <= total; n++) {
		size_t got = 0;
		oom_arm(n);
		st = engine_work(e, &got);
		oom_disarm();
		cr_expect(st == ENG_ERR_NOMEM || (st == ENG_OK && got == ref),
		          "allocation %lu of %lu failing: status %d (%s), %zu conclusions", n, total,
		          st, eng_status_str(st), got);
		/* the engine must still work as before */
		st = engine_work(e, &got);
		cr_expect(st == ENG_OK && got == ref,
		          "after allocation %lu of %lu failed: status %d (%s: %s), %zu conclusions "
		          "(%zu expected)", n, total, st, eng_status_str(st), eng_error(e), got, ref);
	}
	eng_free(e);
	cr_expect_eq(oom.live, base, "%zu blocks leak", oom.live - base);
}

/* ---- the knowledge-base loader ---- */

typedef struct {
	eng_status st;
	uint32_t nsources, nentities, nlexicon;
	size_t rules;
	char first[256];        /* the first diagnostic, if any */
} kb_result;

/* Loads examples/kb, through the compiled cache in CACHE_DIR when it is not NULL. */
static kb_result kb_work_in(const char *cache_dir)
{
	kb_result r = { ENG_OK, 0, 0, 0, 0, "" };
	eng_diags *d = eng_diags_new(0);
	kb *k = NULL;
	kb_load_opts opts = { NULL, cache_dir, false };
	r.st = d ? kb_load_with("examples/kb", &opts, d, &k, NULL) : ENG_ERR_NOMEM;
	if (d && eng_diags_count(d)) {
		const eng_diag *g = eng_diags_get(d, 0);
		snprintf(r.first, sizeof(r.first), "%s:%u:%u: %s", g->file, g->line, g->col,
		         g->message);
	}
	if (!r.st) {
		r.nsources = k->nsources;
		r.nentities = k->nentities;
		r.nlexicon = k->nlexicon;
		r.rules = eng_rule_count(k->e);
	}
	kb_free(k);
	eng_diags_free(d);
	return r;
}

static kb_result kb_work(void)
{
	return kb_work_in(NULL);
}

Test(oom, kb_loader)
{
	size_t base = oom.live;
	oom_arm(0);
	kb_result ref = kb_work();
	unsigned long total = oom_disarm();
	cr_assert_eq(ref.st, ENG_OK, "examples/kb does not load");
	cr_assert_eq(oom.live, base, "the clean load leaks %zu blocks", oom.live - base);
	for (unsigned long n = 1; n <= total; n++) {
		oom_arm(n);
		kb_result r = kb_work();
		oom_disarm();
		bool same = r.nsources == ref.nsources && r.nentities == ref.nentities &&
		            r.nlexicon == ref.nlexicon && r.rules == ref.rules;
		cr_expect(r.st == ENG_ERR_NOMEM || (r.st == ENG_OK && same),
		          "allocation %lu of %lu failing: status %d (%s) %s", n, total, r.st,
		          eng_status_str(r.st), r.first);
		cr_expect_eq(oom.live, base, "allocation %lu of %lu failing: %zu blocks leak", n,
		             total, oom.live - base);
		base = oom.live;
	}
}

/* The same through the compiled cache: writing it (a cold load, the cache removed before
 * each) and reading it (a warm one). A failure anywhere gives ENG_ERR_NOMEM or the same
 * knowledge base, never a leak; a cache that could not be written is just not there. */
static void cache_clear(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -f %s/kb-*.bin", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(oom, kb_loader_with_cache)
{
	char dir[] = "/tmp/mlarch-oom-cache-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	for (int warm = 0; warm < 2; warm++) {
		cache_clear(dir);
		kb_result ref = kb_work_in(dir);    /* writes the cache */
		if (!warm)
			cache_clear(dir);
		size_t base = oom.live;
		oom_arm(0);
		kb_result r0 = kb_work_in(dir);
		unsigned long total = oom_disarm();
		cr_assert_eq(ref.st, ENG_OK, "examples/kb does not load");
		cr_assert_eq(r0.st, ENG_OK);
		cr_assert_eq(oom.live, base, "the clean %s load leaks", warm ? "warm" : "cold");
		for (unsigned long n = 1; n <= total; n++) {
			if (!warm)
				cache_clear(dir);
			oom_arm(n);
			kb_result r = kb_work_in(dir);
			oom_disarm();
			bool same = r.nsources == ref.nsources && r.nentities == ref.nentities &&
			            r.nlexicon == ref.nlexicon && r.rules == ref.rules;
			cr_expect(r.st == ENG_ERR_NOMEM || (r.st == ENG_OK && same),
			          "%s load, allocation %lu of %lu failing: status %d (%s) %s",
			          warm ? "warm" : "cold", n, total, r.st, eng_status_str(r.st), r.first);
			cr_expect_eq(oom.live, base, "%s load, allocation %lu of %lu failing: %zu "
			             "blocks leak", warm ? "warm" : "cold", n, total, oom.live - base);
			base = oom.live;
			if (warm) {   /* a failed warm load may have rewritten it: make it whole */
				cache_clear(dir);
				(void)kb_work_in(dir);
				base = oom.live;
			}
		}
	}
	cache_clear(dir);
	rmdir(dir);
}

/* ---- the judge ---- */

/* Parses and judges the example question; its answer into ANSWER. */
static eng_status judge_work(kb *k, const char *text, size_t len, char *answer)
{
	question q;
	answer[0] = '\0';
	q_status qs = question_parse(text, len, 0, &q, NULL);
	if (qs != Q_OK)
		return qs == Q_ERR_NOMEM ? ENG_ERR_NOMEM : ENG_ERR_INVALID;
	judgement j;
	eng_status st = judge_question(k, &q, &j);
	if (!st)
		snprintf(answer, Q_MAX_OPTIONS + 1, "%s", j.abstained ? "-" : j.answer);
	judgement_free(&j);
	return st;
}

Test(oom, judge)
{
	size_t len;
	char *text = slurp("examples/question.txt", &len);
	size_t base = oom.live;
	eng_diags *d = eng_diags_new(0);
	kb *k = NULL;
	cr_assert_eq(kb_load("examples/kb", NULL, d, &k), ENG_OK);
	char ref[Q_MAX_OPTIONS + 1], got[Q_MAX_OPTIONS + 1];
	oom_arm(0);
	eng_status st = judge_work(k, text, len, ref);
	unsigned long total = oom_disarm();
	cr_assert_eq(st, ENG_OK);
	cr_assert_str_eq(ref, "B");
	for (unsigned long n = 1; n <= total; n++) {
		oom_arm(n);
		st = judge_work(k, text, len, got);
		oom_disarm();
		cr_expect(st == ENG_ERR_NOMEM || (st == ENG_OK && !strcmp(got, ref)),
		          "allocation %lu of %lu failing: status %d (%s), answer %s", n, total, st,
		          eng_status_str(st), got);
		st = judge_work(k, text, len, got);
		cr_expect(st == ENG_OK && !strcmp(got, ref),
		          "after allocation %lu of %lu failed: status %d (%s), answer %s", n, total,
		          st, eng_status_str(st), got);
	}
	kb_free(k);
	eng_diags_free(d);
	cr_expect_eq(oom.live, base, "%zu blocks leak", oom.live - base);
	__real_free(text);
}
