package parquet

import (
	"encoding/json"
	"errors"
	"fmt"

	pq "github.com/parquet-go/parquet-go"

	"github.com/weir-etl/weir/connect"
)

// assembler turns the values of one Parquet row into a row's values: a
// flat column's value as it is, a nested column (a group, a list, a map,
// a repeated field) as compact JSON text, rebuilt from its leaf columns'
// repetition and definition levels (the Dremel encoding).
type assembler struct {
	top  []*node
	flat bool         // every top-level field is a leaf, not repeated: one value per column
	cols [][]pq.Value // the row's values, per leaf column
	cur  []int        // the next value of each leaf column
	buf  []byte
	bad  bool // the levels did not add up: a corrupt file
}

func newAssembler(top []*node, leaves int) *assembler {
	a := &assembler{top: top, flat: true, cols: make([][]pq.Value, leaves), cur: make([]int, leaves)}
	for _, n := range top {
		if n.kind != kindLeaf || n.repeated {
			a.flat = false
		}
	}
	return a
}

var errLevels = errors.New("the repetition and definition levels of a nested column do not add up (a corrupt file?)")

// row appends the values of r, one per top-level field, to dst.
func (a *assembler) row(r pq.Row, dst []connect.Value) ([]connect.Value, error) {
	if a.flat {
		if len(r) != len(a.top) {
			return dst, fmt.Errorf("a row has %d values for %d columns (a corrupt file?)", len(r), len(a.top))
		}
		for i, n := range a.top {
			dst = append(dst, a.leaf(r[i], n))
		}
		return dst, nil
	}
	for i := range a.cols {
		a.cols[i], a.cur[i] = a.cols[i][:0], 0
	}
	for _, v := range r {
		c := v.Column()
		if c < 0 || c >= len(a.cols) {
			return dst, errLevels
		}
		a.cols[c] = append(a.cols[c], v)
	}
	a.bad = false
	for _, n := range a.top {
		switch {
		case n.kind == kindLeaf && !n.repeated:
			dst = append(dst, a.leaf(a.next(n.first), n))
		case n.optional && a.peek(n.first).DefinitionLevel() < n.def:
			a.skip(n)
			dst = append(dst, connect.Null())
		default:
			a.buf = a.emit(a.buf[:0], n)
			dst = append(dst, connect.JSON(string(a.buf)))
		}
	}
	if a.bad {
		return dst, errLevels
	}
	return dst, nil
}

func (a *assembler) leaf(v pq.Value, n *node) connect.Value {
	if v.IsNull() || v.DefinitionLevel() < n.def {
		return connect.Null()
	}
	return n.conv(v)
}

func (a *assembler) peek(col int) pq.Value {
	if a.cur[col] >= len(a.cols[col]) {
		a.bad = true
		return pq.Value{}
	}
	return a.cols[col][a.cur[col]]
}

func (a *assembler) next(col int) pq.Value {
	v := a.peek(col)
	a.cur[col]++
	return v
}

// skip passes over an absent node: each of its leaf columns holds one
// value saying so.
func (a *assembler) skip(n *node) {
	for c := n.first; c < n.last; c++ {
		a.next(c)
	}
}

// more reports whether another occurrence of the repeated node n follows.
func (a *assembler) more(n *node) bool {
	c := n.first
	return a.cur[c] < len(a.cols[c]) && a.cols[c][a.cur[c]].RepetitionLevel() == n.rep
}

// emit appends the JSON of n's value where its parent is present: an
// array of its occurrences if n is repeated.
func (a *assembler) emit(b []byte, n *node) []byte {
	if !n.repeated {
		return a.one(b, n)
	}
	return a.each(append(b, '['), n, func(b []byte) []byte { return a.one(b, n) }, ',', ']')
}

// each calls f for each occurrence of the repeated node r, joined by sep,
// then appends end. No occurrence is an empty array or object.
func (a *assembler) each(b []byte, r *node, f func([]byte) []byte, sep, end byte) []byte {
	if a.peek(r.first).DefinitionLevel() < r.def {
		a.skip(r)
		return append(b, end)
	}
	for i := 0; !a.bad; i++ {
		if i > 0 {
			b = append(b, sep)
		}
		b = f(b)
		if !a.more(r) {
			break
		}
	}
	return append(b, end)
}

// one appends the JSON of one occurrence of n.
func (a *assembler) one(b []byte, n *node) []byte {
	if n.optional && a.peek(n.first).DefinitionLevel() < n.def {
		a.skip(n)
		return append(b, "null"...)
	}
	switch n.kind {
	case kindLeaf:
		js, _ := a.leaf(a.next(n.first), n).MarshalJSON() // never fails
		return append(b, js...)
	case kindList:
		r := n.fields[0]
		elem, three := listElement(r, n.name)
		return a.each(append(b, '['), r, func(b []byte) []byte {
			if three {
				return a.emit(b, elem)
			}
			return a.one(b, r)
		}, ',', ']')
	case kindMap:
		r := n.fields[0]
		return a.each(append(b, '{'), r, func(b []byte) []byte {
			k := a.leaf(a.next(r.fields[0].first), r.fields[0])
			b = appendString(b, string(k.AppendText(nil)))
			b = append(b, ':')
			if len(r.fields) < 2 {
				return append(b, "null"...)
			}
			b = a.emit(b, r.fields[1])
			for _, f := range r.fields[2:] { // not in the standard: read past
				a.emit(nil, f)
			}
			return b
		}, ',', '}')
	}
	b = append(b, '{')
	for i, f := range n.fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, f.name), ':')
		b = a.emit(b, f)
	}
	return append(b, '}')
}

func appendString(b []byte, s string) []byte {
	js, _ := json.Marshal(s) // a string always encodes
	return append(b, js...)
}
