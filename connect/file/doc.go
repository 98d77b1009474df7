// Package file reads and writes JSON Lines and CSV for weir pipelines,
// using only the standard library.
//
// Sources ([JSONLSource], [CSVSource]) implement weir.Source and stream:
// their memory is bounded by the longest line, never by the file. They read
// from any io.Reader ([NewJSONLSource], [NewCSVSource]) or open a path
// ([OpenJSONL], [OpenCSV]) that their Close closes. Sinks ([JSONLSink],
// [CSVSink]) implement weir.Sink, buffer their output, and accept concurrent
// Writes, keeping each batch's lines together.
//
// # Malformed lines
//
// Both sources treat bad input the same way, set by [ReadOptions] (embedded
// in [JSONLSourceConfig] and [CSVSourceConfig]). By default a malformed
// line makes Read return, after the records before it, a
// [*weir.BadRecordError] wrapping a [*LineError] that names the input and
// the line number; the next Read continues after the line. A weir run
// fails on it, or, under the Skip policy, writes it to its dead-letter
// sink with its file, line and text and reads on. With
// [ReadOptions.OnBadLine] set, each malformed line is handed to it and
// skipped, for callers without the engine.
//
// # Checkpoints and dead letters
//
// Both sources implement weir.Positioner, so a run with
// weir.WithCheckpoint can resume: the position is the last line
// accounted for, as JSON ({"line":1234}), and Seek skips that many lines
// (for CSV, whole records, after the header) before the first Read.
// [CheckpointStore] stores the positions of any number of jobs in one JSON
// file, replaced atomically on every save. [CreateDeadLetter] and
// [NewDeadLetter] write the records a run's Skip policy sets aside, one
// weir.Failure per JSON line, flushed as each batch of failures arrives.
//
// # MongoDB Extended JSON
//
// [JSONLSource] accepts mongoexport's output in relaxed and canonical mode.
// Wrappers are rewritten to plain JSON, at any depth, before decoding:
//
//	{"$oid":"..."}                        → the hex string
//	{"$date":"2024-01-02T03:04:05Z"}      → the RFC 3339 string (decodes into time.Time)
//	{"$date":{"$numberLong":"1700000000000"}}, {"$date":1700000000000}
//	                                      → the same, from milliseconds since the epoch, in UTC
//	{"$numberLong":"123"}, {"$numberInt":"5"} → 123, 5
//	{"$numberDouble":"1.5"}, {"$numberDecimal":"1.50"} → 1.5, 1.50
//	{"$numberDouble":"Infinity"} (also "-Infinity", "NaN") → null
//
// Non-finite numbers become null because JSON cannot spell them: a *float64
// field decodes to nil, a float64 field keeps its zero value, an any field
// holds nil. Decimals keep their digits in the JSON text, so a json.Number
// field sees them exactly. Other wrappers ($binary, $timestamp, ...) are
// left as objects. Only lines containing `"$` pay for the rewrite.
//
// # Generic rows
//
// [RowSource] and [RowSink] move generic rows ([connect.Row]) for
// `weir copy`, where no Go type describes the records. [OpenRows] reads a
// path or a glob of CSV, TSV, JSON Lines or JSON files, each maybe gzipped
// (told by the .gz suffix or the magic bytes); [NewRowSource] reads any
// io.Reader. Values come raw, to be typed by a schema.Converter:
//
//	CSV, TSV   a field                          → Text
//	           an unquoted field equal to Null  → NULL ("" by default: an unquoted empty field)
//	           a quoted empty field ""          → Text("")
//	JSON       a string → Text; a number → Numeric with its literal text ("1e3", "12.50");
//	           true, false → Bool; null or a missing key → NULL; an object or array → JSON (compact)
//
// CSV follows RFC 4180 (quoted delimiters, quotes and line breaks; CRLF or
// LF), strips a byte order mark, and needs a header with unique, non-empty
// names, equal across the files of a glob. A JSON input is an array of
// objects, streamed one object at a time, or JSON Lines, told apart by its
// first byte ('['). Its columns are the keys of the first
// [RowSourceConfig.SampleSize] records, in first-seen order. A record with
// the wrong number of fields, invalid UTF-8, bad quoting or bad JSON, or a
// key outside the sample, is a malformed line (see above). Each row's Pos
// names its file and the line it starts on. The position for checkpoints is
// the file, the byte offset in its uncompressed content, and the line:
// resuming a gzipped file reads and discards up to the offset.
//
// [RowSink] writes CSV, TSV (NULL unquoted, an empty string quoted, so the
// file reads back the same) or JSON Lines, to an io.Writer or a path
// ([CreateRows]; .gz compresses).
package file
