package main

import (
	"cmp"
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
  data.parquet, 'data/*.parquet'                           Parquet, typed by the file's schema (no sample)
  -                                                        standard input, with --format
  postgres://USER@HOST:PORT/DB?table=T (or &query=SELECT…, &schema=S)
  sqlite:PATH?table=T (or ?query=SELECT…)
  sqlite:PATH                                              a whole database, into postgres:// (see docs/DATABASES.md)
  mysql://USER[:PASS]@HOST:PORT/DB                         a whole MySQL/MariaDB database, into postgres://
                                                           (?table=T: one table, same type mapping; docs/MYSQL.md)
  mongodb://HOST:PORT/DB.COLLECTION

TARGET is one of
  sqlite:PATH[?table=T]
  postgres://USER@HOST:PORT/DB[?table=T&schema=S]
  out.csv, out.tsv, out.jsonl, out.parquet
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
	metrics         metricsFlags
	db              dbFlags // a whole database: copy_db*.go
	memory          memoryFlag
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
	fs.IntVar(&f.sample, "sample", 1000, "records read ahead to infer column types (and JSON columns) when the target table does not exist")
	key := f.register(fs)
	f.metrics.register(fs)
	f.db.register(fs)
	f.nats.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return f, err
	}
	if len(pos) != 2 {
		return f, usagef("copy takes SOURCE and TARGET, got %s (weir copy -h for help)", count(len(pos), "argument"))
	}
	f.source, f.target = pos[0], pos[1]
	return f, f.check(*key)
}

// register adds copy's flags but --sample to fs (weir tune takes them
// too, with a --sample of its own) and returns where --key goes, for check.
func (f *copyFlags) register(fs *flag.FlagSet) *string {
	key := new(string)
	fs.StringVar(&f.format, "format", "", "the source's format when its name does not say: csv, tsv, jsonl (ndjson) or json (required for -)")
	fs.StringVar(&f.null, "null", "", `CSV: an unquoted field equal to this is NULL (an unquoted empty field always is; a quoted "" is the empty string)`)
	fs.StringVar(&f.schemaFile, "schema", "", "YAML file declaring the columns' types (and key), instead of inferring them")
	fs.StringVar(key, "key", "", "comma-separated key columns: the load upserts on them (idempotent), which --resume needs")
	fs.StringVar(&f.ifExists, "if-exists", "fail", "when the target table already holds rows: fail (refuse), append, truncate (empty it first) or replace (drop and create it)")
	fs.BoolVar(&f.resume, "resume", false, "continue where the last run of the same copy stopped (a checkpoint kept in the target); needs --key, or PostgreSQL")
	f.reject.register(fs)
	fs.IntVar(&f.batch, "batch", defaultCopyBatch, "records per batch: one COPY or INSERT transaction each")
	fs.IntVar(&f.workers, "workers", 0, "batches converted at once (0: one per CPU)")
	fs.IntVar(&f.loadConcurrency, "load-concurrency", 0, "batches loaded at once (0: one per worker; SQLite and files take one at a time)")
	fs.BoolVar(&f.verify, "verify", false, "after the load, count the source's records again and the target's rows, and compare")
	fs.StringVar(&f.progress, "progress", "auto", "progress display: auto, bar, log or off")
	f.memory.register(fs)
	return key
}

