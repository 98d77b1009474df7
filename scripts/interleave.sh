#!/usr/bin/env bash
# Runs Go benchmarks interleaved, so every variant sees the same machine
# load: round r runs each pattern once, in turn, from prebuilt test
# binaries. Prints the raw benchmark lines; pipe them to scripts/medians.sh.
#
#   scripts/interleave.sh ROUNDS PKG 'BenchPattern1' 'BenchPattern2' ...
#   scripts/interleave.sh 7 ./bench 'SeedSlim/engine=weir/batch=128/' 'SeedSlim/engine=baseline/batch=128/' | scripts/medians.sh
#
# A pattern written TAGS:PATTERN runs from a binary built with -tags TAGS,
# e.g. 'weir_notiming:StatsOverhead/batch=128/' (the engine without timing).
# Its output lines are prefixed with TAGS: so medians.sh keeps them apart.
# BENCHTIME (default 1x) is each sample's -test.benchtime: raise it for
# benchmarks whose op is short, e.g. BENCHTIME=200x for 5,000-record runs.
# PKG may be a module of its own, e.g. ./bench/peers.
set -euo pipefail
rounds=$1 pkg=$2
shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
binary() { # tags -> path of a test binary built with them
	local bin="$dir/bench${1:+.$1}.test"
	[ -x "$bin" ] || (cd "$pkg" && go test -c ${1:+-tags "$1"} -o "$bin" .)
	echo "$bin"
}
for pat in "$@"; do
	case "$pat" in *:*) binary "${pat%%:*}" >/dev/null ;; *) binary "" >/dev/null ;; esac
done
cd "$pkg"
for ((r = 1; r <= rounds; r++)); do
	for pat in "$@"; do
		tags="" prefix=""
		case "$pat" in *:*) tags=${pat%%:*} pat=${pat#*:} prefix="$tags:" ;; esac
		"$(binary "$tags")" -test.run '^$' -test.bench "$pat" -test.benchtime "${BENCHTIME:-1x}" -test.count 1 | grep '^Benchmark' | sed "s/^/$prefix/"
	done
done
