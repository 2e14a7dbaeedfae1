/* SPDX-License-Identifier: MIT */
/* test_question.c - normalising and splitting pasted questions (src/question.c), as tables
 * of cases. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "question.h"

typedef struct {
	const char *name;
	const char *text;
	const char *stem;               /* the stem as it should read */
	const char *opts[Q_MAX_OPTIONS + 1];   /* option texts, NULL-terminated */
	uint32_t choose;
} split_case;

/* Compares the parse of C->text with what C expects; failures name the case. */
static void check_split(const split_case *c)
{
	question q;
	size_t off = 0;
	q_status st = question_parse(c->text, strlen(c->text), 0, &q, &off);
	cr_assert_eq(st, Q_OK, "%s: status %s at %zu", c->name, q_status_str(st), off);
	cr_expect_eq(strlen(q.text), q.len, "%s: len %zu but text has %zu bytes", c->name,
	             q.len, strlen(q.text));
	cr_expect(q.stem_end == strlen(c->stem) && strncmp(q.text, c->stem, q.stem_end) == 0,
	          "%s: stem is `%.*s`, expected `%s`", c->name, (int)q.stem_end, q.text,
	          c->stem);
	uint32_t want = 0;
	while (want < Q_MAX_OPTIONS && c->opts[want])
		want++;
	cr_expect_eq(q.nopts, want, "%s: %u options, expected %u", c->name, q.nopts, want);
	for (uint32_t i = 0; i < q.nopts && i < want; i++) {
		const q_option *o = &q.opts[i];
		size_t n = o->end - o->start;
		cr_expect_eq(o->letter, 'A' + (int)i, "%s: option %u has letter %c", c->name, i,
		             o->letter);
		cr_expect(n == strlen(c->opts[i]) && strncmp(q.text + o->start, c->opts[i], n) == 0,
		          "%s: option %c is `%.*s`, expected `%s`", c->name, 'A' + i, (int)n,
		          q.text + o->start, c->opts[i]);
	}
	cr_expect_eq(q.choose, c->choose, "%s: choose %u, expected %u", c->name, q.choose,
	             c->choose);
	question_free(&q);
}

#define STEM "Which service meets these requirements?"

static const split_case labels[] = {
	{ "dot", STEM "\nA. Amazon EMR\nB. AWS Glue\nC. Amazon Kinesis Data Firehose\n",
	  STEM, { "Amazon EMR", "AWS Glue", "Amazon Kinesis Data Firehose" }, 1 },
	{ "close paren", STEM "\nA) one\nB) two", STEM, { "one", "two" }, 1 },
	{ "both parens", STEM "\n(A) one\n(B) two\n(C) three", STEM, { "one", "two", "three" },
	  1 },
	{ "colon", STEM "\nA: one\nB: two", STEM, { "one", "two" }, 1 },
	{ "brackets", STEM "\n[A] one\n[B] two", STEM, { "one", "two" }, 1 },
	{ "lowercase brackets", STEM "\n[a] one\n[b] two", STEM, { "one", "two" }, 1 },
	{ "Option A:", STEM "\nOption A: one\nOption B: two\nOption C: three", STEM,
	  { "one", "two", "three" }, 1 },
	{ "Choice A.", STEM "\nchoice A. one\nCHOICE B. two", STEM, { "one", "two" }, 1 },
	{ "`Option a` is text", STEM "\nOption a lot\nOption b too", STEM "\nOption a lot\n"
	  "Option b too", { NULL }, 1 },
	{ "styles do not mix: Option A / B.", STEM "\nOption A: one\nB: two\nA. x\nB. y",
	  STEM "\nOption A: one\nB: two", { "x", "y" }, 1 },
	{ "dash", STEM "\nA - one\nB - two", STEM, { "one", "two" }, 1 },
	{ "en dash, normalised", STEM "\nA \xE2\x80\x93 one\nB \xE2\x80\x93 two", STEM,
	  { "one", "two" }, 1 },
	{ "bare", STEM "\nA one\nB two\nC three\nD four", STEM,
	  { "one", "two", "three", "four" }, 1 },
	{ "lowercase close paren", STEM "\na) one\nb) two", STEM, { "one", "two" }, 1 },
	{ "lowercase parens", STEM "\n(a) one\n(b) two", STEM, { "one", "two" }, 1 },
	{ "lowercase dot", STEM "\na. one\nb. two", STEM, { "one", "two" }, 1 },
	{ "indented labels", STEM "\n  A. one\n  B. two", STEM, { "one", "two" }, 1 },
	{ "blank lines between", STEM "\n\nA. one\n\nB. two\n\n", STEM, { "one", "two" }, 1 },
	{ "label alone on its line", STEM "\nA.\none\nB.\ntwo", STEM, { "one", "two" }, 1 },
	{ "eight options", STEM "\nA. a\nB. b\nC. c\nD. d\nE. e\nF. f\nG. g\nH. h", STEM,
	  { "a", "b", "c", "d", "e", "f", "g", "h" }, 1 },
	{ "CRLF line ends", STEM "\r\nA. one\r\nB. two\r\n", STEM, { "one", "two" }, 1 },
	{ "CR line ends", STEM "\rA. one\rB. two", STEM, { "one", "two" }, 1 },
	{ "multi-line stem", "A retailer streams events.\nIt wants Parquet.\nA. one\nB. two",
	  "A retailer streams events.\nIt wants Parquet.", { "one", "two" }, 1 },
};

