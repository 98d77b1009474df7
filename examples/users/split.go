package users

import (
	"strconv"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/internal/jsontext"
)

// Indexes of the tables in [Splitter.Tables], in foreign-key order. They are
// the table argument of [connect.RowWriter.Row].
const (
	TableUsers = iota
	TableAddresses
	TableProfiles
	TableEducation
	TableExperience
	TablePreferences
	TableSettings
	TableActivityLog
	TableTransactions
	TableMessages
	TableAttachments
	TableSocialMedia
	TablePosts
	TableGroups
	TableLargeData
	NumTables // number of tables
)

// tables is the single description of the destination. The schema
// constants spell out the same columns; a test checks they agree.
//
// Go types of the values Split writes, per column: ids, seq, age, years,
// size, likes and recipient_id are int64; lat, lon and amount float64;
// newsletter and is_read bool; *_at, *_date and timestamps time.Time (UTC,
// millisecond precision when generated); experience.end_date is nil for
// the current job; interests, skills and connections are JSON arrays as
// strings; everything else is a string.
var tables = [NumTables]connect.Table{
	TableUsers: {Name: "users", Key: []string{"id"}, Columns: []string{
		"id", "object_id", "username", "email", "first_name", "last_name", "age", "created_at", "updated_at"}},
	TableAddresses: {Name: "addresses", Key: []string{"user_id"}, Columns: []string{
		"user_id", "street", "city", "state", "country", "postal_code", "lat", "lon"}},
	TableProfiles: {Name: "profiles", Key: []string{"user_id"}, Columns: []string{
		"user_id", "bio", "interests", "skills"}},
	TableEducation: {Name: "education", Key: []string{"user_id", "seq"}, Columns: []string{
		"user_id", "seq", "school", "degree", "field", "start_year", "end_year"}},
	TableExperience: {Name: "experience", Key: []string{"user_id", "seq"}, Columns: []string{
		"user_id", "seq", "company", "title", "start_date", "end_date", "description"}},
	TablePreferences: {Name: "preferences", Key: []string{"user_id"}, Columns: []string{
		"user_id", "theme", "language", "timezone", "newsletter"}},
	TableSettings: {Name: "settings", Key: []string{"user_id", "seq"}, Columns: []string{
		"user_id", "seq", "key", "value"}},
	TableActivityLog: {Name: "activity_log", Key: []string{"user_id", "seq"}, Columns: []string{
		"user_id", "seq", "action", "occurred_at", "ip", "details"}},
	TableTransactions: {Name: "transactions", Key: []string{"user_id", "seq"}, Columns: []string{
		"user_id", "seq", "amount", "currency", "status", "created_at"}},
	TableMessages: {Name: "messages", Key: []string{"user_id", "seq"}, Columns: []string{
		"user_id", "seq", "recipient_id", "subject", "body", "sent_at", "is_read"}},
	TableAttachments: {Name: "attachments", Key: []string{"user_id", "message_seq", "seq"}, Columns: []string{
		"user_id", "message_seq", "seq", "filename", "size", "mime_type"}},
	TableSocialMedia: {Name: "social_media", Key: []string{"user_id"}, Columns: []string{
		"user_id", "connections"}},
	TablePosts: {Name: "posts", Key: []string{"user_id", "seq"}, Columns: []string{
		"user_id", "seq", "content", "likes", "created_at"}},
	TableGroups: {Name: "groups", Key: []string{"user_id", "seq"}, Columns: []string{
		"user_id", "seq", "name"}},
	TableLargeData: {Name: "large_data", Key: []string{"user_id"}, Columns: []string{
		"user_id", "payload"}},
}

// maxColumns is the widest table's column count (users).
const maxColumns = 9

// rowsPerUser is the row count per table of a generated user.
var rowsPerUser = [NumTables]int{
	TableUsers:        1,
	TableAddresses:    1,
	TableProfiles:     1,
	TableEducation:    numEducation,
	TableExperience:   numExperience,
	TablePreferences:  1,
	TableSettings:     numSettings,
	TableActivityLog:  numActivity,
	TableTransactions: numTransactions,
	TableMessages:     numMessages,
	TableAttachments:  numMessages * numAttachments,
	TableSocialMedia:  1,
	TablePosts:        numPosts,
	TableGroups:       numGroups,
	TableLargeData:    1,
}

// TableNames returns the 15 table names in foreign-key order (parents
// first); drop or truncate them in reverse. It returns a new slice.
func TableNames() []string {
	names := make([]string, NumTables)
	for i := range tables {
		names[i] = tables[i].Name
	}
	return names
}

// RowsPerUser returns how many rows [Splitter.Split] writes to each table,
// by table name, for one user made by [Generate] or [NewGenerator]: 126 in
// all, whatever the seed and BlobSize. Decoded documents can differ. It
// returns a new map.
func RowsPerUser() map[string]int {
	m := make(map[string]int, NumTables)
	for i, t := range tables {
		m[t.Name] = rowsPerUser[i]
	}
	return m
}

// ExpectedRows returns the row count of each table, by name, after loading
// n generated users, for verifying a finished run. It returns a new map.
func ExpectedRows(n int64) map[string]int64 {
	m := make(map[string]int64, NumTables)
	for i, t := range tables {
		m[t.Name] = n * int64(rowsPerUser[i])
	}
	return m
}

// Splitter expands a [User] into rows of the 15 tables; it implements
// connect.Splitter[User]. The zero value is ready, holds no state, and is
// safe for concurrent use.
type Splitter struct{}

