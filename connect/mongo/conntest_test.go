package mongo_test

import (
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/conntest"
	weirmongo "github.com/weir-etl/weir/connect/mongo"
)

// The source against weir's contracts, checked by the conformance kit: one
// call per variant of the source.

// opener returns an Open func for the kit: a new source as cfg says, with
// a client of its own unless cfg has one.
func opener[E any](cfg weirmongo.SourceConfig[E]) func(*testing.T) weir.Source[E] {
	return func(t *testing.T) weir.Source[E] {
		if cfg.Client == nil {
			cfg.URI = serverURI
		}
		src, err := weirmongo.NewSource(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
}

// badPositions are positions no source of the package gives.
var badPositions = [][]byte{[]byte(``), []byte(`1`), []byte(`[1]`), []byte(`{}`), []byte(`{"id":1}`), []byte(`{"_id":1,"x":2}`), []byte(`{"_id":{"$oid":"zz"}}`)}

func TestSourceConformance(t *testing.T) {
	db := testDB(t)
	coll := db.Collection("docs")
	want := insertDocs(t, coll, 100)
	// Document 12 has a count that is not a number.
	bad := db.Collection("bad")
	var docs []any
	for _, d := range want {
		docs = append(docs, d)
	}
	docs[11] = bson.D{{Key: "_id", Value: int64(12)}, {Key: "count", Value: "twelve"}}
	insert(t, bad, docs)
	// A cursor batch size that is not a multiple of the kit's buffers, so
	// that Reads end at batch boundaries as well as at full buffers.
	cfg := weirmongo.SourceConfig[doc]{Database: db.Name(), Collection: coll.Name(), BatchSize: 9}

	t.Run("documents of every field type", func(t *testing.T) {
		badCfg := cfg
		badCfg.Collection = bad.Name()
		conntest.Source(t, conntest.SourceCase[doc]{
			Open:         opener(cfg),
			Want:         want,
			Malformed:    &conntest.MalformedCase[doc]{Open: opener(badCfg), Before: want[:11], ErrContains: "(_id 12)"},
			BadPositions: badPositions,
		})
	})

	t.Run("with a filter", func(t *testing.T) {
		c := cfg
		c.Client = client
		c.Filter = bson.D{{Key: "active", Value: true}}
		var active []doc
		for _, d := range want {
			if d.Active {
				active = append(active, d)
			}
		}
		conntest.Source(t, conntest.SourceCase[doc]{Open: opener(c), Want: active, BadPositions: badPositions})
	})

	// The documents as BSON, and decoded into maps.
	var raws []bson.Raw
	var maps []bson.M
	for _, d := range want {
		raw, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var m bson.M
		if err := bson.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		raws, maps = append(raws, raw), append(maps, m)
	}

	t.Run("generic documents", func(t *testing.T) {
		c := weirmongo.SourceConfig[bson.M](cfg)
		c.Client = client
		noID := c
		noID.Projection = bson.D{{Key: "_id", Value: 0}, {Key: "name", Value: 1}}
		conntest.Source(t, conntest.SourceCase[bson.M]{
			Open:      opener(c),
			Want:      maps,
			Malformed: &conntest.MalformedCase[bson.M]{Open: opener(noID), ErrContains: "document 1 has no _id"},
		})
	})

	t.Run("raw documents", func(t *testing.T) {
		// A tiny cursor batch makes the driver fetch, and reuse its
		// buffers, many times: the records read must stay intact.
		c := weirmongo.SourceConfig[bson.Raw](cfg)
		c.Client, c.BatchSize = client, 2
		conntest.Source(t, conntest.SourceCase[bson.Raw]{
			Open: opener(c),
			Want: raws,
			Equal: func(a, b bson.Raw) bool {
				var x, y doc
				return bson.Unmarshal(a, &x) == nil && bson.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
			},
		})
	})

	t.Run("empty collection", func(t *testing.T) {
		c := cfg
		c.Client, c.Collection = client, "missing"
		conntest.Source(t, conntest.SourceCase[doc]{Open: opener(c), Want: nil})
	})
}

// TestSourceIDTypesConformance resumes over _ids of several BSON types.
func TestSourceIDTypesConformance(t *testing.T) {
	for _, tc := range idTypes {
		t.Run(tc.name, func(t *testing.T) {
			cfg := insertIDs(t, tc.id)
			cfg.Client = client
			conntest.Source(t, conntest.SourceCase[idDoc]{
				Open: opener(cfg),
				Want: []idDoc{{1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}},
			})
		})
	}
}
