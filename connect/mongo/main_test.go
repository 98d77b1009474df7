package mongo_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.uber.org/goleak"
)

// The package's tests and examples share one MongoDB-wire server: FerretDB
// embedded in the test process, storing into SQLite files in a temporary
// directory. Each test uses its own database.
var (
	serverURI string
	client    *mongo.Client // for setting up data; sources get their own
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) (code int) {
	stop, err := startServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect/mongo tests:", err)
		return 1
	}
	code = m.Run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "connect/mongo tests: stop server:", err)
		code = 1
	}
	if code == 0 {
		// Everything is stopped: the driver's clients (the sources' and
		// the set-up one) and FerretDB. Any goroutine left is a leak.
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "connect/mongo tests: leaked goroutines:", err)
			code = 1
		}
	}
	return code
}

// startServer starts FerretDB and connects the set-up client. stop
// disconnects the client, stops FerretDB, waits for its Run to return and
// removes its files.
func startServer() (stop func() error, err error) {
	dir, err := os.MkdirTemp("", "weir-mongo-test-")
	if err != nil {
		return nil, err
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    slog.New(slog.DiscardHandler),
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start FerretDB: %w", err), os.RemoveAll(dir))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	shutdown := func() error {
		cancel()
		return errors.Join(<-done, os.RemoveAll(dir))
	}
	serverURI = f.MongoDBURI() // waits for the listener
	client, err = mongo.Connect(options.Client().ApplyURI(serverURI))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("connect to FerretDB: %w", err), shutdown())
	}
	return func() error {
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer dcancel()
		return errors.Join(client.Disconnect(dctx), shutdown())
	}, nil
}

// testDB returns a database named after the test, dropped at its end.
func testDB(t *testing.T) *mongo.Database {
	t.Helper()
	name := strings.NewReplacer("/", "_", " ", "_", ".", "_").Replace(t.Name())
	if len(name) > 60 {
		name = name[:60]
	}
	db := client.Database(name)
	t.Cleanup(func() {
		if err := db.Drop(context.Background()); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return db
}
