package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A job's rejected records (a malformed line, a record the transform or
// the target refused, under --on-error skip) travel from the workers to
// the coordinator through the stream WEIR_REJ_NAME (subject
// weir.rejects.NAME, limits retention, file storage), which [Submit]
// creates. A worker publishes each reject with [PublishReject] before the
// batch it came in is checkpointed, so a reject is stored before its
// partition can be done; the coordinator reads them all with
// [Job.Rejects] once every partition is done.
//
// A partition that is redelivered (its worker died) runs its unfinished
// batches again and publishes their rejects again: each reject carries a
// key naming the record (its partition and source position), and
// [Job.Rejects] passes on the first of each key only.

func rejectStream(job string) string  { return "WEIR_REJ_" + job }
func rejectSubject(job string) string { return "weir.rejects." + job }

// rejectKeyHeader holds a reject's key.
const rejectKeyHeader = "Weir-Reject-Key"

// createRejectStream creates the job's reject stream.
func createRejectStream(ctx context.Context, js jetstream.JetStream, job string) error {
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: rejectStream(job), Subjects: []string{rejectSubject(job)},
		Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage,
	})
	return err
}

// PublishReject stores one rejected record of job, data (a JSON object,
// written to the reject file as it is), under key: what identifies the
// record within the job, so that the same record rejected again by a
// redelivered partition is written once. It blocks until the server has
// stored it, retrying for up to a minute while the server is unreachable
// (a restart); an error means the reject was not stored and the run must
// fail, so that no record is lost. Safe for concurrent use.
func PublishReject(ctx context.Context, js jetstream.JetStream, job, key string, data []byte) error {
	msg := &nats.Msg{Subject: rejectSubject(job), Data: data, Header: nats.Header{}}
	msg.Header.Set(rejectKeyHeader, key)
	// No message id: a publish retried after a lost reply stores the
	// reject twice, as a redelivered partition does, and the key alone
	// deduplicates them (one mechanism, whatever the time between).
	err := retry(ctx, time.Minute, func(ctx context.Context) error {
		_, err := js.PublishMsg(ctx, msg)
		return err
	})
	if err != nil {
		return fmt.Errorf("cluster: publish a reject of job %q: %w", job, err)
	}
	return nil
}

// Rejects reads the rejects the workers have stored for the job, in the
// order they were stored, and calls write with each distinct one (the
// first of each key), on the caller's goroutine. It returns how many it
// passed to write. Call it once every partition is done (after
// [Job.Wait]), so that every reject is stored. It costs one request per
// stored reject and keeps each key in memory; it retries while the server
// restarts, and stops at write's first error.
func (j *Job) Rejects(ctx context.Context, write func(data []byte) error) (int64, error) {
	return ReadRejects(ctx, j.js, j.cfg.Name, write)
}

// ReadRejects is [Job.Rejects] for a job submitted by another process.
func ReadRejects(ctx context.Context, js jetstream.JetStream, job string, write func(data []byte) error) (int64, error) {
	var stream jetstream.Stream
	var info *jetstream.StreamInfo
	err := retry(ctx, 2*time.Minute, func(ctx context.Context) (err error) {
		if stream, err = js.Stream(ctx, rejectStream(job)); err != nil {
			return err
		}
		info, err = stream.Info(ctx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("cluster: the rejects of job %q: %w", job, err)
	}
	if info.State.Msgs == 0 {
		return 0, nil
	}
	seen := map[string]bool{}
	var n int64
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		var m *jetstream.RawStreamMsg
		err := retry(ctx, 2*time.Minute, func(ctx context.Context) (err error) {
			m, err = stream.GetMsg(ctx, seq)
			return err
		})
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // none is ever deleted; skip a gap rather than fail
		}
		if err != nil {
			return n, fmt.Errorf("cluster: reject %d of job %q: %w", seq, job, err)
		}
		key := m.Header.Get(rejectKeyHeader)
		if seen[key] {
			continue
		}
		seen[key] = true
		if err := write(m.Data); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
