package checks

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// This file is the NetworkPolicy isolation model the network checks judge
// by: which policies isolate a pod in each direction, and whether a given
// connection is admitted. It follows the NetworkPolicy API's semantics:
//
//   - A pod is isolated for ingress (egress) when at least one policy in its
//     namespace selects it and has Ingress (Egress) among its policyTypes.
//     policyTypes defaults, when omitted, to Ingress plus Egress if the
//     policy has egress rules.
//   - Policies are additive: a connection is admitted in a direction when
//     the pod is not isolated in it, or when any rule of any policy
//     isolating it admits the peer and the port. A connection between two
//     pods needs the source's egress and the destination's ingress.
//   - A rule with no from/to admits every peer; one with no ports every
//     port. A peer is an ipBlock (CIDR minus except; never a pod: what
//     ipBlock means for pod addresses is implementation-defined), or a
//     podSelector (the policy's own namespace), a namespaceSelector (pods of
//     the namespaces whose labels match, kubernetes.io/metadata.name
//     included), or both (pods matching both).
//   - A port is numbered (with endPort, a range) or named (the destination
//     pod's container port of that name and protocol); protocol defaults to
//     TCP; a port entry without port admits every port of its protocol.

// NetEndpoint is one end of a connection put to the isolation model: a pod,
// by its namespace, labels and container ports, or, with IP set, an
// address outside the cluster.
type NetEndpoint struct {
	Namespace string
	Labels    map[string]string
	// Ports are the pod's container ports; named NetworkPolicy ports
	// resolve against the destination's.
	Ports []corev1.ContainerPort
	// IP is set for an address outside the cluster (no policy selects it).
	IP netip.Addr
}

func (e NetEndpoint) isPod() bool { return !e.IP.IsValid() }

// workloadEndpoint is the endpoint of a workload's pods.
func workloadEndpoint(w Workload) NetEndpoint {
	var ports []corev1.ContainerPort
	for _, c := range w.Spec().InitContainers {
		ports = append(ports, c.Ports...) // sidecars (restartPolicy Always) serve too
	}
	for _, c := range w.Spec().Containers {
		ports = append(ports, c.Ports...)
	}
	return NetEndpoint{Namespace: w.Namespace, Labels: w.Template.Labels, Ports: ports}
}

// netDirection is a direction of traffic seen from the selected pod.
type netDirection int

const (
	dirIngress netDirection = iota
	dirEgress
)

func (d netDirection) String() string {
	if d == dirIngress {
		return "ingress"
	}
	return "egress"
}

