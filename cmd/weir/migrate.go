package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/file"
	"github.com/weir-etl/weir/examples/users"
	"github.com/weir-etl/weir/internal/redact"
)

const migrateUsage = `Usage: weir migrate [flags]

Migrates nested user documents into 15 relational tables (users, addresses,
profiles, education, experience, preferences, settings, activity_log,
transactions, messages, attachments, social_media, posts, groups,
large_data): 126 rows per user.

With no flags: generates 20,000 users and loads them into ./weir.db (SQLite).

Bad records: by default the first one stops the run, naming it (file and
line); the records before it are loaded. With --on-error skip --reject
PATH each bad record (a line that does not parse, a document the transform
refuses, a row the target refuses) goes to PATH with its error (and, for a
line that does not parse, its file and line), the rest load, and the run
exits 0, reporting how many were rejected and where.

Flags:
`

type migrateFlags struct {
	from, to        string
	users           int64
	blobSize        int
	seed            int64
	batch, workers  int
	loadConcurrency int
	verify          bool
	truncate        bool
	resume          bool
	deferFKs        bool
	progress        string
	reject          rejectFlags
	metrics         metricsFlags
	memory          memoryFlag
	nats            natsFlags // cluster_migrate.go
}

func parseMigrateFlags(args []string, stderr io.Writer) (migrateFlags, error) {
	var f migrateFlags
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, migrateUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.from, "from", "gen", "source: gen (generated users), jsonl:PATH (one document per line, as mongoexport writes), or mongodb://HOST:PORT/DB.COLLECTION")
	fs.StringVar(&f.to, "to", "sqlite:weir.db", "target: sqlite:PATH or postgres://USER@HOST:PORT/DB")
	fs.Int64Var(&f.users, "users", 20_000, "users to generate (with --from gen)")
	fs.IntVar(&f.blobSize, "blob-size", users.DefaultBlobSize, "bytes of each user's large_data payload (with --from gen; the tuning guide's fat records are 50000)")
	fs.Int64Var(&f.seed, "seed", 1, "generator seed (with --from gen)")
	fs.IntVar(&f.batch, "batch", 0, "users per batch (0: weir's default, 128)")
	fs.IntVar(&f.workers, "workers", 0, "batches transformed at once (0: one per CPU)")
	fs.IntVar(&f.loadConcurrency, "load-concurrency", 0, "batches loaded at once (0: one per worker; SQLite always loads one at a time)")
	fs.BoolVar(&f.verify, "verify", false, "load nothing: count the rows in the target and compare them with what the source should produce")
	fs.BoolVar(&f.truncate, "truncate", false, "empty the 15 tables before loading (otherwise a target that already holds users is refused)")
	fs.BoolVar(&f.resume, "resume", false, "continue where the last run of the same job stopped (a checkpoint kept in the target), loading idempotently so nothing is doubled; with no checkpoint yet, start from the beginning")
	fs.BoolVar(&f.deferFKs, "defer-constraints", true, "PostgreSQL: drop the tables' foreign keys (and, unless --resume, their primary keys and indexes) during the load and add them back after, checking every row once, in bulk; false keeps them checked row by row")
	fs.StringVar(&f.progress, "progress", "auto", "progress display: auto (a bar on a terminal, log lines otherwise), bar, log, or off")
	f.reject.register(fs)
	f.metrics.register(fs)
	f.memory.register(fs)
	f.nats.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, errHelp
		}
		return f, &usageError{err}
	}
	if fs.NArg() > 0 {
		return f, usagef("migrate takes no arguments, got %q", fs.Args())
	}
	switch {
	case f.users < 1:
		return f, usagef("--users must be at least 1, got %d", f.users)
	case f.blobSize < 0:
		return f, usagef("--blob-size must be >= 0, got %d", f.blobSize)
	case !slices.Contains([]string{"auto", "bar", "log", "off"}, f.progress):
		return f, usagef("--progress must be auto, bar, log or off, got %q", f.progress)
	case f.verify && (f.truncate || f.resume):
		return f, usagef("--verify loads nothing: it does not go with --truncate or --resume")
	case f.truncate && f.resume:
		return f, usagef("--truncate starts over and --resume continues: pick one")
	case f.verify && f.reject.skip():
		return f, usagef("--verify loads nothing: it does not go with --on-error skip")
	}
	if err := f.nats.check(); err != nil {
		return f, err
	}
	return f, f.reject.check()
}

