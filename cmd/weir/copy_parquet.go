package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/parquet"
)

// isParquet reports whether a SOURCE or TARGET argument is a Parquet file
// or glob, by its extension.
func isParquet(spec string) bool {
	return strings.HasSuffix(strings.ToLower(spec), ".parquet") && !strings.Contains(spec, "://")
}

// openParquetSource opens a .parquet file or glob. Its columns are typed
// by the file's schema: no sample is read.
func openParquetSource(ctx context.Context, spec string) (*copySource, error) {
	src, err := parquet.OpenRows(spec, parquet.RowSourceConfig{})
	if err != nil {
		return nil, usagef("SOURCE %s: %w", spec, err)
	}
	cs := &copySource{
		src:   src,
		types: src.Columns(),
		table: baseTable(spec),
		desc:  spec,
		close: func() { src.Close(context.WithoutCancel(ctx)) },
		count: func(context.Context) (int64, error) {
			again, err := parquet.OpenRows(spec, parquet.RowSourceConfig{})
			if err != nil {
				return 0, err
			}
			defer again.Close(ctx)
			return again.NumRows(), nil
		},
	}
	cs.names = columnNames(cs.types)
	return cs, nil
}

// openParquetTarget is a .parquet path. As for a CSV target, --if-exists
// applies to the file; unlike one, the file appears under its name only
// when the copy succeeds (see parquetSink).
func openParquetTarget(path string) (*copyTarget, error) {
	return fileTarget(path, func(cols []connect.Column) (rowSink, error) {
		cfg := parquet.RowSinkConfig{Columns: cols}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		return &parquetSink{path: path, cfg: cfg}, nil
	})
}

// parquetSink writes the copy's rows to a parquet.RowSink, which writes a
// temporary file and renames it on Close. It is not a weir.Closer: the
// run's After hook (see hooks) publishes the file if the run succeeded and
// removes it otherwise, so a failed copy leaves no half file under the
// target's name. The RowSink is created at the first Write (or by the hook,
// for an empty source), so a copy refused before its run leaves no
// temporary file either.
type parquetSink struct {
	path string
	cfg  parquet.RowSinkConfig
	mu   sync.Mutex
	s    *parquet.RowSink
}

func (p *parquetSink) open() (*parquet.RowSink, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.s == nil {
		s, err := parquet.CreateRows(p.path, p.cfg)
		if err != nil {
			return nil, err
		}
		p.s = s
	}
	return p.s, nil
}

func (p *parquetSink) Write(ctx context.Context, batch []connect.Row) error {
	s, err := p.open()
	if err != nil {
		return err
	}
	return s.Write(ctx, batch)
}

func (p *parquetSink) Rows() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.s == nil {
		return 0
	}
	return p.s.Rows()
}

// hooks returns the run's hooks: After closes the file into place when the
// run succeeded, and discards it when it failed.
func (p *parquetSink) hooks() weir.Hooks {
	return weir.Hooks{After: func(ctx context.Context, _ weir.Stats, runErr error) error {
		s, err := p.open()
		if err != nil {
			return err
		}
		if runErr != nil {
			if err := s.Abort(); err != nil {
				return err
			}
			return fmt.Errorf("%s left as it was: the copy failed", p.path)
		}
		return s.Close(ctx)
	}}
}
