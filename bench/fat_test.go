package bench_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/bench"
)

func TestFatSourceDeterministic(t *testing.T) {
	const n = 20
	a := readAll(t, bench.NewFatSource(n, 5), 3)
	b := readAll(t, bench.NewFatSource(n, 5), 8)
	if len(a) != n || len(b) != n {
		t.Fatalf("got %d and %d records, want %d", len(a), len(b), n)
	}
	for i := range a {
		if a[i].ID != int64(i+1) {
			t.Fatalf("record %d has ID %d", i, a[i].ID)
		}
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Fatalf("record %d differs between two sources with seed 5", i)
		}
	}
	c := readAll(t, bench.NewFatSource(n, 6), 8)
	if reflect.DeepEqual(a, c) {
		t.Error("seeds 5 and 6 generated the same users")
	}
}

func TestFatUserShape(t *testing.T) {
	u := readAll(t, bench.NewFatSource(1, 1), 1)[0]
	counts := []struct {
		what      string
		got, want int
	}{
		{"interests", len(u.Profile.Interests), 5},
		{"skills", len(u.Profile.Skills), 7},
		{"education", len(u.Profile.Education), 2},
		{"experience", len(u.Profile.Experience), 3},
		{"settings", len(u.Preferences.Settings), 10},
		{"activity", len(u.Activity), 20},
		{"transactions", len(u.Transactions), 15},
		{"messages", len(u.Messages), 10},
		{"attachments of message 0", len(u.Messages[0].Attachments), 3},
		{"connections", len(u.Social.Connections), 50},
		{"posts", len(u.Social.Posts), 25},
		{"groups", len(u.Social.Groups), 5},
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
	for i, b := range u.Blobs {
		if len(b) != 10_000 {
			t.Errorf("blob %d has %d characters, want 10000", i, len(b))
		}
	}
}

// TestFatUserSize checks the fat user weighs what the seed says: ~55 KB.
func TestFatUserSize(t *testing.T) {
	for _, u := range readAll(t, bench.NewFatSource(50, 2), 50) {
		if s := u.Size(); s < 50_000 || s > 60_000 {
			t.Fatalf("user %d: Size() = %d, want about 55 KB (50,000-60,000)", u.ID, s)
		}
	}
	// The engine finds the Sizer method and counts extracted bytes.
	sink := &bench.SumSink[bench.FatUser]{}
	p, err := weir.New(bench.NewFatSource(10, 2), weir.Identity[bench.FatUser](), sink, weir.Config{BatchSize: 4, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b := p.Stats().Extract.Bytes; b < 10*50_000 || b > 10*60_000 {
		t.Errorf("engine counted %d bytes for 10 fat users, want 500,000-600,000", b)
	}
}

func TestTransformFat(t *testing.T) {
	u := readAll(t, bench.NewFatSource(1, 1), 1)[0]
	got, err := bench.TransformFat(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	var spent float64
	for _, tx := range u.Transactions {
		if tx.Status == "completed" {
			spent += tx.Amount
		}
	}
	want := bench.FatTransformed{
		ID:       1,
		FullName: u.FirstName + " " + u.LastName,
		Email:    strings.ToLower(u.Email),
		Location: u.Address.City + ", " + u.Address.State + ", " + u.Address.Country,
		ProfileSummary: "5 interests (" + strings.Join(u.Profile.Interests, ", ") +
			"), 7 skills, 2 schools, 3 jobs",
		Activities: 20, Transactions: 15, Messages: 10, Posts: 25, Connections: 50,
		TotalSpent:    spent,
		TotalDataSize: u.Size(),
	}
	if got != want {
		t.Errorf("TransformFat =\n%+v\nwant\n%+v", got, want)
	}
}
