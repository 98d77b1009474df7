package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/weir-etl/weir/connect/file"
	"github.com/weir-etl/weir/internal/redact"
)

// partTask is a partition's task as `weir worker` reads it: the command
// and its arguments, as the coordinator was given them, and the range.
type partTask struct {
	Cmd  string   `json:"cmd"` // "copy", "run" or "migrate"
	Args []string `json:"args"`
	// Table is the target table the coordinator resolved (a glob's
	// partition is one of its files, which would name another).
	Table string     `json:"table"`
	File  *fileRange `json:"file,omitempty"`
	// Keys is a range of a table's integer key, or of generated user ids.
	Keys *keyRange `json:"keys,omitempty"`
	// Job is the job file of a run, its absolute path.
	Job string `json:"job,omitempty"`
}

// isSQLSource reports whether spec is a table weir copy --nats splits by
// key ranges.
func isSQLSource(spec string) bool { return isPostgres(spec) || strings.HasPrefix(spec, "sqlite:") }

// copyCluster is `weir copy --nats`: the coordinator. It plans the copy
// and prepares the target as a copy does, splits the source into
// partitions (a file's byte ranges, a table's key ranges), publishes them,
// shows the workers' progress, writes their rejects to the --reject file,
// and reports once every partition is done.
func copyCluster(ctx context.Context, f copyFlags, args []string, stdout, stderr io.Writer) error {
	switch {
	case f.resume:
		return usagef("--resume: a --nats job resumes by itself (a partition continues from its checkpoint); drop --resume")
	case f.source == "-" || (strings.Contains(f.source, "://") && !isSQLSource(f.source)):
		return usagef("SOURCE %s: --nats splits files (a path or a glob) and tables (postgres://…?table=T, sqlite:PATH?table=T); see docs/CLUSTER.md", redact.String(f.source))
	}
	if err := checkClusterRejects(&f.reject); err != nil {
		return err
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
	tasks, read, err := copyTasks(ctx, f, args, src)
	if err != nil {
		return err
	}
	c, err := connectCoordinator(ctx, f.nats, &f.reject, "weir copy", f.nats.jobName(tgt.table, time.Now()))
	if err != nil {
		return err
	}
	defer c.close()
	if err := plan.apply(ctx, tgt); err != nil {
		return err
	}
	if err := c.submit(ctx, tasks); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "weir copy: %s → %s: job %s, %d partitions on NATS at %s\n", src.desc, tgt, c.name, len(tasks), redact.String(f.nats.url))
	if plan.created {
		fmt.Fprintf(stdout, "created %s: %s\n", tgt, describeColumns(plan.cols))
	}
	_, rejected, waitErr, err := c.wait(ctx, f.progress, stdout, stderr)
	elapsed := time.Since(c.start)
	rows, cerr := tgt.count(ctx, tgt.table)
	if err = errors.Join(err, cerr); err != nil {
		return fmt.Errorf("copy into %s: %w", tgt, errors.Join(waitErr, err))
	}
	loaded := rows - plan.rowsBefore
	fmt.Fprintf(stdout, "\nloaded %d rows in %.2fs over %d partitions: %.0f rows/s\n", loaded, elapsed.Seconds(), len(tasks), float64(loaded)/max(elapsed.Seconds(), 1e-9))
	if f.reject.skip() {
		fmt.Fprintf(stdout, "rejected %d records: see %s\n", rejected, f.reject.path)
	}
	if waitErr != nil {
		return fmt.Errorf("copy into %s: %w", tgt, waitErr)
	}
	if err := account(stdout, read, loaded, rejected, len(plan.key) == 0); err != nil {
		return fmt.Errorf("copy into %s: %w", tgt, err)
	}
	if f.verify && src.count != nil && rejected == 0 {
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

// copyTasks splits the source of a copy into partitions and returns
// their tasks and the records they hold (-1 when unknown).
func copyTasks(ctx context.Context, f copyFlags, args []string, src *copySource) ([]partTask, int64, error) {
	var tasks []partTask
	var read int64
	if isSQLSource(f.source) {
		t, err := openSQLTable(ctx, f.source)
		if err != nil {
			return nil, 0, err
		}
		defer t.close()
		col, err := sourceKey(ctx, f.source, t, f.key, src.types)
		if err != nil {
			return nil, 0, err
		}
		ranges, counts, err := splitKeys(ctx, t, col, f.nats.partRows)
		if err != nil {
			return nil, 0, fmt.Errorf("SOURCE %s: %w", redact.String(f.source), err)
		}
		for i := range ranges {
			tasks = append(tasks, partTask{Cmd: "copy", Args: args, Table: src.table, Keys: &ranges[i]})
			read += counts[i]
		}
		return tasks, read, nil
	}
	format, err := fileFormat(f.format)
	if err != nil {
		return nil, 0, err
	}
	ranges, err := splitFiles(ctx, f.source, file.RowSourceConfig{Format: format, Null: f.null, SampleSize: f.sample}, f.nats.partSize)
	if err != nil {
		return nil, 0, usagef("SOURCE %s: %w", f.source, err)
	}
	for i := range ranges {
		tasks = append(tasks, partTask{Cmd: "copy", Args: args, Table: src.table, File: &ranges[i]})
		read += ranges[i].Records
	}
	return tasks, read, nil
}

func isPostgres(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}
