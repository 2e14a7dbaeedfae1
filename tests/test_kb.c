/* SPDX-License-Identifier: MIT */
/*
 * test_kb.c - loading a knowledge base directory (src/kb.c): a clean one as seen through
 * kb.h and the engine, and a table of broken ones, each with the exact diagnostics
 * (file:line:col and message) it must produce.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extract.h"
#include "kb.h"
#include "kbcache.h"
#include "rxlit.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

#define MAX_FILES 6
#define MAX_DIAGS 6

typedef struct {
	const char *path;       /* relative to the knowledge base directory */
	const char *text;
} kfile;

/* ---- a temporary directory of files ---- */

typedef struct {
	char dir[64];
	char paths[MAX_FILES * 2][256];
	size_t npaths;          /* files and directories created, removed in reverse */
} tmpkb;

static void tmp_add(tmpkb *t, const char *path)
{
	cr_assert_lt(t->npaths, MAX_FILES * 2);
	snprintf(t->paths[t->npaths++], sizeof(t->paths[0]), "%s", path);
}

/* Creates a directory holding FILES (subdirectories as needed). */
static void tmp_make(tmpkb *t, const kfile *files)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/mlarch-kb-XXXXXX");
	cr_assert_not_null(mkdtemp(t->dir));
	for (size_t i = 0; i < MAX_FILES && files[i].path; i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", t->dir, files[i].path);
		for (char *s = path + strlen(t->dir) + 1; (s = strchr(s, '/')); s++) {
			*s = '\0';
			if (mkdir(path, 0700) == 0)
				tmp_add(t, path);
			else
				cr_assert_eq(errno, EEXIST, "mkdir %s", path);
			*s = '/';
		}
		FILE *f = fopen(path, "w");
		cr_assert_not_null(f, "cannot write %s", path);
		fputs(files[i].text, f);
		fclose(f);
		tmp_add(t, path);
	}
}

static void tmp_remove(tmpkb *t)
{
	while (t->npaths)
		remove(t->paths[--t->npaths]);
	rmdir(t->dir);
}

/* All diagnostics as text, for failure messages. */
static const char *diags_text(const eng_diags *d, char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < eng_diags_count(d) && n < size; i++) {
		const eng_diag *g = eng_diags_get(d, i);
		n += (size_t)snprintf(buf + n, size - n, "\n    %s:%u:%u: %s", g->file, g->line,
		                      g->col, g->message);
	}
	return buf;
}

/* ---- a clean knowledge base ---- */

static const char sources_yaml[] =
	"sources:\n"
	"  - id: de-8\n"
	"    title: Firehose converts to Parquet without servers\n"
	"    topic: ingestion\n"
	"  - id: de-26\n"
	"    title: A link to a cheat sheet\n"
	"    topic: ingestion\n"
	"    decides: false\n"
	"    why: it gives a link and states no fact\n"
	"  - id: sum-modes\n"
	"    title: Pipe mode formats\n"
	"    topic: training-input\n"
	"    conflict: disagrees with algo-knn\n";

static const char catalog_yaml[] =
	"catalog:\n"
	"  - id: kinesis-data-firehose\n"
	"    name: Amazon Kinesis Data Firehose\n"
	"    kind: service\n"
	"    aliases:\n"
	"      - '(?:amazon\\s+)?kinesis\\s+(?:data\\s+)?firehose'\n"
	"      - '\\bKDF\\b'\n"
	"    facts:\n"
	"      serverless: yes\n"
	"      buffer.size_mb.max: 128\n"
	"      output.formats: [parquet, orc]\n"
	"      note: \"a string\"\n"
	"    cite: [de-8]\n"
	"  - id: amazon-emr\n"
	"    name: Amazon EMR\n"
	"    kind: service\n"
	"    aliases: ['\\bEMR\\b']\n";

static const char lexicon_yaml[] =
	"lexicon:\n"
	"  - id: no-servers\n"
	"    match: 'without\\s+managing\\s+servers|serverless'\n"
	"    assert: {ops.manage_servers: no}\n"
	"  - id: dataset-size\n"
	"    match: '(?<n>\\d+(?:\\.\\d+)?)\\s*(?<unit>KB|MB|GB|TB)\\b'\n"
	"    scope: stem\n"
	"    assert:\n"
	"      data.size_gb: {capture: n, scale-by: unit,\n"
	"                     scale: {KB: 0.000001, MB: 0.001, GB: 1, TB: 1000}}\n"
	"  - id: goals\n"
	"    match: 'cheapest and simplest'\n"
	"    scope: option\n"
	"    assert: {goal: [lowest-cost, least-ops]}\n";

static const char rules_yaml[] =
	"rules:\n"
	"  - id: firehose-parquet\n"
	"    when:\n"
	"      - data.arrival: streaming\n"
	"    then:\n"
	"      - recommend: kinesis-data-firehose\n"
	"    because: Firehose converts on the way in.\n"
	"    cite: [de-8, sum-modes]\n";

static const kfile clean_kb[] = {
	{ "sources.yaml", sources_yaml },
	{ "catalog/services.yaml", catalog_yaml },
	{ "lexicon/size.yml", lexicon_yaml },
	{ "ingestion.yaml", rules_yaml },
	{ ".hidden.yaml", "this: is not loaded\n" },
	{ "notes.txt", "not YAML at all: [\n" },
};

Test(kb, clean_load)
{
	tmpkb t;
	tmp_make(&t, clean_kb);
	eng_diags *d = eng_diags_new(0);
	kb *k = NULL;
	char buf[4096];
	eng_status st = kb_load(t.dir, NULL, d, &k);
	cr_assert_eq(st, ENG_OK, "status %s:%s", eng_status_str(st),
	             diags_text(d, buf, sizeof(buf)));
	cr_assert_not_null(k);
	cr_expect_eq(eng_diags_errors(d), 0);

	cr_expect_eq(k->nsources, 3);
	const kb_source *s = kb_source_find(k, "de-26");
	cr_assert_not_null(s);
	cr_expect_str_eq(s->topic, "ingestion");
	cr_expect(!s->decides);
	cr_expect_str_eq(s->why, "it gives a link and states no fact");
	cr_expect_eq(s->line, 5);
	cr_expect(kb_source_find(k, "de-8")->decides);
	cr_expect_str_eq(kb_source_find(k, "sum-modes")->conflict, "disagrees with algo-knn");
	cr_expect_null(kb_source_find(k, "de-9"));

	cr_expect_eq(k->nentities, 2);
	const kb_entity *en = kb_entity_find(k, "kinesis-data-firehose");
	cr_assert_not_null(en);
	cr_expect_str_eq(en->name, "Amazon Kinesis Data Firehose");
	cr_expect_str_eq(en->kind, "service");
	cr_expect_eq(en->naliases, 2);
	cr_expect_str_eq(en->alias_src[1], "\\bKDF\\b");
	cr_expect_eq(en->ncite, 1);
	cr_expect_str_eq(en->cite[0], "de-8");
	cr_expect_eq(kb_entity_by_sym(k, en->sym), en);
	cr_expect_str_eq(eng_sym_name(k->e, en->sym), "kinesis-data-firehose");
	cr_expect_null(kb_entity_find(k, "glue"));
	cr_expect_null(kb_entity_by_sym(k, k->s_option));
	cr_expect(strstr(en->file, "catalog/services.yaml") != NULL);
	cr_expect_eq(en->line, 2);
	cr_expect_eq(en->col, 5);

	cr_expect_eq(k->nlexicon, 3);
	const kb_lexeme *lx = &k->lexicon[1];
	cr_expect_str_eq(lx->id, "dataset-size");
	cr_expect_eq(lx->scope, LEX_STEM);
	cr_expect_eq(k->lexicon[0].scope, LEX_ANY);
	cr_expect_eq(k->lexicon[2].scope, LEX_OPTION);
	cr_assert_eq(lx->nvals, 1);
	cr_expect(lx->vals[0].from_capture);
	cr_expect_str_eq(lx->vals[0].capture, "n");
	cr_expect_str_eq(lx->vals[0].scale_by, "unit");
	cr_assert_eq(lx->vals[0].nscale, 4);
	cr_expect_str_eq(lx->vals[0].scale_keys[3], "TB");
	cr_expect_eq(lx->vals[0].scale_vals[3], 1000);
	cr_expect_eq(k->lexicon[0].vals[0].k.type, ENG_BOOL);
	cr_expect_eq(k->lexicon[2].nvals, 2, "a list gives one value each");

	cr_expect_eq(eng_rule_count(k->e), 1);
	cr_expect_str_eq(eng_sym_name(k->e, k->s_scenario), "scenario");
	cr_expect_str_eq(eng_sym_name(k->e, k->s_option), "option");
	cr_expect_str_eq(eng_sym_name(k->e, k->s_uses), "uses");
	cr_expect_str_eq(eng_sym_name(k->e, k->s_mentions), "mentions");

	/* the catalog's facts are background facts, typed by spelling */
	cr_assert_eq(eng_reset(k->e), ENG_OK);
	eng *e = k->e;
	eng_sym kdf = en->sym;
	cr_expect(eng_fact_find(e, kdf, eng_intern(e, "serverless", 10), eng_bool(true)));
	cr_expect(eng_fact_find(e, kdf, eng_intern(e, "buffer.size_mb.max", 18), eng_number(128)));
	cr_expect(eng_fact_find(e, kdf, eng_intern(e, "output.formats", 14),
	                        eng_symbol(e, "parquet")));
	cr_expect(eng_fact_find(e, kdf, eng_intern(e, "output.formats", 14),
	                        eng_symbol(e, "orc")));
	cr_expect(eng_fact_find(e, kdf, eng_intern(e, "note", 4), eng_string(e, "a string")));
	cr_expect(!eng_fact_find(e, kdf, eng_intern(e, "note", 4), eng_symbol(e, "a string")));

	kb_free(k);
	eng_diags_free(d);
	tmp_remove(&t);
}

