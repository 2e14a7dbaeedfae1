# SPDX-License-Identifier: MIT
# mlarch - one plain Makefile, no configure step.
#   make            build build/mlarch
#   make run        answer the bundled example question
#   make check      build and run every test (unit suites, scenarios, doc examples)
#   make check-asan the unit suites, doc examples, bad-input tests, fuzz replays and the
#                   scenario suite under AddressSanitizer + UBSan (no crash, leak or UB)
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (default 60) with clang, in build-fuzz/
#   make valgrind   the unit suites under valgrind (leaks are errors)
#   make bench      benchmarks side by side with CLIPS
#   make install PREFIX=/usr/local   (and DESTDIR=... for staging; make uninstall)
# Every target first installs missing Debian packages (scripts/deps.sh).

CC      ?= cc
PREFIX  ?= /usr/local
BUILD   ?= build
OPT     ?= -O2
SAN     ?=
CFLAGS  ?= $(OPT) -g
WARN    = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# Where the binary finds its rules without configuration: build/mlarch looks in the source
# tree it was built in, then in the installed data directory; the binary `make install`
# builds and installs looks in the data directory only (the source tree may move or go).
RULES_DIR ?= $(CURDIR)/rules
DATADIR   = $(PREFIX)/share/mlarch
BINDIR    = $(PREFIX)/bin
MANDIR    = $(PREFIX)/share/man/man1
COMPDIR   = $(PREFIX)/share/bash-completion/completions

# libedit is opened by the interactive prompt when it starts (src/repl.c), not linked:
# only the name of its shared object is needed here (read from libedit-dev's libedit.so)
LINK_PKGS = yaml-0.1 libpcre2-8 jansson
PKGS      = $(LINK_PKGS) libedit
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(CFLAGS) $(SAN) -MMD -MP \
             -Iengine -Isrc $$(pkg-config --cflags $(PKGS))
LIBS      = $$(pkg-config --libs $(LINK_PKGS)) -lm
TEST_LIBS = $$(pkg-config --libs criterion)