// config builds the engine's config from the flags and checks it, so a bad
// value is reported before anything is opened.
func (f migrateFlags) config(t *target) (weir.Config, error) {
	cfg := weir.Config{BatchSize: f.batch, Workers: f.workers, LoadConcurrency: f.loadConcurrency}
	if max := t.maxLoaders; max > 0 {
		if f.loadConcurrency > max {
			return cfg, usagef("--load-concurrency %d: %s takes one writer at a time", f.loadConcurrency, t)
		}
		cfg.LoadConcurrency = max
	}
	if t.retryable != nil {
		// A restarted server or a dropped connection costs a retry, not
		// the run. A batch is one transaction, so a retried batch either
		// committed before (and the key constraints refuse it loudly) or
		// did not; with --resume the load is idempotent anyway.
		cfg.Retry = weir.RetryPolicy{MaxAttempts: 10, InitialBackoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxElapsed: 2 * time.Minute}
	}
	f.reject.policy(&cfg)
	if err := cfg.Validate(); err != nil {
		return cfg, &usageError{err}
	}
	return cfg, f.memory.apply(&cfg)
}

// jobSource is where the documents come from.
type jobSource struct {
	src   weir.Source[users.User]
	desc  string
	job   string // the checkpoint's name: what identifies the data set
	total int64  // users expected, or -1 when unknown
	// expected counts the rows the source should make per table; nil when
	// that would mean reading the source again.
	expected func(ctx context.Context) (map[string]int64, error)
}

func openSource(ctx context.Context, f migrateFlags) (*jobSource, error) {
	switch {
	case f.from == "gen":
		opt := users.GenOptions{Seed: f.seed, BlobSize: f.blobSize}
		if f.blobSize == 0 {
			opt.BlobSize = -1 // 0 means the default in GenOptions; the flag's 0 means none
		}
		g, err := users.NewGenerator(f.users, opt)
		if err != nil {
			return nil, usagef("--users: %w", err)
		}
		n := f.users
		return &jobSource{
			src:      g,
			desc:     fmt.Sprintf("gen (%d users, seed %d, %d-byte blobs)", n, f.seed, f.blobSize),
			job:      fmt.Sprintf("migrate gen seed=%d blob=%d", f.seed, f.blobSize),
			total:    n,
			expected: func(context.Context) (map[string]int64, error) { return users.ExpectedRows(n), nil },
		}, nil
	case strings.HasPrefix(f.from, "jsonl:"):
		path := strings.TrimPrefix(f.from, "jsonl:")
		if err := checkUsers(ctx, path, f.reject.skip()); err != nil {
			return nil, usagef("--from %s: %w", f.from, err)
		}
		src, err := file.OpenJSONL[users.User](path, file.JSONLSourceConfig{})
		if err != nil {
			return nil, usagef("--from %s: %w", f.from, err)
		}
		return &jobSource{
			src:   src,
			desc:  f.from,
			job:   "migrate " + f.from,
			total: -1,
			expected: func(ctx context.Context) (map[string]int64, error) {
				return countRows(ctx, path)
			},
		}, nil
	case strings.HasPrefix(f.from, "mongodb://"), strings.HasPrefix(f.from, "mongodb+srv://"):
		return openMongo(ctx, f.from)
	}
	return nil, usagef("--from %q: want gen, jsonl:PATH or mongodb://HOST/DB.COLLECTION", redact.String(f.from))
}

// usersChecked is how many records of a JSON Lines file checkUsers reads.
const usersChecked = 10

