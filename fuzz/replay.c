/* SPDX-License-Identifier: MIT */
/*
 * replay.c - a main for a fuzz target built without libFuzzer: feeds it every file named
 * on the command line (folders: every file in them, sorted by name), one call each, so
 * that the corpora and the crashes found so far run as regression tests under any
 * compiler and sanitizer. Exits 0 when all ran; a crash or a broken invariant aborts.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs the target on the file at PATH. Returns false when it cannot be read. */
static bool replay_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
		return false;
	}
	size_t cap = 4096, n = 0, r;
	uint8_t *buf = malloc(cap);
	while (buf && (r = fread(buf + n, 1, cap - n, fp)) > 0) {
		n += r;
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	bool ok = buf && !ferror(fp);
	fclose(fp);
	if (!ok) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(buf);
		return false;
	}
	/* a copy of exactly N bytes, so that reading past the input is caught as it is under
	 * libFuzzer */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact) {
		free(buf);
		return false;
	}
	memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return true;
}

/* Runs the target on PATH, or on every regular file in it. Adds the files run to *COUNT. */
static bool replay_path(const char *path, size_t *count)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return false;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	bool ok = true;
	struct dirent *ent;
	while (ok && (ent = readdir(d))) {
		if (ent->d_name[0] == '.' || !strcmp(ent->d_name, "README.md"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				ok = false;
				break;
			}
			names = nn;
		}
		size_t len = strlen(path) + strlen(ent->d_name) + 2;
		if (!(names[n] = malloc(len))) {
			ok = false;
			break;
		}
		snprintf(names[n++], len, "%s/%s", path, ent->d_name);
	}
	closedir(d);
	if (names)
		qsort(names, n, sizeof(*names), replay_cmp);
	for (size_t i = 0; i < n; i++) {
		if (ok && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			(*count)++;
			ok = replay_file(names[i]);
		}
		free(names[i]);
	}
	free(names);
	return ok;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	bool ok = true;
	for (int i = 1; i < argc; i++)
		ok = replay_path(argv[i], &count) && ok;
	const char *slash = strrchr(argv[0], '/');
	printf("%s: %zu inputs replayed\n", slash ? slash + 1 : argv[0], count);
	return ok ? 0 : 1;
}
