package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/examples/users"
	"github.com/weir-etl/weir/internal/cluster"
	"github.com/weir-etl/weir/internal/redact"
)

// migrateCluster is `weir migrate --nats`: the coordinator. It prepares
// the 15 tables as a migrate does, splits the generated users into id
// ranges of --partition-rows, publishes them, and once the workers are
// done puts the deferred constraints back and checks every table's rows
// against what the generator makes.
func migrateCluster(ctx context.Context, f migrateFlags, args []string, stdout, stderr io.Writer) error {
	switch {
	case f.from != "gen":
		return usagef("--from %s: --nats splits the users generator (--from gen) for now; see docs/CLUSTER.md", redact.String(f.from))
	case f.resume:
		return usagef("--resume: a --nats job resumes by itself (a partition continues from its checkpoint); drop --resume")
	case f.verify:
		return usagef("--verify loads nothing: run it without --nats")
	}
	if err := checkClusterRejects(&f.reject); err != nil {
		return err
	}
	tgt, err := openTarget(ctx, f.to, f.loadConcurrency)
	if err != nil {
		return err
	}
	defer tgt.close()
	if _, err := f.config(tgt); err != nil {
		return err
	}
	// Into PostgreSQL each partition commits its checkpoint with its rows;
	// rejecting rows the target refuses bisects batches instead, which
	// needs an idempotent load (the keys kept) and checkpoints in NATS.
	exactly := isPostgres(f.to) && !f.reject.skip()
	if !f.deferFKs {
		if err := tgt.RestoreDeferred(ctx); err != nil {
			return err
		}
	}
	if err := tgt.CreateSchema(ctx); err != nil {
		return err
	}
	before, err := tgt.Count(ctx)
	if err != nil {
		return err
	}
	if before["users"] > 0 && !f.truncate {
		return usagef("%s already holds %d users: pass --truncate to empty its 15 tables first", tgt, before["users"])
	}
	var tasks []partTask
	for lo := int64(1); lo <= f.users; lo += f.nats.partRows {
		lo, hi := lo, min(lo+f.nats.partRows-1, f.users)
		tasks = append(tasks, partTask{Cmd: "migrate", Args: args, Keys: &keyRange{Lo: &lo, Hi: &hi}})
	}
	c, err := connectCoordinator(ctx, f.nats, &f.reject, "weir migrate", f.nats.jobName("migrate", time.Now()))
	if err != nil {
		return err
	}
	defer c.close()
	if before["users"] > 0 {
		if err := tgt.Truncate(ctx); err != nil {
			return err
		}
	}
	restore := func(context.Context) error { return nil }
	if f.deferFKs {
		if restore, err = tgt.DeferConstraints(ctx, exactly); err != nil {
			return err
		}
	}
	if err := c.submit(ctx, tasks); err != nil {
		return errors.Join(err, restore(context.WithoutCancel(ctx)))
	}
	fmt.Fprintf(stdout, "weir migrate: gen (%d users, seed %d) → %s: job %s, %d partitions on NATS at %s\n",
		f.users, f.seed, tgt, c.name, len(tasks), redact.String(f.nats.url))
	_, rejected, waitErr, err := c.wait(ctx, f.progress, stdout, stderr)
	// Put the constraints back whatever happened: every committed batch
	// is whole, so they hold.
	err = errors.Join(err, restore(context.WithoutCancel(ctx)))
	elapsed := time.Since(c.start)
	got, cerr := tgt.Count(ctx)
	if err = errors.Join(err, cerr); err != nil {
		return fmt.Errorf("migrate into %s: %w", tgt, errors.Join(waitErr, err))
	}
	fmt.Fprintf(stdout, "\nloaded %d users as %d rows in %.2fs over %d partitions: %.0f rows/s\n",
		got["users"], sum(got), elapsed.Seconds(), len(tasks), float64(sum(got))/max(elapsed.Seconds(), 1e-9))
	fmt.Fprintf(stdout, "\n%-14s %12s\n", "table", "rows")
	for _, name := range users.TableNames() {
		fmt.Fprintf(stdout, "%-14s %12d\n", name, got[name])
	}
	if f.reject.skip() {
		fmt.Fprintf(stdout, "rejected %d users: see %s\n", rejected, f.reject.path)
	}
	if waitErr != nil {
		return fmt.Errorf("migrate into %s: %w", tgt, waitErr)
	}
	if err := account(stdout, f.users, got["users"], rejected, true); err != nil {
		return fmt.Errorf("migrate into %s: %w", tgt, err)
	}
	if rejected > 0 {
		return nil // the generator makes rows for the rejected users too
	}
	if bad := compareCounts(users.ExpectedRows(f.users), got); bad != "" {
		return fmt.Errorf("migrate into %s: row counts differ from the source's: %s", tgt, bad)
	}
	fmt.Fprintf(stdout, "verified: every table holds exactly the rows the source makes (%d rows)\n", sum(got))
	return nil
}

// runMigratePart runs one partition of a `weir migrate --nats` job: the
// users of its id range, generated and loaded into the 15 tables. Into
// PostgreSQL each batch commits with the partition's checkpoint; into
// SQLite (or with --on-error skip) the load is idempotent and the
// checkpoint goes to ck.
func runMigratePart(ctx context.Context, js jetstream.JetStream, ms *metricsServer, p cluster.Partition, t partTask, ck *cluster.CheckpointStore, progress func(int64)) (int64, error) {
	f, err := parseMigrateFlags(t.Args, io.Discard)
	if err != nil {
		return 0, fmt.Errorf("the job's arguments: %w", err)
	}
	if t.Keys == nil || t.Keys.Lo == nil || t.Keys.Hi == nil {
		return 0, errors.New("the partition names no id range")
	}
	opt := users.GenOptions{Seed: f.seed, BlobSize: f.blobSize, Start: *t.Keys.Lo}
	if f.blobSize == 0 {
		opt.BlobSize = -1 // as openSource: the flag's 0 means none
	}
	gen, err := users.NewGenerator(*t.Keys.Hi, opt)
	if err != nil {
		return 0, err
	}
	tgt, err := openTarget(ctx, f.to, f.loadConcurrency)
	if err != nil {
		return 0, err
	}
	defer tgt.close()
	cfg, err := f.config(tgt)
	if err != nil {
		return 0, err
	}
	var opts []weir.Option
	if r := tgt.retryable; r != nil {
		opts = append(opts, weir.WithRetryable(r))
	}
	if f.reject.skip() {
		dl := newNATSRejects(js, p)
		dl.locate = func(rec any) string {
			if u, ok := rec.(users.User); ok {
				return "user " + strconv.FormatInt(u.ID, 10)
			}
			return ""
		}
		opts = append(opts, weir.WithDeadLetter(dl))
	}
	exactly := isPostgres(f.to) && !f.reject.skip()
	ckOpts, unlock, err := partCheckpoint(ctx, f.to, exactly, tgt.checkpoints, p, ck, &cfg)
	if err != nil {
		return 0, err
	}
	defer unlock()
	sink, err := tgt.Sink(!exactly)
	if err != nil {
		return 0, err
	}
	pl, err := weir.New(gen, users.Validated(), sink, cfg, append(opts, ckOpts...)...)
	if err != nil {
		return 0, err
	}
	ms.watch(p.Job, pl) // one series per job: each partition's run replaces the last (rate() takes the reset)
	loaded := func() int64 { return sink.Rows()["users"] }
	if err := runReporting(ctx, pl.Run, loaded, progress); err != nil {
		return loaded(), fmt.Errorf("migrate %s into %s: %w", p.Name(), tgt, err)
	}
	return loaded(), nil
}
