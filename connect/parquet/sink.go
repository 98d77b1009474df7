package parquet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	pq "github.com/parquet-go/parquet-go"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

// DefaultRowGroupRows is the rows of a row group when
// [RowSinkConfig.RowGroupRows] is 0.
const DefaultRowGroupRows = 100_000

// RowSinkConfig configures a [RowSink]. Columns is required.
type RowSinkConfig struct {
	// Columns are the file's columns, in the order of a row's values.
	Columns []connect.Column
	// RowGroupRows is the number of rows of each row group (the last may
	// have fewer). The sink holds a row group in memory until it is full.
	// 0 means DefaultRowGroupRows.
	RowGroupRows int
}

// Validate reports every impossible value, each naming its field.
func (c RowSinkConfig) Validate() error {
	var errs []error
	if len(c.Columns) == 0 {
		errs = append(errs, errors.New("parquet: RowSinkConfig.Columns is required"))
	}
	seen := make(map[string]bool, len(c.Columns))
	for i, col := range c.Columns {
		if col.Name == "" || seen[col.Name] {
			errs = append(errs, fmt.Errorf("parquet: RowSinkConfig.Columns[%d] has an empty or repeated name %q", i, col.Name))
		}
		seen[col.Name] = true
		if _, err := col.Type.MarshalText(); err != nil {
			errs = append(errs, fmt.Errorf("parquet: RowSinkConfig.Columns[%d].Type: %w", i, err))
		}
	}
	if c.RowGroupRows < 0 {
		errs = append(errs, fmt.Errorf("parquet: RowSinkConfig.RowGroupRows must be 0 (default %d) or more, got %d", DefaultRowGroupRows, c.RowGroupRows))
	}
	return errors.Join(errs...)
}

// RowSink writes generic rows to a Parquet file, for `weir copy`.
//
// Every column is optional (a NULL is a null) and flat, of the Parquet
// type the package documentation's table gives for its connect.Type; the
// file is Snappy-compressed. A numeric column is written as a UTF-8 string,
// exactly, since Parquet's DECIMAL needs one scale for the whole column;
// the file's key-value metadata "weir.columns" records the columns' types,
// so that a [RowSource] reads it back as numeric.
//
// The rows go to a temporary file beside the final one (".NAME.*.tmp");
// [RowSink.Close] writes the footer and renames it to the final name, so a
// reader never sees half a file there. [RowSink.Abort] removes it instead.
// A process that dies before either leaves the temporary file behind.
//
// Write is safe for concurrent use: each batch's rows are written in order
// under a mutex. Memory is about one row group of rows, encoded.
type RowSink struct {
	cfg    RowSinkConfig
	path   string
	tmp    *os.File
	w      *pq.Writer
	mu     sync.Mutex
	rows   int64
	prow   []pq.Row
	vals   []pq.Value
	broken error // a Write failed half-way: Close discards the file
	closed bool
	result error // Close's or Abort's
}

var (
	_ weir.Sink[connect.Row] = (*RowSink)(nil)
	_ weir.Closer            = (*RowSink)(nil)
)

// CreateRows creates a temporary file beside path and returns a sink
// writing to it; Close renames it to path, replacing a file there. It
// fails if path's directory does not exist.
func CreateRows(path string, cfg RowSinkConfig) (*RowSink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.RowGroupRows == 0 {
		cfg.RowGroupRows = DefaultRowGroupRows
	}
	meta, err := json.Marshal(cfg.Columns)
	if err != nil {
		return nil, fmt.Errorf("parquet: create %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("parquet: create %s: %w", path, err)
	}
	// CreateTemp makes the file private (0600); the file takes the mode
	// os.Create would give it, with the usual umask.
	if err := tmp.Chmod(0o644); err != nil {
		return nil, errors.Join(fmt.Errorf("parquet: create %s: %w", path, err), tmp.Close(), os.Remove(tmp.Name()))
	}
	schema := pq.NewSchema("weir", fileSchema(cfg.Columns))
	w := pq.NewWriter(tmp, schema, pq.Compression(&pq.Snappy),
		pq.MaxRowsPerRowGroup(int64(cfg.RowGroupRows)), pq.KeyValueMetadata(metaKey, string(meta)))
	return &RowSink{cfg: cfg, path: path, tmp: tmp, w: w}, nil
}

// metaKey is the key-value metadata key under which a RowSink records
// its columns' connect.Types.
const metaKey = "weir.columns"

// fileSchema returns the schema of a file of these columns, in their
// order.
func fileSchema(cols []connect.Column) pq.Node {
	g := make(orderedGroup, len(cols))
	for i, c := range cols {
		var n pq.Node
		switch c.Type {
		case connect.TypeBool:
			n = pq.Leaf(pq.BooleanType)
		case connect.TypeInt32:
			n = pq.Int(32)
		case connect.TypeInt64:
			n = pq.Int(64)
		case connect.TypeFloat64:
			n = pq.Leaf(pq.DoubleType)
		case connect.TypeDate:
			n = pq.Date()
		case connect.TypeTimestamp:
			n = pq.TimestampAdjusted(pq.Microsecond, false)
		case connect.TypeTimestampTZ:
			n = pq.TimestampAdjusted(pq.Microsecond, true)
		case connect.TypeJSON:
			n = pq.JSON()
		case connect.TypeBytes:
			n = pq.Leaf(pq.ByteArrayType)
		default: // text, numeric
			n = pq.String()
		}
		g[i] = &field{Node: pq.Optional(n), name: c.Name}
	}
	return g
}

// Write appends rows to the current row group, which goes to the file
// when full. A row with a number of values other than that of Columns, or
// a value of another type than its column's, fails the Write with a
// [*weir.RecordError] naming it, and nothing of the batch is written. Any
// other error (a full disk) breaks the sink: later Writes return it and
// Close discards the file. Safe for concurrent use; it blocks while
// another Write runs.
func (s *RowSink) Write(ctx context.Context, rows []connect.Row) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.broken != nil:
		return s.broken
	}
	if need := len(rows) * len(s.cfg.Columns); cap(s.vals) < need {
		s.vals = make([]pq.Value, 0, need) // the rows point into it: it must not move
	}
	s.prow, s.vals = s.prow[:0], s.vals[:0]
	for i, r := range rows {
		if len(r.Values) != len(s.cfg.Columns) {
			return &weir.RecordError{Index: i, Err: fmt.Errorf("row from %v has %d values for %d columns", r.Pos, len(r.Values), len(s.cfg.Columns))}
		}
		start := len(s.vals)
		for j, v := range r.Values {
			pv, err := toParquet(v, s.cfg.Columns[j])
			if err != nil {
				return &weir.RecordError{Index: i, Err: fmt.Errorf("row from %v: %w", r.Pos, err)}
			}
			def := 1
			if v.IsNull() {
				def = 0
			}
			s.vals = append(s.vals, pv.Level(0, def, j))
		}
		s.prow = append(s.prow, s.vals[start:len(s.vals):len(s.vals)])
	}
	if _, err := s.w.WriteRows(s.prow); err != nil {
		s.broken = fmt.Errorf("parquet: write %s: %w", s.tmp.Name(), err)
		return s.broken
	}
	s.rows += int64(len(rows))
	return nil
}

