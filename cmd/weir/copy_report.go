package main

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/weir-etl/weir"
)

// copyReport prints what the run did and which stage held it back.
func copyReport(w io.Writer, st weir.Stats, rows int64, rf *rejectFlags) {
	secs := st.Elapsed.Seconds()
	fmt.Fprintf(w, "\nread %d records, loaded %d rows in %.2fs: %.0f rows/s\n",
		st.Extract.Records+st.Extract.DeadLettered, rows, secs, float64(rows)/max(secs, 1e-9))
	if rf.skip() {
		reportRejects(w, st, rf.path)
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
	fmt.Fprint(w, "\n"+memoryReport(st)+diagnose(st, runtime.GOMAXPROCS(0)))
}

// checkCopy proves the counts after a successful run: the target gained
// exactly the rows loaded, and every record read was loaded or rejected.
// With --verify it also counts the source again.
func checkCopy(ctx context.Context, w io.Writer, f copyFlags, src *copySource, tgt *copyTarget, plan *copyPlan, st weir.Stats, rows int64) error {
	rejected := st.DeadLettered()
	read := st.Extract.Records + st.Extract.DeadLettered
	if err := st.CheckAccounting(); err != nil {
		return fmt.Errorf("copy into %s: %w", tgt, err)
	}
	if tgt.isFile {
		fmt.Fprintf(w, "checked: %d records read = %d written + %d rejected\n", read, rows, rejected)
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
		read, st.Load.Records, rejected, tgt, after)
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
