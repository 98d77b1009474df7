package file

import (
	"errors"
	"fmt"
	"strings"
)

// Format is the layout of a file that a [RowSource] reads or a [RowSink]
// writes.
type Format uint8

// The formats. For a path, FormatAuto goes by the extension: .csv, .tsv,
// .jsonl or .ndjson, .json; each may end in .gz.
const (
	FormatAuto  Format = iota // from the path's extension; for a reader, from its first bytes
	FormatCSV                 // comma-separated values with a header row (RFC 4180 quoting)
	FormatTSV                 // tab-separated values, with the same quoting as CSV
	FormatJSONL               // JSON Lines: one object per line
	FormatJSON                // a JSON array of objects, or JSON Lines: told apart by the first byte
	numFormats
)

var formatNames = [numFormats]string{"auto", "csv", "tsv", "jsonl", "json"}

// String returns the format's name: "auto", "csv", "tsv", "jsonl" or "json".
func (f Format) String() string {
	if f < numFormats {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// DefaultSampleSize is how many records a [RowSource] reads ahead when
// [RowSourceConfig.SampleSize] is 0.
const DefaultSampleSize = 1000

// MaxSampleSize bounds [RowSourceConfig.SampleSize]: the sample is held in
// memory.
const MaxSampleSize = 1_000_000

// RowSourceConfig configures a [RowSource]. The zero value is valid.
type RowSourceConfig struct {
	ReadOptions
	// Format is the input's layout. FormatAuto (the default) goes by the
	// path's extension; for [NewRowSource], by [ReadOptions.Name]'s
	// extension, else by the first byte ('{' or '[' mean JSON, anything
	// else CSV).
	Format Format
	// Null is, in CSV and TSV, the unquoted field that means NULL, as in
	// PostgreSQL's COPY: "" (the default) makes an unquoted empty field
	// NULL; "NA" makes an unquoted NA NULL and an unquoted empty field an
	// empty string. A quoted field is never NULL ("" is an empty string).
	Null string
	// Comma is the field delimiter of CSV and TSV: 0 means ',' for CSV and
	// a tab for TSV. It must be one ASCII character.
	Comma rune
	// NoHeader says that a CSV or TSV file's first row is data. The
	// columns are then named column1, column2, ... and their number is that
	// of the first record.
	NoHeader bool
	// SampleSize is how many records the source reads ahead when it is
	// made, for [RowSource.Columns] (JSON) and [RowSource.Sample]. 0 means
	// DefaultSampleSize; at most MaxSampleSize.
	SampleSize int
}

// Validate reports every impossible value, each naming its field.
func (c RowSourceConfig) Validate() error {
	errs := []error{c.ReadOptions.validate("RowSourceConfig")}
	if c.Format >= numFormats {
		errs = append(errs, fmt.Errorf("file: RowSourceConfig.Format %d is not a Format", uint8(c.Format)))
	}
	if c.Comma != 0 && !validComma(c.Comma) {
		errs = append(errs, fmt.Errorf("file: RowSourceConfig.Comma %q must be one ASCII character other than a quote or a line break", c.Comma))
	}
	if strings.ContainsAny(c.Null, "\"\r\n") || (c.Comma != 0 && strings.ContainsRune(c.Null, c.Comma)) {
		errs = append(errs, fmt.Errorf("file: RowSourceConfig.Null %q must not hold a quote, a line break or the delimiter", c.Null))
	}
	if json := c.Format == FormatJSON || c.Format == FormatJSONL; json && (c.Comma != 0 || c.NoHeader || c.Null != "") {
		errs = append(errs, fmt.Errorf("file: RowSourceConfig.Comma, NoHeader and Null are for CSV and TSV, not Format %v", c.Format))
	}
	if c.SampleSize < 0 || c.SampleSize > MaxSampleSize {
		errs = append(errs, fmt.Errorf("file: RowSourceConfig.SampleSize must be between 0 (default %d) and %d, got %d",
			DefaultSampleSize, MaxSampleSize, c.SampleSize))
	}
	return errors.Join(errs...)
}

// withDefaults sets the defaults of zero fields, in one place.
func (c RowSourceConfig) withDefaults() RowSourceConfig {
	c.ReadOptions = c.ReadOptions.withDefaults()
	if c.SampleSize == 0 {
		c.SampleSize = DefaultSampleSize
	}
	return c
}

func validComma(r rune) bool { return r > 0 && r < 0x80 && r != '"' && r != '\r' && r != '\n' }

// badRecord is a malformed record a decoder passed over: the next call
// reads the record after it. text is valid until that call.
type badRecord struct {
	line int
	text []byte
	err  error
}

func (b *badRecord) Error() string { return fmt.Sprintf("line %d: %v", b.line, b.err) }

// columns are the names of the columns, shared by the decoders of a
// source's files. Until frozen, a JSON decoder adds the keys it meets and a
// CSV decoder without a header sets them from its first record.
type columns struct {
	names  []string
	index  map[string]int
	frozen bool
	from   string // the file the names come from, for errors
	sample int    // SampleSize, for errors
}

func newColumns(sample int) *columns {
	return &columns{index: map[string]int{}, sample: sample}
}

func (c *columns) add(name string) int {
	c.index[name] = len(c.names)
	c.names = append(c.names, name)
	return len(c.names) - 1
}

func (c *columns) freeze() { c.frozen = true }
