package postgres_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
)

const bagsDDL = `
CREATE TABLE bags (id int PRIMARY KEY, owner text NOT NULL);
CREATE TABLE items (bag_id int NOT NULL REFERENCES bags (id), n int NOT NULL, label text, PRIMARY KEY (bag_id, n))`

// bag is a record whose fields are loosely typed, so that a test can give
// a column a value it cannot hold.
type bag struct {
	ID     any
	Owner  any
	Labels []any // one items row each
}

type bagSplitter struct{}

func (bagSplitter) Tables() []connect.Table {
	return []connect.Table{
		{Name: "bags", Columns: []string{"id", "owner"}, Key: []string{"id"}},
		{Name: "items", Columns: []string{"bag_id", "n", "label"}, Key: []string{"bag_id", "n"}},
	}
}

func (bagSplitter) Split(b bag, w connect.RowWriter) error {
	w.Row(0, val(b.ID), val(b.Owner))
	for i, l := range b.Labels {
		w.Row(1, val(b.ID), connect.Int64(int64(i+1)), val(l))
	}
	return nil
}

// val types a bag's loose value for a RowWriter: ints as bigint, strings as
// text, anything else as a boolean (which a text column refuses).
func val(v any) connect.Value {
	switch v := v.(type) {
	case int:
		return connect.Int64(int64(v))
	case int64:
		return connect.Int64(v)
	case string:
		return connect.Text(v)
	}
	return connect.Bool(true)
}

// makeBags returns n good bags, bag i holding i%3+1 items, so that a row's
// index in items is not its record's index.
func makeBags(n int) []bag {
	bags := make([]bag, n)
	for i := range bags {
		bags[i] = bag{ID: i + 1, Owner: fmt.Sprintf("owner %d", i)}
		for j := range i%3 + 1 {
			bags[i].Labels = append(bags[i].Labels, fmt.Sprintf("label %d.%d", i, j))
		}
	}
	return bags
}

