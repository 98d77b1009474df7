package mongo_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/conntest"
	weirmongo "github.com/weir-etl/weir/connect/mongo"
	"github.com/weir-etl/weir/connect/schema"
)

var (
	oid1 = mustOID("65a1b2c3d4e5f60718293a01")
	oid2 = mustOID("65a1b2c3d4e5f60718293a02")
	oid3 = mustOID("65a1b2c3d4e5f60718293a03")
	when = time.Date(2024, 2, 29, 13, 4, 5, 123_000_000, time.UTC)
)

func mustOID(hex string) bson.ObjectID {
	id, err := bson.ObjectIDFromHex(hex)
	if err != nil {
		panic(err)
	}
	return id
}

// mixedDocs are documents of every kind a collection holds: nested
// objects, arrays, a missing field, a date, ObjectIDs, ints of both widths
// and doubles. FerretDB (v1) refuses Decimal128 (it drops the connection):
// rows_value_test.go checks decimals on BSON the driver encodes.
func mixedDocs() []any {
	return []any{
		bson.D{{Key: "_id", Value: oid1}, {Key: "name", Value: "alice"}, {Key: "age", Value: int32(30)},
			{Key: "n", Value: int32(7)}, {Key: "score", Value: 1.5}, {Key: "price", Value: "12.50"},
			{Key: "when", Value: bson.NewDateTimeFromTime(when)}, {Key: "active", Value: true},
			{Key: "tags", Value: bson.A{"a", int32(1), 2.5}},
			{Key: "addr", Value: bson.D{{Key: "city", Value: "Oslo"}, {Key: "zip", Value: "0150"},
				{Key: "at", Value: bson.NewDateTimeFromTime(when)}, {Key: "ref", Value: oid3}}},
			{Key: "blob", Value: bson.Binary{Subtype: 0, Data: []byte{0, 1, 0xff}}}},
		// No price, n is a bigint, ref is another document's ObjectID.
		bson.D{{Key: "_id", Value: oid2}, {Key: "name", Value: "bob"}, {Key: "age", Value: int32(41)},
			{Key: "n", Value: int64(1) << 40}, {Key: "score", Value: 2.0}, {Key: "ref", Value: oid1},
			{Key: "when", Value: bson.NewDateTimeFromTime(when.Add(time.Hour))}, {Key: "active", Value: false},
			{Key: "tags", Value: bson.A{}}, {Key: "addr", Value: bson.D{}}},
		// No name; price null.
		bson.D{{Key: "_id", Value: oid3}, {Key: "age", Value: int32(-1)}, {Key: "price", Value: nil},
			{Key: "price2", Value: int64(1500)}},
	}
}

var mixedColumns = []string{"_id", "name", "age", "n", "score", "price", "when", "active", "tags", "addr", "blob", "ref", "price2"}

// mixedRows are mixedDocs as a RowSource reads them.
func mixedRows(ns string) []connect.Row {
	null := connect.Null()
	return []connect.Row{
		{Pos: connect.Pos{Name: ns, Line: 1}, Values: []connect.Value{connect.Text(oid1.Hex()), connect.Text("alice"),
			connect.Int32(30), connect.Int32(7), connect.Float64(1.5), connect.Text("12.50"), connect.TimestampTZ(when),
			connect.Bool(true), connect.JSON(`["a",1,2.5]`),
			connect.JSON(`{"city":"Oslo","zip":"0150","at":"2024-02-29T13:04:05.123Z","ref":"` + oid3.Hex() + `"}`),
			connect.Bytes([]byte{0, 1, 0xff}), null, null}},
		{Pos: connect.Pos{Name: ns, Line: 2}, Values: []connect.Value{connect.Text(oid2.Hex()), connect.Text("bob"),
			connect.Int32(41), connect.Int64(1 << 40), connect.Float64(2), null, connect.TimestampTZ(when.Add(time.Hour)),
			connect.Bool(false), connect.JSON(`[]`), connect.JSON(`{}`), null, connect.Text(oid1.Hex()), null}},
		{Pos: connect.Pos{Name: ns, Line: 3}, Values: []connect.Value{connect.Text(oid3.Hex()), null,
			connect.Int32(-1), null, null, null, null, null, null, null, null, null, connect.Int64(1500)}},
	}
}

