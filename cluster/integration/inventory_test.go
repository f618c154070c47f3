package integration

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// TestListInventoryMatchesTheAPI: the headless LIST (all lists at once, built-in kinds as
// protobuf into typed lists) holds exactly what client-go's typed clientset lists one kind
// and one namespace at a time in JSON, as the same identity, object for object (managed
// fields aside), for kinds of every scope, whichever way its lists go:
//
//   - admin, who may list across namespaces: one request a namespaced kind, across
//     namespaces, and none per namespace (the other namespaces' objects are dropped), except
//     for Secrets, listed per namespace only; Deployments and DaemonSets, which the
//     cluster-level checks read in all namespaces as well, listed once for both;
//   - a user bound to view in the listed namespaces only, whom the API refuses a list across
//     namespaces: each namespaced kind listed per namespace, cluster-scoped kinds refused;
//   - admin with more NetworkPolicies than one page holds in a namespace nobody listed: the
//     NetworkPolicies listed per namespace, Deployments still across namespaces.
func TestListInventoryMatchesTheAPI(t *testing.T) {
	adminCfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	admin := kubernetes.NewForConfigOrDie(adminCfg)

	t.Run("admin", func(t *testing.T) {
		paths := inventoryMatchesAPI(t, adminCfg, nil)
		wantListed(t, paths, map[string]string{"pods": acrossNamespaces, "configmaps": acrossNamespaces, "serviceaccounts": acrossNamespaces, "secrets": perNamespace,
			"networkpolicies": acrossNamespaces, "deployments": onceAcross, "daemonsets": onceAcross})
	})

	t.Run("bound-in-namespaces", func(t *testing.T) {
		user := "ns-viewer-" + rand.String(5)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, ns := range config.DefaultNamespaces {
			rb := &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: user},
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
				Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: user}},
			}
			if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = admin.RbacV1().RoleBindings(ns).Delete(context.Background(), user, metav1.DeleteOptions{}) })
		}
		cfg := rest.CopyConfig(adminCfg)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
		kc := kubernetes.NewForConfigOrDie(cfg)
		if _, err := kc.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{Limit: 1}); !apierrors.IsForbidden(err) {
			t.Fatalf("listing ConfigMaps across namespaces as %s: err = %v; the test needs it refused", user, err)
		}
		if err := clustertest.Eventually(30*time.Second, 200*time.Millisecond, func() (bool, error) { // RBAC's cache catches up
			_, err := kc.CoreV1().ConfigMaps(config.DefaultNamespaces[0]).List(ctx, metav1.ListOptions{Limit: 1})
			return err == nil, err
		}); err != nil {
			t.Fatal(err)
		}
		paths := inventoryMatchesAPI(t, cfg, map[string]string{"clusterrolebindings": checks.ResClusterRoleBindings})
		wantListed(t, paths, map[string]string{"pods": perNamespace, "configmaps": perNamespace, "networkpolicies": perNamespace, "deployments": perNamespace})
	})

	t.Run("a-kind-larger-than-a-page", func(t *testing.T) {
		ns := lc.Namespace(t, "local-1")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(8)
		for i := range 501 { // ListInventory's page is 500
			g.Go(func() error {
				np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("filler-%03d", i)}, Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}
				_, err := admin.NetworkingV1().NetworkPolicies(ns).Create(gctx, np, metav1.CreateOptions{})
				return err
			})
		}
		// Gone before the test ends (a namespace's deletion is not), so that no list after it
		// meets more policies than a page.
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := admin.NetworkingV1().NetworkPolicies(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
				t.Error(err)
				return
			}
			if err := clustertest.Eventually(time.Minute, 200*time.Millisecond, func() (bool, error) {
				l, err := admin.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
				return err == nil && len(l.Items) == 0, err
			}); err != nil {
				t.Error(err)
			}
		})
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		paths := inventoryMatchesAPI(t, adminCfg, nil)
		wantListed(t, paths, map[string]string{"pods": acrossNamespaces, "configmaps": acrossNamespaces, "networkpolicies": perNamespace, "deployments": onceAcross})
	})
}