Test(kb, limits_are_applied)
{
	tmpkb t;
	tmp_make(&t, clean_kb);
	eng_diags *d = eng_diags_new(0);
	kb *k = NULL;
	kb_limits lim;
	memset(&lim, 0, sizeof(lim));
	lim.eng.max_firings = 7;
	lim.eng.max_facts = 99;
	lim.eng.doc.max_depth = 33;
	lim.rx.match = 1234;
	lim.question_bytes = 4321;
	eng_limits got;
	cr_assert_eq(kb_load(t.dir, &lim, d, &k), ENG_OK);
	eng_limits_get(k->e, &got);
	cr_expect_eq(got.max_firings, 7);
	cr_expect_eq(got.max_facts, 99);
	cr_expect_eq(got.doc.max_depth, 33);
	/* the fields left 0 get their defaults, in the engine and in the knowledge base */
	kb_limits def;
	kb_limits_default(&def);
	cr_expect_eq(got.doc.max_bytes, def.eng.doc.max_bytes);
	cr_expect_eq(k->limits.eng.doc.max_nodes, def.eng.doc.max_nodes);
	cr_expect_eq(k->limits.rx.match, 1234);
	cr_expect_eq(k->limits.rx.depth, RX_DEPTH_LIMIT_DEFAULT);
	cr_expect_eq(k->limits.question_bytes, 4321);
	kb_free(k);
	/* NULL: every default */
	cr_assert_eq(kb_load(t.dir, NULL, d, &k), ENG_OK);
	cr_expect_eq(memcmp(&k->limits, &def, sizeof(def)), 0);
	kb_free(k);
	eng_diags_free(d);
	tmp_remove(&t);
}

Test(kb, missing_directory)
{
	eng_diags *d = eng_diags_new(0);
	kb *k = (kb *)1;
	cr_expect_eq(kb_load("/nonexistent/mlarch-rules", NULL, d, &k), ENG_ERR_IO);
	cr_expect_null(k);
	cr_expect_eq(eng_diags_errors(d), 1);
	eng_diags_free(d);
}

Test(kb, single_file)
{
	tmpkb t;
	tmp_make(&t, clean_kb);
	char path[256];
	snprintf(path, sizeof(path), "%s/catalog/services.yaml", t.dir);
	eng_diags *d = eng_diags_new(0);
	kb *k = NULL;
	cr_assert_eq(kb_load(path, NULL, d, &k), ENG_OK);
	cr_expect_eq(k->nentities, 2);
	cr_expect_eq(k->nsources, 0);
	kb_free(k);
	eng_diags_free(d);
	tmp_remove(&t);
}

/* ---- broken knowledge bases ---- */

typedef struct {
	const char *file;       /* relative to the directory */
	uint32_t line, col;
	const char *msg;        /* the whole message; "{dir}" stands for the directory */
} want_diag;

typedef struct {
	const char *name;
	kfile files[MAX_FILES];
	want_diag want[MAX_DIAGS];
} broken_case;

#define SOURCES "sources.yaml", sources_yaml
#define ENTRY(id) "  - id: " id "\n    name: N\n    kind: service\n"

/* 33 `negates: need` cues, one more than a lexicon may hold */
#define CUE(n) "  - {id: c" n ", match: x" n ", negates: need, drops: [k]}\n"
#define CUES8(a) CUE(a "0") CUE(a "1") CUE(a "2") CUE(a "3") CUE(a "4") CUE(a "5") CUE(a "6") \
	CUE(a "7")
#define CUES33 CUES8("a") CUES8("b") CUES8("c") CUES8("d") CUE("e0")

