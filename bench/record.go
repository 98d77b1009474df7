package bench

import "math"

// Record is what the synthetic sinks consume. [SlimUser], [SlimTransformed],
// [FatUser] and [FatTransformed] implement it, so every sink works before
// and after either transform.
type Record interface {
	// Key returns the record's ID.
	Key() int64
	// Fold adds every byte the record holds (string contents and the bytes
	// of its numbers) to acc and returns the sum. It reads the whole record
	// and allocates nothing.
	Fold(acc uint64) uint64
}

// foldString adds the bytes of s to acc.
func foldString(acc uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		acc += uint64(s[i])
	}
	return acc
}

// foldStrings adds the bytes of every string in ss to acc.
func foldStrings(acc uint64, ss []string) uint64 {
	for _, s := range ss {
		acc = foldString(acc, s)
	}
	return acc
}

// foldUint adds the eight bytes of v to acc.
func foldUint(acc, v uint64) uint64 {
	for range 8 {
		acc += v & 0xff
		v >>= 8
	}
	return acc
}

// Key returns u.ID.
func (u SlimUser) Key() int64 { return u.ID }

// Fold adds every byte of u to acc.
func (u SlimUser) Fold(acc uint64) uint64 {
	acc = foldUint(acc, uint64(u.ID))
	acc = foldString(acc, u.Username)
	acc = foldString(acc, u.Email)
	acc = foldUint(acc, uint64(u.Age)|uint64(u.LocationID)<<8|uint64(u.ProfileFlags)<<40)
	acc = foldUint(acc, uint64(u.ActivityCount)|uint64(u.TransactionCount)<<16|uint64(u.MessageCount)<<32|uint64(u.PostCount)<<48)
	return foldUint(acc, u.DataHash)
}

// Key returns t.ID.
func (t SlimTransformed) Key() int64 { return t.ID }

// Fold adds every byte of t to acc.
func (t SlimTransformed) Fold(acc uint64) uint64 {
	acc = foldUint(acc, uint64(t.ID))
	acc = foldString(acc, t.DisplayName)
	acc = foldUint(acc, uint64(t.TotalActivities)|uint64(math.Float32bits(t.EngagementScore))<<32)
	return foldUint(acc, t.Fingerprint)
}

// Key returns u.ID.
func (u FatUser) Key() int64 { return u.ID }

// Fold adds every byte of u to acc: about 58 KB, mostly its blobs.
func (u FatUser) Fold(acc uint64) uint64 {
	acc = foldUint(acc, uint64(u.ID))
	acc = foldUint(acc, uint64(u.CreatedAt))
	acc = foldUint(acc, uint64(u.UpdatedAt))
	if u.Active {
		acc++
	}
	for _, s := range [...]string{u.Username, u.Email, u.FirstName, u.LastName, u.Phone} {
		acc = foldString(acc, s)
	}
	a := &u.Address
	for _, s := range [...]string{a.Street, a.City, a.State, a.Country, a.PostalCode} {
		acc = foldString(acc, s)
	}
	acc = foldUint(acc, math.Float64bits(a.Lat))
	acc = foldUint(acc, math.Float64bits(a.Lon))

	p := &u.Profile
	acc = foldString(acc, p.Bio)
	acc = foldStrings(acc, p.Interests)
	acc = foldStrings(acc, p.Skills)
	for _, e := range p.Education {
		acc = foldString(foldString(foldString(acc, e.School), e.Degree), e.Field)
		acc = foldUint(acc, uint64(e.Year))
	}
	for _, e := range p.Experience {
		acc = foldString(foldString(foldString(acc, e.Company), e.Title), e.Description)
		acc = foldUint(acc, uint64(e.Years))
	}

	acc = foldString(foldString(acc, u.Preferences.Language), u.Preferences.Theme)
	if u.Preferences.Notifications {
		acc++
	}
	for k, v := range u.Preferences.Settings { // addition is commutative: map order is irrelevant
		acc = foldString(foldString(acc, k), v)
	}

	for _, e := range u.Activity {
		acc = foldString(foldString(foldString(acc, e.Kind), e.IP), e.Detail)
		acc = foldUint(acc, uint64(e.At))
	}
	for _, t := range u.Transactions {
		acc = foldString(foldString(foldString(acc, t.ID), t.Currency), t.Status)
		acc = foldUint(foldUint(acc, math.Float64bits(t.Amount)), uint64(t.At))
	}
	for _, m := range u.Messages {
		acc = foldString(foldString(foldString(foldString(acc, m.From), m.To), m.Subject), m.Body)
		acc = foldUint(foldUint(acc, uint64(m.ID)), uint64(m.At))
		for _, at := range m.Attachments {
			acc = foldString(foldString(acc, at.Name), at.MIMEType)
			acc = foldUint(acc, uint64(at.Bytes))
		}
	}

	acc = foldStrings(acc, u.Social.Connections)
	acc = foldStrings(acc, u.Social.Groups)
	for _, po := range u.Social.Posts {
		acc = foldString(acc, po.Content)
		acc = foldUint(foldUint(foldUint(acc, uint64(po.ID)), uint64(po.Likes)), uint64(po.At))
	}
	for _, b := range u.Blobs {
		acc = foldString(acc, b)
	}
	return acc
}

// Key returns t.ID.
func (t FatTransformed) Key() int64 { return t.ID }

// Fold adds every byte of t to acc.
func (t FatTransformed) Fold(acc uint64) uint64 {
	for _, s := range [...]string{t.FullName, t.Email, t.Location, t.ProfileSummary} {
		acc = foldString(acc, s)
	}
	for _, v := range [...]int64{t.ID, int64(t.Activities), int64(t.Transactions), int64(t.Messages),
		int64(t.Posts), int64(t.Connections), int64(t.TotalDataSize)} {
		acc = foldUint(acc, uint64(v))
	}
	return foldUint(acc, math.Float64bits(t.TotalSpent))
}
