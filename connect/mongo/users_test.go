package mongo_test

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	weirmongo "github.com/weir-etl/weir/connect/mongo"
	"github.com/weir-etl/weir/examples/users"
)

// usersBSON is how the source decodes examples/users.User by its json
// names (its bson tags are the same names), with the ObjectID _id decoded
// into User.ObjectID as hex. Every decode or encode of User in
// this test binary uses UseJSONStructTags: the driver caches a type's
// field names on first use (see TestDriverCachesStructTagChoicePerType).
var usersBSON = &options.BSONOptions{UseJSONStructTags: true, ObjectIDAsHexString: true}

// userDoc returns u as MongoDB stores the seed's user documents: keys named
// as User's json tags, _id an ObjectID, dates BSON datetimes.
func userDoc(t *testing.T, u users.User) bson.D {
	t.Helper()
	var buf bytes.Buffer
	enc := bson.NewEncoder(bson.NewDocumentWriter(&buf))
	enc.UseJSONStructTags()
	if err := enc.Encode(u); err != nil {
		t.Fatalf("encode user %d: %v", u.ID, err)
	}
	var d bson.D
	if err := bson.Unmarshal(buf.Bytes(), &d); err != nil {
		t.Fatalf("user %d: %v", u.ID, err)
	}
	oid, err := bson.ObjectIDFromHex(u.ObjectID)
	if err != nil {
		t.Fatalf("user %d: _id %q: %v", u.ID, u.ObjectID, err)
	}
	if d[0].Key != "_id" {
		t.Fatalf("user %d: first key is %q, want _id", u.ID, d[0].Key)
	}
	d[0].Value = oid
	return d
}

func TestSourceReadsUsers(t *testing.T) {
	coll := testDB(t).Collection("users")
	const n = 60
	var want []users.User
	var docs []bson.D
	for id := int64(1); id <= n; id++ {
		u := users.Generate(id, users.GenOptions{Seed: 7, BlobSize: 100})
		want = append(want, u)
		docs = append(docs, userDoc(t, u))
	}
	insert(t, coll, docs)
	// An ObjectID starts with its creation time, so _id order is not id
	// order; hex strings sort as the bytes do.
	slices.SortFunc(want, func(a, b users.User) int { return strings.Compare(a.ObjectID, b.ObjectID) })
	cfg := weirmongo.SourceConfig[users.User]{
		Database: coll.Database().Name(), Collection: coll.Name(),
		BatchSize: 64, BSONOptions: usersBSON,
	}
	compare := func(t *testing.T, got, want []users.User) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("read %d users, want %d", len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("user %d (id %d):\n got %+v\nwant %+v", i, want[i].ID, got[i], want[i])
			}
			if err := users.Validate(&got[i]); err != nil {
				t.Fatalf("user %d: %v", i, err)
			}
		}
	}

	t.Run("every field", func(t *testing.T) {
		compare(t, run(t, newSource[users.User](t, cfg)), want)
	})

	t.Run("resume after an ObjectID", func(t *testing.T) {
		first := newSource[users.User](t, cfg)
		head := readN(t, first, 25)
		pos := first.LastKey()
		if oid, ok := pos[0].(bson.ObjectID); len(pos) != 1 || !ok || oid.Hex() != want[24].ObjectID {
			t.Fatalf("LastKey = %#v, want [ObjectID %s]", pos, want[24].ObjectID)
		}
		c := cfg
		c.After = pos
		rest := run(t, newSource[users.User](t, c))
		compare(t, rest, want[25:])
		compare(t, append(head, rest...), want)
	})
}