static const split_case wrapped[] = {
	{ "wrapped option", STEM "\nA. Use Amazon Kinesis Data Streams\n   with a KCL consumer.\n"
	  "B. Use Firehose.", STEM,
	  { "Use Amazon Kinesis Data Streams\nwith a KCL consumer.", "Use Firehose." }, 1 },
	/* indentation around a line break inside a stem or option goes, so that a pattern
	 * reads a wrapped text as it reads it on one line */
	{ "indented stem line and wide spaces", "A retailer   streams\n    events.\nWhich?\n"
	  "A. one  two\nB. two", "A retailer streams\nevents.\nWhich?", { "one two", "two" }, 1 },
	{ "word broken at its hyphen", STEM "\nA. Use near real-\n   time delivery.\n"
	  "B. Use pay-\n as-you-go pricing.", STEM,
	  { "Use near real-time delivery.", "Use pay-as-you-go pricing." }, 1 },
	{ "a dash between words is no hyphen", STEM "\nA. Use Glue -\n   not EMR.\nB. two",
	  STEM, { "Use Glue -\nnot EMR.", "two" }, 1 },
	{ "a blank line stays", "First part.\n\nSecond part?\nA. one\nB. two",
	  "First part.\n\nSecond part?", { "one", "two" }, 1 },
	{ "last option wraps", STEM "\nA. one\nB. two\nthat continues", STEM,
	  { "one", "two\nthat continues" }, 1 },
	{ "continuation starting `A `", STEM "\nA one\nB two, then\nA Lambda function\nC three",
	  STEM, { "one", "two, then\nA Lambda function", "three" }, 1 },
	{ "continuation with another style", STEM "\nA. one\nB. two\n(a) detail\nC. three",
	  STEM, { "one", "two\n(a) detail", "three" }, 1 },
};

/* Options on the stem's line or on one line of their own, as `mlarch ask "..."` gets them. */
static const split_case inline_opts[] = {
	{ "stem and options on one line", "Which service? A. Firehose B. AWS Glue C. EMR",
	  "Which service?", { "Firehose", "AWS Glue", "EMR" }, 1 },
	{ "parens inline", "Which? (A) one (B) two", "Which?", { "one", "two" }, 1 },
	{ "brackets inline", "Which? [A] one [B] two", "Which?", { "one", "two" }, 1 },
	{ "options on one line after the stem", "A retailer streams data.\nWhich? (Choose two.)\n"
	  "A) one B) two C) three", "A retailer streams data.\nWhich? (Choose two.)",
	  { "one", "two", "three" }, 2 },
	{ "a label-like word in the stem", "Plan A. was dropped. Which? A. one B. two",
	  "Plan A. was dropped. Which?", { "one", "two" }, 1 },
	{ "the longest chain", "Pick A: fast B: cheap. Which? A. one B. two C. three",
	  "Pick A: fast B: cheap. Which?", { "one", "two", "three" }, 1 },
	{ "no stem before A", "A. one B. two", "A. one B. two", { NULL }, 1 },
	{ "abbreviations are no labels", "Which? A.I. helps B.I. too", "Which? A.I. helps B.I. too",
	  { NULL }, 1 },
	{ "one label is no chain", "Which? A. one", "Which? A. one", { NULL }, 1 },
};

