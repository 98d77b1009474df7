package postgres

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseInterval(t *testing.T) {
	cases := []struct {
		in   string
		want interval
		ok   bool
	}{
		{"-838:59:59.000000", interval{micros: -(838*3600 + 59*60 + 59) * 1e6}, true},
		{"12:00:00.5", interval{micros: 12*3600e6 + 500000}, true},
		{"1 year 2 mons -3 days +04:05:06.789", interval{micros: (4*3600+5*60+6)*1e6 + 789000, days: -3, months: 14}, true},
		{"-1 days -02:00:00", interval{micros: -2 * 3600e6, days: -1}, true},
		{"00:00:00", interval{}, true},
		{"-1 days 02:00:00", interval{}, false}, // sql_standard reads it as -1 day -2 hours
		{"1 day 1 day", interval{}, false},
		{"1.5 hours", interval{}, false},
		{"12:60:00", interval{}, false},
		{"12:00:00.1234567", interval{}, false},
		{"12:00", interval{}, false},
		{"1 day  02:00:00", interval{}, false},
		{"02:00:00 1 day", interval{}, false},
		{"999999999 years", interval{}, false}, // past int32 months
		{"", interval{}, false},
		{"P1D", interval{}, false},
	}
	for _, c := range cases {
		got, ok := parseInterval(c.in)
		if ok != c.ok || ok && got != c.want {
			t.Errorf("parseInterval(%q) = %+v, %v; want %+v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// formatInterval writes iv in PostgreSQL's postgres output style.
func formatInterval(iv interval) string {
	var parts []string
	if y, m := iv.months/12, iv.months%12; y != 0 || m != 0 {
		if y != 0 {
			parts = append(parts, fmt.Sprintf("%d years", y))
		}
		if m != 0 {
			parts = append(parts, fmt.Sprintf("%+d mons", m))
		}
	}
	if iv.days != 0 {
		parts = append(parts, fmt.Sprintf("%+d days", iv.days))
	}
	us, sign := iv.micros, "+"
	if us < 0 {
		us, sign = -us, "-"
	}
	parts = append(parts, fmt.Sprintf("%s%d:%02d:%02d.%06d", sign, us/3600e6, us/60e6%60, us/1e6%60, us%1e6))
	return strings.Join(parts, " ")
}

// FuzzParseInterval checks that whatever the parser takes, written back in
// PostgreSQL's style and parsed again, is the same interval; and that it
// never panics.
func FuzzParseInterval(f *testing.F) {
	for _, s := range []string{"-838:59:59.000000", "1 year 2 mons -3 days +04:05:06.789", "-1 days", "00:00:00.5", "1 day 1 day", "+5 days -00:00:01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		iv, ok := parseInterval(s)
		if !ok {
			return
		}
		again, ok := parseInterval(formatInterval(iv))
		if !ok || again != iv {
			t.Fatalf("%q parsed as %+v, written as %q, parsed again as %+v (%v)", s, iv, formatInterval(iv), again, ok)
		}
	})
}

func TestAppendBits(t *testing.T) {
	for in, want := range map[string]string{"": "0000000400000000", "1": "000000050000000180", "00101011": "00000005000000082b",
		"101010101": "0000000600000009aa80"} {
		if got := fmt.Sprintf("%x", appendBits(nil, in)); got != want {
			t.Errorf("appendBits(%q) = %s, want %s", in, got, want)
		}
	}
}
