package file

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// DefaultBufferSize is the write buffer of the sinks when their BufferSize
// is 0.
const DefaultBufferSize = 64 << 10

// maxBufferSize bounds a sink's BufferSize: a bigger value is a typo.
const maxBufferSize = 1 << 30

func validateBufferSize(prefix string, n int) error {
	if n < 0 || n > maxBufferSize {
		return fmt.Errorf("file: %s.BufferSize must be between 0 (default %d) and %d, got %d",
			prefix, DefaultBufferSize, maxBufferSize, n)
	}
	return nil
}

// lockedWriter is the buffered, mutex-guarded output the sinks share.
type lockedWriter struct {
	mu     sync.Mutex
	bw     *bufio.Writer
	file   *os.File // the file the sink created, or nil
	name   string   // for errors
	closed bool
	// flushEach flushes bw at the end of every write.
	flushEach bool

	closeOnce sync.Once
	closeErr  error
}

func newLockedWriter(w io.Writer, f *os.File, size int, flushEach bool, name string) *lockedWriter {
	if size == 0 {
		size = DefaultBufferSize
	}
	return &lockedWriter{bw: bufio.NewWriterSize(w, size), file: f, name: name, flushEach: flushEach}
}

// write appends p as one block: no other write lands inside it.
func (w *lockedWriter) write(p []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if _, err := w.bw.Write(p); err != nil {
		return fmt.Errorf("file: write %s: %w", w.name, err)
	}
	if w.flushEach {
		if err := w.bw.Flush(); err != nil {
			return fmt.Errorf("file: flush %s: %w", w.name, err)
		}
	}
	return nil
}

func (w *lockedWriter) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("file: flush %s: %w", w.name, err)
	}
	return nil
}

func (w *lockedWriter) close() error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.closed = true
		var errs []error
		if err := w.bw.Flush(); err != nil {
			errs = append(errs, fmt.Errorf("file: flush %s: %w", w.name, err))
		}
		if w.file != nil {
			// Sync before reporting success: a caller that records
			// "done" after Close must not lose the file to a crash.
			if err := w.file.Sync(); err != nil && len(errs) == 0 {
				errs = append(errs, fmt.Errorf("file: sync %s: %w", w.name, err))
			}
			if err := w.file.Close(); err != nil {
				errs = append(errs, fmt.Errorf("file: close %s: %w", w.name, err))
			}
		}
		w.closeErr = errors.Join(errs...)
	})
	return w.closeErr
}
