package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/destel/rill"
	"github.com/sourcegraph/conc/pool"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/bench"
)

// The workload every engine runs: the seed's slim users, in batches of 128,
// transformed by 4 workers.
const (
	batchSize = 128
	workers   = 4
	seed      = 1
)

// sumSink is the consuming sink every engine writes to: it adds up the keys
// of the transformed records, so a run can be checked for every record
// arriving exactly once.
type sumSink = bench.SumSink[bench.SlimTransformed]

// runFunc runs one whole job: records slim users, generated inside the
// engine's source by [bench.NewSlimSource], through [bench.TransformSlim]
// into sink. It blocks until every goroutine it started has returned.
type runFunc func(ctx context.Context, records int, sink *sumSink) error

// engine is one pipeline implementation under comparison.
type engine struct {
	name string
	run  runFunc
}

// engineNames lists every engine in the order the tables print them.
var engineNames = []string{"weir", "handwritten", "benthos", "rill", "conc"}

// lookupEngine returns the named engine. benthos is only linked into
// binaries built with the benthos tag (see benthos.go), so that the other
// engines can run in binaries that do not link it.
func lookupEngine(name string) (engine, error) {
	switch name {
	case "weir":
		return engine{name, runWeir}, nil
	case "handwritten":
		return engine{name, runHandwritten}, nil
	case "rill":
		return engine{name, runRill}, nil
	case "conc":
		return engine{name, runConc}, nil
	case "benthos":
		if benthosRun == nil {
			return engine{}, errors.New("engine benthos is not linked into this binary (build it with -tags benthos)")
		}
		return engine{name, benthosRun}, nil
	}
	return engine{}, fmt.Errorf("unknown engine %q (want one of %v)", name, engineNames)
}

// runWeir is the engine under test with its defaults (stats and timing on),
// as a user would run it.
func runWeir(ctx context.Context, records int, sink *sumSink) error {
	p, err := weir.New(bench.NewSlimSource(records, seed), weir.Map(bench.TransformSlim), sink,
		weir.Config{BatchSize: batchSize, Workers: workers})
	if err != nil {
		return fmt.Errorf("weir: %w", err)
	}
	if err := p.Run(ctx); err != nil {
		return fmt.Errorf("weir: %w", err)
	}
	return nil
}

// runHandwritten is the practical ceiling: the bench package's
// hand-written pipeline (bench.Handwritten), also the baseline of
// BenchmarkSeedSlim. One producer fills batch slices with the source's Read
// and sends them on a channel of slices to the workers, which transform each
// batch into their own output slice and write it to the sink; a free list
// recycles input slices. No timing, no stats, no batch timer.
func runHandwritten(ctx context.Context, records int, sink *sumSink) error {
	return bench.Handwritten(ctx, bench.NewSlimSource(records, seed), sink, batchSize, workers)
}

// runRill is rill fed as conc is: one slice per send. rill.Generate sends
// each Read's batch of 128 records (a slice recycled through a free list,
// as the hand-written pipeline and conc recycle theirs) and rill.ForEach
// with 4 goroutines transforms each batch into a pooled output slice and
// writes it. No rill.Batch: the batches are made by the Reads, as they are
// for conc, so rill pays one channel operation per batch, not per record.
// (Feeding rill one record per send and batching with rill.Batch, as this
// comparison did before, measured rill's per-record channels, not the
// shape the others run; see docs/bench-peers.md.)
func runRill(ctx context.Context, records int, sink *sumSink) error {
	src := bench.NewSlimSource(records, seed)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// At most workers batches are being transformed, one waits in the
	// stream and one is being read.
	free := make(chan []bench.SlimUser, workers+2)
	batches := rill.Generate(func(send func([]bench.SlimUser), sendErr func(error)) {
		for {
			var buf []bench.SlimUser
			select {
			case buf = <-free:
			default:
				buf = make([]bench.SlimUser, batchSize)
			}
			n, err := src.Read(ctx, buf)
			if n > 0 {
				send(buf[:n])
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				sendErr(fmt.Errorf("read: %w", err))
				return
			}
		}
	})
	// On an early return, release the producer: cancel stops its Reads and
	// draining unblocks its sends, so every goroutine rill started ends.
	defer rill.DrainNB(batches)

	outs := sync.Pool{New: func() any {
		s := make([]bench.SlimTransformed, batchSize)
		return &s
	}}
	err := rill.ForEach(batches, workers, func(in []bench.SlimUser) error {
		p := outs.Get().(*[]bench.SlimTransformed)
		defer outs.Put(p)
		out := (*p)[:len(in)]
		for i := range in {
			v, err := bench.TransformSlim(ctx, in[i])
			if err != nil {
				return fmt.Errorf("transform: %w", err)
			}
			out[i] = v
		}
		if err := sink.Write(ctx, out); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		select {
		case free <- in[:cap(in)]:
		default:
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rill: %w", err)
	}
	return nil
}

// concBufs is the pair of slices one conc task owns: the batch it
// transforms and the slice it transforms into.
type concBufs struct {
	in  []bench.SlimUser
	out []bench.SlimTransformed
}

// runConc reads batches of 128 on the calling goroutine and hands each to a
// conc context pool of 4 goroutines (first error cancels, first error
// returned), which transforms and writes it. A free list recycles the
// slices, as the hand-written pipeline does.
func runConc(ctx context.Context, records int, sink *sumSink) error {
	src := bench.NewSlimSource(records, seed)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	p := pool.New().WithMaxGoroutines(workers).WithContext(ctx).WithCancelOnError().WithFirstError()
	// At most workers tasks run, one waits in Go and one is being read.
	free := make(chan *concBufs, workers+2)
	var readErr error
	for {
		var b *concBufs
		select {
		case b = <-free:
		default:
			b = &concBufs{in: make([]bench.SlimUser, batchSize), out: make([]bench.SlimTransformed, batchSize)}
		}
		n, err := src.Read(ctx, b.in)
		if n > 0 {
			p.Go(func(ctx context.Context) error {
				in, out := b.in[:n], b.out[:n]
				for i := range in {
					v, err := bench.TransformSlim(ctx, in[i])
					if err != nil {
						err = fmt.Errorf("transform: %w", err)
						cancel(err)
						return err
					}
					out[i] = v
				}
				if err := sink.Write(ctx, out); err != nil {
					err = fmt.Errorf("write: %w", err)
					cancel(err)
					return err
				}
				select {
				case free <- b:
				default:
				}
				return nil
			})
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("read: %w", err)
			break
		}
	}
	if err := errors.Join(readErr, p.Wait()); err != nil {
		if cause := context.Cause(ctx); cause != nil && errors.Is(err, context.Canceled) {
			err = cause // a task's failure stopped the Reads: report the failure
		}
		return fmt.Errorf("conc: %w", err)
	}
	return nil
}
