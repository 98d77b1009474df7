package file_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/file"
)

type positioned[E any] interface {
	weir.Source[E]
	weir.Positioner
}

// checkSeekResumes reads the input one record per Read, noting the
// position after each Read that returned a record. A fresh source seeked to
// any of those positions must read exactly the records after it, and end
// the same way (EOF or the same error).
func checkSeekResumes[E comparable](t *testing.T, open func() positioned[E]) {
	src := open()
	var recs []E
	var cuts []int // len(recs) when positions[i] was taken
	var positions [][]byte
	buf := make([]E, 1)
	var end error
	for {
		n, err := src.Read(context.Background(), buf)
		if n > 0 {
			recs = append(recs, buf[0])
			pos, perr := src.Position()
			if perr != nil {
				t.Fatal(perr)
			}
			positions = append(positions, pos)
			cuts = append(cuts, len(recs))
		}
		if err != nil {
			end = err
			break
		}
	}
	for i, pos := range positions {
		r := open()
		if err := r.Seek(pos); err != nil {
			t.Fatalf("Seek(%s), a position the source gave: %v", pos, err)
		}
		var rest []E
		var rend error
		for {
			n, err := r.Read(context.Background(), buf)
			rest = append(rest, buf[:n]...)
			if err != nil {
				rend = err
				break
			}
		}
		if !slices.Equal(rest, recs[cuts[i]:]) {
			t.Fatalf("after Seek(%s) read %v, want %v", pos, rest, recs[cuts[i]:])
		}
		if (end == io.EOF) != (rend == io.EOF) || (end != io.EOF && end.Error() != rend.Error()) {
			t.Fatalf("after Seek(%s) the read ended with %v, the full read with %v", pos, rend, end)
		}
	}
}

func FuzzJSONLSeek(f *testing.F) {
	for _, s := range []string{
		"{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}",
		"\xEF\xBB\xBF1\r\n2\r\n\r\n[3]\n",
		"1\nbad\n2\n",
		"{\"$oid\":\"65a1b2c3d4e5f60718293a4b\"}\n\"x\"\n",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, skip bool) {
		var opts file.ReadOptions
		if skip {
			opts.OnBadLine = func(int, []byte, error) error { return nil }
		}
		checkSeekResumes(t, func() positioned[string] {
			src, err := file.NewJSONLSource[json.RawMessage](bytes.NewReader(data), file.JSONLSourceConfig{ReadOptions: opts})
			if err != nil {
				t.Fatal(err)
			}
			return rawAsString{src}
		})
	})
}

// rawAsString reads JSON Lines as their text, a comparable record.
type rawAsString struct {
	*file.JSONLSource[json.RawMessage]
}

func (r rawAsString) Read(ctx context.Context, buf []string) (int, error) {
	raw := make([]json.RawMessage, len(buf))
	n, err := r.JSONLSource.Read(ctx, raw)
	for i := range n {
		buf[i] = string(raw[i])
	}
	return n, err
}

func FuzzCSVSeek(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n3,4\n",
		"a,b\n\"x\ny\",2\n3\n4,\"5\"\"\"\n",
		"\xEF\xBB\xBF\"a\",b\r\n1,bad\r\n2,3",
		"a,b\n1,\"unterminated\n2,3\n",
		"a\n\n\n\"\"\nx\n#c\ny\n",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, skip bool) {
		var opts file.ReadOptions
		if skip {
			opts.OnBadLine = func(int, []byte, error) error { return nil }
		}
		checkSeekResumes(t, func() positioned[string] {
			src, err := file.NewCSVSource(bytes.NewReader(data), file.CSVSourceConfig[string]{
				ReadOptions: opts,
				Comment:     '#',
				Decode: func(r file.Record) (string, error) {
					fields := make([]string, r.Len())
					for i := range fields {
						fields[i] = r.Field(i)
					}
					if slices.Contains(fields, "bad") {
						return "", fmt.Errorf("bad field")
					}
					return strings.Join(fields, "|"), nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			return src
		})
	})
}
