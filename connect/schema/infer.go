package schema

import (
	"encoding/json"
	"math"
	"strings"

	"github.com/weir-etl/weir/connect"
)

// Infer returns, for each of names, a column of the narrowest type that
// every non-NULL value of the sample fits (the package doc's table gives
// the rules). Value i of each row belongs to names[i]; a row with fewer
// values has NULLs for the rest. A column with no value but NULLs is text.
// Every sample value converts to its column's type with [Convert].
//
// Infer reads raw values (text from a CSV file; numbers, booleans, text and
// JSON from a JSON file) and typed values (from a SQL table) alike. It
// costs one pass over the sample, parsing each value a few times.
func Infer(names []string, sample []connect.Row) []connect.Column {
	cols := make([]connect.Column, len(names))
	for i, name := range names {
		var c column
		for _, r := range sample {
			if i < len(r.Values) {
				c.observe(r.Values[i])
			}
		}
		cols[i] = connect.Column{Name: name, Type: c.typ()}
	}
	return cols
}

// kind is what one value looks like; a column's kinds are a set of them.
type kind uint16

const (
	kBool        kind = 1 << iota
	kInt32            // a whole number that fits 32 bits
	kInt64            // a whole number of at most 18 digits
	kNumeric          // a decimal: no exponent, more than 18 digits, or beyond a double
	kExp              // a decimal with an exponent, which a double holds
	kFloat            // a double value
	kDate             // YYYY-MM-DD
	kTimestamp        // a date and a time of day
	kTimestampTZ      // a date and a time of day with an offset
	kNested           // a JSON object or array, or a JSON value
	kBytes            // a bytes value
	kText             // anything else
)

// column gathers what Infer saw of one column's values.
type column struct {
	kinds      kind
	notJSON    bool // some value does not convert to JSON
	notDouble  bool // some number does not convert to a double
	notNumeric bool // some number does not convert to a numeric
}

func (c *column) observe(v connect.Value) {
	if v.IsNull() {
		return
	}
	switch v.Type() {
	case connect.TypeText:
		c.text(v.Str())
	case connect.TypeNumeric:
		if n, ok := parseNumber(v.Str()); ok {
			c.number(n, v.Str())
			c.notJSON = c.notJSON || !json.Valid([]byte(v.Str()))
		} else { // NaN from a SQL numeric: it stays numeric
			c.add(kNumeric)
			c.notDouble, c.notJSON = true, true
		}
	case connect.TypeBool:
		c.add(kBool)
	case connect.TypeInt32:
		c.add(kInt32)
	case connect.TypeInt64:
		c.add(kInt64)
		if f := float64(v.Int()); f >= 1<<63 || int64(f) != v.Int() {
			c.notDouble = true
		}
	case connect.TypeFloat64:
		c.add(kFloat)
		if math.IsInf(v.Float(), 0) || math.IsNaN(v.Float()) {
			c.notNumeric = true
		}
	case connect.TypeDate:
		c.add(kDate)
		c.notJSON = true
	case connect.TypeTimestamp:
		c.add(kTimestamp)
		c.notJSON = true
	case connect.TypeTimestampTZ:
		c.add(kTimestampTZ)
		c.notJSON = true
	case connect.TypeJSON:
		c.add(kNested)
	default:
		c.add(kBytes)
		c.notJSON = true
	}
}

func (c *column) add(k kind) { c.kinds |= k }

// text classifies a text value.
func (c *column) text(s string) {
	valid := json.Valid([]byte(s))
	c.notJSON = c.notJSON || !valid
	if strings.EqualFold(s, "true") || strings.EqualFold(s, "false") {
		c.add(kBool)
		return
	}
	if n, ok := parseNumber(s); ok {
		c.number(n, s)
		return
	}
	if _, zoned, err := parseTimestamp(s); err == nil {
		switch {
		case zoned:
			c.add(kTimestampTZ)
		case len(s) == 10:
			c.add(kDate)
		default:
			c.add(kTimestamp)
		}
		return
	}
	if (strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")) && valid {
		c.add(kNested)
		return
	}
	c.add(kText)
}

// number classifies a decimal literal s, parsed as n. A code (a leading
// zero: "007"; a leading '+': "+4420") is text.
func (c *column) number(n number, s string) {
	switch {
	case n.plus || n.leadZero:
		c.add(kText)
	case n.isInteger() && len(n.whole) <= 18:
		i, _ := parseInt(s, 64)
		if i >= math.MinInt32 && i <= math.MaxInt32 {
			c.add(kInt32)
		} else {
			c.add(kInt64)
		}
	case n.whole == "" || (n.point && n.frac == ""): // ".5", "5." are not written as numbers
		c.add(kText)
	default:
		_, _, _, numeric := n.shape()
		_, err := parseFloat(s)
		switch {
		case n.hasExp && err == nil:
			c.add(kExp)
			c.notNumeric = c.notNumeric || !numeric
		case numeric:
			c.add(kNumeric)
			c.notDouble = c.notDouble || err != nil
		default:
			c.add(kText)
		}
	}
}

// typ returns the narrowest type that every value seen converts to.
func (c *column) typ() connect.Type {
	k := c.kinds
	const (
		ints    = kInt32 | kInt64
		numbers = ints | kNumeric | kExp | kFloat
		times   = kDate | kTimestamp | kTimestampTZ
	)
	switch {
	case k&kNested != 0:
		if c.notJSON {
			return connect.TypeText
		}
		return connect.TypeJSON
	case k == 0 || k&kText != 0:
		return connect.TypeText
	case k == kBool:
		return connect.TypeBool
	case k == kInt32:
		return connect.TypeInt32
	case k&^ints == 0:
		return connect.TypeInt64
	case k&^numbers == 0:
		// Exact first: doubles only when every number is written with an
		// exponent or is a double, or when a numeric cannot hold them.
		switch {
		case (k&^(kExp|kFloat) == 0 || k&kFloat != 0) && !c.notDouble:
			return connect.TypeFloat64
		case !c.notNumeric:
			return connect.TypeNumeric
		case !c.notDouble:
			return connect.TypeFloat64
		}
	case k&^times == 0:
		switch {
		case k&kTimestampTZ != 0:
			return connect.TypeTimestampTZ
		case k&kTimestamp != 0:
			return connect.TypeTimestamp
		}
		return connect.TypeDate
	case k == kBytes:
		return connect.TypeBytes
	}
	return connect.TypeText
}
