package users

import (
	"context"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Sizes of a generated user. [RowsPerUser] follows from them.
const (
	numInterests    = 5
	numSkills       = 7
	numEducation    = 2
	numExperience   = 3
	numSettings     = 10
	numActivity     = 20
	numTransactions = 15
	numMessages     = 10
	numAttachments  = 3 // per message
	numConnections  = 50
	numPosts        = 25
	numGroups       = 5
)

// DefaultBlobSize is the length of a generated user's LargeData when
// [GenOptions.BlobSize] is 0.
const DefaultBlobSize = 1024

// GenOptions controls [Generate] and [NewGenerator]. The zero value is
// valid: seed 0, a 1 KiB blob, ids from 1.
type GenOptions struct {
	// Seed selects the data set. The same Seed and id always give the same
	// user: each user's random stream is a PCG seeded from (Seed, id)
	// alone, so any user can be regenerated without the others. Only the
	// PCG's raw 64-bit output is used (PCG-DXSM, a published algorithm),
	// never math/rand's derived methods such as IntN, so the data set does
	// not depend on how a Go release implements those; a golden test pins
	// user 1 of seed 42.
	Seed int64
	// BlobSize is the length in bytes of LargeData, the payload of the
	// user's one large_data row. 0 means [DefaultBlobSize]; a negative
	// value means an empty payload (the row is still written, so row
	// counts do not change). The seed's fat user carried about 50 KB
	// (5 × 10,000 characters): BlobSize 50000. Each generated user holds
	// BlobSize bytes in memory until it is loaded.
	BlobSize int
	// Start is the first id [NewGenerator] generates; 0 means 1. To resume
	// a run whose users up to k are loaded, use Start k+1 with the same n
	// and Seed. [Generate] ignores it.
	Start int64
}

func (o GenOptions) blobSize() int {
	switch {
	case o.BlobSize == 0:
		return DefaultBlobSize
	case o.BlobSize < 0:
		return 0
	}
	return o.BlobSize
}

// Generate returns user id of the data set o.Seed: the seed's fat mock user,
// with the counts listed in the package doc and a LargeData of
// o.BlobSize bytes. Generating the same (Seed, id) again gives an equal
// User. An id <= 0 gives a user that fails [Validate], which is how tests
// make a bad record. Generate is safe for concurrent use. It costs 143
// allocations and about 15 KB with the default blob (see
// BenchmarkGenerate); the blob adds BlobSize bytes and one PCG draw per 10
// of them.
func Generate(id int64, o GenOptions) User {
	var r rng
	var u User
	r.fill(&u, id, o)
	return u
}

// Generator is a [weir.Source] of generated users with ids Start..n in
// order, each equal to [Generate] of its id. Users are generated inside
// Read, into the engine's batch, so generation is part of a run's time and
// memory stays bounded by the batches in flight. Like every source, a
// Generator is read from one goroutine at a time.
type Generator struct {
	opt  GenOptions
	next int64 // id of the next user
	last int64
	r    rng
}

// NewGenerator returns a source of the users Start..n of data set opt.Seed
// (see [GenOptions]). If Start > n the source is empty, which is what
// resuming a finished run looks like. It returns an error naming the field
// if n or Start is negative.
func NewGenerator(n int64, opt GenOptions) (*Generator, error) {
	if n < 0 {
		return nil, fmt.Errorf("users: NewGenerator: n must be >= 0, got %d", n)
	}
	if opt.Start < 0 {
		return nil, fmt.Errorf("users: NewGenerator: Start must be >= 0 (0 means 1), got %d", opt.Start)
	}
	if opt.Start == 0 {
		opt.Start = 1
	}
	return &Generator{opt: opt, next: opt.Start, last: n}, nil
}

// Read generates the next users into buf, up to len(buf) of them, and
// returns io.EOF with the last ones. It checks ctx before each user and
// returns ctx's error (with the users made so far) once it is done. It
// overwrites every field of each buf[i] it fills and keeps no reference to
// buf.
func (g *Generator) Read(ctx context.Context, buf []User) (int, error) {
	n := 0
	for n < len(buf) && g.next <= g.last {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		g.r.fill(&buf[n], g.next, g.opt)
		g.next++
		n++
	}
	if g.next > g.last {
		return n, io.EOF
	}
	return n, nil
}

// Position implements weir.Positioner: the id of the last user generated,
// as decimal text ("0" before the first), so a run can checkpoint.
func (g *Generator) Position() ([]byte, error) {
	return strconv.AppendInt(nil, g.next-1, 10), nil
}

// Seek implements weir.Positioner: the next Read generates the user after
// pos, the text Position returned. A position at or past the last user
// leaves nothing to read.
func (g *Generator) Seek(pos []byte) error {
	id, err := strconv.ParseInt(string(pos), 10, 64)
	if err != nil || id < 0 {
		return fmt.Errorf("users: Generator.Seek: position %q is not a user id", pos)
	}
	g.next = id + 1
	return nil
}

// rng is the per-user random stream and a scratch buffer for text. Its
// zero value is ready; fill reseeds it for every user.
type rng struct {
	pcg rand.PCG
	buf []byte
}

// mix64 is SplitMix64's finalizer: neighbouring ids become unrelated PCG
// seeds, so user 7's stream does not resemble user 8's.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (r *rng) seed(seed, id int64) {
	r.pcg.Seed(mix64(uint64(seed)), mix64(uint64(id)^0x5eed5eed5eed5eed))
}

