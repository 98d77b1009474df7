package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/weir-etl/weir/connect/catalog"
)

// Config configures a [Source]. Zero fields take the defaults their docs
// state.
type Config struct {
	// URL is mysql://USER[:PASS]@HOST[:PORT]/DB: the port defaults to 3306;
	// ?socket=/path/to/mysqld.sock connects through a Unix socket instead of
	// TCP; ?tls=true|skip-verify|preferred chooses TLS as the driver does.
	// Required. A password never appears in the errors of this package.
	URL string
	// MaxConns caps the connections of the catalog queries (readers open
	// one each, on top). Zero means 4.
	MaxConns int
	// MinRangeRows is the fewest estimated rows per range [Source.Ranges]
	// makes: a table of fewer rows than 2*MinRangeRows is not split. Zero
	// means 100,000.
	MinRangeRows int64
}

// Validate returns every impossible value of c at once, each naming the
// field: a missing or malformed URL, a negative MaxConns or MinRangeRows.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("mysql: Config.URL is empty"))
	} else if _, err := parseURL(c.URL); err != nil {
		errs = append(errs, err)
	}
	if c.MaxConns < 0 {
		errs = append(errs, fmt.Errorf("mysql: Config.MaxConns must be >= 0, got %d", c.MaxConns))
	}
	if c.MinRangeRows < 0 {
		errs = append(errs, fmt.Errorf("mysql: Config.MinRangeRows must be >= 0, got %d", c.MinRangeRows))
	}
	return errors.Join(errs...)
}

// parseURL turns a mysql:// URL into a driver config with weir's session
// settings: UTC, utf8mb4, no SQL mode that changes what is read, and long
// write timeouts (a reader's consumer may pause while PostgreSQL builds an
// index). Its errors never quote the URL, which may hold a password.
func parseURL(raw string) (*mysql.Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the whole URL, password included
		}
		return nil, fmt.Errorf("mysql: Config.URL: %v", redactErr(err, raw))
	}
	if u.Scheme != "mysql" && u.Scheme != "mariadb" {
		return nil, errors.New("mysql: Config.URL: scheme must be mysql:// or mariadb://")
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return nil, errors.New("mysql: Config.URL: want one database name as the path: mysql://USER@HOST/DB")
	}
	c := mysql.NewConfig()
	c.User = u.User.Username()
	c.Passwd, _ = u.User.Password()
	c.DBName = db
	q := u.Query()
	if sock := q.Get("socket"); sock != "" {
		c.Net, c.Addr = "unix", sock
	} else {
		if u.Hostname() == "" {
			return nil, errors.New("mysql: Config.URL: no host")
		}
		port := u.Port()
		if port == "" {
			port = "3306"
		}
		c.Net, c.Addr = "tcp", net.JoinHostPort(u.Hostname(), port)
	}
	if tls := q.Get("tls"); tls != "" {
		c.TLSConfig = tls
	}
	for k := range q {
		if k != "socket" && k != "tls" {
			return nil, fmt.Errorf("mysql: Config.URL: unknown parameter %q (want socket or tls)", k)
		}
	}
	c.Timeout = 30 * time.Second
	c.Params = map[string]string{
		"time_zone":         "'+00:00'",
		"sql_mode":          "''",
		"net_write_timeout": "3600",
		"net_read_timeout":  "3600",
	}
	return c, nil
}

// redactErr replaces the URL's password in err's text, should a parser
// ever quote it.
func redactErr(err error, raw string) string {
	msg := err.Error()
	if u, perr := url.Parse(raw); perr == nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	if at := strings.LastIndexByte(raw, '@'); at > 0 {
		if colon := strings.IndexByte(raw[:at], ':'); colon >= 0 {
			for _, s := range []string{raw[:at], raw[colon:at]} {
				if len(s) > 1 {
					msg = strings.ReplaceAll(msg, s, "xxxxx")
				}
			}
		}
	}
	return msg
}

// Source reads a MySQL or MariaDB database whole: it implements
// [catalog.Source]. Its methods are safe for concurrent use.
type Source struct {
	db        *sql.DB
	connector driver.Connector
	schema    string
	minRange  int64

	mu    sync.Mutex
	notes map[noteKey]int64
}

type noteKey struct{ table, column, what string }

var _ catalog.Source = (*Source)(nil)

// Open connects to the database of a mysql:// URL with the default
// [Config]. It is NewSource(ctx, Config{URL: url}).
func Open(ctx context.Context, url string) (*Source, error) {
	return NewSource(ctx, Config{URL: url})
}

// NewSource checks cfg with [Config.Validate] and connects, blocking until
// the server answers (or ctx ends). Close the Source when done.
func NewSource(ctx context.Context, cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	mc, _ := parseURL(cfg.URL)
	connector, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, fmt.Errorf("mysql: %v", redactErr(err, cfg.URL))
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(cmpOr(cfg.MaxConns, 4))
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("mysql: connect to %s as %s: %s", mc.Addr, mc.User, redactErr(err, cfg.URL))
	}
	return &Source{db: db, connector: connector, schema: mc.DBName,
		minRange: int64(cmpOr(int(cfg.MinRangeRows), 100_000)), notes: map[noteKey]int64{}}, nil
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Close closes the catalog connections. Readers must be closed first.
func (s *Source) Close() error { return s.db.Close() }

// Notes returns the counts of values the reads so far changed: zero dates
// read as NULL, ENUM's invalid ” read as NULL, TINYINT(1) values other
// than 0 and 1 read as true. Each note names the table and column.
func (s *Source) Notes() []catalog.Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]catalog.Note, 0, len(s.notes))
	for k, n := range s.notes {
		out = append(out, catalog.Note{Table: k.table, Column: k.column, What: k.what, Count: n})
	}
	sortNotes(out)
	return out
}

func (s *Source) addNotes(table string, cols []catalog.Column, counts []noteCount) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range counts {
		s.notes[noteKey{table, cols[c.col].Name, c.what}] += c.n
	}
}
