//go:build !linux

package mariatest

import (
	"os"
	"syscall"
)

var sigTerm os.Signal = os.Interrupt

// sysProcAttr: outside Linux there is no parent-death signal; a test binary
// that crashes leaves its mariadbd running.
func sysProcAttr() *syscall.SysProcAttr { return nil }
