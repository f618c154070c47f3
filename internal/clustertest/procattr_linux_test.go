package clustertest

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childAttrHelperEnv makes the test binary TestChildDiesWithTheTestProcess's stand-in for a
// test process: it starts the child and waits to be killed.
const childAttrHelperEnv = "CLUSTERTEST_CHILDATTR_HELPER"

// init, not the test, plays the stand-in: this binary's TestMain would start a local cluster
// first.
func init() {
	if os.Getenv(childAttrHelperEnv) != "1" {
		return
	}
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		os.Exit(2)
	}
	_, _ = os.Stdout.WriteString(strconv.Itoa(cmd.Process.Pid) + "\n")
	time.Sleep(time.Minute)
	os.Exit(3)
}

// TestChildDiesWithTheTestProcess: a process started as localcluster is (childAttr) by a
// test binary that is then killed, skipping every cleanup, is stopped by the kernel.
func TestChildDiesWithTheTestProcess(t *testing.T) {
	helper := exec.Command(os.Args[0])
	helper.Env = append(os.Environ(), childAttrHelperEnv+"=1")
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err = helper.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	pid, convErr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || convErr != nil {
		_ = helper.Process.Kill()
		t.Fatalf("helper's child pid: %q (%v, %v)", line, err, convErr)
	}
	defer func() { _ = syscall.Kill(pid, syscall.SIGKILL) }()
	if err = helper.Process.Kill(); err != nil { // SIGKILL: no cleanup of its own runs
		t.Fatal(err)
	}
	_ = helper.Wait()
	alive := func() bool {
		stat, readErr := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if readErr != nil {
			return false
		}
		// pid (comm) state ...: a zombie has been stopped, only not reaped by its new parent.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		return len(fields) > 0 && fields[0] != "Z"
	}
	if err = Eventually(5*time.Second, 50*time.Millisecond, func() (bool, error) { return !alive(), nil }); err != nil {
		t.Fatalf("pid %d (sleep 60) still running 5 s after the process that started it was killed", pid)
	}
}
