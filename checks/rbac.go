package checks

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

const itemRBAC = "RBAC configured for all service accounts"

func rbacChecks() []Check {
	return []Check{
		{
			ID: "rbac-default-service-account", Title: "Workloads run on their own service account, not `default`",
			Group: Security, Item: itemRBAC, PCI: []string{"7.2.5", "8.2.2"}, Severity: High,
			Rationale:   "The namespace's default service account is shared by everything that names no account, so any permission granted to it leaks to every such pod and audit logs cannot tell the workloads apart.",
			Remediation: "Create a dedicated ServiceAccount per workload and set spec.template.spec.serviceAccountName to it.",
			Needs:       []string{ResDeployments, ResStatefulSets, ResDaemonSets, ResPods},
			Eval:        evalDefaultServiceAccount,
		},
		{
			ID: "rbac-no-wildcards", Title: "Roles grant no wildcard verbs, resources or API groups",
			Group: Security, Item: itemRBAC, PCI: []string{"7.2.2", "7.2.5"}, Severity: High,
			Rationale:   "A `*` grants every current and future verb or resource, including escalate, bind and impersonate; least privilege needs an explicit list.",
			Remediation: "Replace `*` with the explicit apiGroups, resources and verbs the subject needs (kubectl auth can-i --list shows what is used).",
			Needs:       []string{ResRoles, ResClusterRoles},
			Eval:        evalWildcards,
		},
		{
			ID: "rbac-no-cluster-admin-service-accounts", Title: "No subject is bound to cluster-admin or an equivalent role",
			Group: Security, Item: itemRBAC, PCI: []string{"7.2.2", "7.2.5"}, Severity: Critical,
			Rationale:   "A user, group or workload token holding every verb on every resource (cluster-admin, or any role with * on * in *) turns any compromise of it into full control of the cluster (of the namespace, through a RoleBinding), including every Secret of the cardholder-data environment. Judged for every subject, groups such as system:serviceaccounts included; only the Kubernetes bootstrap bindings are exempt.",
			Remediation: "Bind the subject to a ClusterRole/Role listing only what it needs (e.g. get/list/watch on pods, services, endpoints for Prometheus discovery) and delete the cluster-admin-equivalent binding; keep break-glass admin access outside standing bindings.",
			Needs:       []string{ResRoleBindings, ResClusterRoleBindings, ResRoles, ResClusterRoles},
			Eval:        evalClusterAdmin,
		},
		{
			ID: "rbac-secrets-resource-names", Title: "Bindings grant Secret reads only by resourceNames",
			Group: Security, Item: itemRBAC, PCI: []string{"7.2.2", "7.2.5", "3.6.1"}, Severity: High,
			Rationale:   "get/list/watch on all Secrets of a namespace (or the cluster) exposes every credential and key in it. Judged by effect: the role each binding grants (built-in and aggregated roles resolved, edit and admin included) is searched for a Secret read not narrowed by resourceNames.",
			Remediation: "Grant only `get` on secrets with resourceNames listing the Secrets the workload mounts (the seed's fintech-service-account Role is the model). Secret controllers (External Secrets, Sealed Secrets) legitimately need more: document them as accepted exceptions.",
			Needs:       []string{ResRoleBindings, ResClusterRoleBindings, ResRoles, ResClusterRoles},
			Eval:        func(inv *Inventory) []Finding { return evalBindingPower(inv, powerSecretRead) },
		},
		{
			ID: "rbac-no-escalation", Title: "No subject may escalate, bind or impersonate",
			Group: Security, Item: itemRBAC, PCI: []string{"7.2.2", "7.2.5"}, Severity: Critical,
			Rationale:   "escalate lets a subject write roles granting more than it holds, bind lets it bind any role (cluster-admin included), impersonate lets it act as another user, group or service account: each is a path around least privilege to everything.",
			Remediation: "Remove escalate and bind on roles/clusterroles and impersonate on users/groups/serviceaccounts from the role (and any `*` verb or resource that implies them); leave them to the bootstrap controllers and a break-glass procedure.",
			Needs:       []string{ResRoleBindings, ResClusterRoleBindings, ResRoles, ResClusterRoles},
			Eval:        func(inv *Inventory) []Finding { return evalBindingPower(inv, powerEscalate) },
		},
		{
			ID: "rbac-no-pod-exec", Title: "No subject may exec into or attach to pods",
			Group: Security, Item: itemRBAC, PCI: []string{"7.2.2", "7.2.5"}, Severity: High,
			Rationale:   "pods/exec and pods/attach give a shell in a running container: its mounted Secrets, its service-account token and its network position in the cardholder-data environment, outside any change process.",
			Remediation: "Remove create/get on pods/exec and pods/attach (and `*` resources or verbs implying them) from standing roles; grant them just in time through a reviewed, audited break-glass role.",
			Needs:       []string{ResRoleBindings, ResClusterRoleBindings, ResRoles, ResClusterRoles},
			Eval:        func(inv *Inventory) []Finding { return evalBindingPower(inv, powerExec) },
		},
		{
			ID: "rbac-no-workload-create", Title: "Only delivery identities may create pods or workloads",
			Group: Security, Item: itemRBAC, PCI: []string{"7.2.2", "7.2.5", "6.5.1"}, Severity: High,
			Rationale:   "A subject that can create a pod (directly, or through a Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob or ReplicationController) can run it as any service account of the namespace and mount any of its Secrets: it holds everything the namespace holds.",
			Remediation: "Leave workload creation to the GitOps controller (Argo CD) and the built-in controllers; remove create on pods and workload kinds from human and application roles, or document the delivery identity as an accepted exception.",
			Needs:       []string{ResRoleBindings, ResClusterRoleBindings, ResRoles, ResClusterRoles},
			Eval:        func(inv *Inventory) []Finding { return evalBindingPower(inv, powerCreateWorkloads) },
		},
		{
			ID: "rbac-automount-token", Title: "Service account tokens are not mounted where unused",
			Group: Security, Item: itemRBAC, PCI: []string{"7.2.5"}, Severity: Medium,
			Rationale:   "A mounted token that no RBAC binding needs is only useful to an attacker inside the pod (API discovery, and any permission later granted to the account).",
			Remediation: "Set automountServiceAccountToken: false on the ServiceAccount or the pod spec, or bind the account to the Role it needs.",
			Needs:       []string{ResDeployments, ResStatefulSets, ResDaemonSets, ResPods, ResServiceAccounts, ResRoleBindings, ResClusterRoleBindings},
			Eval:        evalAutomountToken,
		},
		{
			ID: "rbac-no-stale-rules", Title: "No RBAC rule refers to an API removed from Kubernetes",
			Group: Security, Item: itemRBAC, PCI: []string{"7.2.4", "7.2.5.1"}, Severity: Low,
			Rationale:   "Rules for removed APIs (PodSecurityPolicy, gone in 1.25) are dead access that no review notices; PCI asks for periodic review of all access.",
			Remediation: "Delete the rule (and the Role and binding if nothing else remains) and enforce Pod Security Admission labels instead.",
			Needs:       []string{ResRoles, ResClusterRoles},
			Eval:        evalStaleRules,
		},
	}
}

