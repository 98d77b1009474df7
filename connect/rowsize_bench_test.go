package connect_test

import (
	"testing"

	"github.com/weir-etl/weir/connect"
)

// BenchmarkRowSize is what sizing a row costs the engine per record (it
// sizes every record of a weir.Sizer type, for Stats.Bytes and budgets):
// an 8-column row as weir copy reads a CSV.
func BenchmarkRowSize(b *testing.B) {
	r := connect.Row{Values: []connect.Value{connect.Text("123456"), connect.Text("name 123456"),
		connect.Text("user123456@example.com"), connect.Text("city 12"), connect.Text("123.456"),
		connect.Text("42"), connect.Text("2024-05-06"), connect.Text("2024-05-01 12:34:56")}}
	n := 0
	for b.Loop() {
		n += r.Size()
	}
	if n == 0 {
		b.Fatal("no size")
	}
}