static const broken_case broken[] = {
	{ "rule cites an unknown note",
	  { { SOURCES },
	    { "rules/ingest.yaml",
	      "rules:\n"
	      "  - id: firehose-parquet\n"
	      "    when:\n"
	      "      - data.arrival: streaming\n"
	      "    then:\n"
	      "      - recommend: kinesis-data-firehose\n"
	      "    because: Firehose converts on the way in.\n"
	      "    cite: [de-8, de-99]\n" } },
	  { { "rules/ingest.yaml", 8, 18, "unknown note id `de-99` (not in {dir}/sources.yaml)" } } },
	{ "a misspelt note id gets a hint",
	  { { SOURCES },
	    { "catalog.yaml", "catalog:\n" ENTRY("glue") "    cite: [sum-mode]\n" } },
	  { { "catalog.yaml", 5, 12, "unknown note id `sum-mode` (not in {dir}/sources.yaml) "
	      "(did you mean `sum-modes`?)" } } },
	{ "catalog entry cites an unknown note",
	  { { SOURCES },
	    { "catalog.yaml", "catalog:\n" ENTRY("glue") "    cite: [de-8, nope-1]\n" } },
	  { { "catalog.yaml", 5, 18, "unknown note id `nope-1` (not in {dir}/sources.yaml)" } } },
	{ "without sources.yaml citations are not checked",
	  { { "catalog.yaml", "catalog:\n" ENTRY("glue") "    cite: [de-99]\n" },
	    { "catalog2.yaml", "catalog:\n" ENTRY("emr") "    bad: 1\n" } },
	  { { "catalog2.yaml", 5, 5,
	      "unknown key `bad` in a catalog entry" } } },
	{ "duplicate entity id across files",
	  { { "catalog/a.yaml", "catalog:\n" ENTRY("amazon-emr") },
	    { "catalog/b.yaml", "catalog:\n" ENTRY("glue") ENTRY("amazon-emr") } },
	  { { "catalog/b.yaml", 5, 9,
	      "duplicate entity id `amazon-emr` (already loaded from {dir}/catalog/a.yaml:2)" } } },
	{ "duplicate ids in one file",
	  { { "catalog.yaml", "catalog:\n" ENTRY("glue") ENTRY("glue") },
	    { "lexicon.yaml", "lexicon:\n"
	                      "  - {id: x, match: a, assert: {k: v}}\n"
	                      "  - {id: x, match: b, assert: {k: v}}\n" } },
	  { { "catalog.yaml", 5, 9, "duplicate entity id `glue` (first defined at line 2)" },
	    { "lexicon.yaml", 3, 10, "duplicate lexicon id `x` (first defined at line 2)" } } },
	{ "duplicate note id",
	  { { "sources.yaml", "sources:\n"
	                      "  - {id: de-1, title: t, topic: etl}\n"
	                      "  - {id: de-1, title: t, topic: etl}\n" } },
	  { { "sources.yaml", 3, 10, "duplicate note id `de-1` (first defined at line 2)" } } },
	{ "unknown keys with did-you-mean",
	  { { "catalog.yaml", "catalog:\n" ENTRY("glue") "    alias: ['glue']\n" },
	    { "lexicon.yaml", "lexicon:\n  - id: x\n    match: a\n    asert: {k: v}\n" },
	    { "sources.yaml", "sources:\n  - {id: a, title: t, topic: etl, tilte: u}\n" } },
	  { { "catalog.yaml", 5, 5,
	      "unknown key `alias` in a catalog entry (did you mean `aliases`?)" },
	    { "lexicon.yaml", 4, 5,
	      "unknown key `asert` in a lexicon entry (did you mean `assert`?)" },
	    { "lexicon.yaml", 2, 5, "a lexicon entry is missing `assert`" },
	    { "sources.yaml", 2, 35, "unknown key `tilte` in a source (did you mean `title`?)" } } },
	{ "missing keys and wrong types",
	  { { "catalog.yaml", "catalog:\n"
	                      "  - id: glue\n"
	                      "    kind: service\n"
	                      "    aliases: {a: b}\n"
	                      "    facts: [a, b]\n"
	                      "  - just a string\n" } },
	  { { "catalog.yaml", 2, 5, "a catalog entry is missing `name`" },
	    { "catalog.yaml", 4, 14, "`aliases` must be a list of patterns, found a mapping" },
	    { "catalog.yaml", 5, 12,
	      "`facts` must be a mapping of `attribute: value`, found a list" },
	    { "catalog.yaml", 6, 5, "a catalog entry must be a mapping, found `just a string`" } } },
	{ "bad enumerations",
	  { { "catalog.yaml", "catalog:\n  - id: glue\n    name: N\n    kind: servce\n" },
	    { "lexicon.yaml", "lexicon:\n  - {id: x, match: a, assert: {k: v}, scope: stems}\n" },
	    { "sources.yaml", "sources:\n  - {id: a, title: t, topic: ingest}\n" } },
	  { { "catalog.yaml", 4, 11,
	      "`kind` must be one of service, feature, algorithm, format, metric, technique, "
	      "instance, concept, found `servce` (did you mean `service`?)" },
	    { "lexicon.yaml", 2, 46,
	      "`scope` must be one of any, stem, option, found `stems` (did you mean `stem`?)" },
	    { "sources.yaml", 2, 30,
	      "`topic` must be one of ingestion, etl, storage, query, training-input, algorithms, "
	      "instances, evaluation, data-prep, fitting, deployment, security, ai-services, "
	      "general, found `ingest`" } } },
	{ "invalid regular expressions point into the pattern",
	  { { "lexicon.yaml", "lexicon:\n"
	                      "  - id: x\n"
	                      "    match: 'kinesis (data|streams'\n"
	                      "    assert: {k: v}\n"
	                      "  - id: y\n"
	                      "    match: a{2,1}\n"
	                      "    assert: {k: v}\n"
	                      "  - id: z\n"
	                      "    match: \"caf\\u00e9 it''s \\\\d)\"\n"
	                      "    assert: {k: v}\n" },
	    { "catalog.yaml", "catalog:\n" ENTRY("glue") "    aliases: ['ok', 'it''s [z-a]']\n" } },
	  { { "catalog.yaml", 5, 31, "invalid regular expression in an alias: range out of order "
	      "in character class (at offset 8)" },
	    { "lexicon.yaml", 3, 34, "invalid regular expression in `match`: missing closing "
	      "parenthesis (at offset 21)" },
	    { "lexicon.yaml", 6, 17, "invalid regular expression in `match`: numbers out of "
	      "order in {} quantifier (at offset 5)" },
	    { "lexicon.yaml", 9, 12, "invalid regular expression in `match`: unmatched closing "
	      "parenthesis (at offset 14)" } } },
	{ "captures must exist in the pattern",
	  { { "lexicon.yaml", "lexicon:\n"
	                      "  - id: size\n"
	                      "    match: '(?<n>\\d+)\\s*(?<unit>GB|TB)'\n"
	                      "    assert:\n"
	                      "      a: {capture: num}\n"
	                      "      b: {capture: n, scale-by: units, scale: {GB: 1}}\n"
	                      "      c: {capture: n, scale-by: unit}\n"
	                      "      d: {capture: n, scale-by: unit, scale: {GB: big}}\n"
	                      "      e: {scale: {GB: 1}}\n" } },
	  { { "lexicon.yaml", 5, 20,
	      "`capture` `num` is not a named group of the pattern (write `(?<num>...)`)" },
	    { "lexicon.yaml", 6, 33,
	      "`scale-by` `units` is not a named group of the pattern (write `(?<units>...)`)" },
	    { "lexicon.yaml", 7, 33, "`scale-by` needs a `scale` table beside it" },
	    { "lexicon.yaml", 8, 51, "a scale factor must be a number, found `big`" },
	    { "lexicon.yaml", 9, 10, "a captured value is missing `capture`" },
	    { "lexicon.yaml", 9, 18,
	      "`scale` needs `scale-by` (the group that picks the factor)" } } },
	{ "need cues name the attributes they drop",
	  { { "lexicon.yaml", "lexicon:\n"
	                      "  - {id: x, match: a, negates: need}\n"
	                      "  - {id: y, match: b, assert: {k: v}, drops: [k]}\n"
	                      "  - {id: z, match: c, negates: need, drops: [[k]]}\n"
	                      "  - {id: w, match: d, negates: need, drops: []}\n" } },
	  { { "lexicon.yaml", 2, 5, "a lexicon entry with `negates: need` is missing `drops`" },
	    { "lexicon.yaml", 3, 46, "`drops` belongs to a lexicon entry with `negates: need`" },
	    { "lexicon.yaml", 4, 46, "`drops` must be a list of attribute names" },
	    { "lexicon.yaml", 5, 45, "`drops` must be a list of attribute names" } } },
	{ "at most 32 need cues (each is a bit of a fact's denied_by)",
	  { { "lexicon.yaml", "lexicon:\n" CUES33 } },
	  { { "lexicon.yaml", 34, 5, "more than 32 lexicon entries with `negates: need`" } } },
	{ "sources that decide nothing need a reason",
	  { { "sources.yaml", "sources:\n  - {id: a, title: t, topic: etl, decides: nope}\n"
	                      "  - {id: b, title: t, topic: etl, decides: false}\n" } },
	  { { "sources.yaml", 2, 44, "`decides` must be true or false, found `nope`" },
	    { "sources.yaml", 3, 5,
	      "a source with `decides: false` needs `why` (what it lacks)" } } },
	{ "entity ids are lowercase symbols; fact values are constants",
	  { { "catalog.yaml", "catalog:\n"
	                      "  - id: Amazon EMR\n"
	                      "    name: N\n"
	                      "    kind: service\n"
	                      "    facts: {a: ?x, b: , c: {d: 1}}\n" } },
	  { { "catalog.yaml", 2, 9, "an entity id must be a name of lowercase letters, digits, "
	      "`-`, `.` and `_`, found `Amazon EMR`" },
	    { "catalog.yaml", 5, 16, "variables cannot appear in a fact's value, found `?x`" },
	    { "catalog.yaml", 5, 23, "a fact's value is missing" },
	    { "catalog.yaml", 5, 28, "a fact's value must be a single value, found a mapping" } } },
	{ "unknown family names point at the reference",
	  { { "lexicon/a.yaml", "lexicon:\n"
	                        "  - id: x\n"
	                        "    match: 'a\\s+{{mst}}'\n"
	                        "    assert: {k: v}\n"
	                        "  - id: y\n"
	                        "    match: 'a{{must}}(b'\n"
	                        "    assert: {k: v}\n"
	                        "  - id: z\n"
	                        "    match: 'c{{q}}'\n"
	                        "    assert: {k: v}\n" },
	    { "lexicon/z.yaml", "families:\n  must: 'must|has\\s+to'\n  q: 'a{2,1}'\n" } },
	  { { "lexicon/a.yaml", 3, 17, "unknown family `mst` (did you mean `must`?)" },
	    { "lexicon/a.yaml", 6, 24, "invalid regular expression in `match`: missing closing "
	      "parenthesis (at offset 11)" },
	    { "lexicon/a.yaml", 9, 14, "invalid regular expression in `match`, inside family "
	      "`q`: numbers out of order in {} quantifier" } } },
	{ "bad families",
	  { { "families.yaml", "families:\n"
	                       "  a: 'x{{b}}'\n"
	                       "  b: 'y{{a}}'\n"
	                       "  c: '(?<n>z)'\n"
	                       "  d: 'w)'\n"
	                       "  e: 'v{{'\n" },
	    { "more.yaml", "families:\n  a: 'dup'\n" } },
	  { { "families.yaml", 3, 8, "family `a` uses itself" },
	    { "families.yaml", 4, 7, "a family must not hold a named group (a pattern using it "
	      "twice would name two groups alike); write `(?:...)`" },
	    { "families.yaml", 5, 8, "this `)` closes a group the family did not open" },
	    { "more.yaml", 2, 3, "duplicate family `a` (already loaded from {dir}/families.yaml:2)" },
	    { "families.yaml", 6, 8, "`{{` starts a family reference such as `{{must}}`; write "
	      "`\\{{` for two literal braces" } } },
	{ "sections must be lists",
	  { { "catalog.yaml", "catalog: {id: x}\nlexicon: oops\nsources:\n" } },
	  { { "catalog.yaml", 1, 10, "`catalog` must be a list of entries, found a mapping" },
	    { "catalog.yaml", 2, 10, "`lexicon` must be a list of entries, found `oops`" } } },
};

/* Replaces "{dir}" in MSG by DIR. */
static const char *expand(const char *msg, const char *dir, char *buf, size_t size)
{
	const char *p = strstr(msg, "{dir}");
	if (!p)
		snprintf(buf, size, "%s", msg);
	else
		snprintf(buf, size, "%.*s%s%s", (int)(p - msg), msg, dir, p + 5);
	return buf;
}

