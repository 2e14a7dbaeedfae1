/* SPDX-License-Identifier: MIT */
/* main.c - options, then one command. */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define MLARCH_VERSION "0.1.0"

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
	"  coverage                  which notes the rules cite, and which they do not\n"
	"  (none)                    on a terminal: an interactive prompt\n"
	"\n"
	"A question is read from the arguments, or from standard input when it is `-` or\n"
	"absent and standard input is not a terminal.\n"
	"\n"
	"Options:\n"
	"  -r, --rules DIR           knowledge base folder (default: the built-in rules)\n"
	"      --json                machine-readable output\n"
	"      --no-color            no colour (also when NO_COLOR is set or not a terminal)\n"
	"      --max-firings N       stop a run after N rule firings (default 100000)\n"
	"      --max-facts N         stop when working memory holds N facts (default 1000000)\n"
	"      --tap                 batch: TAP output\n"
	"      --junit FILE          batch: also write a JUnit XML report (atomically)\n"
	"  -j, --jobs N              batch: scenarios run by N worker processes\n"
	"  -q, --quiet               batch: only failures and the closing line\n"
	"      --dot                 explain: Graphviz DOT instead of text\n"
	"  -o, --output FILE         explain: write to FILE (atomically) instead of stdout\n"
	"  -h, --help                this help\n"
	"  -V, --version             the version\n"
	"\n"
	"Exit codes: 0 ok; 1 a scenario failed or lint found errors; 2 usage; 3 bad input;\n"
	"4 the knowledge base does not load; 5 a run limit or expression error; 6 out of memory.\n";

void cli_usage_error(const cli_opts *o, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", o->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", o->prog);
}

static bool parse_count(const char *s, uint64_t *out)
{
	char *end;
	if (!s[0] || s[0] == '-')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v == 0)
		return false;
	*out = v;
	return true;
}

/* Parses the options into O; returns the index of the first operand, or -1 after an
 * error message (and -2 for --help/--version, already answered). */
static int parse_options(cli_opts *o, int argc, char **argv, bool permute)
{
	enum { OPT_JSON = 256, OPT_NO_COLOR, OPT_MAX_FIRINGS, OPT_MAX_FACTS, OPT_TAP,
	       OPT_JUNIT, OPT_DOT };
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "no-color", no_argument, NULL, OPT_NO_COLOR },
		{ "no-colour", no_argument, NULL, OPT_NO_COLOR },
		{ "max-firings", required_argument, NULL, OPT_MAX_FIRINGS },
		{ "max-facts", required_argument, NULL, OPT_MAX_FACTS },
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
	while ((c = getopt_long(argc, argv, permute ? "r:j:qo:hV" : "+r:j:qo:hV", longopts,
	                        NULL)) != -1) {
		switch (c) {
		case 'r': o->rules_dir = optarg; break;
		case OPT_JSON: o->json = true; break;
		case OPT_NO_COLOR: o->color = false; break;
		case OPT_MAX_FIRINGS:
			if (!parse_count(optarg, &o->limits.max_firings)) {
				cli_usage_error(o, "--max-firings needs a positive whole number, not '%s'", optarg);
				return -1;
			}
			break;
		case OPT_MAX_FACTS:
			if (!parse_count(optarg, &o->limits.max_facts)) {
				cli_usage_error(o, "--max-facts needs a positive whole number, not '%s'", optarg);
				return -1;
			}
			break;
		case OPT_TAP: o->tap = true; break;
		case OPT_JUNIT: o->junit = optarg; break;
		case 'j':
			if (!parse_count(optarg, &n) || n > 64) {
				cli_usage_error(o, "--jobs needs a whole number from 1 to 64, not '%s'", optarg);
				return -1;
			}
			o->jobs = (unsigned)n;
			break;
		case 'q': o->quiet = true; break;
		case OPT_DOT: o->dot = true; break;
		case 'o': o->output = optarg; break;
		case 'h':
			printf(usage, o->prog);
			return -2;
		case 'V':
			printf("mlarch %s\n", MLARCH_VERSION);
			return -2;
		case ':':
			cli_usage_error(o, "option '%s' needs a value", argv[optind - 1]);
			return -1;
		default:
			cli_usage_error(o, "unknown option '%s'", argv[optind - 1]);
			return -1;
		}
	}
	return optind;
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
};

int main(int argc, char **argv)
{
	cli_opts o;
	memset(&o, 0, sizeof(o));
	const char *slash = strrchr(argv[0], '/');
	o.prog = slash ? slash + 1 : argv[0];
	o.jobs = 1;
	o.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	o.limits.max_firings = 100000;
	o.limits.max_facts = 1000000;
	int first = parse_options(&o, argc, argv, false);
	if (first == -2)
		return EXIT_OK;
	if (first < 0)
		return EXIT_USAGE;
	if (first == argc) {
		if (isatty(STDIN_FILENO))
			return cmd_repl(&o);
		return cmd_ask(&o, 0, argv + first);
	}
	const char *name = argv[first];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) != 0)
			continue;
		/* options may also follow the command, anywhere but after `--` */
		char **rest = argv + first;
		int nrest = argc - first;
		optind = 1;
		int sub = parse_options(&o, nrest, rest, true);
		if (sub == -2)
			return EXIT_OK;
		if (sub < 0)
			return EXIT_USAGE;
		return commands[i].run(&o, nrest - sub, rest + sub);
	}
	cli_usage_error(&o, "unknown command '%s'", name);
	return EXIT_USAGE;
}
