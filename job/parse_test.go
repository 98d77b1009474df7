package job_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/job"
)

const minimal = `source: users.jsonl
target: sqlite:weir.db
tables:
  - name: users
    key: [id]
    filter: 'age >= 18'
    columns:
      id: bigint
      display_name: {type: text, expr: 'first_name + " " + last_name'}
      tags: {type: json}
`

func TestParse(t *testing.T) {
	j, err := job.Parse("job.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if j.Source != "users.jsonl" || j.Target != "sqlite:weir.db" {
		t.Errorf("source %q target %q", j.Source, j.Target)
	}
	if o := j.Options; o.OnError != "fail" || o.IfExists != "fail" || o.Sample != 1000 || o.Batch != 0 {
		t.Errorf("defaults not filled in: %+v", o)
	}
	want := []connect.Column{{Name: "id", Type: connect.TypeInt64}, {Name: "display_name", Type: connect.TypeText},
		{Name: "tags", Type: connect.TypeJSON}}
	if got := j.Columns(0); !slices.Equal(got, want) {
		t.Errorf("columns %v, want %v (file order)", got, want)
	}
	tab := j.Tables()[0]
	if tab.Name != "users" || !slices.Equal(tab.Key, []string{"id"}) || !slices.Equal(tab.Columns, []string{"id", "display_name", "tags"}) {
		t.Errorf("table %+v", tab)
	}
	spec := j.Spec(0)
	if spec.Filter != "age >= 18" || spec.Columns[0].Expr != "id" || spec.Columns[2].Expr != "tags" ||
		spec.Columns[1].Expr != `first_name + " " + last_name` {
		t.Errorf("spec %+v: a column without expr reads the field of its name", spec)
	}
}

// Every mistake names the file, line and column, and an unknown key the
// nearest valid one at its level.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // each a substring of one joined error
	}{
		{"syntax", "tables:\n  - name: [users\n", []string{"job.yaml:2:"}},
		{"empty", "", []string{"job.yaml: empty job file"}},
		{"unknown top key", "sorce: x\ntables: []\n", []string{`job.yaml:1:1: unknown key "sorce" in the job (did you mean "source"?)`}},
		{"unknown option", "options: {bach: 3}\n" + tablesOnly, []string{`job.yaml:1:11: unknown key "bach" in options (did you mean "batch"?)`}},
		{"unknown table key", "tables:\n  - name: t\n    filtr: x\n    columns: {a: text}\n",
			[]string{`job.yaml:3:5: unknown key "filtr" in a table (did you mean "filter"?)`}},
		{"unknown column key", "tables:\n  - name: t\n    columns:\n      a: {type: text, exp: b}\n",
			[]string{`job.yaml:4:23: unknown key "exp" in a column (did you mean "expr"?)`}},
		{"no suggestion", "tables:\n  - name: t\n    zzzzzzzz: 1\n    columns: {a: text}\n",
			[]string{`job.yaml:3:5: unknown key "zzzzzzzz" in a table (want one of name, key, filter, unnest, columns)`}},
		{"bad type", "tables:\n  - name: t\n    columns:\n      a: txt\n", []string{`job.yaml:4:10: table "t", column "a": unknown type "txt"`}},
		{"bad type in mapping", "tables:\n  - name: t\n    columns:\n      a: {type: intt}\n", []string{`job.yaml:4:17: table "t", column "a": unknown type "intt"`}},
		{"no type", "tables:\n  - name: t\n    columns:\n      a: {expr: b}\n", []string{`job.yaml:4:10: table "t", column "a": no type`}},
		{"expression syntax", "tables:\n  - name: t\n    columns:\n      a: {type: text, expr: 'b +'}\n",
			[]string{`job.yaml:4:29: table "t", column "a": expression "b +": unexpected token EOF`}},
		{"filter syntax", "tables:\n  - name: t\n    filter: '(('\n    columns: {a: text}\n", []string{`job.yaml:3:13: table "t": filter "((":`}},
		{"duplicate column", "tables:\n  - name: t\n    columns:\n      a: text\n      a: bigint\n", []string{`job.yaml:5:7:`, `"a"`}},
		{"duplicate table", tablesOnly + "  - name: t\n    columns: {a: text}\n", []string{`job.yaml:4:11: table "t" is declared twice (first as table 1)`}},
		{"key not a column", "tables:\n  - name: t\n    key: [idd]\n    columns: {id: bigint}\n",
			[]string{`job.yaml:3:11: table "t": key column "idd" is not one of its columns (did you mean "id"?)`}},
		{"unnest path", "tables:\n  - name: t\n    unnest: a..b\n    columns: {a: text}\n", []string{`job.yaml:3:13: table "t": unnest "a..b": an empty key`}},
		{"option values", "options:\n  batch: -1\n  on_error: ignore\n" + tablesOnly,
			[]string{`job.yaml:2:10: options.batch must be >= 0, got -1`, `job.yaml:3:13: options.on_error must be one of fail, skip, got "ignore"`}},
		{"option type", "options:\n  batch: many\n" + tablesOnly, []string{`job.yaml:2:10:`}},
		{"no tables", "source: x\n", []string{`job.yaml: a job needs at least one table`}},
		{"no columns", "tables:\n  - name: t\n", []string{`job.yaml:2:5: table "t" has no columns`}},
		{"columns not a mapping", "tables:\n  - name: t\n    columns: [a, b]\n", []string{`job.yaml:3:14: columns must be a mapping`}},
		{"several at once", "tables:\n  - name: t\n    columns:\n      a: txt\n      b: {type: text, expr: '+'}\n",
			[]string{`job.yaml:4:10:`, `job.yaml:5:29:`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := job.Parse("job.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
			var je *job.Error
			if !errors.As(err, &je) {
				t.Errorf("%v is not a *job.Error", err)
			}
		})
	}
}

