package mariatest

import (
	"os"
	"syscall"
)

var sigTerm os.Signal = syscall.SIGTERM

// sysProcAttr puts mariadbd in its own process group (a terminal's Ctrl-C
// reaches only the test binary) and has the kernel kill it when the test
// binary dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
