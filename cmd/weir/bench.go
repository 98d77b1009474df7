package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/bench"
)

const benchUsage = `Usage: weir bench [flags]

Reproduces the seed's performance report with weir's own engine:

  1. the seed's configurations (batch 500 × 8 workers, 64 × 3, 128 × 4, and
     its "start with defaults" 100 × 4) on slim (~100 B) and fat (~55 KB)
     user records into a SumSink, with time, records/s, peak heap, peak RSS
     and allocations per record, next to the seed's published numbers;
  2. a sweep of batch size × workers on a memory-, a CPU- and an I/O-bound
     sink, best cell marked;
  3. the adaptive engine (weir.Config{Adaptive: true}) against the best
     static cell of each sink.

Markdown tables go to stdout (or one JSON array with --json), progress to
stderr. Each cell runs in a child process of its own, so that its peak RSS
is its own.

Flags:
`

// benchCellArg makes `weir bench` measure one cell, given as JSON in the
// next argument, and print the result as JSON: what a child process does.
// It is not a flag users see.
const benchCellArg = "--run-cell"

// heapSampleEvery is how often a run samples the heap for its peak.
const heapSampleEvery = 2 * time.Millisecond

// adaptiveTarget is the target: adaptive at least 90% of the best
// static cell.
const adaptiveTarget = 0.90

// Names of the tables, as --tables and the JSON "table" field spell them.
const (
	tableConfig   = "config"
	tableSweep    = "sweep"
	tableAdaptive = "adaptive"
)

// seedConfig is one configuration of the seed's table, with what the seed
// published for it (a Rust engine on the seed author's machine).
type seedConfig struct {
	batch, workers int
	label          string
	// slimRef and fatRef are the seed's figures for the slim and fat
	// records; "" where the seed gave none.
	slimRef, fatRef string
}

var seedConfigs = []seedConfig{
	{500, 8, "500 × 8 (seed's original)", "", "39K/s (5,000 records in 128 ms, ~250 MB)"},
	{64, 3, "64 × 3", "95K/s", ""},
	{128, 4, "128 × 4 (seed's optimum)", "110K/s (111K/s: 5,000 records in 45 ms, ~20 MB)", ""},
	{100, 4, "100 × 4 (seed's \"start with defaults\")", "", ""},
}

// benchSinks are the sweep's sinks, in the order they are reported.
var benchSinks = []struct{ name, desc string }{
	{"memory", "memory-bound: `bench.MemorySink` reads every byte of every record"},
	{"cpu", "CPU-bound: `bench.CPUSink` hashes each record's key %d rounds"},
	{"io", "I/O-bound: `bench.IOSink` waits %v + %v per record per write, slowing down past %d writes in flight"},
}

type benchFlags struct {
	records, fatRecords []int
	runs                int
	tables              []string
	sinks               []string
	batches, workers    []int
	sinkRecords         map[string]int
	cellTime            time.Duration
	cpuRounds           int
	io                  bench.IOConfig
	adaptiveRuns        int
	adaptiveTime        time.Duration
	seed                uint64
	json                bool
	chart               string
	inProcess           bool
}

func (f benchFlags) has(table string) bool { return slices.Contains(f.tables, table) }

