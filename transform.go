package weir

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Transform turns a batch of E into a batch of T. Build one with [Map],
// [Filter], [FlatMap], [MapBatch], [InPlace] or [Then]; the zero value is not
// usable. A Transform is safe for use by many workers at once if the
// functions it wraps are. Every Transform keeps the order of records inside
// a batch.
type Transform[E, T any] struct {
	name string
	// apply transforms in into out (cleared, with spare capacity) and returns
	// the result. An in-place transform returns in itself (E == T).
	apply   func(ctx context.Context, in []E, out []T, o applyOpts) ([]T, error)
	inPlace bool
	// oneToOne: output i comes from input i (Map, InPlace, Identity), so an
	// output's index is its input's index.
	oneToOne bool
}

// applyOpts are the engine's settings for one transform call.
type applyOpts struct {
	conc int
	// skip, when set, collects records that fail (error or panic) so the
	// transform can carry on without them; nil means the first failure
	// fails the batch.
	skip *skipper
}

// skipper collects the records a transform skipped under the Skip policy.
type skipper struct {
	mu       sync.Mutex
	failed   []skipped
	unmapped bool // indices do not refer to the batch's source records (Then's second part)
}

type skipped struct {
	record any
	index  int // in the failing transform's input; -1 when unmapped
	err    error
}

func (s *skipper) add(record any, index int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unmapped {
		index = -1
	}
	s.failed = append(s.failed, skipped{record, index, err})
}

func (s *skipper) reset() {
	clear(s.failed)
	s.failed = s.failed[:0]
	s.unmapped = false
}

func mustFunc(name string, isNil bool) {
	if isNil {
		panic("weir: " + name + " called with a nil function")
	}
}

// call1 calls f(ctx, v), turning a panic into a *PanicError: under the
// Skip policy a panicking record is dead-lettered like a failing one.
func call1[E, T any](f func(context.Context, E) (T, error), ctx context.Context, v E) (res T, err error) {
	err = try(func() (err error) {
		res, err = f(ctx, v)
		return err
	})
	return res, err
}

// Map returns a transform that calls f once per record and keeps the
// results in input order. With TransformConcurrency > 1, one batch's records
// are shared by that many goroutines; f must then be safe for concurrent use.
// Cost beyond f: none per record when TransformConcurrency is 1.
func Map[E, T any](f func(ctx context.Context, in E) (T, error)) Transform[E, T] {
	mustFunc("Map", f == nil)
	return Transform[E, T]{name: "map", oneToOne: true, apply: func(ctx context.Context, in []E, out []T, o applyOpts) ([]T, error) {
		out = grow(out, len(in))
		switch {
		case o.skip == nil && (o.conc <= 1 || len(in) < 2):
			// The common case stays a plain loop: no closure, no allocation.
			for i := range in {
				v, err := f(ctx, in[i])
				if err != nil {
					return out, &RecordError{Index: i, Err: err}
				}
				out[i] = v
			}
			return out, nil
		case o.skip == nil:
			return out, forEach(len(in), o.conc, func(i int) error {
				v, err := f(ctx, in[i])
				if err != nil {
					return err
				}
				out[i] = v
				return nil
			})
		}
		ok := make([]bool, len(in))
		err := forEach(len(in), o.conc, func(i int) error {
			v, err := call1(f, ctx, in[i])
			if err != nil {
				o.skip.add(in[i], i, err)
				return nil
			}
			out[i], ok[i] = v, true
			return nil
		})
		return compact(out, ok), err
	}}
}

// compact keeps out[i] where ok[i], in order, and clears the rest.
func compact[T any](out []T, ok []bool) []T {
	n := 0
	for i := range out {
		if ok[i] {
			out[n] = out[i]
			n++
		}
	}
	clear(out[n:])
	return out[:n]
}