Test(kb, broken_knowledge_bases)
{
	for (size_t i = 0; i < sizeof(broken) / sizeof(*broken); i++) {
		const broken_case *c = &broken[i];
		tmpkb t;
		tmp_make(&t, c->files);
		eng_diags *d = eng_diags_new(0);
		kb *k = (kb *)1;
		char all[4096];
		eng_status st = kb_load(t.dir, NULL, d, &k);
		cr_expect_eq(st, ENG_ERR_LOAD, "%s: status %s", c->name, eng_status_str(st));
		cr_expect_null(k, "%s: a knowledge base came back", c->name);
		size_t nwant = 0;
		while (nwant < MAX_DIAGS && c->want[nwant].file)
			nwant++;
		cr_expect_eq(eng_diags_errors(d), nwant, "%s: %zu errors, expected %zu:%s", c->name,
		             eng_diags_errors(d), nwant, diags_text(d, all, sizeof(all)));
		for (size_t w = 0; w < nwant; w++) {
			const want_diag *wd = &c->want[w];
			char file[256], msg[512];
			snprintf(file, sizeof(file), "%s/%s", t.dir, wd->file);
			expand(wd->msg, t.dir, msg, sizeof(msg));
			bool found = false;
			for (size_t j = 0; j < eng_diags_count(d) && !found; j++) {
				const eng_diag *g = eng_diags_get(d, j);
				found = g->severity == ENG_SEV_ERROR && strcmp(g->file, file) == 0 &&
				        g->line == wd->line && g->col == wd->col &&
				        strcmp(g->message, msg) == 0;
			}
			cr_expect(found, "%s: no error %s:%u:%u: %s; got:%s", c->name, wd->file,
			          wd->line, wd->col, msg, diags_text(d, all, sizeof(all)));
		}
		eng_diags_free(d);
		tmp_remove(&t);
	}
}

Test(kb, diagnostics_carry_context_and_source)
{
	static const kfile files[] = {
		{ "catalog.yaml", "catalog:\n" ENTRY("glue") "    alias: x\n" },
		{ NULL, NULL },
	};
	tmpkb t;
	tmp_make(&t, files);
	eng_diags *d = eng_diags_new(0);
	kb *k = NULL;
	cr_assert_eq(kb_load(t.dir, NULL, d, &k), ENG_ERR_LOAD);
	cr_assert_eq(eng_diags_count(d), 1);
	const eng_diag *g = eng_diags_get(d, 0);
	cr_expect_str_eq(g->context, "in catalog entry `glue` (line 2)");
	cr_expect_str_eq(g->source, "    alias: x");
	cr_expect_eq(g->span, 5);
	eng_diags_free(d);
	tmp_remove(&t);
}

Test(kb, engine_errors_are_collected_too)
{
	static const kfile files[] = {
		{ "a.yaml", "rules:\n  - id: r\n    when: []\n" },
		{ "b.yaml", "catalog:\n" ENTRY("glue") "    bad: 1\n" },
		{ NULL, NULL },
	};
	tmpkb t;
	tmp_make(&t, files);
	eng_diags *d = eng_diags_new(0);
	kb *k = NULL;
	char all[4096];
	cr_assert_eq(kb_load(t.dir, NULL, d, &k), ENG_ERR_LOAD);
	bool engine = false, app = false;
	for (size_t i = 0; i < eng_diags_count(d); i++) {
		const eng_diag *g = eng_diags_get(d, i);
		engine = engine || strstr(g->file, "a.yaml");
		app = app || strstr(g->file, "b.yaml");
	}
	cr_expect(engine && app, "errors of both files expected:%s",
	          diags_text(d, all, sizeof(all)));
	eng_diags_free(d);
	tmp_remove(&t);
}

/* ---- the compiled cache ---- */

/* Where TEXT first (LAST: last) stands in the body of cache image WHOLE[0..N), past its
 * header; -1 when it does not. */
static long cache_find(const unsigned char *whole, size_t n, const char *text, bool last)
{
	size_t len = strlen(text);
	long at = -1;
	for (size_t i = 48; i + len <= n && (last || at < 0); i++)
		if (memcmp(whole + i, text, len) == 0)
			at = (long)i;
	return at;
}

/* Loads T's knowledge base with the cache in CACHE_DIR; returns what the cache did and
 * checks that the result is the clean knowledge base, whichever way it came. */
static kb_cache_result load_cached(const tmpkb *t, const char *cache_dir, bool no_read,
                                   const char *step)
{
	eng_diags *d = eng_diags_new(0);
	kb *k = NULL;
	kb_load_opts opts = { NULL, cache_dir, no_read };
	kb_cache_result res = (kb_cache_result)-1;
	char buf[2048];
	cr_assert_eq(kb_load_with(t->dir, &opts, d, &k, &res), ENG_OK, "%s:%s", step,
	             diags_text(d, buf, sizeof(buf)));
	cr_expect_eq(eng_rule_count(k->e), 1, "%s: rules", step);
	eng_rule_info info;
	cr_expect(eng_rule_get(k->e, 0, &info), "%s: the rule compiles", step);
	cr_expect_eq(k->nentities, 2, "%s: entities", step);
	cr_expect_eq(k->nlexicon, 3, "%s: lexicon", step);
	const kb_entity *kdf = kb_entity_find(k, "kinesis-data-firehose");
	cr_assert_not_null(kdf, "%s", step);
	cr_assert_eq(kdf->naliases, 2, "%s", step);
	rx_span m;
	cr_expect_eq(rx_find(kdf->aliases[1], "use KDF here", 12, 0, &m), 1, "%s: alias", step);
	cr_expect_eq(m.start, 4, "%s: alias span", step);
	cr_expect(rx_has_group(k->lexicon[1].re, "unit"), "%s: named group", step);
	cr_expect_str_eq(k->lexicon[1].pattern, "(?<n>\\d+(?:\\.\\d+)?)\\s*(?<unit>KB|MB|GB|TB)\\b",
	                 "%s: pattern source", step);
	/* the prefilter's words, worked out or read from the cache */
	const rxlit *need = rx_need(k->lexicon[2].re);
	cr_assert_eq(need->nwords, 3, "%s: words", step);     /* cheapest & simplest & and */
	size_t wl;
	const char *w0 = rxlit_word(need, 0, &wl);
	cr_expect(wl == 8 && memcmp(w0, "cheapest", 8) == 0, "%s: words", step);
	cr_expect_eq(need->shape[0], RXLIT_NODE_AND, "%s: all of", step);
	cr_expect_eq(need->shape[1], 3, "%s: three words", step);
	cr_expect_eq(rx_need(k->lexicon[1].re)->nwords, 4, "%s: words", step);
	kb_free(k);
	eng_diags_free(d);
	return res;
}

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	fwrite(text, 1, len, f);
	fclose(f);
}

/* The clean knowledge base in T, loaded once with the cache in a new folder CACHE_DIR
 * (a mkdtemp template), which writes the cache; returns the cache file's path. */
static char *cache_written(tmpkb *t, char *cache_dir)
{
	tmp_make(t, clean_kb);
	cr_assert_not_null(mkdtemp(cache_dir));
	char *file = kbc_path(cache_dir, t->dir);
	cr_assert_not_null(file);
	cr_expect_eq(load_cached(t, cache_dir, false, "cold"), KB_CACHE_WRITTEN);
	return file;
}

Test(kb, compiled_cache)
{
	tmpkb t;
	char cache_dir[] = "/tmp/mlarch-cache-XXXXXX";
	char *file = cache_written(&t, cache_dir);
	cr_expect_eq(access(file, R_OK), 0, "the cache file exists");
	cr_expect_eq(load_cached(&t, cache_dir, false, "warm"), KB_CACHE_HIT);
	cr_expect_eq(load_cached(&t, cache_dir, true, "no read"), KB_CACHE_WRITTEN);

	/* a rule file edited: a new size and new times */
	char path[300];
	snprintf(path, sizeof(path), "%s/lexicon/size.yml", t.dir);
	char text[sizeof(lexicon_yaml) + 16];
	snprintf(text, sizeof(text), "%s# edited\n", lexicon_yaml);
	write_text(path, text, strlen(text));
	cr_expect_eq(load_cached(&t, cache_dir, false, "edited"), KB_CACHE_WRITTEN);
	cr_expect_eq(load_cached(&t, cache_dir, false, "after the edit"), KB_CACHE_HIT);

	/* damaged cache files are replaced */
	FILE *f = fopen(file, "rb");
	cr_assert_not_null(f);
	static char whole[1 << 20];
	size_t n = fread(whole, 1, sizeof(whole), f);
	fclose(f);
	cr_assert_gt(n, 4096);
	/* a byte of the body that every load reads: in the rule file's tree, which keeps its
	 * rule's id (a file that holds only sources, catalog and lexicon entries is not read:
	 * the image gives it; a rule's own tree is read when the rule is compiled) */
	long body = cache_find((const unsigned char *)whole, n, "firehose-parquet", false);
	cr_assert_gt(body, 0, "the rule file's tree where expected");
	/* each case keeps KEEP bytes (negative: counted from the end, so -1 drops the last
	 * one; 0 with HALF: half of them) and changes byte FLIP (-1: none) */
	const struct {
		const char *name;
		long keep;
		bool half;
		long flip;
	} damage[] = {
		{ "empty", 0, false, -1 },
		{ "header only", 48, false, -1 },
		{ "truncated", 0, true, -1 },
		{ "one byte short", -1, false, -1 },
		{ "a changed byte in the body", 0, false, body },
		{ "another format version", 0, false, 8 },
	};
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		size_t keep = damage[i].half ? n / 2 : damage[i].keep > 0 ? (size_t)damage[i].keep
		              : damage[i].keep < 0 ? n - 1 : damage[i].flip >= 0 ? n : 0;
		long flip = damage[i].flip;
		if (flip >= 0)
			whole[flip] ^= 0x40;
		write_text(file, whole, keep);
		if (flip >= 0)
			whole[flip] ^= 0x40;
		cr_expect_eq(load_cached(&t, cache_dir, false, damage[i].name), KB_CACHE_WRITTEN,
		             "%s: not rewritten", damage[i].name);
		cr_expect_eq(load_cached(&t, cache_dir, false, damage[i].name), KB_CACHE_HIT,
		             "%s: not used once rewritten", damage[i].name);
	}
	write_text(file, "garbage", 7);
	cr_expect_eq(load_cached(&t, cache_dir, false, "garbage"), KB_CACHE_WRITTEN);

	/* nowhere to write: the load goes on without */
	char blocked[sizeof(path) + 8];
	snprintf(blocked, sizeof(blocked), "%s/sub", path);     /* below a regular file */
	cr_expect_eq(load_cached(&t, blocked, false, "unwritable"), KB_CACHE_UNWRITTEN);
	cr_expect_eq(load_cached(&t, NULL, false, "no cache"), KB_CACHE_UNUSED);

	unlink(file);
	free(file);
	rmdir(cache_dir);
	tmp_remove(&t);
}

