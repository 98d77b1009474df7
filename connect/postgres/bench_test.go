package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
	"github.com/weir-etl/weir/internal/pgtest"
)

const benchBatch = 1000

func benchPool(b *testing.B, ddl string) *pgxpool.Pool {
	b.Helper()
	pool := pgtest.New(b).Pool(b)
	if err := postgres.Exec(context.Background(), pool, ddl); err != nil {
		b.Fatal(err)
	}
	return pool
}

// benchWrites writes b.N batches of benchBatch rows with fresh keys and
// reports the cost per row.
func benchWrites(b *testing.B, sink weir.Sink[kv]) {
	batch := make([]kv, benchBatch)
	vals := make([]string, benchBatch)
	for i := range vals {
		vals[i] = fmt.Sprintf("value %d with some text", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range batch {
			batch[i] = kv{ID: int64(n*benchBatch + i), Val: &vals[i]}
		}
		if err := sink.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/row")
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkSink measures both load paths of Sink: plain COPY
// (ConflictError) and the staged upsert (ConflictUpdate; ConflictIgnore
// costs the same), on fresh keys.
func BenchmarkSink(b *testing.B) {
	for _, on := range []connect.Conflict{connect.ConflictError, connect.ConflictUpdate} {
		b.Run(on.String(), func(b *testing.B) {
			pool := benchPool(b, `CREATE TABLE kv (id bigint PRIMARY KEY, val text NOT NULL)`)
			sink, err := postgres.NewSink(pool, postgres.SinkConfig[kv]{
				Table:  connect.Table{Name: "kv", Columns: []string{"id", "val"}, Key: []string{"id"}},
				Values: kvValues, OnConflict: on,
			})
			if err != nil {
				b.Fatal(err)
			}
			benchWrites(b, sink)
		})
	}
}

func BenchmarkMultiSink(b *testing.B) {
	for _, on := range []connect.Conflict{connect.ConflictError, connect.ConflictIgnore} {
		b.Run(on.String(), func(b *testing.B) {
			pool := benchPool(b, ordersDDL)
			sink, err := postgres.NewMultiSink(pool, postgres.MultiSinkConfig[order]{Splitter: orderSplitter{}, OnConflict: on})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var rows int64
			for n := 0; b.Loop(); n++ {
				b.StopTimer() // building the records is not the sink's cost
				batch, lines := makeOrders(int64(n*benchBatch), int64(n*benchBatch+benchBatch-1))
				rows += int64(len(batch)) + lines
				b.StartTimer()
				if err := sink.Write(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkSource(b *testing.B) {
	pool := benchPool(b, `CREATE TABLE items (id bigint PRIMARY KEY, v text NOT NULL);
		INSERT INTO items SELECT i, 'value ' || i FROM generate_series(1, 100000) AS i; ANALYZE items`)
	buf := make([]item, benchBatch)
	b.ReportAllocs()
	var rows int
	for b.Loop() {
		src, err := postgres.NewSource(pool, postgres.SourceConfig[item]{
			Table: "items", Key: "id", Columns: []string{"id", "v"}, Scan: pgx.RowToStructByName[item],
		})
		if err != nil {
			b.Fatal(err)
		}
		for {
			n, err := src.Read(context.Background(), buf)
			rows += n
			if err != nil {
				break
			}
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