const tablesOnly = "tables:\n  - name: t\n    columns: {a: text}\n"

// Compile checks the names expressions read against the source's columns,
// before any record is read.
func TestCompileErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		cols       []string
		want       string
	}{
		{"misspelt field", "tables:\n  - name: t\n    columns:\n      a: {type: text, expr: 'frist_name + last_name'}\n",
			[]string{"first_name", "last_name"}, `job.yaml:4:29: table "t", column "a": unknown name frist_name (at character 1 of the expression) (did you mean "first_name"?)`},
		{"shorthand field missing", "tables:\n  - name: t\n    columns:\n      email: text\n",
			[]string{"e_mail"}, `job.yaml:4:14: table "t", column "email": unknown name email`},
		{"filter field", "tables:\n  - name: t\n    filter: 'agee > 3'\n    columns: {age: integer}\n",
			[]string{"age"}, `job.yaml:3:13: table "t", filter: unknown name agee (at character 1 of the expression) (did you mean "age"?)`},
		{"item outside unnest", "tables:\n  - name: t\n    columns:\n      a: {type: text, expr: item.x}\n",
			[]string{"a"}, `unknown name item (at character 1 of the expression) (item exists only in a table with unnest:)`},
		{"unnest root", "tables:\n  - name: t\n    unnest: mesages.attachments\n    columns:\n      a: {type: text, expr: item}\n",
			[]string{"messages"}, `job.yaml:3:13: table "t": unnest "mesages.attachments": the source has no column "mesages" (did you mean "messages"?)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j, err := job.Parse("job.yaml", []byte(c.yaml))
			if err != nil {
				t.Fatal(err)
			}
			_, err = j.Compile(c.cols)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error\n%v\nwant\n%s", err, c.want)
			}
		})
	}
}

// The users job parses and compiles; every error of a broken copy points
// into the file.
func TestUsersJobFile(t *testing.T) {
	if _, err := job.ReadFile(usersJob); err != nil {
		t.Fatal(err)
	}
	if _, err := job.ReadFile("no-such.yaml"); err == nil || !strings.Contains(err.Error(), "no-such.yaml") {
		t.Errorf("missing file: %v", err)
	}
}