static const split_case not_options[] = {
	{ "stem starts `A company`",
	  "A company streams data.\nWhich service?\nA. Firehose\nB. Glue",
	  "A company streams data.\nWhich service?", { "Firehose", "Glue" }, 1 },
	{ "stem lines start `A `, bare options",
	  "A company streams data.\nA team must query it.\nWhich service?\nA Firehose\nB Glue",
	  "A company streams data.\nA team must query it.\nWhich service?", { "Firehose", "Glue" },
	  1 },
	{ "only A, no B", "Which service?\nA company streams data.", "Which service?\nA company "
	  "streams data.", { NULL }, 1 },
	{ "options with no stem", "A. Firehose\nB. Glue", "A. Firehose\nB. Glue", { NULL }, 1 },
	{ "`A.I.` is not a label", "Which?\nA.I. helps\nB.I. too", "Which?\nA.I. helps\nB.I. too",
	  { NULL }, 1 },
	{ "letters out of order", "Which?\nB. one\nA. two", "Which?\nB. one\nA. two", { NULL },
	  1 },
	{ "no options at all", "A retailer streams JSON events.",
	  "A retailer streams JSON events.", { NULL }, 1 },
	{ "longest chain wins", "Steps:\n(a) ingest\n(b) clean\nWhich?\nA. one\nB. two\nC. three",
	  "Steps:\n(a) ingest\n(b) clean\nWhich?", { "one", "two", "three" }, 1 },
};

static const split_case choose[] = {
	{ "(Choose two.)", "Which steps? (Choose two.)\nA. a\nB. b\nC. c",
	  "Which steps? (Choose two.)", { "a", "b", "c" }, 2 },
	{ "Choose TWO", "Which steps should be taken? Choose TWO\nA. a\nB. b\nC. c",
	  "Which steps should be taken? Choose TWO", { "a", "b", "c" }, 2 },
	{ "Select two.", "Which steps? Select two.\nA. a\nB. b", "Which steps? Select two.",
	  { "a", "b" }, 2 },
	{ "select 2 answers", "Which steps? select 2 answers\nA. a\nB. b",
	  "Which steps? select 2 answers", { "a", "b" }, 2 },
	{ "choose three", "Which steps? choose three\nA. a\nB. b", "Which steps? choose three",
	  { "a", "b" }, 3 },
	{ "(Select THREE.)", "Which steps? (Select THREE.)\nA. a\nB. b",
	  "Which steps? (Select THREE.)", { "a", "b" }, 3 },
	{ "(Choose 2)", "Which? (Choose 2)\nA. a\nB. b", "Which? (Choose 2)", { "a", "b" }, 2 },
	{ "default is one", "Which?\nA. a\nB. b", "Which?", { "a", "b" }, 1 },
	{ "select two features is not a count", "The team must select two features to drop.\n"
	  "Which?\nA. a\nB. b", "The team must select two features to drop.\nWhich?",
	  { "a", "b" }, 1 },
	{ "only the stem counts", "Which?\nA. choose two\nB. b", "Which?",
	  { "choose two", "b" }, 1 },
	{ "no options, choose in text", "Which two? (Choose two.)", "Which two? (Choose two.)",
	  { NULL }, 2 },
	{ "Which TWO services ...?", "A team streams data. Which TWO services should it use?\n"
	  "A. a\nB. b\nC. c", "A team streams data. Which TWO services should it use?",
	  { "a", "b", "c" }, 2 },
	{ "what 3 steps", "What 3 steps are needed?\nA. a\nB. b", "What 3 steps are needed?",
	  { "a", "b" }, 3 },
	{ "which two in a statement", "They chose which two regions to use. Which one is best?\n"
	  "A. a\nB. b", "They chose which two regions to use. Which one is best?", { "a", "b" }, 1 },
	{ "between which two values", "Between which two values do 95% fall?\nA. a\nB. b",
	  "Between which two values do 95% fall?", { "a", "b" }, 1 },
	{ "which two-step plan", "Which two-step plan works?\nA. a\nB. b",
	  "Which two-step plan works?", { "a", "b" }, 1 },
	{ "Select the TWO", "Which apply? Select the TWO best answers.\nA. a\nB. b",
	  "Which apply? Select the TWO best answers.", { "a", "b" }, 2 },
	{ "count on the next line", "Which steps? (Select\nTWO.)\nA. a\nB. b",
	  "Which steps? (Select\nTWO.)", { "a", "b" }, 2 },
	{ "Which TWO wrapped after which", "Data streams in. Which\nTWO services fit?\nA. a\nB. b",
	  "Data streams in. Which\nTWO services fit?", { "a", "b" }, 2 },
	{ "Which TWO wrapped after the count", "Data streams in. Which TWO\nservices fit?\nA. a\nB. b",
	  "Data streams in. Which TWO\nservices fit?", { "a", "b" }, 2 },
	{ "which two wrapped in a statement", "Decide which two\nregions to use. Which?\nA. a\nB. b",
	  "Decide which two\nregions to use. Which?", { "a", "b" }, 1 },
};

