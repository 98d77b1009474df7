package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/weir-etl/weir/connect/file"
	"github.com/weir-etl/weir/internal/redact"
	"github.com/weir-etl/weir/job"
)

const tuneUsage = `Usage: weir tune SOURCE TARGET [weir copy's flags] [flags]
       weir tune JOB.yaml [--from SOURCE] [--to TARGET] [flags]

Finds the --batch, --workers and --load-concurrency that load SOURCE into
TARGET fastest, by running the real copy (or job) on a sample of the
source, held in memory, into a scratch destination that it removes at the
end, even on failure or Ctrl-C: PostgreSQL: a schema weir_tune_<random> in
the target's database; SQLite: a file .weir-tune-*.db beside the target's;
a file: a directory .weir-tune-* beside it. The target itself is not
touched. It searches without walking the whole grid, prints each trial,
then the recommended flags, the job-file options, the finalists and the
bottleneck. docs/TUNING.md explains the search and how well it does.

Flags:
`

// tuneFlags are weir tune's flags: weir copy's (or weir run's --from and
// --to) and the search's own.
type tuneFlags struct {
	copy      copyFlags
	job       runFlags
	isJob     bool
	sample    int
	trialTime time.Duration
	chart     string
	grid      bool
	space     [3]string // --batches, --worker-counts, --loader-counts
}

func parseTuneFlags(args []string, stderr io.Writer) (tuneFlags, error) {
	var f tuneFlags
	fs := flag.NewFlagSet("tune", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, tuneUsage)
		fs.PrintDefaults()
	}
	key := f.copy.register(fs)
	fs.StringVar(&f.job.from, "from", "", "JOB.yaml: read this source instead of the job's")
	fs.StringVar(&f.job.to, "to", "", "JOB.yaml: tune against this database instead of the job's target")
	fs.IntVar(&f.sample, "sample", 200_000, "records of the source to tune on (read once, held in memory); a quick trial reads a quarter of them")
	fs.DurationVar(&f.trialTime, "time", 0, "stop each trial after this long (a quick trial after a quarter of it), or at the end of the sample; 0: read the whole sample")
	fs.StringVar(&f.chart, "chart", "", "draw the measured records/s into this PNG file")
	fs.BoolVar(&f.grid, "grid", false, "also measure every cell of the space, then both picks side by side, and print how close the search came and what it cost (for docs/TUNING.md)")
	fs.StringVar(&f.space[0], "batches", "", "comma-separated batch sizes to search (default 100,250,500,1000,2500,5000,10000,25000)")
	fs.StringVar(&f.space[1], "worker-counts", "", "comma-separated worker counts to search (default 1,2,3,4,6,8)")
	fs.StringVar(&f.space[2], "loader-counts", "", "comma-separated load concurrencies to search (default 0,1,2,4,8; one for SQLite and files)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return f, err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	switch {
	case len(pos) == 1 && (strings.HasSuffix(pos[0], ".yaml") || strings.HasSuffix(pos[0], ".yml")):
		f.isJob, f.job.file = true, pos[0]
		for _, name := range []string{"format", "null", "schema", "key", "if-exists", "resume", "on-error", "reject", "reject-append", "max-errors", "verify", "batch", "workers", "load-concurrency"} {
			if set[name] {
				return f, usagef("--%s is weir copy's; a job file sets it in its options:", name)
			}
		}
	case len(pos) == 2:
		f.copy.source, f.copy.target = pos[0], pos[1]
		if set["from"] || set["to"] {
			return f, usagef("--from and --to are for a job file; weir tune SOURCE TARGET names them")
		}
	default:
		return f, usagef("tune takes SOURCE and TARGET, or one JOB.yaml, got %s (weir tune -h for help)", count(len(pos), "argument"))
	}
	f.copy.sample = 1000 // copy's --sample default: the records its type inference reads
	switch {
	case f.sample < 1:
		return f, usagef("--sample must be at least 1, got %d", f.sample)
	case f.trialTime < 0:
		return f, usagef("--time must be positive, got %v", f.trialTime)
	case f.copy.resume:
		return f, usagef("--resume continues a copy; tune measures fresh ones into its scratch destination")
	}
	return f, f.copy.check(*key)
}

// minTrustedSample is the fewest records whose trials weir tune takes for
// measurements of throughput rather than of start-up.
const minTrustedSample = 10_000

func tuneCmd(args []string, stdout, stderr io.Writer) error {
	f, err := parseTuneFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// No pipeline is ever registered: a Ctrl-C cancels the trial at once,
	// and the scratch destination is removed on the way out.
	sig := handleStop(stderr, cancel)
	defer sig.end()
	return tune(ctx, f, stdout, nil)
}

