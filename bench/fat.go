package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/weir-etl/weir"
)

// FatUser is the seed's original mock user: about 55 KB of nested data
// (58 KB as [FatUser.Size] counts it) in some 340 heap objects, most of it
// five 10,000-character blobs. It exists
// to show what record size does to throughput and memory.
type FatUser struct {
	ID                   int64
	Username, Email      string
	FirstName, LastName  string
	Phone                string
	CreatedAt, UpdatedAt int64 // Unix seconds
	Active               bool
	Address              Address
	Profile              Profile
	Preferences          Preferences
	Activity             []Activity    // 20 entries
	Transactions         []Transaction // 15 entries
	Messages             []Message     // 10 entries
	Social               Social
	Blobs                [5]string // 10,000 characters each
}

// Address is a [FatUser]'s postal address.
type Address struct {
	Street, City, State, Country, PostalCode string
	Lat, Lon                                 float64
}

// Profile is a [FatUser]'s profile.
type Profile struct {
	Bio        string   // a sentence repeated 10 times
	Interests  []string // 5
	Skills     []string // 7
	Education  []Education
	Experience []Experience
}

// Education is one school in a [Profile].
type Education struct {
	School, Degree, Field string
	Year                  int
}

// Experience is one job in a [Profile].
type Experience struct {
	Company, Title string
	Description    string // a sentence repeated 5 times
	Years          int
}

// Preferences are a [FatUser]'s settings.
type Preferences struct {
	Language, Theme string
	Notifications   bool
	Settings        map[string]string // 10 entries
}

// Activity is one entry of a [FatUser]'s activity log.
type Activity struct {
	Kind   string
	At     int64
	IP     string
	Detail string
}

// Transaction is one of a [FatUser]'s payments.
type Transaction struct {
	ID       string
	Amount   float64
	Currency string
	Status   string
	At       int64
}

// Message is one of a [FatUser]'s messages.
type Message struct {
	ID          int64
	From, To    string
	Subject     string
	Body        string // a sentence repeated 10 times
	At          int64
	Attachments []Attachment // 3
}

// Attachment is a file attached to a [Message].
type Attachment struct {
	Name, MIMEType string
	Bytes          int64
}

// Social is a [FatUser]'s social-media footprint.
type Social struct {
	Connections []string // 50 usernames
	Posts       []Post   // 25
	Groups      []string // 5
}

// Post is one social-media post.
type Post struct {
	ID      int64
	Content string // a phrase repeated 20 times
	Likes   int
	At      int64
}

// blobLen is the length of each of a FatUser's five blobs.
const blobLen = 10_000

// Size returns the approximate number of bytes of data the user holds,
// counted as the seed counted it: string contents plus 8 bytes per number
// (1 per bool). Go's string, slice and map headers are not counted; they
// add about 8 KB more to the heap footprint. It implements [weir.Sizer];
// it walks the record (a few hundred strings) and allocates nothing.
func (u FatUser) Size() int {
	n := 8*3 + 1 + len(u.Username) + len(u.Email) + len(u.FirstName) + len(u.LastName) + len(u.Phone)
	a := &u.Address
	n += 8*2 + len(a.Street) + len(a.City) + len(a.State) + len(a.Country) + len(a.PostalCode)
	p := &u.Profile
	n += len(p.Bio) + stringsSize(p.Interests) + stringsSize(p.Skills)
	for _, e := range p.Education {
		n += 8 + len(e.School) + len(e.Degree) + len(e.Field)
	}
	for _, e := range p.Experience {
		n += 8 + len(e.Company) + len(e.Title) + len(e.Description)
	}
	n += 1 + len(u.Preferences.Language) + len(u.Preferences.Theme)
	for k, v := range u.Preferences.Settings {
		n += len(k) + len(v)
	}
	for _, e := range u.Activity {
		n += 8 + len(e.Kind) + len(e.IP) + len(e.Detail)
	}
	for _, t := range u.Transactions {
		n += 8*2 + len(t.ID) + len(t.Currency) + len(t.Status)
	}
	for _, m := range u.Messages {
		n += 8*2 + len(m.From) + len(m.To) + len(m.Subject) + len(m.Body)
		for _, at := range m.Attachments {
			n += 8 + len(at.Name) + len(at.MIMEType)
		}
	}
	n += stringsSize(u.Social.Connections) + stringsSize(u.Social.Groups)
	for _, po := range u.Social.Posts {
		n += 8*3 + len(po.Content)
	}
	for _, b := range u.Blobs {
		n += len(b)
	}
	return n
}

