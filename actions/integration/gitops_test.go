package integration

import (
	"errors"
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/gitops"
)

var fintechApp = actions.Target{Kind: actions.KindApplication, Namespace: "argocd", Name: "fintech-app"}

// readApp reads an Application back with client-go's dynamic client.
func readApp(t *testing.T, e *actions.Env, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := e.Dynamic.Resource(gvrApp).Namespace("argocd").Get(ctxT(t, 10*time.Second), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// restoreApp puts the Application's spec and annotations back as they were when the test
// started, whatever the test left behind, so the seeded fintech-app stays automated for the
// other tests.
func restoreApp(t *testing.T, e *actions.Env, name string) {
	t.Helper()
	orig := readApp(t, e, name)
	t.Cleanup(func() {
		u := readApp(t, e, name)
		u.Object["spec"] = orig.Object["spec"]
		u.SetAnnotations(orig.GetAnnotations())
		if _, err := e.Dynamic.Resource(gvrApp).Namespace("argocd").Update(ctxT(t, 10*time.Second), u, metav1.UpdateOptions{}); err != nil {
			t.Errorf("restoring application %s: %v", name, err)
		}
	})
}

// argoSetSyncPolicyNone is what `argocd app set APP --sync-policy none` does to a spec, written
// from Argo CD's cmd/util (SetAppSpecOptions: Automated = nil; a SyncPolicy that IsZero —
// no automated, syncOptions, retry or managedNamespaceMetadata — becomes nil), on a copy of
// the JSON spec.
func argoSetSyncPolicyNone(spec map[string]any) map[string]any {
	out := deepCopyJSON(spec)
	sp, ok := out["syncPolicy"].(map[string]any)
	if !ok {
		return out
	}
	delete(sp, "automated")
	opts, _ := sp["syncOptions"].([]any)
	if sp["retry"] == nil && sp["managedNamespaceMetadata"] == nil && len(opts) == 0 {
		delete(out, "syncPolicy")
	}
	return out
}

func deepCopyJSON(m map[string]any) map[string]any {
	return runtimeDeepCopy(m)
}

func runtimeDeepCopy(m map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: map[string]any{"x": m}}).DeepCopy().Object["x"].(map[string]any)
}

