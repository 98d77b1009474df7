package file_test

import (
	"testing"

	"github.com/weir-etl/weir/connect/conntest"
	"github.com/weir-etl/weir/connect/file"
)

// TestConfigValidate checks every config's Validate: each bad field is
// named, a good config passes.
func TestConfigValidate(t *testing.T) {
	decode := func(file.Record) (int, error) { return 0, nil }
	encode := func(_ int, row []string) []string { return row }
	conntest.Config(t, []conntest.ConfigCase{
		{Name: "CSV source: good", Config: file.CSVSourceConfig[int]{Decode: decode, Comma: ';', Comment: '#'}},
		{Name: "CSV source: zero", Config: file.CSVSourceConfig[int]{}, Want: []string{"file: CSVSourceConfig.Decode is required"}},
		{Name: "CSV source: bad fields", Config: file.CSVSourceConfig[int]{Decode: decode, Comma: '\n', Comment: '"', Columns: []string{"a", "a"},
			ReadOptions: file.ReadOptions{MaxLineBytes: file.MaxMaxLineBytes + 1}}, Want: []string{
			"file: CSVSourceConfig.MaxLineBytes must be between 0", "file: CSVSourceConfig.Comma '\\n' is not a valid delimiter",
			"file: CSVSourceConfig.Comment '\"' is not valid", `file: CSVSourceConfig.Columns lists "a" twice`}},
		{Name: "CSV sink: good", Config: file.CSVSinkConfig[int]{Header: []string{"a"}, Encode: encode}},
		{Name: "CSV sink: zero", Config: file.CSVSinkConfig[int]{BufferSize: -1}, Want: []string{
			"file: CSVSinkConfig.Header is required", "file: CSVSinkConfig.Encode is required", "file: CSVSinkConfig.BufferSize must be between 0"}},
		{Name: "JSONL source: zero is valid", Config: file.JSONLSourceConfig{}},
		{Name: "JSONL source: bad MaxLineBytes", Config: file.JSONLSourceConfig{ReadOptions: file.ReadOptions{MaxLineBytes: -1}}, Want: []string{
			"file: JSONLSourceConfig.MaxLineBytes must be between 0"}},
		{Name: "JSONL sink: zero is valid", Config: file.JSONLSinkConfig{}},
		{Name: "JSONL sink: bad BufferSize", Config: file.JSONLSinkConfig{BufferSize: 1 << 31}, Want: []string{
			"file: JSONLSinkConfig.BufferSize must be between 0"}},
	})
}
