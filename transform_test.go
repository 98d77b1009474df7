package weir_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/weir-etl/weir"
)

// levels is every concurrency shape a transform must behave the same under.
var levels = []weir.Config{
	{BatchSize: 16, Workers: 1, TransformConcurrency: 1},
	{BatchSize: 16, Workers: 1, TransformConcurrency: 4},
	{BatchSize: 16, Workers: 3, TransformConcurrency: 1},
	{BatchSize: 16, Workers: 3, TransformConcurrency: 4, LoadConcurrency: 2},
	{BatchSize: 1, Workers: 2},
}

func cfgName(c weir.Config) string {
	return fmt.Sprintf("batch=%d/workers=%d/tconc=%d/load=%d", c.BatchSize, c.Workers, c.TransformConcurrency, c.LoadConcurrency)
}

func TestTransformKinds(t *testing.T) {
	const n = 1000
	type check struct {
		name string
		run  func(t *testing.T, cfg weir.Config) (got [][]string, want []string)
	}
	// Each kind turns ints into strings (or ints) so the expected output is
	// easy to state; outputs are compared as a multiset (batches may be
	// loaded out of order) and each batch is checked to be in input order.
	asStrings := func(batches [][]int) [][]string {
		var out [][]string
		for _, b := range batches {
			var s []string
			for _, v := range b {
				s = append(s, strconv.Itoa(v))
			}
			out = append(out, s)
		}
		return out
	}
	checks := []check{
		{"map", func(t *testing.T, cfg weir.Config) ([][]string, []string) {
			var sink collector[string]
			p := mustNew(t, weir.FromSlice(ints(n)), weir.Map(func(_ context.Context, v int) (string, error) {
				return strconv.Itoa(v), nil
			}), &sink, cfg)
			mustRun(t, p)
			var want []string
			for i := range n {
				want = append(want, strconv.Itoa(i))
			}
			return sink.batches, want
		}},
		{"filter", func(t *testing.T, cfg weir.Config) ([][]string, []string) {
			var sink collector[int]
			p := mustNew(t, weir.FromSlice(ints(n)), weir.Filter(func(v int) bool { return v%3 == 0 }), &sink, cfg)
			mustRun(t, p)
			var want []string
			for i := 0; i < n; i += 3 {
				want = append(want, strconv.Itoa(i))
			}
			return asStrings(sink.batches), want
		}},
		{"flatmap", func(t *testing.T, cfg weir.Config) ([][]string, []string) {
			var sink collector[string]
			// v%3 outputs for record v: 0, 1 or 2 of them.
			p := mustNew(t, weir.FromSlice(ints(n)), weir.FlatMap(func(_ context.Context, v int, out []string) ([]string, error) {
				for k := range v % 3 {
					out = append(out, fmt.Sprintf("%d.%d", v, k))
				}
				return out, nil
			}), &sink, cfg)
			mustRun(t, p)
			var want []string
			for i := range n {
				for k := range i % 3 {
					want = append(want, fmt.Sprintf("%d.%d", i, k))
				}
			}
			return sink.batches, want
		}},
		{"mapbatch", func(t *testing.T, cfg weir.Config) ([][]string, []string) {
			var sink collector[string]
			p := mustNew(t, weir.FromSlice(ints(n)), weir.MapBatch(func(_ context.Context, in []int, out []string) ([]string, error) {
				for _, v := range in {
					out = append(out, "b"+strconv.Itoa(v))
				}
				return out, nil
			}), &sink, cfg)
			mustRun(t, p)
			var want []string
			for i := range n {
				want = append(want, "b"+strconv.Itoa(i))
			}
			return sink.batches, want
		}},
		{"inplace", func(t *testing.T, cfg weir.Config) ([][]string, []string) {
			var sink collector[int]
			p := mustNew(t, weir.FromSlice(ints(n)), weir.InPlace(func(_ context.Context, v *int) error {
				*v = *v * 10
				return nil
			}), &sink, cfg)
			mustRun(t, p)
			var want []string
			for i := range n {
				want = append(want, strconv.Itoa(i*10))
			}
			return asStrings(sink.batches), want
		}},
		{"then filter+map", func(t *testing.T, cfg weir.Config) ([][]string, []string) {
			var sink collector[string]
			tr := weir.Then(weir.Filter(func(v int) bool { return v%2 == 1 }),
				weir.Map(func(_ context.Context, v int) (string, error) { return "odd" + strconv.Itoa(v), nil }))
			p := mustNew(t, weir.FromSlice(ints(n)), tr, &sink, cfg)
			mustRun(t, p)
			var want []string
			for i := 1; i < n; i += 2 {
				want = append(want, "odd"+strconv.Itoa(i))
			}
			return sink.batches, want
		}},
		{"then map+inplace", func(t *testing.T, cfg weir.Config) ([][]string, []string) {
			var sink collector[string]
			tr := weir.Then(weir.Map(func(_ context.Context, v int) (string, error) { return strconv.Itoa(v), nil }),
				weir.InPlace(func(_ context.Context, s *string) error { *s = "#" + *s; return nil }))
			p := mustNew(t, weir.FromSlice(ints(n)), tr, &sink, cfg)
			mustRun(t, p)
			var want []string
			for i := range n {
				want = append(want, "#"+strconv.Itoa(i))
			}
			return sink.batches, want
		}},
		{"then inplace+inplace", func(t *testing.T, cfg weir.Config) ([][]string, []string) {
			var sink collector[int]
			tr := weir.Then(weir.InPlace(func(_ context.Context, v *int) error { *v += 1; return nil }),
				weir.Filter(func(v int) bool { return v%2 == 0 }))
			p := mustNew(t, weir.FromSlice(ints(n)), tr, &sink, cfg)
			mustRun(t, p)
			var want []string
			for i := range n {
				if (i+1)%2 == 0 {
					want = append(want, strconv.Itoa(i+1))
				}
			}
			return asStrings(sink.batches), want
		}},
	}
	for _, c := range checks {
		for _, cfg := range levels {
			t.Run(c.name+"/"+cfgName(cfg), func(t *testing.T) {
				got, want := c.run(t, cfg)
				var flat []string
				for _, b := range got {
					if len(b) == 0 {
						t.Errorf("sink was given an empty batch")
					}
					if !inInputOrder(b) {
						t.Errorf("batch out of input order: %v", b)
					}
					flat = append(flat, b...)
				}
				if cfg.Workers == 1 && cfg.LoadConcurrency <= 1 && !slices.Equal(flat, want) {
					t.Fatalf("with one worker, output = %v…, want %v… in order", head(flat), head(want))
				}
				slices.Sort(flat)
				w := slices.Clone(want)
				slices.Sort(w)
				if !slices.Equal(flat, w) {
					t.Fatalf("output has %d records, want %d (multiset differs)", len(flat), len(w))
				}
			})
		}
	}
}

