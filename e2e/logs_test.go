package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// TestLogsInTheTerminal: as the view-only reviewer, l in notification-service's detail shows its
// previous run ending with the crash, and l on api-gateway in the list shows the lines of its 3
// pods, each tagged, the pods and the crash line as client-go reads them.
func TestLogsInTheTerminal(t *testing.T) {
	cs := lc.Client(t, "local-1")
	ctx := context.Background()
	term := startVigil(t, "--context", "local-1-reviewer")
	if screen, ok := term.WaitFor(30*time.Second, func(s string) bool {
		return LineWith(s, "fintech-prod", "notification-service") != ""
	}); !ok {
		t.Fatalf("the services never showed:\n%s", screen)
	}

	var pod string
	if err := clustertest.Eventually(60*time.Second, 500*time.Millisecond, func() (bool, error) {
		crash, err := cs.CoreV1().Pods("fintech-prod").List(ctx, metav1.ListOptions{LabelSelector: "app=notification-service"})
		if err != nil || len(crash.Items) != 1 || len(crash.Items[0].Status.ContainerStatuses) != 1 {
			return false, err
		}
		pod = crash.Items[0].Name
		return crash.Items[0].Status.ContainerStatuses[0].RestartCount >= 1, nil
	}); err != nil {
		t.Fatalf("notification-service never restarted: %v", err)
	}
	// The crash line as the API returns it for the previous run (kubectl logs --previous).
	raw, err := cs.CoreV1().Pods("fintech-prod").GetLogs(pod, &corev1.PodLogOptions{Previous: true}).DoRaw(ctx)
	if err != nil {
		t.Fatalf("GetLogs previous: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	crashLine := lines[len(lines)-1]
	if !strings.HasPrefix(crashLine, "level=fatal") {
		t.Fatalf("the previous run does not end with a crash: %q", crashLine)
	}
	_ = term.Send("/")
	_ = term.Type("notification")
	_ = term.Send("Enter", "Enter")
	if screen, ok := term.WaitFor(10*time.Second, func(s string) bool { return strings.Contains(s, "Degraded") || strings.Contains(s, "Down") }); !ok {
		t.Fatalf("no detail view:\n%s", screen)
	}
	_ = term.Send("l")
	tag := "[" + strings.TrimPrefix(pod, "notification-service-") + "/notification-service]"
	if screen, ok := term.WaitFor(15*time.Second, func(s string) bool {
		return LineWith(s, "previous logs of fintech-prod/notification-service") != "" && LineWith(s, tag, crashLine[:40]) != ""
	}); !ok {
		t.Fatalf("l in the crash-looping service's detail should show its previous run, ending %q:\n%s", crashLine, screen)
	}

	// Back to the list, one Esc at a time (several at once read as alt+esc).
	for _, gone := range []string{"previous logs of", "› fintech-prod/notification-service"} {
		_ = term.Send("Escape")
		if screen, ok := term.WaitFor(5*time.Second, func(s string) bool { return !strings.Contains(s, gone) }); !ok {
			t.Fatalf("Esc did not close %q:\n%s", gone, screen)
		}
	}
	_ = term.Send("Escape") // the filter
	// Esc and a key right after it read as alt+key: let the Esc land alone.
	if screen, ok := term.WaitFor(5*time.Second, func(s string) bool { return LineWith(s, "fintech-prod", "api-gateway") != "" }); !ok {
		t.Fatalf("Esc did not clear the filter:\n%s", screen)
	}
	time.Sleep(300 * time.Millisecond)
	_ = term.Send("/")
	_ = term.Type("api-gateway")
	_ = term.Send("Enter", "l")
	gw, err := cs.CoreV1().Pods("fintech-prod").List(ctx, metav1.ListOptions{LabelSelector: "app=api-gateway"})
	if err != nil || len(gw.Items) != 3 {
		t.Fatalf("api-gateway's pods: %v (%d)", err, len(gw.Items))
	}
	screen, ok := term.WaitFor(15*time.Second, func(s string) bool {
		for _, p := range gw.Items {
			if LineWith(s, "["+strings.TrimPrefix(p.Name, "api-gateway-")+"/api-gateway]", "level=info") == "" {
				return false
			}
		}
		return LineWith(s, "logs of fintech-prod/api-gateway", "following") != ""
	})
	if !ok {
		t.Fatalf("l on api-gateway should follow the lines of its 3 pods:\n%s", screen)
	}
}