func evalDefaultServiceAccount(inv *Inventory) []Finding {
	var out []Finding
	for _, w := range inv.workloads() {
		sa := w.Spec().ServiceAccountName
		field := w.Field + ".serviceAccountName"
		switch sa {
		case "":
			out = append(out, finding(Fail, w.Ref(), "%s unset: runs as \"default\"", field))
		case "default":
			out = append(out, finding(Fail, w.Ref(), "%s=default", field))
		default:
			out = append(out, finding(Pass, w.Ref(), "%s=%s", field, sa))
		}
	}
	return out
}

// role is a Role or ClusterRole seen through what the RBAC checks need.
type role struct {
	Resource
	Rules  []rbacv1.PolicyRule
	System bool
}

// roles returns every Role and ClusterRole of the inventory; the bootstrap
// policy's own (by exact kind, namespace and name, never by a "system:"
// prefix or a label anyone can set) are marked System.
func (inv *Inventory) roles() []role {
	var out []role
	for _, r := range inv.Roles {
		res := Resource{"Role", r.Namespace, r.Name}
		out = append(out, role{res, r.Rules, isBootstrapRole(res)})
	}
	for _, r := range inv.ClusterRoles {
		res := Resource{"ClusterRole", "", r.Name}
		out = append(out, role{res, r.Rules, isBootstrapRole(res)})
	}
	return out
}

func ruleString(i int, r rbacv1.PolicyRule) string {
	s := fmt.Sprintf("rules[%d]: apiGroups=%v resources=%v verbs=%v", i, r.APIGroups, r.Resources, r.Verbs)
	if len(r.ResourceNames) > 0 {
		s += fmt.Sprintf(" resourceNames=%v", r.ResourceNames)
	}
	if len(r.NonResourceURLs) > 0 {
		s += fmt.Sprintf(" nonResourceURLs=%v", r.NonResourceURLs)
	}
	return s
}

