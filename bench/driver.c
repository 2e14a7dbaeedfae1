/* SPDX-License-Identifier: MIT */
/*
 * driver.c - runs a benchmark workload on the engine through its API (engine.h), so that
 * the numbers are the engine's and not the command line's: loads a YAML rule file, reads
 * a facts file into triples (symbols interned before any clock starts), then asserts them
 * with eng_assert, runs, and resets between scenarios. Prints `load_ms`, `run_ms`,
 * `firings` and `facts` lines for bench/run.sh.
 *
 *   driver [-n] [-b] [-e FIRINGS] RULES.yaml [FACTS]
 *     -n  load only (the `load` rows)
 *     -b  batch: every blank-line-separated block of FACTS is a scenario, run after a
 *         reset; without -b the whole file is one scenario
 *     -e  exit 1 unless the run fired exactly FIRINGS rules (the checks of make check)
 *
 * A facts line is `SUBJECT ATTRIBUTE VALUE`; a VALUE that reads as a decimal number is a
 * number, 'quoted' a string, yes/no/true/false a boolean, anything else a symbol.
 * The phases are functions of their own so that callgrind can count each one
 * (--toggle-collect=phase_load, phase_run).
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
	eng_triple *t;
	size_t n, cap;
	size_t *ends;           /* scenario i is t[ends[i-1] .. ends[i]) */
	size_t nscen, capscen;
} workload;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "driver: out of memory\n");
		exit(6);
	}
	return p;
}

static void scenario_end(workload *w)
{
	if (w->nscen && w->ends[w->nscen - 1] == w->n)
		return;   /* no empty scenarios */
	if (w->nscen == w->capscen) {
		w->capscen = w->capscen ? w->capscen * 2 : 64;
		w->ends = xrealloc(w->ends, w->capscen * sizeof(*w->ends));
	}
	w->ends[w->nscen++] = w->n;
}

static eng_value parse_value(eng *e, const char *s)
{
	char *end;
	double d = strtod(s, &end);
	if (end != s && *end == '\0')
		return eng_number(d);
	size_t len = strlen(s);
	if (len >= 2 && s[0] == '\'' && s[len - 1] == '\'') {
		eng_value v = { ENG_STRING, { 0 } };
		v.u.sym = eng_intern(e, s + 1, len - 2);
		return v;
	}
	if (!strcmp(s, "yes") || !strcmp(s, "true"))
		return eng_bool(true);
	if (!strcmp(s, "no") || !strcmp(s, "false"))
		return eng_bool(false);
	return eng_symbol(e, s);
}

static int read_facts(eng *e, const char *path, workload *w)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	char line[1024];
	unsigned lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char s[256], a[256], v[512];
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%255s %255s %511s", s, a, v) != 3) {
			if (strspn(line, " \t\r\n") == strlen(line)) {
				scenario_end(w);
				continue;
			}
			fprintf(stderr, "%s:%u: expected SUBJECT ATTRIBUTE VALUE\n", path, lineno);
			fclose(f);
			return -1;
		}
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 1024;
			w->t = xrealloc(w->t, w->cap * sizeof(*w->t));
		}
		eng_triple *t = &w->t[w->n++];
		t->subject = eng_intern(e, s, strlen(s));
		t->attribute = eng_intern(e, a, strlen(a));
		t->value = parse_value(e, v);
	}
	scenario_end(w);
	fclose(f);
	return 0;
}

static void report_diags(const eng_diags *d)
{
	for (size_t i = 0; i < eng_diags_count(d) && i < 10; i++) {
		const eng_diag *g = eng_diags_get(d, i);
		fprintf(stderr, "%s:%u:%u: %s\n", g->file, g->line, g->col, g->message);
	}
}

__attribute__((noinline)) static eng_status phase_load(eng *e, const char *rules,
                                                       eng_diags *d)
{
	return eng_load_file(e, rules, d);
}

