package mongo

import (
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/weir-etl/weir"
)

var _ weir.Positioner = (*Source[struct{}])(nil)

// Position returns the _id of the last document Read has returned, for
// weir's checkpoints: the document {"_id": <id>} in canonical MongoDB
// Extended JSON, which keeps the _id's BSON type exactly:
//
//	{"_id":{"$oid":"65a1b2c3d4e5f60718293a4b"}}
//	{"_id":{"$numberLong":"1234"}}
//	{"_id":"alice"}
//	{"_id":null}                      nothing read, no After
//
// Before the first document it is [SourceConfig.After]. It implements
// [weir.Positioner]; [Source.Seek] is its inverse. Safe to call from any
// goroutine; cost: one small encoding.
func (s *Source[E]) Position() ([]byte, error) {
	s.mu.Lock()
	id := s.position
	s.mu.Unlock()
	pos, err := bson.MarshalExtJSON(bson.D{{Key: "_id", Value: id}}, true, false)
	if err != nil {
		return nil, fmt.Errorf("mongo: position in %s: encode _id %v: %w", s.ns, id, err)
	}
	return pos, nil
}

// Seek makes the source read the documents whose _id is greater than the
// _id in pos, a position from [Source.Position] (relaxed Extended JSON is
// accepted too): it sets [SourceConfig.After] to that _id, decoded to the
// Go value the driver gives it ({"_id":null} reads from the first
// document). It does not contact the server: the cursor opens on the first
// Read. It must be called at most once, before the first Read; it returns
// an error otherwise, or if pos is not a document holding only "_id".
// It implements [weir.Positioner].
func (s *Source[E]) Seek(pos []byte) error {
	var doc bson.Raw
	if err := bson.UnmarshalExtJSON(pos, false, &doc); err != nil {
		return fmt.Errorf("mongo: seek in %s: position %q is not an Extended JSON document: %w", s.ns, pos, err)
	}
	elems, err := doc.Elements()
	if err != nil {
		return fmt.Errorf("mongo: seek in %s: position %q: %w", s.ns, pos, err)
	}
	if len(elems) != 1 || elems[0].Key() != "_id" {
		return fmt.Errorf("mongo: seek in %s: position %q must be a document with only \"_id\"", s.ns, pos)
	}
	var id any
	if err := elems[0].Value().Unmarshal(&id); err != nil {
		return fmt.Errorf("mongo: seek in %s: position %q: decode _id: %w", s.ns, pos, err)
	}
	switch {
	case s.closed:
		return ErrClosed
	case s.read || s.seeked:
		return errors.New("mongo: seek: Seek must be called once, before the first Read")
	}
	s.seeked = true
	s.filter = filterAfter(s.userFilter, id)
	s.mu.Lock()
	s.position = id
	s.mu.Unlock()
	return nil
}
