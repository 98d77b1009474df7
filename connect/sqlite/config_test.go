package sqlite_test

import (
	"strings"
	"testing"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/sqlite"
)

// keylessSplitter is userSplitter with no key on items.
type keylessSplitter struct{ userSplitter }

func (keylessSplitter) Tables() []connect.Table {
	t := userSplitter{}.Tables()
	t[2].Key = nil
	return t
}

// TestConfigValidate checks every config's Validate without a database:
// each bad field is named, a good config passes.
func TestConfigValidate(t *testing.T) {
	keyless := connect.Table{Name: "five", Columns: fiveTable.Columns}
	cases := []struct {
		name string
		cfg  interface{ Validate() error }
		want []string // nil: valid
	}{
		{"sink: good", sqlite.SinkConfig[five]{Table: fiveTable, Values: fiveValues, OnConflict: connect.ConflictUpdate}, nil},
		{"sink: ConflictIgnore without Key", sqlite.SinkConfig[five]{Table: keyless, Values: fiveValues, OnConflict: connect.ConflictIgnore}, nil},
		{"sink: zero", sqlite.SinkConfig[five]{}, []string{
			"sqlite: SinkConfig.Table.Name is required", "sqlite: SinkConfig.Table.Columns is required", "sqlite: SinkConfig.Values is required"}},
		{"sink: ConflictUpdate without Key", sqlite.SinkConfig[five]{Table: keyless, Values: fiveValues, OnConflict: connect.ConflictUpdate}, []string{
			"sqlite: SinkConfig.Table.Key is required: OnConflict ConflictUpdate needs"}},
		{"sink: unknown conflict", sqlite.SinkConfig[five]{Table: fiveTable, Values: fiveValues, OnConflict: 4}, []string{
			"sqlite: SinkConfig.OnConflict must be ConflictError, ConflictIgnore or ConflictUpdate, got Conflict(4)"}},
		{"sink: key outside the columns", sqlite.SinkConfig[five]{Values: fiveValues, RowsPerStatement: -1,
			Table: connect.Table{Name: "five", Columns: []string{"a"}, Key: []string{"z", ""}}}, []string{
			`sqlite: SinkConfig.Table.Key column "z" is not in Columns`, "sqlite: SinkConfig.Table.Key has an empty name",
			"sqlite: SinkConfig.RowsPerStatement must be >= 0"}},

		{"multi: good", sqlite.MultiSinkConfig[user]{Splitter: userSplitter{}, OnConflict: connect.ConflictUpdate}, nil},
		{"multi: ConflictIgnore without keys", sqlite.MultiSinkConfig[user]{Splitter: keylessSplitter{}, OnConflict: connect.ConflictIgnore}, nil},
		{"multi: nil Splitter", sqlite.MultiSinkConfig[user]{OnConflict: 7}, []string{
			"sqlite: MultiSinkConfig.Splitter is required", "sqlite: MultiSinkConfig.OnConflict must be ConflictError, ConflictIgnore or ConflictUpdate, got Conflict(7)"}},
		{"multi: ConflictUpdate without a key", sqlite.MultiSinkConfig[user]{Splitter: keylessSplitter{}, OnConflict: connect.ConflictUpdate}, []string{
			"sqlite: MultiSinkConfig.Splitter.Tables()[2].Key is required"}},
		{"multi: bad tables", sqlite.MultiSinkConfig[int]{Splitter: emptyColumns{}, RowsPerStatement: -2}, []string{
			"sqlite: MultiSinkConfig.Splitter.Tables()[1].Columns is required", "sqlite: MultiSinkConfig.RowsPerStatement must be >= 0"}},

		{"source: good", sqlite.SourceConfig[kv]{Table: kvTable, Scan: scanKV, Key: kvKey, After: []any{int64(3)}}, nil},
		{"source: zero", sqlite.SourceConfig[kv]{}, []string{
			"sqlite: SourceConfig needs Table.Name or Query", "sqlite: SourceConfig.Table.Key is required", "sqlite: SourceConfig.Scan is required", "sqlite: SourceConfig.Key is required"}},
		{"source: After of the wrong width", sqlite.SourceConfig[kv]{Table: kvTable, Scan: scanKV, Key: kvKey, After: []any{1, 2}}, []string{
			"sqlite: SourceConfig.After has 2 values for a key of 1 columns"}},
		{"source: bad page size and query", sqlite.SourceConfig[kv]{Table: connect.Table{Key: []string{"id"}}, Query: "SELECT 1;", Scan: scanKV, Key: kvKey, PageSize: -1}, []string{
			"sqlite: SourceConfig.PageSize must be >= 0", "sqlite: SourceConfig.Query must not end with ';'"}},
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
