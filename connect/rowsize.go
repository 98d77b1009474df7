package connect

import "unsafe"

const (
	rowHeader = int(unsafe.Sizeof(Row{}))
	valueSize = int(unsafe.Sizeof(Value{}))
)

// Size returns an estimate of the bytes r holds in memory: the row itself,
// its slice of values (its capacity) and their text. It implements
// weir.Sizer, so a memory budget (weir.Config.Memory, the CLI's --memory)
// and byte-sized batches work with rows. Pos.Name is not counted: the rows
// of one source share it. One pass over the values, no allocation.
func (r *Row) Size() int {
	n := rowHeader + cap(r.Values)*valueSize
	for i := range r.Values {
		n += len(r.Values[i].s)
	}
	return n
}