// bagSinks returns every sink of the package over the bags tables, each
// created fresh in a database of its own.
func bagSinks(t *testing.T) map[string]func(t *testing.T) weir.Sink[bag] {
	single := func(on connect.Conflict) func(t *testing.T) weir.Sink[bag] {
		return func(t *testing.T) weir.Sink[bag] {
			s, err := postgres.NewSink(newDB(t, bagsDDL), postgres.SinkConfig[bag]{
				Table:      connect.Table{Name: "bags", Columns: []string{"id", "owner"}, Key: []string{"id"}},
				Values:     func(b bag, row []any) []any { return append(row, b.ID, b.Owner) },
				OnConflict: on,
			})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	multi := func(on connect.Conflict) func(t *testing.T) weir.Sink[bag] {
		return func(t *testing.T) weir.Sink[bag] {
			s, err := postgres.NewMultiSink(newDB(t, bagsDDL), postgres.MultiSinkConfig[bag]{Splitter: bagSplitter{}, OnConflict: on})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	return map[string]func(t *testing.T) weir.Sink[bag]{
		"Sink/ConflictError":       single(connect.ConflictError),
		"Sink/ConflictIgnore":      single(connect.ConflictIgnore),
		"Sink/ConflictUpdate":      single(connect.ConflictUpdate),
		"MultiSink/ConflictError":  multi(connect.ConflictError),
		"MultiSink/ConflictUpdate": multi(connect.ConflictUpdate),
	}
}

// TestCopyValueErrorsNameRecordTableColumn gives each sink a batch with one
// value the COPY cannot carry. pgx aborts a COPY whose value it cannot
// encode, and the server then reports a cancelled query (57014); the sink
// must report the encoding error instead, as a *weir.RecordError naming
// the record, with the table and the column. Text the server refuses
// (invalid UTF-8, NUL) keeps the server's error and gains the same names.
// MultiSink encodes typed values itself and refuses them before the
// server sees them (wantMulti).
func TestCopyValueErrorsNameRecordTableColumn(t *testing.T) {
	const bad = 4
	cases := []struct {
		name     string
		multi    bool // the case needs the items table
		spoil    func(b *bag)
		table    string
		column   string
		wantCode string // the server error the chain must hold (Sink); "" for none
		want     string // in the message (Sink)
		// in the message of MultiSink, whose typed encoder refuses every
		// case itself, before the server
		wantMulti string
	}{
		{"string into integer", false, func(b *bag) { b.ID = "four" }, "bags", "id", "", `unable to encode "four"`, "does not fit"},
		{"integer out of range", false, func(b *bag) { b.ID = int64(1) << 40 }, "bags", "id", "", "unable to encode 1099511627776", "out of range for integer"},
		{"invalid UTF-8 into text", false, func(b *bag) { b.Owner = "caf\xe9" }, "bags", "owner", "22021", "not valid UTF-8", "not valid UTF-8"},
		{"NUL into text", false, func(b *bag) { b.Owner = "a\x00b" }, "bags", "owner", "22021", "NUL", "NUL"},
		{"struct into text of a child row", true, func(b *bag) { b.Labels[1] = struct{ X int }{1} }, "items", "label", "", "unable to encode", "does not fit"},
		{"invalid UTF-8 into text of a child row", true, func(b *bag) { b.Labels[1] = "\xff" }, "items", "label", "22021", "not valid UTF-8", "not valid UTF-8"},
	}
	for sinkName, newSink := range bagSinks(t) {
		// A failed Write loads nothing: one sink serves every case.
		sink := newSink(t)
		for _, c := range cases {
			if c.multi && !strings.HasPrefix(sinkName, "MultiSink") {
				continue
			}
			t.Run(sinkName+"/"+c.name, func(t *testing.T) {
				batch := makeBags(8)
				c.spoil(&batch[bad])
				err := sink.Write(t.Context(), batch)
				if err == nil {
					t.Fatal("Write succeeded")
				}
				var re *weir.RecordError
				if !errors.As(err, &re) || re.Index != bad {
					t.Fatalf("err = %v, want a *weir.RecordError for record %d", err, bad)
				}
				msg := err.Error()
				t.Log(msg)
				multi := strings.HasPrefix(sinkName, "MultiSink")
				want, wantCode := c.want, c.wantCode
				if multi {
					want, wantCode = c.wantMulti, ""
				}
				for _, w := range []string{"copy " + c.table, "column " + c.column, `column "` + c.column + `"`, want} {
					if strings.HasPrefix(w, "column") && !strings.Contains(msg, "column "+c.column) && !strings.Contains(msg, `column "`+c.column+`"`) {
						t.Errorf("error %q does not name column %s", msg, c.column)
					}
					if !strings.HasPrefix(w, "column") && !strings.Contains(msg, w) {
						t.Errorf("error %q lacks %q", msg, w)
					}
				}
				var pgErr *pgconn.PgError
				switch hasPG := errors.As(err, &pgErr); {
				case wantCode == "" && hasPG:
					t.Errorf("error holds server error %s (%v), want the encoding error alone", pgErr.Code, pgErr)
				case wantCode != "" && (!hasPG || pgErr.Code != wantCode):
					t.Errorf("error %q does not hold server error %s", msg, wantCode)
				}
				if strings.Contains(msg, "57014") || strings.Contains(msg, "cancel") {
					t.Errorf("error %q reports a cancelled query", msg)
				}
				if postgres.Retryable(err) {
					t.Errorf("error %q is reported retryable", msg)
				}
			})
		}
	}
}

// TestCopyValueErrorIsARunPosition checks that the engine turns the
// sink's record index into the record's position in the run.
func TestCopyValueErrorIsARunPosition(t *testing.T) {
	sink, err := postgres.NewMultiSink(newDB(t, bagsDDL), postgres.MultiSinkConfig[bag]{Splitter: bagSplitter{}})
	if err != nil {
		t.Fatal(err)
	}
	bags := makeBags(40)
	bags[27].Labels[0] = []string{"not", "text"}
	p, err := weir.New(weir.FromSlice(bags), weir.Identity[bag](), weir.Sink[bag](sink), weir.Config{BatchSize: 8, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Run(t.Context())
	var se *weir.StageError
	if !errors.As(err, &se) || se.Record != 27 {
		t.Fatalf("Run: %v, want a *weir.StageError at record 27", err)
	}
	if !strings.Contains(err.Error(), `copy items: column "label"`) {
		t.Errorf("error %q does not name the table and column", err)
	}
}

// TestServerErrorsCarryDetail checks that the DETAIL and HINT of server
// errors reach the caller, while errors.As still finds the
// *pgconn.PgError and Retryable still classifies it.
func TestServerErrorsCarryDetail(t *testing.T) {
	check := func(t *testing.T, err error, code string, want ...string) {
		t.Helper()
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != code {
			t.Fatalf("err = %v, want server error %s", err, code)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
		if postgres.Retryable(err) {
			t.Errorf("error %q is reported retryable", err)
		}
	}
	dup := makeBags(10)
	dup[9].ID = 7
	for sinkName, newSink := range bagSinks(t) {
		if strings.HasSuffix(sinkName, "ConflictError") {
			t.Run(sinkName+"/duplicate key", func(t *testing.T) {
				err := newSink(t).Write(t.Context(), dup)
				check(t, err, "23505", "DETAIL: Key (id)=(7) already exists.", "line 10")
			})
		}
	}
	t.Run("MultiSink/ConflictUpdate/foreign key", func(t *testing.T) {
		pool := newDB(t, bagsDDL)
		if err := postgres.Exec(t.Context(), pool, `ALTER TABLE items DROP CONSTRAINT items_bag_id_fkey;
			ALTER TABLE items ADD FOREIGN KEY (bag_id) REFERENCES bags (id) DEFERRABLE INITIALLY DEFERRED`); err != nil {
			t.Fatal(err)
		}
		sink, err := postgres.NewMultiSink(pool, postgres.MultiSinkConfig[bag]{Splitter: orphanSplitter{}, OnConflict: connect.ConflictUpdate})
		if err != nil {
			t.Fatal(err)
		}
		// Checked at commit: the error comes from COMMIT, not the COPY.
		err = sink.Write(t.Context(), makeBags(3))
		check(t, err, "23503", "commit", `DETAIL: Key (bag_id)=(1001) is not present in table "bags".`)
	})
	t.Run("Exec/hint", func(t *testing.T) {
		err := postgres.Exec(t.Context(), newDB(t, bagsDDL), `SELECT no_such_function(1)`)
		check(t, err, "42883", "HINT: No function matches")
	})
}

// orphanSplitter writes items rows pointing at bags that do not exist.
type orphanSplitter struct{ bagSplitter }

func (orphanSplitter) Split(b bag, w connect.RowWriter) error {
	w.Row(0, val(b.ID), val(b.Owner))
	w.Row(1, val(b.ID.(int)+1000), connect.Int64(1), connect.Text("orphan"))
	return nil
}