/* Normalisation: the whole text after parsing (no options in these). */
typedef struct {
	const char *name;
	const char *raw;
	const char *want;
} norm_case;

static const norm_case norms[] = {
	{ "curly single quotes", "It\xE2\x80\x99s \xE2\x80\x98" "fast\xE2\x80\x99",
	  "It's 'fast'" },
	{ "low and reversed single quotes, prime", "\xE2\x80\x9A" "a\xE2\x80\x9B" "b\xE2\x80\xB2",
	  "'a'b'" },
	{ "curly double quotes", "\xE2\x80\x9Cnear real-time\xE2\x80\x9D",
	  "\"near real-time\"" },
	{ "low double quote, double prime", "\xE2\x80\x9Ex\xE2\x80\xB3", "\"x\"" },
	{ "dashes", "a\xE2\x80\x90" "b\xE2\x80\x91" "c\xE2\x80\x92" "d\xE2\x80\x93" "e\xE2\x80\x94"
	  "f\xE2\x80\x95" "g\xE2\x88\x92" "h", "a-b-c-d-e-f-g-h" },
	{ "no-break space", "1\xC2\xA0TB", "1 TB" },
	{ "figure, narrow and thin spaces", "a\xE2\x80\x87" "b\xE2\x80\xAF" "c\xE2\x80\x89" "d",
	  "a b c d" },
	{ "ideographic and em spaces", "a\xE3\x80\x80" "b\xE2\x80\x83" "c", "a b c" },
	{ "tabs", "a\tb", "a b" },
	{ "trailing spaces stripped", "line one   \nline two\t \n", "line one\nline two" },
	{ "leading blank lines dropped", "\n\n  \nQuestion", "Question" },
	{ "BOM dropped", "\xEF\xBB\xBFQuestion", "Question" },
	{ "other characters kept", "caf\xC3\xA9 \xE2\x82\xAC 5 \xE2\x86\x92 6",
	  "caf\xC3\xA9 \xE2\x82\xAC 5 \xE2\x86\x92 6" },
	{ "ellipsis", "and so on\xE2\x80\xA6", "and so on..." },
	{ "negative contractions spelt out", "It doesn't scale, can't stream, won't wait; "
	  "Won't. DOESN'T, CAN'T", "It does not scale, cannot stream, will not wait; Will not. "
	  "DOES NOT, CANNOT" },
	{ "curly apostrophe contraction", "isn\xE2\x80\x99t", "is not" },
	{ "durations in two units", "Q3 is 1 minute 4 seconds; 2 hours and 15 minutes, 3 min, 20 sec",
	  "Q3 is 64 seconds; 135 minutes, 200 sec" },
	{ "not durations", "1.5 minutes 4 seconds, 2 hours 75 minutes, x1 minute 4 seconds",
	  "1.5 minutes 4 seconds, 2 hours 75 minutes, x1 minute 4 seconds" },
	{ "not a contraction", "the n't form, rock'n'roll, can'ts", "the n't form, rock'n'roll, can'ts" },
};

