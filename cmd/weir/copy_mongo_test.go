package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/weir-etl/weir/connect/sqlite"
)

// startFerretDB starts a MongoDB-wire server (FerretDB, embedded in the
// test) and returns its URI and a client for setting up data; both end
// with the test.
func startFerretDB(t *testing.T) (string, *mongo.Client) {
	t.Helper()
	dir := t.TempDir()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    slog.New(slog.DiscardHandler),
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	uri := f.MongoDBURI()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Disconnect(context.Background()) })
	return uri, client
}

// collectionURI returns uri with the path /db.coll.
func collectionURI(uri, ns string) string {
	if i := strings.Index(uri, "/?"); i >= 0 {
		return uri[:i] + "/" + ns + uri[i+1:]
	}
	return strings.TrimSuffix(uri, "/") + "/" + ns
}

var copyEpoch = time.Date(2024, 2, 29, 13, 4, 5, 0, time.UTC)

// thing returns document i of the test collection: a bit of everything
// weir copy meets in MongoDB (Decimal128 aside: FerretDB v1 refuses it).
func thing(i int, id bson.ObjectID) bson.D {
	d := bson.D{{Key: "_id", Value: id}, {Key: "name", Value: fmt.Sprintf("thing %d ü", i)},
		{Key: "qty", Value: int32(i)}, {Key: "big", Value: int64(i) << 33}, {Key: "price", Value: float64(i) + 0.25},
		{Key: "at", Value: bson.NewDateTimeFromTime(copyEpoch.Add(time.Duration(i) * time.Minute))},
		{Key: "on", Value: i%2 == 0},
		{Key: "tags", Value: bson.A{"t", int32(i)}},
		{Key: "dims", Value: bson.D{{Key: "w", Value: i}, {Key: "unit", Value: "cm"}, {Key: "by", Value: id}}}}
	if i%10 == 0 {
		d = d[:len(d)-1] // no dims
	}
	return d
}

