package postgres

import (
	"math/big"
	"strings"
	"testing"
)

// FuzzNumeric checks the numeric encoder against math/big: whatever
// decimal it accepts, decoding its binary form gives the same number, with
// as many digits after the point as the input had.
func FuzzNumeric(f *testing.F) {
	for _, s := range []string{"0", "-0.00", "12.50", "1e3", "1.5E-7", "0.000000015", "-123456789012345678901234567890.1234",
		"100000000", "9999.9999", "NaN", "-Infinity", ".5", "5.", "+7", "1e-20000", "0e5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var scratch []byte
		enc, err := appendNumeric(nil, s, &scratch)
		if err != nil {
			return
		}
		txt, err := appendNumericText(nil, enc[4:])
		if err != nil {
			t.Fatalf("%q: encoded %x, which does not decode: %v", s, enc, err)
		}
		if len(txt) > 10000 {
			return
		}
		want, ok := new(big.Rat).SetString(s)
		if !ok {
			return // NaN, Infinity: PostgreSQL's spellings, not big's
		}
		got, ok := new(big.Rat).SetString(string(txt))
		if !ok || got.Cmp(want) != 0 {
			t.Fatalf("%q: encoded %x, decoded %q", s, enc, txt)
		}
		if !strings.ContainsAny(s, "eE") {
			_, frac, _ := strings.Cut(s, ".")
			_, gotFrac, _ := strings.Cut(string(txt), ".")
			if len(frac) != len(gotFrac) {
				t.Fatalf("%q decoded as %q: %d digits after the point, want %d", s, txt, len(gotFrac), len(frac))
			}
		}
	})
}
