package e2e

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
)

// sarRequest is one request that exercises a power, as the Kubernetes
// documentation names them (written here, not taken from checks/).
type sarRequest struct{ verb, group, resource, sub string }

var rbacPowers = map[string][]sarRequest{
	"rbac-no-cluster-admin-service-accounts": {{"*", "*", "*", ""}},
	"rbac-secrets-resource-names":            {{"get", "", "secrets", ""}, {"list", "", "secrets", ""}, {"watch", "", "secrets", ""}},
	"rbac-no-pod-exec": {{"create", "", "pods", "exec"}, {"get", "", "pods", "exec"},
		{"create", "", "pods", "attach"}, {"get", "", "pods", "attach"}},
	"rbac-no-workload-create": {{"create", "", "pods", ""}, {"create", "", "replicationcontrollers", ""},
		{"create", "apps", "deployments", ""}, {"create", "apps", "replicasets", ""}, {"create", "apps", "statefulsets", ""},
		{"create", "apps", "daemonsets", ""}, {"create", "batch", "jobs", ""}, {"create", "batch", "cronjobs", ""}},
	"rbac-no-escalation": {{"escalate", "rbac.authorization.k8s.io", "roles", ""}, {"escalate", "rbac.authorization.k8s.io", "clusterroles", ""},
		{"bind", "rbac.authorization.k8s.io", "roles", ""}, {"bind", "rbac.authorization.k8s.io", "clusterroles", ""},
		{"impersonate", "", "users", ""}, {"impersonate", "", "groups", ""}, {"impersonate", "", "serviceaccounts", ""},
		{"impersonate", "authentication.k8s.io", "uids", ""}, {"impersonate", "authentication.k8s.io", "userextras", "scopes"}},
}

// allowed asks the API server's authorizer whether subject (of a binding
// in bindingNS) may make any of the requests in namespace ns ("" = across
// the cluster).
func allowed(ctx context.Context, t *testing.T, cs kubernetes.Interface, s rbacv1.Subject, bindingNS, ns string, reqs []sarRequest) bool {
	t.Helper()
	spec := authorizationv1.SubjectAccessReviewSpec{}
	switch s.Kind {
	case rbacv1.UserKind:
		spec.User, spec.Groups = s.Name, []string{"system:authenticated"}
	case rbacv1.GroupKind:
		spec.User, spec.Groups = "vigil-e2e-member", []string{s.Name, "system:authenticated"}
	default:
		saNS := s.Namespace
		if saNS == "" {
			saNS = bindingNS
		}
		spec.User = "system:serviceaccount:" + saNS + ":" + s.Name
		spec.Groups = []string{"system:serviceaccounts", "system:serviceaccounts:" + saNS, "system:authenticated"}
	}
	for _, q := range reqs {
		spec.ResourceAttributes = &authorizationv1.ResourceAttributes{Namespace: ns, Verb: q.verb, Group: q.group, Resource: q.resource, Subresource: q.sub}
		r, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Allowed {
			return true
		}
	}
	return false
}