// toParquet converts v, of column c, to a Parquet value.
func toParquet(v connect.Value, c connect.Column) (pq.Value, error) {
	if v.IsNull() {
		return pq.NullValue(), nil
	}
	if v.Type() != c.Type && !(c.Type == connect.TypeNumeric && v.Type() == connect.TypeText) {
		return pq.Value{}, fmt.Errorf("column %s is %v, the value %v is %v", c.Name, c.Type, v, v.Type())
	}
	switch c.Type {
	case connect.TypeBool:
		return pq.BooleanValue(v.Int() == 1), nil
	case connect.TypeInt32, connect.TypeDate:
		return pq.Int32Value(int32(v.Int())), nil
	case connect.TypeInt64, connect.TypeTimestamp, connect.TypeTimestampTZ:
		return pq.Int64Value(v.Int()), nil
	case connect.TypeFloat64:
		return pq.DoubleValue(v.Float()), nil
	}
	return pq.ByteArrayValue([]byte(v.Str())), nil
}

// Rows returns the number of rows written so far (buffered or in the
// file).
func (s *RowSink) Rows() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rows
}

// Close writes the last row group and the footer, syncs the file and
// renames it to the final path. After a Write that broke the sink it
// discards the file instead, and returns the Write's error. Later Writes
// return [ErrClosed]. Idempotent: every call (and Abort after it) returns
// the first call's result. Call it after the last Write returned.
func (s *RowSink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.result
	}
	s.closed = true
	if s.broken != nil {
		s.result = errors.Join(s.broken, s.discard())
		return s.result
	}
	name := s.tmp.Name()
	if err := s.w.Close(); err != nil {
		s.result = errors.Join(fmt.Errorf("parquet: write %s: %w", name, err), s.discard())
		return s.result
	}
	if err := s.tmp.Sync(); err != nil {
		s.result = errors.Join(fmt.Errorf("parquet: sync %s: %w", name, err), s.discard())
		return s.result
	}
	if err := s.tmp.Close(); err != nil {
		s.result = errors.Join(fmt.Errorf("parquet: close %s: %w", name, err), os.Remove(name))
		return s.result
	}
	if err := os.Rename(name, s.path); err != nil {
		s.result = errors.Join(fmt.Errorf("parquet: rename %s to %s: %w", name, s.path, err), os.Remove(name))
		return s.result
	}
	// The rename is durable once the directory is synced.
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		err = errors.Join(d.Sync(), d.Close())
		if err != nil {
			s.result = fmt.Errorf("parquet: sync the directory of %s: %w", s.path, err)
		}
	}
	return s.result
}

// Abort discards what was written: it removes the temporary file, leaving
// whatever was at the final path untouched. After Close it does nothing
// and returns Close's result. Idempotent. Call it after the last Write
// returned, instead of Close, when the run that fed the sink failed.
func (s *RowSink) Abort() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.result
	}
	s.closed = true
	s.result = s.discard()
	return s.result
}

func (s *RowSink) discard() error {
	name := s.tmp.Name()
	err := errors.Join(s.tmp.Close(), os.Remove(name))
	if err != nil {
		return fmt.Errorf("parquet: discard %s: %w", name, err)
	}
	return nil
}