func stringsSize(ss []string) int {
	n := 0
	for _, s := range ss {
		n += len(s)
	}
	return n
}

// FatTransformed is the output of [TransformFat].
type FatTransformed struct {
	ID             int64
	FullName       string // "First Last"
	Email          string
	Location       string // "City, State, Country"
	ProfileSummary string
	Activities     int
	Transactions   int
	Messages       int
	Posts          int
	Connections    int
	TotalSpent     float64 // sum of completed transactions
	// TotalDataSize is the user's [FatUser.Size].
	TotalDataSize int
}

// TransformFat is the seed's "Bad (Original)" transform: a full name, a
// location and a profile summary, each built with fmt (several allocations
// apiece), then counts and the user's total size. It never fails and
// ignores ctx; it is safe for concurrent use. Use it with [weir.Map].
func TransformFat(_ context.Context, u FatUser) (FatTransformed, error) {
	var spent float64
	for _, t := range u.Transactions {
		if t.Status == "completed" {
			spent += t.Amount
		}
	}
	return FatTransformed{
		ID:       u.ID,
		FullName: fmt.Sprintf("%s %s", u.FirstName, u.LastName),
		Email:    strings.ToLower(u.Email),
		Location: fmt.Sprintf("%s, %s, %s", u.Address.City, u.Address.State, u.Address.Country),
		ProfileSummary: fmt.Sprintf("%d interests (%s), %d skills, %d schools, %d jobs",
			len(u.Profile.Interests), strings.Join(u.Profile.Interests, ", "),
			len(u.Profile.Skills), len(u.Profile.Education), len(u.Profile.Experience)),
		Activities:    len(u.Activity),
		Transactions:  len(u.Transactions),
		Messages:      len(u.Messages),
		Posts:         len(u.Social.Posts),
		Connections:   len(u.Social.Connections),
		TotalSpent:    spent,
		TotalDataSize: u.Size(),
	}, nil
}

// NewFatSource returns a source of the fat users with IDs 1 to n, generated
// inside Read from a PCG seeded with seed: the same seed gives the same
// users whatever the buffer sizes. Each user costs about 66 KB of heap in
// some 340 allocations, as the seed's original generator did. n <= 0 gives an empty
// source. Read returns ctx's error once ctx is done, and is not safe for
// concurrent use.
func NewFatSource(n int, seed uint64) weir.Source[FatUser] {
	return &fatSource{rng: rand.New(newPCG(seed)), next: 1, last: int64(max(n, 0))}
}

type fatSource struct {
	rng        *rand.Rand
	next, last int64
}

func (s *fatSource) Read(ctx context.Context, buf []FatUser) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	left := s.last - s.next + 1
	if left <= 0 {
		return 0, io.EOF
	}
	n := len(buf)
	if int64(n) >= left {
		n = int(left)
	}
	for i := range buf[:n] {
		buf[i] = s.gen(s.next)
		s.next++
	}
	if s.next > s.last {
		return n, io.EOF
	}
	return n, nil
}

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"}
	cities     = []string{"Lisbon", "Oslo", "Nairobi", "Osaka", "Quito", "Perth", "Tallinn", "Austin"}
	states     = []string{"North", "South", "East", "West", "Central", "Coastal", "Upper", "Lower"}
	countries  = []string{"Portugal", "Norway", "Kenya", "Japan", "Ecuador", "Australia", "Estonia", "USA"}
	topics     = []string{"go", "rust", "databases", "hiking", "chess", "music", "cooking", "cycling", "films", "compilers"}
	kinds      = []string{"login", "logout", "view", "click", "search", "purchase"}
	statuses   = []string{"completed", "pending", "failed", "refunded"}
	currencies = []string{"EUR", "USD", "JPY", "NOK"}
	mimeTypes  = []string{"image/png", "application/pdf", "text/plain"}
)

// pick returns a random element of list.
func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

