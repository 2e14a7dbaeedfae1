/* SPDX-License-Identifier: MIT */
/*
 * test_rxlit.c - the words a pattern needs (src/rxlit.c): what the analysis finds on
 * crafted patterns, that it gives up on syntax it does not follow, and that it never skips
 * a text the pattern matches - on crafted cases and on every lexicon and catalog pattern of
 * the real knowledge base against the question texts of the scenarios.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract.h"
#include "kb.h"
#include "regex.h"
#include "rxlit.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

/* Appends to BUF the node of R at *SH (its words from *W on): the parts of an AND joined
 * by " & ", the alternatives of an OR by "|" (which binds tighter), an AND inside an OR in
 * parentheses. A word that must start a word of the text has a "<" before it, one that
 * must end one a ">" after it. */
static void formula(const rxlit *r, const uint8_t **sh, uint32_t *w, bool in_or, char *buf,
                    size_t size)
{
	uint8_t tag = *(*sh)++;
	if (tag == RXLIT_NODE_WORD) {
		unsigned e = rxlit_word_edges(r, *w);
		if (e & RXLIT_START)
			strncat(buf, "<", size - strlen(buf) - 1);
		strncat(buf, r->words[(*w)++], size - strlen(buf) - 1);
		if (e & RXLIT_END)
			strncat(buf, ">", size - strlen(buf) - 1);
		return;
	}
	uint32_t n = (*sh)[0] | (uint32_t)(*sh)[1] << 8;  /* then its bytes and words */
	*sh += RXLIT_NODE_HEAD - 1;
	bool and = tag == RXLIT_NODE_AND;
	if (and && in_or)
		strncat(buf, "(", size - strlen(buf) - 1);
	for (uint32_t k = 0; k < n; k++) {
		if (k)
			strncat(buf, and ? " & " : "|", size - strlen(buf) - 1);
		formula(r, sh, w, !and, buf, size);
	}
	if (and && in_or)
		strncat(buf, ")", size - strlen(buf) - 1);
}

/* What PATTERN needs (see formula), "" for nothing. */
static const char *words(const char *pattern, char *buf, size_t size)
{
	rxlit r;
	cr_assert(rxlit_analyse(pattern, &r));
	buf[0] = '\0';
	uint32_t w = 0;
	if (r.nwords) {
		const uint8_t *sh = r.shape;
		formula(&r, &sh, &w, false, buf, size);
	}
	cr_expect_eq(w, r.nwords, "%s: the shape covers every word", pattern);
	rxlit_free(&r);
	return buf;
}

