// Package parquet reads and writes Apache Parquet files as generic rows
// ([connect.Row]), for `weir copy`: [OpenRows] returns a [RowSource] over a
// file or a glob of files, [CreateRows] a [RowSink] writing one file.
//
// # Reading
//
// A RowSource takes its columns and their types from the file's schema (no
// sample, no inference) and streams: row group by row group and, within a
// row group, page by page, so that memory does not grow with the file.
// Rows are numbered from 1 in each file, which is what a row's Pos and a
// reject name; the position for a resume is the file and the rows read.
//
// Each top-level field is a column. A flat field maps as follows (an
// optional field's null is connect.Null):
//
//	Parquet (physical, logical)                    connect.Type
//	BOOLEAN                                        boolean
//	INT32, INT(8|16|32, signed), INT(8|16, uns.)   integer
//	INT64, INT(64, signed), INT(32, unsigned)      bigint
//	INT(64, unsigned)                              numeric (no overflow)
//	FLOAT, DOUBLE; FLOAT16                         double
//	DECIMAL on INT32, INT64, BYTE_ARRAY or FLBA    numeric, exact ("-123.45")
//	DATE                                           date
//	TIMESTAMP(MILLIS|MICROS|NANOS, UTC)            timestamptz
//	TIMESTAMP(…, not adjusted to UTC)              timestamp
//	INT96 (legacy Impala/Spark timestamps)         timestamptz
//	TIME(any unit)                                 text "15:04:05.999999999"
//	BYTE_ARRAY STRING, ENUM                        text
//	FIXED_LEN_BYTE_ARRAY(16) UUID                  text "8-4-4-4-12"
//	BYTE_ARRAY JSON                                json
//	BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY, BSON         bytes
//
// A nested field — a group, a LIST, a MAP, or a repeated field — is one
// json column holding compact JSON: a group is an object of its fields, a
// LIST an array of its elements (the standard three-level form and the
// legacy two-level one), a MAP an object keyed by each key's text, a
// repeated field an array (empty when it has no element). Leaves inside
// are written as [connect.Value.MarshalJSON] writes their type's value:
// numbers and booleans as JSON literals, decimals as exact literals,
// everything else as strings. A null group at the top level is
// connect.Null; inside, it is JSON null. weir's values hold microseconds:
// a nanosecond timestamp loses its last three digits (rounded down).
//
// # Writing
//
// A RowSink writes one optional column per connect.Column, flat: boolean
// BOOLEAN, integer INT32, bigint INT64, double DOUBLE, numeric and text
// BYTE_ARRAY STRING, date DATE, timestamp and timestamptz INT64
// TIMESTAMP(MICROS) not adjusted and adjusted to UTC, json BYTE_ARRAY JSON,
// bytes BYTE_ARRAY. A numeric column stays exact as a string (Parquet's
// DECIMAL needs one scale for the whole column, unknown until the end);
// the file's metadata records it, so that this package reads it back as
// numeric. The file is written to a temporary name and renamed on Close.
//
// # The library
//
// It uses github.com/parquet-go/parquet-go rather than Apache Arrow's Go
// module: weir moves rows, and parquet-go reads and writes rows (with
// their repetition and definition levels) straight from pages, where
// Arrow would build columnar record batches for weir to take apart again;
// it is also a smaller dependency. Its panics on some corrupt files are
// turned into errors naming the file.
package parquet