// checkUsers reads the first records of the JSON Lines file at path and
// checks that they are user documents, so that a file of something else
// is refused, naming its line, before the target is touched: without it,
// the run creates the 15 tables and then fails on its first batch. It
// reads the file through a source of its own, since the job's source must
// not have been read before a --resume seeks it. With skip (--on-error
// skip) bad records are the run's to reject: the file is refused only if
// none of the records checked is a user document.
func checkUsers(ctx context.Context, path string, skip bool) error {
	src, err := file.OpenJSONL[users.User](path, file.JSONLSourceConfig{})
	if err != nil {
		return err
	}
	defer src.Close(ctx)
	buf := make([]users.User, 1) // one at a time, so that Line is the record's
	valid := 0
	var first error // the first bad record, under skip
	for range usersChecked {
		n, err := src.Read(ctx, buf)
		if n == 1 {
			verr := users.Validate(&buf[0])
			switch {
			case verr == nil:
				valid++
			case !skip:
				return fmt.Errorf("line %d is not a user document: %w", src.Line(), verr)
			case first == nil:
				first = fmt.Errorf("line %d is not a user document: %w", src.Line(), verr)
			}
		}
		var bad *weir.BadRecordError
		if err == io.EOF {
			break
		}
		if skip && errors.As(err, &bad) {
			if first == nil {
				first = err
			}
			continue
		}
		if err != nil {
			return err // a *file.LineError names the line
		}
	}
	if valid == 0 && first != nil {
		return fmt.Errorf("none of its first records is a user document: %w", first)
	}
	return nil
}

