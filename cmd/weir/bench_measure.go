// Measuring one bench cell in this process: the cell and its result, the
// runs, and the heap and RSS figures they report.

package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/bench"
)

// heapSampleEvery is how often a run samples the heap for its peak.
const heapSampleEvery = 2 * time.Millisecond

// benchCell is one measurement: a workload into a sink with one engine
// configuration, run Runs times in one process. It is what the parent
// sends a child, as JSON.
type benchCell struct {
	Table    string `json:"table"`
	Workload string `json:"workload"` // slim or fat
	Sink     string `json:"sink"`     // sum, memory, cpu or io
	Adaptive bool   `json:"adaptive,omitempty"`
	// Batch and Workers are 0 for an adaptive cell: engine defaults.
	Batch   int `json:"batch,omitempty"`
	Workers int `json:"workers,omitempty"`
	Records int `json:"records"`
	// TimeCap stops the source this long after the run started; 0: never.
	TimeCap   time.Duration  `json:"time_cap,omitempty"`
	Runs      int            `json:"runs"`
	Seed      uint64         `json:"seed"`
	CPURounds int            `json:"cpu_rounds,omitempty"`
	IO        bench.IOConfig `json:"io"`
	// inProcess resets the process's peak RSS before each run, since the
	// process is shared with other cells.
	inProcess bool
}

func (c benchCell) String() string {
	s := c.Table + " " + c.Workload + " → " + c.Sink + ": "
	if c.Adaptive {
		s += "adaptive"
	} else {
		s += cellName(c.Batch, c.Workers)
	}
	if c.Records == 0 {
		s += fmt.Sprintf(", reading for %v", c.TimeCap)
	} else {
		s += ", " + groupDigits(int64(c.Records)) + " records"
	}
	if c.Runs > 1 {
		s += fmt.Sprintf(", %d runs", c.Runs)
	}
	return s
}

// cellResult is what one cell measured: for several runs, the median run's
// time and records, the range of the runs' rates, the median allocations,
// and the highest peaks.
type cellResult struct {
	Records         int64   `json:"records"`
	Seconds         float64 `json:"seconds"`
	AllocsPerRecord float64 `json:"allocs_per_record"`
	PeakHeap        uint64  `json:"peak_heap_bytes"`
	// PeakRSS is the process's resident high-water mark; 0 when unknown.
	PeakRSS uint64 `json:"peak_rss_bytes"`
	// IdleRSS is the child's resident size before its first run.
	IdleRSS uint64 `json:"idle_rss_bytes,omitempty"`
	// RateMin and RateMax are the lowest and highest records/s of the
	// runs: for one run, its own rate.
	RateMin float64 `json:"rate_min"`
	RateMax float64 `json:"rate_max"`
	// Capped: the time cap stopped the source of at least one run.
	Capped bool `json:"capped,omitempty"`
	// Batch, Workers and LoadLimit are the engine's settings at the end of
	// the run: the configured ones, or the adaptive controllers' choices.
	Batch     int `json:"batch"`
	Workers   int `json:"workers"`
	LoadLimit int `json:"load_limit,omitempty"`
	Runs      int `json:"runs"`
}

func (r cellResult) rate() float64 {
	if r.Seconds <= 0 {
		return 0
	}
	return float64(r.Records) / r.Seconds
}

// rateRange returns the lowest and highest records/s of r's runs; a result
// that does not say (RateMax 0) is one run at r.rate().
func (r cellResult) rateRange() (lo, hi float64) {
	if r.RateMax == 0 {
		return r.rate(), r.rate()
	}
	return r.RateMin, r.RateMax
}

