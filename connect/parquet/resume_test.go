package parquet_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/parquet"
)

type event struct {
	ID   int64             `parquet:"id"`
	Name *string           `parquet:"name,optional"`
	Tags []string          `parquet:"tags,list"`
	Attr map[string]string `parquet:"attr"`
}

func events(n int) []event {
	out := make([]event, n)
	for i := range out {
		e := event{ID: int64(i + 1), Tags: []string{fmt.Sprint(i % 3)}}
		if i%4 != 0 {
			e.Name = ptr(fmt.Sprintf("event %d", i+1))
		}
		if i%5 == 0 {
			e.Attr = map[string]string{"k": fmt.Sprint(i)}
		}
		out[i] = e
	}
	return out
}

// A file of several row groups, with nested columns and small pages,
// resumed at positions inside a page, at row group boundaries and at the
// end, reads each row once: the rows before the position and after it add
// up to the whole file, nothing doubled or left out.
func TestSeekResumesInTheMiddleWithNothingDoubled(t *testing.T) {
	const n, group = 1000, 128
	path := filepath.Join(t.TempDir(), "events.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pq.NewGenericWriter[event](f, pq.MaxRowsPerRowGroup(group), pq.PageBufferSize(512))
	if _, err := w.Write(events(n)); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(w.Close(), f.Close()); err != nil {
		t.Fatal(err)
	}
	open := func() *parquet.RowSource {
		src, err := parquet.OpenRows(path, parquet.RowSourceConfig{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { src.Close(context.Background()) })
		return src
	}
	all := readAll(t, open(), 100)
	if len(all) != n {
		t.Fatalf("read %d rows, want %d", len(all), n)
	}
	for _, cut := range []int{0, 1, 5, group - 1, group, group + 1, 3*group + 17, n - 1, n} {
		t.Run(fmt.Sprintf("after row %d", cut), func(t *testing.T) {
			first := open()
			var before []connect.Row
			buf := make([]connect.Row, cut)
			for len(before) < cut {
				k, err := first.Read(context.Background(), buf[:cut-len(before)])
				if err != nil {
					t.Fatal(err)
				}
				before = append(before, buf[:k]...)
			}
			pos, err := first.Position()
			if err != nil {
				t.Fatal(err)
			}
			second := open()
			if err := second.Seek(pos); err != nil {
				t.Fatalf("Seek(%s): %v", pos, err)
			}
			after := readAll(t, second, 33)
			got := append(before, after...)
			if len(got) != n {
				t.Fatalf("position %s: %d rows before and %d after, want %d in all", pos, len(before), len(after), n)
			}
			for i, r := range got {
				if !sameValues(r, all[i]) || r.Pos != all[i].Pos {
					t.Fatalf("position %s: row %d is %v at %v, want %v at %v", pos, i, r.Values, r.Pos, all[i].Values, all[i].Pos)
				}
			}
		})
	}
}

// A file cut short, a footer with garbage in it or a file that is not
// Parquet fails with an error naming the file, never a panic. Every byte
// of the footer is corrupted in turn.
func TestCorruptFileErrorNamesTheFile(t *testing.T) {
	good := writeGeneric(t, "good.parquet", events(50), 20)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	footerLen := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	dir := t.TempDir()
	check := func(name string, b []byte, mustFail bool) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		err := readFile(path)
		switch {
		case err == nil && mustFail:
			t.Errorf("%s: read without error", name)
		case err != nil && !strings.Contains(err.Error(), path):
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
	check("truncated.parquet", data[:len(data)/2], true)
	check("no-footer.parquet", data[:len(data)-8], true)
	check("not-parquet.parquet", []byte("id,name\n1,x\n"), true)
	check("empty.parquet", nil, true)
	check("bad-footer-length.parquet", append(append([]byte{}, data[:len(data)-8]...), 0xff, 0xff, 0xff, 0x7f, 'P', 'A', 'R', '1'), true)
	for off := len(data) - 8 - footerLen; off < len(data)-8; off++ {
		b := append([]byte{}, data...)
		b[off] ^= 0xff
		check(fmt.Sprintf("footer-byte-%d.parquet", off), b, false) // some flips are harmless: no panic, and a named error if any
	}
	for off := 4; off < len(data)-8-footerLen; off += 97 { // the pages
		b := append([]byte{}, data...)
		b[off] ^= 0xff
		check(fmt.Sprintf("page-byte-%d.parquet", off), b, false)
	}
}

// readFile reads every row of path, returning the first error.
func readFile(path string) (err error) {
	src, err := parquet.OpenRows(path, parquet.RowSourceConfig{})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, src.Close(context.Background())) }()
	buf := make([]connect.Row, 64)
	for {
		_, err := src.Read(context.Background(), buf)
		if err != nil {
			if err.Error() == "EOF" {
				return nil
			}
			return err
		}
	}
}
