package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// benthosTuning holds the knobs of the benthos engine's stream. The
// defaults are its fastest honest configuration for this workload (see
// docs/bench-peers.md); -benthos overrides them to compare others.
type benthosTuning struct {
	inputBatch  int    // records per ReadBatch of the input plugin
	threads     int    // pipeline.threads
	maxInFlight int    // the output's max_in_flight
	outCount    int    // the output's batching.count; 0 means no batching policy
	outPeriod   string // the output's batching.period, with outCount > 0
}

// tuning is the benthos engine's configuration in this process.
var tuning = benthosTuning{inputBatch: batchSize, threads: workers, maxInFlight: workers}

// String formats t as -benthos takes it.
func (t benthosTuning) String() string {
	return fmt.Sprintf("input_batch=%d,threads=%d,max_in_flight=%d,out_count=%d,out_period=%s",
		t.inputBatch, t.threads, t.maxInFlight, t.outCount, t.outPeriod)
}

// parseTuning applies comma-separated key=value pairs to t.
func parseTuning(t benthosTuning, s string) (benthosTuning, error) {
	if s == "" {
		return t, nil
	}
	for kv := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return t, fmt.Errorf("-benthos: %q is not key=value", kv)
		}
		if k == "out_period" {
			t.outPeriod = v
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return t, fmt.Errorf("-benthos: %s must be a non-negative integer, got %q", k, v)
		}
		switch k {
		case "input_batch":
			t.inputBatch = n
		case "threads":
			t.threads = n
		case "max_in_flight":
			t.maxInFlight = n
		case "out_count":
			t.outCount = n
		default:
			return t, fmt.Errorf("-benthos: unknown key %q (want input_batch, threads, max_in_flight, out_count, out_period)", k)
		}
	}
	if t.inputBatch < 1 || t.threads < 1 || t.maxInFlight < 1 {
		return t, errors.New("-benthos: input_batch, threads and max_in_flight must be at least 1")
	}
	return t, nil
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
