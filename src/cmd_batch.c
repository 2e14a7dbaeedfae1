/* SPDX-License-Identifier: MIT */
/*
 * cmd_batch.c - `mlarch batch`: runs scenario files as a regression suite. Results are
 * printed in file order whatever the number of workers (-j forks worker processes that
 * share the loaded knowledge base copy-on-write and send results back through pipes).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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
	bool load_error;
	bool blind;
	char expected[Q_MAX_OPTIONS + 8];
} row;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Loads and runs one scenario into ROW; diagnostics of a bad file go to D. */
static void run_one(kb *k, const char *path, eng_diags *d, row *out)
{
	scenario s;
	double t0 = now_ms();
	memset(out, 0, sizeof(*out));
	out->blind = strstr(path, "/blind/") != NULL || !strncmp(path, "blind/", 6);
	if (scenario_load(k, path, d, &s) != ENG_OK) {
		out->id = s.id ? strdup(s.id) : strdup(path);
		out->load_error = true;
		snprintf(out->r.message, sizeof(out->r.message), "the scenario file has errors");
		scenario_free(&s);
		return;
	}
	out->id = strdup(s.id);
	if (s.has_answer)
		snprintf(out->expected, sizeof(out->expected), "%s", s.answer[0] ? s.answer : "none");
	scenario_run(k, &s, &out->r);
	out->ms = now_ms() - t0;
	scenario_free(&s);
}

/* ---- workers ---- */

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

static bool read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/* A worker's message for one scenario: the fixed part of the row, the id, and the
 * diagnostics text of a file that did not load. */
typedef struct {
	uint32_t index;
	sc_result r;
	double ms;
	bool load_error, blind;
	char expected[Q_MAX_OPTIONS + 8];
	uint32_t idlen, difflen;
} wire;

static char *diags_text(const cli_opts *o, eng_diags *d, size_t *len)
{
	char *buf = NULL;
	*len = 0;
	FILE *mem = open_memstream(&buf, len);
	if (!mem)
		return NULL;
	cli_opts plain = *o;
	plain.color = false;
	report_diags(&plain, d, mem);
	fclose(mem);
	return buf;
}

static void worker(const cli_opts *o, kb *k, char **files, size_t n, unsigned w,
                   unsigned nw, int fd)
{
	for (size_t i = w; i < n; i += nw) {
		eng_diags *d = eng_diags_new(0);
		row r;
		run_one(k, files[i], d, &r);
		wire m;
		memset(&m, 0, sizeof(m));
		m.index = (uint32_t)i;
		m.r = r.r;
		m.ms = r.ms;
		m.load_error = r.load_error;
		m.blind = r.blind;
		memcpy(m.expected, r.expected, sizeof(m.expected));
		m.idlen = (uint32_t)strlen(r.id ? r.id : "");
		size_t dl = 0;
		char *dt = eng_diags_count(d) ? diags_text(o, d, &dl) : NULL;
		m.difflen = (uint32_t)dl;
		bool ok = write_all(fd, &m, sizeof(m)) && write_all(fd, r.id ? r.id : "", m.idlen) &&
		          (!dl || write_all(fd, dt, dl));
		free(dt);
		free(r.id);
		eng_diags_free(d);
		if (!ok)
			break;
	}
}

/* ---- output ---- */

static void xml_escape(FILE *fp, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '&': fputs("&amp;", fp); break;
		case '"': fputs("&quot;", fp); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				fputc(*s, fp);
		}
	}
}

static bool write_junit(const cli_opts *o, char **files, row *rows, size_t n, size_t failed)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	if (!fp)
		return false;
	double total = 0;
	for (size_t i = 0; i < n; i++)
		total += rows[i].ms;
	fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(fp, "<testsuite name=\"mlarch\" tests=\"%zu\" failures=\"%zu\" time=\"%.3f\">\n",
	        n, failed, total / 1000);
	for (size_t i = 0; i < n; i++) {
		fprintf(fp, "  <testcase classname=\"");
		xml_escape(fp, files[i]);
		fprintf(fp, "\" name=\"");
		xml_escape(fp, rows[i].id ? rows[i].id : files[i]);
		fprintf(fp, "\" time=\"%.3f\"", rows[i].ms / 1000);
		if (rows[i].r.pass) {
			fprintf(fp, "/>\n");
			continue;
		}
		fprintf(fp, ">\n    <failure message=\"");
		xml_escape(fp, rows[i].r.message);
		fprintf(fp, "\"/>\n  </testcase>\n");
	}
	fprintf(fp, "</testsuite>\n");
	fclose(fp);
	char err[512];
	bool ok = write_atomic(o->junit, buf, len, err, sizeof(err));
	if (!ok)
		fprintf(stderr, "%s: %s\n", o->prog, err);
	free(buf);
	return ok;
}