var _ connect.Splitter[User] = Splitter{}

// Tables returns the 15 tables in foreign-key order, with their columns and
// primary keys; see the package doc. It returns a new copy on every call,
// so a caller may modify it.
func (Splitter) Tables() []connect.Table {
	out := make([]connect.Table, NumTables)
	for i, t := range tables {
		out[i] = connect.Table{
			Name:    t.Name,
			Columns: append([]string(nil), t.Columns...),
			Key:     append([]string(nil), t.Key...),
		}
	}
	return out
}

// Split writes u's rows to w, table by table in [Splitter.Tables] order and
// inside a table in document order: 126 rows for a generated user. Values
// are typed (connect.Int64, Text, TimestampTZ, ...) in the types of
// [SchemaPostgres]; a nullable time is connect.Null() when absent. An
// invalid u (see [Validate]) writes nothing and returns the error, so a sink
// that isolates failing records can dead-letter it.
//
// Cost: a few allocations per user (the scratch slice and the JSON
// columns' text); values are not boxed (see BenchmarkSplit). String bytes
// are not copied: the strings written share memory with u.
func (Splitter) Split(u User, w connect.RowWriter) error {
	if err := Validate(&u); err != nil {
		return err
	}
	// One scratch slice for every row: Row copies the values.
	v := make([]connect.Value, 0, maxColumns)
	uid := connect.Int64(u.ID)
	text, tstz, seq := connect.Text, connect.TimestampTZ, func(i int) connect.Value { return connect.Int32(int32(i)) }

	w.Row(TableUsers, append(v, uid, text(u.ObjectID), text(u.Username), text(u.Email), text(u.FirstName), text(u.LastName),
		connect.Int32(int32(u.Age)), tstz(u.CreatedAt), tstz(u.UpdatedAt))...)

	a := &u.Address
	w.Row(TableAddresses, append(v, uid, text(a.Street), text(a.City), text(a.State), text(a.Country), text(a.PostalCode),
		connect.Float64(a.Coordinates.Lat), connect.Float64(a.Coordinates.Lon))...)

	p := &u.Profile
	buf := make([]byte, 0, 256)
	buf = appendJSONStrings(buf, p.Interests)
	interests := connect.JSON(string(buf))
	buf = appendJSONStrings(buf[:0], p.Skills)
	w.Row(TableProfiles, append(v, uid, text(p.Bio), interests, connect.JSON(string(buf)))...)
	for i := range p.Education {
		e := &p.Education[i]
		w.Row(TableEducation, append(v, uid, seq(i), text(e.School), text(e.Degree), text(e.Field),
			connect.Int32(int32(e.StartYear)), connect.Int32(int32(e.EndYear)))...)
	}
	for i := range p.Experience {
		e := &p.Experience[i]
		end := connect.Null() // the current job
		if e.EndDate != nil {
			end = tstz(*e.EndDate)
		}
		w.Row(TableExperience, append(v, uid, seq(i), text(e.Company), text(e.Title), tstz(e.StartDate), end,
			text(e.Description))...)
	}

	pr := &u.Preferences
	w.Row(TablePreferences, append(v, uid, text(pr.Theme), text(pr.Language), text(pr.Timezone), connect.Bool(pr.Newsletter))...)
	for i := range pr.Settings {
		s := &pr.Settings[i]
		w.Row(TableSettings, append(v, uid, seq(i), text(s.Key), text(s.Value))...)
	}

	for i := range u.Activity {
		a := &u.Activity[i]
		w.Row(TableActivityLog, append(v, uid, seq(i), text(a.Action), tstz(a.Timestamp), text(a.IP), text(a.Details))...)
	}
	for i := range u.Transactions {
		t := &u.Transactions[i]
		w.Row(TableTransactions, append(v, uid, seq(i), connect.Float64(t.Amount), text(t.Currency), text(t.Status), tstz(t.Timestamp))...)
	}
	for i := range u.Messages {
		m := &u.Messages[i]
		w.Row(TableMessages, append(v, uid, seq(i), connect.Int64(m.To), text(m.Subject), text(m.Body), tstz(m.SentAt), connect.Bool(m.Read))...)
	}
	for i := range u.Messages {
		atts := u.Messages[i].Attachments
		for j := range atts {
			at := &atts[j]
			w.Row(TableAttachments, append(v, uid, seq(i), seq(j), text(at.Filename), connect.Int64(at.Size), text(at.MimeType))...)
		}
	}

	s := &u.SocialMedia
	buf = appendJSONInts(buf[:0], s.Connections)
	w.Row(TableSocialMedia, append(v, uid, connect.JSON(string(buf)))...)
	for i := range s.Posts {
		po := &s.Posts[i]
		w.Row(TablePosts, append(v, uid, seq(i), text(po.Content), connect.Int32(int32(po.Likes)), tstz(po.Timestamp))...)
	}
	for i, g := range s.Groups {
		w.Row(TableGroups, append(v, uid, seq(i), text(g))...)
	}

	w.Row(TableLargeData, append(v, uid, text(u.LargeData))...)
	return nil
}

// appendJSONStrings appends ss as a JSON array of strings; nil is [].
func appendJSONStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONInts appends xs as a JSON array of numbers; nil is [].
func appendJSONInts(b []byte, xs []int64) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, x, 10)
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string (see jsontext.AppendString).
func appendJSONString(b []byte, s string) []byte { return jsontext.AppendString(b, s) }
