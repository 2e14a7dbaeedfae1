/* SPDX-License-Identifier: MIT */
/*
 * test_extract.c - facts from text (src/extract.c) over a small knowledge base written to a
 * temporary directory: catalog aliases with overlap resolution, lexicon captures with
 * units, scope filtering, de-duplication and the spans behind every fact.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extract.h"
#include "question.h"

#define MAX_FACTS 8

static const char catalog_yaml[] =
	"catalog:\n"
	"  - id: amazon-kinesis\n"
	"    name: Amazon Kinesis\n"
	"    kind: service\n"
	"    aliases: ['\\bkinesis\\b']\n"
	"  - id: kinesis-data-streams\n"
	"    name: Amazon Kinesis Data Streams\n"
	"    kind: service\n"
	"    aliases: ['\\bkinesis\\s+data\\s+streams\\b', '\\bKDS\\b']\n"
	"  - id: kinesis-data-firehose\n"
	"    name: Amazon Kinesis Data Firehose\n"
	"    kind: service\n"
	"    aliases: ['(?:amazon\\s+)?kinesis\\s+(?:data\\s+)?firehose', '\\bfirehose\\b']\n"
	"  - id: amazon-s3\n"
	"    name: Amazon S3\n"
	"    kind: service\n"
	"    aliases: ['\\bS3\\b']\n"
	"  - id: aws-glue\n"
	"    name: AWS Glue\n"
	"    kind: service\n"
	"    aliases: ['\\bglue\\b']\n"
	"  - id: glue-etl\n"
	"    name: AWS Glue ETL\n"
	"    kind: feature\n"
	"    aliases: ['\\bglue\\b', '\\bglue\\s+etl\\b']\n"
	"  - id: no-aliases\n"
	"    name: An entity no text names\n"
	"    kind: concept\n"
	"  - id: num-trees\n"
	"    name: num_trees\n"
	"    kind: concept\n"
	"    aliases: ['\\bnum_trees\\b']\n";

static const char lexicon_yaml[] =
	"lexicon:\n"
	"  - id: dataset-size\n"
	"    match: '(?<n>\\d[\\d,]*(?:\\.\\d+)?)\\s*(?<unit>KB|MB|GB|TB|PB)\\b'\n"
	"    scope: stem\n"
	"    assert:\n"
	"      data.size_gb: {capture: n, scale-by: unit,\n"
	"                     scale: {KB: 0.000001, MB: 0.001, GB: 1, TB: 1000, PB: 1000000}}\n"
	"  - id: rate\n"
	"    match: '(?<n>\\d[\\d,]*)\\s+records\\s+per\\s+second'\n"
	"    assert: {records.per_second: {capture: n}}\n"
	"  - id: rows\n"
	"    match: '(?<n>\\d+(?:\\.\\d+)?)\\s+(?:\\w+\\s+)?rows\\b'\n"
	"    assert: {rows: {capture: n}}\n"
	"  - id: accounts\n"
	"    match: '\\b(?<n>(?:a\\s+|three\\s+)?[a-z]+(?:\\s+of)?(?:\\s+an?(?=\\s))?)(?:\\s+[a-z]+){0,3}?\\s+accounts\\b'\n"
	"    assert: {accounts: {capture: n}}\n"
	"  - id: users\n"
	"    match: '\\b(?<n>\\w+)(?:\\s+[a-z]+){0,2}?\\s+users\\b'\n"
	"    assert: {users: {capture: n}}\n"
	"  - id: shards\n"
	"    match: '\\b(?<n>[a-z]+(?:[- ][a-z]+)?)\\s+shards\\b'\n"
	"    assert: {shards: {capture: n}}\n"
	"  - id: streaming\n"
	"    match: 'clickstream|near\\s+real[- ]time'\n"
	"    assert: {data.arrival: streaming}\n"
	"  - id: columnar\n"
	"    match: '\\b(?<fmt>parquet|orc)\\b'\n"
	"    assert: {output.format: {capture: fmt}, columnar: yes}\n"
	"  - id: file-mode\n"
	"    match: '\\bfile\\s+mode\\b'\n"
	"    scope: option\n"
	"    assert: {input.mode: file}\n"
	"  - id: log-volume\n"
	"    match: '(?<n>\\d+)\\s*(?<unit>\\w+)\\s+of\\s+logs'\n"
	"    assert: {logs.size_gb: {capture: n, scale-by: unit, scale: {GB: 1}}}\n"
	"  - id: runaway\n"
	"    match: '(q+q+)+(?:y|z)'\n"
	"    assert: {runaway: yes}\n"
	"  - id: tier\n"
	"    match: 'tier\\s+(?<t>\\w+)?'\n"
	"    assert: {tier: {capture: t}}\n"
	"  - id: denial\n"
	"    match: '\\bcannot\\b|\\bdo\\s+not\\b'\n"
	"    assert: {option.polarity: negative}\n"
	"    scope: option\n"
	"    negates: clause\n"
	"  - id: set-aside\n"
	"    match: '\\binstead\\s+of\\s+\\w+'\n"
	"    scope: option\n"
	"    negates: span\n"
	"  - id: need-cue\n"
	"    match: '\\bdoes\\s+not\\s+need\\b|\\bno\\s+need\\s+to\\b'\n"
	"    scope: stem\n"
	"    negates: need\n"
	"    drops: ['*.need']\n"
	"  - id: topic-cue\n"
	"    match: '\\bno\\s+topic\\s+here\\b'\n"
	"    scope: stem\n"
	"    negates: need\n"
	"    drops: [topic]\n"
	"  - id: instant-need\n"
	"    match: '\\binstant\\b'\n"
	"    scope: stem\n"
	"    assert: {latency.need: instant, topic: latency}\n"
	"  - id: no-servers\n"
	"    match: '\\bno\\s+need\\s+to\\s+manage\\s+servers\\b'\n"
	"    scope: stem\n"
	"    assert: {servers.need: none}\n";

static char dir[64];
static kb *k;

static void write_file(const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

static void remove_file(const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	remove(path);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mlarch-extract-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	write_file("catalog.yaml", catalog_yaml);
	write_file("lexicon.yaml", lexicon_yaml);
	eng_diags *d = eng_diags_new(0);
	cr_assert_not_null(d);
	eng_status st = kb_load(dir, NULL, d, &k);
	const eng_diag *g = eng_diags_get(d, 0);
	cr_assert_eq(st, ENG_OK, "kb_load: %s: %s:%u:%u: %s", eng_status_str(st),
	             g ? g->file : "", g ? g->line : 0, g ? g->col : 0, g ? g->message : "");
	eng_diags_free(d);
}

static void teardown(void)
{
	kb_free(k);
	k = NULL;
	remove_file("catalog.yaml");
	remove_file("lexicon.yaml");
	rmdir(dir);
}

TestSuite(extract, .init = setup, .fini = teardown);

/* An expected fact: attribute, value ('y' symbol, 'n' number, 'b' boolean), and the text
 * its span must cover. */
