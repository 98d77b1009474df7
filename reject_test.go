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
	"github.com/weir-etl/weir/connect"
)

// rejecting is a resumable source of 0..n-1 that cannot read the records
// bad says are bad: it returns them as a *weir.BadRecordError and moves
// past them, counting one in its position only from the next Read on, as
// the contract asks. Its position is the next record, as decimal text.
type rejecting struct {
	next, n int
	bad     func(int) bool
	cause   error // the BadRecordError's cause; nil means "unreadable"
	pastBad bool  // the last Read returned a bad record
}

func (s *rejecting) Read(_ context.Context, buf []int) (int, error) {
	if s.pastBad {
		s.next++
		s.pastBad = false
	}
	i := 0
	for ; i < len(buf) && s.next < s.n; i++ {
		if s.bad(s.next) {
			s.pastBad = true
			cause := s.cause
			if cause == nil {
				cause = errors.New("unreadable")
			}
			return i, &weir.BadRecordError{Pos: fmt.Sprintf("rec:%d", s.next), Raw: []byte(strconv.Itoa(s.next)), Err: cause}
		}
		buf[i] = s.next
		s.next++
	}
	if s.next >= s.n {
		return i, io.EOF
	}
	return i, nil
}

func (s *rejecting) Position() ([]byte, error) { return []byte(strconv.Itoa(s.next)), nil }

func (s *rejecting) Seek(pos []byte) error {
	v, err := strconv.Atoi(string(pos))
	s.next = v
	return err
}

// badEvery13 marks every 13th record bad, and the last three of 1000, so
// that the source ends on rejected records.
func badEvery13(v int) bool { return v%13 == 5 || v >= 997 }

// TestSkippedSourceRecordsAreDeadLetteredCountedAndCheckpointedPast: under
// the Skip policy every record the source rejects goes to the dead-letter
// sink with its source position, once, every other record is loaded once,
// the stats add up, and the final checkpoint is past the rejected records
// at the end too, so a resumed run reads nothing again.
func TestSkippedSourceRecordsAreDeadLetteredCountedAndCheckpointedPast(t *testing.T) {
	const n = 1000
	var wantBad []int
	for v := range n {
		if badEvery13(v) {
			wantBad = append(wantBad, v)
		}
	}
	for _, cfg := range []weir.Config{
		{BatchSize: 1, Workers: 1},
		{BatchSize: 7, Workers: 3},
		{BatchSize: 64, Workers: 2, LoadConcurrency: 3},
		{BatchSize: 100, Workers: 4, OnLoadError: weir.Skip},
	} {
		cfg.OnTransformError = weir.Skip
		t.Run(cfgName(cfg), func(t *testing.T) {
			store, sink, dl := &memStore{}, &setSink{}, &deadLetters{}
			p := mustNew(t, weir.Source[int](&rejecting{n: n, bad: badEvery13}), weir.Identity[int](), weir.Sink[int](sink), cfg,
				weir.WithCheckpoint(store, "job"), weir.WithDeadLetter(dl))
			mustRun(t, p)
			for v := range n {
				if want := map[bool]int{false: 1, true: 0}[badEvery13(v)]; sink.got[v] != want {
					t.Fatalf("record %d loaded %d times, want %d", v, sink.got[v], want)
				}
			}
			if len(dl.fails) != len(wantBad) {
				t.Fatalf("%d records dead-lettered, want %d", len(dl.fails), len(wantBad))
			}
			for i, f := range dl.fails {
				v := wantBad[i]
				if f.Stage != weir.StageExtract || f.Source != fmt.Sprintf("rec:%d", v) || f.Record != strconv.Itoa(v) ||
					f.Error != fmt.Sprintf("rec:%d: unreadable", v) || f.Position != -1 || f.Batch != -1 || f.Attempts != 1 {
					t.Fatalf("dead letter %d: %+v, want record %d from the extract stage at rec:%d", i, f, v, v)
				}
			}
			st := p.Stats()
			if st.Extract.Records != n-int64(len(wantBad)) || st.Extract.DeadLettered != int64(len(wantBad)) ||
				st.DeadLettered() != int64(len(wantBad)) || st.Load.Records != n-int64(len(wantBad)) || st.Aborted {
				t.Errorf("stats: extracted %d, rejected %d (all stages %d), loaded %d, aborted %v",
					st.Extract.Records, st.Extract.DeadLettered, st.DeadLettered(), st.Load.Records, st.Aborted)
			}
			if err := st.CheckAccounting(); err != nil {
				t.Error(err)
			}
			if ck := store.at("job"); ck != n {
				t.Fatalf("final checkpoint %d, want %d: past the rejected records at the end", ck, n)
			}
			// Resumed, the job has nothing left: no record read again, no
			// rejected record dead-lettered twice.
			p = mustNew(t, weir.Source[int](&rejecting{n: n, bad: badEvery13}), weir.Identity[int](), weir.Sink[int](sink), cfg,
				weir.WithCheckpoint(store, "job"), weir.WithDeadLetter(dl))
			mustRun(t, p)
			if st := p.Stats(); st.Extract.Records != 0 || len(dl.fails) != len(wantBad) {
				t.Errorf("resumed after the end: %d records read, %d dead letters", st.Extract.Records, len(dl.fails))
			}
		})
	}
}

