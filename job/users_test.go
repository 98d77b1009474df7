package job_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/examples/users"
	"github.com/weir-etl/weir/job"
)

const usersJob = "../examples/users/job.yaml"

var usersOpt = users.GenOptions{Seed: 42}

// jsonlRow turns one JSON Lines record into the generic row weir copy's
// JSONL source yields: top-level keys are columns, strings Text, numbers
// Numeric with their literal text, booleans Bool, null Null, objects and
// arrays JSON with their compact text.
func jsonlRow(t testing.TB, line []byte, lineNo int64) (cols []string, row connect.Row) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("line %d: not an object: %v", lineNo, err)
	}
	row.Pos = connect.Pos{Name: "users.jsonl", Line: lineNo}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, key.(string))
		var v connect.Value
		switch c := raw[0]; {
		case c == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatal(err)
			}
			v = connect.Text(s)
		case c == 't' || c == 'f':
			v = connect.Bool(c == 't')
		case c == 'n':
			v = connect.Null()
		case c == '{' || c == '[':
			var buf bytes.Buffer
			if err := json.Compact(&buf, raw); err != nil {
				t.Fatal(err)
			}
			v = connect.JSON(buf.String())
		default:
			v = connect.Numeric(string(raw))
		}
		row.Values = append(row.Values, v)
	}
	return cols, row
}

// usersRows encodes users 1..n as JSON Lines and returns them as rows.
func usersRows(t testing.TB, n int, o users.GenOptions) ([]string, []connect.Row) {
	var cols []string
	var rows []connect.Row
	for id := int64(1); id <= int64(n); id++ {
		line, err := json.Marshal(users.Generate(id, o))
		if err != nil {
			t.Fatal(err)
		}
		c, row := jsonlRow(t, line, id)
		if cols == nil {
			cols = c
		} else if !slices.Equal(c, cols) {
			t.Fatalf("user %d has columns %v, user 1 %v", id, c, cols)
		}
		rows = append(rows, row)
	}
	return cols, rows
}

// canonJob and canonSplit write a value as text that is equal for equal
// values whatever the side's Go type: times as UTC with microseconds,
// numbers as Go's shortest float or integer text. A numeric (amount) is
// compared as the float64 users.Splitter loads.
func canonJob(v connect.Value) string {
	switch {
	case v.IsNull():
		return "NULL"
	case v.Type() == connect.TypeNumeric:
		f, err := strconv.ParseFloat(v.Str(), 64)
		if err != nil {
			return "bad numeric " + v.Str()
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	case v.Type() == connect.TypeTimestampTZ:
		return v.Time().Format("2006-01-02T15:04:05.000000Z")
	}
	return string(v.AppendText(nil))
}

func canonSplit(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return x.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
	}
	return fmt.Sprint(v)
}

// splitRows collects users.Splitter's rows as canonical text, by table.
type splitRows [][][]string

func (s splitRows) Row(table int, values ...connect.Value) {
	row := make([]string, len(values))
	for i, v := range values {
		row[i] = canonSplit(v.Any())
	}
	s[table] = append(s[table], row)
}

// runJob runs the compiled job over rows and returns its rows as
// canonical text, by table.
func runJob(t testing.TB, p *job.Program, n int, rows []connect.Row) [][][]string {
	out := make([][][]string, n)
	for _, r := range rows {
		err := p.Run(r, func(table int, values []connect.Value) error {
			row := make([]string, len(values))
			for i, v := range values {
				row[i] = canonJob(v)
			}
			out[table] = append(out[table], row)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func checksum(rows [][]string) string {
	h := sha256.New()
	for _, r := range rows {
		for _, v := range r {
			io.WriteString(h, v)
			h.Write([]byte{0})
		}
		h.Write([]byte{'\n'})
	}
	return fmt.Sprintf("%x", h.Sum(nil)[:8])
}

// The reference migration as a job file: examples/users/job.yaml must
// turn the JSON Lines export of users into exactly the rows
// users.Splitter makes of the same users (what weir migrate loads): the
// same 15 tables with the same columns, keys and types, the same row
// counts, and the same values in the same order.
func TestUsersJobMatchesSplitter(t *testing.T) {
	j, err := job.ReadFile(usersJob)
	if err != nil {
		t.Fatal(err)
	}
	want := users.Splitter{}.Tables()
	got := j.Tables()
	if len(got) != len(want) {
		t.Fatalf("job has %d tables, Splitter %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Name != want[i].Name || !slices.Equal(got[i].Columns, want[i].Columns) || !slices.Equal(got[i].Key, want[i].Key) {
			t.Fatalf("table %d: job declares %+v, Splitter has %+v", i, got[i], want[i])
		}
	}
	pgTypes := postgresTypes(t)
	for i := range want {
		for _, c := range j.Columns(i) {
			if w := pgTypes[want[i].Name+"."+c.Name]; c.Type != w {
				t.Errorf("%s.%s: job declares %s, SchemaPostgres %s", want[i].Name, c.Name, c.Type, w)
			}
		}
	}

	const n = 30
	cols, rows := usersRows(t, n, usersOpt)
	p, err := j.Compile(cols)
	if err != nil {
		t.Fatal(err)
	}
	jobRows := runJob(t, p, len(want), rows)
	split := make(splitRows, len(want))
	for id := int64(1); id <= n; id++ {
		if err := (users.Splitter{}).Split(users.Generate(id, usersOpt), split); err != nil {
			t.Fatal(err)
		}
	}
	for ti, tab := range want {
		if len(jobRows[ti]) != len(split[ti]) {
			t.Fatalf("%s: the job made %d rows, Splitter %d", tab.Name, len(jobRows[ti]), len(split[ti]))
		}
		if len(split[ti]) != n*users.RowsPerUser()[tab.Name] {
			t.Fatalf("%s: Splitter made %d rows for %d users", tab.Name, len(split[ti]), n)
		}
		for r := range split[ti] {
			for c, w := range split[ti][r] {
				if g := jobRows[ti][r][c]; g != w {
					t.Fatalf("%s row %d column %s: the job made %q, Splitter %q", tab.Name, r, tab.Columns[c], g, w)
				}
			}
		}
		if a, b := checksum(jobRows[ti]), checksum(split[ti]); a != b {
			t.Fatalf("%s: checksums differ: %s and %s", tab.Name, a, b)
		}
	}
}

var createTable = regexp.MustCompile(`(?s)CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);`)

// postgresTypes reads users.SchemaPostgres: "table.column" → type.
func postgresTypes(t *testing.T) map[string]connect.Type {
	out := map[string]connect.Type{}
	for _, m := range createTable.FindAllStringSubmatch(users.SchemaPostgres, -1) {
		for _, line := range strings.Split(m[2], "\n") {
			line = strings.TrimSuffix(strings.TrimSpace(line), ",")
			if line == "" || strings.HasPrefix(line, "PRIMARY KEY") || strings.HasPrefix(line, "FOREIGN KEY") {
				continue
			}
			name, rest, _ := strings.Cut(line, " ")
			rest = strings.TrimSuffix(rest, " NOT NULL")
			typ, err := connect.ParseType(rest)
			if err != nil {
				t.Fatalf("SchemaPostgres %s.%s: %v", m[1], name, err)
			}
			out[m[1]+"."+name] = typ
		}
	}
	if len(out) < 60 {
		t.Fatalf("read %d columns from SchemaPostgres", len(out))
	}
	return out
}
