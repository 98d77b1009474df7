//go:build unix

package postgres_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
)

// The 8-column rows both row benchmarks load: bigint, text, double, date,
// timestamp, numeric, boolean, text.
const bench8DDL = `CREATE TABLE b8 (id bigint, name text, score double precision, day date, at timestamp,
	amount numeric, ok boolean, note text)`

var bench8Table = connect.Table{Name: "b8", Columns: []string{"id", "name", "score", "day", "at", "amount", "ok", "note"}}

func bench8Batch(n int) []connect.Row {
	rows := make([]connect.Row, benchBatch)
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		id := n*benchBatch + i
		rows[i] = connect.Row{Values: []connect.Value{
			connect.Int64(int64(id)), connect.Text(fmt.Sprintf("customer %d", i)), connect.Float64(float64(i) / 3),
			connect.Date(day.AddDate(0, 0, i%365)), connect.Timestamp(day.Add(time.Duration(i) * time.Second)),
			connect.Numeric(fmt.Sprintf("%d.%02d", i*7, i%100)), connect.Bool(i%2 == 0),
			connect.Text("a note of some length for the row"),
		}, Pos: connect.Pos{Name: "bench", Line: int64(id + 1)}}
	}
	return rows
}

// processCPU returns the CPU time (user + system) this process has used:
// the client's, since the server runs in processes of its own.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRows writes b.N batches of 8-column rows to sink, one Write at a
// time (one connection), and reports rows/s and client CPU per row.
func benchRows(b *testing.B, sink weir.Sink[connect.Row]) {
	batches := make([][]connect.Row, 4)
	for i := range batches {
		batches[i] = bench8Batch(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU(b)
	for n := 0; n < b.N; n++ {
		if err := sink.Write(context.Background(), batches[n%len(batches)]); err != nil {
			b.Fatal(err)
		}
	}
	cpu = processCPU(b) - cpu
	rows := float64(b.N * benchBatch)
	b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/rows, "cpu-ns/row")
}

// BenchmarkRowSink loads 8-column generic rows with RowSink's binary COPY
// encoder. Compare with BenchmarkRowsBoxed.
func BenchmarkRowSink(b *testing.B) {
	pool := benchPool(b, bench8DDL)
	sink, err := postgres.NewRowSink(pool, postgres.RowSinkConfig{Table: bench8Table})
	if err != nil {
		b.Fatal(err)
	}
	benchRows(b, sink)
}

// BenchmarkRowsBoxed loads the same rows with Sink, each value boxed by
// connect.Value.Any for pgx's CopyFrom: the generic path before RowSink.
func BenchmarkRowsBoxed(b *testing.B) {
	pool := benchPool(b, bench8DDL)
	sink, err := postgres.NewSink(pool, postgres.SinkConfig[connect.Row]{
		Table: bench8Table,
		Values: func(r connect.Row, row []any) []any {
			for _, v := range r.Values {
				row = append(row, v.Any())
			}
			return row
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	benchRows(b, sink)
}

// BenchmarkRowSource reads 100,000 8-column rows with RowSource.
func BenchmarkRowSource(b *testing.B) {
	pool := benchPool(b, bench8DDL)
	sink, err := postgres.NewRowSink(pool, postgres.RowSinkConfig{Table: bench8Table})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		if err := sink.Write(context.Background(), bench8Batch(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := postgres.Exec(context.Background(), pool, `ALTER TABLE b8 ADD PRIMARY KEY (id); ANALYZE b8`); err != nil {
		b.Fatal(err)
	}
	buf := make([]connect.Row, benchBatch)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU(b)
	var rows int
	for n := 0; n < b.N; n++ {
		src, err := postgres.NewRowSource(context.Background(), pool, postgres.RowSourceConfig{Table: "b8"})
		if err != nil {
			b.Fatal(err)
		}
		for {
			k, err := src.Read(context.Background(), buf)
			rows += k
			if err != nil {
				break
			}
		}
	}
	cpu = processCPU(b) - cpu
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(rows), "cpu-ns/row")
}
