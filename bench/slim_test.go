package bench_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/bench"
)

// readAll drains src with buffers of bufSize records and fails the test on
// any error other than io.EOF, or if the source never ends.
func readAll[E any](t *testing.T, src weir.Source[E], bufSize int) []E {
	t.Helper()
	var all []E
	buf := make([]E, bufSize)
	for range 1 << 20 {
		n, err := src.Read(context.Background(), buf)
		all = append(all, buf[:n]...)
		if err == io.EOF {
			return all
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if n != bufSize {
			t.Fatalf("Read returned %d records without EOF for a buffer of %d", n, bufSize)
		}
	}
	t.Fatal("source never returned io.EOF")
	return nil
}

func TestSlimSourceDeterministic(t *testing.T) {
	const n = 1000
	a := readAll(t, bench.NewSlimSource(n, 7), 128)
	b := readAll(t, bench.NewSlimSource(n, 7), 128)
	if len(a) != n || len(b) != n {
		t.Fatalf("got %d and %d records, want %d", len(a), len(b), n)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("record %d differs between two sources with seed 7:\n%+v\n%+v", i, a[i], b[i])
		}
	}
	other := readAll(t, bench.NewSlimSource(n, 8), 128)
	same := 0
	for i := range a {
		if a[i] == other[i] {
			same++
		}
	}
	if same != 0 {
		t.Errorf("%d records identical between seeds 7 and 8", same)
	}
}

func TestSlimSourceIndependentOfBufferSize(t *testing.T) {
	const n = 777
	want := readAll(t, bench.NewSlimSource(n, 3), n)
	for _, size := range []int{1, 7, 64, 500, 2000} {
		got := readAll(t, bench.NewSlimSource(n, 3), size)
		if len(got) != n {
			t.Fatalf("buffer %d: got %d records, want %d", size, len(got), n)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("buffer %d: record %d = %+v, want %+v", size, i, got[i], want[i])
			}
		}
	}
}

func TestSlimSourceRecords(t *testing.T) {
	const n = 2000
	users := readAll(t, bench.NewSlimSource(n, 1), 100)
	for i, u := range users {
		if u.ID != int64(i+1) {
			t.Fatalf("record %d has ID %d, want %d", i, u.ID, i+1)
		}
		if len(u.Username) < 6 || len(u.Username) > 12 {
			t.Errorf("ID %d: username %q is not 6-12 characters", u.ID, u.Username)
		}
		if !strings.HasPrefix(u.Email, u.Username+"@") {
			t.Errorf("ID %d: email %q does not start with %q", u.ID, u.Email, u.Username+"@")
		}
		if u.Age < 16 || u.Age >= 80 || u.LocationID >= 1<<20 || u.ProfileFlags > 0xf {
			t.Errorf("ID %d: field out of range: %+v", u.ID, u)
		}
		if max(u.ActivityCount, u.TransactionCount, u.MessageCount, u.PostCount) >= 1024 {
			t.Errorf("ID %d: counter out of range: %+v", u.ID, u)
		}
	}
}

func TestSlimSourceEnds(t *testing.T) {
	src := bench.NewSlimSource(5, 1)
	buf := make([]bench.SlimUser, 8)
	n, err := src.Read(context.Background(), buf)
	if n != 5 || err != io.EOF {
		t.Fatalf("first Read = %d, %v; want 5, io.EOF", n, err)
	}
	if n, err := src.Read(context.Background(), buf); n != 0 || err != io.EOF {
		t.Fatalf("Read after the end = %d, %v; want 0, io.EOF", n, err)
	}
	if n, err := bench.NewSlimSource(0, 1).Read(context.Background(), buf); n != 0 || err != io.EOF {
		t.Fatalf("empty source Read = %d, %v; want 0, io.EOF", n, err)
	}
}

func TestSlimSourceCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := bench.NewSlimSource(10, 1).Read(ctx, make([]bench.SlimUser, 4))
	if n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with a cancelled ctx = %d, %v; want 0, context.Canceled", n, err)
	}
}

func TestTransformSlim(t *testing.T) {
	tests := []struct {
		name string
		in   bench.SlimUser
		want bench.SlimTransformed
	}{
		{
			name: "typical user",
			in: bench.SlimUser{ID: 42, Username: "ada", Email: "ada@weir.dev", Age: 36,
				ActivityCount: 100, TransactionCount: 50, MessageCount: 20, PostCount: 10, DataHash: 0xdeadbeefcafe},
			want: bench.SlimTransformed{ID: 42, DisplayName: "User #42", TotalActivities: 150,
				EngagementScore: 60, Fingerprint: 0xdeadbeefcafe},
		},
		{
			name: "counters at their maximum do not overflow",
			in: bench.SlimUser{ID: 9223372036854775807, ActivityCount: 65535, TransactionCount: 65535,
				MessageCount: 65535, PostCount: 65535},
			want: bench.SlimTransformed{ID: 9223372036854775807, DisplayName: "User #9223372036854775807",
				TotalActivities: 131070, EngagementScore: 65535},
		},
		{
			name: "negative ID",
			in:   bench.SlimUser{ID: -9223372036854775808, PostCount: 1},
			want: bench.SlimTransformed{ID: -9223372036854775808, DisplayName: "User #-9223372036854775808",
				EngagementScore: 0.1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bench.TransformSlim(context.Background(), tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("TransformSlim = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTransformSlimAllocatesOnce(t *testing.T) {
	u := bench.SlimUser{ID: 123456}
	var sink bench.SlimTransformed
	allocs := testing.AllocsPerRun(100, func() {
		sink, _ = bench.TransformSlim(context.Background(), u)
	})
	if allocs != 1 {
		t.Errorf("TransformSlim made %v allocations, want 1", allocs)
	}
	if sink.DisplayName != "User #123456" {
		t.Errorf("DisplayName = %q", sink.DisplayName)
	}
}

func TestSlimSourceAllocatesTwoPerRecord(t *testing.T) {
	const per = 100
	src := bench.NewSlimSource(1<<30, 1)
	buf := make([]bench.SlimUser, per)
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := src.Read(context.Background(), buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 2*per {
		t.Errorf("a Read of %d records made %v allocations, want %d", per, allocs, 2*per)
	}
}
