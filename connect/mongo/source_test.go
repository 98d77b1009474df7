package mongo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/weir-etl/weir"
	weirmongo "github.com/weir-etl/weir/connect/mongo"
)

// part is nested in doc, alone and in an array.
type part struct {
	Label string   `bson:"label"`
	Score float64  `bson:"score"`
	Tags  []string `bson:"tags"`
}

// doc is a test document with a field of every common BSON type.
type doc struct {
	ID     int64     `bson:"_id"`
	Name   string    `bson:"name"`
	Count  int64     `bson:"count"`
	Ratio  float64   `bson:"ratio"`
	Active bool      `bson:"active"`
	At     time.Time `bson:"at"`
	Part   part      `bson:"part"`
	Parts  []part    `bson:"parts"`
	Nums   []int32   `bson:"nums"`
	Note   *string   `bson:"note"`
}

// makeDoc returns document id; every field derives from id.
func makeDoc(id int64) doc {
	d := doc{
		ID:     id,
		Name:   fmt.Sprintf("name-%d-ünï", id),
		Count:  id * 1_000_000_007,
		Ratio:  float64(id) / 7,
		Active: id%3 == 0,
		At:     time.UnixMilli(1_700_000_000_000 + id*1_001).UTC(), // BSON dates hold milliseconds
		Part:   part{Label: fmt.Sprint("p", id), Score: float64(id) * 1.5, Tags: []string{"a", fmt.Sprint(id)}},
		Nums:   []int32{int32(id), int32(-id)},
	}
	for k := range id % 4 {
		d.Parts = append(d.Parts, part{Label: fmt.Sprint("q", k), Score: float64(k), Tags: []string{}})
	}
	if id%5 == 0 {
		s := fmt.Sprint("note ", id)
		d.Note = &s
	}
	return d
}

// insertDocs inserts documents 1..n in a shuffled order, so that reading
// them in _id order depends on the source's sort.
func insertDocs(t *testing.T, coll *mongo.Collection, n int64) []doc {
	t.Helper()
	want := make([]doc, n)
	for i := range want {
		want[i] = makeDoc(int64(i) + 1)
	}
	shuffled := slices.Clone(want)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	insert(t, coll, shuffled)
	return want
}

func insert[T any](t *testing.T, coll *mongo.Collection, docs []T) {
	t.Helper()
	for chunk := range slices.Chunk(docs, 500) {
		if _, err := coll.InsertMany(context.Background(), chunk); err != nil {
			t.Fatalf("insert into %s: %v", coll.Name(), err)
		}
	}
}

// collect is a sink that keeps what it is given, in load order.
type collect[T any] struct {
	mu  sync.Mutex
	got []T
}

func (c *collect[T]) Write(_ context.Context, batch []T) error {
	c.mu.Lock()
	c.got = append(c.got, batch...)
	c.mu.Unlock()
	return nil
}

