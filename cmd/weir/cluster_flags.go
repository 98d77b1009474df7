package main

import (
	"flag"
	"regexp"
	"strings"
	"time"

	"github.com/weir-etl/weir/internal/cluster"
)

// natsFlags are the flags that make copy, run or migrate a coordinator of workers on NATS
// JetStream (docs/CLUSTER.md).
type natsFlags struct {
	url         string
	job         string
	partSize    int64
	partRows    int64
	ackWait     time.Duration
	maxAttempts int
}

func (n *natsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&n.url, "nats", "", "NATS URL (nats://HOST:4222): split the job into partitions for weir workers to run, and wait for them (docs/CLUSTER.md)")
	fs.StringVar(&n.job, "job", "", "with --nats: the job's name, for weir status (default: the table's name and the time)")
	fs.Int64Var(&n.partSize, "partition-size", 64<<20, "with --nats: bytes of a file per partition (a gzipped or JSON-array file is one partition)")
	fs.Int64Var(&n.partRows, "partition-rows", 1_000_000, "with --nats: records of a table (or users of migrate) per partition")
	fs.DurationVar(&n.ackWait, "ack-wait", 30*time.Second, "with --nats: a partition whose worker gives no sign of life for this long goes to another worker")
	fs.IntVar(&n.maxAttempts, "max-attempts", 3, "with --nats: runs of a partition that may fail before its error fails the job")
}

// check reports a bad value, as a usage error.
func (n *natsFlags) check() error {
	switch {
	case n.url == "":
		return nil
	case n.partSize < 1:
		return usagef("--partition-size must be at least 1, got %d", n.partSize)
	case n.partRows < 1:
		return usagef("--partition-rows must be at least 1, got %d", n.partRows)
	case n.maxAttempts < 1:
		return usagef("--max-attempts must be at least 1, got %d", n.maxAttempts)
	case n.ackWait < time.Second:
		return usagef("--ack-wait must be at least 1s, got %v", n.ackWait)
	case n.job != "":
		if err := cluster.CheckJobName(n.job); err != nil {
			return usagef("--job: %w", err)
		}
	}
	return nil
}

var notJobChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// jobName is --job, or a name made of table and the time.
func (n *natsFlags) jobName(table string, now time.Time) string {
	if n.job != "" {
		return n.job
	}
	base := strings.Trim(notJobChars.ReplaceAllString(table, "_"), "_")
	if len(base) > 40 {
		base = base[:40]
	}
	if base == "" {
		base = "job"
	}
	return base + "-" + now.UTC().Format("20060102-150405")
}
