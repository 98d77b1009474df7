// weir tune's search: which cells of batch size × workers × load
// concurrency to measure, and which one to recommend.

package main

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// tuneCell is one setting of the three knobs tune searches. Loaders is
// --load-concurrency: 0 loads each batch on the worker that converted it.
type tuneCell struct{ Batch, Workers, Loaders int }

func (c tuneCell) String() string {
	return fmt.Sprintf("batch %d × %s × load concurrency %d", c.Batch, workersLabel(c.Workers), c.Loaders)
}

// flags writes c as weir copy's flags.
func (c tuneCell) flags() string {
	return fmt.Sprintf("--batch %d --workers %d --load-concurrency %d", c.Batch, c.Workers, c.Loaders)
}

// tuneSpace is the values tune tries for each knob; the grid is their
// product.
type tuneSpace struct{ batches, workers, loaders []int }

// defaultTuneSpace is the space tune searches by default: batch sizes
// from 100 to 25,000 in steps of about 2.5×, up to 8 workers (converting
// is CPU work, but loading waits on the target) and, for a target that
// takes concurrent writers, 0 to 8 loaders. A single-writer target
// (SQLite, a file) has one loader.
func defaultTuneSpace(maxLoaders int) tuneSpace {
	sp := tuneSpace{
		batches: []int{100, 250, 500, 1000, 2500, 5000, 10000, 25000},
		workers: []int{1, 2, 3, 4, 6, 8},
		loaders: []int{0, 1, 2, 4, 8},
	}
	if maxLoaders > 0 {
		sp.loaders = []int{maxLoaders}
	}
	return sp
}

func (s tuneSpace) size() int { return len(s.batches) * len(s.workers) * len(s.loaders) }

