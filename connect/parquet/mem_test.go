package parquet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/conntest"
	"github.com/weir-etl/weir/connect/parquet"
)

// benchColumns are the 8 columns of the measured files (docs/BENCHMARKS.md).
var benchColumns = []connect.Column{
	col("id", connect.TypeInt64), col("name", connect.TypeText), col("email", connect.TypeText),
	col("score", connect.TypeFloat64), col("amount", connect.TypeNumeric), col("active", connect.TypeBool),
	col("born", connect.TypeDate), col("seen", connect.TypeTimestampTZ),
}

// benchRow returns row i of the measured files.
func benchRow(i int) []connect.Value {
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return []connect.Value{
		connect.Int64(int64(i + 1)), connect.Text(fmt.Sprintf("name %d", i)), connect.Text(fmt.Sprintf("user%d@example.com", i)),
		connect.Float64(float64(i) / 7), connect.Numeric(fmt.Sprintf("%d.%02d", i%100000, i%100)), connect.Bool(i%3 == 0),
		connect.Date(t.AddDate(0, 0, -i%20000)), connect.TimestampTZ(t.Add(time.Duration(i) * time.Second)),
	}
}

// A file of 10 row groups is read row group by row group: the heap stays
// a fraction of the file (compressed), which reading a whole row group,
// let alone the file, into rows would exceed many times over.
func TestRowSourceStreamsInFlatMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("writes and reads a 1M-row file: not in -short, and the race detector's shadow memory would blur the measure")
	}
	const rows, group = 1_000_000, 100_000
	path := filepath.Join(t.TempDir(), "big.parquet")
	sink, err := parquet.CreateRows(path, parquet.RowSinkConfig{Columns: benchColumns, RowGroupRows: group})
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]connect.Row, 5000)
	for i := 0; i < rows; i += len(batch) {
		for j := range batch {
			batch[j] = connect.Row{Values: benchRow(i + j)}
		}
		if err := sink.Write(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	total, peak := conntest.PeakHeap(t, func() (weir.Source[connect.Row], error) {
		return parquet.OpenRows(path, parquet.RowSourceConfig{})
	}, 1000)
	if total != rows {
		t.Fatalf("read %d rows, want %d", total, rows)
	}
	// One row group as rows: 100,000 rows × 8 values of 48 bytes, plus
	// their strings.
	rowGroupAsRows := uint64(group * len(benchColumns) * 48)
	t.Logf("file %.1f MB (%d row groups), peak heap above the start %.1f MB (sampled every 20 reads of 1000 rows); one row group as rows: %.1f MB",
		float64(st.Size())/1e6, rows/group, float64(peak)/1e6, float64(rowGroupAsRows)/1e6)
	if bound := uint64(st.Size()) / 2; peak > bound {
		t.Errorf("peak heap %d bytes > %d (half the file): the file is not streamed", peak, bound)
	}
	if peak > rowGroupAsRows {
		t.Errorf("peak heap %d bytes > %d (one row group as rows): a row group is not streamed", peak, rowGroupAsRows)
	}
}
