package sqlite_test

import (
	"testing"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/conntest"
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
	conntest.Config(t, []conntest.ConfigCase{
		{Name: "sink: good", Config: sqlite.SinkConfig[five]{Table: fiveTable, Values: fiveValues, OnConflict: connect.ConflictUpdate}},
		{Name: "sink: ConflictIgnore without Key", Config: sqlite.SinkConfig[five]{Table: keyless, Values: fiveValues, OnConflict: connect.ConflictIgnore}},
		{Name: "sink: zero", Config: sqlite.SinkConfig[five]{}, Want: []string{
			"sqlite: SinkConfig.Table.Name is required", "sqlite: SinkConfig.Table.Columns is required", "sqlite: SinkConfig.Values is required"}},
		{Name: "sink: ConflictUpdate without Key", Config: sqlite.SinkConfig[five]{Table: keyless, Values: fiveValues, OnConflict: connect.ConflictUpdate}, Want: []string{
			"sqlite: SinkConfig.Table.Key is required: OnConflict ConflictUpdate needs"}},
		{Name: "sink: unknown conflict", Config: sqlite.SinkConfig[five]{Table: fiveTable, Values: fiveValues, OnConflict: 4}, Want: []string{
			"sqlite: SinkConfig.OnConflict must be ConflictError, ConflictIgnore or ConflictUpdate, got Conflict(4)"}},
		{Name: "sink: key outside the columns", Config: sqlite.SinkConfig[five]{Values: fiveValues, RowsPerStatement: -1,
			Table: connect.Table{Name: "five", Columns: []string{"a"}, Key: []string{"z", ""}}}, Want: []string{
			`sqlite: SinkConfig.Table.Key column "z" is not in Columns`, "sqlite: SinkConfig.Table.Key has an empty name",
			"sqlite: SinkConfig.RowsPerStatement must be >= 0"}},

		{Name: "multi: good", Config: sqlite.MultiSinkConfig[user]{Splitter: userSplitter{}, OnConflict: connect.ConflictUpdate}},
		{Name: "multi: ConflictIgnore without keys", Config: sqlite.MultiSinkConfig[user]{Splitter: keylessSplitter{}, OnConflict: connect.ConflictIgnore}},
		{Name: "multi: nil Splitter", Config: sqlite.MultiSinkConfig[user]{OnConflict: 7}, Want: []string{
			"sqlite: MultiSinkConfig.Splitter is required", "sqlite: MultiSinkConfig.OnConflict must be ConflictError, ConflictIgnore or ConflictUpdate, got Conflict(7)"}},
		{Name: "multi: ConflictUpdate without a key", Config: sqlite.MultiSinkConfig[user]{Splitter: keylessSplitter{}, OnConflict: connect.ConflictUpdate}, Want: []string{
			"sqlite: MultiSinkConfig.Splitter.Tables()[2].Key is required"}},
		{Name: "multi: bad tables", Config: sqlite.MultiSinkConfig[int]{Splitter: emptyColumns{}, RowsPerStatement: -2}, Want: []string{
			"sqlite: MultiSinkConfig.Splitter.Tables()[1].Columns is required", "sqlite: MultiSinkConfig.RowsPerStatement must be >= 0"}},

		{Name: "source: good", Config: sqlite.SourceConfig[kv]{Table: kvTable, Scan: scanKV, Key: kvKey, After: []any{int64(3)}}},
		{Name: "source: zero", Config: sqlite.SourceConfig[kv]{}, Want: []string{
			"sqlite: SourceConfig needs Table.Name or Query", "sqlite: SourceConfig.Table.Key is required", "sqlite: SourceConfig.Scan is required", "sqlite: SourceConfig.Key is required"}},
		{Name: "source: After of the wrong width", Config: sqlite.SourceConfig[kv]{Table: kvTable, Scan: scanKV, Key: kvKey, After: []any{1, 2}}, Want: []string{
			"sqlite: SourceConfig.After has 2 values for a key of 1 columns"}},
		{Name: "source: bad page size and query", Config: sqlite.SourceConfig[kv]{Table: connect.Table{Key: []string{"id"}}, Query: "SELECT 1;", Scan: scanKV, Key: kvKey, PageSize: -1}, Want: []string{
			"sqlite: SourceConfig.PageSize must be >= 0", "sqlite: SourceConfig.Query must not end with ';'"}},
	})
}