// TestSuspendAndResumeAutoSyncAsArgoCDDoes: suspending the seeded fintech-app's automated
// sync changes its spec exactly as `argocd app set fintech-app --sync-policy none` would
// (spec.syncPolicy keeps its syncOptions and retry), records who, why and until when, and
// re-enabling restores the spec as it was, byte for byte. An app whose syncPolicy held only
// automated loses syncPolicy altogether, as Argo CD's IsZero rule says.
func TestSuspendAndResumeAutoSyncAsArgoCDDoes(t *testing.T) {
	e := env(t, "local-1")
	user, err := e.User(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	restoreApp(t, e, "fintech-app")
	before := readApp(t, e, "fintech-app")
	p, path := pipeline(t, e, "local-1/argocd/fintech-app")

	start := time.Now()
	out, err := p.Execute(ctxT(t, 30*time.Second), actions.SuspendAutoSync(e, actions.SuspendAutoSyncParams{For: 47 * time.Minute}), fintechApp, actions.Request{Reason: "INC-7: payment-service v1.2.3 5xx"})
	if err != nil {
		t.Fatalf("suspend: %v\n%s", err, out.Preview)
	}
	t.Logf("preview:\n%s", out.Preview)
	after := readApp(t, e, "fintech-app")
	if want := argoSetSyncPolicyNone(before.Object["spec"].(map[string]any)); !reflect.DeepEqual(after.Object["spec"], want) {
		t.Fatalf("spec after suspend\n got  %v\n want %v", after.Object["spec"], want)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(after.Object, "spec", "syncPolicy", "retry"); !found {
		t.Fatal("spec.syncPolicy.retry was dropped")
	}
	s := gitops.SuspensionOf(after.GetAnnotations())
	wantSaved := before.Object["spec"].(map[string]any)["syncPolicy"].(map[string]any)["automated"]
	if s == nil || !reflect.DeepEqual(s.Saved, wantSaved) || s.By != user || s.Reason != "INC-7: payment-service v1.2.3 5xx" {
		t.Fatalf("suspension annotations %v", after.GetAnnotations())
	}
	if d := s.Until.Sub(start); d < 46*time.Minute || d > 48*time.Minute {
		t.Errorf("until %s is %s after the start, want 47m", s.Until, d)
	}
	// Every other annotation is untouched.
	for k, v := range before.GetAnnotations() {
		if after.GetAnnotations()[k] != v {
			t.Errorf("annotation %s changed", k)
		}
	}

	// A second suspension is refused; so is a resume by someone in read-only mode.
	if d := actions.SuspendAutoSync(e, actions.SuspendAutoSyncParams{For: time.Hour}).Disabled(ctxT(t, 10*time.Second), fintechApp); d == "" {
		t.Error("a second suspension was allowed")
	}
	ro := env(t, "local-1")
	ro.ReadOnly = true
	rp, _ := pipeline(t, ro, "local-1/argocd/fintech-app")
	_, err = rp.Execute(ctxT(t, 10*time.Second), actions.ResumeAutoSync(ro), fintechApp, actions.Request{Reason: "x"})
	var re *actions.RefusedError
	if !errors.As(err, &re) || re.Stage != actions.StageReadOnly {
		t.Fatalf("read-only resume: %v", err)
	}

	if _, err := p.Execute(ctxT(t, 30*time.Second), actions.ResumeAutoSync(e), fintechApp, actions.Request{Reason: "INC-7: fixed in Git"}); err != nil {
		t.Fatalf("resume: %v", err)
	}
	resumed := readApp(t, e, "fintech-app")
	if !reflect.DeepEqual(resumed.Object["spec"], before.Object["spec"]) {
		t.Fatalf("spec after resume\n got  %v\n want %v", resumed.Object["spec"], before.Object["spec"])
	}
	if !reflect.DeepEqual(resumed.GetAnnotations(), before.GetAnnotations()) {
		t.Fatalf("annotations after resume %v, want %v", resumed.GetAnnotations(), before.GetAnnotations())
	}
	recs := records(t, path)
	if len(recs) != 4 || recs[1].Action != "argo-suspend-auto-sync" || recs[1].Result != "succeeded" || recs[3].Action != "argo-resume-auto-sync" || recs[3].Result != "succeeded" {
		t.Fatalf("audit %+v", recs)
	}

	// syncPolicy: {automated: …} alone goes away entirely (SyncPolicy.IsZero).
	name := "vigil-suspend-" + rand.String(5)
	apps := e.Dynamic.Resource(gvrApp).Namespace("argocd")
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": name, "namespace": "argocd"},
		"spec": map[string]any{"project": "fintech-project",
			"source":      map[string]any{"repoURL": repo, "targetRevision": "main", "path": "overlays/production"},
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": "fintech-staging"},
			"syncPolicy":  map[string]any{"automated": map[string]any{"selfHeal": true}}},
	}}
	if _, err := apps.Create(ctxT(t, 10*time.Second), app, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = apps.Delete(ctxT(t, 10*time.Second), name, metav1.DeleteOptions{}) })
	before = readApp(t, e, name)
	target := actions.Target{Kind: actions.KindApplication, Namespace: "argocd", Name: name}
	p2, _ := pipeline(t, e, "yes")
	if _, err := p2.Execute(ctxT(t, 30*time.Second), actions.SuspendAutoSync(e, actions.SuspendAutoSyncParams{For: time.Hour}), target, actions.Request{Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	after = readApp(t, e, name)
	if _, found := after.Object["spec"].(map[string]any)["syncPolicy"]; found {
		t.Fatalf("spec.syncPolicy should be gone, spec %v", after.Object["spec"])
	}
	if want := argoSetSyncPolicyNone(before.Object["spec"].(map[string]any)); !reflect.DeepEqual(after.Object["spec"], want) {
		t.Fatalf("spec after suspend\n got  %v\n want %v", after.Object["spec"], want)
	}
	if _, err := p2.Execute(ctxT(t, 30*time.Second), actions.ResumeAutoSync(e), target, actions.Request{Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	if got := readApp(t, e, name); !reflect.DeepEqual(got.Object["spec"], before.Object["spec"]) {
		t.Fatalf("spec after resume %v, want %v", got.Object["spec"], before.Object["spec"])
	}
}