Test(rxlit, words_found)
{
	static const struct { const char *pattern, *want; } cases[] = {
		{ "firehose", "firehose" },
		{ "\\bKinesis\\s+Data\\s+Firehose\\b", "<firehose> & <kinesis> & <data>" },
		{ "\\bcost[- ]?(?:effective|efficient)", "<cost & effective|efficient" },  /* fewer first */
		{ "\\b(?:most|more)\\s+cost", "<cost & <most>|<more>" },
		{ "\\bcheapest\\b|\\bleast\\s+expensive\\b", "<cheapest>|(<expensive> & <least>)" },
		{ "colou?r", "colo & r" },              /* `?` takes the u out of the run */
		{ "costs?", "cost" },
		{ "ab+c", "ab & c" },                   /* `+` keeps b, ends the run */
		{ "x{0,3}yz", "yz" },
		{ "(?:spark)?\\s*streaming", "streaming" },
		{ "(?:kinesis|kafka)\\s+stream", "<stream & kinesis>|kafka>" },
		{ "(?:kinesis|kafka)", "kinesis|kafka" },
		{ "(?<n>\\d+)\\s*(?:MB|GB)", "mb|gb" },
		{ "(?<=near )real[- ]time", "near> & real> & <time" },  /* a lookbehind's are needed */
		{ "(?!not )serverless", "serverless" },
		{ "[A-Z]{2}ETL", "etl" },
		{ "(?i)Glue", "glue" },
		{ "(?:cost|costs?)", "cost" },          /* repeated words kept once */
		{ "(?#comment)athena", "athena" },
		{ "\\x{41}thena", "thena" },
		{ "\\p{L}+ql", "ql" },
		/* each alternative needs all of its words, at the top as inside a group */
		{ "\\bclick\\s*(?:through|predict)|\\bCTR\\b", "(<click & through|predict)|<ctr>" },
		/* the most selective first: a word with both ends weighs two letters more, and
		 * one and six have one end each */
		{ "one two three four five six", "<three> & <four> & <five> & <two> & one> & <six" },
		{ "(?:a b|c d)", "(a> & <b)|(c> & <d)" },
		{ "x|(?:y)?", "" },                     /* an alternative that needs nothing */
		{ "aa|bb|cc|dd|ee|ff|gg|hh|ii|jj|kk|ll|mm|nn|oo|pp|qq rr",
		  "aa|bb|cc|dd|ee|ff|gg|hh|ii|jj|kk|ll|mm|nn|oo|pp|(qq> & <rr)" },
		/* the lexicon's order-free entries: every lookahead, and each alternative in
		 * one, needs its own words */
		{ "(?:^|(?<=[.?!]\\s))(?=[^.?!]*\\b(?:her\\s+usual\\s+desk|nothing\\s+but)\\b)"
		  "(?=[^.?!]*\\b(?:block|flag)s?)[^.?!]+",
		  "<block|<flag & (<usual> & <desk> & <her>)|(<nothing> & <but>)" },
		/* a repeated word once: an alternative's ends are enough */
		{ "(?:\\bcost\\b|cost)s", "cost & s" },
		/* backtracking verbs only take matches away: passed over */
		{ "\\bnone\\s+of\\s+the\\s+spikes?\\b(*SKIP)(*FAIL)|\\bspikes?\\s+were",
		  "(<none> & <spike & <the> & <of>)|(<spike & <were)" },
		{ "(*PRUNE)glue(*MARK:m)(*:n)(*THEN)(*COMMIT)(*F)", "glue" },
		/* a DEFINE group matches nothing where it stands; a call needs nothing and may
		 * end in a letter */
		{ "(?(DEFINE)(?<d>report|memo))\\bsummar(?&d)\\s+due", "<summar & <due" },
		{ "\\bab(?1)|(cd)", "<ab|cd" },
		{ "\\bab(?&x)c(?P>x)(?<x>d)", "<ab & c & d" },
		/* a back reference needs what its group needs, no more */
		{ "(a)\\1", "a" },
		{ "(?<w>ab)\\s+\\k<w>\\s+\\g{w}\\g{-1}\\g1\\g<w>\\k{w}\\k'w'\\s+cd", "ab> & <cd" },
	};
	char buf[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_str_eq(words(cases[i].pattern, buf, sizeof(buf)), cases[i].want,
		                 "pattern %s: %s", cases[i].pattern, buf);
}

/* Where a word must stand in the text: at the start of a word ("<") when the pattern puts
 * a word boundary or a character that is not part of a word before it, at the end (">")
 * likewise after it - and only when that is certain. */
Test(rxlit, word_edges)
{
	static const struct { const char *pattern, *want; } cases[] = {
		{ "\\bto\\b", "<to>" },
		{ "to", "to" },
		{ "\\bto", "<to" },
		{ "to\\b", "to>" },
		{ "^to$", "<to>" },
		{ "\\Ato\\z", "<to>" },
		{ "\\sto\\s", "<to>" },
		{ "\\s+to\\s+", "<to>" },
		{ "\\s*to\\s*", "to" },                   /* \s* may match nothing */
		{ "\\b\\s*to", "<to" },                   /* ... after a boundary, still one */
		{ "x\\s?to", "to & x" },
		{ "\\Wto\\W", "<to>" },
		{ "\\wto\\d", "to" },
		{ " to-", "<to>" },
		{ "_to_", "to" },                          /* "_" is part of a word */
		{ ".to.", "to" },
		{ "\\.to\\_", "<to" },
		{ "[-/ ]to[\\s,.]", "<to>" },
		{ "[-/ ]?to[,.]?", "to" },
		{ "[^a-z]to[a-z ]", "to" },                /* a negation, a letter: not known */
		{ "[!-/]to[:-@]", "to" },                  /* ranges: not known */
		{ "[[:space:]]to", "to" },
		{ "\\b(?:to|in)\\b", "<to>|<in>" },       /* into a group, and out of it */
		{ "\\b(?:to|in)x", "x & <to|<in" },
		{ "\\b(?:to|in)(?:\\s|-)", "<to>|<in>" },  /* every alternative begins so */
		{ "\\b(?:to|in)(?:\\s|x)", "<to|<in" },
		{ "\\b(?:to|in)(?:\\s|-)?", "<to|<in" },
		{ "\\b(?:to|in)+\\b", "to|in" },           /* repeated: first and last differ */
		{ "\\b(?:(?:to|in)\\b)", "<to>|<in>" },
		{ "\\b(?:x|y)?to", "to" },                 /* after something optional: not known */
		{ "\\b(?:-|\\s)?to", "<to" },              /* optional, but a boundary either way */
		{ "(?<!no\\s)\\bto\\b", "<to>" },          /* lookarounds are looked past */
		{ "\\b(?<!no\\s)to(?!x)\\b", "<to>" },
		{ "\\bto(?=\\s)", "<to" },                 /* what a lookahead sees is not used */
		{ "(?i)\\bto(?#c)\\b", "<to>" },
		{ "\\b(?i:to)\\b", "<to>" },
		{ "\\bto\\B", "<to" },
		{ "\\bto\\Kx", "<to & x" },
		{ "\\b(?=to)", "<to" },
		{ "\\bto(?:x)?\\b", "<to" },
		{ "\\bcosts?\\b", "<cost" },               /* the s may follow */
		{ "\\bto+\\b", "<to" },
		{ "\\b(?<w>to)\\b", "<to>" },
		{ "\\b(?:to|in(?:to)?)\\b", "<to>|<in" },
		{ "a\\b|\\bb", "a>|<b" },
		{ "\\b(?:to|\\d)\\b", "" },
		{ "x(?:\\s|-)to", "<to & x>" },
		{ "x(?:\\s|)to", "to & x" },              /* an empty alternative */
		{ "(?:\\bto|in)\\b", "<to>|in>" },
	};
	char buf[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_str_eq(words(cases[i].pattern, buf, sizeof(buf)), cases[i].want,
		                 "pattern %s: %s", cases[i].pattern, buf);
	/* a word needed twice, once with ends: both are kept unless one asks for less */
	cr_expect_str_eq(words("\\bxyz\\b.*xyz", buf, sizeof(buf)), "<xyz>", "%s", buf);
	cr_expect_str_eq(words("xyz.*\\bxyz\\b", buf, sizeof(buf)), "<xyz>", "%s", buf);
	cr_expect_str_eq(words("\\bxyz.*xyz\\b", buf, sizeof(buf)), "<xyz & xyz>", "%s", buf);
	cr_expect_str_eq(words("(?:\\bxyz\\b|xyz)", buf, sizeof(buf)), "xyz", "%s", buf);
}

Test(rxlit, word_edges_checked)
{
	static const struct { const char *pattern, *text; bool may; } cases[] = {
		{ "\\bto\\b", "go to it", true },
		{ "\\bto\\b", "to", true },
		{ "\\bto\\b", "store into tom", false },
		{ "\\bto\\b", "store to", true },          /* a later occurrence */
		{ "\\bto\\b", "(to)", true },
		{ "\\bto\\b", "_to", false },
		{ "\\bto\\b", "to_", false },
		{ "\\bto\\b", "2to", false },
		{ "\\bto", "tomato", true },
		{ "\\bto", "store", false },
		{ "to\\b", "potato", true },
		{ "to\\b", "tomb", false },
		{ "\\bin\\s+training\\b", "in training", true },
		{ "\\bin\\s+training\\b", "training in", true },  /* words, not their order */
		{ "\\bin\\s+training\\b", "trainings in", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rxlit r;
		cr_assert(rxlit_analyse(cases[i].pattern, &r));
		size_t n = strlen(cases[i].text);
		rxlit_text t;
		rxlit_text_index(&t, cases[i].text, n);
		cr_expect_eq(rxlit_may_match(&r, cases[i].text, n), cases[i].may, "%s on \"%s\"",
		             cases[i].pattern, cases[i].text);
		cr_expect_eq(rxlit_may_match_in(&r, &t), cases[i].may, "%s on \"%s\" (indexed)",
		             cases[i].pattern, cases[i].text);
		rxlit_free(&r);
	}
}

Test(rxlit, nothing_needed)
{
	static const char *const patterns[] = {
		"", "\\d+", "(?<n>\\d+)\\s*%", "a|\\d", "(?:firehose)?", "(?:x)*y?",
		"(?!firehose)", "(?x) fire hose", "\\Qfirehose\\E", "(*UTF)firehose",
		"(?(1)a|b)", "\\k<n>", "(?R)", "[abc", "(?:firehose", "x\\k<>|y", "x\\k|y",
		"x\\10|y", "x\\g{n|y",
		"(*ACCEPT)glue", "glue(*ACCEPT)x|y", "(*SKIP)?glue", "(*LIMIT_MATCH=9)glue",
		"(*SKIP:a\\)b)glue", "(?&)|(?&x-y)glue",
		"\\", "a{0}", "Un(?#Un)?", "ab(?i)*",
	};
	char buf[256];
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
		cr_expect_str_eq(words(patterns[i], buf, sizeof(buf)), "", "pattern %s",
		                 patterns[i]);
	/* more than 4096 words of alternatives: too many to keep, none to drop */
	static char wide[64 * 1024] = "(?:a0";
	for (int i = 1; i < 5000; i++)
		snprintf(wide + strlen(wide), sizeof(wide) - strlen(wide), "|%c%d", 'a' + i % 26, i);
	strcat(wide, ")");
	cr_expect_str_eq(words(wide, buf, sizeof(buf)), "", "5000 alternatives");
	/* ... but an AND's least selective parts are dropped until the rest fits */
	wide[strlen(wide) - 1] = '\0';
	strcat(wide, ")\\s+keepme");
	cr_expect_str_eq(words(wide, buf, sizeof(buf)), "<keepme", "5000 alternatives, then a word");
}

Test(rxlit, lower_and_may_match)
{
	char low[32];
	cr_assert(rxlit_lower("Use Kinesis FIREHOSE", 20, low));
	cr_expect(memcmp(low, "use kinesis firehose", 20) == 0);
	cr_expect_not(rxlit_lower("caf\xc3\xa9", 5, low), "a byte beyond ASCII: no filtering");
	rxlit r;
	cr_assert(rxlit_analyse("\\bfire\\s*hose|\\bkinesis", &r));
	cr_expect(rxlit_may_match(&r, "use kinesis", 11));
	cr_expect(rxlit_may_match(&r, "a fire hose", 11));
	cr_expect_not(rxlit_may_match(&r, "use amazon s3", 13));
	cr_expect_not(rxlit_may_match(&r, "kinesi", 6), "a word cut by the end of the text");
	cr_expect(rxlit_may_match(&r, NULL, 0), "no lowercase copy: it may match");
	/* the same answers on an indexed text, where a missing pair of letters rules a word
	 * out before any scan */
	static const struct { const char *text; bool may; } in[] = {
		{ "use kinesis", true }, { "a fire hose", true }, { "use amazon s3", false },
		{ "kinesi", false }, { "sisenik", false }, { "kin esis", false }, { "", false },
		{ "fi re hose fire", true }, { "x", false },
	};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		rxlit_text t;
		size_t n = strlen(in[i].text);
		rxlit_text_index(&t, in[i].text, n);
		cr_expect_eq(rxlit_may_match_in(&r, &t), in[i].may, "%s", in[i].text);
		cr_expect_eq(rxlit_may_match(&r, in[i].text, n), in[i].may, "%s", in[i].text);
	}
	cr_expect(rxlit_may_match_in(&r, NULL), "no index: it may match");
	rxlit_free(&r);
	cr_assert(rxlit_analyse("\\bs3\\b|x", &r));
	rxlit_text t;
	rxlit_text_index(&t, "an s3 bucket", 12);
	cr_expect(rxlit_may_match_in(&r, &t), "a digit in a word");
	rxlit_text_index(&t, "on x", 4);
	cr_expect(rxlit_may_match_in(&r, &t), "a word of one letter");
	rxlit_text_index(&t, "on 3s", 5);
	cr_expect_not(rxlit_may_match_in(&r, &t));
	rxlit_free(&r);
}

/* The words as the compiled cache keeps them: what comes back is what was analysed, and
 * bytes rxlit_encode could not have written are refused. */
Test(rxlit, encode_decode)
{
	static const char *const patterns[] = {
		"firehose", "\\bcheapest\\b|\\bleast\\s+expensive\\b", "\\d+", "(?:kinesis|kafka)",
	};
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		rxlit r, back;
		bool nomem = true;
		cr_assert(rxlit_analyse(patterns[i], &r));
		size_t n = rxlit_encoded_size(&r);
		unsigned char buf[256];
		cr_assert_lt(n, sizeof(buf));
		rxlit_encode(&r, buf);
		buf[n] = 0x7f;                  /* what follows is not read */
		cr_expect_eq(rxlit_decode(buf, n + 1, &back, &nomem), n, "pattern %s", patterns[i]);
		cr_expect_not(nomem);
		cr_assert_eq(back.nwords, r.nwords, "pattern %s", patterns[i]);
		for (uint32_t j = 0; j < r.nwords; j++) {
			cr_expect_str_eq(back.words[j], r.words[j], "pattern %s", patterns[i]);
			cr_expect_eq(rxlit_word_edges(&back, j), rxlit_word_edges(&r, j), "pattern %s",
			             patterns[i]);
		}
		for (size_t cut = 0; cut < n; cut++) {
			rxlit part;
			cr_expect_eq(rxlit_decode(buf, cut, &part, &nomem), 0, "%s cut at %zu",
			             patterns[i], cut);
			cr_expect_eq(part.nwords, 0);
		}
		rxlit_free(&r);
		rxlit_free(&back);
	}
	/* a word longer than a length byte keeps its first letters: still needed, at the
	 * start of a word but no longer at the end of one */
	char longp[400];
	memcpy(longp, "\\b", 2);
	memset(longp + 2, 'a', 300);
	memcpy(longp + 302, "\\b", 3);
	rxlit r, back;
	bool nomem;
	cr_assert(rxlit_analyse(longp, &r));
	cr_assert_eq(rxlit_word_edges(&r, 0), RXLIT_START | RXLIT_END);
	unsigned char buf[300];
	cr_assert_eq(rxlit_encoded_size(&r), 3 + RXLIT_WORD_MAX);    /* shape: a word; edges, length */
	rxlit_encode(&r, buf);
	cr_expect_eq(rxlit_decode(buf, sizeof(buf), &back, &nomem), 3 + RXLIT_WORD_MAX);
	cr_assert_eq(back.nwords, 1);
	cr_expect_eq(strlen(back.words[0]), RXLIT_WORD_MAX);
	cr_expect_eq(rxlit_word_edges(&back, 0), RXLIT_START);
	cr_expect(rxlit_may_match(&back, longp + 2, 300));
	rxlit_free(&r);
	rxlit_free(&back);

	static const struct { const char *name; unsigned char b[16]; size_t n; } bad[] = {
		{ "empty", { 0 }, 0 },
		{ "an unknown node", { 4, 0, 1, 'a' }, 4 },
		{ "an AND of one", { 2, 1, 0, 1, 0, 1, 0, 1, 0, 1, 'a' }, 11 },
		{ "sizes not its own", { 2, 2, 0, 3, 0, 2, 0, 1, 1, 0, 1, 'a', 0, 1, 'b' }, 15 },
		{ "an OR of none", { 3, 0 }, 2 },
		{ "a cut shape", { 2, 2, 1 }, 3 },
		{ "a cut count", { 3 }, 1 },
		{ "an empty word", { 1, 0, 0 }, 3 },
		{ "a word past the end", { 1, 0, 5, 'a', 'b' }, 5 },
		{ "an uppercase letter", { 1, 0, 2, 'a', 'B' }, 5 },
		{ "punctuation", { 1, 0, 2, 'a', '-' }, 5 },
		{ "a NUL", { 1, 0, 2, 'a', 0 }, 5 },
		{ "a missing word", { 2, 2, 0, 2, 0, 2, 0, 1, 1, 0, 1, 'a' }, 12 },
		{ "unknown edges", { 1, 4, 1, 'a' }, 4 },
		{ "a cut word", { 1, 3 }, 2 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rxlit x;
		cr_expect_eq(rxlit_decode(bad[i].b, bad[i].n, &x, &nomem), 0, "%s", bad[i].name);
		cr_expect_not(nomem, "%s", bad[i].name);
		cr_expect_eq(x.nwords, 0, "%s", bad[i].name);
	}
	unsigned char none = 0;
	rxlit x;
	cr_expect_eq(rxlit_decode(&none, 1, &x, &nomem), 1, "no words needed");
	cr_expect_eq(x.nwords, 0);
}

/* The damage hook of a table: counts the reports into *CTX. */
static void count_damage(void *ctx)
{
	(*(int *)ctx)++;
}

/* The requirements R[0..N) as one table (rxlit_table_encode), read back into V[0..N) in
 * place of *BYTES (*LEN of them), which the caller frees after the table. */
static rxlit_table *table_of(const rxlit *r, size_t n, rxlit *v, unsigned char **bytes,
                             size_t *len)
{
	const rxlit **rp = malloc(n * sizeof(*rp));
	cr_assert_not_null(rp);
	for (size_t i = 0; i < n; i++)
		rp[i] = &r[i];
	cr_assert(rxlit_table_encode(rp, n, bytes, len));
	free(rp);
	rxlit_table *t = rxlit_table_open(*bytes, *len, n, v);
	cr_assert_not_null(t);
	return t;
}

/* The words of many patterns as one table (the compiled cache's): each requirement read
 * in place is the one analysed, answers alike on every text (one index shared by all, as
 * extraction does), and bytes rxlit_table_encode could not have written are refused. */
Test(rxlit, table)
{
	static const char *const patterns[] = {
		"\\bfire\\s*hose|\\bkinesis", "\\d+", "\\bkinesis\\s+data\\s+(?:streams|firehose)",
		"\\bcheapest\\b|\\bleast\\s+expensive\\b", "(?:kinesis|kafka)", "\\bs3\\b|x",
		"s3\\d|x",            /* the same word anywhere: another word of the table */
	};
	enum { N = sizeof(patterns) / sizeof(patterns[0]) };
	rxlit r[N], v[N];
	for (size_t i = 0; i < N; i++)
		cr_assert(rxlit_analyse(patterns[i], &r[i]));
	unsigned char *buf;
	size_t len;
	rxlit_table *t = table_of(r, N, v, &buf, &len);
	for (size_t i = 0; i < N; i++) {
		cr_assert_eq(v[i].nwords, r[i].nwords, "%s", patterns[i]);
		cr_expect_eq(rxlit_encoded_size(&v[i]), rxlit_encoded_size(&r[i]), "%s", patterns[i]);
		for (uint32_t k = 0; k < r[i].nwords; k++) {
			size_t a, b;
			const char *wa = rxlit_word(&r[i], k, &a), *wb = rxlit_word(&v[i], k, &b);
			cr_expect(a == b && memcmp(wa, wb, a) == 0, "%s: word %u", patterns[i], k);
			cr_expect_eq(rxlit_word_edges(&r[i], k), rxlit_word_edges(&v[i], k), "%s: word %u",
			             patterns[i], k);
		}
	}
	static const char *const texts[] = {
		"use kinesis data firehose", "a fire hose", "the cheapest s3", "least expensive x",
		"", "kafka 12", "s34", "as3 s34",
	};
	for (size_t j = 0; j < sizeof(texts) / sizeof(texts[0]); j++) {
		rxlit_text a, b;
		size_t n = strlen(texts[j]);
		rxlit_text_index(&a, texts[j], n);
		rxlit_text_index(&b, texts[j], n);
		for (size_t i = 0; i < N; i++)
			cr_expect_eq(rxlit_may_match_in(&v[i], &a), rxlit_may_match_in(&r[i], &b),
			             "%s on \"%s\"", patterns[i], texts[j]);
		for (size_t i = 0; i < N; i++)        /* again, from what the index remembers */
			cr_expect_eq(rxlit_may_match_in(&v[i], &a), rxlit_may_match(&r[i], texts[j], n),
			             "%s on \"%s\" (remembered)", patterns[i], texts[j]);
	}
	rxlit_table_free(t);
	rxlit w[N];
	for (size_t cut = 0; cut < len; cut++)
		cr_expect_null(rxlit_table_open(buf, cut, N, w), "cut at %zu", cut);
	cr_expect_null(rxlit_table_open(buf, len, N - 1, w), "another number of patterns");
	cr_expect_eq(w[0].nwords, 0, "a refused table gives nothing");
	/* a requirement that is not one (its shape or its word numbers damaged: only the
	 * frame is checked when the table opens) lets every text its key passes through and
	 * is reported: "kinesis" is in the first pattern's key, one side of an OR */
	uint32_t nw, slots, letters, r0;
	memcpy(&nw, buf, 4);
	memcpy(&slots, buf + 8, 4);
	memcpy(&letters, buf + 12, 4);
	memcpy(&r0, buf + 16 + 6 * (size_t)nw + 2 * (size_t)slots + letters, 4);
	size_t ids = 4 + (buf[r0 + 2] | (size_t)buf[r0 + 3] << 8);      /* past the shape */
	const struct { const char *name; size_t at; unsigned char byte; } damage[] = {
		{ "an unknown node", 4, 9 }, { "a node of one child", 5, 1 },
		{ "a node past its requirement", 7, 0x7f }, { "a word past the table", ids, 0x7f },
	};
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		unsigned char was = buf[r0 + damage[i].at];
		buf[r0 + damage[i].at] = damage[i].byte;
		rxlit_table *bad = rxlit_table_open(buf, len, N, w);
		cr_assert_not_null(bad, "%s: refused when opened", damage[i].name);
		int told = 0;
		rxlit_table_on_damage(bad, count_damage, &told);
		rxlit_text x;
		rxlit_text_index(&x, "kinesis", 7);
		cr_expect(rxlit_may_match_in(&w[0], &x), "%s: skipped", damage[i].name);
		cr_expect_eq(told, 1, "%s: not reported", damage[i].name);
		/* a text without a word of its key does not read it (the keys were written from
		 * the requirement before its damage) */
		rxlit_text_index(&x, "kafka", 5);
		cr_expect_not(rxlit_may_match_in(&w[0], &x), "%s: read without its key",
		              damage[i].name);
		cr_expect_eq(told, 1, "%s: reported without its key", damage[i].name);
		rxlit_table_free(bad);
		buf[r0 + damage[i].at] = was;
	}
	/* the keys after the requirements: W + 2 bounds, then the requirements' numbers. A list
	 * that is not one makes every requirement be read (the answers are the formulas'
	 * own) and is reported, once per text */
	size_t keys = 0;
	memcpy(&keys, buf + 16 + 6 * (size_t)nw + 2 * (size_t)slots + letters + 4 * (size_t)N, 4);
	size_t posts = keys + 4 * ((size_t)nw + 2);
	cr_assert_lt(posts, len, "the keys where expected");
	const struct { const char *name; size_t at; unsigned char byte; } keydamage[] = {
		{ "a list ending before it starts", keys + 4, 0xff },
		{ "a list past the numbers", keys + 4 * (size_t)nw + 1, 0xff },
		{ "a requirement past the table", posts, N },
	};
	for (size_t i = 0; i < sizeof(keydamage) / sizeof(keydamage[0]); i++) {
		unsigned char was = buf[keydamage[i].at];
		buf[keydamage[i].at] = keydamage[i].byte;
		rxlit_table *bad = rxlit_table_open(buf, len, N, w);
		cr_assert_not_null(bad, "%s: refused when opened", keydamage[i].name);
		int told = 0;
		rxlit_table_on_damage(bad, count_damage, &told);
		for (size_t j = 0; j < sizeof(texts) / sizeof(texts[0]); j++) {
			rxlit_text x;
			size_t n = strlen(texts[j]);
			rxlit_text_index(&x, texts[j], n);
			for (size_t p = 0; p < N; p++)
				cr_expect_eq(rxlit_may_match_in(&w[p], &x), rxlit_may_match(&r[p], texts[j], n),
				             "%s: %s on \"%s\"", keydamage[i].name, patterns[p], texts[j]);
		}
		cr_expect_gt(told, 0, "%s: not reported", keydamage[i].name);
		rxlit_table_free(bad);
		buf[keydamage[i].at] = was;
	}
	unsigned char *more = malloc(len + 1);
	cr_assert_not_null(more);
	memcpy(more, buf, len);
	more[len] = 0;
	cr_expect_null(rxlit_table_open(more, len + 1, N, w), "a byte left over");
	free(more);
	free(buf);
	for (size_t i = 0; i < N; i++)
		rxlit_free(&r[i]);
}

/* Every pattern of CASES matches its text; the filter must let each through. */
Test(rxlit, never_skips_a_match)
{
	static const struct { const char *pattern, *text; } cases[] = {
		{ "colou?r", "the COLOR red" },
		{ "ab+c", "abbbc" },
		{ "(?:kinesis|kafka)\\s+stream", "Kafka  Streams" },
		{ "\\bcost[- ]?(?:effective|efficient)", "most Cost-Effective" },
		{ "x{0,3}yz", "xxxYZ" },
		{ "[A-Z]{2}ETL", "an XYetl job" },
		{ "(?<n>\\d+)\\s*(?:MB|GB)", "500 mb" },
		{ "[[.]|]abc", "a.b" },        /* no [.name.]: the class is [.[], then an alternative */
		{ "[[:alpha:]]x|y", "ax" },
		/* words at the start or end of a word of the text */
		{ "\\bto\\b", "go TO it" },
		{ "\\b(?:to|in)\\s+s3\\b", "(to S3)" },
		{ "x(?:\\s|-)to\\b", "x-to." },
		{ "^to", "To be" },
		{ "\\bcosts?\\b", "Costs" },
		{ "\\b(?:to|in)+\\b", "into" },
		{ "\\bin\\s*to\\b", "into" },
		{ "(?<=-)to\\b", "x-to" },
		{ "[-/]to$", "/to" },
		{ "\\b(?:x|y)?to", "xto" },
		{ "Un(?#Un)?", "#U" },         /* the quantifier is n's (found by fuzz_rxlit) */
		/* what a positive lookaround sees: needed, but its edges are its own */
		{ "(?=[^.]*\\bread)(?=[^.]*\\bagain\\b)", "we READ it AGAIN" },
		{ "(?<=near)\\s+time", "xnear time" },
		{ "\\b(?<=near )time", "anear time" },
		{ "(?=again)\\w*x", "againx" },
		{ "(?=\\w*again)\\b", "againx" },
		{ "(?:^|(?<=[.?!]\\s))(?=[^.?!]*\\b(?:read|load)\\w*\\b)(?=[^.?!]*\\bagain\\b)[^.?!]*",
		  "Done. Loaders run AGAIN later" },
		/* verbs, DEFINE and calls */
		{ "\\bnone\\s+of\\s+the\\s+spikes?\\b(*SKIP)(*FAIL)|\\bspikes?\\s+were",
		  "none of the spikes were big; Spikes were" },
		{ "(?(DEFINE)(?<d>report|memo))\\bsummar(?&d)s?\\s+due", "SummarMemos due" },
		{ "\\bab(?&x)c(?P>x)(?<x>d)", "abdcdd" },
		{ "(?(DEFINE)(?<n>\\d+))to(?&n)\\b", "to9" },
		{ "x(?1)?(y)", "xy" },
		{ "a(?R)?b", "aab b" },
		{ "(?<w>ab)\\k<w>cd", "xababcd" },
		{ "(\\w+)\\s+\\1\\b(?!\\k<n>)(?<n>x)?", "TO to" },
		{ "\\b(?<l>german|french)\\b.*\\b(?!\\k<l>\\b)(?:german|french)\\b",
		  "German to French" },
	};
	char low[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rx *re = rx_compile(cases[i].pattern, NULL, NULL, 0, NULL);
		cr_assert_not_null(re, "%s", cases[i].pattern);
		size_t n = strlen(cases[i].text);
		rx_span m;
		cr_assert_eq(rx_find(re, cases[i].text, n, 0, &m), 1, "%s", cases[i].pattern);
		cr_assert(rxlit_lower(cases[i].text, n, low));
		cr_expect(rx_may_match(re, low, n), "%s skipped %s", cases[i].pattern,
		          cases[i].text);
		rxlit_text t;
		rxlit_text_index(&t, low, n);
		cr_expect(rx_may_match_in(re, &t), "%s skipped %s (indexed)", cases[i].pattern,
		          cases[i].text);
		rx_free(re);
	}
}

/* ---- the real knowledge base against real questions ---- */

/* Appends the question text of scenario file PATH (the `question: |` block) to *TEXTS. */
static void read_question(const char *path, char ***texts, size_t *n)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return;
	char line[4096];
	size_t cap = 0, len = 0;
	char *q = NULL;
	bool in = false;
	while (fgets(line, sizeof(line), fp)) {
		if (!in) {
			in = strncmp(line, "question: |", 11) == 0;
			continue;
		}
		if (line[0] != ' ' && line[0] != '\n')
			break;
		size_t l = strlen(line);
		if (len + l + 1 > cap) {
			cap = (len + l + 1) * 2;
			q = realloc(q, cap);
			cr_assert_not_null(q);
		}
		memcpy(q + len, line, l + 1);
		len += l;
	}
	fclose(fp);
	if (!q)
		return;
	*texts = realloc(*texts, (*n + 1) * sizeof(**texts));
	cr_assert_not_null(*texts);
	(*texts)[(*n)++] = q;
}

