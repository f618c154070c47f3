package integration

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

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

// TestAnonymousRefusalsSayWhy: `vigil check` on a context without credentials said
// "discovery: forbidden: unknown" (client-go's word for a refusal without a Status body), and
// the Contexts screen called the context "unreachable" with "forbidden". Now the check says the
// connection has no credentials, so the server took it for system:anonymous (still a
// Forbidden error to errors.As), and the fleet row is "refused", saying by whom, as the API
// server did to client-go (its refusal, read here, names system:anonymous).
func TestAnonymousRefusalsSayWhy(t *testing.T) {
	adminCfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, truth := kubernetes.NewForConfigOrDie(rest.AnonymousClientConfig(adminCfg)).AppsV1().Deployments("fintech-prod").List(ctx, metav1.ListOptions{Limit: 1})
	if !apierrors.IsForbidden(truth) || !strings.Contains(truth.Error(), "system:anonymous") {
		t.Fatalf("client-go as anonymous: err = %v; the test needs a refusal naming system:anonymous", truth)
	}

	_, err = cluster.ListInventory(ctx, rest.AnonymousClientConfig(adminCfg), config.DefaultNamespaces)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "no credentials") || !strings.Contains(err.Error(), "system:anonymous") || strings.Contains(err.Error(), "unknown") {
		t.Errorf("ListInventory as anonymous: %v; want a Forbidden error saying the connection has no credentials", err)
	}
	if _, err = cluster.ListInventory(ctx, adminCfg, config.DefaultNamespaces); err != nil {
		t.Fatalf("ListInventory as admin: %v", err)
	}

	// A kubeconfig with one more context, "anon", on local-1 with a user it does not define.
	kc, err := clientcmd.LoadFromFile(lc.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	kc.Contexts["anon"] = &clientcmdapi.Context{Cluster: kc.Contexts["local-1"].Cluster, AuthInfo: "nobody"}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err = clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &path
	m, err := cluster.NewManager(cluster.ManagerOptions{Flags: flags, Config: config.Default(), UserAgent: "vigil-tests", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	rows := map[string]estate.FleetEntry{}
	for _, e := range m.Fleet(ctx).Entries {
		rows[e.Context] = e
	}
	if e := rows["anon"]; !e.Refused || e.Reachable || !strings.Contains(e.Err, "forbidden") || !strings.Contains(e.Err, "system:anonymous") {
		t.Errorf("fleet row of anon = %+v; want refused, saying by whom", e)
	}
	if e := rows["local-1"]; !e.Reachable || e.Refused || e.Services == 0 {
		t.Errorf("fleet row of local-1 = %+v; want reachable with its services", e)
	}
}
