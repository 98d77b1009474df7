// Command peers compares weir with peer engines on bench's slim-user
// workload: 1,000,000 and 5,000 records, batches of 128, 4 workers, the
// records generated inside each engine's source by bench.NewSlimSource,
// transformed by bench.TransformSlim and summed by a bench.SumSink.
//
// The engines are weir, a hand-written channel-of-slices pipeline (the
// practical ceiling), Benthos v4 (public/service plugins), rill (Generate
// of 128-record slices + ForEach) and conc (a context pool), every one fed
// slices of records. Each lives in this separate module so
// weir's users never download them.
//
// Usage, from bench/peers:
//
//	go run .                       # tables, every run in its own process
//	go run . --json                # the same as one JSON array
//	go run . -mode all-in-one      # every run in one process that links Benthos
//	go run . -mode per-process-linked  # per process, but every binary links Benthos
//
// In the default per-process mode, the program re-executes a binary once per
// engine, size and round (-engine NAME -records N), so no engine runs in a
// process another engine has used; Benthos runs from a second binary built
// with the benthos tag, so the other engines run from one that does not link
// it. Rounds alternate the engines (each round starts one engine further
// along) and the figures printed are medians over the rounds, records/s
// and its ratio with their ranges [min..max]; ratios to weir are the
// medians of the per-round ratios.
//
// A 1,000,000-record sample is one measured run after a 5,000-record
// warm-up. A 5,000-record sample is the median of -small-reps runs (200)
// inside one process after the same warm-up. Allocations are
// runtime.MemStats.Mallocs read around each run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
)

// options are the command line.
type options struct {
	json      bool
	mode      string
	rounds    int
	sizes     []int
	smallReps int
	engines   []string
	benthos   string
	verbose   bool

	// Child mode: measure engines (comma-separated) at records records.
	engine     string
	records    int
	reps       int
	cpuprofile string
}

func parseOptions(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	fs.BoolVar(&o.json, "json", false, "print one JSON array of rows {engine, records, records_per_sec, ns_per_record, allocs_per_record}")
	fs.StringVar(&o.mode, "mode", "per-process", "per-process (each sample in its own process; only benthos's binary links Benthos), per-process-linked (the same, every binary linking Benthos) or all-in-one (every run in one process of a binary that links Benthos)")
	fs.IntVar(&o.rounds, "rounds", 7, "alternating rounds per size; the figures are medians over them")
	sizes := fs.String("sizes", "1000000,5000", "record counts to run, comma-separated")
	fs.IntVar(&o.smallReps, "small-reps", 200, "runs per sample for sizes below 100,000 (the sample is the median run)")
	engines := fs.String("engines", strings.Join(engineNames, ","), "engines to run, comma-separated; weir must be one of them")
	fs.StringVar(&o.benthos, "benthos", "", "benthos stream knobs, key=value comma-separated: input_batch, threads, max_in_flight, out_count (0: no batching policy), out_period")
	fs.BoolVar(&o.verbose, "v", false, "print each sample to stderr as it is taken")
	fs.StringVar(&o.engine, "engine", "", "child mode: measure these engines (comma-separated) in this process and print JSON lines")
	fs.IntVar(&o.records, "records", 0, "child mode: records per run")
	fs.IntVar(&o.reps, "reps", 1, "child mode: measured runs per sample")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "child mode: write a CPU profile of the whole child (warm-up included) to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	roundsSet := false
	fs.Visit(func(f *flag.Flag) { roundsSet = roundsSet || f.Name == "rounds" })
	if o.engine != "" && !roundsSet {
		o.rounds = 1 // a child measures one round unless told otherwise
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for s := range strings.SplitSeq(*sizes, ",") {
		n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-sizes: %q is not a positive record count", s)
		}
		o.sizes = append(o.sizes, n)
	}
	o.engines = strings.Split(*engines, ",")
	for _, e := range o.engines {
		if !isEngineName(e) {
			return o, fmt.Errorf("-engines: unknown engine %q (want some of %v)", e, engineNames)
		}
	}
	if o.engine == "" && !contains(o.engines, "weir") {
		return o, fmt.Errorf("-engines must include weir: every ratio is to weir")
	}
	switch {
	case o.mode != "per-process" && o.mode != "per-process-linked" && o.mode != "all-in-one":
		return o, fmt.Errorf("-mode must be per-process, per-process-linked or all-in-one, got %q", o.mode)
	case o.rounds < 1:
		return o, fmt.Errorf("-rounds must be at least 1, got %d", o.rounds)
	case o.smallReps < 1 || o.reps < 1:
		return o, fmt.Errorf("-small-reps and -reps must be at least 1")
	case o.engine != "" && o.records < 1:
		return o, fmt.Errorf("-engine needs -records >= 1")
	}
	return o, nil
}

func isEngineName(s string) bool { return contains(engineNames, s) }

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	o, err := parseOptions(args)
	if err != nil {
		return err
	}
	if tuning, err = parseTuning(tuning, o.benthos); err != nil {
		return err
	}
	if o.engine != "" {
		if o.cpuprofile != "" {
			f, err := os.Create(o.cpuprofile)
			if err != nil {
				return fmt.Errorf("cpu profile: %w", err)
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return fmt.Errorf("cpu profile: %w", err)
			}
			defer pprof.StopCPUProfile()
		}
		return childMain(ctx, os.Stdout, strings.Split(o.engine, ","), o.records, o.reps, o.rounds)
	}
	return orchestrate(ctx, o, os.Stdout, os.Stderr)
}