func (r *rng) u64() uint64 { return r.pcg.Uint64() }

// intn returns a value in [0, n), n > 0, by Lemire's multiply-shift (the
// bias is below n/2^64, invisible here).
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int(hi)
}

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int64) int64 {
	return lo + int64(r.intn(int(hi-lo+1)))
}

func (r *rng) pick(list []string) string { return list[r.intn(len(list))] }

func (r *rng) coin() bool { return r.u64()&1 == 1 }

// distinct returns k different elements of list in random order.
func (r *rng) distinct(list []string, k int) []string {
	var idx [64]uint8
	for i := range list {
		idx[i] = uint8(i)
	}
	out := make([]string, k)
	for i := range k { // partial Fisher-Yates
		j := i + r.intn(len(list)-i)
		idx[i], idx[j] = idx[j], idx[i]
		out[i] = list[idx[i]]
	}
	return out
}

// Time range of generated data, in Unix milliseconds. Times have
// millisecond precision, as BSON dates do, so they survive JSON, PostgreSQL
// (microseconds) and SQLite unchanged.
const (
	epochMs = 1420070400000 // 2015-01-01T00:00:00Z
	dayMs   = 24 * 60 * 60 * 1000
	yearMs  = 365 * dayMs
)

func (r *rng) timeBetween(lo, hi int64) time.Time {
	return time.UnixMilli(r.between(lo, hi)).UTC()
}

// sentence returns between lo and hi words of filler text, capitalized and
// ending with a full stop.
func (r *rng) sentence(lo, hi int) string {
	b := r.buf[:0]
	n := int(r.between(int64(lo), int64(hi)))
	for i := range n {
		w := r.pick(words)
		if i == 0 {
			b = append(b, w[0]-'a'+'A')
			b = append(b, w[1:]...)
			continue
		}
		b = append(b, ' ')
		b = append(b, w...)
	}
	b = append(b, '.')
	r.buf = b
	return string(b)
}

const blobAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// blob returns n pseudo-random characters, 10 per PCG draw: incompressible
// enough that a database cannot shrink it to nothing, as it could the
// seed's "x" repeated.
func (r *rng) blob(n int) string {
	if n == 0 {
		return ""
	}
	var sb strings.Builder
	sb.Grow(n)
	var chunk [10]byte
	for sb.Len() < n {
		v := r.u64()
		for i := range chunk {
			chunk[i] = blobAlphabet[v&63]
			v >>= 6
		}
		sb.Write(chunk[:min(len(chunk), n-sb.Len())])
	}
	return sb.String()
}

// objectID builds a 12-byte ObjectID the way MongoDB lays one out: 4 bytes
// of creation time in seconds, then 3 bytes standing for the producing
// process (derived from the seed) and 5 bytes of counter (the id), so ids
// below 2^40 of one seed never share an ObjectID.
func objectID(created time.Time, seed, id int64) string {
	const hex = "0123456789abcdef"
	var raw [12]byte
	ts := uint32(created.Unix())
	raw[0], raw[1], raw[2], raw[3] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
	p := mix64(uint64(seed))
	raw[4], raw[5], raw[6] = byte(p>>16), byte(p>>8), byte(p)
	c := uint64(id)
	raw[7], raw[8], raw[9], raw[10], raw[11] = byte(c>>32), byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
	var out [24]byte
	for i, b := range raw {
		out[2*i], out[2*i+1] = hex[b>>4], hex[b&15]
	}
	return string(out[:])
}