// How wantListed expects a namespaced kind listed in the default namespaces: across
// namespaces, once across namespaces (one list serving the cluster-level checks'
// reading in all namespaces too), or one list in each.
const (
	acrossNamespaces = "across namespaces"
	onceAcross       = "once across namespaces"
	perNamespace     = "per namespace"
)

// wantListed checks, from the request paths a ListInventory sent, that each namespaced kind
// of want (a core or named-group resource) was listed in the default namespaces as want
// says. (Other readings of a kind, such as kube-system's pods or Deployments in all
// namespaces, are sent whichever way; they are not counted.)
func wantListed(t *testing.T, paths []string, want map[string]string) {
	t.Helper()
	for resource, how := range want {
		across, per := 0, map[string]int{}
		for _, p := range paths {
			seg := strings.Split(strings.Trim(p, "/"), "/")
			if seg[len(seg)-1] != resource {
				continue
			}
			if i := slices.Index(seg, "namespaces"); i >= 0 && i+2 < len(seg) {
				if slices.Contains(config.DefaultNamespaces, seg[i+1]) {
					per[seg[i+1]]++
				}
			} else {
				across++
			}
		}
		switch how {
		case onceAcross:
			if across != 1 || len(per) > 0 {
				t.Errorf("%s: %d lists across namespaces, %v per namespace; want one list across namespaces, none in %v", resource, across, per, config.DefaultNamespaces)
			}
		case acrossNamespaces:
			if across == 0 || len(per) > 0 {
				t.Errorf("%s: %d lists across namespaces, %v per namespace; want it listed across namespaces, in none of %v", resource, across, per, config.DefaultNamespaces)
			}
		case perNamespace:
			if len(per) != len(config.DefaultNamespaces) {
				t.Errorf("%s: %d lists across namespaces, %v per namespace; want each of %v listed", resource, across, per, config.DefaultNamespaces)
			}
		}
	}
}

// pathLog keeps the path of every request its recorders send.
type pathLog struct {
	mu    sync.Mutex
	paths []string
}

// pathRecorder sends requests through next, noting their paths in log; one per transport
// client-go builds (it builds several, at once, for ListInventory's clients).
type pathRecorder struct {
	log  *pathLog
	next http.RoundTripper
}

func (r *pathRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.log.mu.Lock()
	r.log.paths = append(r.log.paths, req.URL.Path)
	r.log.mu.Unlock()
	return r.next.RoundTrip(req)
}

