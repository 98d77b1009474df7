// Writing the bench report: Markdown tables as the cells finish, or every
// row as one JSON array at the end, and the number formats they use.

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// adaptiveTarget is the target: adaptive at least 90% of the best
// static cell.
const adaptiveTarget = 0.90

// benchSinks describes each sink of the sweep, for the heading of its table.
var benchSinks = []struct{ name, desc string }{
	{"memory", "memory-bound: `bench.MemorySink` reads every byte of every record"},
	{"cpu", "CPU-bound: `bench.CPUSink` hashes each record's key %d rounds"},
	{"io", "I/O-bound: `bench.IOSink` waits %v + %v per record per write, slowing down past %d writes in flight"},
}

// benchOut writes the report: Markdown as it goes, or the rows as JSON at
// the end. It keeps the first write error.
type benchOut struct {
	w    io.Writer
	json bool
	rows []benchRow
	err  error
}

func (o *benchOut) printf(format string, args ...any) {
	if o.json || o.err != nil {
		return
	}
	if _, err := fmt.Fprintf(o.w, format, args...); err != nil {
		o.err = fmt.Errorf("write report: %w", err)
	}
}

func (o *benchOut) writeJSON() {
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, row := range o.rows {
		line, err := json.Marshal(row)
		if err != nil {
			o.err = fmt.Errorf("encode row: %w", err)
			return
		}
		b.WriteString("  ")
		b.Write(line)
		if i < len(o.rows)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]\n")
	if _, err := o.w.Write(b.Bytes()); err != nil {
		o.err = fmt.Errorf("write report: %w", err)
	}
}

func (o *benchOut) configTable(shape string, runs int, rows []benchRow, refs []string, idleRSS uint64) {
	what := "Slim records (`bench.SlimUser`, ~100 B) through `TransformSlim`"
	if shape == "fat" {
		what = "Fat records (`bench.FatUser`, ~55 KB in ~340 heap objects) through `TransformFat`"
	}
	o.printf("## The seed's configurations, %s records\n\n", shape)
	runsPhrase := "One run per cell (no range); peak heap (heap object bytes, sampled every %v) and peak RSS are the run's"
	if runs > 1 {
		runsPhrase = fmt.Sprintf("%d runs per cell: time is the median run's, records/s the median with the slowest and fastest run in brackets, [min..max]; peak heap (heap object bytes, sampled every %%v) and peak RSS are the highest seen over the runs", runs)
	}
	o.printf("%s into a `SumSink` (the cheapest sink: this measures the engine, the generator and the transform). "+runsPhrase+"; allocations are the whole process's, per record.",
		what, heapSampleEvery)
	if idleRSS > 0 {
		o.printf(" An idle bench process holds %s resident before its first run.", fmtBytes(idleRSS))
	}
	o.printf(" The last column is the seed's published figure for its Rust engine on the seed author's machine: **not measured here**, for reference only; the seed's original run (500 × 8) used fat records, its optimised runs slim ones.\n\n")
	o.printf("| Batch × workers | Records | Time | Records/s, median [min..max] | Peak heap | Peak RSS | Allocs/record | seed, Rust, their machine (not measured here) |\n")
	o.printf("|---|---:|---:|---:|---:|---:|---:|---|\n")
	for i, row := range rows {
		label := fmt.Sprintf("%d × %d", row.Batch, row.Workers)
		for _, sc := range seedConfigs {
			if sc.batch == row.Batch && sc.workers == row.Workers {
				label = sc.label
			}
		}
		o.printf("| %s | %s | %s | %s | %s | %s | %.2f | %s |\n", label, groupDigits(row.Records),
			fmtDuration(time.Duration(row.Seconds*float64(time.Second))), fmtRateRange(row),
			fmtBytes(row.PeakHeapBytes), fmtBytes(row.PeakRSSBytes), row.AllocsPerRecord, refs[i])
	}
	o.printf("\n")
}

func (o *benchOut) sweepTable(f benchFlags, sw benchSweep) {
	desc := ""
	for _, s := range benchSinks {
		if s.name == sw.sink {
			desc = s.desc
		}
	}
	switch sw.sink {
	case "cpu":
		desc = fmt.Sprintf(desc, f.cpuRounds)
	case "io":
		desc = fmt.Sprintf(desc, f.io.RoundTrip, f.io.PerRecord, f.io.Limit)
	}
	o.printf("### %s sink: up to %s records per cell\n\n%s.\n\n", sw.sink, groupDigits(int64(sw.records)), desc)
	o.printf("| Batch \\ workers |")
	for _, w := range f.workers {
		o.printf(" %d |", w)
	}
	o.printf("\n|---:|%s\n", strings.Repeat("---:|", len(f.workers)))
	for i, row := range sw.rows {
		if i%len(f.workers) == 0 {
			o.printf("| %d |", row.Batch)
		}
		cell := fmtRateRange(row)
		if row.TimeCapped {
			cell += "†"
		}
		if row.Best {
			cell = "**" + cell + "**"
		}
		o.printf(" %s |", cell)
		if i%len(f.workers) == len(f.workers)-1 {
			o.printf("\n")
		}
	}
	b := sw.rows[sw.best]
	o.printf("\nBest: %s, %s records/s", cellName(b.Batch, b.Workers), fmtRateRange(b))
	if b.Runs > 1 {
		o.printf(" over %d runs; ", b.Runs)
		switch n := sw.overlapsBest(); n {
		case 0:
			o.printf("no other cell's range reaches into its own: every other cell is clearly slower")
		case 1:
			o.printf("1 other cell's range reaches into its own: that cell is not clearly slower")
		default:
			o.printf("the ranges of %d other cells reach into its own: those are not clearly slower", n)
		}
	}
	o.printf(".\n\n")
}