/* Runs scenarios [FIRST, LAST) of W, each after a reset; adds the firings to *FIRED. */
__attribute__((noinline)) static eng_status phase_run(eng *e, const workload *w,
                                                      size_t first, size_t last,
                                                      uint64_t *fired)
{
	for (size_t s = first; s < last; s++) {
		eng_status st = eng_reset(e);
		size_t from = s ? w->ends[s - 1] : 0;
		for (size_t i = from; i < w->ends[s] && st == ENG_OK; i++)
			st = eng_assert(e, w->t[i].subject, w->t[i].attribute, w->t[i].value, 0,
			                NULL, NULL);
		uint64_t n = 0;
		if (st == ENG_OK)
			st = eng_run(e, &n);
		*fired += n;
		if (st != ENG_OK)
			return st;
	}
	return ENG_OK;
}

int main(int argc, char **argv)
{
	bool load_only = false, batch = false;
	long long expect = -1;
	int opt;
	while ((opt = getopt(argc, argv, "nbe:")) != -1) {
		switch (opt) {
		case 'n': load_only = true; break;
		case 'b': batch = true; break;
		case 'e': expect = atoll(optarg); break;
		default:
			fprintf(stderr, "usage: driver [-n] [-b] [-e FIRINGS] RULES.yaml [FACTS]\n");
			return 2;
		}
	}
	if (optind >= argc || (!load_only && optind + 1 >= argc)) {
		fprintf(stderr, "usage: driver [-n] [-b] [-e FIRINGS] RULES.yaml [FACTS]\n");
		return 2;
	}
	eng *e = eng_new();
	eng_diags *d = eng_diags_new(0);
	if (!e || !d)
		return 6;
	eng_limits lim;
	eng_limits_get(e, &lim);
	lim.max_firings = getenv("BENCH_MAX_FIRINGS") ? strtoull(getenv("BENCH_MAX_FIRINGS"), NULL, 10) : 100000000;
	eng_limits_set(e, &lim);
	const char *kinds[] = { "recommend", "reject", "require", "prefer", "avoid", "answer" };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		eng_conclusion_kind_add(e, kinds[i]);

	double t0 = now_ms();
	eng_status st = phase_load(e, argv[optind], d);
	double t1 = now_ms();
	if (st != ENG_OK) {
		report_diags(d);
		fprintf(stderr, "driver: %s: %s\n", argv[optind], eng_status_str(st));
		return 4;
	}
	printf("load_ms %.3f\nrules %zu\n", t1 - t0, eng_rule_count(e));
	int rc = 0;
	if (!load_only) {
		workload w = { 0 };
		if (read_facts(e, argv[optind + 1], &w))
			return 3;
		uint64_t fired = 0;
		double t2 = now_ms();
		st = phase_run(e, &w, 0, batch ? w.nscen : 1, &fired);
		if (!batch && w.nscen > 1)
			fprintf(stderr, "driver: more than one scenario in %s: use -b\n",
			        argv[optind + 1]);
		double t3 = now_ms();
		if (st != ENG_OK) {
			fprintf(stderr, "driver: %s: %s\n", eng_status_str(st), eng_error(e));
			rc = 5;
		}
		printf("run_ms %.3f\nscenarios %zu\nfirings %llu\nfacts %zu\n", t3 - t2,
		       batch ? w.nscen : 1, (unsigned long long)fired, eng_fact_count(e));
		if (expect >= 0 && (long long)fired != expect) {
			fprintf(stderr, "driver: %llu firings, expected %lld\n",
			        (unsigned long long)fired, expect);
			rc = 1;
		}
		if (getenv("BENCH_DUMP"))   /* debugging a port: the facts left at the end */
			for (eng_fact_id id = eng_fact_next(e, 0); id; id = eng_fact_next(e, id)) {
				eng_triple t;
				char v[128];
				eng_fact_get(e, id, &t, NULL);
				eng_value_format(e, t.value, v, sizeof(v));
				fprintf(stderr, "%s %s %s\n", eng_sym_name(e, t.subject),
				        eng_sym_name(e, t.attribute), v);
			}
		free(w.t);
		free(w.ends);
	}
	eng_diags_free(d);
	eng_free(e);
	return rc;
}
