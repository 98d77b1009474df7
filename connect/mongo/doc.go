// Package mongo connects weir to MongoDB through the official Go driver
// (go.mongodb.org/mongo-driver/v2): a [Source] that reads a collection in
// _id order and decodes each document into a Go value.
//
// The package has the driver's name, so a program that also imports the
// driver gives one of them another name:
//
//	import weirmongo "github.com/weir-etl/weir/connect/mongo"
//
// # A job
//
//	src, err := weirmongo.NewSource(ctx, weirmongo.SourceConfig[User]{
//		URI:        os.Getenv("MONGODB_URI"),
//		Database:   "app",
//		Collection: "users",
//		After:      checkpoint, // nil on the first run
//	})
//	if err != nil { ... } // a bad field, or the server did not answer
//	p, err := weir.New(src, weir.Identity[User](), sink, weir.Config{})
//	if err != nil { ... }
//	err = p.Run(ctx) // closes src, which disconnects the client it made
//	checkpoint = src.LastKey()
//
// # Reading
//
// [Source] runs one find with sort {_id: 1} and reads it to the end with a
// cursor, [SourceConfig.BatchSize] documents per round trip. Sorting by _id
// walks the collection's _id index, so the read streams: the server does
// not sort in memory, and memory on the client side is one cursor batch
// plus the engine's batches. (A [SourceConfig.Filter] on an indexed field
// may lead the server to prefer that index and sort the matches in memory;
// give such reads an index on (field, _id), or filter in a transform.)
//
// One cursor is not a snapshot. A document inserted during the read may be
// seen if its _id is ahead of the cursor, and a document deleted before the
// cursor reaches it is not seen. Walking the _id index, the cursor moves
// forward only, and _id never changes, so no document is read twice.
//
// # Decoding
//
// Each document is decoded with the driver's BSON decoding (Cursor.Decode
// into the engine's slot), so records are anything the driver decodes
// into: a struct, bson.D, bson.M, bson.Raw, map[string]any. A struct field
// maps to the key named by its bson tag, or, without one, to the field's
// name in lower case (CreatedAt ↔ "createdat"). Structs written for JSON,
// with json tags only, decode correctly when [SourceConfig.BSONOptions]
// sets UseJSONStructTags; ObjectIDAsHexString also decodes an ObjectID
// into a string field (a mongoexport-style "_id" string). Without such
// options, a field whose key does not match is silently left at its zero
// value: add bson tags (`bson:"created_at"`) or set the options. An
// ObjectID never decodes into a string field without ObjectIDAsHexString.
//
// Decode each struct type with one choice of UseJSONStructTags in a
// process. The driver (v2.10.0) remembers how it maps a struct type's
// fields the first time it encodes or decodes that type, and does not
// consider UseJSONStructTags when it looks that up: a type first seen
// without the option keeps its lower-cased names when later decoded with
// it, silently. bson tags avoid the question.
//
// For example, weir's examples/users.User carries bson tags equal to its
// json tags (the keys of the user documents it models), with an ObjectID
// _id held as a hex string; `weir migrate --from mongodb://…` decodes it
// with
//
//	BSONOptions: &options.BSONOptions{ObjectIDAsHexString: true}
//
// (UseJSONStructTags as well, as the tests do, changes nothing for it).
//
// A document that does not decode (a string where the struct has an int)
// stops the read with an error naming the document's ordinal in this read
// and its _id.
//
// # Resuming
//
// [Source.LastKey] holds the _id of the last document returned by Read; a
// new source with [SourceConfig.After] set to it reads the documents after
// it, with filter {_id: {$gt: After[0]}}. This is exact when every _id in the
// collection has the same BSON type (all ObjectIDs, all numbers, all
// strings), which is the common case. MongoDB sorts mixed types in a fixed
// type order but compares $gt only within one type, so with mixed _id
// types a resume would skip the documents of the other types.
//
// With weir's engine, the records a source has returned are not yet
// loaded; checkpoint a position only once every record before it is. The
// source implements weir.Positioner for that: with weir.WithCheckpoint
// the engine saves [Source.Position] (the last _id as canonical Extended
// JSON, {"_id":{"$oid":"..."}}) once every document up to it is loaded, and
// on the next run [Source.Seek] sets After from it. Keep the positions in
// any weir.CheckpointStore, such as connect/file's CheckpointStore (one
// JSON file) or the SQL connectors' (a table of the target database).
//
// # Errors
//
// Config errors name the field ("mongo: SourceConfig.Database is empty").
// Server and decode errors are wrapped with the namespace
// ("mongo: read app.users: ...") and keep the driver's error reachable with
// [errors.As]. Connection errors name the hosts of the URI, never the URI,
// which may hold a password.
package mongo
