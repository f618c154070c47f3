package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
)

// TestListInventoryMatchesTheAPI: the headless LIST (all lists at once, built-in kinds as
// protobuf into typed lists) holds exactly what client-go's typed clientset lists one kind at
// a time in JSON, object for object (managed fields aside), for kinds of every scope.
func TestListInventoryMatchesTheAPI(t *testing.T) {
	cfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
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
	for attempt := 0; attempt < 5; attempt++ { // the seed's pods may still be moving between the two reads
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		inv, err := cluster.ListInventory(ctx, cfg, namespaces)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		diff = nil
		for _, k := range kinds {
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
			t.Logf("%d pods, %d deployments, %d network policies, %d config maps, %d cluster role bindings agree", len(inv.Pods), len(inv.Deployments), len(inv.NetworkPolicies), len(inv.ConfigMaps), len(inv.ClusterRoleBindings))
			return
		}
		time.Sleep(2 * time.Second)
	}
	slices.Sort(diff)
	t.Errorf("ListInventory and the API differ:\n%s", strings.Join(diff, "\n"))
}