/* The cache's checksum changes with any one changed bit, and with the same bit changed
 * in two words of one lane (the top bit, which a multiplication alone never moves down). */
Test(kb, cache_checksum_sees_changes)
{
	static unsigned char buf[1031];
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		buf[i] = (unsigned char)x;
	}
	uint64_t whole = kbc_hash(buf, sizeof(buf));
	cr_expect_neq(kbc_hash(buf, sizeof(buf) - 1), whole, "one byte shorter");
	for (size_t i = 0; i < sizeof(buf); i++)
		for (int bit = 0; bit < 8; bit += 7) {
			buf[i] ^= (unsigned char)(1u << bit);
			cr_expect_neq(kbc_hash(buf, sizeof(buf)), whole, "bit %d of byte %zu", bit, i);
			buf[i] ^= (unsigned char)(1u << bit);
		}
	for (size_t i = 7; i + 32 < sizeof(buf) - 32; i += 8) {
		buf[i] ^= 0x80;
		buf[i + 32] ^= 0x80;
		cr_expect_neq(kbc_hash(buf, sizeof(buf)), whole, "top bits at %zu and %zu", i, i + 32);
		buf[i] ^= 0x80;
		buf[i + 32] ^= 0x80;
	}
}

/* One damaged byte of a cache file: where (from a section's start) and what it becomes. */
typedef struct {
	const char *name;
	size_t at;
	unsigned char byte;
} cache_damage;

/* The cache file FILE, read into WHOLE (at most CAP bytes); its length. */
static size_t cache_read(const char *file, unsigned char *whole, size_t cap)
{
	FILE *f = fopen(file, "rb");
	cr_assert_not_null(f);
	size_t n = fread(whole, 1, cap, f);
	fclose(f);
	return n;
}

/* The bytes of cache FILE (up to 1 MiB) in a buffer of this test's process, their number
 * in *N. */
static unsigned char *cache_bytes(const char *file, size_t *n)
{
	static unsigned char whole[1 << 20];
	*n = cache_read(file, whole, sizeof(whole));
	return whole;
}

/* The sources of the compiled patterns are not read by a warm load: a damaged byte there
 * leaves the cache in use, but a load that takes patterns from it and writes a new cache,
 * which would take their sources, checks them first: it writes nothing and drops the
 * file, and the load after writes it afresh. */
Test(kb, cache_sources_checked_before_trusted)
{
	tmpkb t;
	char cache_dir[] = "/tmp/mlarch-cache-XXXXXX";
	char *file = cache_written(&t, cache_dir);
	size_t n;
	unsigned char *whole = cache_bytes(file, &n);
	/* the last copy of a lexicon pattern: the sources come after the trees and images */
	long at = cache_find(whole, n, "cheapest and simplest", true);
	cr_assert_gt(at, 0, "the pattern's source in the cache");
	whole[at] ^= 0x40;
	write_text(file, (char *)whole, n);
	cr_expect_eq(load_cached(&t, cache_dir, false, "damaged source"), KB_CACHE_HIT,
	             "a warm load read the sources");

	/* and the rule file's image too: the load takes the lexicon's patterns from the
	 * cache, with their sources, and the rules from the YAML, and would write a cache */
	long body = cache_find(whole, n, "firehose-parquet", false);
	cr_assert_gt(body, 0, "the rule file's image");
	whole[body] ^= 0x40;
	write_text(file, (char *)whole, n);
	cr_expect_eq(load_cached(&t, cache_dir, false, "damaged rules"), KB_CACHE_UNWRITTEN,
	             "a cache was written from damaged sources");
	cr_expect_neq(access(file, F_OK), 0, "the damaged cache file is still there");
	cr_expect_eq(load_cached(&t, cache_dir, false, "after"), KB_CACHE_WRITTEN);
	cr_expect_eq(load_cached(&t, cache_dir, false, "after, warm"), KB_CACHE_HIT);
	unlink(file);
	free(file);
	rmdir(cache_dir);
	tmp_remove(&t);
}

/* Writes each damage of DAMAGE (N of them) at POS of WHOLE (LEN bytes) into the cache file
 * of T in CACHE_DIR, with the checksums made to fit (kbc_reseal), so that only the structure
 * checks can refuse it: the next load must write the cache anew, and the one after use it. */
static void cache_damage_each(tmpkb *t, const char *cache_dir, const char *file,
                              unsigned char *whole, size_t len, size_t pos,
                              const cache_damage *damage, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char was = whole[pos + damage[i].at];
		whole[pos + damage[i].at] = damage[i].byte;
		cr_assert(kbc_reseal(whole, len), "%s: the table", damage[i].name);
		write_text(file, (const char *)whole, len);
		whole[pos + damage[i].at] = was;
		kb_cache_result r1 = load_cached(t, cache_dir, false, damage[i].name);
		kb_cache_result r2 = load_cached(t, cache_dir, false, damage[i].name);
		cr_expect_eq(r1, KB_CACHE_WRITTEN, "%s: not rewritten (%d)", damage[i].name, r1);
		cr_expect_eq(r2, KB_CACHE_HIT, "%s: not used once rewritten (%d)", damage[i].name, r2);
	}
}

/* Loads T's knowledge base with the cache in CACHE_DIR and checks the first pattern's
 * prefilter (an alias of Firehose) against a text it matches: it must let the text
 * through. Returns what the cache did at the load. */
static kb_cache_result load_and_check(const tmpkb *t, const char *cache_dir, const char *step)
{
	eng_diags *d = eng_diags_new(0);
	kb *k = NULL;
	kb_load_opts opts = { NULL, cache_dir, false };
	kb_cache_result res = (kb_cache_result)-1;
	cr_assert_eq(kb_load_with(t->dir, &opts, d, &k, &res), ENG_OK, "%s", step);
	const kb_entity *kdf = kb_entity_find(k, "kinesis-data-firehose");
	cr_assert_not_null(kdf, "%s", step);
	static const char text[] = "use kinesis data firehose";
	rxlit_text low;
	rxlit_text_index(&low, text, sizeof(text) - 1);
	cr_expect(rx_may_match_in(kdf->aliases[0], &low), "%s: the text was skipped", step);
	kb_free(k);
	eng_diags_free(d);
	return res;
}

/* The prefilter's words in a cache file whose checksum was made to fit: the structure
 * checks alone must refuse what rxlit_table_encode cannot have written - the table's
 * frame and words when the file is opened, a requirement when a check reads it (the file
 * is then removed, for the next run to write, and the pattern runs). */
