package parquet_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/conntest"
	"github.com/weir-etl/weir/connect/parquet"
)

// allTypes is a column of each connect.Type.
var allTypes = []connect.Column{
	col("id", connect.TypeInt64), col("name", connect.TypeText), col("ok", connect.TypeBool), col("n32", connect.TypeInt32),
	col("score", connect.TypeFloat64), col("amount", connect.TypeNumeric), col("born", connect.TypeDate),
	col("local", connect.TypeTimestamp), col("at", connect.TypeTimestampTZ), col("doc", connect.TypeJSON), col("blob", connect.TypeBytes),
}

// typedRows returns n rows of allTypes, every fifth value NULL.
func typedRows(n int) []connect.Row {
	base := time.Date(2024, 5, 1, 10, 30, 0, 123456000, time.UTC)
	rows := make([]connect.Row, n)
	for i := range rows {
		vals := []connect.Value{
			connect.Int64(int64(i + 1)), connect.Text(fmt.Sprintf("name %d, «%d»", i, i)), connect.Bool(i%2 == 0),
			connect.Int32(int32(-i)), connect.Float64(float64(i) / 8), connect.Numeric(fmt.Sprintf("%d.%02d", i, i%100)),
			connect.Date(base.AddDate(0, 0, i)), connect.Timestamp(base.Add(time.Duration(i) * time.Second)),
			connect.TimestampTZ(base.Add(-time.Duration(i) * time.Microsecond)),
			connect.JSON(fmt.Sprintf(`{"i":%d,"tags":["a","b"]}`, i)), connect.Bytes([]byte{byte(i), 0, 255}),
		}
		if i > 0 {
			vals[i%len(vals)] = connect.Null()
		}
		rows[i] = connect.Row{Values: vals}
	}
	return rows
}

func sameValues(a, b connect.Row) bool { return slices.Equal(a.Values, b.Values) }

// writeRows writes rows with a RowSink, groupRows rows per row group.
func writeRows(t *testing.T, path string, cols []connect.Column, rows []connect.Row, groupRows int) {
	t.Helper()
	sink, err := parquet.CreateRows(path, parquet.RowSinkConfig{Columns: cols, RowGroupRows: groupRows})
	if err != nil {
		t.Fatal(err)
	}
	for b := range slices.Chunk(rows, 7) {
		if err := sink.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRowSourceContract(t *testing.T) {
	path := filepath.Join(t.TempDir(), "typed.parquet")
	rows := typedRows(40)
	writeRows(t, path, allTypes, rows, 6) // 7 row groups
	want := slices.Clone(rows)
	for i := range want {
		want[i].Pos = connect.Pos{Name: path, Line: int64(i + 1)}
	}
	conntest.Source(t, conntest.SourceCase[connect.Row]{
		Open: func(t *testing.T) weir.Source[connect.Row] {
			src, err := parquet.OpenRows(path, parquet.RowSourceConfig{})
			if err != nil {
				t.Fatal(err)
			}
			return src
		},
		Want:  want,
		Equal: func(a, b connect.Row) bool { return sameValues(a, b) && a.Pos == b.Pos },
		BadPositions: [][]byte{
			[]byte(`{"file":"other.parquet","row":1}`),
			[]byte(fmt.Sprintf(`{"file":%q,"row":41}`, path)),
			[]byte(fmt.Sprintf(`{"file":%q,"row":-1}`, path)),
			[]byte(fmt.Sprintf(`{"file":%q}`, path)),
			[]byte(`{"row":1}`),
			[]byte(`not json`),
		},
	})
}

func TestRowSinkContract(t *testing.T) {
	rows := typedRows(30)
	failing := []connect.Row{typedRows(1)[0], {Values: []connect.Value{connect.Text("too few")}}}
	conntest.Sink(t, conntest.SinkCase[connect.Row]{
		Open: func(t *testing.T) (weir.Sink[connect.Row], func() []connect.Row) {
			path := filepath.Join(t.TempDir(), "out.parquet")
			sink, err := parquet.CreateRows(path, parquet.RowSinkConfig{Columns: allTypes, RowGroupRows: 4})
			if err != nil {
				t.Fatal(err)
			}
			return sink, func() []connect.Row {
				src, err := parquet.OpenRows(path, parquet.RowSourceConfig{})
				if err != nil {
					t.Fatal(err)
				}
				defer src.Close(t.Context())
				return readAll(t, src, 5)
			}
		},
		Records:    rows,
		Equal:      sameValues,
		Ordered:    true,
		Failing:    failing,
		Concurrent: true,
	})
}

func TestConfigs(t *testing.T) {
	conntest.Config(t, []conntest.ConfigCase{
		{Name: "source zero value", Config: parquet.RowSourceConfig{}},
		{Name: "source small buffer", Config: parquet.RowSourceConfig{ReadBufferSize: 100}, Want: []string{"RowSourceConfig.ReadBufferSize"}},
		{Name: "sink", Config: parquet.RowSinkConfig{Columns: allTypes}},
		{Name: "sink no columns, negative group", Config: parquet.RowSinkConfig{RowGroupRows: -1},
			Want: []string{"RowSinkConfig.Columns is required", "RowSinkConfig.RowGroupRows"}},
		{Name: "sink repeated name", Config: parquet.RowSinkConfig{Columns: []connect.Column{col("a", 0), col("a", 0)}},
			Want: []string{"RowSinkConfig.Columns[1]"}},
	})
}

func col(name string, t connect.Type) connect.Column { return connect.Column{Name: name, Type: t} }
