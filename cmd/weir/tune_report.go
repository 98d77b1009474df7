// What weir tune prints: the trials, the recommendation, the bottleneck,
// the grid comparison, and the chart.

package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/internal/redact"
)

func trialHeader(w io.Writer) {
	fmt.Fprintf(w, "%5s %-6s %6s %7s %7s %9s %10s %8s %9s %6s\n",
		"trial", "kind", "batch", "workers", "loaders", "records", "records/s", "extract", "transform", "load")
}

// trialLine prints one trial: its settings, records/s and each stage's
// busy share (of its goroutines' time).
func trialLine(w io.Writer, n int, t tuneTrial) {
	u := func(s weir.StageStats) string { return fmt.Sprintf("%.0f%%", 100*s.Utilization(t.st.Elapsed)) }
	fmt.Fprintf(w, "%5d %-6s %6d %7d %7d %9s %10s %8s %9s %6s\n", n, t.phase, t.cell.Batch, t.cell.Workers, t.cell.Loaders,
		groupDigits(t.st.Extract.Records), fmtRate(t.rate()), u(t.st.Extract), u(t.st.Transform), u(t.st.Load))
}

func distinctCells(trials []tuneTrial) int {
	seen := map[tuneCell]bool{}
	for _, t := range trials {
		seen[t.cell] = true
	}
	return len(seen)
}

// fullTrials returns the full trials of c, in order.
func fullTrials(trials []tuneTrial, c tuneCell) []tuneTrial {
	var out []tuneTrial
	for _, t := range trials {
		if t.cell == c && t.phase != "quick" {
			out = append(out, t)
		}
	}
	return out
}

func rates(trials []tuneTrial) []float64 {
	out := make([]float64, len(trials))
	for i, t := range trials {
		out[i] = t.rate()
	}
	return out
}

// medianTrial returns the trial with the median rate (the lower middle for
// an even count).
func medianTrial(trials []tuneTrial) tuneTrial {
	s := slices.Clone(trials)
	slices.SortFunc(s, func(a, b tuneTrial) int { return cmp.Compare(a.rate(), b.rate()) })
	return s[(len(s)-1)/2]
}

// fmtRates writes rates as "median [min..max] (n runs)".
func fmtRates(r []float64) string {
	return fmt.Sprintf("%s [%s..%s] (%d runs)", fmtRate(median(r)), fmtRate(slices.Min(r)), fmtRate(slices.Max(r)), len(r))
}

// tuneReport prints the finalists, the recommended flags, the job-file
// snippet and the bottleneck of the recommended cell.
func tuneReport(w io.Writer, f tuneFlags, tn *tuner, sp tuneSpace, pick tuneCell, src, tgt string) {
	fmt.Fprintf(w, "\nfinalists (full trials, median [min..max]):\n")
	var finals []tuneCell
	for _, t := range tn.trials {
		if t.phase == "final" && !slices.Contains(finals, t.cell) {
			finals = append(finals, t.cell)
		}
	}
	slices.SortFunc(finals, func(a, b tuneCell) int {
		return cmp.Compare(median(rates(fullTrials(tn.trials, b))), median(rates(fullTrials(tn.trials, a))))
	})
	for _, c := range finals {
		mark := ""
		if c == pick {
			mark = "  ← recommended"
		}
		fmt.Fprintf(w, "  %-45s %s records/s%s\n", c, fmtRates(rates(fullTrials(tn.trials, c))), mark)
	}

	fmt.Fprintf(w, "\nrecommended: %s\n", pick.flags())
	if f.isJob {
		fmt.Fprintf(w, "  weir run %s   with, in the job file:\n", f.job.file)
	} else {
		fmt.Fprintf(w, "  weir copy %s %s %s\n", shellQuote(redact.String(src)), shellQuote(redact.String(tgt)), pick.flags())
		if redact.String(src) != src || redact.String(tgt) != tgt {
			fmt.Fprintf(w, "  (the password shows as %s: put yours back)\n", redact.Mask)
		}
		fmt.Fprintf(w, "or, in a job file:\n")
	}
	fmt.Fprintf(w, "options:\n  batch: %d\n  workers: %d\n  load_concurrency: %d\n", pick.Batch, pick.Workers, pick.Loaders)

	best := medianTrial(fullTrials(tn.trials, pick))
	st := best.st
	fmt.Fprintf(w, "\nbottleneck: %s\n", limitOf(st.Bottleneck()))
	fmt.Fprintf(w, "  why: at the recommended settings the stages were busy extract %.0f%% (%d goroutine), transform %.0f%% (%d), load %.0f%% (%d) of their time\n",
		100*st.Extract.Utilization(st.Elapsed), st.Extract.Goroutines, 100*st.Transform.Utilization(st.Elapsed), st.Transform.Goroutines,
		100*st.Load.Utilization(st.Elapsed), st.Load.Goroutines)
	if f.isJob {
		fmt.Fprintf(w, "  (a job evaluates its expressions and filters in the load stage, in each loader: raise load concurrency to spread them over cores)\n")
	}
	if rate := float64(tn.sample.n) / max(tn.sample.readTime.Seconds(), 1e-9); rate < best.rate() && tn.sample.data == nil {
		fmt.Fprintf(w, "  and the source itself gave the sample at %s records/s, slower than the pipeline (%s): in a real run it may be the limit\n",
			fmtRate(rate), fmtRate(best.rate()))
	}
}