typedef struct {
	const char *attr;
	char type;
	const char *sym;
	double num;
	const char *span;
} want_fact;

typedef struct {
	const char *name;
	const char *text;
	lex_scope scope;
	bool limited;                   /* a pattern must hit its match limit */
	want_fact want[MAX_FACTS];      /* in text order; attr NULL ends */
} extract_case;

#define ENT(id, span) { "@", 'y', id, 0, span }
#define SYM(attr, v, span) { attr, 'y', v, 0, span }
#define NUM(attr, v, span) { attr, 'n', NULL, v, span }
#define BOOL(attr, v, span) { attr, 'b', NULL, v, span }

static const extract_case cases[] = {
	{ "longest alias wins over the shorter ones inside it",
	  "Use Amazon Kinesis Data Firehose, not Kinesis Data Streams or plain Kinesis.",
	  LEX_STEM, false,
	  { ENT("kinesis-data-firehose", "Amazon Kinesis Data Firehose"),
	    ENT("kinesis-data-streams", "Kinesis Data Streams"),
	    ENT("amazon-kinesis", "Kinesis") } },
	{ "equal length: the earlier entity wins", "Run it in AWS Glue.", LEX_OPTION, false,
	  { ENT("aws-glue", "Glue") } },
	{ "a longer alias of a later entity still wins", "Run a Glue ETL job.", LEX_OPTION, false,
	  { ENT("glue-etl", "Glue ETL") } },
	{ "an entity named twice is reported once, at its first span",
	  "Write to S3, then read from s3 again.", LEX_STEM, false,
	  { ENT("amazon-s3", "S3") } },
	{ "terabytes become gigabytes", "The data set is about 1 TB.", LEX_STEM, false,
	  { NUM("data.size_gb", 1000, "1 TB") } },
	{ "megabytes become a fraction", "Each file is 500 MB.", LEX_STEM, false,
	  { NUM("data.size_gb", 0.5, "500 MB") } },
	{ "units are matched caseless", "1.5 gb", LEX_STEM, false,
	  { NUM("data.size_gb", 1.5, "1.5 gb") } },
	{ "thousands separators", "1,000 GB arrive daily", LEX_STEM, false,
	  { NUM("data.size_gb", 1000, "1,000 GB") } },
	{ "same fact twice keeps the first span", "2 GB today and 2 GB tomorrow", LEX_STEM, false,
	  { NUM("data.size_gb", 2, "2 GB") } },
	{ "different values are different facts", "2 GB today and 3 GB tomorrow", LEX_STEM, false,
	  { NUM("data.size_gb", 2, "2 GB"), NUM("data.size_gb", 3, "3 GB") } },
	{ "a plain number capture", "It writes 12,500 records per second.", LEX_STEM, false,
	  { NUM("records.per_second", 12500, "12,500 records per second") } },
	{ "a magnitude word scales the number before it", "2 thousand rows", LEX_STEM, false,
	  { NUM("rows", 2000, "2 thousand rows") } },
	{ "million, with a fraction", "1.5 million rows", LEX_STEM, false,
	  { NUM("rows", 1.5e6, "1.5 million rows") } },
	{ "hundred scales too", "3 hundred rows", LEX_STEM, false,
	  { NUM("rows", 300, "3 hundred rows") } },
	{ "a number in words before hundred", "One hundred users", LEX_STEM, false,
	  { NUM("users", 100, "One hundred users") } },
	{ "hundred before a larger magnitude word", "Two hundred thousand users", LEX_STEM, false,
	  { NUM("users", 200000, "Two hundred thousand users") } },
	{ "hundred alone after its number, then another word", "five hundred new users", LEX_STEM,
	  false, { NUM("users", 500, "five hundred new users") } },
	{ "a share of a magnitude word", "a quarter of a million accounts", LEX_STEM, false,
	  { NUM("accounts", 250000, "a quarter of a million accounts") } },
	{ "half before the magnitude word", "half a million accounts", LEX_STEM, false,
	  { NUM("accounts", 500000, "half a million accounts") } },
	{ "three quarters of a magnitude", "three quarters of a billion accounts", LEX_STEM, false,
	  { NUM("accounts", 7.5e8, "three quarters of a billion accounts") } },
	{ "a magnitude word alone is its number", "a thousand accounts", LEX_STEM, false,
	  { NUM("accounts", 1000, "a thousand accounts") } },
	{ "a share of nothing counted stays words", "a quarter accounts", LEX_STEM, false,
	  { SYM("accounts", "a quarter", "a quarter accounts") } },
	{ "only the whole word scales", "3 thousandths rows", LEX_STEM, false,
	  { NUM("rows", 3, "3 thousandths rows") } },
	{ "a number written in words is that number", "Six shards.", LEX_STEM, false,
	  { NUM("shards", 6, "Six shards") } },
	{ "tens and units, with a hyphen or a space", "Add twenty-four shards or forty five shards.",
	  LEX_STEM, false,
	  { NUM("shards", 24, "twenty-four shards"), NUM("shards", 45, "forty five shards") } },
	{ "half a, before its noun, is a half", "Keep half a shards.", LEX_STEM, false,
	  { NUM("shards", 0.5, "half a shards") } },
	{ "a word that is no number stays a symbol", "Several shards.", LEX_STEM, false,
	  { SYM("shards", "several", "Several shards") } },
	{ "a number word is read whole", "Seventeenth shards.", LEX_STEM, false,
	  { SYM("shards", "seventeenth", "Seventeenth shards") } },
	{ "a symbol capture is lowercased; constants ride along",
	  "Store it as PARQUET files.", LEX_OPTION, false,
	  { SYM("output.format", "parquet", "PARQUET"), BOOL("columnar", 1, "PARQUET") } },
	{ "two matches of one pattern give two values", "Either ORC or Parquet.", LEX_OPTION, false,
	  { SYM("output.format", "orc", "ORC"), BOOL("columnar", 1, "ORC"),
	    SYM("output.format", "parquet", "Parquet") } },
	{ "dedupe across patterns: first span", "A clickstream in near real-time", LEX_STEM, false,
	  { SYM("data.arrival", "streaming", "clickstream") } },
	{ "stem-only entries do not run on options", "Train in file mode on 5 GB.", LEX_OPTION, false,
	  { SYM("input.mode", "file", "file mode") } },
	{ "option-only entries do not run on stems", "Train in file mode on 5 GB.", LEX_STEM, false,
	  { NUM("data.size_gb", 5, "5 GB") } },
	{ "LEX_ANY runs every entry", "Train in file mode on 5 GB.", LEX_ANY, false,
	  { SYM("input.mode", "file", "file mode"), NUM("data.size_gb", 5, "5 GB") } },
	{ "a unit missing from the table gives no fact", "10 TB of logs", LEX_OPTION, false,
	  { { NULL, 0, NULL, 0, NULL } } },
	{ "a unit in the table does", "10 GB of logs", LEX_OPTION, false,
	  { NUM("logs.size_gb", 10, "10 GB of logs") } },
	{ "an optional group that did not match gives no fact", "a tier  ", LEX_OPTION, false,
	  { { NULL, 0, NULL, 0, NULL } } },
	{ "lexicon and entities interleave in text order",
	  "Firehose writes Parquet to S3 in near real time", LEX_STEM, false,
	  { ENT("kinesis-data-firehose", "Firehose"), SYM("output.format", "parquet", "Parquet"),
	    BOOL("columnar", 1, "Parquet"), ENT("amazon-s3", "S3"),
	    SYM("data.arrival", "streaming", "near real time") } },
	{ "a pattern that hits its limit is reported",    /* z: the filter lets it run */
	  "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq! then Firehose, z", LEX_STEM, true,
	  { ENT("kinesis-data-firehose", "Firehose") } },
	{ "nothing to find", "What is the answer?", LEX_STEM, false, { { NULL, 0, NULL, 0, NULL } } },
	{ "UTF-8 text keeps byte spans", "Caf\xC3\xA9 data: 2 GB", LEX_STEM, false,
	  { NUM("data.size_gb", 2, "2 GB") } },
};

