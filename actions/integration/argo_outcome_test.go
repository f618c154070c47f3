package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// TestArgoSyncRecordsTheOperationResult: a sync of the seeded fintech-app is recorded as
// requested, and then, in a second (outcome) record, as what became of its operation.
//
// There is no Argo CD application controller in the local cluster: this test plays it, with
// client-go, as upstream's does (controller/appcontroller.go setOperationState): it takes the
// operation up (status.operationState phase Running, startedAt, the operation), then ends it
// (phase Succeeded or Failed with finishedAt and a message, and .operation removed). The
// expected records are what the test wrote as the controller, read back from the audit log.
// While the operation is pending, the application as estate reads it (what the GitOps screen
// shows) carries the phase, when it started and who asked.
func TestArgoSyncRecordsTheOperationResult(t *testing.T) {
	e := env(t, "local-1")
	user, err := e.User(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	apps := e.Dynamic.Resource(gvrApp).Namespace("argocd")
	orig, err := apps.Get(ctxT(t, 10*time.Second), "fintech-app", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	origState, hadState, _ := unstructured.NestedMap(orig.Object, "status", "operationState")
	t.Cleanup(func() { restoreOperation(t, "fintech-app", origState, hadState) })
	fintech := spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: "fintech-app"}

	for _, tc := range []struct {
		phase, message string
		result         string
		wantErr        bool
	}{
		{"Succeeded", "successfully synced (all tasks run)", "succeeded", false},
		{"Failed", "one or more objects failed to apply, reason: admission webhook denied the request", "failed", true},
	} {
		t.Run(tc.phase, func(t *testing.T) {
			p, path := pipeline(t, e, "local-1/argocd/fintech-app")
			p.OperationWait = 90 * time.Second
			var stages []string
			done := make(chan error, 1)
			var out spec.Outcome
			go func() {
				o, xerr := p.Execute(context.Background(), actions.ArgoSync(e, spec.ArgoSyncParams{}), fintech, spec.Request{Reason: "CHG-7",
					Progress: func(pr spec.Progress) {
						if pr.Stage == spec.StageOperation {
							stages = append(stages, pr.Message)
						}
					}})
				out = o
				done <- xerr
			}()

			// The request lands: .operation set, no operationState. Recorded as requested,
			// nothing more yet.
			op := waitApp(t, "the requested operation", func(u *unstructured.Unstructured) bool {
				_, set, _ := unstructured.NestedMap(u.Object, "operation")
				return set
			})
			requested, _, _ := unstructured.NestedMap(op.Object, "operation")
			waitRecords(t, path, 2)
			recs := records(t, path)
			if recs[1].Phase != audit.PhaseFinished || recs[1].Result != actions.ResultRequested {
				t.Fatalf("after the request: records %+v, want the finished one 'requested'", recs)
			}
			if a := estate.ArgoAppOf(op, nil, time.Now()); !a.Operation.Pending || a.Operation.Phase != estate.ArgoPhaseRequested || a.Operation.InitiatedBy != user {
				t.Errorf("requested operation as estate reads it: %+v, want pending, requested by %s", a.Operation, user)
			}

			// The controller takes it up.
			started := time.Now().UTC().Truncate(time.Second)
			writeOperationState(t, map[string]any{"phase": "Running", "message": "one or more tasks are running",
				"startedAt": started.Format(time.RFC3339), "operation": requested})
			running := waitApp(t, "Running", func(u *unstructured.Unstructured) bool {
				ph, _, _ := unstructured.NestedString(u.Object, "status", "operationState", "phase")
				return ph == "Running"
			})
			a := estate.ArgoAppOf(running, nil, time.Now())
			if !a.Operation.Pending || a.Operation.Phase != "Running" || !a.Operation.StartedAt.Equal(started) || a.Operation.InitiatedBy != user {
				t.Errorf("running operation as estate reads it: %+v, want pending, Running since %s, by %s", a.Operation, started, user)
			}
			time.Sleep(1500 * time.Millisecond) // a poll or two of the pipeline sees it running
			if n := len(records(t, path)); n != 2 {
				t.Fatalf("while the operation runs: %d records, want 2 (no outcome yet)", n)
			}

			// The controller ends it: the result in operationState, .operation removed.
			writeOperationState(t, map[string]any{"phase": tc.phase, "message": tc.message, "startedAt": started.Format(time.RFC3339),
				"finishedAt": time.Now().UTC().Format(time.RFC3339), "operation": requested})
			u, err := apps.Get(ctxT(t, 10*time.Second), "fintech-app", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			unstructured.RemoveNestedField(u.Object, "operation")
			if _, err := apps.Update(ctxT(t, 10*time.Second), u, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}

			var xerr error
			select {
			case xerr = <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("the attempt did not end after the operation did")
			}
			if (xerr != nil) != tc.wantErr {
				t.Errorf("attempt error = %v, want an error: %v", xerr, tc.wantErr)
			}
			recs = records(t, path)
			if len(recs) != 3 {
				t.Fatalf("records %+v, want started, finished (requested), outcome", recs)
			}
			o := recs[2]
			if o.Phase != audit.PhaseOutcome || o.Result != tc.result || o.Attempt != recs[1].Attempt || o.User != user ||
				!strings.Contains(o.Answer, tc.phase) || !strings.Contains(o.Answer, tc.message) {
				t.Errorf("outcome record %+v, want %s with Argo CD's %s: %q", o, tc.result, tc.phase, tc.message)
			}
			if !strings.Contains(out.Result.Operation, tc.phase) {
				t.Errorf("Outcome.Result.Operation = %q, want the phase %s", out.Result.Operation, tc.phase)
			}
			if !hasPrefix(stages, "Argo CD operation Running") {
				t.Errorf("progress while waiting %q, want the Running phase reported", stages)
			}
			if a := estate.ArgoAppOf(mustGet(t, "fintech-app"), nil, time.Now()); a.Operation.Pending || a.Operation.Phase != tc.phase {
				t.Errorf("finished operation as estate reads it: %+v", a.Operation)
			}
		})
	}

	// Nobody runs it: after OperationWait the outcome is unknown, and the attempt no error.
	restoreOperation(t, "fintech-app", origState, hadState)
	p, path := pipeline(t, e, "local-1/argocd/fintech-app")
	if _, err := p.Execute(ctxT(t, 60*time.Second), actions.ArgoSync(e, spec.ArgoSyncParams{}), fintech, spec.Request{Reason: "CHG-8"}); err != nil {
		t.Fatalf("a sync whose operation gets no result in time: %v", err)
	}
	recs := records(t, path)
	if len(recs) != 3 || recs[1].Result != actions.ResultRequested || recs[2].Result != actions.ResultUnknown || !strings.Contains(recs[2].Error, "in time") {
		t.Errorf("records %+v, want requested, then unknown (no result in time)", recs)
	}
}

func hasPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func mustGet(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := env(t, "local-1").Dynamic.Resource(gvrApp).Namespace("argocd").Get(ctxT(t, 10*time.Second), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// waitApp polls fintech-app until ok.
func waitApp(t *testing.T, what string, ok func(*unstructured.Unstructured) bool) *unstructured.Unstructured {
	t.Helper()
	var u *unstructured.Unstructured
	err := clustertest.Eventually(30*time.Second, 100*time.Millisecond, func() (bool, error) {
		var err error
		u, err = env(t, "local-1").Dynamic.Resource(gvrApp).Namespace("argocd").Get(context.Background(), "fintech-app", metav1.GetOptions{})
		return err == nil && ok(u), err
	})
	if err != nil {
		t.Fatalf("fintech-app never showed %s: %v", what, err)
	}
	return u
}

func waitRecords(t *testing.T, path string, n int) {
	t.Helper()
	err := clustertest.Eventually(30*time.Second, 50*time.Millisecond, func() (bool, error) {
		recs, err := audit.ReadFile(path)
		return err == nil && len(recs) >= n, nil
	})
	if err != nil {
		t.Fatalf("the audit log never held %d records: %v", n, err)
	}
}

// writeOperationState writes fintech-app's status.operationState through the status
// subresource, as Argo CD's application controller would.
func writeOperationState(t *testing.T, state map[string]any) {
	t.Helper()
	apps := env(t, "local-1").Dynamic.Resource(gvrApp).Namespace("argocd")
	u, err := apps.Get(ctxT(t, 10*time.Second), "fintech-app", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedMap(u.Object, state, "status", "operationState"); err != nil {
		t.Fatal(err)
	}
	if _, err := apps.UpdateStatus(ctxT(t, 10*time.Second), u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// restoreOperation leaves name as the seed had it: no .operation, its operationState.
func restoreOperation(t *testing.T, name string, state map[string]any, had bool) {
	apps := env(t, "local-1").Dynamic.Resource(gvrApp).Namespace("argocd")
	u, err := apps.Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Errorf("restoring %s: %v", name, err)
		return
	}
	if _, set, _ := unstructured.NestedMap(u.Object, "operation"); set {
		unstructured.RemoveNestedField(u.Object, "operation")
		if u, err = apps.Update(context.Background(), u, metav1.UpdateOptions{}); err != nil {
			t.Errorf("restoring %s: %v", name, err)
			return
		}
	}
	if had {
		_ = unstructured.SetNestedMap(u.Object, state, "status", "operationState")
	} else {
		unstructured.RemoveNestedField(u.Object, "status", "operationState")
	}
	if _, err := apps.UpdateStatus(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		t.Errorf("restoring %s's operationState: %v", name, err)
	}
}
