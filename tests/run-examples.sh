#!/bin/sh
# SPDX-License-Identifier: MIT
# The examples of README.md and CONTRIBUTING.md are real files: this runs them, so the
# documentation cannot drift from what the program does. Usage: run-examples.sh MLARCH
set -u
mlarch=${1:-build/mlarch}
# never the user's compiled cache: make gives a folder of its own, else there is none
[ -n "${MLARCH_CACHE_DIR:-}" ] || { MLARCH_CACHE=0; export MLARCH_CACHE; }
fail=0
pass=0
check() {
	name=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
	else
		echo "FAIL example: $name" >&2
		fail=$((fail + 1))
	fi
}
# the tiny knowledge base of the docs: lints clean, its scenarios pass
check "lint examples/kb" "$mlarch" --rules examples/kb lint >/dev/null 2>&1
check "batch examples/scenarios" "$mlarch" --rules examples/kb batch -q examples/scenarios >/dev/null
# the question of `make run` (and of the README's first lines): the answer is as documented
answer=$("$mlarch" --no-color ask - < examples/question.txt | head -n 1 | cut -d' ' -f1-2)
check "make run answer ($answer)" test "$answer" = "$(cat examples/question.expected)"
echo "examples: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