static bool same_value(eng_value v, const want_fact *w)
{
	switch (w->type) {
	case 'y': return v.type == ENG_SYMBOL && strcmp(eng_sym_name(k->e, v.u.sym), w->sym) == 0;
	case 'n': return v.type == ENG_NUMBER && v.u.num == w->num;
	case 'b': return v.type == ENG_BOOL && v.u.b == (w->num != 0);
	default: return false;
	}
}

static const char *show(const xfacts *x, const char *text, char *buf, size_t size)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < x->n && o < size; i++) {
		char v[64];
		eng_value_format(k->e, x->v[i].value, v, sizeof(v));
		o += (size_t)snprintf(buf + o, size - o, "\n    %s = %s at `%.*s`",
		                      eng_sym_name(k->e, x->v[i].attr), v,
		                      (int)(x->v[i].end - x->v[i].start), text + x->v[i].start);
	}
	return buf;
}

Test(extract, table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const extract_case *c = &cases[i];
		xfacts x = { .v = NULL };
		eng_sym ent_attr = c->scope == LEX_OPTION ? k->s_uses : k->s_mentions;
		eng_status st = extract(k, c->text, strlen(c->text), c->scope, ent_attr, &x);
		cr_expect_eq(st, ENG_OK, "%s: %s", c->name, eng_status_str(st));
		size_t nwant = 0;
		while (nwant < MAX_FACTS && c->want[nwant].attr)
			nwant++;
		char got[2048];
		cr_expect_eq(x.n, nwant, "%s: %zu facts, expected %zu:%s", c->name, x.n, nwant,
		             show(&x, c->text, got, sizeof(got)));
		for (size_t j = 0; j < x.n && j < nwant; j++) {
			const want_fact *w = &c->want[j];
			const xfact *f = &x.v[j];
			bool entity = strcmp(w->attr, "@") == 0;
			eng_sym attr = entity ? ent_attr : eng_sym_lookup(k->e, w->attr);
			const char *span = c->text + f->start;
			size_t n = f->end - f->start;
			cr_expect(f->attr == attr && same_value(f->value, w) &&
			          n == strlen(w->span) && strncmp(span, w->span, n) == 0,
			          "%s: fact %zu differs from %s at `%s`:%s", c->name, j, w->attr,
			          w->span, show(&x, c->text, got, sizeof(got)));
			cr_expect_eq(f->source, entity ? XF_ENTITY : XF_LEXICON,
			             "%s: fact %zu has the wrong source", c->name, j);
			if (entity && f->source == XF_ENTITY)
				cr_expect_str_eq(k->entities[f->index].id, w->sym,
				                 "%s: fact %zu names entity %u", c->name, j, f->index);
		}
		cr_expect_eq(x.nlimits > 0, c->limited, "%s: %u patterns hit a limit", c->name,
		             x.nlimits);
		if (c->limited && x.nlimits) {
			/* the pattern, the limit, and how to raise it */
			char why[512];
			cr_expect_eq(x.limits[0].source, XF_LEXICON, "%s", c->name);
			cr_expect_eq(x.limits[0].error, RX_ERR_MATCH_LIMIT, "%s", c->name);
			x_limit_describe(k, &x.limits[0], why, sizeof(why));
			cr_expect(strstr(why, "lexicon entry `runaway` (") && strstr(why, "lexicon.yaml:") &&
			          strstr(why, "hit the regex-match limit of 100000; raise it with "
			                 "--limit regex-match=200000"), "%s: %s", c->name, why);
		}
		xfacts_free(&x);
	}
}

