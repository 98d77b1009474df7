#!/usr/bin/env bash
# Reads Go benchmark lines on stdin and prints, per benchmark name, the
# median of every custom metric (records/s, allocs/record, ...) with its
# range [min..max], and the number of runs. Lines may carry a TAGS: prefix
# (scripts/interleave.sh writes one for binaries built with build tags).
exec awk '
/^([A-Za-z0-9_,]+:)?Benchmark/ {
	name = $1; runs[name]++
	for (i = 3; i + 1 <= NF; i += 2) {
		unit = $(i + 1); key = name SUBSEP unit
		vals[key] = vals[key] " " $i; units[name] = units[name] (index(units[name], " " unit " ") ? "" : " " unit " ")
	}
	if (!(name in order)) { order[name] = ++n; names[n] = name }
}
function median(s,   a, k, i, j, t) {
	k = split(s, a, " ")
	for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return ((k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2) " [" a[1] ".." a[k] "]"
}
END {
	for (x = 1; x <= n; x++) {
		name = names[x]; line = sprintf("%-60s runs=%d", name, runs[name])
		m = split(units[name], us, " ")
		for (u = 1; u <= m; u++) if (us[u] != "") line = line sprintf("  %s=%s", us[u], median(vals[name SUBSEP us[u]]))
		print line
	}
}'