// Type is the policyType that isolates in the direction.
func (d netDirection) Type() string {
	if d == dirIngress {
		return string(networkingv1.PolicyTypeIngress)
	}
	return string(networkingv1.PolicyTypeEgress)
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

func hasType(p *networkingv1.NetworkPolicy, d netDirection) bool {
	in, eg := policyTypes(p)
	if d == dirIngress {
		return in
	}
	return eg
}

// netRule is one ingress or egress rule of a policy.
type netRule struct {
	Policy *networkingv1.NetworkPolicy
	Dir    netDirection
	Index  int
	Peers  []networkingv1.NetworkPolicyPeer
	Ports  []networkingv1.NetworkPolicyPort
}

// Field names the rule for evidence: "NetworkPolicy p spec.ingress[0]".
func (r netRule) Field() string {
	return fmt.Sprintf("NetworkPolicy %s spec.%s[%d]", r.Policy.Name, r.Dir, r.Index)
}

func policyRules(p *networkingv1.NetworkPolicy, d netDirection) []netRule {
	var out []netRule
	if d == dirIngress {
		for i, r := range p.Spec.Ingress {
			out = append(out, netRule{p, d, i, r.From, r.Ports})
		}
		return out
	}
	for i, r := range p.Spec.Egress {
		out = append(out, netRule{p, d, i, r.To, r.Ports})
	}
	return out
}

// netIsolation is what the policies selecting one pod say about one
// direction: the policies isolating it and the union of their rules.
type netIsolation struct {
	Dir      netDirection
	Policies []*networkingv1.NetworkPolicy
	Rules    []netRule
}

// Isolated reports whether any policy isolates the pod in the direction.
func (n netIsolation) Isolated() bool { return len(n.Policies) > 0 }

// Names lists the isolating policies' names.
func (n netIsolation) Names() string {
	var s []string
	for _, p := range n.Policies {
		s = append(s, p.Name)
	}
	return strings.Join(s, ", ")
}

// isolation returns the policies isolating pod in direction d, with their rules.
func (inv *Inventory) isolation(pod NetEndpoint, d netDirection) netIsolation {
	iso := netIsolation{Dir: d}
	for _, p := range inv.NetworkPolicies {
		if p.Namespace != pod.Namespace || !hasType(p, d) || !selects(&p.Spec.PodSelector, pod.Labels) {
			continue
		}
		iso.Policies = append(iso.Policies, p)
		iso.Rules = append(iso.Rules, policyRules(p, d)...)
	}
	return iso
}

// nsLabels returns a namespace's labels as namespaceSelectors see them:
// the Namespace object's labels plus kubernetes.io/metadata.name, which the
// API server sets on every namespace (the only label known of a namespace
// missing from the inventory).
func (inv *Inventory) nsLabels(name string) labels.Set {
	set := labels.Set{corev1.LabelMetadataName: name}
	if ns, ok := inv.namespace(name); ok {
		for k, v := range ns.Labels {
			set[k] = v
		}
		set[corev1.LabelMetadataName] = name
	}
	return set
}

// peerAdmits reports whether a peer of a policy in policyNS admits e.
func (inv *Inventory) peerAdmits(peer networkingv1.NetworkPolicyPeer, policyNS string, e NetEndpoint) bool {
	if peer.IPBlock != nil {
		return !e.isPod() && ipBlockContains(peer.IPBlock, e.IP)
	}
	if !e.isPod() || (peer.PodSelector == nil && peer.NamespaceSelector == nil) {
		return false
	}
	if peer.NamespaceSelector == nil {
		if e.Namespace != policyNS {
			return false
		}
	} else if !selects(peer.NamespaceSelector, inv.nsLabels(e.Namespace)) {
		return false
	}
	return peer.PodSelector == nil || selects(peer.PodSelector, e.Labels)
}

func ipBlockContains(b *networkingv1.IPBlock, ip netip.Addr) bool {
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil || !cidr.Contains(ip) {
		return false
	}
	for _, ex := range b.Except {
		if p, err := netip.ParsePrefix(ex); err == nil && p.Contains(ip) {
			return false
		}
	}
	return true
}

func portProtocol(p *corev1.Protocol) corev1.Protocol {
	if p == nil || *p == "" {
		return corev1.ProtocolTCP
	}
	return *p
}

// portAdmits reports whether a rule's ports admit port/proto on dst; named
// ports resolve against dst's container ports.
func portAdmits(ports []networkingv1.NetworkPolicyPort, dst NetEndpoint, port int32, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if portProtocol(p.Protocol) != proto {
			continue
		}
		switch {
		case p.Port == nil:
			return true
		case p.Port.Type == intstr.String:
			for _, c := range dst.Ports {
				if c.Name == p.Port.StrVal && c.ContainerPort == port && portProtocol(&c.Protocol) == proto {
					return true
				}
			}
		default:
			lo, hi := p.Port.IntVal, p.Port.IntVal
			if p.EndPort != nil && *p.EndPort >= lo {
				hi = *p.EndPort
			}
			if port >= lo && port <= hi {
				return true
			}
		}
	}
	return false
}

// ruleAdmits reports whether one rule admits peer, connecting to target
// (the destination: the selected pod for ingress, the peer for egress) on
// port/proto.
func (inv *Inventory) ruleAdmits(r netRule, peer, target NetEndpoint, port int32, proto corev1.Protocol) bool {
	if !portAdmits(r.Ports, target, port, proto) {
		return false
	}
	if len(r.Peers) == 0 {
		return true
	}
	return slices.ContainsFunc(r.Peers, func(p networkingv1.NetworkPolicyPeer) bool {
		return inv.peerAdmits(p, r.Policy.Namespace, peer)
	})
}

