// Package redact masks the passwords in connection strings, so that a
// message can name a database without giving away how to log into it. It
// is the one place weir does this: the CLI formats every --from and --to
// through [String], and the connectors and the CLI pass the errors of
// drivers that were handed a connection string through [Error].
//
// Two forms are understood:
//
//   - URLs (postgres://, postgresql://, mongodb://, mongodb+srv://, any
//     scheme://): the password of the userinfo (u:PW@host) and the value of
//     every query parameter whose name holds "password" or "secret"
//     (?password=PW, &sslpassword=PW, tlsCertificateKeyFilePassword=PW),
//     percent-encoded or not;
//   - keyword/value strings as libpq takes them (host=h password=PW
//     dbname=d), the value plain or single-quoted ('p w', with \' and \\).
//
// A string that is neither, but holds user:PW@ in its last word before an
// '@' (a URL whose "://" was mistyped), loses PW. Anything else is
// returned unchanged. Malformed input is masked on a best
// effort that errs toward masking too much: a URL that net/url rejects
// loses everything between the first ':' of its userinfo and the last '@'.
package redact

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Mask replaces each password.
const Mask = "xxxxx"

// String returns dsn with every password replaced by [Mask]; the rest is
// kept byte for byte. It does not fail: a string it cannot parse is masked
// on a best effort (see the package doc). It allocates the result and costs
// about a microsecond; it is meant for messages, not hot paths.
func String(dsn string) string {
	masked, _ := scan(dsn)
	return masked
}

// Strip returns dsn without its passwords, for a connection string that
// is handed on to another process (a cluster's workers): the userinfo's
// password and every secret query parameter or keyword are removed, so
// that the receiver's driver takes the password from its own environment
// (PostgreSQL: PGPASSWORD or ~/.pgpass). A string that holds no password
// is returned unchanged.
func Strip(dsn string) string {
	masked, found := scan(dsn)
	if len(found) == 0 {
		return dsn
	}
	if schemeEnd(dsn) > 0 {
		masked = strings.Replace(masked, ":"+Mask+"@", "@", 1)
		var kept []string
		base, query, hasQuery := strings.Cut(masked, "?")
		if !hasQuery {
			return base
		}
		for _, p := range strings.Split(query, "&") {
			if !strings.HasSuffix(p, "="+Mask) {
				kept = append(kept, p)
			}
		}
		if len(kept) == 0 {
			return base
		}
		return base + "?" + strings.Join(kept, "&")
	}
	// Not a URL: only a keyword/value string's secrets are removed (what
	// maskUserinfo guesses at may be a path, which must reach the other
	// process as it is).
	var kw secrets
	if masked = maskKeywords(dsn, &kw); len(kw.forms) == 0 {
		return dsn
	}
	var kept []string
	for _, w := range strings.Fields(masked) {
		if !strings.HasSuffix(w, "="+Mask) {
			kept = append(kept, w)
		}
	}
	return strings.Join(kept, " ")
}

// Error returns err with every password of dsn masked in its message,
// wherever it appears: raw, percent-decoded or re-encoded. It is for the
// errors of a driver that was handed dsn and may quote it (net/url quotes a
// URL it rejects whole; pgx masks on a best effort only). errors.Is and
// errors.As see err's chain unchanged. It returns err itself when err is
// nil or dsn holds no password.
//
// The masking does not know where a password stands in the message, so it
// masks every occurrence: a password that is also a user name masks both.
func Error(err error, dsn string) error {
	if err == nil {
		return nil
	}
	_, secrets := scan(dsn)
	if len(secrets) == 0 {
		return err
	}
	return &maskedError{err: err, secrets: secrets}
}

type maskedError struct {
	err     error
	secrets []string // longest first, so that no part of one survives another
}

func (e *maskedError) Error() string {
	msg := e.err.Error()
	for _, s := range e.secrets {
		msg = strings.ReplaceAll(msg, s, Mask)
	}
	return msg
}

func (e *maskedError) Unwrap() error { return e.err }

// scan returns dsn masked and every spelling of each password it holds.
func scan(dsn string) (string, []string) {
	var s secrets
	var masked string
	if i := schemeEnd(dsn); i > 0 {
		masked = maskURL(dsn, i, &s)
	} else if masked = maskKeywords(dsn, &s); len(s.forms) == 0 {
		masked = maskUserinfo(masked, &s)
	}
	return masked, s.list()
}

// maskUserinfo masks what looks like the password of a URL mistyped so
// that it has no "scheme://" (postgres//u:PW@h, u:PW@h/db): in the word
// that ends at the last '@' (after the last '/' or space before it), what
// follows its first ':'. It errs toward masking too much: a path such as
// a/b:c@d loses "c".
func maskUserinfo(s string, sec *secrets) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	start := strings.LastIndexAny(s[:at], "/ \t") + 1
	colon := strings.IndexByte(s[start:at], ':')
	if colon < 0 {
		return s
	}
	sec.add(s[start+colon+1:at], url.PathUnescape)
	return s[:start+colon+1] + Mask + s[at:]
}

// schemeEnd returns the index just past "scheme://" when dsn starts with
// one (RFC 3986: a letter, then letters, digits, '+', '-' or '.'), else 0.
func schemeEnd(dsn string) int {
	i := strings.Index(dsn, "://")
	if i < 1 {
		return 0
	}
	for j, c := range []byte(dsn[:i]) {
		letter := 'a' <= c|0x20 && c|0x20 <= 'z'
		if !letter && (j == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return 0
		}
	}
	return i + 3
}

