package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTUINoStateDirectory: with a state directory that cannot be created
// (XDG_STATE_HOME under /dev/null), vigil starts, with and without
// --readonly; reads work (a Deployment created for the test is listed);
// the header says READ-ONLY and why; the action menu lists the actions
// disabled as read-only; on exit the log's warnings go to stderr.
func TestTUINoStateDirectory(t *testing.T) {
	cs := lc.Client(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	rolledOutDeployment(t, cs, ns, "pay", payImg+"v1.2.2", payImg+"v1.2.3")
	for _, mode := range [][]string{{"--readonly"}, nil} {
		t.Run(fmt.Sprintf("args%v", mode), func(t *testing.T) {
			env := []string{"KUBECONFIG=" + lc.Kubeconfig, "NO_COLOR=1", "XDG_STATE_HOME=/dev/null/state", "XDG_CONFIG_HOME=" + t.TempDir()}
			argv := append([]string{vigil, "--context", "local-1", "--namespaces", ns}, mode...)
			// A shell around vigil keeps the pane after it exits, to read its stderr and code.
			script := strings.Join(quoteAll(argv), " ") + `; echo "vigil exited $?"; sleep 60`
			term, err := StartTerminal(fmt.Sprintf("vigil-e2e-nostate-%d", time.Now().UnixNano()), 160, 40, env, "sh", "-c", script)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(term.Close)
			s := wait(t, term, 30*time.Second, "the Deployment, read-only with the reason", func(s string) bool {
				return LineWith(s, ns, "pay", "OK") != "" && LineWith(s, "READ-ONLY", "no state directory", "/dev/null/state/vigil") != ""
			})
			if strings.Contains(s, "vigil exited") {
				t.Fatalf("vigil exited:\n%s", s)
			}
			_ = term.Send("Enter")
			wait(t, term, 10*time.Second, "the detail's rollout history", has("ROLLOUT HISTORY"))
			_ = term.Send("a")
			s = wait(t, term, 15*time.Second, "the action menu, disabled", func(s string) bool {
				return LineWith(s, "Roll back…", "read-only mode") != ""
			})
			t.Logf("action menu:\n%s", s)
			_ = term.Send("Escape")
			wait(t, term, 5*time.Second, "the menu closed", func(s string) bool { return !strings.Contains(s, "Actions on") })
			_ = term.Send("Escape")
			wait(t, term, 5*time.Second, "the services list", has("NAMESPACE", "HEALTH"))
			_ = term.Send("q")
			s = wait(t, term, 15*time.Second, "the exit with the log on stderr", func(s string) bool {
				return LineWith(s, "vigil exited 0") != "" && LineWith(s, "ran read-only with no log file", "/dev/null/state/vigil") != ""
			})
			t.Logf("after exit:\n%s", s)
		})
	}
}

// TestTestsKeepToTheirOwnState: a vigil the tests start, headless or in tmux (whose server,
// when a developer's, hands sessions its own environment), records its evaluation in the
// tests' state directory, not in the developer's: a test cluster's findings under the name
// local-2 would otherwise become the developer's history of local-2 (the Compliance screen's
// "since the run of…" and vigil check --since read it). Counted in the history file itself.
func TestTestsKeepToTheirOwnState(t *testing.T) {
	state := os.Getenv("XDG_STATE_HOME")
	if state == "" || !strings.HasPrefix(state, os.TempDir()) {
		t.Fatalf("XDG_STATE_HOME is %q, not a directory of the tests'", state)
	}
	hist := filepath.Join(state, "vigil", "history", "local-2.jsonl")
	entries := func() int {
		b, err := os.ReadFile(hist)
		if err != nil {
			return 0
		}
		return strings.Count(string(b), "\n")
	}
	before := entries()
	cmd := exec.Command(vigil, "check", "--context", "local-2", "-o", "json")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+lc.Kubeconfig)
	if out, err := cmd.CombinedOutput(); entries() != before+1 {
		t.Fatalf("headless vigil check (%v) recorded %d entries in %s, want 1:\n%.2000s", err, entries()-before, hist, out)
	}
	term, err := StartTerminal(fmt.Sprintf("vigil-e2e-state-%d", time.Now().UnixNano()), 120, 40, []string{"KUBECONFIG=" + lc.Kubeconfig},
		"sh", "-c", strings.Join(quoteAll([]string{vigil, "check", "--context", "local-2", "-o", "json"}), " ")+` >/dev/null 2>&1; echo "vigil exited $?"`)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(term.Close)
	wait(t, term, 60*time.Second, "vigil check to end", has("vigil exited"))
	if got := entries() - before; got != 2 {
		t.Errorf("vigil check in tmux: %d entries in %s after both runs, want 2", got, hist)
	}
}
