package mysql_test

import (
	"testing"

	"github.com/weir-etl/weir/connect/catalog"
	"github.com/weir-etl/weir/connect/mysql"
	"github.com/weir-etl/weir/internal/mariatest"
)

// BenchmarkRead1M reads a 1,000,000-row table of 8 columns (integers,
// text, decimal, datetime, double, a nullable date) through one reader
// and reports rows/s:
//
//	go test -run '^$' -bench Read1M -benchtime 3x ./connect/mysql/
func BenchmarkRead1M(b *testing.B) {
	const rows = 1_000_000
	db := mariatest.New(b)
	db.Exec(b, `CREATE TABLE big (id BIGINT NOT NULL PRIMARY KEY, n INT NOT NULL, name VARCHAR(40) NOT NULL,
		amount DECIMAL(12,2) NOT NULL, at DATETIME(6) NOT NULL, score DOUBLE NOT NULL, day DATE NULL, flag TINYINT(1) NOT NULL);
		INSERT INTO big SELECT seq, seq % 1000, CONCAT('name ', seq), seq / 100, TIMESTAMP('2024-01-01') + INTERVAL seq SECOND,
			seq / 7, IF(seq % 3 = 0, NULL, DATE('2024-01-01') + INTERVAL seq % 1000 DAY), seq % 2 FROM seq_1_to_1000000`)
	src, err := mysql.Open(b.Context(), db.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	tables, err := src.Tables(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		got := 0
		for _, r := range []catalog.Range{{}} {
			rd, err := src.Open(b.Context(), tables[0], r)
			if err != nil {
				b.Fatal(err)
			}
			got += readCount(b, rd)
		}
		if got != rows {
			b.Fatalf("read %d rows, want %d", got, rows)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
