//go:build unix && !linux

package pgtest

import (
	"os"
	"syscall"
)

var (
	sigFast      os.Signal = syscall.SIGINT  // PostgreSQL's fast shutdown
	sigImmediate os.Signal = syscall.SIGQUIT // PostgreSQL's immediate shutdown
)

// sysProcAttr runs the child as user as (when not nil), in its own process
// group. Outside Linux there is no parent-death signal: a test binary that
// crashes leaves its postmaster running.
func sysProcAttr(as *runAs, _ bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if as != nil {
		a.Credential = &syscall.Credential{Uid: as.uid, Gid: as.gid}
	}
	return a
}

// processAlive reports whether a process with this pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