// aggregate combines the results of runs of one cell: the figures of the
// median run by records/s (the lower middle for an even count), the lowest
// and highest rate of any run, the median allocations per record, the
// highest peaks, the lowest idle RSS, and Capped if any run was capped.
func aggregate(rs []cellResult) cellResult {
	byRate := slices.Clone(rs)
	slices.SortStableFunc(byRate, func(a, b cellResult) int { return cmp.Compare(a.rate(), b.rate()) })
	out := byRate[(len(byRate)-1)/2]
	allocs := make([]float64, len(rs))
	out.Runs = 0
	out.RateMin, out.RateMax = out.rateRange()
	for i, r := range rs {
		allocs[i] = r.AllocsPerRecord
		lo, hi := r.rateRange()
		out.RateMin, out.RateMax = min(out.RateMin, lo), max(out.RateMax, hi)
		out.Capped = out.Capped || r.Capped
		out.PeakHeap = max(out.PeakHeap, r.PeakHeap)
		out.PeakRSS = max(out.PeakRSS, r.PeakRSS)
		out.Runs += max(r.Runs, 1)
		out.IdleRSS = minIdleRSS(out.IdleRSS, r.IdleRSS)
	}
	slices.Sort(allocs)
	out.AllocsPerRecord = allocs[(len(allocs)-1)/2]
	return out
}

// minIdleRSS returns the smaller of two idle resident sizes, where 0 is
// "unknown" rather than the smallest.
func minIdleRSS(a, b uint64) uint64 {
	if a == 0 || (b > 0 && b < a) {
		return b
	}
	return a
}

// measureCell runs c in this process and returns what it measured. Every
// run is checked: no error, and the sink got every record the source gave.
func measureCell(ctx context.Context, c benchCell) (cellResult, error) {
	if c.Runs < 1 || c.Records < 0 || (c.Records == 0 && c.TimeCap <= 0) {
		return cellResult{}, fmt.Errorf("bench cell needs runs >= 1 and records >= 1 (or 0 with a time cap), got %d and %d", c.Runs, c.Records)
	}
	n := c.Records
	if n == 0 {
		n = math.MaxInt // endless: the time cap ends the run
	}
	switch c.Workload {
	case "slim":
		return measureShape(ctx, c, func() weir.Source[bench.SlimUser] { return bench.NewSlimSource(n, c.Seed) }, bench.TransformSlim)
	case "fat":
		return measureShape(ctx, c, func() weir.Source[bench.FatUser] { return bench.NewFatSource(n, c.Seed) }, bench.TransformFat)
	}
	return cellResult{}, fmt.Errorf("bench cell: unknown workload %q", c.Workload)
}

// countingSink is a sink that counts the records it was given; all of
// package bench's sinks are.
type countingSink[T any] interface {
	weir.Sink[T]
	Records() int64
}

