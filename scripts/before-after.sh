#!/usr/bin/env bash
# Compares the benchmarks of one package at an earlier revision and now,
# interleaved: each round runs every pattern from the "before" binary, then
# from the "after" one, so both see the same machine load. PKG may be a
# module of its own (./bench/peers). Prints the raw
# lines with a before:/after: prefix; pipe them to scripts/medians.sh.
#
#   scripts/before-after.sh REV ROUNDS BENCHTIME PKG PATTERN...
#   scripts/before-after.sh 235d6fc 21 5x ./bench 'SeedSlim/engine=weir/batch=128/workers=4$' 'SeedSlim/engine=baseline/batch=128/workers=4$'
set -euo pipefail
rev=$1 rounds=$2 benchtime=$3 pkg=$4
shift 4
dir=$(mktemp -d)
root=$(git rev-parse --show-toplevel)
cleanup() { git -C "$root" worktree remove --force "$dir/src" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
git -C "$root" worktree add --detach -q "$dir/src" "$rev"
(cd "$dir/src/$pkg" && go test -c -o "$dir/before.test" .)
(cd "$root/$pkg" && go test -c -o "$dir/after.test" .)
cd "$root/$pkg"
for ((r = 1; r <= rounds; r++)); do
	for b in before after; do
		for pat in "$@"; do
			"$dir/$b.test" -test.run '^$' -test.bench "$pat" -test.benchtime "$benchtime" -test.count 1 | grep '^Benchmark' | sed "s/^/$b:/"
		done
	done
done
