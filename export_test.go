package weir

// DisableTiming turns off per-batch timing and histograms, so benchmarks can
// measure what statistics cost. Record counters stay on: the end-of-run
// accounting check needs them.
func DisableTiming[E, T any](p *Pipeline[E, T]) { p.noTiming = true }