static void read_folder(const char *dir, char ***texts, size_t *n)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char path[1024];
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		size_t l = strlen(e->d_name);
		if (l > 5 && strcmp(e->d_name + l - 5, ".yaml") == 0)
			read_question(path, texts, n);
		else
			read_folder(path, texts, n);
	}
	closedir(d);
}

static bool same_facts(const xfacts *a, const xfacts *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].attr != b->v[i].attr || a->v[i].start != b->v[i].start ||
		    a->v[i].end != b->v[i].end || !eng_value_eq(a->v[i].value, b->v[i].value))
			return false;
	return true;
}

/* The knowledge base of rules/ into *K and the question texts of scenarios/ into *TEXTS. */
static void load_kb_and_questions(kb **k, char ***texts, size_t *n)
{
	eng_diags *d = eng_diags_new(0);
	*k = NULL;
	cr_assert_eq(kb_load(SRCDIR "/rules", NULL, d, k), ENG_OK);
	eng_diags_free(d);
	*texts = NULL;
	*n = 0;
	read_folder(SRCDIR "/scenarios", texts, n);
	cr_assert_gt(*n, 100, "the scenarios were not found");
}

/* MLARCH_TEST_STRIDE when set to a positive number, else 0. */
static size_t test_stride(void)
{
	const char *env = getenv("MLARCH_TEST_STRIDE");
	return env && atoi(env) > 0 ? (size_t)atoi(env) : 0;
}

