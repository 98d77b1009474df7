package conntest_test

import (
	"testing"

	"github.com/weir-etl/weir/connect/conntest"
)

func TestCheckpointStorePasses(t *testing.T) {
	conntest.CheckpointStore(t, conntest.CheckpointStoreCase{Open: openMemStore(noStoreBug)})
}

func TestCheckpointStoreCatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		bug  storeBug
		want []string
	}{
		{"a store losing its positions on reopen", losesOnReopen, []string{"positions survive a reopen"}},
		{"Load of an unknown job returning an empty position", unknownIsEmpty, []string{"Load of an unknown job returns nil"}},
		{"job names compared ignoring case", caseInsensitive, []string{"jobs are kept apart"}},
		{"positions compacted as JSON", compactsJSON, []string{"positions are kept byte for byte"}},
		{"an empty position taken for none", emptyIsNone, []string{"an empty position is refused or kept apart from none"}},
	} {
		catches(t, tc.name, func(t conntest.Tester) {
			conntest.CheckpointStoreWith(t, conntest.CheckpointStoreCase{Open: openMemStore(tc.bug)})
		}, tc.want...)
	}
}
