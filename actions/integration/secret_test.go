package integration

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
)

var gvrES = schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"}

func externalSecret(t *testing.T, e *actions.Env, ns, name, secret string) {
	t.Helper()
	es := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{"refreshInterval": "5m",
			"secretStoreRef": map[string]any{"name": "vault-backend", "kind": "SecretStore"},
			"target":         map[string]any{"name": secret, "creationPolicy": "Owner"},
			"data": []any{map[string]any{"secretKey": "stripe-secret-key",
				"remoteRef": map[string]any{"key": "payment-service", "property": "stripe-secret-key"}}}},
	}}
	res := e.Dynamic.Resource(gvrES).Namespace(ns)
	created, err := res.Create(ctxT(t, 10*time.Second), es, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Object["status"] = map[string]any{"refreshTime": "2026-11-26T17:55:12Z", "binding": map[string]any{"name": secret}}
	if _, err := res.UpdateStatus(ctxT(t, 10*time.Second), created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// fakeESO plays the External Secrets Operator (none runs locally): when an ExternalSecret's
// force-sync annotation changes it writes a new status.refreshTime through the status
// subresource. It returns how many refreshes it did.
func fakeESO(ctx context.Context, t *testing.T, e *actions.Env, ns, name string) *atomic.Int32 {
	var n atomic.Int32
	res := e.Dynamic.Resource(gvrES).Namespace(ns)
	go func() {
		seen := ""
		for ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
			u, err := res.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				continue
			}
			ann := u.GetAnnotations()[actions.ForceSyncAnnotation]
			if ann == "" || ann == seen {
				continue
			}
			time.Sleep(300 * time.Millisecond) // a controller takes a moment
			_ = unstructured.SetNestedField(u.Object, time.Now().UTC().Format(time.RFC3339), "status", "refreshTime")
			if _, err := res.UpdateStatus(ctx, u, metav1.UpdateOptions{}); err == nil {
				seen = ann
				n.Add(1)
			}
		}
	}()
	return &n
}

