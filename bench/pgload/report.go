package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// result is one measurement: one run of one loader with one config.
type result struct {
	Bench  string `json:"bench"`  // copy, csv, migrate, sweep
	Loader string `json:"loader"` // bare, weir, psql, pgloader, weir-migrate
	Config string `json:"config"` // the loader's settings; "" means its defaults
	Target string `json:"target,omitempty"`
	Batch  int    `json:"batch,omitempty"`
	// Conns is how many connections the loader wrote on (copy bench).
	Conns   int     `json:"conns,omitempty"`
	Run     int     `json:"run"`
	Rows    int64   `json:"rows"`
	Users   int64   `json:"users,omitempty"`
	Seconds float64 `json:"seconds"`
	RSSKB   int64   `json:"rss_kb,omitempty"`
	// ClientCPU and ServerCPU are CPU seconds (user + system) of the
	// loader's process and of the server's backends, when measured.
	ClientCPU float64 `json:"client_cpu,omitempty"`
	ServerCPU float64 `json:"server_cpu,omitempty"`
}

func (r result) rate() float64 { return float64(r.Rows) / r.Seconds }

func appendResult(path string, r result) error {
	if path == "" {
		return nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}

func readResults(path string) ([]result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	var rs []result
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if r.Seconds <= 0 {
			return nil, fmt.Errorf("%s:%d: seconds must be > 0", path, line)
		}
		rs = append(rs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	return rs, nil
}

// group is the runs of one loader with one config (and size).
type group struct {
	bench, loader, config, target string
	batch, conns                  int
	rows, users                   int64
	runs                          []result
}

// span returns the fastest and slowest run times.
func (g *group) span() (lo, hi float64) {
	lo, hi = g.runs[0].Seconds, g.runs[0].Seconds
	for _, r := range g.runs {
		lo, hi = min(lo, r.Seconds), max(hi, r.Seconds)
	}
	return lo, hi
}

// seconds returns the median run time.
func (g *group) seconds() float64 {
	return median(g.runs, func(r result) float64 { return r.Seconds })
}

func (g *group) rate() float64 { return float64(g.rows) / g.seconds() }

// cpu returns the median client and server CPU seconds, formatted, or ""
// where they were not measured.
func (g *group) cpu() (client, server string) {
	f := func(get func(result) float64) string {
		if v := median(g.runs, get); v > 0 {
			return fmt.Sprintf("%.2f", v)
		}
		return ""
	}
	return f(func(r result) float64 { return r.ClientCPU }), f(func(r result) float64 { return r.ServerCPU })
}

func (g *group) rssMiB() (med, peak float64) {
	med = median(g.runs, func(r result) float64 { return float64(r.RSSKB) })
	for _, r := range g.runs {
		peak = max(peak, float64(r.RSSKB))
	}
	return med / 1024, peak / 1024
}

// median of f over rs: the middle value, or the mean of the two middle
// values for an even count.
func median(rs []result, f func(result) float64) float64 {
	if len(rs) == 0 {
		return 0
	}
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return (v[m-1] + v[m]) / 2
}

// groups gathers results by bench, loader, config, target and size, in
// the order each group first appears.
func groups(rs []result) []*group {
	type key struct {
		bench, loader, config, target string
		batch, conns                  int
		rows, users                   int64
	}
	idx := map[key]*group{}
	var out []*group
	for _, r := range rs {
		k := key{r.Bench, r.Loader, r.Config, r.Target, r.Batch, r.Conns, r.Rows, r.Users}
		g := idx[k]
		if g == nil {
			g = &group{bench: r.Bench, loader: r.Loader, config: r.Config, target: r.Target, batch: r.Batch, conns: r.Conns, rows: r.Rows, users: r.Users}
			idx[k] = g
			out = append(out, g)
		}
		g.runs = append(g.runs, r)
	}
	return out
}

func filter(gs []*group, keep func(*group) bool) []*group {
	var out []*group
	for _, g := range gs {
		if keep(g) {
			out = append(out, g)
		}
	}
	return out
}

// best returns the group of bench with the highest median rows/s.
func best(rs []result, bench string) (*group, bool) {
	var b *group
	for _, g := range groups(rs) {
		if g.bench == bench && (b == nil || g.rate() > b.rate()) {
			b = g
		}
	}
	return b, b != nil
}

func runList(g *group) string {
	s := make([]string, len(g.runs))
	for i, r := range g.runs {
		s[i] = fmt.Sprintf("%.2f", r.Seconds)
	}
	return strings.Join(s, " / ")
}

func configName(c string) string {
	if c == "" {
		return "defaults"
	}
	return c
}

// report writes one Markdown table per benchmark present in rs.
func report(w io.Writer, rs []result) error {
	gs := groups(rs)
	if len(gs) == 0 {
		return fmt.Errorf("report: no results")
	}
	reportCopy(w, filter(gs, func(g *group) bool { return g.bench == "copy" }))
	reportCSV(w, filter(gs, func(g *group) bool { return g.bench == "csv" }))
	reportMigrate(w, "Reference job: `weir migrate`", filter(gs, func(g *group) bool { return g.bench == "migrate" }))
	reportMigrate(w, "Config sweep: `weir migrate` into PostgreSQL (one run each, smaller job)", filter(gs, func(g *group) bool { return g.bench == "sweep" }))
	reportFlat(w, filter(gs, func(g *group) bool { return g.bench == "migrate" || g.bench == "flat" }))
	for _, b := range []struct{ bench, title, base string }{
		{"copycmd-pg", "`weir copy` CSV → PostgreSQL, creating the table, vs `psql \\copy` into the same table", "psql"},
		{"copycmd-sqlite", "`weir copy` CSV → SQLite, creating the table, vs `sqlite3 .import` into the same table (WAL, synchronous=NORMAL)", "sqlite3"},
		{"copycmd-jsonl", "`weir copy` JSON Lines → PostgreSQL, creating the table", ""},
	} {
		reportCopyCmd(w, b.title, b.base, filter(gs, func(g *group) bool { return g.bench == b.bench }))
	}
	return nil
}

// reportCopyCmd writes one table of whole commands side by side: median
// seconds with their range, rows/s, and the ratio to base's rows/s.
func reportCopyCmd(w io.Writer, title, base string, gs []*group) {
	if len(gs) == 0 {
		return
	}
	var ref *group
	for _, g := range gs {
		if g.loader == base {
			ref = g
		}
	}
	fmt.Fprintf(w, "### %s (%d rows)\n\n", title, gs[0].rows)
	fmt.Fprintln(w, "| command | config | runs | median s [min..max] | rows/s | vs "+base+" | client CPU s | server CPU s |")
	fmt.Fprintln(w, "|---|---|---:|---|---:|---:|---:|---:|")
	for _, g := range gs {
		lo, hi := g.span()
		vs := ""
		if ref != nil {
			vs = fmt.Sprintf("%.2f×", g.rate()/ref.rate())
		}
		client, server := g.cpu()
		fmt.Fprintf(w, "| %s | %s | %d | %.2f [%.2f..%.2f] | %.0f | %s | %s | %s |\n", g.loader, configName(g.config), len(g.runs),
			g.seconds(), lo, hi, g.rate(), vs, client, server)
	}
	fmt.Fprintln(w)
}

func reportCopy(w io.Writer, gs []*group) {
	if len(gs) == 0 {
		return
	}
	// A weir load is compared with the bare loop at its batch size on as
	// many connections: a bare loop on one connection against weir on two
	// would credit weir with the server's second backend.
	type shape struct{ batch, conns int }
	bare := map[shape]*group{}
	var top *group
	for _, g := range gs {
		if g.loader == "bare" {
			bare[shape{g.batch, g.conns}] = g
			if top == nil || g.rate() > top.rate() {
				top = g
			}
		}
	}
	fmt.Fprintf(w, "### COPY ceiling: bare pgx CopyFrom loop vs weir pipeline → postgres.Sink (%d rows)\n\n", gs[0].rows)
	fmt.Fprintln(w, "| loader | config | connections | runs (s) | median s [min..max] | rows/s | vs bare, same batch and connections | vs best bare |")
	fmt.Fprintln(w, "|---|---|---:|---|---|---:|---:|---:|")
	var bestWeir *group
	for _, g := range gs {
		same, vsTop := "", ""
		if b := bare[shape{g.batch, g.conns}]; b != nil && g.loader != "bare" {
			same = fmt.Sprintf("%.2f", g.rate()/b.rate())
		}
		if top != nil {
			vsTop = fmt.Sprintf("%.2f", g.rate()/top.rate())
		}
		if g.loader == "weir" && (bestWeir == nil || g.rate() > bestWeir.rate()) {
			bestWeir = g
		}
		lo, hi := g.span()
		fmt.Fprintf(w, "| %s | %s | %d | %s | %.3f [%.3f..%.3f] | %.0f | %s | %s |\n", g.loader, g.config, g.conns, runList(g), g.seconds(), lo, hi, g.rate(), same, vsTop)
	}
	if bestWeir != nil && top != nil {
		fmt.Fprintf(w, "\nBest weir config (by median): %s at %.0f rows/s = %.2f× the best bare loop (%s, %.0f rows/s).\n",
			bestWeir.config, bestWeir.rate(), bestWeir.rate()/top.rate(), top.config, top.rate())
	}
	fmt.Fprintln(w)
}

func reportCSV(w io.Writer, gs []*group) {
	if len(gs) == 0 {
		return
	}
	var psql, pgl *group
	for _, g := range gs {
		switch g.loader {
		case "psql":
			psql = g
		case "pgloader":
			pgl = g
		}
	}
	fmt.Fprintf(w, "### CSV → PostgreSQL (%d rows, table with a primary key)\n\n", gs[0].rows)
	fmt.Fprintln(w, "| loader | config | runs (s) | median s | rows/s | vs psql \\copy | vs pgloader | client CPU s | server CPU s |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|---:|")
	for _, g := range gs {
		vsPsql, vsPgl := "", ""
		if psql != nil {
			vsPsql = fmt.Sprintf("%.2f", g.rate()/psql.rate())
		}
		if pgl != nil {
			vsPgl = fmt.Sprintf("%.2f", g.rate()/pgl.rate())
		}
		client, server := g.cpu()
		fmt.Fprintf(w, "| %s | %s | %s | %.3f | %.0f | %s | %s | %s | %s |\n", g.loader, configName(g.config), runList(g), g.seconds(), g.rate(), vsPsql, vsPgl, client, server)
	}
	fmt.Fprintln(w)
}

func reportMigrate(w io.Writer, title string, gs []*group) {
	if len(gs) == 0 {
		return
	}
	fmt.Fprintf(w, "### %s\n\n", title)
	fmt.Fprintln(w, "| target | config | users | rows | runs (s) | median s | rows/s | users/s | peak RSS MiB (median / max) | client CPU s | server CPU s |")
	fmt.Fprintln(w, "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
	for _, g := range gs {
		med, peak := g.rssMiB()
		client, server := g.cpu()
		fmt.Fprintf(w, "| %s | %s | %d | %d | %s | %.2f | %.0f | %.0f | %.0f / %.0f | %s | %s |\n", g.target, configName(g.config),
			g.users, g.rows, runList(g), g.seconds(), g.rate(), float64(g.users)/g.seconds(), med, peak, client, server)
	}
	fmt.Fprintln(w)
}

// reportFlat compares peak RSS across job sizes for each target and config
// measured at more than one size.
func reportFlat(w io.Writer, gs []*group) {
	type key struct{ target, config string }
	by := map[key][]*group{}
	var order []key
	for _, g := range gs {
		k := key{g.target, g.config}
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], g)
	}
	header := false
	for _, k := range order {
		list := by[k]
		sizes := map[int64]bool{}
		for _, g := range list {
			sizes[g.users] = true
		}
		if len(sizes) < 2 {
			continue
		}
		slices.SortStableFunc(list, func(a, b *group) int { return int(a.users - b.users) })
		if !header {
			fmt.Fprintln(w, "### Flat memory: peak RSS as the job grows")
			fmt.Fprintln(w)
			fmt.Fprintln(w, "| target | config | users | rows | peak RSS MiB (median / max) | vs fewest users |")
			fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|")
			header = true
		}
		base, _ := list[0].rssMiB()
		for _, g := range list {
			med, peak := g.rssMiB()
			fmt.Fprintf(w, "| %s | %s | %d | %d | %.0f / %.0f | %.2f |\n", g.target, configName(g.config), g.users, g.rows, med, peak, med/base)
		}
	}
	if header {
		fmt.Fprintln(w)
	}
}
