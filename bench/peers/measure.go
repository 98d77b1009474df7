package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"
)

// warmupRecords is the size of the run every measurement starts with and
// discards: it builds whatever an engine builds once per process.
const warmupRecords = 5000

// sample is one measurement of one engine at one size: what a child process
// prints, one JSON object per line.
type sample struct {
	Engine  string `json:"engine"`
	Records int    `json:"records"`
	Round   int    `json:"round"`
	// Runs is how many whole runs were measured; the figures are the
	// median run's.
	Runs            int     `json:"runs"`
	RecordsPerSec   float64 `json:"records_per_sec"`
	NsPerRecord     float64 `json:"ns_per_record"`
	AllocsPerRecord float64 `json:"allocs_per_record"`
	// CPUNsPerRecord is the process's CPU time (all threads, GC included)
	// per record, median over the runs; 0 where it is not measured. It is
	// less sensitive than wall time to other processes taking the cores.
	CPUNsPerRecord float64 `json:"cpu_ns_per_record,omitempty"`
	// MeanRecordsPerSec is all the runs' records over all their time. With
	// many short runs the median run usually has no GC cycle in it; this
	// one pays for the GC the runs caused.
	MeanRecordsPerSec float64 `json:"mean_records_per_sec"`
}

// measure runs e once on warmupRecords records (discarded), collects the
// heap, then times reps whole runs of records records. Each run is timed
// from before its pipeline is built to after its last goroutine returned,
// and its allocations are MemStats.Mallocs read just before and just after
// (all goroutines of the process: the engine's own included). The sample
// holds the median run's records/s, the matching ns/record, and the median
// allocations per record. Every run is checked for every record arriving
// exactly once.
func measure(ctx context.Context, e engine, records, reps int) (sample, error) {
	if err := runChecked(ctx, e, min(records, warmupRecords)); err != nil {
		return sample{}, fmt.Errorf("%s warm-up: %w", e.name, err)
	}
	runtime.GC()
	rates := make([]float64, 0, reps)
	allocs := make([]float64, 0, reps)
	cpus := make([]float64, 0, reps)
	var total time.Duration
	for range reps {
		sink := &sumSink{}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		cpu0, ok0 := processCPU()
		start := time.Now()
		err := e.run(ctx, records, sink)
		elapsed := time.Since(start)
		cpu1, ok1 := processCPU()
		runtime.ReadMemStats(&after)
		if err == nil {
			err = check(sink, records)
		}
		if err != nil {
			return sample{}, fmt.Errorf("%s, %d records: %w", e.name, records, err)
		}
		total += elapsed
		rates = append(rates, float64(records)/elapsed.Seconds())
		allocs = append(allocs, float64(after.Mallocs-before.Mallocs)/float64(records))
		if ok0 && ok1 {
			cpus = append(cpus, float64((cpu1-cpu0).Nanoseconds())/float64(records))
		}
	}
	rate := median(rates)
	return sample{
		Engine: e.name, Records: records, Runs: reps,
		RecordsPerSec: rate, NsPerRecord: 1e9 / rate, AllocsPerRecord: median(allocs),
		CPUNsPerRecord: median(cpus), MeanRecordsPerSec: float64(records*reps) / total.Seconds(),
	}, nil
}

func runChecked(ctx context.Context, e engine, records int) error {
	sink := &sumSink{}
	if err := e.run(ctx, records, sink); err != nil {
		return err
	}
	return check(sink, records)
}

// check reports whether sink saw the records 1 to n exactly once.
func check(sink *sumSink, n int) error {
	want := int64(n) * int64(n+1) / 2
	if sink.Records() != int64(n) || sink.Sum() != want {
		return fmt.Errorf("sink saw %d records summing to %d, want %d summing to %d", sink.Records(), sink.Sum(), n, want)
	}
	return nil
}

// median returns the median of xs (the mean of the middle two for an even
// count). It sorts xs.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}

// childMain is what a child process does: rounds rounds, each measuring
// every engine of names in turn (starting one further along each round), at
// records records with reps runs per sample, printing each sample as a JSON
// line to w as soon as it is taken.
func childMain(ctx context.Context, w io.Writer, names []string, records, reps, rounds int) error {
	engines := make([]engine, len(names))
	for i, n := range names {
		e, err := lookupEngine(n)
		if err != nil {
			return err
		}
		engines[i] = e
	}
	enc := json.NewEncoder(w)
	for r := range rounds {
		for i := range engines {
			e := engines[(r+i)%len(engines)]
			s, err := measure(ctx, e, records, reps)
			if err != nil {
				return err
			}
			s.Round = r
			if err := enc.Encode(s); err != nil {
				return fmt.Errorf("write sample: %w", err)
			}
		}
	}
	return nil
}
