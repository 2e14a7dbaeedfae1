/* SPDX-License-Identifier: MIT */
/* main.c - options, then one command. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define MLARCH_VERSION "0.1.0"

/* Options that only mean something to one command; naming one with another command is a
 * usage error rather than silently ignored. */
typedef struct {
	const char *batch;      /* the first batch-only option given, or NULL */
	const char *explain;    /* the first explain-only option given, or NULL */
} scoped_opts;

static const char usage[] =
	"usage: %s [OPTIONS] COMMAND [ARGS]\n"
	"\n"
	"Answers AWS Machine Learning Specialty architecture questions with rules drawn from\n"
	"study notes, and says why, citing the notes.\n"
	"\n"
	"Commands:\n"
	"  ask [QUESTION|-]          answer a question (text with lettered options)\n"
	"  why-not LETTER|ENTITY [QUESTION|-]\n"
	"                            why an option or a service is wrong here, and near misses\n"
	"  explain [QUESTION|-]      the proof tree from the question's words to the answer\n"
	"  facts [QUESTION|-]        the facts read from the text, with the words behind them\n"
	"  batch PATH...             run scenario files or folders; closing line N passed, N failed\n"
	"  lint [PATH...]            check a knowledge base (default: the one in use)\n"
	"  coverage [PATH...]        which notes the rules cite, and which they do not; with\n"
	"                            scenario folders, also how many scenarios cite each note\n"
	"  limits                    every limit: its default and current value\n"
	"  (none)                    on a terminal: an interactive prompt\n"
	"\n"
	"A question is read from the arguments (a file when one names it; a scenario .yaml\n"
	"file gives its `question:`), or from standard input when it is `-` or absent and\n"
	"standard input is not a terminal. At the prompt, a blank line submits a\n"
	"question; :why-not X, :explain, :facts and :json work on the last one; Ctrl-D leaves.\n"
	"\n"
	"Options:\n"
	"  -r, --rules DIR           knowledge base folder (default: the built-in rules)\n"
	"      --json                ask, why-not, facts, batch, coverage: one JSON document\n"
	"      --no-color            no colour (also when NO_COLOR is set or not a terminal)\n"
	"      --limit NAME=VALUE    set a limit (repeatable); --limit help lists them:\n"
	"                            firings, facts, question-bytes, regex-match, regex-depth,\n"
	"                            yaml-bytes, yaml-depth, yaml-aliases, yaml-nodes\n"
	"      --max-firings N       the same as --limit firings=N\n"
	"      --max-facts N         the same as --limit facts=N\n"
	"      --no-cache            read the rules' YAML without the compiled cache\n"
	"      --tap                 batch: TAP output\n"
	"      --junit FILE          batch: also write a JUnit XML report (atomically)\n"
	"  -j, --jobs N              batch: scenarios run by N worker processes\n"
	"  -q, --quiet               batch: only failures and the closing line\n"
	"      --dot                 explain: Graphviz DOT instead of text\n"
	"  -o, --output FILE         explain: write to FILE (atomically) instead of stdout\n"
	"  -h, --help                this help\n"
	"  -V, --version             the version\n"
	"\n"
	"Exit codes: 0 ok; 1 a scenario failed or lint found errors; 2 usage; 3 bad input (a\n"
	"question over question-bytes too); 4 the knowledge base does not load (a rule file\n"
	"over a yaml-* limit too); 5 a run limit (firings, facts) or expression error; 6 out of\n"
	"memory; 141 standard output was closed early (a reader such as head left): mlarch\n"
	"stops at once and says nothing.\n"
	"\n"
	"Environment: MLARCH_RULES (knowledge base folder when --rules is not given), NO_COLOR\n"
	"(no colour), MLARCH_NO_JIT (no PCRE2 JIT), MLARCH_CACHE=0 (no compiled cache),\n"
	"MLARCH_CACHE_DIR (where the cache goes; default $XDG_CACHE_HOME/mlarch or\n"
	"~/.cache/mlarch). Without --rules or MLARCH_RULES, mlarch loads the rules of the\n"
	"source tree it was built in, or once installed those in %s.\n"
	"The compiled cache holds the parsed rules and compiled patterns; it is used only when\n"
	"every rule file has the size, times and inode it was made from, else remade.\n"
	"The manual: man mlarch.\n";

