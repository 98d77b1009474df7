// Package prom exports weir runs to Prometheus. A [Collector] reads the
// live statistics of the pipelines it watches ([weir.Pipeline.Stats]) each
// time it is scraped, and reports them as the metrics listed below; a
// program registers it on its own registry and serves that registry as it
// likes (promhttp.HandlerFor). The core package weir does not import
// Prometheus: only programs that import this package do.
//
//	reg := prometheus.NewRegistry()
//	var c prom.Collector
//	reg.MustRegister(&c)
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//	c.Watch("users", p) // p is a *weir.Pipeline, before or while it runs
//
// # Metrics
//
// Every metric has the label pipeline (the name given to Watch), and the
// per-stage ones the label stage (extract, transform, load). The label is
// not called job: Prometheus sets job on every series it scrapes, to the
// scrape config's job_name, and would rename a job label of weir's to
// exported_job.
//
//	weir_records_total{stage}            counter    records that left the stage: read, transformed, loaded
//	weir_batches_total{stage}            counter    batches that left the stage
//	weir_bytes_total{stage="extract"}    counter    bytes read, when the source's record sizes are known (else 0)
//	weir_dead_letter_total{stage}        counter    records handed to the dead-letter sink
//	weir_retries_total{stage}            counter    calls tried again under the retry policy
//	weir_stage_seconds{stage}            histogram  time per batch: for extract the time a batch took to
//	                                                gather (waiting for records and the batch timer
//	                                                included), for transform and load one call
//	weir_stage_busy_seconds_total{stage} counter    time in user code (Read, transform, Write), summed over
//	                                                the stage's goroutines
//	weir_stage_goroutines{stage}         gauge      goroutines running the stage
//	weir_loads_in_flight                 gauge      Sink.Write calls in progress
//	weir_batch_size                      gauge      the batch size the reader reads (the adaptive sizer's
//	                                                current choice in an adaptive run)
//	weir_load_limit                      gauge      the adaptive limiter's current load concurrency (adaptive runs only)
//	weir_running                         gauge      1 while the run runs, 0 before and after
//	weir_run_start_time_seconds          gauge      when the run started, in Unix seconds (absent before)
//
// weir_stage_seconds has fixed buckets ([weir.LatencyBounds], 10µs to a
// minute), so buckets add up across pipelines and processes. Below 512
// records per batch the engine times a sample of the batches (see
// [weir.StageStats].Latency): the histogram's _count is then the timed
// batches, fewer than weir_batches_total, and its quantiles are those of
// the sample. rate(weir_stage_busy_seconds_total) / weir_stage_goroutines
// is a stage's utilisation; the stage nearest 1 is the bottleneck.
//
// # Cost
//
// Nothing runs between scrapes. A scrape takes one [weir.Pipeline.Stats]
// snapshot per pipeline (a pass over three latency histograms, a few
// microseconds) and builds about 40 metrics from it.
package prom

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weir-etl/weir"
)

// Run is what a [Collector] reads: a [*weir.Pipeline] of any record types,
// or anything else that reports [weir.Stats]. A Run that also has a
// Config() weir.Config method (as a Pipeline has) gives weir_batch_size
// when its run is not adaptive.
type Run interface {
	Stats() weir.Stats
}

type configurer interface{ Config() weir.Config }

// Collector is a prometheus.Collector that reports the statistics of the
// runs it watches. The zero value watches nothing and is ready to use;
// register a pointer to it. Its methods are safe for concurrent use.
type Collector struct {
	mu   sync.Mutex
	runs []watched
}

type watched struct {
	name string
	run  Run
}

// Watch adds r under name, the value of its pipeline label. A run already
// watched under that name is replaced: a program that runs a job again
// watches the new pipeline under the old name, and Prometheus sees the
// counters start over (which rate() handles). Watch panics on an empty
// name or a nil run: both are programming errors.
func (c *Collector) Watch(name string, r Run) {
	switch {
	case name == "":
		panic("prom: Collector.Watch with an empty name")
	case r == nil:
		panic("prom: Collector.Watch with a nil Run for " + name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.runs {
		if c.runs[i].name == name {
			c.runs[i].run = r
			return
		}
	}
	c.runs = append(c.runs, watched{name, r})
}

// Forget stops reporting the run watched under name; its series vanish
// from the next scrape. Forgetting a name not watched does nothing.
func (c *Collector) Forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.runs {
		if c.runs[i].name == name {
			c.runs = append(c.runs[:i], c.runs[i+1:]...)
			return
		}
	}
}

// Describe sends the descriptions of every metric the collector reports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect takes one [weir.Stats] snapshot of each watched run, in the
// order they were first watched, and sends its metrics. It holds no lock
// while it reads the runs.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	runs := append([]watched(nil), c.runs...)
	c.mu.Unlock()
	for _, w := range runs {
		collect(ch, w.name, w.run)
	}
}
