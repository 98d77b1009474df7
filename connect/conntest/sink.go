package conntest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/weir-etl/weir"
)

// SinkCase is the sink [Sink] checks, and the records to write to it.
type SinkCase[T any] struct {
	// Open returns a sink over fresh, empty storage, and a func that
	// returns the records that storage holds. The kit calls readBack once
	// it is done writing, after closing the sink if it implements
	// weir.Closer. Required.
	Open func(t *testing.T) (sink weir.Sink[T], readBack func() []T)
	// Records are the records the kit writes, in batches. They must be
	// distinct (with distinct keys, for an upsert). At least 2; a few dozen
	// make the concurrency check worth its name.
	Records []T
	// Equal reports whether two records are the same. Optional: nil means
	// reflect.DeepEqual.
	Equal func(a, b T) bool
	// Ordered says the storage keeps records in the order they were
	// written, as a file does: readBack returns them in that order, and
	// the kit checks it. Otherwise readBack may return them in any order.
	Ordered bool
	// Failing, if not nil, is a batch Write must refuse: it holds a
	// record that breaks a constraint or cannot be encoded, whatever was
	// written before it. The kit writes it after the first half of
	// Records.
	Failing []T
	// Idempotent says that writing records already written leaves one
	// copy of each: an upsert, or an insert that skips duplicates.
	Idempotent bool
	// Concurrent says Write is safe for concurrent use, as the engine
	// needs when LoadConcurrency is above 1.
	Concurrent bool
}

// Sink checks the sink c.Open returns against the contract of
// [weir.Sink], and of [weir.Closer] when it implements it. It blocks until
// every check has run, as subtests of t named after what they check:
//
//   - written records read back: Records, written in three batches, are
//     what readBack returns. The kit zeroes each batch once Write returns,
//     as the engine reuses it, so a sink that kept it loses the records.
//   - a failing Write leaves nothing of its batch behind (when Failing is
//     set): Write of Failing returns an error, no record of it is read
//     back, and the next Write succeeds; the engine retries failed
//     batches and splits them to find the bad record, which needs both.
//   - Write with a cancelled context writes all of its batch or nothing:
//     it returns within 5 seconds, either nil with the batch written or an
//     error wrapping context.Canceled with nothing written.
//   - writing the same records twice keeps one copy (when Idempotent).
//   - concurrent Writes of disjoint batches all land (when Concurrent):
//     four goroutines write a share of Records each, in small batches;
//     when Ordered, each batch is read back whole and in order.
//   - Closer: Close returns nil when called twice, on an unused sink and
//     after Writes.
//
// Cost: up to 7 sinks opened, each given Records once or twice; comparing
// what is read back costs len(Records)² Equal calls at worst, when the
// storage returns records in another order than written.
func Sink[T any](t *testing.T, c SinkCase[T]) {
	testSink(testingT{t}, c)
}

func testSink[T any](t tester, c SinkCase[T]) {
	switch {
	case c.Open == nil:
		t.Fatalf("conntest: SinkCase.Open is nil")
	case len(c.Records) < 2:
		t.Fatalf("conntest: SinkCase.Records holds %d records, want at least 2", len(c.Records))
	}
	s := &sinkCheck[T]{open: c.Open, eq: equalFunc(c.Equal), ordered: c.Ordered, recs: c.Records}
	t.Run("written records read back", s.readBack)
	t.Run("a failing Write leaves nothing of its batch behind", func(t tester) {
		if c.Failing == nil {
			t.Skipf("SinkCase.Failing is nil")
		}
		s.failing(t, c.Failing)
	})
	t.Run("Write with a cancelled context writes all of its batch or nothing", s.cancelled)
	t.Run("writing the same records twice keeps one copy", func(t tester) {
		if !c.Idempotent {
			t.Skipf("SinkCase.Idempotent is false")
		}
		s.twice(t)
	})
	t.Run("concurrent Writes of disjoint batches all land", func(t tester) {
		if !c.Concurrent {
			t.Skipf("SinkCase.Concurrent is false")
		}
		s.concurrent(t)
	})
	t.Run("Closer", s.closer)
}

type sinkCheck[T any] struct {
	open    func(t *testing.T) (weir.Sink[T], func() []T)
	eq      func(a, b T) bool
	ordered bool
	recs    []T
	// sample is a sink from open, to learn whether the sinks implement
	// weir.Closer without opening one more.
	sample weir.Sink[T]
}

