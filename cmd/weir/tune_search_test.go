package main

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// surface is a synthetic, deterministic score over a space's indices,
// with the trials it was asked for.
type surface struct {
	sp     tuneSpace
	score  func(i, j, k int) float64
	quick  map[tuneCell]int
	full   map[tuneCell]int
	failAt int // fail the failAt-th trial (1-based); 0: never
}

func (s *surface) measure(_ context.Context, c tuneCell, quick bool) (float64, error) {
	if s.quick == nil {
		s.quick, s.full = map[tuneCell]int{}, map[tuneCell]int{}
	}
	if quick {
		s.quick[c]++
	} else {
		s.full[c]++
	}
	if s.failAt > 0 && s.trials() == s.failAt {
		return 0, errors.New("injected trial failure")
	}
	return s.score(slices.Index(s.sp.batches, c.Batch), slices.Index(s.sp.workers, c.Workers), slices.Index(s.sp.loaders, c.Loaders)), nil
}

func (s *surface) trials() int {
	n := 0
	for _, m := range []map[tuneCell]int{s.quick, s.full} {
		for _, k := range m {
			n += k
		}
	}
	return n
}

// cost is the search's time in full trials: a quick trial reads a
// quarter of the sample.
func (s *surface) cost() float64 {
	n := 0.0
	for _, k := range s.quick {
		n += float64(k) / quickShare
	}
	for _, k := range s.full {
		n += float64(k)
	}
	return n
}

func (s *surface) distinct() int {
	seen := map[tuneCell]bool{}
	for _, m := range []map[tuneCell]int{s.quick, s.full} {
		for c := range m {
			seen[c] = true
		}
	}
	return len(seen)
}

func TestTuneSearchFindsTheOptimumOfAKnownSurface(t *testing.T) {
	pg, lite := defaultTuneSpace(0), defaultTuneSpace(1)
	start := tuneCell{Batch: 5000, Workers: 2, Loaders: 0}
	cases := []struct {
		name  string
		sp    tuneSpace
		score func(i, j, k int) float64
		want  tuneCell
	}{
		{"separable bowl", pg, func(i, j, k int) float64 {
			return float64(1000 - 20*sq(i-4) - 30*sq(j-2) - 10*sq(k-3))
		}, tuneCell{2500, 3, 4}},
		// The best batch depends on the workers: the line search along
		// batch at the start's 2 workers stops one short, and only the
		// neighbours of the chosen cell reach the optimum.
		{"interacting knobs", pg, func(i, j, k int) float64 {
			d, e := float64(i-5), float64(j-3)
			return 100 - 2*d*d - 2*e*e - float64(sq(k-2)) - 1.5*d*e
		}, tuneCell{5000, 4, 2}},
		{"optimum at a corner", pg, func(i, j, k int) float64 { return float64(i + 2*j + 3*k) }, tuneCell{25000, 8, 8}},
		{"single writer", lite, func(i, j, _ int) float64 {
			return float64(500 - 7*sq(i-6) - 11*sq(j-1))
		}, tuneCell{10000, 2, 1}},
		// A plateau: many cells share the best score; the search must
		// still pick one of them.
		{"plateau", lite, func(i, j, _ int) float64 { return float64(min(i, 3) + min(j, 1)) }, tuneCell{25000, 2, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &surface{sp: tc.sp, score: tc.score}
			got, err := tuneSearch(t.Context(), tc.sp, start, s.measure)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("picked %v (score %v), want %v (score %v)", got, s.at(got), tc.want, s.at(tc.want))
			}
			grid := float64(tc.sp.size())
			if s.cost() > grid/4 {
				t.Errorf("cost %.2f full trials, more than a quarter of the %v-cell grid", s.cost(), grid)
			}
			if tc.sp.size() > 100 && float64(s.distinct()) > grid/4 {
				t.Errorf("measured %d distinct cells of %v, more than a quarter", s.distinct(), grid)
			}
		})
	}
}

func (s *surface) at(c tuneCell) float64 {
	r, _ := (&surface{sp: s.sp, score: s.score}).measure(context.Background(), c, false)
	return r
}