/* Extraction with the filter and without must give the same facts, on every third
 * question of scenarios/ (all of them take long under the sanitizers), or every Nth with
 * MLARCH_TEST_STRIDE=N (`make valgrind` sets it: without the filter, valgrind takes
 * minutes over a few questions). */
Test(rxlit, knowledge_base_same_facts, .timeout = 600)
{
	kb *k;
	char **texts;
	size_t n;
	load_kb_and_questions(&k, &texts, &n);
	size_t compared = 0, stride = test_stride() ? test_stride() : 3;
	for (size_t i = 0; i < n; i += stride, compared++) {
		size_t len = strlen(texts[i]);
		for (int scope = 0; scope < 2; scope++) {
			lex_scope s = scope ? LEX_OPTION : LEX_STEM;
			xfacts with = { .v = NULL }, without = { .v = NULL };
			k->no_prefilter = false;
			cr_assert_eq(extract(k, texts[i], len, s, k->s_uses, &with), ENG_OK);
			k->no_prefilter = true;
			cr_assert_eq(extract(k, texts[i], len, s, k->s_uses, &without), ENG_OK);
			cr_expect(same_facts(&with, &without), "the filter changed the facts of:\n%s",
			          texts[i]);
			xfacts_free(&with);
			xfacts_free(&without);
		}
	}
	cr_expect_gt(compared, n / stride / 2);
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	kb_free(k);
}

