package weir

import (
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/weir-etl/weir/internal/hist"
)

// Latency summarises the per-batch durations of one stage, read from a
// histogram with about 3% relative error.
type Latency struct {
	// Count is how many batches were timed.
	Count int64
	// Mean, the 50th, 95th and 99th percentiles, and the largest.
	Mean          time.Duration
	P50, P95, P99 time.Duration
	Max           time.Duration
	// Sum is the total time of the timed batches.
	Sum time.Duration
	// Buckets[i] counts the timed batches that took at most
	// [LatencyBounds]()[i], cumulatively, as a Prometheus histogram's le
	// buckets do (Count is the +Inf bucket). A batch up to 12.5% faster
	// than a bound may be counted under the next bound, never under a
	// lower one.
	Buckets [21]int64
}

// LatencyBounds returns the upper bounds of [Latency.Buckets], from 10µs
// to a minute in 1-2.5-5 steps. They are fixed, so that buckets add up
// across runs and processes.
func LatencyBounds() []time.Duration { return slices.Clone(hist.Bounds[:]) }

// StageStats describes one stage of a run.
type StageStats struct {
	// In counts records that entered the stage, Records those that left it.
	// They differ only for the transform stage (filtering, flat-mapping).
	In, Records int64
	// Batches counts batches that left the stage.
	Batches int64
	// Bytes is the size of the records read, for the extract stage when
	// record sizes are known; 0 otherwise.
	Bytes int64
	// Errors counts failures that ended the run (0 or 1).
	Errors int64
	// DeadLettered counts records this stage handed to the dead-letter
	// sink under the Skip policy. For the extract stage, these are the
	// records the source could not read ([BadRecordError]): they are not
	// in Records.
	DeadLettered int64
	// Retries counts calls tried again under the retry policy.
	Retries int64
	// Busy is the time spent inside user code for this stage (Source.Read,
	// the transform, Sink.Write), summed over its goroutines. With batches
	// below 512 records it is an estimate: see Latency.
	Busy time.Duration
	// Goroutines is how many goroutines ran the stage.
	Goroutines int
	// Latency is per batch: for extract, the time a batch took to gather
	// (from the start of the Read that filled it, or from its first
	// record's arrival when it gathers several Reads, to its closing); for
	// transform and load, the time of one call.
	//
	// Latency is sampled below 512 records per batch: each goroutine times
	// its first call and then one in every 512/BatchSize (every 4th at
	// batches of 128, every 8th at 64), since reading the clock twice per
	// batch would cost a small batch a few percent of its time. Count says
	// how many were timed, and Busy is the timed calls' time scaled up to
	// every call. At 512 records or more, and in adaptive runs, every batch
	// is timed and Busy is exact.
	Latency Latency
}

// Utilization is the fraction of the stage's capacity that was busy over
// elapsed: Busy / (elapsed × Goroutines), between 0 and 1.
func (s StageStats) Utilization(elapsed time.Duration) float64 {
	if elapsed <= 0 || s.Goroutines == 0 {
		return 0
	}
	u := float64(s.Busy) / (float64(elapsed) * float64(s.Goroutines))
	return min(u, 1)
}

// Stats is a snapshot of a run, available from [Pipeline.Stats] while it
// runs and after it ends.
type Stats struct {
	Start                    time.Time
	Elapsed                  time.Duration
	Running                  bool
	Extract, Transform, Load StageStats
	// BatchSize and LoadLimit are the adaptive controllers' current
	// choices (see [Config.Adaptive]); 0 when the run is not adaptive.
	BatchSize, LoadLimit int
	// LoadsInFlight is how many Sink.Write calls (with their retries) are
	// in progress at the moment of the snapshot.
	LoadsInFlight int
	// Memory is the memory budget's state (see [Config.Memory]); zero
	// without one.
	Memory MemoryStats
	// ResumedFrom is the checkpoint the run started from, and Checkpoint
	// the position below which every batch is finished (see
	// [WithCheckpoint]); nil when not checkpointing.
	ResumedFrom, Checkpoint []byte
	// Aborted: the run ended early, on a stage's error or a cancellation,
	// abandoning the records in flight (neither loaded nor dead-lettered).
	// A run that ended on [Pipeline.Stop] or on its source's own failure is
	// not aborted: every record read was finished.
	Aborted bool
}