// gen builds user id the way the seed's generator did: every string its own
// allocation, long texts made with strings.Repeat. It draws the same number
// of random values for every user.
func (s *fatSource) gen(id int64) FatUser {
	r := s.rng
	ids := strconv.FormatInt(id, 10)
	first, last := pick(r, firstNames), pick(r, lastNames)
	username := strings.ToLower(first) + "_" + ids
	created := 1_600_000_000 + r.Int64N(100_000_000)

	u := FatUser{
		ID:        id,
		Username:  username,
		Email:     username + "@example.com",
		FirstName: first,
		LastName:  last,
		Phone:     fmt.Sprintf("+1-555-%04d", r.IntN(10_000)),
		CreatedAt: created,
		UpdatedAt: created + r.Int64N(10_000_000),
		Active:    r.IntN(10) != 0,
		Address: Address{
			Street:     strconv.Itoa(1+r.IntN(999)) + " Main Street",
			City:       pick(r, cities),
			State:      pick(r, states),
			Country:    pick(r, countries),
			PostalCode: fmt.Sprintf("%05d", r.IntN(100_000)),
			Lat:        r.Float64()*180 - 90,
			Lon:        r.Float64()*360 - 180,
		},
	}

	p := &u.Profile
	p.Bio = strings.Repeat("Hello, I am "+first+". ", 10)
	p.Interests, p.Skills = make([]string, 0, 5), make([]string, 0, 7)
	p.Education, p.Experience = make([]Education, 0, 2), make([]Experience, 0, 3)
	for range 5 {
		p.Interests = append(p.Interests, pick(r, topics))
	}
	for i := range 7 {
		p.Skills = append(p.Skills, "skill-"+strconv.Itoa(i)+"-"+pick(r, topics))
	}
	for i := range 2 {
		p.Education = append(p.Education, Education{
			School: "University " + strconv.Itoa(r.IntN(100)),
			Degree: []string{"BSc", "MSc"}[i],
			Field:  pick(r, topics),
			Year:   2000 + r.IntN(20),
		})
	}
	for i := range 3 {
		p.Experience = append(p.Experience, Experience{
			Company:     "Company " + strconv.Itoa(r.IntN(1000)),
			Title:       "Engineer " + strconv.Itoa(i+1),
			Description: strings.Repeat("Built things. ", 5),
			Years:       1 + r.IntN(10),
		})
	}

	u.Preferences = Preferences{
		Language:      "en",
		Theme:         []string{"light", "dark"}[r.IntN(2)],
		Notifications: r.IntN(2) == 0,
		Settings:      make(map[string]string, 10),
	}
	for i := range 10 {
		u.Preferences.Settings["setting_"+strconv.Itoa(i)] = "value_" + strconv.Itoa(r.IntN(100))
	}

	u.Activity = make([]Activity, 0, 20)
	for range 20 {
		u.Activity = append(u.Activity, Activity{
			Kind:   pick(r, kinds),
			At:     created + r.Int64N(10_000_000),
			IP:     fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), r.IntN(256)),
			Detail: "page " + strconv.Itoa(r.IntN(100)),
		})
	}
	u.Transactions = make([]Transaction, 0, 15)
	for i := range 15 {
		u.Transactions = append(u.Transactions, Transaction{
			ID:       "tx-" + ids + "-" + strconv.Itoa(i),
			Amount:   float64(r.IntN(100_000)) / 100,
			Currency: pick(r, currencies),
			Status:   pick(r, statuses),
			At:       created + r.Int64N(10_000_000),
		})
	}
	u.Messages = make([]Message, 0, 10)
	for i := range 10 {
		m := Message{
			ID:          id*100 + int64(i),
			From:        username,
			To:          "user_" + strconv.Itoa(1+r.IntN(1_000_000)),
			Subject:     "Subject " + strconv.Itoa(i),
			Body:        strings.Repeat("Hi there. ", 10),
			At:          created + r.Int64N(10_000_000),
			Attachments: make([]Attachment, 0, 3),
		}
		for j := range 3 {
			m.Attachments = append(m.Attachments, Attachment{
				Name:     "file" + strconv.Itoa(j),
				MIMEType: mimeTypes[j],
				Bytes:    r.Int64N(1 << 20),
			})
		}
		u.Messages = append(u.Messages, m)
	}

	u.Social.Connections = make([]string, 0, 50)
	u.Social.Posts = make([]Post, 0, 25)
	u.Social.Groups = make([]string, 0, 5)
	for range 50 {
		u.Social.Connections = append(u.Social.Connections, "user_"+strconv.Itoa(1+r.IntN(1_000_000)))
	}
	for i := range 25 {
		u.Social.Posts = append(u.Social.Posts, Post{
			ID:      id*100 + int64(i),
			Content: strings.Repeat("Post ", 20),
			Likes:   r.IntN(1000),
			At:      created + r.Int64N(10_000_000),
		})
	}
	for range 5 {
		u.Social.Groups = append(u.Social.Groups, "group-"+pick(r, topics))
	}

	for i := range u.Blobs {
		u.Blobs[i] = strings.Repeat(string(rune('a'+r.IntN(26))), blobLen)
	}
	return u
}