static void print_row(const cli_opts *o, const char *file, const row *r, size_t i)
{
	if (o->tap) {
		printf("%sok %zu - %s", r->r.pass ? "" : "not ", i + 1, r->id);
		if (!r->r.pass)
			printf(" # %s", r->r.message);
		putchar('\n');
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
		return EXIT_NOMEM;
	}
	bool tty = isatty(STDERR_FILENO) && !o->json && !o->tap;
	unsigned nw = o->jobs > n ? (unsigned)(n ? n : 1) : o->jobs;
	int pipes[64];
	pid_t pids[64];
	unsigned started = 0;
	if (nw > 1) {
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
				close(fds[0]);
				signal(SIGPIPE, SIG_IGN);
				worker(o, k, files, n, w, nw, fds[1]);
				close(fds[1]);
				_exit(0);
			}
			close(fds[1]);
			pipes[started] = fds[0];
			pids[started++] = pid;
		}
	}
	size_t done = 0;
	if (started == nw && nw > 1) {
		/* results arrive per worker in order; read each worker's stream fully */
		for (unsigned w = 0; w < started; w++) {
			wire m;
			while (read_all(pipes[w], &m, sizeof(m))) {
				if (m.index >= n)
					break;
				row *r = &rows[m.index];
				r->r = m.r;
				r->ms = m.ms;
				r->load_error = m.load_error;
				r->blind = m.blind;
				memcpy(r->expected, m.expected, sizeof(r->expected));
				r->id = calloc(m.idlen + 1, 1);
				char *dt = m.difflen ? malloc(m.difflen) : NULL;
				if (!r->id || !read_all(pipes[w], r->id, m.idlen) ||
				    (m.difflen && (!dt || !read_all(pipes[w], dt, m.difflen)))) {
					free(dt);
					break;
				}
				if (dt) {
					fwrite(dt, 1, m.difflen, stderr);
					free(dt);
				}
				if (tty)
					fprintf(stderr, "\r[%zu/%zu] ", ++done, n);
			}
			close(pipes[w]);
			waitpid(pids[w], NULL, 0);
		}
		for (size_t i = 0; i < n; i++)
			if (!rows[i].id) {
				rows[i].id = strdup(files[i]);
				snprintf(rows[i].r.message, sizeof(rows[i].r.message),
				         "a worker process died before reporting");
			}
	} else {
		for (unsigned w = 0; w < started; w++) {
			close(pipes[w]);
			kill(pids[w], SIGTERM);
			waitpid(pids[w], NULL, 0);
		}
		eng_diags *d = eng_diags_new(0);
		for (size_t i = 0; i < n; i++) {
			eng_diags_clear(d);
			run_one(k, files[i], d, &rows[i]);
			if (eng_diags_count(d))
				report_diags(o, d, stderr);
			if (tty && n > 20)
				fprintf(stderr, "\r[%zu/%zu] ", i + 1, n);
		}
		eng_diags_free(d);
	}
	if (tty && n > 20)
		fprintf(stderr, "\r%*s\r", 24, "");
	size_t passed = 0, failed = 0, bpass = 0, btotal = 0;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].r.pass)
			passed++;
		else
			failed++;
		if (rows[i].blind) {
			btotal++;
			bpass += rows[i].r.pass;
		}
	}
	if (o->json) {
		batch_row *br = calloc(n + 1, sizeof(batch_row));
		if (!br) {
			code = EXIT_NOMEM;
		} else {
			for (size_t i = 0; i < n; i++) {
				br[i].id = rows[i].id;
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
			if (doc)
				puts(doc);
			else
				code = EXIT_NOMEM;
			free(doc);
			free(br);
		}
	} else {
		if (o->tap)
			printf("1..%zu\n", n);
		for (size_t i = 0; i < n; i++)
			print_row(o, files[i], &rows[i], i);
		if (btotal)
			printf("%sblind suite (written from the notes only): %zu of %zu pass (%.0f%%)\n",
			       o->tap ? "# " : "", bpass, btotal, 100.0 * (double)bpass / (double)btotal);
		printf("%s%zu passed, %zu failed\n", o->tap ? "# " : "", passed, failed);
	}
	if (o->junit && !write_junit(o, files, rows, n, failed))
		code = EXIT_INPUT;
	if (failed && code == EXIT_OK)
		code = EXIT_FAIL;
	for (size_t i = 0; i < n; i++)
		free(rows[i].id);
	free(rows);
	kb_free(k);
	scenario_paths_free(files, n);
	return code;
}
