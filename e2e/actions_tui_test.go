package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// actionsVigil starts vigil in tmux with its own state directory (audit log) and config.
func actionsVigil(t *testing.T, config string, args ...string) (*Terminal, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"KUBECONFIG=" + lc.Kubeconfig, "NO_COLOR=1", "XDG_STATE_HOME=" + filepath.Join(dir, "state"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
	argv := append([]string{vigil, "--config", cfg}, args...)
	term, err := StartTerminal(fmt.Sprintf("vigil-e2e-act-%d", time.Now().UnixNano()), 120, 40, env, argv...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(term.Close)
	return term, filepath.Join(dir, "state", "vigil", "audit.jsonl")
}

func wait(t *testing.T, term *Terminal, d time.Duration, what string, match func(string) bool) string {
	t.Helper()
	s, ok := term.WaitFor(d, match)
	if !ok {
		t.Fatalf("%s never appeared; screen:\n%s", what, s)
	}
	return s
}

// capture writes the screen to $VIGIL_SCREENS/name (docs/screens is regenerated with
// VIGIL_SCREENS=$PWD/docs/screens go test ./e2e -run TestTUI).
func capture(t *testing.T, screen, name string) {
	t.Helper()
	dir := os.Getenv("VIGIL_SCREENS")
	if dir == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(screen), 0o644); err != nil {
		t.Error(err)
	}
}

func has(parts ...string) func(string) bool {
	return func(s string) bool { return LineWith(s, parts...) != "" }
}

const payImg = "registry.fintech.internal/fintech/payment-service:"

// rolledOutDeployment creates ns/name at images[0] and rolls it through the others.
func rolledOutDeployment(t *testing.T, cs kubernetes.Interface, ns, name string, images ...string) {
	t.Helper()
	one := int32(1)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: images[0]}}}}}}
	ctx := context.Background()
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRev(t, cs, ns, name, "1")
	for i, img := range images[1:] {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{"kubernetes.io/change-cause":"deploy %s"}},"spec":{"template":{"spec":{"containers":[{"name":"app","image":%q}]}}}}`, img[len(payImg):], img)
		if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		waitRev(t, cs, ns, name, fmt.Sprint(i+2))
	}
}

func waitRev(t *testing.T, cs kubernetes.Interface, ns, name, rev string) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	err := clustertest.Eventually(30*time.Second, 100*time.Millisecond, func() (bool, error) {
		var err error
		d, err = cs.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return d.Status.ObservedGeneration >= d.Generation && d.Annotations["deployment.kubernetes.io/revision"] == rev, nil
	})
	if err != nil {
		t.Fatalf("%s/%s never reached revision %s: %v", ns, name, rev, err)
	}
	return d
}

// TestTUIRollbackWithRevisionPicker: a real rollback from the service detail of a private
// namespace: the picker offers the previous revision, the modal shows the template diff and
// needs the typed target and a reason (the context is protected by config); the Deployment's
// revision moves and the audit pane shows the record under a verified chain.
func TestTUIRollbackWithRevisionPicker(t *testing.T) {
	cs := lc.Client(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	rolledOutDeployment(t, cs, ns, "pay", payImg+"v1.2.2", payImg+"v1.2.3")

	term, _ := actionsVigil(t, "contexts:\n  local-1:\n    protected: true\n", "--context", "local-1", "--namespaces", ns)
	wait(t, term, 30*time.Second, "the private Deployment", has(ns, "pay"))
	_ = term.Send("Enter")
	wait(t, term, 10*time.Second, "the detail's rollout history", has("ROLLOUT HISTORY"))
	_ = term.Send("a")
	wait(t, term, 15*time.Second, "the action menu with states", func(s string) bool {
		return LineWith(s, "Roll back…", "dangerous") != ""
	})
	_ = term.Send("j", "Enter")
	s := wait(t, term, 10*time.Second, "the revision picker", has("REV", "IMAGES", "CHANGE-CAUSE"))
	if l := LineWith(s, "›", "1 "); l == "" || !strings.Contains(l, "v1.2.2") {
		t.Fatalf("the picker's cursor is not on revision 1 (v1.2.2):\n%s", s)
	}
	_ = term.Send("Enter")
	expect := "local-1/" + ns + "/pay"
	s = wait(t, term, 20*time.Second, "the confirmation modal", has("Type "+expect))
	if !strings.Contains(s, "v1.2.3 →") || !strings.Contains(s, "payment-service:v1.2.2") {
		t.Errorf("the modal does not show the template diff:\n%s", s)
	}
	_ = term.Send("Enter") // Enter alone on the empty reason: refused, nothing happens
	wait(t, term, 5*time.Second, "the reason note", has("a reason (ticket or incident) is required"))
	_ = term.Type("INC-e2e-rollback")
	_ = term.Send("Enter")
	_ = term.Type(expect)
	_ = term.Send("Enter")
	d := waitRev(t, cs, ns, "pay", "3")
	if img := d.Spec.Template.Spec.Containers[0].Image; img != payImg+"v1.2.2" {
		t.Fatalf("rolled back to %s", img)
	}
	wait(t, term, 20*time.Second, "the outcome in the status line", has("Roll back to revision 1", "rolled back"))

	_ = term.Type(":audit")
	_ = term.Send("Enter")
	s = wait(t, term, 10*time.Second, "the audit record", has("rollback", "deployment/"+ns[:20], "INC-e2e-rollback", "succeeded"))
	if LineWith(s, "records verify") == "" {
		t.Errorf("no chain verification line:\n%s", s)
	}
	t.Logf("audit pane:\n%s", s)
}

// TestTUISilenceAlert: S on a firing alert of a real Alertmanager, duration 2h by default and
// a typed reason, creates a silence with the kube user as createdBy (as the API server names
// it to the test), exact matchers naming the selected alert, and Alertmanager then reports
// that alert silenced by it.
func TestTUISilenceAlert(t *testing.T) {
	p, err := lc.StartPrometheus(true)
	if err != nil {
		t.Fatalf("Prometheus and Alertmanager are needed (make test builds them into bin/): %v", err)
	}
	t.Cleanup(p.Stop)
	cfg := fmt.Sprintf("prometheus: %s\nalertmanager: %s\ncontexts:\n  local-1:\n    alertLabels:\n      match:\n        cluster: local-1\n", p.URL, p.AlertmanagerURL)
	term, _ := actionsVigil(t, cfg, "--context", "local-1")
	wait(t, term, 30*time.Second, "the services", has("fintech-prod", "payment-service"))
	_ = term.Type(":alerts")
	_ = term.Send("Enter")
	s := wait(t, term, 45*time.Second, "a firing alert", func(s string) bool {
		return LineWith(s, "›", "firing") != "" && LineWith(s, "Alertmanager", "up") != ""
	})
	capture(t, s, "07-alerts.txt")
	sel := LineWith(s, "›", "firing")
	name := ""
	for _, f := range strings.Fields(sel) {
		if regexp.MustCompile(`^[A-Z][A-Za-z]+$`).MatchString(f) {
			name = f
			break
		}
	}
	_ = term.Send("Enter")
	capture(t, wait(t, term, 5*time.Second, "the alert's labels", has("LABELS")), "17-alert-labels.txt")
	_ = term.Send("Escape")
	time.Sleep(300 * time.Millisecond) // Esc then a key too fast reads as alt+key
	_ = term.Send("S")
	capture(t, wait(t, term, 5*time.Second, "the silence form", has("duration: 2h")), "18-silence-form.txt")
	_ = term.Send("Tab")
	_ = term.Type("INC-e2e-silence")
	_ = term.Send("Enter")
	s = wait(t, term, 20*time.Second, "the confirmation modal", func(s string) bool {
		return strings.Contains(s, "Enter alone never confirms")
	})
	if m := regexp.MustCompile(`Type (\S+) to confirm`).FindStringSubmatch(s); m != nil {
		_ = term.Type(m[1])
	} else {
		_ = term.Type("y")
	}
	_ = term.Send("Enter")
	wait(t, term, 20*time.Second, "the silence's outcome", has("Silence"))

	if name == "" {
		t.Fatalf("no alert name on the selected row %q", sel)
	}
	var found map[string]any
	err = clustertest.Eventually(20*time.Second, 200*time.Millisecond, func() (bool, error) {
		resp, getErr := http.Get(p.AlertmanagerURL + "/api/v2/silences")
		if getErr != nil {
			return false, nil
		}
		defer resp.Body.Close()
		var sils []map[string]any
		if decErr := json.NewDecoder(resp.Body).Decode(&sils); decErr != nil {
			return false, nil
		}
		for _, s := range sils {
			if s["comment"] == "INC-e2e-silence" {
				found = s
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no silence with the reason in Alertmanager; screen:\n%s", term.Screen())
	}
	checkSilence(t, p.AlertmanagerURL, found, name, "local-1", kubeUser(t, "local-1"))
	if os.Getenv("VIGIL_SCREENS") == "" {
		return
	}
	_ = term.Type(":audit")
	_ = term.Send("Enter")
	capture(t, wait(t, term, 10*time.Second, "the audit record", has("silence", "INC-e2e-silence", "succeeded")), "20-audit.txt")
	_ = term.Type(":gitops")
	_ = term.Send("Enter")
	wait(t, term, 10*time.Second, "the GitOps screen", has("ARGO CD APPLICATIONS"))
	_ = term.Send("j")
	capture(t, wait(t, term, 5*time.Second, "the second application selected", func(s string) bool { return strings.Count(s, "› ") == 1 }), "19-gitops-selected.txt")
	_ = term.Send("Enter")
	capture(t, wait(t, term, 10*time.Second, "the application's actions", has("Actions on application")), "21-gitops-actions.txt")
}
