package cluster_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/weir-etl/weir/internal/cluster"
)

// TestRejectsAreWrittenOncePerKey: rejects published twice under one key
// (a redelivered partition's, or a publish retried after a lost reply)
// come out of Job.Rejects once, in the order first stored, across a
// server restart.
func TestRejectsAreWrittenOncePerKey(t *testing.T) {
	ns := startServer(t)
	nc, js := ns.connect(t, "coordinator")
	ctx := context.Background()
	job, err := cluster.Submit(ctx, nc, js, cluster.JobConfig{Name: "rej"}, []json.RawMessage{[]byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "a", "c", "b"} {
		if err := cluster.PublishReject(ctx, js, "rej", "rej/1 f.csv:"+k, []byte(`"`+k+`"`)); err != nil {
			t.Fatal(err)
		}
	}
	ns.Restart()
	var got []string
	n, err := job.Rejects(ctx, func(data []byte) error { got = append(got, string(data)); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`"a"`, `"b"`, `"c"`}; n != 3 || !slices.Equal(got, want) {
		t.Errorf("Rejects wrote %d: %v, want %v", n, got, want)
	}
}
