package main

import (
	"context"
	"errors"
	"fmt"
)

// step is one piece of a whole-database copy's work — a range to load, an
// index to build, a table's foreign keys to add and validate — that may
// start once every step in after is done.
type step struct {
	name string
	// build marks a key, index or identity step: its failure stops the
	// other build steps but lets the loads finish, so that the rows are
	// loaded whatever the keys say. A load step's failure stops everything.
	build bool
	// run does the work; nil for a step that only joins others (a table
	// loaded), done as soon as they are.
	run   func(context.Context) error
	after []*step

	waiting int     // steps of after not done yet
	then    []*step // the steps waiting for this one
}

// runSteps runs steps, each once every step it comes after is done, at
// most n at once: among the steps ready, build steps first (they unblock
// more steps and end the copy), then loads, each kind in the order of
// steps. It blocks until every started step has returned; every goroutine
// it starts has ended when it returns.
//
// The first load error cancels the context of the running steps and
// starts nothing more; it is loadErr. The first build error starts no more
// build steps; it is buildErr. A step whose after never finishes (a cycle)
// is reported as a build error.
func runSteps(ctx context.Context, n int, steps []*step) (loadErr, buildErr error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, s := range steps {
		s.waiting, s.then = len(s.after), nil
	}
	var ready []*step
	for _, s := range steps {
		for _, a := range s.after {
			a.then = append(a.then, s)
		}
		if s.waiting == 0 {
			ready = append(ready, s)
		}
	}
	type result struct {
		s   *step
		err error
	}
	results := make(chan result)
	running, done := 0, 0
	finish := func(s *step) {
		done++
		for _, t := range s.then {
			if t.waiting--; t.waiting == 0 {
				ready = append(ready, t)
			}
		}
	}
	for {
		for loadErr == nil {
			i := nextStep(ready, buildErr != nil)
			if i < 0 {
				break
			}
			s := ready[i]
			if s.run != nil && running == n {
				break
			}
			ready = append(ready[:i], ready[i+1:]...)
			if s.run == nil {
				finish(s)
				continue
			}
			running++
			go func() { results <- result{s, s.run(ctx)} }()
		}
		if running == 0 {
			break
		}
		r := <-results
		running--
		switch {
		case r.err == nil:
			finish(r.s)
		case !r.s.build:
			if loadErr == nil {
				loadErr = r.err
				cancel()
			}
		case buildErr == nil:
			buildErr = r.err
		}
	}
	if loadErr == nil && buildErr == nil && done < len(steps) {
		buildErr = errors.New("internal error: the copy's steps wait on one another in a cycle")
	}
	return loadErr, buildErr
}

// nextStep returns the index in ready of the step to start next: a joining
// step, else the first build step (unless noBuild), else the first load;
// -1 if none may start.
func nextStep(ready []*step, noBuild bool) int {
	load := -1
	for i, s := range ready {
		switch {
		case s.run == nil && !(s.build && noBuild):
			return i
		case s.build && !noBuild:
			return i
		case !s.build && load < 0:
			load = i
		}
	}
	return load
}

// String names the step, for errors and tests.
func (s *step) String() string { return fmt.Sprintf("step %s", s.name) }
