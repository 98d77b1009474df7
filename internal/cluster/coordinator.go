package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JobConfig configures a job [Submit] publishes.
type JobConfig struct {
	// Name names the job (see [CheckJobName]); a job of that name must not
	// exist on the server.
	Name string
	// AckWait is how long a partition may go without a sign of life from
	// its worker before it is redelivered to another. Workers signal every
	// AckWait/3 while they run it. Default 30s.
	AckWait time.Duration
	// MaxAttempts is how many times a partition is run before its error
	// fails the job. Default 3.
	MaxAttempts int
}

// Validate reports every impossible value.
func (c JobConfig) Validate() error {
	var errs []error
	if err := CheckJobName(c.Name); err != nil {
		errs = append(errs, fmt.Errorf("cluster: JobConfig.Name: %w", err))
	}
	if c.AckWait < 0 || (c.AckWait > 0 && c.AckWait < 300*time.Millisecond) {
		errs = append(errs, fmt.Errorf("cluster: JobConfig.AckWait must be at least 300ms (0 means 30s), got %v", c.AckWait))
	}
	if c.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("cluster: JobConfig.MaxAttempts must be >= 1 (0 means 3), got %d", c.MaxAttempts))
	}
	return errors.Join(errs...)
}

func (c JobConfig) withDefaults() JobConfig {
	if c.AckWait == 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 3
	}
	return c
}

// Job is a submitted job, as its coordinator sees it.
type Job struct {
	cfg   JobConfig
	js    jetstream.JetStream
	nc    *nats.Conn
	state jetstream.KeyValue
	n     int
}

// Submit creates the job's stream, consumer and buckets, records every
// partition pending, and publishes one message per task, in order. It
// blocks until the server has stored them all. A job of the same name
// that already exists is an error: pick another name, or [Delete] it.
func Submit(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, cfg JobConfig, tasks []json.RawMessage) (*Job, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(tasks) == 0 {
		return nil, errors.New("cluster: submit: no partitions")
	}
	cfg = cfg.withDefaults()
	name := cfg.Name
	if _, err := js.Stream(ctx, streamName(name)); err == nil {
		return nil, fmt.Errorf("cluster: job %q already exists on the server: pick another job name, or delete it", name)
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("cluster: look up job %q: %w", name, err)
	}
	state, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: stateBucket(name), Storage: jetstream.FileStorage})
	if err != nil {
		return nil, fmt.Errorf("cluster: create the state bucket of job %q: %w", name, err)
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: ckptBucket(name), Storage: jetstream.FileStorage}); err != nil {
		return nil, fmt.Errorf("cluster: create the checkpoint bucket of job %q: %w", name, err)
	}
	if err := createRejectStream(ctx, js, name); err != nil {
		return nil, fmt.Errorf("cluster: create the reject stream of job %q: %w", name, err)
	}
	info, _ := json.Marshal(jobInfo{Name: name, Partitions: len(tasks), Created: time.Now().UTC()})
	if _, err := state.Put(ctx, "job", info); err != nil {
		return nil, fmt.Errorf("cluster: record job %q: %w", name, err)
	}
	for i := range tasks {
		if err := putState(ctx, state, PartState{ID: i + 1, State: Pending}); err != nil {
			return nil, fmt.Errorf("cluster: record partition %d of job %q: %w", i+1, name, err)
		}
	}
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: streamName(name), Subjects: []string{subject(name)},
		Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: create the stream of job %q: %w", name, err)
	}
	if _, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: consumerName, AckPolicy: jetstream.AckExplicitPolicy, AckWait: cfg.AckWait, MaxDeliver: -1,
	}); err != nil {
		return nil, fmt.Errorf("cluster: create the consumer of job %q: %w", name, err)
	}
	for i, t := range tasks {
		p := Partition{Job: name, ID: i + 1, Of: len(tasks), Task: t, AckWait: cfg.AckWait, MaxAttempts: cfg.MaxAttempts}
		b, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("cluster: partition %d: %w", p.ID, err)
		}
		// The message id makes a publish retried after a lost reply a no-op.
		if _, err := js.Publish(ctx, subject(name), b, jetstream.WithMsgID(p.Name())); err != nil {
			return nil, fmt.Errorf("cluster: publish partition %d of job %q: %w", p.ID, name, err)
		}
	}
	_ = nc.Publish(newJobSubject, []byte(name)) // wakes idle workers; they poll anyway
	return &Job{cfg: cfg, js: js, nc: nc, state: state, n: len(tasks)}, nil
}

// Progress is a job's progress, as [Job.Wait] reports it.
type Progress struct {
	Partitions                     int
	Pending, Running, Done, Failed int
	// Rows is the sum of the records loaded by done partitions' last
	// attempts and by running partitions so far, as workers reported
	// them: a partition resumed after a crash counts only its last
	// attempt's records. For an exact figure, count the target.
	Rows int64
	// Failures holds the failed partitions' states, with their errors.
	Failures []PartState

	running map[int]bool
}

// Finished reports whether no partition is pending or running.
func (p Progress) Finished() bool { return p.Done+p.Failed == p.Partitions }

// Wait blocks until every partition is done or one has failed, calling
// progress (if not nil) about every interval with the job's progress, on
// Wait's goroutine. It returns the last progress, and an error naming the
// first failed partition if one failed: then it purges the partitions not
// yet started, so that workers do not take them (those running finish).
// It rides out a NATS server restart, failing only if the server stays
// unreachable for 2 minutes; a ctx that ends returns ctx's error, leaving
// the job running on the workers.
func (j *Job) Wait(ctx context.Context, interval time.Duration, progress func(Progress)) (Progress, error) {
	var mu sync.Mutex
	live := map[int]int64{} // partition → rows of its running attempt
	sub, err := j.nc.Subscribe(statsSubject(j.cfg.Name), func(m *nats.Msg) {
		var s Stat
		if json.Unmarshal(m.Data, &s) == nil {
			mu.Lock()
			live[s.Part] = s.Rows
			mu.Unlock()
		}
	})
	if err != nil {
		return Progress{}, fmt.Errorf("cluster: subscribe to the progress of job %q: %w", j.cfg.Name, err)
	}
	defer sub.Unsubscribe()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		var p Progress
		err := retry(ctx, 2*time.Minute, func(ctx context.Context) (err error) {
			p, err = readProgress(ctx, j.state, j.n)
			return err
		})
		if err != nil {
			return p, fmt.Errorf("cluster: read the state of job %q: %w", j.cfg.Name, err)
		}
		mu.Lock()
		p.Rows += sumRunning(live, p)
		mu.Unlock()
		if progress != nil {
			progress(p)
		}
		if len(p.Failures) > 0 {
			f := p.Failures[0]
			stream, serr := j.js.Stream(ctx, streamName(j.cfg.Name))
			if serr == nil {
				serr = stream.Purge(ctx)
			}
			err := fmt.Errorf("cluster: job %q: partition %d failed after %d attempts: %s", j.cfg.Name, f.ID, f.Attempt, f.Error)
			if serr != nil {
				err = errors.Join(err, fmt.Errorf("cluster: purge the partitions not started: %w", serr))
			}
			return p, err
		}
		if p.Finished() {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-t.C:
		}
	}
}

// sumRunning adds up the live rows of the partitions p found running.
func sumRunning(live map[int]int64, p Progress) int64 {
	var n int64
	for id, rows := range live {
		if p.running[id] {
			n += rows
		}
	}
	return n
}