/* Inputs that fail, with the status and offset in the raw bytes. */
typedef struct {
	const char *name;
	const char *raw;
	size_t len;                     /* 0: strlen(raw) */
	q_status st;
	size_t off;
} error_case;

static const error_case errors[] = {
	{ "lone continuation byte", "ab\x80" "cd", 0, Q_ERR_UTF8, 2 },
	{ "invalid byte 0xFF", "hello \xFF", 0, Q_ERR_UTF8, 6 },
	{ "truncated sequence", "ok \xE2\x80", 0, Q_ERR_UTF8, 3 },
	{ "bad continuation", "ok \xE2\x28\xA1", 0, Q_ERR_UTF8, 3 },
	{ "overlong slash", "x\xC0\xAF", 0, Q_ERR_UTF8, 1 },
	{ "overlong three bytes", "x\xE0\x80\xAF", 0, Q_ERR_UTF8, 1 },
	{ "surrogate", "xy\xED\xA0\x80", 0, Q_ERR_UTF8, 2 },
	{ "beyond U+10FFFF", "\xF4\x90\x80\x80", 0, Q_ERR_UTF8, 0 },
	{ "error after valid multibyte", "\xC3\xA9\xE2\x80\x99\xFE", 0, Q_ERR_UTF8, 5 },
	{ "NUL byte", "abc\0def", 7, Q_ERR_NUL, 3 },
	{ "empty", "", 0, Q_ERR_EMPTY, 0 },
	{ "only white space", " \n\t\r\n \xC2\xA0", 0, Q_ERR_EMPTY, 0 },
};

Test(question, label_forms)
{
	for (size_t i = 0; i < sizeof(labels) / sizeof(*labels); i++)
		check_split(&labels[i]);
}

Test(question, wrapped_options)
{
	for (size_t i = 0; i < sizeof(wrapped) / sizeof(*wrapped); i++)
		check_split(&wrapped[i]);
}

Test(question, inline_options)
{
	for (size_t i = 0; i < sizeof(inline_opts) / sizeof(*inline_opts); i++)
		check_split(&inline_opts[i]);
}

Test(question, lines_that_are_not_options)
{
	for (size_t i = 0; i < sizeof(not_options) / sizeof(*not_options); i++)
		check_split(&not_options[i]);
}

Test(question, choose_n)
{
	for (size_t i = 0; i < sizeof(choose) / sizeof(*choose); i++)
		check_split(&choose[i]);
}

Test(question, normalisation)
{
	for (size_t i = 0; i < sizeof(norms) / sizeof(*norms); i++) {
		const norm_case *c = &norms[i];
		question q;
		q_status st = question_parse(c->raw, strlen(c->raw), 0, &q, NULL);
		cr_expect_eq(st, Q_OK, "%s: status %s", c->name, q_status_str(st));
		if (st != Q_OK)
			continue;
		cr_expect_str_eq(q.text, c->want, "%s: `%s`, expected `%s`", c->name, q.text,
		                 c->want);
		cr_expect_eq(q.nopts, 0, "%s: %u options", c->name, q.nopts);
		question_free(&q);
	}
}

