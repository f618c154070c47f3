package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// TestWhoCanAgreesWithSubjectAccessReview holds vigil who-can's derivation (cluster.ListRBAC →
// checks.WhoCan) to the API server's own authorizer: for each question, every subject it
// returns is allowed by a SubjectAccessReview made as that subject, and every other subject
// bound anywhere in the cluster (listed here with client-go) is denied, unless a group it
// carries in any request was itself returned.
func TestWhoCanAgreesWithSubjectAccessReview(t *testing.T) {
	cfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bound := boundSubjects(ctx, t, cs)
	// Each question is answered twice: from ListRBAC (what vigil who-can reads: the question's
	// namespace alone) and from the whole inventory as vigil check lists it, every namespace's
	// RoleBindings in it, which the derivation must scope to the question's namespace itself.
	whole, err := cluster.ListInventory(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}

	questions := []struct {
		verb, resource, name, namespace string
		// must are subjects the seed grants the request, which the answer must hold.
		must []string
	}{
		{"get", "secrets", "payment-secrets", "fintech-prod", []string{"ServiceAccount fintech-prod/fintech-service-account", "ServiceAccount fintech-monitoring/prometheus", "ServiceAccount kube-system/sealed-secrets-controller"}},
		{"create", "pods/exec", "", "fintech-prod", []string{"ServiceAccount fintech-monitoring/prometheus"}},
		{"create", "pods", "", "fintech-prod", []string{"ServiceAccount fintech-monitoring/prometheus"}},
		{"impersonate", "users", "", "", []string{"ServiceAccount fintech-monitoring/prometheus"}},
		{"list", "verticalpodautoscalers.autoscaling.k8s.io", "", "", []string{"ServiceAccount fintech-monitoring/prometheus"}},
		// Only RoleBindings of fintech-staging grant it to fintech-developers.
		{"delete", "deployments", "", "fintech-staging", []string{"Group fintech-developers"}},
	}
	var allowed, denied, skipped int
	for _, qq := range questions {
		q := checks.WhoCanQuestion{Verb: qq.verb, Name: qq.name, Namespace: qq.namespace}
		q.Resource, q.Group, q.Subresource = checks.ParseResource(qq.resource)
		res, err := cluster.ResolveResource(cfg, q.Resource, q.Group)
		if err != nil {
			t.Fatal(err)
		}
		q.Resource, q.Group = res.Resource, res.Group
		inv, err := cluster.ListRBAC(ctx, cfg, q.Namespace)
		if err != nil {
			t.Fatal(err)
		}
		for _, from := range []struct {
			what string
			inv  *checks.Inventory
		}{{"ListRBAC", &inv}, {"ListInventory", &whole}} {
			ans := checks.WhoCan(from.inv, q)
			returned := map[string]bool{}
			for _, s := range ans.Subjects {
				returned[s.String()] = true
				if ok, reason := review(ctx, t, cs, q, s.Kind, s.Name, s.Namespace); !ok {
					t.Errorf("%s (%s): who-can returns %s via %s, SubjectAccessReview denies it (%s)", q, from.what, s, s.Via[0], reason)
				}
				allowed++
			}
			for _, m := range qq.must {
				if !returned[m] {
					t.Errorf("%s (%s): %s is not returned; answer: %d subjects, notes %q", q, from.what, m, len(ans.Subjects), ans.Notes)
				}
			}
			for _, s := range bound {
				key := checks.WhoCanSubject{Kind: s.Kind, Name: s.Name, Namespace: s.Namespace}.String()
				if returned[key] {
					continue
				}
				// Allowed through a group the subject carries that was returned, or by an
				// authorizer other than RBAC: not a disagreement.
				if slices.ContainsFunc(groupsOf(s.Kind, s.Name, s.Namespace), func(g string) bool { return returned["Group "+g] }) ||
					s.Name == "system:masters" || s.Name == "system:nodes" || strings.HasPrefix(s.Name, "system:node:") {
					skipped++
					continue
				}
				if ok, reason := review(ctx, t, cs, q, s.Kind, s.Name, s.Namespace); ok {
					t.Errorf("%s (%s): who-can leaves out %s, SubjectAccessReview allows it (%s)", q, from.what, key, reason)
				}
				denied++
			}
			t.Logf("%s (%s): %d subjects returned, each reviewed; %d notes", q, from.what, len(ans.Subjects), len(ans.Notes))
		}
	}
	t.Logf("SubjectAccessReviews: %d of returned subjects (must allow), %d of other bound subjects (must deny), %d skipped (a returned group covers them, or system:masters/nodes)", allowed, denied, skipped)
	if allowed < 60 || denied < 600 {
		t.Errorf("too few reviews to mean anything: %d allowed, %d denied", allowed, denied)
	}
}

// subject is a binding subject, its service account namespace defaulted.
type subject struct{ Kind, Name, Namespace string }

