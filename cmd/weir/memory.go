package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/weir-etl/weir"
)

// memoryFlag is --memory SIZE, the engine's memory budget
// (weir.Config.Memory) on every command that runs a job.
type memoryFlag struct {
	bytes int64
	text  string
}

func (m *memoryFlag) register(fs *flag.FlagSet) {
	fs.Var(m, "memory", "memory budget for the records in flight, e.g. 512MB or 2GiB (KB, MB, GB are 1000s; KiB, MiB, GiB and K, M, G are 1024s): batches are sized so the records held stay within it (docs/MEMORY.md); 0 or unset: no budget")
}

// String returns the size as given.
func (m *memoryFlag) String() string { return m.text }

// Set parses a size; flag reports its error naming the flag.
func (m *memoryFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	m.bytes, m.text = n, s
	return nil
}

// gcHeadroom is what the Go runtime's soft memory limit allows above the
// budget: the fixed part of the process (runtime, drivers, the sink's
// batch being written) and garbage. docs/MEMORY.md has the measurements.
const gcHeadroom = 64 << 20

// apply sets cfg's budget. The caller has validated cfg without it, so an
// error of Validate now is the budget's: it is reported as the flag's.
//
// It also sets the Go runtime's soft memory limit to the budget plus
// gcHeadroom, unless GOMEMLIMIT is set: without it the collector lets the
// heap grow to twice what is live, and a 256MB budget peaked at 475MB of
// RSS where it peaks at 345MB with the limit.
func (m *memoryFlag) apply(cfg *weir.Config) error {
	if m.bytes == 0 {
		return nil
	}
	cfg.Memory = m.bytes
	if err := cfg.Validate(); err != nil {
		return usagef("--memory %s: %w", m.text, err)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(m.bytes + gcHeadroom)
	}
	return nil
}

// sizeUnits are the units parseSize takes, lower-cased.
var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// parseSize reads a size in bytes: a number, optionally with a fraction,
// and a unit (case-insensitive; none means bytes).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" {
		return 0, fmt.Errorf("%q is not a size: want a number and a unit, e.g. 512MB or 2GiB", s)
	}
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit %q (want B, KB, MB, GB, TB, KiB, MiB, GiB, TiB, K, M, G or T)", s, t[i:])
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: %q is not a number", s, num)
	}
	b := math.Round(v * mult)
	if b >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(b), nil
}

// formatSize writes n bytes with a binary unit, for reports.
func formatSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// memoryReport prints the budget's share per batch and the largest record,
// when the run had a budget.
func memoryReport(st weir.Stats) string {
	m := st.Memory
	if m.Budget == 0 {
		return ""
	}
	return fmt.Sprintf("memory: budget %s = %d batches in flight × %s; largest record %s\n",
		formatSize(m.Budget), m.Batches, formatSize(m.BatchBytes), formatSize(m.Largest))
}
