package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/gitops"
)

// TestSuspendedAutoSyncIsShown (issue 19): an Application carrying the annotations vigil's
// suspend writes reads, from the object through estate.ArgoAppOf, as a reminder in the header
// on every screen, as SUSPENDED with who, why and the drift on the GitOps screen, and on the
// Alerts screen.
func TestSuspendedAutoSyncIsShown(t *testing.T) {
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"namespace": "argocd", "name": "fintech-app", "annotations": map[string]any{
			gitops.AnnotationSavedAutomated: `{"prune":true,"selfHeal":true}`,
			gitops.AnnotationSuspendedBy:    "alice",
			gitops.AnnotationSuspendReason:  "INC-7 payment 5xx",
			gitops.AnnotationSuspendedAt:    testNow.Add(-13 * time.Minute).Format(time.RFC3339),
			gitops.AnnotationSuspendedUntil: testNow.Add(47 * time.Minute).Format(time.RFC3339),
		}},
		"spec":   map[string]any{"project": "fintech-project", "syncPolicy": map[string]any{"syncOptions": []any{"CreateNamespace=true"}}},
		"status": map[string]any{"sync": map[string]any{"status": "OutOfSync"}, "health": map[string]any{"status": "Healthy"}, "resources": []any{map[string]any{"kind": "Deployment", "name": "payment-service", "status": "OutOfSync"}}},
	}}
	snap := seedEstate(2)
	snap.ArgoApps = []estate.ArgoApp{estate.ArgoAppOf(app, nil, testNow)}
	const reminder = "fintech-app auto-sync suspended by alice for 47 more minutes: re-enable or revert in Git"

	for _, tc := range []struct {
		screen string
		keys   []string
		want   []string
	}{
		{"services", nil, []string{"⏸ " + reminder}},
		{"gitops", []string{":", "g", "i", "t", "o", "p", "s", "enter"}, []string{"auto-sync SUSPENDED", reminder + " (reason: INC-7 payment 5xx); drift: 1 resources out of sync"}},
		{"alerts", []string{":", "a", "l", "e", "r", "t", "s", "enter"}, []string{"⏸ " + reminder + " (drift: 1 resources out of sync)"}},
	} {
		t.Run(tc.screen, func(t *testing.T) {
			m := newTestModel(t, 220, 40)
			m.Update(SnapshotMsg{Snapshot: snap})
			for _, k := range tc.keys {
				run(m, press(k))
			}
			screen := ansi.Strip(m.Render())
			header := strings.Join(strings.Split(screen, "\n")[:2], "\n")
			if !strings.Contains(header, "⏸ "+reminder) {
				t.Errorf("header does not carry the reminder:\n%s", header)
			}
			for _, w := range tc.want {
				if !strings.Contains(screen, w) {
					t.Errorf("%s screen lacks %q:\n%s", tc.screen, w, screen)
				}
			}
		})
	}
}
