package job_test

import (
	"testing"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/examples/users"
	"github.com/weir-etl/weir/job"
)

// BenchmarkUsersJob measures the reference job (examples/users/job.yaml)
// turning one user, as the JSONL source yields it, into its 126 rows,
// into an emit that only counts: the evaluator's cost per user, to set
// beside examples/users' BenchmarkSplit. ns/op and allocs/op are per user.
func BenchmarkUsersJob(b *testing.B) {
	j, err := job.ReadFile(usersJob)
	if err != nil {
		b.Fatal(err)
	}
	cols, rows := usersRows(b, 64, users.GenOptions{Seed: 1})
	p, err := j.Compile(cols)
	if err != nil {
		b.Fatal(err)
	}
	total := 0
	emit := func(int, []connect.Value) error { total++; return nil }
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := p.Run(rows[i%len(rows)], emit); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if total != i*126 {
		b.Fatalf("%d users made %d rows", i, total)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/row")
}
