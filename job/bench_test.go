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

// BenchmarkExpression measures one record through a job whose only column
// is a three-operator expression (two additions and a multiplication, on
// three integer fields of the record), against the same job reading one
// field (the path fast path): the difference is the expression VM's cost
// per record. ns/op is per record.
func BenchmarkExpression(b *testing.B) {
	for _, c := range []struct{ name, expr string }{
		{"field", "a"},
		{"a+b*c+a", "a + b * c + a"},
	} {
		b.Run(c.name, func(b *testing.B) {
			src := "tables:\n  - name: t\n    columns:\n      x: {type: bigint, expr: '" + c.expr + "'}\n"
			j, err := job.Parse("bench.yaml", []byte(src))
			if err != nil {
				b.Fatal(err)
			}
			p, err := j.Compile([]string{"a", "b", "c"})
			if err != nil {
				b.Fatal(err)
			}
			row := connect.Row{Values: []connect.Value{connect.Numeric("12"), connect.Numeric("30"), connect.Numeric("7")}}
			var got int64
			emit := func(_ int, v []connect.Value) error { got = v[0].Int(); return nil }
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Run(row, emit); err != nil {
					b.Fatal(err)
				}
			}
			if want := map[string]int64{"field": 12, "a+b*c+a": 234}[c.name]; got != want {
				b.Fatalf("x = %d, want %d", got, want)
			}
		})
	}
}
