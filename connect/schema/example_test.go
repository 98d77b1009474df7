package schema_test

import (
	"fmt"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/schema"
)

// A CSV file's rows, as connect/file reads them: every field is text.
func csvRows() (names []string, rows []connect.Row) {
	names = []string{"id", "zip", "price", "joined", "tags"}
	for i, rec := range [][]string{
		{"1", "02134", "12", "2024-02-29", `["a"]`},
		{"2", "10001", "12.50", "2024-03-01", `{"b":1}`},
		{"3", "94103", "9.99", "2024-03-02", `[]`},
		{"4", "60601", "3.5", "2024-03-02", `[]`},
		{"5", "30301", "2.5", "2024-3-2", `[]`},
	} {
		r := connect.Row{Pos: connect.Pos{Name: "data.csv", Line: int64(i + 2)}}
		for _, f := range rec {
			r.Values = append(r.Values, connect.Text(f))
		}
		rows = append(rows, r)
	}
	return names, rows
}

func ExampleInfer() {
	names, rows := csvRows()
	for _, c := range schema.Infer(names, rows[:3]) {
		fmt.Println(c.Name, c.Type)
	}
	// Output:
	// id integer
	// zip text
	// price numeric
	// joined date
	// tags json
}

func ExampleConverter_Convert() {
	names, rows := csvRows()
	c, err := schema.NewConverter(names, schema.Infer(names, rows[:3]))
	if err != nil {
		fmt.Println(err)
		return
	}
	var out []connect.Value
	for _, r := range rows {
		out, err = c.Convert(r, out[:0])
		if err != nil {
			fmt.Println(err) // a real program rejects or stops here
			continue
		}
		fmt.Println(out)
	}
	// Output:
	// [1 02134 12 2024-02-29 ["a"]]
	// [2 10001 12.50 2024-03-01 {"b":1}]
	// [3 94103 9.99 2024-03-02 []]
	// [4 60601 3.5 2024-03-02 []]
	// data.csv:6: column "joined": "2024-3-2" is not a date
}

func ExampleNewConverter() {
	_, err := schema.NewConverter([]string{"id", "Name", "extra"}, []connect.Column{
		{Name: "id", Type: connect.TypeInt64},
		{Name: "name", Type: connect.TypeText}, // matches "Name"
		{Name: "email", Type: connect.TypeText},
	})
	fmt.Println(err)
	// Output:
	// schema: target columns missing from the source: "email"; source columns missing from the target: "extra"
}

func ExampleConvert() {
	for _, s := range []string{"42", "007", "12.5"} {
		v, err := schema.Convert(connect.TypeInt64, connect.Text(s))
		fmt.Println(v, err)
	}
	// Output:
	// 42 <nil>
	// 7 <nil>
	// NULL "12.5" is not a bigint
}
