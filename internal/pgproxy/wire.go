package pgproxy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// Codes of the untyped messages a client may send before its startup
// message: requests for encryption, which the proxy declines, and a
// cancellation, which it forwards.
const (
	codeSSLRequest    = 80877103
	codeGSSENCRequest = 80877104
)

// maxMessage bounds a message's length: PostgreSQL itself refuses anything
// near 1 GiB, and a corrupt length must not make the proxy allocate it.
const maxMessage = 1 << 30

// Message is one protocol message as the proxy saw it, handed to the
// predicate of [Proxy.Delay].
type Message struct {
	// FromClient is true for client→server messages.
	FromClient bool
	// Type is the message's type byte ('Q' a query, 'd' CopyData, 'C'
	// CommandComplete, ...), or 0 for a client's startup-phase message,
	// which has none.
	Type byte
	// Body is the message without its type and length. It is valid only
	// during the call.
	Body []byte
}

// reader reads framed messages from one side of a connection, into a
// buffer reused from one message to the next.
type reader struct {
	r   *bufio.Reader
	buf []byte
}

func newReader(r io.Reader) *reader { return &reader{r: bufio.NewReaderSize(r, 64<<10)} }

// untyped reads a startup-phase message: an int32 length (counting
// itself) and the body. It returns the whole frame, to forward as is, and
// the body's first int32, the request code.
func (m *reader) untyped() (frame []byte, code uint32, err error) {
	frame, err = m.frame(0, 4)
	if err != nil {
		return nil, 0, err
	}
	if len(frame) < 8 {
		return nil, 0, fmt.Errorf("pgproxy: startup message of %d bytes, want at least 8", len(frame))
	}
	return frame, binary.BigEndian.Uint32(frame[4:8]), nil
}

// typed reads a message of the normal phase: a type byte, an int32 length
// (counting itself, not the type) and the body. It returns the whole frame
// and the message as a [Message] whose Body aliases the frame.
func (m *reader) typed(fromClient bool) (frame []byte, msg Message, err error) {
	t, err := m.r.ReadByte()
	if err != nil {
		return nil, Message{}, err
	}
	frame, err = m.frame(1, 4)
	if err != nil {
		return nil, Message{}, err
	}
	frame[0] = t
	return frame, Message{FromClient: fromClient, Type: t, Body: frame[5:]}, nil
}

// frame reads a length-prefixed frame into m.buf after skip bytes kept
// free for the type byte; least is the smallest valid length.
func (m *reader) frame(skip, least int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(m.r, hdr[:]); err != nil {
		return nil, unexpected(err)
	}
	n := int64(int32(binary.BigEndian.Uint32(hdr[:])))
	if n < int64(least) || n > maxMessage {
		return nil, fmt.Errorf("pgproxy: message length %d out of range", n)
	}
	total := skip + int(n)
	buf := append(m.buf[:0], make([]byte, skip)...)
	buf = append(buf, hdr[:]...)
	// Grow with what arrives, a step at a time, so that a corrupt length
	// costs at most a step more than the bytes actually sent.
	for len(buf) < total {
		step := min(total-len(buf), readStep)
		buf = slices.Grow(buf, step)
		k, err := io.ReadFull(m.r, buf[len(buf):len(buf)+step])
		buf = buf[:len(buf)+k]
		if err != nil {
			m.buf = buf
			return nil, unexpected(err)
		}
	}
	m.buf = buf
	return buf, nil
}

// readStep is how much a message's buffer grows at a time.
const readStep = 1 << 20

// buffered reports whether more input is already read: the writer flushes
// only when it is not, so that a burst of messages goes out in one write.
func (m *reader) buffered() bool { return m.r.Buffered() > 0 }

// unexpected turns an EOF inside a message into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// isCommitTag reports whether a CommandComplete body is "COMMIT": the
// server's answer to a COMMIT that committed (a COMMIT of an aborted
// transaction answers "ROLLBACK").
func isCommitTag(body []byte) bool { return string(body) == "COMMIT\x00" }

// queryVerb returns the first word of a simple-query body, upper-cased
// ASCII: "COMMIT", "COPY", "BEGIN", ...
func queryVerb(body []byte) string {
	i := 0
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r') {
		i++
	}
	j := i
	var b []byte
	for j < len(body) && (body[j] >= 'a' && body[j] <= 'z' || body[j] >= 'A' && body[j] <= 'Z') {
		c := body[j]
		if c >= 'a' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
		j++
	}
	return string(b)
}
