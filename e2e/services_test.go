package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

var (
	lc    *clustertest.Cluster
	vigil string
)

func TestMain(m *testing.M) {
	dir, err := TempDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if vigil, err = BuildVigil(dir); err == nil {
		err = Hermetic(dir)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	clustertest.Main(removingAfter{m, dir}, clustertest.Options{Clusters: 2, Seed: true}, &lc)
}

// removingAfter runs the tests, then removes dir (the vigil built for them, their state): a
// defer in TestMain does not run, clustertest.Main ends the process with the tests' code.
type removingAfter struct {
	m   *testing.M
	dir string
}

func (r removingAfter) Run() int {
	code := r.m.Run()
	if err := os.RemoveAll(r.dir); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
	}
	return code
}

func startVigil(t *testing.T, args ...string) *Terminal {
	t.Helper()
	name := fmt.Sprintf("vigil-e2e-%d", time.Now().UnixNano())
	argv := append([]string{vigil}, args...)
	term, err := StartTerminal(name, 120, 40, []string{"KUBECONFIG=" + lc.Kubeconfig, "NO_COLOR=1"}, argv...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(term.Close)
	return term
}

// TestScaleShowsOnScreen: the first screen lists fintech-prod's services live; scaling a
// Deployment with the admin kubeconfig changes the screen within 2 s.
func TestScaleShowsOnScreen(t *testing.T) {
	term := startVigil(t, "--context", "local-1")
	screen, ok := term.WaitFor(30*time.Second, func(s string) bool {
		return LineWith(s, "fintech-prod", "user-service", "2/2") != ""
	})
	if !ok {
		t.Fatalf("fintech-prod/user-service at 2/2 never appeared; screen:\n%s", screen)
	}
	for _, svc := range []string{"api-gateway", "payment-service", "notification-service"} {
		if LineWith(screen, "fintech-prod", svc) == "" {
			t.Errorf("fintech-prod/%s missing from the first screen:\n%s", svc, screen)
		}
	}

	cs := lc.Client(t, "local-1")
	start := time.Now()
	_, err := cs.AppsV1().Deployments("fintech-prod").Patch(context.Background(), "user-service",
		types.MergePatchType, []byte(`{"spec":{"replicas":4}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = cs.AppsV1().Deployments("fintech-prod").Patch(context.Background(), "user-service",
			types.MergePatchType, []byte(`{"spec":{"replicas":2}}`), metav1.PatchOptions{})
	})
	screen, ok = term.WaitFor(2*time.Second, func(s string) bool {
		return LineWith(s, "fintech-prod", "user-service", "/4") != ""
	})
	if !ok {
		t.Fatalf("the screen did not show user-service's 4 desired replicas within 2 s; screen:\n%s", screen)
	}
	t.Logf("scale to screen: %s", time.Since(start).Round(time.Millisecond))
}

// TestBadContextIsOneLine: a context that does not exist is one clear line, not a trace.
func TestBadContextIsOneLine(t *testing.T) {
	term := startVigil(t, "--context", "nope")
	screen, ok := term.WaitFor(15*time.Second, func(s string) bool {
		return LineWith(s, "nope") != ""
	})
	if !ok {
		t.Fatalf("no error naming the context; screen:\n%s", screen)
	}
	if LineWith(screen, "goroutine") != "" || LineWith(screen, "panic") != "" {
		t.Fatalf("a stack trace instead of a one-line error:\n%s", screen)
	}
}
