/* SPDX-License-Identifier: MIT */
/* common.c - what every command needs: finding and loading the knowledge base, reading
 * a question, printing diagnostics with a caret, writing files atomically. */
#define _DEFAULT_SOURCE /* madvise */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "kbcache.h"

/* The Makefile compiles both in: RULES_DIR is the source tree's rules/ for build/mlarch and
 * the data directory for the binary `make install` installs. */
#ifndef MLARCH_RULES_DIR
#define MLARCH_RULES_DIR "rules"
#endif
#ifndef MLARCH_DATADIR
#define MLARCH_DATADIR "/usr/local/share/mlarch/rules"
#endif

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *paths_data_dir(void)
{
	return MLARCH_DATADIR;
}

const char *paths_rules_dir(const cli_opts *o)
{
	if (o->rules_dir)
		return o->rules_dir;
	const char *env = getenv("MLARCH_RULES");
	if (env && *env)
		return env;
	if (is_dir(MLARCH_RULES_DIR))
		return MLARCH_RULES_DIR;
	return MLARCH_DATADIR;
}

bool cli_stdout_closed(void)
{
	if (!ferror(stdout))
		return false;
	if (errno == EPIPE)
		return true;
	/* errno may be stale: ask the descriptor (a pipe with no reader polls as an error) */
	struct pollfd p = { STDOUT_FILENO, POLLOUT, 0 };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

const char *clr(const cli_opts *o, const char *code)
{
	if (!o->color)
		return "";
	if (!strcmp(code, "bold")) return "\033[1m";
	if (!strcmp(code, "red")) return "\033[31m";
	if (!strcmp(code, "green")) return "\033[32m";
	if (!strcmp(code, "yellow")) return "\033[33m";
	if (!strcmp(code, "cyan")) return "\033[36m";
	if (!strcmp(code, "dim")) return "\033[2m";
	return "\033[0m";
}

void report_diags(const cli_opts *o, const eng_diags *d, FILE *fp)
{
	bool color = o->color && isatty(fileno(fp));
	cli_opts c = *o;
	c.color = color;
	for (size_t i = 0; i < eng_diags_count(d); i++) {
		const eng_diag *g = eng_diags_get(d, i);
		const char *sev = g->severity == ENG_SEV_ERROR ? "error" :
		                  g->severity == ENG_SEV_WARNING ? "warning" : "note";
		const char *col = g->severity == ENG_SEV_ERROR ? clr(&c, "red") : clr(&c, "yellow");
		if (g->line)
			fprintf(fp, "%s%s:%u:%u:%s ", clr(&c, "bold"), g->file, g->line, g->col,
			        clr(&c, "reset"));
		else if (g->file && *g->file)
			fprintf(fp, "%s%s:%s ", clr(&c, "bold"), g->file, clr(&c, "reset"));
		fprintf(fp, "%s%s:%s %s", col, sev, clr(&c, "reset"), g->message);
		if (g->context)
			fprintf(fp, " (%s)", g->context);
		fputc('\n', fp);
		if (g->source && g->line) {
			fprintf(fp, "%6u | %s\n       | ", g->line, g->source);
			/* the caret goes under column col, counting tabs as they are */
			for (uint32_t k = 1; k < g->col && g->source[k - 1]; k++)
				fputc(g->source[k - 1] == '\t' ? '\t' : ' ', fp);
			fprintf(fp, "%s^", col);
			for (uint32_t k = 1; k < g->span && k < 200; k++)
				fputc('~', fp);
			fprintf(fp, "%s\n", clr(&c, "reset"));
		}
	}
	if (eng_diags_truncated(d))
		fprintf(fp, "(more errors were found; only the first %zu are shown)\n",
		        eng_diags_errors(d));
}

/* A malloc'd copy of A followed by B (B may be NULL). */
static char *concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = b ? strlen(b) : 0;
	char *p = malloc(la + lb + 1);
	if (p) {
		memcpy(p, a, la);
		memcpy(p + la, b ? b : "", lb + 1);
	}
	return p;
}

