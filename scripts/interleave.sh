#!/usr/bin/env bash
# Runs Go benchmarks interleaved, so every variant sees the same machine
# load: round r runs each pattern once, in turn, from one prebuilt test
# binary. Prints the raw benchmark lines; pipe them to scripts/medians.sh.
#
#   scripts/interleave.sh ROUNDS PKG 'BenchPattern1' 'BenchPattern2' ...
#   scripts/interleave.sh 7 ./bench 'SeedSlim/engine=weir/batch=128/' 'SeedSlim/engine=baseline/batch=128/' | scripts/medians.sh
set -euo pipefail
rounds=$1 pkg=$2
shift 2
bin=$(mktemp -d)/bench.test
go test -c -o "$bin" "$pkg"
cd "$pkg"
for ((r = 1; r <= rounds; r++)); do
	for pat in "$@"; do
		"$bin" -test.run '^$' -test.bench "$pat" -test.benchtime 1x -test.count 1 | grep '^Benchmark'
	done
done
rm -rf "$(dirname "$bin")"
