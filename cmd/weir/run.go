package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
	"github.com/weir-etl/weir/connect/sqlite"
	"github.com/weir-etl/weir/job"
)

const runUsage = `Usage: weir run JOB.yaml [flags]
       weir plan JOB.yaml [flags]

run reads the job's source and loads the rows its tables declare into the
job's target, creating the tables that do not exist. plan checks the job
against its source and the live target and prints, per table, the DDL it
would run (or that the table exists) and where each column's value comes
from; it loads nothing. Relative paths in a job file are relative to the
file's directory. docs/JOBS.md describes the format; 'weir schema' prints
its JSON Schema.

Flags:
`

type runFlags struct {
	file     string
	from, to string
	resume   bool
	progress string
	metrics  metricsFlags
	memory   memoryFlag
	nats     natsFlags // cluster_run.go
}

func parseRunFlags(cmd string, args []string, stderr io.Writer) (runFlags, error) {
	var f runFlags
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, runUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.from, "from", "", "read this source instead of the job's (what weir copy takes as SOURCE)")
	fs.StringVar(&f.to, "to", "", "load into this database instead of the job's target (sqlite:PATH or postgres://…)")
	fs.BoolVar(&f.resume, "resume", false, "run: continue where the last run of the same job stopped, loading idempotently (ON CONFLICT DO NOTHING on the tables' keys)")
	fs.StringVar(&f.progress, "progress", "auto", "run: progress display: auto, bar, log or off")
	f.metrics.register(fs)
	f.memory.register(fs)
	f.nats.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return f, err
	}
	if len(pos) != 1 {
		return f, usagef("%s takes one job file, got %s (weir %s -h for help)", cmd, count(len(pos), "argument"), cmd)
	}
	f.file = pos[0]
	if !slices.Contains([]string{"auto", "bar", "log", "off"}, f.progress) {
		return f, usagef("--progress must be auto, bar, log or off, got %q", f.progress)
	}
	return f, f.nats.check()
}

// jobRun is a job opened against its source and target, checked, with
// what each table needs.
type jobRun struct {
	job    *job.Job
	prog   *job.Program
	src    *copySource
	tgt    *copyTarget
	tables []jobTable
}

type jobTable struct {
	connect.Table
	cols   []connect.Column
	exists bool
	rows   int64 // rows in it before the run
}

