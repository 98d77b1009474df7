package file_test

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weir-etl/weir/connect/file"
)

type benchUser struct {
	ID      string    `json:"_id"`
	Name    string    `json:"name"`
	Email   string    `json:"email"`
	Created time.Time `json:"created"`
	Visits  int64     `json:"visits"`
	Score   float64   `json:"score"`
}

// BenchmarkJSONLSource measures decoding throughput, per line, for plain
// JSON and for mongoexport's canonical Extended JSON of the same document.
func BenchmarkJSONLSource(b *testing.B) {
	const lines = 10_000
	docs := map[string]string{
		"plain":    `{"_id":"65a1b2c3d4e5f60718293a4b","name":"Ada Lovelace","email":"ada@example.com","created":"2024-01-02T03:04:05.123Z","visits":1234567,"score":9.5}`,
		"extended": `{"_id":{"$oid":"65a1b2c3d4e5f60718293a4b"},"name":"Ada Lovelace","email":"ada@example.com","created":{"$date":{"$numberLong":"1704164645123"}},"visits":{"$numberLong":"1234567"},"score":{"$numberDouble":"9.5"}}`,
	}
	for _, name := range []string{"plain", "extended"} {
		data := []byte(strings.Repeat(docs[name]+"\n", lines))
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			buf := make([]benchUser, 128)
			for b.Loop() {
				src, _ := file.NewJSONLSource[benchUser](bytes.NewReader(data), file.JSONLSourceConfig{})
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
				if total != lines {
					b.Fatalf("read %d lines", total)
				}
			}
			b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

// BenchmarkCSVSource measures reading and decoding CSV, per record.
func BenchmarkCSVSource(b *testing.B) {
	const records = 10_000
	var sb strings.Builder
	sb.WriteString("id,name,email,note\n")
	for i := range records {
		sb.WriteString(strconv.Itoa(i) + `,Ada Lovelace,ada@example.com,"a note, with a comma"` + "\n")
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	buf := make([]contact, 128)
	for b.Loop() {
		src, _ := file.NewCSVSource(bytes.NewReader(data), contactConfig(file.ReadOptions{}))
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
		if total != records {
			b.Fatalf("read %d records", total)
		}
	}
	b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
}
