package job

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/weir-etl/weir/internal/jsontext"
)

// appendJSON appends v, a value an expression computed, as compact JSON:
// an object with its keys sorted (Go maps keep no order; PostgreSQL's jsonb
// keeps none either), strings escaped as encoding/json does but leaving
// <, > and & alone, times as RFC 3339 strings. It fails on NaN and
// infinities, which JSON cannot hold, and on types it does not know.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case string:
		return appendJSONString(b, v), nil
	case json.Number:
		return append(b, v...), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return b, errors.New("NaN and infinities are not JSON")
		}
		return strconv.AppendFloat(b, v, 'g', -1, 64), nil
	case time.Time:
		return appendJSONString(b, v.Format(time.RFC3339Nano)), nil
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, e); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendJSONString(b, k), ':')
			var err error
			if b, err = appendJSON(b, v[k]); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
	// What an expression built: []string, map[string]int, ...
	data, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, data...), nil
}

// appendJSONString appends s as a JSON string (see jsontext.AppendString).
func appendJSONString(b []byte, s string) []byte { return jsontext.AppendString(b, s) }