// openJob reads the job file, opens its source and target and checks
// every table, touching nothing. Every error is a usage error.
func openJob(ctx context.Context, f runFlags) (*jobRun, error) {
	j, err := job.ReadFile(f.file)
	if err != nil {
		return nil, &usageError{err}
	}
	from, to := f.from, f.to
	if from == "" {
		from = relativeTo(f.file, j.Source)
	}
	if to == "" {
		to = relativeTo(f.file, j.Target)
	}
	switch {
	case from == "":
		return nil, usagef("%s names no source: add source: to it, or pass --from", f.file)
	case to == "":
		return nil, usagef("%s names no target: add target: to it, or pass --to", f.file)
	}
	r := &jobRun{job: j}
	if r.src, err = openCopySource(ctx, from, copyFlags{sample: j.Options.Sample}); err != nil {
		return nil, err
	}
	if r.prog, err = j.Compile(r.src.names); err != nil {
		r.src.close()
		return nil, &usageError{err}
	}
	if r.tgt, err = openCopyTarget(ctx, to, "", j.Options.LoadConcurrency); err != nil {
		r.src.close()
		return nil, err
	}
	if r.tgt.isFile {
		r.close()
		return nil, usagef("%s: a job loads tables: its target must be sqlite:PATH or postgres://…, not a file", to)
	}
	if err := r.lookUpTables(ctx); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// lookUpTables sets r.tables: each of the job's tables as the target holds
// it. Every error is a usage error.
func (r *jobRun) lookUpTables(ctx context.Context) error {
	r.tables = nil
	for i, t := range r.job.Tables() {
		jt := jobTable{Table: t, cols: r.job.Columns(i)}
		existing, exists, err := r.tgt.columns(ctx, t.Name)
		if err != nil {
			return usagef("look up table %s in %s: %w", t.Name, r.tgt.db, err)
		}
		if exists {
			jt.exists = true
			for _, c := range jt.cols {
				if !slices.ContainsFunc(existing, func(e connect.Column) bool { return e.Name == c.Name }) {
					return usagef("table %s in %s has no column %q, which the job declares (columns: %s)", t.Name, r.tgt.db, c.Name, strings.Join(columnNames(existing), ", "))
				}
			}
			if jt.rows, err = r.tgt.count(ctx, t.Name); err != nil {
				return usagef("count the rows of %s in %s: %w", t.Name, r.tgt.db, err)
			}
		}
		r.tables = append(r.tables, jt)
	}
	return nil
}

// relativeTo resolves a path in a job file against the file's directory;
// URLs, "-" and absolute paths stay as they are.
func relativeTo(jobFile, spec string) string {
	switch {
	case spec == "" || spec == "-" || strings.Contains(spec, "://"):
		return spec
	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(spec, "sqlite:")
		if filepath.IsAbs(path) {
			return spec
		}
		return "sqlite:" + filepath.Join(filepath.Dir(jobFile), path)
	case filepath.IsAbs(spec):
		return spec
	}
	return filepath.Join(filepath.Dir(jobFile), spec)
}

func (r *jobRun) close() {
	if r.tgt != nil {
		r.tgt.close()
	}
	r.src.close()
}

func planCmd(args []string, stdout, stderr io.Writer) error {
	f, err := parseRunFlags("plan", args, stderr)
	if err != nil {
		return err
	}
	ctx := context.Background()
	r, err := openJob(ctx, f)
	if err != nil {
		return err
	}
	defer r.close()
	fmt.Fprintf(stdout, "job %s: %s → %s\nsource columns: %s\n", f.file, r.src.desc, r.tgt.db, strings.Join(r.src.names, ", "))
	for i, t := range r.tables {
		spec := r.job.Spec(i)
		fmt.Fprintf(stdout, "\ntable %s", t.Name)
		switch {
		case t.exists:
			fmt.Fprintf(stdout, ": exists, %d rows (if_exists: %s)\n", t.rows, r.job.Options.IfExists)
		default:
			fmt.Fprintf(stdout, ": will be created:\n%s\n", r.tgt.ddl(t.Name, t.cols, t.Key))
		}
		if spec.Unnest != "" {
			fmt.Fprintf(stdout, "  one row per element of %s\n", spec.Unnest)
		}
		if spec.Filter != "" {
			fmt.Fprintf(stdout, "  rows where %s\n", spec.Filter)
		}
		for _, c := range spec.Columns {
			fmt.Fprintf(stdout, "  %-20s %-12s ← %s\n", c.Name, c.Type, c.Expr)
		}
	}
	fmt.Fprintln(stdout, "\nnothing loaded (plan)")
	return nil
}

func runCmd(args []string, stdout, stderr io.Writer) error {
	f, err := parseRunFlags("run", args, stderr)
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
		return runCluster(ctx, f, args, stdout, stderr)
	}
	r, err := openJob(ctx, f)
	if err != nil {
		return err
	}
	defer r.close()
	p, sink, dl, err := r.prepare(ctx, stdout, f)
	if err != nil {
		return err
	}
	if dl != nil {
		defer dl.Close(context.WithoutCancel(ctx)) // the run closes it; this covers the paths that return before
	}
	sig.running(p)
	ms.watch(jobName(f.file), p)
	fmt.Fprintf(stdout, "weir run %s: %s → %s, %d tables (batch %d, workers %d, load concurrency %d)\n",
		f.file, r.src.desc, r.tgt.db, len(r.tables), p.Config().BatchSize, p.Config().Workers, loaders(p.Config()))
	prog := startProgressOf(f.progress, stderr, p, -1, sink.Rows, "records")
	runErr := p.Run(ctx)
	prog.stop()
	st := p.Stats()
	rows := sink.Rows()
	fmt.Fprintf(stdout, "\nread %d records, loaded %d rows into %d tables in %.2fs: %.0f rows/s\n",
		st.Extract.Records+st.Extract.DeadLettered, sum(rows), len(r.tables), st.Elapsed.Seconds(), float64(sum(rows))/max(st.Elapsed.Seconds(), 1e-9))
	if dl != nil {
		reportRejects(stdout, st, dl.path)
	}
	fmt.Fprintf(stdout, "\n%-20s %12s %10s\n", "table", "rows", "filtered")
	for i, t := range r.tables {
		fmt.Fprintf(stdout, "%-20s %12d %10d\n", t.Name, rows[t.Name], r.prog.Filtered(i))
	}
	stageTable(stdout, st)
	if runErr != nil {
		how := "fix the cause and rerun with --resume to continue (nothing will be doubled on tables with keys)"
		if st.Checkpoint != nil {
			how = fmt.Sprintf("checkpoint saved at %s: rerun the same command with --resume to continue", st.Checkpoint)
		}
		return fmt.Errorf("run %s: %w; %s", f.file, runErr, how)
	}
	return nil
}

