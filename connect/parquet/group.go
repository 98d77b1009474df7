package parquet

import (
	"reflect"
	"strings"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// orderedGroup is a group node whose fields keep the order given: the
// library's pq.Group is a map and sorts its fields by name, which would
// reorder a file's columns.
type orderedGroup []pq.Field

func (g orderedGroup) ID() int                     { return 0 }
func (g orderedGroup) Type() pq.Type               { return pq.Group{}.Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Fields() []pq.Field          { return g }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }

func (g orderedGroup) String() string {
	var b strings.Builder
	b.WriteString("group {")
	for _, f := range g {
		b.WriteString(" " + f.Name() + ": " + f.String() + ";")
	}
	b.WriteString(" }")
	return b.String()
}

// GoType returns the type of a map group with the same fields: the sink
// writes rows, not Go values, so only the library's bookkeeping sees it.
func (g orderedGroup) GoType() reflect.Type {
	m := pq.Group{}
	for _, f := range g {
		m[f.Name()] = f
	}
	return m.GoType()
}

// field is a named node of an orderedGroup.
type field struct {
	pq.Node
	name string
}

func (f *field) Name() string { return f.name }

// Value is for the library's reflection on Go values, which the sink does
// not use.
func (f *field) Value(base reflect.Value) reflect.Value { return reflect.Value{} }
