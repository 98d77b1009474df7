package mongo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/file"
	weirmongo "github.com/weir-etl/weir/connect/mongo"
)

// idDoc is a document with _id of some type and a number n.
type idDoc struct {
	N int32 `bson:"n"`
}

func objectID(i int) bson.ObjectID {
	var id bson.ObjectID
	id[0], id[11] = 0x65, byte(i)
	return id
}

// idTypes are _ids of several BSON types, ascending in i.
var idTypes = []struct {
	name    string
	id      func(i int) any
	wantPos string // Position after ids 1..4
}{
	{"ObjectID", func(i int) any { return objectID(i) }, `{"_id":{"$oid":"650000000000000000000004"}}`},
	{"int64", func(i int) any { return int64(1)<<60 + int64(i) }, `{"_id":{"$numberLong":"1152921504606846980"}}`},
	{"int32", func(i int) any { return int32(i) }, `{"_id":{"$numberInt":"4"}}`},
	{"double", func(i int) any { return float64(i) / 4 }, `{"_id":{"$numberDouble":"1.0"}}`},
	{"string", func(i int) any { return fmt.Sprintf("k%02d <\"é\">", i) }, `{"_id":"k04 <\"é\">"}`},
	{"date", func(i int) any { return bson.DateTime(1_700_000_000_000 + int64(i)) }, `{"_id":{"$date":{"$numberLong":"1700000000004"}}}`},
}

// insertIDs inserts documents n = 10..1, of _id id(n), and returns a config
// reading them.
func insertIDs(t *testing.T, id func(i int) any) weirmongo.SourceConfig[idDoc] {
	coll := testDB(t).Collection("c")
	var docs []bson.D
	for i := 10; i >= 1; i-- {
		docs = append(docs, bson.D{{Key: "_id", Value: id(i)}, {Key: "n", Value: int32(i)}})
	}
	insert(t, coll, docs)
	return weirmongo.SourceConfig[idDoc]{Database: coll.Database().Name(), Collection: coll.Name()}
}

// TestSourcePositionSeek checks the position after four documents, for
// _ids of several BSON types, and LastKey once a source seeks to it;
// conntest_test.go resumes from such positions.
func TestSourcePositionSeek(t *testing.T) {
	for _, tc := range idTypes {
		t.Run(tc.name, func(t *testing.T) {
			cfg := insertIDs(t, tc.id)
			first := newSource(t, cfg)
			if head := readN(t, first, 4); head[3].N != 4 {
				t.Fatalf("read %v first, want n 1..4", head)
			}
			pos, err := first.Position()
			if err != nil || string(pos) != tc.wantPos {
				t.Fatalf("Position = %s, %v; want %s", pos, err, tc.wantPos)
			}
			rest := newSource(t, cfg)
			if err := rest.Seek(pos); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rest.LastKey(), first.LastKey()) {
				t.Errorf("LastKey after Seek = %#v, want %#v", rest.LastKey(), first.LastKey())
			}
		})
	}
}

func TestSourceSeekErrors(t *testing.T) {
	coll := testDB(t).Collection("docs")
	insertDocs(t, coll, 30)
	cfg := weirmongo.SourceConfig[doc]{Database: coll.Database().Name(), Collection: coll.Name()}

	t.Run("keeps the Filter, accepts relaxed JSON", func(t *testing.T) {
		c := cfg
		c.Filter = bson.D{{Key: "active", Value: true}} // ids divisible by 3
		src := newSource[doc](t, c)
		if err := src.Seek([]byte(`{"_id": 20}`)); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, d := range run(t, weir.Source[doc](src)) {
			ids = append(ids, d.ID)
		}
		if fmt.Sprint(ids) != "[21 24 27 30]" {
			t.Fatalf("after Seek(20) with a filter read %v, want [21 24 27 30]", ids)
		}
	})
	t.Run("null reads from the start", func(t *testing.T) {
		c := cfg
		c.After = []any{int64(25)}
		src := newSource[doc](t, c)
		if err := src.Seek([]byte(`{"_id":null}`)); err != nil {
			t.Fatal(err)
		}
		if got := run(t, weir.Source[doc](src)); len(got) != 30 {
			t.Fatalf("after Seek(null) read %d documents, want all 30", len(got))
		}
		if pos, _ := newSource[doc](t, cfg).Position(); string(pos) != `{"_id":null}` {
			t.Errorf("Position of a fresh source = %s", pos)
		}
	})
	t.Run("after Read, twice", func(t *testing.T) {
		late := newSource[doc](t, cfg)
		readN(t, late, 1)
		if err := late.Seek([]byte(`{"_id":1}`)); err == nil {
			t.Error("Seek after Read succeeded")
		}
		twice := newSource[doc](t, cfg)
		if err := twice.Seek([]byte(`{"_id":1}`)); err != nil {
			t.Fatal(err)
		}
		if err := twice.Seek([]byte(`{"_id":2}`)); err == nil {
			t.Error("second Seek succeeded")
		}
	})
}

