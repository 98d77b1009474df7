package mongo_test

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/weir-etl/weir"
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

	src, err := weirmongo.NewSource[Order](ctx, weirmongo.SourceConfig{
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
	fmt.Printf("position: %v\n", src.Position())

	// A later run resumes after the position: one new order.
	if _, err := coll.InsertOne(ctx, Order{4, "nib", 0.5}); err != nil {
		fmt.Println(err)
		return
	}
	next, err := weirmongo.NewSource[bson.M](ctx, weirmongo.SourceConfig{
		URI: serverURI, Database: "example", Collection: "orders", After: src.Position(),
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
	// position: 3
	// 1 EOF nib
}

// ExampleSourceConfig_Validate shows that config errors name their fields,
// all of them at once, before anything is contacted.
func ExampleSourceConfig_Validate() {
	err := weirmongo.SourceConfig{Collection: "orders", BatchSize: -1}.Validate()
	fmt.Println(err)
	// Output:
	// mongo: SourceConfig.URI is empty and Client is nil: set one of them
	// mongo: SourceConfig.Database is empty
	// mongo: SourceConfig.BatchSize must be between 1 and 1048576 (0 means 1000), got -1
}
