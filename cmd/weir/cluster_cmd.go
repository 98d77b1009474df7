package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/weir-etl/weir/internal/cluster"
	"github.com/weir-etl/weir/internal/redact"
)

const workerUsage = `Usage: weir worker --nats URL [flags]

Runs the partitions of jobs started with 'weir copy/run/migrate --nats URL', one at a
time, until interrupted, on as many machines as wanted (docs/CLUSTER.md).
SIGTERM or SIGINT hands the running partition back: another worker
resumes it from its checkpoint.

Flags:
`

// workerCmd is `weir worker`.
func workerCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, workerUsage); fs.PrintDefaults() }
	url := fs.String("nats", "", "NATS URL (nats://HOST:4222), required")
	name := fs.String("name", "", "this worker's name in weir status (default: hostname-pid)")
	var mf metricsFlags
	mf.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *url == "" {
		return usagef("worker takes --nats URL and no arguments (weir worker -h for help)")
	}
	ms, err := mf.serve(stderr)
	if err != nil {
		return err
	}
	defer ms.stop()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	nc, js, err := cluster.Connect(ctx, *url, "weir worker")
	if err != nil {
		return usagef("%w", err)
	}
	defer nc.Close()
	w, err := cluster.NewWorker(nc, js, cluster.WorkerConfig{
		Name:    *name,
		OnError: func(err error) { fmt.Fprintln(stderr, oneLine(err)) },
		OnState: func(p cluster.Partition, s cluster.PartState) {
			switch s.State {
			case cluster.Running:
				fmt.Fprintf(stdout, "partition %s (%d of %d): running (attempt %d)\n", p.Name(), p.ID, p.Of, s.Attempt)
			case cluster.Done:
				fmt.Fprintf(stdout, "partition %s: done, %d rows\n", p.Name(), s.Rows)
			case cluster.Pending:
				why := "this worker is stopping"
				if s.Error != "" {
					why = s.Error + "; it will be tried again"
				}
				fmt.Fprintf(stdout, "partition %s: handed back after %d rows (%s): the next worker resumes it from its checkpoint\n", p.Name(), s.Rows, why)
			default:
				fmt.Fprintf(stdout, "partition %s: %s after %d rows: %s\n", p.Name(), s.State, s.Rows, s.Error)
			}
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "weir worker: waiting for partitions on NATS at %s\n", redact.String(*url))
	return w.Run(ctx, partRunner(js, ms))
}

// partRunner runs a partition by its task's command; js takes the
// records it rejects.
func partRunner(js jetstream.JetStream, ms *metricsServer) cluster.RunFunc {
	return func(ctx context.Context, p cluster.Partition, ck *cluster.CheckpointStore, progress func(int64)) (int64, error) {
		var t partTask
		if err := json.Unmarshal(p.Task, &t); err != nil {
			return 0, fmt.Errorf("partition %s: %w", p.Name(), err)
		}
		switch t.Cmd {
		case "copy":
			return runCopyPart(ctx, js, ms, p, t, ck, progress)
		case "run":
			return runJobPart(ctx, js, ms, p, t, ck, progress)
		case "migrate":
			return runMigratePart(ctx, js, ms, p, t, ck, progress)
		}
		return 0, fmt.Errorf("partition %s: unknown command %q (an older weir worker?)", p.Name(), t.Cmd)
	}
}

const statusUsage = `Usage: weir status --nats URL [JOB]

Shows a job's partitions: pending, running, done and failed, with the
workers running them and the errors of failed ones. Without JOB it lists
the jobs on the server.

Flags:
`

// statusCmd is `weir status`.
func statusCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, statusUsage); fs.PrintDefaults() }
	url := fs.String("nats", "", "NATS URL (nats://HOST:4222), required")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 || *url == "" {
		return usagef("status takes --nats URL and at most one JOB (weir status -h for help)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, js, err := cluster.Connect(ctx, *url, "weir status")
	if err != nil {
		return usagef("%w", err)
	}
	defer nc.Close()
	jobs := pos
	if len(jobs) == 0 {
		if jobs, err = cluster.Jobs(ctx, js); err != nil {
			return err
		}
		if len(jobs) == 0 {
			fmt.Fprintln(stdout, "no jobs")
			return nil
		}
	}
	fmt.Fprintf(stdout, "%-32s %10s %8s %8s %8s %8s\n", "job", "partitions", "pending", "running", "done", "failed")
	var errs []error
	for _, j := range jobs {
		st, err := cluster.Status(ctx, js, j)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(stdout, "%-32s %10d %8d %8d %8d %8d\n", j, st.Partitions, st.Pending, st.Running, st.Done, st.Failed)
		if len(pos) == 0 {
			continue
		}
		for _, p := range st.Parts {
			if p.State == cluster.Running || p.State == cluster.Failed {
				fmt.Fprintf(stdout, "  partition %d: %s on %s (attempt %d, updated %s) %s\n", p.ID, p.State, p.Worker, p.Attempt, p.Updated.Format(time.RFC3339), p.Error)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return usagef("%w", err)
	}
	return nil
}
