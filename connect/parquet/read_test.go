package parquet_test

import (
	"context"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/parquet"
)

type inner struct {
	X int64   `parquet:"x"`
	Y *string `parquet:"y,optional"`
}

type nested struct {
	A     int32   `parquet:"a"`
	B     *string `parquet:"b,optional"`
	Inner []inner `parquet:"inner,list"`
}

// everyType has a column of each Parquet type the package maps, in the
// form parquet-go writes it.
type everyType struct {
	I8       int8             `parquet:"i8"`
	I16      int16            `parquet:"i16"`
	I32      int32            `parquet:"i32"`
	I64      int64            `parquet:"i64"`
	U8       uint8            `parquet:"u8"`
	U16      uint16           `parquet:"u16"`
	U32      uint32           `parquet:"u32"`
	U64      uint64           `parquet:"u64"`
	B        bool             `parquet:"b"`
	F32      float32          `parquet:"f32"`
	F64      float64          `parquet:"f64"`
	S        string           `parquet:"s"`
	Enum     string           `parquet:"enum,enum"`
	UUID     [16]byte         `parquet:"uuid,uuid"`
	Raw      []byte           `parquet:"raw"`
	Dec32    int32            `parquet:"dec32,decimal(2:9)"`
	Dec64    int64            `parquet:"dec64,decimal(4:18)"`
	DecFixed [16]byte         `parquet:"decfixed,decimal(3:38)"`
	Date     int32            `parquet:"date,date"`
	TsMs     int64            `parquet:"ts_ms,timestamp(millisecond:utc)"`
	TsUs     int64            `parquet:"ts_us,timestamp(microsecond:utc)"`
	TsNs     int64            `parquet:"ts_ns,timestamp(nanosecond:utc)"`
	TsLocal  int64            `parquet:"ts_local,timestamp(microsecond:local)"`
	TimeMs   int32            `parquet:"time_ms,time(millisecond)"`
	TimeUs   int64            `parquet:"time_us,time(microsecond)"`
	TimeNs   int64            `parquet:"time_ns,time(nanosecond)"`
	JS       string           `parquet:"js,json"`
	OptInt   *int64           `parquet:"opt_int,optional"`
	OptS     *string          `parquet:"opt_s,optional"`
	List     []int32          `parquet:"list,list"`
	OptList  []*string        `parquet:"opt_list,list"`
	Tags     []string         `parquet:"tags"`
	Map      map[string]int32 `parquet:"map"`
	Nested   *nested          `parquet:"nested,optional"`
}

var wantColumns = []connect.Column{
	col("i8", connect.TypeInt32), col("i16", connect.TypeInt32), col("i32", connect.TypeInt32), col("i64", connect.TypeInt64),
	col("u8", connect.TypeInt32), col("u16", connect.TypeInt32), col("u32", connect.TypeInt64), col("u64", connect.TypeNumeric),
	col("b", connect.TypeBool), col("f32", connect.TypeFloat64), col("f64", connect.TypeFloat64),
	col("s", connect.TypeText), col("enum", connect.TypeText), col("uuid", connect.TypeText), col("raw", connect.TypeBytes),
	col("dec32", connect.TypeNumeric), col("dec64", connect.TypeNumeric), col("decfixed", connect.TypeNumeric),
	col("date", connect.TypeDate), col("ts_ms", connect.TypeTimestampTZ), col("ts_us", connect.TypeTimestampTZ),
	col("ts_ns", connect.TypeTimestampTZ), col("ts_local", connect.TypeTimestamp),
	col("time_ms", connect.TypeText), col("time_us", connect.TypeText), col("time_ns", connect.TypeText),
	col("js", connect.TypeJSON), col("opt_int", connect.TypeInt64), col("opt_s", connect.TypeText),
	col("list", connect.TypeJSON), col("opt_list", connect.TypeJSON), col("tags", connect.TypeJSON),
	col("map", connect.TypeJSON), col("nested", connect.TypeJSON),
}

func ptr[T any](v T) *T { return &v }

