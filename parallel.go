package weir

import (
	"sync"
	"sync/atomic"
)

// grow returns s with length n, reusing its capacity when it can.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// forEach calls fn(i) for i in [0, n) on min(conc, n) goroutines, the
// calling one included; callers keep their own plain loop for conc == 1,
// which avoids allocating the closure. Errors come back as *RecordError; after the
// first, no new index is started. A panic in fn on a helper goroutine is
// returned as a *PanicError rather than crashing the process.
func forEach(n, conc int, fn func(i int) error) error {
	var (
		next    atomic.Int64
		failed  atomic.Bool
		errOnce sync.Once
		first   error
	)
	work := func() (err error) {
		for !failed.Load() {
			i := int(next.Add(1) - 1)
			if i >= n {
				return nil
			}
			if err := fn(i); err != nil {
				return &RecordError{Index: i, Err: err}
			}
		}
		return nil
	}
	return runHelpers(min(conc, n), func(int) error { return work() }, &failed, &errOnce, &first)
}

// forRanges cuts [0, n) into k contiguous ranges and calls fn(part, lo, hi)
// for each on its own goroutine (the caller runs part 0).
func forRanges(n, k int, fn func(part, lo, hi int) error) error {
	var (
		failed  atomic.Bool
		errOnce sync.Once
		first   error
	)
	return runHelpers(k, func(part int) error {
		lo, hi := part*n/k, (part+1)*n/k
		return fn(part, lo, hi)
	}, &failed, &errOnce, &first)
}

// runHelpers runs body(0..k-1), body(0) on the calling goroutine, and waits
// for all of them. It returns the first error; panics become *PanicError.
func runHelpers(k int, body func(part int) error, failed *atomic.Bool, errOnce *sync.Once, first *error) error {
	record := func(err error) {
		if err != nil {
			failed.Store(true)
			errOnce.Do(func() { *first = err })
		}
	}
	var wg sync.WaitGroup
	for part := 1; part < k; part++ {
		wg.Go(func() { record(try(func() error { return body(part) })) })
	}
	record(try(func() error { return body(0) }))
	wg.Wait()
	return *first
}
