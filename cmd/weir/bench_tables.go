// Building the report's tables: which cells each table measures, in what
// order, and the rows it gets.

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// seedConfig is one configuration of the seed's table, with what the seed
// published for it (a Rust engine on the seed author's machine).
type seedConfig struct {
	batch, workers int
	label          string
	// slimRef and fatRef are the seed's figures for the slim and fat
	// records; "" where the seed gave none.
	slimRef, fatRef string
}

var seedConfigs = []seedConfig{
	{500, 8, "500 × 8 (seed's original)", "", "39K/s (5,000 records in 128 ms, ~250 MB)"},
	{64, 3, "64 × 3", "95K/s", ""},
	{128, 4, "128 × 4 (seed's optimum)", "110K/s (111K/s: 5,000 records in 45 ms, ~20 MB)", ""},
	{100, 4, "100 × 4 (seed's \"start with defaults\")", "", ""},
}

// runBenchTables measures the tables f asks for, cell by cell through r,
// and writes the report to stdout.
func runBenchTables(ctx context.Context, f benchFlags, r *benchRunner, stdout io.Writer) error {
	start := time.Now()
	loadStart := loadAverage()
	if f.has(tableConfig) {
		r.total += (len(f.records) + len(f.fatRecords)) * len(seedConfigs)
	}
	if f.has(tableSweep) {
		r.total += len(f.sinks) * len(f.batches) * len(f.workers) * f.sweepRuns
	}
	if f.has(tableAdaptive) {
		r.total += len(f.sinks) * 2 * f.adaptiveRuns
	}

	out := &benchOut{w: stdout, json: f.json}
	out.printf("# weir bench\n\n%s\n\n", machineLine(loadStart))
	if r.child != nil {
		out.printf("Each cell ran in a child process of its own: its peak RSS is the child's high-water mark (VmHWM), Go runtime included.\n\n")
	} else {
		out.printf("Every cell ran in this one process (--in-process): peak RSS is the process's high-water mark during the cell, reset before it through /proc/self/clear_refs (blank where that is not possible), and includes whatever the process held already.\n\n")
	}

	if f.has(tableConfig) {
		for _, shape := range []string{"slim", "fat"} {
			counts := f.records
			if shape == "fat" {
				counts = f.fatRecords
			}
			var rows []benchRow
			var refs []string
			for _, n := range counts {
				for _, sc := range seedConfigs {
					c := benchCell{Table: tableConfig, Workload: shape, Sink: "sum", Batch: sc.batch, Workers: sc.workers,
						Records: n, Runs: f.runs, Seed: f.seed}
					res, err := r.run(ctx, c)
					if err != nil {
						return err
					}
					rows = append(rows, newBenchRow(c, res))
					refs = append(refs, map[string]string{"slim": sc.slimRef, "fat": sc.fatRef}[shape])
				}
			}
			out.rows = append(out.rows, rows...)
			out.configTable(shape, f.runs, rows, refs, r.idleRSS)
		}
	}

	var sweeps []benchSweep
	if f.has(tableSweep) {
		out.printf("## Sweep: batch size × workers, slim records\n\n")
		out.printf("Slim records through `TransformSlim` into each sink, %s. A run reads %s; its rate is over the records it loaded (the records of a cell stopped early are in the JSON output). Cells with a run stopped by the cap are marked †. %s\n\n",
			sweepRunsPhrase(f.sweepRuns), capPhrase(f.cellTime), sweepBestPhrase(f.sweepRuns))
		for si, sink := range f.sinks {
			sw, err := measureSweep(ctx, f, r, si, sink)
			if err != nil {
				return err
			}
			out.rows = append(out.rows, sw.rows...)
			out.sweepTable(f, sw)
			sweeps = append(sweeps, sw)
		}
		if f.chart != "" {
			if err := writeBenchChart(f.chart, sweeps, f.workers); err != nil {
				return err
			}
			fmt.Fprintf(r.stderr, "weir bench: chart written to %s\n", f.chart)
			out.printf("Chart: `%s`.\n\n", f.chart)
		}
	}

	if f.has(tableAdaptive) {
		var lines []adaptiveLine
		for _, sw := range sweeps {
			best := sw.rows[sw.best]
			static := f.sweepCell(sw.sink)
			static.Table, static.Batch, static.Workers = tableAdaptive, best.Batch, best.Workers
			static.Records, static.TimeCap = 0, f.adaptiveTime
			adaptive := static
			adaptive.Adaptive, adaptive.Batch, adaptive.Workers = true, 0, 0
			var sres, ares []cellResult
			for i := range f.adaptiveRuns {
				// Alternate which goes first, so that a drift in the
				// machine's load favours neither.
				order := []*benchCell{&static, &adaptive}
				if i%2 == 1 {
					order[0], order[1] = order[1], order[0]
				}
				for _, c := range order {
					res, err := r.run(ctx, *c)
					if err != nil {
						return err
					}
					if c.Adaptive {
						ares = append(ares, res)
					} else {
						sres = append(sres, res)
					}
				}
			}
			l := adaptiveLine{sink: sw.sink, sweep: best,
				static: newBenchRow(static, aggregate(sres)), adaptive: newBenchRow(adaptive, aggregate(ares))}
			l.adaptive.RatioToBest = l.adaptive.RecordsPerSec / l.static.RecordsPerSec
			lines = append(lines, l)
			out.rows = append(out.rows, l.static, l.adaptive)
		}
		out.adaptiveTable(f, lines)
	}

	out.printf("Total time %s; load average %s at the start, %s at the end.\n", fmtDuration(time.Since(start)), loadStart, loadAverage())
	if f.json {
		out.writeJSON()
	}
	return out.err
}

