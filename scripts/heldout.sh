#!/bin/sh
# heldout.sh MLARCH DIR... - how a held-out set fares: of the questions the notes decide,
# how many are answered right, abstained on, or answered wrong; of those they do not
# decide, how many mlarch abstains on. A measure, never a gate: exits 0 unless it cannot run.
set -e
mlarch=$1
shift
for d in "$@"; do
	"$mlarch" batch --json "$d/" | jq -r --arg d "$d" '
		[.scenarios[] | {dec: (.expected != "none" and .expected != ""), pass, abstained}] as $s
		| ($s | map(select(.dec))) as $dec
		| ($s | map(select(.dec | not))) as $und
		| ($dec | map(select(.pass)) | length) as $right
		| ($dec | map(select((.pass | not) and .abstained)) | length) as $abst
		| ($dec | map(select((.pass | not) and (.abstained | not))) | length) as $wrong
		| "\($d): decided \($right) of \($dec | length) right (\(if ($dec | length) > 0
		    then ($right * 100 / ($dec | length) | floor) else 0 end)%), \($abst) abstained, "
		  + "\($wrong) wrong; undecided \($und | map(select(.pass)) | length) of "
		  + "\($und | length) abstained"'
done
