package suggest_test

import (
	"testing"

	"github.com/weir-etl/weir/internal/suggest"
)

func TestNearest(t *testing.T) {
	known := []string{"columns", "key", "name", "type", "tables"}
	for _, c := range []struct{ in, want string }{
		{"colums", "columns"},
		{"tabels", "tables"},
		{"kye", "key"},
		{"typ", "type"},
		{"zzzzzzzz", ""}, // nothing close enough
		{"", ""},
	} {
		if got := suggest.Nearest(c.in, known); got != c.want {
			t.Errorf("Nearest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
