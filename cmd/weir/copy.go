package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

const copyUsage = `Usage: weir copy SOURCE TARGET [flags]

Copies records from SOURCE into TARGET, creating the target table from
types inferred from a sample of the source when it does not exist.

SOURCE is one of
  data.csv, data.tsv, data.jsonl, data.ndjson, data.json   a file (a JSON array or JSON Lines), maybe .gz
  'data/*.csv'                                             a glob of files with the same columns
  -                                                        standard input, with --format
  postgres://USER@HOST:PORT/DB?table=T (or &query=SELECT…, &schema=S)
  sqlite:PATH?table=T (or ?query=SELECT…)
  mongodb://HOST:PORT/DB.COLLECTION

TARGET is one of
  sqlite:PATH[?table=T]
  postgres://USER@HOST:PORT/DB[?table=T&schema=S]
  out.csv, out.tsv, out.jsonl
The table defaults to the source's name: zipcodes.csv → zipcodes.

Exit status: 0 done, 1 the run failed, 2 bad usage, bad input or an
unreachable database, with nothing written.

Flags:
`

// copyFlags are weir copy's flags; the two arguments are source and target.
type copyFlags struct {
	source, target  string
	format          string
	null            string
	sample          int
	schemaFile      string
	key             []string
	ifExists        string
	resume          bool
	reject          rejectFlags
	batch, workers  int
	loadConcurrency int
	verify          bool
	progress        string
	nats            natsFlags
}

// defaultCopyBatch is weir copy's batch size. A bulk copy pays a
// transaction per batch (BEGIN with its id, COPY, COMMIT): at weir's
// engine default of 128 records that overhead doubled PostgreSQL's CPU per
// row on an 8-column CSV (bench/pgload/run.sh --copycmd-rows); 5,000 rows
// keep it small while a batch of typical rows stays a few MB.
const defaultCopyBatch = 5000

// ifExists values, the first the default: a table that holds rows is
// refused, so that running the same copy twice never doubles them.
var ifExistsModes = []string{"fail", "append", "truncate", "replace"}

func parseCopyFlags(args []string, stderr io.Writer) (copyFlags, error) {
	var f copyFlags
	fs := flag.NewFlagSet("copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, copyUsage)
		fs.PrintDefaults()
	}
	var key string
	fs.StringVar(&f.format, "format", "", "the source's format when its name does not say: csv, tsv, jsonl (ndjson) or json (required for -)")
	fs.StringVar(&f.null, "null", "", `CSV: an unquoted field equal to this is NULL (an unquoted empty field always is; a quoted "" is the empty string)`)
	fs.IntVar(&f.sample, "sample", 1000, "records read ahead to infer column types (and JSON columns) when the target table does not exist")
	fs.StringVar(&f.schemaFile, "schema", "", "YAML file declaring the columns' types (and key), instead of inferring them")
	fs.StringVar(&key, "key", "", "comma-separated key columns: the load upserts on them (idempotent), which --resume needs")
	fs.StringVar(&f.ifExists, "if-exists", "fail", "when the target table already holds rows: fail (refuse), append, truncate (empty it first) or replace (drop and create it)")
	fs.BoolVar(&f.resume, "resume", false, "continue where the last run of the same copy stopped (a checkpoint kept in the target); needs --key, or PostgreSQL")
	f.reject.register(fs)
	f.nats.register(fs)
	fs.IntVar(&f.batch, "batch", defaultCopyBatch, "records per batch: one COPY or INSERT transaction each")
	fs.IntVar(&f.workers, "workers", 0, "batches converted at once (0: one per CPU)")
	fs.IntVar(&f.loadConcurrency, "load-concurrency", 0, "batches loaded at once (0: one per worker; SQLite and files take one at a time)")
	fs.BoolVar(&f.verify, "verify", false, "after the load, count the source's records again and the target's rows, and compare")
	fs.StringVar(&f.progress, "progress", "auto", "progress display: auto, bar, log or off")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return f, err
	}
	if len(pos) != 2 {
		return f, usagef("copy takes SOURCE and TARGET, got %d arguments (weir copy -h for help)", len(pos))
	}
	f.source, f.target = pos[0], pos[1]
	if key != "" {
		for _, k := range strings.Split(key, ",") {
			if k = strings.TrimSpace(k); k == "" {
				return f, usagef("--key %q: an empty column name", key)
			}
			f.key = append(f.key, strings.TrimSpace(k))
		}
	}
	switch {
	case f.sample < 1:
		return f, usagef("--sample must be at least 1, got %d", f.sample)
	case !slices.Contains(ifExistsModes, f.ifExists):
		return f, usagef("--if-exists must be fail, append, truncate or replace, got %q", f.ifExists)
	case !slices.Contains([]string{"auto", "bar", "log", "off"}, f.progress):
		return f, usagef("--progress must be auto, bar, log or off, got %q", f.progress)
	case f.resume && f.ifExists != "fail":
		return f, usagef("--resume continues a run; --if-exists %s starts another: pick one", f.ifExists)
	}
	if err := f.nats.check(); err != nil {
		return f, err
	}
	return f, f.reject.check()
}

