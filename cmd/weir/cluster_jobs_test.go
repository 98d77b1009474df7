package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/weir-etl/weir/connect/sqlite"
	"github.com/weir-etl/weir/examples/users"
	"github.com/weir-etl/weir/internal/cluster"
	"github.com/weir-etl/weir/internal/pgtest"
)

// embeddedNATS starts a NATS server with JetStream in the test's process,
// stopped at the test's end, and returns its URL.
func embeddedNATS(t *testing.T) string {
	t.Helper()
	return embeddedNATSAt(t, t.TempDir())
}

// embeddedNATSAt is embeddedNATS with JetStream's store in dir.
func embeddedNATSAt(t *testing.T, dir string) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s.ClientURL()
}

// startWorkers runs n `weir worker`s in the test's process until the test
// ends; wrap, if not nil, wraps their partition runner (to inject faults).
func startWorkers(t *testing.T, url string, n int, wrap func(cluster.RunFunc) cluster.RunFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range n {
		nc, js, err := cluster.Connect(ctx, url, "test worker")
		if err != nil {
			t.Fatal(err)
		}
		w, err := cluster.NewWorker(nc, js, cluster.WorkerConfig{Name: fmt.Sprintf("w%d", i), Poll: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		run := partRunner(js, nil)
		if wrap != nil {
			run = wrap(run)
		}
		wg.Go(func() {
			defer nc.Close()
			if err := w.Run(ctx, run); err != nil {
				t.Errorf("worker %d: %v", i, err)
			}
		})
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// TestClusterMigrateLoadsEachIDRangeOnce: `weir migrate --nats` into
// PostgreSQL splits 600 users into 6 id ranges for 2 workers; the tables
// hold exactly the rows the generator makes (the coordinator verifies it,
// and the keys, put back after the load, would refuse a doubled row), and
// each partition kept its checkpoint with the data.
func TestClusterMigrateLoadsEachIDRangeOnce(t *testing.T) {
	pg := pgtest.New(t)
	url := embeddedNATS(t)
	startWorkers(t, url, 2, nil)
	code, out, errOut := weirCmd(t, "migrate", "--users", "600", "--to", pg.URL(), "--nats", url, "--job", "mig",
		"--partition-rows", "100", "--batch", "40", "--progress", "off")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"6 partitions", "loaded 600 users as 75600 rows", "read 600 records: loaded 600 + rejected 0", "verified:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	pool := pg.Pool(t)
	ctx := context.Background()
	var parts int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM weir_checkpoints WHERE job LIKE 'mig/%'`).Scan(&parts); err != nil || parts != 6 {
		t.Errorf("%d partition checkpoints in the target (err %v), want 6", parts, err)
	}
	var name string
	u := users.Generate(437, users.GenOptions{Seed: 1})
	if err := pool.QueryRow(ctx, `SELECT username FROM users WHERE id = 437`).Scan(&name); err != nil || name != u.Username {
		t.Errorf("user 437 is %q (err %v), want %q", name, err, u.Username)
	}
	checkForeignKeys(t, pool)
}

// TestClusterRunJobFileMatchesOneMachine: `weir run examples/users/job.yaml
// --nats` over a JSON Lines file cut into byte ranges makes exactly the 15
// tables a one-machine `weir run` makes (counts and a checksum of every
// row): each worker ran the job's transforms over its range, every record
// once.
func TestClusterRunJobFileMatchesOneMachine(t *testing.T) {
	path := writeUsers(t, 150, 3)
	one, many := pgtest.New(t), pgtest.New(t)
	url := embeddedNATS(t)
	startWorkers(t, url, 2, nil)
	if code, out, errOut := weirCmd(t, "run", "../../examples/users/job.yaml", "--from", path, "--to", one.URL(), "--progress", "off"); code != exitOK {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := weirCmd(t, "run", "../../examples/users/job.yaml", "--from", path, "--to", many.URL(),
		"--nats", url, "--job", "runjob", "--partition-size", fmt.Sprint(fi.Size()/5), "--progress", "off")
	if code != exitOK || !strings.Contains(out, "read 150 records") || !strings.Contains(out, "partitions") {
		t.Fatalf("run --nats: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, " 1 partitions") {
		t.Fatalf("the file was not split:\n%s", out)
	}
	a, b := one.Pool(t), many.Pool(t)
	ctx := context.Background()
	for _, table := range users.TableNames() {
		q := `SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM "` + table + `" t`
		var na, nb int64
		var sa, sb string
		if err := a.QueryRow(ctx, q).Scan(&na, &sa); err != nil {
			t.Fatal(err)
		}
		if err := b.QueryRow(ctx, q).Scan(&nb, &sb); err != nil {
			t.Fatal(err)
		}
		if na == 0 || na != nb || sa != sb {
			t.Errorf("%s: one machine made %d rows (checksum %s), --nats %d (%s)", table, na, sa, nb, sb)
		}
	}
}

// TestClusterCopyFromTablesByKeyRanges copies a PostgreSQL table with
// sparse, skewed keys and a SQLite table into PostgreSQL with --nats: each
// is split into key ranges, and the target holds every source row once
// (the target has no key: a range read twice would show).
func TestClusterCopyFromTablesByKeyRanges(t *testing.T) {
	pg := pgtest.New(t)
	url := embeddedNATS(t)
	startWorkers(t, url, 3, nil)
	ctx := context.Background()
	pool := pg.Pool(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE src (id bigint PRIMARY KEY, name text);
		INSERT INTO src SELECT i, 'n' || i FROM generate_series(1, 20000) i WHERE i % 7 <> 3;
		INSERT INTO src SELECT 1000000000000 + i, 'far' FROM generate_series(1, 500) i`); err != nil {
		t.Fatal(err)
	}
	var want int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM src`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "src.db")
	db, err := sqlite.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE lite (id INTEGER PRIMARY KEY, name TEXT);
		WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 5000) INSERT INTO lite SELECT i * 3, 'l' || i FROM s`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, c := range []struct {
		source, table string
		rows          int64
	}{
		{pg.URL() + "&table=src", "dst", want},
		{"sqlite:" + dbPath + "?table=lite", "dst_lite", 5000},
	} {
		code, out, errOut := weirCmd(t, "copy", c.source, pg.URL()+"&table="+c.table, "--nats", url, "--job", c.table,
			"--partition-rows", "1500", "--batch", "400", "--progress", "off")
		if code != exitOK || !strings.Contains(out, fmt.Sprintf("read %d records: loaded %d + rejected 0", c.rows, c.rows)) {
			t.Fatalf("copy %s: exit %d\n%s%s", c.source, code, out, errOut)
		}
		var rows, ids int64
		if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT id) FROM `+c.table).Scan(&rows, &ids); err != nil {
			t.Fatal(err)
		}
		if rows != c.rows || ids != c.rows {
			t.Errorf("%s: %d rows, %d distinct ids; want %d each once", c.table, rows, ids, c.rows)
		}
	}
	var far int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM dst WHERE name = 'far'`).Scan(&far); err != nil || far != 500 {
		t.Errorf("%d rows past the gap (err %v), want 500", far, err)
	}
}

// TestClusterPublishesNoPassword: the coordinator's target URL holds a
// password (which the test server, trusting local connections, ignores);
// no message on the NATS server may hold it — workers take a password
// from their own environment.
func TestClusterPublishesNoPassword(t *testing.T) {
	pg := pgtest.New(t)
	url := embeddedNATS(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var mu sync.Mutex
	var seen, leaked []string
	if _, err := nc.Subscribe(">", func(m *nats.Msg) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, m.Subject)
		if strings.Contains(string(m.Data), "s3cretpw") {
			leaked = append(leaked, m.Subject)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	startWorkers(t, url, 1, nil)
	target := strings.Replace(pg.URL(), "postgres://postgres@", "postgres://postgres:s3cretpw@", 1)
	if target == pg.URL() {
		t.Fatalf("cannot put a password into %s", pg.URL())
	}
	src := writeFile(t, "p.csv", "id,name\n1,a\n2,b\n")
	if code, out, errOut := weirCmd(t, "copy", src, target+"&table=p", "--nats", url, "--job", "pw", "--progress", "off"); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(seen, "weir.job.pw.parts") {
		t.Fatalf("the partitions were not seen (subjects: %v)", seen)
	}
	if len(leaked) > 0 {
		t.Errorf("messages on %v hold the password", leaked)
	}
	// The same job name again: refused before the target is touched.
	code, _, errOut := weirCmd(t, "copy", src, pg.URL()+"&table=p2", "--nats", url, "--job", "pw", "--progress", "off")
	if code != exitUsage || !strings.Contains(errOut, "--job pw: a job of that name exists") {
		t.Errorf("a reused --job: exit %d, stderr %s; want %d naming it", code, errOut, exitUsage)
	}
	if n := pgInt(t, pg.Pool(t), `SELECT count(*) FROM pg_tables WHERE tablename = 'p2'`); n != 0 {
		t.Errorf("the refused job created its table")
	}
}

// TestClusterRejectsReachTheFileOnce copies a CSV with malformed lines and
// values that do not fit into PostgreSQL with --on-error skip and --key,
// and makes one partition run twice from the start (its first run's
// checkpoint deleted, as if its worker had died before saving it): it
// publishes its rejects twice, and the reject file must still hold each
// bad record once, with its line, and the report account for every record.
func TestClusterRejectsReachTheFileOnce(t *testing.T) {
	pg := pgtest.New(t)
	url := embeddedNATS(t)
	const n = 3000
	var b strings.Builder
	b.WriteString("id,score\n")
	bad := map[string]bool{} // "rows.csv:LINE"
	for i := 1; i <= n; i++ {
		switch {
		case i%250 == 0: // a line with a field too many
			fmt.Fprintf(&b, "%d,%d,extra\n", i, i)
			bad[fmt.Sprintf("rows.csv:%d", i+1)] = true
		case i%97 == 0: // a score that is no number
			fmt.Fprintf(&b, "%d,x%d\n", i, i)
			bad[fmt.Sprintf("rows.csv:%d", i+1)] = true
		default:
			fmt.Fprintf(&b, "%d,%d\n", i, i)
		}
	}
	csv := writeFile(t, "rows.csv", b.String())
	var once sync.Map
	var runs2 atomic.Int32
	twice := func(run cluster.RunFunc) cluster.RunFunc {
		return func(ctx context.Context, p cluster.Partition, ck *cluster.CheckpointStore, progress func(int64)) (int64, error) {
			if p.ID == 2 {
				runs2.Add(1)
			}
			rows, err := run(ctx, p, ck, progress)
			if _, again := once.LoadOrStore(p.ID, true); again || p.ID != 2 || err != nil {
				return rows, err
			}
			forgetCheckpoint(t, url, p)
			return rows, errors.New("injected: the partition is lost after its run, before its checkpoint")
		}
	}
	startWorkers(t, url, 2, twice)
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	fi, _ := os.Stat(csv)
	code, out, errOut := weirCmd(t, "copy", csv, pg.URL()+"&table=rows", "--nats", url, "--job", "rej", "--key", "id", "--sample", "50",
		"--on-error", "skip", "--reject", rejects, "--partition-size", fmt.Sprint(fi.Size()/4), "--batch", "100", "--progress", "off")
	want := fmt.Sprintf("read %d records: loaded %d + rejected %d: every record accounted for", n, n-len(bad), len(bad))
	if code != exitOK || !strings.Contains(out, want) {
		t.Fatalf("exit %d, want a report with %q:\n%s%s", code, want, out, errOut)
	}
	if runs2.Load() != 2 {
		t.Fatalf("partition 2 ran %d times, want 2", runs2.Load())
	}
	// The second run published its rejects again: the stream holds more
	// than the file.
	nc, js, err := cluster.Connect(context.Background(), url, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	st, err := js.Stream(context.Background(), "WEIR_REJ_rej")
	if err != nil {
		t.Fatal(err)
	}
	if info, err := st.Info(context.Background()); err != nil || info.State.Msgs <= uint64(len(bad)) {
		t.Errorf("the reject stream holds %d rejects (err %v), want more than the %d distinct ones", info.State.Msgs, err, len(bad))
	}
	seen := map[string]int{}
	for _, line := range readLines(t, rejects) {
		var f struct{ Source, Error string }
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("reject %q: %v", line, err)
		}
		seen[filepath.Base(f.Source)]++ // the file's absolute path, as workers read it
	}
	for src := range bad {
		if seen[src] != 1 {
			t.Errorf("%s is in the reject file %d times, want once", src, seen[src])
		}
	}
	if len(seen) != len(bad) {
		t.Errorf("%d distinct rejects, want %d: %v", len(seen), len(bad), seen)
	}
	var rows int64
	if err := pg.Pool(t).QueryRow(context.Background(), `SELECT count(*) FROM rows`).Scan(&rows); err != nil || rows != int64(n-len(bad)) {
		t.Errorf("%d rows (err %v), want %d", rows, err, n-len(bad))
	}
}

// forgetCheckpoint deletes partition p's checkpoint from the job's NATS
// bucket, so that its next run starts from the beginning of its range.
func forgetCheckpoint(t *testing.T, url string, p cluster.Partition) {
	nc, js, err := cluster.Connect(context.Background(), url, "test")
	if err != nil {
		t.Error(err)
		return
	}
	defer nc.Close()
	kv, err := js.KeyValue(context.Background(), "WEIR_CKPT_"+p.Job)
	if err == nil {
		err = kv.Delete(context.Background(), "ck."+base64.RawURLEncoding.EncodeToString([]byte(p.Name())))
	}
	if err != nil {
		t.Error(err)
	}
}

// TestClusterMigrateSurvivesWorkerKill: `weir migrate --nats` with 3
// worker processes; one is SIGKILLed once its partition has committed
// batches (its checkpoint is in the target) and before it finished. The
// partition is redelivered and resumed: the coordinator verifies every
// table's rows against the generator, and the keys, put back after the
// load, would refuse a doubled row.
func TestClusterMigrateSurvivesWorkerKill(t *testing.T) {
	pg := pgtest.New(t)
	nats := startNATS(t)
	var workers []*proc
	for i := range 3 {
		workers = append(workers, startWeir(t, "worker", "--nats", nats.url(), "--name", fmt.Sprintf("w%d", i)))
	}
	coord := startWeir(t, "migrate", "--users", "3000", "--to", pg.URL(), "--nats", nats.url(), "--job", "migkill",
		"--partition-rows", "500", "--batch", "20", "--ack-wait", "3s", "--progress", "off")
	pool := pg.Pool(t)
	deadline := time.Now().Add(2 * time.Minute)
	killed := ""
	for killed == "" && time.Now().Before(deadline) {
		part := workers[0].current()
		var n int
		if part != "" && pool.QueryRow(context.Background(), "SELECT count(*) FROM weir_checkpoints WHERE job = $1", part).Scan(&n) == nil && n > 0 {
			_ = workers[0].cmd.Process.Signal(syscall.SIGKILL)
			<-workers[0].done
			if workers[0].current() != part {
				t.Fatalf("the worker finished %s before the kill; the test needs larger partitions", part)
			}
			killed = part
			break
		}
		time.Sleep(20 * time.Millisecond) // polling the target, with a deadline
	}
	if killed == "" {
		t.Fatal("no partition with a checkpoint to kill the worker in")
	}
	select {
	case <-coord.done:
	case <-time.After(3 * time.Minute):
		t.Fatalf("the coordinator did not finish:\n%s", coord.output())
	}
	if coord.err != nil || !strings.Contains(coord.output(), "verified:") {
		t.Fatalf("coordinator: %v\n%s", coord.err, coord.output())
	}
	again := regexp.MustCompile(`(?m)^partition ` + killed + ` \(.*running \(attempt [2-9]`)
	if !again.MatchString(workers[1].output() + "\n" + workers[2].output()) {
		t.Errorf("no worker ran %s again:\n%s\n%s", killed, workers[1].output(), workers[2].output())
	}
	checkForeignKeys(t, pool)
}