void cli_usage_error(const cli_opts *o, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", o->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", o->prog);
}

/* Reads S as a whole number from 1 up: digits only, no sign, no overflow. */
static bool parse_count(const char *s, uint64_t *out)
{
	char *end;
	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v == 0 || errno == ERANGE)
		return false;
	*out = v;
	return true;
}

static void scope_note(const char **first, const char *name)
{
	if (!*first)
		*first = name;
}

/* Parses the options into O, noting command-specific ones in SC; returns the index of the
 * first operand, or -1 after an error message (and -2 for --help/--version, already
 * answered). */
static int parse_options(cli_opts *o, scoped_opts *sc, int argc, char **argv, bool permute)
{
	enum { OPT_JSON = 256, OPT_NO_COLOR, OPT_MAX_FIRINGS, OPT_MAX_FACTS, OPT_LIMIT, OPT_TAP,
	       OPT_JUNIT, OPT_DOT, OPT_NO_CACHE };
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "no-color", no_argument, NULL, OPT_NO_COLOR },
		{ "no-colour", no_argument, NULL, OPT_NO_COLOR },
		{ "max-firings", required_argument, NULL, OPT_MAX_FIRINGS },
		{ "max-facts", required_argument, NULL, OPT_MAX_FACTS },
		{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "tap", no_argument, NULL, OPT_TAP },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "dot", no_argument, NULL, OPT_DOT },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	uint64_t n;
	opterr = 0;
	while ((c = getopt_long(argc, argv, permute ? ":r:j:qo:hV" : "+:r:j:qo:hV", longopts,
	                        NULL)) != -1) {
		switch (c) {
		case 'r': o->rules_dir = optarg; break;
		case OPT_JSON: o->json = true; break;
		case OPT_NO_COLOR: o->color = false; break;
		case OPT_NO_CACHE: o->no_cache = true; break;
		case OPT_MAX_FIRINGS:
			if (!parse_count(optarg, &o->limits.eng.max_firings)) {
				cli_usage_error(o, "--max-firings needs a positive whole number, not '%s'", optarg);
				return -1;
			}
			break;
		case OPT_MAX_FACTS:
			if (!parse_count(optarg, &o->limits.eng.max_facts)) {
				cli_usage_error(o, "--max-facts needs a positive whole number, not '%s'", optarg);
				return -1;
			}
			break;
		case OPT_LIMIT:
			if (!strcmp(optarg, "help")) {
				cli_limits_print(o, stdout);
				return -2;
			}
			if (!cli_limit_set(o, optarg))
				return -1;
			break;
		case OPT_TAP: o->tap = true; scope_note(&sc->batch, "tap"); break;
		case OPT_JUNIT: o->junit = optarg; scope_note(&sc->batch, "junit"); break;
		case 'j':
			if (!parse_count(optarg, &n) || n > 64) {
				cli_usage_error(o, "--jobs needs a whole number from 1 to 64, not '%s'", optarg);
				return -1;
			}
			o->jobs = (unsigned)n;
			scope_note(&sc->batch, "jobs");
			break;
		case 'q': o->quiet = true; scope_note(&sc->batch, "quiet"); break;
		case OPT_DOT: o->dot = true; scope_note(&sc->explain, "dot"); break;
		case 'o': o->output = optarg; scope_note(&sc->explain, "output"); break;
		case 'h':
			printf(usage, o->prog, paths_data_dir());
			return -2;
		case 'V':
			printf("mlarch %s\n", MLARCH_VERSION);
			return -2;
		case ':':
			cli_usage_error(o, "option '%s' needs a value", argv[optind - 1]);
			return -1;
		default: {
			/* a long option is always a whole word, just passed; a short one is optopt
			 * (which for a long option given a value it takes not is its code) */
			const char *w = optind > 0 && optind <= argc ? argv[optind - 1] : "";
			bool valued = !strncmp(w, "--", 2) && strchr(w, '=');
			if (optopt && (optopt >= 256 || valued))
				cli_usage_error(o, "option '%.*s' takes no value", (int)strcspn(w, "="), w);
			else if (optopt)
				cli_usage_error(o, "unknown option '-%c'", optopt);
			else
				cli_usage_error(o, "unknown option '%s'", w);
			return -1;
		}
		}
	}
	return optind;
}

