package connect_test

import (
	"strings"
	"testing"

	"github.com/weir-etl/weir/connect"
)

func TestRowSize(t *testing.T) {
	small := connect.Row{Values: []connect.Value{connect.Int64(1), connect.Text("ab")}}
	big := connect.Row{Values: []connect.Value{connect.Int64(1), connect.Text(strings.Repeat("x", 1000))}}
	if d := big.Size() - small.Size(); d != 998 {
		t.Errorf("a row with 998 more bytes of text is %d bytes larger", d)
	}
	wide := connect.Row{Values: make([]connect.Value, 2, 20)}
	if d := wide.Size() - (&connect.Row{Values: make([]connect.Value, 2)}).Size(); d <= 0 {
		t.Errorf("a row whose slice has room for 18 more values is %d bytes larger", d)
	}
}
