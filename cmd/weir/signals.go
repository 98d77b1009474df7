package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// stopper is a running pipeline, as the signal handler sees it.
type stopper interface{ Stop() }

// signalStop turns SIGINT/SIGTERM into a graceful stop: the first signal
// stops reading and lets the batches in flight load (up to gracePeriod);
// the second, or the end of the grace period, cancels everything. Before
// a pipeline is running, a signal cancels at once.
type signalStop struct {
	run  atomic.Pointer[stopper]
	sigs chan os.Signal
	done chan struct{}
	wg   sync.WaitGroup
}

// handleStop starts the handler; end stops it and waits for its goroutine.
func handleStop(stderr io.Writer, cancel context.CancelFunc) *signalStop {
	s := &signalStop{sigs: make(chan os.Signal, 2), done: make(chan struct{})}
	signal.Notify(s.sigs, os.Interrupt, syscall.SIGTERM)
	s.wg.Go(func() {
		var grace <-chan time.Time
		for {
			select {
			case <-s.sigs:
				p := s.run.Load()
				if p == nil || grace != nil {
					cancel()
					continue
				}
				fmt.Fprintf(stderr, "weir: stopping: loading the batches already read (up to %v; interrupt again to abandon them)\n", gracePeriod)
				(*p).Stop()
				t := time.NewTimer(gracePeriod)
				defer t.Stop()
				grace = t.C
			case <-grace:
				cancel()
			case <-s.done:
				return
			}
		}
	})
	return s
}

// running tells the handler which pipeline a signal stops.
func (s *signalStop) running(p stopper) { s.run.Store(&p) }

func (s *signalStop) end() {
	signal.Stop(s.sigs)
	close(s.done)
	s.wg.Wait()
}