func parseBenchFlags(args []string, stderr io.Writer) (benchFlags, error) {
	f := benchFlags{sinkRecords: map[string]int{}}
	var records, fatRecords, tables, sinks, batches, workers string
	var memRecords, cpuRecords, ioRecords string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&records, "records", "5000,1000000", "slim records per run of the configuration table, a comma list (k and M suffixes allowed)")
	fs.StringVar(&fatRecords, "fat-records", "5000,20000", "fat records (~55 KB each) per run of the configuration table, a comma list")
	fs.IntVar(&f.runs, "runs", 3, "runs per cell of the configuration table; the median run is reported")
	fs.StringVar(&tables, "tables", "config,sweep,adaptive", "tables to produce: config, sweep, adaptive (adaptive needs sweep)")
	fs.StringVar(&sinks, "sinks", "memory,cpu,io", "sinks of the sweep")
	fs.StringVar(&batches, "batches", "1,8,64,128,256,500,1000,4096", "batch sizes of the sweep")
	fs.StringVar(&workers, "workers", "1,2,3,4,8", "worker counts of the sweep")
	fs.StringVar(&memRecords, "memory-records", "2M", "slim records per sweep cell on the memory-bound sink")
	fs.StringVar(&cpuRecords, "cpu-records", "1M", "slim records per sweep cell on the CPU-bound sink")
	fs.StringVar(&ioRecords, "io-records", "500k", "slim records per sweep cell on the I/O-bound sink")
	fs.DurationVar(&f.cellTime, "cell-time", 500*time.Millisecond, "a sweep or adaptive cell stops reading after this long even if records remain (0: no cap)")
	fs.IntVar(&f.cpuRounds, "cpu-rounds", bench.DefaultCPURounds, "hashing rounds per record of the CPU-bound sink")
	fs.DurationVar(&f.io.RoundTrip, "io-round-trip", bench.DefaultRoundTrip, "fixed latency of one write to the I/O-bound sink")
	fs.DurationVar(&f.io.PerRecord, "io-per-record", bench.DefaultPerRecord, "added latency per record of one write to the I/O-bound sink")
	fs.IntVar(&f.io.Limit, "io-limit", bench.DefaultIOLimit, "writes the I/O-bound sink serves at full speed at once")
	fs.IntVar(&f.adaptiveRuns, "adaptive-runs", 3, "alternating runs of the best static cell and of the adaptive engine per sink; medians are reported")
	fs.DurationVar(&f.adaptiveTime, "adaptive-time", 2*time.Second, "how long each run of the adaptive comparison reads (from an endless source), so that the controllers have time to settle")
	fs.Uint64Var(&f.seed, "seed", 1, "record generator seed")
	fs.BoolVar(&f.json, "json", false, "print one JSON array of rows instead of tables")
	fs.StringVar(&f.chart, "chart", "", "also draw the sweep (records/s against batch size, a line per worker count, a panel per sink) into this PNG file")
	fs.BoolVar(&f.inProcess, "in-process", false, "run every cell in this process instead of a child each (faster; heap state carries over, and peak RSS needs /proc/self/clear_refs)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, errHelp
		}
		return f, &usageError{err}
	}
	if fs.NArg() > 0 {
		return f, usagef("bench takes no arguments, got %q", fs.Args())
	}

	var err error
	counts := []struct {
		name string
		s    string
		dst  *[]int
		hi   int
	}{
		{"records", records, &f.records, 1 << 34},
		{"fat-records", fatRecords, &f.fatRecords, 1 << 24},
		{"batches", batches, &f.batches, weir.MaxBatchSize},
		{"workers", workers, &f.workers, weir.MaxConcurrency},
	}
	for _, c := range counts {
		if *c.dst, err = parseCounts(c.name, c.s, c.hi); err != nil {
			return f, err
		}
	}
	for _, c := range []struct{ sink, name, s string }{
		{"memory", "memory-records", memRecords}, {"cpu", "cpu-records", cpuRecords}, {"io", "io-records", ioRecords},
	} {
		n, err := parseCounts(c.name, c.s, 1<<34)
		if err != nil {
			return f, err
		}
		if len(n) != 1 {
			return f, usagef("--%s takes one count, got %q", c.name, c.s)
		}
		f.sinkRecords[c.sink] = n[0]
	}
	if f.tables, err = parseNames("tables", tables, []string{tableConfig, tableSweep, tableAdaptive}); err != nil {
		return f, err
	}
	if f.sinks, err = parseNames("sinks", sinks, []string{"memory", "cpu", "io"}); err != nil {
		return f, err
	}
	switch {
	case f.runs < 1:
		return f, usagef("--runs must be at least 1, got %d", f.runs)
	case f.adaptiveRuns < 1:
		return f, usagef("--adaptive-runs must be at least 1, got %d", f.adaptiveRuns)
	case f.adaptiveTime <= 0:
		return f, usagef("--adaptive-time must be > 0, got %v", f.adaptiveTime)
	case f.cellTime < 0:
		return f, usagef("--cell-time must be >= 0 (0: no cap), got %v", f.cellTime)
	case f.cpuRounds < 1:
		return f, usagef("--cpu-rounds must be at least 1, got %d", f.cpuRounds)
	case f.io.RoundTrip <= 0:
		return f, usagef("--io-round-trip must be > 0, got %v", f.io.RoundTrip)
	case f.io.PerRecord <= 0:
		return f, usagef("--io-per-record must be > 0, got %v", f.io.PerRecord)
	case f.io.Limit < 1:
		return f, usagef("--io-limit must be at least 1, got %d", f.io.Limit)
	case f.has(tableAdaptive) && !f.has(tableSweep):
		return f, usagef("--tables adaptive needs sweep too: the adaptive run is compared with the sweep's best cell")
	case f.chart != "" && !f.has(tableSweep):
		return f, usagef("--chart draws the sweep: add sweep to --tables")
	case f.chart != "" && !strings.EqualFold(filepath.Ext(f.chart), ".png"):
		return f, usagef("--chart must name a .png file, got %q", f.chart)
	}
	return f, nil
}