// maskURL masks the userinfo password and the secret query values of the
// URL dsn, whose authority starts at i.
func maskURL(dsn string, i int, s *secrets) string {
	var b strings.Builder
	b.Grow(len(dsn))
	b.WriteString(dsn[:i])
	rest := dsn[i:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndexByte(rest[:end], '@')
	if _, err := url.Parse(dsn); err != nil {
		// The structure is in doubt: an unencoded '/', '?' or '#' in the
		// password ends the authority early and strands its '@' further
		// on. Mask up to the last '@' anywhere.
		at = max(at, strings.LastIndexByte(rest, '@'))
	}
	if at >= 0 {
		user, pw, hasPW := strings.Cut(rest[:at], ":")
		b.WriteString(user)
		if hasPW {
			s.add(pw, url.PathUnescape)
			b.WriteString(":" + Mask)
		}
		b.WriteByte('@')
		rest = rest[at+1:]
	}
	// Query parameters. Splitting the whole remainder on both '?' and '&'
	// also finds a password=… that a malformed URL left outside its query;
	// the path holds no '=' worth masking.
	for len(rest) > 0 {
		j := strings.IndexAny(rest, "?&#")
		if j < 0 {
			j = len(rest)
		}
		b.WriteString(maskParam(rest[:j], s))
		if j == len(rest) {
			break
		}
		b.WriteByte(rest[j])
		rest = rest[j+1:]
	}
	return b.String()
}

// maskParam masks the value of one key=value query parameter when its key
// names a secret.
func maskParam(pair string, s *secrets) string {
	key, val, ok := strings.Cut(pair, "=")
	if !ok {
		return pair
	}
	name, err := url.QueryUnescape(key)
	if err != nil {
		name = key
	}
	if !secretKey(name) {
		return pair
	}
	s.add(val, url.QueryUnescape)
	return key + "=" + Mask
}

// maskKeywords masks the secret values of a libpq keyword/value string.
// Words that are not key=value pairs are copied as they are.
func maskKeywords(dsn string, s *secrets) string {
	var b strings.Builder
	b.Grow(len(dsn))
	i := 0
	for i < len(dsn) {
		if isSpace(dsn[i]) {
			b.WriteByte(dsn[i])
			i++
			continue
		}
		start := i
		for i < len(dsn) && dsn[i] != '=' && !isSpace(dsn[i]) {
			i++
		}
		key := dsn[start:i]
		j := skipSpaces(dsn, i)
		if j == len(dsn) || dsn[j] != '=' {
			b.WriteString(dsn[start:i]) // a word, not a pair
			continue
		}
		j = skipSpaces(dsn, j+1)
		vstart := j
		j = valueEnd(dsn, j)
		if !secretKey(key) {
			b.WriteString(dsn[start:j])
		} else {
			raw := dsn[vstart:j]
			s.add(raw, unquoteKeyword)
			if inner, ok := strings.CutPrefix(raw, "'"); ok {
				s.add(strings.TrimSuffix(inner, "'"), nil)
			}
			b.WriteString(dsn[start:vstart] + Mask)
		}
		i = j
	}
	return b.String()
}

// valueEnd returns the end of the keyword value starting at i: a quoted
// value ends after its closing quote (or at the end of dsn, when there is
// none), a plain one at the next space. A backslash escapes the next byte
// in both.
func valueEnd(dsn string, i int) int {
	quoted := i < len(dsn) && dsn[i] == '\''
	if quoted {
		i++
	}
	for i < len(dsn) {
		switch c := dsn[i]; {
		case c == '\\':
			i += 2
			continue
		case quoted && c == '\'':
			return i + 1
		case !quoted && isSpace(c):
			return i
		}
		i++
	}
	return len(dsn)
}

// unquoteKeyword returns a keyword value as libpq reads it.
func unquoteKeyword(v string) (string, error) {
	if inner, ok := strings.CutPrefix(v, "'"); ok {
		v = strings.TrimSuffix(inner, "'")
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String(), nil
}

func skipSpaces(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// secretKey reports whether a parameter named key holds a secret: password,
// sslpassword, tlsCertificateKeyFilePassword, client_secret, ...
func secretKey(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "password") || strings.Contains(k, "secret")
}

// secrets gathers every spelling of the passwords found, for [Error].
type secrets struct{ forms []string }

// add records raw and what decode makes of it, and the encodings a driver
// might print it in.
func (s *secrets) add(raw string, decode func(string) (string, error)) {
	s.forms = append(s.forms, raw)
	plain := raw
	if decode != nil {
		if d, err := decode(raw); err == nil {
			plain = d
		}
	}
	quoted := strconv.Quote(plain)
	s.forms = append(s.forms, plain, url.QueryEscape(plain), url.PathEscape(plain), quoted[1:len(quoted)-1])
	// A driver that splits a URL at the first '@' of an unencoded password
	// quotes the rest as the host: mask each part long enough to tell.
	if strings.Contains(plain, "@") {
		for _, part := range strings.Split(plain, "@") {
			if len(part) >= 4 {
				s.forms = append(s.forms, part)
			}
		}
	}
}

// list returns the distinct non-empty spellings, longest first.
func (s *secrets) list() []string {
	out := slices.DeleteFunc(slices.Clone(s.forms), func(f string) bool { return f == "" })
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	return slices.Compact(out)
}