/* Every lexicon and alias pattern of K that matches TEXT[0..LEN) must be let through by
 * the filter, as analysed and as read from the table of all of them that a compiled cache
 * holds (TABLED, in the same order: lexicon, then each entity's aliases); *MATCHED counts
 * the matches. */
static void never_skips(const kb *k, const rxlit *tabled, const char *text, size_t len,
                        size_t *matched)
{
	char *low = malloc(len + 1);
	cr_assert_not_null(low);
	rxlit_text t, tt;
	if (rxlit_lower(text, len, low)) {
		rxlit_text_index(&t, low, len);
		rxlit_text_index(&tt, low, len);
		size_t at = 0;
		for (uint32_t p = 0; p < k->nlexicon + k->nentities; p++) {
			const kb_entity *en = p < k->nlexicon ? NULL : &k->entities[p - k->nlexicon];
			for (uint32_t a = 0; a < (en ? en->naliases : 1); a++, at++) {
				rx *re = en ? en->aliases[a] : k->lexicon[p].re;
				rx_span m;
				if (!re || rx_find(re, text, len, 0, &m) != 1)
					continue;
				(*matched)++;
				cr_expect(rx_may_match_in(re, &t), "%s skipped on:\n%.*s",
				          en ? en->alias_src[a] : k->lexicon[p].pattern, (int)len, text);
				cr_expect(rxlit_may_match_in(&tabled[at], &tt),
				          "%s skipped on (from the table):\n%.*s",
				          en ? en->alias_src[a] : k->lexicon[p].pattern, (int)len, text);
			}
		}
	}
	free(low);
}