Test(extract, lexicon_index_names_the_entry)
{
	const char *text = "near real-time data of 3 TB";
	xfacts x = { .v = NULL };
	cr_assert_eq(extract(k, text, strlen(text), LEX_STEM, k->s_mentions, &x), ENG_OK);
	cr_assert_eq(x.n, 2);
	cr_expect_str_eq(k->lexicon[x.v[0].index].id, "streaming");
	cr_expect_str_eq(k->lexicon[x.v[1].index].id, "dataset-size");
	xfacts_free(&x);
}

Test(extract, appends_and_dedupes_only_its_own_facts)
{
	xfacts x = { .v = NULL };
	const char *a = "Firehose to S3";
	const char *b = "S3 only";
	cr_assert_eq(extract(k, a, strlen(a), LEX_STEM, k->s_mentions, &x), ENG_OK);
	cr_assert_eq(x.n, 2);
	cr_assert_eq(extract(k, b, strlen(b), LEX_OPTION, k->s_uses, &x), ENG_OK);
	cr_assert_eq(x.n, 3, "the second call appends");
	cr_expect_eq(x.v[2].attr, k->s_uses);
	cr_expect_eq(x.v[2].start, 0);
	xfacts_free(&x);
	cr_expect_null(x.v);
	cr_expect_eq(x.n, 0);
}

