package users_test

import (
	"testing"

	"github.com/weir-etl/weir/examples/users"
)

// BenchmarkSplit measures Split of one generated user (126 rows) into a
// writer that only counts: the cost the splitter adds per user before any
// database work. ns/op and allocs/op are per user.
func BenchmarkSplit(b *testing.B) {
	const pool = 64
	us := make([]users.User, pool)
	for i := range us {
		us[i] = users.Generate(int64(i+1), users.GenOptions{Seed: 1})
	}
	var rows rowCounter
	s := users.Splitter{}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := s.Split(us[i%pool], &rows); err != nil {
			b.Fatal(err)
		}
		i++
	}
	total := int64(0)
	for _, n := range rows {
		total += n
	}
	if total != int64(i)*126 {
		b.Fatalf("split %d users into %d rows", i, total)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/row")
}

// BenchmarkGenerate measures generating one user, with the default 1 KiB
// blob and with the seed's 50 KB.
func BenchmarkGenerate(b *testing.B) {
	for _, bc := range []struct {
		name string
		blob int
	}{{"blob=1KiB", 0}, {"blob=50KB", 50000}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			o := users.GenOptions{Seed: 1, BlobSize: bc.blob}
			id := int64(0)
			for b.Loop() {
				id++
				if u := users.Generate(id, o); u.ID != id {
					b.Fatal("wrong id")
				}
			}
		})
	}
}

// BenchmarkSize measures User.Size, which the engine calls per record when
// BatchBytes is set.
func BenchmarkSize(b *testing.B) {
	u := users.Generate(1, users.GenOptions{Seed: 1})
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n += u.Size()
	}
	if n == 0 {
		b.Fatal("zero size")
	}
}
