package weir

import "sync/atomic"

// sampleRecords is the batch size from which every batch is timed. Below
// it, timing every batch would cost a noticeable share of a fast pipeline
// (a clock read costs what a few records do), so each goroutine times one
// batch in every sampleRecords/BatchSize; see [StageStats].
const sampleRecords = 512

// sampleEvery returns how many batches of cfg (defaults applied) each
// goroutine handles per timed one. Adaptive runs time every batch: the
// controllers need every load's time.
func sampleEvery(cfg Config) int {
	if cfg.Adaptive {
		return 1
	}
	return max(1, sampleRecords/cfg.BatchSize)
}

// sampler decides which calls of one goroutine (Reads, transforms or
// Writes) are timed: the first, then one in every `every`. It counts every
// call in the stage's calls, publishing the count at each timed call and at
// done, so that a snapshot can scale the timed calls' busy time up to all
// of them. A sampler belongs to one goroutine; with timing off it times
// nothing and counts nothing.
type sampler struct {
	every   int
	left    int   // untimed calls before the next timed one
	pending int64 // calls not yet added to calls
	calls   *atomic.Int64
}

func newSampler(every int, m *stageMetrics) sampler {
	return sampler{every: every, calls: &m.calls}
}

// tick counts a call and reports whether to time it.
func (s *sampler) tick() bool {
	if !timing {
		return false
	}
	s.pending++
	if s.left > 0 {
		s.left--
		return false
	}
	s.left = s.every - 1
	s.calls.Add(s.pending)
	s.pending = 0
	return true
}

// done publishes the calls counted since the last timed one. The goroutine
// calls it once, when it ends.
func (s *sampler) done() {
	if timing && s.pending > 0 {
		s.calls.Add(s.pending)
		s.pending = 0
	}
}
