package checks

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// This file judges RBAC by effect: what each binding lets its subjects do,
// whatever the roles and bindings are called. A binding's roleRef is
// resolved to rules (a Role of the binding's namespace, or a ClusterRole,
// its aggregationRule expanded over every ClusterRole known), built-in
// roles absent from the inventory come from the bootstrap policy, and the
// rules are matched the way the RBAC authorizer matches a request.

// clusterRoles returns every ClusterRole known: the inventory's, then the
// bootstrap policy's for names the inventory lacks (manifests bind to
// cluster-admin or edit without declaring them).
func (inv *Inventory) clusterRoles() []*rbacv1.ClusterRole {
	out := slices.Clone(inv.ClusterRoles)
	for i := range bootstrapRBAC().ClusterRoles {
		d := &bootstrapRBAC().ClusterRoles[i]
		if !slices.ContainsFunc(inv.ClusterRoles, func(c *rbacv1.ClusterRole) bool { return c.Name == d.Name }) {
			out = append(out, d)
		}
	}
	return out
}

// resolvedRole is a roleRef resolved to rules, with where they came from.
type resolvedRole struct {
	Rules []rbacv1.PolicyRule
	// From says how the role was found: "", "built-in" (the bootstrap
	// policy), and the ClusterRoles aggregated into it.
	From string
	// RuleFrom names, rule by rule, the role each rule was read from: the
	// role itself or a ClusterRole aggregated into it.
	RuleFrom []string
}

// resolveRole resolves a binding's roleRef; ok is false when the role is
// neither in the inventory nor a built-in one.
func (inv *Inventory) resolveRole(bindingNS string, ref rbacv1.RoleRef) (resolvedRole, bool) {
	if ref.Kind == "Role" {
		for _, r := range inv.Roles {
			if r.Namespace == bindingNS && r.Name == ref.Name {
				return resolvedRole{Rules: r.Rules, RuleFrom: repeat(r.Name, len(r.Rules))}, true
			}
		}
		for _, r := range bootstrapRBAC().Roles {
			if r.Namespace == bindingNS && r.Name == ref.Name {
				return resolvedRole{Rules: r.Rules, From: "built-in", RuleFrom: repeat(r.Name, len(r.Rules))}, true
			}
		}
		return resolvedRole{}, false
	}
	all := inv.clusterRoles()
	i := slices.IndexFunc(all, func(c *rbacv1.ClusterRole) bool { return c.Name == ref.Name })
	if i < 0 {
		return resolvedRole{}, false
	}
	var res resolvedRole
	if !slices.Contains(inv.ClusterRoles, all[i]) {
		res.From = "built-in"
	}
	var aggregated []string
	seen := map[string]bool{}
	var walk func(c *rbacv1.ClusterRole)
	walk = func(c *rbacv1.ClusterRole) {
		if seen[c.Name] {
			return
		}
		seen[c.Name] = true
		res.Rules = append(res.Rules, c.Rules...)
		res.RuleFrom = append(res.RuleFrom, repeat(c.Name, len(c.Rules))...)
		if c.AggregationRule == nil {
			return
		}
		for _, other := range all {
			for _, sel := range c.AggregationRule.ClusterRoleSelectors {
				if selects(&sel, other.Labels) && !seen[other.Name] {
					aggregated = append(aggregated, other.Name)
					walk(other)
					break
				}
			}
		}
	}
	walk(all[i])
	if len(aggregated) > 0 {
		res.From = strings.TrimPrefix(res.From+", aggregating "+strings.Join(aggregated, ", "), ", ")
	}
	return res, true
}

// repeat returns n copies of s.
func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// The authorizer's matching (k8s.io/kubernetes pkg/apis/rbac/v1 helpers).
func verbMatches(r rbacv1.PolicyRule, verb string) bool {
	return slices.Contains(r.Verbs, rbacv1.VerbAll) || slices.Contains(r.Verbs, verb)
}

