package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/weir-etl/weir/prom"
)

// metricsFlags is --metrics-addr, on every command that runs a job.
type metricsFlags struct {
	addr string
}

func (m *metricsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.addr, "metrics-addr", "", "serve Prometheus metrics at http://HOST:PORT/metrics and Go profiles at /debug/pprof/ while the command runs (port 0: any free port, printed on stderr); docs/METRICS.md")
}

// metricsServer serves the run's metrics and the process's profiles
// until stop. A nil *metricsServer (no --metrics-addr) does nothing.
type metricsServer struct {
	c   prom.Collector
	srv *http.Server
	wg  sync.WaitGroup
}

// serve listens on --metrics-addr, before the command touches anything,
// so that a busy port is a usage error (exit 2) with nothing written. It
// returns nil without the flag. The caller must call stop.
func (m *metricsFlags) serve(stderr io.Writer) (*metricsServer, error) {
	if m.addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", m.addr)
	if err != nil {
		return nil, usagef("--metrics-addr %s: %w", m.addr, err)
	}
	s := &metricsServer{}
	reg := prometheus.NewRegistry()
	reg.MustRegister(&s.c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// A private mux: importing net/http/pprof also registers its handlers
	// on http.DefaultServeMux, which nothing here serves. /debug/pprof/cmdline
	// is left out: the command line may hold a database password.
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/debug/pprof/cmdline" {
			http.NotFound(w, r)
			return
		}
		pprof.Index(w, r)
	})
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Go(func() {
		// Serve only ends on stop's Close (http.ErrServerClosed) or a
		// failing listener, which would only cost the metrics, not the run.
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "weir: --metrics-addr: %v\n", err)
		}
	})
	fmt.Fprintf(stderr, "weir: metrics at http://%s/metrics, profiles at http://%s/debug/pprof/\n", ln.Addr(), ln.Addr())
	return s, nil
}

// watch reports r's statistics under the label pipeline=name.
func (s *metricsServer) watch(name string, r prom.Run) {
	if s != nil {
		s.c.Watch(name, r)
	}
}

// stop closes the listener and the open connections (a profile being
// taken is cut short) and waits for the server's goroutine.
func (s *metricsServer) stop() {
	if s == nil {
		return
	}
	_ = s.srv.Close()
	s.wg.Wait()
}

// jobName is a job file's name without directory and extension, the
// pipeline label of `weir run` (jobs/users.yaml → users).
func jobName(file string) string {
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}
