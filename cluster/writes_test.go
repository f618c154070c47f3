package cluster

import (
	"context"
	"strings"
	"testing"

	authzv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestRulesAllowWrites(t *testing.T) {
	rule := func(verbs, groups, resources []string) authzv1.ResourceRule {
		return authzv1.ResourceRule{Verbs: verbs, APIGroups: groups, Resources: resources}
	}
	basicUser := []authzv1.ResourceRule{
		rule([]string{"create"}, []string{"authorization.k8s.io"}, []string{"selfsubjectaccessreviews", "selfsubjectrulesreviews"}),
		rule([]string{"create"}, []string{"authentication.k8s.io"}, []string{"selfsubjectreviews"}),
	}
	view := append([]authzv1.ResourceRule{
		rule([]string{"get", "list", "watch"}, []string{""}, []string{"pods", "services", "configmaps"}),
		rule([]string{"get", "list", "watch"}, []string{"apps"}, []string{"deployments", "deployments/scale", "statefulsets"}),
	}, basicUser...)
	cases := []struct {
		name  string
		rules []authzv1.ResourceRule
		want  bool
		what  string
	}{
		{"nothing", nil, false, ""},
		{"basic user's self reviews are not writes", basicUser, false, ""},
		{"view ClusterRole", view, false, ""},
		{"admin wildcard", append(view, rule([]string{"*"}, []string{"*"}, []string{"*"})), true, "* *.*"},
		{"edit: patch deployments", append(view, rule([]string{"create", "delete", "deletecollection", "patch", "update"}, []string{"apps"}, []string{"deployments"})), true, "create deployments.apps"},
		{"scale subresource", []authzv1.ResourceRule{rule([]string{"update"}, []string{"apps"}, []string{"deployments/scale"})}, true, "update deployments/scale.apps"},
		{"delete pods", []authzv1.ResourceRule{rule([]string{"get", "delete"}, []string{""}, []string{"pods"})}, true, "delete pods"},
		{"wildcard verbs on a self review are more than a review", []authzv1.ResourceRule{rule([]string{"*"}, []string{"authorization.k8s.io"}, []string{"selfsubjectaccessreviews"})}, true, "* selfsubjectaccessreviews.authorization.k8s.io"},
		{"create on another group's same-named resource", []authzv1.ResourceRule{rule([]string{"create"}, []string{"example.com"}, []string{"selfsubjectreviews"})}, true, "create selfsubjectreviews.example.com"},
		{"create subjectaccessreviews is a write", []authzv1.ResourceRule{rule([]string{"create"}, []string{"authorization.k8s.io"}, []string{"subjectaccessreviews"})}, true, "create subjectaccessreviews.authorization.k8s.io"},
		// Write power without a write verb: borrowing another identity, or granting rights.
		{"impersonate users", append(view, rule([]string{"impersonate"}, []string{""}, []string{"users", "groups"})), true, "impersonate users"},
		{"impersonate service accounts", []authzv1.ResourceRule{rule([]string{"impersonate"}, []string{""}, []string{"serviceaccounts"})}, true, "impersonate serviceaccounts"},
		{"escalate roles", []authzv1.ResourceRule{rule([]string{"get", "escalate"}, []string{"rbac.authorization.k8s.io"}, []string{"roles"})}, true, "escalate roles.rbac.authorization.k8s.io"},
		{"bind clusterroles", []authzv1.ResourceRule{rule([]string{"bind"}, []string{"rbac.authorization.k8s.io"}, []string{"clusterroles"})}, true, "bind clusterroles.rbac.authorization.k8s.io"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, what := RulesAllowWrites(tc.rules)
			if got != tc.want || what != tc.what {
				t.Fatalf("RulesAllowWrites = %v %q, want %v %q", got, what, tc.want, tc.what)
			}
		})
	}
}

// TestWriteVerdict: "cannot write" only when every review answered completely; an
// incomplete review (a webhook authorizer, as on GKE and EKS) or a failed one is "cannot tell",
// and the header says so in read-only mode.
func TestWriteVerdict(t *testing.T) {
	cases := []struct {
		name   string
		w      WriteAccess
		want   WriteVerdict
		reason string
		header string
	}{
		{"a write rule", WriteAccess{Checked: true, CanWrite: true, Evidence: "patch deployments.apps in p"}, CanWrite, "patch deployments.apps in p", CredentialsWriteWarning},
		{"a write rule in an incomplete review", WriteAccess{Checked: true, CanWrite: true, Incomplete: true, Evidence: "bind roles in p"}, CanWrite, "bind roles", CredentialsWriteWarning},
		{"complete, no write", WriteAccess{Checked: true, Namespaces: []string{"p", "q"}}, CannotWrite, "review of p, q grants", ""},
		{"incomplete, no write listed", WriteAccess{Checked: true, Incomplete: true, IncompleteWhy: "p: webhook authorizer does not support rule resolution", Namespaces: []string{"p"}}, CannotTell, "incomplete", CredentialsUnknownWarning},
		{"every review failed", WriteAccess{Err: "p: forbidden"}, CannotTell, "failed: p: forbidden", CredentialsUnknownWarning},
		{"one review failed", WriteAccess{Checked: true, Namespaces: []string{"p"}, Err: "q: timeout"}, CannotTell, "q: timeout", CredentialsUnknownWarning},
		{"nothing reviewed", WriteAccess{}, CannotTell, "no namespace", CredentialsUnknownWarning},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, why := tc.w.Verdict()
			if v != tc.want || !strings.Contains(why, tc.reason) {
				t.Errorf("Verdict = %q %q, want %q containing %q", v, why, tc.want, tc.reason)
			}
			if got := tc.w.Warning(true); got != tc.header {
				t.Errorf("header %q, want %q", got, tc.header)
			}
			if got := tc.w.Warning(false); got != "" {
				t.Errorf("header outside read-only mode %q", got)
			}
		})
	}
}

// TestCheckWritesIncompleteReview: a review the API server marks incomplete, listing no
// write, is "cannot tell" with the server's own words, never "cannot write".
func TestCheckWritesIncompleteReview(t *testing.T) {
	kube := fake.NewClientset()
	kube.PrependReactor("create", "selfsubjectrulesreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authzv1.SelfSubjectRulesReview{Status: authzv1.SubjectRulesReviewStatus{
			ResourceRules: []authzv1.ResourceRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}},
			Incomplete:    true, EvaluationError: "webhook authorizer does not support user rule resolution"}}, nil
	})
	w := CheckWrites(context.Background(), kube, []string{"fintech-prod"})
	v, why := w.Verdict()
	if v != CannotTell || !strings.Contains(why, "webhook authorizer does not support") {
		t.Fatalf("incomplete review: %q %q (%+v)", v, why, w)
	}
}

func TestWriteAccessWarning(t *testing.T) {
	w := WriteAccess{Checked: true, CanWrite: true}
	if w.Warning(true) != CredentialsWriteWarning || w.Warning(false) != "" {
		t.Fatalf("warning %q/%q", w.Warning(true), w.Warning(false))
	}
	if (WriteAccess{Checked: true}).Warning(true) != "" {
		t.Fatal("read-only credentials need no warning")
	}
}
