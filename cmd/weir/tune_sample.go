// weir tune's sample: the first records of the source, read once and held
// in memory, which every trial reads again.

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/file"
)

// maxSampleBytes bounds the sample held in memory.
const maxSampleBytes = 1 << 30

// tuneSample is what every trial reads: the source's first records, held
// in memory, so that a trial measures the pipeline (parsing included) and
// the target, not the disk or the source database, whose caches would
// favour whichever trial ran later.
//
// A file source (one file, maybe gzipped) is held as its bytes, up to the
// end of the sample's last record, and parsed again by each trial with the
// same reader as weir copy: parsing is CPU work that competes with the
// workers for the same cores, so it belongs in the measurement. Any other
// source (a database table or query, a glob, standard input) is held as
// decoded records, which each trial copies as a source would allocate them.
type tuneSample struct {
	n, quick int // records in the sample, and in a quick trial
	// data is the file's content up to the sample's end, quickBytes the
	// length that holds a quick trial's records; nil for decoded records.
	data       []byte
	quickBytes int
	cfg        file.RowSourceConfig
	rows       []connect.Row
	// like is the source as opened: its columns, types, inference sample
	// and table name, which every trial's source shares.
	like     copySource
	readTime time.Duration // reading the sample from the source
}

// readTuneSample reads the first n records of src (opened from spec).
func readTuneSample(ctx context.Context, spec string, src *copySource, cfg file.RowSourceConfig, n int) (*tuneSample, error) {
	s := &tuneSample{like: *src, cfg: cfg, quick: max(n/quickShare, 1)}
	s.like.count, s.like.close = nil, func() {}
	fs, isFile := src.src.(*file.RowSource)
	isFile = isFile && spec != "-" && !strings.ContainsAny(spec, "*?[")
	buf := make([]connect.Row, 1024)
	var quickPos []byte
	t0 := time.Now()
	for s.n < n {
		want := min(len(buf), n-s.n)
		if s.n < s.quick {
			want = min(want, s.quick-s.n)
		}
		k, err := src.src.Read(ctx, buf[:want])
		if !isFile {
			for _, r := range buf[:k] {
				s.rows = append(s.rows, connect.Row{Values: append([]connect.Value(nil), r.Values...), Pos: r.Pos})
			}
		}
		s.n += k
		if isFile && s.n == s.quick && quickPos == nil {
			if quickPos, err = fs.Position(); err != nil {
				return nil, fmt.Errorf("tune: read the sample of %s: %w", src.desc, err)
			}
		}
		var le *file.LineError
		switch {
		case errors.Is(err, io.EOF):
			n = s.n
		case errors.As(err, &le):
			// A malformed record stays in the sample: each trial meets it
			// as the real run would, and --on-error decides.
		case err != nil:
			return nil, fmt.Errorf("tune: read the sample of %s: %w", src.desc, err)
		}
	}
	s.readTime = time.Since(t0)
	if s.n == 0 {
		return nil, usagef("tune: %s holds no records to tune on", src.desc)
	}
	s.quick = min(s.quick, s.n)
	if !isFile {
		return s, nil
	}
	end, err := fs.Position()
	if err != nil {
		return nil, fmt.Errorf("tune: read the sample of %s: %w", src.desc, err)
	}
	if quickPos == nil {
		quickPos = end
	}
	quickOff, err1 := offsetOf(quickPos)
	endOff, err2 := offsetOf(end)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("tune: the sample's position in %s: %w", spec, err)
	}
	if endOff > maxSampleBytes {
		return nil, usagef("tune: the first %d records of %s take %d MB, more than tune holds in memory (%d MB): pass a smaller --sample",
			s.n, spec, endOff>>20, maxSampleBytes>>20)
	}
	if s.data, err = readPrefix(spec, endOff); err != nil {
		return nil, fmt.Errorf("tune: read the sample of %s: %w", spec, err)
	}
	s.quickBytes = int(quickOff)
	// The trials parse the bytes through a reader: the format goes by the
	// name without .gz, since they are the uncompressed content.
	s.cfg.Name = strings.TrimSuffix(spec, ".gz")
	return s, nil
}

// offsetOf reads the byte offset of a file.RowSource position.
func offsetOf(pos []byte) (int64, error) {
	var p struct {
		Offset int64 `json:"offset"`
	}
	err := json.Unmarshal(pos, &p)
	return p.Offset, err
}

// readPrefix returns the first n bytes of the file at path, uncompressed
// if it is gzipped.
func readPrefix(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		r = zr
	}
	data := make([]byte, n)
	_, err = io.ReadFull(r, data)
	return data, err
}

// source returns a fresh source over the sample, or over its first
// quarter when quick, for one trial.
func (s *tuneSample) source(quick bool) (*copySource, error) {
	src := s.like
	if s.data == nil {
		rows := s.rows
		if quick {
			rows = rows[:s.quick]
		}
		src.src = &rowsSource{rows: rows}
		return &src, nil
	}
	data := s.data
	if quick {
		data = data[:s.quickBytes]
	}
	rs, err := file.NewRowSource(bytes.NewReader(data), s.cfg)
	if err != nil {
		return nil, fmt.Errorf("tune: parse the sample again: %w", err)
	}
	src.src = rs
	return &src, nil
}

// size describes the sample as held.
func (s *tuneSample) size() string {
	if s.data != nil {
		return fmt.Sprintf("%s bytes of the file", groupDigits(int64(len(s.data))))
	}
	return "decoded records"
}

// rowsSource reads rows held in memory, copying each one's values (into
// one slice per Read, as the file reader does): the transform converts
// values in place, and the next trial needs them as read.
type rowsSource struct{ rows []connect.Row }

func (s *rowsSource) Read(ctx context.Context, buf []connect.Row) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(s.rows) == 0 {
		return 0, io.EOF
	}
	n := min(len(buf), len(s.rows))
	width := 0
	for _, r := range s.rows[:n] {
		width += len(r.Values)
	}
	vals := make([]connect.Value, 0, width)
	for i, r := range s.rows[:n] {
		start := len(vals)
		vals = append(vals, r.Values...)
		buf[i] = connect.Row{Values: vals[start:len(vals):len(vals)], Pos: r.Pos}
	}
	s.rows = s.rows[n:]
	return n, nil
}

var _ weir.Source[connect.Row] = (*rowsSource)(nil)
