package parquet

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/weir-etl/weir/connect"
)

// node is a field of a file's schema, with what reading needs: its place
// in the Dremel levels and, for a leaf, how a value becomes a
// connect.Value.
type node struct {
	name     string
	kind     nodeKind
	optional bool
	repeated bool
	def, rep int     // definition and repetition levels at which the node is present
	first    int     // the first leaf column under the node
	last     int     // one past its last leaf column
	fields   []*node // a group's, a list's or a map's children
	conv     leafConv
	typ      connect.Type // a leaf's type
}

type nodeKind uint8

const (
	kindLeaf  nodeKind = iota
	kindGroup          // a struct: a JSON object
	kindList           // LIST: a JSON array of the repeated child's elements
	kindMap            // MAP: a JSON object of the repeated child's key and value
)

// leafConv turns a non-null value of a leaf column into a connect.Value.
type leafConv func(v pq.Value) connect.Value

// buildTree turns the fields of a schema into nodes, numbering the leaf
// columns from *col in the order the file stores them.
func buildTree(fields []pq.Field, parent *node, col *int) ([]*node, error) {
	out := make([]*node, 0, len(fields))
	for _, f := range fields {
		n := &node{name: f.Name(), optional: f.Optional(), repeated: f.Repeated(), def: parent.def, rep: parent.rep, first: *col}
		if n.optional || n.repeated {
			n.def++
		}
		if n.repeated {
			n.rep++
		}
		if f.Leaf() {
			conv, typ, err := leafType(f.Type())
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", f.Name(), err)
			}
			n.kind, n.conv, n.typ = kindLeaf, conv, typ
			*col++
		} else {
			var err error
			if n.fields, err = buildTree(f.Fields(), n, col); err != nil {
				return nil, fmt.Errorf("%s.%w", f.Name(), err)
			}
			n.kind = kindGroup
			var isList, isMap bool
			if lt := f.Type().LogicalType(); lt != nil {
				_, isList = lt.Value.(*format.ListType)
				_, isMap = lt.Value.(*format.MapType)
			}
			switch {
			case isList && len(n.fields) == 1 && n.fields[0].repeated:
				n.kind = kindList
			case isMap && len(n.fields) == 1 && n.fields[0].repeated && len(n.fields[0].fields) >= 1 &&
				n.fields[0].fields[0].kind == kindLeaf:
				n.kind = kindMap
			}
		}
		n.last = *col
		out = append(out, n)
	}
	return out, nil
}

// listElement returns the node each occurrence of a list's repeated child
// holds: its only field in the standard three-level form, or the child
// itself in the legacy two-level one (a repeated leaf, a repeated group of
// several fields, or one named "array" or "*_tuple").
func listElement(r *node, listName string) (elem *node, threeLevel bool) {
	if r.kind != kindLeaf && len(r.fields) == 1 && r.name != "array" && r.name != listName+"_tuple" {
		return r.fields[0], true
	}
	return r, false
}

