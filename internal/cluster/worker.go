package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// RunFunc runs one partition: the caller's engine. It must resume from
// the partition's checkpoint, kept either with the data or in ck (under
// p.Name()), call progress with the records loaded so far now and then,
// and return the records it loaded. It must return soon after ctx ends.
// A partition is run by one worker at a time, except that a worker cut
// off from the server for longer than the ack wait may still be running
// it when another starts: fence with the target (an advisory lock) when
// that matters.
type RunFunc func(ctx context.Context, p Partition, ck *CheckpointStore, progress func(rows int64)) (rows int64, err error)

// WorkerConfig configures a [Worker].
type WorkerConfig struct {
	// Name identifies the worker in partition states. Default:
	// hostname-pid.
	Name string
	// Poll is how long one request for a partition waits when there is
	// none. Default 1s.
	Poll time.Duration
	// OnError, if not nil, is called with the errors the worker rides
	// out (the server unreachable, a partition run that failed and will
	// be retried), on the worker's goroutine.
	OnError func(error)
	// OnState, if not nil, is called when the worker starts, finishes or
	// gives up a partition, on the worker's goroutine.
	OnState func(Partition, PartState)
}

// Worker pulls partitions of every job on the server, one at a time. Make
// one with [NewWorker].
type Worker struct {
	cfg WorkerConfig
	nc  *nats.Conn
	js  jetstream.JetStream
	// wake has a value when a job was submitted since the last fetch.
	wake chan struct{}
}

// NewWorker returns a worker on the connection nc (see [Connect]).
func NewWorker(nc *nats.Conn, js jetstream.JetStream, cfg WorkerConfig) (*Worker, error) {
	if cfg.Poll < 0 {
		return nil, fmt.Errorf("cluster: WorkerConfig.Poll must be >= 0 (0 means 1s), got %v", cfg.Poll)
	}
	if cfg.Poll == 0 {
		cfg.Poll = time.Second
	}
	if cfg.Name == "" {
		host, _ := os.Hostname()
		cfg.Name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	return &Worker{cfg: cfg, nc: nc, js: js, wake: make(chan struct{}, 1)}, nil
}

// Run pulls and runs partitions until ctx ends, then hands back the
// partition it is running (its run is cancelled, and the partition is
// redelivered at once to another worker, which resumes it from its
// checkpoint) and returns nil. It rides out errors talking to the server,
// retrying; it returns an error only for a connection closed for good.
func (w *Worker) Run(ctx context.Context, run RunFunc) error {
	// An idle worker polls every Poll, and wakes at once when a job is
	// submitted.
	sub, err := w.nc.Subscribe(newJobSubject, func(*nats.Msg) {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return fmt.Errorf("cluster: worker %s: %w", w.cfg.Name, err)
	}
	defer sub.Unsubscribe()
	next := 0 // round-robin over jobs
	for ctx.Err() == nil {
		if w.nc.IsClosed() {
			return fmt.Errorf("cluster: worker %s: %w", w.cfg.Name, nats.ErrConnectionClosed)
		}
		msg, n, err := w.fetch(ctx, next)
		next = n
		if err != nil {
			w.onError(err)
			w.pause(ctx, w.cfg.Poll)
			continue
		}
		if msg != nil {
			w.handle(ctx, msg, run)
		}
	}
	return nil
}

// fetch asks the jobs' consumers for one partition, starting after job
// index from, and returns it (or nil when none had one) and where to start
// next time.
func (w *Worker) fetch(ctx context.Context, from int) (jetstream.Msg, int, error) {
	// Only jobs with partitions left: a work-queue stream holds a
	// partition until it is acknowledged, so a finished job's is empty.
	l := w.js.ListStreams(ctx, jetstream.WithStreamListSubject(jobsSubjects))
	var names []string
	for info := range l.Info() {
		if info.State.Msgs > 0 {
			names = append(names, info.Config.Name)
		}
	}
	if err := l.Err(); err != nil {
		return nil, from, fmt.Errorf("cluster: list jobs: %w", err)
	}
	if len(names) == 0 {
		t := time.NewTimer(w.cfg.Poll)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-w.wake:
		}
		return nil, from, nil
	}
	slices.Sort(names)
	wait := max(w.cfg.Poll/time.Duration(len(names)), 100*time.Millisecond)
	for i := range names {
		k := (from + i) % len(names)
		c, err := w.js.Consumer(ctx, names[k], consumerName)
		if err != nil {
			continue // a job deleted meanwhile
		}
		b, err := c.Fetch(1, jetstream.FetchMaxWait(wait))
		if err != nil {
			return nil, k + 1, fmt.Errorf("cluster: fetch a partition of %s: %w", names[k], err)
		}
		for m := range b.Messages() {
			return m, k + 1, nil
		}
		if err := b.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
			return nil, k + 1, fmt.Errorf("cluster: fetch a partition of %s: %w", names[k], err)
		}
	}
	return nil, from + 1, nil
}

