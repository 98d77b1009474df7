package bench_test

import (
	"context"
	"fmt"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/bench"
)

func ExampleNewSlimSource() {
	src := bench.NewSlimSource(3, 1)
	buf := make([]bench.SlimUser, 3)
	n, err := src.Read(context.Background(), buf)
	fmt.Println(n, err)
	for _, u := range buf[:n] {
		fmt.Println(u.ID, u.Username, u.Email, u.Age)
	}
	// Output:
	// 3 EOF
	// 1 5b4ssrv 5b4ssrv@example.com 41
	// 2 ak4vej ak4vej@corp.example 61
	// 3 gnljmm gnljmm@corp.example 76
}

func ExampleTransformSlim() {
	out, _ := bench.TransformSlim(context.Background(), bench.SlimUser{
		ID: 42, ActivityCount: 100, TransactionCount: 50, MessageCount: 20, PostCount: 10, DataHash: 7,
	})
	fmt.Printf("%q %d %.1f %d\n", out.DisplayName, out.TotalActivities, out.EngagementScore, out.Fingerprint)
	// Output: "User #42" 150 60.0 7
}

// The seed's benchmark: slim users through the optimised transform.
func ExampleSumSink() {
	sink := &bench.SumSink[bench.SlimTransformed]{}
	p, err := weir.New(bench.NewSlimSource(10_000, 1), weir.Map(bench.TransformSlim), sink,
		weir.Config{BatchSize: 128, Workers: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sink.Records(), sink.Sum())
	// Output: 10000 50005000
}

func ExampleNewFatSource() {
	buf := make([]bench.FatUser, 1)
	// The last Read returns io.EOF together with its records.
	if n, err := bench.NewFatSource(1, 1).Read(context.Background(), buf); n != 1 {
		fmt.Println(err)
		return
	}
	u := buf[0]
	out, _ := bench.TransformFat(context.Background(), u)
	fmt.Printf("about %d KB; %d posts, %d messages\n", (u.Size()+500)/1000, out.Posts, out.Messages)
	// Output: about 58 KB; 25 posts, 10 messages
}

func ExampleMemorySink() {
	sink := &bench.MemorySink[bench.FatTransformed]{}
	p, err := weir.New(bench.NewFatSource(100, 1), weir.Map(bench.TransformFat), sink,
		weir.Config{BatchSize: 16, Workers: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sink.Records(), "records")
	// Output: 100 records
}

func ExampleNewCPUSink() {
	sink, err := bench.NewCPUSink[bench.SlimTransformed](64)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := weir.New(bench.NewSlimSource(1000, 1), weir.Map(bench.TransformSlim), sink, weir.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sink.Records(), "records,", sink.Rounds(), "rounds each")
	// Output: 1000 records, 64 rounds each
}

// A simulated database with a 100µs round trip, loaded by eight workers
// although it serves only four writes at full speed.
func ExampleNewIOSink() {
	sink, err := bench.NewIOSink[bench.SlimTransformed](bench.IOConfig{RoundTrip: 100 * time.Microsecond, Limit: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("a batch of 500 with 8 in flight waits", sink.Latency(500, 8))
	p, err := weir.New(bench.NewSlimSource(2000, 1), weir.Map(bench.TransformSlim), sink,
		weir.Config{BatchSize: 500, Workers: 8})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sink.Records(), "records in", sink.Batches(), "writes")
	// Output:
	// a batch of 500 with 8 in flight waits 2.2ms
	// 2000 records in 4 writes
}