// twos returns n as a 16-byte big-endian two's complement number.
func twos(n int64) (b [16]byte) {
	v := big.NewInt(n)
	if n < 0 {
		v.Add(v, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	v.FillBytes(b[:])
	return b
}

var everyRows = []everyType{{
	I8: -8, I16: -16, I32: -32, I64: -64, U8: 250, U16: 65000, U32: 4_000_000_000, U64: 18446744073709551615,
	B: true, F32: 1.5, F64: 2.25, S: "héllo, 世界", Enum: "RED",
	UUID: [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, Raw: []byte{0, 1, 2, 255},
	Dec32: -12345, Dec64: 5, DecFixed: twos(-1234567), Date: 19000,
	TsMs: 1700000000123, TsUs: 1700000000123456, TsNs: 1700000000123456000, TsLocal: 1700000000123456,
	TimeMs: 3723004, TimeUs: 3723000005, TimeNs: 3723000000007, JS: `{"a":[1,2]}`,
	OptInt: ptr(int64(7)), List: []int32{1, 2, 3}, OptList: []*string{ptr("a"), nil}, Tags: []string{"x", "y"},
	Map:    map[string]int32{"k": 1},
	Nested: &nested{A: 1, Inner: []inner{{X: 5, Y: ptr("z")}, {X: 6}}},
}, {
	JS: `null`, // all else zero: NULLs, empty lists and map
}, {
	Dec64: -5, DecFixed: twos(1), TsMs: -1, Date: -1, S: "",
	OptS: ptr(""), Nested: &nested{A: 2, B: ptr("q")}, JS: `[]`,
}}

var wantValues = [][]connect.Value{{
	connect.Int32(-8), connect.Int32(-16), connect.Int32(-32), connect.Int64(-64),
	connect.Int32(250), connect.Int32(65000), connect.Int64(4_000_000_000), connect.Numeric("18446744073709551615"),
	connect.Bool(true), connect.Float64(1.5), connect.Float64(2.25),
	connect.Text("héllo, 世界"), connect.Text("RED"), connect.Text("00010203-0405-0607-0809-0a0b0c0d0e0f"), connect.Bytes([]byte{0, 1, 2, 255}),
	connect.Numeric("-123.45"), connect.Numeric("0.0005"), connect.Numeric("-1234.567"),
	connect.Date(time.Date(2022, 1, 8, 0, 0, 0, 0, time.UTC)),
	connect.TimestampTZ(time.UnixMilli(1700000000123)), connect.TimestampTZ(time.UnixMicro(1700000000123456)),
	connect.TimestampTZ(time.UnixMicro(1700000000123456)), connect.Timestamp(time.UnixMicro(1700000000123456).UTC()),
	connect.Text("01:02:03.004"), connect.Text("01:02:03.000005"), connect.Text("01:02:03.000000007"),
	connect.JSON(`{"a":[1,2]}`), connect.Int64(7), connect.Null(),
	connect.JSON(`[1,2,3]`), connect.JSON(`["a",null]`), connect.JSON(`["x","y"]`), connect.JSON(`{"k":1}`),
	connect.JSON(`{"a":1,"b":null,"inner":[{"x":5,"y":"z"},{"x":6,"y":null}]}`),
}, {
	connect.Int32(0), connect.Int32(0), connect.Int32(0), connect.Int64(0),
	connect.Int32(0), connect.Int32(0), connect.Int64(0), connect.Numeric("0"),
	connect.Bool(false), connect.Float64(0), connect.Float64(0),
	connect.Text(""), connect.Text(""), connect.Text("00000000-0000-0000-0000-000000000000"), connect.Bytes(nil),
	connect.Numeric("0.00"), connect.Numeric("0.0000"), connect.Numeric("0.000"),
	connect.Date(time.Unix(0, 0).UTC()),
	connect.TimestampTZ(time.Unix(0, 0)), connect.TimestampTZ(time.Unix(0, 0)),
	connect.TimestampTZ(time.Unix(0, 0)), connect.Timestamp(time.Unix(0, 0).UTC()),
	connect.Text("00:00:00"), connect.Text("00:00:00"), connect.Text("00:00:00"),
	connect.JSON(`null`), connect.Null(), connect.Null(),
	connect.JSON(`[]`), connect.JSON(`[]`), connect.JSON(`[]`), connect.JSON(`{}`), connect.Null(),
}, {
	connect.Int32(0), connect.Int32(0), connect.Int32(0), connect.Int64(0),
	connect.Int32(0), connect.Int32(0), connect.Int64(0), connect.Numeric("0"),
	connect.Bool(false), connect.Float64(0), connect.Float64(0),
	connect.Text(""), connect.Text(""), connect.Text("00000000-0000-0000-0000-000000000000"), connect.Bytes(nil),
	connect.Numeric("0.00"), connect.Numeric("-0.0005"), connect.Numeric("0.001"),
	connect.Date(time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)),
	connect.TimestampTZ(time.UnixMilli(-1)), connect.TimestampTZ(time.Unix(0, 0)),
	connect.TimestampTZ(time.Unix(0, 0)), connect.Timestamp(time.Unix(0, 0).UTC()),
	connect.Text("00:00:00"), connect.Text("00:00:00"), connect.Text("00:00:00"),
	connect.JSON(`[]`), connect.Null(), connect.Text(""),
	connect.JSON(`[]`), connect.JSON(`[]`), connect.JSON(`[]`), connect.JSON(`{}`),
	connect.JSON(`{"a":2,"b":"q","inner":[]}`),
}}

// writeGeneric writes rows with parquet-go's own writer, groupRows rows
// per row group, and returns the file's path.
func writeGeneric[T any](t *testing.T, name string, rows []T, groupRows int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pq.NewGenericWriter[T](f, pq.MaxRowsPerRowGroup(groupRows))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// readAll reads src to io.EOF, bufSize rows at a time.
func readAll(t *testing.T, src *parquet.RowSource, bufSize int) []connect.Row {
	t.Helper()
	var out []connect.Row
	buf := make([]connect.Row, bufSize)
	for {
		n, err := src.Read(context.Background(), buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadEveryTypeExactly(t *testing.T) {
	path := writeGeneric(t, "every.parquet", everyRows, 2) // two row groups
	src, err := parquet.OpenRows(path, parquet.RowSourceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(context.Background())
	cols := src.Columns()
	if len(cols) != len(wantColumns) {
		t.Fatalf("columns %v, want %v", cols, wantColumns)
	}
	for i, c := range cols {
		if c != wantColumns[i] {
			t.Errorf("column %d is %v, want %v", i, c, wantColumns[i])
		}
	}
	rows := readAll(t, src, 2)
	if len(rows) != len(wantValues) {
		t.Fatalf("read %d rows, want %d", len(rows), len(wantValues))
	}
	for i, r := range rows {
		if r.Pos != (connect.Pos{Name: path, Line: int64(i + 1)}) {
			t.Errorf("row %d: Pos %v", i, r.Pos)
		}
		for j, v := range r.Values {
			if w := wantValues[i][j]; v != w {
				t.Errorf("row %d column %s: got %v (%v), want %v (%v)", i+1, cols[j].Name, v, v.Type(), w, w.Type())
			}
		}
	}
}

// A glob reads its files in name order, numbering each file's rows from 1.
func TestGlobReadsFilesInOrder(t *testing.T) {
	dir := t.TempDir()
	type rec struct {
		ID int64 `parquet:"id"`
	}
	for i, name := range []string{"b.parquet", "a.parquet"} {
		p := writeGeneric(t, name, []rec{{int64(10 * i)}, {int64(10*i + 1)}}, 1)
		if err := os.Rename(p, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	src, err := parquet.OpenRows(filepath.Join(dir, "*.parquet"), parquet.RowSourceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(context.Background())
	var got []string
	for _, r := range readAll(t, src, 3) {
		got = append(got, filepath.Base(r.Pos.String())+"="+r.Values[0].String())
	}
	if want := "a.parquet:1=10 a.parquet:2=11 b.parquet:1=0 b.parquet:2=1"; strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}
