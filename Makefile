# SPDX-License-Identifier: MIT
# mlarch - one plain Makefile, no configure step.
#   make            build build/mlarch
#   make run        answer the bundled example question
#   make check      build and run every test (unit suites, scenarios, doc examples)
#   make check-asan the unit suites and scenarios under AddressSanitizer + UBSan
#   make valgrind   the unit suites under valgrind (leaks are errors)
#   make bench      benchmarks side by side with CLIPS
#   make install PREFIX=/usr/local
# Every target first installs missing Debian packages (scripts/deps.sh).

CC      ?= cc
PREFIX  ?= /usr/local
BUILD   ?= build
OPT     ?= -O2
SAN     ?=
CFLAGS  ?= $(OPT) -g
WARN    = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# Where the binary finds its rules without configuration: the source tree it was built in.
RULES_DIR ?= $(CURDIR)/rules
DATADIR   = $(PREFIX)/share/mlarch

PKGS      = yaml-0.1 libpcre2-8 jansson libedit
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(CFLAGS) $(SAN) -MMD -MP \
             -Iengine -Isrc $$(pkg-config --cflags $(PKGS))
LIBS      = $$(pkg-config --libs $(PKGS)) -lm
TEST_LIBS = $$(pkg-config --libs criterion)

ENGINE_SRC = $(wildcard engine/*.c)
APP_SRC    = $(filter-out src/main.c,$(wildcard src/*.c))
TEST_SRC   = $(wildcard tests/test_*.c)
ENGINE_OBJ = $(ENGINE_SRC:%.c=$(BUILD)/%.o)
APP_OBJ    = $(APP_SRC:%.c=$(BUILD)/%.o)
TESTS      = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all deps run check unit scenarios examples check-asan valgrind bench clean install
all: $(BUILD)/mlarch

deps:
	@sh scripts/deps.sh build

$(BUILD)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/src/paths.o: ALL_CFLAGS += -DMLARCH_RULES_DIR='"$(RULES_DIR)"' -DMLARCH_DATADIR='"$(DATADIR)/rules"'

$(BUILD)/libmlengine.a: $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libmlapp.a: $(APP_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/mlarch: $(BUILD)/src/main.o $(BUILD)/libmlapp.a $(BUILD)/libmlengine.a
	$(CC) $(SAN) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libmlapp.a $(BUILD)/libmlengine.a
	$(CC) $(SAN) -o $@ $^ $(LIBS) $(TEST_LIBS)

$(BUILD)/tests/%.o: ALL_CFLAGS += $$(pkg-config --cflags criterion) -Wno-missing-prototypes

run: $(BUILD)/mlarch
	$(BUILD)/mlarch ask - < examples/question.txt

unit: $(TESTS)
	@set -e; for t in $(TESTS); do echo "== $$t"; $$t --jobs 2; done

scenarios: $(BUILD)/mlarch
	@if [ -d scenarios ] && [ -n "$$(find scenarios -name '*.yaml' | head -1)" ]; then \
		$(BUILD)/mlarch batch scenarios/; fi

examples: $(BUILD)/mlarch
	@sh tests/run-examples.sh $(BUILD)/mlarch

check: unit examples

check-asan:
	$(MAKE) BUILD=build-asan OPT=-O1 SAN='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' unit scenarios

# Criterion runs each test in a child process: valgrind follows the children and the
# target fails on any error or leak it reports in any of them.
valgrind: $(TESTS) $(BUILD)/mlarch
	@rm -rf $(BUILD)/valgrind && mkdir -p $(BUILD)/valgrind
	@set -e; for t in $(TESTS); do echo "== valgrind $$t"; \
		MLARCH_NO_JIT=1 valgrind -q --trace-children=yes --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
		--log-file=$(BUILD)/valgrind/$$(basename $$t).%p.log $$t --jobs 1 >/dev/null 2>&1 || \
		{ echo "$$t failed under valgrind"; exit 1; }; done
	@MLARCH_NO_JIT=1 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--log-file=$(BUILD)/valgrind/mlarch-ask.%p.log \
		$(BUILD)/mlarch --rules examples/kb batch examples/scenarios >/dev/null
	@if grep -l -E "ERROR SUMMARY: [1-9]|definitely lost|indirectly lost|Invalid|uninitialised" \
		$(BUILD)/valgrind/*.log; then echo "valgrind found problems (logs above)"; exit 1; fi
	@echo "valgrind: clean"

bench:
	@sh scripts/deps.sh bench
	@sh bench/run.sh

install: $(BUILD)/mlarch
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(DATADIR)/rules $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/mlarch $(DESTDIR)$(PREFIX)/bin/mlarch
	cp -R rules/. $(DESTDIR)$(DATADIR)/rules/
	[ ! -f doc/mlarch.1 ] || install -m 644 doc/mlarch.1 $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf build build-asan

.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
