package users_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/examples/users"
)

// collector is a connect.RowWriter that keeps a copy of every row, checking
// each row's width against its table as it arrives.
type collector struct {
	tables []connect.Table
	rows   [][][]any // by table index
	errs   []error
}

func newCollector() *collector {
	tables := users.Splitter{}.Tables()
	return &collector{tables: tables, rows: make([][][]any, len(tables))}
}

func (c *collector) Row(table int, typed ...connect.Value) {
	values := make([]any, len(typed))
	for i, v := range typed {
		values[i] = v.Any()
	}
	if table < 0 || table >= len(c.tables) {
		c.errs = append(c.errs, fmt.Errorf("row for table index %d out of range", table))
		return
	}
	if want := len(c.tables[table].Columns); len(values) != want {
		c.errs = append(c.errs, fmt.Errorf("%s: row has %d values, table has %d columns",
			c.tables[table].Name, len(values), want))
	}
	c.rows[table] = append(c.rows[table], values)
}

func (c *collector) split(t *testing.T, u users.User) {
	t.Helper()
	if err := (users.Splitter{}).Split(u, c); err != nil {
		t.Fatalf("Split user %d: %v", u.ID, err)
	}
	if err := errors.Join(c.errs...); err != nil {
		t.Fatal(err)
	}
}

func (c *collector) count(table int) int { return len(c.rows[table]) }

var opt = users.GenOptions{Seed: 42, BlobSize: 64}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := users.Generate(7, opt), users.Generate(7, opt)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two Generate(7) calls with the same seed differ")
	}
	other := users.Generate(8, opt)
	if reflect.DeepEqual(a, other) || a.ObjectID == other.ObjectID || a.Email == other.Email ||
		reflect.DeepEqual(a.SocialMedia, other.SocialMedia) {
		t.Error("users 7 and 8 are not different users")
	}
	reseeded := users.Generate(7, users.GenOptions{Seed: 43, BlobSize: 64})
	if reflect.DeepEqual(a.Profile, reseeded.Profile) || a.LargeData == reseeded.LargeData {
		t.Error("seeds 42 and 43 give the same user 7")
	}
	if reseeded.ID != 7 {
		t.Errorf("reseeded user has id %d, want 7", reseeded.ID)
	}
}

// The data set must not change silently: a resumed run regenerates the
// users it has not loaded, and --verify regenerates them all, possibly with
// another build. If this fails after an intended change to the generator,
// every stored data set and checkpoint made with the old one is invalid.
func TestGenerateGolden(t *testing.T) {
	u := users.Generate(1, users.GenOptions{Seed: 42})
	doc, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(doc)
	const want = "4eb9251aac64db27ee1feaa17f4c95fb7361075817f7950912d39702335be42a"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("Generate(1, seed 42) changed: sha256 of its JSON = %s, want %s\n%s", got, want, doc)
	}
}

func TestGenerateShape(t *testing.T) {
	u := users.Generate(123, opt)
	if err := users.Validate(&u); err != nil {
		t.Fatalf("generated user fails Validate: %v", err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(u.ObjectID) {
		t.Errorf("ObjectID %q is not 24 hex digits", u.ObjectID)
	}
	// An ObjectID starts with its creation time in seconds.
	var ts uint32
	if _, err := fmt.Sscanf(u.ObjectID[:8], "%08x", &ts); err != nil || int64(ts) != u.CreatedAt.Unix() {
		t.Errorf("ObjectID %s does not start with created_at %d (err %v)", u.ObjectID, u.CreatedAt.Unix(), err)
	}
	if !strings.HasPrefix(u.Email, u.Username+"@") || !strings.HasSuffix(u.Username, "123") {
		t.Errorf("username %q / email %q do not match id 123", u.Username, u.Email)
	}
	if !u.UpdatedAt.After(u.CreatedAt) && !u.UpdatedAt.Equal(u.CreatedAt) {
		t.Errorf("updated_at %v before created_at %v", u.UpdatedAt, u.CreatedAt)
	}
	if u.CreatedAt.Location() != time.UTC || u.CreatedAt.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("created_at %v is not UTC with millisecond precision", u.CreatedAt)
	}
	if len(u.LargeData) != 64 {
		t.Errorf("LargeData has %d bytes, want BlobSize 64", len(u.LargeData))
	}
	counts := map[string]int{
		"interests":   len(u.Profile.Interests),
		"skills":      len(u.Profile.Skills),
		"connections": len(u.SocialMedia.Connections),
	}
	wantCounts := map[string]int{"interests": 5, "skills": 7, "connections": 50}
	if !reflect.DeepEqual(counts, wantCounts) {
		t.Errorf("list sizes %v, want %v", counts, wantCounts)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(u.Profile.Skills)))) != 7 {
		t.Errorf("skills are not distinct: %q", u.Profile.Skills)
	}
	exp := u.Profile.Experience
	for i, e := range exp {
		if (e.EndDate == nil) != (i == len(exp)-1) {
			t.Errorf("experience %d: end_date %v; only the last (current) job has none", i, e.EndDate)
		}
		if e.EndDate != nil && (e.EndDate.Before(e.StartDate) || exp[i+1].StartDate.Before(*e.EndDate)) {
			t.Errorf("experience %d is not in chronological order", i)
		}
	}
}

