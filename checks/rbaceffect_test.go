package checks

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-helpers/auth/rbac/validation"
)

// TestPowersMatchUpstreamCovers holds the rule matching of the RBAC effect
// checks to Kubernetes' own: validation.Covers, the comparison the API
// server uses to refuse privilege escalation. For random rules, a power is
// granted exactly when the rules cover one of its requests (resourceNames
// dropped for powers they do not restrict).
func TestPowersMatchUpstreamCovers(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 15))
	some := func(xs ...string) []string {
		var out []string
		for _, x := range xs {
			if r.IntN(4) == 0 {
				out = append(out, x)
			}
		}
		if len(out) == 0 {
			out = []string{xs[r.IntN(len(xs))]}
		}
		return out
	}
	powers := map[string]power{"secret read": powerSecretRead, "exec": powerExec, "create": powerCreateWorkloads, "escalate": powerEscalate}
	granted := map[string]int{}
	const n = 20000
	for range n {
		var rules []rbacv1.PolicyRule
		for range 1 + r.IntN(3) {
			rule := rbacv1.PolicyRule{
				Verbs:     some("*", "get", "list", "watch", "create", "update", "escalate", "bind", "impersonate"),
				APIGroups: some("*", "", "apps", "batch", "rbac.authorization.k8s.io", "authentication.k8s.io"),
				Resources: some("*", "secrets", "pods", "pods/exec", "pods/attach", "*/exec", "*/attach", "pods/log", "deployments", "jobs",
					"roles", "clusterroles", "serviceaccounts", "users", "groups", "uids", "configmaps"),
			}
			if r.IntN(4) == 0 {
				rule.ResourceNames = []string{"x"}
			}
			rules = append(rules, rule)
		}
		for name, p := range powers {
			owner := slices.Clone(rules)
			if !p.NamesRestrict {
				for i := range owner {
					owner[i].ResourceNames = nil
				}
			}
			want := slices.ContainsFunc(p.Requests, func(q [3]string) bool {
				ok, _ := validation.Covers(owner, []rbacv1.PolicyRule{{Verbs: []string{q[0]}, APIGroups: []string{q[1]}, Resources: []string{q[2]}}})
				return ok
			})
			if got := len(grants(rules, p)) > 0; got != want {
				t.Fatalf("%s: rules %+v: grants says %t, Covers %t", name, rules, got, want)
			}
			if want {
				granted[name]++
			}
		}
		all, _ := validation.Covers(rules, []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}})
		if got := slices.ContainsFunc(rules, isAllPowerful); got != all {
			t.Fatalf("rules %+v: isAllPowerful says %t, Covers %t", rules, got, all)
		}
	}
	for name := range powers {
		if granted[name] < n/50 || granted[name] > n*49/50 {
			t.Errorf("%s granted in %d of %d random rule sets: the generator is lopsided", name, granted[name], n)
		}
	}
	t.Logf("granted per power over %d rule sets: %v", n, granted)
}

// TestBootstrapBindingsExemptExactly: an inventory holding the bootstrap
// policy's own bindings (as a live cluster does) gets no RBAC effect
// finding on them; the same binding with a subject added, a roleRef
// changed, or under another name is judged.
func TestBootstrapBindingsExemptExactly(t *testing.T) {
	inv := &Inventory{}
	for i := range bootstrapRBAC().ClusterRoleBindings {
		inv.ClusterRoleBindings = append(inv.ClusterRoleBindings, &bootstrapRBAC().ClusterRoleBindings[i])
	}
	for i := range bootstrapRBAC().RoleBindings {
		inv.RoleBindings = append(inv.RoleBindings, &bootstrapRBAC().RoleBindings[i])
	}
	if len(inv.ClusterRoleBindings) < 40 || len(inv.RoleBindings) < 5 {
		t.Fatalf("bootstrap policy has %d cluster and %d namespace bindings", len(inv.ClusterRoleBindings), len(inv.RoleBindings))
	}
	evals := map[string]func(*Inventory) []Finding{
		"cluster-admin": evalClusterAdmin,
		"secrets":       func(i *Inventory) []Finding { return evalBindingPower(i, powerSecretRead) },
		"exec":          func(i *Inventory) []Finding { return evalBindingPower(i, powerExec) },
		"create":        func(i *Inventory) []Finding { return evalBindingPower(i, powerCreateWorkloads) },
		"escalate":      func(i *Inventory) []Finding { return evalBindingPower(i, powerEscalate) },
	}
	for name, eval := range evals {
		if fs := eval(inv); len(fs) > 0 {
			t.Errorf("%s: bootstrap bindings judged: %+v", name, fs[0])
		}
	}

	cases := map[string]func(b *rbacv1.ClusterRoleBinding){
		"extra subject": func(b *rbacv1.ClusterRoleBinding) {
			b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "ci", Namespace: "shop"})
		},
		"roleRef changed": func(b *rbacv1.ClusterRoleBinding) { b.RoleRef.Name = "cluster-admin" },
		"renamed":         func(b *rbacv1.ClusterRoleBinding) { b.Name = "system:kube-dns-2" },
		"subject in another namespace": func(b *rbacv1.ClusterRoleBinding) {
			b.Subjects = []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "kube-dns", Namespace: "shop"}}
		},
	}
	for name, mutate := range cases {
		b := bootstrapBinding(t, "system:kube-dns")
		mutate(&b)
		if name == "roleRef changed" || name == "renamed" || name == "subject in another namespace" {
			b.RoleRef.Name = "cluster-admin"
		}
		fs := evalClusterAdmin(&Inventory{ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{&b}})
		if len(fs) != 1 || (name != "extra subject" && fs[0].Status != Fail) {
			t.Errorf("%s: got %+v, want the binding judged", name, fs)
		}
	}
}

