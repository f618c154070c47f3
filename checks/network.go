package checks

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	itemNetPolicies = "Network policies implemented"
	itemDenyDefault = "Network policies deny-by-default"
)

func networkChecks() []Check {
	return []Check{
		{
			ID: "net-pods-selected", Title: "Every workload is isolated for ingress and egress by NetworkPolicies",
			Group: Security, Item: itemNetPolicies, PCI: []string{"1.3.1", "1.3.2"}, Severity: High,
			Rationale:   "A pod no Ingress (Egress) policy selects accepts traffic from (sends it to) anywhere; so does one whose policies include a rule admitting every peer on every port (policies are additive). Like kube-score and Polaris, both directions must be isolated.",
			Remediation: "Select the workload's pods with NetworkPolicies of both policyTypes, Ingress and Egress (a namespace default-deny with podSelector {} is enough to start), and remove rules that admit every peer on every port.",
			Needs:       []string{ResNetworkPolicies, ResDeployments, ResStatefulSets, ResDaemonSets, ResPods},
			Eval:        evalPodsSelected,
		},
		{
			ID: "net-pci-ingress-restricted", Title: "PCI workloads admit only the API gateway and the CDE, on listed ports",
			Group: Security, Item: itemNetPolicies, PCI: []string{"1.3.1", "1.3.2"}, Severity: Critical,
			Rationale:   "The seed isolates the cardholder-data environment (namespace or workload labelled compliance: pci-dss) so that only api-gateway pods reach it from outside; any other admitted peer, any rule open on every port, and unrestricted egress widen it.",
			Remediation: "Isolate every PCI workload for Ingress and Egress; make every ingress rule list its ports and admit only podSelector {app: api-gateway} or pods of the CDE (same PCI namespace, or selectors requiring compliance: pci-dss); list ports on every egress rule. Expose metrics on a separate port if they must be scraped, or list the scraper in the check's allowed peers as a documented exception.",
			Needs:       []string{ResNetworkPolicies, ResDeployments, ResStatefulSets, ResDaemonSets, ResPods, ResNamespaces},
			Eval:        evalPCIIngress,
		},
		{
			ID: "net-default-deny", Title: "Namespaces deny ingress and egress by default, and nothing reopens them",
			Group: Security, Item: itemDenyDefault, PCI: []string{"1.3.1", "1.3.2"}, Severity: High,
			Rationale:   "Without a default-deny policy for both directions, every new pod starts fully reachable and able to reach anything, until someone remembers to write a policy; a sibling policy admitting every peer on every port undoes the deny for the pods it selects.",
			Remediation: "Add a NetworkPolicy with podSelector: {} and policyTypes: [Ingress, Egress] and no rules (the seed's fintech-default-deny), then allow DNS and the flows each service needs by peer and port; delete rules that admit every peer on every port (ingress: [{}], egress: [{}], namespaceSelector: {} without ports).",
			Needs:       []string{ResNetworkPolicies, ResNamespaces},
			Eval:        evalDefaultDeny,
		},
	}
}

func isEmptySelector(s metav1.LabelSelector) bool {
	return len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0
}

func evalDefaultDeny(inv *Inventory) []Finding {
	var out []Finding
	for _, ns := range inv.scopedNamespaces() {
		deny := map[netDirection]string{}
		var reopen []string
		for _, p := range inv.NetworkPolicies {
			if p.Namespace != ns.Name {
				continue
			}
			for _, d := range []netDirection{dirIngress, dirEgress} {
				if !hasType(p, d) {
					continue
				}
				rules := policyRules(p, d)
				if len(rules) == 0 && isEmptySelector(p.Spec.PodSelector) && deny[d] == "" {
					deny[d] = p.Name
				}
				for _, r := range rules {
					if why, ok := inv.opensEverything(r); ok {
						reopen = append(reopen, fmt.Sprintf("%s, for pods %s (policies are additive: the default deny no longer holds for them)", why, fmtSelector(p.Spec.PodSelector)))
					}
				}
			}
		}
		r := Resource{Kind: "Namespace", Name: ns.Name}
		var problems []string
		switch in, eg := deny[dirIngress], deny[dirEgress]; {
		case in == "" && eg == "":
			problems = append(problems, fmt.Sprintf("no NetworkPolicy with podSelector {} and no rules for Ingress or Egress (%d policies in the namespace)", countPolicies(inv, ns.Name)))
		case in == "":
			problems = append(problems, fmt.Sprintf("egress denied by %s, but no default-deny for Ingress", eg))
		case eg == "":
			problems = append(problems, fmt.Sprintf("ingress denied by %s, but no default-deny for Egress", in))
		}
		problems = append(problems, reopen...)
		out = append(out, failOrPass(r, problems, "NetworkPolicy %s denies ingress, %s denies egress (podSelector {}, no rules), and no policy reopens every peer on every port", deny[dirIngress], deny[dirEgress]))
	}
	return out
}

