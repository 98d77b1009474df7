// Package pgproxy is a TCP proxy for tests: it forwards PostgreSQL's wire
// protocol between clients and a real server, reading the message framing
// in both directions, so that a test can break a connection at a precise
// protocol point — right after the server committed, in the middle of a
// COPY — rather than at a random byte or before the write.
//
//	p, err := pgproxy.New(serverAddr) // "127.0.0.1:5432"
//	defer p.Close()
//	dsn, _ := p.URL(serverURL)       // the same URL, through the proxy
//	f := p.DropAfterCommit(3)        // lose the answer to the 3rd COMMIT
//	... run the load through dsn ...
//	f.Fired()                         // 1
//
// The proxy declines SSL and GSS encryption (it answers 'N', as a server
// without SSL does), so a client with sslmode=prefer falls back to plain
// text; sslmode=require cannot go through it.
package pgproxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy forwards connections from a local port to a PostgreSQL server and
// injects the faults armed on it. Its methods are safe for concurrent use.
type Proxy struct {
	target string
	ln     net.Listener
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept loop and every session

	mu       sync.Mutex
	closed   bool
	sessions map[*session]struct{}
	faults   []*Fault
	delays   atomic.Int32 // armed delay faults, checked on every message
	accepted atomic.Int64
}

// New starts a proxy listening on 127.0.0.1 (a free port) and forwarding
// to target, a host:port. It returns once the proxy is listening; Close
// stops it.
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pgproxy: listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{target: target, ln: ln, ctx: ctx, cancel: cancel, sessions: map[*session]struct{}{}}
	p.wg.Go(p.serve)
	return p, nil
}

// Addr returns the host:port clients connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL returns dsn, a postgres:// URL, with its host and port replaced by
// the proxy's, so that a client using it goes through the proxy.
func (p *Proxy) URL(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("pgproxy: URL: %w", err)
	}
	u.Host = p.Addr()
	return u.String(), nil
}

// Accepted returns how many client connections the proxy has accepted,
// refused ones included.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Close stops listening, closes every connection, releases every held
// fault, and returns once every goroutine of the proxy has ended. Later
// calls do nothing.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	sessions := make([]*session, 0, len(p.sessions))
	for s := range p.sessions {
		sessions = append(sessions, s)
	}
	faults := p.faults
	p.mu.Unlock()

	p.cancel()
	err := p.ln.Close()
	for _, s := range sessions {
		s.closeBoth()
	}
	for _, f := range faults {
		f.Release()
	}
	p.wg.Wait()
	return err
}

// arm adds f to the faults the proxy applies.
func (p *Proxy) arm(f *Fault) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, f)
	if f.kind == delay {
		p.delays.Add(1)
	}
	return f
}

// fire counts an event of the given kinds on every armed fault of those
// kinds and returns the first that fires on it, or nil.
func (p *Proxy) fire(m *Message, kinds ...kind) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	var fired *Fault
	for _, f := range p.faults {
		for _, k := range kinds {
			if f.kind == k && f.count(m) && fired == nil {
				fired = f
			}
		}
	}
	return fired
}

// pause applies the delay faults to m; it returns false if the proxy
// closed meanwhile.
func (p *Proxy) pause(m *Message) bool {
	if p.delays.Load() == 0 {
		return true
	}
	f := p.fire(m, delay)
	if f == nil {
		return true
	}
	t := time.NewTimer(f.wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.ctx.Done():
		return false
	}
}

// serve accepts connections until the listener closes.
func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed by Close
		}
		p.accepted.Add(1)
		if p.fire(nil, refuseConn) != nil {
			c.Close()
			continue
		}
		s := &session{p: p, client: c}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			return
		}
		p.sessions[s] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go s.run()
	}
}

// errDropped ends a session that a fault cut.
var errDropped = errors.New("pgproxy: connection dropped by a fault")

// session is one client connection and its connection to the server.
type session struct {
	p      *Proxy
	client net.Conn

	mu     sync.Mutex
	server net.Conn // nil until dialled
	closed bool
}

// run dials the server and forwards both ways until either side ends or a
// fault cuts the connection; then it closes both.
func (s *session) run() {
	defer s.p.wg.Done()
	defer func() {
		s.p.mu.Lock()
		delete(s.p.sessions, s)
		s.p.mu.Unlock()
	}()
	var d net.Dialer
	srv, err := d.DialContext(s.p.ctx, "tcp", s.p.target)
	if err != nil {
		s.closeBoth()
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		srv.Close()
		return
	}
	s.server = srv
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		defer close(done)
		s.fromServer()
		s.closeBoth()
	}()
	s.fromClient()
	s.closeBoth()
	<-done
}

// closeBoth closes both sides; the pumps then fail and return.
func (s *session) closeBoth() {
	s.mu.Lock()
	s.closed = true
	srv := s.server
	s.mu.Unlock()
	s.client.Close()
	if srv != nil {
		srv.Close()
	}
}

// fromClient forwards client→server: the startup phase, then typed
// messages, applying the faults that watch the client.
func (s *session) fromClient() error {
	r := newReader(s.client)
	w := bufio.NewWriterSize(s.server, 64<<10)
	for {
		frame, code, err := r.untyped()
		if err != nil {
			return err
		}
		if code == codeSSLRequest || code == codeGSSENCRequest {
			if _, err := s.client.Write([]byte{'N'}); err != nil {
				return err
			}
			continue
		}
		if !s.p.pause(&Message{FromClient: true, Body: frame[4:]}) {
			return errDropped
		}
		if _, err := w.Write(frame); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		break
	}
	var (
		copyFault *Fault // the fault cutting the current COPY, if any
		copyData  int    // CopyData messages of that COPY forwarded
	)
	for {
		frame, msg, err := r.typed(true)
		if err != nil {
			return err
		}
		switch msg.Type {
		case 'Q':
			switch queryVerb(msg.Body) {
			case "COMMIT":
				if f := s.p.fire(nil, loseCommit); f != nil {
					w.Flush()
					s.client.Close()
					select {
					case <-f.release:
					case <-s.p.ctx.Done():
					}
					return errDropped
				}
			case "COPY":
				copyData = 0
				copyFault = s.p.fire(nil, dropInCopy)
			}
		case 'd':
			if copyFault != nil {
				if copyData >= copyFault.after {
					w.Flush()
					return errDropped
				}
				copyData++
			}
		case 'c', 'f':
			if copyFault != nil {
				w.Flush()
				return errDropped
			}
		}
		if !s.p.pause(&msg) {
			return errDropped
		}
		if _, err := w.Write(frame); err != nil {
			return err
		}
		if !r.buffered() {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
}

// fromServer forwards server→client, applying the faults on COMMIT
// answers.
func (s *session) fromServer() error {
	r := newReader(s.server)
	w := bufio.NewWriterSize(s.client, 64<<10)
	for {
		frame, msg, err := r.typed(false)
		if err != nil {
			return err
		}
		if msg.Type == 'C' && isCommitTag(msg.Body) {
			if f := s.p.fire(nil, dropCommitAnswer, holdCommitAnswer); f != nil {
				w.Flush()
				if f.kind == holdCommitAnswer {
					f.heldOne.Do(func() { close(f.held) })
					select {
					case <-f.release:
					case <-s.p.ctx.Done():
					}
				}
				return errDropped
			}
		}
		if !s.p.pause(&msg) {
			return errDropped
		}
		if _, err := w.Write(frame); err != nil {
			return err
		}
		if !r.buffered() {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
}
