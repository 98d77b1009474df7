package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	dto "github.com/prometheus/client_model/go"

	"github.com/weir-etl/weir/internal/promtest"
)

// TestMetricsAddrBusyPort: every command that runs a job refuses a port
// in use with exit 2, naming the flag, before it writes anything.
func TestMetricsAddrBusyPort(t *testing.T) {
	checkLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()
	dir := t.TempDir()
	csv := writeFile(t, "n.csv", "id\n1\n")
	for _, args := range [][]string{
		{"copy", csv, "sqlite:" + filepath.Join(dir, "copy.db")},
		{"run", writeFile(t, "job.yaml", "source: n.csv\ntarget: sqlite:run.db\n"), "--to", "sqlite:" + filepath.Join(dir, "run.db")},
		{"migrate", "--users", "10", "--to", "sqlite:" + filepath.Join(dir, "migrate.db")},
	} {
		code, _, errOut := weirCmd(t, append(args, "--metrics-addr", busy, "--progress", "off")...)
		if code != exitUsage || !strings.Contains(errOut, "--metrics-addr "+busy) {
			t.Errorf("weir %s with a busy --metrics-addr: exit %d, stderr %q; want exit %d naming the flag", args[0], code, errOut, exitUsage)
		}
	}
	// A worker serves its partitions' metrics: the port is taken before
	// it goes to NATS (none listens at this URL).
	code, _, errOut := weirCmd(t, "worker", "--nats", "nats://127.0.0.1:1", "--metrics-addr", busy)
	if code != exitUsage || !strings.Contains(errOut, "--metrics-addr "+busy) {
		t.Errorf("weir worker with a busy --metrics-addr: exit %d, stderr %q; want exit %d naming the flag", code, errOut, exitUsage)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused command wrote %v", entries)
	}
}

// TestMetricsWhileCopyRuns runs `weir copy` from standard input, held
// open by the test so that the job keeps running, and checks what
// --metrics-addr serves meanwhile: /metrics (parsed with Prometheus's
// text parser, accepted by promtool, with the job's counts), a CPU profile
// from /debug/pprof/profile, and a real Prometheus server's view of it
// through its query API. At the end the counts equal the final ones and
// the server is gone.
func TestMetricsWhileCopyRuns(t *testing.T) {
	checkLeaks(t)
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	const held = 2000 // rows written before the test holds the input open
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	stdin := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = stdin }()

	addr := promtest.FreeAddr(t)
	db := filepath.Join(t.TempDir(), "m.db")
	var out, errOut bytes.Buffer
	exited := make(chan int, 1)
	go func() {
		exited <- run([]string{"copy", "-", "sqlite:" + db + "?table=nums", "--format", "csv", "--sample", "10",
			"--batch", "100", "--progress", "off", "--metrics-addr", addr}, &out, &errOut)
	}()
	fmt.Fprintln(w, "id,name")
	for i := range held {
		fmt.Fprintf(w, "%d,n%d\n", i, i)
	}

	metricsURL := "http://" + addr + "/metrics"
	load := map[string]string{"pipeline": "nums", "stage": "load"}
	var page []byte
	err = promtest.Poll(60*time.Second, func() (bool, error) {
		select {
		case code := <-exited:
			return false, fmt.Errorf("copy exited %d early: %s", code, errOut.String())
		default:
		}
		resp, err := http.Get(metricsURL)
		if err != nil {
			return false, nil // not listening yet
		}
		defer resp.Body.Close()
		page, _ = io.ReadAll(resp.Body)
		v, _ := promtest.Value(promtest.Parse(t, page), "weir_records_total", load)
		return v == held, nil
	})
	if err != nil {
		t.Fatalf("weir_records_total{stage=load} did not reach %d while the input was held: %v\n%s", held, err, page)
	}
	promtest.CheckMetrics(t, page) // weir's metrics with the Go and process collectors'
	if v, _ := promtest.Value(promtest.Parse(t, page), "weir_running", map[string]string{"pipeline": "nums"}); v != 1 {
		t.Errorf("weir_running = %v while the copy runs, want 1", v)
	}

	prof, err := profile.Parse(bytes.NewReader(promtest.Get(t, "http://"+addr+"/debug/pprof/profile?seconds=1")))
	if err != nil {
		t.Fatalf("/debug/pprof/profile?seconds=1: %v", err)
	}
	if len(prof.SampleType) == 0 || prof.SampleType[len(prof.SampleType)-1].Type != "cpu" {
		t.Errorf("/debug/pprof/profile is not a CPU profile: sample types %v", prof.SampleType)
	}

	ps := promtest.StartServer(t, addr, 200*time.Millisecond)
	err = promtest.Poll(60*time.Second, func() (bool, error) {
		vs, err := ps.Query(context.Background(), `weir_records_total{stage="load"}`)
		return err == nil && len(vs) == 1 && vs[0] > 0, err
	})
	if err != nil {
		t.Fatalf("Prometheus never saw weir_records_total{stage=\"load\"} > 0: %v", err)
	}
	checkDashboard(t, ps, promtest.Parse(t, page))

	w.Close() // end of input: the copy finishes
	if code := <-exited; code != exitOK {
		t.Fatalf("copy: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), fmt.Sprintf("loaded %d rows", held)) {
		t.Errorf("copy output:\n%s", out.String())
	}
	if resp, err := http.Get(metricsURL); err == nil {
		resp.Body.Close()
		t.Errorf("%s still answers after the command ended", metricsURL)
	}
}

// checkDashboard checks every query of the Grafana dashboard in docs/:
// Prometheus accepts it, and each weir metric it names is on the page.
func checkDashboard(t *testing.T, ps *promtest.Server, fams map[string]*dto.MetricFamily) {
	t.Helper()
	raw, err := os.ReadFile("../../docs/grafana-weir.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("docs/grafana-weir.json: %v", err)
	}
	n := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			n++
			q := strings.NewReplacer("$pipeline", ".*", "$__rate_interval", "1m").Replace(tg.Expr)
			if _, err := ps.Query(context.Background(), q); err != nil {
				t.Errorf("dashboard panel %q: %v", p.Title, err)
			}
			for _, name := range regexp.MustCompile(`weir_[a-z_]+`).FindAllString(tg.Expr, -1) {
				// weir_load_limit is only there in an adaptive run.
				if fams[strings.TrimSuffix(name, "_bucket")] == nil && name != "weir_load_limit" {
					t.Errorf("dashboard panel %q uses %s, which /metrics does not have", p.Title, name)
				}
			}
		}
	}
	if n < 6 {
		t.Errorf("the dashboard has %d queries, want at least 6", n)
	}
}
