package checks

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Who can: the subjects RBAC lets make one request, derived from the
// inventory's roles and bindings the way the RBAC authorizer decides it
// (plugin/pkg/auth/authorizer/rbac): every ClusterRoleBinding, plus the
// RoleBindings of the request's namespace, each roleRef resolved as the
// RBAC effect checks resolve it (resolveRole: aggregation expanded,
// built-in roles from the bootstrap policy) and its rules matched by verb,
// API group, resource[/subresource] and resourceNames.

// WhoCanQuestion is one resource request, as a SubjectAccessReview's
// resourceAttributes would carry it.
type WhoCanQuestion struct {
	// Verb is the API verb: get, list, create, ..., and escalate, bind,
	// impersonate. Exec into a pod is create on pods/exec.
	Verb string `json:"verb"`
	// Group is the API group; "" is the core group.
	Group string `json:"group"`
	// Resource is the plural resource name (pods, secrets, users).
	Resource string `json:"resource"`
	// Subresource is the subresource, such as exec in pods/exec.
	Subresource string `json:"subresource,omitempty"`
	// Name is the object's name; "" asks about every object.
	Name string `json:"name,omitempty"`
	// Namespace is the request's namespace; "" asks cluster-wide (a
	// cluster-scoped resource, or a namespaced one in every namespace), which
	// RoleBindings never grant.
	Namespace string `json:"namespace,omitempty"`
}

// ParseResource splits a command-line resource the way kubectl reads it:
// "resource[.group][/subresource]", as in pods/exec, deployments.apps or
// verticalpodautoscalers.autoscaling.k8s.io.
func ParseResource(arg string) (resource, group, subresource string) {
	arg, subresource, _ = strings.Cut(arg, "/")
	resource, group, _ = strings.Cut(arg, ".")
	return resource, group, subresource
}

// NewWhoCanQuestion is the question of a command line: an API verb, a resource as
// ParseResource reads it, an optional object name and namespace. It refuses a verb
// with a space or slash and an empty resource, saying what is wanted.
func NewWhoCanQuestion(verb, resource, name, namespace string) (WhoCanQuestion, error) {
	q := WhoCanQuestion{Verb: verb, Name: name, Namespace: namespace}
	q.Resource, q.Group, q.Subresource = ParseResource(resource)
	switch {
	case q.Verb == "" || strings.ContainsAny(q.Verb, " /"):
		return q, fmt.Errorf("verb %q: want an API verb such as get, list, create, impersonate", q.Verb)
	case q.Resource == "":
		return q, fmt.Errorf("resource %q: want a resource such as pods, pods/exec or deployments.apps", resource)
	}
	return q, nil
}

// String renders the question: verb resource[.group][/subresource] [name] [-n ns].
func (q WhoCanQuestion) String() string {
	res := q.Resource
	if q.Group != "" {
		res += "." + q.Group
	}
	if q.Subresource != "" {
		res += "/" + q.Subresource
	}
	s := q.Verb + " " + res
	if q.Name != "" {
		s += " " + q.Name
	}
	if q.Namespace != "" {
		s += " -n " + q.Namespace
	}
	return s
}

// combined is resource/subresource, as rules name it.
func (q WhoCanQuestion) combined() string {
	if q.Subresource == "" {
		return q.Resource
	}
	return q.Resource + "/" + q.Subresource
}

// WhoCanAnswer is every subject RBAC lets make a request, each with the
// bindings that grant it, and what the answer cannot say.
type WhoCanAnswer struct {
	Question WhoCanQuestion `json:"question"`
	// Subjects are sorted by kind, namespace and name.
	Subjects []WhoCanSubject `json:"subjects"`
	// Notes say what else bears on the answer: grants by resourceNames
	// only, bindings whose role does not exist, RBAC objects vigil could
	// not list, the system:masters group.
	Notes []string `json:"notes,omitempty"`
}

// WhoCanSubject is a binding subject allowed the request.
type WhoCanSubject struct {
	// Kind is User, Group or ServiceAccount.
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Namespace is the service account's; empty for users and groups.
	Namespace string `json:"namespace,omitempty"`
	// Via are the grants, one per binding naming the subject.
	Via []WhoCanPath `json:"via"`
}

// String renders the subject: ServiceAccount ns/name, User name, Group name.
func (s WhoCanSubject) String() string {
	if s.Namespace != "" {
		return s.Kind + " " + s.Namespace + "/" + s.Name
	}
	return s.Kind + " " + s.Name
}

// WhoCanPath is how a subject is granted: binding → role → rule.
type WhoCanPath struct {
	// Binding is the RoleBinding or ClusterRoleBinding naming the subject.
	Binding Resource `json:"binding"`
	// Role is the binding's roleRef: a Role of the binding's namespace or a ClusterRole.
	Role Resource `json:"role"`
	// BuiltIn says the role is not in the inventory and was read from
	// Kubernetes' bootstrap policy.
	BuiltIn bool `json:"builtIn,omitempty"`
	// AggregatedFrom names the ClusterRole the rule was read from when it
	// was aggregated into Role (aggregationRule) rather than written in it.
	AggregatedFrom string `json:"aggregatedFrom,omitempty"`
	// Rule is the first rule that allows the request.
	Rule rbacv1.PolicyRule `json:"rule"`
}