// Filtered counts source records that a transform dropped on purpose:
// records in, minus those dead-lettered, minus records out. It is exact for
// one-to-one transforms and filters; a FlatMap that multiplies records
// makes it meaningless (it may go negative).
func (s Stats) Filtered() int64 {
	return s.Transform.In - s.Transform.DeadLettered - s.Transform.Records
}

// DeadLettered counts the records handed to the dead-letter sink, in all
// stages: those the source could not read, the transform refused, and the
// sink refused.
func (s Stats) DeadLettered() int64 {
	return s.Extract.DeadLettered + s.Transform.DeadLettered + s.Load.DeadLettered
}

// CheckAccounting verifies that every record is accounted for. After a run
// that finished (successfully, on [Pipeline.Stop] or on its source's
// failure) each extracted record reached the transform, each transformed
// record reached the load stage, and each record the load stage took was
// either loaded or dead-lettered: for transforms that do not multiply
// records, extracted = loaded + dead-lettered + filtered (records the
// source could not read are outside this sum, in Extract.DeadLettered).
//
// After an aborted run ([Stats.Aborted]) records in flight were abandoned,
// so the check is weaker but keeps what matters: no stage counted more
// records than the one before it handed over, and nothing is counted as
// loaded or dead-lettered beyond what the load stage took (the engine
// counts a record as loaded only once the sink's Write returned nil). While
// the run is running the stages' counters move independently and nothing
// is checked. [Pipeline.Run] checks it at the end of every run and joins
// the error it finds to the run's.
func (s Stats) CheckAccounting() error {
	if s.Running {
		return nil
	}
	return s.checkAccounting(!s.Aborted)
}

// checkAccounting checks that each stage took exactly what the one before
// handed over (finished) or at most that (an aborted run).
func (s Stats) checkAccounting(finished bool) error {
	word := "but"
	bad := func(handed, taken int64) bool { return taken != handed }
	if !finished {
		word = "yet"
		bad = func(handed, taken int64) bool { return taken > handed }
	}
	switch {
	case bad(s.Extract.Records, s.Transform.In):
		return fmt.Errorf("weir: accounting: %d records extracted %s %d reached the transform", s.Extract.Records, word, s.Transform.In)
	case bad(s.Transform.Records, s.Load.In):
		return fmt.Errorf("weir: accounting: %d records transformed %s %d reached the load stage", s.Transform.Records, word, s.Load.In)
	case bad(s.Load.In, s.Load.Records+s.Load.DeadLettered):
		return fmt.Errorf("weir: accounting: %d records reached the load stage %s %d were loaded + %d dead-lettered",
			s.Load.In, word, s.Load.Records, s.Load.DeadLettered)
	}
	return nil
}

// RecordsPerSec is the load rate over the run so far.
func (s Stats) RecordsPerSec() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Load.Records) / s.Elapsed.Seconds()
}

// Bottleneck names the stage with the highest [StageStats.Utilization]: the
// one that more capacity (workers, loaders, a faster source) would help
// first. It returns 0 before any stage has been busy.
func (s Stats) Bottleneck() Stage {
	best, bestU := Stage(0), 0.0
	for _, c := range []struct {
		st Stage
		s  StageStats
	}{{StageExtract, s.Extract}, {StageTransform, s.Transform}, {StageLoad, s.Load}} {
		if u := c.s.Utilization(s.Elapsed); u > bestU {
			best, bestU = c.st, u
		}
	}
	return best
}

