package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weir-etl/weir/bench"
)

// tinyBench are flags that make every table of `weir bench` quick: a
// handful of records per cell, a 2 × 2 sweep, three runs each (so that
// every figure has a range).
var tinyBench = []string{
	"--records", "2000", "--fat-records", "8", "--runs", "3", "--sweep-runs", "3",
	"--batches", "8,64", "--workers", "1,2",
	"--memory-records", "3000", "--cpu-records", "2000", "--io-records", "400",
	"--cpu-rounds", "4", "--io-round-trip", "50us", "--io-per-record", "1us",
	"--adaptive-runs", "3", "--adaptive-time", "30ms", "--cell-time", "2s",
}

// benchRows runs `weir bench --json` with args and decodes its rows both
// as benchRow and as plain maps (to check the field names).
func benchRows(t *testing.T, args ...string) ([]benchRow, []map[string]any) {
	t.Helper()
	code, out, errOut := weirCmd(t, append([]string{"bench", "--json"}, args...)...)
	if code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut)
	}
	var rows []benchRow
	var raw []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("stdout is not a JSON array of rows: %v\n%s", err, out)
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "weir bench: [1/") {
		t.Errorf("no progress on stderr:\n%s", errOut)
	}
	return rows, raw
}

func TestBenchJSONHasEveryRow(t *testing.T) {
	rows, raw := benchRows(t, append([]string{"--in-process"}, tinyBench...)...)

	// 2 shapes × 1 count × 4 seed configurations, 3 sinks × 2 × 2 cells,
	// 3 sinks × (best static + adaptive).
	count := map[string]int{}
	for _, r := range rows {
		count[r.Table]++
	}
	if want := map[string]int{"config": 8, "sweep": 12, "adaptive": 6}; !equalCounts(count, want) {
		t.Fatalf("rows per table %v, want %v", count, want)
	}
	fields := []string{"table", "workload", "sink", "engine", "config", "batch", "workers", "records", "seconds",
		"records_per_sec", "records_per_sec_min", "records_per_sec_max", "runs", "allocs_per_record", "peak_heap_bytes", "peak_rss_bytes", "best"}
	for i, m := range raw {
		for _, f := range fields {
			if _, ok := m[f]; !ok {
				t.Errorf("row %d lacks %q: %v", i, f, m)
			}
		}
	}

	bestPerSink := map[string]int{}
	for _, r := range rows {
		if r.Engine != "weir" || r.RecordsPerSec <= 0 || r.Seconds <= 0 || r.Records <= 0 || r.PeakHeapBytes == 0 || r.AllocsPerRecord <= 0 {
			t.Errorf("implausible row %+v", r)
		}
		// Every figure is a median of 3 runs within their range.
		if r.Runs != 3 || r.RecordsPerSecMin <= 0 || r.RecordsPerSecMin > r.RecordsPerSec || r.RecordsPerSec > r.RecordsPerSecMax {
			t.Errorf("row %+v: want 3 runs and min <= median <= max", r)
		}
		if r.Best && (r.Table != "sweep" || r.Config != "static") {
			t.Errorf("best set outside the sweep's static cells: %+v", r)
		}
		switch r.Table {
		case "config":
			if r.Sink != "sum" || r.Config != "static" || r.TimeCapped {
				t.Errorf("config row %+v", r)
			}
			want := map[string]int64{"slim": 2000, "fat": 8}[r.Workload]
			if r.Records != want {
				t.Errorf("%s config row loaded %d records, want %d", r.Workload, r.Records, want)
			}
		case "sweep":
			if r.Workload != "slim" || !slices.Contains([]int{8, 64}, r.Batch) || !slices.Contains([]int{1, 2}, r.Workers) {
				t.Errorf("sweep row %+v", r)
			}
			if r.Best {
				bestPerSink[r.Sink]++
			}
		case "adaptive":
			if r.Config == "adaptive" && (r.RatioToBest <= 0 || r.Batch < 1 || r.LoadLimit < 1) {
				t.Errorf("adaptive row lacks its ratio or its settings: %+v", r)
			}
			if !r.TimeCapped {
				t.Errorf("adaptive comparison row not ended by --adaptive-time: %+v", r)
			}
		}
	}
	for _, sink := range []string{"memory", "cpu", "io"} {
		if bestPerSink[sink] != 1 {
			t.Errorf("sweep of %s has %d best cells, want 1", sink, bestPerSink[sink])
		}
	}
	// The best cell has the highest median of its sweep.
	for _, r := range rows {
		if r.Table != "sweep" || r.Best {
			continue
		}
		for _, b := range rows {
			if b.Table == "sweep" && b.Best && b.Sink == r.Sink && r.RecordsPerSec > b.RecordsPerSec {
				t.Errorf("%s: cell %d × %d (%.0f/s) beats the best one (%.0f/s)", r.Sink, r.Batch, r.Workers, r.RecordsPerSec, b.RecordsPerSec)
			}
		}
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestBenchMarkdownAndChart(t *testing.T) {
	chart := filepath.Join(t.TempDir(), "sweep.png")
	args := append([]string{"bench", "--in-process", "--chart", chart}, tinyBench...)
	code, out, errOut := weirCmd(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		"## The seed's configurations, slim records",
		"## The seed's configurations, fat records",
		"| 500 × 8 (seed's original) | 8 |",
		"| 64 × 3 | 2,000 |",
		"| 100 × 4 (seed's \"start with defaults\") | 2,000 |",
		"seed, Rust, their machine (not measured here)",
		"| 95K/s |", "39K/s", "110K/s",
		"### memory sink", "### cpu sink", "### io sink",
		"| Batch \\ workers | 1 | 2 |",
		"## Adaptive engine against the best static cell",
		"Meets 90%?",
		"load average",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// One bold (best) cell per sweep, and one row per batch size in each.
	if n := strings.Count(out, "**") / 2; n < 3 {
		t.Errorf("%d bold cells, want at least one per sweep (3)", n)
	}
	for _, sink := range []string{"memory", "cpu", "io"} {
		sec := out[strings.Index(out, "### "+sink+" sink"):]
		sec = sec[:strings.Index(sec, "Best: ")]
		if strings.Count(sec, "\n| 8 |") != 1 || strings.Count(sec, "\n| 64 |") != 1 || strings.Count(sec, "**") != 2 {
			t.Errorf("%s sweep table:\n%s", sink, sec)
		}
	}

	// Every figure of records/s is "median [min..max]": one in each
	// config row, one per sweep cell (2 per row), three in each adaptive
	// row (the sweep's figure, static and adaptive re-measured).
	var config, sweep, adaptive int
	for line := range strings.SplitSeq(out, "\n") {
		var want int
		switch {
		case slices.ContainsFunc(seedConfigs, func(sc seedConfig) bool { return strings.HasPrefix(line, "| "+sc.label+" |") }):
			want = 1
			config++
		case strings.HasPrefix(line, "| 8 |"), strings.HasPrefix(line, "| 64 |"):
			want = 2
			sweep++
		case slices.ContainsFunc([]string{"memory", "cpu", "io"}, func(s string) bool { return strings.HasPrefix(line, "| "+s+" | batch ") }):
			want = 3
			adaptive++
		default:
			continue
		}
		if got := len(rateRangeRE.FindAllString(line, -1)); got != want {
			t.Errorf("%d \"median [min..max]\" figures in %q, want %d", got, line, want)
		}
	}
	if config != 8 || sweep != 6 || adaptive != 3 {
		t.Errorf("%d config rows, %d sweep rows, %d adaptive rows; want 8, 6 and 3", config, sweep, adaptive)
	}
	if n := strings.Count(out, " records/s over 3 runs; "); n != 3 {
		t.Errorf("%d \"Best:\" lines give the runs, want 3", n)
	}

	f, err := os.Open(chart)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("chart is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 3*200 {
		t.Errorf("chart is %v, want room for three panels", b)
	}
}

// rateRangeRE matches a figure of records/s with its range, as fmtRate
// writes them: "4.13M [3.90M..4.41M]".
var rateRangeRE = regexp.MustCompile(`\d[\d.]*[KM]? \[\d[\d.]*[KM]?\.\.\d[\d.]*[KM]?\]`)

// TestBenchHelperProcess is not a test: it is the child process of
// TestBenchChildProcesses, measuring one cell as `weir bench --run-cell`
// does.
func TestBenchHelperProcess(t *testing.T) {
	if os.Getenv("WEIR_BENCH_HELPER") != "1" {
		t.Skip("helper process for TestBenchChildProcesses")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(run(append([]string{"bench", benchCellArg}, args...), os.Stdout, os.Stderr))
}

func TestBenchChildProcesses(t *testing.T) {
	child := func(ctx context.Context, spec string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBenchHelperProcess$", "--", spec)
		cmd.Env = append(os.Environ(), "WEIR_BENCH_HELPER=1")
		return cmd
	}
	var out, errOut bytes.Buffer
	err := runBench([]string{"--json", "--tables", "sweep", "--sinks", "memory", "--batches", "8,64", "--workers", "2",
		"--memory-records", "500"}, &out, &errOut, child)
	if err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, errOut.String())
	}
	var rows []benchRow
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	_, statusErr := os.Stat("/proc/self/status")
	for _, r := range rows {
		if r.Records != 500 || r.Workers != 2 {
			t.Errorf("row %+v: want 500 records with 2 workers", r)
		}
		// --sweep-runs defaults to 3: three children per cell, combined.
		if r.Runs != 3 || r.RecordsPerSecMin > r.RecordsPerSec || r.RecordsPerSec > r.RecordsPerSecMax {
			t.Errorf("row %+v: want the median of 3 runs within their range", r)
		}
		if statusErr == nil && r.PeakRSSBytes < r.PeakHeapBytes {
			t.Errorf("row %+v: the child's peak RSS is below its peak heap", r)
		}
	}

	// A child that fails is reported with its message.
	failing := func(ctx context.Context, spec string) *exec.Cmd {
		return child(ctx, strings.Replace(spec, `"sink":"cpu"`, `"sink":"nowhere"`, 1))
	}
	err = runBench([]string{"--tables", "sweep", "--sinks", "cpu", "--batches", "8", "--workers", "1", "--cpu-records", "10"}, &out, &errOut, failing)
	if err == nil || !strings.Contains(err.Error(), `unknown sink "nowhere"`) {
		t.Errorf("failing child: got %v", err)
	}
}

func TestBenchRunCell(t *testing.T) {
	spec := `{"table":"config","workload":"fat","sink":"sum","batch":4,"workers":2,"records":10,"runs":3,"seed":1}`
	code, out, errOut := weirCmd(t, "bench", benchCellArg, spec)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res cellResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if res.Records != 10 || res.Runs != 3 || res.Batch != 4 || res.Workers != 2 || res.Capped {
		t.Errorf("result %+v, want 3 runs of 10 records in batches of 4 on 2 workers", res)
	}
	// A fat record is some 340 allocations and 66 KB of heap.
	if res.AllocsPerRecord < 100 || res.PeakHeap < 10*50_000 {
		t.Errorf("result %+v: too few allocations or too small a heap for fat records", res)
	}
	if _, err := os.Stat("/proc/self/status"); err == nil && (res.PeakRSS < res.PeakHeap || res.IdleRSS == 0) {
		t.Errorf("result %+v: peak RSS below peak heap, or no idle RSS", res)
	}
	if code, _, _ := weirCmd(t, "bench", benchCellArg, "{"); code != exitUsage {
		t.Errorf("a cell that is not JSON: exit %d, want %d", code, exitUsage)
	}
	if code, _, errOut := weirCmd(t, "bench", benchCellArg, `{"workload":"tiny","sink":"sum","records":1,"runs":1}`); code != exitFailed || !strings.Contains(errOut, `unknown workload "tiny"`) {
		t.Errorf("unknown workload: exit %d, %q", code, errOut)
	}
}

func TestBenchTimeCap(t *testing.T) {
	// A million writes of one record, each waiting at least 10µs, cannot
	// finish within the 20ms cap: the run stops early, cleanly, and says
	// so.
	c := benchCell{Table: "sweep", Workload: "slim", Sink: "io", Batch: 1, Workers: 1, Records: 1_000_000,
		TimeCap: 20 * time.Millisecond, Runs: 1, Seed: 1, IO: bench.IOConfig{RoundTrip: 10 * time.Microsecond}}
	res, err := measureCell(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Capped || res.Records < 1 || res.Records >= 1_000_000 {
		t.Errorf("capped run: %+v", res)
	}
}

func TestBenchRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--records", "0"}, `--records: "0" is not a count`},
		{[]string{"--records", "5000,abc"}, `"abc" is not a count`},
		{[]string{"--fat-records", "-3"}, "--fat-records"},
		{[]string{"--batches", "0,8"}, "--batches"},
		{[]string{"--batches", "2M"}, "--batches"},
		{[]string{"--workers", "1,,2"}, "--workers"},
		{[]string{"--memory-records", "1,2"}, "takes one count"},
		{[]string{"--runs", "0"}, "--runs must be at least 1"},
		{[]string{"--sweep-runs", "0"}, "--sweep-runs must be at least 1"},
		{[]string{"--adaptive-runs", "0"}, "--adaptive-runs"},
		{[]string{"--adaptive-time", "0s"}, "--adaptive-time"},
		{[]string{"--cell-time", "-1s"}, "--cell-time"},
		{[]string{"--cpu-rounds", "0"}, "--cpu-rounds"},
		{[]string{"--io-round-trip", "0s"}, "--io-round-trip"},
		{[]string{"--io-limit", "0"}, "--io-limit"},
		{[]string{"--sinks", "memory,disk"}, `"disk" is not one of memory, cpu, io`},
		{[]string{"--tables", "adaptive"}, "needs sweep"},
		{[]string{"--tables", "config", "--chart", "x.png"}, "--chart draws the sweep"},
		{[]string{"--chart", "x.svg"}, "must name a .png file"},
		{[]string{"--no-such-flag"}, "not defined"},
		{[]string{"extra"}, "takes no arguments"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := weirCmd(t, append([]string{"bench"}, tc.args...)...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr %q", code, exitUsage, errOut)
			}
			last := strings.TrimSpace(errOut)
			if i := strings.LastIndex(last, "\n"); i >= 0 {
				last = last[i+1:] // flag's own errors come after the usage text
			}
			if !strings.HasPrefix(last, "weir: ") || !strings.Contains(last, tc.want) {
				t.Errorf("stderr's last line %q, want \"weir: ...%s...\"", last, tc.want)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
		})
	}
}