// prepare checks what would refuse the run, builds the pipeline and its
// sink and then prepares the tables (drops, empties or creates them), for
// weir run and for each trial of weir tune. The caller closes dl; on error
// prepare closes it.
func (r *jobRun) prepare(ctx context.Context, w io.Writer, f runFlags) (p *weir.Pipeline[connect.Row, connect.Row], sink multiSink, dl *rejectSink, err error) {
	o := r.job.Options
	// Check what would refuse the run before touching any table.
	for _, t := range r.tables {
		if f.resume && len(t.Key) == 0 {
			return nil, nil, nil, usagef("--resume loads idempotently, on each table's key: table %s in %s declares none (add key: to it)", t.Name, f.file)
		}
		if t.exists && t.rows > 0 && o.IfExists == "fail" && !f.resume {
			return nil, nil, nil, usagef("table %s in %s already holds %d rows: set options.if_exists to append, truncate or replace in %s (or pass --resume to continue an interrupted run)", t.Name, r.tgt.db, t.rows, f.file)
		}
	}
	cfg, opts, dl, err := jobConfig(ctx, w, f, r)
	if err != nil {
		return nil, nil, nil, err
	}
	if dl != nil {
		defer func() {
			if err != nil {
				dl.Close(context.WithoutCancel(ctx))
			}
		}()
		opts = append(opts, weir.WithDeadLetter(dl))
	}
	on := connect.ConflictError
	if f.resume {
		on = connect.ConflictIgnore
	}
	// The sink and the pipeline touch nothing until the run: a config they
	// refuse is refused before any table is created, emptied or dropped.
	sink, err = r.tgt.multi(jobSplitter{prog: r.prog, tables: r.job.Tables()}, on)
	if err != nil {
		return nil, nil, nil, usagef("run %s: %w", f.file, err)
	}
	p, err = weir.New(r.src.src, weir.Identity[connect.Row](), weir.Sink[connect.Row](sink), cfg, opts...)
	if err != nil {
		return nil, nil, nil, &usageError{err}
	}
	if err := r.prepareTables(ctx); err != nil {
		return nil, nil, nil, err
	}
	return p, sink, dl, nil
}

// prepareTables drops, empties or creates the job's tables as its
// options say.
func (r *jobRun) prepareTables(ctx context.Context) error {
	// Children first when emptying or dropping, parents first when creating.
	for i := len(r.tables) - 1; i >= 0; i-- {
		t := r.tables[i]
		switch {
		case t.exists && r.job.Options.IfExists == "replace":
			if err := r.tgt.drop(ctx, t.Name); err != nil {
				return fmt.Errorf("replace %s in %s: %w", t.Name, r.tgt.db, err)
			}
			r.tables[i].exists = false
		case t.exists && r.job.Options.IfExists == "truncate":
			if err := r.tgt.empty(ctx, t.Name); err != nil {
				return fmt.Errorf("empty %s in %s: %w", t.Name, r.tgt.db, err)
			}
		}
	}
	for _, t := range r.tables {
		if !t.exists {
			if err := r.tgt.create(ctx, t.Name, t.cols, t.Key); err != nil {
				return fmt.Errorf("create %s in %s: %w", t.Name, r.tgt.db, err)
			}
		}
	}
	return nil
}

