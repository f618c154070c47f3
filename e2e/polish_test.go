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
)

// TestPolishOnTheRunningScreen walks the polish list of issue 20 in the
// real binary at 80×24 and 160×45: the palette covers the line beneath,
// the sorted column's arrow neither cuts its title nor means two things,
// :ns refuses a namespace that is not watched, and a pod's READY is its
// ready containers over its containers, as the API's pod says.
func TestPolishOnTheRunningScreen(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {160, 45}} {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			state := t.TempDir()
			cfg := filepath.Join(state, "none.yaml")
			if err := os.WriteFile(cfg, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			env := []string{"KUBECONFIG=" + lc.Kubeconfig, "NO_COLOR=1", "XDG_STATE_HOME=" + state, "VIGIL_CONFIG=" + cfg}
			term, err := StartTerminal(fmt.Sprintf("vigil-polish-%d", time.Now().UnixNano()), sz.w, sz.h, env, vigil, "--context", "local-1")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(term.Close)
			waitSynced(t, term, "fintech-prod", "payment-service")

			// The palette over the status line: nothing of it shows through.
			if err = term.Type(":h"); err != nil {
				t.Fatal(err)
			}
			screen := waitLine(t, term, "palette", 3*time.Second, ":h█")
			if l := strings.TrimRight(LineWith(screen, ":h█"), " "); l != ":h█  hpa" {
				t.Errorf("palette line %q, want %q", l, ":h█  hpa")
			}
			_ = term.Send("Escape")
			time.Sleep(300 * time.Millisecond) // else Escape and the next key read as alt+key

			// Sort by READY: its title and arrow whole, the status line agrees.
			for range 4 {
				_ = term.Send("s")
				time.Sleep(150 * time.Millisecond)
			}
			screen, ok := term.WaitFor(3*time.Second, func(s string) bool { return LineWith(s, "READY↑") != "" })
			header := LineWith(screen, "NAMESPACE")
			if !ok || strings.Contains(header, "READ…") || LineWith(screen, "sort ready ↑") == "" {
				t.Errorf("4×s: header %q or status line does not say READY ↑:\n%s", header, screen)
			}
			for range 12 { // back to the input order
				_ = term.Send("s")
				time.Sleep(50 * time.Millisecond)
				if LineWith(term.Screen(), "sort default") != "" {
					break
				}
			}

			// :ns refuses what is not watched; the filter stays.
			command(t, term, "ns bogus")
			screen, ok = term.WaitFor(3*time.Second, func(s string) bool { return LineWith(s, "namespace bogus is not") != "" })
			if !ok || LineWith(screen, "all namespaces") == "" {
				t.Errorf(":ns bogus not refused, or it changed the namespace filter:\n%s", screen)
			}
			_ = term.Send("Escape") // clears a filter it set (the build before the fix)
			time.Sleep(300 * time.Millisecond)

			// READY of each pod of fintech-prod/payment-service, from the API.
			pods, err := lc.Client(t, "local-1").CoreV1().Pods("fintech-prod").List(context.Background(), metav1.ListOptions{LabelSelector: "app=payment-service"})
			if err != nil || len(pods.Items) == 0 {
				t.Fatalf("pods of payment-service: %v (%d)", err, len(pods.Items))
			}
			if err = term.Type("/payment"); err != nil {
				t.Fatal(err)
			}
			_ = term.Send("Enter")
			time.Sleep(200 * time.Millisecond)
			_ = term.Send("g", "Enter")
			screen = waitLine(t, term, "detail", 5*time.Second, "PODS (")
			for _, p := range pods.Items {
				if p.DeletionTimestamp != nil {
					continue
				}
				ready := 0
				for _, cs := range p.Status.ContainerStatuses {
					if cs.Ready {
						ready++
					}
				}
				want := fmt.Sprintf(" %d/%d ", ready, len(p.Spec.Containers))
				// The pod's row may be below the fold at 80×24: page down to it.
				for range 6 {
					if LineWith(screen, p.Name) != "" {
						break
					}
					_ = term.Send("PageDown")
					time.Sleep(150 * time.Millisecond)
					screen = term.Screen()
				}
				if l := LineWith(screen, p.Name); !strings.Contains(l, want) {
					t.Errorf("pod %s: row %q lacks READY%s:\n%s", p.Name, l, want, screen)
				}
			}
		})
	}
}
