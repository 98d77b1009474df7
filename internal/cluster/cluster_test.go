package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-etl/weir/internal/cluster"
)

// ledger is a fake target: it counts each (partition, item) loaded.
type ledger struct {
	mu     sync.Mutex
	loaded map[string]int
	starts map[string][]int // each run's first item, by partition
}

func newLedger() *ledger { return &ledger{loaded: map[string]int{}, starts: map[string][]int{}} }

// run is a RunFunc loading items 0..n-1 of a task {"n":N}, one at a time,
// each followed by its checkpoint (the item after it) in ck. before, if
// not nil, is called before each item and may block or fail it.
func (l *ledger) run(before func(ctx context.Context, p cluster.Partition, item int) error) cluster.RunFunc {
	return func(ctx context.Context, p cluster.Partition, ck *cluster.CheckpointStore, progress func(int64)) (int64, error) {
		var task struct{ N int }
		if err := json.Unmarshal(p.Task, &task); err != nil {
			return 0, err
		}
		pos, err := ck.Load(ctx, p.Name())
		if err != nil {
			return 0, err
		}
		from := 0
		if pos != nil {
			from, _ = strconv.Atoi(string(pos))
		}
		l.mu.Lock()
		l.starts[p.Name()] = append(l.starts[p.Name()], from)
		l.mu.Unlock()
		var rows int64
		for i := from; i < task.N; i++ {
			if before != nil {
				if err := before(ctx, p, i); err != nil {
					return rows, err
				}
			}
			if err := ctx.Err(); err != nil {
				return rows, err
			}
			l.mu.Lock()
			l.loaded[fmt.Sprintf("%s#%d", p.Name(), i)]++
			l.mu.Unlock()
			if err := ck.Save(ctx, p.Name(), []byte(strconv.Itoa(i+1))); err != nil {
				return rows, err
			}
			rows++
			progress(rows)
		}
		return rows, nil
	}
}

// check fails t unless every item of every partition loaded exactly once.
func (l *ledger) check(t *testing.T, job string, parts, n int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for p := 1; p <= parts; p++ {
		for i := range n {
			if k := fmt.Sprintf("%s/%d#%d", job, p, i); l.loaded[k] != 1 {
				t.Errorf("%s loaded %d times, want 1", k, l.loaded[k])
			}
		}
	}
	if len(l.loaded) != parts*n {
		t.Errorf("%d items loaded, want %d", len(l.loaded), parts*n)
	}
}

func tasks(parts, n int) []json.RawMessage {
	out := make([]json.RawMessage, parts)
	for i := range out {
		out[i] = json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))
	}
	return out
}