// stageMetrics is the live, atomically updated form of StageStats.
type stageMetrics struct {
	in, records, batches, bytes, errors atomic.Int64
	deadLettered, retries               atomic.Int64
	// inFlight counts the calls in progress; only the load stage's
	// writer keeps it (two atomic adds per batch written).
	inFlight atomic.Int64
	// busy is the time in user code of the timed calls, in nanoseconds,
	// and timed their number; calls counts every call (see sampler). Only
	// the extract stage keeps busy and timed apart; for transform and load
	// they are the sum and count of the latency histogram, which saves two
	// atomic adds per timed batch.
	busy, timed, calls atomic.Int64
	latIsBusy          bool
	goroutines         int
	lat                hist.H
}

// observe records one timed call's time from t0 to t1.
func (m *stageMetrics) observe(t0, t1 time.Time) {
	if timing {
		m.lat.Record(t1.Sub(t0))
	}
}

// addBusy adds the time from t0 to t1 of one timed call to the stage's
// busy time.
func (m *stageMetrics) addBusy(t0, t1 time.Time) {
	if timing {
		m.busy.Add(int64(t1.Sub(t0)))
		m.timed.Add(1)
	}
}

// counts returns the stage's counters, without the latencies and busy
// time, which cost a pass over the histogram to read.
func (m *stageMetrics) counts() StageStats {
	return StageStats{
		In:           m.in.Load(),
		Records:      m.records.Load(),
		Batches:      m.batches.Load(),
		Bytes:        m.bytes.Load(),
		Errors:       m.errors.Load(),
		DeadLettered: m.deadLettered.Load(),
		Retries:      m.retries.Load(),
		Goroutines:   m.goroutines,
	}
}

func (m *stageMetrics) snapshot() StageStats {
	s := m.counts()
	s.Latency = Latency(m.lat.Snapshot())
	busy, timed := time.Duration(m.busy.Load()), m.timed.Load()
	if m.latIsBusy {
		busy, timed = m.lat.Sum(), s.Latency.Count
	}
	// Scale the timed calls up to all of them (sampled timing).
	if calls := m.calls.Load(); timed > 0 && calls > timed {
		busy = time.Duration(float64(busy) * float64(calls) / float64(timed))
	}
	s.Busy = busy
	return s
}

type metrics struct {
	ctl                      *controllers  // nil unless Config.Adaptive
	ck                       *checkpointer // nil unless checkpointing
	resumedFrom              []byte
	memory                   MemoryStats  // the budget's fixed parts
	largest                  atomic.Int64 // MemoryStats.Largest
	start                    time.Time
	end                      atomic.Int64 // unix nanos; 0 while running
	extract, transform, load stageMetrics
	aborted                  atomic.Bool
}

func (m *metrics) snapshot() Stats {
	s := Stats{
		Start:     m.start,
		Extract:   m.extract.snapshot(),
		Transform: m.transform.snapshot(),
		Load:      m.load.snapshot(),
	}
	m.fill(&s)
	return s
}

// counts is snapshot without the latencies and busy times: what the
// accounting check at the end of a run needs, at a fraction of the cost.
func (m *metrics) counts() Stats {
	s := Stats{
		Start:     m.start,
		Extract:   m.extract.counts(),
		Transform: m.transform.counts(),
		Load:      m.load.counts(),
	}
	m.fill(&s)
	return s
}

// fill sets the run-wide fields of s.
func (m *metrics) fill(s *Stats) {
	s.ResumedFrom = m.resumedFrom
	s.Aborted = m.aborted.Load()
	s.LoadsInFlight = int(m.load.inFlight.Load())
	if m.memory.Budget > 0 {
		s.Memory = m.memory
		s.Memory.Largest = m.largest.Load()
	}
	if m.ck != nil {
		s.Checkpoint = m.ck.committedPos()
	}
	if m.ctl != nil {
		s.BatchSize = int(m.ctl.batchSize.Load())
		s.LoadLimit = m.ctl.limiter.Limit()
	}
	if end := m.end.Load(); end != 0 {
		s.Elapsed = time.Unix(0, end).Sub(m.start)
	} else {
		s.Running = true
		s.Elapsed = time.Since(m.start)
	}
}