func TestGenerateBlobSize(t *testing.T) {
	for _, tc := range []struct {
		blob int
		want int
	}{
		{0, users.DefaultBlobSize},
		{-1, 0},
		{1, 1},
		{50000, 50000},
	} {
		u := users.Generate(1, users.GenOptions{BlobSize: tc.blob})
		if len(u.LargeData) != tc.want {
			t.Errorf("BlobSize %d: LargeData has %d bytes, want %d", tc.blob, len(u.LargeData), tc.want)
		}
	}
	// The blob is the end of the stream, so its size changes nothing else.
	a, b := users.Generate(5, users.GenOptions{BlobSize: 10}), users.Generate(5, users.GenOptions{BlobSize: 20})
	if !strings.HasPrefix(b.LargeData, a.LargeData) {
		t.Error("a longer blob does not extend the shorter one")
	}
	a.LargeData, b.LargeData = "", ""
	if !reflect.DeepEqual(a, b) {
		t.Error("BlobSize changed fields other than LargeData")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, id := range []int64{1, 2, 999_999} {
		u := users.Generate(id, opt)
		doc, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		back, err := users.Decode(doc)
		if err != nil {
			t.Fatalf("Decode(Marshal(user %d)): %v", id, err)
		}
		if !reflect.DeepEqual(u, back) {
			t.Errorf("user %d changed in a JSON round trip:\n%+v\n%+v", id, u, back)
		}
	}
}

// A document as mongoexport writes it with plain JSON (no Extended JSON
// wrappers), one element per list, an offset time zone and a current job.
const exportDoc = `{
  "_id": "5f1d7a3b9c8e4a0012345678",
  "id": 9001,
  "username": "ada.lovelace",
  "email": "ada@example.com",
  "first_name": "Ada",
  "last_name": "Lovelace",
  "age": 36,
  "created_at": "2020-07-26T12:34:56.789Z",
  "updated_at": "2021-01-02T03:04:05+02:00",
  "address": {"street": "12 St James's Square", "city": "London", "state": "England",
              "country": "GB", "postal_code": "SW1Y 4JH",
              "coordinates": {"lat": 51.5074, "lon": -0.1347}},
  "profile": {
    "bio": "Wrote the first program.\nLikes \"engines\".",
    "interests": ["mathematics"],
    "skills": ["analysis", "poetry"],
    "education": [{"school": "Home", "degree": "none", "field": "Mathematics", "start_year": 1828, "end_year": 1835}],
    "experience": [{"company": "Analytical Engine", "title": "Programmer",
                    "start_date": "1842-01-01T00:00:00Z", "end_date": null, "description": "Notes A to G."}]
  },
  "preferences": {"theme": "dark", "language": "en-GB", "timezone": "Europe/London", "newsletter": true,
                  "settings": [{"key": "notifications.email", "value": "off"}]},
  "activity_log": [{"action": "login", "timestamp": "2021-01-01T00:00:00Z", "ip": "10.0.0.1", "details": "first"}],
  "transactions": [{"amount": 12.5, "currency": "GBP", "status": "completed", "timestamp": "2021-01-01T00:00:01Z"}],
  "messages": [{"to": 1, "subject": "Hi", "body": "Hello", "sent_at": "2021-01-01T00:00:02Z", "read": false,
                "attachments": [{"filename": "notes.pdf", "size": 2048, "mime_type": "application/pdf"},
                                {"filename": "g.txt", "size": 10, "mime_type": "text/plain"}]}],
  "social_media": {"connections": [1, 2, 3], "posts": [{"content": "Hello", "likes": 3, "timestamp": "2021-01-01T00:00:03Z"}],
                   "groups": ["Mathematicians"]},
  "large_data": "xxxxxxxxxx"
}`

func TestDecodeExportDocument(t *testing.T) {
	u, err := users.Decode([]byte(exportDoc))
	if err != nil {
		t.Fatal(err)
	}
	if u.ObjectID != "5f1d7a3b9c8e4a0012345678" || u.ID != 9001 || u.Email != "ada@example.com" {
		t.Errorf("identity fields: %q %d %q", u.ObjectID, u.ID, u.Email)
	}
	if want := time.Date(2020, 7, 26, 12, 34, 56, 789e6, time.UTC); !u.CreatedAt.Equal(want) {
		t.Errorf("created_at = %v, want %v", u.CreatedAt, want)
	}
	if want := time.Date(2021, 1, 2, 1, 4, 5, 0, time.UTC); !u.UpdatedAt.Equal(want) {
		t.Errorf("updated_at = %v, want %v (offset kept as the same instant)", u.UpdatedAt, want)
	}
	if u.Address.Coordinates.Lon != -0.1347 || u.Profile.Bio != "Wrote the first program.\nLikes \"engines\"." {
		t.Errorf("nested fields: lon %v, bio %q", u.Address.Coordinates.Lon, u.Profile.Bio)
	}
	if u.Profile.Experience[0].EndDate != nil {
		t.Errorf("end_date null decoded as %v", u.Profile.Experience[0].EndDate)
	}
	if got := u.Messages[0].Attachments[1]; got != (users.Attachment{Filename: "g.txt", Size: 10, MimeType: "text/plain"}) {
		t.Errorf("attachment = %+v", got)
	}

	c := newCollector()
	c.split(t, u)
	want := map[int]int{
		users.TableUsers: 1, users.TableEducation: 1, users.TableExperience: 1, users.TableSettings: 1,
		users.TableMessages: 1, users.TableAttachments: 2, users.TablePosts: 1, users.TableGroups: 1,
		users.TableLargeData: 1,
	}
	for table, n := range want {
		if got := c.count(table); got != n {
			t.Errorf("%s: %d rows, want %d", c.tables[table].Name, got, n)
		}
	}
	if got := c.rows[users.TableExperience][0][5]; got != nil {
		t.Errorf("experience.end_date of the current job = %v, want nil (NULL)", got)
	}
	if got := c.rows[users.TableSocialMedia][0][1]; got != "[1,2,3]" {
		t.Errorf("social_media.connections = %v, want [1,2,3]", got)
	}
	if got := c.rows[users.TableProfiles][0][3]; got != `["analysis","poetry"]` {
		t.Errorf("profiles.skills = %v", got)
	}

	// Re-encoding and decoding again loses nothing.
	doc, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	again, err := users.Decode(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(u, again) {
		t.Errorf("export document changed in a round trip:\n%+v\n%+v", u, again)
	}
}

func TestDecodeErrors(t *testing.T) {
	valid := `{"id": 1, "email": "a@b"}`
	cases := []struct {
		name    string
		doc     string
		wantErr bool
		typeErr bool // a *json.UnmarshalTypeError is reachable
	}{
		{"minimal valid document", valid, false, false},
		{"unknown field is refused, not dropped", `{"id": 1, "email": "a@b", "nickname": "x"}`, true, false},
		{"unknown nested field", `{"id": 1, "email": "a@b", "address": {"zip": "1"}}`, true, false},
		{"wrong type", `{"id": "one", "email": "a@b"}`, true, true},
		{"extended JSON wrapper is not plain JSON", `{"_id": {"$oid": "5f1d7a3b9c8e4a0012345678"}, "id": 1, "email": "a@b"}`, true, true},
		{"data after the document", valid + ` {"id": 2}`, true, false},
		{"truncated", `{"id": 1, "email": "a@`, true, false},
		{"not an object", `[1, 2]`, true, true},
		{"missing id", `{"email": "a@b"}`, true, false},
		{"negative id", `{"id": -4, "email": "a@b"}`, true, false},
		{"missing email", `{"id": 1}`, true, false},
		{"email without @", `{"id": 1, "email": "nobody"}`, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := users.Decode([]byte(tc.doc))
			if (err != nil) != tc.wantErr {
				t.Fatalf("Decode(%s) error = %v, want error %v", tc.doc, err, tc.wantErr)
			}
			if err == nil {
				if u.ID != 1 {
					t.Errorf("decoded id %d, want 1", u.ID)
				}
				return
			}
			if !errors.Is(err, users.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			var te *json.UnmarshalTypeError
			if got := errors.As(err, &te); got != tc.typeErr {
				t.Errorf("errors.As(%v, *json.UnmarshalTypeError) = %v, want %v", err, got, tc.typeErr)
			}
			if !reflect.DeepEqual(u, users.User{}) {
				t.Errorf("a failed Decode returned a non-zero User: %+v", u)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	good := users.Generate(1, opt)
	cases := []struct {
		name  string
		edit  func(u *users.User)
		field string // appears in the error; "" means valid
	}{
		{"generated user is valid", func(*users.User) {}, ""},
		{"zero id", func(u *users.User) { u.ID = 0 }, "id"},
		{"empty email", func(u *users.User) { u.Email = "" }, "email"},
		{"email without @", func(u *users.User) { u.Email = "x.example.com" }, "email"},
		{"empty ObjectID is allowed", func(u *users.User) { u.ObjectID = "" }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := good
			tc.edit(&u)
			err := users.Validate(&u)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, users.ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Validate = %v, want ErrInvalid naming %q", err, tc.field)
			}
			// Split refuses the same record and writes nothing.
			c := newCollector()
			if err := (users.Splitter{}).Split(u, c); !errors.Is(err, users.ErrInvalid) {
				t.Errorf("Split of an invalid user = %v, want ErrInvalid", err)
			}
			for i := range c.rows {
				if len(c.rows[i]) > 0 {
					t.Errorf("Split of an invalid user wrote %d rows to %s", len(c.rows[i]), c.tables[i].Name)
				}
			}
		})
	}
	if err := users.Validate(nil); !errors.Is(err, users.ErrInvalid) {
		t.Errorf("Validate(nil) = %v, want ErrInvalid", err)
	}
	bad := users.Generate(0, opt)
	if err := users.Validate(&bad); !errors.Is(err, users.ErrInvalid) {
		t.Errorf("Generate(0) is valid (%v); tests rely on it making a bad record", err)
	}
}

func TestSplitRowCounts(t *testing.T) {
	c := newCollector()
	c.split(t, users.Generate(1, opt))
	per := users.RowsPerUser()
	if len(per) != users.NumTables || len(c.tables) != users.NumTables || users.NumTables != 15 {
		t.Fatalf("RowsPerUser has %d tables, Tables %d, NumTables %d; want 15", len(per), len(c.tables), users.NumTables)
	}
	total := 0
	for i, tab := range c.tables {
		want, ok := per[tab.Name]
		if !ok {
			t.Errorf("RowsPerUser has no entry for %s", tab.Name)
		}
		if got := c.count(i); got != want {
			t.Errorf("%s: Split wrote %d rows, RowsPerUser says %d", tab.Name, got, want)
		}
		total += c.count(i)
	}
	if total != 126 {
		t.Errorf("one user split into %d rows, want 126 (see the package doc)", total)
	}
	exp := users.ExpectedRows(1000)
	for name, n := range per {
		if exp[name] != int64(n)*1000 {
			t.Errorf("ExpectedRows(1000)[%s] = %d, want %d", name, exp[name], n*1000)
		}
	}
	if !slices.Equal(users.TableNames(), tableNames(c.tables)) {
		t.Errorf("TableNames() = %v, want the names of Tables() in order", users.TableNames())
	}
}

func tableNames(ts []connect.Table) []string {
	var names []string
	for _, t := range ts {
		names = append(names, t.Name)
	}
	return names
}

func TestTablesReturnsACopy(t *testing.T) {
	s := users.Splitter{}
	a := s.Tables()
	a[0].Name = "mutated"
	a[0].Columns[0] = "mutated"
	a[0].Key[0] = "mutated"
	b := s.Tables()
	if b[0].Name != "users" || b[0].Columns[0] != "id" || b[0].Key[0] != "id" {
		t.Errorf("modifying the result of Tables changed the next one: %+v", b[0])
	}
}

// keyOf returns a row's key columns as a comparable tuple; every key
// column is an int64.
func keyOf(t *testing.T, row []any, idx []int) [3]int64 {
	t.Helper()
	var k [3]int64
	for i, c := range idx {
		switch v := row[c].(type) {
		case int64:
			k[i] = v
		case int32:
			k[i] = int64(v)
		default:
			t.Fatalf("key column %d holds %T, want an integer", c, row[c])
		}
	}
	return k
}

func columnIndexes(t *testing.T, tab connect.Table, cols []string) []int {
	t.Helper()
	var idx []int
	for _, c := range cols {
		i := slices.Index(tab.Columns, c)
		if i < 0 {
			t.Fatalf("%s has no column %q", tab.Name, c)
		}
		idx = append(idx, i)
	}
	return idx
}

// Across 1,000 users, every table's keys are unique and every foreign key
// (as the DDL declares it) points at a row written earlier.
func TestSplitKeysAndReferences(t *testing.T) {
	const n = 1000
	c := newCollector()
	for id := int64(1); id <= n; id++ {
		c.split(t, users.Generate(id, users.GenOptions{Seed: 1, BlobSize: 8}))
	}
	ddl := parseDDL(t, users.SchemaPostgres)
	keys := make([]map[[3]int64]bool, len(c.tables))
	for i, tab := range c.tables {
		if got, want := int64(c.count(i)), users.ExpectedRows(n)[tab.Name]; got != want {
			t.Errorf("%s: %d rows for %d users, ExpectedRows says %d", tab.Name, got, n, want)
		}
		idx := columnIndexes(t, tab, tab.Key)
		keys[i] = make(map[[3]int64]bool, c.count(i))
		for _, row := range c.rows[i] {
			k := keyOf(t, row, idx)
			if keys[i][k] {
				t.Fatalf("%s: duplicate key %v", tab.Name, k[:len(idx)])
			}
			keys[i][k] = true
		}
	}
	for i, tab := range c.tables {
		for _, fk := range ddl[i].fks {
			p := slices.Index(tableNames(c.tables), fk.parent)
			if p < 0 {
				t.Fatalf("%s references unknown table %s", tab.Name, fk.parent)
			}
			if !slices.Equal(fk.parentCols, c.tables[p].Key) {
				t.Fatalf("%s references %s%v, which is not its Key %v", tab.Name, fk.parent, fk.parentCols, c.tables[p].Key)
			}
			idx := columnIndexes(t, tab, fk.cols)
			for _, row := range c.rows[i] {
				if k := keyOf(t, row, idx); !keys[p][k] {
					t.Fatalf("%s row %v references missing %s %v", tab.Name, row[:3], fk.parent, k[:len(idx)])
				}
			}
		}
	}
}

// Keys depend on the document only: splitting the same user again gives
// the same keys, which is what makes a re-run an idempotent upsert.
func TestSplitIsRepeatable(t *testing.T) {
	a, b := newCollector(), newCollector()
	a.split(t, users.Generate(77, opt))
	b.split(t, users.Generate(77, opt))
	if !reflect.DeepEqual(a.rows, b.rows) {
		t.Error("splitting the same user twice gave different rows")
	}
}

type ddlColumn struct {
	name, typ string
	notNull   bool
}

type ddlFK struct {
	cols       []string
	parent     string
	parentCols []string
}

type ddlTable struct {
	name string
	cols []ddlColumn
	pk   []string
	fks  []ddlFK
}

var (
	createRE = regexp.MustCompile(`(?s)^CREATE TABLE IF NOT EXISTS (\w+) \((.*)\)$`)
	fkRE     = regexp.MustCompile(`^FOREIGN KEY \(([^)]*)\) REFERENCES (\w+) \(([^)]*)\) ON DELETE CASCADE$`)
	pkRE     = regexp.MustCompile(`^PRIMARY KEY \(([^)]*)\)$`)
)

func splitList(s string) []string {
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// parseDDL reads the schema constants' fixed layout: one CREATE TABLE per
// statement, one column or constraint per line.
func parseDDL(t *testing.T, schema string) []ddlTable {
	t.Helper()
	var out []ddlTable
	for _, stmt := range strings.Split(schema, ";") {
		stmt = strings.TrimSpace(stmt)
		if stmt == "" {
			continue
		}
		m := createRE.FindStringSubmatch(stmt)
		if m == nil {
			t.Fatalf("unexpected statement: %s", stmt)
		}
		tab := ddlTable{name: m[1]}
		for _, line := range strings.Split(strings.TrimSpace(m[2]), "\n") {
			line = strings.TrimSuffix(strings.TrimSpace(line), ",")
			if pk := pkRE.FindStringSubmatch(line); pk != nil {
				tab.pk = splitList(pk[1])
				continue
			}
			if fk := fkRE.FindStringSubmatch(line); fk != nil {
				tab.fks = append(tab.fks, ddlFK{cols: splitList(fk[1]), parent: fk[2], parentCols: splitList(fk[3])})
				continue
			}
			name, typ, ok := strings.Cut(line, " ")
			if !ok {
				t.Fatalf("%s: cannot parse line %q", tab.name, line)
			}
			col := ddlColumn{name: name, typ: typ}
			if rest, found := strings.CutSuffix(typ, " NOT NULL"); found {
				col.typ, col.notNull = rest, true
			}
			tab.cols = append(tab.cols, col)
		}
		out = append(out, tab)
	}
	return out
}

// Which SQL types each Go value type may be written to.
var sqlTypes = map[string]map[string][]string{
	"postgres": {
		"int64":     {"bigint"},
		"int32":     {"integer"},
		"float64":   {"double precision", "numeric"},
		"string":    {"text", "jsonb"},
		"bool":      {"boolean"},
		"time.Time": {"timestamptz"},
	},
	"sqlite": {
		"int64":     {"INTEGER"},
		"int32":     {"INTEGER"},
		"float64":   {"REAL"},
		"string":    {"TEXT"},
		"bool":      {"INTEGER"},
		"time.Time": {"TEXT"},
	},
}

// The two schemas declare exactly the tables of Splitter.Tables, in the
// same foreign-key order, with the same columns and keys, and types that fit
// the values Split writes.
func TestSchemasMatchTables(t *testing.T) {
	tables := users.Splitter{}.Tables()
	c := newCollector()
	for id := int64(1); id <= 20; id++ {
		c.split(t, users.Generate(id, opt))
	}
	for _, sc := range []struct {
		name, ddl, drop string
	}{
		{"postgres", users.SchemaPostgres, users.DropPostgres},
		{"sqlite", users.SchemaSQLite, users.DropSQLite},
	} {
		t.Run(sc.name, func(t *testing.T) {
			ddl := parseDDL(t, sc.ddl)
			if len(ddl) != len(tables) {
				t.Fatalf("schema creates %d tables, Tables has %d", len(ddl), len(tables))
			}
			for i, tab := range tables {
				d := ddl[i]
				if d.name != tab.Name {
					t.Fatalf("table %d: schema creates %s, Tables has %s", i, d.name, tab.Name)
				}
				var names []string
				for _, col := range d.cols {
					names = append(names, col.name)
				}
				if !slices.Equal(names, tab.Columns) {
					t.Errorf("%s: schema columns %v, Tables columns %v", tab.Name, names, tab.Columns)
				}
				if !slices.Equal(d.pk, tab.Key) {
					t.Errorf("%s: schema primary key %v, Tables key %v", tab.Name, d.pk, tab.Key)
				}
				if i > 0 && len(d.fks) == 0 {
					t.Errorf("%s references no table", tab.Name)
				}
				for _, fk := range d.fks {
					parent := slices.IndexFunc(tables[:i], func(pt connect.Table) bool { return pt.Name == fk.parent })
					if parent < 0 {
						t.Errorf("%s references %s, which does not come before it in Tables()", tab.Name, fk.parent)
					}
				}
				for _, row := range c.rows[i] {
					for j, v := range row {
						col := d.cols[j]
						if v == nil {
							if col.notNull {
								t.Errorf("%s.%s is NOT NULL but Split wrote nil", tab.Name, col.name)
							}
							continue
						}
						goType := reflect.TypeOf(v).String()
						if !slices.Contains(sqlTypes[sc.name][goType], col.typ) {
							t.Fatalf("%s.%s is %s but Split wrote a %s", tab.Name, col.name, col.typ, goType)
						}
						if col.typ == "jsonb" && !json.Valid([]byte(v.(string))) {
							t.Errorf("%s.%s: %q is not valid JSON", tab.Name, col.name, v)
						}
					}
				}
			}
			// The drop script names every table once, children first.
			dropped := regexp.MustCompile(`\b[a-z_]+\b`).FindAllString(
				strings.NewReplacer("DROP TABLE IF EXISTS", "").Replace(sc.drop), -1)
			want := users.TableNames()
			slices.Reverse(want)
			if !slices.Equal(dropped, want) {
				t.Errorf("drop script drops %v, want %v", dropped, want)
			}
		})
	}
}

// Both schemas declare the same keys and references.
func TestSchemasAgree(t *testing.T) {
	pg, lite := parseDDL(t, users.SchemaPostgres), parseDDL(t, users.SchemaSQLite)
	for i := range pg {
		if !reflect.DeepEqual(pg[i].pk, lite[i].pk) || !reflect.DeepEqual(pg[i].fks, lite[i].fks) {
			t.Errorf("%s: PostgreSQL key %v refs %v; SQLite key %v refs %v",
				pg[i].name, pg[i].pk, pg[i].fks, lite[i].pk, lite[i].fks)
		}
		for j := range pg[i].cols {
			if pg[i].cols[j].notNull != lite[i].cols[j].notNull {
				t.Errorf("%s.%s: NOT NULL differs between the schemas", pg[i].name, pg[i].cols[j].name)
			}
		}
	}
}

func TestSplitValueTypes(t *testing.T) {
	c := newCollector()
	c.split(t, users.Generate(3, opt))
	for i, rows := range c.rows {
		for _, row := range rows {
			for j, v := range row {
				switch v.(type) {
				case nil, int32, int64, float64, string, bool, time.Time, []byte:
				default:
					t.Errorf("%s.%s: value of type %T is not a connect.Value's", c.tables[i].Name, c.tables[i].Columns[j], v)
				}
			}
		}
	}
}

func TestSize(t *testing.T) {
	small := users.Generate(9, users.GenOptions{BlobSize: 1000})
	big := users.Generate(9, users.GenOptions{BlobSize: 51000})
	if d := big.Size() - small.Size(); d != 50000 {
		t.Errorf("50,000 more blob bytes changed Size by %d", d)
	}
	doc, err := json.Marshal(small)
	if err != nil {
		t.Fatal(err)
	}
	// The in-memory estimate and the JSON text measure the same content; they
	// should be the same order of magnitude.
	if s := small.Size(); s < len(doc)/2 || s > 2*len(doc) {
		t.Errorf("Size() = %d, JSON document is %d bytes", s, len(doc))
	}
	var zero users.User
	if zero.Size() <= 0 {
		t.Errorf("zero User has Size %d", zero.Size())
	}
}

func readAll(t *testing.T, src weir.Source[users.User], bufLen int) (ids []int64, reads []int) {
	t.Helper()
	buf := make([]users.User, bufLen)
	for range 1000 {
		n, err := src.Read(context.Background(), buf)
		reads = append(reads, n)
		for _, u := range buf[:n] {
			ids = append(ids, u.ID)
		}
		if err == io.EOF {
			return ids, reads
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("source did not end")
	return nil, nil
}

func TestGenerator(t *testing.T) {
	g, err := users.NewGenerator(10, opt)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]users.User, 4)
	var got []users.User
	var reads []int
	for {
		n, err := g.Read(context.Background(), buf)
		reads = append(reads, n)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(reads, []int{4, 4, 2}) {
		t.Errorf("reads returned %v users, want [4 4 2] (EOF with the last ones)", reads)
	}
	if len(got) != 10 {
		t.Fatalf("got %d users, want 10", len(got))
	}
	for i, u := range got {
		if want := users.Generate(int64(i+1), opt); !reflect.DeepEqual(u, want) {
			t.Fatalf("user %d from the source differs from Generate(%d)", i+1, i+1)
		}
	}
	if n, err := g.Read(context.Background(), buf); n != 0 || err != io.EOF {
		t.Errorf("Read after the end = %d, %v; want 0, EOF", n, err)
	}
}

func TestGeneratorRanges(t *testing.T) {
	cases := []struct {
		name  string
		n     int64
		start int64
		want  []int64
	}{
		{"from the start", 5, 0, []int64{1, 2, 3, 4, 5}},
		{"resume after 3 loaded", 5, 4, []int64{4, 5}},
		{"resume at the last", 5, 5, []int64{5}},
		{"resume a finished run", 5, 6, nil},
		{"empty", 0, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := users.NewGenerator(tc.n, users.GenOptions{Seed: 42, BlobSize: 8, Start: tc.start})
			if err != nil {
				t.Fatal(err)
			}
			ids, _ := readAll(t, g, 3)
			if !slices.Equal(ids, tc.want) {
				t.Errorf("ids %v, want %v", ids, tc.want)
			}
		})
	}
	for _, bad := range []struct {
		n     int64
		start int64
		field string
	}{{-1, 0, "n"}, {5, -1, "Start"}} {
		if _, err := users.NewGenerator(bad.n, users.GenOptions{Start: bad.start}); err == nil || !strings.Contains(err.Error(), bad.field) {
			t.Errorf("NewGenerator(%d, Start %d) error = %v, want one naming %s", bad.n, bad.start, err, bad.field)
		}
	}
}

func TestGeneratorStopsOnCancel(t *testing.T) {
	g, err := users.NewGenerator(100, opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := g.Read(ctx, make([]users.User, 10))
	if n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context = %d, %v; want 0, context.Canceled", n, err)
	}
}

// A whole run through the engine: the generator feeds Validated, and a
// concurrent sink splits every batch. The row counts match ExpectedRows.
func TestPipelineRun(t *testing.T) {
	const n = 300
	g, err := users.NewGenerator(n, users.GenOptions{Seed: 5, BlobSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	counts := make(map[string]int64)
	seen := make(map[int64]bool)
	sink := weir.SinkFunc[users.User](func(ctx context.Context, batch []users.User) error {
		c := newCollector()
		for _, u := range batch {
			if err := (users.Splitter{}).Split(u, c); err != nil {
				return err
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for i, rows := range c.rows {
			counts[c.tables[i].Name] += int64(len(rows))
		}
		for _, u := range batch {
			if seen[u.ID] {
				return fmt.Errorf("user %d loaded twice", u.ID)
			}
			seen[u.ID] = true
		}
		return nil
	})
	p, err := weir.New(g, users.Validated(), sink, weir.Config{BatchSize: 32, Workers: 2, BatchBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Errorf("%d distinct users loaded, want %d", len(seen), n)
	}
	want := users.ExpectedRows(n)
	for name, w := range want {
		if counts[name] != w {
			t.Errorf("%s: %d rows, want %d", name, counts[name], w)
		}
	}
	if st := p.Stats(); st.Extract.Bytes == 0 {
		t.Errorf("the engine did not find User.Size: extract bytes = 0 (%+v)", st.Extract)
	}
}

// DecodeJSON turns documents into users and reports a bad one with its
// position; errors.Is still finds ErrInvalid through the engine's wrapping.
func TestDecodeJSONTransform(t *testing.T) {
	docs := [][]byte{[]byte(exportDoc), []byte(`{"id": 2, "email": "b@c"}`), []byte(`{"id": 3}`)}
	var got []int64
	sink := weir.SinkFunc[users.User](func(_ context.Context, batch []users.User) error {
		for _, u := range batch {
			got = append(got, u.ID)
		}
		return nil
	})
	p, err := weir.New(weir.FromSlice(docs), users.DecodeJSON(), sink, weir.Config{BatchSize: 1, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Run(context.Background())
	if !errors.Is(err, users.ErrInvalid) {
		t.Fatalf("run = %v, want an error wrapping ErrInvalid", err)
	}
	if !slices.Equal(got, []int64{9001, 2}) {
		t.Errorf("loaded ids %v before the bad document, want [9001 2]", got)
	}
}

func TestGeneratorPositionAndSeek(t *testing.T) {
	g, err := users.NewGenerator(10, users.GenOptions{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]users.User, 4)
	if n, err := g.Read(context.Background(), buf); n != 4 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	pos, err := g.Position()
	if err != nil || string(pos) != "4" {
		t.Fatalf("Position = %q, %v; want \"4\"", pos, err)
	}
	h, _ := users.NewGenerator(10, users.GenOptions{Seed: 3})
	if err := h.Seek(pos); err != nil {
		t.Fatal(err)
	}
	n, err := h.Read(context.Background(), buf)
	if n != 4 || err != nil || buf[0].ID != 5 || buf[0].Email != users.Generate(5, users.GenOptions{Seed: 3}).Email {
		t.Fatalf("after Seek(4): Read = %d, %v, first id %d", n, err, buf[0].ID)
	}
	if err := h.Seek([]byte("x")); err == nil {
		t.Errorf("Seek(x) succeeded")
	}
}
