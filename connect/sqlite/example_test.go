package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/sqlite"
)

// exampleDB opens a database in a fresh temporary directory; cleanup
// closes it and removes the directory.
func exampleDB(schema string) (db *sql.DB, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "weir-sqlite-example")
	if err != nil {
		return nil, nil, err
	}
	db, err = sqlite.Open(filepath.Join(dir, "example.db"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	cleanup = func() { db.Close(); os.RemoveAll(dir) }
	if err := sqlite.Exec(context.Background(), db, schema); err != nil {
		cleanup()
		return nil, nil, err
	}
	return db, cleanup, nil
}

// Load records into one table with a pipeline; a re-run with
// OnConflict ConflictIgnore adds nothing.
func ExampleNewSink() {
	db, cleanup, err := exampleDB(`CREATE TABLE cities (name TEXT PRIMARY KEY, population INTEGER NOT NULL)`)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()

	type city struct {
		Name string
		Pop  int64
	}
	cities := []city{{"Zürich", 421878}, {"Genève", 203856}, {"Basel", 173863}}
	for run := 1; run <= 2; run++ {
		sink, err := sqlite.NewSink(db, sqlite.SinkConfig[city]{
			Table:      connect.Table{Name: "cities", Columns: []string{"name", "population"}},
			Values:     func(c city, row []any) []any { return append(row, c.Name, c.Pop) },
			OnConflict: connect.ConflictIgnore,
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		p, _ := weir.New(weir.FromSlice(cities), weir.Identity[city](), weir.Sink[city](sink), weir.Config{})
		if err := p.Run(context.Background()); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("run %d inserted %d rows\n", run, sink.Rows())
	}
	var n int
	_ = db.QueryRow("SELECT count(*) FROM cities").Scan(&n)
	fmt.Println("rows in table:", n)
	// Output:
	// run 1 inserted 3 rows
	// run 2 inserted 0 rows
	// rows in table: 3
}

type invoice struct {
	ID    int64
	Lines []string
}

type invoiceSplitter struct{}

func (invoiceSplitter) Tables() []connect.Table {
	return []connect.Table{
		{Name: "invoices", Columns: []string{"id"}, Key: []string{"id"}},
		{Name: "lines", Columns: []string{"invoice_id", "n", "text"}, Key: []string{"invoice_id", "n"}},
	}
}

func (invoiceSplitter) Split(inv invoice, w connect.RowWriter) error {
	w.Row(0, connect.Int64(inv.ID))
	for i, l := range inv.Lines {
		w.Row(1, connect.Int64(inv.ID), connect.Int64(int64(i+1)), connect.Text(l))
	}
	return nil
}

// Split composite records into a parent and a child table, in one
// transaction per batch.
func ExampleNewMultiSink() {
	db, cleanup, err := exampleDB(`
		CREATE TABLE invoices (id INTEGER PRIMARY KEY);
		CREATE TABLE lines (invoice_id INTEGER NOT NULL REFERENCES invoices(id), n INTEGER, text TEXT,
		                    PRIMARY KEY (invoice_id, n));`)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()

	sink, err := sqlite.NewMultiSink(db, sqlite.MultiSinkConfig[invoice]{Splitter: invoiceSplitter{}, OnConflict: connect.ConflictIgnore})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sink.Close(context.Background())
	batch := []invoice{{1, []string{"tea", "cake"}}, {2, []string{"coffee"}}}
	if err := sink.Write(context.Background(), batch); err != nil {
		fmt.Println(err)
		return
	}
	rows := sink.Rows()
	for _, t := range sink.Tables() {
		fmt.Println(t.Name, rows[t.Name])
	}
	// Output:
	// invoices 2
	// lines 3
}

// Read a table in key order, stop, and resume from the saved position.
func ExampleNewSource() {
	db, cleanup, err := exampleDB(`CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT);
		INSERT INTO events VALUES (10, 'a'), (20, 'b'), (30, 'c'), (40, 'd'), (50, 'e');`)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()

	type event struct {
		ID   int64
		Kind string
	}
	cfg := sqlite.SourceConfig[event]{
		Table: connect.Table{Name: "events", Columns: []string{"id", "kind"}, Key: []string{"id"}},
		Scan: func(rows *sql.Rows) (event, error) {
			var e event
			return e, rows.Scan(&e.ID, &e.Kind)
		},
		Key: func(e event) []any { return []any{e.ID} },
	}
	src, _ := sqlite.NewSource(db, cfg)
	buf := make([]event, 2)
	n, _ := src.Read(context.Background(), buf)
	fmt.Println("first page:", buf[:n], "position:", src.LastKey())
	_ = src.Close(context.Background())

	cfg.After = src.LastKey() // e.g. loaded from a checkpoint
	resumed, _ := sqlite.NewSource(db, cfg)
	buf = make([]event, 10)
	n, err = resumed.Read(context.Background(), buf)
	fmt.Println("resumed:", buf[:n], err)
	// Output:
	// first page: [{10 a} {20 b}] position: [20]
	// resumed: [{30 c} {40 d} {50 e}] EOF
}

func ExampleExec() {
	db, err := sqlite.Open(":memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	err = sqlite.Exec(context.Background(), db, `
		CREATE TABLE a (id INTEGER PRIMARY KEY);
		CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id));
		CREATE INDEX b_a ON b (a_id);`)
	fmt.Println(err)
	var n int
	_ = db.QueryRow("SELECT count(*) FROM sqlite_schema").Scan(&n)
	fmt.Println(n, "schema objects")
	// Output:
	// <nil>
	// 3 schema objects
}

// An incremental job: each run reads the rows added since the last one,
// with its position kept in the same database.
func ExampleNewCheckpointStore() {
	db, cleanup, err := exampleDB(`CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT);
		INSERT INTO events VALUES (10, 'a'), (20, 'b'), (30, 'c');`)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()
	store, err := sqlite.NewCheckpointStore(context.Background(), db)
	if err != nil {
		fmt.Println(err)
		return
	}

	type event struct {
		ID   int64
		Kind string
	}
	run := func() error {
		src, err := sqlite.NewSource(db, sqlite.SourceConfig[event]{
			Table: connect.Table{Name: "events", Columns: []string{"id", "kind"}, Key: []string{"id"}},
			Scan: func(rows *sql.Rows) (event, error) {
				var e event
				return e, rows.Scan(&e.ID, &e.Kind)
			},
			Key: func(e event) []any { return []any{e.ID} },
		})
		if err != nil {
			return err
		}
		show := weir.SinkFunc[event](func(_ context.Context, batch []event) error {
			fmt.Println("loaded", batch)
			return nil
		})
		p, err := weir.New(src, weir.Identity[event](), weir.Sink[event](show), weir.Config{Workers: 1},
			weir.WithCheckpoint(store, "events"))
		if err != nil {
			return err
		}
		return p.Run(context.Background())
	}

	if err := run(); err != nil {
		fmt.Println(err)
	}
	pos, _ := store.Load(context.Background(), "events")
	fmt.Printf("checkpoint: %s\n", pos)
	_, _ = db.Exec(`INSERT INTO events VALUES (40, 'd'), (5, 'too late')`)
	if err := run(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// loaded [{10 a} {20 b} {30 c}]
	// checkpoint: {"key":[30]}
	// loaded [{40 d}]
}
