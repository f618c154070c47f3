package checks

import (
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// whoCanInventory is a small estate with one of each way RBAC grants: an
// aggregated ClusterRole, a RoleBinding to a ClusterRole, resourceNames,
// wildcards, subresources, impersonation and a built-in role absent from
// the inventory.
func whoCanInventory() *Inventory {
	rule := func(groups, resources, verbs []string, names ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: groups, Resources: resources, Verbs: verbs, ResourceNames: names}
	}
	core := []string{""}
	ref := func(kind, name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
	}
	user := func(n string) rbacv1.Subject { return rbacv1.Subject{Kind: rbacv1.UserKind, Name: n} }
	group := func(n string) rbacv1.Subject { return rbacv1.Subject{Kind: rbacv1.GroupKind, Name: n} }
	sa := func(ns, n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: n}
	}
	return &Inventory{
		ClusterRoles: []*rbacv1.ClusterRole{
			{ObjectMeta: metav1.ObjectMeta{Name: "secret-auditor"},
				AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"example.com/aggregate-to-auditor": "true"}}}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "secret-reader-piece", Labels: map[string]string{"example.com/aggregate-to-auditor": "true"}},
				Rules: []rbacv1.PolicyRule{rule(core, []string{"secrets"}, []string{"get", "list"})}},
			{ObjectMeta: metav1.ObjectMeta{Name: "pod-creator"},
				Rules: []rbacv1.PolicyRule{rule(core, []string{"pods"}, []string{"create"})}},
			{ObjectMeta: metav1.ObjectMeta{Name: "exec-any"},
				Rules: []rbacv1.PolicyRule{rule(core, []string{"*/exec"}, []string{"create"})}},
			{ObjectMeta: metav1.ObjectMeta{Name: "impersonator"},
				Rules: []rbacv1.PolicyRule{rule(core, []string{"users", "groups"}, []string{"impersonate"})}},
		},
		ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{
			{ObjectMeta: metav1.ObjectMeta{Name: "auditors"}, RoleRef: ref("ClusterRole", "secret-auditor"), Subjects: []rbacv1.Subject{group("auditors")}},
			{ObjectMeta: metav1.ObjectMeta{Name: "debuggers"}, RoleRef: ref("ClusterRole", "exec-any"), Subjects: []rbacv1.Subject{user("oncall")}},
			{ObjectMeta: metav1.ObjectMeta{Name: "sudo"}, RoleRef: ref("ClusterRole", "impersonator"), Subjects: []rbacv1.Subject{user("break-glass"), {Kind: rbacv1.ServiceAccountKind, Name: "no-namespace"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "dangling"}, RoleRef: ref("ClusterRole", "gone"), Subjects: []rbacv1.Subject{user("ghost")}},
		},
		Roles: []*rbacv1.Role{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "named-secrets"},
				Rules: []rbacv1.PolicyRule{rule(core, []string{"secrets"}, []string{"get"}, "payment-secrets"), rule(core, []string{"pods"}, []string{"get", "list"})}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "staging", Name: "everything"},
				Rules: []rbacv1.PolicyRule{rule([]string{"*"}, []string{"*"}, []string{"*"})}},
		},
		RoleBindings: []*rbacv1.RoleBinding{
			// Subject namespace left out: it defaults to the binding's.
			{ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "app"}, RoleRef: ref("Role", "named-secrets"), Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "app"}}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "deployer"}, RoleRef: ref("ClusterRole", "pod-creator"), Subjects: []rbacv1.Subject{sa("ci", "deployer")}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "staging", Name: "developers"}, RoleRef: ref("Role", "everything"), Subjects: []rbacv1.Subject{group("developers")}},
			// edit is not in the inventory: the bootstrap policy's, aggregating system:aggregate-to-edit.
			{ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "editors"}, RoleRef: ref("ClusterRole", "edit"), Subjects: []rbacv1.Subject{user("alice")}},
		},
	}
}