// String renders the path: Binding → Role [aggregated from X]: rule.
func (p WhoCanPath) String() string {
	s := p.Binding.String() + " → " + p.Role.String()
	if p.BuiltIn {
		s += " (built-in)"
	}
	if p.AggregatedFrom != "" {
		s += " [aggregated from ClusterRole/" + p.AggregatedFrom + "]"
	}
	return s
}

// RuleString renders the matching rule as the RBAC checks' evidence does.
func (p WhoCanPath) RuleString() string {
	return strings.TrimPrefix(ruleString(0, p.Rule), "rules[0]: ")
}

// ruleAllows matches a rule against q the way the RBAC authorizer does
// (RuleAllows for a resource request): verb, group, resource or
// resource/subresource (or */subresource), and the name when the rule
// lists resourceNames.
func ruleAllows(r rbacv1.PolicyRule, q WhoCanQuestion) bool {
	if !verbMatches(r, q.Verb) || !groupMatches(r, q.Group) || !resourceMatches(r, q.combined()) {
		return false
	}
	return len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, q.Name)
}

// WhoCan returns the subjects RBAC allows q, each with every binding that
// grants it. It reads the inventory's RoleBindings of q.Namespace and its
// ClusterRoleBindings, so an inventory listed in other namespaces only
// answers for those.
func WhoCan(inv *Inventory, q WhoCanQuestion) WhoCanAnswer {
	ans := WhoCanAnswer{Question: q, Subjects: []WhoCanSubject{}}
	for _, res := range []string{ResClusterRoles, ResClusterRoleBindings, ResRoles, ResRoleBindings} {
		if why, ok := inv.Forbidden[res]; ok {
			ans.Notes = append(ans.Notes, fmt.Sprintf("%s could not be listed (%s): subjects they grant are missing", res, why))
		}
	}
	bySubject := map[string]int{}
	for _, b := range inv.bindings() {
		if b.Kind == "RoleBinding" && (q.Namespace == "" || b.Namespace != q.Namespace) {
			continue // a RoleBinding grants only in its own namespace
		}
		role, ok := inv.resolveRole(b.Namespace, b.RoleRef)
		if !ok {
			ans.Notes = append(ans.Notes, fmt.Sprintf("%s: roleRef %s/%s does not exist: it grants nothing", b.Resource, b.RoleRef.Kind, b.RoleRef.Name))
			continue
		}
		roleRes := Resource{Kind: b.RoleRef.Kind, Name: b.RoleRef.Name}
		if b.RoleRef.Kind == "Role" {
			roleRes.Namespace = b.Namespace
		}
		path, named, ok := matchRole(role, b.RoleRef.Name, q)
		if !ok {
			if len(named) > 0 {
				ans.Notes = append(ans.Notes, fmt.Sprintf("%s → %s allows it on resourceNames %v only (ask about one of them by NAME)", b.Resource, roleRes, named))
			}
			continue
		}
		path.Binding, path.Role = b.Resource, roleRes
		path.BuiltIn = strings.HasPrefix(role.From, "built-in")
		if path.AggregatedFrom == b.RoleRef.Name {
			path.AggregatedFrom = ""
		}
		for _, s := range b.Subjects {
			sub := WhoCanSubject{Kind: s.Kind, Name: s.Name}
			if s.Kind == rbacv1.ServiceAccountKind {
				if sub.Namespace = subjectNS(s, b.Namespace); sub.Namespace == "" {
					ans.Notes = append(ans.Notes, fmt.Sprintf("%s names ServiceAccount %s without a namespace: the authorizer matches no one by it", b.Resource, s.Name))
					continue
				}
			}
			key := sub.String()
			i, seen := bySubject[key]
			if !seen {
				i = len(ans.Subjects)
				bySubject[key] = i
				ans.Subjects = append(ans.Subjects, sub)
			}
			ans.Subjects[i].Via = append(ans.Subjects[i].Via, path)
		}
	}
	slices.SortFunc(ans.Subjects, func(a, b WhoCanSubject) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	if !slices.ContainsFunc(ans.Subjects, func(s WhoCanSubject) bool { return s.Kind == rbacv1.GroupKind && s.Name == "system:masters" }) {
		ans.Notes = append(ans.Notes, "Group system:masters is allowed every request by the API server itself, before RBAC; no binding in the inventory names it")
	}
	return ans
}

// matchRole returns the first rule of role allowing q as a path (rules
// aggregated from other ClusterRoles preferred, so the path says where the
// grant was written); when none does and q names no object, the
// resourceNames of rules that would allow q for a named object.
func matchRole(role resolvedRole, roleName string, q WhoCanQuestion) (WhoCanPath, []string, bool) {
	var named []string
	found := -1
	for i, r := range role.Rules {
		if ruleAllows(r, q) {
			if found < 0 || (role.RuleFrom[found] == roleName && role.RuleFrom[i] != roleName) {
				found = i
			}
			continue
		}
		if q.Name == "" && len(r.ResourceNames) > 0 {
			unnamed := r
			unnamed.ResourceNames = nil
			if ruleAllows(unnamed, q) {
				named = append(named, r.ResourceNames...)
			}
		}
	}
	if found < 0 {
		return WhoCanPath{}, named, false
	}
	return WhoCanPath{Rule: role.Rules[found], AggregatedFrom: role.RuleFrom[found]}, nil, true
}