/* The requirements of every lexicon and alias pattern of K as one table, read back into
 * *OUT (malloc'd, lexicon first, then each entity's aliases); the table's bytes in *BYTES. */
static rxlit_table *kb_table(const kb *k, rxlit **out, unsigned char **bytes)
{
	size_t n = 0, len;
	for (uint32_t e = 0; e < k->nentities; e++)
		n += k->entities[e].naliases;
	n += k->nlexicon;
	const rxlit **need = malloc(n * sizeof(*need));
	static const rxlit none;
	cr_assert_not_null(need);
	size_t at = 0;
	for (uint32_t p = 0; p < k->nlexicon + k->nentities; p++) {
		const kb_entity *en = p < k->nlexicon ? NULL : &k->entities[p - k->nlexicon];
		for (uint32_t a = 0; a < (en ? en->naliases : 1); a++) {
			rx *re = en ? en->aliases[a] : k->lexicon[p].re;
			need[at++] = re ? rx_need(re) : &none;
		}
	}
	cr_assert(rxlit_table_encode(need, n, bytes, &len));
	*out = malloc(n * sizeof(**out));
	cr_assert_not_null(*out);
	rxlit_table *t = rxlit_table_open(*bytes, len, n, *out);
	cr_assert_not_null(t);
	free(need);
	return t;
}