func sq(n int) int { return n * n }

func TestTuneSearchRepeatsCloseCalls(t *testing.T) {
	sp := defaultTuneSpace(1)
	// Two cells within 10% of each other at the top: both get a third
	// full trial; the third finalist does not.
	s := &surface{sp: sp, score: func(i, j, _ int) float64 {
		switch {
		case i == 5 && j == 1:
			return 100
		case i == 6 && j == 1:
			return 95
		}
		return float64(10 + i + j)
	}}
	got, err := tuneSearch(t.Context(), sp, tuneCell{5000, 2, 1}, s.measure)
	if err != nil {
		t.Fatal(err)
	}
	if got != (tuneCell{5000, 2, 1}) {
		t.Errorf("picked %v", got)
	}
	if n := s.full[tuneCell{5000, 2, 1}]; n != minFinalRuns+1 {
		t.Errorf("the leader ran %d full trials, want %d", n, minFinalRuns+1)
	}
	if n := s.full[tuneCell{10000, 2, 1}]; n != minFinalRuns+1 {
		t.Errorf("the runner-up ran %d full trials, want %d", n, minFinalRuns+1)
	}
	for c, n := range s.full {
		if c != (tuneCell{5000, 2, 1}) && c != (tuneCell{10000, 2, 1}) && n != minFinalRuns {
			t.Errorf("%v ran %d full trials, want %d", c, n, minFinalRuns)
		}
	}
}

func TestTuneSearchStopsAtTheFirstFailedTrial(t *testing.T) {
	sp := defaultTuneSpace(0)
	for _, at := range []int{1, 5, 25} {
		s := &surface{sp: sp, score: func(i, j, k int) float64 { return 1 }, failAt: at}
		_, err := tuneSearch(t.Context(), sp, tuneCell{5000, 2, 0}, s.measure)
		if err == nil || !strings.Contains(err.Error(), "injected") {
			t.Errorf("fail at trial %d: err = %v", at, err)
		}
		if s.trials() != at {
			t.Errorf("fail at trial %d: %d trials ran", at, s.trials())
		}
	}
}

func TestTuneGridMeasuresEveryCellOnce(t *testing.T) {
	sp := defaultTuneSpace(0)
	s := &surface{sp: sp, score: func(i, j, k int) float64 { return float64(100*i + 10*j + k) }}
	got, err := tuneGrid(t.Context(), sp, 1, s.measure)
	if err != nil {
		t.Fatal(err)
	}
	if got != (tuneCell{25000, 8, 8}) {
		t.Errorf("best %v", got)
	}
	if len(s.full) != sp.size() || len(s.quick) != 0 {
		t.Errorf("%d cells measured in full, %d quick; want %d and 0", len(s.full), len(s.quick), sp.size())
	}
	for c, n := range s.full {
		if n != 1 {
			t.Errorf("%v measured %d times", c, n)
		}
	}
}

func TestParseInts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		zero bool
		want []int
		err  string
	}{
		{"5000,100, 250", false, []int{100, 250, 5000}, ""},
		{"0,2", true, []int{0, 2}, ""},
		{"0,2", false, nil, "0 is out of range"},
		{"1,,2", false, nil, `"" is not a whole number`},
		{"3,3", false, nil, "3 twice"},
		{"-1", true, nil, "out of range"},
		{"9999999", false, nil, "too large"},
	} {
		got, err := parseInts("batches", tc.in, tc.zero)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseInts(f *testing.F) {
	for _, s := range []string{"1,2,3", "0", "", ",", "100, 250", "-5", "1e3", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseInts("batches", s, true)
		if err != nil {
			return
		}
		if len(got) == 0 || !slices.IsSorted(got) {
			t.Fatalf("%q: %v", s, got)
		}
		for i, n := range got {
			if n < 0 || n > 1<<20 || i > 0 && got[i-1] == n {
				t.Fatalf("%q: %v", s, got)
			}
			if !strings.Contains(s, strconv.Itoa(n)) {
				t.Fatalf("%q: %d is not in the input", s, n)
			}
		}
	})
}