// startWorker runs a worker on its own connection until the returned
// stop is called (which waits for it).
func startWorker(t *testing.T, ns *natsServer, name string, run cluster.RunFunc) (stop func()) {
	t.Helper()
	nc, js := ns.connect(t, name)
	w, err := cluster.NewWorker(nc, js, cluster.WorkerConfig{Name: name, Poll: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, run) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("worker %s: %v", name, err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func submit(t *testing.T, ns *natsServer, cfg cluster.JobConfig, parts, n int) *cluster.Job {
	t.Helper()
	nc, js := ns.connect(t, "coordinator")
	job, err := cluster.Submit(context.Background(), nc, js, cfg, tasks(parts, n))
	if err != nil {
		t.Fatal(err)
	}
	return job
}

func wait(t *testing.T, job *cluster.Job) (cluster.Progress, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return job.Wait(ctx, 50*time.Millisecond, nil)
}

func TestEveryPartitionLoadsOnce(t *testing.T) {
	ns := startServer(t)
	l := newLedger()
	job := submit(t, ns, cluster.JobConfig{Name: "once"}, 12, 20)
	for i := range 3 {
		startWorker(t, ns, fmt.Sprintf("w%d", i), l.run(nil))
	}
	p, err := wait(t, job)
	if err != nil {
		t.Fatal(err)
	}
	if p.Done != 12 || p.Rows != 12*20 {
		t.Errorf("progress %+v, want 12 done, %d rows", p, 12*20)
	}
	l.check(t, "once", 12, 20)
}

// A worker cut off mid-partition (its connection closed, as a kill -9
// does) loses the partition: the server redelivers it after the ack wait
// and the next worker resumes it from its checkpoint.
func TestKilledWorkersPartitionResumesFromCheckpoint(t *testing.T) {
	ns := startServer(t)
	l := newLedger()
	job := submit(t, ns, cluster.JobConfig{Name: "killed", AckWait: 500 * time.Millisecond}, 1, 10)

	nc, js := ns.connect(t, "doomed")
	w, err := cluster.NewWorker(nc, js, cluster.WorkerConfig{Name: "doomed", Poll: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	reached, release := make(chan struct{}), make(chan struct{})
	doomed := l.run(func(_ context.Context, p cluster.Partition, i int) error {
		if i == 6 {
			close(reached)
			<-release
			return errors.New("dead") // what a dead process never gets to do
		}
		return nil
	})
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background(), doomed) }()
	<-reached
	nc.Close() // the worker is gone: no heartbeat, no ack, no nak

	startWorker(t, ns, "heir", l.run(nil))
	if _, err := wait(t, job); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err == nil {
		t.Error("the cut-off worker's Run returned nil, want the closed connection")
	}
	l.check(t, "killed", 1, 10)
	if got := l.starts["killed/1"]; len(got) != 2 || got[1] != 6 {
		t.Errorf("runs started at %v, want [0 6]: the second resumes at the checkpoint", got)
	}
}

// A worker that stops (SIGTERM) hands its partition back at once: another
// worker resumes it from its checkpoint without waiting for the ack wait,
// which is longer than the test.
func TestStoppedWorkerHandsPartitionBack(t *testing.T) {
	ns := startServer(t)
	l := newLedger()
	job := submit(t, ns, cluster.JobConfig{Name: "handback", AckWait: 10 * time.Minute}, 1, 10)
	reached := make(chan struct{})
	stop := startWorker(t, ns, "leaving", l.run(func(ctx context.Context, p cluster.Partition, i int) error {
		if i == 4 {
			close(reached)
			<-ctx.Done() // the worker stops
		}
		return nil
	}))
	<-reached
	startWorker(t, ns, "heir", l.run(nil))
	stop()
	if _, err := wait(t, job); err != nil {
		t.Fatal(err)
	}
	l.check(t, "handback", 1, 10)
	if got := l.starts["handback/1"]; len(got) != 2 || got[1] != 4 {
		t.Errorf("runs started at %v, want [0 4]", got)
	}
}

// The server restarts (same store) while a worker runs a partition and
// the coordinator waits: both reconnect and the job completes, each item
// once.
func TestServerRestartMidJob(t *testing.T) {
	ns := startServer(t)
	l := newLedger()
	job := submit(t, ns, cluster.JobConfig{Name: "restart", AckWait: 5 * time.Second}, 3, 10)
	reached, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	startWorker(t, ns, "w", l.run(func(ctx context.Context, p cluster.Partition, i int) error {
		if p.ID == 2 && i == 5 {
			once.Do(func() { close(reached); <-release })
		}
		return nil
	}))
	<-reached
	ns.Restart()
	close(release)
	if _, err := wait(t, job); err != nil {
		t.Fatal(err)
	}
	l.check(t, "restart", 3, 10)
}

func TestFailedPartitionFailsTheJob(t *testing.T) {
	ns := startServer(t)
	l := newLedger()
	job := submit(t, ns, cluster.JobConfig{Name: "failing", MaxAttempts: 2}, 3, 5)
	var mu sync.Mutex
	attempts := 0
	startWorker(t, ns, "w", l.run(func(_ context.Context, p cluster.Partition, i int) error {
		if p.ID == 3 && i == 2 {
			mu.Lock()
			attempts++
			mu.Unlock()
			return errors.New("bad record at line 3")
		}
		return nil
	}))
	p, err := wait(t, job)
	if err == nil || !strings.Contains(err.Error(), "partition 3 failed") || !strings.Contains(err.Error(), "bad record at line 3") {
		t.Fatalf("Wait: %v, want partition 3's error", err)
	}
	if p.Done != 2 || p.Failed != 1 || len(p.Failures) != 1 || p.Failures[0].Failures != 2 {
		t.Errorf("progress %+v, want 2 done and 1 failed after 2 failures", p)
	}
	if attempts != 2 {
		t.Errorf("partition 3 ran %d times, want MaxAttempts = 2", attempts)
	}
	_, js := ns.connect(t, "status")
	st, err := cluster.Status(context.Background(), js, "failing")
	if err != nil {
		t.Fatal(err)
	}
	if st.Partitions != 3 || st.Done != 2 || st.Failed != 1 || st.Pending+st.Running != 0 {
		t.Errorf("status %+v, want 3 partitions: 2 done, 1 failed", st.Progress)
	}
}

func TestStatusCounts(t *testing.T) {
	ns := startServer(t)
	submit(t, ns, cluster.JobConfig{Name: "counted"}, 4, 1)
	_, js := ns.connect(t, "status")
	st, err := cluster.Status(context.Background(), js, "counted")
	if err != nil {
		t.Fatal(err)
	}
	if st.Partitions != 4 || st.Pending != 4 || len(st.Parts) != 4 {
		t.Errorf("status %+v, want 4 pending", st)
	}
	jobs, err := cluster.Jobs(context.Background(), js)
	if err != nil || len(jobs) != 1 || jobs[0] != "counted" {
		t.Errorf("Jobs = %v, %v; want [counted]", jobs, err)
	}
	if _, err := cluster.Status(context.Background(), js, "nosuch"); err == nil {
		t.Error("Status of a job that does not exist: no error")
	}
	nc, js2 := ns.connect(t, "again")
	if _, err := cluster.Submit(context.Background(), nc, js2, cluster.JobConfig{Name: "counted"}, tasks(1, 1)); err == nil {
		t.Error("a second job of the same name was accepted")
	}
}
