package clustertest

import "syscall"

// childAttr starts localcluster in a process group of its own (so that its RSS and its
// stop cover the whole tree), and has the kernel send it SIGTERM when the test process
// dies: a test binary that panics or is killed skips its cleanup, and a local control plane
// left behind holds gigabytes and its ports until someone finds it.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
