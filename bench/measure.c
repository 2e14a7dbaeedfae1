/* SPDX-License-Identifier: MIT */
/*
 * measure.c - runs a command and appends its wall time and peak resident memory to its
 * standard output, as the lines `wall_ms X` and `rss_kb Y` (from wait4's rusage), so
 * that bench/run.sh needs neither /usr/bin/time nor hyperfine.
 *
 *   measure [-i FILE] COMMAND [ARG...]    (-i: the command's standard input)
 * Exits with the command's status (128 + signal if it was killed).
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *input = NULL;
	int first = 1;
	if (argc > 2 && strcmp(argv[1], "-i") == 0) {
		input = argv[2];
		first = 3;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: measure [-i FILE] COMMAND [ARG...]\n");
		return 2;
	}
	fflush(stdout);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		if (input) {
			int fd = open(input, O_RDONLY);
			if (fd < 0 || dup2(fd, 0) < 0) {
				perror(input);
				_exit(127);
			}
			close(fd);
		}
		execvp(argv[first], argv + first);
		perror(argv[first]);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("wall_ms %.3f\nrss_kb %ld\n",
	       (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6,
	       ru.ru_maxrss);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
