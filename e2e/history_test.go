package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTUIRolloutHistoryFullImages: at 220 columns ROLLOUT HISTORY shows each revision's whole
// image (two builds that differ only after the 60th character read differently); at 80
// columns each row keeps the image's distinguishing tail. The images are the ones the test
// rolled out.
func TestTUIRolloutHistoryFullImages(t *testing.T) {
	cs := lc.Client(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	imgs := []string{payImg + "v1.2.3-build.20261201T1030-0123456789abcdef01", payImg + "v1.2.3-build.20261201T1030-0123456789abcdef02"}
	rolledOutDeployment(t, cs, ns, "pay", imgs...)
	for _, w := range []int{220, 80} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			env := []string{"KUBECONFIG=" + lc.Kubeconfig, "NO_COLOR=1", "XDG_STATE_HOME=" + t.TempDir()}
			term, err := StartTerminal(fmt.Sprintf("vigil-e2e-hist-%d", time.Now().UnixNano()), w, 60, env, vigil, "--context", "local-1", "--namespaces", ns)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(term.Close)
			wait(t, term, 30*time.Second, "the private Deployment", has(ns, "pay"))
			_ = term.Send("Enter")
			s := wait(t, term, 10*time.Second, "two revisions in the rollout history", func(s string) bool {
				return LineWith(s, "1 ", "0/0") != "" && LineWith(s, "2*") != ""
			})
			for i, rev := range []string{"1 ", "2*"} {
				want := imgs[i]
				if w < 220 {
					want = want[len(want)-20:]
				}
				// The first line that starts so: the list's footer below
				// ("1 of 1 · all namespaces") starts with "1 " too.
				var row string
				for _, l := range strings.Split(s, "\n") {
					if strings.HasPrefix(l, rev) {
						row = l
						break
					}
				}
				if !strings.Contains(row, want) {
					t.Errorf("revision %s's row %q lacks %q:\n%s", rev, row, want, s)
				}
			}
		})
	}
}
