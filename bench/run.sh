#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/run.sh BUILD - mlarch side by side with CLIPS 6.30 (`make bench` builds BUILD with
# -O3 first). Each workload runs on mlarch (bench/driver, the engine through its API) and
# on CLIPS alternately, BENCH_RUNS times each (default 5); the table shows medians of the
# time each engine reports for the measured phase, the peak resident memory of the whole
# process and the ratio mlarch/CLIPS (below 1: mlarch is faster). Writes build/bench.json
# and, with callgrind's instruction counts of the load and batch paths, build/bench-ir.txt.
# The Manners, Waltz and WaltzDB rows need the CLIPS programs of ../shared/bench/clips (never
# copied here): without them those rows are skipped.
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/opt}
RUNS=${BENCH_RUNS:-5}
ROOT=$(pwd)
W=$ROOT/$B/bench/work
SHARED=$ROOT/../shared/bench/clips
DRIVER=$ROOT/$B/bench/driver
GEN=$ROOT/$B/bench/gen
MEASURE=$ROOT/$B/bench/measure
JSON=$ROOT/build/bench.json
IRTXT=$ROOT/build/bench-ir.txt
mkdir -p "$W" "$ROOT/build"
rm -f "$IRTXT"
command -v clips >/dev/null || { echo "bench: clips not found (scripts/deps.sh bench)" >&2; exit 1; }

# ---- workloads ----
"$GEN" select 1000 10 11 "$W/load-1k"
"$GEN" select 10000 10 12 "$W/load-10k"
"$GEN" select 100 100 13 "$W/select-100"
"$GEN" select 1000 1000 14 "$W/select-1k"
"$GEN" select 10000 10000 15 "$W/select-10k"
"$GEN" join 100 10000 16 "$W/join-100"
"$GEN" batch 1000 2000 17 "$W/batch-1k"
printf '(exit)\n' > "$W/empty.bat"

# A CLIPS program from ../shared with a converted facts file for the driver and two
# batch files: X.run.bat (timed) and X.stats.bat (counts firings).
port() {   # port NAME DIR PROGRAM STRATEGY AWK-OPTIONS...
	name=$1 dir=$2 prog=$3 strategy=$4
	shift 4
	awk -f bench/fct2facts.awk "$@" "$SHARED/$dir/$name.fct" > "$W/$name.facts"
	for kind in run stats; do
		{
			printf '(set-strategy %s)\n(load* %s)\n(defglobal ?*t0* = 0)\n' "$strategy" \
				"$SHARED/$dir/$prog"
			[ $kind = stats ] && printf '(watch statistics)\n'
			printf '(bind ?*t0* (time))\n(reset)\n(load-facts %s)\n(run)\n' \
				"$SHARED/$dir/$name.fct"
			printf '(printout t "run_ms " (* 1000 (- (time) ?*t0*)) crlf)\n(exit)\n'
		} > "$W/$name.$kind.bat"
	done
}
PORTS=""
if [ -d "$SHARED" ]; then
	for n in 16 32 64 128; do
		port manners$n manners manners.clp depth -v key=guest=name \
			-v single="context count last_seat"
		PORTS="$PORTS manners$n"
	done
	for n in 12 25 37 50; do
		port waltz$n waltz waltz.clp depth -v prefix=1 -v single=stage
		PORTS="$PORTS waltz$n"
	done
	for n in 4 8 12 16; do
		port waltzdb$n waltzdb waltzdb.clp lex -v prefix=1 -v single=stage
		PORTS="$PORTS waltzdb$n"
	done
else
	echo "bench: $SHARED not found: skipping the manners, waltz and waltzdb rows" >&2
fi

# ---- measuring ----
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
field() { awk -v k="$1" '$1 == k { print $2; exit }'; }

rows="" mfailed="" NOTE="" EXTRA="" ALLOW_FAIL=""
table_line() {
	printf '%-14s %10s %10s %7s %9s %9s  %s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7"
}