Test(question, normalised_options_keep_offsets)
{
	const char *raw = "Which is \xE2\x80\x9C" "fast\xE2\x80\x9D?\xC2\xA0\r\n"
	                  "A.\xC2\xA0" "Kinesis\xE2\x80\x94" "Streams\r\nB. Firehose\r\n";
	question q;
	cr_assert_eq(question_parse(raw, strlen(raw), 0, &q, NULL), Q_OK);
	cr_expect_str_eq(q.text, "Which is \"fast\"?\nA. Kinesis-Streams\nB. Firehose");
	cr_assert_eq(q.nopts, 2);
	cr_expect_eq(q.stem_end, strlen("Which is \"fast\"?"));
	cr_expect(strncmp(q.text + q.opts[0].start, "Kinesis-Streams",
	                  q.opts[0].end - q.opts[0].start) == 0);
	cr_expect_eq(q.opts[1].end, q.len);
	question_free(&q);
}

Test(question, errors)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(*errors); i++) {
		const error_case *c = &errors[i];
		question q;
		size_t off = 999;
		size_t len = c->len ? c->len : strlen(c->raw);
		q_status st = question_parse(c->raw, len, 0, &q, &off);
		cr_expect_eq(st, c->st, "%s: status %s, expected %s", c->name, q_status_str(st),
		             q_status_str(c->st));
		cr_expect_eq(off, c->off, "%s: offset %zu, expected %zu", c->name, off, c->off);
		cr_expect_null(q.text, "%s: text left allocated", c->name);
		question_free(&q);
	}
}

Test(question, too_long)
{
	size_t len = Q_DEFAULT_MAX_BYTES + 1;
	char *raw = malloc(len);
	cr_assert_not_null(raw);
	memset(raw, 'a', len);
	question q;
	size_t off = 0;
	cr_expect_eq(question_parse(raw, len, 0, &q, &off), Q_ERR_TOO_LONG);
	cr_expect_eq(off, Q_DEFAULT_MAX_BYTES);
	/* exactly the maximum is fine */
	cr_expect_eq(question_parse(raw, Q_DEFAULT_MAX_BYTES, 0, &q, &off), Q_OK);
	cr_expect_eq(q.len, Q_DEFAULT_MAX_BYTES);
	question_free(&q);
	/* a limit given replaces the default, both ways */
	cr_expect_eq(question_parse(raw, 101, 100, &q, &off), Q_ERR_TOO_LONG);
	cr_expect_eq(off, 100);
	cr_expect_null(q.text);
	cr_expect_eq(question_parse(raw, 100, 100, &q, &off), Q_OK);
	question_free(&q);
	cr_expect_eq(question_parse(raw, len, len, &q, &off), Q_OK);
	cr_expect_eq(q.len, len);
	question_free(&q);
	free(raw);
}

Test(question, status_strings)
{
	for (int st = Q_OK; st <= Q_ERR_TOO_LONG; st++) {
		const char *s = q_status_str((q_status)st);
		cr_expect(s && *s && strcmp(s, "unknown error") != 0, "status %d has no name", st);
	}
}

/* ---- tables in the stem ---- */

typedef struct {
	const char *name, *raw;
	const char *stem;       /* the stem as read */
	uint32_t nrows;
	const char *labels[4];  /* the first rows' labels */
} table_case;