func newRowSource(t *testing.T, cfg weirmongo.RowSourceConfig) *weirmongo.RowSource {
	t.Helper()
	if cfg.URI == "" && cfg.Client == nil {
		cfg.URI = serverURI
	}
	src, err := weirmongo.NewRowSource(t.Context(), cfg)
	if err != nil {
		t.Fatalf("NewRowSource: %v", err)
	}
	t.Cleanup(func() {
		if err := src.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return src
}

// readRows reads src to io.EOF, k rows at a time, failing on any error.
func readRows(t *testing.T, src weir.Source[connect.Row], k int) []connect.Row {
	t.Helper()
	var got []connect.Row
	buf := make([]connect.Row, k)
	for {
		n, err := src.Read(t.Context(), buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("Read after %d rows: %v", len(got), err)
		}
	}
}

func TestRowSourceValues(t *testing.T) {
	db := testDB(t)
	insert(t, db.Collection("mixed"), mixedDocs())
	ns := db.Name() + ".mixed"
	src := newRowSource(t, weirmongo.RowSourceConfig{Database: db.Name(), Collection: "mixed"})
	if got := src.Columns(); !reflect.DeepEqual(got, mixedColumns) {
		t.Errorf("Columns:\n got %q\nwant %q", got, mixedColumns)
	}
	want := mixedRows(ns)
	if got := src.Sample(); !reflect.DeepEqual(got, want) {
		t.Errorf("Sample:\n got %v\nwant %v", got, want)
	}
	got := readRows(t, src, 2)
	if len(got) != len(want) {
		t.Fatalf("read %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("row %d:\n got %v %v\nwant %v %v", i+1, got[i].Pos, got[i].Values, want[i].Pos, want[i].Values)
		}
	}
}

// TestRowSourceInfer checks that schema.Infer keeps the BSON types of the
// raw values and widens their mixes.
func TestRowSourceInfer(t *testing.T) {
	db := testDB(t)
	insert(t, db.Collection("mixed"), mixedDocs())
	src := newRowSource(t, weirmongo.RowSourceConfig{Database: db.Name(), Collection: "mixed"})
	got := schema.Infer(src.Columns(), src.Sample())
	types := map[string]connect.Type{}
	for _, c := range got {
		types[c.Name] = c.Type
	}
	want := map[string]connect.Type{"_id": connect.TypeText, "name": connect.TypeText, "age": connect.TypeInt32,
		"n": connect.TypeInt64, "score": connect.TypeFloat64, "price": connect.TypeNumeric, "when": connect.TypeTimestampTZ,
		"active": connect.TypeBool, "tags": connect.TypeJSON, "addr": connect.TypeJSON, "blob": connect.TypeBytes,
		"ref": connect.TypeText, "price2": connect.TypeInt64}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("Infer:\n got %v\nwant %v", types, want)
	}
}

// TestRowSourceOtherTypes checks the BSON types that have no connect type,
// and values at their edges.
func TestRowSourceOtherTypes(t *testing.T) {
	db := testDB(t)
	docs := []any{
		bson.D{{Key: "_id", Value: int32(1)}, {Key: "v", Value: bson.Timestamp{T: 5, I: 6}}},
		bson.D{{Key: "_id", Value: int32(2)}, {Key: "v", Value: bson.Regex{Pattern: "^a", Options: "i"}}},
		bson.D{{Key: "_id", Value: int32(3)}, {Key: "v", Value: bson.D{{Key: "b", Value: bson.Binary{Subtype: 4, Data: []byte{1, 2}}},
			{Key: "q", Value: "say \"hi\"\n"}, {Key: "l", Value: int64(9007199254740993)}}}},
		bson.D{{Key: "_id", Value: int32(4)}, {Key: "v", Value: bson.NewDateTimeFromTime(time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC))}},
	}
	insert(t, db.Collection("other"), docs)
	src := newRowSource(t, weirmongo.RowSourceConfig{Database: db.Name(), Collection: "other"})
	want := []connect.Value{
		connect.Text(`{"$timestamp":{"t":5,"i":6}}`),
		connect.Text(`{"$regularExpression":{"pattern":"^a","options":"i"}}`),
		connect.JSON(`{"b":{"$binary":{"base64":"AQI=","subType":"04"}},"q":"say \"hi\"\n","l":9007199254740993}`),
		connect.Text(fmt.Sprintf(`{"$date":{"$numberLong":"%d"}}`, time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())), // a year before 1
	}
	got := readRows(t, src, 10)
	if len(got) != len(want) {
		t.Fatalf("read %d rows, want %d", len(got), len(want))
	}
	for i, w := range want {
		if g := got[i].Values[1]; g != w {
			t.Errorf("document %d: got %v %v, want %v %v", i+1, g.Type(), g, w.Type(), w)
		}
	}
}

