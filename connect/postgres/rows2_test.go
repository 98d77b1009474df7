package postgres_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/conntest"
	"github.com/weir-etl/weir/connect/postgres"
)

func kvRow(id int64, v string) connect.Row {
	return connect.Row{Values: []connect.Value{connect.Int64(id), connect.Text(v)}}
}

func TestRowSinkConflicts(t *testing.T) {
	for _, tc := range []struct {
		on   connect.Conflict
		want string // the value of key 2 after the second batch
	}{
		{connect.ConflictIgnore, "old"},
		{connect.ConflictUpdate, "new"},
	} {
		t.Run(tc.on.String(), func(t *testing.T) {
			pool := newDB(t, `CREATE TABLE kv (id bigint PRIMARY KEY, v text NOT NULL)`)
			sink, err := postgres.NewRowSink(pool, postgres.RowSinkConfig{
				Table: connect.Table{Name: "kv", Columns: []string{"id", "v"}, Key: []string{"id"}}, OnConflict: tc.on})
			if err != nil {
				t.Fatal(err)
			}
			if err := sink.Write(t.Context(), []connect.Row{kvRow(1, "old"), kvRow(2, "old")}); err != nil {
				t.Fatal(err)
			}
			if err := sink.Write(t.Context(), []connect.Row{kvRow(2, "new"), kvRow(3, "new")}); err != nil {
				t.Fatal(err)
			}
			var v string
			if err := pool.QueryRow(t.Context(), `SELECT v FROM kv WHERE id = 2`).Scan(&v); err != nil {
				t.Fatal(err)
			}
			if v != tc.want {
				t.Errorf("key 2 = %q after a conflicting write, want %q", v, tc.want)
			}
			if n := count(t, pool, `SELECT count(*) FROM kv`); n != 3 {
				t.Errorf("%d rows, want 3", n)
			}
		})
	}
	t.Run("ConflictError fails the batch on a duplicate, with the key", func(t *testing.T) {
		pool := newDB(t, `CREATE TABLE kv (id bigint PRIMARY KEY, v text NOT NULL)`)
		sink, err := postgres.NewRowSink(pool, postgres.RowSinkConfig{Table: connect.Table{Name: "kv", Columns: []string{"id", "v"}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.Write(t.Context(), []connect.Row{kvRow(1, "a")}); err != nil {
			t.Fatal(err)
		}
		err = sink.Write(t.Context(), []connect.Row{kvRow(2, "b"), kvRow(1, "c")})
		if err == nil || !strings.Contains(err.Error(), "Key (id)=(1) already exists") {
			t.Errorf("Write = %v, want a duplicate key error with its DETAIL", err)
		}
		if n := count(t, pool, `SELECT count(*) FROM kv`); n != 1 {
			t.Errorf("%d rows, want 1: the failed batch must load nothing", n)
		}
	})
}

// TestRowSinkTextCopy loads a table with columns of types that have no
// binary encoder, which sends every value as COPY text: the values that
// need escaping there must arrive unchanged.
func TestRowSinkTextCopy(t *testing.T) {
	pool := newDB(t, `CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
		CREATE TABLE odd (id int PRIMARY KEY, m mood, ip inet, tags text[], t text, d date, ts timestamptz, by bytea, n numeric, b boolean)`)
	cols := []string{"id", "m", "ip", "tags", "t", "d", "ts", "by", "n", "b"}
	tricky := "tab\there\\back\nnew\rret \\N é"
	rows := []connect.Row{
		{Values: []connect.Value{connect.Int32(1), connect.Text("happy"), connect.Text("10.0.0.1/32"), connect.Text(`{a,"b c"}`),
			connect.Text(tricky), connect.Date(at("0001-01-01 00:00:00").AddDate(-44, 2, 14)), connect.TimestampTZ(at("1960-05-06 07:08:09.5")),
			connect.Bytes([]byte{0, '\\', '\t'}), connect.Numeric("-1.50"), connect.Bool(true)}},
		{Values: []connect.Value{connect.Int32(2), connect.Null(), connect.Null(), connect.Null(), connect.Text(`\N`),
			connect.Null(), connect.Null(), connect.Null(), connect.Null(), connect.Null()}},
	}
	sink, err := postgres.NewRowSink(pool, postgres.RowSinkConfig{Table: connect.Table{Name: "odd", Columns: cols}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
	got := readTable(t, pool, "odd")
	if len(got) != 2 {
		t.Fatalf("read %d rows, want 2", len(got))
	}
	for i := range rows {
		for j, want := range rows[i].Values {
			if j == 2 && i == 0 {
				want = connect.Text("10.0.0.1") // inet's own text
			}
			if v := got[i].Values[j]; !sameValue(v, want) {
				t.Errorf("row %d, column %s = %q, want %q", i+1, cols[j], v, want)
			}
		}
	}
	var d string
	if err := pool.QueryRow(t.Context(), `SELECT d::text FROM odd WHERE id = 1`).Scan(&d); err != nil || d != "0044-03-15 BC" {
		t.Errorf("date = %q, %v, want 0044-03-15 BC", d, err)
	}
	t.Run("a value the server refuses names the row and the column", func(t *testing.T) {
		bad := []connect.Row{{Values: []connect.Value{connect.Int32(3), connect.Text("furious"), connect.Null(), connect.Null(), connect.Null(),
			connect.Null(), connect.Null(), connect.Null(), connect.Null(), connect.Null()}, Pos: connect.Pos{Name: "moods.csv", Line: 4}}}
		err := sink.Write(t.Context(), bad)
		var re *weir.RecordError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), "moods.csv:4") || !strings.Contains(err.Error(), "column m") {
			t.Errorf("Write = %v, want a *weir.RecordError naming moods.csv:4 and column m", err)
		}
	})
}

func TestCreateTableAndTableColumns(t *testing.T) {
	pool := newDB(t, `CREATE SCHEMA "Sales"`)
	var cols []connect.Column
	for typ := connect.TypeText; typ <= connect.TypeBytes; typ++ {
		cols = append(cols, connect.Column{Name: "Col " + typ.String(), Type: typ})
	}
	key := []string{"Col bigint", "Col text"}
	if err := postgres.CreateTable(t.Context(), pool, "Sales.Order Lines", cols, key); err != nil {
		t.Fatal(err)
	}
	got, exists, err := postgres.TableColumns(t.Context(), pool, "Sales.Order Lines")
	if err != nil || !exists {
		t.Fatalf("TableColumns = %v, %v, %v", got, exists, err)
	}
	if fmt.Sprint(got) != fmt.Sprint(cols) {
		t.Errorf("TableColumns = %v, want %v", got, cols)
	}
	var pk string
	if err := pool.QueryRow(t.Context(), `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '"Sales"."Order Lines"'::regclass AND contype = 'p'`).Scan(&pk); err != nil {
		t.Fatal(err)
	}
	if pk != `PRIMARY KEY ("Col bigint", "Col text")` {
		t.Errorf("primary key = %s", pk)
	}
	if _, exists, err := postgres.TableColumns(t.Context(), pool, "Sales.order lines"); exists || err != nil {
		t.Errorf("TableColumns of a missing table = %v, %v; want false, nil (names are case-sensitive)", exists, err)
	}
	if _, exists, err := postgres.TableColumns(t.Context(), pool, "nope.t"); exists || err != nil {
		t.Errorf("TableColumns in a missing schema = %v, %v; want false, nil", exists, err)
	}
	err = postgres.CreateTable(t.Context(), pool, "Sales.Order Lines", cols, nil)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("CreateTable of an existing table = %v", err)
	}
	err = postgres.CreateTable(t.Context(), pool, "x.", []connect.Column{{Name: "a"}, {Name: "a"}}, []string{"b"})
	for _, w := range []string{"empty part", `"a" is listed twice`, `key column "b"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("CreateTable with bad arguments = %v, lacks %q", err, w)
		}
	}
	const wantSQL = "CREATE TABLE \"s\".\"t\" (\n\t\"id\" bigint,\n\t\"x\" jsonb,\n\tPRIMARY KEY (\"id\")\n)"
	if s := postgres.CreateTableSQL("s.t", []connect.Column{{Name: "id", Type: connect.TypeInt64}, {Name: "x", Type: connect.TypeJSON}}, []string{"id"}); s != wantSQL {
		t.Errorf("CreateTableSQL = %q, want %q", s, wantSQL)
	}
}

func TestRowSourceStreamsWithoutKey(t *testing.T) {
	pool := newDB(t, `CREATE TABLE heap (v text); INSERT INTO heap SELECT 'v' || i FROM generate_series(1, 25) i`)
	for _, cfg := range []postgres.RowSourceConfig{{Table: "heap"}, {Query: `SELECT v FROM heap ORDER BY v`}} {
		src, err := postgres.NewRowSource(t.Context(), pool, cfg)
		if err != nil {
			t.Fatal(err)
		}
		rows := readRows(t, src, 4)
		if len(rows) != 25 || rows[24].Pos.Line != 25 {
			t.Errorf("%+v: read %d rows, want 25 numbered to 25", cfg, len(rows))
		}
		if _, err := src.Position(); err == nil {
			t.Errorf("%+v: Position = nil error, want an error: the source cannot resume", cfg)
		}
		if err := src.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := src.Read(t.Context(), make([]connect.Row, 1)); !errors.Is(err, postgres.ErrClosed) {
			t.Errorf("Read after Close = %v, want ErrClosed", err)
		}
	}
	// Closing mid-stream gives the connection back to the pool.
	src, err := postgres.NewRowSource(t.Context(), pool, postgres.RowSourceConfig{Table: "heap"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := src.Read(t.Context(), make([]connect.Row, 3)); n != 3 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if acquired := pool.Stat().AcquiredConns(); acquired != 1 {
		t.Errorf("%d connections held mid-stream, want 1", acquired)
	}
	src.Close(t.Context())
	if acquired := pool.Stat().AcquiredConns(); acquired != 0 {
		t.Errorf("%d connections held after Close, want 0", acquired)
	}
}

// compositeDDL is a table keyed by two columns, one a timestamp, with a
// date of infinity at key (3, ...) for the malformed case.
const compositeDDL = `CREATE TABLE events (day int, at timestamptz, what text, n numeric, PRIMARY KEY (day, at));
	INSERT INTO events SELECT i / 10, '2024-01-01'::timestamptz + i * interval '1.000001 second', 'e' || i, i / 7.0
	FROM generate_series(1, 120) i;
	CREATE TABLE bad_events AS SELECT day, at, what FROM events; ALTER TABLE bad_events ADD PRIMARY KEY (day, at);
	ALTER TABLE bad_events ADD COLUMN d date; UPDATE bad_events SET d = CASE WHEN what = 'e50' THEN 'infinity'::date ELSE '2024-01-01'::date END`

func TestRowSourceConformance(t *testing.T) {
	pool := newDB(t, compositeDDL)
	want := readTable(t, pool, "events")
	if len(want) != 120 {
		t.Fatalf("read %d events, want 120", len(want))
	}
	open := func(cfg postgres.RowSourceConfig) func(*testing.T) weir.Source[connect.Row] {
		return func(t *testing.T) weir.Source[connect.Row] {
			src, err := postgres.NewRowSource(t.Context(), pool, cfg)
			if err != nil {
				t.Fatal(err)
			}
			return src
		}
	}
	good, err := postgres.NewRowSource(t.Context(), pool, postgres.RowSourceConfig{
		Query: `SELECT * FROM bad_events WHERE d <> 'infinity'`, Key: []string{"day", "at"}})
	if err != nil {
		t.Fatal(err)
	}
	badWant := readRows(t, good, 10)[:49] // the rows before e50
	conntest.Source(t, conntest.SourceCase[connect.Row]{
		Open: open(postgres.RowSourceConfig{Table: "events", PageSize: 11}),
		Want: want,
		// Lines count from the start of each read, so only the values
		// must match.
		Equal: func(a, b connect.Row) bool { return fmt.Sprint(a.Values) == fmt.Sprint(b.Values) },
		Malformed: &conntest.MalformedCase[connect.Row]{
			Open: open(postgres.RowSourceConfig{Table: "bad_events", PageSize: 11}), Before: badWant,
			ErrContains: `row with key (5, 2024-01-01 00:00:50.00005+00): column "d": date infinity`,
		},
		BadPositions: [][]byte{[]byte(``), []byte(`{}`), []byte(`{"key":"1"}`), []byte(`{"key":["1"]}`), []byte(`{"key":[1,2]}`),
			[]byte(`{"key":["1","2"],"x":1}`), []byte(`{"key":["1","2"]} {}`)},
	})
}

func TestRowSinkConformance(t *testing.T) {
	var recs []connect.Row
	for i := range 300 {
		recs = append(recs, connect.Row{Values: []connect.Value{connect.Int64(int64(i)), connect.Text(fmt.Sprintf("ü%d\t\n", i)),
			connect.Numeric(fmt.Sprintf("%d.%02d", i, i%100)), connect.TimestampTZ(at("1950-01-01 00:00:00.000001").AddDate(0, 0, i)),
			connect.JSON(fmt.Sprintf(`{"i": %d}`, i))}})
	}
	failing := []connect.Row{recs[0], {Values: []connect.Value{connect.Int64(1 << 40), connect.Text("x"), connect.Text("not a number"), connect.Null(), connect.Null()}}}
	failing[0].Values = append([]connect.Value{connect.Int64(1 << 41)}, failing[0].Values[1:]...)
	for _, on := range []connect.Conflict{connect.ConflictError, connect.ConflictIgnore, connect.ConflictUpdate} {
		t.Run(on.String(), func(t *testing.T) {
			conntest.Sink(t, conntest.SinkCase[connect.Row]{
				Open: func(t *testing.T) (weir.Sink[connect.Row], func() []connect.Row) {
					pool := newDB(t, `CREATE TABLE r (id bigint PRIMARY KEY, t text, n numeric, at timestamptz, j jsonb)`)
					sink, err := postgres.NewRowSink(pool, postgres.RowSinkConfig{
						Table: connect.Table{Name: "r", Columns: []string{"id", "t", "n", "at", "j"}, Key: []string{"id"}}, OnConflict: on})
					if err != nil {
						t.Fatal(err)
					}
					return sink, func() []connect.Row { return readTable(t, pool, "r") }
				},
				Records:    recs,
				Equal:      func(a, b connect.Row) bool { return fmt.Sprint(a.Values) == fmt.Sprint(b.Values) },
				Failing:    failing,
				Idempotent: on != connect.ConflictError,
				Concurrent: true,
			})
		})
	}
	t.Run("WriteCheckpoint", func(t *testing.T) {
		conntest.CheckpointSink(t, conntest.CheckpointSinkCase[connect.Row]{
			Open: func(t *testing.T) (weir.CheckpointSink[connect.Row], weir.CheckpointStore, func() []connect.Row) {
				pool := newDB(t, `CREATE TABLE r (id bigint PRIMARY KEY, t text, n numeric, at timestamptz, j jsonb)`)
				sink, err := postgres.NewRowSink(pool, postgres.RowSinkConfig{
					Table: connect.Table{Name: "r", Columns: []string{"id", "t", "n", "at", "j"}, Key: []string{"id"}}})
				if err != nil {
					t.Fatal(err)
				}
				store, err := postgres.NewCheckpointStore(t.Context(), pool)
				if err != nil {
					t.Fatal(err)
				}
				return sink, store, func() []connect.Row { return readTable(t, pool, "r") }
			},
			Records: recs,
			Equal:   func(a, b connect.Row) bool { return fmt.Sprint(a.Values) == fmt.Sprint(b.Values) },
			Failing: failing,
		})
	})
}