// Filter returns a transform that keeps the records for which keep returns
// true, in order. It compacts the batch in place and allocates nothing.
// keep runs on one goroutine per batch whatever TransformConcurrency is: a
// predicate is cheap, and compaction is sequential.
func Filter[E any](keep func(E) bool) Transform[E, E] {
	mustFunc("Filter", keep == nil)
	safeKeep := func(v E) (ok bool, err error) {
		err = try(func() error {
			ok = keep(v)
			return nil
		})
		return ok, err
	}
	return Transform[E, E]{name: "filter", inPlace: true, apply: func(_ context.Context, in []E, _ []E, o applyOpts) ([]E, error) {
		n := 0
		for i := range in {
			k := false
			if o.skip == nil {
				k = keep(in[i])
			} else if ok, err := safeKeep(in[i]); err != nil {
				o.skip.add(in[i], i, err)
			} else {
				k = ok
			}
			if k {
				in[n] = in[i]
				n++
			}
		}
		clear(in[n:]) // release what the dropped records referenced
		return in[:n], nil
	}}
}

// FlatMap returns a transform in which f appends zero or more outputs for
// one record to out and returns the extended slice, as strconv.AppendInt
// does. Outputs keep input order. With TransformConcurrency > 1 the batch is
// cut into that many contiguous runs, each appended to its own buffer and
// then concatenated, which costs one buffer per extra goroutine per batch.
func FlatMap[E, T any](f func(ctx context.Context, in E, out []T) ([]T, error)) Transform[E, T] {
	mustFunc("FlatMap", f == nil)
	// one runs f for in[lo:hi], appending to buf. Under Skip, a failing
	// record's partial outputs are dropped and the record is collected.
	one := func(ctx context.Context, in []E, lo, hi int, buf []T, sk *skipper) ([]T, error) {
		for i := lo; i < hi; i++ {
			if sk == nil {
				var err error
				if buf, err = f(ctx, in[i], buf); err != nil {
					return buf, &RecordError{Index: i, Err: err}
				}
				continue
			}
			next, err := callAppend(f, ctx, in[i], buf)
			if err != nil {
				// buf keeps its length: the record's partial outputs, if
				// any, are overwritten by the next record's.
				sk.add(in[i], i, err)
				continue
			}
			buf = next
		}
		return buf, nil
	}
	return Transform[E, T]{name: "flatmap", apply: func(ctx context.Context, in []E, out []T, o applyOpts) ([]T, error) {
		if o.conc <= 1 || len(in) < 2 {
			return one(ctx, in, 0, len(in), out, o.skip)
		}
		conc := min(o.conc, len(in))
		parts := make([][]T, conc)
		parts[0] = out
		err := forRanges(len(in), conc, func(k, lo, hi int) error {
			buf, err := one(ctx, in, lo, hi, parts[k], o.skip)
			parts[k] = buf
			return err
		})
		if err != nil {
			return out, err
		}
		out = parts[0]
		for _, p := range parts[1:] {
			out = append(out, p...)
		}
		return out, nil
	}}
}

// callAppend calls a FlatMap function, turning a panic into a *PanicError.
func callAppend[E, T any](f func(context.Context, E, []T) ([]T, error), ctx context.Context, v E, buf []T) ([]T, error) {
	res := buf
	err := try(func() (err error) {
		res, err = f(ctx, v, buf)
		return err
	})
	return res, err // on a panic, res is still buf
}

// MapBatch returns a transform that hands f the whole batch: f appends its
// outputs to out and returns the result. Use it when records are cheaper to
// process together (one lookup for a whole batch). f must keep input order
// if order matters downstream; TransformConcurrency does not apply. Under
// the Skip policy a failing call dead-letters the whole batch: f does not
// say which record failed.
func MapBatch[E, T any](f func(ctx context.Context, in []E, out []T) ([]T, error)) Transform[E, T] {
	mustFunc("MapBatch", f == nil)
	return Transform[E, T]{name: "mapbatch", apply: func(ctx context.Context, in []E, out []T, _ applyOpts) ([]T, error) {
		return f(ctx, in, out)
	}}
}