char *paths_cache_dir(const cli_opts *o)
{
	const char *off = getenv("MLARCH_CACHE");
	if (o->no_cache || (off && (!strcmp(off, "0") || !strcmp(off, "no") ||
	                            !strcmp(off, "off") || !strcmp(off, "false"))))
		return NULL;
	const char *env = getenv("MLARCH_CACHE_DIR");
	if (env && *env)
		return concat(env, NULL);
	/* XDG base directories: a relative XDG_CACHE_HOME is to be ignored */
	env = getenv("XDG_CACHE_HOME");
	if (env && env[0] == '/')
		return concat(env, "/mlarch");
	env = getenv("HOME");
	if (env && env[0] == '/')
		return concat(env, "/.cache/mlarch");
	return NULL;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  /* Linux 5.14; older kernels refuse it, which changes nothing */
#endif

/* Makes the next BYTES of the heap ready at once. Every page a process first writes costs a
 * page fault, and on a virtual machine a fault costs far more than the work done on the
 * page (12 µs a fault on the development machine; a warm question's 750 faults on its heap
 * were 40% of its 22 ms); asked for in one call (MADV_POPULATE_WRITE) the pages cost a
 * quarter of that. So the heap is grown by BYTES (M_TOP_PAD) and made ready, and large
 * blocks are taken from it rather than mapped on their own (M_MMAP_THRESHOLD): otherwise
 * they would miss the pages made ready, which then would only add to the memory used.
 * BYTES is what the caller expects to use, no more: a page made ready and never used is
 * memory taken for nothing. */
static void cli_heap_reserve(size_t bytes)
{
#if defined(__GLIBC__) && defined(M_TOP_PAD) && defined(M_MMAP_THRESHOLD)
	long page = sysconf(_SC_PAGESIZE);
	if (bytes < (size_t)1 << 20 || bytes > (size_t)256 << 20 || page <= 0)
		return;
	(void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
	(void)mallopt(M_TOP_PAD, (int)bytes);
	/* a block of BYTES from the heap's top, given back at once: free keeps M_TOP_PAD of
	 * the top, so the pages made ready stay for what comes next */
	char *p = malloc(bytes);
	if (!p)
		return;
	uintptr_t from = ((uintptr_t)p + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
	uintptr_t to = ((uintptr_t)p + bytes) & ~((uintptr_t)page - 1);
	if (to > from)
		(void)madvise((void *)from, to - from, MADV_POPULATE_WRITE);
	free(p);
#else
	(void)bytes;
#endif
}

/* The heap that a warm load and one question take for a cache of N bytes: 3.4 MB for a
 * 12.4 MB cache (the blocks of its patterns, the rules a question builds, the patterns it
 * decodes), a little less for the commands that do not judge: a quarter, 3.1 MB. */
#define CLI_HEAP_FOR_CACHE(n) ((n) / 4)

/* Readies the heap for a warm load of DIR's cache in CACHE_DIR, when there is one to read:
 * before the load allocates anything, so that all of it comes from the pages made ready. */
static void cli_heap_for_cache(const cli_opts *o, const char *cache_dir, const char *dir)
{
	char *path = o->cache_no_read ? NULL : kbc_path(cache_dir, dir);
	struct stat sb;
	if (path && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0)
		cli_heap_reserve(CLI_HEAP_FOR_CACHE((size_t)sb.st_size));
	free(path);
}

kb *cli_kb_load(const cli_opts *o, int *exit_code)
{
	const char *dir = paths_rules_dir(o);
	char *cache_dir = paths_cache_dir(o);   /* out of memory: no cache, which is no error */
	cli_heap_for_cache(o, cache_dir, dir);
	eng_diags *d = eng_diags_new(0);
	if (!d) {
		free(cache_dir);
		fprintf(stderr, "%s: out of memory\n", o->prog);
		*exit_code = EXIT_NOMEM;
		return NULL;
	}
	kb *k = NULL;
	kb_load_opts opts = { &o->limits, cache_dir, o->cache_no_read };
	eng_status st = kb_load_with(dir, &opts, d, &k, NULL);
	free(cache_dir);
	if (st) {
		report_diags(o, d, stderr);
		if (st == ENG_ERR_IO && !eng_diags_count(d))
			fprintf(stderr, "%s: cannot read the knowledge base in %s\n", o->prog, dir);
		else
			fprintf(stderr, "%s: the knowledge base in %s does not load (%s)\n", o->prog,
			        dir, eng_status_str(st));
		*exit_code = st == ENG_ERR_NOMEM ? EXIT_NOMEM : EXIT_KB;
	}
	eng_diags_free(d);
	return k;
}

char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
		int err = S_ISDIR(st.st_mode) ? EISDIR : errno;
		close(fd);
		errno = err;
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			close(fd);
			errno = ENOMEM;
			return NULL;
		}
		if (n + 1 >= cap) {
			if (cap > (size_t)64 << 20) {
				free(buf);
				close(fd);
				errno = EFBIG;
				return NULL;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				continue;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			free(buf);
			close(fd);
			errno = err;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Reads FP to its end, or to MAX + 1 bytes (enough to see that a question is too long
 * without reading an endless stream). A malloc'd, NUL-terminated buffer of *LEN bytes, or
 * NULL with errno set. */
static char *read_stream(FILE *fp, size_t max, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	size_t r;
	for (;;) {
		size_t want = cap - n - 1;
		if (max - n < want)
			want = max - n + 1;     /* no overflow: max - n < want */
		if (n > max || (r = fread(buf + n, 1, want, fp)) == 0)
			break;
		n += r;
		if (n + 1 == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (ferror(fp)) {
		int err = errno;        /* e.g. EISDIR: standard input is a folder */
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Says that question NAME (SIZE bytes, or more than that when MORE) is over the
 * question-bytes limit, and how to raise it. */
static void too_long(const cli_opts *o, const char *name, size_t size, bool more)
{
	size_t lim = o->limits.question_bytes;
	size_t want = more ? (lim > SIZE_MAX / 2 ? SIZE_MAX : lim * 2) : size;
	fprintf(stderr, "%s: error: the question is longer than the limit of %zu bytes (limit "
	        "question-bytes: it has %s%zu); raise it with --limit question-bytes=%zu\n",
	        name, lim, more ? "more than " : "", more ? lim : size, want);
}

/* Whether the lone argument S names a question file rather than being the question: one
 * word (a question has spaces) that is a regular file. */
static bool names_file(const char *s)
{
	struct stat st;
	return s[0] && !s[strcspn(s, " \t\n")] && stat(s, &st) == 0 && S_ISREG(st.st_mode);
}

/* The `question:` text of the scenario file PATH, already read into BUF[0..*LEN), in a
 * new buffer (BUF is freed), so that `mlarch ask scenario.yaml` asks the question and not
 * the file's keys. NULL, with the reason printed and *CODE set, when PATH is not YAML or
 * has no `question:` text. */
static char *scenario_question(const cli_opts *o, const char *path, char *buf, size_t *len,
                               int *code)
{
	eng_diags *d = eng_diags_new(0);
	eng_status st = d ? ENG_OK : ENG_ERR_NOMEM;
	eng_doc *doc = d ? eng_doc_read_string(path, buf, *len, NULL, d, &st) : NULL;
	free(buf);
	char *q = NULL;
	const eng_node *root = doc ? eng_doc_root(doc) : NULL;
	const eng_node *node = root && eng_node_kind_of(root) == ENG_NODE_MAP
	                       ? eng_node_get(root, "question") : NULL;
	size_t n = 0;
	const char *text = node && eng_node_kind_of(node) == ENG_NODE_SCALAR
	                   ? eng_node_text(node, &n) : NULL;
	if (text && (q = malloc(n + 1))) {
		memcpy(q, text, n);
		q[n] = '\0';
		*len = n;
	} else if (text || st == ENG_ERR_NOMEM) {
		fprintf(stderr, "%s: out of memory\n", o->prog);
		*code = EXIT_NOMEM;
	} else if (!doc) {
		report_diags(o, d, stderr);
		*code = EXIT_INPUT;
	} else {
		fprintf(stderr, "%s: %s: a .yaml file to ask must be a scenario with `question:` "
		        "text (to ask the file as it is, give it on standard input)\n", o->prog, path);
		*code = EXIT_INPUT;
	}
	eng_doc_free(doc);
	eng_diags_free(d);
	return q;
}

/* Whether PATH ends in ".yaml" or ".yml". */
static bool yaml_name(const char *path)
{
	size_t n = strlen(path);
	return (n > 5 && strcmp(path + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(path + n - 4, ".yml") == 0);
}

char *cli_read_question(const cli_opts *o, int argc, char **argv, size_t *len,
                        const char **name, int *code)
{
	*name = "<question>";
	*code = EXIT_NOMEM;
	if (argc == 0 || (argc == 1 && strcmp(argv[0], "-") == 0)) {
		*name = "<stdin>";
		if (argc == 0 && isatty(STDIN_FILENO)) {
			cli_usage_error(o, "give a question as an argument, or '-' to read standard input");
			*code = EXIT_USAGE;
			return NULL;
		}
		errno = 0;
		char *buf = read_stream(stdin, o->limits.question_bytes, len);
		if (!buf && errno && errno != ENOMEM) {
			fprintf(stderr, "%s: cannot read standard input: %s\n", o->prog,
			        strerror(errno));
			*code = EXIT_INPUT;
		} else if (!buf) {
			fprintf(stderr, "%s: out of memory reading standard input\n", o->prog);
		} else if (*len > o->limits.question_bytes) {
			too_long(o, *name, *len, true);
			*code = EXIT_INPUT;
			free(buf);
			buf = NULL;
		}
		return buf;
	}
	if (argc == 1 && names_file(argv[0])) {
		*name = argv[0];
		struct stat sb;
		if (stat(argv[0], &sb) == 0 && (uintmax_t)sb.st_size > o->limits.question_bytes) {
			too_long(o, *name, (size_t)sb.st_size, false);
			*code = EXIT_INPUT;
			return NULL;
		}
		char *buf = read_file(argv[0], len);
		if (!buf) {
			fprintf(stderr, "%s: %s: %s\n", o->prog, argv[0], strerror(errno));
			*code = errno == ENOMEM ? EXIT_NOMEM : EXIT_INPUT;
		}
		return buf && yaml_name(argv[0]) ? scenario_question(o, argv[0], buf, len, code)
		                                 : buf;
	}
	size_t total = 1;
	for (int i = 0; i < argc; i++)
		total += strlen(argv[i]) + 1;
	char *buf = malloc(total);
	if (!buf) {
		fprintf(stderr, "%s: out of memory\n", o->prog);
		return NULL;
	}
	size_t n = 0;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);
		memcpy(buf + n, argv[i], l);
		n += l;
		if (i + 1 < argc)
			buf[n++] = ' ';
	}
	buf[n] = '\0';
	*len = n;
	if (n > o->limits.question_bytes) {
		too_long(o, *name, n, false);
		*code = EXIT_INPUT;
		free(buf);
		return NULL;
	}
	return buf;
}

bool cli_parse_question(const cli_opts *o, const char *name, const char *raw, size_t len,
                        question *q)
{
	size_t off = 0;
	q_status st = question_parse(raw, len, o->limits.question_bytes, q, &off);
	if (st == Q_OK)
		return true;
	if (st == Q_ERR_TOO_LONG) {
		too_long(o, name, len, false);
		return false;
	}
	/* the line and column of the offending byte, and the line with a caret */
	uint32_t line = 1, col = 1;
	size_t ls = 0;
	for (size_t i = 0; i < off && i < len; i++) {
		if (raw[i] == '\n') {
			line++;
			col = 1;
			ls = i + 1;
		} else {
			col++;
		}
	}
	fprintf(stderr, "%s:%u:%u: error: %s\n", name, line, col, q_status_str(st));
	if (st == Q_ERR_UTF8 || st == Q_ERR_NUL) {
		size_t le = ls;
		while (le < len && raw[le] != '\n' && le - ls < 200)
			le++;
		fprintf(stderr, "%6u | ", line);
		for (size_t i = ls; i < le; i++) {
			unsigned char ch = (unsigned char)raw[i];
			fputc(ch >= 0x80 || ch < 0x20 ? '?' : ch, stderr);
		}
		fprintf(stderr, "\n       | %*s^\n", (int)(col - 1), "");
	}
	return false;
}

/* write_atomic's work, with interrupts already held back. */
static bool write_atomic_now(const char *path, const char *buf, size_t len, char *err,
                             size_t errsz)
{
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 32);
	if (!tmp) {
		snprintf(err, errsz, "out of memory");
		return false;
	}
	/* in the same folder, so that rename() replaces PATH in one step: a reader sees the
	 * old file or the new one, never a part; O_EXCL: never write through a planted link */
	snprintf(tmp, pl + 32, "%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
	if (fd < 0) {
		snprintf(err, errsz, "cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		return false;
	}
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, buf + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			free(tmp);
			return false;
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errsz, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return false;
	}
	free(tmp);
	return true;
}

bool write_atomic(const char *path, const char *buf, size_t len, char *err, size_t errsz)
{
	/* an interrupt waits until the temporary file is renamed or removed, so that a
	 * stopped run leaves neither a partial PATH nor a stray temporary beside it */
	sigset_t old;
	kbc_signals_hold(&old);
	bool ok = write_atomic_now(path, buf, len, err, errsz);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ok;
}
