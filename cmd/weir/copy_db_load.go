package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/catalog"
	"github.com/weir-etl/weir/connect/postgres"
)

// tableResult is what the load did to one table, summed over its ranges.
type tableResult struct {
	mu                   sync.Mutex
	read, rejected       int64
	ranges, done         int
	first, last          time.Time
	sink                 *postgres.RowSink
	loadedAfter, counted int64 // the target's count after the load; --verify's count of the source
}

// loadJob is one range of one table: one engine run.
type loadJob struct {
	t *dbTable
	r catalog.Range
	i int // the range's index, for the metrics' pipeline label table/i
}

// sharedReject is the reject file of every run of a copy: each run closes
// its dead-letter sink, so this one leaves the closing to the copy.
type sharedReject struct{ *rejectSink }

func (sharedReject) Close(context.Context) error { return nil }

// copyRows copies the rows and builds the keys: every range of every table
// an engine run of its own into the table's RowSink (binary COPY), and
// each table's indexes, constraints, identities and foreign keys as soon
// as the tables they need are loaded (see steps), c.jobs steps at once,
// the biggest ranges first. A load failure cancels the others; a build
// failure lets the loads finish. It returns the runs' stats summed.
func (c *dbCopy) copyRows(ctx context.Context, stderr io.Writer, dl *rejectSink, plan postgres.BuildPlan, bt *buildTimes) (tot *runTotals, loadErr, buildErr error) {
	parents, selfRef, err := c.loadWaves(ctx)
	if err != nil {
		return nil, err, nil
	}
	var jobs []loadJob
	for _, t := range c.tables {
		ranges := []catalog.Range{{}}
		if !c.f.db.schemaOnly && !selfRef[t.Name] {
			// A table referencing itself loads in key order, in one range,
			// so that a parent row comes before its children.
			if ranges, err = c.src.Ranges(ctx, t.Table, c.jobs); err != nil {
				return nil, err, nil
			}
		}
		sink, err := postgres.NewRowSink(c.pool, postgres.RowSinkConfig{
			Table: connect.Table{Name: t.target, Columns: catalogNames(t.Columns)}})
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", t.target, err), nil
		}
		t.res.sink, t.res.ranges = sink, len(ranges)
		if c.f.db.schemaOnly {
			t.res.ranges = 0
			continue
		}
		for i, r := range ranges {
			jobs = append(jobs, loadJob{t, r, i})
		}
	}
	slices.SortStableFunc(jobs, func(a, b loadJob) int {
		return cmp.Compare(b.t.Rows/int64(b.t.res.ranges), a.t.Rows/int64(a.t.res.ranges))
	})
	prog := c.startProgress(stderr)
	defer prog.stop()
	tot = &runTotals{}
	load := func(ctx context.Context, j loadJob) error {
		st, err := c.loadRange(ctx, j, dl)
		tot.add(st)
		if err != nil {
			return fmt.Errorf("load table %s: %w", j.t.Name, err)
		}
		return nil
	}
	loadErr, buildErr = runSteps(ctx, c.jobs, c.steps(jobs, plan, parents, load, bt.timed(c.pool)))
	return tot, loadErr, buildErr
}

// loadRange runs the engine over one range.
func (c *dbCopy) loadRange(ctx context.Context, j loadJob, dl *rejectSink) (weir.Stats, error) {
	res := j.t.res
	res.mu.Lock()
	if res.first.IsZero() {
		res.first = time.Now()
	}
	res.mu.Unlock()
	rd, err := c.src.Open(ctx, j.t.Table, j.r)
	if err != nil {
		return weir.Stats{}, err
	}
	cfg := weir.Config{BatchSize: c.f.batch, Workers: 1, LoadConcurrency: max(c.f.loadConcurrency, 1),
		Retry: weir.RetryPolicy{MaxAttempts: 10, InitialBackoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxElapsed: 2 * time.Minute}}
	c.f.reject.policy(&cfg)
	opts := []weir.Option{weir.WithRetryable(postgres.Retryable)}
	if dl != nil {
		opts = append(opts, weir.WithDeadLetter(sharedReject{dl}))
	}
	p, err := weir.New[connect.Row, connect.Row](rd, weir.Identity[connect.Row](), res.sink, cfg, opts...)
	if err != nil {
		rd.Close(ctx)
		return weir.Stats{}, err
	}
	c.ms.watch(fmt.Sprintf("%s/%d", j.t.target, j.i), p)
	runErr := p.Run(ctx)
	st := p.Stats()
	res.mu.Lock()
	res.read += st.Extract.Records + st.Extract.DeadLettered
	res.rejected += st.DeadLettered()
	res.done++
	res.last = time.Now()
	res.mu.Unlock()
	return st, runErr
}

