package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// clientConstruction matches the ways Go code gets a Kubernetes or HTTP client: a rest.Config
// from kubeconfig flags, a clientset/discovery/REST client from a rest.Config, or an
// http.Client of its own.
var clientConstruction = regexp.MustCompile(`\bToRESTConfig\(\)|\bNewForConfig(OrDie|AndClient)?\(|\bNewDiscoveryClientForConfig\w*\(|\b(Unversioned)?RESTClientFor\w*\(|\bHTTPClientFor\(|\bhttp\.Client\{|\bhttp\.DefaultClient\b|\bhttp\.(Get|Post|PostForm|Head)\(`)

// reviewedSites are the client construction sites of the vigil binary, per file, each with
// how it is kept behind the read-only wrap. A new site fails TestEveryClientGoesThroughReadOnly
// until it is routed through the wrap (cluster.Options.WrapConfig, cmd.Mode.WrapConfig /
// WrapClient, cluster/readonly) and listed here with its reason.
var reviewedSites = map[string]struct {
	n   int
	why string
}{
	"cluster/kubeconfig.go":        {1, "ResolveConnection builds the Connection's rest.Config; every consumer wraps it (Session, fleet, actions, check, export)"},
	"cluster/session.go":           {7, "clients (the access-review one too) built from copies of opts.RESTConfig after New applied opts.WrapConfig"},
	"cluster/inventory_typed.go":   {1, "the typed lists of ListInventory, from a copy (rest.CopyConfig keeps WrapTransport) of the config check's listLive wraps"},
	"cluster/namespaces.go":        {1, "NamespacesMatching gets check's config, which listLive wraps with readonly.WrapConfig first"},
	"cluster/fleet.go":             {4, "FleetSnapshot gets the config fleetEntry wraps with readonly.WrapConfig always (the fleet only reads); fleetObjects' HTTP client (passHTTPClient: client-go's wrappers over the config, WrapTransport first, or rest.HTTPClientFor) and clientset come from a rest.CopyConfig of it, which keeps the wrap; the fleet Prometheus's client is readonly.WrapClient on the same line"},
	"cluster/inventory_rbac.go":    {1, "ResolveResource's discovery client, on the config who-can's liveRBAC wraps (readonly.WrapConfig)"},
	"cluster/inventory.go":         {3, "ListInventory gets a wrapped config (check's listLive always wraps; the UI lists from the session's caches)"},
	"cluster/alerts.go":            {1, "the Prometheus/Alertmanager client is passed through Options.WrapClient on the next line"},
	"cluster/readonly/readonly.go": {1, "the wrapper itself (a nil client becomes a wrapped default)"},
	"actions/silence.go":           {1, "fallback for a nil client; cmd passes Mode.WrapClient's"},
	"actions/argo_server.go":       {2, "NewArgoServerClient's client is replaced by Mode.WrapClient (argoEnv, actionsFor) or readonly.WrapClient (argoDiffFor: the d key only reads); the other is a fallback for a nil HTTP"},
	"cmd/actions_common.go":        {3, "env(): ResolveMode then Mode.WrapConfig before the clientsets; unimpersonated's clientset (--as: the SelfSubjectReview of who acts) from a cluster.Unimpersonated copy of that wrapped config (rest.CopyConfig keeps the wrap)"},
	"cmd/actions_misc.go":          {1, "silence commands: Mode.WrapClient around the Alertmanager client"},
	"cmd/check.go":                 {2, "check only reads: readonly.WrapConfig and readonly.WrapClient always"},
	"cmd/export.go":                {1, "export only reads: readonly.WrapConfig always (the clientset of the credentials' own write verdict from a cluster.Unimpersonated copy of it, which keeps the wrap)"},
	"cluster/identity.go":          {2, "ReviewIdentityOf gets the config attest and export wrap with readonly.WrapConfig (attest only reads the cluster and writes local state); its client without impersonation is a rest.CopyConfig of it, which keeps the wrap"},
	"cmd/logs.go":                  {1, "logs only read: readonly.WrapConfig always"},
	"cmd/readonly.go":              {1, "Mode.WrapClient's default client, wrapped when read-only"},
	"cmd/root.go":                  {3, "actionsFor: Mode.WrapConfig before the clientsets, Mode.WrapClient for Alertmanager"},
}

// TestEveryClientGoesThroughReadOnly fails when a file of the vigil binary gains a way to
// reach an API server, Prometheus, Alertmanager or Argo CD that nobody has checked goes
// through the read-only wrap. The proof that the reviewed ones do is e2e/readonly_test.go
// (the apiserver's audit log and counting proxies in front of Prometheus and Alertmanager).
func TestEveryClientGoesThroughReadOnly(t *testing.T) {
	root := clustertest.RepoRoot()
	found := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			// testdata holds the local cluster (its own module); the harness and e2e drive
			// tests, and cluster/fleetbench's floorlist is a benchmark's program: none is in
			// the binary.
			if slices.Contains([]string{"testdata", "e2e", "internal/clustertest", "cluster/fleetbench", ".git", "bin"}, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			code, _, _ := strings.Cut(line, "//")
			if clientConstruction.MatchString(code) {
				found[rel] = append(found[rel], fmt.Sprintf("%s:%d: %s", rel, i+1, strings.TrimSpace(line)))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for file, sites := range found {
		want, ok := reviewedSites[file]
		if !ok || len(sites) > want.n {
			t.Errorf("%s builds a client nobody has reviewed for read-only mode (%d sites, %d reviewed):\n  %s\n"+
				"route it through the read-only wrap (cluster.Options.WrapConfig, cmd.Mode.WrapConfig/WrapClient or cluster/readonly) and list it in reviewedSites with how",
				file, len(sites), want.n, strings.Join(sites, "\n  "))
		}
	}
	for file, want := range reviewedSites {
		if len(found[file]) < want.n {
			t.Logf("note: %s has %d client sites, %d reviewed: the list can shrink", file, len(found[file]), want.n)
		}
	}
}

// TestHeadlessActionsRefuseAtTheTransport: below the pipeline's own refusal, the clients the
// headless commands build in read-only mode refuse writes before the network.
func TestHeadlessActionsRefuseAtTheTransport(t *testing.T) {
	var writes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			writes.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	kc := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: %s}\ncontexts:\n- name: ctx\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: t}\ncurrent-context: ctx\n", srv.URL)
	if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{EnvReadOnly: "1", "HOME": t.TempDir()}
	g := newGlobalFlags(func(k string) string { return env[k] })
	g.kube.KubeConfig = &kubeconfig
	o := &actionOptions{g: g, flags: g.kube, getenv: g.getenv}
	e, err := o.env()
	if err != nil {
		t.Fatal(err)
	}
	if !e.ReadOnly {
		t.Fatal("VIGIL_READONLY=1 did not make the actions read-only")
	}
	err = e.Kube.AppsV1().Deployments("fintech-prod").Delete(context.Background(), "payment-service", metav1.DeleteOptions{})
	if !errors.Is(err, readonly.ErrReadOnly) {
		t.Fatalf("delete: %v, want ErrReadOnly", err)
	}
	_, err = e.Dynamic.Resource(schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}).
		Namespace("argocd").Patch(context.Background(), "fintech-app", types.MergePatchType, []byte(`{}`), metav1.PatchOptions{})
	if !errors.Is(err, readonly.ErrReadOnly) {
		t.Fatalf("dynamic patch: %v, want ErrReadOnly", err)
	}
	if n := writes.Load(); n != 0 {
		t.Fatalf("%d writes reached the server", n)
	}
}