/* Whether the options given mean something to COMMAND; false after a usage message. */
static bool options_fit(const cli_opts *o, const scoped_opts *sc, const char *command)
{
	if (sc->batch && strcmp(command, "batch")) {
		cli_usage_error(o, "--%s is an option of batch, not of %s", sc->batch, command);
		return false;
	}
	if (sc->explain && strcmp(command, "explain")) {
		cli_usage_error(o, "--%s is an option of explain, not of %s", sc->explain, command);
		return false;
	}
	if (o->json && (!strcmp(command, "explain") || !strcmp(command, "lint") ||
	                !strcmp(command, "limits"))) {
		cli_usage_error(o, "%s has no JSON output%s", command, !strcmp(command, "explain")
		                ? " (ask --json gives the reasons with the question's words; "
		                  "explain --dot the proof as a graph)" : "");
		return false;
	}
	return true;
}

static const struct {
	const char *name;
	int (*run)(cli_opts *, int, char **);
} commands[] = {
	{ "ask", cmd_ask },
	{ "why-not", cmd_why_not },
	{ "explain", cmd_explain },
	{ "facts", cmd_facts },
	{ "batch", cmd_batch },
	{ "lint", cmd_lint },
	{ "coverage", cmd_coverage },
	{ "limits", cmd_limits },
};

/* What a command's exit code CODE becomes once its output is flushed: EXIT_PIPE, without
 * a word, when the reader of standard output left (`mlarch batch | head -1`); EXIT_INPUT,
 * with a message, when standard output could not be written otherwise (a full disk). */
static int finish(const cli_opts *o, int code)
{
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return code;
	if (cli_stdout_closed())
		return EXIT_PIPE;
	fprintf(stderr, "%s: cannot write standard output: %s\n", o->prog,
	        errno ? strerror(errno) : "write error");
	return code == EXIT_OK || code == EXIT_FAIL ? EXIT_INPUT : code;
}

int main(int argc, char **argv)
{
	/* A closed pipe is an error from write (EPIPE), not a signal that kills mlarch, whatever
	 * the parent left SIGPIPE at: commands stop quietly when they see it, and `finish`
	 * gives the one exit code documented for it. */
	signal(SIGPIPE, SIG_IGN);
	cli_opts o;
	memset(&o, 0, sizeof(o));
	const char *slash = strrchr(argv[0], '/');
	o.prog = slash ? slash + 1 : argv[0];
	o.jobs = 1;
	/* no-color.org: NO_COLOR set to anything but the empty string turns colour off */
	const char *no_color = getenv("NO_COLOR");
	o.color = isatty(STDOUT_FILENO) && !(no_color && *no_color);
	kb_limits_default(&o.limits);
	scoped_opts sc = { NULL, NULL };
	int first = parse_options(&o, &sc, argc, argv, false);
	if (first == -2)
		return finish(&o, EXIT_OK);
	if (first < 0)
		return EXIT_USAGE;
	if (first == argc) {
		if (!options_fit(&o, &sc, "ask"))
			return EXIT_USAGE;
		if (isatty(STDIN_FILENO))
			return finish(&o, cmd_repl(&o));
		return finish(&o, cmd_ask(&o, 0, argv + first));
	}
	const char *name = argv[first];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) != 0)
			continue;
		/* options may also follow the command, anywhere but after `--` */
		char **rest = argv + first;
		int nrest = argc - first;
		optind = 1;
		int sub = parse_options(&o, &sc, nrest, rest, true);
		if (sub == -2)
			return finish(&o, EXIT_OK);
		if (sub < 0 || !options_fit(&o, &sc, name))
			return EXIT_USAGE;
		return finish(&o, commands[i].run(&o, nrest - sub, rest + sub));
	}
	cli_usage_error(&o, "unknown command '%s'", name);
	return EXIT_USAGE;
}