/* An entity's name with a number set after it, as configuration writes it, also gives
 * (ENTITY, setting.current, N) in a stem and (ENTITY, setting.proposed, N) in an option,
 * spanning name and number; two entities set to the same number keep a fact each. */
Test(extract, settings)
{
	static const struct {
		const char *text;
		lex_scope scope;
		const char *entity;     /* NULL: no setting read */
		double value;
		const char *span;
	} settings[] = {
		{ "The job sets num_trees=100 today.", LEX_STEM, "num-trees", 100, "num_trees=100" },
		{ "{\"num_trees\": \"12\"}", LEX_STEM, "num-trees", 12, "num_trees\": \"12" },
		{ "num_trees = 1,500", LEX_STEM, "num-trees", 1500, "num_trees = 1,500" },
		{ "num_trees: 0.5", LEX_OPTION, "num-trees", 0.5, "num_trees: 0.5" },
		{ "num_trees=1e-3", LEX_STEM, NULL, 0, NULL },
		{ "num_trees=100x", LEX_STEM, NULL, 0, NULL },
		{ "num_trees 100", LEX_STEM, NULL, 0, NULL },
		{ "num_trees: many", LEX_STEM, NULL, 0, NULL },
	};
	for (size_t i = 0; i < sizeof(settings) / sizeof(*settings); i++) {
		xfacts x = { .v = NULL };
		bool option = settings[i].scope == LEX_OPTION;
		const char *t = settings[i].text;
		cr_assert_eq(extract(k, t, strlen(t), settings[i].scope,
		                     option ? k->s_uses : k->s_mentions, &x), ENG_OK);
		const xfact *f = NULL;
		for (size_t j = 0; j < x.n; j++)
			if (x.v[j].subject)
				f = &x.v[j];
		if (!settings[i].entity) {
			cr_expect_null(f, "`%s`: a setting read", t);
			xfacts_free(&x);
			continue;
		}
		cr_expect_not_null(f, "`%s`: no setting read", t);
		if (f) {
			cr_expect_str_eq(eng_sym_name(k->e, f->subject), settings[i].entity, "`%s`", t);
			cr_expect_eq(f->attr, option ? k->s_setting_proposed : k->s_setting_current,
			             "`%s`", t);
			cr_expect(f->value.type == ENG_NUMBER && f->value.u.num == settings[i].value,
			          "`%s`: the number", t);
			cr_expect(f->end - f->start == strlen(settings[i].span) &&
			          !strncmp(t + f->start, settings[i].span, f->end - f->start),
			          "`%s`: span `%.*s`", t, (int)(f->end - f->start), t + f->start);
		}
		xfacts_free(&x);
	}
	const char *two = "num_trees=5 and Kinesis: 5";
	xfacts x = { .v = NULL };
	cr_assert_eq(extract(k, two, strlen(two), LEX_STEM, k->s_mentions, &x), ENG_OK);
	size_t n = 0;
	for (size_t j = 0; j < x.n; j++)
		n += x.v[j].subject != 0;
	cr_expect_eq(n, 2, "one setting per entity, the same number or not");
	xfacts_free(&x);
}

/* Entities named only in the clause of a `negates: clause` match are flagged; the clause
 * ends at punctuation or at a word such as "so", "because" or "and". A `negates: span`
 * match flags only the entities inside it. */
