package conntest_test

import (
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/conntest"
)

// sinkCase is the kit's case for memSinks: appending (ordered) ones, or
// upserting ones.
func sinkCase(upsert bool, bug sinkBug) conntest.SinkCase[rec] {
	recs := makeRecs(40)
	return conntest.SinkCase[rec]{
		Open:       openMemSink(upsert, bug),
		Records:    recs,
		Ordered:    !upsert,
		Failing:    []rec{recs[0], {ID: -1, Name: "breaks the constraint"}, recs[1]},
		Idempotent: upsert,
		Concurrent: true,
	}
}

func TestSinkPasses(t *testing.T) {
	t.Run("appending", func(t *testing.T) { conntest.Sink(t, sinkCase(false, noSinkBug)) })
	t.Run("upserting", func(t *testing.T) { conntest.Sink(t, sinkCase(true, noSinkBug)) })
}

func TestSinkCatches(t *testing.T) {
	const (
		readBack   = "written records read back"
		failing    = "a failing Write leaves nothing of its batch behind"
		cancelled  = "Write with a cancelled context writes all of its batch or nothing"
		twice      = "writing the same records twice keeps one copy"
		concurrent = "concurrent Writes of disjoint batches all land"
		closeAfter = "Closer/Close twice after Writes"
	)
	for _, tc := range []struct {
		name   string
		upsert bool
		bug    sinkBug
		want   []string
	}{
		{"a failing Write keeping the records before the bad one", false, keepsHalfOfBatch, []string{failing}},
		{"Write keeping the caller's slice", false, keepsBatch, []string{readBack, failing, concurrent, closeAfter}},
		{"Write reversing its batch in ordered storage", false, reversesBatch, []string{readBack, failing, concurrent, closeAfter}},
		{"Write with a cancelled context writing half its batch", false, cancelWritesHalf, []string{cancelled}},
		{"an upsert that inserts again", true, insertsTwice, []string{twice}},
		{"Close failing the second time", false, closeFails, []string{"Closer/Close twice on an unused sink", closeAfter}},
	} {
		catches(t, tc.name, func(t conntest.Tester) { conntest.SinkWith(t, sinkCase(tc.upsert, tc.bug)) }, tc.want...)
	}
	taken := sinkCase(false, noSinkBug)
	taken.Failing = []rec{{ID: 1000}}
	catches(t, "a Failing batch the sink takes", func(t conntest.Tester) { conntest.SinkWith(t, taken) }, failing)

	few := sinkCase(false, noSinkBug)
	few.Records = few.Records[:1]
	catches(t, "too few records", func(t conntest.Tester) { conntest.SinkWith(t, few) }, "")
}

// checkpointSinkCase is the kit's case for memSinks as checkpoint sinks.
func checkpointSinkCase(bug sinkBug) conntest.CheckpointSinkCase[rec] {
	recs := makeRecs(20)
	return conntest.CheckpointSinkCase[rec]{
		Open: func(*testing.T) (weir.CheckpointSink[rec], weir.CheckpointStore, func() []rec) {
			tb := &memTable{positions: &memStorage{}}
			return &memSink{table: tb, bug: bug}, &memStore{st: tb.positions}, tb.readBack
		},
		Records: recs,
		Ordered: true,
		Failing: []rec{recs[0], {ID: -1}},
	}
}

func TestCheckpointSinkPasses(t *testing.T) {
	conntest.CheckpointSink(t, checkpointSinkCase(noSinkBug))
}

func TestCheckpointSinkCatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		bug  sinkBug
		want []string
	}{
		{"a failing WriteCheckpoint saving its position", savesPosOnFailure, []string{"a failing WriteCheckpoint saves neither the batch nor the position"}},
		{"a failing WriteCheckpoint keeping part of its batch", keepsHalfOfBatch, []string{"a failing WriteCheckpoint saves neither the batch nor the position"}},
		{"WriteCheckpoint of an empty batch saving nothing", skipsEmptyBatch, []string{"WriteCheckpoint of an empty batch saves the position alone"}},
		{"WriteCheckpoint keeping the caller's slice", keepsBatch, []string{
			"WriteCheckpoint saves the batch and the position together",
			"WriteCheckpoint of an empty batch saves the position alone",
			"a failing WriteCheckpoint saves neither the batch nor the position"}},
	} {
		catches(t, tc.name, func(t conntest.Tester) { conntest.CheckpointSinkWith(t, checkpointSinkCase(tc.bug)) }, tc.want...)
	}
}
