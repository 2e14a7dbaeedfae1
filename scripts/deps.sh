#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages mlarch needs to build, test (and, with "bench", benchmark),
# when they are missing. Runs apt-get as root directly, otherwise through sudo.
set -eu

need="pkg-config libyaml-dev libpcre2-dev libcriterion-dev libjansson-dev libedit-dev"
# tests/test_cli.sh: jq reads the JSON output, tmux drives the interactive prompt,
# xmllint checks the JUnit report
need="$need jq tmux libxml2-utils"
case "${1:-build}" in
	build) ;;
	bench) need="$need clips valgrind" ;;
	fuzz) need="$need clang libclang-rt-14-dev" ;;
	*) echo "usage: $0 [build|bench|fuzz]" >&2; exit 2 ;;
esac

missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "mlarch: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	run=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	run="sudo"
else
	echo "mlarch: cannot install$missing: not root and no password-less sudo." >&2
	echo "mlarch: install them yourself: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# An old or missing package list makes apt-get install fail: refresh it first.
$run apt-get update -qq >&2 || true
# shellcheck disable=SC2086
$run apt-get install -y -qq --no-install-recommends $missing >&2
