package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startScreens runs vigil at 120×40 with its own state directory (log,
// audit) and NO_COLOR, as startVigil does, plus any extra environment.
func startScreens(t *testing.T, extraEnv []string, args ...string) *Terminal {
	t.Helper()
	name := fmt.Sprintf("vigil-screens-%d", time.Now().UnixNano())
	state := t.TempDir()
	env := append([]string{"KUBECONFIG=" + lc.Kubeconfig, "NO_COLOR=1", "XDG_STATE_HOME=" + state,
		"VIGIL_CONFIG=" + filepath.Join(state, "none.yaml")}, extraEnv...)
	// An explicit, empty config: the developer's own must not leak in.
	if err := os.WriteFile(filepath.Join(state, "none.yaml"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	term, err := StartTerminal(name, 120, 40, env, append([]string{vigil}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(term.Close)
	return term
}

// command types a palette command (":" NAME Enter).
func command(t *testing.T, term *Terminal, text string) {
	t.Helper()
	if err := term.Type(":" + text); err != nil {
		t.Fatal(err)
	}
	if err := term.Send("Enter"); err != nil {
		t.Fatal(err)
	}
}

// waitSynced waits for the first complete screen of a context: connected
// (not syncing) and the given service listed.
func waitSynced(t *testing.T, term *Terminal, parts ...string) string {
	t.Helper()
	screen, ok := term.WaitFor(30*time.Second, func(s string) bool {
		return LineWith(s, "● connected") != "" && LineWith(s, parts...) != ""
	})
	if !ok {
		t.Fatalf("never connected and synced with %q on screen:\n%s", parts, screen)
	}
	return screen
}

func waitLine(t *testing.T, term *Terminal, what string, timeout time.Duration, parts ...string) string {
	t.Helper()
	screen, ok := term.WaitFor(timeout, func(s string) bool { return LineWith(s, parts...) != "" })
	if !ok {
		t.Fatalf("%s: no line with %q within %s; screen:\n%s", what, parts, timeout, screen)
	}
	return screen
}

// TestFindDetailFilterSwitch is the on-call path: start on local-1, find
// payment-service, open its detail, filter the list, then `:ctx local-2`
// and see the other estate — payment-service Down on image pulls, and no
// Argo CD there.
func TestFindDetailFilterSwitch(t *testing.T) {
	term := startScreens(t, nil, "--context", "local-1")
	waitSynced(t, term, "fintech-prod", "payment-service", "2/2")

	// Filter: only the payment services stay.
	if err := term.Type("/payment"); err != nil {
		t.Fatal(err)
	}
	screen := waitLine(t, term, "filter", 3*time.Second, "/payment")
	if LineWith(screen, "fintech-prod", "user-service") != "" {
		t.Errorf("/payment still lists user-service:\n%s", screen)
	}
	if LineWith(screen, "fintech-staging", "payment-service") == "" {
		t.Errorf("/payment lost staging's payment-service:\n%s", screen)
	}

	// Detail of fintech-prod/payment-service (the filter keeps it first).
	_ = term.Send("Enter")
	if got, ok := term.WaitFor(3*time.Second, func(s string) bool {
		l := LineWith(s, "/payment", " of ")
		return l != "" && !strings.Contains(l, "█")
	}); !ok {
		t.Fatalf("Enter did not keep the filter and leave typing:\n%s", got)
	}
	_ = term.Send("g", "Enter")
	screen = waitLine(t, term, "detail", 5*time.Second, "ROLLOUT HISTORY")
	for _, want := range [][]string{{"payment-service", "deployment"}, {"PODS ("}, {"v1.2.3"}, {"argo cd", "fintech-app"}} {
		if LineWith(screen, want...) == "" {
			t.Errorf("detail lacks %q:\n%s", want, screen)
		}
	}
	_ = term.Send("Escape")
	time.Sleep(200 * time.Millisecond)
	_ = term.Send("Escape") // clears the filter
	waitLine(t, term, "filter cleared", 3*time.Second, "fintech-prod", "user-service")

	// Switch: first paint of local-2 within a second, then its estate.
	start := time.Now()
	command(t, term, "ctx local-2")
	if got, ok := term.WaitFor(time.Second, func(s string) bool {
		return LineWith(s, "syncing local-2") != "" || LineWith(s, "ctx local-2") != "" || LineWith(s, "→ local-2") != ""
	}); !ok {
		t.Fatalf("no first paint of local-2 within 1 s:\n%s", got)
	}
	t.Logf("switch to first paint: %s", time.Since(start).Round(time.Millisecond))
	screen = waitLine(t, term, "local-2 estate", 30*time.Second, "fintech-prod", "payment-service", "Down")
	t.Logf("switch to local-2 data: %s", time.Since(start).Round(time.Millisecond))
	if LineWith(screen, "ctx local-2") == "" {
		t.Errorf("header does not name local-2:\n%s", screen)
	}
	// Down sorts first: Enter opens payment-service's detail.
	_ = term.Send("g", "Enter")
	waitLine(t, term, "local-2 detail", 10*time.Second, "ImagePull")
	_ = term.Send("Escape")
	time.Sleep(200 * time.Millisecond)

	command(t, term, "gitops")
	screen = waitLine(t, term, "gitops on local-2", 5*time.Second, "ARGO CD APPLICATIONS")
	if LineWith(screen, "not installed") == "" {
		t.Errorf("local-2 has no Argo CD but the GitOps screen does not say so:\n%s", screen)
	}
}

// TestScreensShowLiveData opens every screen on local-1 and checks each
// shows what the seeded estate holds. The Alerts screen runs against a real
// Prometheus and Alertmanager over the local cluster, and must show what
// their own APIs say (checkAlertsScreen).
func TestScreensShowLiveData(t *testing.T) {
	p, err := lc.StartPrometheus(true)
	if err != nil {
		t.Fatalf("Prometheus and Alertmanager are needed (make test builds them into bin/): %v", err)
	}
	t.Cleanup(p.Stop)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("prometheus: %s\nalertmanager: %s\ncontexts:\n  local-1:\n    alertLabels:\n      match:\n        cluster: local-1\n",
		p.URL, p.AlertmanagerURL)), 0o600); err != nil {
		t.Fatal(err)
	}
	term := startScreens(t, nil, "--context", "local-1", "--config", cfg)
	waitSynced(t, term, "fintech-prod", "payment-service")
	command(t, term, "alerts")
	checkAlertsScreen(t, term, p.URL, p.AlertmanagerURL, "local-1")
	for _, tt := range []struct {
		cmd  string
		want []string
	}{
		{"hpa", []string{"hpa api-gateway-hpa"}},
		{"hpa", []string{"vpa payment-service-vpa"}},
		{"check", []string{"Pod Security Standards enforced"}},
		{"gitops", []string{"argocd/fintech-app"}},
		{"gitops", []string{"notification-provider-secrets", "False"}},
		{"ctx", []string{"local-2", "reachable"}},
	} {
		command(t, term, tt.cmd)
		waitLine(t, term, ":"+tt.cmd, 15*time.Second, tt.want...)
	}
	// Drill into a checklist item.
	command(t, term, "check")
	_ = term.Send("g", "Enter")
	screen := waitLine(t, term, "findings", 5*time.Second, "fix:")
	if !strings.Contains(screen, "›") {
		t.Errorf("no breadcrumb into the item:\n%s", screen)
	}
	_ = term.Send("q")
}

// TestReadOnlyBadge: --readonly shows in the header.
func TestReadOnlyBadge(t *testing.T) {
	term := startScreens(t, nil, "--context", "local-1", "--readonly")
	waitLine(t, term, "badge", 30*time.Second, "READ-ONLY")
}
