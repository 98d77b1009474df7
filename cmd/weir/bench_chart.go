package main

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// writeBenchChart draws the sweeps into a PNG at path: one panel per sink,
// the median records/s against batch size (log scale), one line per worker
// count, each point with an error bar from its slowest to its fastest run
// (when the cells ran more than once), the best cell by median ringed, the
// legend to the right of each panel. The points of each worker count are
// shifted a little sideways, so that their bars do not hide each other. A panel whose rates span more than
// 50× gets a log y axis too.
func writeBenchChart(path string, sweeps []benchSweep, workers []int) error {
	if len(sweeps) == 0 {
		return errors.New("chart: no sweep to draw")
	}
	const panelW, panelH, legendW = 9 * vg.Inch, 3.6 * vg.Inch, 1.2 * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(panelW, panelH*vg.Length(len(sweeps))), vgimg.UseDPI(110))
	plots := make([][]*plot.Plot, len(sweeps))
	legends := make([]plot.Legend, len(sweeps))
	for i, sw := range sweeps {
		p, l, err := sweepPlot(sw, workers)
		if err != nil {
			return fmt.Errorf("chart %s: %w", sw.sink, err)
		}
		plots[i], legends[i] = []*plot.Plot{p}, l
	}
	tiles := draw.Tiles{Rows: len(sweeps), Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6),
		PadLeft: vg.Points(6), PadRight: vg.Points(6), PadY: vg.Points(18)}
	dc := draw.New(img)
	canvases := plot.Align(plots, tiles, draw.Crop(dc, 0, -legendW, 0, 0))
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
		tile := tiles.At(dc, 0, i)
		legends[i].Draw(draw.Crop(tile, tile.Max.X-tile.Min.X-legendW+vg.Points(12), 0, 0, -vg.Points(24)))
	}

	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(out); err != nil {
		out.Close()
		return fmt.Errorf("chart: write %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	return nil
}

func sweepPlot(sw benchSweep, workers []int) (*plot.Plot, plot.Legend, error) {
	p := plot.New()
	title := map[string]string{"memory": "memory-bound sink", "cpu": "CPU-bound sink", "io": "I/O-bound sink"}[sw.sink]
	runs := sw.rows[sw.best].Runs
	p.Title.Text = fmt.Sprintf("weir bench: %s, slim records (best: %s)",
		title, cellName(sw.rows[sw.best].Batch, sw.rows[sw.best].Workers))
	if runs > 1 {
		p.Title.Text = fmt.Sprintf("weir bench: %s, slim records, median and range of %d runs (best median: %s)",
			title, runs, cellName(sw.rows[sw.best].Batch, sw.rows[sw.best].Workers))
	}
	if sw.title != "" {
		p.Title.Text = sw.title
	}
	p.X.Label.Text = "batch size (log scale)"
	p.X.Scale = plot.LogScale{}
	var xticks plot.ConstantTicks
	lo, hi := sw.rows[0].RecordsPerSec, sw.rows[0].RecordsPerSec
	for _, row := range sw.rows {
		if !slices.ContainsFunc(xticks, func(t plot.Tick) bool { return t.Value == float64(row.Batch) }) {
			xticks = append(xticks, plot.Tick{Value: float64(row.Batch), Label: strconv.Itoa(row.Batch)})
		}
		lo, hi = min(lo, row.RecordsPerSec, row.RecordsPerSecMin), max(hi, row.RecordsPerSec, row.RecordsPerSecMax)
	}
	p.X.Tick.Marker = xticks
	p.Y.Label.Text = "records/s"
	if hi > 50*lo {
		p.Y.Scale = plot.LogScale{}
		p.Y.Label.Text = "records/s (log scale)"
		p.Y.Tick.Marker = logRateTicks{}
		p.Y.Min, p.Y.Max = lo/1.5, hi*1.5
	} else {
		p.Y.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
			ticks := plot.DefaultTicks{}.Ticks(min, max)
			for i := range ticks {
				if ticks[i].Label != "" {
					ticks[i].Label = fmtRate(ticks[i].Value)
				}
			}
			return ticks
		})
		p.Y.Min, p.Y.Max = 0, hi*1.08
	}
	p.Add(plotter.NewGrid())
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true

	shift := func(j int) float64 { return math.Pow(1.05, float64(j)-float64(len(workers)-1)/2) }
	for j, w := range workers {
		var xys plotter.XYs
		var errs plotter.YErrors
		for _, row := range sw.rows {
			if row.Workers == w {
				xys = append(xys, plotter.XY{X: float64(row.Batch) * shift(j), Y: row.RecordsPerSec})
				errs = append(errs, struct{ Low, High float64 }{row.RecordsPerSec - row.RecordsPerSecMin, row.RecordsPerSecMax - row.RecordsPerSec})
			}
		}
		if len(xys) == 0 {
			continue // weir tune measures only some cells
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, legend, err
		}
		line.Color = plotutil.Color(j)
		line.Width = vg.Points(1.5)
		points.Shape = plotutil.Shape(j)
		points.Color = plotutil.Color(j)
		p.Add(line, points)
		legend.Add(workersLabel(w), line, points)
		if runs > 1 {
			bars, err := plotter.NewYErrorBars(struct {
				plotter.XYs
				plotter.YErrors
			}{xys, errs})
			if err != nil {
				return nil, legend, err
			}
			bars.Color = line.Color
			p.Add(bars)
		}
	}
	b := sw.rows[sw.best]
	best, err := plotter.NewScatter(plotter.XYs{{X: float64(b.Batch) * shift(slices.Index(workers, b.Workers)), Y: b.RecordsPerSec}})
	if err != nil {
		return nil, legend, err
	}
	best.GlyphStyle = draw.GlyphStyle{Shape: draw.RingGlyph{}, Radius: vg.Points(8), Color: color.Black}
	p.Add(best)
	legend.Add("best cell", best)
	return p, legend, nil
}

// logRateTicks labels 1, 2 and 5 times each power of ten, with K and M.
type logRateTicks struct{}

func (logRateTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for decade := math.Pow10(int(math.Floor(math.Log10(min)))); decade <= max; decade *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if v := m * decade; v >= min && v <= max {
				ticks = append(ticks, plot.Tick{Value: v, Label: fmtRate(v)})
			}
		}
	}
	return ticks
}
