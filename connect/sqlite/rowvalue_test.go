package sqlite

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/weir-etl/weir/connect"
)

var decimalRE = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// FuzzDecodeText feeds the text a column may hold to the decoding of every
// type: it must not panic, must accept a numeric exactly when it is a
// decimal literal and a JSON value exactly when it is valid JSON, and a
// date or time it accepts must be the one written.
func FuzzDecodeText(f *testing.F) {
	for _, s := range []string{"12.50", "-1e3", ".5", "5.", "+", "1e", "1e+", "--1", "0x1A", " 1", "1_000",
		"2024-01-02", "2024-02-30", "2024-01-02 03:04:05.123456", "2024-01-02T03:04:05Z", "2024-01-02 03:04+05:30",
		"2024-01-02 03:04:05.123456789-07:00", `{"a":1}`, "[1,", "null", "héllo"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for ty := connect.TypeText; ty <= connect.TypeBytes; ty++ {
			v, err := decode(ty, s)
			switch ty {
			case connect.TypeText, connect.TypeBytes:
				if err != nil || v.Str() != s || v.Type() != ty {
					t.Fatalf("decode(%v, %q) = %v, %v; want the text itself", ty, s, v, err)
				}
			case connect.TypeNumeric:
				if (err == nil) != decimalRE.MatchString(s) || err == nil && v.Str() != s {
					t.Fatalf("decode(numeric, %q) = %v, %v; is a decimal: %v", s, v, err, decimalRE.MatchString(s))
				}
			case connect.TypeJSON:
				if (err == nil) != json.Valid([]byte(s)) {
					t.Fatalf("decode(json, %q) = %v, %v; valid: %v", s, v, err, json.Valid([]byte(s)))
				}
			case connect.TypeDate:
				if err == nil && v.Time().Format(dateLayout) != s {
					t.Fatalf("decode(date, %q) = %v", s, v)
				}
			case connect.TypeTimestamp, connect.TypeTimestampTZ:
				if err != nil {
					continue
				}
				want, ok := parseTime(s)
				if !ok {
					t.Fatalf("decode(%v, %q) = %v, but parseTime refuses it", ty, s, v)
				}
				if ty == connect.TypeTimestampTZ && !v.Time().Equal(want.Truncate(time.Microsecond)) {
					t.Fatalf("decode(timestamptz, %q) = %v, want %v", s, v, want)
				}
			case connect.TypeBool, connect.TypeInt32, connect.TypeInt64, connect.TypeFloat64:
				if err == nil {
					t.Fatalf("decode(%v, %q) = %v: TEXT is never one", ty, s, v)
				}
			}
		}
	})
}
