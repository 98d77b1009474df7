package mysql

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseURL: parseURL never panics, and its error never holds the
// URL's password.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"mysql://u:p@h:3306/db", "mysql://u:pw@h:x/db", "mysql://u:pw@[::1/db",
		"mysql://u:pw%zz@h/db", "mysql://u@h/db?socket=/s", "mysql://u:pw@h/db?x=1", "mariadb://:@/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		_, err := parseURL(raw)
		if err == nil {
			return
		}
		at := strings.LastIndexByte(raw, '@')
		colon := strings.IndexByte(raw, ':')
		if at < 0 || colon < 0 {
			return
		}
		// The password as typed, and as decoded.
		start := strings.Index(raw, "//")
		if start < 0 || start+2 > at {
			return
		}
		userinfo := raw[start+2 : at]
		i := strings.IndexByte(userinfo, ':')
		if i < 0 {
			return
		}
		pw := userinfo[i+1:]
		if len(pw) < 4 {
			return // short passwords occur by chance in any message
		}
		dec, _ := url.PathUnescape(pw)
		for _, p := range []string{pw, dec} {
			if len(p) >= 4 && strings.Contains(err.Error(), p) && !strings.Contains("mysql: Config.URL: scheme must be mysql:// or mariadb:// want one database name as the path: mysql://USER@HOST/DB no host unknown parameter", p) {
				t.Fatalf("parseURL(%q) error holds the password %q: %v", raw, p, err)
			}
		}
	})
}
