package parquet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/parquet"
)

// Rows written to a Parquet file come back with their types; the file
// appears under its name when the sink is closed.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "prices.parquet")
	ctx := context.Background()

	sink, err := parquet.CreateRows(path, parquet.RowSinkConfig{Columns: []connect.Column{
		{Name: "item", Type: connect.TypeText}, {Name: "price", Type: connect.TypeNumeric},
	}})
	if err != nil {
		panic(err)
	}
	err = sink.Write(ctx, []connect.Row{
		{Values: []connect.Value{connect.Text("tea"), connect.Numeric("3.50")}},
		{Values: []connect.Value{connect.Text("cake"), connect.Null()}},
	})
	if err != nil {
		panic(err)
	}
	if err := sink.Close(ctx); err != nil {
		panic(err)
	}

	src, err := parquet.OpenRows(path, parquet.RowSourceConfig{})
	if err != nil {
		panic(err)
	}
	defer src.Close(ctx)
	fmt.Println(src.Columns())
	buf := make([]connect.Row, 10)
	n, _ := src.Read(ctx, buf)
	for _, r := range buf[:n] {
		fmt.Println(filepath.Base(r.Pos.Name), r.Pos.Line, r.Values)
	}
	// Output:
	// [{item text} {price numeric}]
	// prices.parquet 1 [tea 3.50]
	// prices.parquet 2 [cake NULL]
}
