package weir_test

import (
	"strings"
	"testing"
	"time"

	"github.com/weir-etl/weir"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name    string
		cfg     weir.Config
		wantErr []string // substrings; nil means valid
	}{
		{"zero value is valid", weir.Config{}, nil},
		{"explicit values are valid", weir.Config{BatchSize: 500, BatchBytes: 1 << 20, FlushInterval: time.Second, Workers: 8, TransformConcurrency: 10, LoadConcurrency: 4, QueueDepth: 16}, nil},
		{"negative batch size", weir.Config{BatchSize: -1}, []string{"BatchSize", "got -1"}},
		{"absurd batch size", weir.Config{BatchSize: weir.MaxBatchSize + 1}, []string{"BatchSize"}},
		{"negative batch bytes", weir.Config{BatchBytes: -5}, []string{"BatchBytes", "got -5"}},
		{"negative interval", weir.Config{FlushInterval: -time.Second}, []string{"FlushInterval"}},
		{"interval too short to be a timer", weir.Config{FlushInterval: time.Microsecond}, []string{"FlushInterval", "1µs"}},
		{"negative workers", weir.Config{Workers: -2}, []string{"Workers", "got -2"}},
		{"negative transform concurrency", weir.Config{TransformConcurrency: -1}, []string{"TransformConcurrency"}},
		{"negative load concurrency", weir.Config{LoadConcurrency: -1}, []string{"LoadConcurrency"}},
		{"absurd workers", weir.Config{Workers: weir.MaxConcurrency + 1}, []string{"Workers"}},
		{"negative queue depth", weir.Config{QueueDepth: -1}, []string{"QueueDepth"}},
		{"transform concurrency above batch size", weir.Config{BatchSize: 4, TransformConcurrency: 8}, []string{"TransformConcurrency (8)", "BatchSize (4)"}},
		{"every bad field is reported", weir.Config{BatchSize: -1, Workers: -1}, []string{"BatchSize", "Workers"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if c.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error mentioning %q", c.wantErr)
			}
			for _, w := range c.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestConfigWithDefaults(t *testing.T) {
	c := weir.Config{Workers: 3}.WithDefaults()
	if c.BatchSize != weir.DefaultBatchSize || c.FlushInterval != weir.DefaultFlushInterval ||
		c.TransformConcurrency != 1 || c.LoadConcurrency != 0 || c.QueueDepth != 3 || c.Workers != 3 {
		t.Fatalf("WithDefaults() = %+v", c)
	}
	if c.Validate() != nil {
		t.Fatalf("defaults do not validate: %v", c.Validate())
	}
	if got := (weir.Config{}).WithDefaults().Workers; got < 1 {
		t.Fatalf("default Workers = %d, want >= 1", got)
	}
}
