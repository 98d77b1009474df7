package mongo_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/file"
	weirmongo "github.com/weir-etl/weir/connect/mongo"
)

// Example reads a collection in _id order through weir's engine, then
// resumes after the last document read. serverURI points at the MongoDB-wire
// server (FerretDB) that the package's tests start.
func Example() {
	type Order struct {
		ID     int64   `bson:"_id"`
		Item   string  `bson:"item"`
		Amount float64 `bson:"amount"`
	}
	ctx := context.Background()
	coll := client.Database("example").Collection("orders")
	defer coll.Database().Drop(ctx)
	if _, err := coll.InsertMany(ctx, []Order{{3, "pen", 1.5}, {1, "ink", 4}, {2, "pad", 2.25}}); err != nil {
		fmt.Println(err)
		return
	}

	src, err := weirmongo.NewSource(ctx, weirmongo.SourceConfig[Order]{
		URI: serverURI, Database: "example", Collection: "orders",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	show := weir.SinkFunc[Order](func(_ context.Context, batch []Order) error {
		for _, o := range batch {
			fmt.Printf("%d %s %.2f\n", o.ID, o.Item, o.Amount)
		}
		return nil
	})
	p, err := weir.New(src, weir.Identity[Order](), show, weir.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Run(ctx); err != nil { // Run closes src
		fmt.Println(err)
		return
	}
	fmt.Printf("position: %v\n", src.LastKey())

	// A later run resumes after the position: one new order.
	if _, err := coll.InsertOne(ctx, Order{4, "nib", 0.5}); err != nil {
		fmt.Println(err)
		return
	}
	next, err := weirmongo.NewSource(ctx, weirmongo.SourceConfig[bson.M]{
		URI: serverURI, Database: "example", Collection: "orders", After: src.LastKey(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer next.Close(ctx)
	buf := make([]bson.M, 10)
	n, err := next.Read(ctx, buf)
	fmt.Println(n, err, buf[0]["item"])
	// Output:
	// 1 ink 4.00
	// 2 pad 2.25
	// 3 pen 1.50
	// position: [3]
	// 1 EOF nib
}

// ExampleSourceConfig_Validate shows that config errors name their fields,
// all of them at once, before anything is contacted.
func ExampleSourceConfig_Validate() {
	err := weirmongo.SourceConfig[bson.M]{Collection: "orders", BatchSize: -1}.Validate()
	fmt.Println(err)
	// Output:
	// mongo: SourceConfig.URI is empty and Client is nil: set one of them
	// mongo: SourceConfig.Database is empty
	// mongo: SourceConfig.BatchSize must be between 1 and 1048576 (0 means 1000), got -1
}

// An incremental job with weir's checkpoints: each run reads the documents
// added since the last one. The position, kept here in a file, is the last
// _id in Extended JSON.
func ExampleSource_Position() {
	type Event struct {
		ID   int64  `bson:"_id"`
		Kind string `bson:"kind"`
	}
	ctx := context.Background()
	coll := client.Database("example_ck").Collection("events")
	defer coll.Database().Drop(ctx)
	dir, _ := os.MkdirTemp("", "weir-mongo-example")
	defer os.RemoveAll(dir)
	store, err := file.NewCheckpointStore(filepath.Join(dir, "checkpoints.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	run := func() error {
		src, err := weirmongo.NewSource(ctx, weirmongo.SourceConfig[Event]{
			URI: serverURI, Database: "example_ck", Collection: "events",
		})
		if err != nil {
			return err
		}
		show := weir.SinkFunc[Event](func(_ context.Context, batch []Event) error {
			fmt.Println("loaded", batch)
			return nil
		})
		p, err := weir.New(src, weir.Identity[Event](), show, weir.Config{Workers: 1},
			weir.WithCheckpoint(store, "events"))
		if err != nil {
			return err
		}
		return p.Run(ctx)
	}

	_, _ = coll.InsertMany(ctx, []Event{{1, "signup"}, {2, "login"}})
	if err := run(); err != nil {
		fmt.Println(err)
	}
	pos, _ := store.Load(ctx, "events")
	fmt.Printf("checkpoint: %s\n", pos)
	_, _ = coll.InsertOne(ctx, Event{3, "logout"})
	if err := run(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// loaded [{1 signup} {2 login}]
	// checkpoint: {"_id":{"$numberLong":"2"}}
	// loaded [{3 logout}]
}
