package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/internal/cluster"
	"github.com/weir-etl/weir/internal/redact"
)

// coordinator is what `weir copy`, `weir run` and `weir migrate` share
// with --nats: the connection, the reject file, and the job once
// submitted.
type coordinator struct {
	nf      natsFlags
	nc      *nats.Conn
	js      jetstream.JetStream
	rejects *os.File // nil without --on-error skip
	job     *cluster.Job
	name    string
	start   time.Time
}

// checkClusterRejects refuses the reject flags --nats cannot honour.
func checkClusterRejects(r *rejectFlags) error {
	if r.maxErrors > 0 {
		return usagef("--max-errors: not with --nats (the rejects reach the coordinator at the end); drop it, the report counts them")
	}
	return nil
}

// connectCoordinator connects to NATS, checks that no job is called name
// there, and opens (empties, unless --reject-append) the reject file, all
// before the target is touched.
func connectCoordinator(ctx context.Context, nf natsFlags, r *rejectFlags, cmd, name string) (*coordinator, error) {
	c := &coordinator{nf: nf, name: name}
	var err error
	if c.nc, c.js, err = cluster.Connect(ctx, nf.url, cmd); err != nil {
		return nil, usagef("%w", err)
	}
	jobs, err := cluster.Jobs(ctx, c.js)
	if err != nil {
		c.close()
		return nil, fmt.Errorf("list the jobs on NATS: %w", err)
	}
	if slices.Contains(jobs, name) {
		c.close()
		return nil, usagef("--job %s: a job of that name exists on the NATS server (weir status --nats URL %s); pick another name", name, name)
	}
	if r.skip() {
		mode := os.O_TRUNC
		if r.append {
			mode = os.O_APPEND
		}
		f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|mode, 0o644)
		if err != nil {
			c.close()
			return nil, usagef("--reject: %w", err)
		}
		c.rejects = f
	}
	return c, nil
}

func (c *coordinator) close() {
	if c.rejects != nil {
		c.rejects.Close()
	}
	if c.nc != nil {
		c.nc.Close()
	}
}

// submit publishes the job's partitions, one per task. The tasks'
// arguments go without their passwords: anyone who can read the NATS
// server could read them, so workers take the target's password from
// their own environment (PGPASSWORD, ~/.pgpass), as docs/CLUSTER.md says.
func (c *coordinator) submit(ctx context.Context, tasks []partTask) error {
	raw := make([]json.RawMessage, len(tasks))
	for i := range tasks {
		t := tasks[i]
		t.Args = slices.Clone(t.Args)
		for j, a := range t.Args {
			t.Args[j] = redact.Strip(a)
		}
		var err error
		if raw[i], err = json.Marshal(t); err != nil {
			return err
		}
	}
	c.start = time.Now()
	var err error
	c.job, err = cluster.Submit(ctx, c.nc, c.js, cluster.JobConfig{Name: c.name, AckWait: c.nf.ackWait, MaxAttempts: c.nf.maxAttempts}, raw)
	return err
}

// wait shows the workers' progress (unless progress is "off") until every
// partition is done or one failed, then writes the rejects to the reject
// file. It returns the job's progress, the rejects written, and the job's
// error (a failed partition) apart from its own.
func (c *coordinator) wait(ctx context.Context, progress string, stdout, stderr io.Writer) (p cluster.Progress, rejected int64, jobErr, err error) {
	u := redact.String(c.nf.url)
	fmt.Fprintf(stdout, "waiting for workers (weir worker --nats %s); weir status --nats %s %s shows the partitions\n", u, u, c.name)
	show := func(cluster.Progress) {}
	if progress != "off" {
		last := time.Now()
		show = func(p cluster.Progress) {
			if time.Since(last) >= 2*time.Second || p.Finished() {
				last = time.Now()
				fmt.Fprintf(stderr, "partitions: %d/%d done, %d running, %d pending, %d failed; %d records\n", p.Done, p.Partitions, p.Running, p.Pending, p.Failed, p.Rows)
			}
		}
	}
	p, jobErr = c.job.Wait(ctx, 250*time.Millisecond, show)
	if c.rejects == nil || ctx.Err() != nil {
		return p, 0, jobErr, nil
	}
	// Every partition is done or the job failed: the rejects of every
	// finished batch are stored (a worker publishes them before the batch
	// is checkpointed).
	w := bufio.NewWriter(c.rejects)
	rejected, err = c.job.Rejects(ctx, func(data []byte) error {
		w.Write(data)
		return w.WriteByte('\n')
	})
	err = errors.Join(err, w.Flush(), c.rejects.Sync())
	if err != nil {
		err = fmt.Errorf("--reject %s: %w", c.rejects.Name(), err)
	}
	return p, rejected, jobErr, err
}

// account prints what became of the records the coordinator counted in
// the partitions (read; -1 when unknown) and returns an error when some
// are unaccounted for. exact says the target's rows are the records
// loaded (no upsert merged any).
func account(w io.Writer, read, loaded, rejected int64, exact bool) error {
	if read < 0 {
		fmt.Fprintf(w, "loaded %d, rejected %d\n", loaded, rejected)
		return nil
	}
	fmt.Fprintf(w, "read %d records: loaded %d + rejected %d", read, loaded, rejected)
	switch d := read - loaded - rejected; {
	case d == 0:
		fmt.Fprintln(w, ": every record accounted for")
	case d > 0 && !exact:
		fmt.Fprintf(w, "; %d merged with others of the same key (an upsert)\n", d)
	default:
		fmt.Fprintln(w)
		return fmt.Errorf("%d records unaccounted for (read %d, loaded %d, rejected %d)", d, read, loaded, rejected)
	}
	return nil
}

// natsRejects is a worker's dead-letter sink under --on-error skip: each
// record goes to the job's reject stream, keyed by its partition and its
// source position, which is the same in every run of the partition.
type natsRejects struct {
	js  jetstream.JetStream
	p   cluster.Partition
	run string // this run of the partition, for rejects without a position
	n   atomic.Int64
	// locate, if not nil, names a record that has no source position
	// ("" if it cannot).
	locate func(rec any) string
}

func newNATSRejects(js jetstream.JetStream, p cluster.Partition) *natsRejects {
	return &natsRejects{js: js, p: p, run: strconv.FormatInt(time.Now().UnixNano(), 36)}
}

// Write publishes fails, one by one, waiting for the server to store each.
func (r *natsRejects) Write(ctx context.Context, fails []weir.Failure) error {
	for _, f := range fails {
		if f.Source == "" && r.locate != nil {
			f.Source = r.locate(f.Record)
		}
		data, err := json.Marshal(f)
		if err != nil { // a value JSON cannot hold: keep the record as text
			f.Record = map[string]string{"unencodable": fmt.Sprintf("%+v", f.Record), "encode_error": err.Error()}
			if data, err = json.Marshal(f); err != nil {
				return fmt.Errorf("reject of %s: %w", f.Source, err)
			}
		}
		key := r.p.Name() + " " + f.Source
		if f.Source == "" { // no position: never deduplicated, never lost
			key = fmt.Sprintf("%s run %s #%d", r.p.Name(), r.run, r.n.Add(1))
		}
		if err := cluster.PublishReject(ctx, r.js, r.p.Job, key, data); err != nil {
			return err
		}
	}
	return nil
}
