package file

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weir-etl/weir"
)

type weirBadRecord = weir.BadRecordError

// countLines is the number of lines in data as the sources number them: a
// final line without a line break counts, an empty one after the last
// break does not.
func countLines(data []byte) int {
	n := bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n
}

type readerOf[E any] interface {
	Read(ctx context.Context, buf []E) (int, error)
	Line() int
}

func drain[E any](src readerOf[E]) (int, error) {
	buf := make([]E, 3)
	total := 0
	for {
		n, err := src.Read(context.Background(), buf)
		total += n
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// readOn reads src to its end past the BadRecordErrors it returns, as the
// engine does under the Skip policy: the records, the bad lines, and the
// error that ended the read (nil at io.EOF). It checks that a position
// taken at a bad line stays before it and that the next Read moves past it.
func readOn[E any](t *testing.T, src readerOf[E], pos func() ([]byte, error)) (n int, bad []int, err error) {
	buf := make([]E, 3)
	after := 0 // a bad line the next Read must move past
	for {
		k, err := src.Read(context.Background(), buf)
		n += k
		p, perr := pos()
		done, _ := parseLinePos(p)
		if perr != nil || after > 0 && done < after {
			t.Fatalf("position %s (%v) after reading on past line %d", p, perr, after)
		}
		after = 0
		var bre *weirBadRecord
		var le *LineError
		switch {
		case err == io.EOF:
			return n, bad, nil
		case errors.As(err, &bre) && errors.As(err, &le):
			if done >= le.Line || bre.Pos != fmt.Sprintf("line %d", le.Line) {
				t.Fatalf("at bad line %d: position %s, BadRecordError.Pos %q", le.Line, p, bre.Pos)
			}
			bad = append(bad, le.Line)
			after = le.Line
		case err != nil:
			return n, bad, err
		}
	}
}

type fuzzDoc struct {
	ID   int64     `json:"id"`
	Name string    `json:"name"`
	At   time.Time `json:"at"`
	Tags []string  `json:"tags"`
	Any  any       `json:"any"`
	F    *float64  `json:"f"`
}

// FuzzJSONLSource checks that any input, read in skip mode and in fail
// mode, never panics; that every line either yields a record, is blank, or
// is reported once with a line number in range; that the two modes agree on
// the first bad line; and that rewriting Extended JSON never turns a valid
// line invalid.
func FuzzJSONLSource(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"name":"a"}` + "\n" + `{"id":2}`,
		`{"id":{"$numberLong":"7"},"at":{"$date":{"$numberLong":"1700000000000"}},"any":[{"$oid":"ab"}]}`,
		`{"f":{"$numberDouble":"NaN"},"at":{"$date":"2024-01-02T03:04:05Z"}}` + "\r\n\r\n",
		"\xEF\xBB\xBF{}\n \n{bad\n" + `{"id":"x"}`,
		`{"any":{"$date":1e3},"name":{"$oid":"\u0041"}}`,
		strings.Repeat("x", 100) + "\n{}\n",
		`{"any":{"$numberDecimal":"-1.5E-7"}}{"id":2}`,
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, maxLine uint8) {
		lines := countLines(data)
		max := 0 // default
		if maxLine > 0 {
			max = int(maxLine)
		}

		// The rewrite keeps valid JSON valid.
		for _, line := range bytes.Split(data, []byte{'\n'}) {
			if json.Valid(line) {
				if out := appendPlainJSON(nil, line); !json.Valid(out) {
					t.Fatalf("valid line %q rewritten to invalid %q", line, out)
				}
			}
		}

		var bad []int
		skip, err := NewJSONLSource[fuzzDoc](bytes.NewReader(data), JSONLSourceConfig{ReadOptions{
			MaxLineBytes: max,
			OnBadLine: func(line int, text []byte, err error) error {
				if err == nil {
					t.Fatalf("line %d reported without a cause", line)
				}
				if line < 1 || line > lines || (len(bad) > 0 && line <= bad[len(bad)-1]) {
					t.Fatalf("bad line %d out of range 1..%d or out of order after %v", line, lines, bad)
				}
				if max > 0 && len(text) > max {
					t.Fatalf("line %d: text of %d bytes, over the limit %d", line, len(text), max)
				}
				bad = append(bad, line)
				return nil
			},
		}})
		if err != nil {
			t.Fatal(err)
		}
		nSkip, err := drain[fuzzDoc](skip)
		if err != nil {
			t.Fatalf("skip mode failed: %v", err)
		}
		if skip.Line() != lines {
			t.Fatalf("skip mode consumed %d lines of %d", skip.Line(), lines)
		}
		if nSkip+len(bad) > lines {
			t.Fatalf("%d records + %d bad lines > %d lines", nSkip, len(bad), lines)
		}

		on, _ := NewJSONLSource[fuzzDoc](bytes.NewReader(data), JSONLSourceConfig{ReadOptions{MaxLineBytes: max}})
		nOn, badOn, err := readOn[fuzzDoc](t, on, on.Position)
		if err != nil || nOn != nSkip || !slices.Equal(badOn, bad) {
			t.Fatalf("reading on past BadRecordErrors: %d records, bad lines %v, %v; skip mode: %d records, bad lines %v", nOn, badOn, err, nSkip, bad)
		}

		fail, _ := NewJSONLSource[fuzzDoc](bytes.NewReader(data), JSONLSourceConfig{ReadOptions{MaxLineBytes: max}})
		nFail, err := drain[fuzzDoc](fail)
		switch {
		case len(bad) == 0 && err != nil:
			t.Fatalf("fail mode: %v, but skip mode found no bad line", err)
		case len(bad) == 0 && nFail != nSkip:
			t.Fatalf("fail mode read %d records, skip mode %d", nFail, nSkip)
		case len(bad) > 0:
			var le *LineError
			if !errors.As(err, &le) || le.Line != bad[0] {
				t.Fatalf("fail mode: %v, want a LineError at line %d", err, bad[0])
			}
		}
	})
}

// FuzzCSVSource checks that any input never panics and that every record
// either decodes or is reported with a line number in range; errors that
// end the read are LineErrors in range too.
func FuzzCSVSource(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n3,4\n",
		"a,b\n\"x\ny\",2\n3\n4,\"5\"\"\"\n",
		"\xEF\xBB\xBF\"a\",b\r\n1,bad\r\n",
		"a,b\n1,\"unterminated\n2,3\n",
		"a,a\n",
		"",
		"a\n\n\n\"\"\nx\n",
		"a,b\n1,b\"q\n" + strings.Repeat("z", 300) + ",1\n",
	} {
		f.Add([]byte(s), uint8(0))
	}
	decode := func(r Record) (string, error) {
		if r.Field(0) == "bad" || (r.Len() > 1 && r.Field(1) == "bad") {
			return "", errors.New("bad field")
		}
		return strings.Join([]string{r.Field(0), r.Get(r.header0())}, "|"), nil
	}
	f.Fuzz(func(t *testing.T, data []byte, maxLine uint8) {
		lines := countLines(data)
		max := 0
		if maxLine > 0 {
			max = int(maxLine)
		}
		inRange := func(what string, err error) int {
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("%s: %v (%T), want a *LineError", what, err, err)
			}
			if le.Line < 1 || le.Line > max1(lines) {
				t.Fatalf("%s: line %d out of range 1..%d", what, le.Line, lines)
			}
			return le.Line
		}
		var bad []int
		skip, err := NewCSVSource(bytes.NewReader(data), CSVSourceConfig[string]{
			ReadOptions: ReadOptions{MaxLineBytes: max, OnBadLine: func(line int, text []byte, err error) error {
				if err == nil || line < 1 || line > lines || (len(bad) > 0 && line <= bad[len(bad)-1]) {
					t.Fatalf("bad record at line %d (of %d, after %v): %v", line, lines, bad, err)
				}
				bad = append(bad, line)
				return nil
			}},
			Decode: decode,
		})
		if err != nil {
			t.Fatal(err)
		}
		nSkip, skipErr := drain[string](skip)
		if skipErr != nil {
			inRange("skip mode", skipErr)
		} else if skip.Line() != lines {
			t.Fatalf("skip mode consumed %d lines of %d", skip.Line(), lines)
		}
		if nSkip+len(bad) > lines {
			t.Fatalf("%d records + %d bad > %d lines", nSkip, len(bad), lines)
		}

		on, _ := NewCSVSource(bytes.NewReader(data), CSVSourceConfig[string]{ReadOptions: ReadOptions{MaxLineBytes: max}, Decode: decode})
		nOn, badOn, onErr := readOn[string](t, on, on.Position)
		if nOn != nSkip || !slices.Equal(badOn, bad) || (onErr == nil) != (skipErr == nil) {
			t.Fatalf("reading on past BadRecordErrors: %d records, bad lines %v, %v; skip mode: %d records, bad lines %v, %v", nOn, badOn, onErr, nSkip, bad, skipErr)
		}

		fail, _ := NewCSVSource(bytes.NewReader(data), CSVSourceConfig[string]{ReadOptions: ReadOptions{MaxLineBytes: max}, Decode: decode})
		nFail, failErr := drain[string](fail)
		if failErr != nil {
			line := inRange("fail mode", failErr)
			if len(bad) > 0 && line != bad[0] {
				t.Fatalf("fail mode stopped at line %d, skip mode's first bad record is at %d", line, bad[0])
			}
		} else if len(bad) > 0 || skipErr != nil || nFail != nSkip {
			t.Fatalf("fail mode read %d records without error; skip mode read %d, bad %v, err %v", nFail, nSkip, bad, skipErr)
		}
	})
}

func max1(n int) int { return max(n, 1) }

// header0 names the first column, for the fuzz decoder to exercise Get.
func (r Record) header0() string {
	for name, i := range r.r.cols {
		if i == 0 {
			return name
		}
	}
	return ""
}
