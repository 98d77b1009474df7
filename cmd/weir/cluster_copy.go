package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/weir-etl/weir/connect/file"
	"github.com/weir-etl/weir/internal/cluster"
	"github.com/weir-etl/weir/internal/redact"
)

// partTask is a partition's task as `weir worker` reads it: the command
// and its arguments, as the coordinator was given them, and the range.
type partTask struct {
	Cmd  string   `json:"cmd"` // "copy"
	Args []string `json:"args"`
	// Table is the target table the coordinator resolved (a glob's
	// partition is one of its files, which would name another).
	Table string     `json:"table"`
	File  *fileRange `json:"file,omitempty"`
}

// copyCluster is `weir copy --nats`: the coordinator. It plans the copy
// and prepares the target as a copy does, splits the source into
// partitions, publishes them, shows the workers' progress and reports
// once every partition is done.
func copyCluster(ctx context.Context, f copyFlags, args []string, stdout, stderr io.Writer) error {
	switch {
	case f.resume:
		return usagef("--resume: a --nats job resumes by itself (a partition continues from its checkpoint); drop --resume")
	case f.reject.skip():
		return usagef("--on-error skip: not yet with --nats (each worker would need its own reject file); use --on-error fail")
	case f.source == "-" || strings.Contains(f.source, "://") || strings.HasPrefix(f.source, "sqlite:"):
		return usagef("SOURCE %s: --nats splits files (a path or a glob) for now; see docs/CLUSTER.md", redact.String(f.source))
	}
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
	if tgt.isFile {
		return usagef("TARGET %s: --nats loads a database table (workers on other machines cannot append to one file)", tgt)
	}
	plan, err := planCopy(ctx, src, tgt, f)
	if err != nil {
		return err
	}
	if !isPostgres(f.target) && len(plan.key) == 0 {
		return usagef("--nats into %s needs --key: a partition redelivered after a worker died loads again from its checkpoint, idempotently (PostgreSQL keeps checkpoints with the data and needs none)", tgt)
	}
	format, err := fileFormat(f.format)
	if err != nil {
		return err
	}
	ranges, err := splitFiles(ctx, f.source, file.RowSourceConfig{Format: format, Null: f.null, SampleSize: f.sample}, f.nats.partSize)
	if err != nil {
		return usagef("SOURCE %s: %w", f.source, err)
	}
	tasks := make([]json.RawMessage, len(ranges))
	for i := range ranges {
		if tasks[i], err = json.Marshal(partTask{Cmd: "copy", Args: args, Table: src.table, File: &ranges[i]}); err != nil {
			return err
		}
	}
	nc, js, err := cluster.Connect(ctx, f.nats.url, "weir copy")
	if err != nil {
		return usagef("%w", err)
	}
	defer nc.Close()
	if err := plan.apply(ctx, tgt); err != nil {
		return err
	}
	name := f.nats.jobName(tgt.table, time.Now())
	start := time.Now()
	job, err := cluster.Submit(ctx, nc, js, cluster.JobConfig{Name: name, AckWait: f.nats.ackWait, MaxAttempts: f.nats.maxAttempts}, tasks)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "weir copy: %s → %s: job %s, %d partitions on NATS at %s\n", src.desc, tgt, name, len(tasks), redact.String(f.nats.url))
	if plan.created {
		fmt.Fprintf(stdout, "created %s: %s\n", tgt, describeColumns(plan.cols))
	}
	fmt.Fprintf(stdout, "waiting for workers (weir worker --nats %s); weir status --nats %s %s shows the partitions\n", redact.String(f.nats.url), redact.String(f.nats.url), name)
	show := func(p cluster.Progress) {}
	if f.progress != "off" {
		last := time.Now()
		show = func(p cluster.Progress) {
			if time.Since(last) >= 2*time.Second || p.Finished() {
				last = time.Now()
				fmt.Fprintf(stderr, "partitions: %d/%d done, %d running, %d pending, %d failed; %d records\n", p.Done, p.Partitions, p.Running, p.Pending, p.Failed, p.Rows)
			}
		}
	}
	_, waitErr := job.Wait(ctx, 250*time.Millisecond, show)
	elapsed := time.Since(start)
	rows, cerr := tgt.count(ctx, tgt.table)
	if cerr != nil {
		return fmt.Errorf("count the rows of %s: %w", tgt, cerr)
	}
	loaded := rows - plan.rowsBefore
	fmt.Fprintf(stdout, "\nloaded %d rows in %.2fs over %d partitions: %.0f rows/s\n", loaded, elapsed.Seconds(), len(tasks), float64(loaded)/max(elapsed.Seconds(), 1e-9))
	if waitErr != nil {
		return fmt.Errorf("copy into %s: %w", tgt, waitErr)
	}
	if f.verify && src.count != nil {
		n, err := src.count(ctx)
		if err != nil {
			return fmt.Errorf("verify: count %s: %w", src.desc, err)
		}
		if n != loaded {
			return fmt.Errorf("verify: %s has %d records, %s gained %d rows", src.desc, n, tgt, loaded)
		}
		fmt.Fprintf(stdout, "verified: %d records in %s, %d rows loaded\n", n, src.desc, loaded)
	}
	return nil
}

func isPostgres(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}