// TestRejectedRecordsInExactlyOnceMode: a position that moves past
// rejected records alone is committed in the sink's transaction, so that
// the stored position ends past the last record.
func TestRejectedRecordsInExactlyOnceMode(t *testing.T) {
	const n = 1000
	sink, dl := newTxSink(), &deadLetters{}
	p := mustNew(t, weir.Source[int](&rejecting{n: n, bad: badEvery13}), weir.Identity[int](), weir.Sink[int](sink),
		weir.Config{BatchSize: 16, Workers: 2, OnTransformError: weir.Skip}, weir.WithExactlyOnce(sink, "job"), weir.WithDeadLetter(dl))
	mustRun(t, p)
	if pos := string(sink.pos["job"]); pos != strconv.Itoa(n) {
		t.Errorf("stored position %s, want %d", pos, n)
	}
	for v := range n {
		if sink.rows[v] == badEvery13(v) {
			t.Fatalf("record %d: loaded %v", v, sink.rows[v])
		}
	}
}

// TestBadRecordFailsTheRunBeforeIt: under FailRun a rejected record ends
// the run as a failing source does, naming the record, with every record
// before it loaded and the checkpoint exactly before it. It is not retried,
// even when its cause says it is transient: the source is past it, and a
// retry would lose it.
func TestBadRecordFailsTheRunBeforeIt(t *testing.T) {
	store, sink := &memStore{}, &setSink{}
	src := &rejecting{n: 100, bad: func(v int) bool { return v == 40 }, cause: weir.Transient(errors.New("flaky decode"))}
	p := mustNew(t, weir.Source[int](src), weir.Identity[int](), weir.Sink[int](sink),
		weir.Config{BatchSize: 16, Workers: 2, Retry: weir.RetryPolicy{MaxAttempts: 5}}, weir.WithCheckpoint(store, "job"))
	err := p.Run(context.Background())
	var se *weir.StageError
	var bad *weir.BadRecordError
	if !errors.As(err, &se) || se.Stage != weir.StageExtract || se.First != 40 || !errors.As(err, &bad) || !strings.Contains(err.Error(), "rec:40: flaky decode") {
		t.Fatalf("Run = %v, want the extract error of rec:40 after 40 records", err)
	}
	if len(sink.got) != 40 || sink.got[41] != 0 {
		t.Fatalf("%d records loaded, want the 40 before the bad one", len(sink.got))
	}
	if ck := store.at("job"); ck != 40 {
		t.Fatalf("checkpoint at %d, want 40: before the bad record", ck)
	}
	if st := p.Stats(); st.Extract.Retries != 0 || st.CheckAccounting() != nil {
		t.Errorf("stats: %d retries, accounting %v", st.Extract.Retries, st.CheckAccounting())
	}
}

// countingSink confirms the records of the batches it accepts, fails the
// batch that holds failAt, and cancels after cancelAt confirmed records.
type countingSink struct {
	mu        sync.Mutex
	confirmed int64
	failAt    int
	cancelAt  int64
	cancel    context.CancelFunc
}

func (s *countingSink) Write(_ context.Context, b []int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range b {
		if v == s.failAt {
			return errors.New("disk full")
		}
	}
	s.confirmed += int64(len(b))
	if s.cancel != nil && s.confirmed >= s.cancelAt {
		s.cancel()
	}
	return nil
}

// TestAccountingAfterFailedAndCancelledRuns: a run that fails or is
// cancelled half-way is aborted, its accounting holds, and it counts as
// loaded exactly the records the sink confirmed.
func TestAccountingAfterFailedAndCancelledRuns(t *testing.T) {
	for _, cfg := range []weir.Config{
		{BatchSize: 10, Workers: 1},
		{BatchSize: 10, Workers: 4},
		{BatchSize: 7, Workers: 3, LoadConcurrency: 2},
		{BatchSize: 10, Workers: 2, Adaptive: true, LoadConcurrency: 4},
	} {
		t.Run("failed/"+cfgName(cfg), func(t *testing.T) {
			sink := &countingSink{failAt: 2500}
			p := mustNew(t, weir.FromSlice(ints(5000)), weir.Identity[int](), weir.Sink[int](sink), cfg)
			err := p.Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), "disk full") || strings.Contains(err.Error(), "accounting") {
				t.Fatalf("Run = %v, want the sink's error alone", err)
			}
			checkAborted(t, p.Stats(), sink)
		})
		t.Run("cancelled/"+cfgName(cfg), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sink := &countingSink{failAt: -1, cancelAt: 2500, cancel: cancel}
			p := mustNew(t, weir.FromSlice(ints(5000)), weir.Identity[int](), weir.Sink[int](sink), cfg)
			if err := p.Run(ctx); !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "accounting") {
				t.Fatalf("Run = %v, want the cancellation alone", err)
			}
			checkAborted(t, p.Stats(), sink)
		})
	}
}

