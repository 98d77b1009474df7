package weir_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-etl/weir"
)

// numbers is a resumable source of 0..n-1; its position is the next number
// as decimal text. failAt, if positive, makes Read fail once it reaches it.
type numbers struct {
	next, n, failAt int
}

func (s *numbers) Read(_ context.Context, buf []int) (int, error) {
	if s.failAt > 0 && s.next >= s.failAt {
		return 0, errors.New("disk read error")
	}
	if s.next >= s.n {
		return 0, io.EOF
	}
	k := min(len(buf), s.n-s.next)
	if s.failAt > 0 {
		k = min(k, s.failAt-s.next)
	}
	for i := range k {
		buf[i] = s.next + i
	}
	s.next += k
	return k, nil
}

func (s *numbers) Position() ([]byte, error) { return []byte(strconv.Itoa(s.next)), nil }

func (s *numbers) Seek(pos []byte) error {
	v, err := strconv.Atoi(string(pos))
	if err != nil {
		return err
	}
	s.next = v
	return nil
}

// memStore is a CheckpointStore in memory.
type memStore struct {
	mu    sync.Mutex
	pos   map[string][]byte
	saves int
}

func (m *memStore) Load(_ context.Context, job string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pos[job], nil
}

func (m *memStore) Save(_ context.Context, job string, pos []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pos == nil {
		m.pos = map[string][]byte{}
	}
	m.pos[job] = append([]byte(nil), pos...)
	m.saves++
	return nil
}

// saved reports whether job has a position.
func (m *memStore) saved(job string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pos[job] != nil
}

func (m *memStore) at(job string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, _ := strconv.Atoi(string(m.pos[job]))
	return v
}

// setSink records which records were stored, idempotently, and fails (or
// blocks) as told.
type setSink struct {
	mu   sync.Mutex
	got  map[int]int
	fail func(b []int) error
}

func (s *setSink) Write(ctx context.Context, b []int) error {
	if s.fail != nil {
		if err := s.fail(b); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		s.got = map[int]int{}
	}
	for _, v := range b {
		s.got[v]++
	}
	return nil
}

func TestCheckpointResumesAfterAFailure(t *testing.T) {
	for _, cfg := range levels {
		t.Run(cfgName(cfg), func(t *testing.T) {
			const n = 5000
			store := &memStore{}
			sinkErr := errors.New("database went away")
			first := &setSink{fail: func(b []int) error {
				for _, v := range b {
					if v == 3001 {
						return sinkErr
					}
				}
				return nil
			}}
			p := mustNew(t, weir.Source[int](&numbers{n: n}), weir.Identity[int](), weir.Sink[int](first), cfg, weir.WithCheckpoint(store, "job"))
			if err := p.Run(context.Background()); !errors.Is(err, sinkErr) {
				t.Fatalf("first run = %v, want the sink's error", err)
			}
			ck := store.at("job")
			if ck > 3001 {
				t.Fatalf("checkpoint at %d, past the record that failed (3001)", ck)
			}
			for v := range ck {
				if first.got[v] != 1 {
					t.Fatalf("checkpoint at %d but record %d was stored %d times", ck, v, first.got[v])
				}
			}
			// The store may hold nothing: when a worker stalls on batch 0
			// while the others load up to the failing batch (it happens
			// under -race with GOMAXPROCS 1), no prefix of batches finished.
			want := ""
			if store.saved("job") {
				want = strconv.Itoa(ck)
			}
			if got := string(p.Stats().Checkpoint); got != want {
				t.Errorf("Stats.Checkpoint = %q, store has %q", got, want)
			}

			second := &setSink{}
			p = mustNew(t, weir.Source[int](&numbers{n: n}), weir.Identity[int](), weir.Sink[int](second), cfg, weir.WithCheckpoint(store, "job"))
			mustRun(t, p)
			if string(p.Stats().ResumedFrom) != want {
				t.Errorf("ResumedFrom = %q, want %q", p.Stats().ResumedFrom, want)
			}
			for v := range n {
				if v < ck && second.got[v] != 0 {
					t.Fatalf("resumed run loaded record %d, before its checkpoint %d", v, ck)
				}
				if v >= ck && second.got[v] != 1 {
					t.Fatalf("resumed run loaded record %d %d times", v, second.got[v])
				}
			}
			if store.at("job") != n {
				t.Errorf("final checkpoint %d, want %d", store.at("job"), n)
			}
		})
	}
}

func TestCheckpointWaitsForEarlierBatches(t *testing.T) {
	// Batch 0 is held until batches 1..3 have been loaded: the checkpoint
	// must not pass batch 0 meanwhile.
	store := &memStore{}
	release := make(chan struct{})
	var seen sync.WaitGroup
	seen.Add(3)
	var ckDuring []byte
	var p *weir.Pipeline[int, int]
	sink := &setSink{fail: func(b []int) error {
		switch {
		case b[0] == 0:
			seen.Wait()
			// The tracker's own state, not the store's (saved later).
			ckDuring = p.Stats().Checkpoint
			close(release)
		case b[0] <= 30:
			seen.Done()
		}
		return nil
	}}
	p = mustNew(t, weir.Source[int](&numbers{n: 40}), weir.Identity[int](), weir.Sink[int](sink),
		weir.Config{BatchSize: 10, Workers: 4, QueueDepth: 4}, weir.WithCheckpoint(store, "job"))
	mustRun(t, p)
	<-release
	if ckDuring != nil {
		t.Errorf("checkpoint moved to %q while batch 0 was still loading", ckDuring)
	}
	if store.at("job") != 40 {
		t.Errorf("final checkpoint %d, want 40", store.at("job"))
	}
}

