package pgproxy

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// frameOf builds a typed message.
func frameOf(t byte, body string) []byte {
	b := []byte{t, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(4+len(body)))
	return append(b, body...)
}

// FuzzReader: whatever the bytes, the reader returns frames that are
// exactly the input's prefix, in order, each as long as its header says,
// and stops with an error at the first malformed or truncated one; it
// never panics and never allocates more than the input holds.
func FuzzReader(f *testing.F) {
	startup := []byte{0, 0, 0, 8, 0, 3, 0, 0}
	f.Add(append(startup, frameOf('Q', "COMMIT\x00")...))
	f.Add(append(startup, append(frameOf('d', "abc"), frameOf('c', "")...)...))
	f.Add([]byte{0, 0, 0, 8, 4, 210, 22, 47})
	f.Add(append(startup, 'C', 0xff, 0xff, 0xff, 0xff))
	f.Add([]byte{0, 0, 0, 3})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := newReader(bytes.NewReader(in))
		var got []byte
		frame, _, err := r.untyped()
		if err != nil {
			return
		}
		if n := binary.BigEndian.Uint32(frame); int(n) != len(frame) {
			t.Fatalf("startup frame of %d bytes says %d", len(frame), n)
		}
		got = append(got, frame...)
		for {
			frame, msg, err := r.typed(true)
			if err != nil {
				break
			}
			if n := binary.BigEndian.Uint32(frame[1:]); int(n) != len(frame)-1 || msg.Type != frame[0] || len(msg.Body) != len(frame)-5 {
				t.Fatalf("frame %q: header says %d, body %d", frame, n, len(msg.Body))
			}
			if cap(r.buf) > 2*len(in)+2*readStep {
				t.Fatalf("buffer of %d bytes for %d bytes of input", cap(r.buf), len(in))
			}
			got = append(got, frame...)
		}
		if !bytes.HasPrefix(in, got) {
			t.Fatalf("frames %q are not the input's prefix %q", got, in)
		}
	})
}

func TestQueryVerb(t *testing.T) {
	for in, want := range map[string]string{
		"COMMIT\x00":                          "COMMIT",
		"  commit;\x00":                       "COMMIT",
		"copy \"t\" ( \"a\" ) from stdin\x00": "COPY",
		"\x00":                                "",
		"select 1\x00":                        "SELECT",
	} {
		if got := queryVerb([]byte(in)); got != want {
			t.Errorf("queryVerb(%q) = %q, want %q", in, got, want)
		}
	}
}
