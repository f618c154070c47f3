//go:build !linux

package clustertest

import "syscall"

// childAttr starts localcluster in a process group of its own. (Only Linux can have the
// kernel stop it when the test process dies.)
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
