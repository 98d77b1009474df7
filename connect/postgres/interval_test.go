package postgres_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
)

// intervalTexts are interval values in the forms weir encodes itself:
// MySQL's TIME and PostgreSQL's own output.
var intervalTexts = []string{"-838:59:59.000000", "838:59:59", "00:00:00", "12:34:56.5", "-00:00:00.000001",
	"1 year 2 mons -3 days +04:05:06.789", "-1 days", "3 days", "1 mon", "-2 years -1 mons", "2 days 23:59:59.999999",
	"-1 days -02:00:00", "+5 days", "178956970 years 7 mons"}

// TestRowSinkIntervalAndBitAreBinary loads interval, bit and bit varying
// values through the sink, which sends them in COPY's binary format, and
// checks that PostgreSQL holds what it makes of the same text itself.
func TestRowSinkIntervalAndBitAreBinary(t *testing.T) {
	pool := newDB(t, `CREATE TABLE got (id int, iv interval, b bit(8), vb varbit(12));
		CREATE TABLE want (id int, iv interval, b bit(8), vb varbit(12))`)
	sink, err := postgres.NewRowSink(pool, postgres.RowSinkConfig{Table: connect.Table{Name: "got", Columns: []string{"id", "iv", "b", "vb"}}})
	if err != nil {
		t.Fatal(err)
	}
	bits := []string{"00101011", "11111111", "00000000", "10000001"}
	varbits := []string{"", "1", "101010101", "111100001111"}
	var rows []connect.Row
	for i, iv := range intervalTexts {
		rows = append(rows, connect.Row{Values: []connect.Value{connect.Int32(int32(i)), connect.Text(iv),
			connect.Text(bits[i%len(bits)]), connect.Text(varbits[i%len(varbits)])}})
	}
	rows = append(rows, connect.Row{Values: []connect.Value{connect.Int32(99), connect.Null(), connect.Null(), connect.Null()}})
	// want: the server's own parse of every text.
	write := func(sink *postgres.RowSink, rows []connect.Row, table string) {
		t.Helper()
		if err := sink.Write(t.Context(), rows); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			args := make([]any, len(r.Values))
			for i, v := range r.Values {
				if !v.IsNull() {
					args[i] = v.Any()
				}
			}
			if _, err := pool.Exec(t.Context(), `INSERT INTO want VALUES ($1, $2::text::interval, $3::text::bit(8), $4::text::varbit(12))`, args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(sink, rows, "got")
	if !postgres.BinaryBatch(sink, rows) {
		t.Errorf("a batch of interval and bit texts in PostgreSQL's forms goes as COPY text, want binary")
	}
	same := func() {
		t.Helper()
		var diff []string
		r, err := pool.Query(t.Context(), `SELECT format('%s %s %s %s', g.id, g.iv, g.b, g.vb), format('%s %s %s %s', w.id, w.iv, w.b, w.vb)
			FROM got g FULL JOIN want w ON g.id = w.id WHERE g IS DISTINCT FROM w`)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var g, w string
			if err := r.Scan(&g, &w); err != nil {
				t.Fatal(err)
			}
			diff = append(diff, fmt.Sprintf("got %q, want %q", g, w))
		}
		if len(diff) > 0 {
			t.Errorf("the sink loaded other values than the server parses:\n%s", strings.Join(diff, "\n"))
		}
	}
	same()

	t.Run("a batch with another form goes as text, with the same result", func(t *testing.T) {
		odd := []connect.Row{
			{Values: []connect.Value{connect.Int32(100), connect.Text("1.5 hours"), connect.Text("x1F"), connect.Text("1")}},
			{Values: []connect.Value{connect.Int32(101), connect.Text("-1 days 02:00:00"), connect.Text("00000001"), connect.Text("0")}},
			{Values: []connect.Value{connect.Int32(102), connect.Text("P1DT2H"), connect.Text("01010101"), connect.Text("1")}},
		}
		write(sink, odd, "got")
		if postgres.BinaryBatch(sink, odd) {
			t.Errorf("a batch with the interval '1.5 hours' goes as binary, want text")
		}
		same()
	})
	t.Run("a bit string of another length is refused with its row", func(t *testing.T) {
		bad := []connect.Row{
			{Values: []connect.Value{connect.Int32(200), connect.Text("00:00:01"), connect.Text("00000001"), connect.Text("1")}},
			{Values: []connect.Value{connect.Int32(201), connect.Text("00:00:02"), connect.Text("101"), connect.Text("1")}, Pos: connect.Pos{Name: "orders", Line: 201}},
		}
		err := sink.Write(t.Context(), bad)
		var re *weir.RecordError
		if !errors.As(err, &re) || re.Index != 1 || !strings.Contains(err.Error(), "orders:201") {
			t.Fatalf("Write = %v, want a *weir.RecordError for row 1, orders:201", err)
		}
		if !postgres.BinaryBatch(sink, bad) {
			t.Errorf("the batch went as text: the test checks the binary path")
		}
	})
}
