package file_test

import (
	"strings"
	"testing"

	"github.com/weir-etl/weir/connect/file"
)

// TestConfigValidate checks every config's Validate: each bad field is
// named, a good config passes.
func TestConfigValidate(t *testing.T) {
	decode := func(file.Record) (int, error) { return 0, nil }
	encode := func(_ int, row []string) []string { return row }
	cases := []struct {
		name string
		cfg  interface{ Validate() error }
		want []string // nil: valid
	}{
		{"CSV source: good", file.CSVSourceConfig[int]{Decode: decode, Comma: ';', Comment: '#'}, nil},
		{"CSV source: zero", file.CSVSourceConfig[int]{}, []string{"file: CSVSourceConfig.Decode is required"}},
		{"CSV source: bad fields", file.CSVSourceConfig[int]{Decode: decode, Comma: '\n', Comment: '"', Columns: []string{"a", "a"},
			ReadOptions: file.ReadOptions{MaxLineBytes: file.MaxMaxLineBytes + 1}}, []string{
			"file: CSVSourceConfig.MaxLineBytes must be between 0", "file: CSVSourceConfig.Comma '\\n' is not a valid delimiter",
			"file: CSVSourceConfig.Comment '\"' is not valid", `file: CSVSourceConfig.Columns lists "a" twice`}},
		{"CSV sink: good", file.CSVSinkConfig[int]{Header: []string{"a"}, Encode: encode}, nil},
		{"CSV sink: zero", file.CSVSinkConfig[int]{BufferSize: -1}, []string{
			"file: CSVSinkConfig.Header is required", "file: CSVSinkConfig.Encode is required", "file: CSVSinkConfig.BufferSize must be between 0"}},
		{"JSONL source: zero is valid", file.JSONLSourceConfig{}, nil},
		{"JSONL source: bad MaxLineBytes", file.JSONLSourceConfig{ReadOptions: file.ReadOptions{MaxLineBytes: -1}}, []string{
			"file: JSONLSourceConfig.MaxLineBytes must be between 0"}},
		{"JSONL sink: zero is valid", file.JSONLSinkConfig{}, nil},
		{"JSONL sink: bad BufferSize", file.JSONLSinkConfig{BufferSize: 1 << 31}, []string{
			"file: JSONLSinkConfig.BufferSize must be between 0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, lacks %q", err, w)
				}
			}
		})
	}
}
