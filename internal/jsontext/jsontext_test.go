package jsontext_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/weir-etl/weir/internal/jsontext"
)

// FuzzAppendString: the output is valid JSON that decodes to s (invalid
// UTF-8 replaced by U+FFFD, as encoding/json does).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"b\s`, "\n\r\t\x00\x1f", "<&>", "é日本", "\xff\xfe", "a\u2028b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := jsontext.AppendString([]byte("x"), s)
		if out[0] != 'x' {
			t.Fatal("the prefix was overwritten")
		}
		var back string
		if err := json.Unmarshal(out[1:], &back); err != nil {
			t.Fatalf("%q → %s: %v", s, out[1:], err)
		}
		var want strings.Builder // each invalid byte becomes U+FFFD
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			want.WriteRune(r)
			i += size
		}
		if back != want.String() {
			t.Fatalf("%q → %s decodes to %q, want %q", s, out[1:], back, want.String())
		}
	})
}
