package file

import (
	"io"
	"os"
	"sync/atomic"
)

// progress is how far a RowSource is through its files on disk, for
// [RowSource.Progress]: read by any goroutine, written by Read's.
type progress struct {
	before []int64 // before[i]: the bytes of the files before files[i]; nil: unknown
	done   atomic.Int64
}

// measure records the files' sizes; a file it cannot stat makes the total
// unknown.
func (p *progress) measure(files []string) {
	before := make([]int64, len(files)+1)
	for i, f := range files {
		st, err := os.Stat(f)
		if err != nil || !st.Mode().IsRegular() {
			return
		}
		before[i+1] = before[i] + st.Size()
	}
	p.before = before
}

// noteProgress records where Read is: the bytes of the files it finished and the
// position in the open file (a gzipped file's compressed bytes, read
// ahead by a buffer at most).
func (s *RowSource) noteProgress() {
	p := &s.progress
	if p.before == nil {
		return
	}
	done := p.before[min(s.idx, len(s.files))]
	if s.cur != nil && s.cur.file != nil {
		if off, err := s.cur.file.Seek(0, io.SeekCurrent); err == nil {
			done += off
		}
	}
	p.done.Store(min(done, p.before[len(s.files)]))
}

// Progress returns the bytes of the input read so far and the total, by
// the files' sizes on disk (compressed, for gzipped files); total is -1
// for a reader (NewRowSource) or a file it could not measure. It is safe
// to call from any goroutine, while Read runs; it moves after each Read.
func (s *RowSource) Progress() (done, total int64) {
	p := &s.progress
	if p.before == nil {
		return 0, -1
	}
	return p.done.Load(), p.before[len(p.before)-1]
}
