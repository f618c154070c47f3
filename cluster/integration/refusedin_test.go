package integration

import (
	"context"
	"slices"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// TestInventoryRecordsRefusalsPerNamespace: a user bound to view in fintech-prod only (the
// common shape of a team-scoped identity) is refused most kinds in the other watched
// namespaces, and, view granting no Secrets, RBAC or custom resources, some in fintech-prod as
// well. ListInventory records each namespace's refusals; the truth it is held to is the API's
// own answer, a SelfSubjectAccessReview as that user for list on every namespaced kind in every
// namespace.
func TestInventoryRecordsRefusalsPerNamespace(t *testing.T) {
	adminCfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	admin := kubernetes.NewForConfigOrDie(adminCfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	user := "scoped-" + rand.String(5)
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}}}
	if _, err = admin.RbacV1().RoleBindings("fintech-prod").Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = admin.RbacV1().RoleBindings("fintech-prod").Delete(context.Background(), user, metav1.DeleteOptions{})
	}()
	cfg := rest.CopyConfig(adminCfg)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	kc := kubernetes.NewForConfigOrDie(cfg)
	allowed := func(ns string, k checks.Kind) bool {
		t.Helper()
		r, rerr := kc.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "list", Group: k.Group, Resource: k.Resource}}}, metav1.CreateOptions{})
		if rerr != nil {
			t.Fatal(rerr)
		}
		return r.Status.Allowed
	}
	if err = clustertest.Eventually(30*time.Second, 200*time.Millisecond, func() (bool, error) { // RBAC's cache catches up
		return allowed("fintech-prod", checks.Kind{Group: "apps", Resource: "deployments"}), nil
	}); err != nil {
		t.Fatalf("the binding never took: %v", err)
	}

	namespaces := []string{"fintech-prod", "fintech-staging", "fintech-monitoring", "fintech-security"}
	listed, err := cluster.ListInventory(ctx, cfg, namespaces)
	if err != nil {
		t.Fatal(err)
	}
	// The session's inventory (the TUI's evaluation), from its informers' refusals.
	s := start(t, "local-1", func(o *cluster.Options) { o.RESTConfig, o.Namespaces = cfg, namespaces })
	waitSnap(t, s, 90*time.Second, "a synced snapshot", func(s estate.Snapshot) bool { return s.Synced })
	live := s.Inventory()
	// The truth, per namespace and namespaced kind the catalogue reads (custom resources where
	// installed), asked before the comparisons.
	truth := map[string]bool{}
	var kinds []checks.Kind
	for _, k := range checks.Kinds {
		if k.Scope != checks.Namespaced || k.SessionOnly || (k.Optional && !listed.Installed[k.Group]) {
			continue
		}
		kinds = append(kinds, k)
		for _, ns := range namespaces {
			truth[ns+" "+k.Key()] = allowed(ns, k)
		}
	}
	for _, src := range []struct {
		name string
		inv  checks.Inventory
	}{{"ListInventory", listed}, {"the session", live}} {
		t.Run(src.name, func(t *testing.T) { compareRefusals(t, src.inv, namespaces, kinds, truth) })
	}
	// The hint agrees with the truth: fintech-prod, where view is bound, is the one readable.
	if kinds, refused, readable := checks.Readable(&live); len(kinds) == 0 || !slices.Equal(readable, []string{"fintech-prod"}) || len(refused) != 3 {
		t.Errorf("Readable(session) = %v, %v, %v; want fintech-prod readable, the 3 others refused", kinds, refused, readable)
	}
}

// compareRefusals holds inv's per-namespace refusals to truth, the API's answer ("ns key").
func compareRefusals(t *testing.T, inv checks.Inventory, namespaces []string, kinds []checks.Kind, truth map[string]bool) {
	t.Helper()
	refusedSomewhere, allowedSomewhere := 0, 0
	for _, k := range kinds {
		for _, ns := range namespaces {
			ok := truth[ns+" "+k.Key()]
			if recorded := slices.Contains(inv.RefusedIn[ns], k.Key()); recorded == ok {
				t.Errorf("%s in %s: the API allows list: %v; recorded refused: %v (%v)", k.Key(), ns, ok, recorded, inv.RefusedIn[ns])
			}
			if ok {
				allowedSomewhere++
			} else {
				refusedSomewhere++
			}
		}
	}
	// The test means something only if both answers came up.
	if refusedSomewhere == 0 || allowedSomewhere == 0 {
		t.Fatalf("%d refused, %d allowed (kind, namespace) pairs; want both", refusedSomewhere, allowedSomewhere)
	}
	t.Logf("%d (kind, namespace) pairs compared: %d refused, %d allowed", refusedSomewhere+allowedSomewhere, refusedSomewhere, allowedSomewhere)
}