// parseCounts parses a comma list of counts between 1 and hi, each written
// as digits with optional underscores and an optional k (×1,000) or M
// (×1,000,000) suffix. It sorts them and drops repeats.
func parseCounts(name, s string, hi int) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		p := strings.ReplaceAll(strings.TrimSpace(part), "_", "")
		mul := 1
		switch {
		case strings.HasSuffix(p, "k"), strings.HasSuffix(p, "K"):
			mul, p = 1_000, p[:len(p)-1]
		case strings.HasSuffix(p, "M"), strings.HasSuffix(p, "m"):
			mul, p = 1_000_000, p[:len(p)-1]
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > hi/mul {
			return nil, usagef("--%s: %q is not a count between 1 and %d", name, strings.TrimSpace(part), hi)
		}
		out = append(out, n*mul)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// parseNames parses a comma list of names from allowed, keeping the order
// of allowed and dropping repeats.
func parseNames(name, s string, allowed []string) ([]string, error) {
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		p := strings.TrimSpace(part)
		if !slices.Contains(allowed, p) {
			return nil, usagef("--%s: %q is not one of %s", name, p, strings.Join(allowed, ", "))
		}
		seen[p] = true
	}
	var out []string
	for _, a := range allowed {
		if seen[a] {
			out = append(out, a)
		}
	}
	return out, nil
}

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
// time and records, the median allocations, and the highest peaks.
type cellResult struct {
	Records         int64   `json:"records"`
	Seconds         float64 `json:"seconds"`
	AllocsPerRecord float64 `json:"allocs_per_record"`
	PeakHeap        uint64  `json:"peak_heap_bytes"`
	// PeakRSS is the process's resident high-water mark; 0 when unknown.
	PeakRSS uint64 `json:"peak_rss_bytes"`
	// IdleRSS is the child's resident size before its first run.
	IdleRSS uint64 `json:"idle_rss_bytes,omitempty"`
	// Capped: the source was stopped by the time cap.
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

// aggregate combines the results of runs of one cell: the figures of the
// median run by records/s (the lower middle for an even count), the median
// allocations per record, and the highest peaks.
func aggregate(rs []cellResult) cellResult {
	byRate := slices.Clone(rs)
	slices.SortStableFunc(byRate, func(a, b cellResult) int { return cmpFloat(a.rate(), b.rate()) })
	out := byRate[(len(byRate)-1)/2]
	allocs := make([]float64, len(rs))
	out.Runs = 0
	for i, r := range rs {
		allocs[i] = r.AllocsPerRecord
		out.PeakHeap = max(out.PeakHeap, r.PeakHeap)
		out.PeakRSS = max(out.PeakRSS, r.PeakRSS)
		out.Runs += max(r.Runs, 1)
		if r.IdleRSS > 0 && (out.IdleRSS == 0 || r.IdleRSS < out.IdleRSS) {
			out.IdleRSS = r.IdleRSS
		}
	}
	slices.Sort(allocs)
	out.AllocsPerRecord = allocs[(len(allocs)-1)/2]
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
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

// benchRow is one row of the --json output.
type benchRow struct {
	Table           string  `json:"table"`
	Workload        string  `json:"workload"`
	Sink            string  `json:"sink"`
	Engine          string  `json:"engine"`
	Config          string  `json:"config"` // static or adaptive
	Batch           int     `json:"batch"`
	Workers         int     `json:"workers"`
	LoadLimit       int     `json:"load_limit,omitempty"`
	Records         int64   `json:"records"`
	Seconds         float64 `json:"seconds"`
	RecordsPerSec   float64 `json:"records_per_sec"`
	AllocsPerRecord float64 `json:"allocs_per_record"`
	PeakHeapBytes   uint64  `json:"peak_heap_bytes"`
	PeakRSSBytes    uint64  `json:"peak_rss_bytes"`
	Best            bool    `json:"best"`
	Runs            int     `json:"runs"`
	TimeCapped      bool    `json:"time_capped,omitempty"`
	RatioToBest     float64 `json:"ratio_to_best,omitempty"`
}

func newBenchRow(c benchCell, r cellResult) benchRow {
	row := benchRow{
		Table: c.Table, Workload: c.Workload, Sink: c.Sink, Engine: "weir", Config: "static",
		Batch: r.Batch, Workers: r.Workers, LoadLimit: r.LoadLimit, Records: r.Records,
		Seconds: r.Seconds, RecordsPerSec: r.rate(), AllocsPerRecord: r.AllocsPerRecord,
		PeakHeapBytes: r.PeakHeap, PeakRSSBytes: r.PeakRSS, Runs: r.Runs, TimeCapped: r.Capped,
	}
	if c.Adaptive {
		row.Config = "adaptive"
	}
	return row
}

// benchSweep is the sweep of one sink: rows in batch-major order.
type benchSweep struct {
	sink    string
	records int
	rows    []benchRow
	best    int
}

// benchRunner runs cells, in child processes or in this one, and reports
// progress.
type benchRunner struct {
	// child builds the command that measures one cell; nil runs cells in
	// this process.
	child  func(ctx context.Context, spec string) *exec.Cmd
	stderr io.Writer
	done   int
	total  int
	// idleRSS is the smallest resident size a child had before its first
	// run.
	idleRSS uint64
}

func (r *benchRunner) run(ctx context.Context, c benchCell) (cellResult, error) {
	r.done++
	fmt.Fprintf(r.stderr, "weir bench: [%d/%d] %v … ", r.done, r.total, c)
	start := time.Now()
	var res cellResult
	var err error
	if r.child == nil {
		c.inProcess = true
		res, err = measureCell(ctx, c)
	} else {
		res, err = r.runChild(ctx, c)
	}
	if err != nil {
		fmt.Fprintln(r.stderr, "failed")
		return res, err
	}
	if res.IdleRSS > 0 && (r.idleRSS == 0 || res.IdleRSS < r.idleRSS) {
		r.idleRSS = res.IdleRSS
	}
	note := ""
	if res.Capped {
		note = ", stopped by the time cap"
	}
	fmt.Fprintf(r.stderr, "%s records/s (%s wall%s)\n", fmtRate(res.rate()), fmtDuration(time.Since(start)), note)
	return res, nil
}

func (r *benchRunner) runChild(ctx context.Context, c benchCell) (cellResult, error) {
	spec, err := json.Marshal(c)
	if err != nil {
		return cellResult{}, fmt.Errorf("encode bench cell: %w", err)
	}
	cmd := r.child(ctx, string(spec))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return cellResult{}, ctx.Err()
		}
		return cellResult{}, fmt.Errorf("%v: child process: %w: %s", c, err, strings.TrimSpace(stderr.String()))
	}
	var res cellResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return cellResult{}, fmt.Errorf("%v: child process printed %q: %w", c, stdout.String(), err)
	}
	return res, nil
}

