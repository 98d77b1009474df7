package weir_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/weir-etl/weir"
)

// TestNewRefusesContradictions: every contradiction between options,
// Config, source and sink is an error from New, naming what is at fault,
// so that Run never starts a run it must abandon (and never runs a Before
// hook without its After).
func TestNewRefusesContradictions(t *testing.T) {
	positioned := func() weir.Source[int] { return &numbers{n: 10} }
	plain := func() weir.Source[int] { return weir.FromSlice(ints(10)) }
	for _, c := range []struct {
		name string
		src  func() weir.Source[int]
		sink weir.Sink[int]
		cfg  weir.Config
		opts []weir.Option
		want []string
	}{
		{"transform Skip without a dead-letter sink", plain, &setSink{}, weir.Config{OnTransformError: weir.Skip}, nil, []string{"WithDeadLetter"}},
		{"load Skip without a dead-letter sink", plain, &setSink{}, weir.Config{OnLoadError: weir.Skip}, nil, []string{"WithDeadLetter"}},
		{"BatchBytes without record sizes", plain, &setSink{}, weir.Config{BatchBytes: 100}, nil, []string{"BatchBytes"}},
		{"WithSize for another record type", plain, &setSink{}, weir.Config{},
			[]weir.Option{weir.WithSize(func(string) int { return 1 })}, []string{"WithSize", "func(string) int", "int"}},
		{"checkpoints on a source that cannot seek", plain, &setSink{}, weir.Config{},
			[]weir.Option{weir.WithCheckpoint(&memStore{}, "job")}, []string{"Positioner", "weir.sliceSource"}},
		{"exactly-once into a sink without transactions", positioned, &setSink{}, weir.Config{},
			[]weir.Option{weir.WithExactlyOnce(&memStore{}, "job")}, []string{"CheckpointSink"}},
		{"exactly-once with separate loaders", positioned, newTxSink(), weir.Config{LoadConcurrency: 2},
			[]weir.Option{weir.WithExactlyOnce(&memStore{}, "job")}, []string{"LoadConcurrency 0", "got 2"}},
		{"exactly-once and adaptive", positioned, newTxSink(), weir.Config{Adaptive: true},
			[]weir.Option{weir.WithExactlyOnce(&memStore{}, "job")}, []string{"Adaptive off"}},
		{"exactly-once and bisection", positioned, newTxSink(), weir.Config{OnLoadError: weir.Skip},
			[]weir.Option{weir.WithExactlyOnce(&memStore{}, "job"), weir.WithDeadLetter(&deadLetters{})}, []string{"OnLoadError FailRun"}},
		{"a zero Option", plain, &setSink{}, weir.Config{}, []weir.Option{{}}, []string{"zero Option"}},
		{"every problem at once", plain, &setSink{}, weir.Config{OnLoadError: weir.Skip, BatchBytes: 1, Workers: -1},
			[]weir.Option{weir.WithCheckpoint(&memStore{}, "job")}, []string{"WithDeadLetter", "BatchBytes", "Positioner", "Workers"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := weir.New(c.src(), weir.Identity[int](), c.sink, c.cfg, c.opts...)
			if err == nil {
				t.Fatalf("New accepted it: %+v", p.Config())
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

// TestExactlyOnceRefusalsNameTheirCause: each of exactly-once's three
// conditions has its own message, and an adaptive config (whose default
// LoadConcurrency is 16) is refused for being adaptive, not for a
// LoadConcurrency the user never set.
func TestExactlyOnceRefusalsNameTheirCause(t *testing.T) {
	for _, c := range []struct {
		cfg       weir.Config
		want, not string
	}{
		{weir.Config{Adaptive: true}, "Adaptive off", "LoadConcurrency"},
		{weir.Config{LoadConcurrency: 3}, "LoadConcurrency 0", "Adaptive"},
		{weir.Config{OnLoadError: weir.Skip}, "OnLoadError FailRun", "LoadConcurrency"},
	} {
		_, err := weir.New(weir.Source[int](&numbers{n: 10}), weir.Identity[int](), weir.Sink[int](newTxSink()), c.cfg,
			weir.WithExactlyOnce(&memStore{}, "job"), weir.WithDeadLetter(&deadLetters{}))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), c.not) {
			t.Errorf("%+v: New = %v, want it to say %q and not %q", c.cfg, err, c.want, c.not)
		}
	}
}

// TestStatsWorkFromTheFirstInstant: Stats is safe from the moment Run
// starts, in the Before hook and in an After hook told of Before's failure,
// also for an adaptive run, whose controllers exist before the stages do.
func TestStatsWorkFromTheFirstInstant(t *testing.T) {
	boom := errors.New("no table")
	for _, adaptive := range []bool{false, true} {
		var p *weir.Pipeline[int, int]
		var inBefore weir.Stats
		p = mustNew(t, weir.FromSlice(ints(10)), weir.Identity[int](), weir.Sink[int](&setSink{}), weir.Config{Adaptive: adaptive},
			weir.WithHooks(weir.Hooks{
				Before: func(context.Context) error { inBefore = p.Stats(); return boom },
				After:  func(context.Context, weir.Stats, error) error { return nil },
			}))
		err := p.Run(context.Background())
		if !errors.Is(err, boom) || !inBefore.Running {
			t.Errorf("adaptive=%v: Run = %v, Stats in Before = %+v; want the hook's error and running stats", adaptive, err, inBefore)
		}
		if adaptive && inBefore.BatchSize == 0 {
			t.Errorf("adaptive: Stats in Before has BatchSize 0, want the sizer's start")
		}
	}
}

// TestLaterOptionOverrides: options of one kind replace each other, so a
// WithCheckpoint after WithExactlyOnce turns exactly-once off.
func TestLaterOptionOverrides(t *testing.T) {
	store := &memStore{}
	sink := &setSink{} // no WriteCheckpoint: exactly-once would be refused
	p := mustNew(t, weir.Source[int](&numbers{n: 300}), weir.Identity[int](), weir.Sink[int](sink), weir.Config{BatchSize: 100},
		weir.WithExactlyOnce(store, "job"), weir.WithCheckpoint(store, "job"))
	mustRun(t, p)
	if store.at("job") != 300 || len(sink.got) != 300 {
		t.Fatalf("checkpoint %d, loaded %d; want 300 and 300", store.at("job"), len(sink.got))
	}
}

// TestFailureJSONNamesTheStage: a dead-letter file says "load", not 3.
func TestFailureJSONNamesTheStage(t *testing.T) {
	in := weir.Failure{Stage: weir.StageLoad, Record: "r", Error: "bad", Attempts: 2, Position: 7, Batch: 1}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"stage":"load"`) || !strings.Contains(string(b), `"record":"r"`) {
		t.Fatalf("Failure encodes as %s", b)
	}
	var out weir.Failure
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("round trip = %+v, %v; want %+v", out, err, in)
	}
	if err := json.Unmarshal([]byte(`{"stage":"lode"}`), &out); err == nil {
		t.Fatalf("an unknown stage name decoded without error")
	}
}
