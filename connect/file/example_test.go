package file_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/file"
)

// A mongoexport line, canonical mode, decoded into a plain struct.
func ExampleNewJSONLSource() {
	type user struct {
		ID      string    `json:"_id"`
		Name    string    `json:"name"`
		Created time.Time `json:"created"`
		Logins  int64     `json:"logins"`
	}
	export := `{"_id":{"$oid":"65a1b2c3d4e5f60718293a4b"},"name":"Ada","created":{"$date":{"$numberLong":"1704164645000"}},"logins":{"$numberLong":"42"}}
{"_id":{"$oid":"65a1b2c3d4e5f60718293a4c"},"name":"Grace","created":{"$date":"2024-03-04T05:06:07Z"},"logins":7}
`
	src, err := file.NewJSONLSource[user](strings.NewReader(export), file.JSONLSourceConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	buf := make([]user, 10)
	n, err := src.Read(context.Background(), buf)
	fmt.Println(n, err)
	for _, u := range buf[:n] {
		fmt.Println(u.ID, u.Name, u.Created.Format(time.RFC3339), u.Logins)
	}
	// Output:
	// 2 EOF
	// 65a1b2c3d4e5f60718293a4b Ada 2024-01-02T03:04:05Z 42
	// 65a1b2c3d4e5f60718293a4c Grace 2024-03-04T05:06:07Z 7
}

// Skip mode: malformed lines go to a callback (a dead-letter file, a
// counter) and the read goes on.
func ExampleReadOptions_onBadLine() {
	type rec struct{ ID int }
	in := "{\"ID\":1}\n{\"ID\":\"two\"}\n\n{\"ID\":3\n{\"ID\":4}\n"
	src, _ := file.NewJSONLSource[rec](strings.NewReader(in), file.JSONLSourceConfig{
		ReadOptions: file.ReadOptions{
			Name: "in.jsonl",
			OnBadLine: func(line int, text []byte, err error) error {
				fmt.Printf("skipped line %d: %s\n", line, text)
				return nil
			},
		},
	})
	buf := make([]rec, 10)
	n, _ := src.Read(context.Background(), buf)
	fmt.Println("read", n, "records; skipped", src.Skipped())
	// Output:
	// skipped line 2: {"ID":"two"}
	// skipped line 4: {"ID":3
	// read 2 records; skipped 2
}

func ExampleNewJSONLSink() {
	type point struct {
		X, Y int
		Tag  string `json:"tag,omitempty"`
	}
	sink, _ := file.NewJSONLSink[point](os.Stdout, file.JSONLSinkConfig{})
	_ = sink.Write(context.Background(), []point{{1, 2, ""}, {3, 4, "a<b"}})
	_ = sink.Close(context.Background()) // flushes; os.Stdout stays open
	// Output:
	// {"X":1,"Y":2}
	// {"X":3,"Y":4,"tag":"a\u003cb"}
}

func ExampleNewCSVSource() {
	type contact struct {
		Name  string
		Email string
		Age   int
	}
	in := "name,email,age\n\"Lovelace, Ada\",ada@example.com,36\nGrace,grace@example.com,85\n"
	src, _ := file.NewCSVSource(strings.NewReader(in), file.CSVSourceConfig[contact]{
		Columns: []string{"name", "email", "age"}, // checked against the header
		Decode: func(r file.Record) (contact, error) {
			age, err := strconv.Atoi(r.Get("age"))
			return contact{Name: r.Get("name"), Email: r.Get("email"), Age: age}, err
		},
	})
	buf := make([]contact, 10)
	n, err := src.Read(context.Background(), buf)
	fmt.Println(n, err)
	for _, c := range buf[:n] {
		fmt.Printf("%s <%s> %d\n", c.Name, c.Email, c.Age)
	}
	// Output:
	// 2 EOF
	// Lovelace, Ada <ada@example.com> 36
	// Grace <grace@example.com> 85
}

func ExampleNewCSVSink() {
	type item struct {
		SKU  string
		Note string
	}
	sink, _ := file.NewCSVSink(os.Stdout, file.CSVSinkConfig[item]{
		Header: []string{"sku", "note"},
		Encode: func(it item, row []string) []string { return append(row, it.SKU, it.Note) },
	})
	_ = sink.Write(context.Background(), []item{{"A-1", "plain"}, {"B-2", `says "hi", twice`}})
	_ = sink.Close(context.Background())
	// Output:
	// sku,note
	// A-1,plain
	// B-2,"says ""hi"", twice"
}

// A whole run: JSON Lines in, CSV out, files on both ends.
func ExampleOpenJSONL() {
	dir, _ := os.MkdirTemp("", "weir-example")
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "in.jsonl")
	_ = os.WriteFile(in, []byte("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n"), 0o644)

	type num struct{ N int }
	src, err := file.OpenJSONL[num](in, file.JSONLSourceConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	out := filepath.Join(dir, "out.csv")
	sink, err := file.CreateCSV(out, file.CSVSinkConfig[string]{
		Header: []string{"square"},
		Encode: func(s string, row []string) []string { return append(row, s) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	square := weir.Map(func(_ context.Context, v num) (string, error) { return strconv.Itoa(v.N * v.N), nil })
	p, err := weir.New(src, square, weir.Sink[string](sink), weir.Config{Workers: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Run(context.Background()); err != nil { // closes both files
		fmt.Println(err)
		return
	}
	data, _ := os.ReadFile(out)
	fmt.Print(string(data))
	// Output:
	// square
	// 1
	// 4
	// 9
}

// A resumable job: the first run stops at a failure, the second starts
// after the last record the first one loaded.
func ExampleNewCheckpointStore() {
	dir, _ := os.MkdirTemp("", "weir-example")
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "in.jsonl")
	_ = os.WriteFile(in, []byte("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n{\"n\":5}\n"), 0o644)
	store, err := file.NewCheckpointStore(filepath.Join(dir, "checkpoints.json"))
	if err != nil {
		fmt.Println(err)
		return
	}

	type num struct{ N int }
	run := func(failOn int) error {
		src, err := file.OpenJSONL[num](in, file.JSONLSourceConfig{})
		if err != nil {
			return err
		}
		load := weir.SinkFunc[num](func(_ context.Context, batch []num) error {
			for _, v := range batch {
				if v.N == failOn {
					return fmt.Errorf("cannot load %d", v.N)
				}
			}
			fmt.Println("loaded", batch)
			return nil
		})
		p, err := weir.New(src, weir.Identity[num](), weir.Sink[num](load), weir.Config{BatchSize: 2, Workers: 1},
			weir.WithCheckpoint(store, "numbers"))
		if err != nil {
			return err
		}
		return p.Run(context.Background())
	}

	if err := run(3); err != nil {
		fmt.Println("run 1 failed")
	}
	pos, _ := store.Load(context.Background(), "numbers")
	fmt.Printf("checkpoint: %s\n", pos)
	if err := run(0); err != nil {
		fmt.Println(err)
	}
	pos, _ = store.Load(context.Background(), "numbers")
	fmt.Printf("checkpoint: %s\n", pos)
	// Output:
	// loaded [{1} {2}]
	// run 1 failed
	// checkpoint: {"line":2}
	// loaded [{3} {4}]
	// loaded [{5}]
	// checkpoint: {"line":5}
}

// Records the sink refuses go to a dead-letter file, with their errors,
// and the run carries on.
func ExampleCreateDeadLetter() {
	dir, _ := os.MkdirTemp("", "weir-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "dead.jsonl")
	dl, err := file.CreateDeadLetter(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	type user struct {
		ID    int    `json:"id"`
		Email string `json:"email"`
	}
	load := weir.SinkFunc[user](func(_ context.Context, batch []user) error {
		for _, u := range batch {
			if !strings.Contains(u.Email, "@") {
				return fmt.Errorf("user %d: invalid email %q", u.ID, u.Email)
			}
		}
		return nil // one transaction per batch: all or nothing
	})
	users := []user{{1, "a@x"}, {2, "nope"}, {3, "c@x"}, {4, "d@x"}}
	p, err := weir.New(weir.FromSlice(users), weir.Identity[user](), weir.Sink[user](load),
		weir.Config{BatchSize: 4, Workers: 1, OnLoadError: weir.Skip}, weir.WithDeadLetter(dl))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Run(context.Background()); err != nil { // closes dl
		fmt.Println(err)
		return
	}
	fmt.Println("loaded", p.Stats().Load.Records, "dead-lettered", p.Stats().DeadLettered())
	data, _ := os.ReadFile(path)
	fmt.Print(string(data))
	// Output:
	// loaded 3 dead-lettered 1
	// {"stage":"load","record":{"id":2,"email":"nope"},"error":"user 2: invalid email \"nope\"","attempts":1,"position":1,"batch":0}
}
