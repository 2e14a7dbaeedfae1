/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - what the fuzz targets share: libFuzzer's entry point, the knowledge base they
 * run against (loaded once per process), and a check that stops the run on a broken
 * invariant. Each target is also built as a plain program (replay.c supplies main) that
 * feeds it files, so that `make check` replays the corpora and past crashes without
 * libFuzzer.
 */
#ifndef MLARCH_FUZZ_H
#define MLARCH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "kb.h"

/* libFuzzer's entry point: every target defines it. Returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The knowledge base of rules/ ($MLARCH_RULES when set), loaded on the first call and
 * kept for the life of the process; examples/kb when rules/ does not load (it says so on
 * stderr). Aborts when neither loads. */
kb *fuzz_kb(void);

/* Aborts with MSG when COND is false: an invariant of the code under test is broken. */
#define FUZZ_CHECK(cond, msg) \
	do { if (!(cond)) fuzz_fail(__FILE__, __LINE__, (msg)); } while (0)
void fuzz_fail(const char *file, int line, const char *msg) __attribute__((noreturn));

#endif