// leafType returns how values of a leaf column of type t convert, and
// their connect.Type. docs/JOBS.md ("Parquet") has the table.
func leafType(t pq.Type) (leafConv, connect.Type, error) {
	var lt format.LogicalTypeValue
	if l := t.LogicalType(); l != nil {
		lt = l.Value
	}
	if d, ok := lt.(*format.DecimalType); ok {
		return decimalConv(t.Kind(), int(d.Scale)), connect.TypeNumeric, nil
	}
	switch t.Kind() {
	case pq.Boolean:
		return func(v pq.Value) connect.Value { return connect.Bool(v.Boolean()) }, connect.TypeBool, nil
	case pq.Int32:
		switch l := lt.(type) {
		case *format.DateType:
			return func(v pq.Value) connect.Value { return connect.Date(time.Unix(int64(v.Int32())*86400, 0).UTC()) }, connect.TypeDate, nil
		case *format.TimeType:
			return timeConv(l.Unit, false), connect.TypeText, nil
		case *format.IntType:
			if !l.IsSigned && l.BitWidth == 32 {
				return func(v pq.Value) connect.Value { return connect.Int64(int64(uint32(v.Int32()))) }, connect.TypeInt64, nil
			}
			if !l.IsSigned && l.BitWidth == 8 {
				return func(v pq.Value) connect.Value { return connect.Int32(int32(uint8(v.Int32()))) }, connect.TypeInt32, nil
			}
			if !l.IsSigned && l.BitWidth == 16 {
				return func(v pq.Value) connect.Value { return connect.Int32(int32(uint16(v.Int32()))) }, connect.TypeInt32, nil
			}
		}
		return func(v pq.Value) connect.Value { return connect.Int32(v.Int32()) }, connect.TypeInt32, nil
	case pq.Int64:
		switch l := lt.(type) {
		case *format.TimestampType:
			return timestampConv(l.Unit, l.IsAdjustedToUTC)
		case *format.TimeType:
			return timeConv(l.Unit, true), connect.TypeText, nil
		case *format.IntType:
			if !l.IsSigned {
				return func(v pq.Value) connect.Value {
					return connect.Numeric(strconv.FormatUint(uint64(v.Int64()), 10))
				}, connect.TypeNumeric, nil
			}
		}
		return func(v pq.Value) connect.Value { return connect.Int64(v.Int64()) }, connect.TypeInt64, nil
	case pq.Int96:
		// Legacy timestamps (Impala, older Spark): nanoseconds of the day,
		// then the Julian day, both little-endian, read as UTC instants.
		return func(v pq.Value) connect.Value {
			i := v.Int96()
			nanos, day := int64(uint64(i[1])<<32|uint64(i[0])), int64(i[2])
			return connect.TimestampTZ(time.Unix((day-2440588)*86400, nanos).UTC())
		}, connect.TypeTimestampTZ, nil
	case pq.Float:
		return func(v pq.Value) connect.Value { return connect.Float64(float64(v.Float())) }, connect.TypeFloat64, nil
	case pq.Double:
		return func(v pq.Value) connect.Value { return connect.Float64(v.Double()) }, connect.TypeFloat64, nil
	case pq.ByteArray, pq.FixedLenByteArray:
		switch lt.(type) {
		case *format.StringType, *format.EnumType:
			return func(v pq.Value) connect.Value { return connect.Text(string(v.ByteArray())) }, connect.TypeText, nil
		case *format.JsonType:
			return func(v pq.Value) connect.Value { return connect.JSON(string(v.ByteArray())) }, connect.TypeJSON, nil
		case *format.UUIDType:
			return func(v pq.Value) connect.Value { return connect.Text(formatUUID(v.ByteArray())) }, connect.TypeText, nil
		case *format.Float16Type:
			return func(v pq.Value) connect.Value { return connect.Float64(float16(v.ByteArray())) }, connect.TypeFloat64, nil
		}
		return func(v pq.Value) connect.Value { return connect.Bytes(v.ByteArray()) }, connect.TypeBytes, nil
	}
	return nil, 0, fmt.Errorf("unsupported Parquet type %v", t)
}

func timestampConv(u format.TimeUnit, utc bool) (leafConv, connect.Type, error) {
	per := unitPerSecond(u)
	mk, typ := connect.Timestamp, connect.TypeTimestamp
	if utc {
		mk, typ = connect.TimestampTZ, connect.TypeTimestampTZ
	}
	return func(v pq.Value) connect.Value {
		n := v.Int64()
		sec, frac := n/per, n%per
		if frac < 0 {
			sec, frac = sec-1, frac+per
		}
		return mk(time.Unix(sec, frac*(1e9/per)).UTC())
	}, typ, nil
}

// timeConv formats a time of day as "15:04:05.999999999", the shortest
// fraction that keeps every digit.
func timeConv(u format.TimeUnit, wide bool) leafConv {
	per := unitPerSecond(u)
	return func(v pq.Value) connect.Value {
		n := int64(v.Int32())
		if wide {
			n = v.Int64()
		}
		d := time.Duration(n) * (time.Second / time.Duration(per))
		return connect.Text(time.Unix(0, 0).UTC().Add(d).Format("15:04:05.999999999"))
	}
}

func unitPerSecond(u format.TimeUnit) int64 {
	switch u.Value.(type) {
	case *format.MilliSeconds:
		return 1e3
	case *format.NanoSeconds:
		return 1e9
	}
	return 1e6
}

// decimalConv reads an unscaled integer of kind k (INT32, INT64, or a
// big-endian two's complement byte array) as a decimal with scale digits
// after the point.
func decimalConv(k pq.Kind, scale int) leafConv {
	return func(v pq.Value) connect.Value {
		var u big.Int
		switch k {
		case pq.Int32:
			u.SetInt64(int64(v.Int32()))
		case pq.Int64:
			u.SetInt64(v.Int64())
		default:
			b := v.ByteArray()
			u.SetBytes(b)
			if len(b) > 0 && b[0]&0x80 != 0 { // negative: subtract 2^(8·len)
				u.Sub(&u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
			}
		}
		return connect.Numeric(formatDecimal(&u, scale))
	}
}

// formatDecimal writes u·10^-scale as "-12.50".
func formatDecimal(u *big.Int, scale int) string {
	s := u.String()
	if scale <= 0 {
		return s
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	for len(s) <= scale {
		s = "0" + s
	}
	s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	if neg {
		return "-" + s
	}
	return s
}

func formatUUID(b []byte) string {
	if len(b) != 16 {
		return fmt.Sprintf("%x", b)
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// float16 decodes an IEEE 754 half-precision number, little-endian.
func float16(b []byte) float64 {
	if len(b) != 2 {
		return math.NaN()
	}
	h := binary.LittleEndian.Uint16(b)
	sign, exp, frac := float64(1), int(h>>10&0x1f), float64(h&0x3ff)
	if h&0x8000 != 0 {
		sign = -1
	}
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}