Test(extract, negated_clauses)
{
	static const struct {
		const char *text;
		const char *negated;    /* entity ids flagged, space-separated and in text order */
	} negs[] = {
		{ "Because Glue cannot write it, use Firehose", "aws-glue" },
		{ "Use Firehose because Glue cannot write it", "aws-glue" },
		{ "Glue cannot write it so use Firehose", "aws-glue" },
		{ "Do not use Firehose and write to S3", "kinesis-data-firehose" },
		{ "Use Firehose, which cannot fail, into S3", "" },
		{ "Firehose cannot do it; Firehose with S3 can", "" },   /* named plainly too */
		{ "Use Firehose to S3", "" },
		/* `negates: span`: only what its match covers, not the clause around it */
		{ "Use Firehose instead of Glue to S3", "aws-glue" },
		{ "Instead of Glue use Firehose", "aws-glue" },
		{ "Use Firehose instead of the Glue", "" },
	};
	for (size_t i = 0; i < sizeof(negs) / sizeof(*negs); i++) {
		xfacts x = { .v = NULL };
		const char *t = negs[i].text;
		cr_assert_eq(extract(k, t, strlen(t), LEX_OPTION, k->s_uses, &x), ENG_OK);
		char got[128] = "", twin[128] = "";
		for (size_t j = 0; j < x.n; j++) {
			if (x.v[j].source != XF_ENTITY || !x.v[j].negated)
				continue;
			char *to = x.v[j].attr == k->s_uses ? got
			           : x.v[j].attr == k->s_uses_negated ? twin : NULL;
			cr_assert_not_null(to, "%s: a negated fact of another attribute", t);
			if (*to)
				strcat(to, " ");
			strcat(to, k->entities[x.v[j].index].id);
		}
		cr_expect_str_eq(got, negs[i].negated, "%s", t);
		/* each also gives (option, uses.negated, entity) for the rules */
		cr_expect_str_eq(twin, negs[i].negated, "%s: uses.negated", t);
		xfacts_free(&x);
	}
}

/* A `negates: need` cue drops the facts its `drops:` names from the clause around it,
 * unless the fact's own match holds the cue; other attributes stay, and so does a fact read
 * again outside the clause, with that span. */
Test(extract, denied_needs)
{
	static const struct {
		const char *text;
		lex_scope scope;
		const char *facts;      /* attributes read, space-separated, in text order */
		size_t need_at;         /* where latency.need's span starts, if read */
		size_t dropped;         /* facts shown as denied: latency.need, where not read */
	} denials[] = {
		{ "It does not need instant results", LEX_STEM, "topic", 0, 1 },
		{ "Instant results it does not need", LEX_STEM, "topic", 0, 1 },
		{ "It does not need a cluster, but instant results", LEX_STEM,
		  "latency.need topic", 32, 0 },
		{ "It does not need instant; instant alerts", LEX_STEM,
		  "topic latency.need", 26, 0 },
		{ "There is no need to manage servers", LEX_STEM, "servers.need", 0, 0 },
		/* a relative clause: the noun before "that" is its subject, not denied */
		{ "Instant results that does not need a cluster", LEX_STEM,
		  "latency.need topic", 0, 0 },
		{ "A cluster that does not need instant results", LEX_STEM, "topic", 0, 1 },
		{ "Instant results that it does not need", LEX_STEM, "topic", 0, 1 },
		{ "It does not need instant results", LEX_OPTION, "", 0, 0 },
	};
	for (size_t i = 0; i < sizeof(denials) / sizeof(*denials); i++) {
		xfacts x = { .v = NULL };
		const char *t = denials[i].text;
		cr_assert_eq(extract(k, t, strlen(t), denials[i].scope, k->s_mentions, &x), ENG_OK);
		char got[128] = "";
		for (size_t j = 0; j < x.n; j++) {
			if (x.v[j].source != XF_LEXICON)
				continue;
			const char *name = eng_sym_name(k->e, x.v[j].attr);
			if (*got)
				strcat(got, " ");
			strcat(got, name);
			if (strcmp(name, "latency.need") == 0)
				cr_expect_eq(x.v[j].start, denials[i].need_at, "%s: the span", t);
		}
		cr_expect_str_eq(got, denials[i].facts, "%s", t);
		cr_expect_eq(x.ndropped, denials[i].dropped, "%s: denied", t);
		for (size_t j = 0; j < x.ndropped; j++) {
			cr_expect_str_eq(eng_sym_name(k->e, x.dropped[j].fact.attr), "latency.need");
			cr_expect_str_eq(k->lexicon[x.dropped[j].cue].id, "need-cue", "%s", t);
			cr_expect_eq(x.dropped[j].cue_end - x.dropped[j].cue_start, strlen("does not need"));
		}
		xfacts_free(&x);
	}
}

