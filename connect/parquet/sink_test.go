package parquet_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/parquet"
)

// Until Close, the final path holds what it held before (here: an older
// file); Abort leaves it so and removes the temporary file; Close replaces
// it whole.
func TestRowSinkPublishesOnlyOnClose(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.parquet")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := parquet.RowSinkConfig{Columns: allTypes, RowGroupRows: 3}
	ctx := context.Background()
	entries := func() []string {
		es, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}
	old := func(when string) {
		t.Helper()
		if b, err := os.ReadFile(path); err != nil || string(b) != "old" {
			t.Errorf("%s: %s holds %q (%v), want the old file", when, path, b, err)
		}
	}

	aborted, err := parquet.CreateRows(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := aborted.Write(ctx, typedRows(10)); err != nil {
		t.Fatal(err)
	}
	old("after Write")
	if err := aborted.Abort(); err != nil {
		t.Fatal(err)
	}
	old("after Abort")
	if names := entries(); len(names) != 1 {
		t.Errorf("after Abort the directory holds %v, want only out.parquet", names)
	}
	if err := aborted.Close(ctx); err != nil {
		t.Errorf("Close after Abort: %v", err)
	}
	old("after Close after Abort")
	if err := aborted.Write(ctx, typedRows(1)); !errors.Is(err, parquet.ErrClosed) {
		t.Errorf("Write after Abort: %v, want ErrClosed", err)
	}

	closed, err := parquet.CreateRows(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rows := typedRows(10)
	if err := closed.Write(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := closed.Abort(); err != nil {
		t.Errorf("Abort after Close: %v", err)
	}
	if names := entries(); len(names) != 1 {
		t.Errorf("after Close the directory holds %v, want only out.parquet", names)
	}
	src, err := parquet.OpenRows(path, parquet.RowSourceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(ctx)
	got := readAll(t, src, 4)
	if len(got) != len(rows) {
		t.Fatalf("read back %d rows, want %d", len(got), len(rows))
	}
	for i := range rows {
		if !sameValues(got[i], rows[i]) {
			t.Errorf("row %d: %v, want %v", i, got[i].Values, rows[i].Values)
		}
	}
	if cols := src.Columns(); len(cols) != len(allTypes) || cols[5] != allTypes[5] {
		t.Errorf("columns %v, want %v (numeric read back as numeric)", cols, allTypes)
	}
}

// A value of another type than its column's is refused with the row's
// index, before anything of the batch is written.
func TestRowSinkRefusesAMistypedValue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.parquet")
	sink, err := parquet.CreateRows(path, parquet.RowSinkConfig{Columns: []connect.Column{col("n", connect.TypeInt64)}})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close(context.Background())
	batch := []connect.Row{{Values: []connect.Value{connect.Int64(1)}}, {Values: []connect.Value{connect.Text("x")}}}
	var re *weir.RecordError
	if err := sink.Write(context.Background(), batch); !errors.As(err, &re) || re.Index != 1 {
		t.Fatalf("Write: %v, want a RecordError for index 1", err)
	}
	if n := sink.Rows(); n != 0 {
		t.Errorf("Rows() = %d after a refused batch, want 0", n)
	}
}
