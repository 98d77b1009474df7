package file_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/file"
)

// TestRowSourceProgress: Progress moves with Read through a glob of two
// files of 4 MB each, never backwards, stays below the total until the
// end and reaches it there; a reader has no total.
func TestRowSourceProgress(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,text\n")
	for i := range 100_000 {
		fmt.Fprintf(&b, "%d,%s\n", i, strings.Repeat("x", 30))
	}
	dir := writeFiles(t, map[string]string{"a.csv": b.String(), "b.csv": b.String()})
	src, err := file.OpenRows(filepath.Join(dir, "*.csv"), file.RowSourceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(context.Background())
	done, total := src.Progress()
	if want := int64(2 * b.Len()); total != want || done != 0 {
		t.Fatalf("before reading: %d of %d, want 0 of %d", done, total, want)
	}
	buf := make([]connect.Row, 1000)
	var last int64
	var mid bool
	for {
		_, err := src.Read(context.Background(), buf)
		done, _ := src.Progress()
		if done < last || done > total {
			t.Fatalf("progress went from %d to %d (total %d)", last, done, total)
		}
		if done > 0 && done < total {
			mid = true
		}
		last = done
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !mid || last != total {
		t.Errorf("progress was never between 0 and the total (%v), or ended at %d of %d", mid, last, total)
	}

	r, err := file.NewRowSource(strings.NewReader("id\n1\n"), file.RowSourceConfig{Format: file.FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	if _, total := r.Progress(); total != -1 {
		t.Errorf("a reader's total: %d, want -1", total)
	}
}
