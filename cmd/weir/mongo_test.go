package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/weir-etl/weir/connect/sqlite"
	"github.com/weir-etl/weir/examples/users"
)

// TestMigrateFromMongoDB runs `weir migrate --from mongodb://…` against a
// real MongoDB-wire server (FerretDB, embedded in this test only) holding
// documents shaped as the seed's: json/bson names, an ObjectID _id.
func TestMigrateFromMongoDB(t *testing.T) {
	uri, client := startFerretDB(t)
	const n = 120
	var docs []any
	for id := int64(1); id <= n; id++ {
		u := users.Generate(id, users.GenOptions{Seed: 5, BlobSize: 64})
		raw, err := bson.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		var d bson.D
		if err := bson.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		// MongoDB's _id is an ObjectID; User holds it as hex.
		oid, err := bson.ObjectIDFromHex(u.ObjectID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range d {
			if d[i].Key == "_id" {
				d[i].Value = oid
			}
		}
		docs = append(docs, d)
	}
	if _, err := client.Database("app").Collection("users").InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}

	mongoURI := collectionURI(uri, "app.users")
	db := filepath.Join(t.TempDir(), "w.db")
	code, out, errOut := weirCmd(t, "migrate", "--from", mongoURI, "--to", "sqlite:"+db, "--progress", "off")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "loaded 120 users as 15120 rows") || !strings.Contains(out, "checked: the tables hold exactly") {
		t.Fatalf("output:\n%s", out)
	}
	h, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	want := users.Generate(77, users.GenOptions{Seed: 5, BlobSize: 64})
	var email, objectID, city string
	if err := h.QueryRow(`SELECT u.email, u.object_id, a.city FROM users u JOIN addresses a ON a.user_id = u.id WHERE u.id = 77`).Scan(&email, &objectID, &city); err != nil {
		t.Fatal(err)
	}
	if email != want.Email || objectID != want.ObjectID || city != want.Address.City {
		t.Errorf("user 77: %q %q %q, want %q %q %q", email, objectID, city, want.Email, want.ObjectID, want.Address.City)
	}
}