func newBenchSink[T bench.Record](c benchCell) (countingSink[T], error) {
	switch c.Sink {
	case "sum":
		return &bench.SumSink[T]{}, nil
	case "memory":
		return &bench.MemorySink[T]{}, nil
	case "cpu":
		s, err := bench.NewCPUSink[T](c.CPURounds)
		if err != nil {
			return nil, err
		}
		return s, nil
	case "io":
		s, err := bench.NewIOSink[T](c.IO)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("bench cell: unknown sink %q", c.Sink)
}

func measureShape[E any, T bench.Record](ctx context.Context, c benchCell, newSrc func() weir.Source[E], tr func(context.Context, E) (T, error)) (cellResult, error) {
	idle := procStatusBytes("VmRSS")
	results := make([]cellResult, 0, c.Runs)
	for i := range c.Runs {
		r, err := measureRun(ctx, c, newSrc(), tr)
		if err != nil {
			return cellResult{}, fmt.Errorf("%v, run %d: %w", c, i+1, err)
		}
		results = append(results, r)
	}
	out := aggregate(results)
	if !c.inProcess {
		out.PeakRSS = procStatusBytes("VmHWM")
		out.IdleRSS = idle
	}
	return out, nil
}

func measureRun[E any, T bench.Record](ctx context.Context, c benchCell, src weir.Source[E], tr func(context.Context, E) (T, error)) (cellResult, error) {
	sink, err := newBenchSink[T](c)
	if err != nil {
		return cellResult{}, err
	}
	capped := &cappedSource[E]{src: src}
	cfg := weir.Config{BatchSize: c.Batch, Workers: c.Workers, Adaptive: c.Adaptive}
	p, err := weir.New(capped, weir.Map(tr), sink, cfg)
	if err != nil {
		return cellResult{}, err
	}

	// Start from a collected heap, so that a run does not pay for the
	// garbage of the one before.
	runtime.GC()
	rssReset := false
	if c.inProcess {
		debug.FreeOSMemory()
		rssReset = resetPeakRSS()
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	heap := startHeapSampler(heapSampleEvery)
	start := time.Now()
	if c.TimeCap > 0 {
		capped.deadline = start.Add(c.TimeCap)
	}
	runErr := p.Run(ctx)
	elapsed := time.Since(start)
	peakHeap := heap.stop()
	runtime.ReadMemStats(&after)
	if runErr != nil {
		return cellResult{}, runErr
	}

	st := p.Stats()
	switch got := sink.Records(); {
	case got != st.Extract.Records:
		return cellResult{}, fmt.Errorf("sink got %d records, the source gave %d", got, st.Extract.Records)
	case !capped.capped && c.Records > 0 && got != int64(c.Records):
		return cellResult{}, fmt.Errorf("sink got %d records, want %d", got, c.Records)
	case got == 0:
		return cellResult{}, errors.New("no record was loaded before the time cap")
	}
	r := cellResult{
		Records:         st.Load.Records,
		Seconds:         elapsed.Seconds(),
		AllocsPerRecord: float64(after.Mallocs-before.Mallocs) / float64(st.Load.Records),
		PeakHeap:        peakHeap,
		Capped:          capped.capped,
		Batch:           p.Config().BatchSize,
		Workers:         p.Config().Workers,
		Runs:            1,
	}
	r.RateMin, r.RateMax = r.rate(), r.rate()
	if c.Adaptive {
		r.Batch, r.LoadLimit = st.BatchSize, st.LoadLimit
	}
	if rssReset {
		r.PeakRSS = procStatusBytes("VmHWM")
	}
	return r, nil
}

// cappedSource ends its source early, with io.EOF, once deadline has
// passed (a zero deadline never does). Records already read still flow to
// the sink, so the run ends cleanly and its rate counts what was loaded.
type cappedSource[E any] struct {
	src      weir.Source[E]
	deadline time.Time // set before the run starts
	capped   bool      // read after the run ends
}

func (s *cappedSource[E]) Read(ctx context.Context, buf []E) (int, error) {
	if !s.deadline.IsZero() && time.Now().After(s.deadline) {
		s.capped = true
		return 0, io.EOF
	}
	return s.src.Read(ctx, buf)
}

// heapSampler records the peak of the heap's object bytes (live objects
// plus garbage not yet swept, the runtime/metrics figure behind
// MemStats.HeapAlloc), read every few milliseconds by one goroutine that
// stop ends.
type heapSampler struct {
	sample []metrics.Sample
	peak   uint64
	done   chan struct{}
	wg     sync.WaitGroup
}

func startHeapSampler(every time.Duration) *heapSampler {
	s := &heapSampler{
		sample: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}},
		done:   make(chan struct{}),
	}
	s.read()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.read()
			}
		}
	}()
	return s
}

func (s *heapSampler) read() {
	metrics.Read(s.sample)
	if v := s.sample[0].Value; v.Kind() == metrics.KindUint64 {
		s.peak = max(s.peak, v.Uint64())
	}
}

// stop ends the sampling goroutine, takes a last sample and returns the
// peak.
func (s *heapSampler) stop() uint64 {
	close(s.done)
	s.wg.Wait()
	s.read()
	return s.peak
}

// procStatusBytes returns a "kB" field of /proc/self/status in bytes, or 0
// where there is no such file or field.
func procStatusBytes(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

// resetPeakRSS sets the process's resident high-water mark (VmHWM) to its
// current RSS, which Linux allows by writing 5 to /proc/self/clear_refs.
// It reports whether that worked.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}