// countRows reads a JSON Lines file of users and counts the rows the
// splitter makes of them: what the target should hold.
func countRows(ctx context.Context, path string) (map[string]int64, error) {
	src, err := file.OpenJSONL[users.User](path, file.JSONLSourceConfig{})
	if err != nil {
		return nil, err
	}
	defer src.Close(ctx)
	var c rowCounter
	c.n = make([]int64, users.NumTables)
	var split users.Splitter
	buf := make([]users.User, 64)
	for {
		n, err := src.Read(ctx, buf)
		for i := range buf[:n] {
			if err := split.Split(buf[i], &c); err != nil {
				return nil, fmt.Errorf("%s: user %d: %w", path, buf[i].ID, err)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	out := map[string]int64{}
	for i, name := range users.TableNames() {
		out[name] = c.n[i]
	}
	return out, nil
}

type rowCounter struct{ n []int64 }

func (c *rowCounter) Row(table int, _ ...connect.Value) { c.n[table]++ }

var _ connect.RowWriter = (*rowCounter)(nil)

func migrate(args []string, stdout, stderr io.Writer) error {
	f, err := parseMigrateFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var running atomic.Pointer[weir.Pipeline[users.User, users.User]]
	stopSignals := handleSignals(stderr, cancel, &running)
	defer stopSignals()
	ms, err := f.metrics.serve(stderr)
	if err != nil {
		return err
	}
	defer ms.stop()
	if f.nats.url != "" {
		return migrateCluster(ctx, f, args, stdout, stderr)
	}

	// Order matters: everything that can be refused is checked before the
	// target is touched, so a bad flag or an unreachable database leaves
	// no partial garbage behind.
	src, err := openSource(ctx, f)
	if err != nil {
		return err
	}
	tgt, err := openTarget(ctx, f.to, f.loadConcurrency)
	if err != nil {
		if c, ok := src.src.(weir.Closer); ok {
			c.Close(ctx)
		}
		return err
	}
	defer tgt.close()
	cfg, err := f.config(tgt)
	if err != nil {
		return err
	}
	if f.reject.skip() && f.resume && !f.reject.append {
		if n, err := countLines(f.reject.path); err != nil {
			return fmt.Errorf("--reject %s: %w", f.reject.path, err)
		} else if n > 0 {
			return usagef("--reject %s holds %d rejects, maybe from the run --resume continues: pass --reject-append to keep them, or move the file", f.reject.path, n)
		}
	}

	if f.verify || !f.deferFKs {
		// This run will not restore what an earlier, killed run deferred:
		// do it now, so that no path leaves the foreign keys missing.
		if err := tgt.RestoreDeferred(ctx); err != nil {
			return err
		}
	}
	if f.verify {
		return verify(ctx, src, tgt, stdout)
	}
	if err := tgt.CreateSchema(ctx); err != nil {
		return err
	}
	before, err := tgt.Count(ctx)
	if err != nil {
		return err
	}
	if before["users"] > 0 && !f.resume {
		if !f.truncate {
			return usagef("%s already holds %d users: pass --resume to continue an interrupted run, or --truncate to empty its 15 tables first", tgt, before["users"])
		}
		if err := tgt.Truncate(ctx); err != nil {
			return err
		}
	}

	sink, err := tgt.Sink(f.resume)
	if err != nil {
		return err
	}
	var opts []weir.Option
	if r := tgt.retryable; r != nil {
		opts = append(opts, weir.WithRetryable(r))
	}
	if f.resume {
		if _, ok := src.src.(weir.Positioner); !ok {
			return usagef("--resume: %s cannot report positions", src.desc)
		}
		store, err := tgt.checkpoints(ctx)
		if err != nil {
			return err
		}
		// Say where the run starts before it does, so that a user (and the
		// kill test) can see the checkpoint was kept.
		pos, err := store.Load(ctx, src.job)
		if err != nil {
			return fmt.Errorf("read the checkpoint of %q in %s: %w", src.job, tgt, err)
		}
		if pos != nil {
			fmt.Fprintf(stdout, "resuming after position %s (saved by an earlier run)\n", pos)
		}
		opts = append(opts, weir.WithCheckpoint(store, src.job))
	}
	rejects, err := f.reject.open()
	if err != nil {
		return err
	}
	if rejects != nil {
		defer rejects.Close(context.WithoutCancel(ctx)) // the run closes it; this covers the paths that return before
		opts = append(opts, weir.WithDeadLetter(rejects))
	}
	p, err := weir.New(src.src, users.Validated(), sink, cfg, opts...)
	if err != nil {
		return &usageError{err}
	}
	running.Store(p)
	ms.watch("migrate", p)
	fmt.Fprintf(stdout, "weir migrate: %s → %s (batch %d, workers %d, load concurrency %d, on error %s)\n",
		src.desc, tgt, p.Config().BatchSize, p.Config().Workers, loaders(p.Config()), f.reject.onError)

	restore := func(context.Context) error { return nil }
	if f.deferFKs {
		// An idempotent load (--resume) upserts, which needs the keys; a
		// load into emptied tables does not.
		if restore, err = tgt.DeferConstraints(ctx, !f.resume); err != nil {
			return err
		}
	}
	prog := startProgress(f.progress, stderr, p, src.total, sink.Rows)
	runErr := p.Run(ctx)
	prog.stop()
	// Put the constraints back whatever happened: every batch that
	// committed is whole (all its tables, in one transaction), so they hold.
	if err := restore(context.WithoutCancel(ctx)); err != nil {
		runErr = errors.Join(runErr, err)
	}

	st := p.Stats()
	report(stdout, st, sink.Rows(), src.total)
	if f.reject.skip() {
		reportRejects(stdout, st, f.reject.path)
	}
	if runErr != nil {
		how := "rerun with --resume to continue where it stopped (nothing will be doubled), or with --truncate to start over"
		if st.Checkpoint != nil {
			how = fmt.Sprintf("checkpoint saved at position %s: rerun the same command with --resume to continue", st.Checkpoint)
		}
		if errors.Is(runErr, context.Canceled) || errors.Is(runErr, weir.ErrStopped) {
			return fmt.Errorf("migrate into %s: interrupted: %s", tgt, how)
		}
		return fmt.Errorf("migrate into %s: %w; %s", tgt, runErr, how)
	}
	got, err := tgt.Count(ctx)
	if err != nil {
		return err
	}
	// On a fresh load the tables hold exactly what this run loaded; a
	// resumed run adds to an earlier one's rows, so only the comparison
	// with the source below applies.
	if bad := compareCounts(sink.Rows(), got); bad != "" && !f.resume {
		return fmt.Errorf("migrate into %s: the tables do not hold what was loaded: %s", tgt, bad)
	}
	if src.expected == nil || st.DeadLettered() > 0 {
		// The source makes rows for the records this run rejected too: a
		// comparison with it would only count them.
		fmt.Fprintf(stdout, "checked: the tables hold exactly the %d rows loaded\n", sum(got))
		return nil
	}
	want, err := src.expected(ctx)
	if err != nil {
		return err
	}
	if bad := compareCounts(want, got); bad != "" {
		return fmt.Errorf("migrate into %s: row counts differ from the source's: %s", tgt, bad)
	}
	fmt.Fprintf(stdout, "verified: every table holds exactly the rows the source makes (%d rows)\n", sum(got))
	return nil
}

// gracePeriod is how long an interrupted migration may take to load the
// batches it has already read before they are abandoned.
const gracePeriod = 10 * time.Second

// handleSignals turns SIGINT/SIGTERM into a graceful stop: the first one
// stops reading and lets the batches in flight load (up to gracePeriod),
// the second, or the end of the grace period, cancels everything. Before
// the pipeline exists, a signal cancels at once. The returned func ends the
// handler and waits for it.
func handleSignals(stderr io.Writer, cancel context.CancelFunc, running *atomic.Pointer[weir.Pipeline[users.User, users.User]]) func() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var grace <-chan time.Time
		for {
			select {
			case <-sigs:
				p := running.Load()
				if p == nil || grace != nil {
					cancel()
					continue
				}
				fmt.Fprintf(stderr, "weir: stopping: loading the batches already read (up to %v; interrupt again to abandon them)\n", gracePeriod)
				p.Stop()
				t := time.NewTimer(gracePeriod)
				defer t.Stop()
				grace = t.C
			case <-grace:
				cancel()
			case <-done:
				return
			}
		}
	})
	return func() {
		signal.Stop(sigs)
		close(done)
		wg.Wait()
	}
}