// benchRow is one measured row of the report: an element of the --json
// array, and what the Markdown tables show.
type benchRow struct {
	Table     string  `json:"table"`
	Workload  string  `json:"workload"`
	Sink      string  `json:"sink"`
	Engine    string  `json:"engine"`
	Config    string  `json:"config"` // static or adaptive
	Batch     int     `json:"batch"`
	Workers   int     `json:"workers"`
	LoadLimit int     `json:"load_limit,omitempty"`
	Records   int64   `json:"records"`
	Seconds   float64 `json:"seconds"`
	// RecordsPerSec is the median run's; RecordsPerSecMin and Max are the
	// slowest and fastest run's (all three equal for one run).
	RecordsPerSec    float64 `json:"records_per_sec"`
	RecordsPerSecMin float64 `json:"records_per_sec_min"`
	RecordsPerSecMax float64 `json:"records_per_sec_max"`
	AllocsPerRecord  float64 `json:"allocs_per_record"`
	PeakHeapBytes    uint64  `json:"peak_heap_bytes"`
	PeakRSSBytes     uint64  `json:"peak_rss_bytes"`
	Best             bool    `json:"best"`
	Runs             int     `json:"runs"`
	TimeCapped       bool    `json:"time_capped,omitempty"`
	RatioToBest      float64 `json:"ratio_to_best,omitempty"`
}

func newBenchRow(c benchCell, r cellResult) benchRow {
	row := benchRow{
		Table: c.Table, Workload: c.Workload, Sink: c.Sink, Engine: "weir", Config: "static",
		Batch: r.Batch, Workers: r.Workers, LoadLimit: r.LoadLimit, Records: r.Records,
		Seconds: r.Seconds, RecordsPerSec: r.rate(), AllocsPerRecord: r.AllocsPerRecord,
		PeakHeapBytes: r.PeakHeap, PeakRSSBytes: r.PeakRSS, Runs: r.Runs, TimeCapped: r.Capped,
	}
	row.RecordsPerSecMin, row.RecordsPerSecMax = r.rateRange()
	if c.Adaptive {
		row.Config = "adaptive"
	}
	return row
}

// benchSweep is the sweep of one sink: rows in batch-major order, and the
// index of the best one.
type benchSweep struct {
	sink    string
	title   string // the chart panel's title, when not bench's own
	records int
	rows    []benchRow
	best    int
}

