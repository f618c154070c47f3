package checks

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
)

// The Kubernetes RBAC bootstrap policy: the roles and bindings every API
// server creates (plugin/pkg/auth/authorizer/rbac/bootstrappolicy), as
// upstream's own golden files for k8s.io/kubernetes v1.37.2 (Apache-2.0,
// copied verbatim into checks/rbacdefaults/, see its README.md). vigil
// reads them to resolve built-in roles a manifest binds to (cluster-admin,
// admin, edit, view and the aggregation behind them) and to exempt exactly
// the bootstrap bindings, by name, roleRef and subject. It embeds them as
// policy.json, the six YAML files decoded and written as JSON by
// TestBootstrapPolicyIsUpstreamsYAML (-update), which holds the two equal:
// decoding the YAML took 26–46 ms of every check's CPU, the JSON a few.
//
//go:embed rbacdefaults/policy.json
var rbacPolicyJSON []byte

// rbacDefaults is the decoded bootstrap policy.
type rbacDefaults struct {
	ClusterRoles        []rbacv1.ClusterRole
	ClusterRoleBindings []rbacv1.ClusterRoleBinding
	Roles               []rbacv1.Role        // kube-system, kube-public
	RoleBindings        []rbacv1.RoleBinding // kube-system, kube-public
}

// bootstrapRBAC is the bootstrap policy, decoded on first use rather than at
// start-up, which every vigil command paid, most never reading it.
var bootstrapRBAC = sync.OnceValue(func() rbacDefaults {
	var d rbacDefaults
	if err := json.Unmarshal(rbacPolicyJSON, &d); err != nil {
		panic(fmt.Sprintf("checks: embedded RBAC defaults rbacdefaults/policy.json: %v", err))
	}
	return d
})

// BootstrapBinding is one binding of the Kubernetes bootstrap policy,
// exempt from the RBAC effect checks for exactly these subjects.
type BootstrapBinding struct {
	Resource
	RoleRef  rbacv1.RoleRef
	Subjects []rbacv1.Subject
}

// BootstrapBindings lists the bindings the RBAC checks exempt, in the
// order of upstream's files (cluster, controller, namespace bindings).
func BootstrapBindings() []BootstrapBinding {
	var out []BootstrapBinding
	for _, b := range bootstrapRBAC().ClusterRoleBindings {
		out = append(out, BootstrapBinding{Resource{"ClusterRoleBinding", "", b.Name}, b.RoleRef, b.Subjects})
	}
	for _, b := range bootstrapRBAC().RoleBindings {
		out = append(out, BootstrapBinding{Resource{"RoleBinding", b.Namespace, b.Name}, b.RoleRef, b.Subjects})
	}
	return out
}

// bootstrapByResource is BootstrapBindings by binding, made once: the RBAC checks ask it for
// every subject of every binding of every evaluation.
var bootstrapByResource = sync.OnceValue(func() map[Resource][]BootstrapBinding {
	m := map[Resource][]BootstrapBinding{}
	for _, b := range BootstrapBindings() {
		m[b.Resource] = append(m[b.Resource], b)
	}
	return m
})

// sameSubject compares subjects as the authorizer does: kind, name and,
// for service accounts, namespace (defaulted to the binding's).
func sameSubject(a, b rbacv1.Subject, bindingNS string) bool {
	if a.Kind != b.Kind || a.Name != b.Name {
		return false
	}
	return a.Kind != rbacv1.ServiceAccountKind || subjectNS(a, bindingNS) == subjectNS(b, bindingNS)
}

// bootstrapExempt reports whether subject s of binding b is one the
// bootstrap policy itself binds: same binding kind, namespace and name,
// same roleRef, and s among its subjects. A binding renamed, re-pointed or
// given another subject is judged like any other.
func bootstrapExempt(b binding, s rbacv1.Subject) bool {
	for _, d := range bootstrapByResource()[b.Resource] {
		if d.RoleRef.Kind == b.RoleRef.Kind && d.RoleRef.Name == b.RoleRef.Name &&
			slices.ContainsFunc(d.Subjects, func(x rbacv1.Subject) bool { return sameSubject(x, s, b.Namespace) }) {
			return true
		}
	}
	return false
}

// isBootstrapRole reports whether a role is one the bootstrap policy
// creates, by exact kind, namespace and name: its rules are Kubernetes'
// own and not the estate's to lint.
func isBootstrapRole(r Resource) bool {
	switch r.Kind {
	case "ClusterRole":
		return slices.ContainsFunc(bootstrapRBAC().ClusterRoles, func(c rbacv1.ClusterRole) bool { return c.Name == r.Name })
	case "Role":
		return slices.ContainsFunc(bootstrapRBAC().Roles, func(c rbacv1.Role) bool { return c.Namespace == r.Namespace && c.Name == r.Name })
	}
	return false
}
