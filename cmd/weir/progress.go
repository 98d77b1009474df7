package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/weir-etl/weir"
)

// progress shows a running migration: a bar on a terminal, a log line
// every few seconds otherwise. Its goroutine ends in stop.
type progress struct {
	done chan struct{}
	wg   sync.WaitGroup
}

func (p *progress) stop() {
	if p.done == nil {
		return
	}
	close(p.done)
	p.wg.Wait()
}

type statser interface{ Stats() weir.Stats }

func startProgress(mode string, w io.Writer, run statser, total int64, rows func() map[string]int64) *progress {
	return startProgressOf(mode, w, run, total, rows, "users")
}

// startProgressOf shows a run's progress counting records called what
// ("users", "records"); total is -1 when unknown.
func startProgressOf(mode string, w io.Writer, run statser, total int64, rows func() map[string]int64, what string) *progress {
	return startProgressOfInput(mode, w, run, total, rows, what, nil)
}

// inputProgress says how far a source is through its input, in bytes:
// file.RowSource's Progress. total is -1 when unknown.
type inputProgress func() (done, total int64)

// startProgressOfInput is startProgressOf for a run whose record count is
// unknown but whose source knows how far through its input it is: the
// progress shows that share and an ETA from it.
func startProgressOfInput(mode string, w io.Writer, run statser, total int64, rows func() map[string]int64, what string, input inputProgress) *progress {
	if mode == "auto" {
		mode = "log"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	p := &progress{}
	if mode == "off" {
		return p
	}
	p.done = make(chan struct{})
	interval := 2 * time.Second
	var bar *progressbar.ProgressBar
	if mode == "bar" {
		interval = 200 * time.Millisecond
		bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("loading"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString(what),
			progressbar.OptionShowIts(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionFullWidth(),
		)
	}
	p.wg.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-p.done:
				if bar != nil {
					st := run.Stats()
					bar.Describe(describe(st, rows(), what))
					_ = bar.Set64(st.Load.Records)
					_ = bar.Finish()
					fmt.Fprintln(w)
				}
				return
			case <-tick.C:
				st := run.Stats()
				r := rows()
				left := eta(st, total)
				if total <= 0 {
					left = etaInput(st, input)
				}
				if bar != nil {
					bar.Describe(describe(st, r, what) + left)
					_ = bar.Set64(st.Load.Records)
					continue
				}
				fmt.Fprintf(w, "progress: %s%s\n", describe(st, r, what), left)
			}
		}
	})
	return p
}

func describe(st weir.Stats, rows map[string]int64, what string) string {
	n := sum(rows)
	rate := 0.0
	if s := st.Elapsed.Seconds(); s > 0 {
		rate = float64(n) / s
	}
	return fmt.Sprintf("%d %s, %d rows, %.0f rows/s", st.Load.Records, what, n, rate)
}

func eta(st weir.Stats, total int64) string {
	done := st.Load.Records
	if total <= 0 || done == 0 {
		return ""
	}
	left := time.Duration(float64(st.Elapsed) * float64(total-done) / float64(done))
	return fmt.Sprintf(", %d%%, ETA %s", 100*done/total, left.Round(time.Second))
}

// etaInput is eta by the share of the input read; "" when unknown.
func etaInput(st weir.Stats, input inputProgress) string {
	if input == nil {
		return ""
	}
	done, total := input()
	if total <= 0 || done <= 0 {
		return ""
	}
	frac := min(float64(done)/float64(total), 1)
	left := time.Duration(float64(st.Elapsed) * (1 - frac) / frac)
	return fmt.Sprintf(", %.0f%% of the input, ETA %s", 100*frac, left.Round(time.Second))
}
