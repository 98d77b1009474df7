package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// linkedEngines are the engines this test binary can run: benthos only
// with -tags benthos.
func linkedEngines(t *testing.T) []engine {
	t.Helper()
	var es []engine
	for _, name := range engineNames {
		e, err := lookupEngine(name)
		if err != nil {
			if name == "benthos" && benthosRun == nil {
				continue
			}
			t.Fatal(err)
		}
		es = append(es, e)
	}
	return es
}

// Every engine delivers every record exactly once, whatever the size
// relative to the batch, and leaves no goroutine behind.
func TestEnginesDeliverEveryRecordOnce(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, e := range linkedEngines(t) {
		for _, n := range []int{0, 1, batchSize - 1, batchSize, 10_007} {
			if err := runChecked(context.Background(), e, n); err != nil {
				t.Errorf("%s, %d records: %v", e.name, n, err)
			}
		}
	}
}

// A run whose context is already cancelled returns an error instead of
// hanging, and leaves no goroutine behind.
func TestEnginesStopWhenCancelled(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, e := range linkedEngines(t) {
		sink := &sumSink{}
		err := e.run(ctx, 100_000, sink)
		if err == nil {
			t.Errorf("%s: cancelled run returned nil after %d records", e.name, sink.Records())
		} else if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: cancelled run returned %v, want context.Canceled", e.name, err)
		}
	}
}

func TestMeasureReportsMedianRun(t *testing.T) {
	e, err := lookupEngine("handwritten")
	if err != nil {
		t.Fatal(err)
	}
	s, err := measure(context.Background(), e, 1000, 5)
	if err != nil {
		t.Fatal(err)
	}
	if s.Engine != "handwritten" || s.Records != 1000 || s.Runs != 5 {
		t.Errorf("sample %+v, want handwritten, 1000 records, 5 runs", s)
	}
	if s.RecordsPerSec <= 0 || s.NsPerRecord <= 0 || s.NsPerRecord*s.RecordsPerSec < 0.999e9 || s.NsPerRecord*s.RecordsPerSec > 1.001e9 {
		t.Errorf("records/s %g and ns/record %g are not each other's inverse", s.RecordsPerSec, s.NsPerRecord)
	}
	// Two strings per generated user and one per transformed record.
	if s.AllocsPerRecord < 3 || s.AllocsPerRecord > 3.5 {
		t.Errorf("allocs/record %g, want 3 to 3.5", s.AllocsPerRecord)
	}
}

func TestMedian(t *testing.T) {
	cases := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, c := range cases {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %g, want %g", c.in, got, c.want)
		}
	}
}

func TestParseTuning(t *testing.T) {
	got, err := parseTuning(tuning, "threads=2,max_in_flight=8,out_count=128,out_period=10ms")
	if err != nil {
		t.Fatal(err)
	}
	want := benthosTuning{inputBatch: batchSize, threads: 2, maxInFlight: 8, outCount: 128, outPeriod: "10ms"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// String round-trips.
	if again, err := parseTuning(benthosTuning{}, got.String()); err != nil || again != got {
		t.Errorf("parseTuning(%q) = %+v, %v; want %+v", got.String(), again, err, got)
	}
	for _, bad := range []string{"threads", "threads=x", "threads=0", "color=3", "max_in_flight=-1"} {
		if _, err := parseTuning(tuning, bad); err == nil {
			t.Errorf("parseTuning(%q) accepted", bad)
		}
	}
}

func TestSummarizeRatiosArePerRound(t *testing.T) {
	ss := []sample{
		{Engine: "weir", Round: 0, RecordsPerSec: 100, AllocsPerRecord: 3},
		{Engine: "rill", Round: 0, RecordsPerSec: 25, AllocsPerRecord: 3.3},
		{Engine: "weir", Round: 1, RecordsPerSec: 200, AllocsPerRecord: 3},
		{Engine: "rill", Round: 1, RecordsPerSec: 50, AllocsPerRecord: 3.3},
		{Engine: "weir", Round: 2, RecordsPerSec: 40, AllocsPerRecord: 3},
		{Engine: "rill", Round: 2, RecordsPerSec: 20, AllocsPerRecord: 3.3},
	}
	tb := summarize(1000, []string{"weir", "rill"}, ss)
	r, ok := tb.find("rill")
	if !ok {
		t.Fatal("no rill row")
	}
	// Per-round ratios 0.25, 0.25, 0.5: median 0.25, although the medians
	// of the rates (25 and 100) happen to agree here.
	if r.rateRatio != 0.25 || r.nsRatio != 4 || r.RecordsPerSec != 25 {
		t.Errorf("rill row %+v, want ratio 0.25, ns ratio 4, 25 records/s", r)
	}
	if r.RecordsPerSecMin != 20 || r.RecordsPerSecMax != 50 || r.rateRatioMin != 0.25 || r.rateRatioMax != 0.5 {
		t.Errorf("rill ranges: records/s [%g..%g], ratio [%g..%g]; want [20..50] and [0.25..0.5]",
			r.RecordsPerSecMin, r.RecordsPerSecMax, r.rateRatioMin, r.rateRatioMax)
	}
	if r.allocRatio < 1.099 || r.allocRatio > 1.101 {
		t.Errorf("alloc ratio %g, want 1.1", r.allocRatio)
	}
	lines := targets(tb)
	if len(lines) != 1 || !strings.Contains(lines[0], "weir = 4.00× rill") || !strings.Contains(lines[0], "met") {
		t.Errorf("targets = %q, want one line: weir = 4.00× rill, met", lines)
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.rounds < 5 || len(o.sizes) != 2 || o.sizes[0] != 1_000_000 || o.sizes[1] != 5000 || o.mode != "per-process" {
		t.Errorf("defaults %+v, want ≥ 5 rounds, sizes 1M and 5K, per-process", o)
	}
	if o, err := parseOptions([]string{"-engine", "weir", "-records", "10"}); err != nil || o.rounds != 1 {
		t.Errorf("child defaults: rounds %d, err %v; want 1 round", o.rounds, err)
	}
	for _, bad := range [][]string{
		{"-engines", "weir,spark"},
		{"-engines", "rill"},
		{"-mode", "threads"},
		{"-sizes", "1000,x"},
		{"-engine", "weir"},
		{"extra"},
	} {
		if _, err := parseOptions(bad); err == nil {
			t.Errorf("parseOptions(%q) accepted", bad)
		}
	}
}