// docSink records the ids it loaded and fails every batch holding failID.
type docSink struct {
	failID int64
	mu     sync.Mutex
	got    map[int64]int
}

var errLoad = errors.New("load failed")

func (s *docSink) Write(_ context.Context, batch []doc) error {
	for _, d := range batch {
		if d.ID == s.failID {
			return errLoad
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range batch {
		s.got[d.ID]++
	}
	return nil
}

// TestSourceResumesFromCheckpointStore: a run whose sink fails part-way
// leaves a checkpoint in a file store; a second run with a fresh source
// loads exactly the documents after it.
func TestSourceResumesFromCheckpointStore(t *testing.T) {
	const n = 300
	coll := testDB(t).Collection("docs")
	insertDocs(t, coll, n)
	cfg := weirmongo.SourceConfig[doc]{Database: coll.Database().Name(), Collection: coll.Name(), BatchSize: 70}
	for _, wcfg := range []weir.Config{{BatchSize: 16, Workers: 1}, {BatchSize: 10, Workers: 2, LoadConcurrency: 2}} {
		t.Run(fmt.Sprintf("workers=%d,loaders=%d", wcfg.Workers, wcfg.LoadConcurrency), func(t *testing.T) {
			ctx := t.Context()
			store, err := file.NewCheckpointStore(filepath.Join(t.TempDir(), "checkpoints.json"))
			if err != nil {
				t.Fatal(err)
			}
			runOnce := func(failID int64) (*docSink, *weir.Pipeline[doc, doc], error) {
				sink := &docSink{failID: failID, got: map[int64]int{}}
				p, err := weir.New(weir.Source[doc](newSource[doc](t, cfg)), weir.Identity[doc](), weir.Sink[doc](sink), wcfg, weir.WithCheckpoint(store, "docs"))
				if err != nil {
					t.Fatal(err)
				}
				return sink, p, p.Run(ctx)
			}

			first, _, err := runOnce(200)
			if !errors.Is(err, errLoad) {
				t.Fatalf("run 1 = %v, want the sink's error", err)
			}
			saved, err := store.Load(ctx, "docs")
			if err != nil {
				t.Fatal(err)
			}
			var ck int64
			if saved != nil {
				var p struct {
					ID int64 `bson:"_id"`
				}
				if err := bson.UnmarshalExtJSON(saved, true, &p); err != nil {
					t.Fatalf("checkpoint %s: %v", saved, err)
				}
				ck = p.ID
			}
			if wcfg.Workers == 1 && ck == 0 {
				t.Fatal("run 1 saved no checkpoint although batches before the failure loaded")
			}
			if ck >= 200 {
				t.Fatalf("checkpoint at _id %d, at or past the document that failed (200)", ck)
			}
			for id := int64(1); id <= ck; id++ {
				if first.got[id] != 1 {
					t.Fatalf("checkpoint at _id %d, but document %d was loaded %d times in run 1", ck, id, first.got[id])
				}
			}

			second, p, err := runOnce(0)
			if err != nil {
				t.Fatalf("run 2: %v", err)
			}
			if !bytes.Equal(p.Stats().ResumedFrom, saved) {
				t.Errorf("run 2 ResumedFrom = %s, want %s", p.Stats().ResumedFrom, saved)
			}
			for id := int64(1); id <= n; id++ {
				want := 0
				if id > ck {
					want = 1
				}
				if second.got[id] != want {
					t.Fatalf("checkpoint at _id %d: run 2 loaded document %d %d times, want %d", ck, id, second.got[id], want)
				}
			}
			if final, _ := store.Load(ctx, "docs"); string(final) != fmt.Sprintf(`{"_id":{"$numberLong":"%d"}}`, n) {
				t.Errorf("final checkpoint = %s, want the last _id %d", final, n)
			}
		})
	}
}
