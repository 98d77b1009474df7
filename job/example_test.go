package job_test

import (
	"fmt"
	"log"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/job"
)

func Example() {
	j, err := job.Parse("job.yaml", []byte(`
tables:
  - name: users
    key: [id]
    columns:
      id: bigint
      display_name: {type: text, expr: 'first_name + " " + last_name'}
  - name: tags
    unnest: tags
    key: [user_id, seq]
    columns:
      user_id: {type: bigint, expr: id}
      seq: {type: integer, expr: ordinal}
      tag: {type: text, expr: item}
`))
	if err != nil {
		log.Fatal(err)
	}
	// The source's columns, known when it opens; a JSON Lines record.
	p, err := j.Compile([]string{"id", "first_name", "last_name", "tags"})
	if err != nil {
		log.Fatal(err)
	}
	rec := connect.Row{Values: []connect.Value{connect.Numeric("7"), connect.Text("Ada"),
		connect.Text("Lovelace"), connect.JSON(`["math","engines"]`)}}
	tables := j.Tables()
	err = p.Run(rec, func(table int, values []connect.Value) error {
		fmt.Println(tables[table].Name, values)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// users [7 Ada Lovelace]
	// tags [7 0 math]
	// tags [7 1 engines]
}

func ExampleParse_error() {
	_, err := job.Parse("job.yaml", []byte(`
tables:
  - name: users
    colums:
      id: bigint
`))
	fmt.Println(err)
	// Output:
	// job.yaml:4:5: unknown key "colums" in a table (did you mean "columns"?)
}
