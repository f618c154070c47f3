package integration

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
)

var (
	gvrApp  = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	gvrProj = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "appprojects"}
)

const repo = "https://github.com/company/fintech-k8s-manifests"

// testApp creates a manual-sync Application in argocd (project proj), with a finished
// operationState and a two-entry history written through the status subresource, as Argo
// CD's controller would have left it.
func testApp(t *testing.T, e *actions.Env, proj string) string {
	t.Helper()
	name := "vigil-test-" + rand.String(5)
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": name, "namespace": "argocd"},
		"spec": map[string]any{
			"project":     proj,
			"source":      map[string]any{"repoURL": repo, "targetRevision": "develop", "path": "overlays/staging"},
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": "fintech-staging"},
			"syncPolicy":  map[string]any{"syncOptions": []any{"CreateNamespace=true"}},
		},
	}}
	apps := e.Dynamic.Resource(gvrApp).Namespace("argocd")
	created, err := apps.Create(ctxT(t, 10*time.Second), app, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = apps.Delete(ctxT(t, 10*time.Second), name, metav1.DeleteOptions{}) })
	created.Object["status"] = map[string]any{
		"sync": map[string]any{"status": "OutOfSync", "revision": "0f9ac7de18c374c0e46ae60898bc72c60c3a48f5"},
		"history": []any{
			map[string]any{"id": int64(0), "revision": "f558d93453d1d52762007fd34a56b52a0bb60290", "deployedAt": "2026-11-26T15:41:55Z",
				"source": map[string]any{"repoURL": repo, "targetRevision": "develop", "path": "overlays/staging"}},
			map[string]any{"id": int64(1), "revision": "0f9ac7de18c374c0e46ae60898bc72c60c3a48f5", "deployedAt": "2026-11-26T16:00:00Z",
				"source": map[string]any{"repoURL": repo, "targetRevision": "develop", "path": "overlays/staging"}},
		},
		"operationState": map[string]any{"phase": "Succeeded", "message": "successfully synced (all tasks run)", "startedAt": "2026-11-26T16:00:00Z", "finishedAt": "2026-11-26T16:00:12Z",
			"operation": map[string]any{"sync": map[string]any{"revision": "0f9ac7de18c374c0e46ae60898bc72c60c3a48f5"}}},
	}
	if _, err := apps.UpdateStatus(ctxT(t, 10*time.Second), created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	return name
}

