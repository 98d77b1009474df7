package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/weir-etl/weir"
)

// runTotals sums the stats of a copy's engine runs: busy times, batches
// and records add up, and so do the runs' elapsed times, so that each
// stage's utilization is its average over the runs, weighted by time.
type runTotals struct {
	mu sync.Mutex
	st weir.Stats
}

func (t *runTotals) add(s weir.Stats) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.st.Elapsed += s.Elapsed
	for _, p := range []struct {
		sum *weir.StageStats
		s   weir.StageStats
	}{
		{&t.st.Extract, s.Extract}, {&t.st.Transform, s.Transform}, {&t.st.Load, s.Load}} {
		p.sum.In += p.s.In
		p.sum.Records += p.s.Records
		p.sum.Batches += p.s.Batches
		p.sum.DeadLettered += p.s.DeadLettered
		if p.s.Latency.Count > p.sum.Latency.Count { // the latencies of the run that timed the most batches
			p.sum.Latency = p.s.Latency
		}
		p.sum.Busy += p.s.Busy
		p.sum.Goroutines = max(p.sum.Goroutines, p.s.Goroutines)
	}
}

// report prints the totals and weir's own line: which stage held the
// runs back.
func (t *runTotals) report(w io.Writer, load, total time.Duration, rf *rejectFlags) {
	st := t.st
	rows := st.Load.Records
	fmt.Fprintf(w, "\nread %d rows, loaded %d in %.2fs (%.0f rows/s; %.2fs with keys and indexes: %.0f rows/s)\n",
		st.Extract.Records+st.Extract.DeadLettered, rows, load.Seconds(), float64(rows)/max(load.Seconds(), 1e-9),
		total.Seconds(), float64(rows)/max(total.Seconds(), 1e-9))
	if rf.skip() {
		reportRejects(w, st, rf.path)
	}
	fmt.Fprintf(w, "stages busy (average over the runs): extract %.0f%%, transform %.0f%%, load %.0f%%\n",
		100*st.Extract.Utilization(st.Elapsed), 100*st.Transform.Utilization(st.Elapsed), 100*st.Load.Utilization(st.Elapsed))
	fmt.Fprint(w, diagnose(st, runtime.GOMAXPROCS(0)))
}

// tableReport prints pgloader's kind of summary: per table the rows read,
// loaded and rejected, the time from its first range's start to its last
// one's end, and the source's notes.
func (c *dbCopy) tableReport(w io.Writer) {
	notes := map[string][]string{}
	for _, n := range c.src.Notes() {
		s := n.What
		if n.Column != "" {
			s = n.Column + ": " + s
		}
		if n.Count > 1 {
			s = fmt.Sprintf("%s (%d)", s, n.Count)
		}
		notes[n.Table] = append(notes[n.Table], s)
	}
	width := len("table")
	for _, t := range c.tables {
		width = max(width, len(t.Name))
	}
	fmt.Fprintf(w, "\n%-*s %12s %12s %9s %9s  %s\n", width, "table", "read", "loaded", "rejected", "time", "notes")
	for _, t := range c.tables {
		r := t.res
		r.mu.Lock()
		var loaded int64
		if r.sink != nil {
			loaded = r.sink.Rows()
		}
		secs := 0.0
		if !r.last.IsZero() {
			secs = r.last.Sub(r.first).Seconds()
		}
		state := strings.Join(notes[t.Name], "; ")
		if r.done < r.ranges {
			state = strings.TrimPrefix(state+fmt.Sprintf("; not finished (%d of %d ranges)", r.done, r.ranges), "; ")
		}
		fmt.Fprintf(w, "%-*s %12d %12d %9d %8.2fs  %s\n", width, t.Name, r.read, loaded, r.rejected, secs, state)
		r.mu.Unlock()
	}
}

// dbProgress prints a line on stderr every few seconds while a copy
// loads: tables done, rows loaded, rate. Its goroutine ends in stop.
type dbProgress struct {
	done chan struct{}
	wg   sync.WaitGroup
}

func (c *dbCopy) startProgress(w io.Writer) *dbProgress {
	p := &dbProgress{}
	if c.f.progress == "off" {
		return p
	}
	p.done = make(chan struct{})
	start := time.Now()
	p.wg.Go(func() {
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-tick.C:
				done, rows := 0, int64(0)
				for _, t := range c.tables {
					t.res.mu.Lock()
					if t.res.done == t.res.ranges {
						done++
					}
					t.res.mu.Unlock()
					rows += t.res.sink.Rows()
				}
				fmt.Fprintf(w, "progress: %d/%d tables done, %d rows loaded, %.0f rows/s\n",
					done, len(c.tables), rows, float64(rows)/time.Since(start).Seconds())
			}
		}
	})
	return p
}

func (p *dbProgress) stop() {
	if p.done != nil {
		close(p.done)
		p.wg.Wait()
	}
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }

func badRecordErr(err error) bool {
	var bad *weir.BadRecordError
	return errors.As(err, &bad)
}

func joinLines(s []string) string { return "\n  " + strings.Join(s, "\n  ") }
