/* SPDX-License-Identifier: MIT */
/*
 * repl.c - the interactive prompt (libedit: line editing and history from a well-kept
 * library rather than our own terminal code). Paste a question; a blank line submits it.
 * Commands on the last question: :why-not X, :explain, :facts, :json; :help; Ctrl-C drops
 * what was typed so far, Ctrl-D leaves (answering a question still being typed first).
 *
 * libedit is opened when the prompt starts (dlopen), not linked: with the three libraries
 * it brings (libtinfo, libbsd, libmd) it would be mapped and relocated by every run, a
 * millisecond and 400 KB of a one-question `ask` that never reads a line from it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "cli.h"

static const char help[] =
	"Paste a question with its lettered options, then an empty line to submit it.\n"
	"On the last question:  :why-not LETTER|ENTITY   :explain   :facts   :json\n"
	":help shows this; Ctrl-C drops what was typed; :quit or Ctrl-D leaves.\n";

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

/* Set by SIGINT while the prompt waits for a line. A signal handler can only talk to the
 * code it interrupts through a variable like this one. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Reads one character for libedit (as rl_getc_function): the next UTF-8 sequence from FP
 * as a code point (U+FFFD for a broken one), or -1, which ends the line being read, at end
 * of input, on an error, or once Ctrl-C has been pressed. libedit's own reader would block
 * in read() again after a Ctrl-C that came while it was busy drawing; here SIGINT is only
 * let in while waiting in pselect(), so a Ctrl-C is never missed between the check of
 * `interrupted` and the wait. */