Test(kb, cache_words_checked)
{
	tmpkb t;
	char cache_dir[] = "/tmp/mlarch-cache-XXXXXX";
	char *file = cache_written(&t, cache_dir);
	size_t n;
	unsigned char *whole = cache_bytes(file, &n);
	/* the words section (rxlit_table_encode): the numbers of words W, requirements N,
	 * hash slots S and letters L; each word's edges, length and start, the hash, the
	 * letters. The first pattern's words, an alias of Firehose, come first: firehose (at
	 * the start of a word) and kinesis (at the end of one) */
	static const char letters[] = "firehosekinesis";
	size_t q = 0, pos = 0;
	for (size_t i = 0; i + sizeof(letters) - 1 <= n && !q; i++)
		if (memcmp(whole + i, letters, sizeof(letters) - 1) == 0)
			q = i;
	cr_assert_gt(q, 16, "the letters where expected");
	uint32_t w = 0, np = 0, slots = 0, nl = 0;
	for (size_t i = q - 16; i > 0 && !pos; i--) {
		memcpy(&w, whole + i, 4);
		memcpy(&slots, whole + i + 8, 4);
		if (w >= 2 && w < 200 && slots < 1024 && i + 16 + 6 * (size_t)w + 2 * (size_t)slots == q)
			pos = i;
	}
	cr_assert_gt(pos, 0, "the words section where expected");
	memcpy(&np, whole + pos + 4, 4);
	memcpy(&nl, whole + pos + 12, 4);
	cr_assert(whole[pos + 16] == RXLIT_START && whole[pos + 17] == RXLIT_END, "the edges");
	/* then each requirement's offset, and the first requirement: two words, a shape of
	 * nine bytes (an AND of two words, which take two bytes), words 0 and 1 */
	size_t r0 = q + nl + 4 * ((size_t)np + 1);
	cr_assert_eq(memcmp(whole + r0, "\2\0\11\0\2\2\0\2\0\2\0\1\1\0\0\1\0", 17), 0,
	             "the first requirement");
	const cache_damage refused[] = {
		{ "too many words", 0, (unsigned char)(w + 1) },
		{ "a hash not a power of two", 8, (unsigned char)(slots + 1) },
		{ "unknown edges", 16, 4 },
		{ "an empty word", 16 + w, 0 },
		{ "a word past the letters", 16 + w, 250 },
		{ "a word that starts elsewhere", 16 + 2 * (size_t)w, 1 },
		{ "an uppercase letter", q - pos, 'F' },
		{ "a requirement out of place", q - pos + nl, (unsigned char)(whole[q + nl] + 1) },
		{ "a requirement of more words", r0 - pos, 3 },
	};
	cache_damage_each(&t, cache_dir, file, whole, n, pos, refused,
	                  sizeof(refused) / sizeof(refused[0]));
	const cache_damage read[] = {
		{ "an unknown node", r0 - pos + 4, 7 },
		{ "a node of one child", r0 - pos + 5, 1 },
		{ "a node larger than its requirement", r0 - pos + 7, 9 },
		{ "a word number past the table", r0 - pos + 13, 0x7f },
	};
	for (size_t i = 0; i < sizeof(read) / sizeof(read[0]); i++) {
		unsigned char was = whole[pos + read[i].at];
		whole[pos + read[i].at] = read[i].byte;
		cr_assert(kbc_reseal(whole, n), "%s: the table", read[i].name);
		write_text(file, (const char *)whole, n);
		whole[pos + read[i].at] = was;
		cr_expect_eq(load_and_check(&t, cache_dir, read[i].name), KB_CACHE_HIT,
		             "%s: refused when opened", read[i].name);
		cr_expect_neq(access(file, F_OK), 0, "%s: the file was kept", read[i].name);
		cr_expect_eq(load_cached(&t, cache_dir, false, read[i].name), KB_CACHE_WRITTEN,
		             "%s: not rewritten", read[i].name);
	}
	unlink(file);
	free(file);
	rmdir(cache_dir);
	tmp_remove(&t);
}

/* The rules' summaries in a cache file whose checksum was made to fit: a summary the
 * reader refuses makes the file's rules load from its tree, and the cache written anew. */
Test(kb, cache_rule_summaries_checked)
{
	tmpkb t;
	char cache_dir[] = "/tmp/mlarch-cache-XXXXXX";
	char *file = cache_written(&t, cache_dir);
	size_t n;
	unsigned char *whole = cache_bytes(file, &n);
	/* the one rule file's summaries: magic "1DLM", 1 rule, its names */
	size_t pos = 0;
	for (size_t i = 0; i + 8 <= n && !pos; i++)
		if (memcmp(whole + i, "1DLM\1\0\0\0", 8) == 0)
			pos = i;
	cr_assert_gt(pos, 0, "the summaries where expected");
	static const cache_damage damage[] = {
		{ "another magic", 0, 'X' },
		{ "two rules", 4, 2 },
		{ "no rule", 4, 0 },
		{ "too many names", 11, 0x7f },
	};
	cache_damage_each(&t, cache_dir, file, whole, n, pos, damage,
	                  sizeof(damage) / sizeof(damage[0]));
	unlink(file);
	free(file);
	rmdir(cache_dir);
	tmp_remove(&t);
}

/* What K's lexicon and families are into BUF (size SIZE), symbols by name or (NUMBERS)
 * by number: for comparing two loads. Returns the length written. */
static size_t lexicon_dump(const kb *k, char *buf, size_t size, bool numbers)
{
	size_t at = 0;
#define PUT(...) do { int w_ = snprintf(buf + at, size - at, __VA_ARGS__); \
	if (w_ > 0 && (size_t)w_ < size - at) at += (size_t)w_; } while (0)
	for (uint32_t i = 0; i < k->nfamilies; i++) {
		const kb_family *f = &k->families[i];
		PUT("family %s %s %s %u %s %u:%u\n", f->name, f->pattern,
		    f->expanded ? f->expanded : "-", f->uses, f->file, f->line, f->col);
	}
	for (uint32_t i = 0; i < k->nlexicon; i++) {
		const kb_lexeme *lx = &k->lexicon[i];
		PUT("lex %s %s %d %d %s %u:%u %d\n", lx->id, lx->pattern, (int)lx->scope,
		    lx->negates, lx->file, lx->line, lx->col, lx->re != NULL);
		for (uint32_t j = 0; j < lx->nvals; j++) {
			const kb_lexval *v = &lx->vals[j];
			char val[128];
			eng_value_format(k->e, v->k, val, sizeof(val));
			if (numbers)
				PUT("  %u", v->attr);
			else
				PUT("  %s", eng_sym_name(k->e, v->attr));
			PUT(" %d %d %s %s %s %u", v->from_capture, (int)v->k.type,
			    v->from_capture ? "-" : val, v->capture ? v->capture : "-",
			    v->scale_by ? v->scale_by : "-", v->nscale);
			if (numbers && !v->from_capture &&
			    (v->k.type == ENG_SYMBOL || v->k.type == ENG_STRING))
				PUT(" sym %u", v->k.u.sym);
			for (uint32_t s = 0; s < v->nscale; s++)
				PUT(" %s=%.17g", v->scale_keys[s], v->scale_vals[s]);
			PUT("\n");
		}
	}
	for (uint32_t i = 0; i < k->nsources; i++) {
		const kb_source *s = &k->sources[i];
		PUT("source %s %s %s %d %s %s %s %u:%u\n", s->id, s->title,
		    s->topic ? s->topic : "-", s->decides, s->why ? s->why : "-",
		    s->conflict ? s->conflict : "-", s->file, s->line, s->col);
	}
	for (uint32_t i = 0; i < k->nentities; i++) {
		const kb_entity *en = &k->entities[i];
		PUT("entity %s %s %s %s %u:%u", en->id, en->name, en->kind ? en->kind : "-",
		    en->file, en->line, en->col);
		if (numbers)
			PUT(" sym %u", en->sym);
		for (uint32_t a = 0; a < en->naliases; a++)
			PUT(" alias %s %d", en->alias_src[a], en->aliases[a] != NULL);
		for (uint32_t c = 0; c < en->ncite; c++)
			PUT(" cite %s", en->cite[c]);
		PUT("\n");
	}
#undef PUT
	return at;
}

/* Loads T's knowledge base with the cache in CACHE_DIR and dumps its lexicon with the
 * symbols' numbers into BUF; returns what the cache did. */
static kb_cache_result load_dump(const tmpkb *t, const char *cache_dir, char *buf, size_t size)
{
	eng_diags *d = eng_diags_new(0);
	kb *k = NULL;
	kb_load_opts opts = { NULL, cache_dir, false };
	kb_cache_result res = (kb_cache_result)-1;
	cr_assert_eq(kb_load_with(t->dir, &opts, d, &k, &res), ENG_OK);
	size_t at = lexicon_dump(k, buf, size, true);
	/* the background facts, in the order the engine was given them */
	cr_assert_eq(eng_reset(k->e), ENG_OK);
	for (eng_fact_id f = eng_fact_next(k->e, 0); f; f = eng_fact_next(k->e, f)) {
		eng_triple tr;
		char val[128];
		cr_assert(eng_fact_get(k->e, f, &tr, NULL));
		eng_value_format(k->e, tr.value, val, sizeof(val));
		int w = snprintf(buf + at, size - at, "fact %u %u %u %s\n", f, tr.subject,
		                 tr.attribute, val);
		cr_assert(w > 0 && (size_t)w < size - at, "the dump fits");
		at += (size_t)w;
	}
	kb_free(k);
	eng_diags_free(d);
	return res;
}

/* The image of the sources, the catalog and the lexicon in a cache file whose checksums
 * were made to fit: what kbi_write cannot have written is refused before any file is
 * skipped, and they are read from the trees instead. */