// jobConfig builds the engine's config from the job's options.
func jobConfig(ctx context.Context, w io.Writer, f runFlags, r *jobRun) (weir.Config, []weir.Option, *rejectSink, error) {
	o := r.job.Options
	cfg := weir.Config{BatchSize: o.Batch, Workers: o.Workers, LoadConcurrency: o.LoadConcurrency}
	if r.tgt.maxLoaders > 0 {
		cfg.LoadConcurrency = r.tgt.maxLoaders
	}
	var opts []weir.Option
	if r.tgt.retryable != nil {
		cfg.Retry = weir.RetryPolicy{MaxAttempts: 10, InitialBackoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxElapsed: 2 * time.Minute}
		opts = append(opts, weir.WithRetryable(r.tgt.retryable))
	}
	rf := rejectFlags{onError: o.OnError, path: relativeTo(f.file, o.Reject), maxErrors: o.MaxErrors, append: f.resume}
	if err := rf.check(); err != nil {
		return cfg, nil, nil, usagef("%s: options: %w", f.file, err)
	}
	rf.policy(&cfg)
	if err := cfg.Validate(); err != nil {
		return cfg, nil, nil, usagef("%s: options: %w", f.file, err)
	}
	if err := f.memory.apply(&cfg); err != nil {
		return cfg, nil, nil, err
	}
	if _, ok := r.src.src.(weir.Positioner); ok && r.tgt.checkpoints != nil {
		store, err := r.tgt.checkpoints(ctx)
		if err != nil {
			return cfg, nil, nil, err
		}
		name := "run " + f.file + ": " + r.src.desc
		if store, _, err = resumeStore(ctx, w, store, name, f.resume, r.tgt.db); err != nil {
			return cfg, nil, nil, err
		}
		opts = append(opts, weir.WithCheckpoint(store, name))
	} else if f.resume {
		return cfg, nil, nil, usagef("--resume: %s cannot report positions", r.src.desc)
	}
	dl, err := rf.open()
	return cfg, opts, dl, err
}

// jobSplitter turns each record into the rows of the job's tables, for a
// target's multi-table sink.
type jobSplitter struct {
	prog   *job.Program
	tables []connect.Table
}

func (s jobSplitter) Tables() []connect.Table { return s.tables }

func (s jobSplitter) Split(rec connect.Row, w connect.RowWriter) error {
	return s.prog.Run(rec, func(table int, values []connect.Value) error {
		w.Row(table, values...)
		return nil
	})
}

// multiSink is a target's sink for the tables of a splitter.
type multiSink interface {
	weir.Sink[connect.Row]
	Rows() map[string]int64
}

func pgMulti(db postgres.DB) func(connect.Splitter[connect.Row], connect.Conflict) (multiSink, error) {
	return func(sp connect.Splitter[connect.Row], on connect.Conflict) (multiSink, error) {
		return postgres.NewMultiSink(db, postgres.MultiSinkConfig[connect.Row]{Splitter: sp, OnConflict: on})
	}
}

func sqliteMulti(db *sql.DB) func(connect.Splitter[connect.Row], connect.Conflict) (multiSink, error) {
	return func(sp connect.Splitter[connect.Row], on connect.Conflict) (multiSink, error) {
		return sqlite.NewMultiSink(db, sqlite.MultiSinkConfig[connect.Row]{Splitter: sp, OnConflict: on})
	}
}

func schemaCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" {
			fmt.Fprintln(stderr, "Usage: weir schema\n\nPrints the JSON Schema of job files, for editors to complete and check them.")
			return errHelp
		}
		return usagef("schema takes no arguments, got %q", args)
	}
	_, err := stdout.Write(job.Schema())
	return err
}
