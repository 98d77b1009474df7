package weir_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/conntest"
)

// The source adapters against the contract of weir.Source, checked by the
// conformance kit.
func TestSourceAdaptersConformance(t *testing.T) {
	recs := ints(40)
	t.Run("FromSlice", func(t *testing.T) {
		conntest.Source(t, conntest.SourceCase[int]{
			Open: func(*testing.T) weir.Source[int] { return weir.FromSlice(recs) },
			Want: recs,
		})
	})
	t.Run("FromSeq", func(t *testing.T) {
		conntest.Source(t, conntest.SourceCase[int]{
			Open: func(*testing.T) weir.Source[int] { return weir.FromSeq(slices.Values(recs)) },
			Want: recs,
		})
	})
	t.Run("FromSeq2", func(t *testing.T) {
		errBad := errors.New("record 7 is malformed")
		conntest.Source(t, conntest.SourceCase[int]{
			Open: func(*testing.T) weir.Source[int] {
				return weir.FromSeq2(func(yield func(int, error) bool) {
					for _, r := range recs {
						if !yield(r, nil) {
							return
						}
					}
				})
			},
			Want: recs,
			Malformed: &conntest.MalformedCase[int]{
				Open: func(*testing.T) weir.Source[int] {
					return weir.FromSeq2(func(yield func(int, error) bool) {
						for _, r := range recs {
							var err error
							if r == 7 {
								err = errBad
							}
							if !yield(r, err) {
								return
							}
						}
					})
				},
				Before:      recs[:7],
				ErrContains: "record 7",
			},
		})
	})
	t.Run("FromChan", func(t *testing.T) {
		conntest.Source(t, conntest.SourceCase[int]{
			Open: func(*testing.T) weir.Source[int] {
				ch := make(chan int, len(recs))
				for _, r := range recs {
					ch <- r
				}
				close(ch)
				return weir.FromChan(ch)
			},
			Want: recs,
		})
	})
	t.Run("FromFunc", func(t *testing.T) {
		conntest.Source(t, conntest.SourceCase[int]{
			Open: func(*testing.T) weir.Source[int] {
				next := 0
				return weir.FromFunc(func(ctx context.Context) (int, error) {
					if err := ctx.Err(); err != nil {
						return 0, err
					}
					if next == len(recs) {
						return 0, io.EOF
					}
					next++
					return recs[next-1], nil
				})
			},
			Want: recs,
		})
	})
}
