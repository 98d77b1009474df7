package file

import (
	"encoding/json"
	"testing"
)

func TestAppendPlainJSON(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"oid", `{"_id":{"$oid":"5f1d7a3e9c1b2a0001a1b2c3"}}`, `{"_id":"5f1d7a3e9c1b2a0001a1b2c3"}`},
		{"date relaxed", `{"at":{"$date":"2024-01-02T03:04:05.123Z"}}`, `{"at":"2024-01-02T03:04:05.123Z"}`},
		{"date canonical", `{"at":{"$date":{"$numberLong":"1700000000000"}}}`, `{"at":"2023-11-14T22:13:20Z"}`},
		{"date canonical millis", `{"at":{"$date":{"$numberLong":"1700000000123"}}}`, `{"at":"2023-11-14T22:13:20.123Z"}`},
		{"date before 1970", `{"at":{"$date":{"$numberLong":"-1000"}}}`, `{"at":"1969-12-31T23:59:59Z"}`},
		{"date legacy number", `{"at":{"$date":1700000000000}}`, `{"at":"2023-11-14T22:13:20Z"}`},
		{"date legacy offset", `{"at":{"$date":"2024-01-02T05:04:05.000+0200"}}`, `{"at":"2024-01-02T03:04:05Z"}`},
		{"numberLong", `{"n":{"$numberLong":"9007199254740993"}}`, `{"n":9007199254740993}`},
		{"numberLong negative", `{"n":{"$numberLong":"-42"}}`, `{"n":-42}`},
		{"numberInt", `{"n":{"$numberInt":"5"}}`, `{"n":5}`},
		{"numberDouble", `{"f":{"$numberDouble":"1.5"}}`, `{"f":1.5}`},
		{"numberDouble exponent", `{"f":{"$numberDouble":"1.0E+20"}}`, `{"f":1.0E+20}`},
		{"numberDouble not JSON grammar", `{"f":{"$numberDouble":"1."}}`, `{"f":1}`},
		{"numberDouble -0", `{"f":{"$numberDouble":"-0.0"}}`, `{"f":-0.0}`},
		{"Infinity", `{"f":{"$numberDouble":"Infinity"}}`, `{"f":null}`},
		{"-Infinity", `{"f":{"$numberDouble":"-Infinity"}}`, `{"f":null}`},
		{"NaN", `{"f":{"$numberDouble":"NaN"}}`, `{"f":null}`},
		{"numberDecimal", `{"d":{"$numberDecimal":"1234.5600"}}`, `{"d":1234.5600}`},
		{"numberDecimal exponent", `{"d":{"$numberDecimal":"1E+3"}}`, `{"d":1E+3}`},
		{"numberDecimal NaN", `{"d":{"$numberDecimal":"NaN"}}`, `{"d":null}`},
		{"spaces", `{ "_id" : { "$oid" : "abc" } , "n" : { "$numberInt" : "7" } }`, `{ "_id" : "abc" , "n" : 7 }`},
		{"nested", `{"a":{"b":{"c":{"$numberLong":"1"}}}}`, `{"a":{"b":{"c":1}}}`},
		{"array", `{"xs":[{"$numberInt":"1"},{"$numberInt":"2"},{"$oid":"ff"}]}`, `{"xs":[1,2,"ff"]}`},
		{"array of objects", `{"xs":[{"id":{"$oid":"a1"},"at":{"$date":{"$numberLong":"0"}}}]}`, `{"xs":[{"id":"a1","at":"1970-01-01T00:00:00Z"}]}`},
		{"top-level wrapper", `{"$numberLong":"3"}`, `3`},
		{"string that looks like one", `{"s":"{\"$oid\":\"x\"}"}`, `{"s":"{\"$oid\":\"x\"}"}`},
		{"two keys: not a wrapper", `{"x":{"$oid":"a","b":1}}`, `{"x":{"$oid":"a","b":1}}`},
		{"unknown wrapper", `{"b":{"$binary":{"base64":"AA==","subType":"00"}}}`, `{"b":{"$binary":{"base64":"AA==","subType":"00"}}}`},
		{"numberLong not an integer", `{"n":{"$numberLong":"1.5"}}`, `{"n":{"$numberLong":"1.5"}}`},
		{"numberLong injection", `{"n":{"$numberLong":"1,\"x\":2"}}`, `{"n":{"$numberLong":"1,\"x\":2"}}`},
		{"numberLong overflow", `{"n":{"$numberLong":"99999999999999999999"}}`, `{"n":{"$numberLong":"99999999999999999999"}}`},
		{"oid number", `{"x":{"$oid":5}}`, `{"x":{"$oid":5}}`},
		{"truncated", `{"x":{"$oid":"a"`, `{"x":{"$oid":"a"`},
		{"unicode around", `{"név":"Ünïcødé ✓","_id":{"$oid":"01"}}`, `{"név":"Ünïcødé ✓","_id":"01"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := string(appendPlainJSON(nil, []byte(c.in)))
			if got != c.want {
				t.Fatalf("appendPlainJSON(%s)\n got %s\nwant %s", c.in, got, c.want)
			}
			if json.Valid([]byte(c.in)) && !json.Valid([]byte(got)) {
				t.Fatalf("valid input became invalid JSON: %s", got)
			}
		})
	}
}

func TestIsJSONNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-0": true, "12": true, "1.5": true, "1e9": true, "1E+9": true, "-1.0e-9": true,
		"": false, "-": false, "01": false, "1.": false, ".5": false, "+1": false, "1e": false,
		"Infinity": false, "0x10": false, "1 ": false,
	} {
		if got := isJSONNumber([]byte(s)); got != want {
			t.Errorf("isJSONNumber(%q) = %v, want %v", s, got, want)
		}
	}
}

func BenchmarkAppendPlainJSON(b *testing.B) {
	line := []byte(`{"_id":{"$oid":"5f1d7a3e9c1b2a0001a1b2c3"},"name":"Ada Lovelace","email":"ada@example.com",` +
		`"created":{"$date":"2024-01-02T03:04:05.123Z"},"visits":{"$numberLong":"1234567"},` +
		`"tags":["a","b"],"address":{"city":"London","zip":"N1"},"score":{"$numberDouble":"9.5"}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	var dst []byte
	for b.Loop() {
		dst = appendPlainJSON(dst[:0], line)
	}
}