func (s tuneSpace) String() string {
	list := func(v []int) string {
		parts := make([]string, len(v))
		for i, n := range v {
			parts[i] = strconv.Itoa(n)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprintf("batch {%s} × workers {%s} × load concurrency {%s}", list(s.batches), list(s.workers), list(s.loaders))
}

// axes returns the space's three value lists, in the order the search
// walks them: batch size first (it matters most for a database), then
// workers, then loaders.
func (s tuneSpace) axes() [3][]int { return [3][]int{s.batches, s.workers, s.loaders} }

// cells returns every cell of the grid.
func (s tuneSpace) cells() []tuneCell {
	var out []tuneCell
	for _, b := range s.batches {
		for _, w := range s.workers {
			for _, l := range s.loaders {
				out = append(out, tuneCell{b, w, l})
			}
		}
	}
	return out
}

// nearest returns the cell of the space closest to c on each axis.
func (s tuneSpace) nearest(c tuneCell) tuneCell {
	near := func(vals []int, v int) int {
		return slices.MinFunc(vals, func(a, b int) int { return cmp.Compare(absInt(a-v), absInt(b-v)) })
	}
	return tuneCell{near(s.batches, c.Batch), near(s.workers, c.Workers), near(s.loaders, c.Loaders)}
}

func absInt(n int) int { return max(n, -n) }

func cellAxis(c tuneCell, axis int) int { return [3]int{c.Batch, c.Workers, c.Loaders}[axis] }

func withAxis(c tuneCell, axis, v int) tuneCell {
	switch axis {
	case 0:
		c.Batch = v
	case 1:
		c.Workers = v
	default:
		c.Loaders = v
	}
	return c
}

// measureFunc runs one trial of cell c over the whole sample, or over its
// first quarter when quick, and returns its records/s.
type measureFunc func(ctx context.Context, c tuneCell, quick bool) (float64, error)

// Search parameters: a quick trial reads a quarter of the sample; the
// best cells of the quick trials (three, or two in a grid of fewer than
// smallGrid cells, where a third would cost too large a share of the
// grid's time) are measured at least minFinalRuns
// and at most maxFinalRuns times on the whole sample (as many as fit in
// budgetShare of the grid's trials), and when the best two medians are
// within closeCall of each other, once more each.
const (
	quickShare   = 4
	finalists    = 3
	smallGrid    = 100
	minFinalRuns = 2
	maxFinalRuns = 5
	budgetShare  = 0.20
	closeCall    = 0.10
)

// finalRuns is how many full trials each finalist gets: what is left of
// budgetShare of the grid (in full trials) after the quick trials, shared
// among the finalists, between minFinalRuns and maxFinalRuns. Medians of
// more runs beat more of the machine's noise; a small grid cannot afford
// them within a quarter of its time.
func finalRuns(gridCells, quickTrials int) int {
	left := budgetShare*float64(gridCells) - float64(quickTrials)/quickShare
	return min(max(int(left/finalists), minFinalRuns), maxFinalRuns)
}

// tuneSearch finds a good cell of sp without walking the grid, starting
// at start (the user's settings):
//
//  1. a line search along each axis in turn (batch, workers, loaders),
//     on quick trials, each moving to the best value of its axis;
//  2. quick trials of the chosen cell's untried neighbours on every axis,
//     which catches the knobs' interaction;
//  3. full trials of the best quick cells (the finalists), finalRuns times each
//     in rotating order (2 to 5 times, as the grid's size affords), and a tie-break round for the best two when their
//     medians are within closeCall: the machine's speed drifts, so the
//     leaders are compared side by side, not against older figures.
//
// It returns the cell with the best median full trial. It blocks for
// every trial, one at a time, and returns the first trial's error.
func tuneSearch(ctx context.Context, sp tuneSpace, start tuneCell, measure measureFunc) (tuneCell, error) {
	quick := map[tuneCell]float64{}
	try := func(c tuneCell) error {
		if _, done := quick[c]; done {
			return nil
		}
		r, err := measure(ctx, c, true)
		quick[c] = r
		return err
	}
	cur := sp.nearest(start)
	for axis, vals := range sp.axes() {
		for _, v := range vals {
			if err := try(withAxis(cur, axis, v)); err != nil {
				return cur, err
			}
		}
		cur = withAxis(cur, axis, slices.MaxFunc(vals, func(a, b int) int {
			return cmp.Compare(quick[withAxis(cur, axis, a)], quick[withAxis(cur, axis, b)])
		}))
	}
	for axis, vals := range sp.axes() {
		i := slices.Index(vals, cellAxis(cur, axis))
		for _, j := range []int{i - 1, i + 1} {
			if j >= 0 && j < len(vals) {
				if err := try(withAxis(cur, axis, vals[j])); err != nil {
					return cur, err
				}
			}
		}
	}

	n := finalists
	if sp.size() < smallGrid {
		n = finalists - 1
	}
	final := top(quick, n)
	full := map[tuneCell][]float64{}
	if err := rounds(ctx, final, finalRuns(sp.size(), len(quick)), full, measure); err != nil {
		return final[0], err
	}
	final = byMedian(final, full)
	if len(final) > 1 && median(full[final[1]]) >= (1-closeCall)*median(full[final[0]]) {
		if err := rounds(ctx, final[:2], 1, full, measure); err != nil {
			return final[0], err
		}
		final = byMedian(final, full)
	}
	return final[0], nil
}

// rounds measures every cell n times on the whole sample, rotating the
// order each round so that no cell always runs first (or right after the
// same neighbour), and appends the rates to full.
func rounds(ctx context.Context, cells []tuneCell, n int, full map[tuneCell][]float64, measure measureFunc) error {
	for r := range n {
		for i := range cells {
			c := cells[(i+r)%len(cells)]
			rate, err := measure(ctx, c, false)
			if err != nil {
				return err
			}
			full[c] = append(full[c], rate)
		}
	}
	return nil
}

// top returns the n cells with the highest rates, best first; ties go to
// the larger batch, then fewer workers and loaders (cheaper to run).
func top(rates map[tuneCell]float64, n int) []tuneCell {
	cells := make([]tuneCell, 0, len(rates))
	for c := range rates {
		cells = append(cells, c)
	}
	slices.SortFunc(cells, func(a, b tuneCell) int {
		return cmp.Or(cmp.Compare(rates[b], rates[a]), cmp.Compare(b.Batch, a.Batch),
			cmp.Compare(a.Workers, b.Workers), cmp.Compare(a.Loaders, b.Loaders))
	})
	return cells[:min(n, len(cells))]
}

// byMedian sorts cells by the median of their full trials, best first.
func byMedian(cells []tuneCell, full map[tuneCell][]float64) []tuneCell {
	rates := map[tuneCell]float64{}
	for _, c := range cells {
		rates[c] = median(full[c])
	}
	return top(rates, len(cells))
}

// median returns the middle value of rates (the mean of the two middle
// ones for an even count); 0 for none.
func median(rates []float64) float64 {
	if len(rates) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(rates))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// tuneGrid measures every cell of sp once on the whole sample, in an order
// shuffled with seed (so that a drift of the machine's speed spreads over
// the grid instead of following an axis), and returns the best cell.
func tuneGrid(ctx context.Context, sp tuneSpace, seed uint64, measure measureFunc) (tuneCell, error) {
	cells := sp.cells()
	rng := rand.New(rand.NewPCG(seed, seed))
	rng.Shuffle(len(cells), func(i, j int) { cells[i], cells[j] = cells[j], cells[i] })
	rates := map[tuneCell]float64{}
	for _, c := range cells {
		r, err := measure(ctx, c, false)
		if err != nil {
			return c, err
		}
		rates[c] = r
	}
	return top(rates, 1)[0], nil
}

// parseInts parses a comma-separated list of positive integers, for the
// --batches, --worker-counts and --loader-counts flags ("0" allowed with
// zero).
func parseInts(flag, s string, zero bool) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		switch {
		case err != nil:
			return nil, usagef("--%s %q: %q is not a whole number", flag, s, strings.TrimSpace(part))
		case n < 0 || n == 0 && !zero:
			return nil, usagef("--%s %q: %d is out of range", flag, s, n)
		case n > 1<<20:
			return nil, usagef("--%s %q: %d is too large", flag, s, n)
		case slices.Contains(out, n):
			return nil, usagef("--%s %q: %d twice", flag, s, n)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}
