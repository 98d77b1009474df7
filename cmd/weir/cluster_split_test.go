package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/file"
)

// readRange reads the records of r (from its start, or from the position
// seek) and returns each record's first field, and the position after the
// first stopAfter records (0: none).
func readRange(t testing.TB, r fileRange, cfg file.RowSourceConfig, seek []byte, stopAfter int) ([]string, []byte) {
	t.Helper()
	fs, err := file.OpenRows(r.File, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close(context.Background())
	src, err := newFileRange(fs, r)
	if err != nil {
		t.Fatal(err)
	}
	if seek != nil {
		if err := src.Seek(seek); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	buf := make([]connect.Row, 3)
	for {
		n, err := src.Read(context.Background(), buf)
		for _, row := range buf[:n] {
			got = append(got, row.Values[0].Str())
		}
		if stopAfter > 0 && len(got) >= stopAfter {
			pos, perr := src.Position()
			if perr != nil {
				t.Fatal(perr)
			}
			return got, pos
		}
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// checkSplit splits path at size and checks that the ranges follow each
// other with no gap, and that reading them all gives the ids 1..n once
// each, in order.
func checkSplit(t testing.TB, path string, cfg file.RowSourceConfig, size int64, n int) []fileRange {
	t.Helper()
	ranges, err := splitFiles(context.Background(), path, cfg, size)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for i, r := range ranges {
		if i > 0 && (ranges[i-1].End == nil || *ranges[i-1].End != r.Start) {
			t.Fatalf("range %d starts at %+v, the one before ends at %+v", i, r.Start, ranges[i-1].End)
		}
		got, _ := readRange(t, r, cfg, nil, 0)
		all = append(all, got...)
	}
	if ranges[len(ranges)-1].End != nil {
		t.Errorf("the last range ends at %+v, want the end of the file", ranges[len(ranges)-1].End)
	}
	if len(all) != n {
		t.Fatalf("read %d records over %d ranges, want %d", len(all), len(ranges), n)
	}
	for i, id := range all {
		if id != fmt.Sprint(i+1) {
			t.Fatalf("record %d is %q, want %d: a record lost or read twice", i, id, i+1)
		}
	}
	return ranges
}

// multiline writes n CSV records whose every third has a quoted newline.
func multilineCSV(t testing.TB, n int) string {
	var b strings.Builder
	b.WriteString("id,note\n")
	for i := 1; i <= n; i++ {
		if i%3 == 0 {
			fmt.Fprintf(&b, "%d,\"two\n%d,lines\"\n", i, i+1000) // the second line looks like a record
		} else {
			fmt.Fprintf(&b, "%d,plain\n", i)
		}
	}
	path := filepath.Join(t.TempDir(), "m.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSplitCoversEveryRecordOnce(t *testing.T) {
	cfg := file.RowSourceConfig{SampleSize: 5}
	path := multilineCSV(t, 2000)
	for _, size := range []int64{1, 7, 100, 1000, 5000, 1 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			ranges := checkSplit(t, path, cfg, size, 2000)
			if size <= 1000 && len(ranges) < 10 {
				t.Errorf("%d ranges for %d-byte parts", len(ranges), size)
			}
		})
	}
	t.Run("jsonl", func(t *testing.T) {
		var b strings.Builder
		for i := 1; i <= 500; i++ {
			fmt.Fprintf(&b, "{\"id\":\"%d\",\"x\":%d}\n", i, i)
		}
		path := filepath.Join(t.TempDir(), "r.jsonl")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		checkSplit(t, path, cfg, 300, 500)
	})
	t.Run("glob", func(t *testing.T) {
		dir := t.TempDir()
		for i, body := range []string{"id\n1\n2\n3\n", "id\n4\n5\n", "id\n6\n"} {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.csv", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ranges, err := splitFiles(context.Background(), filepath.Join(dir, "*.csv"), cfg, 2)
		if err != nil {
			t.Fatal(err)
		}
		var all []string
		for _, r := range ranges {
			got, _ := readRange(t, r, cfg, nil, 0)
			all = append(all, got...)
		}
		if strings.Join(all, ",") != "1,2,3,4,5,6" {
			t.Errorf("read %v over %d ranges, want 1..6", all, len(ranges))
		}
	})
}

// A range resumed at a position taken mid-way (its checkpoint) reads the
// rest of the range: nothing of the range again, nothing of the next one.
func TestRangeResumesAtItsCheckpoint(t *testing.T) {
	cfg := file.RowSourceConfig{SampleSize: 5}
	path := multilineCSV(t, 300)
	ranges := checkSplit(t, path, cfg, 500, 300)
	r := ranges[1]
	whole, _ := readRange(t, r, cfg, nil, 0)
	for k := 1; k <= len(whole); k++ {
		first, pos := readRange(t, r, cfg, nil, k)
		if pos == nil {
			continue
		}
		rest, _ := readRange(t, r, cfg, pos, 0)
		if got := strings.Join(append(first, rest...), ","); got != strings.Join(whole, ",") {
			t.Fatalf("stopped after %d records at %s: read %s, want %s", k, pos, got, strings.Join(whole, ","))
		}
	}
}

// FuzzSplit splits arbitrary CSV at arbitrary sizes: the ranges read
// every record the whole file reads, once each, in order.
func FuzzSplit(f *testing.F) {
	f.Add("id,v\n1,a\n2,\"b\nc\"\n3,d\n", int64(3))
	f.Add("id\n\"1\n\n\"\n2\n", int64(1))
	f.Fuzz(func(t *testing.T, body string, size int64) {
		if size < 1 || size > 1<<20 || len(body) > 4096 {
			return
		}
		path := filepath.Join(t.TempDir(), "f.csv")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := file.RowSourceConfig{SampleSize: 2, ReadOptions: file.ReadOptions{OnBadLine: func(int, []byte, error) error { return nil }}}
		whole, err := file.OpenRows(path, cfg)
		if err != nil {
			return // not CSV with a header: nothing to split
		}
		want, err := countAll(context.Background(), whole)
		whole.Close(context.Background())
		if err != nil {
			return
		}
		ranges, err := splitFiles(context.Background(), path, cfg, size)
		if err != nil {
			t.Fatalf("the whole file reads, the split fails: %v", err)
		}
		var got int64
		for _, r := range ranges {
			recs, _ := readRange(t, r, cfg, nil, 0)
			got += int64(len(recs))
		}
		if got != want {
			t.Fatalf("%d ranges read %d records, the file has %d", len(ranges), got, want)
		}
	})
}