func bootstrapBinding(t *testing.T, name string) rbacv1.ClusterRoleBinding {
	t.Helper()
	for _, b := range bootstrapRBAC().ClusterRoleBindings {
		if b.Name == name {
			b.Subjects = slices.Clone(b.Subjects)
			b.ObjectMeta = metav1.ObjectMeta{Name: b.Name}
			return b
		}
	}
	t.Fatalf("no bootstrap binding %s", name)
	return rbacv1.ClusterRoleBinding{}
}

// TestBuiltinRolesResolved: what the user-facing built-in roles grant, as
// the Kubernetes documentation states it ("Using RBAC Authorization",
// User-facing roles): view reads no Secrets and cannot exec; edit reads
// Secrets, runs pods and impersonates service accounts ("can gain access
// to ... any ServiceAccount in the namespace"); admin adds Roles and
// RoleBindings without escalate; cluster-admin everything. Resolving
// admin/edit/view needs their aggregationRule over the bootstrap roles.
func TestBuiltinRolesResolved(t *testing.T) {
	inv := &Inventory{}
	want := map[string]map[string]bool{
		"view":          {"secret read": false, "exec": false, "create": false, "escalate": false, "all": false},
		"edit":          {"secret read": true, "exec": true, "create": true, "escalate": true, "all": false},
		"admin":         {"secret read": true, "exec": true, "create": true, "escalate": true, "all": false},
		"cluster-admin": {"secret read": true, "exec": true, "create": true, "escalate": true, "all": true},
	}
	powers := map[string]power{"secret read": powerSecretRead, "exec": powerExec, "create": powerCreateWorkloads, "escalate": powerEscalate}
	for role, ws := range want {
		res, ok := inv.resolveRole("shop", rbacv1.RoleRef{Kind: "ClusterRole", Name: role})
		if !ok {
			t.Fatalf("%s not resolved", role)
		}
		for name, w := range ws {
			var got bool
			if name == "all" {
				got = slices.ContainsFunc(res.Rules, isAllPowerful)
			} else {
				got = len(grants(res.Rules, powers[name])) > 0
			}
			if got != w {
				t.Errorf("%s (%s): %s granted %t, want %t", role, res.From, name, got, w)
			}
		}
	}
	// admin may manage RoleBindings but holds no escalate or bind verb itself.
	res, _ := inv.resolveRole("shop", rbacv1.RoleRef{Kind: "ClusterRole", Name: "admin"})
	for _, r := range res.Rules {
		if slices.Contains(r.Verbs, "escalate") || slices.Contains(r.Verbs, "bind") {
			t.Errorf("admin: rule %+v holds escalate/bind", r)
		}
	}
}

// TestBootstrapExemptionsDocumented: docs/checks.md lists every exempt
// bootstrap binding with its roleRef, and no other.
func TestBootstrapExemptionsDocumented(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "checks.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	listed := 0
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "| ClusterRoleBinding | `") || strings.HasPrefix(line, "| RoleBinding | `") {
			listed++
		}
	}
	all := BootstrapBindings()
	for _, d := range all {
		name := d.Name
		if d.Namespace != "" {
			name = d.Namespace + "/" + d.Name
		}
		if row := fmt.Sprintf("| %s | `%s` | %s `%s` |", d.Kind, name, d.RoleRef.Kind, d.RoleRef.Name); !strings.Contains(doc, row) {
			t.Errorf("docs/checks.md does not list %q", row)
		}
	}
	if listed != len(all) {
		t.Errorf("docs/checks.md lists %d exempt bindings, the bootstrap policy has %d", listed, len(all))
	}
}
