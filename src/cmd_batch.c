/* SPDX-License-Identifier: MIT */
/*
 * cmd_batch.c - `mlarch batch`: runs scenario files as a regression suite. Results are
 * printed in file order whatever the number of workers: -j forks worker processes that
 * share the loaded knowledge base copy-on-write and send results back through pipes, which
 * the parent drains with poll() as they come, so no worker ever waits on a full pipe. Rows
 * are printed as soon as every earlier row is in, and a progress line on a terminal keeps
 * a long run from looking stuck.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "scenario.h"

typedef struct {
	char *id;
	sc_result r;
	double ms;
	bool done;
	bool load_error;
	bool blind;
	char expected[Q_MAX_OPTIONS + 8];
	char *diags;            /* the diagnostics of a file that did not load, or NULL */
} row;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The diagnostics in D as text without colour; a malloc'd string, or NULL when there are
 * none or memory ran out. */
static char *diags_text(const cli_opts *o, eng_diags *d)
{
	if (!eng_diags_count(d))
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	if (!mem)
		return NULL;
	cli_opts plain = *o;
	plain.color = false;
	report_diags(&plain, d, mem);
	fclose(mem);
	return buf;
}

/* Loads and runs one scenario into OUT (which owns the id and diagnostics it gets). */
static void run_one(const cli_opts *o, kb *k, const char *path, row *out)
{
	scenario s;
	double t0 = now_ms();
	memset(out, 0, sizeof(*out));
	out->done = true;
	out->blind = strstr(path, "/blind/") != NULL || !strncmp(path, "blind/", 6);
	eng_diags *d = eng_diags_new(0);
	if (!d || scenario_load(k, path, d, &s) != ENG_OK) {
		out->id = strdup(d && s.id ? s.id : path);
		out->load_error = true;
		snprintf(out->r.message, sizeof(out->r.message), "the scenario file has errors");
		out->diags = d ? diags_text(o, d) : NULL;
		if (d)
			scenario_free(&s);
		eng_diags_free(d);
		return;
	}
	out->id = strdup(s.id);
	if (s.has_answer)
		snprintf(out->expected, sizeof(out->expected), "%s", s.answer[0] ? s.answer : "none");
	scenario_run(k, &s, &out->r);
	out->ms = now_ms() - t0;
	scenario_free(&s);
	eng_diags_free(d);
}

/* ---- workers ---- */

/* A worker's message for one scenario: this fixed part, then IDLEN bytes of id and
 * DIAGLEN bytes of diagnostics. */
typedef struct {
	uint32_t index;
	sc_result r;
	double ms;
	bool load_error, blind;
	char expected[Q_MAX_OPTIONS + 8];
	uint32_t idlen, diaglen;
} wire;

static bool write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Runs scenarios W, W+NW, W+2NW, ... and writes each result to FD. */
static void worker(const cli_opts *o, kb *k, char **files, size_t n, unsigned w,
                   unsigned nw, int fd)
{
	for (size_t i = w; i < n; i += nw) {
		row r;
		run_one(o, k, files[i], &r);
		wire m;
		memset(&m, 0, sizeof(m));
		m.index = (uint32_t)i;
		m.r = r.r;
		m.ms = r.ms;
		m.load_error = r.load_error;
		m.blind = r.blind;
		memcpy(m.expected, r.expected, sizeof(m.expected));
		m.idlen = (uint32_t)strlen(r.id ? r.id : "");
		m.diaglen = (uint32_t)(r.diags ? strlen(r.diags) : 0);
		bool ok = write_all(fd, &m, sizeof(m)) && write_all(fd, r.id ? r.id : "", m.idlen) &&
		          write_all(fd, r.diags ? r.diags : "", m.diaglen);
		free(r.id);
		free(r.diags);
		if (!ok)
			break;
	}
}

/* The parent's end of one worker: its pipe and what has arrived of the next message. */
typedef struct {
	pid_t pid;
	int fd;                 /* -1 once the worker has closed its end */
	char *buf;
	size_t len, cap;
} conn;

/* Takes every whole message at the front of C's buffer into ROWS; returns how many, and
 * adds the failures among them to *FAILED. */
static size_t conn_take(conn *c, row *rows, size_t n, size_t *failed)
{
	size_t got = 0, at = 0;
	for (;;) {
		wire m;
		if (c->len - at < sizeof(m))
			break;
		memcpy(&m, c->buf + at, sizeof(m));
		size_t whole = sizeof(m) + (size_t)m.idlen + m.diaglen;
		if (c->len - at < whole)
			break;
		if (m.index < n && !rows[m.index].done) {
			row *r = &rows[m.index];
			const char *p = c->buf + at + sizeof(m);
			r->done = true;
			r->r = m.r;
			r->ms = m.ms;
			r->load_error = m.load_error;
			r->blind = m.blind;
			memcpy(r->expected, m.expected, sizeof(r->expected));
			r->id = strndup(p, m.idlen);
			r->diags = m.diaglen ? strndup(p + m.idlen, m.diaglen) : NULL;
			*failed += !r->r.pass;
			got++;
		}
		at += whole;
	}
	memmove(c->buf, c->buf + at, c->len - at);
	c->len -= at;
	return got;
}

