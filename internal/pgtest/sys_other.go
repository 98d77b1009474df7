//go:build !unix

package pgtest

import (
	"os"
	"syscall"
)

var (
	sigFast      os.Signal = os.Interrupt
	sigImmediate os.Signal = os.Kill
)

// sysProcAttr: there is no user switch or parent-death signal here; a test
// binary that crashes leaves its postmaster running.
func sysProcAttr(*runAs, bool) *syscall.SysProcAttr { return nil }

// processAlive cannot be answered cheaply here; claiming yes means stale
// directories are never removed, which is the safe mistake.
func processAlive(int) bool { return true }
