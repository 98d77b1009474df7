package bench

import (
	"context"
	"io"
	"math/rand/v2"
	"strconv"

	"github.com/weir-etl/weir"
)

// Profile bits of [SlimUser.ProfileFlags].
const (
	FlagVerified uint16 = 1 << iota
	FlagPremium
	FlagPublic
	FlagNewsletter
)

// SlimUser is the seed's optimised user record: about 100 bytes, of which
// two short strings are the only heap data. It is comparable with ==.
type SlimUser struct {
	ID       int64
	Username string // 6 to 12 characters
	Email    string // Username@domain
	Age      uint8
	// LocationID stands for the seed's address: an index into a location
	// table, below 1<<20.
	LocationID uint32
	// ProfileFlags holds the Flag* bits.
	ProfileFlags uint16
	// The four counters stand for the seed's activity, transaction,
	// message and post lists; each is below 1024.
	ActivityCount    uint16
	TransactionCount uint16
	MessageCount     uint16
	PostCount        uint16
	// DataHash stands for the seed's five 10,000-character blobs.
	DataHash uint64
}

// SlimTransformed is the output of [TransformSlim].
type SlimTransformed struct {
	ID              int64
	DisplayName     string // "User #<ID>"
	TotalActivities uint32 // ActivityCount + TransactionCount
	// EngagementScore is (4×activities + 3×transactions + 2×messages +
	// posts) / 10.
	EngagementScore float32
	Fingerprint     uint64 // the user's DataHash
}

// TransformSlim is the seed's "Good (Optimized)" transform: it allocates
// once, for the display name, and computes everything else with plain
// arithmetic. It never fails and ignores ctx; it is safe for concurrent
// use. Use it with [weir.Map].
func TransformSlim(_ context.Context, u SlimUser) (SlimTransformed, error) {
	var buf [32]byte // "User #" + 20 digits fits: the name is built on the stack
	name := strconv.AppendInt(append(buf[:0], "User #"...), u.ID, 10)
	return SlimTransformed{
		ID:              u.ID,
		DisplayName:     string(name),
		TotalActivities: uint32(u.ActivityCount) + uint32(u.TransactionCount),
		EngagementScore: engagement(u.ActivityCount, u.TransactionCount, u.MessageCount, u.PostCount),
		Fingerprint:     u.DataHash,
	}, nil
}

func engagement(activities, transactions, messages, posts uint16) float32 {
	w := 4*uint32(activities) + 3*uint32(transactions) + 2*uint32(messages) + uint32(posts)
	return float32(w) / 10
}

// newPCG seeds a PCG from one number; the second word only has to differ
// from the first.
func newPCG(seed uint64) *rand.PCG {
	return rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
}

// NewSlimSource returns a source of the slim users with IDs 1 to n, generated
// inside Read from a PCG seeded with seed. Each Read fills the whole buffer
// (fewer records only for the last one, which also returns [io.EOF]); every
// record draws a fixed number of random words, so record k is the same
// whatever the buffer sizes. Generating a record costs two allocations (the
// username and the email) and a few tens of nanoseconds. n <= 0 gives an
// empty source. Read returns ctx's error, without records, once ctx is
// done. Like every source, it is not safe for concurrent Reads.
func NewSlimSource(n int, seed uint64) weir.Source[SlimUser] {
	return &slimSource{rng: newPCG(seed), next: 1, last: int64(max(n, 0))}
}

type slimSource struct {
	rng        *rand.PCG
	next, last int64 // next ID to generate, last ID of the source
}

func (s *slimSource) Read(ctx context.Context, buf []SlimUser) (int, error) {
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
		s.gen(&buf[i])
	}
	if s.next > s.last {
		return n, io.EOF
	}
	return n, nil
}

// symbols are the username characters: 32 of them, so 5 random bits each.
const symbols = "abcdefghijklmnopqrstuvwxyz012345"

var domains = [4]string{"example.com", "mail.test", "corp.example", "weir.dev"}

// gen writes the next user into u. It draws exactly four words from the
// generator.
func (s *slimSource) gen(u *SlimUser) {
	id := s.next
	s.next++
	r1, r2, r3, r4 := s.rng.Uint64(), s.rng.Uint64(), s.rng.Uint64(), s.rng.Uint64()

	// r1: bits 0-59 are twelve 5-bit symbols, bits 60-63 the length.
	var buf [32]byte // longest email: 12 + 1 + 12 bytes
	ulen := 6 + int(r1>>60)%7
	for i := range ulen {
		buf[i] = symbols[(r1>>(5*i))&31]
	}
	email := append(buf[:ulen], '@')
	email = append(email, domains[r2&3]...)

	*u = SlimUser{
		ID:               id,
		Username:         string(buf[:ulen]),
		Email:            string(email),
		Age:              uint8(16 + (r2>>2)&63),
		LocationID:       uint32(r2>>8) & (1<<20 - 1),
		ProfileFlags:     uint16(r2>>28) & 0xf,
		ActivityCount:    uint16(r3) & 1023,
		TransactionCount: uint16(r3>>10) & 1023,
		MessageCount:     uint16(r3>>20) & 1023,
		PostCount:        uint16(r3>>30) & 1023,
		DataHash:         r4,
	}
}
