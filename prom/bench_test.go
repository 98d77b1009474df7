package prom_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/prom"
)

// BenchmarkScrape measures one scrape of a collector watching one
// finished pipeline: the Stats snapshot, the metrics built from it and the
// registry's gathering. At one scrape a second, the cost to a run is this
// time per second.
func BenchmarkScrape(b *testing.B) {
	p, err := weir.New(weir.FromSlice(make([]int, 10000)), weir.Identity[int](),
		weir.SinkFunc[int](func(context.Context, []int) error { return nil }), weir.Config{BatchSize: 100})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	var c prom.Collector
	reg.MustRegister(&c)
	c.Watch("bench", p)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
