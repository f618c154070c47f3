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
			ID: "net-pods-selected", Title: "Every workload is selected by a NetworkPolicy",
			Group: Security, Item: itemNetPolicies, PCI: []string{"1.2.1", "1.3.1", "1.3.2"}, Severity: High,
			Rationale:   "A pod no NetworkPolicy selects accepts traffic from, and sends it to, anywhere: it sits outside every segmentation rule.",
			Remediation: "Add a NetworkPolicy whose podSelector matches the workload's pod labels (a namespace default-deny with podSelector {} is enough to start).",
			Needs:       []string{ResNetworkPolicies, ResDeployments, ResStatefulSets, ResDaemonSets, ResPods},
			Eval:        evalPodsSelected,
		},
		{
			ID: "net-pci-ingress-restricted", Title: "PCI workloads are reachable only from the API gateway",
			Group: Security, Item: itemNetPolicies, PCI: []string{"1.3.1", "1.4.2", "1.2.6"}, Severity: Critical,
			Rationale:   "The seed isolates payment-service (compliance: pci-dss) so that only api-gateway pods reach it; any other admitted peer widens the cardholder-data environment.",
			Remediation: "Make every ingress rule of the policies selecting the PCI pods admit only podSelector {app: api-gateway} (same namespace, no namespaceSelector or ipBlock); expose metrics on a separate port if they must be scraped, or list the scraper in the check's allowed peers as a documented exception.",
			Needs:       []string{ResNetworkPolicies, ResDeployments, ResStatefulSets, ResDaemonSets, ResPods},
			Eval:        evalPCIIngress,
		},
		{
			ID: "net-default-deny", Title: "Namespaces deny ingress and egress by default",
			Group: Security, Item: itemDenyDefault, PCI: []string{"1.3.1", "1.3.2", "1.2.1"}, Severity: High,
			Rationale:   "Without a default-deny policy for both directions, every new pod starts fully reachable and able to reach anything, until someone remembers to write a policy.",
			Remediation: "Add a NetworkPolicy with podSelector: {} and policyTypes: [Ingress, Egress] and no rules (the seed's fintech-default-deny), then allow DNS and the flows each service needs.",
			Needs:       []string{ResNetworkPolicies, ResNamespaces},
			Eval:        evalDefaultDeny,
		},
	}
}

// policyTypes returns the policy's effective types (defaulted as the API
// server does when policyTypes is empty).
func policyTypes(p *networkingv1.NetworkPolicy) (ingress, egress bool) {
	if len(p.Spec.PolicyTypes) == 0 {
		return true, len(p.Spec.Egress) > 0
	}
	return slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress),
		slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
}

func isEmptySelector(s metav1.LabelSelector) bool {
	return len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0
}

func evalDefaultDeny(inv *Inventory) []Finding {
	var out []Finding
	for _, ns := range inv.scopedNamespaces() {
		var in, eg string
		for _, p := range inv.NetworkPolicies {
			if p.Namespace != ns.Name || !isEmptySelector(p.Spec.PodSelector) {
				continue
			}
			i, e := policyTypes(p)
			if i && len(p.Spec.Ingress) == 0 && in == "" {
				in = p.Name
			}
			if e && len(p.Spec.Egress) == 0 && eg == "" {
				eg = p.Name
			}
		}
		r := Resource{Kind: "Namespace", Name: ns.Name}
		switch {
		case in != "" && eg != "":
			out = append(out, finding(Pass, r, "NetworkPolicy %s denies ingress, %s denies egress (podSelector {}, no rules)", in, eg))
		case in == "" && eg == "":
			out = append(out, finding(Fail, r, "no NetworkPolicy with podSelector {} and no rules for Ingress or Egress (%d policies in the namespace)", countPolicies(inv, ns.Name)))
		case in == "":
			out = append(out, finding(Fail, r, "egress denied by %s, but no default-deny for Ingress", eg))
		default:
			out = append(out, finding(Fail, r, "ingress denied by %s, but no default-deny for Egress", in))
		}
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

// selectingPolicies returns the policies in w's namespace selecting its pods.
func (inv *Inventory) selectingPolicies(w Workload) []*networkingv1.NetworkPolicy {
	var out []*networkingv1.NetworkPolicy
	for _, p := range inv.NetworkPolicies {
		if p.Namespace == w.Namespace && selects(&p.Spec.PodSelector, w.Template.Labels) {
			out = append(out, p)
		}
	}
	return out
}

func evalPodsSelected(inv *Inventory) []Finding {
	var out []Finding
	for _, w := range inv.workloads() {
		ps := inv.selectingPolicies(w)
		if len(ps) == 0 {
			out = append(out, finding(Fail, w.Ref(), "no NetworkPolicy in %s selects pod labels %s", w.Namespace, fmtLabels(w.Template.Labels)))
			continue
		}
		var names []string
		for _, p := range ps {
			names = append(names, p.Name)
		}
		out = append(out, finding(Pass, w.Ref(), "pod labels %s selected by NetworkPolicy %s", fmtLabels(w.Template.Labels), strings.Join(names, ", ")))
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
		parts = append(parts, "ipBlock="+p.IPBlock.CIDR)
	}
	return strings.Join(parts, " ")
}

func describePorts(ps []networkingv1.NetworkPolicyPort) string {
	if len(ps) == 0 {
		return "all ports"
	}
	var out []string
	for _, p := range ps {
		if p.Port != nil {
			out = append(out, p.Port.String())
		}
	}
	return "port " + strings.Join(out, ",")
}

func evalPCIIngress(inv *Inventory) []Finding {
	var out []Finding
	allowed := inv.Config.PCIAllowedFrom
	for _, w := range inv.workloads() {
		if !w.IsPCI() {
			continue
		}
		var governing int
		var bad []string
		for _, p := range inv.selectingPolicies(w) {
			if in, _ := policyTypes(p); !in {
				continue
			}
			governing++
			for i, rule := range p.Spec.Ingress {
				if len(rule.From) == 0 {
					bad = append(bad, fmt.Sprintf("NetworkPolicy %s spec.ingress[%d] has no from: every source on %s", p.Name, i, describePorts(rule.Ports)))
					continue
				}
				for j, peer := range rule.From {
					if !peerAllowed(peer, allowed) {
						bad = append(bad, fmt.Sprintf("NetworkPolicy %s spec.ingress[%d].from[%d] %s on %s", p.Name, i, j, describePeer(peer), describePorts(rule.Ports)))
					}
				}
			}
		}
		switch {
		case governing == 0:
			out = append(out, finding(Fail, w.Ref(), "no NetworkPolicy with policyTypes Ingress selects pod labels %s: reachable from every pod", fmtLabels(w.Template.Labels)))
		case len(bad) > 0:
			out = append(out, finding(Fail, w.Ref(), "admits peers outside %s: %s", fmtAllowed(allowed), strings.Join(bad, "; ")))
		default:
			out = append(out, finding(Pass, w.Ref(), "%d ingress policies, every peer is %s", governing, fmtAllowed(allowed)))
		}
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