# bench_row NAME KEY MLARCH-DIR MLARCH-CMD... -- CLIPS-DIR CLIPS-CMD...
# KEY is the line both engines print with the phase time (load_ms, run_ms, wall_ms).
bench_row() {
	name=$1 key=$2
	shift 2
	mdir=$1
	shift
	mcmd=""
	while [ "$1" != -- ]; do mcmd="$mcmd '$1'"; shift; done
	shift
	cdir=$1
	shift
	ccmd=""
	for a in "$@"; do ccmd="$ccmd '$a'"; done
	: > "$W/m.t"; : > "$W/m.r"; : > "$W/c.t"; : > "$W/c.r"
	i=0
	while [ $i -lt "$RUNS" ]; do
		if ! (cd "$mdir" && eval "\"$MEASURE\" $mcmd") > "$W/out" 2>"$W/err"; then
			if [ -z "${ALLOW_FAIL:-}" ]; then
				echo "bench: $name: mlarch failed:" >&2; cat "$W/err" >&2; exit 1
			fi
			mfailed="mlarch exited non-zero: $(head -c 200 "$W/err" | head -1)"
		fi
		field "$key" < "$W/out" >> "$W/m.t"; field rss_kb < "$W/out" >> "$W/m.r"
		mfired=$(field firings < "$W/out")
		(cd "$cdir" && eval "\"$MEASURE\" $ccmd") > "$W/out" 2>"$W/err" ||
			{ echo "bench: $name: clips failed:" >&2; cat "$W/err" >&2; exit 1; }
		field "$key" < "$W/out" >> "$W/c.t"; field rss_kb < "$W/out" >> "$W/c.r"
		i=$((i + 1))
	done
	mt=$(median < "$W/m.t"); ct=$(median < "$W/c.t")
	mr=$(median < "$W/m.r"); cr=$(median < "$W/c.r")
	ratio=$(awk -v m="$mt" -v c="$ct" 'BEGIN { printf "%.3f", (c > 0 ? m / c : 0) }')
	note=${NOTE:-}${mfailed:+; $mfailed}
	table_line "$name" "$mt" "$ct" "$ratio" "$mr" "$cr" "$note"
	row=$(printf '{"workload": "%s", "mlarch_ms": %s, "clips_ms": %s, "ratio": %s, "mlarch_rss_kb": %s, "clips_rss_kb": %s%s}' \
		"$name" "$mt" "$ct" "$ratio" "$mr" "$cr" "${EXTRA:-}")
	rows="$rows${rows:+,
  }$row"
	NOTE="" EXTRA="" ALLOW_FAIL="" mfailed=""
}

# CLIPS's firing count from a stats batch file (the sum over every run it makes).
clips_firings() { (cd "$1" && clips -f2 "$2") | awk '/rules fired/ { s += $1 } END { print s + 0 }'; }
# The driver's firing count for the same work.
check_firings() {   # check_firings NAME CLIPS-DIR STATS-BAT DRIVER-ARGS...
	name=$1 cdir=$2 bat=$3
	shift 3
	m=$("$DRIVER" "$@" | field firings)
	c=$(clips_firings "$cdir" "$bat")
	if [ "$m" = "$c" ]; then NOTE="firings $m = CLIPS"; else NOTE="firings $m, CLIPS $c (DIFFERENT)"; fi
	EXTRA=", \"mlarch_firings\": $m, \"clips_firings\": $c"
}

# ---- instruction counts (callgrind): comparable across runs, free of timing noise ----
if command -v valgrind >/dev/null; then
	ir() {   # ir PHASE-FUNCTION DRIVER-ARGS...: instructions executed inside that function
		fn=$1
		shift
		valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" --toggle-collect="$fn" \
			"$DRIVER" "$@" >/dev/null 2>&1
		awk '/^(summary|totals):/ { print $2; exit }' "$W/cg.out"
	}
	# the whole `ask` process on the example question: the compiled cache warm, and none
	ask_ir() {
		valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" "$@" >/dev/null 2>&1
		awk '/^(summary|totals):/ { print $2; exit }' "$W/cg.out"
	}
	MLARCH_CACHE_DIR="$W/cache" "$ROOT/$B/mlarch" ask examples/question.txt >/dev/null 2>&1 || true
	ask_warm_ir=$(MLARCH_CACHE_DIR="$W/cache" ask_ir "$ROOT/$B/mlarch" ask examples/question.txt)
	ask_cold_ir=$(ask_ir "$ROOT/$B/mlarch" --no-cache ask examples/question.txt)
	load_ir=$(ir "phase_load*" -n "$W/load-10k.yaml")
	batch_ir=$(ir "phase_run*" -b "$W/batch-1k.yaml" "$W/batch-1k.facts")
	{
		echo "callgrind instructions (Ir) of bench/driver, $(date -u +%Y-%m-%d)"
		printf 'load-10k  phase_load  %s Ir  (%s per rule)\n' "$load_ir" $((load_ir / 10000))
		printf 'batch-1k  phase_run   %s Ir  (%s per scenario of 20 facts)\n' "$batch_ir" $((batch_ir / 2000))
		printf 'startup   mlarch ask  %s Ir with the compiled cache, %s Ir without\n' "$ask_warm_ir" "$ask_cold_ir"
	} > "$IRTXT"