// TestSecretRefresh: the force-sync annotation lands, the wait completes when the (test's)
// controller moves status.refreshTime, and the consumer of the target Secret is restarted.
func TestSecretRefresh(t *testing.T) {
	e := env(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	externalSecret(t, e, ns, "payment-service-secrets", "payment-secrets")
	rolledOut(t, e.Kube, ns, "consumer", img+"v1.2.3")
	rolledOut(t, e.Kube, ns, "bystander", img+"v1.2.3")
	patch := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"app","envFrom":[{"secretRef":{"name":"payment-secrets"}}]}]}}}}`)
	if _, err := e.Kube.AppsV1().Deployments(ns).Patch(ctxT(t, 10*time.Second), "consumer", "application/strategic-merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRevision(t, e.Kube, ns, "consumer", "2")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	refreshes := fakeESO(ctx, t, e, ns, "payment-service-secrets")

	p, path := pipeline(t, e, "y")
	var progress []string
	target := spec.Object{Kind: spec.KindExternalSecret, Namespace: ns, Name: "payment-service-secrets"}
	out, err := p.Execute(ctxT(t, 60*time.Second), actions.RefreshSecret(e, spec.SecretRefreshParams{Timeout: 20 * time.Second, RestartConsumers: true}),
		target, spec.Request{Reason: "INC-7", Progress: func(ev spec.Progress) { progress = append(progress, ev.Message) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("preview:\n%s\nprogress: %q", out.Preview, progress)
	if !strings.Contains(out.Preview.String(), "deployment/"+ns+"/consumer will be restarted") || strings.Contains(out.Preview.String(), "bystander") {
		t.Errorf("preview does not list exactly the consumer: %s", out.Preview)
	}
	u, _ := e.Dynamic.Resource(gvrES).Namespace(ns).Get(ctxT(t, 10*time.Second), "payment-service-secrets", metav1.GetOptions{})
	stamp := u.GetAnnotations()[actions.ForceSyncAnnotation]
	if stamp == "" || refreshes.Load() != 1 {
		t.Fatalf("annotation %q, refreshes %d", stamp, refreshes.Load())
	}
	if rt, _, _ := unstructured.NestedString(u.Object, "status", "refreshTime"); rt == "2026-11-26T17:55:12Z" {
		t.Fatal("refreshTime did not move")
	}
	if !strings.Contains(strings.Join(progress, "\n"), "refreshed at") || !strings.Contains(strings.Join(progress, "\n"), "restarted deployment/"+ns+"/consumer") {
		t.Errorf("progress %q", progress)
	}
	c := waitRevision(t, e.Kube, ns, "consumer", "3")
	if c.Spec.Template.Annotations[actions.RestartedAtAnnotation] == "" {
		t.Error("the consumer was not restarted")
	}
	b, _ := e.Kube.AppsV1().Deployments(ns).Get(ctxT(t, 10*time.Second), "bystander", metav1.GetOptions{})
	if b.Spec.Template.Annotations[actions.RestartedAtAnnotation] != "" {
		t.Error("a workload that does not use the Secret was restarted")
	}
	if recs := records(t, path); len(recs) != 2 || recs[1].Result != "succeeded" {
		t.Fatalf("audit %+v", recs)
	}
	if len(out.FollowUps.Offers) != 0 {
		t.Errorf("consumers restarted, yet offered again: %+v", out.FollowUps)
	}

	// Without restarting, the outcome offers the restart of exactly the consumer (the
	// Deployment this test made read the Secret), for the operator to pick.
	time.Sleep(1100 * time.Millisecond) // force-sync and refreshTime count whole seconds
	out, err = p.Execute(ctxT(t, 60*time.Second), actions.RefreshSecret(e, spec.SecretRefreshParams{Timeout: 20 * time.Second}), target, spec.Request{Reason: "INC-7"})
	if err != nil {
		t.Fatal(err)
	}
	want := []spec.Offer{{Title: "Restart consumer", Params: spec.RestartParams{}, Object: spec.Object{Kind: spec.KindDeployment, Namespace: ns, Name: "consumer"}}}
	if !reflect.DeepEqual(out.FollowUps.Offers, want) || !strings.Contains(out.FollowUps.Title, target.String()) {
		t.Errorf("follow-ups %+v, want %+v", out.FollowUps, want)
	}
}

// TestSecretRefreshTimesOut: with no controller the annotation still lands, the wait gives up
// after the timeout and the attempt is recorded as failed.
func TestSecretRefreshTimesOut(t *testing.T) {
	e := env(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	externalSecret(t, e, ns, "orphan", "orphan-secret")
	p, path := pipeline(t, e, "y")
	start := time.Now()
	_, err := p.Execute(ctxT(t, 30*time.Second), actions.RefreshSecret(e, spec.SecretRefreshParams{Timeout: 2 * time.Second, Interval: 200 * time.Millisecond}),
		spec.Object{Kind: spec.KindExternalSecret, Namespace: ns, Name: "orphan"}, spec.Request{})
	if err == nil || !strings.Contains(err.Error(), "did not move within 2s") || !strings.Contains(err.Error(), "External Secrets Operator running") {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d < 2*time.Second || d > 10*time.Second {
		t.Errorf("gave up after %s", d)
	}
	u, _ := e.Dynamic.Resource(gvrES).Namespace(ns).Get(ctxT(t, 10*time.Second), "orphan", metav1.GetOptions{})
	if u.GetAnnotations()[actions.ForceSyncAnnotation] == "" {
		t.Error("the force-sync annotation did not land")
	}
	recs := records(t, path)
	if last := recs[len(recs)-1]; last.Phase != audit.PhaseFinished || last.Result != "failed" || last.Stage != "execute" {
		t.Fatalf("audit %+v", last)
	}
}

// TestClusterExternalSecretRefresh: a ClusterExternalSecret takes the
// external-secrets.io/force-sync annotation (the seeded registry-pull-credentials, local-2).
// It provisions into fintech-prod, so it needs the typed target.
func TestClusterExternalSecretRefresh(t *testing.T) {
	e := env(t, "local-2")
	p, _ := pipeline(t, e, "yes")
	target := spec.Object{Kind: spec.KindClusterExternalSecret, Name: "registry-pull-credentials"}
	if _, err := p.Execute(ctxT(t, 30*time.Second), actions.RefreshSecret(e, spec.SecretRefreshParams{}), target, spec.Request{Reason: "CHG-3"}); !errors.Is(err, spec.ErrNotConfirmed) {
		t.Fatalf("yes for a ClusterExternalSecret provisioning into fintech-prod: %v", err)
	}
	p.Confirmer = actions.PresetConfirmer{Answer: "local-2/registry-pull-credentials"}
	out, err := p.Execute(ctxT(t, 30*time.Second), actions.RefreshSecret(e, spec.SecretRefreshParams{}), target, spec.Request{Reason: "CHG-3"})
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "clusterexternalsecrets"}
	u, err := e.Dynamic.Resource(gvr).Get(ctxT(t, 10*time.Second), "registry-pull-credentials", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if stamp := u.GetAnnotations()[actions.ClusterForceSyncAnnotation]; stamp == "" || !strings.Contains(out.Result.Verified, stamp) {
		t.Fatalf("annotation %q, result %+v", stamp, out.Result)
	}
}