// openSink opens a sink with s.open.
func (s *sinkCheck[T]) openSink(t tester) *openedSink[T] {
	sink := openSink(t, s.open)
	if s.sample == nil {
		s.sample = sink.Sink
	}
	return sink
}

// openedSink is a sink the kit opened.
type openedSink[T any] struct {
	weir.Sink[T]
	*closing
	readBack func() []T
}

func openSink[T any](t tester, open func(*testing.T) (weir.Sink[T], func() []T)) *openedSink[T] {
	sink, readBack := open(t.Test())
	if sink == nil || readBack == nil {
		t.Fatalf("Open returned a nil sink or a nil readBack")
	}
	return &openedSink[T]{sink, closeLater(t, sink, "sink"), readBack}
}

// write writes a copy of batch and zeroes the copy once Write returns, as
// the engine reuses its batches.
func write[T any](ctx context.Context, sink weir.Sink[T], batch []T) error {
	b := slices.Clone(batch)
	err := sink.Write(ctx, b)
	clear(b)
	return err
}

// mustWrite writes the batches one after another.
func mustWrite[T any](t tester, sink weir.Sink[T], batches ...[]T) {
	for i, b := range batches {
		if err := write(t.Context(), sink, b); err != nil {
			t.Fatalf("Write of batch %d (%s) = %v, want nil", i+1, records(len(b)), err)
		}
	}
}

// stored closes sink, if it is a weir.Closer, and returns what its storage
// holds.
func stored[T any](t tester, sink *openedSink[T]) []T {
	sink.done = true
	if sink.closer != nil {
		if err := sink.closer.Close(t.Context()); err != nil {
			t.Fatalf("Close after the Writes = %v, want nil", err)
		}
	}
	return sink.readBack()
}

// diff compares what was read back with what should have been, in order
// if the storage is ordered.
func (s *sinkCheck[T]) diff(got, want []T) string {
	d := diffBag(s.eq, got, want)
	if d == "" && s.ordered {
		d = diffSeq(s.eq, got, want)
	}
	if d != "" && s.zeroed(got) {
		d += " (records read back are zero values: the kit zeroes each batch once Write returns, as the engine reuses it, so a sink must not keep it)"
	}
	return d
}

// zeroed reports whether got holds zero records that were not written.
func (s *sinkCheck[T]) zeroed(got []T) bool {
	var zero T
	isZero := func(r T) bool { return s.eq(r, zero) }
	return slices.ContainsFunc(got, isZero) && !slices.ContainsFunc(s.recs, isZero)
}

func (s *sinkCheck[T]) readBack(t tester) {
	sink := s.openSink(t)
	mustWrite(t, sink, chunks(s.recs, 3)...)
	if d := s.diff(stored(t, sink), s.recs); d != "" {
		t.Errorf("read back after writing Records in 3 batches: %s", d)
	}
}

func (s *sinkCheck[T]) failing(t tester, failing []T) {
	half := len(s.recs) / 2
	sink := s.openSink(t)
	mustWrite(t, sink, s.recs[:half])
	if err := write(t.Context(), sink, failing); err == nil {
		t.Fatalf("Write of SinkCase.Failing = nil, want an error")
	}
	if err := write(t.Context(), sink, s.recs[half:]); err != nil {
		t.Errorf("Write after a failed one = %v, want nil: a failed batch must leave the sink usable", err)
		if d := s.diff(stored(t, sink), s.recs[:half]); d != "" {
			t.Errorf("read back after a batch, a failed batch and a failed Write: %s", d)
		}
		return
	}
	if d := s.diff(stored(t, sink), s.recs); d != "" {
		t.Errorf("read back after a batch, a failed batch and a batch, want the two batches alone: %s", d)
	}
}

