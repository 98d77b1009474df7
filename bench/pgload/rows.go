package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/weir-etl/weir/connect/file"
)

// Row is one row of the benchmark table: eight columns, as the brief asks
// (bigint id, four short texts, an int, a timestamptz, a small jsonb).
type Row struct {
	ID      int64
	First   string
	Last    string
	City    string
	Email   string
	Score   int32
	Created time.Time
	Attrs   string // a small JSON object, as text; pgx sends a string to jsonb unchanged
}

// columns are the table's columns, in Row's field order, which is also the
// order of the CSV header and of rowValues.
var columns = []string{"id", "first_name", "last_name", "city", "email", "score", "created_at", "attrs"}

// tableDDL creates the benchmark table; pk adds the primary key on id.
func tableDDL(table string, pk bool) string {
	key := ""
	if pk {
		key = " PRIMARY KEY"
	}
	return fmt.Sprintf(`DROP TABLE IF EXISTS %[1]s;
CREATE TABLE %[1]s (
	id bigint NOT NULL%[2]s,
	first_name text NOT NULL,
	last_name text NOT NULL,
	city text NOT NULL,
	email text NOT NULL,
	score integer NOT NULL,
	created_at timestamptz NOT NULL,
	attrs jsonb NOT NULL
)`, quoteIdent(table), key)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Word lists the rows draw from. Rows are made of pre-built strings only, so
// generating one costs a hash and a few index operations, not allocations:
// the weir source then measures the engine and the sink, not string
// building, against a bare loop whose rows were built before the clock
// started.
var (
	firstNames = []string{"Ada", "Alan", "Alice", "Amara", "Ana", "Arjun", "Ben", "Carla", "Chen", "Chloe",
		"Daniel", "Diego", "Elena", "Emma", "Farid", "Fatima", "Grace", "Hana", "Hugo", "Ines",
		"Ivan", "Jamal", "Jonas", "Julia", "Kai", "Kenji", "Lara", "Leo", "Lina", "Luca", "Maya", "Mateo"}
	lastNames = []string{"Abe", "Adams", "Alvarez", "Bakker", "Brown", "Costa", "Dubois", "Eriksen",
		"Fischer", "Garcia", "Gupta", "Hansen", "Ito", "Jansen", "Kim", "Kowalski", "Lee", "Lopez",
		"Martin", "Meyer", "Moreau", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Perez",
		"Rossi", "Santos", "Schmidt", "Silva"}
	cities = []string{"Portland", "Austin", "Boston", "Denver", "Toronto", "Vancouver", "Manchester",
		"Edinburgh", "Lyon", "Munich", "Hamburg", "Porto", "Valencia", "Turin", "Utrecht", "Osaka"}
	plans  = []string{"free", "pro", "team", "enterprise"}
	emails = buildEmails(4096)
	attrs  = buildAttrs(1024)
)

func buildEmails(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(firstNames[i%len(firstNames)]),
			strings.ToLower(lastNames[(i/len(firstNames))%len(lastNames)]), i)
	}
	return out
}