ENGINE_SRC = $(wildcard engine/*.c)
APP_SRC    = $(filter-out src/main.c,$(wildcard src/*.c))
TEST_SRC   = $(wildcard tests/test_*.c)
ENGINE_OBJ = $(ENGINE_SRC:%.c=$(BUILD)/%.o)
APP_OBJ    = $(APP_SRC:%.c=$(BUILD)/%.o)
TESTS      = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
# libFuzzer targets (fuzz/fuzz_*.c); `make check` replays their corpora and past crashes
# through the same code built as plain programs (fuzz/replay.c supplies main).
FUZZ_TARGETS = fuzz_rules fuzz_scenario fuzz_question fuzz_ask fuzz_docimage fuzz_rxlit fuzz_kbimage
FUZZ_SECONDS ?= 60
FUZZ_ARGS    ?=
FUZZ_SAN     = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_REPLAYS = $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
# Allocation-failure injection: the test binary wraps the allocator (tests/test_oom.c).
OOM_WRAP   = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=strdup,--wrap=strndup \
             -Wl,--wrap=aligned_alloc

.PHONY: all deps run check unit scenarios scenarios-sanitized heldout examples cli cli-errors \
        fuzz-replay check-asan \
        valgrind fuzz fuzz-build bench bench-check clean install uninstall FORCE
all: $(BUILD)/mlarch

# The tests never touch the user's compiled cache (~/.cache/mlarch): they use their own,
# emptied when a test target starts, so that no result depends on an earlier run.
TEST_CACHE = $(CURDIR)/$(BUILD)/test-cache
TEST_TARGETS = unit examples scenarios cli cli-errors fuzz-replay scenarios-sanitized \
               valgrind heldout bench-check
$(TEST_TARGETS): export MLARCH_CACHE_DIR = $(TEST_CACHE)
$(TEST_TARGETS): | test-cache-reset
test-cache-reset:
	@rm -rf $(TEST_CACHE)

.PHONY: test-cache-reset

deps:
	@sh scripts/deps.sh build

$(BUILD)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# the name the loader knows libedit by (its SONAME), for the prompt's dlopen
$(BUILD)/src/repl.o: ALL_CFLAGS += -DMLARCH_LIBEDIT=\"$$(objdump -p \
    $$(pkg-config --variable=libdir libedit)/libedit.so | sed -n 's/^ *SONAME *//p')\"
$(BUILD)/src/common.o: ALL_CFLAGS += -DMLARCH_RULES_DIR='"$(RULES_DIR)"' -DMLARCH_DATADIR='"$(DATADIR)/rules"'
# common.o has the paths compiled in: rebuild it when they change
$(BUILD)/src/common.o: $(BUILD)/paths.stamp
$(BUILD)/paths.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(RULES_DIR) $(DATADIR)' | cmp -s - $@ || echo '$(RULES_DIR) $(DATADIR)' > $@

$(BUILD)/libmlengine.a: $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libmlapp.a: $(APP_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/mlarch: $(BUILD)/src/main.o $(BUILD)/libmlapp.a $(BUILD)/libmlengine.a
	$(CC) $(SAN) -o $@ $^ $(LIBS)

# The binary to install: the same objects, but common.o knows only the data directory.
# IBUILD holds the two files that differ (tests/test_cli.sh gives each run its own).
IBUILD ?= $(BUILD)/install
$(IBUILD)/common.o: src/common.c $(IBUILD)/datadir.stamp | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DMLARCH_RULES_DIR='"$(DATADIR)/rules"' \
		-DMLARCH_DATADIR='"$(DATADIR)/rules"' -c $< -o $@
$(IBUILD)/datadir.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(DATADIR)' | cmp -s - $@ || echo '$(DATADIR)' > $@
$(IBUILD)/mlarch: $(BUILD)/src/main.o $(IBUILD)/common.o \
		$(filter-out $(BUILD)/src/common.o,$(APP_OBJ)) $(BUILD)/libmlengine.a
	$(CC) $(SAN) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libmlapp.a $(BUILD)/libmlengine.a
	$(CC) $(SAN) -o $@ $^ $(LIBS) $(TEST_LIBS)

$(BUILD)/tests/%.o: ALL_CFLAGS += $$(pkg-config --cflags criterion) -Wno-missing-prototypes
$(BUILD)/tests/test_rxlit.o: ALL_CFLAGS += -DSRCDIR='"$(CURDIR)"'
$(BUILD)/tests/test_kb.o: ALL_CFLAGS += -DSRCDIR='"$(CURDIR)"'
$(BUILD)/tests/test_layout.o: ALL_CFLAGS += -DSRCDIR='"$(CURDIR)"'
$(BUILD)/tests/test_defer.o: ALL_CFLAGS += -DSRCDIR='"$(CURDIR)"'
$(BUILD)/tests/test_extract.o: ALL_CFLAGS += -DSRCDIR='"$(CURDIR)"'

$(BUILD)/tests/test_oom: $(BUILD)/tests/test_oom.o $(BUILD)/libmlapp.a $(BUILD)/libmlengine.a
	$(CC) $(SAN) $(OOM_WRAP) -o $@ $^ $(LIBS) $(TEST_LIBS)

$(BUILD)/fuzz/%.o: ALL_CFLAGS += -Ifuzz -DFUZZ_RULES_DIR='"$(CURDIR)/rules"' \
                                 -DFUZZ_EXAMPLE_KB='"$(CURDIR)/examples/kb"'

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/common.o $(BUILD)/fuzz/replay.o \
                      $(BUILD)/libmlapp.a $(BUILD)/libmlengine.a
	$(CC) $(SAN) -o $@ $^ $(LIBS)

# the libFuzzer builds: the libraries instrumented (fuzzer-no-link), each target linked
# with libFuzzer's own main
$(BUILD)/fuzz/lf_%: $(BUILD)/fuzz/%.o $(BUILD)/fuzz/common.o $(BUILD)/libmlapp.a \
                    $(BUILD)/libmlengine.a
	$(CC) $(SAN) -fsanitize=fuzzer -o $@ $^ $(LIBS)

run: $(BUILD)/mlarch
	$(BUILD)/mlarch ask - < examples/question.txt

unit: $(TESTS)
	@set -e; for t in $(TESTS); do echo "== $$t"; $$t --jobs 2; done

# Twice: as users run them, then with PCRE2's interpreter only (MLARCH_NO_JIT), whose
# match limit counts every step, so that a pattern hitting it fails its scenario whatever
# was compiled before (JIT code counts fewer steps, and a long batch compiles the busy
# patterns: a limit once showed up only when one scenario ran alone).
scenarios: $(BUILD)/mlarch
	@if [ -d scenarios ] && [ -n "$$(find scenarios -name '*.yaml' | head -1)" ]; then \
		$(BUILD)/mlarch batch scenarios/ || exit 1; \
		out=$$(MLARCH_NO_JIT=1 $(BUILD)/mlarch batch -j2 scenarios/ 2>&1) || \
			{ echo "without JIT:"; echo "$$out" | grep -v '^ok '; exit 1; }; \
		echo "without JIT: $$(echo "$$out" | tail -n 1)"; fi

# The held-out questions (tests/heldout/ to heldout19/, written from the notes only and
# never used to tune the rules) measure how the knowledge base generalises: reported, never a
# gate.
heldout: $(BUILD)/mlarch
	@sh scripts/deps.sh build
	@sh scripts/heldout.sh $(BUILD)/mlarch tests/heldout tests/heldout2 tests/heldout3 tests/heldout4 tests/heldout5 tests/heldout6 tests/heldout7 tests/heldout8 \
		tests/heldout9 tests/heldout10 tests/heldout11 tests/heldout12 tests/heldout13 \
		tests/heldout14 tests/heldout15 tests/heldout16 tests/heldout17 tests/heldout18 \
		tests/heldout19

examples: $(BUILD)/mlarch
	@sh tests/run-examples.sh $(BUILD)/mlarch

# the commands end to end (tests/test_cli.sh): it also runs `make install` into a
# temporary folder, with this make and this build folder
cli: $(BUILD)/mlarch
	@MAKE="$(MAKE)" BUILD="$(BUILD)" sh tests/test_cli.sh $(BUILD)/mlarch

cli-errors: $(BUILD)/mlarch
	@sh tests/test_cli_errors.sh $(BUILD)/mlarch

fuzz-replay: $(FUZZ_REPLAYS)
	@set -e; for t in $(FUZZ_TARGETS); do \
		$(BUILD)/fuzz/$$t fuzz/corpus/$$t $$(ls -d fuzz/crashes/$$t 2>/dev/null); done

check: unit examples scenarios cli cli-errors fuzz-replay bench-check

ASAN_BUILD ?= build-asan
check-asan:
	$(MAKE) BUILD=$(ASAN_BUILD) OPT=-O1 SAN='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' unit examples cli-errors fuzz-replay scenarios-sanitized

# The scenario suite as a sanitizer run: whether scenarios pass is `make scenarios`' business
# (exit 1); a crash, a sanitizer report (exit 86) or a knowledge base that does not load
# fails it.
scenarios-sanitized: $(BUILD)/mlarch
	@ASAN_OPTIONS=exitcode=86 UBSAN_OPTIONS=exitcode=86 $(BUILD)/mlarch batch -q scenarios/ \
		>$(BUILD)/scenarios.out 2>&1; rc=$$?; tail -n 2 $(BUILD)/scenarios.out; \
		if [ $$rc -gt 1 ]; then cat $(BUILD)/scenarios.out; \
		echo "mlarch batch scenarios/ under sanitizers: exit $$rc"; exit 1; fi

fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/lf_%)

# Each target fuzzes for FUZZ_SECONDS on one core; new inputs go to build-fuzz/corpus/,
# crashes to fuzz/crashes/TARGET/ (where `make check` replays them from then on).
fuzz:
	@sh scripts/deps.sh fuzz
	$(MAKE) BUILD=build-fuzz CC=clang OPT=-O1 SAN='$(FUZZ_SAN) -fsanitize=fuzzer-no-link' fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p build-fuzz/corpus/$$t fuzz/crashes/$$t; \
		echo "== $$t for $(FUZZ_SECONDS)s"; \
		dict=; [ -f fuzz/$$t.dict ] && dict=-dict=fuzz/$$t.dict; \
		build-fuzz/fuzz/lf_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=fuzz/crashes/$$t/ \
			$$dict $(FUZZ_ARGS) build-fuzz/corpus/$$t fuzz/corpus/$$t; \
	done

# Criterion runs each test in a child process: valgrind follows the children and the
# target fails on any error or leak it reports in any of them.
valgrind: $(TESTS) $(BUILD)/mlarch
	@rm -rf $(BUILD)/valgrind && mkdir -p $(BUILD)/valgrind
	@set -e; for t in $(TESTS); do echo "== valgrind $$t"; \
		MLARCH_NO_JIT=1 MLARCH_TEST_STRIDE=100 valgrind -q --trace-children=yes --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
		--log-file=$(BUILD)/valgrind/$$(basename $$t).%p.log $$t --jobs 1 >/dev/null 2>&1 || \
		{ echo "$$t failed under valgrind"; exit 1; }; done
	@MLARCH_NO_JIT=1 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--log-file=$(BUILD)/valgrind/mlarch-ask.%p.log \
		$(BUILD)/mlarch --rules examples/kb batch examples/scenarios >/dev/null
	@if grep -l -E "ERROR SUMMARY: [1-9]|definitely lost|indirectly lost|Invalid|uninitialised" \
		$(BUILD)/valgrind/*.log; then echo "valgrind found problems (logs above)"; exit 1; fi
	@echo "valgrind: clean"

# bench/: the workload generator, the engine driver and the timer (bench/run.sh uses them)
BENCH_TOOLS = $(BUILD)/bench/driver $(BUILD)/bench/gen $(BUILD)/bench/measure
$(BUILD)/bench/driver: $(BUILD)/bench/driver.o $(BUILD)/libmlengine.a
	$(CC) $(SAN) -o $@ $^ $(LIBS)
$(BUILD)/bench/gen: $(BUILD)/bench/gen.o
	$(CC) $(SAN) -o $@ $^
$(BUILD)/bench/measure: $(BUILD)/bench/measure.o
	$(CC) $(SAN) -o $@ $^

# The ports of the classic benchmarks fire as many rules as CLIPS does on the same data
# (the small sizes, converted and kept in bench/data/); no timing here.
bench-check: $(BUILD)/bench/driver
	@$(BUILD)/bench/driver -e 183 bench/manners.yaml bench/data/manners16.facts >/dev/null
	@$(BUILD)/bench/driver -e 3576 bench/waltz.yaml bench/data/waltz12.facts >/dev/null
	@$(BUILD)/bench/driver -e 4436 bench/waltzdb.yaml bench/data/waltzdb4.facts >/dev/null
	@echo "bench ports: manners16, waltz12 and waltzdb4 fire 183, 3576 and 4436 rules, as CLIPS does"

# Optimised build in build/opt, then bench/run.sh: the table, build/bench.json.
bench:
	@sh scripts/deps.sh bench
	@$(MAKE) --no-print-directory BUILD=build/opt OPT=-O3 build/opt/mlarch \
		$(BENCH_TOOLS:$(BUILD)/%=build/opt/%)
	@sh bench/run.sh build/opt

# Every *.yaml under the rules folder is loaded: the old installed rules are removed
# first, so that a file deleted from the tree does not linger.
install: $(IBUILD)/mlarch
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(COMPDIR)
	install -m 755 $(IBUILD)/mlarch $(DESTDIR)$(BINDIR)/mlarch
	rm -rf $(DESTDIR)$(DATADIR)/rules
	cp -R rules $(DESTDIR)$(DATADIR)/rules
	chmod -R u=rwX,go=rX $(DESTDIR)$(DATADIR)/rules
	install -m 644 docs/mlarch.1 $(DESTDIR)$(MANDIR)/mlarch.1
	install -m 644 docs/mlarch.bash-completion $(DESTDIR)$(COMPDIR)/mlarch

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mlarch $(DESTDIR)$(MANDIR)/mlarch.1 $(DESTDIR)$(COMPDIR)/mlarch
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build build-asan build-fuzz

.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
