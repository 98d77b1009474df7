package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/file"
)

// filePos is a place in a file where a record starts: the byte offset in
// its (uncompressed) content and the lines before it, as a file.RowSource
// position has them.
type filePos struct {
	Offset int64 `json:"offset"`
	Line   int   `json:"line"`
}

// fileRange is a file partition: the records starting in [Start, End) of
// File; End nil means to the end of the file.
type fileRange struct {
	File  string   `json:"file"`
	Start filePos  `json:"start"`
	End   *filePos `json:"end,omitempty"`
	// Records counts the records starting in the range, malformed ones
	// included (the coordinator's figure of what the workers read); -1
	// when unknown.
	Records int64 `json:"records"`
}

// splitFiles splits the files of pattern (a path or a glob) into ranges of
// about size bytes each, cut where records start. It finds record starts
// by parsing every file from its beginning with the reader the workers
// use, so a quoted newline in a CSV field never cuts a record. A gzipped
// file (which cannot seek) and a JSON array are one range each. Paths are
// made absolute: workers must see the files at the same paths.
func splitFiles(ctx context.Context, pattern string, cfg file.RowSourceConfig, size int64) ([]fileRange, error) {
	files := []string{pattern}
	if strings.ContainsAny(pattern, "*?[") {
		var err error
		if files, err = filepath.Glob(pattern); err != nil {
			return nil, err
		}
		slices.Sort(files)
	}
	var out []fileRange
	for _, path := range files {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, err
		}
		if whole(abs, cfg.Format) {
			n, err := countFile(ctx, abs, cfg)
			if err != nil {
				return nil, fmt.Errorf("count %s: %w", path, err)
			}
			out = append(out, fileRange{File: abs, Records: n})
			continue
		}
		rs, err := splitFile(ctx, abs, cfg, size)
		if err != nil {
			return nil, fmt.Errorf("split %s: %w", path, err)
		}
		out = append(out, rs...)
	}
	return out, nil
}

// whole reports whether the file at path is read as one range.
func whole(path string, format file.Format) bool {
	base := strings.ToLower(path)
	return strings.HasSuffix(base, ".gz") || format == file.FormatJSON ||
		format == file.FormatAuto && strings.HasSuffix(base, ".json")
}

// splitFile cuts one file after every size bytes, at the first record
// start at or past the mark.
func splitFile(ctx context.Context, path string, cfg file.RowSourceConfig, size int64) ([]fileRange, error) {
	src, err := file.OpenRows(path, cfg)
	if err != nil {
		return nil, err
	}
	defer src.Close(context.WithoutCancel(ctx))
	start, err := positionOf(src)
	if err != nil {
		return nil, err
	}
	var out []fileRange
	// Cuts fall between Reads: a small buffer places them within 64
	// records of the mark, for one position (a small allocation) per Read.
	buf := make([]connect.Row, 64)
	var records int64 // in the range so far
	for {
		n, err := src.Read(ctx, buf)
		records += int64(n)
		var le *file.LineError
		if errors.As(err, &le) {
			records++
		}
		switch {
		case errors.Is(err, io.EOF):
			// The last range ends at the end of the file; a cut that fell
			// exactly there leaves nothing for it.
			if end, perr := positionOf(src); perr != nil {
				return nil, perr
			} else if end.Offset > start.Offset || len(out) == 0 {
				out = append(out, fileRange{File: path, Start: start, Records: records})
			} else {
				out[len(out)-1].End = nil
				out[len(out)-1].Records += records
			}
			return out, nil
		case err != nil && !errors.As(err, &le):
			return nil, err
		}
		// A malformed record is the workers' to report; the position
		// after a Read is a record start either way.
		pos, err := positionOf(src)
		if err != nil {
			return nil, err
		}
		if pos.Offset-start.Offset >= size {
			out = append(out, fileRange{File: path, Start: start, End: &pos, Records: records})
			start, records = pos, 0
		}
	}
}

// positionOf decodes a file.RowSource's position.
func positionOf(src *file.RowSource) (filePos, error) {
	b, err := src.Position()
	if err != nil {
		return filePos{}, err
	}
	var p filePos
	if err := json.Unmarshal(b, &p); err != nil {
		return filePos{}, fmt.Errorf("position %s: %w", b, err)
	}
	return p, nil
}

// countFile counts the records of the file at path, malformed ones
// included, reading it to its end.
func countFile(ctx context.Context, path string, cfg file.RowSourceConfig) (int64, error) {
	src, err := file.OpenRows(path, cfg)
	if err != nil {
		return 0, err
	}
	defer src.Close(context.WithoutCancel(ctx))
	buf := make([]connect.Row, 1024)
	var records int64
	for {
		n, err := src.Read(ctx, buf)
		records += int64(n)
		var le *file.LineError
		switch {
		case errors.Is(err, io.EOF):
			return records, nil
		case errors.As(err, &le):
			records++
		case err != nil:
			return records, err
		}
	}
}