/* Reads what is ready on C; false at end of stream (or a read error). */
static bool conn_read(conn *c)
{
	if (c->cap - c->len < 4096) {
		size_t cap = c->cap ? c->cap * 2 : 16384;
		char *b = realloc(c->buf, cap);
		if (!b)
			return false;
		c->buf = b;
		c->cap = cap;
	}
	ssize_t r;
	do
		r = read(c->fd, c->buf + c->len, c->cap - c->len);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return false;
	c->len += (size_t)r;
	return true;
}

/* ---- output ---- */

/* The progress line: on a terminal, once a run has taken long enough to wonder about. */
typedef struct {
	bool on;
	bool shown;
	double t0, last;
	unsigned width;
} progress;

static void progress_init(progress *p, const cli_opts *o)
{
	memset(p, 0, sizeof(*p));
	p->on = isatty(STDERR_FILENO) && !o->json && !o->tap;
	p->t0 = now_ms();
	p->width = 80;
	struct winsize ws;
	if (p->on && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		p->width = ws.ws_col;
}

static void progress_clear(progress *p)
{
	if (!p->shown)
		return;
	fprintf(stderr, "\r%*s\r", (int)p->width - 1, "");
	fflush(stderr);
	p->shown = false;
}

static void progress_show(progress *p, size_t done, size_t n, size_t failed, unsigned jobs)
{
	double t = now_ms();
	if (!p->on || t - p->t0 < 300 || (p->shown && t - p->last < 100 && done < n))
		return;
	char line[256];
	int len = snprintf(line, sizeof(line), "batch: %zu of %zu scenarios, %zu failed, %.1f s",
	                   done, n, failed, (t - p->t0) / 1000);
	if (jobs > 1 && len > 0 && (size_t)len < sizeof(line))
		snprintf(line + len, sizeof(line) - (size_t)len, ", %u workers", jobs);
	if (strlen(line) >= p->width)
		line[p->width - 1] = '\0';
	fprintf(stderr, "\r%-*s", (int)p->width - 1, line);
	fflush(stderr);
	p->shown = true;
	p->last = t;
}

/* TAP descriptions end at `#`, which starts a directive: escape it. */
static void tap_put(const char *s)
{
	for (; *s; s++) {
		if (*s == '#' || *s == '\\')
			putchar('\\');
		putchar(*s == '\n' ? ' ' : *s);
	}
}

static void print_row(const cli_opts *o, const char *file, const row *r, size_t i)
{
	if (o->tap) {
		printf("%sok %zu - ", r->r.pass ? "" : "not ", i + 1);
		tap_put(r->id);
		putchar('\n');
		if (!r->r.pass)
			printf("# %s: %s\n", file, r->r.message);
		return;
	}
	if (r->r.pass && o->quiet)
		return;
	if (r->r.pass)
		printf("%sok%s   %s\n", clr(o, "green"), clr(o, "reset"), r->id);
	else
		printf("%sFAIL%s %s (%s): %s\n", clr(o, "red"), clr(o, "reset"), r->id, file,
		       r->r.message);
}

/* Prints, in file order, the rows from *NEXT on that have arrived. Returns false when
 * standard output has been closed (the run should stop). */
static bool print_ready(const cli_opts *o, char **files, row *rows, size_t n, size_t *next,
                        progress *p)
{
	if (*next >= n || !rows[*next].done)
		return true;
	progress_clear(p);
	for (; *next < n && rows[*next].done; (*next)++) {
		row *r = &rows[*next];
		if (r->diags) {
			fflush(stdout);
			fputs(r->diags, stderr);
		}
		for (uint32_t w = 0; w < r->r.nwarnings && w < SC_WARNINGS; w++) {
			fflush(stdout);
			fprintf(stderr, "%s: warning: scenario `%s`: %s\n", files[*next], r->id,
			        r->r.warnings[w]);
		}
		if (!o->json)
			print_row(o, files[*next], r, *next);
	}
	return fflush(stdout) == 0 || !cli_stdout_closed();
}

static void xml_escape(FILE *fp, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '&': fputs("&amp;", fp); break;
		case '"': fputs("&quot;", fp); break;
		default:
			/* XML 1.0 allows no other control characters */
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				fputc(*s, fp);
		}
	}
}

