package checks

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

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