func catalogNames(cols []catalog.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// check counts each loaded table in the target: it must have gained
// exactly the rows loaded. With --verify it also counts the source's
// tables again (countSource): each row is loaded or rejected.
func (c *dbCopy) check(ctx context.Context, w io.Writer) error {
	if c.f.db.schemaOnly {
		return nil
	}
	var bad []string
	for _, t := range c.tables {
		r := t.res
		if err := c.pool.QueryRow(ctx, "SELECT count(*) FROM "+pgName(t.target)).Scan(&r.loadedAfter); err != nil {
			return fmt.Errorf("count the rows of %s: %w", t.target, err)
		}
		if got := r.loadedAfter - t.rowsBefore; got != r.sink.Rows() {
			bad = append(bad, fmt.Sprintf("%s gained %d rows but %d were loaded", t.target, got, r.sink.Rows()))
		}
		if r.read != r.sink.Rows()+r.rejected {
			bad = append(bad, fmt.Sprintf("%s: %d rows read but %d loaded + %d rejected", t.Name, r.read, r.sink.Rows(), r.rejected))
		}
		if !c.f.verify {
			continue
		}
		n, err := c.countSource(ctx, t.Table)
		if err != nil {
			return fmt.Errorf("--verify: count %s: %w", t.Name, err)
		}
		r.counted = n
		if want := n - r.rejected + t.rowsBefore; r.loadedAfter != want {
			bad = append(bad, fmt.Sprintf("%s holds %d rows, want %d (%d in the source, %d rejected, %d before)", t.target, r.loadedAfter, want, n, r.rejected, t.rowsBefore))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("copy %s: the counts do not match: %s", c.srcURL, joinLines(bad))
	}
	if c.f.verify {
		fmt.Fprintf(w, "verified: every table of %s counted again; each target table holds its source rows less the rejected\n", c.srcURL)
	} else {
		fmt.Fprintf(w, "checked: every row read was loaded or rejected; each target table gained the rows loaded\n")
	}
	return nil
}

// countSource counts the rows of t in the source, the ones that do not
// fit their columns too: by the source's own count (catalog.Counter) when
// it has one, else by reading the whole table again.
func (c *dbCopy) countSource(ctx context.Context, t catalog.Table) (int64, error) {
	src := c.src
	if cl, ok := src.(closing); ok {
		src = cl.Source
	}
	if cn, ok := src.(catalog.Counter); ok {
		return cn.Count(ctx, t)
	}
	rd, err := c.src.Open(ctx, t, catalog.Range{})
	if err != nil {
		return 0, err
	}
	defer rd.Close(ctx)
	buf := make([]connect.Row, 4096)
	var n int64
	for {
		k, err := rd.Read(ctx, buf)
		n += int64(k)
		switch {
		case err == nil:
		case isEOF(err):
			return n, nil
		case badRecordErr(err):
			n++
		default:
			return n, err
		}
	}
}

// loadTime returns how long after start the last range was loaded.
func (c *dbCopy) loadTime(start time.Time) time.Duration {
	var last time.Time
	for _, t := range c.tables {
		t.res.mu.Lock()
		if t.res.last.After(last) {
			last = t.res.last
		}
		t.res.mu.Unlock()
	}
	if last.IsZero() {
		return 0
	}
	return last.Sub(start)
}