// tune runs weir tune: opens the source and reads the sample, makes the
// scratch destination, searches (and with --grid, measures the grid),
// reports, and removes the scratch destination whatever happened. started
// is the tuner's test hook.
func tune(ctx context.Context, f tuneFlags, w io.Writer, started func()) (err error) {
	var (
		srcSpec, tgtSpec string
		j                *job.Job
	)
	if f.isJob {
		if j, err = job.ReadFile(f.job.file); err != nil {
			return &usageError{err}
		}
		srcSpec, tgtSpec = f.job.from, f.job.to
		if srcSpec == "" {
			srcSpec = relativeTo(f.job.file, j.Source)
		}
		if tgtSpec == "" {
			tgtSpec = relativeTo(f.job.file, j.Target)
		}
		for _, t := range j.Tables() {
			if strings.Contains(t.Name, ".") {
				return usagef("tune: table %s names a schema: tune loads into a scratch schema of its own, so the job's tables must not name one", t.Name)
			}
		}
	} else {
		srcSpec, tgtSpec = f.copy.source, f.copy.target
	}
	if tgtSpec == "" {
		return usagef("%s names no target: add target: to it, or pass --to", f.job.file)
	}
	scratch, err := newScratch(ctx, tgtSpec)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, scratch.Close(ctx)) }()

	sp, err := tuneSpaceOf(f, tgtSpec)
	if err != nil {
		return err
	}
	maxLoaders := sp.loaders[len(sp.loaders)-1]
	tn := &tuner{w: w, phase: "final", started: started}
	var start tuneCell
	var src *copySource
	if f.isJob {
		r0, err := openJob(ctx, runFlags{file: f.job.file, from: srcSpec, to: scratch.spec})
		if err != nil {
			return err
		}
		defer r0.close()
		src, tn.run = r0.src, jobTrials(r0, f.job.file, scratch.dir, f.trialTime)
		start = tuneCell{r0.job.Options.Batch, r0.job.Options.Workers, r0.job.Options.LoadConcurrency}
		if r0.tgt.maxLoaders > 0 {
			sp.loaders = []int{r0.tgt.maxLoaders}
		}
	} else {
		if src, err = openCopySource(ctx, srcSpec, f.copy); err != nil {
			return err
		}
		defer src.close()
		tgt, err := openCopyTarget(ctx, scratch.spec, src.table, maxLoaders)
		if err != nil {
			return err
		}
		defer tgt.close()
		tn.run = copyTrials(f.copy, tgt, scratch.dir, f.trialTime)
		start = tuneCell{f.copy.batch, f.copy.workers, f.copy.loadConcurrency}
		if tgt.maxLoaders > 0 {
			sp.loaders = []int{tgt.maxLoaders}
		}
	}
	if start.Batch == 0 {
		start.Batch = defaultCopyBatch
	}
	if start.Workers == 0 {
		start.Workers = runtime.GOMAXPROCS(0)
	}
	format, err := fileFormat(f.copy.format)
	if err != nil {
		return err
	}
	cfg := file.RowSourceConfig{Format: format, Null: f.copy.null, SampleSize: f.copy.sample}
	if f.isJob {
		cfg = file.RowSourceConfig{SampleSize: j.Options.Sample}
	}
	if tn.sample, err = readTuneSample(ctx, srcSpec, src, cfg, f.sample); err != nil {
		return err
	}
	fmt.Fprintf(w, "weir tune: %s → %s\n", src.desc, redact.String(tgtSpec))
	fmt.Fprintf(w, "sample: %s records in memory (%s), read in %s; quick trials read %s\n",
		groupDigits(int64(tn.sample.n)), tn.sample.size(), round(tn.sample.readTime), groupDigits(int64(tn.sample.quick)))
	fmt.Fprintf(w, "scratch: %s (removed at the end)\n", scratch.desc)
	fmt.Fprintf(w, "space: %s = %d cells\n", sp, sp.size())
	if big := sp.batches[len(sp.batches)-1]; tn.sample.quick < big {
		fmt.Fprintf(w, "note: a quick trial's %s records are fewer than the largest batch (%s): batches that large were not measured as such; use a larger --sample or --batches\n",
			groupDigits(int64(tn.sample.quick)), groupDigits(int64(big)))
	}
	if tn.sample.n < minTrustedSample {
		fmt.Fprintf(w, "note: the sample holds only %s records: trials this short measure start-up, not throughput, so the recommendation below is a guess; tune on %s records or more\n",
			groupDigits(int64(tn.sample.n)), groupDigits(minTrustedSample))
	}
	fmt.Fprintln(w)

	t0 := time.Now()
	pick, err := tuneSearch(ctx, sp, start, tn.measure)
	if err != nil {
		return err
	}
	searchTime, searchTrials := time.Since(t0), len(tn.trials)
	fmt.Fprintf(w, "\nsearched %d trials (%d cells of %d) in %s\n", searchTrials, distinctCells(tn.trials), sp.size(), round(searchTime))
	tuneReport(w, f, tn, sp, pick, srcSpec, tgtSpec)
	if f.grid {
		if err := tuneProof(ctx, w, tn, sp, pick, searchTime); err != nil {
			return err
		}
	}
	if f.chart != "" {
		if err := tuneChart(f.chart, tn.trials, pick); err != nil {
			return err
		}
		fmt.Fprintf(w, "chart: %s\n", f.chart)
	}
	return nil
}

// tuneSpaceOf is the default space for the target, with the flags'
// overrides.
func tuneSpaceOf(f tuneFlags, target string) (tuneSpace, error) {
	sp := defaultTuneSpace(0)
	if !strings.HasPrefix(target, "postgres://") && !strings.HasPrefix(target, "postgresql://") {
		sp = defaultTuneSpace(1)
	}
	lists := []*[]int{&sp.batches, &sp.workers, &sp.loaders}
	for i, name := range []string{"batches", "worker-counts", "loader-counts"} {
		if f.space[i] == "" {
			continue
		}
		v, err := parseInts(name, f.space[i], i == 2)
		if err != nil {
			return sp, err
		}
		*lists[i] = v
	}
	return sp, nil
}
