package sqlite_test

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/sqlite"
)

// Create a table for typed columns, load generic rows into it, and read
// them back with their types: what `weir copy data.csv sqlite:out.db?table=t`
// and its way back do.
func ExampleNewRowSink() {
	db, cleanup, err := exampleDB(`CREATE TABLE other (x)`)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()
	ctx := context.Background()

	cols := []connect.Column{{Name: "id", Type: connect.TypeInt64}, {Name: "price", Type: connect.TypeNumeric},
		{Name: "day", Type: connect.TypeDate}, {Name: "ok", Type: connect.TypeBool}}
	fmt.Println(sqlite.CreateTableSQL("sales", cols, []string{"id"}))
	if err := sqlite.CreateTable(ctx, db, "sales", cols, []string{"id"}); err != nil {
		fmt.Println(err)
		return
	}

	sink, err := sqlite.NewRowSink(db, sqlite.RowSinkConfig{Table: connect.Table{Name: "sales", Columns: []string{"id", "price", "day", "ok"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sink.Close(ctx)
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	err = sink.Write(ctx, []connect.Row{
		{Values: []connect.Value{connect.Int64(1), connect.Numeric("12.50"), connect.Date(day), connect.Bool(true)}},
		{Values: []connect.Value{connect.Int64(2), connect.Numeric("0.10"), connect.Null(), connect.Bool(false)}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	src, err := sqlite.NewRowSource(ctx, db, sqlite.RowSourceConfig{Table: "sales"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close(ctx)
	fmt.Println(src.Columns())
	buf := make([]connect.Row, 10)
	n, err := src.Read(ctx, buf)
	if err != nil && err != io.EOF {
		fmt.Println(err)
		return
	}
	for _, r := range buf[:n] {
		fmt.Println(r.Pos, r.Values)
	}
	// Output:
	// CREATE TABLE "sales" ("id" INTEGER NOT NULL, "price" NUMERIC_TEXT, "day" DATE, "ok" BOOLEAN, PRIMARY KEY ("id"))
	// [{id bigint} {price numeric} {day date} {ok boolean}]
	// sales:1 [1 12.50 2024-03-01 true]
	// sales:2 [2 0.10 NULL false]
}