/* Each cue drops only what its own `drops:` names: topic-cue's clause loses `topic` and
 * keeps latency.need, and need-cue's keeps `topic` (denied_needs), though both attributes
 * are dropped by some cue. */
Test(extract, denied_by_own_cue)
{
	const char *t = "No topic here for instant results";
	xfacts x = { .v = NULL };
	cr_assert_eq(extract(k, t, strlen(t), LEX_STEM, k->s_mentions, &x), ENG_OK);
	size_t read = 0;
	for (size_t j = 0; j < x.n; j++)
		if (x.v[j].source == XF_LEXICON) {
			cr_expect_str_eq(eng_sym_name(k->e, x.v[j].attr), "latency.need");
			read++;
		}
	cr_expect_eq(read, 1, "latency.need stays");
	cr_assert_eq(x.ndropped, 1);
	cr_expect_str_eq(eng_sym_name(k->e, x.dropped[0].fact.attr), "topic");
	cr_expect_str_eq(k->lexicon[x.dropped[0].cue].id, "topic-cue");
	xfacts_free(&x);
}

Test(extract, only_part_of_a_buffer)
{
	const char *text = "Firehose|S3";
	xfacts x = { .v = NULL };
	cr_assert_eq(extract(k, text, 8, LEX_STEM, k->s_mentions, &x), ENG_OK);
	cr_assert_eq(x.n, 1, "text past LEN is not read");
	xfacts_free(&x);
	cr_assert_eq(extract(k, NULL, 0, LEX_STEM, k->s_mentions, &x), ENG_OK);
	cr_expect_eq(x.n, 0);
	xfacts_free(&x);
}

/* The option-side negation cue of the project's own lexicon (`option-negated-claim` in
 * rules/lexicon/general.yaml) reads every way of denying: the option's polarity turns
 * negative and the entities of the denying clause are named in the negative; an option
 * that proposes something "without" or "to avoid" something else is no denial. */
Test(extract_rules, option_negation_cues)
{
	static const struct {
		const char *text;
		bool negative;
		const char *negated;    /* entity ids named in the negative, in text order */
	} denials[] = {
		{ "Amazon EMR no longer supports it", true, "amazon-emr" },
		{ "Amazon EMR never supports it", true, "amazon-emr" },
		{ "Amazon EMR fails to read it", true, "amazon-emr" },
		{ "Amazon EMR need not read it", true, "amazon-emr" },
		{ "Amazon EMR lacks a reader for it", true, "amazon-emr" },
		{ "Neither Amazon EMR nor Amazon S3 can hold it", true, "amazon-emr amazon-s3" },
		{ "None of the Amazon EMR releases read it", true, "amazon-emr" },
		{ "Nobody can run Amazon EMR here", true, "amazon-emr" },
		{ "Amazon EMR does not read it", true, "amazon-emr" },
		{ "Use Amazon EMR, so that no one has to look after Amazon S3", true, "amazon-s3" },
		{ "Use Amazon EMR without managing servers", false, "" },
		{ "Use Amazon EMR to avoid idle servers", false, "" },
		{ "Use Amazon EMR to read it", false, "" },
		{ "Test Amazon EMR on data it has not seen", false, "" },
	};
	eng_diags *d = eng_diags_new(0);
	kb *rk = NULL;
	cr_assert_eq(kb_load(SRCDIR "/rules", NULL, d, &rk), ENG_OK);
	eng_sym polarity = eng_sym_lookup(rk->e, "option.polarity");
	for (size_t i = 0; i < sizeof(denials) / sizeof(*denials); i++) {
		const char *t = denials[i].text;
		xfacts x = { .v = NULL };
		cr_assert_eq(extract(rk, t, strlen(t), LEX_OPTION, rk->s_uses, &x), ENG_OK);
		bool negative = false;
		char got[128] = "";
		for (size_t j = 0; j < x.n; j++) {
			if (x.v[j].source == XF_LEXICON && x.v[j].attr == polarity)
				negative = true;
			if (x.v[j].source == XF_ENTITY && x.v[j].negated && x.v[j].attr == rk->s_uses) {
				if (*got)
					strcat(got, " ");
				strcat(got, rk->entities[x.v[j].index].id);
			}
		}
		cr_expect_eq(negative, denials[i].negative, "%s: option.polarity", t);
		cr_expect_str_eq(got, denials[i].negated, "%s", t);
		xfacts_free(&x);
	}
	kb_free(rk);
	eng_diags_free(d);
}