func operationOf(t *testing.T, e *actions.Env, name string) (op map[string]any, opState bool) {
	t.Helper()
	u, err := e.Dynamic.Resource(gvrApp).Namespace("argocd").Get(ctxT(t, 10*time.Second), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	op, _, _ = unstructured.NestedMap(u.Object, "operation")
	_, opState, _ = unstructured.NestedFieldNoCopy(u.Object, "status", "operationState")
	return op, opState
}

// asJSON is the canonical JSON of v, for comparing what Argo CD's server would write (built
// from its Go types' JSON tags) with what is stored.
func asJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// TestArgoSyncAndRollbackWriteWhatArgoServerWrites checks the stored .operation against the
// operation argocd-server's Sync and Rollback build (server/application/application.go) and
// SetAppOperation stores, field by field.
func TestArgoSyncAndRollbackWriteWhatArgoServerWrites(t *testing.T) {
	e := env(t, "local-1")
	user, err := e.User(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	name := testApp(t, e, "fintech-project")
	target := spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: name}
	p, path := pipeline(t, e, "yes")
	const sha = "f558d93453d1d52762007fd34a56b52a0bb60290"
	out, err := p.Execute(ctxT(t, 30*time.Second), actions.ArgoSync(e, spec.ArgoSyncParams{Revision: sha, Prune: true}), target, spec.Request{Reason: "CHG-42"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("preview:\n%s", out.Preview)
	op, opState := operationOf(t, e, name)
	// Sync: Operation{Sync: &SyncOperation{Source: &spec.source, Revision, Prune, SyncOptions:
	// spec.syncPolicy.syncOptions}, InitiatedBy: {Username}} with Retry zero → "retry": {}.
	want := asJSON(t, map[string]any{
		"sync": map[string]any{"revision": sha, "prune": true, "syncOptions": []string{"CreateNamespace=true"},
			"source": map[string]any{"repoURL": repo, "targetRevision": "develop", "path": "overlays/staging"}},
		"initiatedBy": map[string]any{"username": user},
		"retry":       map[string]any{},
	})
	if !reflect.DeepEqual(asJSON(t, op), want) {
		t.Fatalf("sync operation\n got  %v\n want %v", asJSON(t, op), want)
	}
	if opState {
		t.Error("status.operationState was not cleared")
	}

	// While the operation is set, another one is refused (SetAppOperation's check).
	a := actions.ArgoSync(e, spec.ArgoSyncParams{})
	if d := a.Disabled(ctxT(t, 10*time.Second), target); !strings.Contains(d, "another operation is already in progress") || !strings.Contains(d, user) {
		t.Errorf("Disabled while an operation runs = %q", d)
	}

	// The controller finishes: .operation goes away.
	u, _ := e.Dynamic.Resource(gvrApp).Namespace("argocd").Get(ctxT(t, 10*time.Second), name, metav1.GetOptions{})
	unstructured.RemoveNestedField(u.Object, "operation")
	if _, err := e.Dynamic.Resource(gvrApp).Namespace("argocd").Update(ctxT(t, 10*time.Second), u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Rollback to history 0: Operation{Sync: {Revision: h.revision, SyncOptions, SyncStrategy:
	// {apply: {}}, Source: &h.source}, InitiatedBy: {Username}}.
	if _, err := p.Execute(ctxT(t, 30*time.Second), actions.ArgoRollback(e, spec.ArgoRollbackParams{ID: 0}), target, spec.Request{}); err != nil {
		t.Fatal(err)
	}
	op, _ = operationOf(t, e, name)
	want = asJSON(t, map[string]any{
		"sync": map[string]any{"revision": sha, "syncOptions": []string{"CreateNamespace=true"}, "syncStrategy": map[string]any{"apply": map[string]any{}},
			"source": map[string]any{"repoURL": repo, "targetRevision": "develop", "path": "overlays/staging"}},
		"initiatedBy": map[string]any{"username": user},
		"retry":       map[string]any{},
	})
	if !reflect.DeepEqual(asJSON(t, op), want) {
		t.Fatalf("rollback operation\n got  %v\n want %v", asJSON(t, op), want)
	}
	// Each is recorded as requested; no controller runs them, so their outcome is unknown.
	if recs := records(t, path); len(recs) != 6 || recs[1].Result != actions.ResultRequested || recs[2].Phase != audit.PhaseOutcome ||
		recs[2].Result != actions.ResultUnknown || recs[4].Action != "argo-rollback" || recs[4].Result != actions.ResultRequested {
		t.Fatalf("audit %+v", recs)
	}
}

// TestArgoRefusals: the seeded fintech-app has automated sync, so rollback is refused as
// Argo CD refuses it; a project with an active deny window refuses a sync (manualSync off)
// and lets it through when manualSync is on; a missing history id is refused.
func TestArgoRefusals(t *testing.T) {
	e := env(t, "local-1")
	p, _ := pipeline(t, e, "local-1/argocd/fintech-app")
	fintech := spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: "fintech-app"}
	rb := actions.ArgoRollback(e, spec.ArgoRollbackParams{ID: 1})
	if d := rb.Disabled(ctxT(t, 10*time.Second), fintech); d != "auto-sync is on: rollback cannot be initiated when auto-sync is enabled" {
		t.Errorf("rollback of fintech-app: Disabled = %q", d)
	}
	_, err := p.Execute(ctxT(t, 10*time.Second), rb, fintech, spec.Request{Reason: "INC-1"})
	var re *spec.RefusedError
	if !errors.As(err, &re) || re.Stage != spec.StagePreconditions {
		t.Errorf("rollback of fintech-app: %v", err)
	}
	if op, _ := operationOf(t, e, "fintech-app"); op != nil {
		t.Fatal("a refused rollback set an operation on fintech-app")
	}

	// A project whose deny window is open right now.
	proj := "vigil-freeze-" + rand.String(5)
	projects := e.Dynamic.Resource(gvrProj).Namespace("argocd")
	window := map[string]any{"kind": "deny", "schedule": "* * * * *", "duration": "1h", "applications": []any{"*"}, "manualSync": false}
	pr := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
		"metadata": map[string]any{"name": proj, "namespace": "argocd"},
		"spec": map[string]any{"sourceRepos": []any{"*"}, "destinations": []any{map[string]any{"namespace": "*", "server": "*"}},
			"syncWindows": []any{window}}}}
	if _, err := projects.Create(ctxT(t, 10*time.Second), pr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = projects.Delete(ctxT(t, 10*time.Second), proj, metav1.DeleteOptions{}) })
	name := testApp(t, e, proj)
	target := spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: name}
	sync := actions.ArgoSync(e, spec.ArgoSyncParams{})
	if d := sync.Disabled(ctxT(t, 10*time.Second), target); !strings.HasPrefix(d, `sync window closed: deny window "* * * * *" for 1h`) {
		t.Errorf("deny window: Disabled = %q", d)
	}
	// manualSync on the deny window lets a manual sync through.
	u, _ := projects.Get(ctxT(t, 10*time.Second), proj, metav1.GetOptions{})
	window["manualSync"] = true
	_ = unstructured.SetNestedSlice(u.Object, []any{window}, "spec", "syncWindows")
	if _, err := projects.Update(ctxT(t, 10*time.Second), u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if d := sync.Disabled(ctxT(t, 10*time.Second), target); d != "" {
		t.Errorf("deny window with manualSync: Disabled = %q", d)
	}
	if d := actions.ArgoRollback(e, spec.ArgoRollbackParams{ID: 7}).Disabled(ctxT(t, 10*time.Second), target); !strings.Contains(d, "does not have deployment with id 7") {
		t.Errorf("missing history id: %q", d)
	}
}