// TestRowSourceNewKeyAfterSample: a document after the sample with a key
// outside the columns is a bad record naming the key, which --on-error
// skip sets aside; the read goes on after it.
func TestRowSourceNewKeyAfterSample(t *testing.T) {
	db := testDB(t)
	insert(t, db.Collection("c"), mixedDocs())
	src := newRowSource(t, weirmongo.RowSourceConfig{Database: db.Name(), Collection: "c", SampleSize: 2})
	cols := src.Columns()
	if len(cols) != 12 { // price2 is only in document 3
		t.Fatalf("Columns %q: want the 12 keys of the first 2 documents", cols)
	}
	buf := make([]connect.Row, 10)
	var n int
	var err error
	for rows := 0; err == nil; rows += n {
		if n, err = src.Read(t.Context(), buf); err != nil && rows+n != 2 {
			t.Fatalf("Read returned %v after %d rows, want 2 rows before the error", err, rows+n)
		}
	}
	var bad *weir.BadRecordError
	if !errors.As(err, &bad) {
		t.Fatalf("Read = %v, want a *weir.BadRecordError", err)
	}
	if want := db.Name() + ".c:3"; bad.Pos != want || !strings.Contains(err.Error(), `key "price2" is not among the columns`) ||
		!strings.Contains(err.Error(), `_id ObjectID("`+oid3.Hex()) || !strings.Contains(string(bad.Raw), `"price2"`) {
		t.Errorf("error %q, Pos %q, Raw %s: want Pos %q, the key, the _id and the document", err, bad.Pos, bad.Raw, want)
	}
	pos, err := src.Position()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"_id":{"$oid":"` + oid2.Hex() + `"}}`; string(pos) != want {
		t.Errorf("Position after the bad record = %s, want %s (the row before it)", pos, want)
	}
	if n, err := src.Read(t.Context(), buf); n != 0 || err != io.EOF {
		t.Errorf("Read after the bad record = %d, %v; want 0, io.EOF", n, err)
	}
	if pos, _ := src.Position(); !strings.Contains(string(pos), oid3.Hex()) {
		t.Errorf("Position after reading on = %s, want past the bad record", pos)
	}
}

func TestRowSourceResume(t *testing.T) {
	db := testDB(t)
	coll := db.Collection("docs")
	insertDocs(t, coll, 50)
	cfg := weirmongo.RowSourceConfig{Database: db.Name(), Collection: "docs", PageSize: 4, SampleSize: 12}
	all := readRows(t, newRowSource(t, cfg), 7)
	if len(all) != 50 {
		t.Fatalf("read %d rows, want 50", len(all))
	}

	first := newRowSource(t, cfg)
	buf := make([]connect.Row, 23) // past the sample, mid-page
	if n, err := first.Read(t.Context(), buf); n != 12 || err != nil {
		t.Fatalf("first Read = %d, %v; want the 12 sampled rows", n, err)
	}
	if n, err := first.Read(t.Context(), buf[:2]); n != 2 || err != nil {
		t.Fatalf("second Read = %d, %v; want 2", n, err)
	}
	pos, err := first.Position()
	if err != nil {
		t.Fatal(err)
	}
	if string(pos) != `{"_id":{"$numberLong":"14"}}` {
		t.Errorf("Position = %s, want _id 14", pos)
	}
	if got := first.LastKey(); !reflect.DeepEqual(got, []any{int64(14)}) {
		t.Errorf("LastKey = %#v, want [14]", got)
	}

	t.Run("Seek", func(t *testing.T) {
		again := newRowSource(t, cfg)
		if err := again.Seek(pos); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(again.Columns(), first.Columns()) {
			t.Errorf("Columns after Seek %q, want %q", again.Columns(), first.Columns())
		}
		got := readRows(t, again, 5)
		compareValues(t, got, all[14:])
		if got[0].Pos.Line != 1 {
			t.Errorf("first row after Seek is number %d, want 1 (the ordinal in this read)", got[0].Pos.Line)
		}
		if err := again.Seek(pos); err == nil {
			t.Error("a second Seek succeeded")
		}
	})
	t.Run("After", func(t *testing.T) {
		c := cfg
		c.After = first.LastKey()
		compareValues(t, readRows(t, newRowSource(t, c), 5), all[14:])
	})
}

func compareValues(t *testing.T, got, want []connect.Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i].Values, want[i].Values) {
			t.Fatalf("row %d: got %v, want %v", i, got[i].Values, want[i].Values)
		}
	}
}

func sameRow(a, b connect.Row) bool { return reflect.DeepEqual(a.Values, b.Values) }

func TestRowSourceConformance(t *testing.T) {
	db := testDB(t)
	insertDocs(t, db.Collection("docs"), 40)
	cfg := weirmongo.RowSourceConfig{Database: db.Name(), Collection: "docs", PageSize: 9, SampleSize: 12}
	open := func(cfg weirmongo.RowSourceConfig) func(t *testing.T) weir.Source[connect.Row] {
		return func(t *testing.T) weir.Source[connect.Row] {
			cfg.URI = serverURI
			src, err := weirmongo.NewRowSource(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			return src
		}
	}
	want := readRows(t, newRowSource(t, cfg), 100)

	// Document 20 has a key none of the 12 sampled documents has.
	bad := db.Collection("bad")
	var docs []any
	for i := range int64(40) {
		d := bson.D{{Key: "_id", Value: i + 1}, {Key: "name", Value: fmt.Sprint("n", i+1)}}
		if i == 19 {
			d = append(d, bson.E{Key: "extra", Value: 1})
		}
		docs = append(docs, d)
	}
	insert(t, bad, docs)
	badCfg := cfg
	badCfg.Collection = "bad"
	badWant := readRows(t, newRowSource(t, weirmongo.RowSourceConfig{Database: db.Name(), Collection: "bad",
		SampleSize: 40}), 100)
	for i := range badWant { // without the column "extra"
		badWant[i].Values = badWant[i].Values[:2]
	}
	conntest.Source(t, conntest.SourceCase[connect.Row]{
		Open:  open(cfg),
		Want:  want,
		Equal: sameRow,
		Malformed: &conntest.MalformedCase[connect.Row]{Open: open(badCfg), Before: badWant[:19], After: badWant[20:],
			ErrContains: `(_id 20): key "extra"`},
		BadPositions: badPositions,
	})
}

func TestRowSourceConfigValidate(t *testing.T) {
	conntest.Config(t, []conntest.ConfigCase{
		{Name: "valid", Config: weirmongo.RowSourceConfig{URI: "mongodb://localhost", Database: "d", Collection: "c"}},
		{Name: "nothing set", Config: weirmongo.RowSourceConfig{},
			Want: []string{"mongo: RowSourceConfig.URI is empty", "mongo: RowSourceConfig.Database is empty", "mongo: RowSourceConfig.Collection is empty"}},
		{Name: "bad sizes", Config: weirmongo.RowSourceConfig{Client: client, Database: "d", Collection: "c", SampleSize: -1, PageSize: -2},
			Want: []string{"mongo: RowSourceConfig.SampleSize", "mongo: RowSourceConfig.PageSize"}},
		{Name: "password kept out", Config: weirmongo.RowSourceConfig{URI: "mongodb://u:s3cret@h/?connectTimeoutMS=x", Database: "d", Collection: "c"},
			Want: []string{"mongo: RowSourceConfig.URI"}},
	})
	err := weirmongo.RowSourceConfig{URI: "mongodb://u:s3cret@h/?connectTimeoutMS=x", Database: "d", Collection: "c"}.Validate()
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Validate = %v: want an error without the password", err)
	}
}