// selfCommand runs this executable as `weir bench --run-cell SPEC`.
func selfCommand(ctx context.Context, spec string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exec.CommandContext(ctx, exe, "bench", benchCellArg, spec)
}

// benchCmd is `weir bench`: see benchUsage.
func benchCmd(args []string, stdout, stderr io.Writer) error {
	return runBench(args, stdout, stderr, selfCommand)
}

// runBench is benchCmd with the command that starts a child process given,
// so that a test can start its own binary instead.
func runBench(args []string, stdout, stderr io.Writer, child func(ctx context.Context, spec string) *exec.Cmd) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 && args[0] == benchCellArg {
		return benchChild(ctx, args[1:], stdout)
	}
	f, err := parseBenchFlags(args, stderr)
	if err != nil {
		return err
	}
	r := &benchRunner{child: child, stderr: stderr}
	if f.inProcess {
		r.child = nil
	}
	return runBenchTables(ctx, f, r, stdout)
}

// benchChild measures the cell given as JSON in args[0] and prints the
// result as one JSON line.
func benchChild(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usagef("%s takes one argument, a cell as JSON", benchCellArg)
	}
	var c benchCell
	if err := json.Unmarshal([]byte(args[0]), &c); err != nil {
		return usagef("%s: %w", benchCellArg, err)
	}
	res, err := measureCell(ctx, c)
	if err != nil {
		return err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

func runBenchTables(ctx context.Context, f benchFlags, r *benchRunner, stdout io.Writer) error {
	start := time.Now()
	loadStart := loadAverage()
	if f.has(tableConfig) {
		r.total += (len(f.records) + len(f.fatRecords)) * len(seedConfigs)
	}
	if f.has(tableSweep) {
		r.total += len(f.sinks) * len(f.batches) * len(f.workers)
	}
	if f.has(tableAdaptive) {
		r.total += len(f.sinks) * 2 * f.adaptiveRuns
	}

	out := &benchOut{w: stdout, json: f.json}
	out.printf("# weir bench\n\n%s\n\n", machineLine(loadStart))
	if r.child != nil {
		out.printf("Each cell ran in a child process of its own: its peak RSS is the child's high-water mark (VmHWM), Go runtime included.\n\n")
	} else {
		out.printf("Every cell ran in this one process (--in-process): peak RSS is the process's high-water mark during the cell, reset before it through /proc/self/clear_refs (blank where that is not possible), and includes whatever the process held already.\n\n")
	}

	if f.has(tableConfig) {
		for _, shape := range []string{"slim", "fat"} {
			counts := f.records
			if shape == "fat" {
				counts = f.fatRecords
			}
			var rows []benchRow
			var refs []string
			for _, n := range counts {
				for _, sc := range seedConfigs {
					c := benchCell{Table: tableConfig, Workload: shape, Sink: "sum", Batch: sc.batch, Workers: sc.workers,
						Records: n, Runs: f.runs, Seed: f.seed}
					res, err := r.run(ctx, c)
					if err != nil {
						return err
					}
					rows = append(rows, newBenchRow(c, res))
					refs = append(refs, map[string]string{"slim": sc.slimRef, "fat": sc.fatRef}[shape])
				}
			}
			out.rows = append(out.rows, rows...)
			out.configTable(shape, f.runs, rows, refs, r.idleRSS)
		}
	}

	var sweeps []benchSweep
	if f.has(tableSweep) {
		out.printf("## Sweep: batch size × workers, slim records\n\n")
		out.printf("Slim records through `TransformSlim` into each sink, one run per cell, the cells of a sink in a shuffled order (so that a change in the machine's load shows as noise rather than as a trend along an axis). A cell reads %s; the rate is over the records it loaded (the records of a cell stopped early are in the JSON output). Cells stopped by the cap are marked †. The best cell of each sink is in bold.\n\n",
			capPhrase(f.cellTime))
		for si, sink := range f.sinks {
			sw := benchSweep{sink: sink, records: f.sinkRecords[sink]}
			var cells []benchCell
			for _, b := range f.batches {
				for _, w := range f.workers {
					c := f.sweepCell(sink)
					c.Batch, c.Workers = b, w
					cells = append(cells, c)
				}
			}
			// Run the cells in a shuffled order: a change in the machine's
			// load then shows as noise, not as a trend along an axis.
			sw.rows = make([]benchRow, len(cells))
			for _, i := range rand.New(rand.NewPCG(f.seed, uint64(si))).Perm(len(cells)) {
				res, err := r.run(ctx, cells[i])
				if err != nil {
					return err
				}
				sw.rows[i] = newBenchRow(cells[i], res)
			}
			for i, row := range sw.rows {
				if row.RecordsPerSec > sw.rows[sw.best].RecordsPerSec {
					sw.best = i
				}
			}
			sw.rows[sw.best].Best = true
			out.rows = append(out.rows, sw.rows...)
			out.sweepTable(f, sw)
			sweeps = append(sweeps, sw)
		}
		if f.chart != "" {
			if err := writeBenchChart(f.chart, sweeps, f.workers); err != nil {
				return err
			}
			fmt.Fprintf(r.stderr, "weir bench: chart written to %s\n", f.chart)
			out.printf("Chart: `%s`.\n\n", f.chart)
		}
	}

	if f.has(tableAdaptive) {
		var lines []adaptiveLine
		for _, sw := range sweeps {
			best := sw.rows[sw.best]
			static := f.sweepCell(sw.sink)
			static.Table, static.Batch, static.Workers = tableAdaptive, best.Batch, best.Workers
			static.Records, static.TimeCap = 0, f.adaptiveTime
			adaptive := static
			adaptive.Adaptive, adaptive.Batch, adaptive.Workers = true, 0, 0
			var sres, ares []cellResult
			for i := range f.adaptiveRuns {
				// Alternate which goes first, so that a drift in the
				// machine's load favours neither.
				order := []*benchCell{&static, &adaptive}
				if i%2 == 1 {
					order[0], order[1] = order[1], order[0]
				}
				for _, c := range order {
					res, err := r.run(ctx, *c)
					if err != nil {
						return err
					}
					if c.Adaptive {
						ares = append(ares, res)
					} else {
						sres = append(sres, res)
					}
				}
			}
			l := adaptiveLine{sink: sw.sink, sweepRate: best.RecordsPerSec,
				static: newBenchRow(static, aggregate(sres)), adaptive: newBenchRow(adaptive, aggregate(ares))}
			l.adaptive.RatioToBest = l.adaptive.RecordsPerSec / l.static.RecordsPerSec
			lines = append(lines, l)
			out.rows = append(out.rows, l.static, l.adaptive)
		}
		out.adaptiveTable(f, lines)
	}

	out.printf("Total time %s; load average %s at the start, %s at the end.\n", fmtDuration(time.Since(start)), loadStart, loadAverage())
	if f.json {
		out.writeJSON()
	}
	return out.err
}

// sweepCell is the cell of the sweep (or of the adaptive comparison) on
// sink, without its batch size and workers.
func (f benchFlags) sweepCell(sink string) benchCell {
	return benchCell{Table: tableSweep, Workload: "slim", Sink: sink, Records: f.sinkRecords[sink],
		TimeCap: f.cellTime, Runs: 1, Seed: f.seed, CPURounds: f.cpuRounds, IO: f.io}
}

func capPhrase(d time.Duration) string {
	if d == 0 {
		return "all its records (no time cap)"
	}
	return fmt.Sprintf("the records given below, or stops reading after %v, whichever comes first (at batch size 1 the I/O-bound sink would otherwise need minutes per cell)", d)
}

// adaptiveLine is one sink's comparison of the adaptive engine with the
// best static cell.
type adaptiveLine struct {
	sink             string
	sweepRate        float64
	static, adaptive benchRow
}

// benchOut writes the report: Markdown as it goes, or the rows as JSON at
// the end. It keeps the first write error.
type benchOut struct {
	w    io.Writer
	json bool
	rows []benchRow
	err  error
}

func (o *benchOut) printf(format string, args ...any) {
	if o.json || o.err != nil {
		return
	}
	if _, err := fmt.Fprintf(o.w, format, args...); err != nil {
		o.err = fmt.Errorf("write report: %w", err)
	}
}

func (o *benchOut) writeJSON() {
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, row := range o.rows {
		line, err := json.Marshal(row)
		if err != nil {
			o.err = fmt.Errorf("encode row: %w", err)
			return
		}
		b.WriteString("  ")
		b.Write(line)
		if i < len(o.rows)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]\n")
	if _, err := o.w.Write(b.Bytes()); err != nil {
		o.err = fmt.Errorf("write report: %w", err)
	}
}

func (o *benchOut) configTable(shape string, runs int, rows []benchRow, refs []string, idleRSS uint64) {
	what := "Slim records (`bench.SlimUser`, ~100 B) through `TransformSlim`"
	if shape == "fat" {
		what = "Fat records (`bench.FatUser`, ~55 KB in ~340 heap objects) through `TransformFat`"
	}
	o.printf("## The seed's configurations, %s records\n\n", shape)
	runsPhrase := "One run per cell; peak heap (heap object bytes, sampled every %v) and peak RSS are the run's"
	if runs > 1 {
		runsPhrase = fmt.Sprintf("Median of %d runs per cell; peak heap (heap object bytes, sampled every %%v) and peak RSS are the highest seen over the runs", runs)
	}
	o.printf("%s into a `SumSink` (the cheapest sink: this measures the engine, the generator and the transform). "+runsPhrase+"; allocations are the whole process's, per record.",
		what, heapSampleEvery)
	if idleRSS > 0 {
		o.printf(" An idle bench process holds %s resident before its first run.", fmtBytes(idleRSS))
	}
	o.printf(" The last column is the seed's published figure for its Rust engine on the seed author's machine: **not measured here**, for reference only; the seed's original run (500 × 8) used fat records, its optimised runs slim ones.\n\n")
	o.printf("| Batch × workers | Records | Time | Records/s | Peak heap | Peak RSS | Allocs/record | seed, Rust, their machine (not measured here) |\n")
	o.printf("|---|---:|---:|---:|---:|---:|---:|---|\n")
	for i, row := range rows {
		label := fmt.Sprintf("%d × %d", row.Batch, row.Workers)
		for _, sc := range seedConfigs {
			if sc.batch == row.Batch && sc.workers == row.Workers {
				label = sc.label
			}
		}
		o.printf("| %s | %s | %s | %s | %s | %s | %.2f | %s |\n", label, groupDigits(row.Records),
			fmtDuration(time.Duration(row.Seconds*float64(time.Second))), fmtRate(row.RecordsPerSec),
			fmtBytes(row.PeakHeapBytes), fmtBytes(row.PeakRSSBytes), row.AllocsPerRecord, refs[i])
	}
	o.printf("\n")
}

func (o *benchOut) sweepTable(f benchFlags, sw benchSweep) {
	desc := ""
	for _, s := range benchSinks {
		if s.name == sw.sink {
			desc = s.desc
		}
	}
	switch sw.sink {
	case "cpu":
		desc = fmt.Sprintf(desc, f.cpuRounds)
	case "io":
		desc = fmt.Sprintf(desc, f.io.RoundTrip, f.io.PerRecord, f.io.Limit)
	}
	o.printf("### %s sink: up to %s records per cell\n\n%s.\n\n", sw.sink, groupDigits(int64(sw.records)), desc)
	o.printf("| Batch \\ workers |")
	for _, w := range f.workers {
		o.printf(" %d |", w)
	}
	o.printf("\n|---:|%s\n", strings.Repeat("---:|", len(f.workers)))
	for i, row := range sw.rows {
		if i%len(f.workers) == 0 {
			o.printf("| %d |", row.Batch)
		}
		cell := fmtRate(row.RecordsPerSec) + "/s"
		if row.TimeCapped {
			cell += "†"
		}
		if row.Best {
			cell = "**" + cell + "**"
		}
		o.printf(" %s |", cell)
		if i%len(f.workers) == len(f.workers)-1 {
			o.printf("\n")
		}
	}
	b := sw.rows[sw.best]
	o.printf("\nBest: %s, %s records/s.\n\n", cellName(b.Batch, b.Workers), fmtRate(b.RecordsPerSec))
}

func (o *benchOut) adaptiveTable(f benchFlags, lines []adaptiveLine) {
	o.printf("## Adaptive engine against the best static cell\n\n")
	o.printf("`weir.Config{Adaptive: true}` and nothing else (default workers, batch size and load concurrency chosen by the controllers), against the best cell of the sweep re-measured here: %d alternating runs of each, every run reading for %v from an endless source (the adaptive run's start, before its controllers settle, is included), medians reported. The sweep's own figure for the best cell is the highest of many noisy cells and would flatter it. Target: adaptive ≥ %.0f%% of the best static cell.\n\n",
		f.adaptiveRuns, f.adaptiveTime, adaptiveTarget*100)
	o.printf("| Sink | Best static cell | Its sweep figure | Static, re-measured | Adaptive | Adaptive / static | Adaptive ended at (batch, workers, load limit) | Meets %.0f%%? |\n", adaptiveTarget*100)
	o.printf("|---|---|---:|---:|---:|---:|---|---|\n")
	for _, l := range lines {
		verdict := "yes"
		if l.adaptive.RatioToBest < adaptiveTarget {
			verdict = "**no**"
		}
		o.printf("| %s | %s | %s/s | %s/s | %s/s | %.0f%% | %d, %d, %d | %s |\n",
			l.sink, cellName(l.static.Batch, l.static.Workers), fmtRate(l.sweepRate), fmtRate(l.static.RecordsPerSec),
			fmtRate(l.adaptive.RecordsPerSec), 100*l.adaptive.RatioToBest,
			l.adaptive.Batch, l.adaptive.Workers, l.adaptive.LoadLimit, verdict)
	}
	o.printf("\n")
}

// cellName names a static configuration: "batch 128 × 4 workers".
func cellName(batch, workers int) string {
	if workers == 1 {
		return fmt.Sprintf("batch %d × 1 worker", batch)
	}
	return fmt.Sprintf("batch %d × %d workers", batch, workers)
}

// machineLine describes where the bench ran.
func machineLine(load string) string {
	cpu := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = ", " + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs (GOMAXPROCS %d)%s, %s; load average %s at the start.",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), cpu, runtime.Version(), load)
}

// loadAverage returns the 1-, 5- and 15-minute load averages, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if fields := strings.Fields(string(b)); err == nil && len(fields) >= 3 {
		return strings.Join(fields[:3], " ")
	}
	return "unknown"
}