Test(kb, cache_lexicon_image_checked)
{
	tmpkb t;
	char cache_dir[] = "/tmp/mlarch-cache-XXXXXX";
	char *file = cache_written(&t, cache_dir);
	size_t n;
	unsigned char *whole = cache_bytes(file, &n);
	/* three files hold only what the image gives (catalog/services.yaml, the first;
	 * lexicon/size.yml, the third; sources.yaml, the fourth); the first has no source and
	 * two catalog entries */
	static const unsigned char head[] = "\3\0\0\0\0\0\0\0\2\0\0\0\3\0\0\0"
	                                    "\0\0\0\0\2\0\0\0";
	size_t pos = 0;
	for (size_t i = 0; i + sizeof(head) - 1 <= n && !pos; i++)
		if (memcmp(whole + i, head, sizeof(head) - 1) == 0)
			pos = i;
	cr_assert_gt(pos, 0, "the image where expected");
	/* the lexicon: no family, three entries, the first's pattern the fourth (after the
	 * catalog's three aliases) */
	static const unsigned char lexhead[] = "\0\0\0\0\3\0\0\0\3\0\0\0";
	size_t lex = 0;
	for (size_t i = pos; i + sizeof(lexhead) - 1 <= n && !lex; i++)
		if (memcmp(whole + i, lexhead, sizeof(lexhead) - 1) == 0)
			lex = i;
	cr_assert_gt(lex, pos, "the lexicon's image where expected");
	lex -= pos;
	/* the first catalog entry at 24: its id, name, kind, line, column, two aliases and
	 * their pattern numbers; the lexicon's first entry at LEX + 12: its id, pattern
	 * number, pattern as written, scope, negation, file */
	const cache_damage damage[] = {
		{ "a file past the files", 12, 9 },
		{ "files out of order", 8, 0 },
		{ "too many catalog entries", 23, 0x7f },
		{ "an entity id past the texts", 27, 0x7f },
		{ "an unknown kind", 32, 9 },
		{ "too many aliases", 44, 0x7f },
		{ "an alias's pattern past the cache's", 48, 0x7f },
		{ "too many families", lex + 3, 0x7f },
		{ "too many entries", lex + 7, 0x7f },
		{ "an id past the texts", lex + 15, 0x7f },
		{ "a pattern number past the cache's", lex + 19, 0x7f },
		{ "a pattern as written past the texts", lex + 23, 0x7e },
		{ "an unknown scope", lex + 24, 9 },
		{ "an unknown negation", lex + 25, 4 },
		{ "an entry's file past the files", lex + 29, 0x7f },
	};
	cache_damage_each(&t, cache_dir, file, whole, n, pos, damage,
	                  sizeof(damage) / sizeof(damage[0]));
	/* damage that only the section's checksum sees: the sources, the catalog and the
	 * lexicon come from the trees, the same as from the image, down to the numbers of
	 * their symbols and the order of the engine's background facts */
	static char from_image[16384], from_trees[16384];
	cr_expect_eq(load_dump(&t, cache_dir, from_image, sizeof(from_image)), KB_CACHE_HIT);
	whole = cache_bytes(file, &n);
	whole[pos + lex + 12] ^= 0x01;
	write_text(file, (const char *)whole, n);
	cr_expect_eq(load_dump(&t, cache_dir, from_trees, sizeof(from_trees)), KB_CACHE_WRITTEN,
	             "a damaged lexicon image");
	cr_expect_str_eq(from_trees, from_image);
	cr_expect(strstr(from_image, "entity kinesis-data-firehose Amazon Kinesis Data Firehose "
	                 "service") && strstr(from_image, "cite de-8") &&
	          strstr(from_image, "source de-26 A link to a cheat sheet ingestion 0 it gives"),
	          "the dump holds the catalog and the sources:\n%s", from_image);
	cr_expect_eq(load_cached(&t, cache_dir, false, "rewritten"), KB_CACHE_HIT);
	unlink(file);
	free(file);
	rmdir(cache_dir);
	tmp_remove(&t);
}

/* The repository's own knowledge base read from its cache's image is the one read from
 * its YAML: every source, catalog entry, family and lexicon entry, field by field. (A load from the YAML compiles every
 * rule, which interns its symbols: their numbers are compared between a cache's image and
 * its trees above.) */
Test(kb, cache_lexicon_image_is_the_trees, .timeout = 120)
{
	char cache_dir[] = "/tmp/mlarch-cache-XXXXXX";
	cr_assert_not_null(mkdtemp(cache_dir));
	size_t size = 8 << 20;
	char *want = malloc(size), *got = malloc(size);
	cr_assert(want && got);
	kb_cache_result res[3];
	size_t wl = 0;
	for (int run = 0; run < 3; run++) {
		eng_diags *d = eng_diags_new(0);
		kb *k = NULL;
		/* no cache, then writing it, then reading it */
		kb_load_opts opts = { NULL, run ? cache_dir : NULL, false };
		cr_assert_eq(kb_load_with(SRCDIR "/rules", &opts, d, &k, &res[run]), ENG_OK);
		cr_assert_gt(k->nlexicon, 1000);
		size_t n = lexicon_dump(k, run ? got : want, size, false);
		cr_assert_lt(n, size - 1, "the dump fits");
		if (run == 0)
			wl = n;
		else
			cr_expect(n == wl && memcmp(got, want, n) == 0, "run %d: another lexicon", run);
		kb_free(k);
		eng_diags_free(d);
	}
	cr_expect_eq(res[1], KB_CACHE_WRITTEN);
	cr_expect_eq(res[2], KB_CACHE_HIT);
	char *cfile = kbc_path(cache_dir, SRCDIR "/rules");
	unlink(cfile);
	free(cfile);
	rmdir(cache_dir);
	free(want);
	free(got);
}

/* The spans of every pattern of K over TEXT, one per line, into BUF. */
static const char *all_matches(const kb *k, const char *text, char *buf, size_t size)
{
	size_t at = 0, len = strlen(text);
	buf[0] = '\0';
	for (uint32_t i = 0; i < k->nentities; i++)
		for (uint32_t a = 0; a < k->entities[i].naliases; a++) {
			rx_span m = { 0, 0 };
			int rc = rx_find(k->entities[i].aliases[a], text, len, 0, &m);
			at += (size_t)snprintf(buf + at, size - at, "%u.%u %d %zu-%zu\n", i, a, rc,
			                       m.start, m.end);
		}
	for (uint32_t i = 0; i < k->nlexicon; i++) {
		rx_span m = { 0, 0 };
		int rc = rx_find(k->lexicon[i].re, text, len, 0, &m);
		at += (size_t)snprintf(buf + at, size - at, "lex %u %d %zu-%zu\n", i, rc, m.start,
		                       m.end);
	}
	return buf;
}

/* Damage that only a section's own checksum sees (the table keeps its checksum): a
 * document image is refused when the load reads it, which then reads that file's YAML and
 * writes the cache anew; a rule's own tree when the rule is first compiled, after the
 * load, which then reads the rule from its file, and a compiled pattern when it first
 * runs: it is compiled from its source, with the same matches; for those two the cache
 * file goes, so that the next load writes it anew. */
Test(kb, cache_sections_checked_when_used)
{
	tmpkb t;
	char cache_dir[] = "/tmp/mlarch-cache-XXXXXX";
	char *file = cache_written(&t, cache_dir);
	size_t n;
	unsigned char *whole = cache_bytes(file, &n);
	uint64_t tablen;
	memcpy(&tablen, whole + KBC_AT_TABLEN, sizeof(tablen));
	size_t data = KBC_ALIGN(KBC_HEADER + (size_t)tablen);
	cr_assert_lt(data, n);
	/* the rule file's document image holds the rule's id first; the table does not */
	static const char name[] = "firehose-parquet";
	size_t pos = 0;
	for (size_t i = data; i + sizeof(name) - 1 <= n && !pos; i++)
		if (memcmp(whole + i, name, sizeof(name) - 1) == 0)
			pos = i;
	cr_assert_gt(pos, 0, "the rule file's image where expected");
	whole[pos] ^= 0x20;
	write_text(file, (const char *)whole, n);
	cr_expect_eq(load_cached(&t, cache_dir, false, "a damaged image"), KB_CACHE_WRITTEN);
	cr_expect_eq(load_cached(&t, cache_dir, false, "rewritten"), KB_CACHE_HIT);

	/* the rule's own tree holds its reason: checked when the rule is first compiled,
	 * which then reads the rule from its file, the same; the cache file goes */
	static const char reason[] = "Firehose converts on the way in.";
	whole = cache_bytes(file, &n);
	pos = 0;
	for (size_t i = data; i + sizeof(reason) - 1 <= n && !pos; i++)
		if (memcmp(whole + i, reason, sizeof(reason) - 1) == 0)
			pos = i;
	cr_assert_gt(pos, 0, "the rule's tree where expected");
	whole[pos] ^= 0x20;
	write_text(file, (const char *)whole, n);
	{
		eng_diags *d = eng_diags_new(0);
		kb *k = NULL;
		kb_load_opts opts = { NULL, cache_dir, false };
		kb_cache_result res;
		cr_assert_eq(kb_load_with(t.dir, &opts, d, &k, &res), ENG_OK);
		cr_expect_eq(res, KB_CACHE_HIT, "the damage is not seen by the load");
		eng_rule_info info;
		cr_assert(eng_rule_get(k->e, 0, &info), "the rule compiles: %s", eng_error(k->e));
		cr_expect_str_eq(info.id, "firehose-parquet");
		cr_expect_str_eq(info.because, reason, "compiled from its file");
		cr_expect(eng_rule_trees_damaged(k->e));
		kb_free(k);
		eng_diags_free(d);
		cr_expect_neq(access(file, F_OK), 0, "the damaged cache file is gone");
	}
	cr_expect_eq(load_cached(&t, cache_dir, false, "after a damaged rule tree"),
	             KB_CACHE_WRITTEN);
	cr_expect_eq(load_cached(&t, cache_dir, false, "rewritten"), KB_CACHE_HIT);

	/* the last pattern's bytes end the file */
	whole = cache_bytes(file, &n);
	whole[n - 1] ^= 0x01;
	write_text(file, (const char *)whole, n);
	const char *text = "send 5 GB through KDF, the cheapest and simplest Kinesis Data Firehose";
	static char want[4096], got[4096];
	eng_diags *d = eng_diags_new(0);
	kb *plain = NULL, *k = NULL;
	cr_assert_eq(kb_load(t.dir, NULL, d, &plain), ENG_OK);
	all_matches(plain, text, want, sizeof(want));
	kb_load_opts opts = { NULL, cache_dir, false };
	kb_cache_result res;
	cr_assert_eq(kb_load_with(t.dir, &opts, d, &k, &res), ENG_OK);
	cr_expect_eq(res, KB_CACHE_HIT, "the damage is not seen by the load");
	cr_expect_eq(access(file, F_OK), 0);
	all_matches(k, text, got, sizeof(got));
	cr_expect_str_eq(got, want, "the damaged pattern matches as its source does");
	cr_expect_neq(access(file, F_OK), 0, "the damaged cache file is gone");
	kb_free(k);
	kb_free(plain);
	eng_diags_free(d);
	cr_expect_eq(load_cached(&t, cache_dir, false, "after a damaged pattern"),
	             KB_CACHE_WRITTEN);
	cr_expect_eq(load_cached(&t, cache_dir, false, "rewritten"), KB_CACHE_HIT);
	unlink(file);
	free(file);
	rmdir(cache_dir);
	tmp_remove(&t);
}

