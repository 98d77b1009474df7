package job

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of a decoded JSON value, as encoding/json
// does, so that a hostile document cannot exhaust the stack.
const maxDepth = 10000

// kind is the kind of a JSON [node].
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindObject
	kindArray
)

// node is one decoded JSON value. Nodes are not boxed in interfaces and
// live in the decoder's slab, which is reused record after record, so
// decoding a record allocates nothing once the slab has grown to fit.
type node struct {
	kind kind
	b    bool   // kindBool
	key  string // an object member's key
	// text is a string's value, a number's literal text, or an object's or
	// array's JSON text exactly as the input has it. Without escapes it
	// shares the input's memory.
	text string
	kids []node // an object's members (each with its key) or an array's elements
}

// get returns member k of an object node (the last, when repeated, as
// encoding/json keeps), or nil.
func (n *node) get(k string) *node {
	for i := len(n.kids) - 1; i >= 0; i-- {
		if n.kids[i].key == k {
			return &n.kids[i]
		}
	}
	return nil
}

// decoder reads JSON text into nodes.
type decoder struct {
	s     string
	i     int
	depth int
	stack []node // members and elements of the containers being read
	slab  []node // every container's members, contiguous per container
}

// reset forgets the nodes decoded so far, whose memory the next decode
// reuses.
func (d *decoder) reset() {
	clear(d.slab)
	d.slab = d.slab[:0]
}

// decode returns the JSON value s holds; anything after it but white
// space is an error. The node is valid until reset.
func (d *decoder) decode(s string) (*node, error) {
	d.s, d.i, d.depth = s, 0, 0
	v, err := d.value()
	if err == nil {
		d.space()
		if d.i < len(d.s) {
			err = d.errorf("data after the value")
		}
	}
	d.s = ""
	if err != nil {
		clear(d.stack)
		d.stack = d.stack[:0]
		return nil, err
	}
	d.slab = append(d.slab, v)
	return &d.slab[len(d.slab)-1], nil
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", d.i, fmt.Sprintf(format, args...))
}