// inInputOrder reports whether the leading numbers of a batch's outputs
// never decrease.
func inInputOrder(b []string) bool {
	last := -1.0
	for _, s := range b {
		s = strings.TrimLeft(s, "#bod")
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < last {
			return false
		}
		last = f
	}
	return true
}

func head(s []string) []string { return s[:min(len(s), 8)] }

func mustRun[E, T any](t *testing.T, p *weir.Pipeline[E, T]) {
	t.Helper()
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestInPlaceAllocatesNothingPerRecord(t *testing.T) {
	allocsFor := func(n int) float64 {
		src := ints(n)
		return testing.AllocsPerRun(5, func() {
			p, err := weir.New(weir.FromSlice(src), weir.InPlace(func(_ context.Context, v *int) error {
				*v++
				return nil
			}), weir.SinkFunc[int](func(context.Context, []int) error { return nil }), weir.Config{BatchSize: 64, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocsFor(1_000), allocsFor(200_000)
	perRecord := (large - small) / 199_000
	if perRecord > 0.001 {
		t.Fatalf("in-place run: %.0f allocs for 1k records, %.0f for 200k: %.4f per record, want ~0", small, large, perRecord)
	}
}

func TestTransformErrorNamesStageBatchAndRecord(t *testing.T) {
	boom := errors.New("boom")
	for _, cfg := range levels {
		t.Run(cfgName(cfg), func(t *testing.T) {
			p := mustNew(t, weir.FromSlice(ints(100)), weir.Map(func(_ context.Context, v int) (int, error) {
				if v == 37 {
					return 0, boom
				}
				return v, nil
			}), &collector[int]{}, cfg)
			err := p.Run(context.Background())
			if !errors.Is(err, boom) {
				t.Fatalf("Run = %v, want it to wrap boom", err)
			}
			var se *weir.StageError
			if !errors.As(err, &se) {
				t.Fatalf("Run = %v, want a *StageError", err)
			}
			bs := int64(cfg.BatchSize)
			if se.Stage != weir.StageTransform || se.Record != 37 || se.Batch != 37/bs || se.First != 37/bs*bs {
				t.Errorf("StageError = %+v, want transform, record 37, batch %d", se, 37/bs)
			}
			if !strings.Contains(err.Error(), "transform batch") || !strings.Contains(err.Error(), "record 37") {
				t.Errorf("message %q should name the stage, batch and record", err)
			}
		})
	}
}

func TestZeroTransformAndNilArgumentsAreRejected(t *testing.T) {
	sink := weir.SinkFunc[int](func(context.Context, []int) error { return nil })
	if _, err := weir.New(nil, weir.Identity[int](), sink, weir.Config{}); err == nil || !strings.Contains(err.Error(), "nil Source") {
		t.Errorf("nil source: err = %v", err)
	}
	if _, err := weir.New(weir.FromSlice(ints(1)), weir.Transform[int, int]{}, sink, weir.Config{}); err == nil || !strings.Contains(err.Error(), "zero Transform") {
		t.Errorf("zero transform: err = %v", err)
	}
	if _, err := weir.New[int, int](weir.FromSlice(ints(1)), weir.Identity[int](), nil, weir.Config{}); err == nil || !strings.Contains(err.Error(), "nil Sink") {
		t.Errorf("nil sink: err = %v", err)
	}
	if _, err := weir.New(weir.FromSlice(ints(1)), weir.Identity[int](), sink, weir.Config{BatchSize: -1}); err == nil || !strings.Contains(err.Error(), "BatchSize") {
		t.Errorf("bad config: err = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Map(nil) did not panic")
		}
	}()
	weir.Map[int, int](nil)
}

func TestRecordPositionsSurviveFilteringAndSinks(t *testing.T) {
	boom := errors.New("boom")
	t.Run("error after a filter names no wrong record", func(t *testing.T) {
		tr := weir.Then(weir.Filter(func(v int) bool { return v%2 == 0 }),
			weir.Map(func(_ context.Context, v int) (int, error) {
				if v == 10 {
					return 0, boom
				}
				return v, nil
			}))
		p := mustNew(t, weir.FromSlice(ints(50)), tr, &collector[int]{}, weir.Config{BatchSize: 50})
		err := p.Run(context.Background())
		var se *weir.StageError
		if !errors.As(err, &se) || !errors.Is(err, boom) || se.Record != -1 {
			t.Fatalf("Run = %v (%+v), want boom with the record unknown (-1): index 5 of the filtered batch is not record 5", err, se)
		}
		if !strings.Contains(err.Error(), "map, record 5 of its input") {
			t.Errorf("message %q should still say which intermediate record failed", err)
		}
	})
	t.Run("a sink's RecordError after a one-to-one transform names the record", func(t *testing.T) {
		sink := weir.SinkFunc[int](func(_ context.Context, b []int) error {
			for i, v := range b {
				if v == 77 {
					return fmt.Errorf("insert: %w", &weir.RecordError{Index: i, Err: boom})
				}
			}
			return nil
		})
		p := mustNew(t, weir.FromSlice(ints(100)), weir.Map(func(_ context.Context, v int) (int, error) { return v, nil }), sink, weir.Config{BatchSize: 10, Workers: 1})
		err := p.Run(context.Background())
		var se *weir.StageError
		if !errors.As(err, &se) || se.Stage != weir.StageLoad || se.Record != 77 || !errors.Is(err, boom) {
			t.Fatalf("Run = %v (%+v), want load error at record 77", err, se)
		}
	})
	t.Run("a sink's RecordError after a filter names no record", func(t *testing.T) {
		sink := weir.SinkFunc[int](func(_ context.Context, b []int) error {
			return &weir.RecordError{Index: 1, Err: boom}
		})
		p := mustNew(t, weir.FromSlice(ints(10)), weir.Filter(func(v int) bool { return v > 5 }), sink, weir.Config{BatchSize: 10})
		err := p.Run(context.Background())
		var se *weir.StageError
		if !errors.As(err, &se) || se.Record != -1 {
			t.Fatalf("Run = %v (%+v), want the record unknown", err, se)
		}
	})
}
