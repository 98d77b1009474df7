package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/file"
	"github.com/weir-etl/weir/internal/cluster"
	"github.com/weir-etl/weir/internal/redact"
)

// runCopyPart runs one partition of a `weir copy --nats` job: the copy the
// coordinator was given, over the partition's range, into the table it
// prepared. Into PostgreSQL each batch commits with the partition's
// checkpoint (job/N) in one transaction, under an advisory lock on the
// partition, so that a worker taking over a partition whose previous
// worker is still alive (cut off from NATS, not from PostgreSQL) waits
// for it; elsewhere the checkpoint goes to ck and the load upserts on the
// key.
func runCopyPart(ctx context.Context, js jetstream.JetStream, ms *metricsServer, p cluster.Partition, t partTask, ck *cluster.CheckpointStore, progress func(int64)) (int64, error) {
	f, err := parseCopyFlags(t.Args, io.Discard)
	if err != nil {
		return 0, fmt.Errorf("the job's arguments: %w", err)
	}
	f.ifExists, f.resume, f.progress, f.nats = "append", false, "off", natsFlags{}
	src, err := openPartSource(ctx, f, t)
	if err != nil {
		return 0, err
	}
	defer src.close()
	tgt, err := openCopyTarget(ctx, f.target, t.Table, f.loadConcurrency)
	if err != nil {
		return 0, err
	}
	defer tgt.close()
	plan, err := planCopy(ctx, src, tgt, f)
	if err != nil {
		return 0, err
	}
	cfg := weir.Config{BatchSize: f.batch, Workers: f.workers, LoadConcurrency: f.loadConcurrency}
	if tgt.maxLoaders > 0 {
		cfg.LoadConcurrency = tgt.maxLoaders
	}
	var opts []weir.Option
	if tgt.retryable != nil {
		cfg.Retry = weir.RetryPolicy{MaxAttempts: 10, InitialBackoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxElapsed: 2 * time.Minute}
		opts = append(opts, weir.WithRetryable(tgt.retryable))
	}
	if f.reject.skip() {
		f.reject.policy(&cfg)
		opts = append(opts, weir.WithDeadLetter(newNATSRejects(js, p)))
	}
	// Into PostgreSQL the checkpoint commits with each batch, unless rows
	// the target refuses are to be rejected: that bisects a batch, which
	// the key's upsert and a checkpoint in NATS allow.
	exactly := isPostgres(f.target) && !(f.reject.skip() && len(plan.key) > 0)
	ckOpts, unlock, err := partCheckpoint(ctx, f.target, exactly, tgt.checkpoints, p, ck, &cfg)
	if err != nil {
		return 0, err
	}
	defer unlock()
	opts = append(opts, ckOpts...)
	sink, err := tgt.sink(tgt.table, plan.cols, plan.key, plan.conflict)
	if err != nil {
		return 0, fmt.Errorf("copy into %s: %w", tgt, err)
	}
	pl, err := weir.New(src.src, plan.transform(src.names), weir.Sink[connect.Row](sink), cfg, opts...)
	if err != nil {
		return 0, err
	}
	ms.watch(p.Job, pl) // one series per job: each partition's run replaces the last (rate() takes the reset)
	err = runReporting(ctx, pl.Run, sink.Rows, progress)
	if err != nil {
		return sink.Rows(), fmt.Errorf("copy %s into %s: %w", redact.String(p.Name()), tgt, err)
	}
	return sink.Rows(), nil
}

// partCheckpoint returns the options that keep partition p's checkpoint:
// with exactly (a PostgreSQL target at dsn), in the target, committed
// with each batch (store), under the partition's advisory lock, which the
// returned func releases; otherwise in ck, for an idempotent load. It
// sets what exactly-once requires of cfg.
func partCheckpoint(ctx context.Context, dsn string, exactly bool, store func(context.Context) (weir.CheckpointStore, error),
	p cluster.Partition, ck *cluster.CheckpointStore, cfg *weir.Config) ([]weir.Option, func(), error) {
	if !exactly {
		return []weir.Option{weir.WithCheckpoint(ck, p.Name())}, func() {}, nil
	}
	unlock, err := lockPartition(ctx, dsn, p.Name())
	if err != nil {
		return nil, nil, err
	}
	st, err := store(ctx)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	cfg.OnLoadError = weir.FailRun
	cfg.LoadConcurrency = 0 // the workers commit, in order
	return []weir.Option{weir.WithExactlyOnce(st, p.Name())}, unlock, nil
}

// runReporting calls run, reporting rows() to progress every half second
// until it returns.
func runReporting(ctx context.Context, run func(context.Context) error, rows func() int64, progress func(int64)) error {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				progress(rows())
			}
		}
	})
	err := run(ctx)
	close(stop)
	wg.Wait()
	return err
}

// openPartSource opens the records of the partition of task t: a range
// of a file, or of a table's key.
func openPartSource(ctx context.Context, f copyFlags, t partTask) (*copySource, error) {
	switch {
	case t.Keys != nil:
		return openKeyRange(ctx, f.source, *t.Keys)
	case t.File == nil:
		return nil, errors.New("the partition names no range")
	}
	src, err := openCopySource(ctx, t.File.File, f)
	if err != nil {
		return nil, err
	}
	fs, ok := src.src.(*file.RowSource)
	if !ok {
		src.close()
		return nil, fmt.Errorf("%s: not a file source", src.desc)
	}
	if src.src, err = newFileRange(fs, *t.File); err != nil {
		src.close()
		return nil, err
	}
	return src, nil
}

// lockPartition takes a PostgreSQL advisory lock named for the partition
// on a connection of its own, waiting while another session holds it, and
// returns the func that releases it (by closing the connection; a killed
// worker's lock goes with its connection).
func lockPartition(ctx context.Context, dsn, part string) (func(), error) {
	base, _, err := sqlParams(dsn)
	if err != nil {
		return nil, err
	}
	pool, err := dialPostgres(ctx, base, redact.String(dsn), 1)
	if err != nil {
		return nil, err
	}
	// The connection is held, not returned to the pool, which could close
	// it (and so release the lock) when it reaches its maximum lifetime.
	conn, err := pool.Acquire(ctx)
	if err == nil {
		_, err = conn.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", "weir "+part)
		if err != nil {
			conn.Release()
		}
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("lock partition %s: %w", part, err)
	}
	return func() { conn.Release(); pool.Close() }, nil
}