func TestWhoCan(t *testing.T) {
	inv := whoCanInventory()
	// The bootstrap edit role reads secrets through system:aggregate-to-edit.
	const editSecrets = "RoleBinding/prod/editors → ClusterRole/edit (built-in) [aggregated from ClusterRole/system:aggregate-to-edit]"
	cases := []struct {
		name string
		q    WhoCanQuestion
		// want are the subjects with, for each, the first path's String().
		want map[string]string
		// notes must each appear in a note.
		notes []string
	}{
		{"aggregation: the rule is written in a ClusterRole aggregated into the bound one",
			WhoCanQuestion{Verb: "get", Resource: "secrets", Namespace: "prod"},
			map[string]string{
				"Group auditors": "ClusterRoleBinding/auditors → ClusterRole/secret-auditor [aggregated from ClusterRole/secret-reader-piece]",
				"User alice":     editSecrets,
			},
			[]string{"RoleBinding/prod/app → Role/prod/named-secrets allows it on resourceNames [payment-secrets] only"}},
		{"resourceNames: the named secret",
			WhoCanQuestion{Verb: "get", Resource: "secrets", Name: "payment-secrets", Namespace: "prod"},
			map[string]string{
				"Group auditors":          "ClusterRoleBinding/auditors → ClusterRole/secret-auditor [aggregated from ClusterRole/secret-reader-piece]",
				"ServiceAccount prod/app": "RoleBinding/prod/app → Role/prod/named-secrets",
				"User alice":              editSecrets,
			}, nil},
		{"resourceNames: another secret",
			WhoCanQuestion{Verb: "get", Resource: "secrets", Name: "database-secrets", Namespace: "prod"},
			map[string]string{
				"Group auditors": "ClusterRoleBinding/auditors → ClusterRole/secret-auditor [aggregated from ClusterRole/secret-reader-piece]",
				"User alice":     editSecrets,
			}, nil},
		{"the secret in another namespace",
			WhoCanQuestion{Verb: "get", Resource: "secrets", Name: "payment-secrets", Namespace: "staging"},
			map[string]string{
				"Group auditors":          "ClusterRoleBinding/auditors → ClusterRole/secret-auditor [aggregated from ClusterRole/secret-reader-piece]",
				"Group developers":        "RoleBinding/staging/developers → Role/staging/everything",
				"ServiceAccount prod/app": "",
			}, nil},
		{"RoleBinding to a ClusterRole grants in its namespace",
			WhoCanQuestion{Verb: "create", Resource: "pods", Namespace: "prod"},
			map[string]string{
				"ServiceAccount ci/deployer": "RoleBinding/prod/deployer → ClusterRole/pod-creator",
				"User alice":                 "RoleBinding/prod/editors → ClusterRole/edit (built-in) [aggregated from ClusterRole/system:aggregate-to-edit]",
			}, nil},
		{"RoleBinding to a ClusterRole grants nothing in another namespace",
			WhoCanQuestion{Verb: "create", Resource: "pods", Namespace: "other"}, map[string]string{}, nil},
		{"RoleBindings grant nothing cluster-wide",
			WhoCanQuestion{Verb: "create", Resource: "pods"}, map[string]string{}, nil},
		{"wildcard Role",
			WhoCanQuestion{Verb: "delete", Group: "apps", Resource: "deployments", Name: "x", Namespace: "staging"},
			map[string]string{"Group developers": "RoleBinding/staging/developers → Role/staging/everything"}, nil},
		{"exec is create on pods/exec; */exec matches it; create on pods does not",
			WhoCanQuestion{Verb: "create", Resource: "pods", Subresource: "exec", Name: "payment-service-0", Namespace: "prod"},
			map[string]string{
				"User oncall": "ClusterRoleBinding/debuggers → ClusterRole/exec-any",
				"User alice":  "RoleBinding/prod/editors → ClusterRole/edit (built-in) [aggregated from ClusterRole/system:aggregate-to-edit]",
			}, nil},
		{"pods/log: view aggregated into edit (and a pods rule does not reach a subresource)",
			WhoCanQuestion{Verb: "get", Resource: "pods", Subresource: "log", Namespace: "prod"},
			map[string]string{"User alice": "RoleBinding/prod/editors → ClusterRole/edit (built-in) [aggregated from ClusterRole/system:aggregate-to-view]"}, nil},
		{"impersonate users",
			WhoCanQuestion{Verb: "impersonate", Resource: "users"},
			map[string]string{"User break-glass": "ClusterRoleBinding/sudo → ClusterRole/impersonator"},
			[]string{"names ServiceAccount no-namespace without a namespace", "Group system:masters is allowed every request"}},
		{"a binding to a missing role grants nothing",
			WhoCanQuestion{Verb: "get", Resource: "nodes"}, map[string]string{},
			[]string{"ClusterRoleBinding/dangling: roleRef ClusterRole/gone does not exist"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ans := WhoCan(inv, c.q)
			got := map[string]string{}
			for _, s := range ans.Subjects {
				if len(s.Via) == 0 {
					t.Errorf("%s: no path", s)
					continue
				}
				got[s.String()] = s.Via[0].String()
				for _, p := range s.Via {
					if !ruleAllows(p.Rule, c.q) {
						t.Errorf("%s: path %s cites rule %s, which does not allow %s", s, p, p.RuleString(), c.q)
					}
				}
			}
			for sub, path := range c.want {
				if path == "" {
					if _, ok := got[sub]; ok {
						t.Errorf("%s: %s allowed via %s, want not allowed", c.q, sub, got[sub])
					}
					continue
				}
				if got[sub] != path {
					t.Errorf("%s: %s via %q, want %q", c.q, sub, got[sub], path)
				}
			}
			for sub, path := range got {
				if _, ok := c.want[sub]; !ok {
					t.Errorf("%s: %s allowed via %s, not expected", c.q, sub, path)
				}
			}
			for _, n := range c.notes {
				if !slices.ContainsFunc(ans.Notes, func(x string) bool { return strings.Contains(x, n) }) {
					t.Errorf("%s: no note %q in %q", c.q, n, ans.Notes)
				}
			}
		})
	}
}

func TestParseResource(t *testing.T) {
	for in, want := range map[string][3]string{
		"pods":      {"pods", "", ""},
		"pods/exec": {"pods", "", "exec"},
		"verticalpodautoscalers.autoscaling.k8s.io": {"verticalpodautoscalers", "autoscaling.k8s.io", ""},
		"deployments.apps/scale":                    {"deployments", "apps", "scale"},
	} {
		r, g, s := ParseResource(in)
		if [3]string{r, g, s} != want {
			t.Errorf("ParseResource(%q) = %q %q %q, want %q", in, r, g, s, want)
		}
	}
}