func loaders(c weir.Config) int {
	if c.LoadConcurrency == 0 {
		return c.Workers
	}
	return c.LoadConcurrency
}

// verify recounts the target and compares with the source.
func verify(ctx context.Context, src *jobSource, tgt *target, stdout io.Writer) error {
	if src.expected == nil {
		return usagef("--verify cannot recount %s without reading it all again: export it (mongoexport) and verify with --from jsonl:PATH", src.desc)
	}
	want, err := src.expected(ctx)
	if err != nil {
		return err
	}
	got, err := tgt.Count(ctx)
	if err != nil {
		return fmt.Errorf("verify %s (has it been migrated?): %w", tgt, err)
	}
	fmt.Fprintf(stdout, "%-14s %12s %12s\n", "table", "rows", "expected")
	for _, name := range users.TableNames() {
		mark := ""
		if got[name] != want[name] {
			mark = "  ← differs"
		}
		fmt.Fprintf(stdout, "%-14s %12d %12d%s\n", name, got[name], want[name], mark)
	}
	if bad := compareCounts(want, got); bad != "" {
		return fmt.Errorf("verify %s: %s", tgt, bad)
	}
	fmt.Fprintf(stdout, "verified: %s holds exactly the rows %s makes (%d rows)\n", tgt, src.desc, sum(got))
	return nil
}

func compareCounts(want, got map[string]int64) string {
	var diffs []string
	for _, name := range users.TableNames() {
		if want[name] != got[name] {
			diffs = append(diffs, fmt.Sprintf("%s has %d rows, want %d", name, got[name], want[name]))
		}
	}
	return strings.Join(diffs, "; ")
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// report prints what the run did and which stage held it back.
func report(w io.Writer, st weir.Stats, rows map[string]int64, total int64) {
	secs := st.Elapsed.Seconds()
	all := sum(rows)
	fmt.Fprintf(w, "\nloaded %d users as %d rows in %.2fs: %.0f rows/s, %.0f users/s\n",
		st.Load.Records, all, secs, float64(all)/secs, st.RecordsPerSec())
	if total > 0 && st.Load.Records+st.DeadLettered() != total && st.ResumedFrom == nil {
		fmt.Fprintf(w, "NOT DONE: %d of %d users loaded (%d extracted, %d transformed)\n",
			st.Load.Records, total, st.Extract.Records, st.Transform.Records)
	}
	fmt.Fprintf(w, "\n%-14s %12s\n", "table", "rows")
	for _, name := range users.TableNames() {
		fmt.Fprintf(w, "%-14s %12d\n", name, rows[name])
	}
	stageTable(w, st)
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