func buildAttrs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"plan": "%s", "seats": %d, "beta": %t}`, plans[i%len(plans)], 1+i%50, i%3 == 0)
	}
	return out
}

// epoch is the earliest created_at; rows spread over about three years.
const epoch = 1_672_531_200 // 2023-01-01T00:00:00Z

// mix64 is SplitMix64's finaliser: a cheap, well-spread hash of the id.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// rowAt returns row id. The same id always gives the same row: the CSV
// file, the bare loop's rows and the weir source agree without sharing
// state. It does not allocate.
func rowAt(id int64) Row {
	h := mix64(uint64(id))
	return Row{
		ID:      id,
		First:   firstNames[h%uint64(len(firstNames))],
		Last:    lastNames[(h>>8)%uint64(len(lastNames))],
		City:    cities[(h>>16)%uint64(len(cities))],
		Email:   emails[(h>>24)%uint64(len(emails))],
		Score:   int32((h >> 32) % 100_000),
		Created: time.Unix(epoch+int64((h>>20)%(3*365*86400)), 0).UTC(),
		Attrs:   attrs[(h>>44)%uint64(len(attrs))],
	}
}

// rowValues is the postgres.Sink's Values function: the row's eight values in
// column order.
func rowValues(r Row, row []any) []any {
	return append(row, r.ID, r.First, r.Last, r.City, r.Email, r.Score, r.Created, r.Attrs)
}

// writeCSV writes a header and rows 1..n to w as CSV. Only the JSON
// column needs quoting (its own quotes are doubled); the texts hold no
// delimiter.
func writeCSV(w io.Writer, n int64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(strings.Join(columns, ",") + "\n")
	var b []byte
	for id := int64(1); id <= n; id++ {
		r := rowAt(id)
		b = strconv.AppendInt(b[:0], r.ID, 10)
		for _, s := range []string{r.First, r.Last, r.City, r.Email} {
			b = append(b, ',')
			b = append(b, s...)
		}
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(r.Score), 10)
		b = append(b, ',')
		b = r.Created.AppendFormat(b, time.RFC3339)
		b = append(b, ',', '"')
		b = append(b, strings.ReplaceAll(r.Attrs, `"`, `""`)...)
		b = append(b, '"', '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeJSONL writes rows 1..n to w as JSON Lines, one object per row with
// the CSV's columns; attrs is a nested object.
func writeJSONL(w io.Writer, n int64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var b []byte
	for id := int64(1); id <= n; id++ {
		r := rowAt(id)
		b = append(b[:0], `{"id":`...)
		b = strconv.AppendInt(b, r.ID, 10)
		for i, s := range []string{r.First, r.Last, r.City, r.Email} {
			b = append(b, `,"`...)
			b = append(b, columns[1+i]...)
			b = append(b, `":`...)
			b = strconv.AppendQuote(b, s)
		}
		b = append(b, `,"score":`...)
		b = strconv.AppendInt(b, int64(r.Score), 10)
		b = append(b, `,"created_at":"`...)
		b = r.Created.AppendFormat(b, time.RFC3339)
		b = append(b, `","attrs":`...)
		b = append(b, r.Attrs...)
		b = append(b, "}\n"...)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// generate writes the n-row file at path: JSON Lines if its name ends in
// .jsonl, CSV otherwise.
func generate(path string, n int64) (err error) {
	if n < 1 {
		return fmt.Errorf("--rows must be at least 1, got %d", n)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create CSV: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
	}()
	write := writeCSV
	if strings.HasSuffix(path, ".jsonl") {
		write = writeJSONL
	}
	if err := write(f, n); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// decodeRow is the CSV source's Decode: what a user of connect/file writes,
// fields by column name, numbers and times parsed.
func decodeRow(rec file.Record) (Row, error) {
	id, err := strconv.ParseInt(rec.Get("id"), 10, 64)
	if err != nil {
		return Row{}, fmt.Errorf("id: %w", err)
	}
	score, err := strconv.ParseInt(rec.Get("score"), 10, 32)
	if err != nil {
		return Row{}, fmt.Errorf("score: %w", err)
	}
	created, err := time.Parse(time.RFC3339, rec.Get("created_at"))
	if err != nil {
		return Row{}, fmt.Errorf("created_at: %w", err)
	}
	a := rec.Get("attrs")
	if a == "" {
		return Row{}, errors.New("attrs: empty")
	}
	return Row{
		ID: id, First: rec.Get("first_name"), Last: rec.Get("last_name"), City: rec.Get("city"),
		Email: rec.Get("email"), Score: int32(score), Created: created, Attrs: a,
	}, nil
}

// genSource is a weir.Source of rows 1..n, generated inside Read.
type genSource struct{ next, last int64 }

func (g *genSource) Read(ctx context.Context, buf []Row) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	for n < len(buf) && g.next <= g.last {
		buf[n] = rowAt(g.next)
		g.next++
		n++
	}
	if g.next > g.last {
		return n, io.EOF
	}
	return n, nil
}
