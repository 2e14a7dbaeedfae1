/* SPDX-License-Identifier: MIT */
/*
 * question.h - an exam-style question as pasted: the stem, the lettered options, and how
 * many letters the answer takes ("Choose two"). The text is normalised first (UTF-8
 * checked; curly quotes, dashes and non-breaking spaces made plain; CRLF to LF; wrapped
 * lines without their indentation, hyphen breaks joined, "doesn't" spelt "does not"; a
 * table in the stem written out row by row, each cell after its heading), and all offsets
 * point into the normalised text. It can be longer than the input: tabs become two spaces
 * (at most doubling it), tables written out take at most three times that and 1 KB, and
 * contractions spelt out at most double the result.
 */
#ifndef MLARCH_QUESTION_H
#define MLARCH_QUESTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define Q_MAX_OPTIONS 8
/* The default of question_parse's MAX_BYTES (the `question-bytes` limit of mlarch). */
#define Q_DEFAULT_MAX_BYTES (64 * 1024)

typedef struct {
	char letter;            /* 'A'.. */
	size_t start, end;      /* the option's text (without its label) in q->text */
} q_option;

/* At most this many rows of the stem's tables are kept in question.rows (all are read). */
#define Q_MAX_ROWS 32

/* A row of a table in the stem, as the question reader wrote it out on a line of its own
 * ("model: basket-churn; algorithm: XGBoost."), and the cell that labels it: the row's
 * first cell, without its heading ("basket-churn"). */
typedef struct {
	size_t start, end;      /* the row's line in q->text */
	size_t label_start, label_end;
} q_table_row;

typedef struct {
	char *text;             /* normalised, NUL-terminated; owned */
	size_t len;
	size_t stem_end;        /* the stem is text[0..stem_end) */
	q_option opts[Q_MAX_OPTIONS];
	uint32_t nopts;
	uint32_t choose;        /* letters in the answer: 1 unless the stem says otherwise */
	q_table_row rows[Q_MAX_ROWS];   /* the first rows of the stem's tables, in text order */
	uint32_t nrows;
} question;

typedef enum {
	Q_OK = 0,
	Q_ERR_NOMEM,
	Q_ERR_UTF8,             /* invalid UTF-8 at *err_off of the raw input */
	Q_ERR_NUL,              /* a NUL byte at *err_off */
	Q_ERR_EMPTY,            /* nothing but white space */
	Q_ERR_TOO_LONG,         /* more than the MAX_BYTES given to question_parse */
} q_status;

/* Normalises RAW[0..LEN) and splits it. A text with no lettered options is a stem with
 * nopts == 0 (still answerable as a scenario). A text of more than MAX_BYTES (0: the
 * default, Q_DEFAULT_MAX_BYTES) is Q_ERR_TOO_LONG before any work is done. On error
 * *ERR_OFF is the byte offset in RAW. On success the caller owns q->text (question_free). */
q_status question_parse(const char *raw, size_t len, size_t max_bytes, question *q,
                        size_t *err_off);
void question_free(question *q);
const char *q_status_str(q_status st);

#endif