func groupMatches(r rbacv1.PolicyRule, group string) bool {
	return slices.Contains(r.APIGroups, rbacv1.APIGroupAll) || slices.Contains(r.APIGroups, group)
}

// resourceMatches matches "resource" or "resource/subresource"; "*"
// matches everything and "*/sub" a subresource of any resource.
func resourceMatches(r rbacv1.PolicyRule, resource string) bool {
	_, sub, hasSub := strings.Cut(resource, "/")
	for _, x := range r.Resources {
		if x == rbacv1.ResourceAll || x == resource || (hasSub && x == "*/"+sub) {
			return true
		}
	}
	return false
}

// power is one thing a binding can let its subjects do.
type power struct {
	// What describes the power for evidence.
	What string
	// Requests are the (verb, group, resource) requests that exercise it;
	// a rule matching any of them grants it.
	Requests [][3]string
	// NamesRestrict says a rule with resourceNames does not grant the power
	// (it reaches only the named objects, or, for create, nothing).
	NamesRestrict bool
	// NamedGrantsNothing says a rule with resourceNames grants no request
	// of the power at all (create: the name is not known when authorized).
	NamedGrantsNothing bool
}

func requests(verbs []string, group string, resources ...string) [][3]string {
	var out [][3]string
	for _, v := range verbs {
		for _, r := range resources {
			out = append(out, [3]string{v, group, r})
		}
	}
	return out
}

var (
	powerSecretRead = power{What: "read Secrets", NamesRestrict: true,
		Requests: requests([]string{"get", "list", "watch"}, "", "secrets")}
	powerExec = power{What: "exec into or attach to pods",
		Requests: requests([]string{"create", "get"}, "", "pods/exec", "pods/attach")}
	powerCreateWorkloads = power{What: "create pods or workloads", NamesRestrict: true, NamedGrantsNothing: true,
		Requests: slices.Concat(requests([]string{"create"}, "", "pods", "replicationcontrollers"),
			requests([]string{"create"}, "apps", "deployments", "replicasets", "statefulsets", "daemonsets"),
			requests([]string{"create"}, "batch", "jobs", "cronjobs"))}
	powerEscalate = power{What: "escalate or bind roles, or impersonate",
		Requests: slices.Concat(requests([]string{"escalate", "bind"}, "rbac.authorization.k8s.io", "roles", "clusterroles"),
			requests([]string{"impersonate"}, "", "users", "groups", "serviceaccounts"),
			requests([]string{"impersonate"}, "authentication.k8s.io", "uids", "userextras/scopes"))}
)

// grants returns the rules (as evidence) that give a power.
func grants(rules []rbacv1.PolicyRule, p power) []string {
	var out []string
	for i, r := range rules {
		if p.NamesRestrict && len(r.ResourceNames) > 0 {
			continue
		}
		if slices.ContainsFunc(p.Requests, func(q [3]string) bool {
			return verbMatches(r, q[0]) && groupMatches(r, q[1]) && resourceMatches(r, q[2])
		}) {
			out = append(out, ruleString(i, r))
		}
	}
	return out
}

// isAllPowerful reports whether a rule grants every verb on every resource
// of every group: what cluster-admin grants.
func isAllPowerful(r rbacv1.PolicyRule) bool {
	return len(r.ResourceNames) == 0 && verbMatches(r, "*") && groupMatches(r, "*") && slices.Contains(r.Resources, rbacv1.ResourceAll)
}

// judgedSubjects returns the subjects of a binding that are not exempt as
// the bootstrap policy's own, rendered for evidence.
func judgedSubjects(b binding) []string {
	var out []string
	for i, s := range b.Subjects {
		if bootstrapExempt(b, s) {
			continue
		}
		out = append(out, fmt.Sprintf("subjects[%d]=%s", i, describeSubject(s, b.Namespace)))
	}
	return out
}

