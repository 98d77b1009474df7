package prom_test

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/prom"
)

// Register a Collector on a registry, watch a pipeline, and read what a
// scrape would report. A program serves reg with
// promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).
func Example() {
	reg := prometheus.NewRegistry()
	var c prom.Collector
	reg.MustRegister(&c)

	p, err := weir.New(weir.FromSlice(make([]int, 1000)), weir.Identity[int](),
		weir.SinkFunc[int](func(context.Context, []int) error { return nil }),
		weir.Config{BatchSize: 100, Workers: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Watch("numbers", p)
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}

	fams, err := reg.Gather()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range fams {
		switch f.GetName() {
		case "weir_records_total", "weir_batch_size", "weir_running":
			for _, m := range f.GetMetric() {
				fmt.Print(f.GetName(), " ")
				for _, l := range m.GetLabel() {
					fmt.Print(l.GetName(), "=", l.GetValue(), " ")
				}
				fmt.Println(m.GetCounter().GetValue() + m.GetGauge().GetValue())
			}
		}
	}
	// Output:
	// weir_batch_size pipeline=numbers 100
	// weir_records_total pipeline=numbers stage=extract 1000
	// weir_records_total pipeline=numbers stage=load 1000
	// weir_records_total pipeline=numbers stage=transform 1000
	// weir_running pipeline=numbers 0
}