static const table_case tables[] = {
	{ "summary row under its headings",
	  "The summary is:\n"
	  "    feature        count   p25(Q1)   median   p75(Q3)\n"
	  "    excursion_min  8,191   42        55       66\n"
	  "Which value?\nA. 78\nB. 90",
	  "The summary is:\n"
	  "feature: excursion_min; count: 8,191; p25(Q1): 42; median: 55; p75(Q3): 66.\n"
	  "Which value?", 1, { "excursion_min" } },
	{ "confusion matrix: row labels under no heading, right-aligned counts",
	  "One shift:\n"
	  "                     predicted: reject   predicted: pass\n"
	  "  actual: good              95               1,805\n"
	  "  actual: defective         80                  20\n"
	  "What rate?\nA. 0.05\nB. 0.95",
	  "One shift:\n"
	  "actual: good; predicted: reject: 95; predicted: pass: 1,805.\n"
	  "actual: defective; predicted: reject: 80; predicted: pass: 20.\n"
	  "What rate?", 2, { "actual: good", "actual: defective" } },
	{ "a '|' table with its rule line, unindented",
	  "Inventory:\n| model | algorithm |\n|---|:---:|\n| churn-a | XGBoost |\n"
	  "| shelf-b | Image Classification |\nWhich two?\nA. churn-a\nB. shelf-b",
	  "Inventory:\nmodel: churn-a; algorithm: XGBoost.\n"
	  "model: shelf-b; algorithm: Image Classification.\nWhich two?",
	  2, { "churn-a", "shelf-b" } },
	{ "cells parted by tabs, as a spreadsheet copies them",
	  "Counts:\nlabel\tmeaning\trows\n0\tstayed\t48,750\n1\tchurned\t1,250\nWhich?\nA. x\nB. y",
	  "Counts:\nlabel: 0; meaning: stayed; rows: 48,750.\n"
	  "label: 1; meaning: churned; rows: 1,250.\nWhich?", 2, { "0", "1" } },
	{ "a '|' confusion matrix with an empty corner",
	  "Results:\n| | predicted 1 | predicted 0 |\n|---|---|---|\n| actual 1 | 12 | 3 |\n"
	  "| actual 0 | 7 | 978 |\nWhat?\nA. x\nB. y",
	  "Results:\nactual 1; predicted 1: 12; predicted 0: 3.\n"
	  "actual 0; predicted 1: 7; predicted 0: 978.\nWhat?", 2, { "actual 1", "actual 0" } },
	{ "percentile headings; a blank cell",
	  "Stats:\n    count   25%   50%   75%\n    100     3            9\nWhat?\nA. 1\nB. 2",
	  "Stats:\ncount: 100; 25%: 3; 75%: 9.\nWhat?", 1, { "100" } },
	{ "prose with two spaces after a full stop is no table",
	  "We logged it.  Then we trained.\nIt failed.  Why?\nA. Spot\nB. Pipe",
	  "We logged it. Then we trained.\nIt failed. Why?", 0, { NULL } },
	{ "log lines: a date is no heading",
	  "The log:\n    2024-01-02 10:00   ERROR   disk full\n"
	  "    2024-01-02 10:05   WARN    retry\nWhy?\nA. Disk\nB. Net",
	  "The log:\n2024-01-02 10:00 ERROR disk full\n2024-01-02 10:05 WARN retry\nWhy?",
	  0, { NULL } },
	{ "key and value lines: a number is no heading",
	  "Settings:\n    max_depth       6\n    eta             0.3\nWhich?\nA. X\nB. Y",
	  "Settings:\nmax_depth 6\neta 0.3\nWhich?", 0, { NULL } },
	{ "settings in columns: a value set is no heading",
	  "Settings:\n    max_depth=6     eta=0.3\n    subsample=0.8   num_round=100\nWhich?\nA. X\nB. Y",
	  "Settings:\nmax_depth=6 eta=0.3\nsubsample=0.8 num_round=100\nWhich?", 0, { NULL } },
	{ "log lines that start alike are no table",
	  "The log:\n    INFO   training started\n    INFO   epoch 1 done\nWhy?\nA. X\nB. Y",
	  "The log:\nINFO training started\nINFO epoch 1 done\nWhy?", 0, { NULL } },
	{ "a heading line with no row under it stays",
	  "Columns:\n    name   price   size\nThe rest is prose.\nWhich?\nA. X\nB. Y",
	  "Columns:\nname price size\nThe rest is prose.\nWhich?", 0, { NULL } },
	{ "a row out of line with the headings ends the table",
	  "Data:\n    epoch   loss\n    1       0.9\n                            stray   words\n"
	  "Which?\nA. X\nB. Y",
	  "Data:\nepoch: 1; loss: 0.9.\nstray words\nWhich?", 1, { "1" } },
};

