package conntest_test

import (
	"slices"
	"testing"
	"testing/synctest"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/conntest"
)

func TestSourcePasses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n, page int
	}{
		{"pages of 5", 23, 5},
		{"all at once", 23, 0},
		{"one record", 1, 0},
		{"empty", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conntest.Source(t, sourceCase(tc.n, tc.page, noSourceBug))
		})
	}
	t.Run("weir.FromSeq, neither Positioner nor malformed", func(t *testing.T) {
		data := makeRecs(10)
		conntest.Source(t, conntest.SourceCase[rec]{
			Open: func(*testing.T) weir.Source[rec] {
				return weir.FromSeq(func(yield func(rec) bool) {
					for _, r := range data {
						if !yield(r.clone()) {
							return
						}
					}
				})
			},
			Want: data,
		})
	})
}

func TestSourceCatches(t *testing.T) {
	const (
		cancel   = "Read with a cancelled context returns the context's error"
		start    = "Positioner/seek to the start reads everything"
		first    = "Positioner/seek after the first record reads the rest"
		inRead   = "Positioner/seek into the middle of one Read's records reads the rest"
		oneRead  = "Positioner/seek after one whole Read reads the rest"
		middle   = "Positioner/seek to the middle reads exactly the tail"
		end      = "Positioner/seek to the end reads nothing"
		resumed  = "Positioner/a resumed source's positions resume too"
		badPos   = "Positioner/Seek refuses a malformed position"
		malPos   = "malformed record/a position taken at the error resumes at the malformed record"
		malRetry = "malformed record/a Read after the error fails again, or reads on after a BadRecordError"
		malErr   = "malformed record/Read returns the records before it, then an error naming its position"
	)
	for _, tc := range []struct {
		name string
		bug  sourceBug
		want []string
	}{
		{"Seek off by one", seekOffByOne, []string{start, first, inRead, oneRead, middle, resumed, malPos}},
		{"Position relative to the sought position", positionRelative, []string{resumed}},
		{"Seek taking a malformed position for the start", acceptsAnyPos, []string{badPos}},
		{"Read ignoring a cancelled context", ignoresCancel, []string{cancel}},
		// Pages of 5 records: a buffer of 7 is never filled.
		{"Read returning more records than the buffer holds", overfills, []string{
			"reads everything in order/buffer of 1",
			first, inRead, oneRead, middle, end, resumed, "Closer/Close twice in the middle of the data"}},
		{"Read failing after io.EOF", eofNotSticky, []string{"Read after io.EOF keeps returning io.EOF"}},
		{"Read decoding into the old record", mergesIntoSlot, []string{"Read overwrites the records in a reused buffer"}},
		{"Read passing over a malformed record on retry", skipsMalformed, []string{malRetry}},
		{"Close failing the second time", closeFailsTwice, []string{
			"Closer/Close twice before the first Read", "Closer/Close twice in the middle of the data", "Closer/Close twice after io.EOF"}},
		{"Position empty", emptyPosition, []string{first, inRead, oneRead, middle, end, resumed, malPos}},
	} {
		catches(t, tc.name, func(t conntest.Tester) { conntest.SourceWith(t, sourceCase(23, 5, tc.bug)) }, tc.want...)
	}

	badErr := sourceCase(23, 5, noSourceBug)
	badErr.Malformed.ErrContains = "line 4"
	catches(t, "an error not naming the malformed record's position", func(t conntest.Tester) { conntest.SourceWith(t, badErr) },
		malErr, malRetry, malPos)

	swapped := sourceCase(23, 5, noSourceBug)
	swapped.Want = slices.Clone(swapped.Want)
	swapped.Want[0], swapped.Want[1] = swapped.Want[1], swapped.Want[0]
	catches(t, "Want in another order", func(t conntest.Tester) { conntest.SourceWith(t, swapped) },
		"reads everything in order/buffer of 1", "reads everything in order/buffer of 7", "reads everything in order/buffer of 24",
		"Read overwrites the records in a reused buffer", start, first, inRead, oneRead, middle, end, resumed,
		"Closer/Close twice in the middle of the data")

	catches(t, "a nil Open", func(t conntest.Tester) { conntest.SourceWith(t, conntest.SourceCase[rec]{}) }, "")
}

// TestSourceCatchesReadBlockedOnCancel runs the kit on a source whose Read,
// given a cancelled context, blocks until released: in a synctest bubble,
// the kit's 5-second bound passes on the fake clock at once.
func TestSourceCatchesReadBlockedOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		c := sourceCase(23, 5, blocksOnCancel)
		open := c.Open
		c.Open = func(t *testing.T) weir.Source[rec] {
			s := open(t).(*memSource)
			s.release = release
			return s
		}
		rep := record(t, func(t conntest.Tester) { conntest.SourceWith(t, c) })
		close(release) // let the abandoned Read return, so the bubble can end
		checkReport(t, rep, "Read with a cancelled context returns the context's error")
	})
}

// TestExample runs the tests the package example shows, which an example
// cannot: the code it shows passes the kit.
func TestExample(t *testing.T) {
	t.Run("source", testFruitSource)
	t.Run("sink", testFruitSink)
	t.Run("store", testFruitStore)
}
