/* SPDX-License-Identifier: MIT */
/*
 * judge.h - scoring a question's options with the engine. The stem's facts are asserted
 * about `scenario` and run once; then each option's facts are asserted about `option`,
 * run, scored by the live conclusions that concern it, and retracted again (logical
 * support withdraws what they caused). The judge abstains when nothing decides.
 */
#ifndef MLARCH_JUDGE_H
#define MLARCH_JUDGE_H

#include "extract.h"
#include "question.h"

/* Where an input fact came from, kept in the engine as the fact's origin tag. */
#define ORIGIN_STEM   1ull   /* index into judgement.stem */
#define ORIGIN_OPTION 2ull   /* option << 24 | index into opts[option].facts */
#define ORIGIN_FILE   3ull   /* line in the scenario file */
#define ORIGIN(kind, payload) ((uint64_t)(kind) << 56 | (uint64_t)(payload))
#define ORIGIN_KIND(o) ((unsigned)((o) >> 56))
#define ORIGIN_PAYLOAD(o) ((o) & ((1ull << 56) - 1))

typedef enum { V_UNDECIDED, V_CORRECT, V_WRONG } verdict;

/* Words of the question behind a conclusion: a span of q.text and what matched it. */
typedef struct {
	size_t start, end;      /* byte offsets in the question's normalised text */
	xf_source source;       /* a lexicon entry or a catalog entity */
	uint32_t index;
	eng_sym attr;           /* the fact it gave */
	eng_value value;
	int option;             /* -1 for the stem, else the option's index */
} q_span;

#define REASON_MAX_SPANS 12
#define J_MAX_USES 32

/* One conclusion that bears on an option (or, in judgement.base, on the scenario). */
typedef struct {
	eng_concl_id concl;
	uint32_t rule;
	eng_sym kind;           /* recommend, reject, require, prefer, avoid, answer */
	eng_value target;
	eng_value role;
	double weight;          /* signed: what it added to the option's score; 0 for a
	                         * `require` left to another letter (see met_by) */
	char met_by;            /* such a require: the chosen letter that brings its target, or
	                         * '\0' when no other chosen letter does */
	eng_value bindings[32]; /* the rule's variables when it fired (first 32) */
	uint32_t nbindings;
	eng_fact_id facts[16];  /* the facts it matched (first 16) */
	uint32_t nfacts;
	q_span spans[REASON_MAX_SPANS]; /* the question's words it rests on, traced through
	                                   derived facts to the input facts */
	uint32_t nspans;
} reason;

typedef struct {
	reason *v;
	size_t n, cap;
} reasons;

typedef struct {
	char letter;
	size_t start, end;      /* the option's text in the question */
	xfacts facts;           /* its extracted facts (spans in the question's text; an option
	                         * naming a table row also has the entities of the row) */
	reasons why;            /* what supports it (weight > 0) and rules it out (< 0); once
	                         * chosen in a choose-N answer, also the requires it leaves to
	                         * another letter (weight 0, met_by) */
	reasons needs;          /* those requires while judging: kept for the answer */
	eng_value uses[J_MAX_USES];     /* what it uses while judged (its words', the rules') */
	uint32_t nuses;
	double score;
	verdict verdict;
} j_option;

typedef struct {
	question q;             /* owned */
	xfacts stem;            /* the stem's facts */
	j_option opts[Q_MAX_OPTIONS];
	uint32_t nopts;
	reasons base;           /* every conclusion from the stem alone */
	char answer[Q_MAX_OPTIONS + 1];
	uint32_t nanswer;
	bool abstained;
	bool negative;          /* the stem asks which option is NOT right */
	bool limited;           /* a pattern hit its match limit: facts may be missing */
	char note[256];         /* why it abstained, in plain words */
} judgement;

/* Judges question Q (taking ownership of q->text, even on failure). Leaves the engine
 * holding the stem's facts and conclusions, for explain and why-not. On a run error the
 * status is returned and eng_error() says why. */
eng_status judge_question(kb *k, question *q, judgement *out);
void judgement_free(judgement *j);
/* The I-th pattern that hit a PCRE2 limit while judging J (the stem's first, then each
 * option's), as a sentence in BUF naming where, the pattern, the limit and how to raise
 * it; false when there are not that many. */
bool judge_limit_describe(const kb *k, const judgement *j, size_t i, char *buf, size_t size);

/* Asserts option O's facts again (after judge_question) so that its conclusions are live
 * for explanation; IDS gets a malloc'd array of the fact ids (one per facts.v entry).
 * judge_option_leave retracts them and frees IDS (NULL after a failed enter is allowed). */
eng_status judge_option_enter(kb *k, judgement *j, uint32_t o, eng_fact_id **ids);
void judge_option_leave(kb *k, judgement *j, uint32_t o, eng_fact_id *ids);
/* Adds to R the question spans behind fact F, following derived facts to inputs. */
void judge_trace(const kb *k, const judgement *j, eng_fact_id f, reason *r);

/* Fills R from conclusion C (id ID): rule, kind, target, role, the rule's weight, bindings
 * and matched facts; no spans (judge_trace adds them). */
void reason_from(const kb *k, eng_concl_id id, const eng_conclusion *c, reason *r);
/* Formats reason R's `because` with its bindings. */
void reason_because(const kb *k, const reason *r, char *buf, size_t size);
/* The display name of a value (entity name for catalog symbols). */
const char *value_name(const kb *k, eng_value v, char *buf, size_t size);

#endif