// tuneProof measures the whole grid on the same sample, then the
// search's pick and the grid's best side by side, and prints how close the
// pick came and at what share of the grid's time (--grid).
func tuneProof(ctx context.Context, w io.Writer, tn *tuner, sp tuneSpace, pick tuneCell, searchTime time.Duration) error {
	fmt.Fprintf(w, "\ngrid: every cell once, in shuffled order\n")
	tn.phase = "grid"
	t0 := time.Now()
	best, err := tuneGrid(ctx, sp, 1, tn.measure)
	if err != nil {
		return err
	}
	gridTime := time.Since(t0)
	fmt.Fprintln(w)
	for _, t := range tn.trials {
		if t.phase == "grid" && t.cell == best {
			fmt.Fprintf(w, "grid best: %s, %s records/s (one run); the grid took %s\n", best, fmtRate(t.rate()), round(gridTime))
		}
	}
	tn.phase = "check"
	const checks = 5
	cells := []tuneCell{pick, best}
	for i := range checks {
		for j := range cells {
			if _, err := tn.measure(ctx, cells[(i+j)%2], false); err != nil {
				return err
			}
		}
	}
	var r [2][]float64
	for _, t := range tn.trials {
		if t.phase == "check" {
			r[slices.Index(cells, t.cell)] = append(r[slices.Index(cells, t.cell)], t.rate())
		}
	}
	if pick == best {
		r[0] = append(r[0], r[1]...)
		r[1] = r[0]
	}
	ratio, share := median(r[0])/median(r[1]), searchTime.Seconds()/gridTime.Seconds()
	fmt.Fprintf(w, "\nside by side, %d runs each, alternating:\n  tune's pick  %-45s %s records/s\n  grid's best  %-45s %s records/s\n",
		checks, pick, fmtRates(r[0]), best, fmtRates(r[1]))
	fmt.Fprintf(w, "tune's pick reaches %.0f%% of the grid's best (goal ≥ 90%%) in %.0f%% of the grid's time (%s against %s; goal ≤ 25%%)\n",
		100*ratio, 100*share, round(searchTime), round(gridTime))
	return nil
}

// tuneChart draws every measured cell with bench's chart code: one panel
// per load concurrency, records/s against batch size, a line per worker
// count; a cell's figure is the median of its full trials, or its quick
// trial when it had none.
func tuneChart(path string, trials []tuneTrial, pick tuneCell) error {
	var loaders, workers []int
	byCell := map[tuneCell][]float64{}
	quick := map[tuneCell]float64{}
	for _, t := range trials {
		if !slices.Contains(loaders, t.cell.Loaders) {
			loaders = append(loaders, t.cell.Loaders)
		}
		if !slices.Contains(workers, t.cell.Workers) {
			workers = append(workers, t.cell.Workers)
		}
		if t.phase == "quick" {
			quick[t.cell] = t.rate()
		} else {
			byCell[t.cell] = append(byCell[t.cell], t.rate())
		}
	}
	slices.Sort(loaders)
	slices.Sort(workers)
	var sweeps []benchSweep
	for _, l := range loaders {
		sw := benchSweep{title: fmt.Sprintf("weir tune, load concurrency %d (pick: %s)", l, pick.flags())}
		for c, q := range quick {
			if c.Loaders == l && byCell[c] == nil {
				sw.rows = append(sw.rows, benchRow{Batch: c.Batch, Workers: c.Workers, RecordsPerSec: q, RecordsPerSecMin: q, RecordsPerSecMax: q, Runs: 1})
			}
		}
		for c, r := range byCell {
			if c.Loaders == l {
				sw.rows = append(sw.rows, benchRow{Batch: c.Batch, Workers: c.Workers, RecordsPerSec: median(r),
					RecordsPerSecMin: slices.Min(r), RecordsPerSecMax: slices.Max(r), Runs: len(r)})
			}
		}
		slices.SortFunc(sw.rows, func(a, b benchRow) int {
			return cmp.Or(cmp.Compare(a.Workers, b.Workers), cmp.Compare(a.Batch, b.Batch))
		})
		for i, row := range sw.rows {
			if row.RecordsPerSec > sw.rows[sw.best].RecordsPerSec {
				sw.best = i
			}
		}
		sweeps = append(sweeps, sw)
	}
	return writeBenchChart(path, sweeps, workers)
}

// limitOf says what a bottleneck stage means at settings already tuned.
func limitOf(s weir.Stage) string {
	switch s {
	case weir.StageExtract:
		return "extract — the source (reading and parsing) is the limit"
	case weir.StageTransform:
		return "transform — converting the records is the limit (CPU)"
	case weir.StageLoad:
		return "load — the target is the limit"
	}
	return "none measured (the trials were too short)"
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and -_./:,=@%+.
func shellQuote(s string) string {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:,=@%+", c)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
