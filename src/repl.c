/* SPDX-License-Identifier: MIT */
/*
 * repl.c - the interactive prompt (libedit: line editing and history from a well-kept
 * library rather than our own terminal code). Paste a question; a blank line submits it.
 * Commands on the last question: :why-not X, :explain, :facts, :json; :help; Ctrl-D leaves.
 */
#include <editline/readline.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char help[] =
	"Paste a question with its lettered options, then an empty line to submit it.\n"
	"On the last question:  :why-not LETTER|ENTITY   :explain   :facts   :json\n"
	":help shows this, :quit or Ctrl-D leaves.\n";

typedef struct {
	char *buf;
	size_t len, cap;
} text;

static bool text_add(text *t, const char *line)
{
	size_t n = strlen(line);
	if (t->len + n + 2 > t->cap) {
		size_t cap = (t->len + n + 2) * 2;
		char *b = realloc(t->buf, cap);
		if (!b)
			return false;
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, line, n);
	t->len += n;
	t->buf[t->len++] = '\n';
	t->buf[t->len] = '\0';
	return true;
}

/* Runs a question command on the saved question, as if it came from the command line. */
static void run_on(cli_opts *o, int (*cmd)(cli_opts *, int, char **), const char *extra,
                   const char *q_text)
{
	char *args[3];
	int n = 0;
	if (extra)
		args[n++] = (char *)extra;
	args[n++] = (char *)q_text;
	args[n] = NULL;
	fflush(stdout);
	cmd(o, n, args);
	fflush(stdout);
}

int cmd_repl(cli_opts *o)
{
	printf("mlarch: AWS ML architecture questions, answered from the study notes.\n%s", help);
	using_history();
	text cur = { NULL, 0, 0 };
	char *last = NULL;
	for (;;) {
		char *line = readline(cur.len ? "... " : "mlarch> ");
		if (!line) {
			putchar('\n');
			break;
		}
		if (!cur.len && line[0] == ':') {
			add_history(line);
			char *arg = strchr(line, ' ');
			if (arg)
				while (*arg == ' ')
					*arg++ = '\0';
			if (!strcmp(line, ":quit") || !strcmp(line, ":q")) {
				free(line);
				break;
			} else if (!strcmp(line, ":help")) {
				fputs(help, stdout);
			} else if (!last) {
				printf("No question yet: paste one first.\n");
			} else if (!strcmp(line, ":why-not") && arg && *arg) {
				run_on(o, cmd_why_not, arg, last);
			} else if (!strcmp(line, ":explain")) {
				run_on(o, cmd_explain, NULL, last);
			} else if (!strcmp(line, ":facts")) {
				run_on(o, cmd_facts, NULL, last);
			} else if (!strcmp(line, ":json")) {
				bool json = o->json;
				o->json = true;
				run_on(o, cmd_ask, NULL, last);
				o->json = json;
			} else {
				printf("Unknown command %s. %s", line, help);
			}
			free(line);
			continue;
		}
		if (line[strspn(line, " \t")] == '\0') {
			free(line);
			if (!cur.len)
				continue;
			add_history(cur.buf);
			free(last);
			last = strdup(cur.buf);
			cur.len = 0;
			if (last)
				run_on(o, cmd_ask, NULL, last);
			continue;
		}
		if (!text_add(&cur, line)) {
			free(line);
			fprintf(stderr, "%s: out of memory\n", o->prog);
			break;
		}
		free(line);
	}
	free(cur.buf);
	free(last);
	return EXIT_OK;
}
