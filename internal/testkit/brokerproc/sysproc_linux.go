package brokerproc

import "syscall"

// sysProcAttr makes the kernel SIGKILL the broker if the test process
// dies without stopping it. (Pdeathsig follows the forking OS thread; the Go
// runtime does not retire threads that have not been locked, so in a test
// binary this is the process's lifetime.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