func evalWildcards(inv *Inventory) []Finding {
	var out []Finding
	for _, r := range inv.roles() {
		if r.System {
			continue
		}
		var bad []string
		for i, rule := range r.Rules {
			if slices.Contains(rule.Verbs, "*") || slices.Contains(rule.Resources, "*") || slices.Contains(rule.APIGroups, "*") {
				bad = append(bad, ruleString(i, rule))
			}
		}
		out = append(out, failOrPass(r.Resource, bad, "%d rules, none with `*` in apiGroups, resources or verbs", len(r.Rules)))
	}
	return out
}

// binding is a RoleBinding or ClusterRoleBinding.
type binding struct {
	Resource
	RoleRef  rbacv1.RoleRef
	Subjects []rbacv1.Subject
}

func (inv *Inventory) bindings() []binding {
	var out []binding
	for _, b := range inv.RoleBindings {
		out = append(out, binding{Resource{"RoleBinding", b.Namespace, b.Name}, b.RoleRef, b.Subjects})
	}
	for _, b := range inv.ClusterRoleBindings {
		out = append(out, binding{Resource{"ClusterRoleBinding", "", b.Name}, b.RoleRef, b.Subjects})
	}
	return out
}

func subjectNS(s rbacv1.Subject, bindingNS string) string {
	if s.Namespace != "" {
		return s.Namespace
	}
	return bindingNS
}

// boundServiceAccounts returns "namespace/name" of every service account a
// binding names, directly or through the system:serviceaccounts groups,
// with the first binding that names it.
func (inv *Inventory) isBound(ns, name string) (string, bool) {
	for _, b := range inv.bindings() {
		for _, s := range b.Subjects {
			switch {
			case s.Kind == rbacv1.ServiceAccountKind && s.Name == name && subjectNS(s, b.Namespace) == ns,
				s.Kind == rbacv1.GroupKind && (s.Name == "system:serviceaccounts" || s.Name == "system:serviceaccounts:"+ns):
				if b.Kind == "RoleBinding" && b.Namespace != ns && s.Kind == rbacv1.GroupKind {
					continue
				}
				return b.String(), true
			}
		}
	}
	return "", false
}

func evalAutomountToken(inv *Inventory) []Finding {
	var out []Finding
	for _, w := range inv.workloads() {
		name := w.Spec().ServiceAccountName
		if name == "" {
			name = "default"
		}
		mounted, why := true, ""
		if a := w.Spec().AutomountServiceAccountToken; a != nil {
			mounted, why = *a, fmt.Sprintf("%s.automountServiceAccountToken=%t", w.Field, *a)
		} else {
			why = fmt.Sprintf("%s.automountServiceAccountToken unset", w.Field)
			for _, sa := range inv.ServiceAccounts {
				if sa.Namespace == w.Namespace && sa.Name == name && sa.AutomountServiceAccountToken != nil {
					mounted = *sa.AutomountServiceAccountToken
					why += fmt.Sprintf(", ServiceAccount %s automountServiceAccountToken=%t", name, mounted)
				}
			}
		}
		if !mounted {
			out = append(out, finding(Pass, w.Ref(), "%s: token not mounted", why))
			continue
		}
		if b, ok := inv.isBound(w.Namespace, name); ok {
			out = append(out, finding(Pass, w.Ref(), "%s: token mounted and used (ServiceAccount %s is bound by %s)", why, name, b))
			continue
		}
		out = append(out, finding(Fail, w.Ref(), "%s: token mounted, but no RoleBinding or ClusterRoleBinding names ServiceAccount %s/%s", why, w.Namespace, name))
	}
	return out
}

// removedResources are API resources Kubernetes no longer serves.
var removedResources = map[string]string{
	"podsecuritypolicies": "PodSecurityPolicy, removed in Kubernetes 1.25",
}

func evalStaleRules(inv *Inventory) []Finding {
	var out []Finding
	for _, r := range inv.roles() {
		if r.System {
			continue
		}
		var bad []string
		for i, rule := range r.Rules {
			for _, res := range rule.Resources {
				if what, ok := removedResources[res]; ok {
					bad = append(bad, fmt.Sprintf("%s (%s)", ruleString(i, rule), what))
				}
			}
		}
		if len(bad) > 0 {
			out = append(out, finding(Warn, r.Resource, "%s", strings.Join(bad, "; ")))
		} else {
			out = append(out, finding(Pass, r.Resource, "no rule names a removed API"))
		}
	}
	return out
}