// fill overwrites every field of u with user id.
func (r *rng) fill(u *User, id int64, o GenOptions) {
	r.seed(o.Seed, id)
	created := epochMs + int64(r.intn(8*yearMs))
	updated := created + int64(r.intn(2*yearMs))
	first, last := r.pick(firstNames), r.pick(lastNames)

	b := r.buf[:0]
	for _, s := range [...]string{first, ".", last} {
		for i := range len(s) {
			c := s[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
	}
	b = strconv.AppendInt(b, id, 10)
	nameLen := len(b)
	b = append(b, '@')
	b = append(b, r.pick(domains)...)
	email := string(b)
	r.buf = b

	createdAt := time.UnixMilli(created).UTC()
	*u = User{
		ObjectID:  objectID(createdAt, o.Seed, id),
		ID:        id,
		Username:  email[:nameLen],
		Email:     email,
		FirstName: first,
		LastName:  last,
		Age:       int(r.between(18, 80)),
		CreatedAt: createdAt,
		UpdatedAt: time.UnixMilli(updated).UTC(),
	}
	r.address(&u.Address)
	r.profile(&u.Profile, created)
	r.preferences(&u.Preferences)

	u.Activity = make([]Activity, numActivity)
	for i := range u.Activity {
		u.Activity[i] = Activity{
			Action:    r.pick(actions),
			Timestamp: r.timeBetween(created, updated),
			IP:        r.ip(),
			Details:   r.sentence(3, 8),
		}
	}
	u.Transactions = make([]Transaction, numTransactions)
	for i := range u.Transactions {
		u.Transactions[i] = Transaction{
			Amount:    float64(r.between(100, 999999)) / 100,
			Currency:  r.pick(currencies),
			Status:    r.pick(statuses),
			Timestamp: r.timeBetween(created, updated),
		}
	}
	u.Messages = make([]Message, numMessages)
	for i := range u.Messages {
		m := &u.Messages[i]
		*m = Message{
			To:          r.between(1, 1_000_000),
			Subject:     r.pick(subjects),
			Body:        r.sentence(10, 30),
			SentAt:      r.timeBetween(created, updated),
			Read:        r.coin(),
			Attachments: make([]Attachment, numAttachments),
		}
		for j := range m.Attachments {
			ft := fileTypes[r.intn(len(fileTypes))]
			b := append(r.buf[:0], r.pick(words)...)
			b = append(b, '_')
			b = strconv.AppendInt(b, r.between(1, 9999), 10)
			b = append(b, ft.ext...)
			r.buf = b
			m.Attachments[j] = Attachment{
				Filename: string(b),
				Size:     r.between(1<<10, 5<<20),
				MimeType: ft.mime,
			}
		}
	}
	r.social(&u.SocialMedia, created, updated)
	u.LargeData = r.blob(o.blobSize())
}

func (r *rng) address(a *Address) {
	pl := places[r.intn(len(places))]
	b := strconv.AppendInt(r.buf[:0], r.between(1, 9999), 10)
	b = append(b, ' ')
	b = append(b, r.pick(streetNames)...)
	b = append(b, ' ')
	b = append(b, r.pick(streetSuffixes)...)
	r.buf = b
	var pc [5]byte
	v := r.intn(100000)
	for i := len(pc) - 1; i >= 0; i-- {
		pc[i] = byte('0' + v%10)
		v /= 10
	}
	*a = Address{
		Street:     string(b),
		City:       pl.city,
		State:      pl.state,
		Country:    pl.country,
		PostalCode: string(pc[:]),
		Coordinates: Coordinates{
			// Micro-degree resolution (about 10 cm), like real geocodes.
			Lat: float64(r.between(-90_000_000, 90_000_000)) / 1e6,
			Lon: float64(r.between(-180_000_000, 180_000_000)) / 1e6,
		},
	}
}

func (r *rng) profile(p *Profile, created int64) {
	*p = Profile{
		Bio:        r.sentence(12, 24),
		Interests:  r.distinct(interests, numInterests),
		Skills:     r.distinct(skills, numSkills),
		Education:  make([]Education, numEducation),
		Experience: make([]Experience, numExperience),
	}
	year := int(r.between(1985, 2005))
	for i := range p.Education {
		start := year
		year += int(r.between(2, 5))
		p.Education[i] = Education{
			School:    r.pick(schools),
			Degree:    degrees[min(i, len(degrees)-1)],
			Field:     r.pick(fields),
			StartYear: start,
			EndYear:   year,
		}
	}
	// Jobs follow each other; the last one is current (no end date).
	t := created - 10*yearMs + int64(r.intn(2*yearMs))
	for i := range p.Experience {
		e := &p.Experience[i]
		*e = Experience{
			Company:     r.pick(companies),
			Title:       r.pick(titles),
			StartDate:   time.UnixMilli(t).UTC(),
			Description: r.sentence(8, 16),
		}
		t += 90*dayMs + int64(r.intn(3*yearMs))
		if i < len(p.Experience)-1 {
			end := time.UnixMilli(t).UTC()
			e.EndDate = &end
			t += int64(r.intn(60 * dayMs))
		}
	}
}

func (r *rng) preferences(p *Preferences) {
	*p = Preferences{
		Theme:      r.pick(themes),
		Language:   r.pick(languages),
		Timezone:   r.pick(timezones),
		Newsletter: r.coin(),
		Settings:   make([]Setting, numSettings),
	}
	for i := range p.Settings {
		s := settingChoices[i]
		p.Settings[i] = Setting{Key: s.key, Value: r.pick(s.values)}
	}
}

func (r *rng) social(s *SocialMedia, created, updated int64) {
	*s = SocialMedia{
		Connections: make([]int64, numConnections),
		Posts:       make([]Post, numPosts),
		Groups:      r.distinct(groupNames, numGroups),
	}
	for i := range s.Connections {
		s.Connections[i] = r.between(1, 1_000_000)
	}
	for i := range s.Posts {
		s.Posts[i] = Post{
			Content:   r.sentence(5, 25),
			Likes:     r.intn(500),
			Timestamp: r.timeBetween(created, updated),
		}
	}
}

// ip returns a private IPv4 address (10.0.0.0/8), as a log would show.
func (r *rng) ip() string {
	v := r.u64()
	b := append(r.buf[:0], "10."...)
	b = strconv.AppendUint(b, v&0xff, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, (v>>8)&0xff, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, (v>>16)&0xff, 10)
	r.buf = b
	return string(b)
}
