package users

import (
	"encoding/json"
	"slices"
	"testing"
)

// appendJSONString must produce valid JSON that decodes to what
// encoding/json would have encoded: s itself when s is valid UTF-8, s with
// U+FFFD for each invalid byte otherwise.
func checkJSONString(t *testing.T, s string) {
	t.Helper()
	got := appendJSONString(nil, s)
	if !json.Valid(got) {
		t.Fatalf("appendJSONString(%q) = %s: not valid JSON", s, got)
	}
	var back string
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("unmarshal %s: %v", got, err)
	}
	ref, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var want string
	if err := json.Unmarshal(ref, &want); err != nil {
		t.Fatal(err)
	}
	if back != want {
		t.Fatalf("appendJSONString(%q) decodes to %q, encoding/json's to %q", s, back, want)
	}
}

var jsonStringCases = []string{
	"",
	"plain",
	`quote " and backslash \`,
	"controls \x00\x01\x1f\n\r\t end",
	"<html> & 'single'",
	"unicode: héllo, 日本, 🙂, \u2028\u2029",
	"invalid \xff\xfe utf-8 \xc3",
	"\xed\xa0\x80 surrogate half",
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range jsonStringCases {
		checkJSONString(t, s)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStringCases {
		f.Add(s)
	}
	f.Fuzz(checkJSONString)
}

func TestAppendJSONArrays(t *testing.T) {
	var ss []string
	if err := json.Unmarshal(appendJSONStrings(nil, []string{"a", `b"c`, ""}), &ss); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ss, []string{"a", `b"c`, ""}) {
		t.Errorf("strings round trip: got %q", ss)
	}
	if got := string(appendJSONStrings(nil, nil)); got != "[]" {
		t.Errorf("nil strings: got %s, want []", got)
	}
	var xs []int64
	if err := json.Unmarshal(appendJSONInts(nil, []int64{1, -2, 1 << 62}), &xs); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(xs, []int64{1, -2, 1 << 62}) {
		t.Errorf("ints round trip: got %v", xs)
	}
	if got := string(appendJSONInts(nil, nil)); got != "[]" {
		t.Errorf("nil ints: got %s, want []", got)
	}
}
