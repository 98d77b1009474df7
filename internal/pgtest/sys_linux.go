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
// group so a terminal's Ctrl-C reaches only the test binary. For the
// postmaster (server true) it also asks the kernel for an immediate-shutdown
// signal when the test binary dies; Go sets that after switching user, so
// the switch does not clear it.
func sysProcAttr(as *runAs, server bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if server {
		a.Pdeathsig = syscall.SIGQUIT
	}
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