// boundSubjects lists every distinct subject of every RoleBinding and ClusterRoleBinding.
func boundSubjects(ctx context.Context, t *testing.T, cs kubernetes.Interface) []subject {
	t.Helper()
	seen := map[subject]bool{}
	var out []subject
	add := func(ns string, subs []rbacv1.Subject) {
		for _, s := range subs {
			x := subject{Kind: s.Kind, Name: s.Name}
			if s.Kind == rbacv1.ServiceAccountKind {
				x.Namespace = s.Namespace
				if x.Namespace == "" {
					x.Namespace = ns
				}
				if x.Namespace == "" {
					continue
				}
			}
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	crbs, err := cs.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range crbs.Items {
		add("", b.Subjects)
	}
	rbs, err := cs.RbacV1().RoleBindings("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range rbs.Items {
		add(b.Namespace, b.Subjects)
	}
	return out
}

// groupsOf are the groups a request by the subject carries in the review.
func groupsOf(kind, name, namespace string) []string {
	switch kind {
	case rbacv1.ServiceAccountKind:
		return []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"}
	case rbacv1.GroupKind:
		return []string{name}
	}
	return []string{"system:authenticated"}
}

// review asks the API server whether the subject may make the request of q.
func review(ctx context.Context, t *testing.T, cs kubernetes.Interface, q checks.WhoCanQuestion, kind, name, namespace string) (bool, string) {
	t.Helper()
	spec := authorizationv1.SubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: q.Verb, Group: q.Group, Resource: q.Resource,
			Subresource: q.Subresource, Name: q.Name, Namespace: q.Namespace},
		Groups: groupsOf(kind, name, namespace),
	}
	switch kind {
	case rbacv1.ServiceAccountKind:
		spec.User = fmt.Sprintf("system:serviceaccount:%s:%s", namespace, name)
	case rbacv1.GroupKind:
		spec.User = "vigil-who-can-probe" // bound nowhere: only the group can grant
	default:
		spec.User = name
	}
	r, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SubjectAccessReview %+v: %v", spec, err)
	}
	return r.Status.Allowed, r.Status.Reason
}

// TestWhoCanFollowsAggregationLikeTheController: a ClusterRole aggregating another by label,
// bound by a RoleBinding in a namespace of the test's own. Once the API server's aggregation
// controller has filled it, who-can names the service account with the piece the rule came
// from, and SubjectAccessReview agrees; and from the aggregating role as a manifest declares
// it (rules empty, only the aggregationRule), the answer is the same: the derivation expands
// the aggregation itself.
func TestWhoCanFollowsAggregationLikeTheController(t *testing.T) {
	cfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	ns := lc.Namespace(t, "local-1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	label := map[string]string{"vigil.test/who-can-" + ns: "true"}
	agg := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ns + "-aggregated"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: label}}}}
	piece := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ns + "-piece", Labels: label},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}}
	for _, r := range []*rbacv1.ClusterRole{agg, piece} {
		if _, cerr := cs.RbacV1().ClusterRoles().Create(ctx, r, metav1.CreateOptions{}); cerr != nil {
			t.Fatal(cerr)
		}
		t.Cleanup(func() { _ = cs.RbacV1().ClusterRoles().Delete(context.Background(), r.Name, metav1.DeleteOptions{}) })
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: agg.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "reader", Namespace: ns}}}
	if _, err = cs.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	q := checks.WhoCanQuestion{Verb: "get", Resource: "configmaps", Name: "any", Namespace: ns}
	want := "ServiceAccount " + ns + "/reader"
	// The controller fills the aggregating role asynchronously; the authorizer is the judge.
	if err = clustertest.Eventually(30*time.Second, 200*time.Millisecond, func() (bool, error) {
		ok, _ := review(ctx, t, cs, q, rbacv1.ServiceAccountKind, "reader", ns)
		return ok, nil
	}); err != nil {
		t.Fatalf("the aggregation controller never granted %s: %v", want, err)
	}
	inv, err := cluster.ListRBAC(ctx, cfg, ns)
	if err != nil {
		t.Fatal(err)
	}
	// As a manifest declares it: the aggregating role's rules empty.
	declared := inv
	declared.ClusterRoles = slices.Clone(inv.ClusterRoles)
	for i, r := range declared.ClusterRoles {
		if r.Name == agg.Name {
			if len(r.Rules) == 0 {
				t.Fatalf("%s has no rules in the API: the controller did not fill it", r.Name)
			}
			bare := r.DeepCopy()
			bare.Rules = nil
			declared.ClusterRoles[i] = bare
		}
	}
	for what, in := range map[string]*checks.Inventory{"as the API shows it": &inv, "as declared": &declared} {
		ans := checks.WhoCan(in, q)
		i := slices.IndexFunc(ans.Subjects, func(s checks.WhoCanSubject) bool { return s.String() == want })
		if i < 0 {
			t.Errorf("%s: %s not returned by who-can %s (SubjectAccessReview allows it)", what, want, q)
			continue
		}
		if p := ans.Subjects[i].Via[0]; p.Binding.String() != "RoleBinding/"+ns+"/reader" || p.AggregatedFrom != piece.Name {
			t.Errorf("%s: %s via %s (aggregated from %q), want RoleBinding/%s/reader and the rule from %s", what, want, p, p.AggregatedFrom, ns, piece.Name)
		}
	}
}
