//go:build !weir_notiming

package weir

import "time"

// timing says whether the engine times batches for [StageStats.Latency]
// and [StageStats.Busy]. It is a constant so that the hot path carries no
// test for it; building with the tag weir_notiming turns timing off, which
// is how BenchmarkStatsOverhead measures what statistics cost. Without
// timing, latencies and busy times stay zero (adaptive runs still time
// their loads for the controllers, but do not record them).
const timing = true

// clock reads the time for per-batch timing.
func clock() time.Time { return time.Now() }
