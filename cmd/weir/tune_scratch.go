// weir tune's scratch destination: where its trials load, made for the
// run beside the real target and removed at the end.

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/weir-etl/weir/connect/postgres"
	"github.com/weir-etl/weir/internal/redact"
)

// tuneScratch is the destination of tune's trials: the target rewritten
// to point at a temporary schema, file or directory.
type tuneScratch struct {
	// spec is the TARGET the trials open, like the user's but scratch.
	spec string
	desc string // what and where, for messages, without secrets
	// dir holds the trials' reject files (and, for a file target, the
	// file); it is removed with the rest.
	dir    string
	remove func(ctx context.Context) error
}

// cleanupTimeout bounds the removal of the scratch destination, which
// runs even after a Ctrl-C (with a context that is not cancelled).
const cleanupTimeout = 30 * time.Second

// newScratch makes the scratch destination for spec, a TARGET as weir
// copy takes it (for a job: without a table). Nothing is written to the
// real target: PostgreSQL gets a schema weir_tune_<random> on the same
// server and database, which the trials reach through search_path (so that
// the job's unqualified tables and weir's checkpoint table land in it);
// SQLite a file .weir-tune-*.db in the target's directory (same disk);
// a file target a directory .weir-tune-* beside it. Close removes it.
func newScratch(ctx context.Context, spec string) (s *tuneScratch, err error) {
	s = &tuneScratch{}
	switch {
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		if s.dir, err = os.MkdirTemp("", "weir-tune-"); err != nil {
			return nil, fmt.Errorf("tune: scratch directory: %w", err)
		}
		if err := s.postgres(ctx, spec); err != nil {
			os.RemoveAll(s.dir)
			return nil, err
		}
		return s, nil
	case strings.HasPrefix(spec, "sqlite:"):
		path, p, err := sqlParams(strings.TrimPrefix(spec, "sqlite:"))
		if err != nil || path == "" {
			return nil, usagef("TARGET %s: needs a path, as in sqlite:./out.db", spec)
		}
		if s.dir, err = os.MkdirTemp("", "weir-tune-"); err != nil {
			return nil, fmt.Errorf("tune: scratch directory: %w", err)
		}
		f, err := os.CreateTemp(filepath.Dir(path), ".weir-tune-*.db")
		if err != nil {
			os.RemoveAll(s.dir)
			return nil, usagef("TARGET %s: cannot make a scratch database beside it: %w", spec, err)
		}
		f.Close()
		db := f.Name()
		s.spec, s.desc = "sqlite:"+db, "SQLite file "+db
		if len(p) > 0 {
			s.spec += "?" + p.Encode()
		}
		s.remove = func(context.Context) error {
			var errs []error
			for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
				if err := os.Remove(db + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
					errs = append(errs, err)
				}
			}
			return errors.Join(append(errs, os.RemoveAll(s.dir))...)
		}
		return s, nil
	case strings.Contains(spec, "://"):
		return nil, usagef("TARGET %s: unknown scheme; want postgres://…, sqlite:PATH or a file", redact.String(spec))
	}
	dir, err := os.MkdirTemp(filepath.Dir(spec), ".weir-tune-")
	if err != nil {
		return nil, usagef("TARGET %s: cannot make a scratch directory beside it: %w", spec, err)
	}
	s.dir, s.spec, s.desc = dir, filepath.Join(dir, filepath.Base(spec)), "directory "+dir
	s.remove = func(context.Context) error { return os.RemoveAll(dir) }
	return s, nil
}

// postgres creates the scratch schema and sets s.spec to the target with
// ?schema= and search_path pointing at it.
func (s *tuneScratch) postgres(ctx context.Context, spec string) error {
	name := redact.String(spec)
	base, p, err := sqlParams(spec)
	if err != nil {
		return usagef("TARGET %s: %w", name, err)
	}
	if p.Has("query") {
		return usagef("TARGET %s: a query is not a place to load into; name a table with ?table=T", name)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "weir_tune_" + hex.EncodeToString(b[:])
	pool, err := dialPostgres(ctx, base, name, 1)
	if err != nil {
		return err
	}
	if err := postgres.Exec(ctx, pool, "CREATE SCHEMA "+schema); err != nil {
		pool.Close()
		return fmt.Errorf("tune: create the scratch schema in %s: %w", name, redact.Error(err, spec))
	}
	s.desc = fmt.Sprintf("PostgreSQL schema %s in %s", schema, name)
	q := url.Values{"search_path": {schema}, "schema": {schema}}
	if t := p.Get("table"); t != "" {
		q.Set("table", t)
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	s.spec = base + sep + q.Encode()
	s.remove = func(ctx context.Context) error {
		defer pool.Close()
		if err := postgres.Exec(ctx, pool, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("drop the scratch schema %s in %s (drop it by hand): %w", schema, name, redact.Error(err, spec))
		}
		return os.RemoveAll(s.dir)
	}
	return nil
}

// Close removes the scratch destination, whether ctx is cancelled or not
// (it runs after a Ctrl-C too), within cleanupTimeout.
func (s *tuneScratch) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := s.remove(ctx); err != nil {
		return fmt.Errorf("tune: remove the scratch %s: %w", s.desc, err)
	}
	return nil
}
