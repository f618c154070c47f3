package integration

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// TestUsageRefusedIsSaid: a user whom the API refuses PodMetrics (a reviewer bound to view,
// which does not grant metrics.k8s.io) saw every service's usage as "metrics.k8s.io has no
// figures for its pods yet", as if waiting would bring them. Against the local cluster, two
// users impersonated, each bound to view in fintech-prod and fintech-staging; one is also
// granted pods.metrics.k8s.io in fintech-prod. What client-go, as each user, is allowed to
// list is the truth the session's usage status is held to:
//   - granted in fintech-prod only: usage available, fintech-staging refused; fintech-prod's
//     running services measured, fintech-staging's not, and why is its refusal;
//   - granted nowhere: usage unavailable, the reason the refusal in both namespaces.
func TestUsageRefusedIsSaid(t *testing.T) {
	adminCfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	admin := kubernetes.NewForConfigOrDie(adminCfg)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	watched := []string{"fintech-prod", "fintech-staging"}
	const granted = "fintech-prod"

	bind := func(ns, user string, ref rbacv1.RoleRef) {
		t.Helper()
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: user + "-" + strings.ToLower(ref.Kind)},
			RoleRef:    ref,
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
		}
		if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = admin.RbacV1().RoleBindings(ns).Delete(context.Background(), rb.Name, metav1.DeleteOptions{})
		})
	}
	// as returns the user's REST config once RBAC lets it list Deployments in every watched
	// namespace and PodMetrics in granted or not as wanted (the cache catching up), and what
	// client-go as that user is allowed of PodMetrics, per namespace.
	as := func(user string, wantGranted bool) (*rest.Config, map[string]bool) {
		t.Helper()
		cfg := rest.CopyConfig(adminCfg)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
		kc, mc := kubernetes.NewForConfigOrDie(cfg), metricsclient.NewForConfigOrDie(cfg)
		allowed := map[string]bool{}
		err := clustertest.Eventually(30*time.Second, 200*time.Millisecond, func() (bool, error) { // RBAC's cache catches up
			for _, ns := range watched {
				if _, err := kc.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
					return false, err
				}
				_, err := mc.MetricsV1beta1().PodMetricses(ns).List(ctx, metav1.ListOptions{Limit: 1})
				if err != nil && !apierrors.IsForbidden(err) {
					return false, err
				}
				allowed[ns] = err == nil
			}
			return allowed[granted] == wantGranted, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return cfg, allowed
	}
	view := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}

	t.Run("refused-in-one-namespace", func(t *testing.T) {
		user := "usage-some-" + rand.String(5)
		for _, ns := range watched {
			bind(ns, user, view)
		}
		role := &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: user},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"metrics.k8s.io"}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}},
		}
		if _, err := admin.RbacV1().Roles(granted).Create(ctx, role, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = admin.RbacV1().Roles(granted).Delete(context.Background(), user, metav1.DeleteOptions{}) })
		bind(granted, user, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user})
		cfg, allowed := as(user, true)
		var wantRefused []string
		for _, ns := range watched {
			if !allowed[ns] {
				wantRefused = append(wantRefused, ns)
			}
		}
		if !allowed[granted] || !slices.Equal(wantRefused, []string{"fintech-staging"}) {
			t.Fatalf("client-go as %s: PodMetrics allowed %v; the test needs %s allowed and fintech-staging refused", user, allowed, granted)
		}
		s := start(t, "local-1", func(o *cluster.Options) { o.RESTConfig, o.Namespaces = cfg, watched })
		snap := waitSnap(t, s, 90*time.Second, "a synced snapshot with usage polled", func(s estate.Snapshot) bool {
			return s.Synced && !s.Usage.Taken.IsZero()
		})
		u := snap.Usage
		if !u.Available || !slices.Equal(u.Refused, wantRefused) {
			t.Fatalf("usage status = %+v, want available with %q refused", u, wantRefused)
		}
		measured := 0
		for _, svc := range snap.Services {
			switch {
			case svc.Namespace == granted && svc.Usage.Available:
				measured++
			case svc.Namespace != granted && svc.Usage.Available:
				t.Errorf("%s has usage where PodMetrics are refused", svc.Key())
			}
		}
		if measured == 0 {
			t.Errorf("no service of %s measured, where PodMetrics are allowed", granted)
		}
		if why := u.Why("fintech-staging"); !strings.Contains(why, "forbidden") || !strings.Contains(why, "fintech-staging") {
			t.Errorf("Why(fintech-staging) = %q, want its refusal", why)
		}
		if note := u.Note(); !strings.Contains(note, "forbidden in fintech-staging") || strings.Contains(note, granted) {
			t.Errorf("Note() = %q, want fintech-staging named, %s not", note, granted)
		}
	})

	t.Run("refused-everywhere", func(t *testing.T) {
		user := "usage-none-" + rand.String(5)
		for _, ns := range watched {
			bind(ns, user, view)
		}
		cfg, allowed := as(user, false)
		for _, ns := range watched {
			if allowed[ns] {
				t.Fatalf("client-go as %s: PodMetrics allowed in %s; the test needs them refused (view granting metrics.k8s.io?)", user, ns)
			}
		}
		s := start(t, "local-1", func(o *cluster.Options) { o.RESTConfig, o.Namespaces = cfg, watched })
		snap := waitSnap(t, s, 90*time.Second, "a synced snapshot with usage refused", func(s estate.Snapshot) bool {
			return s.Synced && s.Usage.Reason != ""
		})
		u := snap.Usage
		if u.Available || !slices.Equal(u.Refused, watched) || !strings.Contains(u.Reason, "forbidden") {
			t.Fatalf("usage status = %+v, want unavailable, both namespaces refused", u)
		}
		for _, ns := range watched {
			if why := u.Why(ns); !strings.Contains(why, "forbidden") || !strings.Contains(why, ns) {
				t.Errorf("Why(%s) = %q, want its refusal", ns, why)
			}
		}
		if note := u.Note(); !strings.Contains(note, "forbidden") {
			t.Errorf("Note() = %q, want the refusal", note)
		}
	})
}
