package clustertest

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGroupRSSMatchesPs sums a process group of two processes as ps does.
func TestGroupRSSMatchesPs(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 30 & sleep 30; wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() }()
	pgid := cmd.Process.Pid
	var want uint64
	var procs int
	for try := 0; try < 50 && procs < 3; try++ { // sh and its two sleeps
		out, err := exec.Command("ps", "-e", "-o", "pgid=,rss=").Output()
		if err != nil {
			t.Fatalf("ps: %v", err)
		}
		want, procs = 0, 0
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) != 2 || f[0] != strconv.Itoa(pgid) {
				continue
			}
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			want += kb << 10
			procs++
		}
		if procs < 3 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if procs < 3 {
		t.Fatalf("ps saw %d processes in the group, want 3", procs)
	}
	got, err := groupRSS("/proc", pgid)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("groupRSS = %d bytes, ps says %d", got, want)
	}
	if _, err := groupRSS("/proc", 1<<30); err == nil {
		t.Error("an empty group gave no error")
	}
}
