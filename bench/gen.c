/* SPDX-License-Identifier: MIT */
/*
 * gen.c - writes one seeded benchmark workload twice: as mlarch YAML (rules) with a facts
 * file for bench/driver, and as CLIPS source with a batch file that times the same work
 * with CLIPS's (time). Facts are (subject, attribute, value) triples on both sides: CLIPS
 * holds them as ordered facts (t SUBJECT ATTRIBUTE VALUE).
 *
 *   gen select RULES FACTS SEED OUT   service selection: 2-5 constant tests per rule,
 *                                     a third of the rules chained on derived facts
 *   gen join   RULES FACTS SEED OUT   joins over an entity table, one negation per rule
 *   gen batch  RULES SCENARIOS SEED OUT  select rules, SCENARIOS runs of 20 facts each
 *                                     with a reset before each
 *
 * OUT is a path prefix: OUT.yaml, OUT.facts (blank lines between scenarios), OUT.clp
 * (rules), OUT-data.clp (the facts as deffunctions), OUT.run.bat (times reset, facts and
 * run), OUT.load.bat (times loading the rules) and OUT.stats.bat (prints firings).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state >> 11) % n);
}

typedef struct {
	char s[32], a[32], v[32];
} triple;

typedef struct {
	FILE *yaml, *facts, *clp, *data;
} outputs;

static FILE *open_out(const char *prefix, const char *suffix)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s%s", prefix, suffix);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	return f;
}

static void rule_head(outputs *o, const char *id)
{
	fprintf(o->yaml, "  - id: %s\n    because: generated\n    cite: [bench]\n    when:\n", id);
	fprintf(o->clp, "(defrule %s\n", id);
}

/* One scenario's facts: in the facts file and as a CLIPS deffunction body. */
static void put_fact(outputs *o, const triple *t)
{
	fprintf(o->facts, "%s %s %s\n", t->s, t->a, t->v);
	fprintf(o->data, "   (assert (t %s %s %s))\n", t->s, t->a, t->v);
}

/* ---- service selection ---- */

typedef struct {
	uint32_t nattr, nval, nhot;
	uint32_t *hot;          /* hot pairs, encoded attr * nval + val */
} pairs;

static void pair_text(const pairs *p, uint32_t code, triple *t)
{
	snprintf(t->s, sizeof(t->s), "scenario");
	snprintf(t->a, sizeof(t->a), "a%u", code / p->nval);
	snprintf(t->v, sizeof(t->v), "v%u", code % p->nval);
}

static uint32_t pick_pair(const pairs *p, unsigned hot_pct)
{
	if (rnd(100) < hot_pct)
		return p->hot[rnd(p->nhot)];
	return rnd(p->nattr * p->nval);
}

static void select_rules(outputs *o, const pairs *p, uint32_t nrules)
{
	fprintf(o->yaml, "rules:\n");
	for (uint32_t i = 0; i < nrules; i++) {
		char id[32];
		snprintf(id, sizeof(id), "sel%u", i);
		rule_head(o, id);
		uint32_t k = 2 + rnd(4), codes[5];
		for (uint32_t j = 0; j < k; j++) {
			uint32_t c;
			bool clash;
			do {   /* one test per attribute */
				c = pick_pair(p, 85);
				clash = false;
				for (uint32_t m = 0; m < j; m++)
					clash = clash || codes[m] / p->nval == c / p->nval;
			} while (clash);
			codes[j] = c;
			triple t;
			pair_text(p, c, &t);
			fprintf(o->yaml, "      - [scenario, %s, %s]\n", t.a, t.v);
			fprintf(o->clp, "   (t scenario %s %s)\n", t.a, t.v);
		}
		if (i > 0 && rnd(3) == 0) {
			uint32_t d = rnd(i);
			fprintf(o->yaml, "      - [scenario, d%u, yes]\n", d);
			fprintf(o->clp, "   (t scenario d%u yes)\n", d);
		}
		fprintf(o->yaml, "    then:\n      - assert: [scenario, d%u, yes]\n", i);
		fprintf(o->clp, "   =>\n   (assert (t scenario d%u yes)))\n", i);
	}
}

static void select_pairs(pairs *p, uint32_t nfacts)
{
	p->nval = 20;
	p->nattr = nfacts / 10 > 100 ? nfacts / 10 : 100;
	p->nhot = 60;
	p->hot = malloc(p->nhot * sizeof(uint32_t));
	for (uint32_t i = 0; i < p->nhot; i++)
		p->hot[i] = rnd(p->nattr * p->nval);
}

/* NFACTS distinct pairs, most from the hot set while it lasts. */
static void select_facts(outputs *o, const pairs *p, uint32_t nfacts, const char *fn)
{
	uint32_t space = p->nattr * p->nval;
	unsigned char *used = calloc(space, 1);
	fprintf(o->data, "(deffunction %s ()\n", fn);
	for (uint32_t i = 0; i < nfacts && i < space; i++) {
		uint32_t c;
		unsigned tries = 0;
		do
			c = pick_pair(p, tries++ < 8 ? 75 : 0);
		while (used[c]);
		used[c] = 1;
		triple t;
		pair_text(p, c, &t);
		put_fact(o, &t);
	}
	fprintf(o->data, ")\n");
	free(used);
}

/* ---- joins over an entity table ---- */