/* ---- the phrasings drill: the .tsv files of tests/phrasings ----
 * Each line is `FACT<TAB>SENTENCE`, FACT written as `mlarch facts` prints it
 * ("kin.need = replay", "mentions = amazon-s3", a setting "rcf-num-trees setting.current = 100"), or `!FACT` for a sentence that must not
 * give it. The sentence is normalised as a question is (src/question.c: "doesn't" spelt
 * out, quotes made plain) and read by the project's own knowledge base as a stem, or as
 * an option when FACT starts with `option: ` ("option: uses = aws-glue",
 * "!option: etl.claim = needs-cluster"). A `\n` in the sentence is a line break, so that a
 * table can be written as it is pasted (its rows indented under their headings).
 * The files hold the many ways one need is said, so that a lexicon entry is written for
 * the need and not for the one question that showed it missing. Every miss is reported
 * with its file and line before the test fails. */
static bool has_fact(const kb *rk, const xfacts *x, const char *want)
{
	for (size_t j = 0; j < x->n; j++) {
		char v[256], got[512];
		eng_value_format(rk->e, x->v[j].value, v, sizeof(v));
		const xfact *f = &x->v[j];      /* a setting prints its subject first */
		snprintf(got, sizeof(got), "%s%s%s = %s", f->subject ? eng_sym_name(rk->e, f->subject) : "",
		         f->subject ? " " : "", eng_sym_name(rk->e, f->attr), v);
		/* a fact named in the negative counts only as its `.negated` twin */
		const char *dot = strrchr(eng_sym_name(rk->e, x->v[j].attr), '.');
		bool twin = dot && strcmp(dot, ".negated") == 0;
		if (strcmp(got, want) == 0 && (!x->v[j].negated || twin))
			return true;
	}
	return false;
}

static unsigned phrasings_file(const kb *rk, const char *path, unsigned *lines)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	char line[2048];
	unsigned lineno = 0, misses = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *tab = strchr(line, '\t');
		cr_assert_not_null(tab, "%s:%u: want FACT<TAB>SENTENCE", path, lineno);
		*tab = '\0';
		const char *fact = line;
		char *text = tab + 1, *w = text;
		for (const char *r = text; *r; r++)
			if (r[0] == '\\' && r[1] == 'n') {
				*w++ = '\n';
				r++;
			} else {
				*w++ = *r;
			}
		*w = '\0';
		bool absent = fact[0] == '!';
		if (absent)
			fact++;
		bool option = strncmp(fact, "option: ", 8) == 0;
		if (option)
			fact += 8;
		cr_assert(strstr(fact, " = ") && *text, "%s:%u: want 'attr = value<TAB>sentence'",
		          path, lineno);
		/* read as a question is: normalised ("doesn't" spelt out, quotes made plain) */
		question q;
		size_t err = 0;
		cr_assert_eq(question_parse(text, strlen(text), 0, &q, &err), Q_OK,
		             "%s:%u: the sentence does not read as a question", path, lineno);
		xfacts x = { .v = NULL };
		cr_assert_eq(extract(rk, q.text, q.nopts ? q.stem_end : q.len,
		                     option ? LEX_OPTION : LEX_STEM,
		                     option ? rk->s_uses : rk->s_mentions, &x), ENG_OK);
		if (has_fact(rk, &x, fact) == absent) {
			cr_log_error("%s:%u: %s%s %s: %s", path, lineno, option ? "option: " : "", fact,
			             absent ? "read, but must not be" : "not read", text);
			misses++;
		}
		xfacts_free(&x);
		question_free(&q);
		(*lines)++;
	}
	fclose(f);
	return misses;
}

Test(extract_rules, phrasings)
{
	const char *folder = SRCDIR "/tests/phrasings";
	DIR *dp = opendir(folder);
	cr_assert_not_null(dp, "%s", folder);
	eng_diags *d = eng_diags_new(0);
	kb *rk = NULL;
	cr_assert_eq(kb_load(SRCDIR "/rules", NULL, d, &rk), ENG_OK);
	unsigned misses = 0, lines = 0;
	struct dirent *de;
	while ((de = readdir(dp))) {
		size_t n = strlen(de->d_name);
		if (n < 4 || strcmp(de->d_name + n - 4, ".tsv") != 0)
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", folder, de->d_name);
		misses += phrasings_file(rk, path, &lines);
	}
	closedir(dp);
	cr_assert_gt(lines, 0, "no phrasings in %s", folder);
	cr_assert_eq(misses, 0, "%u of %u phrasings misread (listed above)", misses, lines);
	kb_free(rk);
	eng_diags_free(d);
}
