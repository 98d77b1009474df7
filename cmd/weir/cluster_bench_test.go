package main

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/weir-etl/weir/internal/pgproxy"
	"github.com/weir-etl/weir/internal/pgtest"
)

// TestClusterScaling is scripts/cluster-scaling.sh's measurement, not a CI
// test: it runs only with WEIR_CLUSTER_BENCH=1. It copies a CSV into
// PostgreSQL behind a proxy that holds each COMMIT for a fixed delay (a
// latency-bound target: a distant database) with 1 and with 3 worker
// processes, rotating the order, and logs rows/s, medians with ranges.
// It also measures the cost of a partition: the same copy, straight into
// PostgreSQL, split into 1 and into 40 partitions, with 1 worker.
func TestClusterScaling(t *testing.T) {
	if os.Getenv("WEIR_CLUSTER_BENCH") != "1" {
		t.Skip("a measurement: run scripts/cluster-scaling.sh")
	}
	rows, rounds := envInt(t, "WEIR_CLUSTER_BENCH_ROWS", 120_000), envInt(t, "WEIR_CLUSTER_BENCH_ROUNDS", 3)
	delay := 100 * time.Millisecond
	nats := startNATS(t)
	csv := writeClusterCSV(t, rows)
	var size int64
	if fi, err := os.Stat(csv); err == nil {
		size = fi.Size()
	}
	srv := pgtest.Shared(t)
	job := 0
	measure := func(workers, parts int, delayed bool) float64 {
		db := srv.NewDB(t)
		dsn := db.URL()
		if delayed {
			u, _ := url.Parse(dsn)
			proxy, err := pgproxy.New(u.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer proxy.Close()
			proxy.Delay(func(m pgproxy.Message) bool {
				return m.FromClient && m.Type == 'Q' && bytes.HasPrefix(bytes.ToLower(m.Body), []byte("commit"))
			}, delay)
			if dsn, err = proxy.URL(dsn); err != nil {
				t.Fatal(err)
			}
		}
		var ws []*proc
		for i := range workers {
			ws = append(ws, startWeir(t, "worker", "--nats", nats.url(), "--name", fmt.Sprintf("w%d", i)))
		}
		defer func() {
			for _, w := range ws {
				_ = w.cmd.Process.Signal(syscall.SIGTERM)
				<-w.done
			}
		}()
		job++
		c := startWeir(t, "copy", csv, dsn, "--nats", nats.url(), "--job", fmt.Sprintf("scale%d", job),
			"--partition-size", strconv.FormatInt(size/int64(parts)+1, 10), "--batch", "1000", "--progress", "off")
		<-c.done
		if c.err != nil {
			t.Fatalf("%v\n%s", c.err, c.output())
		}
		m := regexp.MustCompile(`loaded (\d+) rows in ([0-9.]+)s over (\d+) partitions`).FindStringSubmatch(c.output())
		if m == nil || m[1] != strconv.Itoa(rows) {
			t.Fatalf("unexpected report:\n%s", c.output())
		}
		secs, _ := strconv.ParseFloat(m[2], 64)
		return secs
	}
	var one, three, few, many []float64
	for r := range rounds {
		order := []int{1, 3}
		if r%2 == 1 {
			order = []int{3, 1}
		}
		for _, w := range order {
			secs := measure(w, 12, true)
			if w == 1 {
				one = append(one, float64(rows)/secs)
			} else {
				three = append(three, float64(rows)/secs)
			}
		}
		if r%2 == 0 {
			few, many = append(few, measure(1, 1, false)), append(many, measure(1, 40, false))
		} else {
			many, few = append(many, measure(1, 40, false)), append(few, measure(1, 1, false))
		}
	}
	t.Logf("%d rows, 12 partitions, COMMIT delayed %v, %d rounds", rows, delay, rounds)
	t.Logf("1 worker:  %s rows/s", medianRange(one))
	t.Logf("3 workers: %s rows/s", medianRange(three))
	ratios := make([]float64, len(one))
	for i := range one {
		ratios[i] = three[i] / one[i]
	}
	t.Logf("3 / 1 workers: %s×", medianRange(ratios))
	per := make([]float64, len(few))
	for i := range few {
		per[i] = (many[i] - few[i]) / 39 * 1000
	}
	t.Logf("no delay, 1 worker: 1 partition %ss, 40 partitions %ss: %s ms per partition", medianRange(few), medianRange(many), medianRange(per))
}

func envInt(t *testing.T, name string, def int) int {
	if s := os.Getenv(name); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", name, s)
		}
		return n
	}
	return def
}

// medianRange formats xs as "median (min–max)".
func medianRange(xs []float64) string {
	s := slices.Clone(xs)
	slices.Sort(s)
	return fmt.Sprintf("%.2f (%.2f–%.2f)", s[len(s)/2], s[0], s[len(s)-1])
}
