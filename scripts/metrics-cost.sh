#!/usr/bin/env bash
# Measures what --metrics-addr costs a run: `weir copy CSV OUT.jsonl`
# without the flag and with it, scraped every second (as a Prometheus with
# scrape_interval: 1s would), in alternating order for ROUNDS rounds.
# Prints each run's rows/s, then the median and range of each side.
#
#   go build -o /tmp/weir ./cmd/weir
#   scripts/metrics-cost.sh /tmp/weir data.csv 7
set -euo pipefail
weir=$1 csv=$2 rounds=$3
port=${PORT:-19465}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
one() { # side -> rows/s of one run
	local args=(copy "$csv" "$dir/out.jsonl" --progress off)
	rm -f "$dir/out.jsonl"
	if [ "$1" = on ]; then
		"$weir" "${args[@]}" --metrics-addr "127.0.0.1:$port" >"$dir/out" 2>"$dir/err" &
		local pid=$!
		while kill -0 "$pid" 2>/dev/null; do
			curl -s -o /dev/null "http://127.0.0.1:$port/metrics" || true
			sleep 1
		done
		wait "$pid"
	else
		"$weir" "${args[@]}" >"$dir/out" 2>"$dir/err"
	fi
	sed -n 's/.*: \([0-9]*\) rows\/s$/\1/p' "$dir/out"
}
for ((r = 1; r <= rounds; r++)); do
	sides="off on"
	((r % 2 == 0)) && sides="on off"
	for s in $sides; do
		echo "$s $(one "$s")"
	done
done | tee "$dir/runs"
awk '{ v[$1] = v[$1] " " $2 }
function med(s,   a, k, i, j, t) {
	k = split(s, a, " ")
	for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return ((k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2) " rows/s [" a[1] ".." a[k] "], " k " runs"
}
END { print "without --metrics-addr: " med(v["off"]); print "scraped every second:   " med(v["on"]) }' "$dir/runs"