static void join_rules(outputs *o, uint32_t nrules, uint32_t ntypes)
{
	fprintf(o->yaml, "rules:\n");
	for (uint32_t i = 0; i < nrules; i++) {
		char id[32];
		snprintf(id, sizeof(id), "join%u", i);
		rule_head(o, id);
		uint32_t ta = rnd(ntypes), tb = rnd(ntypes);
		bool tier = rnd(2);
		uint32_t tr = rnd(3);
		fprintf(o->yaml, "      - [?x, type, t%u]\n", ta);
		fprintf(o->clp, "   (t ?x type t%u)\n", ta);
		if (tier) {
			fprintf(o->yaml, "      - [?x, tier, r%u]\n", tr);
			fprintf(o->clp, "   (t ?x tier r%u)\n", tr);
		}
		fprintf(o->yaml, "      - [?x, zone, ?z]\n      - [?y, type, t%u]\n"
		        "      - [?y, zone, ?z]\n      - not: [?y, status, down]\n", tb);
		fprintf(o->clp, "   (t ?x zone ?z)\n   (t ?y type t%u)\n   (t ?y zone ?z)\n"
		        "   (not (t ?y status down))\n", tb);
		fprintf(o->yaml, "    then:\n      - assert: [?x, link%u, ?y]\n", i);
		fprintf(o->clp, "   =>\n   (assert (t ?x link%u ?y)))\n", i);
	}
}

/* Five facts per entity: type, zone, tier, size and status (one in ten is down). */
static void join_facts(outputs *o, uint32_t nfacts, uint32_t ntypes)
{
	uint32_t nent = nfacts / 5 ? nfacts / 5 : 1;
	uint32_t nzones = nent / 40 ? nent / 40 : 1;
	fprintf(o->data, "(deffunction bench-facts ()\n");
	for (uint32_t i = 0; i < nent; i++) {
		triple t;
		snprintf(t.s, sizeof(t.s), "e%u", i);
		snprintf(t.a, sizeof(t.a), "type");
		snprintf(t.v, sizeof(t.v), "t%u", rnd(ntypes));
		put_fact(o, &t);
		snprintf(t.a, sizeof(t.a), "zone");
		snprintf(t.v, sizeof(t.v), "z%u", rnd(nzones));
		put_fact(o, &t);
		snprintf(t.a, sizeof(t.a), "tier");
		snprintf(t.v, sizeof(t.v), "r%u", rnd(3));
		put_fact(o, &t);
		snprintf(t.a, sizeof(t.a), "size");
		snprintf(t.v, sizeof(t.v), "%u", 1 + rnd(1000));
		put_fact(o, &t);
		snprintf(t.a, sizeof(t.a), "status");
		snprintf(t.v, sizeof(t.v), "%s", rnd(10) ? "up" : "down");
		put_fact(o, &t);
	}
	fprintf(o->data, ")\n");
}

/* ---- drivers ---- */

static void clips_bats(const char *out, const char *body)
{
	const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
	FILE *f = open_out(out, ".load.bat");
	fprintf(f, "(defglobal ?*t0* = 0)\n(bind ?*t0* (time))\n(load* %s.clp)\n"
	        "(printout t \"load_ms \" (* 1000 (- (time) ?*t0*)) crlf)\n(exit)\n", base);
	fclose(f);
	f = open_out(out, ".run.bat");
	fprintf(f, "(load* %s.clp)\n(load* %s-data.clp)\n(defglobal ?*t0* = 0)\n"
	        "(bind ?*t0* (time))\n%s(printout t \"run_ms \" (* 1000 (- (time) ?*t0*)) crlf)\n"
	        "(exit)\n", base, base, body);
	fclose(f);
	f = open_out(out, ".stats.bat");
	fprintf(f, "(load* %s.clp)\n(load* %s-data.clp)\n(watch statistics)\n%s(exit)\n",
	        base, base, body);
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: gen select|join|batch RULES FACTS|SCENARIOS SEED OUT\n");
		return 2;
	}
	const char *kind = argv[1];
	uint32_t nrules = (uint32_t)strtoul(argv[2], NULL, 10);
	uint32_t n = (uint32_t)strtoul(argv[3], NULL, 10);
	rng_state = strtoull(argv[4], NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
	const char *out = argv[5];
	outputs o = { open_out(out, ".yaml"), open_out(out, ".facts"), open_out(out, ".clp"),
	              open_out(out, "-data.clp") };
	fprintf(o.yaml, "# generated by bench/gen %s %s %s %s\n", argv[1], argv[2], argv[3],
	        argv[4]);
	fprintf(o.clp, "; generated by bench/gen %s %s %s %s\n", argv[1], argv[2], argv[3],
	        argv[4]);
	if (strcmp(kind, "select") == 0) {
		pairs p;
		select_pairs(&p, n);
		select_rules(&o, &p, nrules);
		select_facts(&o, &p, n, "bench-facts");
		clips_bats(out, "(reset)\n(bench-facts)\n(run)\n");
		free(p.hot);
	} else if (strcmp(kind, "join") == 0) {
		join_rules(&o, nrules, 20);
		join_facts(&o, n, 20);
		clips_bats(out, "(reset)\n(bench-facts)\n(run)\n");
	} else if (strcmp(kind, "batch") == 0) {
		pairs p;
		select_pairs(&p, 200);
		select_rules(&o, &p, nrules);
		fprintf(o.data, "(deffunction bench-batch ()\n");
		for (uint32_t s = 0; s < n; s++) {
			if (s)
				fprintf(o.facts, "\n");
			fprintf(o.data, "  (reset)\n");
			for (uint32_t i = 0; i < 20; i++) {
				triple t;
				pair_text(&p, pick_pair(&p, 75), &t);
				put_fact(&o, &t);
			}
			fprintf(o.data, "  (run)\n");
		}
		fprintf(o.data, ")\n");
		clips_bats(out, "(bench-batch)\n");
		free(p.hot);
	} else {
		fprintf(stderr, "gen: unknown workload `%s`\n", kind);
		return 2;
	}
	fclose(o.yaml);
	fclose(o.facts);
	fclose(o.clp);
	fclose(o.data);
	return 0;
}
