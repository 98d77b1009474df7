package job

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// exact returns n as encoding/json decodes it with UseNumber.
func exact(n *node) any {
	switch n.kind {
	case kindBool:
		return n.b
	case kindNumber:
		return json.Number(n.text)
	case kindString:
		return n.text
	case kindObject:
		m := map[string]any{}
		for i := range n.kids {
			m[n.kids[i].key] = exact(&n.kids[i])
		}
		return m
	case kindArray:
		a := []any{}
		for i := range n.kids {
			a = append(a, exact(&n.kids[i]))
		}
		return a
	}
	return nil
}

// checkDecode: the decoder accepts exactly the documents encoding/json
// accepts and reads the same values from them; an object's or array's
// text is its text in the input.
func checkDecode(t *testing.T, s string) {
	var d decoder
	n, err := d.decode(s)
	var want any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	jerr := dec.Decode(&want)
	if jerr == nil && !json.Valid([]byte(s)) {
		jerr = errTrailing
	}
	if (err == nil) != (jerr == nil) {
		t.Fatalf("decode(%q): error %v, encoding/json's %v", s, err, jerr)
	}
	if err != nil {
		return
	}
	if got := exact(n); !reflect.DeepEqual(got, want) {
		t.Fatalf("decode(%q) = %#v, encoding/json %#v", s, got, want)
	}
	if (n.kind == kindObject || n.kind == kindArray) && n.text != strings.TrimSpace(s) {
		t.Fatalf("decode(%q): text %q", s, n.text)
	}
	// The encoder writes what reads back the same.
	b, err := appendJSON(nil, goOf(n))
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("appendJSON of %q wrote %s", s, b)
	}
	d.reset()
}

var errTrailing = bytes.ErrTooLarge // any error: data after the value

var decodeCases = []string{
	`null`, `true`, `false`, `0`, `-0`, `-12.5e+3`, `1E2`, `"plain"`, `"esc \" \\ \/ \b\f\n\r\t \u00e9 \ud83d\ude00"`,
	`"lone \ud800 surrogate"`, `"bad utf8 ` + "\xff" + `"`, `[]`, `{}`, ` [1, "a", {"b": [null]}] `,
	`{"a":1,"a":2}`, `[1,]`, `{"a" 1}`, `01`, `1.`, `.5`, `-`, `"unterminated`, `[1 2]`, `{"a":1}x`, `tru`,
	`"ctl ` + "\x01" + `"`, `"\x"`, `"\u12"`, `nul`, `[`, `{"a":`, `"é漢字"`,
}

func TestDecode(t *testing.T) {
	for _, s := range decodeCases {
		checkDecode(t, s)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range decodeCases {
		f.Add(s)
	}
	f.Fuzz(checkDecode)
}

// Decoding a record reuses the slab: no allocation once it has grown.
func TestDecodeAllocs(t *testing.T) {
	doc := `{"a":[{"x":1,"y":"two"},{"x":3,"y":"four"}],"b":{"c":[true,false,null]}}`
	var d decoder
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := d.decode(doc); err != nil {
			t.Fatal(err)
		}
		d.reset()
	})
	if allocs != 0 {
		t.Errorf("decode allocates %.0f times per document", allocs)
	}
}