func checkAborted(t *testing.T, st weir.Stats, sink *countingSink) {
	t.Helper()
	if !st.Aborted || st.Running {
		t.Errorf("Aborted %v, Running %v; want an aborted, ended run", st.Aborted, st.Running)
	}
	if err := st.CheckAccounting(); err != nil {
		t.Error(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if st.Load.Records != sink.confirmed {
		t.Errorf("%d records counted as loaded, but the sink confirmed %d", st.Load.Records, sink.confirmed)
	}
}

func TestCheckAccounting(t *testing.T) {
	stage := func(in, records, dead int64) weir.StageStats {
		return weir.StageStats{In: in, Records: records, DeadLettered: dead}
	}
	cases := []struct {
		name    string
		s       weir.Stats
		wantErr string
	}{
		{"a finished run that adds up", weir.Stats{Extract: stage(0, 100, 3), Transform: stage(100, 90, 4), Load: stage(90, 88, 2)}, ""},
		{"a finished run that lost records in the queue", weir.Stats{Extract: stage(0, 100, 0), Transform: stage(99, 99, 0), Load: stage(99, 99, 0)}, "100 records extracted but 99 reached the transform"},
		{"a finished run that lost transformed records", weir.Stats{Extract: stage(0, 100, 0), Transform: stage(100, 100, 0), Load: stage(98, 98, 0)}, "100 records transformed but 98 reached the load stage"},
		{"a finished run that left records in the load stage", weir.Stats{Extract: stage(0, 10, 0), Transform: stage(10, 10, 0), Load: stage(10, 8, 1)}, "10 records reached the load stage but 8 were loaded + 1 dead-lettered"},
		{"an aborted run with records in flight", weir.Stats{Aborted: true, Extract: stage(0, 100, 0), Transform: stage(80, 80, 0), Load: stage(60, 50, 0)}, ""},
		{"an aborted run that loaded more than it took", weir.Stats{Aborted: true, Extract: stage(0, 100, 0), Transform: stage(80, 80, 0), Load: stage(60, 60, 1)}, "60 records reached the load stage yet 60 were loaded + 1 dead-lettered"},
		{"an aborted run that transformed more than it read", weir.Stats{Aborted: true, Extract: stage(0, 10, 0), Transform: stage(11, 11, 0), Load: stage(0, 0, 0)}, "10 records extracted yet 11 reached the transform"},
		{"a running run is not checked", weir.Stats{Running: true, Extract: stage(0, 10, 0), Transform: stage(11, 11, 0)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.s.CheckAccounting()
			if (err == nil) != (c.wantErr == "") || err != nil && !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("CheckAccounting = %v, want %q", err, c.wantErr)
			}
		})
	}
}

// TestDeadLetterFailureAtExtractFailsTheRun: a rejected record that the
// dead-letter sink cannot take is neither loaded nor recorded, so the run
// fails, after loading what was read before it.
func TestDeadLetterFailureAtExtractFailsTheRun(t *testing.T) {
	sink := &setSink{}
	dl := weir.SinkFunc[weir.Failure](func(context.Context, []weir.Failure) error { return errors.New("reject file: disk full") })
	p := mustNew(t, weir.Source[int](&rejecting{n: 100, bad: func(v int) bool { return v == 30 }}), weir.Identity[int](), weir.Sink[int](sink),
		weir.Config{BatchSize: 8, Workers: 2, OnTransformError: weir.Skip}, weir.WithDeadLetter(dl))
	err := p.Run(context.Background())
	var se *weir.StageError
	if !errors.As(err, &se) || se.Stage != weir.StageExtract || !strings.Contains(err.Error(), "dead-letter the bad record rec:30: reject file: disk full") {
		t.Fatalf("Run = %v, want the dead-letter failure at rec:30", err)
	}
	if len(sink.got) != 30 {
		t.Errorf("%d records loaded, want the 30 before the bad one", len(sink.got))
	}
}

// located is a record that knows its source position.
type located struct{ v int }

func (l located) SourcePos() string { return fmt.Sprintf("in.txt:%d", l.v+2) }

// TestFailuresCarryTheRecordsSourcePosition: transform and load failures of
// a record that implements Locatable name its place in the source.
func TestFailuresCarryTheRecordsSourcePosition(t *testing.T) {
	recs := make([]located, 50)
	for i := range recs {
		recs[i] = located{i}
	}
	dl := &deadLetters{}
	sink := weir.SinkFunc[located](func(_ context.Context, b []located) error {
		for _, r := range b {
			if r.v == 31 {
				return errors.New("check constraint")
			}
		}
		return nil
	})
	tr := weir.Map(func(_ context.Context, r located) (located, error) {
		if r.v == 7 {
			return r, errors.New("bad value")
		}
		return r, nil
	})
	p := mustNew(t, weir.FromSlice(recs), tr, weir.Sink[located](sink),
		weir.Config{BatchSize: 10, Workers: 1, OnTransformError: weir.Skip, OnLoadError: weir.Skip}, weir.WithDeadLetter(dl))
	mustRun(t, p)
	got := map[weir.Stage]string{}
	for _, f := range dl.fails {
		got[f.Stage] = f.Source
	}
	if len(dl.fails) != 2 || got[weir.StageTransform] != "in.txt:9" || got[weir.StageLoad] != "in.txt:33" {
		t.Fatalf("failures %+v, want the transform's at in.txt:9 and the load's at in.txt:33", dl.fails)
	}
}

func TestBadRecordErrorMessage(t *testing.T) {
	cause := errors.New("3 fields, want 4")
	for _, c := range []struct {
		e    *weir.BadRecordError
		want string
	}{
		{&weir.BadRecordError{Pos: "a.csv:7", Err: cause}, "a.csv:7: 3 fields, want 4"},
		{&weir.BadRecordError{Pos: "a.csv:7", Err: fmt.Errorf("a.csv:7: %w", cause)}, "a.csv:7: 3 fields, want 4"},
		{&weir.BadRecordError{Err: cause}, "3 fields, want 4"},
		{&weir.BadRecordError{Pos: "a.csv:7"}, "a.csv:7: bad record"},
	} {
		if got := c.e.Error(); got != c.want || (c.e.Err != nil && !errors.Is(c.e, cause)) {
			t.Errorf("%#v: Error() = %q, want %q (and errors.Is the cause)", c.e, got, c.want)
		}
	}
}

// TestASourceThatDoesNotMovePastABadRecordFailsTheRun: a source returning
// the same bad record again would make the Skip policy loop; the run fails
// instead, naming it.
func TestASourceThatDoesNotMovePastABadRecordFailsTheRun(t *testing.T) {
	calls := 0
	src := weir.SourceFunc[int](func(context.Context, []int) (int, error) {
		if calls++; calls > 100 {
			return 0, io.EOF // without the check, the run ends here with 100 rejects
		}
		return 0, &weir.BadRecordError{Pos: "a.jsonl:3", Err: errors.New("broken")}
	})
	dl := &deadLetters{}
	p := mustNew(t, weir.Source[int](src), weir.Identity[int](), weir.Sink[int](&setSink{}),
		weir.Config{OnTransformError: weir.Skip}, weir.WithDeadLetter(dl))
	if err := p.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "returned the bad record a.jsonl:3 twice") {
		t.Fatalf("Run = %v, want the source named for returning a.jsonl:3 twice", err)
	}
	if len(dl.fails) != 1 {
		t.Errorf("%d dead letters, want the first report of a.jsonl:3 alone", len(dl.fails))
	}
}

