#!/bin/sh
# SPDX-License-Identifier: MIT
# The commands end to end, on their normal paths: ask, why-not, explain, facts, batch,
# lint, coverage, the interactive prompt (driven through tmux), colour, help, the man page,
# the bash completion and `make install`. It uses the small knowledge base examples/kb and
# questions written here, never the answers of rules/ (which grows under other hands);
# rules/ is only installed. Bad input and error paths are tests/test_cli_errors.sh's.
# Usage: tests/test_cli.sh [MLARCH]   (MAKE and BUILD come from `make cli`)
set -u
cd "$(dirname "$0")/.." || exit 2
root=$PWD
M=${1:-build/mlarch}
case $M in /*) ;; *) M=$root/$M ;; esac
KB=$root/examples/kb
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mlarch-cli.XXXXXX") || exit 2
sock=$tmp/tmux.sock
cleanup() {
	for s in "$tmp"/tmux*.sock; do
		[ -S "$s" ] && tmux -S "$s" kill-server 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
# never the user's compiled cache, also when run by hand rather than by make
export MLARCH_CACHE_DIR="${MLARCH_CACHE_DIR:-$tmp/default-cache}"
trap 'exit 2' INT TERM
esc=$(printf '\033')
pass=0
fail=0
skip=0

# t NAME COMMAND...: one check; on failure, the name and what the command wrote to stderr.
t() {
	name=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $name" >&2
		if [ -s "$tmp/err" ]; then sed -n '1,6s/^/    stderr: /p' "$tmp/err" >&2; fi
	fi
}
skipped() {
	skip=$((skip + 1))
	echo "SKIP: $*" >&2
}

# run COMMAND...: runs mlarch's command line with stdout in $tmp/out, stderr in $tmp/err,
# the exit code in $rc. The stdin is whatever the caller redirects.
run() {
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
rc_is() { [ "$rc" -eq "$1" ]; }
has() { grep -qF -e "$1" "$tmp/out"; }
lacks() { ! has "$1"; }
err_has() { grep -qF -e "$1" "$tmp/err"; }
first_line() { [ "$(head -n 1 "$tmp/out")" = "$1" ]; }
starts() { case $(head -n 1 "$tmp/out") in "$1"*) return 0 ;; esac; return 1; }
no_escapes() { ! grep -q "$esc" "$1"; }
jqt() { jq -e "$1" "$tmp/out" >/dev/null 2>>"$tmp/err"; }
# table < LINES: each line `name :: jq filter`, a check on $tmp/out
table() {
	while IFS= read -r line; do
		case $line in '' | '#'*) continue ;; esac
		t "${line%% :: *}" jqt "${line#* :: }"
	done
}

command -v jq >/dev/null || { echo "test_cli.sh: jq is needed (scripts/deps.sh installs it)" >&2; exit 2; }

# ---- the questions ----
cat >"$tmp/q1.txt" <<'EOF'
A startup streams clickstream data and wants it stored as Parquet without managing
any servers. Which service should ingest the data?
A. Amazon EMR
B. Amazon Kinesis Data Firehose
C. AWS Glue writing RecordIO-protobuf
EOF
cat >"$tmp/q2.txt" <<'EOF'
A startup streams clickstream data and wants it stored as Parquet without managing any
servers. Which services can ingest the data? (Choose two.)
A) Amazon EMR
B) Amazon Kinesis Data Firehose
C) AWS Glue writing RecordIO-protobuf
D) KDF delivering to Amazon S3
EOF
cat >"$tmp/q3.txt" <<'EOF'
A team trains a model on tabular data. Which algorithm should it use?
A. XGBoost
B. Linear Learner
EOF
cat >"$tmp/q4.txt" <<'EOF'
A startup streams clickstream data and wants it stored as CSV without managing any
servers. Which service should ingest the data?
A. Amazon EMR
B. Amazon Kinesis Data Firehose
EOF
# examples/kb plus a lexicon entry no rule wants: a near miss with an actual value, and
# a note no rule cites
mkdir -p "$tmp/kb2"
cp "$KB/tiny.yaml" "$tmp/kb2/"
cat >"$tmp/kb2/extra.yaml" <<'EOF'
sources:
  - id: de-50
    title: A note no rule of this knowledge base cites
    topic: storage
lexicon:
  - id: to-csv
    match: '\bcsv\b'
    assert: {output.format: csv}
    scope: stem
EOF
# k ARGS...: mlarch on the small knowledge base (kq: the same, quoted for sh -c)
k() { "$M" --rules "$KB" "$@"; }
kq="'$M' --rules '$KB'"

# ---- ask ----
run k ask "$(cat "$tmp/q1.txt")"
cp "$tmp/out" "$tmp/ask-arg.txt"
t "ask ARG: exit 0" rc_is 0
t "ask ARG: Answer: B — first" starts "Answer: B — Firehose can turn"
t "ask ARG: the wrong options with their rules" has "(glue-cannot-write-recordio [de-3])"
t "ask ARG: the words behind a reason" has 'from: "AWS Glue" (C), "RecordIO-protobuf" (C)'
t "ask ARG: the recommendation" has "Amazon Kinesis Data Firehose (ingestion):"
t "ask ARG: not a terminal, no colour" no_escapes "$tmp/out"
run k ask - <"$tmp/q1.txt"
t "ask -: same as ARG" cmp -s "$tmp/out" "$tmp/ask-arg.txt"
run k ask <"$tmp/q1.txt"
t "ask < FILE (no -): same as ARG" cmp -s "$tmp/out" "$tmp/ask-arg.txt"
run k ask "$tmp/q1.txt" </dev/null
t "ask FILE: same as ARG" cmp -s "$tmp/out" "$tmp/ask-arg.txt"
run k <"$tmp/q1.txt"
t "no command, stdin not a terminal: ask" cmp -s "$tmp/out" "$tmp/ask-arg.txt"
run "$M" ask --rules "$KB" - <"$tmp/q1.txt"
t "options after the command" cmp -s "$tmp/out" "$tmp/ask-arg.txt"
run env MLARCH_RULES="$KB" "$M" ask - <"$tmp/q1.txt"
t "MLARCH_RULES picks the knowledge base" cmp -s "$tmp/out" "$tmp/ask-arg.txt"
# one span that gave a rule several facts (a pattern's four captures) is quoted once
run "$M" --rules rules ask scenarios/para16/b-26-quicksight-cost.yaml
t "ask: a span behind several facts is quoted once" \
	test "$(grep -m1 -F 'from: "50 branch managers' "$tmp/out" | grep -o '"50 branch' | wc -l)" -eq 1

run k ask --json - <"$tmp/q1.txt"
t "ask --json: exit 0" rc_is 0
table <<'EOF'
ask --json: one JSON object :: type == "object"
ask --json: answer is ["B"] :: .answer == ["B"]
ask --json: abstained is false :: .abstained == false
ask --json: recommend entries {service, role, rule, because, cite} :: (.recommend | type == "array" and length > 0) and all(.recommend[]; (.service | type == "string") and has("role") and (.rule | type == "string") and (.because | type == "string") and (.cite | type == "array"))
ask --json: recommends firehose for ingestion :: .recommend[0] | .service == "kinesis-data-firehose" and .role == "ingestion" and .rule == "firehose-for-streaming-columnar" and .cite == ["de-8"]
ask --json: options {letter, text, verdict, score, reasons} :: (.options | length == 3) and all(.options[]; (.letter | type == "string") and (.text | type == "string") and (.verdict | IN("correct", "wrong", "undecided")) and (.score | type == "number") and (.reasons | type == "array"))
ask --json: reasons {kind, rule, because, cite, spans} :: all(.options[].reasons[]; (.kind | type == "string") and (.rule | type == "string") and (.because | type == "string") and (.cite | type == "array") and (.spans | type == "array"))
ask --json: letters and verdicts :: [.options[] | .letter + "=" + .verdict] == ["A=wrong", "B=correct", "C=wrong"]
ask --json: C ruled out by glue-cannot-write-recordio :: .options[2].reasons[0] | .kind == "reject" and .rule == "glue-cannot-write-recordio" and .cite == ["de-3"] and .weight < 0
ask --json: spans carry the words, where and the pattern :: [.options[2].reasons[0].spans[] | .text + "/" + .in + "/" + .pattern] == ["AWS Glue/C/glue-etl", "RecordIO-protobuf/C/recordio-protobuf"]
ask --json: A's reason traces to the stem :: [.options[0].reasons[0].spans[].in] | index("stem") != null
ask --json: scores :: [.options[].score] == [-1, 1, -2]
EOF
# span offsets point into the question as given (plain ASCII here)
start=$(jq '.options[0].reasons[0].spans[] | select(.in == "stem") | .start' "$tmp/out")
end=$(jq '.options[0].reasons[0].spans[] | select(.in == "stem") | .end' "$tmp/out")
words=$(head -c "$end" "$tmp/q1.txt" | tail -c "$((end - start))" | tr '\n' ' ')
t "ask --json: span offsets are byte offsets in the question" [ "$words" = "without managing any servers" ]

run k ask - <"$tmp/q2.txt"
t "choose two: Answer: B, D" starts "Answer: B, D — "
run k ask --json - <"$tmp/q2.txt"
t "choose two --json: answer [B, D]" jqt '.answer == ["B", "D"] and .choose == 2'

# the letters asked for are a fact rules can read: (scenario question.choose N)
mkdir -p "$tmp/kb3"
cp "$KB/tiny.yaml" "$tmp/kb3/"
cat >"$tmp/kb3/choose.yaml" <<'EOF'
sources:
  - id: de-50
    title: A note for the test
    topic: storage
rules:
  - id: two-letters-asked
    when:
      - question.choose: {as: ?n, ">": 1}
    then:
      - recommend: amazon-emr
    because: The question asks for {?n} letters.
    cite: [de-50]
EOF
run "$M" --rules "$tmp/kb3" lint
t "question.choose: lint knows the fact" rc_is 0
run "$M" --rules "$tmp/kb3" ask - <"$tmp/q2.txt"
t "question.choose: read in a choose-two question" has "+ supports: The question asks for 2 letters. (two-letters-asked"
run "$M" --rules "$tmp/kb3" ask - <"$tmp/q1.txt"
t "question.choose: 1 when one letter is asked" lacks "two-letters-asked"

# choose two with the project's rules: Pipe mode over Parquet `require`s a conversion, which
# the other chosen letter brings (shown, weight 0); when no chosen letter brings it, said so
cat >"$tmp/q5.txt" <<'EOF'
A team trains the SageMaker built-in PCA algorithm on 20 TB of features kept as Apache
Parquet, more than a training volume can hold. Which steps should it take? (Choose two.)
A. Convert the features to RecordIO-protobuf.
B. Train in Pipe input mode.
C. Attach a bigger EBS volume and stay in File mode.
EOF
cat >"$tmp/q6.txt" <<'EOF'
A team trains the SageMaker built-in PCA algorithm on 20 TB of features kept as Apache
Parquet, more than a training volume can hold, and the jobs wait long before they start.
Which steps should it take? (Choose two.)
A. Train in Pipe input mode.
B. Attach a bigger EBS volume and stay in File mode.
C. Convert the features to XLSX files.
D. Stream the training data from Amazon S3 instead of copying it first.
EOF
run "$M" --rules "$root/rules" ask - <"$tmp/q5.txt"
t "choose two, require met: Answer: A, B" starts "Answer: A, B — "
t "choose two, require met: B's need brought by A" has "= needs, which A brings: "
t "choose two, require met: no unmet need" lacks "no other chosen option brings"
run "$M" --rules "$root/rules" ask --json - <"$tmp/q5.txt"
t "choose two, require met --json: effect needs, met_by A, weight 0" \
	jqt '[.options[1].reasons[] | select(.effect == "needs")] | length > 0 and
	     all(.kind == "require" and .met_by == "A" and .weight == 0)'
t "choose two, require met --json: A and C carry no need" \
	jqt '[.options[0, 2].reasons[] | select(.effect == "needs")] | length == 0'
run "$M" --rules "$root/rules" ask - <"$tmp/q6.txt"
t "choose two, require unmet: said" has "! needs, which no other chosen option brings: "
run "$M" --rules "$root/rules" ask --json - <"$tmp/q6.txt"
t "choose two, require unmet --json: met_by null" \
	jqt '[.options[].reasons[] | select(.effect == "needs")] | length > 0 and all(.met_by == null)'

run k ask - <"$tmp/q3.txt"
t "abstain: exit 0" rc_is 0
t "abstain: Answer: none" starts "Answer: none — "
t "abstain: says the notes do not decide" has "the notes do not decide this"
t "abstain: options undecided" has "undecided (score +0)"
run k explain - <"$tmp/q3.txt"
t "abstain: explain says there is nothing to prove" has "(no rule bears on any option: there is nothing to prove)"
run k ask --json - <"$tmp/q3.txt"
t "abstain --json: abstained, empty answer" jqt '.abstained == true and .answer == [] and (.note | length > 0)'
t "abstain --json: every option undecided" jqt 'all(.options[]; .verdict == "undecided")'

# ---- why-not ----
run k why-not C - <"$tmp/q1.txt"
t "why-not C: exit 0" rc_is 0
t "why-not C: the option" first_line "C. AWS Glue writing RecordIO-protobuf"
t "why-not C: the rule and the note" has "(glue-cannot-write-recordio [de-3])"
t "why-not C: because" has "- rules out: A Glue job has no RecordIO-protobuf writer"
t "why-not C: the words" has 'from: "AWS Glue" (C), "RecordIO-protobuf" (C)'
cp "$tmp/out" "$tmp/whynot-C.txt"
run k why-not c "$tmp/q1.txt"
t "why-not c (lower case, question file)" cmp -s "$tmp/out" "$tmp/whynot-C.txt"
run k why-not B - <"$tmp/q1.txt"
t "why-not the answer: nothing rules it out" has "No rule of the notes rules out B here."
run k why-not amazon-emr - <"$tmp/q1.txt"
t "why-not ENTITY: exit 0" rc_is 0
t "why-not ENTITY: name, id, the option naming it" starts "Amazon EMR (amazon-emr), named by option A"
t "why-not ENTITY: the rule against it" has "(no-clusters-when-serverless [de-8])"
t "why-not ENTITY: the words" has 'from: "without managing any servers"'
run k why-not "Amazon EMR" - <"$tmp/q1.txt"
t "why-not by entity name" has "(no-clusters-when-serverless [de-8])"
run k why-not --json amazon-emr - <"$tmp/q1.txt"
t "why-not ENTITY --json" jqt '.entity.id == "amazon-emr" and .option == null and .named_by == ["A"] and .against[0].rule == "no-clusters-when-serverless" and .against[0].spans[0].text == "without managing\nany servers"'
run k why-not --json C - <"$tmp/q1.txt"
t "why-not C --json" jqt '.what == "C" and .option.verdict == "wrong" and .against[0].rule == "glue-cannot-write-recordio" and .against[0].cite == ["de-3"] and (.against[0].spans | length) == 2 and .near_misses == []'
run "$M" --rules "$tmp/kb2" why-not B - <"$tmp/q4.txt"
t "near miss: the rule and where it is" has "firehose-for-streaming-columnar ($tmp/kb2/tiny.yaml:"
t "near miss: expected and actual" has 'it needs `output.format: {in: [parquet, orc]}`, but the question gives `csv`'
run "$M" --rules "$tmp/kb2" why-not --json kinesis-data-firehose - <"$tmp/q4.txt"
t "near miss --json: expected, actual" jqt '.near_misses[0] | .rule == "firehose-for-streaming-columnar" and .expected == "output.format: {in: [parquet, orc]}" and .actual == "csv" and .matched == 1 and .conditions == 3 and .cite == ["de-8"]'

# ---- explain ----
run k explain - <"$tmp/q1.txt"
t "explain: exit 0" rc_is 0
t "explain: the answer first" starts "Answer: B — "
t "explain: the proof" has "Proof (question words -> facts -> rules -> conclusions):"
t "explain: conclusion with rule and note" has "- reject option C by rule glue-cannot-write-recordio [de-3]"
t "explain: fact from the words" has '- fact (scenario data.arrival streaming) from "clickstream" (stem, streaming)'
t "explain: fact from an option" has '- fact (option uses amazon-emr) from "Amazon EMR" (option A, amazon-emr)'
t "explain: background fact" has "- fact (amazon-emr serverless false)"
run k explain --dot - <"$tmp/q1.txt"
cp "$tmp/out" "$tmp/proof-stdout.dot"
t "explain --dot: a digraph" first_line "digraph mlarch {"
t "explain --dot: the answer node" has 'answer [shape=doublecircle label="answer: B"];'
t "explain --dot: a rule node" has 'label="reject option C\n(rule glue-cannot-write-recordio)"'
t "explain --dot: closed" [ "$(tail -n 1 "$tmp/out")" = "}" ]
if command -v dot >/dev/null; then
	t "explain --dot: Graphviz reads it" sh -c 'dot -Tsvg "$1" >"$2" 2>&1 && grep -q "<svg" "$2"' sh "$tmp/out" "$tmp/proof.svg"
else
	skipped "explain --dot with Graphviz: dot is not installed"
fi
mkdir -p "$tmp/dot"
echo "old" >"$tmp/dot/proof.dot"
run k explain --dot -o "$tmp/dot/proof.dot" - <"$tmp/q1.txt"
t "explain -o: exit 0, nothing on stdout" sh -c '[ "$1" -eq 0 ] && [ ! -s "$2" ]' sh "$rc" "$tmp/out"
t "explain -o: replaces the file with the graph" cmp -s "$tmp/dot/proof.dot" "$tmp/proof-stdout.dot"
t "explain -o: no temporary file left" [ "$(ls "$tmp/dot")" = "proof.dot" ]
run k explain -o "$tmp/no-such-dir/proof.txt" - <"$tmp/q1.txt"
t "explain -o into a missing folder: fails, says where" sh -c '[ "$1" -ne 0 ] && grep -q "no-such-dir" "$2"' sh "$rc" "$tmp/err"
script_ok=false
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then script_ok=true; fi
if $script_ok; then
	script -qec "$kq explain -o '$tmp/dot/proof.txt' '$tmp/q1.txt'" /dev/null >/dev/null 2>&1
	t "explain -o on a terminal: the file has no colour" sh -c 'grep -q "^Proof" "$1" && ! grep -q "$2" "$1"' sh "$tmp/dot/proof.txt" "$esc"
fi

# ---- facts ----
run k facts - <"$tmp/q1.txt"
t "facts: exit 0" rc_is 0
t "facts: stem fact with words, pattern, bytes" has '    data.arrival = streaming  "clickstream"  (lexicon streaming, bytes 18-29)'
t "facts: option fact" has '    uses = amazon-emr  "Amazon EMR"  (catalog amazon-emr, bytes 137-147)'
t "facts: one answer asked" has "choose: 1"
run k facts --json - <"$tmp/q1.txt"
table <<'EOF'
facts --json: stem facts with spans and patterns :: all(.stem[]; has("attribute") and has("value") and has("source") and has("pattern") and has("start") and has("end") and has("text"))
facts --json: the stem's facts :: [.stem[] | .attribute + "=" + (.value | tostring) + "/" + .pattern] == ["data.arrival=streaming/streaming", "output.format=parquet/to-parquet", "ops.manage_servers=false/no-servers"]
facts --json: options by letter :: (.options | keys) == ["A", "B", "C"]
facts --json: offsets in the whole question :: .options.A[0] | .start == 137 and .end == 147 and .text == "Amazon EMR" and .source == "catalog"
EOF
run k facts - <"$tmp/q2.txt"
t "facts: choose two" has "choose: 2"
# a table in the stem is read row by row; an option naming a row's label uses what the row
# names, with the row's words as its span
cat >"$tmp/q6.txt" <<'EOF'
A team keeps two jobs:
    job        engine
    nightly    Amazon EMR
    hourly     AWS Glue
Which job runs on clusters?
A. nightly
B. hourly
EOF
run k facts - <"$tmp/q6.txt"
t "facts: a table row read as a line" has '    mentions = amazon-emr  "Amazon EMR"  (catalog amazon-emr, bytes 45-55)'
run k facts --json - <"$tmp/q6.txt"
table <<'EOF'
facts --json: an option naming a table row uses the row's entities :: .options.A == [{"attribute": "uses", "value": "amazon-emr", "source": "catalog", "pattern": "amazon-emr", "start": 45, "end": 55, "text": "Amazon EMR", "negated": false}]
facts --json: the other row's :: [.options.B[] | .value] == ["glue-etl"]
EOF
# a number set after an entity's name, as configuration writes it: a fact about the entity
printf 'The job sets Amazon EMR: 4 today. Which service?\nA. AWS Glue=2\nB. Amazon S3\n' >"$tmp/q7.txt"
run k facts - <"$tmp/q7.txt"
t "facts: a setting in the stem" has '    amazon-emr setting.current = 4  "Amazon EMR: 4"  (catalog amazon-emr, bytes 13-26)'
run k facts --json - <"$tmp/q7.txt"
table <<'EOF'
facts --json: a setting names its subject :: .stem[0] | .subject == "amazon-emr" and .attribute == "setting.current" and .value == 4
facts --json: an option's setting :: .options.A[0] | .subject == "glue-etl" and .attribute == "setting.proposed" and .value == 2 and .text == "AWS Glue=2"
facts --json: other facts have no subject :: [.stem[], .options.A[] | select(.attribute | startswith("setting.") | not) | has("subject")] | all(. == false)
EOF
# a need the stem denies: not read, and shown with the cue that denied it
mkdir -p "$tmp/kb3"
cp "$KB/tiny.yaml" "$tmp/kb3/"
cat >"$tmp/kb3/denial.yaml" <<'EOF'
lexicon:
  - id: need-denied
    match: '\bdoes\s+not\s+need\b'
    scope: stem
    negates: need
    drops: [data.arrival]
EOF
printf 'A startup does not need clickstream data. Which service?\nA. Amazon EMR\nB. Amazon S3\n' >"$tmp/q5.txt"
run "$M" --rules "$tmp/kb3" facts - <"$tmp/q5.txt"
t "facts: a denied need not read" has '    not read: data.arrival = streaming  "clickstream"  (lexicon streaming, bytes 24-35): its clause denies the need, "does not need" (lexicon need-denied, bytes 10-23)'
t "facts: the denied need is no fact" lacks '    data.arrival = streaming  "clickstream"'
run "$M" --rules "$tmp/kb3" facts --json - <"$tmp/q5.txt"
table <<'EOF'
facts --json: no stem fact from the denied clause :: .stem == []
facts --json: the denied need with its cue :: .stem_denied == [{"attribute": "data.arrival", "value": "streaming", "pattern": "streaming", "start": 24, "end": 35, "text": "clickstream", "denied_by": {"pattern": "need-denied", "start": 10, "end": 23, "text": "does not need"}}]
EOF

# ---- batch ----
run k batch examples/scenarios
t "batch: exit 0" rc_is 0
t "batch: one line per scenario" has "ok   tiny-firehose"
t "batch: closing line" [ "$(tail -n 1 "$tmp/out")" = "3 passed, 0 failed" ]
mkdir -p "$tmp/sc/more"
cp examples/scenarios/*.yaml "$tmp/sc/"
cat >"$tmp/sc/more/wrong.yaml" <<'EOF'
id: tiny-wrong
question: |
  A startup streams clickstream data and wants it stored as Parquet without managing
  any servers. Which service should ingest the data?
  A. Amazon EMR
  B. Amazon Kinesis Data Firehose
expect:
  answer: [A]
cite: [de-8]
EOF
run k batch "$tmp/sc"
cp "$tmp/out" "$tmp/batch-j1.txt"
cp "$tmp/err" "$tmp/batch-j1.err"
t "batch failing: exit 1" rc_is 1
t "batch failing: the failure, the file, why" has "FAIL tiny-wrong ($tmp/sc/more/wrong.yaml): expected A, got B"
t "batch failing: closing line" [ "$(tail -n 1 "$tmp/out")" = "3 passed, 1 failed" ]
run k batch -q "$tmp/sc"
t "batch -q: failures and the closing line only" [ "$(wc -l <"$tmp/out")" -eq 2 ]
run k batch -j 2 "$tmp/sc"
t "batch -j 2: exit 1" rc_is 1
t "batch -j 2: same lines, same order as -j 1" cmp -s "$tmp/out" "$tmp/batch-j1.txt"
run k batch -j 4 examples/scenarios "$tmp/sc" examples/scenarios/firehose.yaml
cp "$tmp/out" "$tmp/batch-j4.txt"
run k batch examples/scenarios "$tmp/sc" examples/scenarios/firehose.yaml
t "batch -j 4 over more files than workers: as -j 1" cmp -s "$tmp/out" "$tmp/batch-j4.txt"
run k batch --json "$tmp/sc"
cp "$tmp/out" "$tmp/batch-j1.json"
t "batch --json: exit 1" rc_is 1
table <<'EOF'
batch --json: counts :: .passed == 3 and .failed == 1
batch --json: a row per scenario :: (.scenarios | length) == 4 and all(.scenarios[]; (.id | type == "string") and (.file | type == "string") and (.pass | type == "boolean") and has("expected") and has("got") and has("message") and (.ms | type == "number") and (.blind | type == "boolean"))
batch --json: the failure :: .scenarios[] | select(.id == "tiny-wrong") | .pass == false and .expected == "A" and .got == "B" and (.message | contains("expected A"))
EOF
run k batch --json -j 2 "$tmp/sc"
jq 'del(.scenarios[].ms)' "$tmp/batch-j1.json" >"$tmp/a.json"
jq 'del(.scenarios[].ms)' "$tmp/out" >"$tmp/b.json"
t "batch --json -j 2: same as -j 1" cmp -s "$tmp/a.json" "$tmp/b.json"
run k batch --tap "$tmp/sc"
t "batch --tap: exit 1" rc_is 1
t "batch --tap: TAP shape (plan, numbered ok/not ok, comments)" awk '
	NR == 1 { if ($0 !~ /^1\.\.[0-9]+$/) bad = 1; plan = substr($0, 4) + 0; next }
	/^(not )?ok [0-9]+( - .*)?$/ { n++; if ((($1 == "not") ? $3 : $2) + 0 != n) bad = 1; next }
	/^#/ { next }
	{ bad = 1 }
	END { exit bad || n != plan || n == 0 }' "$tmp/out"
t "batch --tap: the failing one, and why" sh -c 'grep -qx "not ok 3 - tiny-wrong" "$1" && grep -q "^# .*wrong.yaml: expected A, got B" "$1"' sh "$tmp/out"
t "batch --tap: closing comment" [ "$(tail -n 1 "$tmp/out")" = "# 3 passed, 1 failed" ]
run k batch --tap -j 2 "$tmp/sc"
cp "$tmp/out" "$tmp/tap-j2.txt"
run k batch --tap "$tmp/sc"
t "batch --tap -j 2: as -j 1" cmp -s "$tmp/out" "$tmp/tap-j2.txt"
run k batch --junit "$tmp/report.xml" -j 2 "$tmp/sc"
t "batch --junit: exit 1, text on stdout still" sh -c '[ "$1" -eq 1 ] && grep -q "3 passed, 1 failed" "$2"' sh "$rc" "$tmp/out"
if command -v xmllint >/dev/null; then
	t "batch --junit: well-formed XML (xmllint)" xmllint --noout "$tmp/report.xml"
elif command -v python3 >/dev/null; then
	t "batch --junit: well-formed XML (python3)" python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$tmp/report.xml"
else
	skipped "batch --junit well-formedness: neither xmllint nor python3"
fi
t "batch --junit: counts" grep -q '<testsuite name="mlarch" tests="4" failures="1" errors="0"' "$tmp/report.xml"
t "batch --junit: the failure" grep -q '<failure message="expected A, got B' "$tmp/report.xml"
t "batch --junit: no temporary file left" sh -c 'for f in "$1"/report.xml.tmp*; do [ ! -e "$f" ] || exit 1; done' sh "$tmp"
# a scenario file that does not load: its diagnostics in the same place with workers
printf 'id: tiny-broken\nquestion: [unclosed\n' >"$tmp/sc/more/broken.yaml"
run k batch "$tmp/sc"
cp "$tmp/out" "$tmp/broken-j1.txt"
cp "$tmp/err" "$tmp/broken-j1.err"
t "batch, broken file: counted as failed" [ "$(tail -n 1 "$tmp/out")" = "3 passed, 2 failed" ]
t "batch, broken file: where" grep -q "broken.yaml:[0-9]*:[0-9]*: error" "$tmp/err"
run k batch -j 3 "$tmp/sc"
t "batch -j 3, broken file: same stdout and stderr" sh -c 'cmp -s "$1" "$2" && cmp -s "$3" "$4"' sh \
	"$tmp/out" "$tmp/broken-j1.txt" "$tmp/err" "$tmp/broken-j1.err"
rm "$tmp/sc/more/broken.yaml"

# ---- lint ----
run "$M" lint "$KB"
t "lint examples/kb: exit 0" rc_is 0
t "lint examples/kb: the summary" has "examples/kb: 4 rules, 4 catalog entities, 7 lexicon entries, 3 notes: 0 errors, 0 warnings"
run k lint
t "--rules DIR lint: exit 0" rc_is 0
mkdir -p "$tmp/bad"
sed 's/^    cite: \[de-3\]$/    cite: [de-99]/' "$KB/tiny.yaml" >"$tmp/bad/tiny.yaml"
line=$(grep -n 'cite: \[de-99\]' "$tmp/bad/tiny.yaml" | cut -d: -f1)
run "$M" lint "$tmp/bad"
t "lint broken: exit non-zero" sh -c '[ "$1" -ne 0 ]' sh "$rc"
t "lint broken: file:line:col" err_has "$tmp/bad/tiny.yaml:$line:12: error: unknown note id \`de-99\`"
t "lint broken: the line" grep -qE "^ *$line \| +cite: \[de-99\]$" "$tmp/err"
t "lint broken: a caret under the bad text" grep -qE '^ +\| {12}\^~~~~$' "$tmp/err"
run "$M" lint "$KB" "$tmp/bad"
t "lint two folders: fails when one does" sh -c '[ "$1" -ne 0 ] && grep -q "0 errors" "$2"' sh "$rc" "$tmp/out"

# ---- coverage ----
run k coverage
t "coverage: exit 0" rc_is 0
t "coverage: by topic" has "ingestion: 2 of 2 notes cited"
t "coverage: note and rules" has "2 rules: firehose-for-streaming-columnar, no-clusters-when-serverless"
t "coverage: closing count" [ "$(tail -n 1 "$tmp/out")" = "3 of 3 notes cited by rules; 0 uncited" ]
run k coverage --json
t "coverage --json: cited and uncited arrays" jqt '(.cited | type == "array" and length == 3) and .uncited == []'
t "coverage --json: rules per note" jqt '(.cited[] | select(.id == "de-8") | .rules) == ["firehose-for-streaming-columnar", "no-clusters-when-serverless"]'
run "$M" --rules "$tmp/kb2" coverage --json
t "coverage --json: an uncited note" jqt '[.uncited[].id] == ["de-50"] and .uncited[0].topic == "storage"'
run "$M" --rules "$tmp/kb2" coverage
t "coverage: an uncited note" grep -qE "^  de-50 +uncited" "$tmp/out"

# ---- help, version, usage ----
run "$M" --help
t "--help: exit 0" rc_is 0
t "--help: usage" starts "usage: mlarch [OPTIONS] COMMAND [ARGS]"
for w in ask why-not explain facts batch lint coverage limits --rules --json --no-color --limit \
	firings question-bytes regex-match regex-depth yaml-bytes yaml-depth yaml-aliases yaml-nodes 141 --max-firings \
	--max-facts --tap --junit --jobs --quiet --dot --output --help --version MLARCH_RULES \
	NO_COLOR MLARCH_NO_JIT "Exit codes"; do
	t "--help mentions $w" has "$w"
done
run "$M" -h
t "-h: as --help" has "usage: mlarch"
run "$M" batch --help
t "COMMAND --help" has "usage: mlarch"
run "$M" --version
t "--version" sh -c '[ "$1" -eq 0 ] && grep -qE "^mlarch [0-9]+\.[0-9]+\.[0-9]+$" "$2"' sh "$rc" "$tmp/out"
run "$M" -V
t "-V" grep -qE "^mlarch [0-9]" "$tmp/out"
run "$M" frobnicate
t "unknown command: exit 2, says so" sh -c '[ "$1" -eq 2 ] && grep -q "unknown command" "$2"' sh "$rc" "$tmp/err"
run "$M" --frobnicate
t "unknown option: exit 2, says so" sh -c '[ "$1" -eq 2 ] && grep -q "unknown option" "$2"' sh "$rc" "$tmp/err"
run k ask --tap - <"$tmp/q1.txt"
t "an option of another command: exit 2" sh -c '[ "$1" -eq 2 ] && grep -q "option of batch" "$2"' sh "$rc" "$tmp/err"

# ---- colour: only on a terminal, never with --no-color or NO_COLOR ----
if $script_ok; then
	script -qec "env -u NO_COLOR $kq ask '$tmp/q1.txt'" /dev/null >"$tmp/tty.txt" 2>&1
	t "colour on a terminal" grep -q "$esc\[1mAnswer: B" "$tmp/tty.txt"
	script -qec "env -u NO_COLOR $kq --no-color ask '$tmp/q1.txt'" /dev/null >"$tmp/tty.txt" 2>&1
	t "--no-color on a terminal: no escape codes" sh -c 'grep -q "^Answer: B" "$1" && ! grep -q "$2" "$1"' sh "$tmp/tty.txt" "$esc"
	script -qec "env NO_COLOR=1 $kq ask '$tmp/q1.txt'" /dev/null >"$tmp/tty.txt" 2>&1
	t "NO_COLOR on a terminal: no escape codes" sh -c 'grep -q "^Answer: B" "$1" && ! grep -q "$2" "$1"' sh "$tmp/tty.txt" "$esc"
	script -qec "env -u NO_COLOR $kq batch --no-colour examples/scenarios" /dev/null >"$tmp/tty.txt" 2>&1
	t "--no-colour (batch) on a terminal: no escape codes" sh -c 'grep -q "3 passed" "$1" && ! grep -q "$2" "$1"' sh "$tmp/tty.txt" "$esc"
else
	skipped "colour on a terminal: script(1) cannot make a pseudo-terminal here"
fi
env -u NO_COLOR "$M" --rules "$KB" ask "$tmp/q1.txt" >"$tmp/pipe.txt" 2>&1
t "piped: no escape codes" no_escapes "$tmp/pipe.txt"

# ---- the interactive prompt, through tmux ----
# screen: the pane's text, wrapped lines joined; after MARK: only what follows its last line
screen() { tmux -S "$sock" capture-pane -p -J -S -2000 -t repl; }
after() { screen | awk -v m="$1" 'index($0, m) == 1 { buf = ""; on = 1; next } on { buf = buf $0 "\n" } END { printf "%s", buf }'; }
# wait_for MARK TEXT: up to ten seconds for TEXT to show after the last line starting MARK
wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		after "$1" | grep -qF -e "$2" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "    (the pane after \"$1\", lacking \"$2\"):" >&2
	after "$1" | tail -n 12 | sed 's/^/    | /' >&2
	return 1
}
count() { screen | grep -cF -e "$1"; }
keys() { tmux -S "$sock" send-keys -t repl "$@"; }
text() { tmux -S "$sock" send-keys -t repl -l "$1"; }
# libedit is opened by the prompt (dlopen), not loaded by every run
if command -v ldd >/dev/null; then
	t "a run does not load libedit" sh -c "! ldd '$M' | grep -q libedit"
fi
if command -v tmux >/dev/null; then
	: >"$tmp/err"
	tmux -S "$sock" -f /dev/null new-session -d -s repl -x 220 -y 50 \
		"cd '$tmp' && env -u NO_COLOR '$M' --rules '$KB'; echo \"mlarch exited \$?\"; sleep 60"
	t "prompt: banner and prompt" wait_for "mlarch: AWS ML" "mlarch> "
	text "$(cat "$tmp/q1.txt")"
	keys Enter
	t "prompt: continuation lines" wait_for "mlarch> A startup" "... C. AWS Glue writing RecordIO-protobuf"
	keys Enter
	t "prompt: a blank line submits" wait_for "mlarch> A startup" "Answer: B — Firehose can turn"
	tmux -S "$sock" capture-pane -p -e -t repl >"$tmp/pane-e.txt"
	t "prompt: colour on the terminal" grep -q "$esc\[" "$tmp/pane-e.txt"
	text ":why-not C"
	keys Enter
	t "prompt: :why-not C" wait_for "mlarch> :why-not C" "(glue-cannot-write-recordio [de-3])"
	text ":why-not amazon-emr"
	keys Enter
	t "prompt: :why-not ENTITY" wait_for "mlarch> :why-not amazon-emr" "(no-clusters-when-serverless [de-8])"
	text ":explain"
	keys Enter
	t "prompt: :explain" wait_for "mlarch> :explain" "Proof (question words -> facts -> rules -> conclusions):"
	text ":facts"
	keys Enter
	t "prompt: :facts" wait_for "mlarch> :facts" "choose: 1"
	text ":json"
	keys Enter
	t "prompt: :json" wait_for "mlarch> :json" '"abstained": false'
	# line editing: a typo rubbed out; history: the line again with Up
	text ":factz"
	keys BSpace
	text "s"
	keys Enter
	t "prompt: line editing" wait_for "mlarch> :facts" "choose: 1"
	keys Up Enter
	i=0
	while [ "$(count "choose: 1")" -lt 3 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	t "prompt: history (Up repeats :facts)" [ "$(count "choose: 1")" -eq 3 ]
	text ":why-not"
	keys Enter
	t "prompt: :why-not without a letter asks which" wait_for "mlarch> :why-not" "Which option or entity?"
	text "half a question"
	keys Enter
	text "typed"
	# Ctrl-C only once the line is on the screen: sent while the prompt is still busy
	# with the Enter before it, it would find no question being typed (seen under load)
	wait_for "mlarch> half a question" "... typed" >/dev/null 2>&1
	keys C-c
	t "prompt: Ctrl-C drops the question being typed" wait_for "... typed" "(dropped the question being typed)"
	text ":facts"
	keys Enter
	t "prompt: still answering after Ctrl-C" wait_for "(dropped the question" "choose: 1"
	# UTF-8 pasted at the prompt reaches the question whole (the curly apostrophe is one
	# byte once normalised: "clickstream" starts at byte 12, not 11 or 14)
	text "A startup’s clickstream — stored as Parquet, without managing any servers.
A. Amazon EMR
B. Amazon Kinesis Data Firehose"
	keys Enter Enter
	t "prompt: UTF-8 pasted" wait_for "mlarch> A startup’s clickstream — stored" "Answer: B — "
	text ":facts"
	keys Enter
	t "prompt: UTF-8 read whole" wait_for "(dropped the question" '"clickstream"  (lexicon streaming, bytes 12-23)'
	# Ctrl-D with a question typed and not submitted: answered, then the prompt ends
	text "$(cat "$tmp/q2.txt")"
	keys Enter C-d
	t "prompt: Ctrl-D answers what was typed" wait_for "mlarch> A startup" "Answer: B, D — "
	t "prompt: Ctrl-D leaves, exit 0" wait_for "mlarch> A startup" "mlarch exited 0"
	tmux -S "$sock" kill-server 2>/dev/null
	# NO_COLOR at the prompt, on a server of its own: a new session on the socket of a
	# server still shutting down fails with "no server running" on a loaded machine
	sock=$tmp/tmux2.sock
	tmux -S "$sock" -f /dev/null new-session -d -s repl -x 220 -y 50 \
		"cd '$tmp' && env NO_COLOR=1 '$M' --rules '$KB'; echo \"mlarch exited \$?\"; sleep 60"
	wait_for "mlarch: AWS ML" "mlarch> " >/dev/null 2>&1
	text "$(cat "$tmp/q1.txt")"
	keys Enter Enter
	t "prompt, NO_COLOR: answers" wait_for "mlarch> A startup" "Answer: B — "
	tmux -S "$sock" capture-pane -p -e -t repl >"$tmp/pane-e.txt"
	t "prompt, NO_COLOR: no colour" no_escapes "$tmp/pane-e.txt"
	text ":quit"
	keys Enter
	t "prompt: :quit leaves, exit 0" wait_for "mlarch> :quit" "mlarch exited 0"
	tmux -S "$sock" kill-server 2>/dev/null
else
	skipped "the interactive prompt: tmux is not installed"
fi

# ---- man page and bash completion ----
: >"$tmp/err"
for w in ask why-not explain facts batch lint coverage limits --rules --json --no-color --limit \
	firings question-bytes regex-match regex-depth yaml-bytes yaml-depth yaml-aliases yaml-nodes 141 --max-firings \
	--max-facts --tap --junit --jobs --quiet --dot --output --help --version MLARCH_RULES \
	NO_COLOR MLARCH_NO_JIT "EXIT STATUS" FILES EXAMPLES; do
	t "man page mentions $w" grep -qF -e "$(printf '%s' "$w" | sed 's/-/\\-/g')" docs/mlarch.1
done
if command -v groff >/dev/null; then
	t "man page: groff renders it without warnings" sh -c \
		'groff -man -Tutf8 -ww -z "$1" 2>"$2" && [ ! -s "$2" ]' sh docs/mlarch.1 "$tmp/err"
	groff -man -Tutf8 docs/mlarch.1 2>/dev/null | sed 's/.\x08//g' >"$tmp/man.txt"
	t "man page: rendered sections" sh -c 'grep -q "^EXIT STATUS" "$1" && grep -q "^ENVIRONMENT" "$1"' sh "$tmp/man.txt"
elif command -v man >/dev/null; then
	t "man page: man -l renders it" sh -c 'MANPAGER=cat man -l "$1" >/dev/null 2>"$2"' sh docs/mlarch.1 "$tmp/err"
else
	skipped "man page rendering: neither groff nor man is installed"
fi
if command -v bash >/dev/null; then
	# complete WORDS...: what the completion offers for the last word
	complete_words() {
		bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
			COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _mlarch; printf "%s\n" "${COMPREPLY[@]}"' \
			sh docs/mlarch.bash-completion "$@" 2>>"$tmp/err"
	}
	t "completion: registered for mlarch" bash -c '. "$1"; complete -p mlarch | grep -q _mlarch' sh docs/mlarch.bash-completion
	t "completion: commands" [ "$(complete_words mlarch "" | tr '\n' ' ')" = "ask why-not explain facts batch lint coverage limits " ]
	t "completion: a command's start" [ "$(complete_words mlarch --json w)" = "why-not" ]
	t "completion: batch options" [ "$(complete_words mlarch batch --j | sort | tr '\n' ' ')" = "--jobs --json --junit " ]
	t "completion: explain options" [ "$(complete_words mlarch explain --d)" = "--dot" ]
	t "completion: --rules takes a folder" [ "$(cd "$root" && complete_words mlarch --rules examples/k)" = "examples/kb" ]
	t "completion: limit names" [ "$(complete_words mlarch --limit yaml-d)" = "yaml-depth=" ]
	t "completion: a command after --limit NAME=VALUE" [ "$(complete_words mlarch --limit firings = 5 li | tr '\n' ' ')" = "lint limits " ]
	t "completion: why-not letters" [ "$(complete_words mlarch why-not "" | tr '\n' ' ')" = "A B C D E F G H " ]
else
	skipped "bash completion: bash is not installed"
fi

# ---- the compiled cache ----
# a copy of examples/kb to edit, and a cache folder of this run's own
ckb=$tmp/ckb
cdir=$tmp/cache
mkdir -p "$ckb"
cp "$KB/tiny.yaml" "$ckb/"
# c ARGS...: mlarch on the copy with the cache in $cdir
c() { MLARCH_CACHE_DIR="$cdir" "$M" --rules "$ckb" "$@"; }
cfile() { ls "$cdir"/kb-*.bin 2>/dev/null; }
inode() { ls -i "$(cfile)" | cut -d' ' -f1; }
# the reference answers, read from the YAML without any cache
for cmd in "ask --json" facts "why-not A" explain; do
	"$M" --no-cache --rules "$ckb" $cmd "$tmp/q1.txt" >"$tmp/nc-${cmd%% *}.txt" 2>&1
done
run c ask --json "$tmp/q1.txt"
t "cache: a cold run answers as without a cache" cmp -s "$tmp/out" "$tmp/nc-ask.txt"
t "cache: a cold run writes the cache file" [ -s "$(cfile)" ]
first=$(inode)
for cmd in "ask --json" facts "why-not A" explain; do
	run c $cmd "$tmp/q1.txt"
	t "cache: warm $cmd is byte for byte the run without a cache" \
		cmp -s "$tmp/out" "$tmp/nc-${cmd%% *}.txt"
done
t "cache: a warm run leaves the file as it is" [ "$(inode)" = "$first" ]
run c batch -q "$root/examples/scenarios"
t "cache: batch with a warm cache passes" rc_is 0
# an edited rule file: new size, new times; the answer must follow the edit at once
sed 's/Firehose can turn incoming JSON/Firehose can convert incoming JSON/' "$ckb/tiny.yaml" >"$tmp/tiny.new"
cat "$tmp/tiny.new" >"$ckb/tiny.yaml"
run c ask "$tmp/q1.txt"
t "cache: an edited rule file is read again" starts "Answer: B — Firehose can convert incoming JSON"
t "cache: ... and the cache is written anew" [ "$(inode)" != "$first" ]
# the same length, the modification time set back: the change time still tells
touch -r "$tmp/q1.txt" "$ckb/tiny.yaml"
sed 's/Firehose can convert incoming JSON/Firehose can CONVERT incoming JSON/' "$tmp/tiny.new" >"$ckb/tiny.yaml"
touch -r "$tmp/q1.txt" "$ckb/tiny.yaml"
run c ask "$tmp/q1.txt"
t "cache: an edit that keeps size and mtime is read again" starts "Answer: B — Firehose can CONVERT incoming JSON"
cp "$KB/tiny.yaml" "$ckb/tiny.yaml"
# a new rule file in the folder
printf 'rules: []\n' >"$ckb/extra.yaml"
before=$(inode)
run c ask --json "$tmp/q1.txt"
t "cache: a new file in the folder is seen" [ "$(inode)" != "$before" ]
t "cache: ... and changes nothing else" cmp -s "$tmp/out" "$tmp/nc-ask.txt"
rm "$ckb/extra.yaml"
# damaged cache files are ignored and replaced
for how in truncated garbage version empty; do
	f=$(cfile)
	case $how in
	truncated) head -c 1000 "$f" >"$tmp/cut" && cat "$tmp/cut" >"$f" ;;
	garbage) head -c 5000 /dev/urandom >"$f" ;;
	version) printf 'MLARCHKB\377\377\377\377' | dd of="$f" conv=notrunc 2>/dev/null ;;
	empty) : >"$f" ;;
	esac
	before=$(inode)
	run c ask --json "$tmp/q1.txt"
	t "cache: a $how cache file is ignored" cmp -s "$tmp/out" "$tmp/nc-ask.txt"
	t "cache: ... and replaced" sh -c '[ "$1" != "$2" ] && [ "$(wc -c <"$3")" -gt 5000 ]' sh \
		"$(inode)" "$before" "$(cfile)"
done
# nowhere to write
run env MLARCH_CACHE_DIR="$ckb/tiny.yaml/sub" "$M" --rules "$ckb" ask --json "$tmp/q1.txt"
t "cache: an unwritable cache folder is no error" cmp -s "$tmp/out" "$tmp/nc-ask.txt"
t "cache: ... and says nothing" [ ! -s "$tmp/err" ]
if [ "$(id -u)" -ne 0 ]; then
	mkdir -p "$tmp/ro" && chmod 500 "$tmp/ro"
	run env MLARCH_CACHE_DIR="$tmp/ro/mlarch" "$M" --rules "$ckb" ask --json "$tmp/q1.txt"
	t "cache: a read-only cache folder is no error" cmp -s "$tmp/out" "$tmp/nc-ask.txt"
	chmod 700 "$tmp/ro"
fi
# the switches, and where the file goes
rm -rf "$cdir"
run c --no-cache ask "$tmp/q1.txt"
t "cache: --no-cache writes nothing" [ ! -e "$cdir" ]
run env MLARCH_CACHE=0 MLARCH_CACHE_DIR="$cdir" "$M" --rules "$ckb" ask "$tmp/q1.txt"
t "cache: MLARCH_CACHE=0 writes nothing" [ ! -e "$cdir" ]
run env -u MLARCH_CACHE_DIR XDG_CACHE_HOME="$tmp/xdg" "$M" --rules "$ckb" ask "$tmp/q1.txt"
t "cache: in \$XDG_CACHE_HOME/mlarch by default" sh -c 'ls "$1"/xdg/mlarch/kb-*.bin >/dev/null' sh "$tmp"
run env -u MLARCH_CACHE_DIR -u XDG_CACHE_HOME HOME="$tmp/home" "$M" --rules "$ckb" ask "$tmp/q1.txt"
t "cache: else in ~/.cache/mlarch" sh -c 'ls "$1"/home/.cache/mlarch/kb-*.bin >/dev/null' sh "$tmp"
run env -u MLARCH_CACHE_DIR -u XDG_CACHE_HOME -u HOME "$M" --rules "$ckb" ask --json "$tmp/q1.txt"
t "cache: no HOME, no cache, same answer" cmp -s "$tmp/out" "$tmp/nc-ask.txt"
# lint reads the YAML afresh and refreshes the cache
run c lint
t "cache: lint writes the cache" [ -s "$(cfile)" ]
before=$(inode)
run c lint
t "cache: lint parses afresh every time" [ "$(inode)" != "$before" ]
# runs at the same time: each reads a whole file or none
rm -rf "$cdir"
for i in 1 2 3 4; do c ask --json "$tmp/q1.txt" >"$tmp/par$i.txt" 2>&1 & done
wait
t "cache: four cold runs at once agree" sh -c 'for i in 1 2 3 4; do cmp -s "$1/par$i.txt" "$2" || exit 1; done' sh "$tmp" "$tmp/nc-ask.txt"
t "cache: ... and leave one file, no temporaries" [ "$(ls "$cdir" | wc -l)" -eq 1 ]
# writing a cache removes the caches no run has written for 30 days and the temporary files
# a killed writer left a day ago or more; recent ones and other files stay
own=$(cfile)
touch -d '40 days ago' "$cdir/kb-0123456789abcdef.bin" "$cdir/kb-0123456789abcdef.bin.tmp.1.2" \
	"$cdir/notes.txt" "$cdir/kb-0123456789ABCDEF.bin"
: >"$cdir/kb-fedcba9876543210.bin"
touch -d '2 hours ago' "$cdir/kb-1111111111111111.bin.tmp.3.4"
run c ask "$tmp/q1.txt"
t "cache: a warm run removes nothing" [ -e "$cdir/kb-0123456789abcdef.bin" ]
printf 'rules: []\n' >"$ckb/extra.yaml"
run c ask "$tmp/q1.txt"
rm "$ckb/extra.yaml"
t "cache: writing one removes a cache not written for 30 days" [ ! -e "$cdir/kb-0123456789abcdef.bin" ]
t "cache: ... and a temporary file left a day ago" [ ! -e "$cdir/kb-0123456789abcdef.bin.tmp.1.2" ]
t "cache: ... keeps its own, a recent cache and a recent temporary file" sh -c \
	'[ -s "$1" ] && [ -e "$2/kb-fedcba9876543210.bin" ] && [ -e "$2/kb-1111111111111111.bin.tmp.3.4" ]' \
	sh "$own" "$cdir"
t "cache: ... and files not named as caches" sh -c '[ -e "$1/notes.txt" ] && [ -e "$1/kb-0123456789ABCDEF.bin" ]' sh "$cdir"
rm -f "$cdir/kb-fedcba9876543210.bin" "$cdir/kb-1111111111111111.bin.tmp.3.4" "$cdir/notes.txt" \
	"$cdir/kb-0123456789ABCDEF.bin"

# ---- make install ----
if [ -n "${MAKE:-}" ] || command -v make >/dev/null; then
	inst=$tmp/inst
	${MAKE:-make} -s --no-print-directory BUILD="${BUILD:-build}" IBUILD="$tmp/ibuild" install PREFIX="$inst" DESTDIR= \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	t "make install PREFIX: exit 0" rc_is 0
	for f in bin/mlarch share/mlarch/rules/sources.yaml share/man/man1/mlarch.1 \
		share/bash-completion/completions/mlarch; do
		t "make install: $f" [ -s "$inst/$f" ]
	done
	t "make install: the binary is executable" [ -x "$inst/bin/mlarch" ]
	# away from the source tree, the installed binary uses the installed rules
	(cd / && "$inst/bin/mlarch" lint) >"$tmp/out" 2>"$tmp/err"
	t "installed binary finds the installed rules" sh -c 'grep -qF "$1/share/mlarch/rules" "$2" "$3"' sh "$inst" "$tmp/out" "$tmp/err"
	t "installed binary does not look in the source tree" sh -c '! grep -qF "$1/rules" "$2" "$3"' sh "$root" "$tmp/out" "$tmp/err"
	(cd / && "$inst/bin/mlarch" --help) >"$tmp/out" 2>&1
	t "installed --help names the data folder" has "$inst/share/mlarch/rules"
	(cd / && "$inst/bin/mlarch" --rules "$KB" ask "$tmp/q1.txt") >"$tmp/out" 2>"$tmp/err"
	t "installed binary with --rules answers" starts "Answer: B — "
	(cd / && MLARCH_RULES="$KB" "$inst/bin/mlarch" ask "$tmp/q1.txt") >"$tmp/out" 2>"$tmp/err"
	t "installed binary with MLARCH_RULES answers" starts "Answer: B — "
	# by default the installed binary answers with the installed rules: as build/mlarch
	# given them (compared with each other, not with rules/, which others edit as this runs
	# and which may not load at the moment)
	(cd / && "$inst/bin/mlarch" batch "$root/examples/scenarios") >"$tmp/out" 2>/dev/null
	echo "exit $?" >>"$tmp/out"
	"$M" --rules "$inst/share/mlarch/rules" batch "$root/examples/scenarios" >"$tmp/out2" 2>/dev/null
	echo "exit $?" >>"$tmp/out2"
	t "installed binary answers with the installed rules" cmp -s "$tmp/out" "$tmp/out2"
	# a removed rule file does not linger in a reinstall
	touch "$inst/share/mlarch/rules/stale.yaml"
	${MAKE:-make} -s --no-print-directory BUILD="${BUILD:-build}" IBUILD="$tmp/ibuild" install PREFIX="$inst" DESTDIR= \
		>/dev/null 2>"$tmp/err"
	t "make install again: stale rule files removed" [ ! -e "$inst/share/mlarch/rules/stale.yaml" ]
	${MAKE:-make} -s --no-print-directory BUILD="${BUILD:-build}" IBUILD="$tmp/ibuild" install PREFIX=/opt/mlarch-test \
		DESTDIR="$tmp/stage" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	t "make install DESTDIR: staged under DESTDIR" sh -c '[ "$1" -eq 0 ] && [ -x "$2/opt/mlarch-test/bin/mlarch" ] && [ -s "$2/opt/mlarch-test/share/man/man1/mlarch.1" ]' sh "$rc" "$tmp/stage"
	"$tmp/stage/opt/mlarch-test/bin/mlarch" lint >"$tmp/out" 2>&1
	t "make install DESTDIR: the binary knows PREFIX, not DESTDIR" has "/opt/mlarch-test/share/mlarch/rules"
	${MAKE:-make} -s --no-print-directory BUILD="${BUILD:-build}" IBUILD="$tmp/ibuild" uninstall PREFIX="$inst" DESTDIR= \
		>/dev/null 2>"$tmp/err"
	t "make uninstall: removes what install put" sh -c '[ ! -e "$1/bin/mlarch" ] && [ ! -e "$1/share/mlarch" ] && [ ! -e "$1/share/man/man1/mlarch.1" ]' sh "$inst"
else
	skipped "make install: make is not installed"
fi

[ "$skip" -gt 0 ] && echo "cli: $skip checks skipped (tools missing; see SKIP lines)"
echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
