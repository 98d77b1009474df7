package prom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/weir-etl/weir"
)

var (
	runLabels   = []string{"pipeline"}
	stageLabels = []string{"pipeline", "stage"}

	records      = stageDesc("weir_records_total", "Records that left the stage: read (extract), transformed (transform), loaded (load).")
	batches      = stageDesc("weir_batches_total", "Batches that left the stage.")
	bytesRead    = stageDesc("weir_bytes_total", "Bytes read by the extract stage, when the source's record sizes are known (0 otherwise).")
	deadLettered = stageDesc("weir_dead_letter_total", "Records the stage handed to the dead-letter sink.")
	retries      = stageDesc("weir_retries_total", "Calls tried again under the retry policy.")
	stageSeconds = stageDesc("weir_stage_seconds", "Time per batch: for extract the time a batch took to gather (waiting for records and the batch timer included), for transform and load one call. Sampled below 512 records per batch.")
	busySeconds  = stageDesc("weir_stage_busy_seconds_total", "Time spent in user code (Source.Read, the transform, Sink.Write), summed over the stage's goroutines.")
	goroutines   = stageDesc("weir_stage_goroutines", "Goroutines running the stage.")

	inFlight  = runDesc("weir_loads_in_flight", "Sink.Write calls in progress.")
	batchSize = runDesc("weir_batch_size", "Records per batch the reader reads (the adaptive sizer's current choice in an adaptive run).")
	loadLimit = runDesc("weir_load_limit", "The adaptive limiter's current load concurrency (adaptive runs only).")
	running   = runDesc("weir_running", "1 while the run runs, 0 before it starts and after it ends.")
	startTime = runDesc("weir_run_start_time_seconds", "When the run started, in seconds since the Unix epoch.")

	allDescs = []*prometheus.Desc{records, batches, bytesRead, deadLettered, retries, stageSeconds, busySeconds, goroutines,
		inFlight, batchSize, loadLimit, running, startTime}
)

func stageDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, stageLabels, nil)
}

func runDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, runLabels, nil)
}

// bounds are weir's latency bucket bounds in seconds.
var bounds = func() []float64 {
	var b []float64
	for _, d := range weir.LatencyBounds() {
		b = append(b, d.Seconds())
	}
	return b
}()

// collect sends the metrics of one run, from one snapshot.
func collect(ch chan<- prometheus.Metric, name string, r Run) {
	st := r.Stats()
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, name)
	}
	for _, s := range []struct {
		name string
		st   weir.StageStats
	}{{"extract", st.Extract}, {"transform", st.Transform}, {"load", st.Load}} {
		counter := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, name, s.name)
		}
		counter(records, float64(s.st.Records))
		counter(batches, float64(s.st.Batches))
		if s.name == "extract" {
			counter(bytesRead, float64(s.st.Bytes))
		}
		counter(deadLettered, float64(s.st.DeadLettered))
		counter(retries, float64(s.st.Retries))
		counter(busySeconds, s.st.Busy.Seconds())
		ch <- prometheus.MustNewConstMetric(goroutines, prometheus.GaugeValue, float64(s.st.Goroutines), name, s.name)
		ch <- histogram(s.st.Latency, name, s.name)
	}
	gauge(inFlight, float64(st.LoadsInFlight))
	size := st.BatchSize
	if c, ok := r.(configurer); ok && size == 0 {
		size = c.Config().BatchSize
	}
	gauge(batchSize, float64(size))
	if st.LoadLimit > 0 {
		gauge(loadLimit, float64(st.LoadLimit))
	}
	up := 0.0
	if st.Running {
		up = 1
	}
	gauge(running, up)
	if !st.Start.IsZero() {
		gauge(startTime, float64(st.Start.UnixNano())/1e9)
	}
}

// histogram turns a stage's latency into a const histogram with weir's
// fixed bounds.
func histogram(l weir.Latency, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(bounds))
	for i, b := range bounds {
		buckets[b] = uint64(l.Buckets[i])
	}
	return prometheus.MustNewConstHistogram(stageSeconds, uint64(l.Count), l.Sum.Seconds(), buckets, labels...)
}