// handle runs the partition of msg and acknowledges it, hands it back or
// fails it.
func (w *Worker) handle(ctx context.Context, msg jetstream.Msg, run RunFunc) {
	var p Partition
	if err := json.Unmarshal(msg.Data(), &p); err != nil || CheckJobName(p.Job) != nil {
		w.onError(fmt.Errorf("cluster: a message that is no partition on %s: %v", msg.Subject(), err))
		_ = msg.Term()
		return
	}
	deliveries := 1
	if md, err := msg.Metadata(); err == nil {
		deliveries = int(md.NumDelivered)
	}
	var state, ckv jetstream.KeyValue
	err := retry(ctx, time.Minute, func(ctx context.Context) (err error) {
		if state, err = w.js.KeyValue(ctx, stateBucket(p.Job)); err != nil {
			return err
		}
		ckv, err = w.js.KeyValue(ctx, ckptBucket(p.Job))
		return err
	})
	if err != nil {
		w.onError(fmt.Errorf("cluster: partition %s: its job's buckets: %w", p.Name(), err))
		_ = msg.Nak()
		return
	}
	var prev PartState
	if err := retry(ctx, time.Minute, func(ctx context.Context) (err error) { prev, err = getState(ctx, state, p.ID); return }); err != nil {
		w.onError(fmt.Errorf("cluster: partition %s: read its state: %w", p.Name(), err))
		_ = msg.Nak()
		return
	}
	s := PartState{ID: p.ID, State: Running, Worker: w.cfg.Name, Attempt: deliveries, Failures: prev.Failures, Error: prev.Error}
	switch {
	case prev.State == Done: // done, but the ack was lost (a server restart)
		_ = msg.Ack()
		return
	case prev.State == Failed:
		_ = msg.Term()
		return
	case deliveries > 10*p.MaxAttempts: // workers keep dying on it
		s.State, s.Error = Failed, fmt.Sprintf("delivered %d times without finishing (the workers running it died): %s", deliveries, prev.Error)
		w.finish(ctx, p, msg, state, s)
		return
	}
	s.Rows = prev.Rows
	if err := retry(ctx, time.Minute, func(ctx context.Context) error { return putState(ctx, state, s) }); err != nil {
		w.onError(fmt.Errorf("cluster: partition %s: record it running: %w", p.Name(), err))
		_ = msg.Nak()
		return
	}
	w.onState(p, s)

	var rows atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { w.heartbeat(p, msg, &rows, stop) })
	n, runErr := run(ctx, p, &CheckpointStore{kv: ckv}, rows.Store)
	close(stop)
	wg.Wait()
	rows.Store(n)
	w.publishStat(p, n)

	s.Rows, s.Failures = n, prev.Failures
	switch {
	case runErr == nil:
		s.State, s.Error = Done, ""
	case ctx.Err() != nil: // the worker is stopping: hand the partition back
		s.State = Pending
	default:
		s.Failures++
		s.State, s.Error = Pending, runErr.Error()
		if s.Failures >= p.MaxAttempts {
			s.State = Failed
		}
	}
	w.finish(ctx, p, msg, state, s)
}

// finish records the partition's new state and then acknowledges (done),
// hands back (pending) or terminates (failed) its message.
func (w *Worker) finish(ctx context.Context, p Partition, msg jetstream.Msg, state jetstream.KeyValue, s PartState) {
	// Recorded even when ctx ended: the state must say the partition is
	// not running any more.
	bg := context.WithoutCancel(ctx)
	if err := retry(bg, time.Minute, func(ctx context.Context) error { return putState(ctx, state, s) }); err != nil {
		w.onError(fmt.Errorf("cluster: partition %s: record it %s: %w", p.Name(), s.State, err))
	}
	var err error
	switch s.State {
	case Done:
		// A lost ack redelivers the partition; its next worker finds it
		// done and acknowledges it.
		err = retry(bg, time.Minute, func(ctx context.Context) error { return msg.DoubleAck(ctx) })
	case Failed:
		err = msg.Term()
	default:
		if ctx.Err() != nil {
			err = msg.Nak()
		} else {
			err = msg.NakWithDelay(time.Duration(s.Failures) * time.Second)
		}
	}
	if err != nil {
		w.onError(fmt.Errorf("cluster: partition %s: %s it: %w", p.Name(), s.State, err))
	}
	w.onState(p, s)
}

// heartbeat tells the server the partition is in progress every third of
// its ack wait, and publishes the rows loaded so far, until stop closes.
func (w *Worker) heartbeat(p Partition, msg jetstream.Msg, rows *atomic.Int64, stop <-chan struct{}) {
	every := max(p.AckWait/3, 100*time.Millisecond)
	t := time.NewTicker(min(every, time.Second))
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			w.publishStat(p, rows.Load())
			if now.Sub(last) >= every {
				_ = msg.InProgress() // fails while disconnected; the next one goes through
				last = now
			}
		}
	}
}

func (w *Worker) publishStat(p Partition, rows int64) {
	b, _ := json.Marshal(Stat{Part: p.ID, Worker: w.cfg.Name, Rows: rows})
	_ = w.nc.Publish(statsSubject(p.Job), b) // progress only: a lost one is replaced by the next
}

func (w *Worker) onError(err error) {
	if w.cfg.OnError != nil {
		w.cfg.OnError(err)
	}
}

func (w *Worker) onState(p Partition, s PartState) {
	if w.cfg.OnState != nil {
		w.cfg.OnState(p, s)
	}
}

// pause waits d or until ctx ends.
func (w *Worker) pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
