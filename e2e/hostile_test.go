package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// evil is what a hostile annotation or event might hold: a window title
// change (OSC 0), a screen clear (CSI 2J), a right-to-left override.
const evil = "\x1b]0;owned\x07\x1b[2J\u202eevil"

// TestHostileClusterTextIsShownEscaped: a change-cause and an event message
// carrying escape sequences reach the TUI's detail view and a headless
// rollback preview as visible escapes; no raw ESC or BEL byte reaches the
// terminal (the pane title stays vigil's), and headless output holds none.
func TestHostileClusterTextIsShownEscaped(t *testing.T) {
	cs := lc.Client(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	ctx := context.Background()
	rolledOutDeployment(t, cs, ns, "web", payImg+"v1.2.2")
	cause, _ := json.Marshal("deploy " + evil) // JSON, not Go, escapes
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"kubernetes.io/change-cause":%s}},"spec":{"template":{"spec":{"containers":[{"name":"app","image":%q}]}}}}`,
		cause, payImg+"v1.2.3")
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "web", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRev(t, cs, ns, "web", "2")
	// Roll back to 1 and forward again, so that revision 2's change-cause is a rollback target.
	patch = fmt.Sprintf(`{"metadata":{"annotations":{"kubernetes.io/change-cause":"clean"}},"spec":{"template":{"spec":{"containers":[{"name":"app","image":%q}]}}}}`, payImg+"v1.2.4")
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "web", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRev(t, cs, ns, "web", "3")
	// The detail shows the newest ten events of every type. The rollouts' own ten or so
	// (ScalingReplicaSet, SuccessfulCreate/Delete) are recorded after their revisions show, in
	// the same second or the next: once they have all been, the hostile event is the newest (or
	// shares their second, where warnings come first), so it is among the ten. Without the
	// wait, the clean-worktree CI run of 06ced4e (and 3 of 4 runs here) had it eleventh.
	settled := 0
	_ = clustertest.Eventually(20*time.Second, 500*time.Millisecond, func() (bool, error) {
		el, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		same := len(el.Items) == settled
		settled = len(el.Items)
		return same && settled > 0, nil
	})
	now := metav1.NewTime(time.Now())
	// The UID as a controller's recorder sets it: events are found by the object's UID, as kubectl describe does.
	web, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "web.hostile", Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Namespace: ns, Name: "web", APIVersion: "apps/v1", UID: web.UID},
		Type:           corev1.EventTypeWarning, Reason: "Hostile", Message: "probe failed " + evil, Count: 1,
		FirstTimestamp: now, LastTimestamp: now, Source: corev1.EventSource{Component: "e2e"}}
	if _, err = cs.CoreV1().Events(ns).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	term := startVigil(t, "--context", "local-1", "--namespaces", ns)
	wait(t, term, 30*time.Second, "the Deployment", has(ns, "web"))
	_ = term.Send("Enter")
	s := wait(t, term, 15*time.Second, "the change-cause escaped in the rollout history", has(`deploy \x1b]0;owned`))
	// The event is further down the page: page until it shows.
	// Each page is looked at once it is drawn: under load a second PageDown sent before the
	// first was drawn would skip a page unseen.
	// Drawn means the page's text changed other than by a clock: the data age in the header
	// and the events' and conditions' ages change every second on their own.
	body := func(screen string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return -1
			}
			return r
		}, screen)
	}
	for i := 0; i < 12 && !strings.Contains(s, `probe failed \x1b]0;owned`); i++ {
		prev := body(s)
		_ = term.Send("PageDown")
		s, _ = term.WaitFor(3*time.Second, func(now string) bool { return body(now) != prev })
	}
	if !strings.Contains(s, `probe failed \x1b]0;owned`) {
		t.Errorf("the event message never showed escaped:\n%s", s)
	}
	title, err := exec.Command("tmux", "display-message", "-p", "-t", term.name, "#{pane_title}").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(title), "owned") {
		t.Errorf("a cluster field set the terminal's title: %q", title)
	}

	out, err := headless([]string{"KUBECONFIG=" + lc.Kubeconfig, "XDG_STATE_HOME=" + t.TempDir()},
		"--context", "local-1", "rollback", "deploy/web", "-n", ns, "--to-revision", "2", "--dry-run")
	if err != nil {
		t.Fatalf("headless rollback preview: %v\n%s", err, out)
	}
	if bytes.ContainsAny([]byte(out), "\x1b\x07") || strings.Contains(out, "\u202e") {
		t.Errorf("headless output holds raw control bytes: %q", out)
	}
	if !strings.Contains(out, `revision 2 was: deploy \x1b]0;owned\x07\x1b[2J\u202eevil`) {
		t.Errorf("headless preview does not show the change-cause escaped:\n%s", out)
	}
}
