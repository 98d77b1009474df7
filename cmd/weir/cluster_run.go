package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/file"
	"github.com/weir-etl/weir/internal/cluster"
	"github.com/weir-etl/weir/internal/redact"
)

// source is the source a job file reads, as run was given it.
func (f runFlags) source(j string) string {
	if f.from != "" {
		return f.from
	}
	return relativeTo(f.file, j)
}

// runCluster is `weir run JOB.yaml --nats`: the coordinator. It checks the
// job and prepares its tables as a run does, splits its source (a file or
// a glob) into byte ranges, publishes them, and reports once the workers,
// each running the job's transforms over its range, are done.
func runCluster(ctx context.Context, f runFlags, args []string, stdout, stderr io.Writer) error {
	if f.resume {
		return usagef("--resume: a --nats job resumes by itself (a partition continues from its checkpoint); drop --resume")
	}
	r, err := openJob(ctx, f)
	if err != nil {
		return err
	}
	defer r.close()
	from, o := f.source(r.job.Source), r.job.Options
	if from == "-" || strings.Contains(from, "://") || strings.HasPrefix(from, "sqlite:") || isParquet(from) {
		return usagef("source %s: weir run --nats splits CSV, TSV and JSON files (a path or a glob) for now; see docs/CLUSTER.md", redact.String(from))
	}
	rf := rejectFlags{onError: o.OnError, path: relativeTo(f.file, o.Reject), maxErrors: o.MaxErrors}
	if err := rf.check(); err != nil {
		return usagef("%s: options: %w", f.file, err)
	}
	if err := checkClusterRejects(&rf); err != nil {
		return err
	}
	exactly := r.tgt.multi != nil && isPostgres(f.target(r.job.Target)) && !rf.skip()
	for _, t := range r.tables {
		if !exactly && len(t.Key) == 0 {
			return usagef("table %s in %s declares no key: --nats into %s (or with on_error: skip) loads a redelivered partition again, idempotently, on each table's key (add key: to it)", t.Name, f.file, r.tgt.db)
		}
		if t.exists && t.rows > 0 && o.IfExists == "fail" {
			return usagef("table %s in %s already holds %d rows: set options.if_exists to append, truncate or replace in %s", t.Name, r.tgt.db, t.rows, f.file)
		}
	}
	ranges, err := splitFiles(ctx, from, file.RowSourceConfig{SampleSize: o.Sample}, f.nats.partSize)
	if err != nil {
		return usagef("source %s: %w", from, err)
	}
	abs, err := filepath.Abs(f.file)
	if err != nil {
		return err
	}
	var tasks []partTask
	var read int64
	for i := range ranges {
		tasks = append(tasks, partTask{Cmd: "run", Args: args, Job: abs, File: &ranges[i]})
		read += ranges[i].Records
	}
	c, err := connectCoordinator(ctx, f.nats, &rf, "weir run", f.nats.jobName(jobName(f.file), time.Now()))
	if err != nil {
		return err
	}
	defer c.close()
	if err := r.prepareTables(ctx); err != nil {
		return err
	}
	if err := c.submit(ctx, tasks); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "weir run %s: %s → %s, %d tables: job %s, %d partitions on NATS at %s\n",
		f.file, r.src.desc, r.tgt.db, len(r.tables), c.name, len(tasks), redact.String(f.nats.url))
	_, rejected, waitErr, err := c.wait(ctx, f.progress, stdout, stderr)
	elapsed := time.Since(c.start)
	fmt.Fprintf(stdout, "\nread %d records in %.2fs over %d partitions, rejected %d\n", read, elapsed.Seconds(), len(tasks), rejected)
	fmt.Fprintf(stdout, "\n%-20s %12s\n", "table", "rows")
	for _, t := range r.tables {
		n, cerr := r.tgt.count(ctx, t.Name)
		if cerr != nil {
			err = errors.Join(err, fmt.Errorf("count %s: %w", t.Name, cerr))
		}
		fmt.Fprintf(stdout, "%-20s %12d\n", t.Name, n)
	}
	if err = errors.Join(waitErr, err); err != nil {
		return fmt.Errorf("run %s: %w", f.file, err)
	}
	return nil
}

// target is the target a job file loads, as run was given it.
func (f runFlags) target(j string) string {
	if f.to != "" {
		return f.to
	}
	return relativeTo(f.file, j)
}

// runJobPart runs one partition of a `weir run --nats` job: the job's
// transforms over the records of its file range, into its tables. Into
// PostgreSQL each batch commits with the partition's checkpoint; otherwise
// (or under on_error: skip) the checkpoint goes to ck and the load skips
// rows whose key is there already.
func runJobPart(ctx context.Context, js jetstream.JetStream, ms *metricsServer, p cluster.Partition, t partTask, ck *cluster.CheckpointStore, progress func(int64)) (int64, error) {
	f, err := parseRunFlags("run", t.Args, io.Discard)
	if err != nil {
		return 0, fmt.Errorf("the job's arguments: %w", err)
	}
	if t.File == nil {
		return 0, errors.New("the partition names no range")
	}
	f.file, f.from, f.nats = t.Job, t.File.File, natsFlags{}
	r, err := openJob(ctx, f)
	if err != nil {
		return 0, err
	}
	defer r.close()
	fs, ok := r.src.src.(*file.RowSource)
	if !ok {
		return 0, fmt.Errorf("%s: not a file source", r.src.desc)
	}
	src, err := newFileRange(fs, *t.File)
	if err != nil {
		return 0, err
	}
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
	rf := rejectFlags{onError: o.OnError}
	if rf.skip() {
		rf.policy(&cfg)
		opts = append(opts, weir.WithDeadLetter(newNATSRejects(js, p)))
	}
	exactly := isPostgres(f.target(r.job.Target)) && !rf.skip()
	ckOpts, unlock, err := partCheckpoint(ctx, f.target(r.job.Target), exactly, r.tgt.checkpoints, p, ck, &cfg)
	if err != nil {
		return 0, err
	}
	defer unlock()
	on := connect.ConflictError
	if !exactly {
		on = connect.ConflictIgnore
	}
	sink, err := r.tgt.multi(jobSplitter{prog: r.prog, tables: r.job.Tables()}, on)
	if err != nil {
		return 0, err
	}
	pl, err := weir.New(weir.Source[connect.Row](src), weir.Identity[connect.Row](), weir.Sink[connect.Row](sink), cfg, append(opts, ckOpts...)...)
	if err != nil {
		return 0, err
	}
	ms.watch(p.Job, pl) // one series per job: each partition's run replaces the last (rate() takes the reset)
	records := func() int64 { return pl.Stats().Load.Records }
	if err := runReporting(ctx, pl.Run, records, progress); err != nil {
		return records(), fmt.Errorf("run %s, partition %s: %w", f.file, p.Name(), err)
	}
	return records(), nil
}
