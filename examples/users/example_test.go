package users_test

import (
	"context"
	"fmt"
	"github.com/weir-etl/weir/connect"
	"sync/atomic"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/examples/users"
)

// rowCounter is a connect.RowWriter that only counts rows per table.
type rowCounter [users.NumTables]int64

func (c *rowCounter) Row(table int, _ ...connect.Value) { c[table]++ }

// Generate one user and split it into the rows of the 15 tables.
func Example() {
	u := users.Generate(1, users.GenOptions{Seed: 42})
	var rows rowCounter
	if err := (users.Splitter{}).Split(u, &rows); err != nil {
		fmt.Println(err)
		return
	}
	total := int64(0)
	for i, t := range (users.Splitter{}).Tables() {
		fmt.Printf("%-12s %2d  key %v\n", t.Name, rows[i], t.Key)
		total += rows[i]
	}
	fmt.Println("total", total)
	// Output:
	// users         1  key [id]
	// addresses     1  key [user_id]
	// profiles      1  key [user_id]
	// education     2  key [user_id seq]
	// experience    3  key [user_id seq]
	// preferences   1  key [user_id]
	// settings     10  key [user_id seq]
	// activity_log 20  key [user_id seq]
	// transactions 15  key [user_id seq]
	// messages     10  key [user_id seq]
	// attachments  30  key [user_id message_seq seq]
	// social_media  1  key [user_id]
	// posts        25  key [user_id seq]
	// groups        5  key [user_id seq]
	// large_data    1  key [user_id]
	// total 126
}

// Run the reference job's extract and transform through the engine: users
// are generated inside the source's Read, validated in place, and a sink
// splits each batch. A database sink would write the rows instead of
// counting them.
func ExampleNewGenerator() {
	src, err := users.NewGenerator(1000, users.GenOptions{Seed: 42, BlobSize: 50000})
	if err != nil {
		fmt.Println(err)
		return
	}
	var loaded, rows atomic.Int64
	sink := weir.SinkFunc[users.User](func(_ context.Context, batch []users.User) error {
		var c rowCounter
		for _, u := range batch {
			if err := (users.Splitter{}).Split(u, &c); err != nil {
				return err
			}
		}
		for _, n := range c {
			rows.Add(n)
		}
		loaded.Add(int64(len(batch)))
		return nil
	})
	// BatchBytes works because User has a Size method: with 50 KB blobs,
	// batches close at about 20 users rather than BatchSize.
	p, err := weir.New(src, users.Validated(), sink, weir.Config{BatchSize: 128, BatchBytes: 1 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("users", loaded.Load(), "rows", rows.Load(), "expected", users.ExpectedRows(1000)["users"]*126)
	// Output:
	// users 1000 rows 126000 expected 126000
}

// Resume a run: users 1..600 are loaded, so generate 601..1000 only. Each
// user depends only on (Seed, id), so the resumed users equal those of an
// uninterrupted run.
func ExampleGenOptions_resume() {
	src, err := users.NewGenerator(1000, users.GenOptions{Seed: 42, Start: 601})
	if err != nil {
		fmt.Println(err)
		return
	}
	buf := make([]users.User, 1000)
	n, err := src.Read(context.Background(), buf)
	fmt.Println(n, err, buf[0].ID, buf[n-1].ID)
	fmt.Println(buf[0].Email == users.Generate(601, users.GenOptions{Seed: 42}).Email)
	// Output:
	// 400 EOF 601 1000
	// true
}

// Decode a document exported from MongoDB (plain JSON) and check it.
func ExampleDecode() {
	u, err := users.Decode([]byte(`{"_id": "5f1d7a3b9c8e4a0012345678", "id": 7,
		"email": "grace@example.com", "created_at": "2020-07-26T12:34:56Z"}`))
	fmt.Println(u.ID, u.Email, u.CreatedAt.Year(), err)

	_, err = users.Decode([]byte(`{"id": 8, "email": "nobody"}`))
	fmt.Println(err)
	// Output:
	// 7 grace@example.com 2020 <nil>
	// invalid user document: user 8: email "nobody" has no '@'
}
