package bucket_test

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/bucket"
)

// Producers push records; the bucket batches them and a pool of workers
// processes the batches.
func Example() {
	b, err := bucket.New[int](weir.Config{BatchSize: 100, Workers: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	var sum, batches atomic.Int64
	done := make(chan error)
	go func() {
		done <- b.Run(context.Background(), func(_ context.Context, batch []int) error {
			for _, v := range batch {
				sum.Add(int64(v))
			}
			batches.Add(1)
			return nil
		})
	}()
	for i := 1; i <= 1000; i++ {
		if err := b.Add(context.Background(), i); err != nil {
			fmt.Println(err)
			break
		}
	}
	b.Close()
	if err := <-done; err != nil {
		fmt.Println(err)
	}
	fmt.Println("sum", sum.Load(), "in at least", 1000/100, "batches:", batches.Load() >= 10)
	// Output: sum 500500 in at least 10 batches: true
}