// TestSkipDoesNotDeadLetterAnUnwellSink: under Skip, a write that fails
// with a retryable error (a dropped connection, once retries are spent) is
// the sink's failure, not the records': the run fails instead of
// bisecting the batch and dead-lettering every record.
func TestSkipDoesNotDeadLetterAnUnwellSink(t *testing.T) {
	sink := weir.SinkFunc[int](func(context.Context, []int) error {
		return weir.Transient(errors.New("connection refused"))
	})
	dl := &deadLetters{}
	p := mustNew(t, weir.FromSlice(ints(100)), weir.Identity[int](), weir.Sink[int](sink),
		weir.Config{BatchSize: 10, Workers: 2, OnLoadError: weir.Skip, Retry: weir.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Millisecond}},
		weir.WithDeadLetter(dl))
	if err := p.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Run = %v, want the sink's error", err)
	}
	if len(dl.fails) != 0 {
		t.Fatalf("%d records dead-lettered for a sink that refused every write", len(dl.fails))
	}
}

// connect.Row knows its file and line: its failures carry them.
var _ weir.Locatable = connect.Row{}

func TestRowFailuresNameTheirLine(t *testing.T) {
	r := connect.Row{Pos: connect.Pos{Name: "users.csv", Line: 12}}
	if got := r.SourcePos(); got != "users.csv:12" {
		t.Errorf("SourcePos = %q, want users.csv:12", got)
	}
}
