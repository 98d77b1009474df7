package redact_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"testing"

	"github.com/weir-etl/weir/internal/redact"
)

func TestString(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"userinfo", "postgres://u:s3cret@h:5432/db", "postgres://u:xxxxx@h:5432/db"},
		{"userinfo postgresql", "postgresql://u:s3cret@h/db?sslmode=disable", "postgresql://u:xxxxx@h/db?sslmode=disable"},
		{"userinfo mongodb", "mongodb://u:s3cret@h1:27017,h2:27017/app.users?replicaSet=rs0", "mongodb://u:xxxxx@h1:27017,h2:27017/app.users?replicaSet=rs0"},
		{"userinfo mongodb+srv", "mongodb+srv://u:s3cret@cluster.example.com/app", "mongodb+srv://u:xxxxx@cluster.example.com/app"},
		{"query parameter", "postgres://u@127.0.0.1:1/db?password=s3cret", "postgres://u@127.0.0.1:1/db?password=xxxxx"},
		{"query parameter among others", "postgres://h/db?sslmode=disable&password=s3cret&application_name=weir", "postgres://h/db?sslmode=disable&password=xxxxx&application_name=weir"},
		{"query parameter sslpassword", "postgres://h/db?sslpassword=s3cret", "postgres://h/db?sslpassword=xxxxx"},
		{"query parameter mongodb", "mongodb://u@127.0.0.1:1/db?password=s3cret&tlsCertificateKeyFilePassword=k3y", "mongodb://u@127.0.0.1:1/db?password=xxxxx&tlsCertificateKeyFilePassword=xxxxx"},
		{"query parameter, key percent-encoded", "postgres://h/db?pass%77ord=s3cret", "postgres://h/db?pass%77ord=xxxxx"},
		{"both at once", "postgres://u:one@h/db?password=two", "postgres://u:xxxxx@h/db?password=xxxxx"},
		{"percent-encoded", "postgres://u:s%40c%2Fr%3Aet@h/db?password=s%26c+r%3Det", "postgres://u:xxxxx@h/db?password=xxxxx"},
		{"keyword/value", "host=h password=s3cret dbname=d", "host=h password=xxxxx dbname=d"},
		{"keyword/value, spaces around =", "host=h password = s3cret dbname=d", "host=h password = xxxxx dbname=d"},
		{"keyword/value quoted", "host=h password='s3 cr\\'et' dbname=d", "host=h password=xxxxx dbname=d"},
		{"keyword/value quoted, unterminated", "host=h password='s3 cret dbname=d", "host=h password=xxxxx"},
		{"keyword/value escaped space", `password=s3\ cret host=h`, "password=xxxxx host=h"},
		{"URL without password", "postgres://u@h:5432/db?sslmode=disable&application_name=me@example.com", "postgres://u@h:5432/db?sslmode=disable&application_name=me@example.com"},
		{"URL without user", "mongodb://127.0.0.1:27017/app.users", "mongodb://127.0.0.1:27017/app.users"},
		{"keyword/value without password", "host=h dbname=d", "host=h dbname=d"},
		{"not a DSN", "sqlite:./weir.db", "sqlite:./weir.db"},
		{"URL without ://", "postgres//u:s3cret@h:5432/db", "postgres//u:xxxxx@h:5432/db"},
		{"URL without scheme", "u:s3cret@h:5432/db", "u:xxxxx@h:5432/db"},
		{"path with @ and no ':'", "/data/me@host/x.csv", "/data/me@host/x.csv"},
		{"path", "jsonl:/tmp/users 1.jsonl", "jsonl:/tmp/users 1.jsonl"},
		{"empty", "", ""},
		{"unparsable: bad escape", "postgres://u:s3%zzcret@h/db", "postgres://u:xxxxx@h/db"},
		{"unparsable: bad port", "postgres://u:s3cret@h:bad/db?password=an0ther", "postgres://u:xxxxx@h:bad/db?password=xxxxx"},
		{"unparsable: '/' in password", "postgres://u:s3/cret@h/db", "postgres://u:xxxxx@h/db"},
		{"unparsable: '?' in password", "mongodb://u:s3?cret@h/db", "mongodb://u:xxxxx@h/db"},
		{"unparsable: '#' and '@' in password", "postgres://u:s3#c@ret@h/db", "postgres://u:xxxxx@h/db"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := redact.String(c.in); got != c.want {
				t.Errorf("String(%q)\n got %q\nwant %q", c.in, got, c.want)
			}
		})
	}
}

func TestStringNeverShowsThePassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:s3cret@h/db",
		"postgres://u@h/db?password=s3cret",
		"postgresql://u:s3cret@h/db?password=s3cret",
		"mongodb://u:s3cret@h/db?password=s3cret",
		"host=h password=s3cret",
		"host=h password='s3cret and more'",
		"postgres://u:s3cret@h:bad/db",
		"postgres://u:%zz@h/db?password=s3cret&x=%zz",
	} {
		if got := redact.String(dsn); strings.Contains(got, "s3cret") {
			t.Errorf("String(%q) = %q", dsn, got)
		}
	}
}

func TestStrip(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:s3cret@h:5432/db?table=t":     "postgres://u@h:5432/db?table=t",
		"postgres://u@h/db?password=s3cret&table=t": "postgres://u@h/db?table=t",
		"postgres://u:one@h/db?sslpassword=two":     "postgres://u@h/db",
		"host=h password=s3cret dbname=d":           "host=h dbname=d",
		"postgres://u@h/db?table=t":                 "postgres://u@h/db?table=t",
		"data/*.csv":                                "data/*.csv",
	} {
		if got := redact.Strip(in); got != want {
			t.Errorf("Strip(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestError(t *testing.T) {
	base := fmt.Errorf("open: %w", fs.ErrNotExist)
	t.Run("masks every spelling the driver may quote", func(t *testing.T) {
		dsn := "postgres://u:p%40ss@h/db?password=x%2By&tls=1"
		raw := fmt.Errorf("parse %q: bad; password p@ss; x+y; x%%2By; p%%40ss: %w", dsn, base)
		err := redact.Error(raw, dsn)
		for _, secret := range []string{"p@ss", "p%40ss", "x+y", "x%2By"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("message shows %q: %s", secret, err)
			}
		}
		if !strings.Contains(err.Error(), "open: file does not exist") {
			t.Errorf("message lost the rest: %s", err)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("errors.Is lost the chain")
		}
		var ue *url.Error
		if errors.As(redact.Error(&url.Error{Op: "parse", URL: dsn, Err: base}, dsn), &ue) == false {
			t.Errorf("errors.As lost the chain")
		}
	})
	t.Run("keyword/value quoted", func(t *testing.T) {
		dsn := `host=h password='a b\'c'`
		err := redact.Error(errors.New(`bad: password='a b\'c' a b'c`), dsn)
		if strings.Contains(err.Error(), "a b") {
			t.Errorf("message shows the password: %s", err)
		}
	})
	t.Run("an unencoded @ in the password", func(t *testing.T) {
		dsn := "postgres://u:p@ssWORD9@127.0.0.1:1/db"
		err := redact.Error(errors.New("lookup ssWORD9@127.0.0.1: no such host"), dsn)
		if strings.Contains(err.Error(), "ssWORD9") {
			t.Errorf("message shows part of the password: %s", err)
		}
	})
	t.Run("no password: the same error", func(t *testing.T) {
		if err := redact.Error(base, "postgres://u@h/db"); err != base {
			t.Errorf("got %v, want the error itself", err)
		}
	})
	t.Run("nil", func(t *testing.T) {
		if err := redact.Error(nil, "postgres://u:pw@h/db"); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
}

// FuzzString checks, for any password, that a URL holding it in both
// places and a keyword/value string holding it quoted come out masked
// exactly, and that nothing makes String panic.
func FuzzString(f *testing.F) {
	for _, s := range []string{"s3cret", "p@ss/w?rd#", "a b'c\\", "", "%zz", "xxxxx", "=&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		_ = redact.String(pw)
		_ = redact.String("postgres://" + pw)
		_ = redact.String("host=h password=" + pw)
		if pw == "" {
			return
		}
		in := "postgres://u:" + url.PathEscape(pw) + "@h/db?sslmode=disable&password=" + url.QueryEscape(pw)
		if got, want := redact.String(in), "postgres://u:xxxxx@h/db?sslmode=disable&password=xxxxx"; got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
		quoted := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw)
		in = "host=h password='" + quoted + "' dbname=d"
		if got, want := redact.String(in), "host=h password=xxxxx dbname=d"; got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	})
}
