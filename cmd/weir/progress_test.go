package main

import (
	"testing"
	"time"

	"github.com/weir-etl/weir"
)

func TestEtaInput(t *testing.T) {
	st := weir.Stats{Elapsed: 10 * time.Second}
	for _, c := range []struct {
		done, total int64
		want        string
	}{
		{25, 100, ", 25% of the input, ETA 30s"},
		{100, 100, ", 100% of the input, ETA 0s"},
		{0, 100, ""},
		{5, -1, ""},
	} {
		if got := etaInput(st, func() (int64, int64) { return c.done, c.total }); got != c.want {
			t.Errorf("%d of %d: %q, want %q", c.done, c.total, got, c.want)
		}
	}
	if got := etaInput(st, nil); got != "" {
		t.Errorf("no input: %q", got)
	}
}