func countPolicies(inv *Inventory, ns string) int {
	n := 0
	for _, p := range inv.NetworkPolicies {
		if p.Namespace == ns {
			n++
		}
	}
	return n
}

// isolationProblems says why a pod is not isolated in direction d: no
// policy of that type selects it, or a rule of one reopens everything.
func (inv *Inventory) isolationProblems(iso netIsolation) []string {
	if !iso.Isolated() {
		return []string{fmt.Sprintf("not isolated for %s: no NetworkPolicy with policyTypes %s selects it", iso.Dir, iso.Dir.Type())}
	}
	var out []string
	for _, why := range inv.reopened(iso) {
		out = append(out, fmt.Sprintf("%s isolation undone: %s", iso.Dir, why))
	}
	return out
}

func evalPodsSelected(inv *Inventory) []Finding {
	var out []Finding
	for _, w := range inv.workloads() {
		pod := workloadEndpoint(w)
		in, eg := inv.isolation(pod, dirIngress), inv.isolation(pod, dirEgress)
		if !in.Isolated() && !eg.Isolated() && !slices.ContainsFunc(inv.NetworkPolicies, func(p *networkingv1.NetworkPolicy) bool {
			return p.Namespace == w.Namespace && selects(&p.Spec.PodSelector, w.Template.Labels)
		}) {
			out = append(out, finding(Fail, w.Ref(), "no NetworkPolicy in %s selects pod labels %s", w.Namespace, fmtLabels(w.Template.Labels)))
			continue
		}
		problems := append(inv.isolationProblems(in), inv.isolationProblems(eg)...)
		if len(problems) > 0 {
			problems[0] = fmt.Sprintf("pod labels %s: %s", fmtLabels(w.Template.Labels), problems[0])
		}
		out = append(out, failOrPass(w.Ref(), problems, "pod labels %s isolated for ingress by NetworkPolicy %s and for egress by %s", fmtLabels(w.Template.Labels), in.Names(), eg.Names()))
	}
	return out
}

// pciScope says why a workload is in PCI scope: the seed's label
// compliance: pci-dss on its namespace, on itself or on its pods.
func (inv *Inventory) pciScope(w Workload) (string, bool) {
	if inv.nsLabels(w.Namespace)["compliance"] == "pci-dss" {
		return fmt.Sprintf("namespace %s is labelled compliance=pci-dss", w.Namespace), true
	}
	if w.IsPCI() {
		return "labelled compliance=pci-dss", true
	}
	return "", false
}

// isPCINamespace reports whether a namespace carries the PCI label.
func (inv *Inventory) isPCINamespace(name string) bool {
	return inv.nsLabels(name)["compliance"] == "pci-dss"
}

// requiresPCI reports whether a selector only matches objects labelled
// compliance=pci-dss.
func requiresPCI(s *metav1.LabelSelector) bool {
	if s == nil {
		return false
	}
	if s.MatchLabels["compliance"] == "pci-dss" {
		return true
	}
	return slices.ContainsFunc(s.MatchExpressions, func(e metav1.LabelSelectorRequirement) bool {
		return e.Key == "compliance" && e.Operator == metav1.LabelSelectorOpIn && len(e.Values) == 1 && e.Values[0] == "pci-dss"
	})
}

// peerInCDE reports whether every pod a peer of a policy in policyNS can
// admit is in PCI scope: a pod selector requiring the PCI label, or only
// namespaces carrying it. ipBlocks are never in it.
func (inv *Inventory) peerInCDE(peer networkingv1.NetworkPolicyPeer, policyNS string) bool {
	if peer.IPBlock != nil || (peer.PodSelector == nil && peer.NamespaceSelector == nil) {
		return false
	}
	if requiresPCI(peer.PodSelector) {
		return true
	}
	if peer.NamespaceSelector == nil {
		return inv.isPCINamespace(policyNS)
	}
	return requiresPCI(peer.NamespaceSelector)
}

// isEntryPoint reports whether the workload is one of the configured peers
// allowed to reach PCI workloads (the API gateway): the CDE's door.
func isEntryPoint(w Workload, allowed []map[string]string) bool {
	return slices.ContainsFunc(allowed, func(a map[string]string) bool {
		if len(a) == 0 {
			return false
		}
		for k, v := range a {
			if w.Template.Labels[k] != v {
				return false
			}
		}
		return true
	})
}