func insertThings(t *testing.T, coll *mongo.Collection, from, to int) []bson.ObjectID {
	t.Helper()
	var docs []any
	var ids []bson.ObjectID
	for i := from; i <= to; i++ {
		id := bson.NewObjectID() // increasing: _id order is i's order
		ids = append(ids, id)
		docs = append(docs, thing(i, id))
	}
	if _, err := coll.InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestCopyFromMongoDB copies a collection of mixed documents into SQLite,
// end to end, and spot-checks the values and the inferred column types.
func TestCopyFromMongoDB(t *testing.T) {
	uri, client := startFerretDB(t)
	ids := insertThings(t, client.Database("shop").Collection("things"), 1, 250)
	db := filepath.Join(t.TempDir(), "w.db")
	out := mustCopy(t, collectionURI(uri, "shop.things"), "sqlite:"+db, "--batch", "40", "--verify")
	if !strings.Contains(out, "loaded 250 rows") || !strings.Contains(out, "verified") {
		t.Errorf("output:\n%s", out)
	}
	h, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	types := columnTypes(t, h, "things")
	t.Logf("column types: %v", types)
	if len(types) != 9 {
		t.Errorf("table things has columns %v, want the 9 keys of the documents", types)
	}

	var name, at, tags string
	var qty, big int64
	var price float64
	var on bool
	var dims *string
	q := `SELECT name, qty, big, price, at, "on", tags, dims FROM things WHERE _id = ?`
	if err := h.QueryRow(q, ids[76].Hex()).Scan(&name, &qty, &big, &price, &at, &on, &tags, &dims); err != nil {
		t.Fatal(err)
	}
	if name != "thing 77 ü" || qty != 77 || big != 77<<33 || price != 77.25 || on || tags != `["t",77]` || dims == nil ||
		*dims != `{"w":77,"unit":"cm","by":"`+ids[76].Hex()+`"}` {
		t.Errorf("document 77: %q %d %d %v %v %q %v", name, qty, big, price, on, tags, *dims)
	}
	if wantAt := copyEpoch.Add(77 * time.Minute); !strings.HasPrefix(at, wantAt.Format("2006-01-02")) || !strings.Contains(at, "14:21:05") {
		t.Errorf("document 77: at = %q, want %v", at, wantAt)
	}
	if err := h.QueryRow(q, ids[79].Hex()).Scan(&name, &qty, &big, &price, &at, &on, &tags, &dims); err != nil || dims != nil {
		t.Errorf("document 80, which has no dims: dims = %v (%v), want NULL", dims, err)
	}
}

// TestCopyFromMongoDBResumes: a --resume after a finished copy reads only
// the documents added since, from the checkpoint's _id.
func TestCopyFromMongoDBResumes(t *testing.T) {
	uri, client := startFerretDB(t)
	coll := client.Database("shop").Collection("things")
	insertThings(t, coll, 1, 300)
	src, db := collectionURI(uri, "shop.things"), filepath.Join(t.TempDir(), "w.db")
	mustCopy(t, src, "sqlite:"+db, "--key", "_id", "--batch", "50")
	insertThings(t, coll, 301, 370)
	out := mustCopy(t, src, "sqlite:"+db, "--key", "_id", "--batch", "50", "--resume")
	if !strings.Contains(out, "loaded 70 rows") {
		t.Errorf("--resume after 70 new documents:\n%s", out)
	}
	h, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var n, sum int64
	if err := h.QueryRow(`SELECT count(*), sum(qty) FROM things`).Scan(&n, &sum); err != nil || n != 370 || sum != 370*371/2 {
		t.Errorf("%d rows, sum %d (%v): want 370 and %d", n, sum, err, 370*371/2)
	}
}

// TestCopyFromMongoDBRejectsNewKeys: with --sample 20, a later document
// with a key outside the columns goes to the reject file with its place;
// the rest loads.
func TestCopyFromMongoDBRejectsNewKeys(t *testing.T) {
	uri, client := startFerretDB(t)
	coll := client.Database("shop").Collection("things")
	ids := insertThings(t, coll, 1, 60)
	if _, err := coll.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: ids[44]}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "extra", Value: 1}}}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db, rej := filepath.Join(dir, "w.db"), filepath.Join(dir, "rej.jsonl")
	out := mustCopy(t, collectionURI(uri, "shop.things"), "sqlite:"+db, "--sample", "20", "--on-error", "skip", "--reject", rej)
	if !strings.Contains(out, "loaded 59 rows") {
		t.Errorf("output:\n%s", out)
	}
	f, err := os.Open(rej)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 1 {
		t.Fatalf("%d rejects, want 1: %v", len(lines), lines)
	}
	line := fmt.Sprint(lines[0])
	for _, want := range []string{"shop.things:45", `key "extra"`, ids[44].Hex()} {
		if !strings.Contains(line, want) {
			t.Errorf("reject %s lacks %q", line, want)
		}
	}
}

// TestCopyFromMongoDBUsage: a URL without a collection, or a server that
// does not answer, is a usage error that never prints the password.
func TestCopyFromMongoDBUsage(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "w.db")
	for _, c := range []struct{ src, want string }{
		{"mongodb://u:s3cretpw@127.0.0.1:1/app", "name the database and the collection"},
		{"mongodb://u:s3cretpw@127.0.0.1:1/app.things?serverSelectionTimeoutMS=200", "127.0.0.1:1"},
		{"mongodb://u:s3cretpw@127.0.0.1:1/app.things?connectTimeoutMS=x", "SOURCE"},
	} {
		code, out, errOut := weirCmd(t, "copy", c.src, db, "--progress", "off")
		if code != exitUsage || strings.Contains(out+errOut, "s3cretpw") || !strings.Contains(errOut, c.want) {
			t.Errorf("copy from %s: exit %d, want %d and %q without the password:\n%s%s", c.src, code, exitUsage, c.want, out, errOut)
		}
	}
}
