// weir tune's trials: weir copy's or weir run's own code, with a cell's
// settings, from the sample into the scratch destination.

package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

// runTrialFunc builds the job for cell c reading src, prepares the
// scratch tables and runs it, calling started just before the run.
type runTrialFunc func(ctx context.Context, c tuneCell, src *copySource, started func()) (weir.Stats, error)

// tuneTrial is one measured run.
type tuneTrial struct {
	cell  tuneCell
	phase string // quick, final, grid or check
	st    weir.Stats
}

// rate is the trial's records per second: the records read, over the
// run's elapsed time.
func (t tuneTrial) rate() float64 {
	return float64(t.st.Extract.Records+t.st.Extract.DeadLettered) / max(t.st.Elapsed.Seconds(), 1e-9)
}

// tuner runs trials one at a time and keeps them, printing a line for each.
type tuner struct {
	sample *tuneSample
	run    runTrialFunc
	w      io.Writer
	phase  string // the label of full trials
	trials []tuneTrial
	// started, when set, is called as each trial's pipeline starts (tests
	// cancel there, as a Ctrl-C would).
	started func()
}

// measure is the search's measureFunc.
func (t *tuner) measure(ctx context.Context, c tuneCell, quick bool) (float64, error) {
	src, err := t.sample.source(quick)
	if err != nil {
		return 0, err
	}
	phase := t.phase
	if quick {
		phase = "quick"
	}
	st, err := t.run(ctx, c, src, func() {
		if t.started != nil {
			t.started()
		}
	})
	if err != nil {
		return 0, fmt.Errorf("tune: trial %d (%s): %w", len(t.trials)+1, c, err)
	}
	tr := tuneTrial{cell: c, phase: phase, st: st}
	t.trials = append(t.trials, tr)
	if len(t.trials) == 1 {
		trialHeader(t.w)
	}
	trialLine(t.w, len(t.trials), tr)
	return tr.rate(), nil
}

// runTrial runs p, stopping it after d when d > 0 (--time): a run stopped
// so is a finished trial.
func runTrial(ctx context.Context, p *weir.Pipeline[connect.Row, connect.Row], d time.Duration, started func()) (weir.Stats, error) {
	started()
	if d > 0 {
		t := time.AfterFunc(d, p.Stop)
		defer t.Stop()
	}
	err := p.Run(ctx)
	if d > 0 && errors.Is(err, weir.ErrStopped) && ctx.Err() == nil {
		err = nil
	}
	return p.Stats(), err
}

// copyTrials runs weir copy's code (prepareCopy) into tgt, the scratch
// target, with f's flags but the cell's settings: the table is replaced
// each time, rejects go to dir.
func copyTrials(f copyFlags, tgt *copyTarget, dir string, d time.Duration) runTrialFunc {
	return func(ctx context.Context, c tuneCell, src *copySource, started func()) (weir.Stats, error) {
		g := f
		g.batch, g.workers, g.loadConcurrency = c.Batch, c.Workers, c.Loaders
		g.ifExists, g.resume, g.verify, g.progress = "replace", false, false, "off"
		if g.reject.skip() {
			g.reject.path, g.reject.append = filepath.Join(dir, "rejects.jsonl"), false
		}
		if err := freshScratch(ctx, tgt, []string{cmp.Or(tgt.table, src.table)}); err != nil {
			return weir.Stats{}, err
		}
		r, err := prepareCopy(ctx, io.Discard, g, src, tgt)
		if err != nil {
			return weir.Stats{}, err
		}
		if r.dl != nil {
			defer r.dl.Close(context.WithoutCancel(ctx))
		}
		return runTrial(ctx, r.p, d, started)
	}
}

// jobTrials runs weir run's code (jobRun.prepare) for the job r0 opened
// against the scratch target, with the cell's settings: the tables are
// replaced each time, rejects go to dir.
func jobTrials(r0 *jobRun, file, dir string, d time.Duration) runTrialFunc {
	return func(ctx context.Context, c tuneCell, src *copySource, started func()) (weir.Stats, error) {
		j := *r0.job
		j.Options.Batch, j.Options.Workers, j.Options.LoadConcurrency = c.Batch, c.Workers, c.Loaders
		j.Options.IfExists = "replace"
		if j.Options.Reject != "" {
			j.Options.Reject = filepath.Join(dir, "rejects.jsonl")
		}
		prog, err := j.Compile(src.names)
		if err != nil {
			return weir.Stats{}, &usageError{err}
		}
		r := &jobRun{job: &j, prog: prog, src: src, tgt: r0.tgt}
		if err := r.lookUpTables(ctx); err != nil {
			return weir.Stats{}, err
		}
		p, _, dl, err := r.prepare(ctx, io.Discard, runFlags{file: file})
		if err != nil {
			return weir.Stats{}, err
		}
		if dl != nil {
			defer dl.Close(context.WithoutCancel(ctx))
		}
		return runTrial(ctx, p, d, started)
	}
}

// freshScratch drops the trial's tables from the scratch database and
// compacts it, outside the timed run, so that every trial starts from the
// same file: into SQLite, trials late in a search ran up to a third
// slower than the same cell early on (the file and its WAL grown by the
// trials before), which ranked small batches below their worth.
func freshScratch(ctx context.Context, tgt *copyTarget, tables []string) error {
	if tgt.compact == nil {
		return nil
	}
	for _, t := range tables {
		if _, exists, err := tgt.columns(ctx, t); err != nil {
			return err
		} else if exists {
			if err := tgt.drop(ctx, t); err != nil {
				return err
			}
		}
	}
	return tgt.compact(ctx)
}