func describeSubject(s rbacv1.Subject, bindingNS string) string {
	switch {
	case s.Kind == rbacv1.ServiceAccountKind:
		return fmt.Sprintf("ServiceAccount %s/%s", subjectNS(s, bindingNS), s.Name)
	case s.Kind == rbacv1.GroupKind && s.Name == "system:serviceaccounts":
		return "Group system:serviceaccounts (every service account)"
	case s.Kind == rbacv1.GroupKind && strings.HasPrefix(s.Name, "system:serviceaccounts:"):
		return fmt.Sprintf("Group %s (every service account of namespace %s)", s.Name, strings.TrimPrefix(s.Name, "system:serviceaccounts:"))
	case s.Kind == rbacv1.GroupKind && (s.Name == "system:authenticated" || s.Name == "system:unauthenticated"):
		return fmt.Sprintf("Group %s (everyone %s)", s.Name, strings.TrimPrefix(s.Name, "system:"))
	}
	return s.Kind + " " + s.Name
}

// scopeOf says where a binding's grant applies.
func scopeOf(b binding) string {
	if b.Kind == "ClusterRoleBinding" {
		return "cluster-wide"
	}
	return "in namespace " + b.Namespace
}

// judgeBindings calls judge for every binding with subjects that are not
// exempt, its roleRef resolved; a role that cannot be resolved makes the
// binding unknown.
func (inv *Inventory) judgeBindings(judge func(b binding, subjects, ref string, role resolvedRole) Finding) []Finding {
	var out []Finding
	for _, b := range inv.bindings() {
		subs := judgedSubjects(b)
		if len(subs) == 0 {
			continue
		}
		ref := fmt.Sprintf("roleRef=%s/%s", b.RoleRef.Kind, b.RoleRef.Name)
		role, ok := inv.resolveRole(b.Namespace, b.RoleRef)
		if !ok {
			out = append(out, Finding{Status: Unknown, Resource: b.Resource,
				Evidence:    fmt.Sprintf("%s is neither in the inventory nor a Kubernetes built-in role: what it grants %s is unknown", ref, strings.Join(subs, ", ")),
				Remediation: "Include the role in the input (or grant vigil list on roles and clusterroles), or delete the binding if the role no longer exists."})
			continue
		}
		if role.From != "" {
			ref += " (" + role.From + ")"
		}
		out = append(out, judge(b, strings.Join(subs, ", "), ref, role))
	}
	return out
}

// evalBindingPower fails every binding whose resolved role grants the
// power to a subject that is not exempt.
func evalBindingPower(inv *Inventory, p power) []Finding {
	return inv.judgeBindings(func(b binding, subs, ref string, role resolvedRole) Finding {
		if rules := grants(role.Rules, p); len(rules) > 0 {
			return finding(Fail, b.Resource, "%s lets %s %s %s: %s", ref, subs, p.What, scopeOf(b), strings.Join(rules, "; "))
		}
		if p.NamesRestrict {
			named := p
			named.NamesRestrict = false
			if rules := grants(role.Rules, named); len(rules) > 0 && p.NamedGrantsNothing {
				return finding(Pass, b.Resource, "%s does not let %s %s (resourceNames never match a create request: %s)", ref, subs, p.What, strings.Join(rules, "; "))
			} else if len(rules) > 0 {
				return finding(Pass, b.Resource, "%s lets %s %s by resourceNames only: %s", ref, subs, p.What, strings.Join(rules, "; "))
			}
		}
		return finding(Pass, b.Resource, "%s does not let %s %s", ref, subs, p.What)
	})
}

func evalClusterAdmin(inv *Inventory) []Finding {
	return inv.judgeBindings(func(b binding, subs, ref string, role resolvedRole) Finding {
		var all []string
		for i, r := range role.Rules {
			if isAllPowerful(r) {
				all = append(all, ruleString(i, r))
			}
		}
		if len(all) > 0 {
			return finding(Fail, b.Resource, "%s grants every verb on every resource (cluster-admin-equivalent) %s to %s: %s", ref, scopeOf(b), subs, strings.Join(all, "; "))
		}
		return finding(Pass, b.Resource, "%s is not cluster-admin-equivalent, %s", ref, subs)
	})
}