// check refuses contradictory flags and splits --key.
func (f *copyFlags) check(key string) error {
	if key != "" {
		for _, k := range strings.Split(key, ",") {
			if k = strings.TrimSpace(k); k == "" {
				return usagef("--key %q: an empty column name", key)
			}
			f.key = append(f.key, strings.TrimSpace(k))
		}
	}
	switch {
	case f.sample < 1:
		return usagef("--sample must be at least 1, got %d", f.sample)
	case !slices.Contains(ifExistsModes, f.ifExists):
		return usagef("--if-exists must be fail, append, truncate or replace, got %q", f.ifExists)
	case !slices.Contains([]string{"auto", "bar", "log", "off"}, f.progress):
		return usagef("--progress must be auto, bar, log or off, got %q", f.progress)
	case f.resume && f.ifExists != "fail":
		return usagef("--resume continues a run; --if-exists %s starts another: pick one", f.ifExists)
	}
	if err := f.nats.check(); err != nil {
		return err
	}
	return f.reject.check()
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
	ms, err := f.metrics.serve(stderr)
	if err != nil {
		return err
	}
	defer ms.stop()
	if f.nats.url != "" {
		return copyCluster(ctx, f, args, stdout, stderr)
	}
	if open, url, only, ok := wholeDatabase(f); ok {
		return copyDatabase(ctx, stdout, stderr, f, ms, open, url, only)
	} else if f.db.used() {
		return usagef("--include, --exclude, --schema-only and --data-only copy a whole database: SOURCE must be one (sqlite:PATH, mysql://…) without ?table=")
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
	r, err := prepareCopy(ctx, stdout, f, src, tgt)
	if err != nil {
		return err
	}
	if r.dl != nil {
		defer r.dl.Close(context.WithoutCancel(ctx)) // the run closes it; this covers the paths that return before
	}
	plan, p, sink := r.plan, r.p, r.sink
	sig.running(p)
	ms.watch(cmp.Or(tgt.table, src.table, "copy"), p)
	fmt.Fprintf(stdout, "weir copy: %s → %s (%d columns; batch %d, workers %d, load concurrency %d)\n",
		src.desc, tgt, len(plan.cols), p.Config().BatchSize, p.Config().Workers, loaders(p.Config()))
	if plan.created {
		fmt.Fprintf(stdout, "created %s: %s\n", tgt, describeColumns(plan.cols))
	}
	var input inputProgress
	if ip, ok := src.src.(interface{ Progress() (int64, int64) }); ok {
		input = ip.Progress
	}
	prog := startProgressOfInput(f.progress, stderr, p, -1, func() map[string]int64 { return map[string]int64{"": sink.Rows()} }, "records", input)
	runErr := p.Run(ctx)
	prog.stop()

	st := p.Stats()
	copyReport(stdout, st, sink.Rows(), &f.reject)
	if runErr != nil {
		how := "fix the cause and rerun"
		switch {
		case st.Checkpoint != nil:
			how = fmt.Sprintf("checkpoint saved at %s: rerun the same command with --resume to continue", st.Checkpoint)
		case plan.checkpointed:
			how = "rerun the same command with --resume to continue"
		case plan.resumable:
			// No position was saved: --resume would have nothing to continue.
			how = "rerun with --if-exists truncate to start over (a copy run with --resume, or --key, from its first run can be continued instead)"
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

// copyRun is a copy ready to run: the target prepared as planned, the
// pipeline and its sink, and the reject file (nil without --on-error skip).
type copyRun struct {
	plan *copyPlan
	p    *weir.Pipeline[connect.Row, connect.Row]
	sink rowSink
	dl   *rejectSink
}

// prepareCopy plans the copy of src into tgt as f asks, builds the pipeline
// and then prepares the target (drops, creates or empties the table), for
// weir copy and for each trial of weir tune. The caller closes r.dl; on
// error prepareCopy closes it.
func prepareCopy(ctx context.Context, w io.Writer, f copyFlags, src *copySource, tgt *copyTarget) (r *copyRun, err error) {
	plan, err := planCopy(ctx, src, tgt, f)
	if err != nil {
		return nil, err
	}
	cfg, opts, dl, err := copyConfig(ctx, w, f, src, tgt, plan)
	if err != nil {
		return nil, err
	}
	if dl != nil {
		defer func() {
			if err != nil {
				dl.Close(context.WithoutCancel(ctx))
			}
		}()
		opts = append(opts, weir.WithDeadLetter(dl))
	}
	// The sink and the pipeline touch nothing until the run: a config they
	// refuse is refused before the table is created or emptied.
	sink, err := tgt.sink(tgt.table, plan.cols, plan.key, plan.conflict)
	if err != nil {
		return nil, usagef("copy into %s: %w", tgt, err)
	}
	if h, ok := sink.(interface{ hooks() weir.Hooks }); ok { // a Parquet file: published when the run succeeds
		opts = append(opts, weir.WithHooks(h.hooks()))
	}
	p, err := weir.New(src.src, plan.transform(src.names), weir.Sink[connect.Row](sink), cfg, opts...)
	if err != nil {
		return nil, &usageError{err}
	}
	if err := plan.apply(ctx, tgt); err != nil {
		return nil, err
	}
	return &copyRun{plan: plan, p: p, sink: sink, dl: dl}, nil
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
	if err := f.memory.apply(&cfg); err != nil {
		return cfg, nil, nil, err
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
