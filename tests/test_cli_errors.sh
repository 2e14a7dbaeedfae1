#!/bin/sh
# SPDX-License-Identifier: MIT
# Bad input of every kind through the command line: each case must end with the exit code
# it names and a message on stderr (file:line:col where there is one) - never a crash, a
# sanitizer report or a hang. The normal paths are tests/test_cli.sh's.
# Usage: tests/test_cli_errors.sh [MLARCH]
set -u
cd "$(dirname "$0")/.." || exit 2
root=$PWD
M=${1:-build/mlarch}
case $M in /*) ;; *) M=$root/$M ;; esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mlarch-errors.XXXXXX") || exit 2
trap 'chmod -R u+rwX "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 2' INT TERM
# never the user's compiled cache, also when run by hand rather than by make
export MLARCH_CACHE_DIR="${MLARCH_CACHE_DIR:-$tmp/default-cache}"
pass=0
fail=0
skip=0
KB=$root/examples/kb
Q=$root/examples/question.txt

# ---- fixtures ----

mkkb() {        # mkkb NAME: a knowledge-base folder $tmp/NAME holding kb.yaml from stdin
	mkdir -p "$tmp/$1"
	cat >"$tmp/$1/kb.yaml"
}
printf 'Which \377 service?\nA. x\nB. y\n' >"$tmp/bad-utf8.txt"
printf 'a: [1\n' >"$tmp/bad.yaml"
printf 'id: no-question\n' >"$tmp/noq.yaml"
printf 'Which service?\nA. x\0y\nB. y\n' >"$tmp/nul.txt"
printf 'Where?\nA. thing\nB. %s\n' "$(awk 'BEGIN { for (i = 0; i < 200; i++) printf "ab"; print "c" }')" >"$tmp/thing.txt"
: >"$tmp/empty.txt"
printf '  \n\t\n\n' >"$tmp/blank.txt"
head -c 4096 "$M" >"$tmp/binary"
awk 'BEGIN { for (i = 0; i < 6000; i++) print "A company streams clickstream data all day long." }' \
	>"$tmp/long.txt"
mkdir -p "$tmp/folder"
cp "$Q" "$tmp/unreadable.txt"
chmod 000 "$tmp/unreadable.txt"

printf 'rules:\n  - id: x\n    when: [\377]\n' | mkkb kb-utf8
printf 'rules:\n  - id: x\0\n' | mkkb kb-nul
head -c 4096 "$M" | mkkb kb-binary
printf 'rules: 5\n' | mkkb kb-type
mkkb kb-rule-type <<'EOF'
rules:
  - id: r
    salience: high
    when: [{a: b}]
    then: [{recommend: x}]
    because: b
    cite: []
EOF
mkkb kb-unknown-key <<'EOF'
rules:
  - id: r
    when: [{a: b}]
    then: [{recommend: x}]
    because: b
    cite: []
    colour: blue
EOF
printf 'rulez: []\n' | mkkb kb-section
# a rule whose assertion meets its own negation: it re-enables itself forever
mkkb kb-self-undoing <<'EOF'
rules:
  - id: derive
    when: [{col: ?c}, {not: {label: ?}}]
    then: [{assert: {label: ?c}}]
    because: b
    cite: [n-1]
EOF
printf 'rules: %s\n' "$(awk 'BEGIN { for (i = 0; i < 80; i++) printf "["; for (i = 0; i < 80; i++) printf "]" }')" |
	mkkb kb-deep
awk 'BEGIN { print "a0: &a0 [x, x, x, x, x, x, x, x, x, x]";
	for (i = 1; i < 10; i++) { printf "a%d: &a%d [", i, i;
		for (j = 0; j < 10; j++) printf "%s*a%d", j ? ", " : "", i - 1; print "]" } }' | mkkb kb-bomb
awk 'BEGIN { print "a0: &a0 x"; for (i = 1; i <= 1001; i++) printf "a%d: *a0\n", i }' | mkkb kb-aliases
mkdir -p "$tmp/kb-big"
awk 'BEGIN { s = "#"; for (i = 0; i < 1023; i++) s = s "x"; for (i = 0; i < 17 * 1024; i++) print s }' \
	>"$tmp/kb-big/kb.yaml"
printf 'rules: []\n' | mkkb kb-unreadable
chmod 000 "$tmp/kb-unreadable/kb.yaml"
sources='sources:
  - id: n-1
    title: a note
    topic: general'
{ echo "$sources"; cat; } <<'EOF' | mkkb kb-loop
facts:
  - [counter, n, 0]
rules:
  - id: count-up
    when:
      - [counter, n, ?n]
    then:
      - modify: [counter, n, {calc: "?n + 1"}]
    because: It counts for ever.
    cite: [n-1]
EOF
{ echo "$sources"; cat; } <<'EOF' | mkkb kb-facts
facts:
  - [a, b, 1]
  - [a, b, 2]
  - [a, b, 3]
  - [a, b, 4]
rules:
  - id: copy
    when:
      - [a, b, ?n]
    then:
      - assert: [a, c, ?n]
    because: Every fact makes another.
    cite: [n-1]
EOF
{ echo "$sources"; cat; } <<'EOF' | mkkb kb-eval
facts:
  - [scenario, size, 3]
rules:
  - id: divide
    when:
      - size: ?s
    then:
      - assert: {half: {calc: "?s / 0"}}
    because: b
    cite: [n-1]
EOF
{ echo "$sources"; cat; } <<'EOF' | mkkb kb-slow
catalog:
  - id: thing
    name: Thing
    kind: service
    aliases: ['\bthing\b']
rules:
  - id: start
    when:
      - go: yes
    then:
      - assert: [counter, n, 0]
    because: It starts.
    cite: [n-1]
  - id: count
    when:
      - [counter, n, {as: ?n, "<": 3000}]
    then:
      - modify: [counter, n, {calc: "?n + 1"}]
    because: It counts.
    cite: [n-1]
  - id: done
    when:
      - [counter, n, 3000]
    then:
      - recommend: thing
    because: It is done.
    cite: [n-1]
EOF
cat >"$tmp/kb-slow/scenario.txt" <<'EOF'
id: slow
facts:
  go: yes
expect:
  recommend: [thing]
cite: [n-1]
EOF
cp "$tmp/kb-slow/scenario.txt" "$tmp/slow-one.yaml"
mkkb kb-family <<'EOF'
families:
  must: 'must|has\s+to'
lexicon:
  - id: needs-encryption
    match: '\b{{mustt}}\s+be\s+encrypted'
    assert: {need: encryption}
EOF
mkkb kb-family-spare <<'EOF'
families:
  spare: 'one|two'
lexicon:
  - id: plain
    match: 'three'
    assert: {pattern.ran: yes}
EOF
mkkb kb-regex <<'EOF'
lexicon:
  - id: runaway
    match: '(a+)+$'
    assert: {pattern.ran: yes}
EOF

{ echo "$sources"; cat; } <<'EOF' | mkkb kb-backtrack
lexicon:
  - id: backtracker
    match: '(?:a|ab)*c'
    assert: {pattern.ran: yes}
  - id: deep-group
    match: '(?:(a)|b)*d'
    assert: {pattern.deep: yes}
catalog:
  - id: thing
    name: Thing
    kind: service
    aliases: ['\bthing\b']
rules:
  - id: ran
    when:
      - pattern.ran: yes
    then:
      - recommend: thing
    because: It ran.
    cite: [n-1]
EOF
ab=$(awk 'BEGIN { for (i = 0; i < 200; i++) printf "ab" }')
cat >"$tmp/backtrack.yaml" <<EOF
id: backtrack
question: |
  Where? ${ab}c ${ab}d
  A. thing
  B. other
expect:
  answer: [A]
  recommend: [thing]
cite: [n-1]
EOF
# a scenario with two aliases in it; examples/kb has none
cat >"$tmp/sc-aliases.yaml" <<'EOF'
id: &id tiny-aliases
question: |
  A startup streams clickstream data and wants it stored as Parquet without managing
  any servers. Which service should ingest the data?
  A. Amazon EMR
  B. Amazon Kinesis Data Firehose
expect:
  answer: [B]
  recommend: [kinesis-data-firehose]
cite: [de-8]
x-id: *id
y-id: *id
EOF

mksc() {        # mksc NAME: a scenario file $tmp/NAME.yaml from stdin
	cat >"$tmp/$1.yaml"
}
mksc sc-type <<'EOF'
id: t
question: [not, text]
expect:
  answer: B
cite: [de-8]
EOF
mksc sc-letter <<'EOF'
id: t
question: "Which? A. x B. y"
expect:
  answer: [Z]
cite: [de-8]
EOF
mksc sc-unknown <<'EOF'
id: t
question: "Which? A. x B. y"
expect:
  answer: A
cite: [de-8]
difficulty: hard
EOF
printf 'id: t\nquestion: "a\0b"\n' | mksc sc-nul
printf 'id: t\nquestion: "caf\351"\n' | mksc sc-utf8
: | mksc sc-empty
cp "$root/examples/scenarios/firehose.yaml" "$tmp/sc-unreadable.yaml"
chmod 000 "$tmp/sc-unreadable.yaml"

# ---- the table ----
# name | exit code | what stderr must contain (stdout when it starts `stdout:`) | stdin (-
# for none) | mlarch's arguments
# Fields are separated by " | "; stdin and the arguments go through the shell (eval), so
# $tmp, $KB and $Q can be used and words can be quoted.
cases() {
	cat <<'EOF'
unknown command | 2 | unknown command 'frobnicate' | - | frobnicate
unknown option | 2 | unknown option '--frobnicate' | - | --frobnicate ask x
unknown option after the command | 2 | unknown option '--colour-me' | - | ask --colour-me x
option without its value | 2 | needs a value | - | ask --max-firings
bad --max-firings | 2 | --max-firings needs a positive whole number, not 'lots' | - | --max-firings lots ask x
zero --max-facts | 2 | --max-facts needs a positive whole number, not '0' | - | --max-facts 0 ask x
--max-firings past 2^64 | 2 | --max-firings needs a positive whole number, not '99999999999999999999' | - | --max-firings 99999999999999999999 ask x
--limit without its value | 2 | option '--limit' needs a value | - | ask --limit
--limit without NAME=VALUE | 2 | --limit needs NAME=VALUE, not 'nonsense'; '--limit help' lists the limits | - | --limit nonsense ask x
--limit of an unknown name | 2 | unknown limit 'firing' (did you mean `firings`?); '--limit help' lists | - | --limit firing=5 ask x
--limit of a misspelt name after the command | 2 | unknown limit 'yaml-dept' (did you mean `yaml-depth`?) | - | ask --limit yaml-dept=5 x
--limit with no value | 2 | --limit firings needs a whole number from 1 to 18446744073709551615 (K, M and G | - | --limit firings= ask x
--limit not a number | 2 | --limit facts needs a whole number from 1 to 18446744073709551615 (K, M and G multiply by 1024, 1024^2 and 1024^3), not 'lots' | - | --limit facts=lots ask x
--limit zero | 2 | --limit question-bytes needs a whole number from 1 to | - | --limit question-bytes=0 ask x
--limit negative | 2 | --limit regex-match needs a whole number from 1 to 4294967295 (K, M and G multiply by 1024, 1024^2 and 1024^3), not '-5' | - | --limit regex-match=-5 ask x
--limit with a sign | 2 | not '+5' | - | --limit yaml-depth=+5 ask x
--limit with a space | 2 | not ' 5' | - | --limit "yaml-depth= 5" ask x
--limit past 32 bits | 2 | --limit yaml-depth needs a whole number from 1 to 4294967295 (K, M and G multiply by 1024, 1024^2 and 1024^3), not '4294967296' | - | --limit yaml-depth=4294967296 ask x
--limit past 32 bits with a suffix | 2 | --limit regex-depth needs a whole number from 1 to 4294967295 | - | --limit regex-depth=4G ask x
--limit past 64 bits | 2 | --limit firings needs a whole number from 1 to 18446744073709551615 (K, M and G multiply by 1024, 1024^2 and 1024^3), not '18446744073709551616' | - | --limit firings=18446744073709551616 ask x
--limit with an unknown suffix | 2 | not '1T' | - | --limit yaml-bytes=1T ask x
limits takes no JSON | 2 | limits has no JSON output | - | --json limits
limits takes no arguments | 2 | limits takes no arguments | - | limits x
--limit help lists the limits | 0 | stdout:question-bytes      65536      65536  bytes of a question | - | --limit help
limits shows a value set | 0 | stdout:firings            100000       2048  rule firings | - | limits --limit firings=2K
--limit is repeatable, the last wins | 0 | stdout:yaml-depth             64          9  nesting | - | --limit yaml-depth=5 limits --limit yaml-depth=9
bad --jobs | 2 | --jobs needs a whole number from 1 to 64 | - | batch -j 0 $tmp
why-not without what | 2 | why-not needs | - | why-not
why-not a letter the question lacks | 2 | has no option F | $Q | --rules $KB why-not F -
why-not an unknown entity | 2 | is neither an option letter nor a catalog entity | $Q | --rules $KB why-not no-such-thing -
invalid UTF-8 question | 3 | <stdin>:1:7: error: invalid UTF-8 | $tmp/bad-utf8.txt | --rules $KB ask -
NUL byte in the question | 3 | <stdin>:2:5: error: NUL byte in the text | $tmp/nul.txt | --rules $KB ask -
empty question | 3 | <stdin>:1:1: error: the question is empty | $tmp/empty.txt | --rules $KB ask -
blank question | 3 | error: the question is empty | $tmp/blank.txt | --rules $KB facts -
binary question | 3 | error: | $tmp/binary | --rules $KB explain -
question over the length limit | 3 | <stdin>: error: the question is longer than the limit of 65536 bytes (limit question-bytes: it has more than 65536); raise it with --limit question-bytes=131072 | $tmp/long.txt | --rules $KB ask -
question over a question-bytes set | 3 | <question>: error: the question is longer than the limit of 10 bytes (limit question-bytes: it has 16); raise it with --limit question-bytes=16 | - | --rules $KB --limit question-bytes=10 ask Which service? A
question file over question-bytes | 3 | question.txt: error: the question is longer than the limit of 100 bytes (limit question-bytes: it has 683); raise it with --limit question-bytes=683 | - | --rules $KB --limit question-bytes=100 facts $Q
question at its question-bytes | 0 | stdout:Answer: B | - | --rules $KB --limit question-bytes=683 ask $Q
scenario question over question-bytes | 1 | stdout:the question is longer than the limit of 100 bytes (limit question-bytes); raise it with --limit question-bytes=218 | - | --rules $KB --limit question-bytes=100 batch $root/examples/scenarios/firehose.yaml
unreadable question file | 3 | Permission denied | - | --rules $KB ask $tmp/unreadable.txt
scenario file asked: its question | 0 | stdout:Answer: B | - | --rules $KB ask $root/examples/scenarios/firehose.yaml
scenario file, bad YAML | 3 | bad.yaml:2:1: error: did not find expected ',' or ']' | - | --rules $KB ask $tmp/bad.yaml
.yaml file without a question | 3 | noq.yaml: a .yaml file to ask must be a scenario with `question:` text | - | --rules $KB facts $tmp/noq.yaml
a folder as standard input | 3 | cannot read standard input: Is a directory | $tmp/folder | --rules $KB ask -
missing knowledge base | 4 | error: cannot read the directory: No such file or directory | - | --rules $tmp/nowhere ask x
a file that is no YAML as knowledge base | 4 | /etc/passwd:1:1: error: a rule file must be a mapping of sections | - | --rules /etc/passwd ask x
invalid UTF-8 in a rule file | 4 | kb.yaml:3:12: error: invalid leading UTF-8 octet (byte 0xFF) | - | --rules $tmp/kb-utf8 ask x
NUL byte in a rule file | 4 | kb.yaml:2:10: error: NUL byte in the input | - | --rules $tmp/kb-nul ask x
binary rule file | 4 | error: NUL byte in the input | - | --rules $tmp/kb-binary ask x
rules: not a list | 4 | kb.yaml:1:8: error: | - | --rules $tmp/kb-type ask x
salience: not a number | 4 | kb.yaml:3:15: error: | - | --rules $tmp/kb-rule-type ask x
unknown key in a rule | 4 | kb.yaml:7:5: error: unknown key `colour` | - | --rules $tmp/kb-unknown-key ask x
unknown section | 4 | kb.yaml:1:1: error: unknown section `rulez` | - | --rules $tmp/kb-section ask x
nesting past yaml-depth | 4 | kb.yaml:1:71: error: nesting deeper than 64 levels (limit yaml-depth); raise it with --limit yaml-depth=128 | - | --rules $tmp/kb-deep ask x
nesting past a yaml-depth set | 4 | tiny.yaml:4:5: error: nesting deeper than 2 levels (limit yaml-depth); raise it with --limit yaml-depth=4 | - | --rules $KB --limit yaml-depth=2 ask x
nesting within a raised yaml-depth | 4 | kb.yaml:1:9: error: a rule must be a mapping | - | --rules $tmp/kb-deep --limit yaml-depth=100 ask x
alias bomb past yaml-nodes | 4 | (limit yaml-nodes); raise it with --limit yaml-nodes=2000000 | - | --rules $tmp/kb-bomb ask x
rule file past a yaml-nodes set | 1 | tiny.yaml:16:11: error: document has more than 30 nodes (limit yaml-nodes); raise it with --limit yaml-nodes=60 | - | --rules $KB --limit yaml-nodes=30 lint
aliases past yaml-aliases | 4 | more than 1000 aliases in the document (limit yaml-aliases); raise it with --limit yaml-aliases=2000 | - | --rules $tmp/kb-aliases ask x
scenario aliases past a yaml-aliases set | 1 | sc-aliases.yaml:12:7: error: more than 1 aliases in the document (limit yaml-aliases); raise it with --limit yaml-aliases=2 | - | --rules $KB --limit yaml-aliases=1 batch $tmp/sc-aliases.yaml
file past yaml-bytes | 4 | larger than the limit of 16777216 bytes (limit yaml-bytes); raise it with --limit yaml-bytes=17843200 | - | --rules $tmp/kb-big ask x
rule file past a yaml-bytes set | 4 | tiny.yaml: error: input is larger than the limit of 1024 bytes (limit yaml-bytes); raise it with --limit yaml-bytes= | - | --rules $KB --limit yaml-bytes=1K ask x
scenario past a yaml-bytes set | 1 | backtrack.yaml: error: input is larger than the limit of 800 bytes (limit yaml-bytes); raise it with --limit yaml-bytes=916 | - | --rules $tmp/kb-backtrack --limit yaml-bytes=800 batch $tmp/backtrack.yaml
unreadable rule file | 4 | Permission denied | - | --rules $tmp/kb-unreadable ask x
unreadable scenario file | 1 | Permission denied | - | --rules $KB batch $tmp/sc-unreadable.yaml
lint: a rule undoing its own match | 1 | kb.yaml:4:22: error: this rule asserts a fact that meets its own `not: {label: ?}` (line 3) | - | --rules $tmp/kb-self-undoing lint
an unknown word family | 4 | kb.yaml:5:15: error: unknown family `mustt` (did you mean `must`?) | - | --rules $tmp/kb-family ask x
an unknown word family, linted | 1 | \b{{mustt}}\s+be\s+encrypted | - | --rules $tmp/kb-family lint
a word family no pattern uses | 0 | kb.yaml:2:3: warning: family `spare` is used by no lexicon pattern | - | --rules $tmp/kb-family-spare lint
lint of a broken knowledge base | 1 | kb.yaml:7:5: error: unknown key `colour` | - | --rules $tmp/kb-unknown-key lint
rules that re-enable themselves | 5 | firing limit of 1000 reached while firing rule `count-up` | - | --rules $tmp/kb-loop --max-firings 1000 ask "Which? A. x B. y"
firing limit named with its option | 5 | firing limit of 50 reached while firing rule `count-up` (%KB-LOOP%:8); raise it with --limit firings=100 (eng_limits.max_firings) | - | --rules $tmp/kb-loop --limit firings=50 ask "Which? A. x B. y"
firings past the default | 5 | firing limit of 100000 reached while firing rule `count-up` | - | --rules $tmp/kb-loop ask "Which? A. x B. y"
a batch stopped by the firing limit | 1 | stdout:firing limit of 100 reached while firing rule `count` | - | --rules $tmp/kb-slow --max-firings 100 batch $tmp/slow-one.yaml
a batch stopped by a firings set | 1 | stdout:firing limit of 100 reached while firing rule `count` | - | --rules $tmp/kb-slow --limit firings=100 batch -j 2 $tmp/slow-one.yaml $tmp/slow-one.yaml
a batch within a raised firings | 0 | stdout:1 passed, 0 failed | - | --rules $tmp/kb-slow --limit firings=4000 batch $tmp/slow-one.yaml
fact limit | 5 | fact limit of 6 reached while firing rule `copy` | - | --rules $tmp/kb-facts --max-facts 6 ask "Which? A. x B. y"
fact limit named with its option | 5 | fact limit of 6 reached while firing rule `copy` (%KB-FACTS%:11); raise it with --limit facts=12 (eng_limits.max_facts) | - | --rules $tmp/kb-facts --limit facts=6 facts "Which? A. x B. y"
division by zero in a rule | 5 | in rule `divide` | - | --rules $tmp/kb-eval ask "Which? A. x B. y"
a pattern at its match limit | 0 | <question>: warning: on the stem, lexicon entry `runaway` (%KB-REGEX%:2:5) hit the regex-match limit of 100000; raise it with --limit regex-match=200000; facts may be missing | - | --rules $tmp/kb-regex ask "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa! Which? A. x B. y"
a pattern at a regex-match set | 0 | <question>: warning: on the stem, lexicon entry `backtracker` (%KB-BACKTRACK%:6:5) hit the regex-match limit of 10; raise it with --limit regex-match=20; facts may be missing | - | --rules $tmp/kb-backtrack --limit regex-match=10 ask "Where? ${ab}c A. thing B. other"
an option's pattern at its limit | 0 | <stdin>: warning: on option B, lexicon entry `backtracker` (%KB-BACKTRACK%:6:5) hit the regex-match limit of 10; raise it with --limit regex-match=20; facts may be missing | $tmp/thing.txt | --rules $tmp/kb-backtrack --limit regex-match=10 --json ask -
a pattern at a regex-depth set | 0 | warning: on the stem, lexicon entry `deep-group` (%KB-BACKTRACK%:9:5) hit the regex-depth limit of 10; raise it with --limit regex-depth=20; facts may be missing | - | --rules $tmp/kb-backtrack --limit regex-depth=10 facts "Which? ${ab}d A. thing B. other"
a batch scenario at a pattern limit fails | 1 | backtrack.yaml: warning: scenario `backtrack`: on the stem, lexicon entry `backtracker` (%KB-BACKTRACK%:6:5) hit the regex-match limit of 10; raise it with --limit regex-match=20 | - | --rules $tmp/kb-backtrack --limit regex-match=10 batch -j 2 $tmp/backtrack.yaml $tmp/backtrack.yaml
a batch scenario at a pattern limit says why | 1 | stdout:FAIL backtrack (%TMP%/backtrack.yaml): on the stem, lexicon entry `backtracker` | - | --rules $tmp/kb-backtrack --limit regex-match=10 batch $tmp/backtrack.yaml
a batch scenario within the pattern limits | 0 | stdout:1 passed, 0 failed | - | --rules $tmp/kb-backtrack batch $tmp/backtrack.yaml
missing scenario file | 3 | nowhere.yaml | - | --rules $KB batch $tmp/nowhere.yaml
scenario question of the wrong type | 1 | sc-type.yaml:2:11: error: `question` must be text | - | --rules $KB batch $tmp/sc-type.yaml
scenario answer not a letter | 1 | sc-letter.yaml:4:12: error: `Z` is not an option letter | - | --rules $KB batch $tmp/sc-letter.yaml
unknown key in a scenario | 1 | sc-unknown.yaml:6:1: error: unknown key `difficulty` | - | --rules $KB batch $tmp/sc-unknown.yaml
NUL byte in a scenario | 1 | sc-nul.yaml:2:13: error: | - | --rules $KB batch $tmp/sc-nul.yaml
invalid UTF-8 in a scenario | 1 | sc-utf8.yaml:2:16: error: invalid trailing UTF-8 octet | - | --rules $KB batch $tmp/sc-utf8.yaml
empty scenario file | 1 | sc-empty.yaml: error: a scenario is a mapping | - | --rules $KB batch $tmp/sc-empty.yaml
a folder for --junit | 3 | Is a directory | - | --rules $KB batch --junit $tmp/folder $KB/../scenarios
a folder for explain -o | 3 | Is a directory | $Q | --rules $KB explain -o $tmp/folder -
explain -o into a missing folder | 3 | No such file or directory | $Q | --rules $KB explain -o $tmp/nowhere/proof.txt -
EOF
}

# ---- running ----

IFS_TAB=$(printf '\t')
cases | sed 's/ | /\t/g' | {
	while IFS=$IFS_TAB read -r name want msg input args; do
		case $name in unreadable*) unreadable=yes ;; *) unreadable=no ;; esac
		if [ $unreadable = yes ] && [ "$(id -u)" -eq 0 ]; then
			skip=$((skip + 1))
			echo "SKIP: $name (running as root: chmod 000 does not stop reads)"
			continue
		fi
		eval "set -- $args"
		if [ "$input" = "-" ]; then
			in=/dev/null
		else
			eval "in=$input"
		fi
		timeout 60 "$M" "$@" <"$in" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		why=""
		if [ "$rc" -eq 124 ]; then
			why="hung (killed after 60 s)"
		elif [ "$rc" -ge 128 ]; then
			why="crashed (signal $((rc - 128)))"
		elif grep -q -e "AddressSanitizer" -e "runtime error:" -e "LeakSanitizer" "$tmp/err"; then
			why="sanitizer report"
		elif [ "$rc" -ne "$want" ]; then
			why="exit code $rc, expected $want"
		else
			case $msg in
			stdout:*) stream=out msg=${msg#stdout:} ;;
			*) stream=err ;;
			esac
			msg=$(printf '%s' "$msg" | sed -e "s|%KB-LOOP%|$tmp/kb-loop/kb.yaml|" \
				-e "s|%KB-FACTS%|$tmp/kb-facts/kb.yaml|" \
				-e "s|%KB-REGEX%|$tmp/kb-regex/kb.yaml|" \
				-e "s|%KB-BACKTRACK%|$tmp/kb-backtrack/kb.yaml|" -e "s|%TMP%|$tmp|")
			if ! grep -qF -e "$msg" "$tmp/$stream"; then
				why="std$stream lacks: $msg"
			fi
		fi
		if [ -z "$why" ]; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "FAIL: $name: $why" >&2
			echo "    mlarch $args" >&2
			sed -n '1,6s/^/    stderr: /p' "$tmp/err" >&2
		fi
	done
	# ---- interrupted runs and closed pipes ----

	ok() {
		if [ -z "$2" ]; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "FAIL: $1: $2" >&2
		fi
	}
	# A batch stopped at any moment leaves the old report whole (or the new one, complete)
	# and no temporary file beside it. Each of these scenarios takes some 3000 firings.
	mkdir -p "$tmp/slow" "$tmp/many"
	slow=$(cat "$tmp/kb-slow/scenario.txt")
	i=0
	while [ $i -lt 150 ]; do
		printf '%s\n' "$slow" >"$tmp/slow/s$i.yaml"
		i=$((i + 1))
	done
	for delay in 0.1 0.5 0.9; do
		for jobs in 1 2; do
			printf 'OLD\n' >"$tmp/report.xml"
			"$M" --rules "$tmp/kb-slow" batch -q -j $jobs --junit "$tmp/report.xml" \
				"$tmp/slow" >/dev/null 2>&1 &
			pid=$!
			sleep $delay
			kill -TERM $pid 2>/dev/null
			{ wait $pid; } 2>/dev/null
			why=""
			if ls "$tmp"/report.xml.tmp.* >/dev/null 2>&1; then
				why="a temporary file was left: $(ls "$tmp"/report.xml.tmp.*)"
			elif [ "$(cat "$tmp/report.xml")" != OLD ] &&
			     [ "$(tail -n 1 "$tmp/report.xml")" != "</testsuites>" ]; then
				why="report.xml is half-written: $(tail -c 80 "$tmp/report.xml")"
			fi
			ok "batch -j $jobs --junit stopped after ${delay}s" "$why"
		done
	done
	# more output than a pipe holds
	for f in "$root"/examples/scenarios/*.yaml; do
		text=$(cat "$f")
		base=$(basename "$f" .yaml)
		i=0
		while [ $i -lt 1500 ]; do
			printf '%s\n' "$text" >"$tmp/many/$base-$i.yaml"
			i=$((i + 1))
		done
	done
	# What a closed pipe does to the output: the command stops, says nothing and exits
	# 141 (128 + SIGPIPE), whether or not SIGPIPE was ignored by whoever started it. An
	# output that fits in the pipe may be all written before the reader leaves: then the
	# command ends normally (0). A batch of 6,000 rows never fits.
	for args in "batch -j 1 $tmp/many" "batch -j 2 $tmp/many" "--json batch $tmp/many" \
	            "--tap batch -j 2 $tmp/many" "explain -" "coverage" "--json coverage" \
	            "facts -" "--json facts -" "--json ask -" "why-not A -" "lint" "limits"; do
		for ignore in no yes; do
			rm -f "$tmp/rc"
			# shellcheck disable=SC2086
			if [ $ignore = yes ]; then
				{ ( trap '' PIPE; exec "$M" --rules "$KB" $args <"$Q" 2>"$tmp/err" ); \
				  echo $? >"$tmp/rc"; } | head -c 1 >/dev/null
			else
				{ "$M" --rules "$KB" $args <"$Q" 2>"$tmp/err"; echo $? >"$tmp/rc"; } |
					head -c 1 >/dev/null
			fi
			rc=$(cat "$tmp/rc")
			why=""
			if [ -s "$tmp/err" ]; then
				why="stderr: $(head -n 2 "$tmp/err")"
			fi
			case "$rc.$args" in
			141.*|0.*[!y]) ;;   # only a batch is sure to overflow the pipe
			*) why="${why}exit code $rc, expected 141" ;;
			esac
			ok "$args | head (SIGPIPE ignored: $ignore)" "$why"
		done
	done
	# The same when the reader is gone before mlarch writes a byte: 141 every time. The
	# question comes through a FIFO once the reader has closed its end.
	mkfifo "$tmp/qin"
	for args in "ask -" "--json ask -" "facts -" "--json facts -" "explain -" \
	            "why-not C -" "--json why-not C -"; do
		for ignore in no yes; do
			rm -f "$tmp/rc" "$tmp/closed"
			# shellcheck disable=SC2086
			{ if [ $ignore = yes ]; then trap '' PIPE; fi
			  "$M" --rules "$KB" $args <"$tmp/qin" 2>"$tmp/err"; echo $? >"$tmp/rc"; } |
				{ exec <&-; : >"$tmp/closed"; while [ ! -e "$tmp/rc" ]; do sleep 0.05; done; } &
			while [ ! -e "$tmp/closed" ]; do sleep 0.05; done
			cat "$Q" >"$tmp/qin"
			wait
			rc=$(cat "$tmp/rc")
			why=""
			if [ -s "$tmp/err" ]; then
				why="stderr: $(head -n 2 "$tmp/err")"
			elif [ "$rc" != 141 ]; then
				why="exit code $rc, expected 141"
			fi
			ok "$args into a closed pipe (SIGPIPE ignored: $ignore)" "$why"
		done
	done
	# A batch whose reader left writes no report: the one there stays whole.
	printf 'OLD\n' >"$tmp/report.xml"
	{ "$M" --rules "$KB" batch -j 2 --junit "$tmp/report.xml" "$tmp/many" 2>"$tmp/err"
	  echo $? >"$tmp/rc"; } | head -c 1 >/dev/null
	why=""
	if [ "$(cat "$tmp/rc")" != 141 ] || [ -s "$tmp/err" ]; then
		why="exit code $(cat "$tmp/rc"), stderr: $(head -n 2 "$tmp/err")"
	elif [ "$(cat "$tmp/report.xml")" != OLD ] || ls "$tmp"/report.xml.tmp.* >/dev/null 2>&1; then
		why="the report was touched: $(ls "$tmp")"
	fi
	ok "batch --junit | head leaves the report" "$why"
	# Standard output that cannot be written for another reason is an error, said.
	if [ -w /dev/full ]; then
		"$M" --rules "$KB" facts - <"$Q" >/dev/full 2>"$tmp/err"
		rc=$?
		why=""
		if [ $rc -ne 3 ] || ! grep -q "cannot write standard output: No space left" "$tmp/err"; then
			why="exit code $rc, stderr: $(head -n 2 "$tmp/err")"
		fi
		ok "facts >/dev/full" "$why"
	fi

	# ---- a limit stops a command before any output file is written ----

	for case in "3|--limit question-bytes=100 explain -o $tmp/proof.txt -" \
	            "5|--limit firings=1 --rules $tmp/kb-loop explain -o $tmp/proof.txt -" \
	            "4|--limit yaml-nodes=30 explain -o $tmp/proof.txt -" \
	            "4|--limit yaml-depth=2 batch --junit $tmp/proof.txt $root/examples/scenarios" \
	            "1|--rules $tmp/kb-backtrack --limit yaml-bytes=800 batch --junit $tmp/report.xml $tmp/backtrack.yaml" \
	            "1|--rules $tmp/kb-backtrack --limit regex-match=10 batch -j 2 --junit $tmp/report.xml $tmp/backtrack.yaml"; do
		want=${case%%|*}
		args=${case#*|}
		printf 'OLD\n' >"$tmp/proof.txt"
		printf 'OLD\n' >"$tmp/report.xml"
		# shellcheck disable=SC2086
		"$M" --rules "$KB" $args <"$Q" >/dev/null 2>"$tmp/err"
		rc=$?
		why=""
		if [ $rc -ne "$want" ]; then
			why="exit code $rc, expected $want: $(head -n 2 "$tmp/err")"
		elif ! grep -q -e "--limit" "$tmp/err" "$tmp/report.xml"; then
			why="no --limit named: $(head -n 2 "$tmp/err")"
		elif [ "$(cat "$tmp/proof.txt")" != OLD ] || ls "$tmp"/*.tmp.* >/dev/null 2>&1; then
			why="an output file was touched"
		elif [ "$want" = 1 ] && [ "$(tail -n 1 "$tmp/report.xml")" != "</testsuites>" ]; then
			why="the report is not whole"
		fi
		ok "mlarch $args: no file half-written" "$why"
	done

	# ---- a long question ----

	# 200 KB of stem before the example question, read with a raised question-bytes: it is
	# answered as without the padding (the time it takes is measured by hand, never here).
	awk 'BEGIN { for (i = 0; i < 6000; i++) print "A startup streams clickstream data all day long." }' \
		>"$tmp/big.txt"
	cat "$Q" >>"$tmp/big.txt"
	"$M" --rules "$KB" --limit question-bytes=400K ask "$tmp/big.txt" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	why=""
	if [ $rc -ne 0 ] || [ -s "$tmp/err" ] || ! grep -q "^Answer: B" "$tmp/out"; then
		why="exit code $rc, stdout: $(head -n 1 "$tmp/out"), stderr: $(head -n 2 "$tmp/err")"
	fi
	ok "a 300 KB question with question-bytes raised" "$why"
	"$M" --rules "$KB" --json --limit question-bytes=400K facts - <"$tmp/big.txt" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	why=""
	if [ $rc -ne 0 ] || [ -s "$tmp/err" ] || ! grep -q '"data.arrival"' "$tmp/out"; then
		why="exit code $rc, stderr: $(head -n 2 "$tmp/err")"
	fi
	ok "facts of a 300 KB question" "$why"
	# and just under the default limit, with the whole knowledge base
	head -c 60000 "$tmp/big.txt" >"$tmp/60k.txt"
	cat "$Q" >>"$tmp/60k.txt"
	"$M" ask "$tmp/60k.txt" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	why=""
	if [ $rc -ne 0 ] || [ -s "$tmp/err" ] || ! grep -q "^Answer: B" "$tmp/out"; then
		why="exit code $rc, stdout: $(head -n 1 "$tmp/out"), stderr: $(head -n 2 "$tmp/err")"
	fi
	ok "a 60 KB question with the built-in rules" "$why"

	echo "cli errors: $pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
}
