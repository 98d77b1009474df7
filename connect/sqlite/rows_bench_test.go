package sqlite_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/sqlite"
)

// The benchmarks below load the same 8-column rows into the same table,
// made by CreateTable, through a RowSink and through the typed Sink.
var benchCols = []connect.Column{
	{Name: "id", Type: connect.TypeInt64}, {Name: "name", Type: connect.TypeText},
	{Name: "qty", Type: connect.TypeInt32}, {Name: "price", Type: connect.TypeNumeric},
	{Name: "ratio", Type: connect.TypeFloat64}, {Name: "ok", Type: connect.TypeBool},
	{Name: "day", Type: connect.TypeDate}, {Name: "at", Type: connect.TypeTimestamp},
}

var benchTable = connect.Table{Name: "b", Columns: colNames(benchCols), Key: []string{"id"}}

type benchRec struct {
	ID      int64
	Name    string
	Qty     int32
	Price   string
	Ratio   float64
	OK      bool
	Day, At time.Time
}

func benchRecs(n int) []benchRec {
	out := make([]benchRec, n)
	for i := range out {
		at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 7919 * time.Millisecond)
		out[i] = benchRec{Name: fmt.Sprintf("customer %d", i), Qty: int32(i % 1000), Price: fmt.Sprintf("%d.%02d", i, i%100),
			Ratio: float64(i) / 7, OK: i%2 == 0, Day: at.Truncate(24 * time.Hour), At: at}
	}
	return out
}

func (r benchRec) row() connect.Row {
	return connect.Row{Values: []connect.Value{connect.Int64(r.ID), connect.Text(r.Name), connect.Int32(r.Qty),
		connect.Numeric(r.Price), connect.Float64(r.Ratio), connect.Bool(r.OK), connect.Date(r.Day), connect.Timestamp(r.At)}}
}

// benchLoad runs write, which loads one batch of rows numbered from next,
// per iteration, and reports rows/s, ns/row and allocs/row.
func benchLoad(b *testing.B, write func(next int64) error, batch int) {
	b.ReportAllocs()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	next := int64(1)
	for b.Loop() {
		if err := write(next); err != nil {
			b.Fatal(err)
		}
		next += int64(batch)
	}
	runtime.ReadMemStats(&m1)
	rows := float64(next - 1)
	b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/rows, "ns/row")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/rows, "allocs/row")
}

func openBench(b *testing.B) *sqlite.RowSink {
	db := openDB(b, "")
	if err := sqlite.CreateTable(context.Background(), db, "b", benchCols, []string{"id"}); err != nil {
		b.Fatal(err)
	}
	sink, err := sqlite.NewRowSink(db, sqlite.RowSinkConfig{Table: benchTable})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sink.Close(context.Background()) })
	return sink
}

// BenchmarkRowSink measures a RowSink loading 8-column rows of every
// common type into a file database (WAL, synchronous=NORMAL), one batch
// of 1000 rows (one transaction) per iteration. Compare with
// BenchmarkRowSinkTypedBaseline.
func BenchmarkRowSink(b *testing.B) {
	sink := openBench(b)
	recs := benchRecs(1000)
	batch := make([]connect.Row, len(recs))
	for i, r := range recs {
		batch[i] = r.row()
	}
	benchLoad(b, func(next int64) error {
		for i := range batch {
			batch[i].Values[0] = connect.Int64(next + int64(i))
		}
		return sink.Write(context.Background(), batch)
	}, len(batch))
}

// BenchmarkRowSinkTypedBaseline loads the rows of BenchmarkRowSink through
// the typed Sink, into the same table, as a typed Go pipeline would.
func BenchmarkRowSinkTypedBaseline(b *testing.B) {
	db := openDB(b, "")
	if err := sqlite.CreateTable(context.Background(), db, "b", benchCols, []string{"id"}); err != nil {
		b.Fatal(err)
	}
	sink, err := sqlite.NewSink(db, sqlite.SinkConfig[benchRec]{Table: benchTable, Values: func(r benchRec, row []any) []any {
		return append(row, r.ID, r.Name, int64(r.Qty), r.Price, r.Ratio, r.OK, r.Day, r.At)
	}})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close(context.Background())
	batch := benchRecs(1000)
	benchLoad(b, func(next int64) error {
		for i := range batch {
			batch[i].ID = next + int64(i)
		}
		return sink.Write(context.Background(), batch)
	}, len(batch))
}
