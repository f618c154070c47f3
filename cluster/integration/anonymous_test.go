package integration

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
)

// TestAnonymousSessionSyncs: a context with no credentials (its user missing from the
// kubeconfig) reaches the API server as system:anonymous, which may neither ask access
// reviews nor list anything. Its informers start, are refused, and each refusal is recorded;
// they held the session in "syncing" for ever, the screen empty and unexplained. Held to
// client-go as the same anonymous user: what it is refused, the session says it has no access
// to, and the session is synced with nothing listed.
func TestAnonymousSessionSyncs(t *testing.T) {
	adminCfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(adminCfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = kubernetes.NewForConfigOrDie(cfg).AppsV1().Deployments("fintech-prod").List(ctx, metav1.ListOptions{Limit: 1})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("client-go as anonymous listing Deployments: err = %v; the test needs it refused", err)
	}
	s := start(t, "local-1", func(o *cluster.Options) { o.RESTConfig = cfg })
	snap := waitSnap(t, s, 45*time.Second, "a synced snapshot", func(s estate.Snapshot) bool { return s.Synced })
	if len(snap.Services) != 0 {
		t.Errorf("anonymous sees %d services", len(snap.Services))
	}
	for _, ns := range config.DefaultNamespaces {
		if v := snap.Visibility(ns, checks.ResDeployments); v.Access != estate.AccessDenied {
			t.Errorf("deployments in %s: %+v, want no access", ns, v)
		}
	}
	if !hasProblem(snap, "no access to") {
		t.Errorf("Problems = %q, want the refusals", snap.Problems)
	}
}
