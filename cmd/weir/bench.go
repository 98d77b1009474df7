// weir bench: the command's entry point and its flags. The other
// bench_*.go files hold the rest: measuring one cell (bench_measure.go),
// running cells in child processes (bench_runner.go), building the tables
// (bench_tables.go), writing them (bench_report.go) and drawing the sweep
// (bench_chart.go).

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/bench"
)

const benchUsage = `Usage: weir bench [flags]

Reproduces the performance report of the reference tuning guide (a Rust
ETL framework's, which weir follows; called "the seed" in the tables) with
weir's own engine:

  1. the guide's configurations (batch 500 × 8 workers, 64 × 3, 128 × 4, and
     its "start with defaults" 100 × 4) on slim (~100 B) and fat (~55 KB)
     user records into a SumSink, with time, records/s, peak heap, peak RSS
     and allocations per record, next to the guide's published numbers;
  2. a sweep of batch size × workers on a memory-, a CPU- and an I/O-bound
     sink, in rounds of shuffled cells, the cell with the best median
     marked;
  3. the adaptive engine (weir.Config{Adaptive: true}) against the best
     static cell of each sink.

Every figure of records/s is the median of a cell's runs with the slowest
and fastest run in brackets, "median [min..max]" (one run: no range).

Markdown tables go to stdout (or one JSON array with --json), progress to
stderr. Each cell runs in a child process of its own, so that its peak RSS
is its own.

Flags:
`

// benchCellArg makes `weir bench` measure one cell, given as JSON in the
// next argument, and print the result as JSON: what a child process does.
// It is not a flag users see.
const benchCellArg = "--run-cell"

// Names of the tables, as --tables and the JSON "table" field spell them.
const (
	tableConfig   = "config"
	tableSweep    = "sweep"
	tableAdaptive = "adaptive"
)

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

type benchFlags struct {
	records, fatRecords []int
	runs                int
	sweepRuns           int
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
	fs.IntVar(&f.runs, "runs", 3, "runs per cell of the configuration table; the median run is reported, with the range of the runs' rates")
	fs.IntVar(&f.sweepRuns, "sweep-runs", 3, "runs per cell of the sweep, in rounds that each run every cell once in a shuffled order; cells are compared by their median, reported with the range of the runs' rates")
	fs.StringVar(&tables, "tables", "config,sweep,adaptive", "tables to produce: config, sweep, adaptive (adaptive needs sweep)")
	fs.StringVar(&sinks, "sinks", "memory,cpu,io", "sinks of the sweep")
	fs.StringVar(&batches, "batches", "1,8,64,128,256,500,1000,4096", "batch sizes of the sweep")
	fs.StringVar(&workers, "workers", "1,2,3,4,8", "worker counts of the sweep")
	fs.StringVar(&memRecords, "memory-records", "2M", "slim records per sweep cell on the memory-bound sink")
	fs.StringVar(&cpuRecords, "cpu-records", "1M", "slim records per sweep cell on the CPU-bound sink")
	fs.StringVar(&ioRecords, "io-records", "500k", "slim records per sweep cell on the I/O-bound sink")
	fs.DurationVar(&f.cellTime, "cell-time", 200*time.Millisecond, "a run of a sweep cell stops reading after this long even if records remain (0: no cap); 200ms since the sweep runs each cell 3 times (--sweep-runs)")
	fs.IntVar(&f.cpuRounds, "cpu-rounds", bench.DefaultCPURounds, "hashing rounds per record of the CPU-bound sink")
	fs.DurationVar(&f.io.RoundTrip, "io-round-trip", bench.DefaultRoundTrip, "fixed latency of one write to the I/O-bound sink")
	fs.DurationVar(&f.io.PerRecord, "io-per-record", bench.DefaultPerRecord, "added latency per record of one write to the I/O-bound sink")
	fs.IntVar(&f.io.Limit, "io-limit", bench.DefaultIOLimit, "writes the I/O-bound sink serves at full speed at once")
	fs.IntVar(&f.adaptiveRuns, "adaptive-runs", 3, "alternating runs of the best static cell and of the adaptive engine per sink; medians are reported, with the range of the runs' rates")
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
	case f.sweepRuns < 1:
		return f, usagef("--sweep-runs must be at least 1, got %d", f.sweepRuns)
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