// TestSourceErrorLoadsWhatWasReadAndCheckpointsBeforeIt: a source that
// fails for good at record K stops the run cleanly: every record before K
// is loaded, once, the checkpoint is exactly K, and a rerun with the input
// fixed finishes the job with nothing doubled.
func TestSourceErrorLoadsWhatWasReadAndCheckpointsBeforeIt(t *testing.T) {
	for _, cfg := range []weir.Config{
		{BatchSize: 100, Workers: 1},
		{BatchSize: 100, Workers: 4},
		{BatchSize: 64, Workers: 2, LoadConcurrency: 3},
	} {
		t.Run(fmt.Sprintf("batch=%d/workers=%d/loaders=%d", cfg.BatchSize, cfg.Workers, cfg.LoadConcurrency), func(t *testing.T) {
			store := &memStore{}
			sink := &setSink{}
			p := mustNew(t, weir.Source[int](&numbers{n: 1000, failAt: 650}), weir.Identity[int](), weir.Sink[int](sink),
				cfg, weir.WithCheckpoint(store, "job"))
			err := p.Run(context.Background())
			var se *weir.StageError
			if !errors.As(err, &se) || se.Stage != weir.StageExtract || se.First != 650 || !strings.Contains(err.Error(), "disk read error") {
				t.Fatalf("Run = %v, want the read error after record 650", err)
			}
			if len(sink.got) != 650 {
				t.Fatalf("%d records loaded, want the 650 read before the error", len(sink.got))
			}
			for v := range 650 {
				if sink.got[v] != 1 {
					t.Fatalf("record %d loaded %d times, want once", v, sink.got[v])
				}
			}
			if ck := store.at("job"); ck != 650 {
				t.Fatalf("checkpoint at %d, want exactly 650 (before the failing record)", ck)
			}
			if st := p.Stats(); st.CheckAccounting() != nil || st.Load.Records != 650 {
				t.Errorf("stats: %v, %d loaded", st.CheckAccounting(), st.Load.Records)
			}
			// The input fixed, the same job resumes and finishes.
			p = mustNew(t, weir.Source[int](&numbers{n: 1000}), weir.Identity[int](), weir.Sink[int](sink),
				cfg, weir.WithCheckpoint(store, "job"))
			mustRun(t, p)
			for v := range 1000 {
				if sink.got[v] != 1 {
					t.Fatalf("after the resume, record %d loaded %d times, want once", v, sink.got[v])
				}
			}
		})
	}
}

func TestCheckpointNeedsAPositioner(t *testing.T) {
	_, err := weir.New(weir.FromSlice(ints(3)), weir.Identity[int](), weir.Sink[int](&setSink{}), weir.Config{}, weir.WithCheckpoint(&memStore{}, "job"))
	if err == nil || !strings.Contains(err.Error(), "Positioner") {
		t.Fatalf("New = %v", err)
	}
}

func TestCancelledRunResumesExactly(t *testing.T) {
	store := &memStore{}
	ctx, cancel := context.WithCancel(context.Background())
	var loaded sync.Map
	var count int
	var mu sync.Mutex
	sink := weir.SinkFunc[int](func(_ context.Context, b []int) error {
		mu.Lock()
		defer mu.Unlock()
		for _, v := range b {
			loaded.Store(v, true)
		}
		count += len(b)
		if count >= 2500 {
			cancel()
		}
		return nil
	})
	p := mustNew(t, weir.Source[int](&numbers{n: 10_000}), weir.Identity[int](), weir.Sink[int](sink), weir.Config{BatchSize: 100, Workers: 3}, weir.WithCheckpoint(store, "job"))
	if err := p.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	ck := store.at("job")
	if ck == 0 {
		t.Fatalf("no checkpoint saved on cancellation")
	}
	p = mustNew(t, weir.Source[int](&numbers{n: 10_000}), weir.Identity[int](), weir.Sink[int](sink), weir.Config{BatchSize: 100, Workers: 3}, weir.WithCheckpoint(store, "job"))
	mustRun(t, p)
	for v := range 10_000 {
		if _, ok := loaded.Load(v); !ok {
			t.Fatalf("record %d never loaded across the two runs", v)
		}
	}
}

// flakyStore fails its first fails Saves with a transient error, as a
// store in a database that is restarting does.
type flakyStore struct {
	memStore
	mu    sync.Mutex
	fails int
}

func (s *flakyStore) Save(ctx context.Context, job string, pos []byte) error {
	s.mu.Lock()
	fail := s.fails > 0
	s.fails--
	s.mu.Unlock()
	if fail {
		return weir.Transient(errors.New("the server is restarting"))
	}
	return s.memStore.Save(ctx, job, pos)
}

// TestCheckpointSaveIsRetried: a checkpoint save that fails transiently is
// retried under the run's RetryPolicy, as a write is, instead of failing
// the run; the final position is saved.
func TestCheckpointSaveIsRetried(t *testing.T) {
	store := &flakyStore{fails: 2}
	p := mustNew(t, weir.Source[int](&numbers{n: 1000}), weir.Identity[int](), weir.Sink[int](&setSink{}),
		weir.Config{BatchSize: 100, Workers: 2, Retry: weir.RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Microsecond}},
		weir.WithCheckpoint(store, "job"))
	mustRun(t, p)
	if ck := store.at("job"); ck != 1000 {
		t.Fatalf("checkpoint at %d, want 1000", ck)
	}
}
