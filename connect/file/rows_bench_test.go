package file_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"testing"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/file"
)

// benchCSV returns a CSV file of rows records of 8 columns, a quarter of
// them with a quoted field.
func benchCSV(rows int) []byte {
	var b bytes.Buffer
	b.WriteString("id,name,company,score,day,empty,ok,note\n")
	for i := range rows {
		company := "Acme"
		if i%4 == 0 {
			company = `"Smith, Jones & ""Co"""`
		}
		fmt.Fprintf(&b, "%d,name %d,%s,%d.%02d,2024-01-%02d,,true,some longer text in the last column\n", i, i, company, i%1000, i%100, i%28+1)
	}
	return b.Bytes()
}

// BenchmarkRowSourceCSV reads a 1M-row, 8-column CSV file with the
// RowSource and with encoding/csv (ReuseRecord, its fastest mode), per
// file: compare MB/s, and allocs/row.
//
//	go test -run '^$' -bench BenchmarkRowSourceCSV -benchtime 3x ./connect/file/
func BenchmarkRowSourceCSV(b *testing.B) {
	const rows = 1_000_000
	data := benchCSV(rows)
	b.Run("RowSource", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		buf := make([]connect.Row, 1000)
		for b.Loop() {
			src, err := file.NewRowSource(bytes.NewReader(data), file.RowSourceConfig{Format: file.FormatCSV})
			if err != nil {
				b.Fatal(err)
			}
			total := 0
			for {
				n, err := src.Read(context.Background(), buf)
				total += n
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			if total != rows {
				b.Fatalf("read %d rows", total)
			}
		}
	})
	b.Run("encoding-csv", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			r := csv.NewReader(bytes.NewReader(data))
			r.ReuseRecord = true
			total := -1 // the header
			for {
				_, err := r.Read()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				total++
			}
			if total != rows {
				b.Fatalf("read %d rows", total)
			}
		}
	})
}
