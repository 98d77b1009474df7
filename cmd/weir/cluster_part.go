package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

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
func runCopyPart(ctx context.Context, p cluster.Partition, t partTask, ck *cluster.CheckpointStore, progress func(int64)) (int64, error) {
	f, err := parseCopyFlags(t.Args, io.Discard)
	if err != nil {
		return 0, fmt.Errorf("the job's arguments: %w", err)
	}
	if t.File == nil {
		return 0, errors.New("the partition names no range")
	}
	f.ifExists, f.resume, f.progress, f.nats = "append", false, "off", natsFlags{}
	src, err := openCopySource(ctx, t.File.File, f)
	if err != nil {
		return 0, err
	}
	defer src.close()
	fs, ok := src.src.(*file.RowSource)
	if !ok {
		return 0, fmt.Errorf("%s: not a file source", src.desc)
	}
	if src.src, err = newFileRange(fs, *t.File); err != nil {
		return 0, err
	}
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
	if isPostgres(f.target) {
		unlock, err := lockPartition(ctx, f.target, p.Name())
		if err != nil {
			return 0, err
		}
		defer unlock()
		store, err := tgt.checkpoints(ctx)
		if err != nil {
			return 0, err
		}
		opts = append(opts, weir.WithExactlyOnce(store, p.Name()))
		cfg.LoadConcurrency = 0 // the workers commit, in order
	} else {
		opts = append(opts, weir.WithCheckpoint(ck, p.Name()))
	}
	sink, err := tgt.sink(tgt.table, plan.cols, plan.key, plan.conflict)
	if err != nil {
		return 0, fmt.Errorf("copy into %s: %w", tgt, err)
	}
	pl, err := weir.New(src.src, plan.transform(src.names), weir.Sink[connect.Row](sink), cfg, opts...)
	if err != nil {
		return 0, err
	}
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
				progress(sink.Rows())
			}
		}
	})
	err = pl.Run(ctx)
	close(stop)
	wg.Wait()
	if err != nil {
		return sink.Rows(), fmt.Errorf("copy %s into %s: %w", redact.String(p.Name()), tgt, err)
	}
	return sink.Rows(), nil
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
