package conntest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/conntest"
)

// fruitSource is a connector under test: a source over a slice, whose
// position is the number of fruits read.
type fruitSource struct {
	fruits []string
	next   int
}

func (s *fruitSource) Read(ctx context.Context, buf []string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.next == len(s.fruits) {
		return 0, io.EOF
	}
	n := copy(buf, s.fruits[s.next:])
	s.next += n
	return n, nil
}

func (s *fruitSource) Position() ([]byte, error) {
	return strconv.AppendInt(nil, int64(s.next), 10), nil
}

func (s *fruitSource) Seek(pos []byte) error {
	n, err := strconv.Atoi(string(pos))
	if err != nil || n < 0 || n > len(s.fruits) {
		return fmt.Errorf("fruit: position %q is not a count of fruits", pos)
	}
	s.next = n
	return nil
}

// fruitStore is a checkpoint store on a map that outlives it, as a file
// outlives the store that writes it.
type fruitStore struct {
	mu   *sync.Mutex
	jobs map[string][]byte
}

func (s fruitStore) Load(_ context.Context, job string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.jobs[job]), nil
}

func (s fruitStore) Save(_ context.Context, job string, pos []byte) error {
	if len(pos) == 0 {
		return errors.New("fruit: empty position")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[job] = slices.Clone(pos)
	return nil
}

var fruits = []string{"apple", "banana", "cherry", "date", "elderberry", "fig", "grape", "honeydew"}

// testFruitSource is a connector's source test: one call checks the whole
// contract of weir.Source and weir.Positioner.
func testFruitSource(t *testing.T) {
	conntest.Source(t, conntest.SourceCase[string]{
		Open:         func(*testing.T) weir.Source[string] { return &fruitSource{fruits: fruits} },
		Want:         fruits,
		BadPositions: [][]byte{[]byte("-1"), []byte("nine"), []byte("99")},
	})
}

// testFruitSink checks a sink made with weir.SinkFunc that appends to a
// slice, and refuses a batch holding an empty fruit.
func testFruitSink(t *testing.T) {
	conntest.Sink(t, conntest.SinkCase[string]{
		Open: func(*testing.T) (weir.Sink[string], func() []string) {
			var mu sync.Mutex
			var basket []string
			sink := weir.SinkFunc[string](func(ctx context.Context, batch []string) error {
				if slices.Contains(batch, "") {
					return errors.New("fruit: an empty fruit")
				}
				mu.Lock()
				defer mu.Unlock()
				basket = append(basket, batch...)
				return nil
			})
			readBack := func() []string {
				mu.Lock()
				defer mu.Unlock()
				return slices.Clone(basket)
			}
			return sink, readBack
		},
		Records:    fruits,
		Ordered:    true,
		Failing:    []string{"kiwi", ""},
		Concurrent: true,
	})
}

// testFruitStore checks fruitStore. Each Open makes a new store on the
// same map, so that the kit can check that positions survive a reopen.
func testFruitStore(t *testing.T) {
	storage := map[string][]byte{}
	var mu sync.Mutex
	conntest.CheckpointStore(t, conntest.CheckpointStoreCase{
		Open: func(*testing.T) weir.CheckpointStore { return fruitStore{&mu, storage} },
	})
}

// The kit reports to the *testing.T of a running test, which an example
// has not, so this example has no output and is not run. In a connector's
// _test.go file, the functions above are its tests: func TestSource(t
// *testing.T) { conntest.Source(t, ...) } and so on.
func Example() {
	_, _, _ = testFruitSource, testFruitSink, testFruitStore
}