func (d *decoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) value() (node, error) {
	d.space()
	if d.i >= len(d.s) {
		return node{}, d.errorf("unexpected end of input")
	}
	switch c := d.s[d.i]; {
	case c == '{':
		return d.container(kindObject, '}')
	case c == '[':
		return d.container(kindArray, ']')
	case c == '"':
		s, err := d.str()
		return node{kind: kindString, text: s}, err
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	for _, lit := range [...]struct {
		text string
		n    node
	}{{"true", node{kind: kindBool, b: true}}, {"false", node{kind: kindBool}}, {"null", node{}}} {
		if strings.HasPrefix(d.s[d.i:], lit.text) {
			d.i += len(lit.text)
			return lit.n, nil
		}
	}
	return node{}, d.errorf("invalid character %q looking for a value", d.s[d.i])
}

// container reads an object or an array.
func (d *decoder) container(k kind, end byte) (node, error) {
	if d.depth++; d.depth > maxDepth {
		return node{}, d.errorf("nested deeper than %d", maxDepth)
	}
	start := d.i
	d.i++
	base := len(d.stack)
	for first := true; ; first = false {
		d.space()
		if first && d.i < len(d.s) && d.s[d.i] == end {
			break
		}
		var key string
		if k == kindObject {
			if d.i >= len(d.s) || d.s[d.i] != '"' {
				return node{}, d.errorf("want a string for an object key")
			}
			var err error
			if key, err = d.str(); err != nil {
				return node{}, err
			}
			d.space()
			if d.i >= len(d.s) || d.s[d.i] != ':' {
				return node{}, d.errorf("want ':' after an object key")
			}
			d.i++
		}
		v, err := d.value()
		if err != nil {
			return node{}, err
		}
		v.key = key
		d.stack = append(d.stack, v)
		d.space()
		if d.i < len(d.s) && d.s[d.i] == ',' {
			d.i++
			continue
		}
		if d.i < len(d.s) && d.s[d.i] == end {
			break
		}
		return node{}, d.errorf("want ',' or %q", end)
	}
	d.i++
	d.depth--
	n := node{kind: k, text: d.s[start:d.i]}
	if len(d.stack) > base {
		at := len(d.slab)
		d.slab = append(d.slab, d.stack[base:]...)
		n.kids = d.slab[at:len(d.slab):len(d.slab)]
		clear(d.stack[base:])
		d.stack = d.stack[:base]
	}
	return n, nil
}

// str reads a string. One without escapes or invalid UTF-8 is a slice of
// the input; otherwise it is unescaped into a new string, with invalid
// UTF-8 replaced by U+FFFD as encoding/json does.
func (d *decoder) str() (string, error) {
	start := d.i
	d.i++
	for {
		for d.i < len(d.s) && plain[d.s[d.i]] {
			d.i++
		}
		if d.i >= len(d.s) {
			return "", d.errorf("unterminated string")
		}
		switch c := d.s[d.i]; {
		case c == '"':
			d.i++
			return d.s[start+1 : d.i-1], nil
		case c == '\\' || c < 0x20:
			return d.slowStr(start)
		default: // not ASCII
			r, size := utf8.DecodeRuneInString(d.s[d.i:])
			if r == utf8.RuneError && size == 1 {
				return d.slowStr(start)
			}
			d.i += size
		}
	}
}

// plain marks the bytes a string holds as they are: ASCII but for the
// quote, the backslash and control characters.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (d *decoder) slowStr(start int) (string, error) {
	d.i = start + 1
	b := make([]byte, 0, 64)
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			return string(b), nil
		case c < 0x20:
			return "", d.errorf("control character %q in a string", c)
		case c == '\\':
			if d.i+1 >= len(d.s) {
				return "", d.errorf("unterminated string")
			}
			d.i += 2
			switch e := d.s[d.i-1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", d.errorf("invalid \\u escape")
				}
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					if strings.HasPrefix(d.s[d.i:], "\\u") {
						save := d.i
						d.i += 2
						var ok2 bool
						if r2, ok2 = d.hex4(); !ok2 {
							return "", d.errorf("invalid \\u escape")
						}
						if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
							d.i = save // not a pair: the second escape stands alone
						}
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", d.errorf("invalid escape \\%c", e)
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.i++
		default:
			r, size := utf8.DecodeRuneInString(d.s[d.i:])
			d.i += size
			b = utf8.AppendRune(b, r) // RuneError for invalid UTF-8
		}
	}
	return "", d.errorf("unterminated string")
}

// hex4 reads the four hex digits of a \u escape.
func (d *decoder) hex4() (rune, bool) {
	if d.i+4 > len(d.s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(d.s[d.i : d.i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.i += 4
	return r, true
}

// number reads a number as its text, checking the JSON grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() (node, error) {
	start := d.i
	if d.s[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.s) && d.s[d.i] == '0':
		d.i++
	case d.digits() == 0:
		return node{}, d.errorf("invalid number")
	}
	if d.i < len(d.s) && d.s[d.i] == '.' {
		d.i++
		if d.digits() == 0 {
			return node{}, d.errorf("invalid number: no digits after '.'")
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if d.digits() == 0 {
			return node{}, d.errorf("invalid number: no digits in the exponent")
		}
	}
	return node{kind: kindNumber, text: d.s[start:d.i]}, nil
}

func (d *decoder) digits() int {
	n := 0
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
		d.i++
		n++
	}
	return n
}

// goOf returns n as the Go values the expression VM works with:
// map[string]any, []any, string, bool, nil, and numbers as int (an
// integer that fits) or float64.
func goOf(n *node) any {
	switch n.kind {
	case kindBool:
		return n.b
	case kindNumber:
		return goNumber(n.text)
	case kindString:
		return n.text
	case kindObject:
		m := make(map[string]any, len(n.kids))
		for i := range n.kids {
			m[n.kids[i].key] = goOf(&n.kids[i])
		}
		return m
	case kindArray:
		a := make([]any, len(n.kids))
		for i := range n.kids {
			a[i] = goOf(&n.kids[i])
		}
		return a
	}
	return nil
}

// goNumber returns a number's text as an int when it is an integer that
// fits, else as the nearest float64.
func goNumber(s string) any {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return int(i)
	}
	f, _ := strconv.ParseFloat(s, 64) // JSON's grammar is ParseFloat's; a huge exponent gives ±Inf
	return f
}
