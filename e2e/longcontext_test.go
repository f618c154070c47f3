package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// eksContext is an EKS-style context name (an ARN, ~60 characters), as `aws eks
// update-kubeconfig` writes it.
const eksContext = "arn:aws:eks:eu-west-1:123456789012:cluster/prod-payments-eu"

// eksVigil starts vigil at w×h on a copy of the local kubeconfig whose local-1 context is
// also named eksContext, that context protected by config (typed confirmation, reason).
func eksVigil(t *testing.T, w, h int, args ...string) *Terminal {
	t.Helper()
	dir := t.TempDir()
	kc, err := clientcmd.LoadFromFile(lc.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	kc.Contexts[eksContext] = kc.Contexts["local-1"].DeepCopy()
	kcPath := filepath.Join(dir, "kubeconfig")
	if err = clientcmd.WriteToFile(*kc, kcPath); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err = os.WriteFile(cfg, []byte(fmt.Sprintf("contexts:\n  %q:\n    protected: true\n", eksContext)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"KUBECONFIG=" + kcPath, "NO_COLOR=1", "XDG_STATE_HOME=" + filepath.Join(dir, "state"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
	term, err := StartTerminal(fmt.Sprintf("vigil-e2e-eks-%d", time.Now().UnixNano()), w, h, env,
		append([]string{vigil, "--config", cfg, "--context", eksContext}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(term.Close)
	return term
}

// unframed is the screen's text inside a modal's frame, its lines joined without spaces, so
// that a token wrapped over lines reads as one.
func unframed(screen string) string {
	var b strings.Builder
	for _, l := range strings.Split(screen, "\n") {
		if i := strings.IndexAny(l, "┃│"); i >= 0 {
			l = l[i:]
		}
		b.WriteString(strings.ReplaceAll(strings.Trim(l, "┃│ █"), " ", ""))
	}
	return b.String()
}

// TestTUILongContextConfirmation: with an EKS ARN as the context name, at 80×24 and 160×45,
// the header shows the whole context name, and the restart's confirmation shows the whole
// token to type (wrapped at 80 columns, on one line at 160) and the context name, nothing cut
// with "…"; typing the token as shown restarts the Deployment (its pod template gets
// kubectl's restartedAt annotation).
func TestTUILongContextConfirmation(t *testing.T) {
	cs := lc.Client(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	rolledOutDeployment(t, cs, ns, "pay", payImg+"v1.2.2")
	token := eksContext + "/" + ns + "/pay"
	for _, size := range [][2]int{{80, 24}, {160, 45}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			term := eksVigil(t, size[0], size[1], "--namespaces", ns)
			s := wait(t, term, 30*time.Second, "the private Deployment", has(ns, "pay"))
			if LineWith(s, "ctx "+eksContext) == "" {
				t.Errorf("the header does not show the whole context name:\n%s", s)
			}
			_ = term.Send("Enter")
			wait(t, term, 10*time.Second, "the detail", has("ROLLOUT HISTORY"))
			_ = term.Send("a")
			// Enter before the menu's permission and precondition checks are in only says
			// so: wait for them (seen in the clean-worktree CI run under load).
			wait(t, term, 15*time.Second, "the action menu, checked", func(s string) bool {
				return LineWith(s, "› Restart") != "" && !strings.Contains(s, "checking")
			})
			_ = term.Send("Enter")
			s = wait(t, term, 20*time.Second, "the confirmation modal", func(s string) bool {
				return strings.Contains(unframed(s), "Type"+token+"toconfirm")
			})
			if size[0] >= 160 && LineWith(s, "Type "+token+" to confirm") == "" {
				t.Errorf("at %d columns the token is not on one line:\n%s", size[0], s)
			}
			if !strings.Contains(unframed(s), "in"+eksContext) {
				t.Errorf("the modal does not show the whole context name:\n%s", s)
			}
			for _, l := range strings.Split(s, "\n") {
				if i, j := strings.Index(l, "┃"), strings.LastIndex(l, "┃"); i >= 0 && strings.Contains(l[i:j], "…") {
					t.Errorf("a modal line is cut: %q\n%s", l, s)
				}
			}
			if size[0] == 80 {
				capture(t, s, "22-confirm-eks-context-80x24.txt")
			}
			_ = term.Type("INC-e2e-eks")
			_ = term.Send("Enter")
			_ = term.Type(token)
			_ = term.Send("Enter")
			err := clustertest.Eventually(30*time.Second, 200*time.Millisecond, func() (bool, error) {
				d, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "pay", metav1.GetOptions{})
				if err != nil {
					return false, err
				}
				return d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] != "", nil
			})
			if err != nil {
				t.Fatalf("typing the token as shown did not restart the Deployment: %v\n%s", err, term.Screen())
			}
		})
	}
}

// TestTUILongContextReadOnlyHeader: with --readonly at 80×24 the header says which cluster
// (the whole EKS context name) beside READ-ONLY; the rest of the header gives way.
func TestTUILongContextReadOnlyHeader(t *testing.T) {
	term := eksVigil(t, 80, 24, "--readonly")
	s := wait(t, term, 30*time.Second, "the services", has("fintech-prod", "payment-service"))
	if LineWith(s, "ctx "+eksContext, "READ-ONLY") == "" {
		t.Errorf("the header does not show the whole context name beside READ-ONLY:\n%s", s)
	}
	capture(t, s, "23-readonly-eks-context-80x24.txt")
}