// allows reports whether pod's policies in direction d admit peer; target
// is the connection's destination.
func (inv *Inventory) allows(pod NetEndpoint, d netDirection, peer, target NetEndpoint, port int32, proto corev1.Protocol) bool {
	iso := inv.isolation(pod, d)
	if !iso.Isolated() {
		return true
	}
	return slices.ContainsFunc(iso.Rules, func(r netRule) bool { return inv.ruleAdmits(r, peer, target, port, proto) })
}

// Admits reports whether the inventory's NetworkPolicies let src open a
// connection to dst on port/proto: src's egress (when src is a pod) and
// dst's ingress (when dst is a pod) must both admit it.
func (inv *Inventory) Admits(src, dst NetEndpoint, port int32, proto corev1.Protocol) bool {
	if src.isPod() && !inv.allows(src, dirEgress, dst, dst, port, proto) {
		return false
	}
	return !dst.isPod() || inv.allows(dst, dirIngress, src, dst, port, proto)
}

// strangerNamespace is a namespace name no real namespace can have (not a
// DNS label): the home of the stranger pod below.
const strangerNamespace = "-stranger-"

// stranger is a pod no policy names: unlabelled, in a namespace of its own
// with no label but its name. A peer that admits it admits pods nobody
// chose.
var stranger = NetEndpoint{Namespace: strangerNamespace}

// openPeers says whether a rule admits every peer: no from/to, a peer the
// stranger pod matches (namespaceSelector {}, or one matching namespaces by
// what they lack), or an ipBlock of the whole address space. It returns
// the offending peer's description.
func (inv *Inventory) openPeers(r netRule) (string, bool) {
	if len(r.Peers) == 0 {
		if r.Dir == dirIngress {
			return "no from: every source", true
		}
		return "no to: every destination", true
	}
	for j, p := range r.Peers {
		if inv.peerAdmits(p, r.Policy.Namespace, stranger) {
			return fmt.Sprintf("%s[%d] %s: pods of every namespace", peerList(r.Dir), j, describePeer(p)), true
		}
		if p.IPBlock != nil && len(p.IPBlock.Except) == 0 && (p.IPBlock.CIDR == "0.0.0.0/0" || p.IPBlock.CIDR == "::/0") {
			return fmt.Sprintf("%s[%d] %s: every address", peerList(r.Dir), j, describePeer(p)), true
		}
	}
	return "", false
}

func peerList(d netDirection) string {
	if d == dirIngress {
		return "from"
	}
	return "to"
}

// openPorts says whether a rule's ports admit every port: no ports, or
// every TCP port (an entry without port, or numbered ranges covering
// 1-65535), TCP being what the services listen on. Named ports never
// count: they open only what a container declares.
func openPorts(ports []networkingv1.NetworkPolicyPort) (string, bool) {
	if len(ports) == 0 {
		return "every port", true
	}
	covered := make([]bool, 65536)
	for _, p := range ports {
		if portProtocol(p.Protocol) != corev1.ProtocolTCP {
			continue
		}
		if p.Port == nil {
			return "every TCP port", true
		}
		if p.Port.Type == intstr.String {
			continue
		}
		lo, hi := p.Port.IntVal, p.Port.IntVal
		if p.EndPort != nil && *p.EndPort >= lo {
			hi = *p.EndPort
		}
		for q := max(lo, 1); q <= min(hi, 65535); q++ {
			covered[q] = true
		}
	}
	if slices.Contains(covered[1:], false) {
		return "", false
	}
	return "every TCP port", true
}

// opensEverything reports whether a rule admits every peer on every port:
// such a rule undoes any isolation of the pods its policy selects.
func (inv *Inventory) opensEverything(r netRule) (string, bool) {
	ports, all := openPorts(r.Ports)
	if !all {
		return "", false
	}
	what, open := inv.openPeers(r)
	if !open {
		return "", false
	}
	return fmt.Sprintf("%s admits %s on %s", r.Field(), what, ports), true
}

// reopened returns, for an isolation, the rules that admit everything.
func (inv *Inventory) reopened(iso netIsolation) []string {
	var out []string
	for _, r := range iso.Rules {
		if why, ok := inv.opensEverything(r); ok {
			out = append(out, why)
		}
	}
	return out
}