// inventoryMatchesAPI lists the default namespaces with ListInventory as cfg's identity
// and compares pods, deployments, network policies, config maps, service accounts and cluster role bindings
// with what the same identity lists with client-go's typed clientset in JSON; a kind of
// refused (name: Forbidden key) must be recorded refused instead. It returns the paths ListInventory's last
// run requested.
func inventoryMatchesAPI(t *testing.T, cfg *rest.Config, refused map[string]string) []string {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(cfg) // JSON: another encoding than the code under test
	namespaces := config.DefaultNamespaces
	type lister func(ctx context.Context, ns string) ([]metav1.Object, error)
	ptrs := func(n int, at func(int) metav1.Object) []metav1.Object {
		out := make([]metav1.Object, n)
		for i := range out {
			out[i] = at(i)
		}
		return out
	}
	kinds := []struct {
		name       string
		namespaced bool
		api        lister
		inv        func(*checks.Inventory) []metav1.Object
	}{
		{"pods", true, func(ctx context.Context, ns string) ([]metav1.Object, error) {
			l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, err
			}
			return ptrs(len(l.Items), func(i int) metav1.Object { return &l.Items[i] }), nil
		}, func(inv *checks.Inventory) []metav1.Object {
			return ptrs(len(inv.Pods), func(i int) metav1.Object { return inv.Pods[i] })
		}},
		{"deployments", true, func(ctx context.Context, ns string) ([]metav1.Object, error) {
			l, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, err
			}
			return ptrs(len(l.Items), func(i int) metav1.Object { return &l.Items[i] }), nil
		}, func(inv *checks.Inventory) []metav1.Object {
			return ptrs(len(inv.Deployments), func(i int) metav1.Object { return inv.Deployments[i] })
		}},
		{"networkpolicies", true, func(ctx context.Context, ns string) ([]metav1.Object, error) {
			l, err := cs.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, err
			}
			return ptrs(len(l.Items), func(i int) metav1.Object { return &l.Items[i] }), nil
		}, func(inv *checks.Inventory) []metav1.Object {
			return ptrs(len(inv.NetworkPolicies), func(i int) metav1.Object { return inv.NetworkPolicies[i] })
		}},
		{"configmaps", true, func(ctx context.Context, ns string) ([]metav1.Object, error) {
			l, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, err
			}
			return ptrs(len(l.Items), func(i int) metav1.Object { return &l.Items[i] }), nil
		}, func(inv *checks.Inventory) []metav1.Object {
			return ptrs(len(inv.ConfigMaps), func(i int) metav1.Object { return inv.ConfigMaps[i] })
		}},
		{"serviceaccounts", true, func(ctx context.Context, ns string) ([]metav1.Object, error) {
			l, err := cs.CoreV1().ServiceAccounts(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, err
			}
			return ptrs(len(l.Items), func(i int) metav1.Object { return &l.Items[i] }), nil
		}, func(inv *checks.Inventory) []metav1.Object {
			return ptrs(len(inv.ServiceAccounts), func(i int) metav1.Object { return inv.ServiceAccounts[i] })
		}},
		{"clusterrolebindings", false, func(ctx context.Context, _ string) ([]metav1.Object, error) {
			l, err := cs.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, err
			}
			return ptrs(len(l.Items), func(i int) metav1.Object { return &l.Items[i] }), nil
		}, func(inv *checks.Inventory) []metav1.Object {
			return ptrs(len(inv.ClusterRoleBindings), func(i int) metav1.Object { return inv.ClusterRoleBindings[i] })
		}},
	}
	key := func(o metav1.Object) string { return o.GetNamespace() + "/" + o.GetName() }
	var diff []string
	var rec *pathLog
	for attempt := 0; attempt < 5; attempt++ { // the seed's pods may still be moving between the two reads
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		log := &pathLog{}
		rec = log
		listCfg := rest.CopyConfig(cfg)
		listCfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &pathRecorder{log: log, next: rt} })
		inv, err := cluster.ListInventory(ctx, listCfg, namespaces)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		diff = nil
		for _, k := range kinds {
			if key, ok := refused[k.name]; ok {
				if _, ok := inv.Forbidden[key]; !ok || len(k.inv(&inv)) > 0 {
					diff = append(diff, fmt.Sprintf("%s: %d listed, not recorded refused; want it refused", k.name, len(k.inv(&inv))))
				}
				continue
			}
			want := map[string]metav1.Object{}
			for _, ns := range namespaces {
				if !k.namespaced {
					ns = ""
				}
				objs, err := k.api(ctx, ns)
				if err != nil {
					cancel()
					t.Fatal(err)
				}
				for _, o := range objs {
					o.SetManagedFields(nil)
					want[key(o)] = o
				}
				if !k.namespaced {
					break
				}
			}
			got := k.inv(&inv)
			if len(got) == 0 {
				diff = append(diff, k.name+": none listed")
			}
			for _, o := range got {
				w, ok := want[key(o)]
				switch {
				case !ok:
					diff = append(diff, fmt.Sprintf("%s %s: listed, not in the API", k.name, key(o)))
				case !apiequality.Semantic.DeepEqual(w, o):
					diff = append(diff, fmt.Sprintf("%s %s: differs from the API's (resourceVersion %s vs %s)", k.name, key(o), o.GetResourceVersion(), w.GetResourceVersion()))
				}
				delete(want, key(o))
			}
			for k2 := range want {
				diff = append(diff, fmt.Sprintf("%s %s: in the API, not listed", k.name, k2))
			}
		}
		cancel()
		if len(diff) == 0 {
			t.Logf("%d pods, %d deployments, %d network policies, %d config maps, %d service accounts, %d cluster role bindings agree; %d requests", len(inv.Pods), len(inv.Deployments), len(inv.NetworkPolicies), len(inv.ConfigMaps), len(inv.ServiceAccounts), len(inv.ClusterRoleBindings), len(rec.paths))
			return rec.paths
		}
		time.Sleep(2 * time.Second)
	}
	slices.Sort(diff)
	t.Errorf("ListInventory and the API differ:\n%s", strings.Join(diff, "\n"))
	return rec.paths
}