func (o *benchOut) adaptiveTable(f benchFlags, lines []adaptiveLine) {
	o.printf("## Adaptive engine against the best static cell\n\n")
	o.printf("`weir.Config{Adaptive: true}` and nothing else (default workers, batch size and load concurrency chosen by the controllers), against the best cell of the sweep (by median) re-measured here: %d alternating runs of each, every run reading for %v from an endless source (the adaptive run's start, before its controllers settle, is included). Records/s are medians with the slowest and fastest run in brackets, [min..max]; the ratio is of the medians. The sweep's own figure for the best cell is the highest of many noisy medians and would flatter it. Target: adaptive ≥ %.0f%% of the best static cell.\n\n",
		f.adaptiveRuns, f.adaptiveTime, adaptiveTarget*100)
	o.printf("| Sink | Best static cell | Its sweep figure (records/s) | Static, re-measured (records/s) | Adaptive (records/s) | Adaptive / static | Adaptive ended at (batch, workers, load limit) | Meets %.0f%%? |\n", adaptiveTarget*100)
	o.printf("|---|---|---:|---:|---:|---:|---|---|\n")
	for _, l := range lines {
		verdict := "yes"
		if l.adaptive.RatioToBest < adaptiveTarget {
			verdict = "**no**"
		}
		o.printf("| %s | %s | %s | %s | %s | %.0f%% | %d, %d, %d | %s |\n",
			l.sink, cellName(l.static.Batch, l.static.Workers), fmtRateRange(l.sweep), fmtRateRange(l.static),
			fmtRateRange(l.adaptive), 100*l.adaptive.RatioToBest,
			l.adaptive.Batch, l.adaptive.Workers, l.adaptive.LoadLimit, verdict)
	}
	o.printf("\n")
}

// fmtRateRange writes a row's records/s as "median [min..max]", or as the
// one figure for a single run: "4.13M [3.90M..4.41M]".
func fmtRateRange(row benchRow) string {
	if row.Runs < 2 {
		return fmtRate(row.RecordsPerSec)
	}
	return fmt.Sprintf("%s [%s..%s]", fmtRate(row.RecordsPerSec), fmtRate(row.RecordsPerSecMin), fmtRate(row.RecordsPerSecMax))
}

// cellName names a static configuration: "batch 128 × 4 workers".
func cellName(batch, workers int) string {
	return fmt.Sprintf("batch %d × %s", batch, workersLabel(workers))
}

// workersLabel writes a worker count: "1 worker", "4 workers".
func workersLabel(workers int) string {
	if workers == 1 {
		return "1 worker"
	}
	return fmt.Sprintf("%d workers", workers)
}

// machineLine describes where the bench ran.
func machineLine(load string) string {
	cpu := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = ", " + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs (GOMAXPROCS %d)%s, %s; load average %s at the start.",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), cpu, runtime.Version(), load)
}

// loadAverage returns the 1-, 5- and 15-minute load averages, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if fields := strings.Fields(string(b)); err == nil && len(fields) >= 3 {
		return strings.Join(fields[:3], " ")
	}
	return "unknown"
}

// fmtRate writes r with three significant digits and a K or M suffix. The
// thresholds sit where rounding carries into a fourth digit, so that
// 999,600 is "1.00M", not "1000K".
func fmtRate(r float64) string {
	unit := ""
	switch {
	case r == 0:
		return "0"
	case r >= 999_500:
		r, unit = r/1e6, "M"
	case r >= 999.5:
		r, unit = r/1e3, "K"
	}
	switch {
	case r >= 99.95:
		return fmt.Sprintf("%.0f%s", r, unit)
	case r >= 9.995:
		return fmt.Sprintf("%.1f%s", r, unit)
	}
	return fmt.Sprintf("%.2f%s", r, unit)
}

func fmtBytes(b uint64) string {
	switch {
	case b == 0:
		return "–"
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
}

func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// groupDigits writes n with commas between groups of three digits.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