// pciIngressProblems judges every ingress rule isolating a PCI workload:
// each must list ports, and each peer must be an allowed peer or inside
// the CDE; the entry point itself may be reached from outside, on listed
// ports, but not from every source.
func (inv *Inventory) pciIngressProblems(w Workload, iso netIsolation, allowed []map[string]string) []string {
	entry := isEntryPoint(w, allowed)
	var bad []string
	for _, r := range iso.Rules {
		if ports, all := openPorts(r.Ports); all {
			bad = append(bad, fmt.Sprintf("%s admits on %s", r.Field(), ports))
		}
		if what, open := inv.openPeers(r); open {
			bad = append(bad, fmt.Sprintf("%s admits %s on %s", r.Field(), what, describePorts(r.Ports)))
			continue
		}
		if entry {
			continue
		}
		for j, peer := range r.Peers {
			if !peerAllowed(peer, allowed) && !inv.peerInCDE(peer, r.Policy.Namespace) {
				bad = append(bad, fmt.Sprintf("%s.from[%d] %s on %s", r.Field(), j, describePeer(peer), describePorts(r.Ports)))
			}
		}
	}
	return bad
}

func evalPCIIngress(inv *Inventory) []Finding {
	var out []Finding
	allowed := inv.Config.PCIAllowedFrom
	for _, w := range inv.workloads() {
		scope, ok := inv.pciScope(w)
		if !ok {
			continue
		}
		pod := workloadEndpoint(w)
		in, eg := inv.isolation(pod, dirIngress), inv.isolation(pod, dirEgress)
		var problems []string
		if !in.Isolated() {
			problems = append(problems, fmt.Sprintf("no NetworkPolicy with policyTypes Ingress selects pod labels %s: reachable from every pod", fmtLabels(w.Template.Labels)))
		} else if bad := inv.pciIngressProblems(w, in, allowed); len(bad) > 0 {
			problems = append(problems, fmt.Sprintf("admits peers outside %s and the CDE: %s", fmtAllowed(allowed), strings.Join(bad, "; ")))
		}
		if !eg.Isolated() {
			problems = append(problems, "no NetworkPolicy with policyTypes Egress selects it: may connect anywhere")
		} else {
			for _, r := range eg.Rules {
				if ports, all := openPorts(r.Ports); all {
					problems = append(problems, fmt.Sprintf("%s allows egress on %s", r.Field(), ports))
				}
			}
		}
		if len(problems) > 0 {
			out = append(out, finding(Fail, w.Ref(), "in PCI scope (%s): %s", scope, strings.Join(problems, "; ")))
			continue
		}
		out = append(out, finding(Pass, w.Ref(), "in PCI scope (%s): ingress by %s admits only %s or pods of the CDE on listed ports; egress by %s on listed ports", scope, in.Names(), fmtAllowed(allowed), eg.Names()))
	}
	return out
}

func fmtAllowed(allowed []map[string]string) string {
	var s []string
	for _, a := range allowed {
		s = append(s, "podSelector "+fmtLabels(a))
	}
	return strings.Join(s, " or ")
}

func fmtLabels(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func fmtSelector(s metav1.LabelSelector) string {
	if isEmptySelector(s) {
		return "{}"
	}
	out := fmtLabels(s.MatchLabels)
	for _, e := range s.MatchExpressions {
		out += fmt.Sprintf("+%s %s %v", e.Key, e.Operator, e.Values)
	}
	return out
}

// peerAllowed reports whether a peer admits only pods carrying one of the
// allowed label sets, in the policy's own namespace.
func peerAllowed(peer networkingv1.NetworkPolicyPeer, allowed []map[string]string) bool {
	if peer.IPBlock != nil || peer.NamespaceSelector != nil || peer.PodSelector == nil {
		return false
	}
	for _, a := range allowed {
		if len(a) == 0 {
			continue
		}
		ok := true
		for k, v := range a {
			if peer.PodSelector.MatchLabels[k] != v {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func describePeer(p networkingv1.NetworkPolicyPeer) string {
	var parts []string
	if p.PodSelector != nil {
		parts = append(parts, "podSelector="+fmtSelector(*p.PodSelector))
	}
	if p.NamespaceSelector != nil {
		parts = append(parts, "namespaceSelector="+fmtSelector(*p.NamespaceSelector))
	}
	if p.IPBlock != nil {
		s := "ipBlock=" + p.IPBlock.CIDR
		if len(p.IPBlock.Except) > 0 {
			s += " except " + strings.Join(p.IPBlock.Except, ",")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// describePorts renders a rule's ports: "port 3000,53/UDP,8000-8080".
func describePorts(ps []networkingv1.NetworkPolicyPort) string {
	if len(ps) == 0 {
		return "all ports"
	}
	var out []string
	for _, p := range ps {
		s := "*"
		if p.Port != nil {
			s = p.Port.String()
			if p.EndPort != nil {
				s += fmt.Sprintf("-%d", *p.EndPort)
			}
		}
		if proto := portProtocol(p.Protocol); proto != "TCP" {
			s += "/" + string(proto)
		}
		out = append(out, s)
	}
	return "port " + strings.Join(out, ",")
}