/* Writes the JUnit report to o->junit atomically; false after an error message. */
static bool write_junit(const cli_opts *o, char **files, row *rows, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	if (!fp) {
		fprintf(stderr, "%s: out of memory\n", o->prog);
		return false;
	}
	double total = 0;
	size_t failures = 0, errors = 0;
	for (size_t i = 0; i < n; i++) {
		total += rows[i].ms;
		errors += rows[i].load_error;
		failures += !rows[i].r.pass && !rows[i].load_error;
	}
	fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(fp, "<testsuites>\n");
	fprintf(fp, "<testsuite name=\"mlarch\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
	        "time=\"%.3f\">\n", n, failures, errors, total / 1000);
	for (size_t i = 0; i < n; i++) {
		const row *r = &rows[i];
		fprintf(fp, "  <testcase classname=\"");
		xml_escape(fp, files[i]);
		fprintf(fp, "\" name=\"");
		xml_escape(fp, r->id ? r->id : files[i]);
		fprintf(fp, "\" time=\"%.3f\"", r->ms / 1000);
		if (r->r.pass) {
			fprintf(fp, "/>\n");
			continue;
		}
		const char *tag = r->load_error ? "error" : "failure";
		fprintf(fp, ">\n    <%s message=\"", tag);
		xml_escape(fp, r->r.message);
		fprintf(fp, "\">");
		xml_escape(fp, r->diags ? r->diags : r->r.message);
		fprintf(fp, "</%s>\n  </testcase>\n", tag);
	}
	fprintf(fp, "</testsuite>\n</testsuites>\n");
	if (fclose(fp) != 0 || !buf) {
		free(buf);
		fprintf(stderr, "%s: out of memory\n", o->prog);
		return false;
	}
	char err[512];
	bool ok = write_atomic(o->junit, buf, len, err, sizeof(err));
	if (!ok)
		fprintf(stderr, "%s: %s\n", o->prog, err);
	free(buf);
	return ok;
}

static int print_json_report(char **files, row *rows, size_t n, size_t passed, size_t failed)
{
	batch_row *br = calloc(n + 1, sizeof(batch_row));
	if (!br)
		return EXIT_NOMEM;
	for (size_t i = 0; i < n; i++) {
		br[i].id = rows[i].id ? rows[i].id : files[i];
		br[i].file = files[i];
		br[i].pass = rows[i].r.pass;
		br[i].message = rows[i].r.pass ? NULL : rows[i].r.message;
		br[i].expected = rows[i].expected;
		br[i].got = rows[i].r.got;
		br[i].abstained = rows[i].r.abstained;
		br[i].ms = rows[i].ms;
		br[i].blind = rows[i].blind;
	}
	char *doc = json_batch(br, n, passed, failed);
	free(br);
	if (!doc)
		return EXIT_NOMEM;
	puts(doc);
	free(doc);
	return EXIT_OK;
}

/* ---- running ---- */

/* Forks NW workers, their pipes' read ends into C. In the parent, returns true when all
 * started (else none is left running, and the caller runs the scenarios itself). In a
 * worker, returns true with *ME its number and *FD its pipe's write end: the caller runs
 * its share, frees what it holds and leaves with _exit. */
static bool start_workers(unsigned nw, conn *c, int *me, int *fd)
{
	unsigned started = 0;
	*me = -1;
	fflush(NULL);
	for (unsigned w = 0; w < nw; w++) {
		int fds[2];
		if (pipe(fds) != 0)
			break;
		pid_t pid = fork();
		if (pid < 0) {
			close(fds[0]);
			close(fds[1]);
			break;
		}
		if (pid == 0) {
			/* the read ends of earlier workers are not ours to hold */
			for (unsigned v = 0; v < started; v++)
				close(c[v].fd);
			close(fds[0]);
			signal(SIGPIPE, SIG_IGN);
			*me = (int)w;
			*fd = fds[1];
			return true;
		}
		close(fds[1]);
		memset(&c[started], 0, sizeof(conn));
		c[started].fd = fds[0];
		c[started++].pid = pid;
	}
	if (started < nw) {
		for (unsigned w = 0; w < started; w++) {
			close(c[w].fd);
			kill(c[w].pid, SIGTERM);
			waitpid(c[w].pid, NULL, 0);
		}
		return false;
	}
	return true;
}

/* Collects the workers' results as they come, printing rows in order. Returns false when
 * standard output was closed: the workers are then stopped, and rows may be missing. */
