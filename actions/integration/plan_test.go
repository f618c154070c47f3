package integration

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
)

// movingConfirmer answers like an operator, but only after someone else has
// changed the target: the time a person takes to read a preview.
type movingConfirmer struct {
	answer string
	move   func()
}

func (m movingConfirmer) Confirm(_ context.Context, _ spec.ConfirmRequest) (spec.Confirmation, error) {
	m.move()
	return spec.Confirmation{Answer: m.answer}, nil
}

// TestRollbackRefusedWhenTheTargetMovedSincePreview: a rollback previewed
// as "back to revision 2" is refused at execute when a rollout landed
// between the preview and the yes, instead of rolling back to whatever
// "previous" means now; nothing is written, and the audit log says why.
func TestRollbackRefusedWhenTheTargetMovedSincePreview(t *testing.T) {
	e := env(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	rolledOut(t, e.Kube, ns, "moving", img+"v1.2.1", img+"v1.2.2", img+"v1.2.3")
	p, path := pipeline(t, e, "")
	p.Confirmer = movingConfirmer{answer: "y", move: func() {
		patch := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"` + img + `v1.2.4"}]}}}}`)
		if _, err := e.Kube.AppsV1().Deployments(ns).Patch(context.Background(), "moving", types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Error(err)
		}
		waitRevision(t, e.Kube, ns, "moving", "4")
	}}
	target := spec.Object{Kind: spec.KindDeployment, Namespace: ns, Name: "moving"}
	out, err := p.Execute(ctxT(t, 60*time.Second), actions.Rollback(e, spec.RollbackParams{}), target, spec.Request{Reason: "INC-7"})
	if !errors.Is(err, spec.ErrChangedSincePreview) {
		t.Fatalf("rollback after the target moved: err %v, want %v (preview %q)", err, spec.ErrChangedSincePreview, out.Preview.Summary)
	}
	if !strings.Contains(out.Preview.Summary, "revision 2") {
		t.Errorf("previewed %q, want revision 2", out.Preview.Summary)
	}
	d, gerr := e.Kube.AppsV1().Deployments(ns).Get(context.Background(), "moving", metav1.GetOptions{})
	if gerr != nil {
		t.Fatal(gerr)
	}
	if got := d.Spec.Template.Spec.Containers[0].Image; got != img+"v1.2.4" || d.Annotations["deployment.kubernetes.io/revision"] != "4" {
		t.Fatalf("the refused rollback changed the Deployment: image %s revision %s", got, d.Annotations["deployment.kubernetes.io/revision"])
	}
	recs := records(t, path)
	last := recs[len(recs)-1]
	if last.Phase != audit.PhaseFinished || last.Result != "failed" || !strings.Contains(last.Error, "changed since the preview") {
		t.Fatalf("audit %+v", recs)
	}
}

// TestNamespacelessSilenceIsProtected: a silence whose matchers pin no
// namespace silences production everywhere, so a plain "yes" is refused
// and only the typed target creates it, in the real Alertmanager, with
// exactly the matchers previewed.
func TestNamespacelessSilenceIsProtected(t *testing.T) {
	prom, err := lc.StartPrometheus(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prom.Stop)
	e := env(t, "local-1")
	if e.Alertmanager, err = actions.NewAlertmanagerClient(prom.AlertmanagerURL, nil); err != nil {
		t.Fatal(err)
	}
	target := spec.Object{Kind: spec.KindAlert, Name: "PaymentServiceDown"}
	a := actions.SilenceAlert(e, spec.SilenceParams{Duration: time.Hour, Labels: map[string]string{"severity": "critical"}})
	p, path := pipeline(t, e, "yes")
	if _, err = p.Execute(ctxT(t, 30*time.Second), a, target, spec.Request{Reason: "INC-9"}); !errors.Is(err, spec.ErrNotConfirmed) {
		t.Fatalf("a plain yes for a namespace-less silence: err %v, want not confirmed", err)
	}
	if recs := records(t, path); len(recs) != 1 || recs[0].Result != "refused" {
		t.Fatalf("audit after the refusal %+v", recs)
	}
	p, path = pipeline(t, e, "local-1/PaymentServiceDown")
	out, err := p.Execute(ctxT(t, 30*time.Second), a, target, spec.Request{Reason: "INC-9"})
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(out.Result.Message, "silence "), " created")
	s, err := e.Alertmanager.Silence(ctxT(t, 10*time.Second), id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range s.Matchers {
		got = append(got, "matcher "+*m.Name+"="+*m.Value)
	}
	if strings.Join(got, ",") != strings.Join(out.Preview.Plan, ",") {
		t.Errorf("created matchers %v, previewed plan %v", got, out.Preview.Plan)
	}
	// The record says what ran, what Alertmanager answered and what was verified.
	recs := records(t, path)
	fin := recs[len(recs)-1]
	if fin.Phase != audit.PhaseFinished || strings.Join(fin.Plan, ",") != strings.Join(got, ",") ||
		fin.Answer != "silence "+id+" created" || !strings.Contains(fin.Verified, "silence "+id+" is active") {
		t.Errorf("finished record %+v, want the plan %v, the answer and the verification", fin, got)
	}
}

// TestArgoRefusesWhatArgoServerRefuses: under auto-sync a sync to another
// revision than the target is refused with argocd-server's own words, and
// an application deploying to another cluster is judged protected (its
// namespaces there cannot be checked from here): a plain yes is refused.
func TestArgoRefusesWhatArgoServerRefuses(t *testing.T) {
	e := env(t, "local-1")
	p, _ := pipeline(t, e, "local-1/argocd/fintech-app")
	fintech := spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: "fintech-app"}
	_, err := p.Execute(ctxT(t, 10*time.Second), actions.ArgoSync(e, spec.ArgoSyncParams{Revision: "0123abc"}), fintech, spec.Request{Reason: "INC-2"})
	if err == nil || !strings.Contains(err.Error(), "cannot sync to 0123abc: auto-sync currently set to") {
		t.Fatalf("sync of an auto-synced app to another revision: %v", err)
	}
	if op, _ := operationOf(t, e, "fintech-app"); op != nil {
		t.Fatal("a refused sync set an operation on fintech-app")
	}

	proj := "vigil-open-" + rand.String(5)
	projects := e.Dynamic.Resource(gvrProj).Namespace("argocd")
	pr := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
		"metadata": map[string]any{"name": proj, "namespace": "argocd"},
		"spec":     map[string]any{"sourceRepos": []any{"*"}, "destinations": []any{map[string]any{"namespace": "*", "server": "*"}}}}}
	if _, err = projects.Create(ctxT(t, 10*time.Second), pr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = projects.Delete(ctxT(t, 10*time.Second), proj, metav1.DeleteOptions{}) })
	name := testApp(t, e, proj)
	apps := e.Dynamic.Resource(gvrApp).Namespace("argocd")
	u, err := apps.Get(ctxT(t, 10*time.Second), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// fintech-staging is not production here; on the remote cluster nobody knows.
	if err := unstructured.SetNestedField(u.Object, "https://prod-eu.example:6443", "spec", "destination", "server"); err != nil {
		t.Fatal(err)
	}
	if _, err := apps.Update(ctxT(t, 10*time.Second), u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	target := spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: name}
	p, _ = pipeline(t, e, "yes")
	if _, err := p.Execute(ctxT(t, 10*time.Second), actions.ArgoSync(e, spec.ArgoSyncParams{}), target, spec.Request{Reason: "INC-3"}); !errors.Is(err, spec.ErrNotConfirmed) {
		t.Fatalf("sync of a remote-destination app on a plain yes: %v, want not confirmed", err)
	}
	if op, _ := operationOf(t, e, name); op != nil {
		t.Fatal("a refused sync set an operation")
	}
}

// TestArgoSyncRefusedWhenTheAppMovedSincePreview: the operation previewed
// is the one set; when the application's spec changes between the preview
// and the yes (another target revision), the sync is refused, not rebuilt.
func TestArgoSyncRefusedWhenTheAppMovedSincePreview(t *testing.T) {
	e := env(t, "local-1")
	proj := "vigil-move-" + rand.String(5)
	projects := e.Dynamic.Resource(gvrProj).Namespace("argocd")
	pr := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
		"metadata": map[string]any{"name": proj, "namespace": "argocd"},
		"spec":     map[string]any{"sourceRepos": []any{"*"}, "destinations": []any{map[string]any{"namespace": "*", "server": "*"}}}}}
	if _, err := projects.Create(ctxT(t, 10*time.Second), pr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = projects.Delete(ctxT(t, 10*time.Second), proj, metav1.DeleteOptions{}) })
	name := testApp(t, e, proj)
	apps := e.Dynamic.Resource(gvrApp).Namespace("argocd")
	p, path := pipeline(t, e, "")
	p.Confirmer = movingConfirmer{answer: "y", move: func() {
		u, err := apps.Get(context.Background(), name, metav1.GetOptions{})
		if err == nil {
			_ = unstructured.SetNestedField(u.Object, "release-2", "spec", "source", "targetRevision")
			_, err = apps.Update(context.Background(), u, metav1.UpdateOptions{})
		}
		if err != nil {
			t.Error(err)
		}
	}}
	target := spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: name}
	out, err := p.Execute(ctxT(t, 30*time.Second), actions.ArgoSync(e, spec.ArgoSyncParams{}), target, spec.Request{Reason: "INC-4"})
	if !errors.Is(err, spec.ErrChangedSincePreview) {
		t.Fatalf("sync after the app moved: %v, want %v (preview %q)", err, spec.ErrChangedSincePreview, out.Preview.Summary)
	}
	if op, _ := operationOf(t, e, name); op != nil {
		t.Fatalf("a refused sync set an operation: %v", op)
	}
	if recs := records(t, path); recs[len(recs)-1].Result != "failed" {
		t.Fatalf("audit %+v", recs)
	}
}