fi

echo "mlarch vs CLIPS $(dpkg-query -W -f='${Version}' clips 2>/dev/null || echo '?'): medians of $RUNS runs; ms of the measured phase, peak RSS of the process"
table_line workload mlarch_ms clips_ms ratio mlarch_kb clips_kb ""

# start-up: the whole process, mlarch answering the example question with the full
# knowledge base, CLIPS starting and exiting; a bare process (`true`) for reference.
# `startup` is the usual run, with the compiled cache of the rules made by an earlier run
# (in the work folder, not the user's); `startup-cold` reads the YAML and compiles the
# patterns as every run did before the cache (--no-cache).
export MLARCH_CACHE_DIR="$W/cache"
"$ROOT/$B/mlarch" ask examples/question.txt >/dev/null 2>&1 || true
bare=$(i=0; while [ $i -lt "$RUNS" ]; do "$MEASURE" true | field wall_ms; i=$((i + 1)); done | median)
NOTE="bare process (true) $bare ms"
EXTRA=", \"bare_ms\": $bare"
ALLOW_FAIL=1   # a knowledge base that does not load is still timed; the note says so
bench_row startup wall_ms "$ROOT" -i examples/question.txt "$ROOT/$B/mlarch" ask - -- "$W" clips -f2 empty.bat
NOTE="no compiled cache"
EXTRA=", \"bare_ms\": $bare"
ALLOW_FAIL=1
bench_row startup-cold wall_ms "$ROOT" -i examples/question.txt "$ROOT/$B/mlarch" --no-cache ask - -- "$W" clips -f2 empty.bat
for n in 1k 10k; do
	[ $n = 10k ] && [ -n "${load_ir:-}" ] && EXTRA=", \"mlarch_ir\": $load_ir"
	bench_row load-$n load_ms "$W" "$DRIVER" -n load-$n.yaml -- "$W" clips -f2 load-$n.load.bat
done
for n in 100 1k 10k; do
	check_firings select-$n "$W" select-$n.stats.bat "$W/select-$n.yaml" "$W/select-$n.facts"
	bench_row select-$n run_ms "$W" "$DRIVER" select-$n.yaml select-$n.facts -- "$W" clips -f2 select-$n.run.bat
done
check_firings join-100 "$W" join-100.stats.bat "$W/join-100.yaml" "$W/join-100.facts"
bench_row join-100 run_ms "$W" "$DRIVER" join-100.yaml join-100.facts -- "$W" clips -f2 join-100.run.bat
check_firings batch-1k "$W" batch-1k.stats.bat -b "$W/batch-1k.yaml" "$W/batch-1k.facts"
[ -n "${batch_ir:-}" ] && EXTRA="$EXTRA, \"mlarch_ir\": $batch_ir"
bench_row batch-1k run_ms "$W" "$DRIVER" -b batch-1k.yaml batch-1k.facts -- "$W" clips -f2 batch-1k.run.bat
for p in $PORTS; do
	check_firings "$p" "$W" "$p.stats.bat" "$ROOT/bench/${p%%[0-9]*}.yaml" "$W/$p.facts"
	bench_row "$p" run_ms "$W" "$DRIVER" "$ROOT/bench/${p%%[0-9]*}.yaml" "$p.facts" -- "$W" clips -f2 "$p.run.bat"
done
printf '[\n  %s\n]\n' "$rows" > "$JSON"
echo "wrote build/bench.json"
if [ -f "$IRTXT" ]; then cat "$IRTXT"; fi