static bool collect(const cli_opts *o, char **files, row *rows, size_t n, conn *c,
                    unsigned nw, progress *p)
{
	struct pollfd pfd[64];
	size_t done = 0, failed = 0, next = 0;
	unsigned open = nw;
	while (open) {
		unsigned np = 0;
		unsigned map[64];
		for (unsigned w = 0; w < nw; w++)
			if (c[w].fd >= 0) {
				pfd[np].fd = c[w].fd;
				pfd[np].events = POLLIN;
				pfd[np].revents = 0;
				map[np++] = w;
			}
		int r = poll(pfd, np, 100);
		if (r < 0 && errno != EINTR)
			break;
		for (unsigned i = 0; r > 0 && i < np; i++) {
			if (!pfd[i].revents)
				continue;
			conn *cw = &c[map[i]];
			bool more = conn_read(cw);
			done += conn_take(cw, rows, n, &failed);
			if (!more) {
				close(cw->fd);
				cw->fd = -1;
				waitpid(cw->pid, NULL, 0);
				open--;
			}
		}
		if (!print_ready(o, files, rows, n, &next, p)) {
			for (unsigned w = 0; w < nw; w++)
				if (c[w].fd >= 0) {
					close(c[w].fd);
					kill(c[w].pid, SIGTERM);
					waitpid(c[w].pid, NULL, 0);
				}
			for (unsigned w = 0; w < nw; w++)
				free(c[w].buf);
			return false;
		}
		progress_show(p, done, n, failed, nw);
	}
	for (unsigned w = 0; w < nw; w++)
		free(c[w].buf);
	/* a worker that died takes its unreported scenarios with it: they fail */
	for (size_t i = 0; i < n; i++)
		if (!rows[i].done) {
			rows[i].done = true;
			rows[i].id = strdup(files[i]);
			snprintf(rows[i].r.message, sizeof(rows[i].r.message),
			         "a worker process died before reporting");
		}
	return print_ready(o, files, rows, n, &next, p);
}

int cmd_batch(cli_opts *o, int argc, char **argv)
{
	if (argc < 1) {
		cli_usage_error(o, "batch needs scenario files or folders");
		return EXIT_USAGE;
	}
	size_t n = 0;
	const char *bad = NULL;
	char **files = scenario_find(argv, argc, &n, &bad);
	if (!files) {
		fprintf(stderr, "%s: %s: %s\n", o->prog, bad ? bad : "?", strerror(errno));
		return EXIT_INPUT;
	}
	int code = EXIT_OK;
	kb *k = cli_kb_load(o, &code);
	if (!k) {
		scenario_paths_free(files, n);
		return code;
	}
	row *rows = calloc(n + 1, sizeof(row));
	if (!rows) {
		kb_free(k);
		scenario_paths_free(files, n);
		fprintf(stderr, "%s: out of memory\n", o->prog);
		return EXIT_NOMEM;
	}
	progress p;
	progress_init(&p, o);
	if (o->tap)
		printf("1..%zu\n", n);
	unsigned nw = o->jobs > n ? (unsigned)(n ? n : 1) : o->jobs;
	conn c[64];
	int me, fd;
	bool open = true;       /* standard output still has a reader */
	if (nw > 1 && start_workers(nw, c, &me, &fd)) {
		if (me >= 0) {
			worker(o, k, files, n, (unsigned)me, nw, fd);
			close(fd);
			free(rows);
			kb_free(k);
			scenario_paths_free(files, n);
			_exit(0);
		}
		open = collect(o, files, rows, n, c, nw, &p);
	} else {
		size_t next = 0, failed = 0;
		for (size_t i = 0; i < n && open; i++) {
			run_one(o, k, files[i], &rows[i]);
			failed += !rows[i].r.pass;
			open = print_ready(o, files, rows, n, &next, &p);
			progress_show(&p, i + 1, n, failed, 1);
		}
	}
	progress_clear(&p);
	if (!open) {
		/* the reader left: the rest is not run, and a --junit report is not written
		 * (the one there stays whole) */
		code = EXIT_PIPE;
		goto done;
	}
	size_t passed = 0, failed = 0, bpass = 0, btotal = 0;
	for (size_t i = 0; i < n; i++) {
		passed += rows[i].r.pass;
		failed += !rows[i].r.pass;
		if (rows[i].blind) {
			btotal++;
			bpass += rows[i].r.pass;
		}
	}
	if (o->json) {
		code = print_json_report(files, rows, n, passed, failed);
		if (code == EXIT_NOMEM)
			fprintf(stderr, "%s: out of memory writing JSON\n", o->prog);
	} else {
		if (btotal)
			printf("%sblind suite (written from the notes only): %zu of %zu pass (%.0f%%)\n",
			       o->tap ? "# " : "", bpass, btotal, 100.0 * (double)bpass / (double)btotal);
		printf("%s%zu passed, %zu failed\n", o->tap ? "# " : "", passed, failed);
	}
	if (o->junit && !write_junit(o, files, rows, n) && code == EXIT_OK)
		code = EXIT_INPUT;
	if (failed && code == EXIT_OK)
		code = EXIT_FAIL;
done:
	for (size_t i = 0; i < n; i++) {
		free(rows[i].id);
		free(rows[i].diags);
	}
	free(rows);
	kb_free(k);
	scenario_paths_free(files, n);
	return code;
}