/* A random pattern over a few words, DEPTH deep: words with and without \\b, runs of
 * parts (an AND), groups of alternatives (an OR), optional groups and lookaheads. */
static void random_pattern(unsigned *seed, unsigned depth, char *buf, size_t size)
{
	static const char *const words[] = { "fire", "hose", "firehose", "s3", "glue", "emr",
	                                     "stream", "streams", "kinesis", "spark" };
	enum { NW = sizeof(words) / sizeof(words[0]) };
	*seed = *seed * 1103515245u + 12345u;
	unsigned pick = (*seed >> 16) % (depth ? 6 : 2);
	size_t at = strlen(buf);
	if (pick < 2) {
		*seed = *seed * 1103515245u + 12345u;
		snprintf(buf + at, size - at, pick ? "\\b%s\\b" : "%s", words[(*seed >> 16) % NW]);
		return;
	}
	const char *open = pick == 2 ? "" : pick == 3 ? "(?:" : pick == 4 ? "(?:" : "(?=.*";
	const char *sep = pick == 3 ? "|" : ".*", *close = pick == 2 ? "" : pick == 4 ? ")?" : ")";
	strncat(buf, open, size - strlen(buf) - 1);
	*seed = *seed * 1103515245u + 12345u;
	unsigned parts = 2 + (*seed >> 16) % 3;
	for (unsigned k = 0; k < parts; k++) {
		if (k)
			strncat(buf, sep, size - strlen(buf) - 1);
		random_pattern(seed, depth - 1, buf, size);
	}
	strncat(buf, close, size - strlen(buf) - 1);
}

