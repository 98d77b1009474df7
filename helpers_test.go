package weir_test

import (
	"context"
	"io"
	"slices"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/weir-etl/weir"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// collector is a sink that keeps a copy of every batch it is given.
type collector[T any] struct {
	mu      sync.Mutex
	batches [][]T
}

func (c *collector[T]) Write(_ context.Context, b []T) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches = append(c.batches, slices.Clone(b))
	return nil
}

func (c *collector[T]) all() []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []T
	for _, b := range c.batches {
		out = append(out, b...)
	}
	return out
}

func (c *collector[T]) sizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for _, b := range c.batches {
		out = append(out, len(b))
	}
	return out
}

func ints(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func mustNew[E, T any](t testing.TB, src weir.Source[E], tr weir.Transform[E, T], sink weir.Sink[T], cfg weir.Config, opts ...weir.Option) *weir.Pipeline[E, T] {
	t.Helper()
	p, err := weir.New(src, tr, sink, cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// blockingSource yields n records, then blocks until ctx is cancelled.
func blockingSource(n int) weir.Source[int] {
	sent := 0
	return weir.SourceFunc[int](func(ctx context.Context, buf []int) (int, error) {
		if sent < n {
			k := min(len(buf), n-sent)
			for i := range k {
				buf[i] = sent + i
			}
			sent += k
			return k, nil
		}
		<-ctx.Done()
		return 0, ctx.Err()
	})
}

func ioEOF() error { return io.EOF }

// skipWithoutTiming skips a test of latencies and busy times in a binary
// built with -tags weir_notiming, which times nothing.
func skipWithoutTiming(t *testing.T) {
	if !weir.Timing {
		t.Skip("built with weir_notiming: batches are not timed")
	}
}
