package cluster_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/weir-etl/weir/internal/cluster"
)

// natsServer is an embedded NATS server with JetStream, storing in a
// directory of the test's, which Restart keeps.
type natsServer struct {
	t    *testing.T
	opts *server.Options
	s    *server.Server
}

func startServer(t *testing.T) *natsServer {
	t.Helper()
	ns := &natsServer{t: t, opts: &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true}}
	ns.start()
	ns.opts.Port = ns.s.Addr().(*net.TCPAddr).Port // a restart listens on the same port
	t.Cleanup(func() { ns.s.Shutdown(); ns.s.WaitForShutdown() })
	return ns
}

func (ns *natsServer) start() {
	s, err := server.NewServer(ns.opts)
	if err != nil {
		ns.t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		ns.t.Fatal("NATS server not ready")
	}
	ns.s = s
}

// Restart stops the server and starts another on the same port and store.
func (ns *natsServer) Restart() {
	ns.s.Shutdown()
	ns.s.WaitForShutdown()
	ns.start()
}

func (ns *natsServer) URL() string { return ns.s.ClientURL() }

// connect connects a client, closed at the test's end.
func (ns *natsServer) connect(t *testing.T, name string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, js, err := cluster.Connect(context.Background(), ns.URL(), name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc, js
}
