package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// largeRun is the size from which a sample is a single measured run.
const largeRun = 100_000

// binaries are the two builds of this program a comparison runs: lean does
// not link Benthos, full does (the benthos tag).
type binaries struct {
	lean, full string
}

// orchestrate runs the comparison o describes, printing tables (or JSON) to
// stdout and progress to stderr.
func orchestrate(ctx context.Context, o options, stdout, stderr io.Writer) error {
	needFull := o.mode != "per-process" || contains(o.engines, "benthos")
	needLean := o.mode == "per-process" && (len(o.engines) > 1 || o.engines[0] != "benthos")
	bins, cleanup, err := buildBinaries(ctx, needLean, needFull, stderr)
	if err != nil {
		return err
	}
	defer cleanup()

	results := map[int][]sample{}
	loadBefore := loadAvg()
	start := time.Now()
	for _, n := range o.sizes {
		reps := 1
		if n < largeRun {
			reps = o.smallReps
		}
		var got []sample
		if o.mode == "all-in-one" {
			got, err = runChild(ctx, bins.full, o, o.engines, n, reps, o.rounds, -1, stderr)
		} else {
			for r := range o.rounds {
				for i := range o.engines {
					name := o.engines[(r+i)%len(o.engines)]
					bin := bins.lean
					if name == "benthos" || o.mode == "per-process-linked" {
						bin = bins.full
					}
					ss, err := runChild(ctx, bin, o, []string{name}, n, reps, 1, r, stderr)
					if err != nil {
						return err
					}
					got = append(got, ss...)
				}
			}
		}
		if err != nil {
			return err
		}
		results[n] = got
	}
	elapsed := time.Since(start)
	load := fmt.Sprintf("%s before, %s after", loadBefore, loadAvg())

	tables := make([]table, 0, len(o.sizes))
	for _, n := range o.sizes {
		tables = append(tables, summarize(n, o.engines, results[n]))
	}
	if o.json {
		return writeJSON(stdout, tables)
	}
	writeText(stdout, o, tables, elapsed, load)
	return nil
}

// runChild runs bin in child mode and returns the samples it printed. A
// round >= 0 numbers the samples of a one-round child.
func runChild(ctx context.Context, bin string, o options, names []string, records, reps, rounds, round int, stderr io.Writer) ([]sample, error) {
	args := []string{
		"-engine", strings.Join(names, ","), "-records", strconv.Itoa(records),
		"-reps", strconv.Itoa(reps), "-rounds", strconv.Itoa(rounds), "-benthos", tuning.String(),
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("child %s %s: %w", filepath.Base(bin), strings.Join(args, " "), err)
	}
	var ss []sample
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var s sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("child %s: bad sample %q: %w", strings.Join(names, ","), sc.Text(), err)
		}
		if round >= 0 {
			s.Round = round
		}
		if o.verbose {
			fmt.Fprintf(stderr, "  round %d  %-11s %9d records  %12.0f records/s  %8.1f ns/record  %.3f allocs/record  %8.1f CPU ns/record\n",
				s.Round, s.Engine, s.Records, s.RecordsPerSec, s.NsPerRecord, s.AllocsPerRecord, s.CPUNsPerRecord)
		}
		ss = append(ss, s)
	}
	if want := len(names) * rounds; len(ss) != want {
		return nil, fmt.Errorf("child %s printed %d samples, want %d", strings.Join(names, ","), len(ss), want)
	}
	return ss, nil
}

