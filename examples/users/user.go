package users

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/weir-etl/weir"
)

// User is one user document, as mongoexport writes it without Extended JSON:
// _id is the ObjectID as a 24-digit hex string and times are RFC 3339
// strings. Every field is stored by [Splitter]; see the package doc for
// which table and column each lands in.
type User struct {
	ObjectID     string        `json:"_id" bson:"_id"`
	ID           int64         `json:"id" bson:"id"`
	Username     string        `json:"username" bson:"username"`
	Email        string        `json:"email" bson:"email"`
	FirstName    string        `json:"first_name" bson:"first_name"`
	LastName     string        `json:"last_name" bson:"last_name"`
	Age          int           `json:"age" bson:"age"`
	CreatedAt    time.Time     `json:"created_at" bson:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at" bson:"updated_at"`
	Address      Address       `json:"address" bson:"address"`
	Profile      Profile       `json:"profile" bson:"profile"`
	Preferences  Preferences   `json:"preferences" bson:"preferences"`
	Activity     []Activity    `json:"activity_log" bson:"activity_log"`
	Transactions []Transaction `json:"transactions" bson:"transactions"`
	Messages     []Message     `json:"messages" bson:"messages"`
	SocialMedia  SocialMedia   `json:"social_media" bson:"social_media"`
	// LargeData is the seed's large blob, stored as the payload of the
	// user's one large_data row.
	LargeData string `json:"large_data" bson:"large_data"`
}

// Address is a user's postal address and its coordinates.
type Address struct {
	Street      string      `json:"street" bson:"street"`
	City        string      `json:"city" bson:"city"`
	State       string      `json:"state" bson:"state"`
	Country     string      `json:"country" bson:"country"`
	PostalCode  string      `json:"postal_code" bson:"postal_code"`
	Coordinates Coordinates `json:"coordinates" bson:"coordinates"`
}

// Coordinates is a point in decimal degrees.
type Coordinates struct {
	Lat float64 `json:"lat" bson:"lat"`
	Lon float64 `json:"lon" bson:"lon"`
}

// Profile is the free-text part of a user and their history.
type Profile struct {
	Bio        string       `json:"bio" bson:"bio"`
	Interests  []string     `json:"interests" bson:"interests"`
	Skills     []string     `json:"skills" bson:"skills"`
	Education  []Education  `json:"education" bson:"education"`
	Experience []Experience `json:"experience" bson:"experience"`
}

// Education is one school attended.
type Education struct {
	School    string `json:"school" bson:"school"`
	Degree    string `json:"degree" bson:"degree"`
	Field     string `json:"field" bson:"field"`
	StartYear int    `json:"start_year" bson:"start_year"`
	EndYear   int    `json:"end_year" bson:"end_year"`
}

// Experience is one job. EndDate is nil for the current job.
type Experience struct {
	Company     string     `json:"company" bson:"company"`
	Title       string     `json:"title" bson:"title"`
	StartDate   time.Time  `json:"start_date" bson:"start_date"`
	EndDate     *time.Time `json:"end_date" bson:"end_date"`
	Description string     `json:"description" bson:"description"`
}

// Preferences are a user's display choices and free-form settings.
type Preferences struct {
	Theme      string    `json:"theme" bson:"theme"`
	Language   string    `json:"language" bson:"language"`
	Timezone   string    `json:"timezone" bson:"timezone"`
	Newsletter bool      `json:"newsletter" bson:"newsletter"`
	Settings   []Setting `json:"settings" bson:"settings"`
}

// Setting is one key/value preference. Settings are a list, not a JSON
// object, so their order survives a round trip.
type Setting struct {
	Key   string `json:"key" bson:"key"`
	Value string `json:"value" bson:"value"`
}

// Activity is one entry of a user's activity log.
type Activity struct {
	Action    string    `json:"action" bson:"action"`
	Timestamp time.Time `json:"timestamp" bson:"timestamp"`
	IP        string    `json:"ip" bson:"ip"`
	Details   string    `json:"details" bson:"details"`
}

// Transaction is one payment.
type Transaction struct {
	Amount    float64   `json:"amount" bson:"amount"`
	Currency  string    `json:"currency" bson:"currency"`
	Status    string    `json:"status" bson:"status"`
	Timestamp time.Time `json:"timestamp" bson:"timestamp"`
}

// Message is one message the user sent, with its attachments.
type Message struct {
	To          int64        `json:"to" bson:"to"`
	Subject     string       `json:"subject" bson:"subject"`
	Body        string       `json:"body" bson:"body"`
	SentAt      time.Time    `json:"sent_at" bson:"sent_at"`
	Read        bool         `json:"read" bson:"read"`
	Attachments []Attachment `json:"attachments" bson:"attachments"`
}

// Attachment is a file attached to a [Message].
type Attachment struct {
	Filename string `json:"filename" bson:"filename"`
	Size     int64  `json:"size" bson:"size"`
	MimeType string `json:"mime_type" bson:"mime_type"`
}

// SocialMedia holds a user's connections (other users' ids), posts and
// groups.
type SocialMedia struct {
	Connections []int64  `json:"connections" bson:"connections"`
	Posts       []Post   `json:"posts" bson:"posts"`
	Groups      []string `json:"groups" bson:"groups"`
}

// Post is one social-media post.
type Post struct {
	Content   string    `json:"content" bson:"content"`
	Likes     int       `json:"likes" bson:"likes"`
	Timestamp time.Time `json:"timestamp" bson:"timestamp"`
}