Test(kb, no_cache_of_a_broken_knowledge_base)
{
	static const kfile bad_kb[] = {
		{ "rules.yaml", "rules:\n  - id: x\n    when: [[a, b, c]]\n" },
		{ NULL, NULL },
	};
	tmpkb t;
	tmp_make(&t, bad_kb);
	char cache_dir[] = "/tmp/mlarch-cache-XXXXXX";
	cr_assert_not_null(mkdtemp(cache_dir));
	for (int run = 0; run < 2; run++) {
		eng_diags *d = eng_diags_new(0);
		kb *k = NULL;
		kb_load_opts opts = { NULL, cache_dir, false };
		kb_cache_result res;
		cr_expect_eq(kb_load_with(t.dir, &opts, d, &k, &res), ENG_ERR_LOAD);
		cr_expect_eq(res, KB_CACHE_UNUSED);
		cr_expect_gt(eng_diags_errors(d), 0, "run %d: the same errors", run);
		eng_diags_free(d);
	}
	cr_expect_eq(rmdir(cache_dir), 0, "nothing was written");
	tmp_remove(&t);
}

/* ---- word families ---- */

/* The families are written in a file read after the lexicon that uses them. */
static const kfile family_kb[] = {
	{ "lexicon/a.yaml",
	  "lexicon:\n"
	  "  - id: encrypt\n"
	  "    match: '\\b{{must}}\\s+be\\s+encrypted\\b|\\b{{nobody}}\\s+{{must}}\\s+see\\b'\n"
	  "    assert: {need: encryption}\n"
	  "    scope: stem\n"
	  "  - id: plain\n"
	  "    match: 'literal \\{{ braces'\n"
	  "    assert: {braces: yes}\n" },
	{ "lexicon/z.yaml",
	  "families:\n"
	  "  must: 'must|has\\s+to|is\\s+required\\s+to'\n"
	  "  nobody: 'nobody|no\\s+one'\n"
	  "  spare: 'unused|{{must}}'\n" },
	{ NULL, NULL },
};

/* The one fact TEXT yields from K's lexicon: its span as "start-end", or "none". */
static const char *one_span(const kb *k, const char *text, char *buf, size_t size)
{
	xfacts x = { 0 };
	cr_assert_eq(extract(k, text, strlen(text), LEX_STEM, k->s_mentions, &x), ENG_OK);
	if (x.n == 0)
		snprintf(buf, size, "none");
	else
		snprintf(buf, size, "%zu-%zu", x.v[0].start, x.v[0].end);
	xfacts_free(&x);
	return buf;
}

Test(kb, families_expand_in_patterns)
{
	tmpkb t;
	tmp_make(&t, family_kb);
	eng_diags *d = eng_diags_new(0);
	kb *k = NULL;
	char all[2048], buf[32];
	cr_assert_eq(kb_load(t.dir, NULL, d, &k), ENG_OK, "%s", diags_text(d, all, sizeof(all)));
	cr_assert_eq(k->nfamilies, 3);
	cr_expect_str_eq(k->families[0].name, "must");
	cr_expect_eq(k->families[0].uses, 2, "`must` is used twice by `encrypt`");
	cr_expect_eq(k->families[1].uses, 1);
	cr_expect_eq(k->families[2].uses, 0, "a use inside a family is no use by a pattern");
	cr_expect_str_eq(k->families[2].expanded,
	                 "unused|(?:must|has\\s+to|is\\s+required\\s+to)");
	/* the entry keeps the pattern as written, for what shows it */
	cr_expect_str_eq(k->lexicon[0].pattern,
	                 "\\b{{must}}\\s+be\\s+encrypted\\b|\\b{{nobody}}\\s+{{must}}\\s+see\\b");
	static const struct {
		const char *text, *span;
	} cases[] = {
		{ "The logs must be encrypted.", "9-26" },
		{ "The logs is required to be encrypted.", "9-36" },
		{ "Logs has to be encrypted at rest.", "5-24" },
		{ "No one has to see them.", "0-17" },
		{ "The logs are encrypted.", "none" },
		{ "The logs need to be encrypted.", "none" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		cr_expect_str_eq(one_span(k, cases[i].text, buf, sizeof(buf)), cases[i].span,
		                 "%s", cases[i].text);
	/* an escaped brace is no reference: the pattern reads two braces */
	cr_expect_str_eq(one_span(k, "literal {{ braces", buf, sizeof(buf)), "0-17");
	/* the word prefilter reads the family's words: "one of must, has, is" */
	const rx *re = k->lexicon[0].re;
	static const char *const may[] = { "the data must be encrypted", "it has to be encrypted",
	                                   "nobody must see" };
	static const char *const never[] = { "the data will be encrypted", "it has to be",
	                                     "anybody must see it" };
	for (size_t i = 0; i < sizeof(may) / sizeof(*may); i++)
		cr_expect(rx_may_match(re, may[i], strlen(may[i])), "prefilter skips: %s", may[i]);
	for (size_t i = 0; i < sizeof(never) / sizeof(*never); i++)
		cr_expect(!rx_may_match(re, never[i], strlen(never[i])), "prefilter runs: %s",
		          never[i]);
	kb_free(k);
	eng_diags_free(d);
	tmp_remove(&t);
}

Test(kb, cache_sees_a_changed_family)
{
	tmpkb t;
	tmp_make(&t, family_kb);
	char cache_dir[128], zpath[256];
	snprintf(cache_dir, sizeof(cache_dir), "%s-cache", t.dir);
	snprintf(zpath, sizeof(zpath), "%s/lexicon/z.yaml", t.dir);
	kb_load_opts opts = { NULL, cache_dir, false };
	kb_cache_result res;
	char buf[32];
	for (int run = 0; run < 3; run++) {
		if (run == 2) {         /* a new wording in a family, read from the cache's folder */
			FILE *f = fopen(zpath, "w");
			cr_assert_not_null(f);
			fputs("families:\n"
			      "  must: 'must|has\\s+to|is\\s+required\\s+to|is\\s+obliged\\s+to'\n"
			      "  nobody: 'nobody|no\\s+one'\n"
			      "  spare: 'unused|{{must}}'\n", f);
			fclose(f);
		}
		eng_diags *d = eng_diags_new(0);
		kb *k = NULL;
		cr_assert_eq(kb_load_with(t.dir, &opts, d, &k, &res), ENG_OK);
		cr_expect_eq(res, run == 1 ? KB_CACHE_HIT : KB_CACHE_WRITTEN, "run %d: %d", run,
		             (int)res);
		cr_expect_str_eq(one_span(k, "Logs is obliged to be encrypted.", buf, sizeof(buf)),
		                 run == 2 ? "5-31" : "none", "run %d", run);
		cr_expect_str_eq(one_span(k, "Logs must be encrypted.", buf, sizeof(buf)), "5-22",
		                 "run %d", run);
		kb_free(k);
		eng_diags_free(d);
	}
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache_dir);
	cr_expect_eq(system(cmd), 0);
	tmp_remove(&t);
}
