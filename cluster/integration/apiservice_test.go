package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// TestBrokenAggregatedAPIDegradesOneKind: an APIService for
// monitoring.coreos.com/v1 whose Service does not exist (a dead metrics
// adapter) makes the API server answer 503 for that group. A session then
// says connected, reports PrometheusRules unknown with the reason (the
// resource's state, a problem, and the checks that need it), and keeps
// receiving live updates of deployments.
func TestBrokenAggregatedAPIDegradesOneKind(t *testing.T) {
	const ctxName = "local-1"
	cfg, err := lc.RESTConfig(ctxName)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	apiServices := dyn.Resource(schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"})
	as := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": "v1.monitoring.coreos.com"},
		"spec": map[string]any{
			"group": "monitoring.coreos.com", "version": "v1", "insecureSkipTLSVerify": true,
			"groupPriorityMinimum": int64(1000), "versionPriority": int64(15),
			"service": map[string]any{"namespace": "default", "name": "no-such-metrics-adapter", "port": int64(443)},
		},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err = apiServices.Create(ctx, as, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer dcancel()
		_ = apiServices.Delete(dctx, "v1.monitoring.coreos.com", metav1.DeleteOptions{})
	})
	// The independent truth: the API server's own discovery answer for the group.
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var discErr error
	if err = clustertest.Eventually(30*time.Second, 200*time.Millisecond, func() (bool, error) {
		_, discErr = disc.ServerResourcesForGroupVersion("monitoring.coreos.com/v1")
		return discErr != nil && strings.Contains(discErr.Error(), "unable to handle the request"), nil
	}); err != nil {
		t.Fatalf("the broken APIService never made discovery of monitoring.coreos.com/v1 fail (last: %v)", discErr)
	}

	ns := lc.Namespace(t, ctxName)
	s := start(t, ctxName, func(o *cluster.Options) {
		o.Namespaces = []string{ns, "fintech-prod"}
		o.Settings = config.Default().For(ctxName)
	})
	snap := waitSnap(t, s, 90*time.Second, "synced with prometheusrules failing", func(snap estate.Snapshot) bool {
		return snap.Synced && resource(snap, checks.ResPrometheusRules).Access == estate.AccessFailing && !snap.Findings.At.IsZero()
	})
	if !snap.Conn.Connected || snap.Conn.Reason != "" {
		t.Errorf("Conn = %+v, want connected: one broken aggregated API is not the connection", snap.Conn)
	}
	r := resource(snap, checks.ResPrometheusRules)
	if !strings.Contains(r.Reason, "unable to handle the request") || !strings.Contains(r.Reason, "monitoring.coreos.com/v1") {
		t.Errorf("prometheusrules reason = %q, want the failed discovery of monitoring.coreos.com/v1 (the API said %v)", r.Reason, discErr)
	}
	if !hasProblem(snap, checks.ResPrometheusRules+" unknown: ") {
		t.Errorf("Problems = %q, want prometheusrules unknown with the reason", snap.Problems)
	}
	// Every check that needs PrometheusRules says unknown, with the reason.
	needing := 0
	for _, c := range checks.Catalogue() {
		needs := false
		for _, n := range c.Needs {
			needs = needs || n == checks.ResPrometheusRules
		}
		if !needs {
			continue
		}
		needing++
		for _, f := range snap.Findings.Findings {
			if f.Check == c.ID && (f.Status != checks.Unknown || !strings.Contains(f.Evidence, "unable to handle the request")) {
				t.Errorf("check %s: %s %q, want unknown naming the failed discovery", c.ID, f.Status, f.Evidence)
			}
		}
	}
	if needing == 0 {
		t.Fatal("no check needs prometheusrules: the test proves nothing")
	}

	// Live updates keep arriving: a deployment created now shows up.
	cs := lc.Client(t, ctxName)
	replicas := int32(1)
	labels := map[string]string{"app": "live-probe"}
	if _, err = cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "live-probe"},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.local/live-probe:1"}}}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	live := waitSnap(t, s, 30*time.Second, "the new deployment", func(snap estate.Snapshot) bool {
		_, ok := service(snap, ns, "live-probe")
		return ok
	})
	if !live.Conn.Connected {
		t.Errorf("Conn = %+v after a live update, want connected", live.Conn)
	}
}
