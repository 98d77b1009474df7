package main

import (
	"context"
	"net/url"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/weir-etl/weir/connect/mongo"
	"github.com/weir-etl/weir/examples/users"
	"github.com/weir-etl/weir/internal/redact"
)

// openMongo opens a MongoDB collection as the job's source. The URL's path
// names the database and the collection: mongodb://HOST:PORT/DB.COLLECTION
// (the collection defaults to "users").
func openMongo(ctx context.Context, spec string) (*jobSource, error) {
	name := redact.String(spec)
	u, err := url.Parse(spec)
	if err != nil {
		// A *url.Error quotes the whole URL, password included.
		return nil, usagef("--from %s: not a valid MongoDB URL: %w", name, redact.Error(err, spec))
	}
	db, coll, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), ".")
	if db == "" {
		return nil, usagef("--from %s: name the database in the path, as in mongodb://localhost:27017/app.users", name)
	}
	if coll == "" {
		coll = "users"
	}
	u.Path = "/" + db
	src, err := mongo.NewSource(ctx, mongo.SourceConfig[users.User]{
		URI:        u.String(),
		Database:   db,
		Collection: coll,
		// User carries bson tags; its _id is an ObjectID kept as hex.
		BSONOptions: &options.BSONOptions{ObjectIDAsHexString: true},
	})
	if err != nil {
		return nil, usagef("--from %s: %w", name, redact.Error(err, spec))
	}
	return &jobSource{
		src:   src,
		desc:  "mongodb " + db + "." + coll,
		total: -1,
		// expected stays nil: counting what the collection should make
		// would read it all again. The run still checks the target
		// against what the sink reports it loaded.
	}, nil
}
