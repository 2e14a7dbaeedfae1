/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the commands share: the parsed global options, the exit codes, and the
 * helpers that load the knowledge base and read a question, reporting errors on stderr.
 * Only the files behind this header (src/cmd_*.c, main.c, report.c, repl.c) talk to the
 * terminal.
 */
#ifndef MLARCH_CLI_H
#define MLARCH_CLI_H

#include <stdio.h>

#include "judge.h"

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,          /* batch: a scenario failed; lint: errors; prompt: no libedit */
	EXIT_USAGE = 2,         /* bad command line */
	EXIT_INPUT = 3,         /* unreadable or invalid question / scenario file */
	EXIT_KB = 4,            /* the knowledge base does not load */
	EXIT_RUN = 5,           /* the engine stopped: a limit or an expression error */
	EXIT_NOMEM = 6,
	EXIT_PIPE = 141,        /* standard output was closed early: quiet, as 128 + SIGPIPE */
};

typedef struct {
	const char *prog;
	const char *rules_dir;  /* NULL: found by paths_rules_dir */
	bool json;
	bool color;
	kb_limits limits;       /* every field set: the defaults, then --limit */
	bool no_cache;          /* --no-cache: no compiled cache of the knowledge base */
	bool cache_no_read;     /* lint: parse every file, then refresh the cache */
	/* batch */
	bool tap;
	const char *junit;
	unsigned jobs;
	bool quiet;
	/* explain */
	bool dot;
	const char *output;
	/* the prompt loads the knowledge base once; the question commands borrow it */
	kb *kb;
} cli_opts;

/* main.c */
void cli_usage_error(const cli_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* limits.c */
/* Applies `--limit` ARG (NAME=VALUE) to o->limits; false after a usage message naming the
 * problem (no `=`, an unknown name with a suggestion, a value out of range). */
bool cli_limit_set(cli_opts *o, const char *arg);
/* Prints every limit: name, default, current value, what it bounds. */
void cli_limits_print(const cli_opts *o, FILE *fp);

/* common.c */
/* The knowledge base folder to load: --rules, else $MLARCH_RULES, else the rules folder
 * compiled in (the source tree's) when it exists, else the installed data directory. */
const char *paths_rules_dir(const cli_opts *o);
/* The folder of compiled knowledge-base caches (malloc'd), or NULL when caching is off
 * (--no-cache, MLARCH_CACHE=0) or there is nowhere to put it: $MLARCH_CACHE_DIR, else
 * $XDG_CACHE_HOME/mlarch, else $HOME/.cache/mlarch. */
char *paths_cache_dir(const cli_opts *o);
/* The installed data directory's rules folder, as compiled in. */
const char *paths_data_dir(void);
/* Loads the knowledge base, printing diagnostics; NULL (and *EXIT set) on failure. */
kb *cli_kb_load(const cli_opts *o, int *exit_code);
/* Prints every diagnostic of D as file:line:col: severity: message, the line and a caret. */
void report_diags(const cli_opts *o, const eng_diags *d, FILE *fp);
/* Reads the question from ARGV[0..ARGC) (words joined by spaces), from stdin when it is
 * "-" or absent, or from a file when the one argument names one. Returns a malloc'd
 * buffer (*LEN bytes) and in *NAME what to call it in messages ("<stdin>", "<question>"
 * or the path), or NULL after an error message with the exit code in *CODE. */
char *cli_read_question(const cli_opts *o, int argc, char **argv, size_t *len,
                        const char **name, int *code);
/* Parses RAW into Q, reporting errors with a caret; false on error. */
bool cli_parse_question(const cli_opts *o, const char *name, const char *raw, size_t len,
                        question *q);
/* Reads a whole file into a malloc'd, NUL-terminated buffer; NULL with errno set. */
char *read_file(const char *path, size_t *len);
/* Whether standard output has failed because its reader went away (a closed pipe: EPIPE).
 * Call after a write or fflush that failed. */
bool cli_stdout_closed(void);
/* Colour escapes, or "" when colour is off. */
const char *clr(const cli_opts *o, const char *code);
/* Writes BUF to PATH atomically (temporary file in the same folder, then rename). Returns
 * false with the reason in ERR; PATH is then as it was. */
bool write_atomic(const char *path, const char *buf, size_t len, char *err, size_t errsz);

/* the commands: each returns an exit code */
int cmd_ask(cli_opts *o, int argc, char **argv);
int cmd_why_not(cli_opts *o, int argc, char **argv);
int cmd_explain(cli_opts *o, int argc, char **argv);
int cmd_facts(cli_opts *o, int argc, char **argv);
int cmd_batch(cli_opts *o, int argc, char **argv);
int cmd_lint(cli_opts *o, int argc, char **argv);
int cmd_coverage(cli_opts *o, int argc, char **argv);
int cmd_limits(cli_opts *o, int argc, char **argv);
int cmd_repl(cli_opts *o);

#endif
