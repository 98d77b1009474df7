package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/weir-etl/weir/connect/sqlite"
)

// BenchmarkSink measures insert throughput into a file database (WAL,
// synchronous=NORMAL): one Write, so one transaction, per iteration, of
// batch rows × 5 columns (4 integers and a short text), with the
// primary key index to maintain.
func BenchmarkSink(b *testing.B) {
	for _, c := range []struct{ batch, perStmt int }{
		{128, 0}, {1000, 0}, {10_000, 0}, // default: as many rows per INSERT as fit
		{1000, 100}, {1000, 1}, // smaller statements, for comparison
	} {
		b.Run(fmt.Sprintf("batch=%d/rowsPerStmt=%d", c.batch, c.perStmt), func(b *testing.B) {
			db := openDB(b, fiveSchema)
			sink, err := sqlite.NewSink(db, sqlite.SinkConfig[five]{Table: fiveTable, Values: fiveValues, RowsPerStatement: c.perStmt})
			if err != nil {
				b.Fatal(err)
			}
			defer sink.Close(context.Background())
			batch := fiveBatch(0, c.batch)
			next := int64(1)
			b.ReportAllocs()
			for b.Loop() {
				for i := range batch {
					batch[i].A = next
					next++
				}
				if err := sink.Write(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(sink.Rows())/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(sink.Rows()), "ns/row")
		})
	}
}