// ErrInvalid is wrapped by every error [Validate] and [Decode] return for a
// bad document, so a pipeline can tell a bad record (dead-letter it) from a
// failing system (stop): errors.Is(err, ErrInvalid).
var ErrInvalid = errors.New("invalid user document")

// Validate reports whether u has the fields its rows cannot do without: an
// id > 0 (every table's key derives from it) and an email containing '@'.
// The error wraps [ErrInvalid] and names the field. Validate does not
// allocate on success and is safe for concurrent use.
func Validate(u *User) error {
	switch {
	case u == nil:
		return fmt.Errorf("%w: nil user", ErrInvalid)
	case u.ID <= 0:
		return fmt.Errorf("%w: _id %q: id must be > 0, got %d", ErrInvalid, u.ObjectID, u.ID)
	case u.Email == "":
		return fmt.Errorf("%w: user %d: email is empty", ErrInvalid, u.ID)
	case strings.IndexByte(u.Email, '@') < 0:
		return fmt.Errorf("%w: user %d: email %q has no '@'", ErrInvalid, u.ID, u.Email)
	}
	return nil
}

// Decode parses one JSON document into a User and validates it. Decoding is
// strict so that no data is dropped silently: a field User does not have, a
// value of the wrong type, or anything after the document is an error. Every
// error wraps [ErrInvalid]; JSON errors are also reachable with errors.As.
// Decode copies what it keeps, so data may be reused afterwards.
func Decode(data []byte) (User, error) {
	var u User
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err != nil {
		return User{}, fmt.Errorf("%w: decode: %w", ErrInvalid, err)
	}
	if dec.More() {
		return User{}, fmt.Errorf("%w: decode: data after the document at byte %d", ErrInvalid, dec.InputOffset())
	}
	if err := Validate(&u); err != nil {
		return User{}, err
	}
	return u, nil
}

// DecodeJSON returns a transform that [Decode]s each record, for a source
// that yields one JSON document per record (a JSON Lines file, a MongoDB
// export). A bad document fails the batch with an error wrapping
// [ErrInvalid] and the record's index.
func DecodeJSON() weir.Transform[[]byte, User] {
	return weir.Map(func(_ context.Context, doc []byte) (User, error) {
		return Decode(doc)
	})
}

// Validated returns an in-place transform that runs [Validate] on each
// record and changes nothing; it allocates nothing for valid records.
func Validated() weir.Transform[User, User] {
	return weir.InPlace(func(_ context.Context, u *User) error {
		return Validate(u)
	})
}

// Sizes of the fixed parts of a document, for [User.Size].
const (
	sizeUser        = int(unsafe.Sizeof(User{}))
	sizeString      = int(unsafe.Sizeof(""))
	sizeEducation   = int(unsafe.Sizeof(Education{}))
	sizeExperience  = int(unsafe.Sizeof(Experience{})) + int(unsafe.Sizeof(time.Time{})) // with its EndDate
	sizeSetting     = int(unsafe.Sizeof(Setting{}))
	sizeActivity    = int(unsafe.Sizeof(Activity{}))
	sizeTransaction = int(unsafe.Sizeof(Transaction{}))
	sizeMessage     = int(unsafe.Sizeof(Message{}))
	sizeAttachment  = int(unsafe.Sizeof(Attachment{}))
	sizePost        = int(unsafe.Sizeof(Post{}))
	sizeConnection  = int(unsafe.Sizeof(int64(0)))
)

// Size returns an estimate of the bytes u holds in memory: its structs and
// slice elements plus the lengths of its strings. It implements
// [weir.Sizer], so [weir.Config.BatchBytes] works with User records; a
// generated user with the default 1 KiB blob is about 16 KB. Size walks the
// document once without allocating (under 1µs for a generated user).
func (u *User) Size() int {
	n := sizeUser + len(u.ObjectID) + len(u.Username) + len(u.Email) +
		len(u.FirstName) + len(u.LastName) + len(u.LargeData)
	a := &u.Address
	n += len(a.Street) + len(a.City) + len(a.State) + len(a.Country) + len(a.PostalCode)

	p := &u.Profile
	n += len(p.Bio)
	for _, s := range p.Interests {
		n += sizeString + len(s)
	}
	for _, s := range p.Skills {
		n += sizeString + len(s)
	}
	for i := range p.Education {
		e := &p.Education[i]
		n += sizeEducation + len(e.School) + len(e.Degree) + len(e.Field)
	}
	for i := range p.Experience {
		e := &p.Experience[i]
		n += sizeExperience + len(e.Company) + len(e.Title) + len(e.Description)
	}

	pr := &u.Preferences
	n += len(pr.Theme) + len(pr.Language) + len(pr.Timezone)
	for i := range pr.Settings {
		n += sizeSetting + len(pr.Settings[i].Key) + len(pr.Settings[i].Value)
	}

	for i := range u.Activity {
		a := &u.Activity[i]
		n += sizeActivity + len(a.Action) + len(a.IP) + len(a.Details)
	}
	for i := range u.Transactions {
		t := &u.Transactions[i]
		n += sizeTransaction + len(t.Currency) + len(t.Status)
	}
	for i := range u.Messages {
		m := &u.Messages[i]
		n += sizeMessage + len(m.Subject) + len(m.Body)
		for j := range m.Attachments {
			at := &m.Attachments[j]
			n += sizeAttachment + len(at.Filename) + len(at.MimeType)
		}
	}

	s := &u.SocialMedia
	n += len(s.Connections) * sizeConnection
	for i := range s.Posts {
		n += sizePost + len(s.Posts[i].Content)
	}
	for _, g := range s.Groups {
		n += sizeString + len(g)
	}
	return n
}
