package main

import (
	"context"
	"net/url"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	weirmongo "github.com/weir-etl/weir/connect/mongo"
	"github.com/weir-etl/weir/internal/redact"
)

// openMongoRowSource opens a MongoDB collection as weir copy's source:
// mongodb://HOST:PORT/DB.COLLECTION (or mongodb+srv://), the URL's query
// going to the driver. Its columns are the keys of the first --sample
// documents, their types inferred from the values' BSON types; the target
// table defaults to the collection's name. --verify counts the collection's
// documents.
func openMongoRowSource(ctx context.Context, spec string, f copyFlags) (*copySource, error) {
	name := redact.String(spec)
	u, err := url.Parse(spec)
	if err != nil {
		// A *url.Error quotes the whole URL, password included.
		return nil, usagef("SOURCE %s: not a valid MongoDB URL: %w", name, redact.Error(err, spec))
	}
	db, coll, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), ".")
	if db == "" || coll == "" {
		return nil, usagef("SOURCE %s: name the database and the collection in the path, as in mongodb://localhost:27017/app.users", name)
	}
	// The path is the database to authenticate against, as in migrate's
	// --from: the database read.
	u.Path = "/" + db
	uri := u.String()
	opts := options.Client().ApplyURI(uri)
	if err := opts.Validate(); err != nil {
		return nil, usagef("SOURCE %s: %w", name, redact.Error(err, spec))
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, usagef("SOURCE %s: %w", name, redact.Error(err, spec))
	}
	disconnect := func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), connectTimeout)
		defer cancel()
		_ = client.Disconnect(dctx) // the run is over: its result stands either way
	}
	src, err := weirmongo.NewRowSource(ctx, weirmongo.RowSourceConfig{
		Client: client, Database: db, Collection: coll, SampleSize: f.sample, ConnectTimeout: connectTimeout,
	})
	if err != nil {
		disconnect()
		return nil, usagef("SOURCE %s: %w", name, redact.Error(err, spec))
	}
	return &copySource{
		src:    src,
		names:  src.Columns(),
		sample: src.Sample(),
		table:  coll,
		desc:   "mongodb " + db + "." + coll,
		count: func(ctx context.Context) (int64, error) {
			return client.Database(db).Collection(coll).CountDocuments(ctx, bson.D{})
		},
		close: func() {
			src.Close(context.WithoutCancel(ctx)) // leaves the client, ours, connected
			disconnect()
		},
	}, nil
}