// legacyDiscovery asks /api and /apis for the discovery documents of servers before
// aggregated discovery (Kubernetes 1.30), whatever its client accepts: the server then
// answers without the group versions' resources, as an older one would.
type legacyDiscovery struct{ next http.RoundTripper }

func (d legacyDiscovery) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == "/api" || req.URL.Path == "/apis" {
		req = req.Clone(req.Context())
		req.Header.Set("Accept", "application/json")
	}
	return d.next.RoundTrip(req)
}

// TestListInventoryDiscoversEitherWay: ListInventory takes the custom-resource groups and
// versions it lists from aggregated discovery's two documents, without asking about any
// group version on its own, and from a server without aggregated discovery by asking each
// group version; both ways it finds the groups client-go's legacy discovery lists as
// installed, and lists the same custom resources at the same versions.
func TestListInventoryDiscoversEitherWay(t *testing.T) {
	cfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	dc := discovery.NewDiscoveryClientForConfigOrDie(cfg)
	dc.UseLegacyDiscovery = true
	groups, err := dc.ServerGroups()
	if err != nil {
		t.Fatal(err)
	}
	wantInstalled := map[string]bool{}
	for _, g := range checks.KnownGroups {
		wantInstalled[g] = slices.ContainsFunc(groups.Groups, func(ag metav1.APIGroup) bool { return ag.Name == g && len(ag.Versions) > 0 })
	}
	if !slices.Contains(slices.Collect(maps.Values(wantInstalled)), true) {
		t.Fatalf("no group of %v installed on local-1: nothing to discover", checks.KnownGroups)
	}
	// customLists are the lists of custom resources a run sent, "group/version/resource" of
	// each path, and its discovery requests about one group version.
	customLists := func(paths []string) (lists []string, perVersion int) {
		for _, p := range paths {
			seg := strings.Split(strings.Trim(p, "/"), "/")
			if len(seg) < 3 || seg[0] != "apis" || !slices.Contains(checks.KnownGroups, seg[1]) {
				continue
			}
			if len(seg) == 3 {
				perVersion++
				continue
			}
			lists = append(lists, seg[1]+"/"+seg[2]+"/"+seg[len(seg)-1])
		}
		slices.Sort(lists)
		return slices.Compact(lists), perVersion
	}
	run := func(legacy bool) (checks.Inventory, []string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		log := &pathLog{}
		c := rest.CopyConfig(cfg)
		c.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			if legacy {
				rt = legacyDiscovery{next: rt}
			}
			return &pathRecorder{log: log, next: rt}
		})
		inv, err := cluster.ListInventory(ctx, c, config.DefaultNamespaces)
		if err != nil {
			t.Fatal(err)
		}
		lists, perVersion := customLists(log.paths)
		return inv, lists, perVersion
	}
	aggInv, aggLists, aggAsked := run(false)
	legInv, legLists, legAsked := run(true)
	if aggAsked != 0 {
		t.Errorf("aggregated discovery: %d requests about one group version; want none (the two documents hold them)", aggAsked)
	}
	if legAsked == 0 {
		t.Errorf("without aggregated discovery: no request about a group version; want the installed groups' asked (is the legacy answer forced?)")
	}
	for name, got := range map[string]map[string]bool{"aggregated": aggInv.Installed, "legacy": legInv.Installed} {
		if !maps.Equal(got, wantInstalled) {
			t.Errorf("%s discovery: installed %v; client-go's legacy discovery: %v", name, got, wantInstalled)
		}
	}
	if len(aggLists) == 0 || !slices.Equal(aggLists, legLists) {
		t.Errorf("custom resources listed:\naggregated discovery %v\nwithout it           %v", aggLists, legLists)
	}
	t.Logf("installed %v; %d custom resource lists; %d requests about a group version without aggregated discovery", wantInstalled, len(aggLists), legAsked)
}
