package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// JobStatus is a job's state, as [Status] reads it.
type JobStatus struct {
	Name string
	Progress
	// Parts holds every partition's state, by ID.
	Parts []PartState
}

// Status reads the state of job from the server: how many partitions are
// pending, running, done and failed, and each one's state. A running
// partition whose worker died stays running until its ack wait passes and
// another worker takes it. It blocks for one request per partition.
func Status(ctx context.Context, js jetstream.JetStream, job string) (JobStatus, error) {
	if err := CheckJobName(job); err != nil {
		return JobStatus{}, err
	}
	kv, err := js.KeyValue(ctx, stateBucket(job))
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return JobStatus{}, fmt.Errorf("cluster: no job %q on the server", job)
	} else if err != nil {
		return JobStatus{}, fmt.Errorf("cluster: job %q: %w", job, err)
	}
	e, err := kv.Get(ctx, "job")
	if err != nil {
		return JobStatus{}, fmt.Errorf("cluster: job %q: %w", job, err)
	}
	var info jobInfo
	if err := json.Unmarshal(e.Value(), &info); err != nil {
		return JobStatus{}, fmt.Errorf("cluster: job %q: %w", job, err)
	}
	st := JobStatus{Name: job}
	st.Progress, st.Parts, err = readStates(ctx, kv, info.Partitions)
	return st, err
}

// Jobs lists the names of the jobs on the server, sorted.
func Jobs(ctx context.Context, js jetstream.JetStream) ([]string, error) {
	l := js.KeyValueStoreNames(ctx)
	var names []string
	for n := range l.Name() {
		if job, ok := strings.CutPrefix(n, statePrefix); ok {
			names = append(names, job)
		}
	}
	if err := l.Error(); err != nil {
		return nil, fmt.Errorf("cluster: list jobs: %w", err)
	}
	slices.Sort(names)
	return names, nil
}

// Delete removes job's stream and buckets from the server, checkpoints
// included. Workers running one of its partitions fail it.
func Delete(ctx context.Context, js jetstream.JetStream, job string) error {
	if err := CheckJobName(job); err != nil {
		return err
	}
	var errs []error
	for _, s := range []string{streamName(job), rejectStream(job)} {
		if err := js.DeleteStream(ctx, s); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			errs = append(errs, err)
		}
	}
	for _, b := range []string{stateBucket(job), ckptBucket(job)} {
		if err := js.DeleteKeyValue(ctx, b); err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cluster: delete job %q: %w", job, err)
	}
	return nil
}

// readProgress counts the states of partitions 1 to n.
func readProgress(ctx context.Context, kv jetstream.KeyValue, n int) (Progress, error) {
	p, _, err := readStates(ctx, kv, n)
	return p, err
}

func readStates(ctx context.Context, kv jetstream.KeyValue, n int) (Progress, []PartState, error) {
	p := Progress{Partitions: n, running: map[int]bool{}}
	parts := make([]PartState, 0, n)
	for id := 1; id <= n; id++ {
		s, err := getState(ctx, kv, id)
		if err != nil {
			return p, nil, fmt.Errorf("partition %d: %w", id, err)
		}
		parts = append(parts, s)
		switch s.State {
		case Pending:
			p.Pending++
		case Running:
			p.Running++
			p.running[id] = true
		case Done:
			p.Done++
			p.Rows += s.Rows
		case Failed:
			p.Failed++
			p.Failures = append(p.Failures, s)
		}
	}
	return p, parts, nil
}