// run reads src to the end through weir's engine with one worker, so that
// batches are loaded in the order they were read.
func run[E any](t *testing.T, src weir.Source[E]) []E {
	t.Helper()
	sink := &collect[E]{}
	p, err := weir.New(src, weir.Identity[E](), weir.Sink[E](sink), weir.Config{BatchSize: 64, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("run: %v", err)
	}
	return sink.got
}

func newSource[E any](t *testing.T, cfg weirmongo.SourceConfig[E]) *weirmongo.Source[E] {
	t.Helper()
	if cfg.URI == "" && cfg.Client == nil {
		cfg.URI = serverURI
	}
	src, err := weirmongo.NewSource(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewSource: %v", err)
	}
	t.Cleanup(func() {
		if err := src.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return src
}

func compareDocs(t *testing.T, got, want []doc) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d documents, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("document %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// readN reads exactly n records with direct Read calls of up to 50.
func readN[E any](t *testing.T, src *weirmongo.Source[E], n int) []E {
	t.Helper()
	var got []E
	buf := make([]E, 50)
	for len(got) < n {
		k, err := src.Read(context.Background(), buf[:min(len(buf), n-len(got))])
		got = append(got, buf[:k]...)
		if err != nil {
			t.Fatalf("Read after %d records: %v", len(got), err)
		}
	}
	return got
}

func TestSourceResume(t *testing.T) {
	coll := testDB(t).Collection("docs")
	want := insertDocs(t, coll, 300)
	cfg := weirmongo.SourceConfig[doc]{Database: coll.Database().Name(), Collection: coll.Name(), BatchSize: 40}

	t.Run("from the LastKey of an earlier read", func(t *testing.T) {
		first := newSource[doc](t, cfg)
		if pos := first.LastKey(); pos != nil {
			t.Fatalf("LastKey before any Read = %#v, want nil", pos)
		}
		head := readN(t, first, 123)
		pos := first.LastKey()
		if !reflect.DeepEqual(pos, []any{int64(123)}) {
			t.Fatalf("LastKey after 123 records = %#v, want [int64(123)]", pos)
		}
		if err := first.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		c := cfg
		c.After = pos
		rest := newSource[doc](t, c)
		if got := rest.LastKey(); !reflect.DeepEqual(got, pos) {
			t.Errorf("LastKey of a resumed source before Read = %#v, want After %#v", got, pos)
		}
		compareDocs(t, append(head, run(t, rest)...), want)
	})

	t.Run("after a given _id", func(t *testing.T) {
		for _, after := range []any{int64(0), int64(1), int32(150), 299.5, int64(300), int64(900)} {
			c := cfg
			c.After = []any{after}
			got := run(t, newSource[doc](t, c))
			var exp []doc
			for _, d := range want {
				if float64(d.ID) > reflect.ValueOf(after).Convert(reflect.TypeFor[float64]()).Float() {
					exp = append(exp, d)
				}
			}
			compareDocs(t, got, exp)
		}
	})

	t.Run("with a filter", func(t *testing.T) {
		c := cfg
		c.After = []any{int64(200)}
		c.Filter = bson.D{{Key: "active", Value: true}}
		got := run(t, newSource[doc](t, c))
		var exp []doc
		for _, d := range want[200:] {
			if d.Active {
				exp = append(exp, d)
			}
		}
		compareDocs(t, got, exp)
	})
}

func TestSourceProjectionResetsRecords(t *testing.T) {
	coll := testDB(t).Collection("docs")
	insertDocs(t, coll, 30)
	src := newSource(t, weirmongo.SourceConfig[doc]{
		Database: coll.Database().Name(), Collection: coll.Name(),
		Projection: bson.D{{Key: "name", Value: 1}},
	})
	// Slots holding an earlier record, as the engine's reused batches do:
	// fields the projection leaves out must not survive.
	buf := make([]doc, 30)
	for i := range buf {
		buf[i] = makeDoc(1000)
	}
	n, err := src.Read(context.Background(), buf)
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if n != 30 {
		t.Fatalf("Read returned %d records, want 30", n)
	}
	for i, d := range buf[:n] {
		want := doc{ID: int64(i) + 1, Name: makeDoc(int64(i) + 1).Name}
		if !reflect.DeepEqual(d, want) {
			t.Fatalf("record %d = %+v, want %+v", i, d, want)
		}
	}
}

func TestSourceDecodeError(t *testing.T) {
	coll := testDB(t).Collection("docs")
	docs := []any{}
	for id := int64(1); id <= 6; id++ {
		docs = append(docs, makeDoc(id))
	}
	docs[4] = bson.D{{Key: "_id", Value: int64(5)}, {Key: "count", Value: "five"}}
	insert(t, coll, docs)
	src := newSource(t, weirmongo.SourceConfig[doc]{Database: coll.Database().Name(), Collection: coll.Name()})

	buf := make([]doc, 10)
	_, err := src.Read(context.Background(), buf)
	if err == nil {
		t.Fatal("Read of a document with a string count returned no error")
	}
	for _, s := range []string{"docs", "document 5", "_id 5", "count"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
	if n2, err2 := src.Read(context.Background(), buf); n2 != 0 || err2 == nil || err2.Error() != err.Error() {
		t.Errorf("Read after the error = %d, %v; want 0 and the same error", n2, err2)
	}

	t.Run("through the engine", func(t *testing.T) {
		src := newSource(t, weirmongo.SourceConfig[doc]{Database: coll.Database().Name(), Collection: coll.Name()})
		p, err := weir.New(weir.Source[doc](src), weir.Identity[doc](), weir.Sink[doc](&collect[doc]{}), weir.Config{})
		if err != nil {
			t.Fatal(err)
		}
		err = p.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "_id 5") {
			t.Fatalf("Run = %v, want an error naming _id 5", err)
		}
		var se *weir.StageError
		if !errors.As(err, &se) || se.Stage != weir.StageExtract {
			t.Errorf("Run error %v is not an extract StageError", err)
		}
	})
}

func TestSourceCancelledRead(t *testing.T) {
	coll := testDB(t).Collection("docs")
	insertDocs(t, coll, 30)
	src := newSource(t, weirmongo.SourceConfig[doc]{Database: coll.Database().Name(), Collection: coll.Name(), BatchSize: 10})
	buf := make([]doc, 25)
	n, err := src.Read(context.Background(), buf)
	if n != 10 || err != nil {
		t.Fatalf("first Read = %d, %v; want the first cursor batch: 10, nil", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err = src.Read(ctx, buf)
	if n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with a cancelled context = %d, %v; want 0 and context.Canceled", n, err)
	}
}

func TestSourceClose(t *testing.T) {
	coll := testDB(t).Collection("docs")
	insertDocs(t, coll, 20)
	cfg := weirmongo.SourceConfig[doc]{Database: coll.Database().Name(), Collection: coll.Name(), BatchSize: 5}

	t.Run("ends Read", func(t *testing.T) {
		src := newSource[doc](t, cfg)
		if _, err := src.Read(context.Background(), make([]doc, 3)); err != nil {
			t.Fatal(err)
		}
		if err := src.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := src.Read(context.Background(), make([]doc, 3)); err == nil {
			t.Fatal("Read after Close returned no error")
		}
	})

	t.Run("leaves a passed client connected", func(t *testing.T) {
		c := cfg
		c.Client = client
		src := newSource[doc](t, c)
		if got := run(t, src); len(got) != 20 {
			t.Fatalf("read %d documents, want 20", len(got))
		}
		if err := src.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := client.Ping(context.Background(), nil); err != nil {
			t.Fatalf("the passed client no longer answers after Close: %v", err)
		}
	})
}

func TestNewSourceUnreachable(t *testing.T) {
	start := time.Now()
	_, err := weirmongo.NewSource(context.Background(), weirmongo.SourceConfig[doc]{
		URI:            "mongodb://alice:s3cret@127.0.0.1:1/?connectTimeoutMS=200",
		Database:       "db",
		Collection:     "c",
		ConnectTimeout: 300 * time.Millisecond,
	})
	t.Logf("NewSource failed after %v: %v", time.Since(start), err)
	if err == nil {
		t.Fatal("NewSource with nothing listening returned no error")
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("error %q does not name the address", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q shows the URI's password", err)
	}
}

func TestSourceConfigValidate(t *testing.T) {
	ok := weirmongo.SourceConfig[doc]{URI: "mongodb://localhost:27017", Database: "db", Collection: "c"}
	cases := []struct {
		name   string
		change func(*weirmongo.SourceConfig[doc])
		want   []string // each must appear in the error
	}{
		{"no URI nor Client", func(c *weirmongo.SourceConfig[doc]) { c.URI = "" }, []string{"SourceConfig.URI", "Client"}},
		{"URI and Client", func(c *weirmongo.SourceConfig[doc]) { c.Client = client }, []string{"SourceConfig.URI and Client are both set"}},
		{"bad URI", func(c *weirmongo.SourceConfig[doc]) { c.URI = "postgres://u:hidden@x" }, []string{"SourceConfig.URI is not a valid"}},
		{"no Database", func(c *weirmongo.SourceConfig[doc]) { c.Database = "" }, []string{"SourceConfig.Database is empty"}},
		{"bad Database", func(c *weirmongo.SourceConfig[doc]) { c.Database = "a.b" }, []string{"SourceConfig.Database \"a.b\""}},
		{"no Collection", func(c *weirmongo.SourceConfig[doc]) { c.Collection = "" }, []string{"SourceConfig.Collection is empty"}},
		{"bad Collection", func(c *weirmongo.SourceConfig[doc]) { c.Collection = "a$b" }, []string{"SourceConfig.Collection \"a$b\""}},
		{"Filter not a document", func(c *weirmongo.SourceConfig[doc]) { c.Filter = "active" }, []string{"SourceConfig.Filter"}},
		{"Projection not a document", func(c *weirmongo.SourceConfig[doc]) { c.Projection = 3 }, []string{"SourceConfig.Projection"}},
		{"After not encodable", func(c *weirmongo.SourceConfig[doc]) { c.After = []any{make(chan int)} }, []string{"SourceConfig.After[0] cannot be encoded"}},
		{"After of two values", func(c *weirmongo.SourceConfig[doc]) { c.After = []any{1, 2} }, []string{"SourceConfig.After has 2 values: the key is one field, _id"}},
		{"negative BatchSize", func(c *weirmongo.SourceConfig[doc]) { c.BatchSize = -1 }, []string{"SourceConfig.BatchSize", "got -1"}},
		{"huge BatchSize", func(c *weirmongo.SourceConfig[doc]) { c.BatchSize = weirmongo.MaxBatchSize + 1 }, []string{"SourceConfig.BatchSize"}},
		{"negative ConnectTimeout", func(c *weirmongo.SourceConfig[doc]) { c.ConnectTimeout = -time.Second }, []string{"SourceConfig.ConnectTimeout"}},
		{"every bad field at once", func(c *weirmongo.SourceConfig[doc]) { *c = weirmongo.SourceConfig[doc]{BatchSize: -5} },
			[]string{"SourceConfig.URI", "SourceConfig.Database", "SourceConfig.Collection", "SourceConfig.BatchSize"}},
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.change(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate returned no error")
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "hidden") {
				t.Errorf("error %q shows the URI's password", err)
			}
			// NewSource refuses the same config before connecting.
			if _, nerr := weirmongo.NewSource(context.Background(), c); nerr == nil || nerr.Error() != err.Error() {
				t.Errorf("NewSource error = %v, want the Validate error", nerr)
			}
		})
	}
}

// TestSourceBSONOptions checks that BSONOptions reach decoding: a struct
// with json tags only is decoded by its json names.
func TestSourceBSONOptions(t *testing.T) {
	coll := testDB(t).Collection("people")
	oid := bson.NewObjectID()
	insert(t, coll, []bson.D{{{Key: "_id", Value: oid}, {Key: "first_name", Value: "Ada"}}})
	cfg := weirmongo.SourceConfig[bson.Raw]{Database: coll.Database().Name(), Collection: coll.Name()}

	t.Run("without options json tags are ignored", func(t *testing.T) {
		// Without a bson tag the driver uses the lower-cased field name:
		// "id" and "firstname", keys the document lacks, so the record
		// stays zero without any error.
		type jsonPlain struct {
			ID        string `json:"_id"`
			FirstName string `json:"first_name"`
		}
		got := run(t, newSource(t, weirmongo.SourceConfig[jsonPlain](cfg)))
		if want := []jsonPlain{{}}; !reflect.DeepEqual(got, want) {
			t.Fatalf("read %+v, want %+v", got, want)
		}
	})

	t.Run("with UseJSONStructTags and ObjectIDAsHexString", func(t *testing.T) {
		type jsonOnly struct {
			ID        string `json:"_id"`
			FirstName string `json:"first_name"`
		}
		c := cfg
		c.BSONOptions = &options.BSONOptions{UseJSONStructTags: true, ObjectIDAsHexString: true}
		got := run(t, newSource(t, weirmongo.SourceConfig[jsonOnly](c)))
		if want := []jsonOnly{{ID: oid.Hex(), FirstName: "Ada"}}; !reflect.DeepEqual(got, want) {
			t.Fatalf("read %+v, want %+v", got, want)
		}
	})
}

// TestDriverCachesStructTagChoicePerType pins a driver behaviour that the
// package doc warns about: go.mongodb.org/mongo-driver/v2 (v2.10.0) caches
// how it maps a struct type's fields the first time it sees the type, and
// the cache ignores UseJSONStructTags. A type first decoded without the
// option keeps its lower-cased names when later decoded with it. If this
// test fails, the driver has fixed that and the doc's warning can go.
func TestDriverCachesStructTagChoicePerType(t *testing.T) {
	type cached struct {
		FirstName string `json:"first_name"`
	}
	raw, err := bson.Marshal(bson.D{{Key: "first_name", Value: "Ada"}})
	if err != nil {
		t.Fatal(err)
	}
	decode := func(useJSON bool) cached {
		t.Helper()
		dec := bson.NewDecoder(bson.NewDocumentReader(bytes.NewReader(raw)))
		if useJSON {
			dec.UseJSONStructTags()
		}
		var c cached
		if err := dec.Decode(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if got := decode(false); got.FirstName != "" {
		t.Fatalf("without UseJSONStructTags got %+v, want the field left empty", got)
	}
	if got := decode(true); got.FirstName != "" {
		t.Fatalf("with UseJSONStructTags after a decode without it got %+v: the driver no longer caches the tag choice per type; drop the warning in doc.go", got)
	}
}
