package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// SlimReader and SlimWriter are the only parts of a source and a sink that
// [Handwritten] uses: it shares the generator and the sink with weir,
// nothing else.
type SlimReader interface {
	// Read is weir.Source's Read.
	Read(ctx context.Context, buf []SlimUser) (int, error)
}

type SlimWriter interface {
	// Write is weir.Sink's Write.
	Write(ctx context.Context, batch []SlimTransformed) error
}

// Handwritten is the hand-written pipeline weir is measured against (in
// BenchmarkSeedSlim and in bench/peers): one
// producer filling batch slices with the source's Read, a channel of
// slices to workers goroutines that transform each batch into their own
// output slice and write it to the sink, and a free list recycling input
// slices. No timing, no stats, no pooling beyond that: the practical
// ceiling for this shape of pipeline.
func Handwritten(ctx context.Context, src SlimReader, sink SlimWriter, batch, workers int) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	work := make(chan []SlimUser, workers)
	free := make(chan []SlimUser, 2*workers+2) // every slice that can be alive at once
	var wg sync.WaitGroup

	wg.Go(func() {
		defer close(work)
		for {
			var buf []SlimUser
			select {
			case buf = <-free:
			default:
				buf = make([]SlimUser, batch)
			}
			n, err := src.Read(ctx, buf)
			if n > 0 {
				select {
				case work <- buf[:n]:
				case <-ctx.Done():
					return
				}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				cancel(fmt.Errorf("read: %w", err))
				return
			}
		}
	})
	for range workers {
		wg.Go(func() {
			out := make([]SlimTransformed, batch)
			for in := range work {
				res := out[:len(in)]
				for i := range in {
					v, err := TransformSlim(ctx, in[i])
					if err != nil {
						cancel(fmt.Errorf("transform: %w", err))
						return
					}
					res[i] = v
				}
				if err := sink.Write(ctx, res); err != nil {
					cancel(fmt.Errorf("write: %w", err))
					return
				}
				select {
				case free <- in[:cap(in)]:
				default:
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
