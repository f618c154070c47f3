package ui

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vigil-k8s/vigil/estate"
)

// TestGitOpsShowsThePendingOperation (issue 20): after a sync request the
// Application carries .operation until Argo CD's controller has run it; the
// GitOps screen shows it pending, with its phase, since when and who
// asked, read from the object through estate.ArgoAppOf: first requested
// (no operationState of it yet), then Running; once finished, its result.
func TestGitOpsShowsThePendingOperation(t *testing.T) {
	operation := map[string]any{"sync": map[string]any{"revision": "main"}, "initiatedBy": map[string]any{"username": "alice"}}
	last := map[string]any{"phase": "Succeeded", "message": "successfully synced (all tasks run)", "startedAt": "2025-12-31T10:00:00Z",
		"finishedAt": "2025-12-31T10:00:09Z", "operation": map[string]any{"sync": map[string]any{"revision": "50ba616"}, "initiatedBy": map[string]any{"automated": true}}}
	running := map[string]any{"phase": "Running", "message": "one or more tasks are running", "startedAt": testNow.Add(-42 * time.Second).Format(time.RFC3339),
		"operation": operation}
	done := map[string]any{"phase": "Failed", "message": "one or more objects failed to apply", "startedAt": testNow.Add(-42 * time.Second).Format(time.RFC3339),
		"finishedAt": testNow.Add(-3 * time.Second).Format(time.RFC3339), "operation": operation}
	for _, tc := range []struct {
		name  string
		op    map[string]any // .operation; nil when none
		state map[string]any // status.operationState
		want  string
	}{
		{"requested", operation, nil, "operation PENDING: requested by alice, to main; Argo CD's application controller has not started it yet"},
		{"requested over the last result", operation, last, "operation PENDING: requested by alice, to main"},
		{"running", operation, running, "operation PENDING: Running, started 42s ago by alice, to main: one or more tasks are running"},
		{"finished", nil, done, "operation Failed to main by alice, started 42s ago: one or more objects failed to apply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
				"metadata": map[string]any{"namespace": "argocd", "name": "fintech-app"},
				"spec":     map[string]any{"project": "fintech-project"},
				"status":   map[string]any{"sync": map[string]any{"status": "Synced"}, "health": map[string]any{"status": "Healthy"}},
			}}
			if tc.op != nil {
				app.Object["operation"] = tc.op
			}
			if tc.state != nil {
				_ = unstructured.SetNestedMap(app.Object, tc.state, "status", "operationState")
			}
			snap := seedEstate(2)
			snap.ArgoApps = []estate.ArgoApp{estate.ArgoAppOf(app, nil, testNow)}
			eachSize(t, func(t *testing.T, w, h int) {
				m := newModelWith(t, w, h, &fakeBackend{}, nil)
				run(m, SnapshotMsg{Snapshot: snap})
				open(m, "gitops")
				want := tc.want
				if len(want) > w-4 {
					want = want[:w-4] // cut at the width: its start says it
				}
				wantLines(t, screenText(m), []string{want}, nil)
				if tc.op == nil {
					wantLines(t, screenText(m), nil, []string{"PENDING"})
				}
			})
		})
	}
}