// TestRBACVerdictsMatchTheAuthorizer holds the RBAC effect checks to the
// API server's own authorizer, with the real aggregation controller: for
// every subject of every binding vigil judges on local-1 (the estate plus
// probes bound to the built-in view, edit and admin roles and a binding
// named like a bootstrap one), a SubjectAccessReview in the binding's scope
// says whether the subject holds each power. A binding vigil fails must
// grant it; a subject the authorizer grants it must be named by a binding
// vigil fails.
func TestRBACVerdictsMatchTheAuthorizer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs := lc.Client(t, "local-1")
	rb := func(name, role string, s rbacv1.Subject) *rbacv1.RoleBinding {
		return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "fintech-staging"}, Subjects: []rbacv1.Subject{s},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}}
	}
	probes := []*rbacv1.RoleBinding{
		rb("e2e-probe-view", "view", rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "e2e-viewer"}),
		rb("e2e-probe-edit", "edit", rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "e2e-editors"}),
		rb("e2e-probe-admin", "admin", rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "e2e-admin", Namespace: "fintech-staging"}),
	}
	for _, p := range probes {
		if _, err := cs.RbacV1().RoleBindings(p.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cs.RbacV1().RoleBindings(p.Namespace).Delete(context.Background(), p.Name, metav1.DeleteOptions{})
		})
	}
	// Named like the bootstrap system:kube-dns binding, but pointed at cluster-admin.
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "system:kube-dns-e2e"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "kube-dns", Namespace: "kube-system"}},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"}}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.RbacV1().ClusterRoleBindings().Delete(context.Background(), crb.Name, metav1.DeleteOptions{})
	})

	r, _ := runCheck(t, "local-1")
	type key struct{ check, kind, ns, name string }
	status := map[key]string{}
	for _, f := range r.Findings {
		if _, ok := rbacPowers[f.Check]; ok {
			status[key{f.Check, f.Resource.Kind, f.Resource.Namespace, f.Resource.Name}] = f.Status
		}
	}

	rbs, err := cs.RbacV1().RoleBindings("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	crbs, err := cs.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Bindings the API server bootstrapped carry its label; every other one,
	// cluster-wide or in the namespaces vigil check lists by default, must be
	// judged.
	type judged struct {
		kind, ns, name string
		subjects       []rbacv1.Subject
	}
	bootstrapped := func(m metav1.ObjectMeta) bool { return m.Labels["kubernetes.io/bootstrapping"] == "rbac-defaults" }
	listed := []string{"fintech-prod", "fintech-staging", "fintech-monitoring", "fintech-security"}
	var bindings []judged
	for _, b := range rbs.Items {
		if !bootstrapped(b.ObjectMeta) && slices.Contains(listed, b.Namespace) {
			bindings = append(bindings, judged{"RoleBinding", b.Namespace, b.Name, b.Subjects})
		}
	}
	for _, b := range crbs.Items {
		if !bootstrapped(b.ObjectMeta) {
			bindings = append(bindings, judged{"ClusterRoleBinding", "", b.Name, b.Subjects})
		}
	}
	subjectID := func(s rbacv1.Subject, ns string) string {
		if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == "" {
			s.Namespace = ns
		}
		return fmt.Sprintf("%s %s/%s", s.Kind, s.Namespace, s.Name)
	}
	var compared, grantedCount int
	for check, reqs := range rbacPowers {
		failedSubjects := map[string]bool{}
		for _, b := range bindings {
			if status[key{check, b.kind, b.ns, b.name}] == "fail" {
				for _, s := range b.subjects {
					failedSubjects[subjectID(s, b.ns)] = true
				}
			}
		}
		for _, b := range bindings {
			st, judgedByVigil := status[key{check, b.kind, b.ns, b.name}]
			if !judgedByVigil {
				t.Errorf("%s reported nothing on %s %s/%s (subjects %v)", check, b.kind, b.ns, b.name, b.subjects)
				continue
			}
			for _, s := range b.subjects {
				got := allowed(ctx, t, cs, s, b.ns, b.ns, reqs)
				compared++
				if got {
					grantedCount++
				}
				switch {
				case st == "fail" && !got:
					t.Errorf("%s fails %s %s/%s, but the authorizer denies %s every request of it", check, b.kind, b.ns, b.name, subjectID(s, b.ns))
				case got && !failedSubjects[subjectID(s, b.ns)]:
					t.Errorf("%s: the authorizer grants %s (of %s %s/%s) the power, but vigil fails no binding naming it (status %s)", check, subjectID(s, b.ns), b.kind, b.ns, b.name, st)
				}
			}
		}
	}
	if compared < 40 || grantedCount == 0 || grantedCount == compared {
		t.Errorf("%d subject × check comparisons, %d granted: the estate and probes should give both answers", compared, grantedCount)
	}
	t.Logf("%d subject × check comparisons against SubjectAccessReview, %d granted", compared, grantedCount)
	if st := status[key{"rbac-no-cluster-admin-service-accounts", "ClusterRoleBinding", "", crb.Name}]; st != "fail" {
		t.Errorf("%s (named like a bootstrap binding, bound to cluster-admin): %q, want fail", crb.Name, st)
	}
	for _, f := range r.Findings {
		if _, ok := rbacPowers[f.Check]; ok && strings.HasPrefix(f.Resource.Name, "system:controller:") {
			t.Errorf("%s judged the bootstrap binding %s", f.Check, f.Resource.Name)
		}
	}
}