func (s *sinkCheck[T]) cancelled(t tester) {
	sink := s.openSink(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var err error
	if !within(func() { err = write(ctx, sink, s.recs) }) {
		sink.done = true // still in Write: closing it would race
		t.Fatalf("Write with a cancelled context had not returned after %v; want it to return", promptly)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a cancelled context = %v; want nil or an error wrapping context.Canceled", err)
	}
	got := stored(t, sink)
	switch {
	case err == nil:
		if d := s.diff(got, s.recs); d != "" {
			t.Errorf("Write with a cancelled context returned nil, but reading back: %s", d)
		}
	case len(got) > 0:
		t.Errorf("Write with a cancelled context returned %v, but %s were written: %s; want none", err, records(len(got)), some(got))
	}
}

func (s *sinkCheck[T]) twice(t tester) {
	sink := s.openSink(t)
	mustWrite(t, sink, chunks(s.recs, 3)...)
	mustWrite(t, sink, s.recs)
	if d := s.diff(stored(t, sink), s.recs); d != "" {
		t.Errorf("read back after writing Records twice: %s", d)
	}
}

func (s *sinkCheck[T]) concurrent(t tester) {
	const writers = 4
	batches := chunks(s.recs, 4*writers)
	sink := s.openSink(t)
	ctx := t.Context()
	start := make(chan struct{})
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := w; i < len(batches); i += writers {
				if err := write(ctx, sink, batches[i]); err != nil {
					errs[w] = fmt.Errorf("writer %d: Write of %s: %w", w, records(len(batches[i])), err)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Writes: %v; want nil", err)
	}
	got := stored(t, sink)
	d := diffBag(s.eq, got, s.recs)
	if d == "" && s.ordered {
		d = diffBatches(s.eq, got, batches)
	}
	if d != "" {
		t.Errorf("read back after %d batches written by %d goroutines: %s", len(batches), writers, d)
	}
}

// diffBatches checks that got is the batches, each whole and in order, in
// any order of batches; it returns "" if so. Records are distinct.
func diffBatches[T any](eq func(a, b T) bool, got []T, batches [][]T) string {
	used := make([]bool, len(batches))
	for i := 0; i < len(got); {
		b := slices.IndexFunc(batches, func(batch []T) bool { return eq(got[i], batch[0]) })
		if b < 0 || used[b] {
			return fmt.Sprintf("record %d (%+v) starts no batch: a batch was split or reordered", i, got[i])
		}
		used[b] = true
		n := len(batches[b])
		if d := diffSeq(eq, got[i:min(i+n, len(got))], batches[b]); d != "" {
			return fmt.Sprintf("the batch starting at record %d is not whole and in order: %s", i, d)
		}
		i += n
	}
	return ""
}

func (s *sinkCheck[T]) closer(t tester) {
	if s.sample == nil {
		s.openSink(t)
	}
	if _, ok := s.sample.(weir.Closer); !ok {
		t.Skipf("%T does not implement weir.Closer", s.sample)
	}
	t.Run("Close twice on an unused sink", func(t tester) {
		s.openSink(t).closeTwice(t)
	})
	t.Run("Close twice after Writes", func(t tester) {
		sink := s.openSink(t)
		mustWrite(t, sink, chunks(s.recs, 2)...)
		sink.closeTwice(t)
		if d := s.diff(sink.readBack(), s.recs); d != "" {
			t.Errorf("read back after Close twice: %s", d)
		}
	})
}

// CheckpointSinkCase is the checkpoint sink [CheckpointSink] checks, and
// the records to write to it.
type CheckpointSinkCase[T any] struct {
	// Open returns a sink over fresh, empty storage; a store that loads
	// the positions the sink saves; and a func that returns the records
	// the storage holds, as for [SinkCase.Open]. Required.
	Open func(t *testing.T) (sink weir.CheckpointSink[T], store weir.CheckpointStore, readBack func() []T)
	// Records, Equal, Ordered and Failing are as in [SinkCase]; Failing
	// is optional, and written after the first half of Records.
	Records []T
	Equal   func(a, b T) bool
	Ordered bool
	Failing []T
}

// CheckpointSink checks the sink c.Open returns against the contract of
// [weir.CheckpointSink]: a batch and a position commit together. (Check
// its Write with [Sink].) It blocks until every check has run, as subtests
// of t named after what they check:
//
//   - WriteCheckpoint saves the batch and the position together: after
//     each of two calls, the store loads the call's position; read back,
//     the storage holds both batches.
//   - WriteCheckpoint of an empty batch saves the position alone: with a
//     nil batch, as the engine passes when a batch was filtered away.
//   - a failing WriteCheckpoint saves neither the batch nor the position
//     (when Failing is set): the store still loads the position before,
//     no record of Failing is read back, and the next call succeeds.
//
// Cost: 3 sinks opened, each given Records once.
func CheckpointSink[T any](t *testing.T, c CheckpointSinkCase[T]) {
	testCheckpointSink(testingT{t}, c)
}

func testCheckpointSink[T any](t tester, c CheckpointSinkCase[T]) {
	switch {
	case c.Open == nil:
		t.Fatalf("conntest: CheckpointSinkCase.Open is nil")
	case len(c.Records) < 2:
		t.Fatalf("conntest: CheckpointSinkCase.Records holds %d records, want at least 2", len(c.Records))
	}
	s := &sinkCheck[T]{eq: equalFunc(c.Equal), ordered: c.Ordered, recs: c.Records}
	half := len(c.Records) / 2
	first, second := c.Records[:half], c.Records[half:]
	t.Run("WriteCheckpoint saves the batch and the position together", func(t tester) {
		sink, store := s.openCheckpoint(t, c.Open)
		s.writeCheckpoint(t, sink, store, first, position(1))
		s.writeCheckpoint(t, sink, store, second, position(2))
		if d := s.diff(stored(t, sink), c.Records); d != "" {
			t.Errorf("read back after two WriteCheckpoints: %s", d)
		}
	})
	t.Run("WriteCheckpoint of an empty batch saves the position alone", func(t tester) {
		sink, store := s.openCheckpoint(t, c.Open)
		s.writeCheckpoint(t, sink, store, first, position(1))
		s.writeCheckpoint(t, sink, store, nil, position(2))
		if d := s.diff(stored(t, sink), first); d != "" {
			t.Errorf("read back after a WriteCheckpoint of a batch, then of none: %s", d)
		}
	})
	t.Run("a failing WriteCheckpoint saves neither the batch nor the position", func(t tester) {
		if c.Failing == nil {
			t.Skipf("CheckpointSinkCase.Failing is nil")
		}
		sink, store := s.openCheckpoint(t, c.Open)
		s.writeCheckpoint(t, sink, store, first, position(1))
		cs := sink.Sink.(weir.CheckpointSink[T])
		if err := cs.WriteCheckpoint(t.Context(), slices.Clone(c.Failing), checkpointJob, position(2)); err == nil {
			t.Fatalf("WriteCheckpoint of CheckpointSinkCase.Failing = nil, want an error")
		}
		if pos := load(t, store, checkpointJob); !bytes.Equal(pos, position(1)) {
			t.Errorf("after a failed WriteCheckpoint with %s, the store loads %s; want the position before, %s", describe(position(2)), describe(pos), describe(position(1)))
		}
		s.writeCheckpoint(t, sink, store, second, position(3))
		if d := s.diff(stored(t, sink), c.Records); d != "" {
			t.Errorf("read back after a batch, a failed batch and a batch, want the two batches alone: %s", d)
		}
	})
}

// checkpointJob is the job CheckpointSink saves positions for.
const checkpointJob = "conntest-checkpoint-sink"

// position returns a position as weir's connectors write them.
func position(i int) []byte { return fmt.Appendf(nil, `{"conntest":%d}`, i) }

func (s *sinkCheck[T]) openCheckpoint(t tester, open func(*testing.T) (weir.CheckpointSink[T], weir.CheckpointStore, func() []T)) (*openedSink[T], weir.CheckpointStore) {
	var store weir.CheckpointStore
	sink := openSink(t, func(t *testing.T) (weir.Sink[T], func() []T) {
		sink, st, readBack := open(t)
		if sink == nil || st == nil {
			t.Fatalf("Open returned a nil sink or a nil store")
		}
		store = st
		return sink, readBack
	})
	return sink, store
}

// writeCheckpoint writes batch with pos and checks that the store loads
// pos.
func (s *sinkCheck[T]) writeCheckpoint(t tester, sink *openedSink[T], store weir.CheckpointStore, batch []T, pos []byte) {
	b := slices.Clone(batch)
	err := sink.Sink.(weir.CheckpointSink[T]).WriteCheckpoint(t.Context(), b, checkpointJob, pos)
	clear(b)
	if err != nil {
		t.Fatalf("WriteCheckpoint of %s with %s = %v, want nil", records(len(batch)), describe(pos), err)
	}
	if got := load(t, store, checkpointJob); !bytes.Equal(got, pos) {
		t.Errorf("after WriteCheckpoint of %s with %s, the store loads %s", records(len(batch)), describe(pos), describe(got))
	}
}

// load loads job's position from store.
func load(t tester, store weir.CheckpointStore, job string) []byte {
	pos, err := store.Load(t.Context(), job)
	if err != nil {
		t.Fatalf("Load(%q) = %v, want no error", job, err)
	}
	return pos
}
