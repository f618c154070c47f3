package checks

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite rbacdefaults/policy.json from upstream's YAML beside it")

// TestBootstrapPolicyIsUpstreamsYAML: the policy vigil embeds (rbacdefaults/policy.json)
// decodes to exactly what upstream's six YAML files decode to, each file in its slot, in
// upstream's order; -update writes it from them.
func TestBootstrapPolicyIsUpstreamsYAML(t *testing.T) {
	var want rbacDefaults
	read := func(name string, into any) {
		data, err := os.ReadFile(filepath.Join("rbacdefaults", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(data, into); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var crs, ctrlRoles struct{ Items []rbacv1.ClusterRole }
	var crbs, ctrlBindings struct{ Items []rbacv1.ClusterRoleBinding }
	var rs struct{ Items []rbacv1.Role }
	var rbs struct{ Items []rbacv1.RoleBinding }
	read("cluster-roles.yaml", &crs)
	read("controller-roles.yaml", &ctrlRoles)
	read("cluster-role-bindings.yaml", &crbs)
	read("controller-role-bindings.yaml", &ctrlBindings)
	read("namespace-roles.yaml", &rs)
	read("namespace-role-bindings.yaml", &rbs)
	want.ClusterRoles = append(crs.Items, ctrlRoles.Items...)
	want.ClusterRoleBindings = append(crbs.Items, ctrlBindings.Items...)
	want.Roles, want.RoleBindings = rs.Items, rbs.Items
	if *update {
		b, err := json.MarshalIndent(want, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("rbacdefaults", "policy.json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if len(want.ClusterRoles) < 50 || len(want.ClusterRoleBindings) < 40 || len(want.Roles) == 0 || len(want.RoleBindings) == 0 {
		t.Fatalf("precondition: upstream's YAML gave %d cluster roles, %d cluster role bindings, %d roles, %d role bindings",
			len(want.ClusterRoles), len(want.ClusterRoleBindings), len(want.Roles), len(want.RoleBindings))
	}
	if got := bootstrapRBAC(); !reflect.DeepEqual(got, want) {
		t.Fatal("rbacdefaults/policy.json differs from upstream's YAML beside it: go test ./checks -run TestBootstrapPolicyIsUpstreamsYAML -update")
	}
}

// TestBootstrapExemptEqualsPlain: bootstrapExempt (bindings indexed once) answers as going
// through every bootstrap binding does, for each bootstrap binding's subjects as they are
// and with the binding, its roleRef or the subject changed one way at a time.
func TestBootstrapExemptEqualsPlain(t *testing.T) {
	plain := func(b binding, s rbacv1.Subject) bool {
		for _, d := range BootstrapBindings() {
			if d.Resource != b.Resource || d.RoleRef.Kind != b.RoleRef.Kind || d.RoleRef.Name != b.RoleRef.Name {
				continue
			}
			for _, x := range d.Subjects {
				if sameSubject(x, s, b.Namespace) {
					return true
				}
			}
		}
		return false
	}
	exempt, asked := 0, 0
	for _, d := range BootstrapBindings() {
		b := binding(d)
		for _, s := range d.Subjects {
			variants := []struct {
				what string
				b    binding
				s    rbacv1.Subject
			}{
				{"as bootstrapped", b, s},
				{"subject renamed", b, rbacv1.Subject{Kind: s.Kind, Name: s.Name + "-x", Namespace: s.Namespace}},
				{"subject kind", b, rbacv1.Subject{Kind: "User", Name: s.Name, Namespace: s.Namespace}},
				{"subject namespace", b, rbacv1.Subject{Kind: s.Kind, Name: s.Name, Namespace: "elsewhere"}},
				{"subject namespace left to the binding's", b, rbacv1.Subject{Kind: s.Kind, Name: s.Name}},
				{"binding renamed", binding{Resource{b.Kind, b.Namespace, b.Name + "-x"}, b.RoleRef, b.Subjects}, s},
				{"binding kind", binding{Resource{"RoleBinding", "kube-system", b.Name}, b.RoleRef, b.Subjects}, s},
				{"roleRef re-pointed", binding{b.Resource, rbacv1.RoleRef{Kind: b.RoleRef.Kind, Name: "cluster-admin"}, b.Subjects}, s},
			}
			for _, v := range variants {
				got, want := bootstrapExempt(v.b, v.s), plain(v.b, v.s)
				if got != want {
					t.Errorf("%s %s, subject %s/%s/%s (%s): bootstrapExempt = %v, every binding gone through = %v", v.b.Kind, v.b.Name, v.s.Kind, v.s.Namespace, v.s.Name, v.what, got, want)
				}
				asked++
				if want {
					exempt++
				}
			}
		}
	}
	// Both answers occur, else agreeing says little.
	if exempt == 0 || exempt == asked {
		t.Fatalf("%d of %d exempt: the cases do not tell the answers apart", exempt, asked)
	}
}