/* The keys of a table (rxlit_table_encode) only spare reading a requirement a text cannot
 * pass: on random patterns and texts of the same few words, a table's requirements answer
 * as the analysed ones do, keys and all. */
Test(rxlit, table_keys_change_no_answer)
{
	enum { N = 300, T = 200 };
	static const char *const pieces[] = { "fire", "hose", "firehose", "s3", "glue", "emr",
	                                      "stream", "streams", "kinesis", "spark", "sparkly",
	                                      "xs3", "the", "-" };
	enum { NP = sizeof(pieces) / sizeof(pieces[0]) };
	unsigned seed = 7;
	static rxlit r[N], v[N];
	char buf[4096];
	for (size_t i = 0; i < N; i++) {
		buf[0] = 0;
		random_pattern(&seed, 3, buf, sizeof(buf));
		cr_assert(rxlit_analyse(buf, &r[i]), "%s", buf);
	}
	unsigned char *bytes;
	size_t len;
	rxlit_table *t = table_of(r, N, v, &bytes, &len);
	size_t passed = 0, failed = 0;
	for (size_t j = 0; j < T; j++) {
		char text[256] = "";
		seed = seed * 1103515245u + 12345u;
		for (unsigned k = 0, m = (seed >> 16) % 6; k < m; k++) {
			seed = seed * 1103515245u + 12345u;
			strcat(text, k ? " " : "");
			strcat(text, pieces[(seed >> 16) % NP]);
		}
		rxlit_text x;
		rxlit_text_index(&x, text, strlen(text));
		for (size_t i = 0; i < N; i++) {
			bool want = rxlit_may_match(&r[i], text, strlen(text));
			cr_expect_eq(rxlit_may_match_in(&v[i], &x), want, "pattern %zu on \"%s\"", i, text);
			*(want ? &passed : &failed) += 1;
		}
	}
	cr_expect(passed > N && failed > N, "the texts pass %zu and fail %zu checks", passed, failed);
	rxlit_table_free(t);
	free(bytes);
	for (size_t i = 0; i < N; i++)
		rxlit_free(&r[i]);
}

/* Pattern by pattern: on every 40th question of scenarios/ (every 40 * Nth with
 * MLARCH_TEST_STRIDE=N, but four at least), whole and line by line, every lexicon and alias
 * pattern that matches is let through by the filter, the words' edges included, as
 * analysed and as read from a compiled cache's table. (The full comparison, every question
 * against every pattern, takes minutes.) */
Test(rxlit, knowledge_base_never_skips, .timeout = 600)
{
	kb *k;
	char **texts;
	size_t n;
	load_kb_and_questions(&k, &texts, &n);
	size_t stride = 40 * (test_stride() ? test_stride() : 1), matched = 0;
	rxlit *tabled;
	unsigned char *bytes;
	rxlit_table *table = kb_table(k, &tabled, &bytes);
	if (stride > n / 4)
		stride = n / 4;         /* four questions at least */
	for (size_t i = 0; i < n; i += stride) {
		never_skips(k, tabled, texts[i], strlen(texts[i]), &matched);
		for (const char *line = texts[i], *end; *line; line = *end ? end + 1 : end) {
			end = strchr(line, '\n');
			if (!end)
				end = line + strlen(line);
			never_skips(k, tabled, line, (size_t)(end - line), &matched);
		}
	}
	cr_expect_gt(matched, 20, "too few matches to prove anything");
	rxlit_table_free(table);
	free(tabled);
	free(bytes);
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	kb_free(k);
}
