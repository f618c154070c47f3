package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigil-k8s/vigil/config"
)

// TestHeadlessGoesByTheConfigPolicy is issue 13's reproduction: a config protecting local-*
// and requiring a reason, then `vigil --context local-1 scale deploy/web --replicas 2
// --confirm yes`. Headless used to build its policy from flags only and scaled; it now goes
// by the same policy as the UI: a plain yes is refused, the typed target without a reason is
// refused, and the typed target with a reason scales. The same holds when the policy comes
// from the system-wide config and the user passes --config /dev/null.
func TestHeadlessGoesByTheConfigPolicy(t *testing.T) {
	e := env(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	if _, err := e.Kube.AppsV1().Deployments(ns).Create(ctxT(t, 10*time.Second), deployment("web", 1, img+"v1.2.2"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	policy := filepath.Join(dir, "v.yaml")
	if err := os.WriteFile(policy, []byte("protectedContexts: [\"local-*\"]\nrequireReason: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "audit.jsonl")
	scale := func(replicas string, extra ...string) (string, error) {
		return vigil(t, "", append([]string{"--context", "local-1", "scale", "deploy/web", "-n", ns, "--replicas", replicas, "--audit-log", log}, extra...)...)
	}
	replicas := func() int32 {
		d, err := e.Kube.AppsV1().Deployments(ns).Get(ctxT(t, 10*time.Second), "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return *d.Spec.Replicas
	}
	typed := "local-1/" + ns + "/web"

	for _, where := range []string{"user", "system"} {
		t.Run(where, func(t *testing.T) {
			if where == "user" {
				t.Setenv(config.EnvPath, policy)
				t.Setenv(config.EnvSystemPath, filepath.Join(dir, "absent.yaml"))
			} else {
				t.Setenv(config.EnvPath, os.DevNull) // the user's file cannot loosen the system's
				t.Setenv(config.EnvSystemPath, policy)
			}
			want := replicas()
			out, err := scale("2", "--confirm", "yes", "--reason", "INC-1")
			if err == nil || !strings.Contains(err.Error(), "refused (confirm)") || !strings.Contains(err.Error(), typed) {
				t.Fatalf("--confirm yes on a pattern-protected context: %v\n%s", err, out)
			}
			out, err = scale("2", "--confirm", typed)
			if err == nil || !strings.Contains(err.Error(), "a reason is required") {
				t.Fatalf("no reason: %v\n%s", err, out)
			}
			if got := replicas(); got != want {
				t.Fatalf("a refused scale changed replicas %d → %d", want, got)
			}
			// --config /dev/null with --write and no --protected-context does not lift it either.
			out, err = scale("2", "--confirm", "yes", "--write")
			if err == nil || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("--write --confirm yes: %v\n%s", err, out)
			}
			next := want + 1
			out, err = scale(itoa(int(next)), "--confirm", typed, "--reason", "INC-1")
			if err != nil || replicas() != next {
				t.Fatalf("typed target and reason: %v\n%s", err, out)
			}
		})
	}
}
