package cluster

import (
	"testing"

	authzv1 "k8s.io/api/authorization/v1"
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

func TestWriteAccessWarning(t *testing.T) {
	w := WriteAccess{Checked: true, CanWrite: true}
	if w.Warning(true) != CredentialsWriteWarning || w.Warning(false) != "" {
		t.Fatalf("warning %q/%q", w.Warning(true), w.Warning(false))
	}
	if (WriteAccess{Checked: true}).Warning(true) != "" {
		t.Fatal("read-only credentials need no warning")
	}
}
