package weir

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Runner is anything a [Manager] can run: a [*Pipeline] of any types, or a
// [RunnerFunc].
type Runner interface {
	Run(ctx context.Context) error
}

// RunnerFunc adapts a function to a [Runner].
type RunnerFunc func(ctx context.Context) error

// Run calls f.
func (f RunnerFunc) Run(ctx context.Context) error { return f(ctx) }

// Manager runs many named pipelines, at most Limit at once, and reports every
// failure. Set the fields, [Manager.Add] the runners, then call
// [Manager.Run] once. The zero value runs all pipelines at once and does not
// cancel the others when one fails.
type Manager struct {
	// Limit is the most runners in flight; 0 means no limit.
	Limit int
	// FailFast cancels the runners still going, and skips those not started,
	// as soon as one fails.
	FailFast bool

	mu      sync.Mutex
	names   map[string]bool
	jobs    []job
	started bool
}

type job struct {
	name string
	r    Runner
}

// Add registers r under name. Names must be unique and non-empty; Add panics
// on a duplicate, an empty name, a nil runner, or a call after Run started.
// These are programming errors, like registering the same HTTP pattern twice.
func (m *Manager) Add(name string, r Runner) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.started:
		panic("weir: Manager.Add called after Run")
	case name == "":
		panic("weir: Manager.Add with an empty name")
	case r == nil:
		panic("weir: Manager.Add with a nil Runner for " + name)
	case m.names[name]:
		panic("weir: Manager.Add: duplicate pipeline name " + name)
	}
	if m.names == nil {
		m.names = map[string]bool{}
	}
	m.names[name] = true
	m.jobs = append(m.jobs, job{name, r})
}

// Run starts the runners in the order they were added, at most Limit at a
// time, and blocks until all have returned. It returns nil if all
// succeeded; otherwise every failure joined with [errors.Join], each
// wrapped as `pipeline "name": ...`. With FailFast, runners stopped because
// another failed report that too, and runners never started are listed as
// skipped, so the result accounts for every pipeline.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return errors.New("weir: Manager.Run called twice")
	}
	if m.Limit < 0 {
		m.mu.Unlock()
		return fmt.Errorf("weir: Manager.Limit must be >= 0 (0 means no limit), got %d", m.Limit)
	}
	m.started = true
	jobs := m.jobs
	m.mu.Unlock()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	limit := m.Limit
	if limit == 0 {
		limit = max(len(jobs), 1)
	}
	sem := make(chan struct{}, limit)
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			errs[i] = fmt.Errorf("pipeline %q: skipped: %w", j.name, context.Cause(ctx))
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			err := try(func() error { return j.r.Run(ctx) })
			if err == nil {
				return
			}
			if m.FailFast {
				cancel(fmt.Errorf("pipeline %q failed", j.name))
			}
			errs[i] = fmt.Errorf("pipeline %q: %w", j.name, err)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
