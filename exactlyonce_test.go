package weir_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weir-etl/weir"
)

// txSink commits a batch and the job's position together, like a database
// transaction; it refuses a record twice (a primary key). It can fail a
// write before committing, or commit and then report a failure (a lost
// acknowledgement).
type txSink struct {
	mu        sync.Mutex
	rows      map[int]bool
	pos       map[string][]byte
	failAt    int  // refuse a batch holding this record, once (0: never)
	lostAckAt int  // commit a batch holding this record, then fail, once
	dup       bool // a record was written twice
	// lostAckEmpty: commit the first empty batch (a position alone), then
	// fail as if the answer to its COMMIT was lost.
	lostAckEmpty bool
	empties      int  // WriteCheckpoint calls with an empty batch
	nonNilEmpty  bool // an empty batch arrived as a non-nil slice
}

func (s *txSink) Write(context.Context, []int) error {
	return errors.New("txSink: plain Write used in exactly-once mode")
}

func (s *txSink) WriteCheckpoint(_ context.Context, b []int, job string, pos []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(b) == 0 {
		s.empties++
		s.nonNilEmpty = s.nonNilEmpty || b != nil
		s.pos[job] = append([]byte(nil), pos...)
		if s.lostAckEmpty {
			s.lostAckEmpty = false
			return weir.Transient(errors.New("connection lost during commit"))
		}
		return nil
	}
	for _, v := range b {
		if v == s.failAt && s.failAt != 0 {
			s.failAt = 0
			return errors.New("constraint violation")
		}
	}
	for _, v := range b {
		if s.rows[v] {
			s.dup = true
		}
		s.rows[v] = true
	}
	s.pos[job] = append([]byte(nil), pos...)
	for _, v := range b {
		if v == s.lostAckAt && s.lostAckAt != 0 {
			s.lostAckAt = 0
			return weir.Transient(errors.New("connection lost during commit"))
		}
	}
	return nil
}

func (s *txSink) Load(_ context.Context, job string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pos[job], nil
}

func (s *txSink) Save(context.Context, string, []byte) error {
	return errors.New("txSink: Save used in exactly-once mode")
}

func newTxSink() *txSink { return &txSink{rows: map[int]bool{}, pos: map[string][]byte{}} }

func TestExactlyOnceAcrossAFailureAndResume(t *testing.T) {
	for _, workers := range []int{1, 4} {
		t.Run("workers="+strconv.Itoa(workers), func(t *testing.T) {
			const n = 5000
			sink := newTxSink()
			sink.failAt = 3001
			cfg := weir.Config{BatchSize: 64, Workers: workers}
			p := mustNew(t, weir.Source[int](&numbers{n: n}), weir.Identity[int](), weir.Sink[int](sink), cfg, weir.WithExactlyOnce(sink, "job"))
			if err := p.Run(context.Background()); err == nil {
				t.Fatal("first run succeeded despite the failing batch")
			}
			p = mustNew(t, weir.Source[int](&numbers{n: n}), weir.Identity[int](), weir.Sink[int](sink), cfg, weir.WithExactlyOnce(sink, "job"))
			mustRun(t, p)
			if sink.dup {
				t.Fatal("a record was loaded twice")
			}
			if len(sink.rows) != n {
				t.Fatalf("%d records loaded, want %d", len(sink.rows), n)
			}
		})
	}
}

func TestExactlyOnceRetryFindsACommitWhoseAckWasLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := newTxSink()
		sink.lostAckAt = 1234
		p := mustNew(t, weir.Source[int](&numbers{n: 3000}), weir.Identity[int](), weir.Sink[int](sink), weir.Config{
			BatchSize: 100, Workers: 3, Retry: weir.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond},
		}, weir.WithExactlyOnce(sink, "job"))
		mustRun(t, p)
		if sink.dup || len(sink.rows) != 3000 {
			t.Fatalf("loaded %d records, duplicate: %v", len(sink.rows), sink.dup)
		}
		if string(sink.pos["job"]) != "3000" {
			t.Errorf("final position %q, want 3000", sink.pos["job"])
		}
	})
}

// TestExactlyOnceMovesPastFilteredBatches: a batch the transform empties
// still commits its position (alone, as a nil batch, in the sink's
// transaction), with the retry policy and the lost-acknowledgement check of
// any batch: the run ends at the source's end with nothing doubled.
func TestExactlyOnceMovesPastFilteredBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := newTxSink()
		sink.lostAckEmpty = true
		keep := weir.Filter(func(v int) bool { return v < 100 || v >= 300 }) // batches 1 and 2 empty
		p := mustNew(t, weir.Source[int](&numbers{n: 1000}), keep, weir.Sink[int](sink), weir.Config{
			BatchSize: 100, Workers: 3, Retry: weir.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond},
		}, weir.WithExactlyOnce(sink, "job"))
		mustRun(t, p)
		if sink.dup || len(sink.rows) != 800 {
			t.Fatalf("loaded %d records, duplicate: %v; want 800", len(sink.rows), sink.dup)
		}
		if string(sink.pos["job"]) != "1000" {
			t.Errorf("final position %q, want 1000", sink.pos["job"])
		}
		if sink.empties != 2 || sink.nonNilEmpty {
			t.Errorf("%d empty commits (want 2: the lost ack is found by reading the position back, not by writing again), non-nil: %v", sink.empties, sink.nonNilEmpty)
		}
		if st := p.Stats(); st.Filtered() != 200 || st.Load.Retries != 1 {
			t.Errorf("Filtered = %d, Load.Retries = %d; want 200 and 1", st.Filtered(), st.Load.Retries)
		}
	})
}

func TestExactlyOnceRefusesWhatItCannotKeep(t *testing.T) {
	for name, cfg := range map[string]weir.Config{
		"separate loaders": {LoadConcurrency: 2},
		"adaptive":         {Adaptive: true},
		"bisection":        {OnLoadError: weir.Skip},
	} {
		_, err := weir.New(weir.Source[int](&numbers{n: 10}), weir.Identity[int](), weir.Sink[int](newTxSink()), cfg, weir.WithExactlyOnce(newTxSink(), "job"), weir.WithDeadLetter(&deadLetters{}))
		if err == nil || !strings.Contains(err.Error(), "WithExactlyOnce") {
			t.Errorf("%s: New = %v, want exactly-once refused", name, err)
		}
	}
	_, err := weir.New(weir.Source[int](&numbers{n: 10}), weir.Identity[int](), weir.Sink[int](&setSink{}), weir.Config{}, weir.WithExactlyOnce(&memStore{}, "job"))
	if err == nil || !strings.Contains(err.Error(), "CheckpointSink") {
		t.Errorf("a sink without WriteCheckpoint: New = %v", err)
	}
}