static int prompt_getc(FILE *fp)
{
	int fd = fileno(fp);
	sigset_t block, orig;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);
	unsigned char b[4];
	size_t n = 0, need = 1;
	int c = -1;
	while (n < need && !interrupted) {
		fd_set rd;
		FD_ZERO(&rd);
		FD_SET(fd, &rd);
		if (pselect(fd + 1, &rd, NULL, NULL, NULL, &orig) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		ssize_t r = read(fd, &b[n], 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (n == 0)
			need = b[0] < 0x80 ? 1 : (b[0] & 0xe0) == 0xc0 ? 2 : (b[0] & 0xf0) == 0xe0 ? 3
			       : (b[0] & 0xf8) == 0xf0 ? 4 : 1;
		else if ((b[n] & 0xc0) != 0x80)
			need = 0;   /* a broken sequence */
		n++;
	}
	if (n && n == need) {
		static const unsigned char lead_mask[5] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
		c = b[0] & lead_mask[need];
		for (size_t i = 1; i < need; i++)
			c = c << 6 | (b[i] & 0x3f);
		if (need == 1 && b[0] >= 0x80)
			c = 0xfffd;
	} else if (n && !interrupted) {
		c = 0xfffd;
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return c;
}

/* libedit reads and shows UTF-8 only under a UTF-8 LC_CTYPE; the rest of mlarch works on
 * bytes in the C locale. Switches LC_CTYPE to the user's locale when it is UTF-8, else to
 * C.UTF-8; false when neither is to be had. */
static bool prompt_locale(void)
{
	if (setlocale(LC_CTYPE, "") && !strcmp(nl_langinfo(CODESET), "UTF-8"))
		return true;
	return setlocale(LC_CTYPE, "C.UTF-8") != NULL || setlocale(LC_CTYPE, "C.utf8") != NULL;
}

/* The Makefile passes the installed libedit's name; empty when it could not read it */
#ifndef MLARCH_LIBEDIT
#define MLARCH_LIBEDIT ""
#endif
#define EDIT_NAME (MLARCH_LIBEDIT[0] ? MLARCH_LIBEDIT : "libedit.so.2")

/* The parts of libedit the prompt uses, as found in the library opened at HANDLE. */
static struct {
	void *handle;
	char *(*readline)(const char *);
	void (*using_history)(void);
	int (*add_history)(const char *);
	void (*clear_history)(void);
	int (**getc_function)(FILE *);
} edit;

/* Opens libedit into EDIT. NULL, or what went wrong (the loader's message). */
static const char *edit_open(void)
{
	edit.handle = dlopen(EDIT_NAME, RTLD_NOW | RTLD_LOCAL);
	if (!edit.handle)
		return dlerror();
	/* POSIX: a function pointer is read from dlsym's result through an object pointer */
	*(void **)&edit.readline = dlsym(edit.handle, "readline");
	*(void **)&edit.using_history = dlsym(edit.handle, "using_history");
	*(void **)&edit.add_history = dlsym(edit.handle, "add_history");
	*(void **)&edit.clear_history = dlsym(edit.handle, "clear_history");
	edit.getc_function = (int (**)(FILE *))dlsym(edit.handle, "rl_getc_function");
	if (edit.readline && edit.using_history && edit.add_history && edit.clear_history &&
	    edit.getc_function)
		return NULL;
	dlclose(edit.handle);
	edit.handle = NULL;
	return "it lacks a readline function";
}

/* readline() with LC_CTYPE set for it (UTF8: a UTF-8 locale exists), and back to "C". */
static char *read_line(const char *prompt, bool utf8)
{
	if (utf8)
		prompt_locale();
	char *line = edit.readline(prompt);
	setlocale(LC_CTYPE, "C");
	return line;
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
	fflush(stderr);
}

/* Runs prompt command LINE (":why-not C", ...) on the question LAST (NULL: none yet).
 * Returns false for :quit. */
static bool command(cli_opts *o, char *line, const char *last)
{
	char *arg = line + strcspn(line, " \t");
	if (*arg) {
		*arg++ = '\0';
		arg += strspn(arg, " \t");
		for (size_t n = strlen(arg); n && (arg[n - 1] == ' ' || arg[n - 1] == '\t');)
			arg[--n] = '\0';
	}
	if (!strcmp(line, ":quit") || !strcmp(line, ":q"))
		return false;
	if (!strcmp(line, ":help") || !strcmp(line, ":h") || !strcmp(line, ":?")) {
		fputs(help, stdout);
		return true;
	}
	bool known = !strcmp(line, ":why-not") || !strcmp(line, ":explain") ||
	             !strcmp(line, ":facts") || !strcmp(line, ":json");
	if (!known)
		printf("Unknown command %s.\n%s", line, help);
	else if (!last)
		printf("No question yet: paste one first, then an empty line.\n");
	else if (!strcmp(line, ":why-not") && !*arg)
		printf("Which option or entity? :why-not LETTER or :why-not ENTITY-ID "
		       "(e.g. :why-not C)\n");
	else if (!strcmp(line, ":why-not"))
		run_on(o, cmd_why_not, arg, last);
	else if (!strcmp(line, ":explain"))
		run_on(o, cmd_explain, NULL, last);
	else if (!strcmp(line, ":facts"))
		run_on(o, cmd_facts, NULL, last);
	else {
		bool json = o->json;
		o->json = true;
		run_on(o, cmd_ask, NULL, last);
		o->json = json;
	}
	return true;
}

/* Makes CUR the last question (taking its text) and answers it. */
static void submit(cli_opts *o, text *cur, char **last)
{
	free(*last);
	*last = strdup(cur->buf);
	cur->len = 0;
	if (*last)
		run_on(o, cmd_ask, NULL, *last);
	else
		fprintf(stderr, "%s: out of memory\n", o->prog);
}

int cmd_repl(cli_opts *o)
{
	const char *why = edit_open();
	if (why) {
		fprintf(stderr, "%s: the interactive prompt needs libedit (%s); pass a question "
		        "as an argument or on standard input instead\n", o->prog, why);
		return EXIT_FAIL;
	}
	/* the knowledge base is loaded once, before the first prompt, so that a broken one
	 * says so at once and each question costs only its judging */
	int code = EXIT_OK;
	cli_opts ro = *o;
	ro.output = NULL;
	ro.dot = false;
	if (!(ro.kb = cli_kb_load(o, &code)))
		return code;
	/* Ctrl-C interrupts the line being read: libedit restores the terminal and passes the
	 * signal on to on_sigint, after which prompt_getc ends the line */
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	/* libedit is set up (using_history initialises it) under the locale it will read in */
	bool utf8 = prompt_locale();
	*edit.getc_function = prompt_getc;
	edit.using_history();
	setlocale(LC_CTYPE, "C");
	printf("mlarch: AWS ML architecture questions, answered from the study notes.\n%s", help);
	text cur = { NULL, 0, 0 };
	char *last = NULL;
	for (;;) {
		interrupted = 0;
		char *line = read_line(cur.len ? "... " : "mlarch> ", utf8);
		if (interrupted) {
			/* drop the question being typed; a new prompt */
			free(line);
			if (cur.len)
				printf("\n(dropped the question being typed)\n");
			else
				putchar('\n');
			cur.len = 0;
			continue;
		}
		if (!line) {
			putchar('\n');
			if (cur.len)
				submit(&ro, &cur, &last);
			break;
		}
		if (!cur.len && line[0] == ':') {
			edit.add_history(line);
			bool go_on = command(&ro, line, last);
			free(line);
			if (!go_on)
				break;
			continue;
		}
		if (line[strspn(line, " \t\r")] == '\0') {
			free(line);
			if (cur.len)
				submit(&ro, &cur, &last);
			continue;
		}
		edit.add_history(line);
		if (!text_add(&cur, line)) {
			free(line);
			fprintf(stderr, "%s: out of memory\n", o->prog);
			code = EXIT_NOMEM;
			break;
		}
		free(line);
	}
	edit.clear_history();
	dlclose(edit.handle);
	edit.handle = NULL;
	sigaction(SIGINT, &old, NULL);
	free(cur.buf);
	free(last);
	kb_free(ro.kb);
	return code;
}
