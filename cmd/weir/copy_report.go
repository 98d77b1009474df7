package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/file"
)

// rejects is the reject file: the dead-letter sink of --on-error skip,
// which also enforces --max-errors.
type rejects struct {
	path  string
	sink  weir.Sink[weir.Failure]
	max   int64
	count atomic.Int64
}

func openRejects(path string, maxErrors int64) (*rejects, error) {
	s, err := file.CreateDeadLetter(path)
	if err != nil {
		return nil, err
	}
	return &rejects{path: path, sink: s, max: maxErrors}, nil
}

// Write records fs and fails, stopping the run, once more than max
// records were rejected.
func (r *rejects) Write(ctx context.Context, fs []weir.Failure) error {
	if err := r.sink.Write(ctx, fs); err != nil {
		return err
	}
	if n := r.count.Add(int64(len(fs))); r.max > 0 && n > r.max {
		return fmt.Errorf("%d records rejected, more than --max-errors %d (see %s)", n, r.max, r.path)
	}
	return nil
}

// Close closes the file.
func (r *rejects) Close(ctx context.Context) error {
	if c, ok := r.sink.(weir.Closer); ok {
		return c.Close(ctx)
	}
	return nil
}

// defaultRejectPath puts the reject file next to a file target, or in the
// working directory named after the table.
func defaultRejectPath(spec string, tgt *copyTarget) string {
	if tgt.isFile {
		return strings.TrimSuffix(spec, filepath.Ext(spec)) + ".rejects.jsonl"
	}
	return strings.NewReplacer("/", "_", `\`, "_", ".", "_").Replace(tgt.table) + ".rejects.jsonl"
}

// copyReport prints what the run did and which stage held it back.
func copyReport(w io.Writer, st weir.Stats, rows int64, dl *rejects) {
	secs := st.Elapsed.Seconds()
	fmt.Fprintf(w, "\nread %d records, loaded %d rows in %.2fs: %.0f rows/s\n",
		st.Extract.Records, rows, secs, float64(rows)/max(secs, 1e-9))
	if dl != nil {
		if n := dl.count.Load(); n > 0 {
			fmt.Fprintf(w, "rejected %d records: see %s\n", n, dl.path)
		}
	}
	stageTable(w, st)
}

// stageTable prints each stage's busy time and batch latencies, and the
// bottleneck with what to do about it.
func stageTable(w io.Writer, st weir.Stats) {
	fmt.Fprintf(w, "\n%-10s %6s %8s %10s %10s %10s\n", "stage", "busy", "batches", "p50", "p95", "p99")
	for _, s := range []struct {
		name string
		s    weir.StageStats
	}{{"extract", st.Extract}, {"transform", st.Transform}, {"load", st.Load}} {
		fmt.Fprintf(w, "%-10s %5.0f%% %8d %10s %10s %10s\n", s.name, 100*s.s.Utilization(st.Elapsed), s.s.Batches,
			round(s.s.Latency.P50), round(s.s.Latency.P95), round(s.s.Latency.P99))
	}
	fmt.Fprintf(w, "\nbottleneck: %s\n", advice(st.Bottleneck()))
}

// checkCopy proves the counts after a successful run: the target gained
// exactly the rows loaded, and every record read was loaded or rejected.
// With --verify it also counts the source again.
func checkCopy(ctx context.Context, w io.Writer, f copyFlags, src *copySource, tgt *copyTarget, plan *copyPlan, st weir.Stats, rows int64) error {
	rejected := st.DeadLettered()
	if st.Load.Records+rejected+st.Filtered() != st.Extract.Records {
		return fmt.Errorf("copy into %s: %d records read but %d loaded and %d rejected", tgt, st.Extract.Records, st.Load.Records, rejected)
	}
	if tgt.isFile {
		fmt.Fprintf(w, "checked: %d records read = %d written + %d rejected\n", st.Extract.Records, rows, rejected)
		return nil
	}
	after, err := tgt.count(ctx, tgt.table)
	if err != nil {
		return fmt.Errorf("count the rows of %s: %w", tgt, err)
	}
	// An upsert may replace rows rather than add them, and a resumed run
	// adds to an earlier one's: then only the source's count below says
	// whether everything arrived.
	if plan.conflict == 0 && !f.resume && after-plan.rowsBefore != rows {
		return fmt.Errorf("copy into %s: the table gained %d rows but %d were loaded", tgt, after-plan.rowsBefore, rows)
	}
	fmt.Fprintf(w, "checked: %d records read = %d loaded + %d rejected; %s holds %d rows\n",
		st.Extract.Records, st.Load.Records, rejected, tgt, after)
	if !f.verify {
		return nil
	}
	if src.count == nil {
		return usagef("--verify: %s cannot be read twice to count it", src.desc)
	}
	n, err := src.count(ctx)
	if err != nil {
		return fmt.Errorf("--verify: count %s: %w", src.desc, err)
	}
	if want := n - rejected + plan.rowsBefore; after != want && plan.conflict == 0 {
		return fmt.Errorf("verify %s: it holds %d rows, want %d (%d in the source, %d rejected, %d before)", tgt, after, want, n, rejected, plan.rowsBefore)
	}
	fmt.Fprintf(w, "verified: %s has %d records; %s holds %d rows\n", src.desc, n, tgt, after)
	return nil
}