// buildBinaries returns the lean and full builds, building into a temporary
// directory whichever is needed and is not the running binary. cleanup
// removes that directory.
func buildBinaries(ctx context.Context, needLean, needFull bool, stderr io.Writer) (binaries, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return binaries{}, func() {}, fmt.Errorf("find own binary: %w", err)
	}
	var b binaries
	if benthosRun != nil {
		b.full = self
	} else {
		b.lean = self
	}
	if (!needLean || b.lean != "") && (!needFull || b.full != "") {
		return b, func() {}, nil
	}
	dir, err := moduleDir()
	if err != nil {
		return b, func() {}, err
	}
	tmp, err := os.MkdirTemp("", "weir-peers-")
	if err != nil {
		return b, func() {}, fmt.Errorf("temp dir: %w", err)
	}
	cleanup := func() { os.RemoveAll(tmp) }
	build := func(out string, tags ...string) error {
		args := append([]string{"build"}, tags...)
		args = append(args, "-o", out, ".")
		fmt.Fprintf(stderr, "building %s (go %s) ...\n", filepath.Base(out), strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = stderr, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	if needLean && b.lean == "" {
		b.lean = filepath.Join(tmp, "peers")
		if err := build(b.lean); err != nil {
			cleanup()
			return b, func() {}, err
		}
	}
	if needFull && b.full == "" {
		b.full = filepath.Join(tmp, "peers-benthos")
		if err := build(b.full, "-tags", "benthos"); err != nil {
			cleanup()
			return b, func() {}, err
		}
	}
	return b, cleanup, nil
}

// moduleDir finds this module's source: the directory of this file when it
// was compiled here, or else the working directory.
func moduleDir() (string, error) {
	const module = "module github.com/weir-etl/weir/bench/peers"
	var dirs []string
	if _, file, _, ok := runtime.Caller(0); ok {
		dirs = append(dirs, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, wd)
	}
	for _, d := range dirs {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.Contains(b, []byte(module)) {
			return d, nil
		}
	}
	return "", fmt.Errorf("cannot find the bench/peers module to build the other binary: run from bench/peers")
}

// row is one engine's line of a table.
type row struct {
	Engine          string  `json:"engine"`
	Records         int     `json:"records"`
	RecordsPerSec   float64 `json:"records_per_sec"`
	NsPerRecord     float64 `json:"ns_per_record"`
	AllocsPerRecord float64 `json:"allocs_per_record"`
	// The range of records/s over the rounds: the median alone hides how
	// much a busy machine moved it.
	RecordsPerSecMin float64 `json:"records_per_sec_min"`
	RecordsPerSecMax float64 `json:"records_per_sec_max"`

	// Ratios to weir: medians over the rounds of the per-round ratios, and
	// the range of the records/s ratio.
	rateRatio, nsRatio, allocRatio float64
	rateRatioMin, rateRatioMax     float64
	cpuNs                          float64 // median CPU ns per record
	meanRate                       float64 // median of the samples' all-runs records/s
	rounds                         int
}

// table is the result at one size.
type table struct {
	records int
	rows    []row
}

// summarize reduces the samples at one size to medians per engine.
func summarize(records int, engines []string, ss []sample) table {
	weirByRound := map[int]sample{}
	for _, s := range ss {
		if s.Engine == "weir" {
			weirByRound[s.Round] = s
		}
	}
	t := table{records: records}
	for _, e := range engines {
		var rates, allocs, cpus, means, rateR, allocR []float64
		for _, s := range ss {
			if s.Engine != e {
				continue
			}
			rates = append(rates, s.RecordsPerSec)
			allocs = append(allocs, s.AllocsPerRecord)
			cpus = append(cpus, s.CPUNsPerRecord)
			means = append(means, s.MeanRecordsPerSec)
			if w, ok := weirByRound[s.Round]; ok {
				rateR = append(rateR, s.RecordsPerSec/w.RecordsPerSec)
				if w.AllocsPerRecord > 0 {
					allocR = append(allocR, s.AllocsPerRecord/w.AllocsPerRecord)
				}
			}
		}
		rate := median(rates) // median sorts: the ends are the range
		rr := median(rateR)
		t.rows = append(t.rows, row{
			Engine: e, Records: records,
			RecordsPerSec: rate, NsPerRecord: 1e9 / rate, AllocsPerRecord: median(allocs),
			RecordsPerSecMin: first(rates), RecordsPerSecMax: last(rates),
			rateRatio: rr, nsRatio: 1 / rr, rateRatioMin: first(rateR), rateRatioMax: last(rateR), allocRatio: median(allocR), cpuNs: median(cpus), meanRate: median(means), rounds: len(rates),
		})
	}
	return t
}

// first and last return the ends of a sorted slice, or 0 when it is empty.
func first(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return xs[0]
}

func last(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return xs[len(xs)-1]
}

func (t table) find(engine string) (row, bool) {
	for _, r := range t.rows {
		if r.Engine == engine {
			return r, true
		}
	}
	return row{}, false
}

func writeJSON(w io.Writer, tables []table) error {
	rows := []row{}
	for _, t := range tables {
		rows = append(rows, t.rows...)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rows); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

func writeText(w io.Writer, o options, tables []table, elapsed time.Duration, load string) {
	fmt.Fprintf(w, "weir peer comparison: slim users, batch %d, %d workers, %s\n", batchSize, workers, modeText(o.mode))
	fmt.Fprintf(w, "machine: %d CPUs (GOMAXPROCS %d), %s, %s %s/%s; %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0),
		cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH, time.Now().Format("2006-01-02 15:04 MST"))
	if contains(o.engines, "benthos") {
		fmt.Fprintf(w, "benthos: %s\n", tuning)
	}
	for _, t := range tables {
		how := "one measured run per sample, after a 5,000-record warm-up"
		if t.records < largeRun {
			how = fmt.Sprintf("each sample the median of %d runs in one process, after a warm-up run", o.smallReps)
		}
		fmt.Fprintf(w, "\n%s records: median of %d alternating rounds (%s)\n", commas(float64(t.records)), o.rounds, how)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		many := t.records < largeRun
		head := "engine\trecords/s\t[min..max]\t×weir\t[min..max]\tns/record\t×weir\tallocs/record\t×weir\tCPU ns/record\t"
		if many {
			head += "all-runs records/s\t"
		}
		fmt.Fprintln(tw, head)
		for _, r := range t.rows {
			fmt.Fprintf(tw, "%s\t%s\t[%s..%s]\t%.2f\t[%.2f..%.2f]\t%.1f\t%.2f\t%.3f\t%.2f\t%.1f\t", r.Engine, commas(r.RecordsPerSec),
				commas(r.RecordsPerSecMin), commas(r.RecordsPerSecMax), r.rateRatio, r.rateRatioMin, r.rateRatioMax, r.NsPerRecord, r.nsRatio, r.AllocsPerRecord, r.allocRatio, r.cpuNs)
			if many {
				fmt.Fprintf(tw, "%s\t", commas(r.meanRate))
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\ntargets (ratios are weir's records/s over the peer's, median of per-round ratios):")
	for _, t := range tables {
		for _, c := range targets(t) {
			fmt.Fprintln(w, "  "+c)
		}
	}
	fmt.Fprintf(w, "\nmeasuring took %s; load average (1 min) %s\n", elapsed.Round(time.Second), load)
}

func modeText(mode string) string {
	switch mode {
	case "all-in-one":
		return "all-in-one (every run in one process of a binary that links Benthos)"
	case "per-process-linked":
		return "per-process-linked (every sample in a fresh process of a binary that links Benthos)"
	}
	return "per-process (every sample in a fresh process; only benthos's binary links Benthos)"
}

// targets checks the targets at one size.
func targets(t table) []string {
	var out []string
	size := commas(float64(t.records))
	w, ok := t.find("weir")
	if !ok {
		return nil
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	for _, c := range []struct {
		peer string
		min  float64
	}{{"handwritten", 0.8}, {"benthos", 5}, {"rill", 2}} {
		if p, ok := t.find(c.peer); ok && p.rateRatio > 0 {
			got := 1 / p.rateRatio
			out = append(out, fmt.Sprintf("%s: weir = %.2f× %s (target ≥ %g×): %s", size, got, c.peer, c.min, verdict(got >= c.min)))
		}
	}
	if h, ok := t.find("handwritten"); ok {
		d := w.AllocsPerRecord - h.AllocsPerRecord
		out = append(out, fmt.Sprintf("%s: weir allocs/record − handwritten = %+.3f (target ≤ +0.05): %s", size, d, verdict(d <= 0.05)))
	}
	if t.records == 5000 {
		out = append(out, fmt.Sprintf("%s: weir %s records/s (target ≥ 2,200,000): %s", size, commas(w.RecordsPerSec), verdict(w.RecordsPerSec >= 2.2e6)))
	}
	return out
}

// loadAvg returns the 1-minute load average, or "?" where it is unknown:
// other processes taking the cores move every wall-clock figure.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// commas formats x rounded to an integer with thousands separators.
func commas(x float64) string {
	s := strconv.FormatInt(int64(x+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