// measureSweep measures the sweep of sink, the si-th of f.sinks: f.sweepRuns
// rounds, each running every cell once in an order shuffled afresh, so that
// a change in the machine's load shows as noise spread over all cells
// rather than as a trend along an axis or as one unlucky cell.
func measureSweep(ctx context.Context, f benchFlags, r *benchRunner, si int, sink string) (benchSweep, error) {
	var cells []benchCell
	for _, b := range f.batches {
		for _, w := range f.workers {
			c := f.sweepCell(sink)
			c.Batch, c.Workers = b, w
			cells = append(cells, c)
		}
	}
	runs := make([][]cellResult, len(cells))
	shuffle := rand.New(rand.NewPCG(f.seed, uint64(si)))
	for range f.sweepRuns {
		for _, i := range shuffle.Perm(len(cells)) {
			res, err := r.run(ctx, cells[i])
			if err != nil {
				return benchSweep{}, err
			}
			runs[i] = append(runs[i], res)
		}
	}
	return newBenchSweep(sink, f.sinkRecords[sink], cells, runs), nil
}

// newBenchSweep builds the sweep of sink from the runs of each cell
// (runs[i] are those of cells[i]): a row per cell with its median rate and
// range. The best cell is the one with the highest median, not the one with
// the fastest single run, which a lucky moment of the machine decides as
// much as the configuration does; a tie goes to the earlier cell.
func newBenchSweep(sink string, records int, cells []benchCell, runs [][]cellResult) benchSweep {
	sw := benchSweep{sink: sink, records: records, rows: make([]benchRow, len(cells))}
	for i, c := range cells {
		sw.rows[i] = newBenchRow(c, aggregate(runs[i]))
		if sw.rows[i].RecordsPerSec > sw.rows[sw.best].RecordsPerSec {
			sw.best = i
		}
	}
	sw.rows[sw.best].Best = true
	return sw
}

// overlapsBest counts the other cells of sw whose range of rates reaches
// into the best cell's: cells not clearly slower than it.
func (sw benchSweep) overlapsBest() int {
	b, n := sw.rows[sw.best], 0
	for i, row := range sw.rows {
		if i != sw.best && row.RecordsPerSecMax >= b.RecordsPerSecMin {
			n++
		}
	}
	return n
}

// sweepCell is the cell of the sweep (or of the adaptive comparison) on
// sink, without its batch size and workers.
func (f benchFlags) sweepCell(sink string) benchCell {
	return benchCell{Table: tableSweep, Workload: "slim", Sink: sink, Records: f.sinkRecords[sink],
		TimeCap: f.cellTime, Runs: 1, Seed: f.seed, CPURounds: f.cpuRounds, IO: f.io}
}

// sweepRunsPhrase says, in the sweep's introduction, how its cells ran.
func sweepRunsPhrase(runs int) string {
	if runs == 1 {
		return "one run per cell, the cells of a sink in a shuffled order (so that a change in the machine's load shows as noise rather than as a trend along an axis)"
	}
	return fmt.Sprintf("%d runs per cell in %d rounds, each round running every cell of the sink once in a shuffled order of its own (so that a change in the machine's load shows as noise spread over all cells rather than as a trend along an axis)", runs, runs)
}

// sweepBestPhrase says, in the sweep's introduction, what a cell shows and
// how the best one is chosen.
func sweepBestPhrase(runs int) string {
	if runs == 1 {
		return "A cell shows its one run's records/s; the best cell of each sink, in bold, is that single noisy sample's (--sweep-runs 3 or more gives medians and ranges)."
	}
	return "A cell shows records/s as median [min..max] over its runs; the best cell of each sink, in bold, is the one with the highest median (a single lucky run does not make a cell best)."
}

// capPhrase says, in the sweep's introduction, how much a cell reads.
func capPhrase(d time.Duration) string {
	if d == 0 {
		return "all its records (no time cap)"
	}
	return fmt.Sprintf("the records given below, or stops reading after %v, whichever comes first (at batch size 1 the I/O-bound sink would otherwise need minutes per cell)", d)
}

// adaptiveLine is one sink's comparison of the adaptive engine with the
// best static cell: its row of the sweep, and the two re-measured.
type adaptiveLine struct {
	sink                    string
	sweep, static, adaptive benchRow
}
