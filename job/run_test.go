package job_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/job"
)

// compile parses a job and compiles it for cols.
func compile(t *testing.T, yaml string, cols ...string) *job.Program {
	t.Helper()
	j, err := job.Parse("job.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	p, err := j.Compile(cols)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// rows runs p over one record and returns its rows as text, "table:
// v1|v2|...".
func rows(t *testing.T, p *job.Program, values ...connect.Value) ([]string, error) {
	t.Helper()
	var out []string
	err := p.Run(connect.Row{Values: values, Pos: connect.Pos{Name: "in.jsonl", Line: 7}}, func(table int, vs []connect.Value) error {
		s := make([]string, len(vs))
		for i, v := range vs {
			s[i] = v.String()
			if v.IsNull() {
				s[i] = "NULL"
			} else if v.Type() == connect.TypeTimestampTZ {
				s[i] = v.Time().Format("2006-01-02T15:04:05.999999Z")
			}
		}
		out = append(out, fmt.Sprintf("%d:%s", table, strings.Join(s, "|")))
		return nil
	})
	return out, err
}

func mustRows(t *testing.T, p *job.Program, values ...connect.Value) []string {
	t.Helper()
	out, err := rows(t, p, values...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func equal(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Unnest makes one row per element of the innermost array, with the
// parent's key, the element's ordinal and the ordinals of the arrays
// above; null arrays and missing keys make no rows; tables come in file
// order and rows in document order.
func TestUnnest(t *testing.T) {
	p := compile(t, `
tables:
  - name: messages
    unnest: messages
    columns:
      user_id: {type: bigint, expr: id}
      seq: {type: integer, expr: ordinal}
      subject: {type: text, expr: item.subject}
  - name: attachments
    unnest: messages.attachments
    columns:
      user_id: {type: bigint, expr: id}
      message_seq: {type: integer, expr: 'ordinals[0]'}
      seq: {type: integer, expr: ordinal}
      last: {type: integer, expr: 'ordinals[-1]'}
      name: {type: text, expr: item.name}
      subject: {type: text, expr: parent.subject}
  - name: tags
    unnest: profile.tags
    columns:
      user_id: {type: bigint, expr: id}
      tag: {type: text, expr: item}
      bio: {type: text, expr: parent.bio}
`, "id", "messages", "profile")
	got := mustRows(t, p, connect.Numeric("42"),
		connect.JSON(`[{"subject":"a","attachments":[{"name":"x"},{"name":"y"}]},{"subject":"b","attachments":null},{"subject":"c"},{"subject":"d","attachments":[{"name":"z"}]}]`),
		connect.JSON(`{"bio":"hi","tags":["go","sql"]}`))
	equal(t, got, []string{
		"0:42|0|a", "0:42|1|b", "0:42|2|c", "0:42|3|d",
		"1:42|0|0|0|x|a", "1:42|0|1|1|y|a", "1:42|3|0|0|z|d",
		"2:42|go|hi", "2:42|sql|hi",
	})
	// A null field and an empty array make no rows.
	equal(t, mustRows(t, p, connect.Numeric("1"), connect.Null(), connect.JSON(`{"tags":[]}`)), nil)

	// An unnest path that reaches something not an array is an error.
	_, err := rows(t, p, connect.Numeric("1"), connect.JSON(`[{"attachments":"none"}]`), connect.Null())
	var re *job.RowError
	if !errors.As(err, &re) || re.Table != "attachments" || re.Pos.Line != 7 ||
		!strings.Contains(err.Error(), "messages.attachments is a string, not an array") {
		t.Errorf("error %v", err)
	}
}

// A filter drops rows it is false for, counting them; one that does not
// give a boolean is an error.
func TestFilter(t *testing.T) {
	p := compile(t, `
tables:
  - name: adults
    filter: age >= 18
    columns: {name: text}
  - name: unread
    unnest: messages
    filter: '!item.read'
    columns:
      subject: {type: text, expr: item.subject}
  - name: flagged
    filter: flag
    columns: {name: text}
`, "name", "age", "messages", "flag")
	msgs := connect.JSON(`[{"subject":"a","read":true},{"subject":"b","read":false},{"subject":"c","read":false}]`)
	equal(t, mustRows(t, p, connect.Text("ann"), connect.Numeric("30"), msgs, connect.Bool(true)),
		[]string{"0:ann", "1:b", "1:c", "2:ann"})
	equal(t, mustRows(t, p, connect.Text("bob"), connect.Numeric("12"), connect.Null(), connect.Bool(false)), nil)
	if p.Filtered(0) != 1 || p.Filtered(1) != 1 || p.Filtered(2) != 1 {
		t.Errorf("filtered %d %d %d, want 1 1 1", p.Filtered(0), p.Filtered(1), p.Filtered(2))
	}
	_, err := rows(t, p, connect.Text("cy"), connect.Numeric("40"), connect.Null(), connect.Text("yes"))
	if err == nil || !strings.Contains(err.Error(), "in.jsonl:7: table flagged: filter: it gave a text, not a boolean") {
		t.Errorf("error %v", err)
	}
}

// Expressions that are not paths run on the VM, with numbers as numbers.
func TestExpressions(t *testing.T) {
	p := compile(t, `
tables:
  - name: users
    columns:
      display_name: {type: text, expr: 'first_name + " " + last_name'}
      next_age: {type: integer, expr: age + 1}
      half: {type: double, expr: age / 2}
      city: {type: text, expr: 'upper(address.city)'}
      n_tags: {type: integer, expr: len(tags)}
      big: {type: json, expr: 'filter(tags, # != "b")'}
  - name: items
    unnest: tags
    columns:
      label: {type: text, expr: 'string(ordinal) + "=" + item'}
      pair: {type: json, expr: '[ordinals[0], item]'}
`, "first_name", "last_name", "age", "address", "tags")
	got := mustRows(t, p, connect.Text("Ann"), connect.Text("Lee"), connect.Numeric("41"),
		connect.JSON(`{"city":"Oslo"}`), connect.JSON(`["a","b","c"]`))
	equal(t, got, []string{`0:Ann Lee|42|20.5|OSLO|3|["a","c"]`, `1:0=a|[0,"a"]`, `1:1=b|[1,"b"]`, `1:2=c|[2,"c"]`})
}

// Values convert to the declared type exactly or not at all; errors name
// the record's position, the table and the column.
func TestConversion(t *testing.T) {
	cases := []struct {
		typ, in string // in: a JSON document holding the value under "v"
		want    string
	}{
		{"integer", `2147483647`, "2147483647"},
		{"integer", `2147483648`, "error: a number 2147483648 is not an integer: out of range"},
		{"integer", `1.5`, "error: a number 1.5 is not an integer"},
		{"integer", `"12"`, "12"},
		{"integer", `"12a"`, `error: a string "12a" is not an integer`},
		{"bigint", `9223372036854775807`, "9223372036854775807"},
		{"bigint", `true`, "error: a boolean true is not a bigint"},
		{"numeric", `12.50`, "12.50"},
		{"numeric", `123456789012345678901234567890.123`, "123456789012345678901234567890.123"},
		{"numeric", `"1e3"`, "1000"}, // numeric text is written out exactly, as weir copy does
		{"numeric", `"0x10"`, `error: a string "0x10" is not a numeric`},
		{"double", `0.1`, "0.1"},
		{"double", `1e400`, "error: a number 1e400 is not a double: out of range"},
		{"boolean", `"true"`, "true"},
		{"boolean", `1`, "error: a number 1 is not a boolean"},
		{"timestamptz", `"2024-05-01T12:00:00.123456+02:00"`, "2024-05-01T10:00:00.123456Z"},
		{"timestamptz", `"2024-05-01 12:00:00"`, "2024-05-01T12:00:00Z"}, // no zone reads as UTC, as in weir copy
		{"timestamptz", `"2024-05-01"`, "2024-05-01T00:00:00Z"},
		{"integer", `"12.5"`, `error: a string "12.5" is not an integer`},
		{"timestamp", `"2024-05-01 12:00:00"`, "2024-05-01 12:00:00"},
		{"date", `"2024-05-01"`, "2024-05-01"},
		{"date", `"2024-13-01"`, `error: a string "2024-13-01" is not a date`},
		{"text", `{"b":1,"a":[1,2.50]}`, `{"b":1,"a":[1,2.50]}`},
		{"text", `7`, "7"},
		{"json", `{"b":1,"a":[1,2.50]}`, `{"b":1,"a":[1,2.50]}`},
		{"json", `"x\"y"`, `"x\"y"`},
		{"bigint", `{"a":1}`, "error: an object is not a bigint"},
		{"text", `null`, "NULL"},
	}
	for _, c := range cases {
		t.Run(c.typ+" "+c.in, func(t *testing.T) {
			p := compile(t, "tables:\n  - name: t\n    columns:\n      c: {type: "+c.typ+", expr: doc.v}\n", "doc")
			got, err := rows(t, p, connect.JSON(`{"v":`+c.in+`}`))
			s := strings.Join(got, "")
			if err != nil {
				var re *job.RowError
				if !errors.As(err, &re) || re.Table != "t" || re.Column != "c" || re.Pos.Name != "in.jsonl" {
					t.Fatalf("error %v does not name the record, table and column", err)
				}
				s = "error: " + re.Err.Error()
			} else {
				s = strings.TrimPrefix(s, "0:")
			}
			if !strings.HasPrefix(s, c.want) {
				t.Errorf("got %s, want %s", s, c.want)
			}
		})
	}
}

// A path read directly gives what the expression VM gives for it: the
// same values, nulls and errors. The VM is made to run the same path by
// a condition that is always true. (A whole object differs in one way,
// documented: read directly it keeps its text and key order, the VM
// re-encodes it with sorted keys; and a number read directly keeps its
// exact text, 2.50 or 12345678901234567890, which the VM computes with as
// a float64. TestConversion checks those.)
func TestPathsMatchVM(t *testing.T) {
	paths := []string{"doc.a", "doc.missing", "doc.arr", "doc.arr[0]", "doc.arr[-1]", "doc.arr[5]", "doc.obj", "doc.obj.b",
		"doc.obj.missing", "doc.missing.x", "doc.s", "doc.s.x", "doc.arr.x", "doc.obj[0]", "doc.n", "doc.t", "name", "name.x",
		"num"}
	doc := connect.JSON(`{"a":"x","arr":[1,"two",3.5],"obj":{"b":true},"s":"str","n":null,"t":17}`)
	for _, path := range paths {
		direct, derr := runOne(t, fmt.Sprintf("tables:\n  - name: p\n    columns: {c: {type: text, expr: '%s'}}\n", path), doc)
		viaVM, verr := runOne(t, fmt.Sprintf("tables:\n  - name: p\n    columns: {c: {type: text, expr: 'true ? %s : nil'}}\n", path), doc)
		if (derr != nil) != (verr != nil) || direct != viaVM {
			t.Errorf("%s: read directly %q (error %v), on the VM %q (error %v)", path, direct, derr, viaVM, verr)
		}
	}
}

func runOne(t *testing.T, yaml string, doc connect.Value) (string, error) {
	t.Helper()
	p := compile(t, yaml, "doc", "name", "num")
	out, err := rows(t, p, doc, connect.Text("ann"), connect.Numeric("5"))
	return strings.Join(out, ","), err
}

// Run is safe for concurrent use and gives every goroutine the same rows.
func TestRunConcurrent(t *testing.T) {
	j, err := job.ReadFile(usersJob)
	if err != nil {
		t.Fatal(err)
	}
	cols, recs := usersRows(t, 8, usersOpt)
	p, err := j.Compile(cols)
	if err != nil {
		t.Fatal(err)
	}
	want := runJob(t, p, len(j.Tables()), recs)
	var wg sync.WaitGroup
	got := make([][][][]string, 4)
	for g := range got {
		wg.Go(func() { got[g] = runJob(t, p, len(j.Tables()), recs) })
	}
	wg.Wait()
	for g := range got {
		if fmt.Sprint(got[g]) != fmt.Sprint(want) {
			t.Fatalf("goroutine %d made other rows", g)
		}
	}
}