// fmtRate writes r with three significant digits and a K or M suffix.
func fmtRate(r float64) string {
	unit := ""
	switch {
	case r == 0:
		return "0"
	case r >= 1e6:
		r, unit = r/1e6, "M"
	case r >= 1e3:
		r, unit = r/1e3, "K"
	}
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f%s", r, unit)
	case r >= 10:
		return fmt.Sprintf("%.1f%s", r, unit)
	}
	return fmt.Sprintf("%.2f%s", r, unit)
}

func fmtBytes(b uint64) string {
	switch {
	case b == 0:
		return "–"
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
}

func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// groupDigits writes n with commas between groups of three digits.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// writeBenchChart draws the sweeps into a PNG at path: one panel per sink,
// records/s against batch size (log scale), one line per worker count, the
// best cell ringed, the legend to the right of each panel. A panel whose
// rates span more than 50× gets a log y axis too.
func writeBenchChart(path string, sweeps []benchSweep, workers []int) error {
	if len(sweeps) == 0 {
		return errors.New("chart: no sweep to draw")
	}
	const panelW, panelH, legendW = 9 * vg.Inch, 3.6 * vg.Inch, 1.2 * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(panelW, panelH*vg.Length(len(sweeps))), vgimg.UseDPI(110))
	plots := make([][]*plot.Plot, len(sweeps))
	legends := make([]plot.Legend, len(sweeps))
	for i, sw := range sweeps {
		p, l, err := sweepPlot(sw, workers)
		if err != nil {
			return fmt.Errorf("chart %s: %w", sw.sink, err)
		}
		plots[i], legends[i] = []*plot.Plot{p}, l
	}
	tiles := draw.Tiles{Rows: len(sweeps), Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6),
		PadLeft: vg.Points(6), PadRight: vg.Points(6), PadY: vg.Points(18)}
	dc := draw.New(img)
	canvases := plot.Align(plots, tiles, draw.Crop(dc, 0, -legendW, 0, 0))
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
		tile := tiles.At(dc, 0, i)
		legends[i].Draw(draw.Crop(tile, tile.Max.X-tile.Min.X-legendW+vg.Points(12), 0, 0, -vg.Points(24)))
	}

	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(out); err != nil {
		out.Close()
		return fmt.Errorf("chart: write %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	return nil
}

func sweepPlot(sw benchSweep, workers []int) (*plot.Plot, plot.Legend, error) {
	p := plot.New()
	title := map[string]string{"memory": "memory-bound sink", "cpu": "CPU-bound sink", "io": "I/O-bound sink"}[sw.sink]
	p.Title.Text = fmt.Sprintf("weir bench: %s, slim records (best: %s)",
		title, cellName(sw.rows[sw.best].Batch, sw.rows[sw.best].Workers))
	p.X.Label.Text = "batch size (log scale)"
	p.X.Scale = plot.LogScale{}
	var xticks plot.ConstantTicks
	lo, hi := sw.rows[0].RecordsPerSec, sw.rows[0].RecordsPerSec
	for _, row := range sw.rows {
		if !slices.ContainsFunc(xticks, func(t plot.Tick) bool { return t.Value == float64(row.Batch) }) {
			xticks = append(xticks, plot.Tick{Value: float64(row.Batch), Label: strconv.Itoa(row.Batch)})
		}
		lo, hi = min(lo, row.RecordsPerSec), max(hi, row.RecordsPerSec)
	}
	p.X.Tick.Marker = xticks
	p.Y.Label.Text = "records/s"
	if hi > 50*lo {
		p.Y.Scale = plot.LogScale{}
		p.Y.Label.Text = "records/s (log scale)"
		p.Y.Tick.Marker = logRateTicks{}
		p.Y.Min, p.Y.Max = lo/1.5, hi*1.5
	} else {
		p.Y.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
			ticks := plot.DefaultTicks{}.Ticks(min, max)
			for i := range ticks {
				if ticks[i].Label != "" {
					ticks[i].Label = fmtRate(ticks[i].Value)
				}
			}
			return ticks
		})
		p.Y.Min, p.Y.Max = 0, hi*1.08
	}
	p.Add(plotter.NewGrid())
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true

	for j, w := range workers {
		var xys plotter.XYs
		for _, row := range sw.rows {
			if row.Workers == w {
				xys = append(xys, plotter.XY{X: float64(row.Batch), Y: row.RecordsPerSec})
			}
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, legend, err
		}
		line.Color = plotutil.Color(j)
		line.Width = vg.Points(1.5)
		points.Shape = plotutil.Shape(j)
		points.Color = plotutil.Color(j)
		p.Add(line, points)
		label := fmt.Sprintf("%d workers", w)
		if w == 1 {
			label = "1 worker"
		}
		legend.Add(label, line, points)
	}
	b := sw.rows[sw.best]
	best, err := plotter.NewScatter(plotter.XYs{{X: float64(b.Batch), Y: b.RecordsPerSec}})
	if err != nil {
		return nil, legend, err
	}
	best.GlyphStyle = draw.GlyphStyle{Shape: draw.RingGlyph{}, Radius: vg.Points(8), Color: color.Black}
	p.Add(best)
	legend.Add("best cell", best)
	return p, legend, nil
}

// logRateTicks labels 1, 2 and 5 times each power of ten, with K and M.
type logRateTicks struct{}

func (logRateTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for decade := math.Pow10(int(math.Floor(math.Log10(min)))); decade <= max; decade *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if v := m * decade; v >= min && v <= max {
				ticks = append(ticks, plot.Tick{Value: v, Label: fmtRate(v)})
			}
		}
	}
	return ticks
}
