// Unit tests of what `weir bench` computes from its measurements: medians,
// ranges, the best cell of a sweep, and the number formats.

package main

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseCounts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
	}{
		{"5000", []int{5000}},
		{"1000000,5000", []int{5000, 1_000_000}},
		{"5k, 1M ,5_000", []int{5000, 1_000_000}},
		{"20K,2m", []int{20_000, 2_000_000}},
	} {
		got, err := parseCounts("records", tc.in, 1<<34)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseCounts(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := parseCounts("batches", "4097", 4096); err == nil {
		t.Error("a count above the limit was accepted")
	}
}

func TestAggregateTakesTheMedianRun(t *testing.T) {
	rs := []cellResult{
		{Records: 100, Seconds: 1, AllocsPerRecord: 3, PeakHeap: 10, PeakRSS: 50, Runs: 1}, // 100/s
		{Records: 100, Seconds: 4, AllocsPerRecord: 1, PeakHeap: 30, PeakRSS: 20, Runs: 1}, // 25/s
		{Records: 100, Seconds: 2, AllocsPerRecord: 2, PeakHeap: 20, PeakRSS: 40, Runs: 1}, // 50/s
		{Records: 100, Seconds: 5, AllocsPerRecord: 9, PeakHeap: 5, PeakRSS: 10, Runs: 1},  // 20/s
		{Records: 100, Seconds: 0.5, AllocsPerRecord: 4, PeakHeap: 1, PeakRSS: 1, Runs: 1}, // 200/s
	}
	got := aggregate(rs)
	if got.rate() != 50 || got.AllocsPerRecord != 3 || got.PeakHeap != 30 || got.PeakRSS != 50 || got.Runs != 5 {
		t.Errorf("aggregate = %+v (%.0f/s), want the 50/s run, 3 allocs, peaks 30 and 50, 5 runs", got, got.rate())
	}
	if got.RateMin != 20 || got.RateMax != 200 || got.Capped {
		t.Errorf("aggregate = %+v, want rates from 20/s to 200/s, not capped", got)
	}
	// Capped if any run was, though the median one was not; the range of
	// results that are themselves aggregates spans theirs.
	capped := slices.Clone(rs)
	capped[4].Capped = true
	capped[1].RateMin, capped[1].RateMax = 5, 30
	if got := aggregate(capped); !got.Capped || got.RateMin != 5 || got.RateMax != 200 {
		t.Errorf("aggregate = %+v, want capped, rates from 5/s to 200/s", got)
	}
	// With an even count, the lower middle.
	if got := aggregate(rs[:4]); got.rate() != 25 {
		t.Errorf("aggregate of 4 runs took the %.0f/s run, want 25/s", got.rate())
	}
}

// TestSweepBestFollowsTheMedian feeds the sweep a cell with the fastest
// single run (its first) but a poor median: the best cell must be the one
// with the highest median, and each cell must show its median and range.
func TestSweepBestFollowsTheMedian(t *testing.T) {
	run := func(rate float64) cellResult {
		return cellResult{Records: int64(rate), Seconds: 1, Runs: 1, RateMin: rate, RateMax: rate}
	}
	var cells []benchCell
	for _, b := range []int{8, 64} {
		for _, w := range []int{1, 2} {
			cells = append(cells, benchCell{Table: tableSweep, Workload: "slim", Sink: "cpu", Batch: b, Workers: w})
		}
	}
	runs := [][]cellResult{
		{run(9000), run(100), run(110)}, // 8 × 1: the fastest run, the worst median
		{run(200), run(210), run(190)},  // 8 × 2
		{run(290), run(310), run(300)},  // 64 × 1: the best median
		{run(250), run(280), run(260)},  // 64 × 2: the second-best
	}
	for i := range runs {
		for j := range runs[i] {
			runs[i][j].Batch, runs[i][j].Workers = cells[i].Batch, cells[i].Workers
		}
	}
	sw := newBenchSweep("cpu", 1000, cells, runs)
	if b := sw.rows[sw.best]; b.Batch != 64 || b.Workers != 1 || !b.Best || b.RecordsPerSec != 300 {
		t.Errorf("best cell %+v, want 64 × 1 at a median of 300/s", b)
	}
	for i, row := range sw.rows {
		if row.Best != (i == 2) {
			t.Errorf("row %d (%d × %d) best = %v", i, row.Batch, row.Workers, row.Best)
		}
	}
	if r := sw.rows[0]; r.RecordsPerSec != 110 || r.RecordsPerSecMin != 100 || r.RecordsPerSecMax != 9000 || r.Runs != 3 {
		t.Errorf("8 × 1 row %+v, want 110/s in [100..9000] over 3 runs", r)
	}
	if n := sw.overlapsBest(); n != 1 {
		t.Errorf("%d cells overlap the best one's range, want 1 (8 × 1, whose lucky run reaches it)", n)
	}

	var b bytes.Buffer
	out := &benchOut{w: &b}
	out.sweepTable(benchFlags{workers: []int{1, 2}, cpuRounds: 4}, sw)
	for _, want := range []string{
		"| 8 | 110 [100..9.00K] | 200 [190..210] |",
		"| 64 | **300 [290..310]** | 260 [250..280] |",
		"Best: batch 64 × 1 worker, 300 [290..310] records/s over 3 runs; 1 other cell's range reaches into its own",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("sweep table lacks %q:\n%s", want, b.String())
		}
	}
	chart := filepath.Join(t.TempDir(), "sweep.png")
	if err := writeBenchChart(chart, []benchSweep{sw}, []int{1, 2}); err != nil {
		t.Errorf("chart of medians with ranges: %v", err)
	}
}

func TestBenchFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fmtRate(0), "0"}, {fmtRate(950), "950"}, {fmtRate(39_000), "39.0K"}, {fmtRate(110_400), "110K"},
		{fmtRate(3_456_789), "3.46M"}, {fmtRate(999_600), "1.00M"}, {fmtRate(999.7), "1.00K"},
		{fmtRate(99_970), "100K"}, {fmtRate(9_997), "10.0K"}, {fmtRate(99.4), "99.4"}, {groupDigits(1_000_000), "1,000,000"}, {groupDigits(999), "999"},
		{groupDigits(-12345), "-12,345"}, {fmtBytes(0), "–"}, {fmtBytes(20 << 20), "20.0 MiB"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
