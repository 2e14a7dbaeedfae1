# SPDX-License-Identifier: MIT
# fct2facts.awk - converts a CLIPS facts file of deftemplate facts, one per line like
#   (guest (name n1) (sex f) (hobby h3))
# into bench/driver's facts format, one (subject, attribute, value) triple per slot.
# The subject of a template's facts is, by the -v options:
#   key="guest=name edge=p1,p2"  the value of those slots, joined with "_" (facts with the
#                                same key become one entity: a guest with three hobbies;
#                                a key of one slot gives no triple of its own)
#   single="context count"       the template name (templates with a single fact)
#   otherwise                    the template name and the fact's number, e.g. line7
# and the attribute is the slot name, prefixed with "TEMPLATE." when -v prefix=1.
# Usage: awk -f bench/fct2facts.awk -v key=... -v single=... FILE.fct > FILE.facts
BEGIN {
	nk = split(key, kv, " ")
	for (i = 1; i <= nk; i++) {
		split(kv[i], p, "=")
		keyslots[p[1]] = p[2]
	}
	ns = split(single, sv, " ")
	for (i = 1; i <= ns; i++)
		singles[sv[i]] = 1
}
/^[ \t]*\(/ {
	line = $0
	sub(/^[ \t]*\(/, "", line)
	sub(/\)[ \t\r]*$/, "", line)
	tmpl = line
	sub(/[ \t(].*/, "", tmpl)
	rest = substr(line, length(tmpl) + 1)
	n = 0
	while (match(rest, /\([^()]*\)/)) {
		slot = substr(rest, RSTART + 1, RLENGTH - 2)
		rest = substr(rest, RSTART + RLENGTH)
		split(slot, w, /[ \t]+/)
		n++
		sname[n] = w[1]
		sval[n] = w[2]
		val[w[1]] = w[2]
	}
	count[tmpl]++
	if (tmpl in keyslots) {
		m = split(keyslots[tmpl], ks, ",")
		subj = ""
		for (i = 1; i <= m; i++)
			subj = subj (i > 1 ? "_" : "") val[ks[i]]
		if (m > 1 || subj ~ /^[0-9]/)
			subj = tmpl subj
	} else if (tmpl in singles) {
		subj = tmpl
	} else {
		subj = tmpl count[tmpl]
	}
	for (i = 1; i <= n; i++)
		if (!(tmpl in keyslots) || keyslots[tmpl] != sname[i])   # a lone key is the subject
			print subj, (prefix ? tmpl "." : "") sname[i], sval[i]
	delete val
}