Test(question, tables_are_read_row_by_row)
{
	for (size_t i = 0; i < sizeof(tables) / sizeof(*tables); i++) {
		const table_case *c = &tables[i];
		question q;
		q_status st = question_parse(c->raw, strlen(c->raw), 0, &q, NULL);
		cr_assert_eq(st, Q_OK, "%s: status %s", c->name, q_status_str(st));
		cr_expect_eq(q.stem_end, strlen(c->stem), "%s: stem `%.*s`", c->name,
		             (int)q.stem_end, q.text);
		cr_expect(strncmp(q.text, c->stem, q.stem_end) == 0, "%s: stem `%.*s`", c->name,
		          (int)q.stem_end, q.text);
		cr_expect_eq(q.nopts, 2, "%s: %u options", c->name, q.nopts);
		if (q.nopts == 2)
			cr_expect_eq(q.opts[1].end, q.len, "%s: option B moved wrongly", c->name);
		cr_expect_eq(q.nrows, c->nrows, "%s: %u rows", c->name, q.nrows);
		for (uint32_t r = 0; r < q.nrows && r < 4 && c->labels[r]; r++) {
			const q_table_row *row = &q.rows[r];
			cr_expect(row->label_end - row->label_start == strlen(c->labels[r]) &&
			          !strncmp(q.text + row->label_start, c->labels[r], strlen(c->labels[r])),
			          "%s: row %u label `%.*s`", c->name, r,
			          (int)(row->label_end - row->label_start), q.text + row->label_start);
			cr_expect(row->label_start >= row->start && row->label_end < row->end &&
			          q.text[row->end - 1] == '.' &&
			          (row->start == 0 || q.text[row->start - 1] == '\n'),
			          "%s: row %u offsets", c->name, r);
		}
		question_free(&q);
	}
}

/* More rows than question.rows holds: all are read, the first Q_MAX_ROWS kept, and a row
 * that tidying changes ("doesn't" spelt out) is not kept. */
Test(question, table_rows_kept)
{
	char raw[8192];
	size_t n = (size_t)snprintf(raw, sizeof(raw), "Table:\n    id     note\n");
	for (int r = 0; r < Q_MAX_ROWS + 5; r++)
		n += (size_t)snprintf(raw + n, sizeof(raw) - n, "    r%-4d  %s\n", r,
		                      r == 0 ? "doesn't fit" : "fits");
	snprintf(raw + n, sizeof(raw) - n, "Which?\nA. r1\nB. r2");
	question q;
	cr_assert_eq(question_parse(raw, strlen(raw), 0, &q, NULL), Q_OK);
	cr_expect(strstr(q.text, "id: r36; note: fits.") != NULL, "the last row is read");
	cr_expect(strstr(q.text, "id: r0; note: does not fit.") != NULL, "%s", q.text);
	cr_expect_eq(q.nrows, Q_MAX_ROWS - 1);
	cr_expect(!strncmp(q.text + q.rows[0].label_start, "r1", 2));
	question_free(&q);
}

/* A table whose written-out rows would take the text past its budget (long headings over
 * many short '|' rows) stays as it was. */
Test(question, table_past_its_budget_stays)
{
	static char raw[16384];
	const char *head = "a_heading_that_is_long_enough_for_this_";
	size_t n = (size_t)snprintf(raw, sizeof(raw), "Data:\n| %s1 | %s2 |\n", head, head);
	for (int r = 0; r < 300; r++)
		n += (size_t)snprintf(raw + n, sizeof(raw) - n, "|%d|%d|\n", r, r);
	snprintf(raw + n, sizeof(raw) - n, "Which?\nA. x\nB. y");
	question q;
	cr_assert_eq(question_parse(raw, strlen(raw), 0, &q, NULL), Q_OK);
	cr_expect_eq(q.nrows, 0);
	cr_expect(strstr(q.text, "\n|299|299|\n") != NULL, "the rows are left as they were");
	cr_expect(q.len <= strlen(raw));
	question_free(&q);
}