// InPlace returns a transform that edits each record where it stands: the
// batch read from the source travels on to the sink, and the engine
// allocates nothing for it (a zero-copy transform). With
// TransformConcurrency > 1, records are shared by that many goroutines.
func InPlace[E any](f func(ctx context.Context, rec *E) error) Transform[E, E] {
	mustFunc("InPlace", f == nil)
	safe := func(ctx context.Context, rec *E) error {
		return try(func() error { return f(ctx, rec) })
	}
	return Transform[E, E]{name: "inplace", inPlace: true, oneToOne: true, apply: func(ctx context.Context, in []E, _ []E, o applyOpts) ([]E, error) {
		switch {
		case o.skip == nil && (o.conc <= 1 || len(in) < 2):
			for i := range in {
				if err := f(ctx, &in[i]); err != nil {
					return in, &RecordError{Index: i, Err: err}
				}
			}
			return in, nil
		case o.skip == nil:
			return in, forEach(len(in), o.conc, func(i int) error { return f(ctx, &in[i]) })
		}
		ok := make([]bool, len(in))
		err := forEach(len(in), o.conc, func(i int) error {
			if err := safe(ctx, &in[i]); err != nil {
				o.skip.add(in[i], i, err)
				return nil
			}
			ok[i] = true
			return nil
		})
		return compact(in, ok), err
	}}
}

// Identity returns a transform that passes every record through unchanged
// and allocates nothing.
func Identity[E any]() Transform[E, E] {
	return Transform[E, E]{name: "identity", inPlace: true, oneToOne: true, apply: func(_ context.Context, in []E, _ []E, _ applyOpts) ([]E, error) {
		return in, nil
	}}
}

// Then chains two transforms: first's output batch is second's input. The
// intermediate batch comes from a pool, so chaining costs no allocation per
// batch in steady state; chaining two in-place transforms is itself in
// place.
func Then[A, B, C any](first Transform[A, B], second Transform[B, C]) Transform[A, C] {
	if first.apply == nil || second.apply == nil {
		panic("weir: Then called with a zero Transform")
	}
	name := first.name + "+" + second.name
	oneToOne := first.oneToOne && second.oneToOne
	// second works on first's output: its record indices are the input's
	// only if first is one-to-one and skipped no record.
	runSecond := func(ctx context.Context, mid []B, out []C, o applyOpts) ([]C, error) {
		if o.skip != nil {
			mapped := first.oneToOne && len(o.skip.failed) == 0
			o.skip.unmapped = !mapped
			defer func() { o.skip.unmapped = false }()
		}
		res, err := second.apply(ctx, mid, out, o)
		var ie *RecordError
		if !first.oneToOne && errors.As(err, &ie) {
			err = &RecordError{Index: -1, Err: fmt.Errorf("%s, record %d of its input: %w", second.name, ie.Index, ie.Err)}
		}
		return res, err
	}
	if first.inPlace && second.inPlace {
		// A == B == C: both edit the input batch.
		return Transform[A, C]{name: name, inPlace: true, oneToOne: oneToOne, apply: func(ctx context.Context, in []A, out []C, o applyOpts) ([]C, error) {
			mid, err := first.apply(ctx, in, nil, o)
			if err != nil {
				return out, err
			}
			return runSecond(ctx, mid, out, o)
		}}
	}
	var pool sync.Pool // of *[]B
	return Transform[A, C]{name: name, oneToOne: oneToOne, apply: func(ctx context.Context, in []A, out []C, o applyOpts) ([]C, error) {
		p, _ := pool.Get().(*[]B)
		if p == nil {
			p = new([]B)
		}
		defer func() {
			clear(*p)
			*p = (*p)[:0]
			pool.Put(p)
		}()
		mid, err := first.apply(ctx, in, (*p)[:0], o)
		if !first.inPlace {
			*p = mid // keep the grown buffer for the next batch
		}
		if err != nil {
			return out, err
		}
		res, err := runSecond(ctx, mid, out, o)
		if second.inPlace {
			// res aliases mid, which goes back to the pool: copy it out.
			res = append(out[:0], res...)
		}
		return res, err
	}}
}
