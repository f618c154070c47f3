package clustertest

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGroupRSSMatchesPs sums a process group of three processes (sh and its two sleeps) as ps
// does. A process's RSS moves while it starts (a forked sh becoming sleep), so the sum is
// compared once both sleeps run and two ps readings around groupRSS agree with each other.
func TestGroupRSSMatchesPs(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 30 & sleep 30; wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() }()
	pgid := cmd.Process.Pid
	// ps sums the group's RSS and counts its sleeps.
	ps := func() (rss uint64, sleeps, procs int) {
		out, err := exec.Command("ps", "-e", "-o", "pgid=,rss=,comm=").Output()
		if err != nil {
			t.Fatalf("ps: %v", err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 || f[0] != strconv.Itoa(pgid) {
				continue
			}
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			rss += kb << 10
			procs++
			if f[2] == "sleep" {
				sleeps++
			}
		}
		return rss, sleeps, procs
	}
	var before, got, after uint64
	for try := 0; try < 100; try++ {
		var sleeps, procs int
		before, sleeps, procs = ps()
		if procs != 3 || sleeps != 2 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		var err error
		if got, err = groupRSS("/proc", pgid); err != nil {
			t.Fatal(err)
		}
		if after, _, _ = ps(); before == after {
			break
		}
	}
	if before != after || before == 0 {
		t.Fatalf("the group never settled: ps said %d then %d bytes", before, after)
	}
	if got != before {
		t.Errorf("groupRSS = %d bytes, ps says %d before and after", got, before)
	}
	if _, err := groupRSS("/proc", 1<<30); err == nil {
		t.Error("an empty group gave no error")
	}
}
