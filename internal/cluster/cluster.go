// Package cluster spreads a weir job over machines with NATS JetStream: a
// coordinator splits the job into partitions and publishes them to a
// work-queue stream, one stream per job; workers, on as many machines as
// wanted, pull one partition at a time, run it, and acknowledge it when it
// is done. What a partition is (a byte range of a file, a key range of a
// table, a range of generated ids) is the caller's: to this package a
// partition's task is opaque JSON.
//
// For each job NAME the coordinator creates, on the NATS server:
//
//   - the stream WEIR_JOB_NAME (subject weir.job.NAME.parts, work-queue
//     retention, file storage) holding one message per partition not yet
//     acknowledged, and its durable pull consumer "workers";
//   - the key-value bucket WEIR_STATE_NAME holding the job ("job") and each
//     partition's state ("part.N": pending, running, done or failed, with
//     the worker, the attempt and the last error), which [Status] reads;
//   - the key-value bucket WEIR_CKPT_NAME, the partitions' checkpoints for
//     targets that cannot keep them in their own transactions
//     ([CheckpointStore]);
//   - the stream WEIR_REJ_NAME, the records the workers rejected
//     ([PublishReject], [Job.Rejects]).
//
// Workers publish their progress on the core NATS subject
// weir.stats.NAME, which [Job.Wait] aggregates, and listen on weir.jobs,
// where a coordinator announces a new job.
//
// Guarantees: a partition is acknowledged only after its run returned
// without error and its state was recorded done. A partition whose worker
// dies (kill -9, a lost machine) is redelivered once the consumer's ack
// wait passes without a sign of life; its next run resumes from the
// partition's checkpoint, so a checkpoint committed with the data (the
// PostgreSQL target) loads every record once, and an upsert target with a
// checkpoint in WEIR_CKPT_NAME loads some records twice, idempotently. A
// partition that fails MaxAttempts times fails the job. Clients reconnect
// when the server restarts; the streams and buckets use file storage, so a
// server that restarts with the same store directory keeps the job.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// State is a partition's state.
type State string

// The states of a partition, in the order a partition goes through them. A
// running partition whose worker stopped goes back to pending.
const (
	Pending State = "pending"
	Running State = "running"
	Done    State = "done"
	Failed  State = "failed"
)

// Partition is one unit of work, as a worker receives it.
type Partition struct {
	Job string `json:"job"`
	// ID numbers the job's partitions from 1 to Of.
	ID int `json:"id"`
	Of int `json:"of"`
	// Task is what to do, in the coordinator's encoding.
	Task json.RawMessage `json:"task"`
	// AckWait and MaxAttempts are the job's (see [JobConfig]).
	AckWait     time.Duration `json:"ack_wait"`
	MaxAttempts int           `json:"max_attempts"`
}

// Name is the partition's name, job/N: the job name a worker gives weir's
// checkpoint for this partition.
func (p Partition) Name() string { return p.Job + "/" + strconv.Itoa(p.ID) }

// PartState is what the state bucket holds for one partition.
type PartState struct {
	ID      int    `json:"id"`
	State   State  `json:"state"`
	Worker  string `json:"worker,omitempty"`
	Attempt int    `json:"attempt,omitempty"` // deliveries of its message so far
	// Failures counts the runs that returned an error (not those handed
	// back or lost with their worker); MaxAttempts of them fail the job.
	Failures int       `json:"failures,omitempty"`
	Rows     int64     `json:"rows,omitempty"` // records loaded by the last attempt
	Error    string    `json:"error,omitempty"`
	Updated  time.Time `json:"updated"`
}

// jobInfo is the state bucket's "job" entry.
type jobInfo struct {
	Name       string    `json:"name"`
	Partitions int       `json:"partitions"`
	Created    time.Time `json:"created"`
}

// Stat is a worker's progress report on weir.stats.JOB.
type Stat struct {
	Part   int    `json:"part"`
	Worker string `json:"worker"`
	Rows   int64  `json:"rows"` // records loaded by this attempt so far
}

var jobName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// CheckJobName returns an error unless name can name a job: 1 to 64
// letters, digits, '-' and '_' (it names streams, buckets and subjects).
func CheckJobName(name string) error {
	if !jobName.MatchString(name) {
		return fmt.Errorf("cluster: job name %q: want 1 to 64 letters, digits, '-' or '_'", name)
	}
	return nil
}

func streamName(job string) string   { return "WEIR_JOB_" + job }
func subject(job string) string      { return "weir.job." + job + ".parts" }
func statsSubject(job string) string { return "weir.stats." + job }
func stateBucket(job string) string  { return "WEIR_STATE_" + job }
func ckptBucket(job string) string   { return "WEIR_CKPT_" + job }
func partKey(id int) string          { return "part." + strconv.Itoa(id) }

const (
	consumerName = "workers"
	jobsSubjects = "weir.job.>"
	// newJobSubject is where a coordinator announces a job to idle
	// workers (core NATS: a lost message costs a poll interval).
	newJobSubject = "weir.jobs"
	// statePrefix is the name of every job's state bucket, before the job.
	statePrefix = "WEIR_STATE_"
)

// Connect connects to the NATS server at url (a comma-separated list for a
// cluster) as name and returns the connection and its JetStream context.
// The connection reconnects forever when the server goes away, buffering
// what is published meanwhile; Close the connection when done. It blocks
// until the first connection succeeds or ctx ends, trying for at most 10
// seconds.
func Connect(ctx context.Context, url, name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond),
		nats.RetryOnFailedConnect(false), nats.Timeout(10*time.Second))
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: connect to NATS at %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("cluster: JetStream at %s: %w", url, err)
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(actx); err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("cluster: JetStream at %s (start the server with -js): %w", url, err)
	}
	return nc, js, nil
}

// getState reads partition id's state.
func getState(ctx context.Context, kv jetstream.KeyValue, id int) (PartState, error) {
	e, err := kv.Get(ctx, partKey(id))
	if err != nil {
		return PartState{}, err
	}
	var s PartState
	if err := json.Unmarshal(e.Value(), &s); err != nil {
		return PartState{}, fmt.Errorf("cluster: state of partition %d: %w", id, err)
	}
	return s, nil
}

// putState writes s as its partition's state.
func putState(ctx context.Context, kv jetstream.KeyValue, s PartState) error {
	s.Updated = time.Now().UTC()
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = kv.Put(ctx, partKey(s.ID), b)
	return err
}

// retry calls f until it succeeds, ctx ends, or it has failed for longer
// than patience: NATS calls fail while the server restarts. The error is
// f's last.
func retry(ctx context.Context, patience time.Duration, f func(ctx context.Context) error) error {
	deadline := time.Now().Add(patience)
	wait := 100 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := f(cctx)
		cancel()
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) || permanent(err) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// permanent reports whether err will not go away by retrying.
func permanent(err error) bool {
	return errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrBucketNotFound) ||
		errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, nats.ErrConnectionClosed)
}
