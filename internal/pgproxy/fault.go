package pgproxy

import (
	"sync"
	"time"
)

// kind is what a fault does, and at which protocol point.
type kind int

const (
	dropCommitAnswer kind = iota // server→client CommandComplete "COMMIT": close both sides
	holdCommitAnswer             // the same message, withheld until Release, then dropped
	loseCommit                   // client→server Query "COMMIT": swallowed, client side closed
	dropInCopy                   // client→server inside a COPY, after some CopyData
	refuseConn                   // a new connection: closed at once
	delay                        // any message: forwarded late
)

// Fault is one armed fault. Its methods are safe for concurrent use.
//
// A fault counts the events of its kind (COMMIT answers, COPYs,
// connections) from the moment it is armed, across every connection of the
// proxy, in the order the proxy sees them, and fires on those its
// predicate picks. Nothing is random: the same sequence of events fires
// the same faults.
type Fault struct {
	kind  kind
	pred  func(n int) bool   // picks events by their number, from 1
	match func(Message) bool // delay only
	after int                // dropInCopy: CopyData messages forwarded first
	wait  time.Duration      // delay only

	mu      sync.Mutex
	seen    int // events counted
	fired   int
	held    chan struct{} // closed when a held message waits (holdCommitAnswer)
	heldOne sync.Once
	release chan struct{} // closed by Release
	relOnce sync.Once
}

func newFault(k kind, pred func(int) bool) *Fault {
	return &Fault{kind: k, pred: pred, held: make(chan struct{}), release: make(chan struct{})}
}

// Fired returns how many times the fault has fired.
func (f *Fault) Fired() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fired
}

// Held returns a channel closed once a [Proxy.HoldCommitAnswer] fault holds
// its message: the server has committed, the client does not know yet.
// For other faults it is never closed.
func (f *Fault) Held() <-chan struct{} { return f.held }

// Release ends what the fault keeps waiting: a held COMMIT answer is
// dropped (both sides closed, the answer never forwarded); the server side
// of a lost COMMIT is closed, so the server aborts the transaction. Later
// calls do nothing. Proxy.Close releases every fault too.
func (f *Fault) Release() { f.relOnce.Do(func() { close(f.release) }) }

// count counts one event and reports whether the fault fires on it. For a
// delay, m is the message and only those match picks are counted.
func (f *Fault) count(m *Message) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.match != nil && (m == nil || !f.match(*m)) {
		return false
	}
	f.seen++
	if !f.pred(f.seen) {
		return false
	}
	f.fired++
	return true
}

// nth returns a predicate true for event n only.
func nth(n int) func(int) bool { return func(i int) bool { return i == n } }

// DropCommitAnswer arms a fault that drops the connection in place of a
// COMMIT's answer: when the server's CommandComplete "COMMIT" (numbered from
// 1 since arming) is one pred picks, the proxy closes both sides without
// forwarding it. The server has committed; the client sees its connection
// lost. pred runs on the proxy's goroutines, one call at a time.
func (p *Proxy) DropCommitAnswer(pred func(n int) bool) *Fault {
	return p.arm(newFault(dropCommitAnswer, pred))
}

// DropAfterCommit drops the n-th COMMIT answer from now (see
// [Proxy.DropCommitAnswer]).
func (p *Proxy) DropAfterCommit(n int) *Fault { return p.DropCommitAnswer(nth(n)) }

// HoldCommitAnswer arms a fault that withholds the n-th COMMIT answer from
// now: the proxy stops forwarding on that connection, closes
// [Fault.Held], and waits for [Fault.Release], then closes both sides
// without forwarding the answer. Between the two the test can act while the
// commit is done but unacknowledged (restart the server, say).
func (p *Proxy) HoldCommitAnswer(n int) *Fault { return p.arm(newFault(holdCommitAnswer, nth(n))) }

// LoseCommit arms a fault that swallows the n-th COMMIT a client sends from
// now (a simple query whose first word is COMMIT): the proxy does not
// forward it and closes the client's side at once, but keeps the server's
// side open until [Fault.Release]. Until then the server holds the
// transaction open ("in progress"); once released it notices the closed
// socket and aborts it.
func (p *Proxy) LoseCommit(n int) *Fault { return p.arm(newFault(loseCommit, nth(n))) }

// DropInCopy arms a fault that cuts a COPY short: for each COPY a client
// starts (a simple query whose first word is COPY, numbered from 1 since
// arming) that pred picks, the proxy forwards after CopyData messages, then
// closes both sides in place of the client's next message (more data or
// the end of the COPY), so the server never sees the COPY end and rolls it
// back. pgx sends up to 64 KiB per CopyData message: a small batch is one
// message, so after 1 drops the CopyDone.
func (p *Proxy) DropInCopy(pred func(n int) bool, after int) *Fault {
	f := newFault(dropInCopy, pred)
	f.after = after
	return p.arm(f)
}

// RefuseConns arms a fault that closes the next n connections as soon as
// they are accepted, before the server is dialled: to the client, the
// server is unreachable. Connections after those are served again.
func (p *Proxy) RefuseConns(n int) *Fault {
	return p.arm(newFault(refuseConn, func(i int) bool { return i <= n }))
}

// Delay arms a fault that forwards each message match picks (numbered by
// its match, from 1) d late, unless the proxy closes first. match runs on
// the proxy's goroutines, one call at a time, with the message only valid
// during the call.
func (p *Proxy) Delay(match func(Message) bool, d time.Duration) *Fault {
	f := newFault(delay, func(int) bool { return true })
	f.match, f.wait = match, d
	return p.arm(f)
}
