package e2e

import (
	"fmt"
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