func copyCmd(args []string, stdout, stderr io.Writer) error {
	f, err := parseCopyFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := handleStop(stderr, cancel)
	defer sig.end()
	if f.nats.url != "" {
		return copyCluster(ctx, f, args, stdout, stderr)
	}

	// Everything that can be refused is checked before the target is
	// touched (see planCopy), so a usage error leaves nothing behind.
	src, err := openCopySource(ctx, f.source, f)
	if err != nil {
		return err
	}
	defer src.close()
	tgt, err := openCopyTarget(ctx, f.target, src.table, f.loadConcurrency)
	if err != nil {
		return err
	}
	defer tgt.close()
	plan, err := planCopy(ctx, src, tgt, f)
	if err != nil {
		return err
	}
	cfg, opts, dl, err := copyConfig(ctx, stdout, f, src, tgt, plan)
	if err != nil {
		return err
	}
	if dl != nil {
		defer dl.Close(context.WithoutCancel(ctx)) // the run closes it; this covers the paths that return before
		opts = append(opts, weir.WithDeadLetter(dl))
	}
	// The sink and the pipeline touch nothing until the run: a config they
	// refuse is refused before the table is created or emptied.
	sink, err := tgt.sink(tgt.table, plan.cols, plan.key, plan.conflict)
	if err != nil {
		return usagef("copy into %s: %w", tgt, err)
	}
	p, err := weir.New(src.src, plan.transform(src.names), weir.Sink[connect.Row](sink), cfg, opts...)
	if err != nil {
		return &usageError{err}
	}
	if err := plan.apply(ctx, tgt); err != nil {
		return err
	}
	sig.running(p)
	fmt.Fprintf(stdout, "weir copy: %s → %s (%d columns; batch %d, workers %d, load concurrency %d)\n",
		src.desc, tgt, len(plan.cols), p.Config().BatchSize, p.Config().Workers, loaders(p.Config()))
	if plan.created {
		fmt.Fprintf(stdout, "created %s: %s\n", tgt, describeColumns(plan.cols))
	}
	prog := startProgressOf(f.progress, stderr, p, -1, func() map[string]int64 { return map[string]int64{"": sink.Rows()} }, "records")
	runErr := p.Run(ctx)
	prog.stop()

	st := p.Stats()
	copyReport(stdout, st, sink.Rows(), &f.reject)
	if runErr != nil {
		how := "fix the cause and rerun"
		switch {
		case st.Checkpoint != nil:
			how = fmt.Sprintf("checkpoint saved at %s: rerun the same command with --resume to continue", st.Checkpoint)
		case plan.resumable:
			how = "rerun the same command with --resume to continue"
		case !tgt.isFile:
			how = "rerun with --if-exists truncate to start over"
		}
		if errors.Is(runErr, context.Canceled) || errors.Is(runErr, weir.ErrStopped) {
			return fmt.Errorf("copy into %s: interrupted: %s", tgt, how)
		}
		return fmt.Errorf("copy into %s: %w; %s", tgt, runErr, how)
	}
	return checkCopy(ctx, stdout, f, src, tgt, plan, st, sink.Rows())
}

// copyConfig builds the engine's config and options from the flags, and
// opens the reject file.
func copyConfig(ctx context.Context, w io.Writer, f copyFlags, src *copySource, tgt *copyTarget, plan *copyPlan) (weir.Config, []weir.Option, *rejectSink, error) {
	cfg := weir.Config{BatchSize: f.batch, Workers: f.workers, LoadConcurrency: f.loadConcurrency}
	if tgt.maxLoaders > 0 {
		if f.loadConcurrency > tgt.maxLoaders {
			return cfg, nil, nil, usagef("--load-concurrency %d: %s takes one writer at a time", f.loadConcurrency, tgt)
		}
		cfg.LoadConcurrency = tgt.maxLoaders
	}
	var opts []weir.Option
	if tgt.retryable != nil {
		cfg.Retry = weir.RetryPolicy{MaxAttempts: 10, InitialBackoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxElapsed: 2 * time.Minute}
		opts = append(opts, weir.WithRetryable(tgt.retryable))
	}
	f.reject.policy(&cfg)
	if err := cfg.Validate(); err != nil {
		return cfg, nil, nil, &usageError{err}
	}
	if f.reject.skip() && f.resume && !f.reject.append {
		if n, err := countLines(f.reject.path); err != nil {
			return cfg, nil, nil, fmt.Errorf("--reject %s: %w", f.reject.path, err)
		} else if n > 0 {
			return cfg, nil, nil, usagef("--reject %s holds %d rejects, maybe from the run --resume continues: pass --reject-append to keep them, or move the file", f.reject.path, n)
		}
	}
	// With a key, every run keeps a checkpoint, so that any of them can be
	// resumed; without one, only a --resume run loads each batch with its
	// checkpoint (one batch at a time).
	_, positioned := src.src.(weir.Positioner)
	if f.resume || (len(plan.key) > 0 && plan.resumable && positioned) {
		opt, err := resumeOption(ctx, w, f, src, tgt, plan)
		if err != nil {
			return cfg, nil, nil, err
		}
		opts = append(opts, opt)
		if plan.exactlyOnce {
			if cfg.OnLoadError == weir.Skip {
				return cfg, nil, nil, usagef("--resume without --key loads each batch and its checkpoint in one transaction, which cannot set records aside at load: pass --key, or --on-error fail")
			}
			cfg.LoadConcurrency = 0 // the workers commit, in order
		}
	}
	dl, err := f.reject.open()
	return cfg, opts, dl, err
}

// describeColumns lists columns as "id bigint, name text, ...".
func describeColumns(cols []connect.Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.Name + " " + c.Type.String()
	}
	return strings.Join(parts, ", ")
}

// parseArgs parses args with fs, letting flags come before, between or
// after the positional arguments, which it returns.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, &usageError{err}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
