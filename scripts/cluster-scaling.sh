#!/usr/bin/env bash
# Scaling of `weir copy --nats` (docs/CLUSTER.md, docs/BENCHMARKS.md): 1 vs 3
# worker processes copying a CSV into PostgreSQL behind a proxy that delays
# each COMMIT by 100 ms (a latency-bound target), and the cost of a
# partition. Needs nats-server and PostgreSQL's binaries (as the tests do).
#   WEIR_CLUSTER_BENCH_ROWS (default 120000), WEIR_CLUSTER_BENCH_ROUNDS (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
WEIR_CLUSTER_BENCH=1 go test -count=1 -timeout 60m -run '^TestClusterScaling$' -v ./cmd/weir/ |
	grep -E 'cluster_bench_test.go|^(ok|FAIL|---)'
