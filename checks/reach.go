package checks

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Who reaches what: the effective NetworkPolicy reachability of the
// cardholder-data scope (PCI-DSS 1.2/1.3 evidence). For each PCI workload,
// which workloads, a pod nobody chose (a stranger in a namespace of its
// own) and addresses outside the cluster can open a connection to it on
// which of its ports, and where it can send; each edge with the policy
// rules that admit it on each side. It asks the same isolation model the
// network checks judge with (Admits), question by question.

// ReachEdge is one admitted connection, with every port it is admitted on.
type ReachEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Ports are "8080/TCP"; on an address outside the cluster, the probe
	// ports admitted.
	Ports []string `json:"ports"`
	// Via names what admits it on each side: "egress: NetworkPolicy p
	// spec.egress[0]" or "egress: not isolated", and the same for ingress.
	Via []string `json:"via"`
}

// Reachability is the matrix of the PCI scope.
type Reachability struct {
	// Scope is each PCI workload and why it is in scope.
	Scope []string `json:"scope"`
	// Ingress are the connections into the scope's workloads, Egress those
	// out of them (to workloads, the stranger and outside addresses).
	Ingress []ReachEdge `json:"ingress"`
	Egress  []ReachEdge `json:"egress"`
	// Asked says what was put to the model, for the reader: the outside
	// addresses and the ports probed where no container port applies.
	Asked string `json:"asked"`
}

// ReachOutside are the addresses outside the cluster the matrix asks
// about: a private one (a VPC neighbour) and a public one (the internet).
var ReachOutside = []netip.Addr{netip.MustParseAddr("10.20.30.40"), netip.MustParseAddr("203.0.113.7")}

// ReachProbePorts are the ports asked of a destination that declares none
// (an outside address, the stranger): DNS, HTTP(S), databases, a mail relay.
var ReachProbePorts = []int32{25, 53, 80, 443, 5432, 6379, 8080}

// reachPeer is one end the matrix names.
type reachPeer struct {
	name string
	ep   NetEndpoint
	// class is what the model can tell of the end (classKey): two ends of
	// one class get the same answers, so a pair of classes is asked once.
	class string
}

// classKey is everything the isolation model reads of an end: its
// namespace, its ports, and which selectors of the inventory's policies
// match it (each policy's podSelector, each peer's podSelector and
// namespaceSelector); an outside address is its own class. Workloads no
// rule tells apart (the bulk of a large estate) share a class.
func (inv *Inventory) classKey(e NetEndpoint, nsLabels map[string]map[string]string) string {
	if !e.isPod() {
		return "ip " + e.IP.String()
	}
	var b strings.Builder
	b.WriteString(e.Namespace)
	b.WriteByte('|')
	for _, p := range e.Ports {
		fmt.Fprintf(&b, "%s:%d/%s,", p.Name, p.ContainerPort, portProtocol(&p.Protocol))
	}
	b.WriteByte('|')
	nsl, ok := nsLabels[e.Namespace]
	if !ok {
		nsl = inv.nsLabels(e.Namespace)
		nsLabels[e.Namespace] = nsl
	}
	bit := func(v bool) {
		if v {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	for _, p := range inv.NetworkPolicies {
		bit(p.Namespace == e.Namespace && selects(&p.Spec.PodSelector, e.Labels))
		for _, d := range []netDirection{dirIngress, dirEgress} {
			for _, r := range policyRules(p, d) {
				for _, peer := range r.Peers {
					bit(peer.PodSelector != nil && selects(peer.PodSelector, e.Labels))
					bit(peer.NamespaceSelector != nil && selects(peer.NamespaceSelector, nsl))
				}
			}
		}
	}
	return b.String()
}

// Reachability computes the matrix of the inventory's PCI workloads.
func (inv *Inventory) Reachability() Reachability {
	var scope, peers []reachPeer
	r := Reachability{Ingress: []ReachEdge{}, Egress: []ReachEdge{}, Scope: []string{}}
	nsLabels := map[string]map[string]string{}
	for _, w := range inv.workloads() {
		ep := workloadEndpoint(w)
		p := reachPeer{name: w.Namespace + "/" + w.Name, ep: ep, class: inv.classKey(ep, nsLabels)}
		peers = append(peers, p)
		if why, ok := inv.pciScope(w); ok {
			scope = append(scope, p)
			r.Scope = append(r.Scope, p.name+" ("+why+")")
		}
	}
	peers = append(peers, reachPeer{name: "a pod in another namespace, unlabelled", ep: stranger, class: inv.classKey(stranger, nsLabels)})
	for _, ip := range ReachOutside {
		ep := NetEndpoint{IP: ip}
		peers = append(peers, reachPeer{name: "outside " + ip.String(), ep: ep, class: inv.classKey(ep, nsLabels)})
	}
	asked := map[[2]string]ReachEdge{}
	var outside []string
	for _, ip := range ReachOutside {
		outside = append(outside, ip.String())
	}
	var probe []string
	for _, p := range ReachProbePorts {
		probe = append(probe, fmt.Sprint(p))
	}
	r.Asked = "every workload, a pod in a namespace of its own with no labels, and the outside addresses " + strings.Join(outside, ", ") +
		"; on each destination's container ports, or on " + strings.Join(probe, ", ") + " (TCP and UDP) where it declares none"
	for _, dst := range scope {
		for _, src := range peers {
			if src.name == dst.name {
				continue
			}
			if e, ok := inv.reachEdgeOnce(asked, src, dst); ok {
				r.Ingress = append(r.Ingress, e)
			}
		}
	}
	for _, src := range scope {
		for _, dst := range peers {
			if src.name == dst.name {
				continue
			}
			if e, ok := inv.reachEdgeOnce(asked, src, dst); ok {
				r.Egress = append(r.Egress, e)
			}
		}
	}
	return r
}

// reachEdgeOnce is reachEdge asked once per pair of classes.
func (inv *Inventory) reachEdgeOnce(asked map[[2]string]ReachEdge, src, dst reachPeer) (ReachEdge, bool) {
	k := [2]string{src.class, dst.class}
	e, ok := asked[k]
	if !ok {
		e, _ = inv.reachEdge(src, dst)
		asked[k] = e
	}
	e.From, e.To = src.name, dst.name
	return e, len(e.Ports) > 0
}

// reachPorts are the ports a connection to e is asked on.
func reachPorts(e NetEndpoint) []corev1.ContainerPort {
	if e.isPod() && len(e.Ports) > 0 {
		return e.Ports
	}
	var out []corev1.ContainerPort
	for _, p := range ReachProbePorts {
		out = append(out, corev1.ContainerPort{ContainerPort: p, Protocol: corev1.ProtocolTCP}, corev1.ContainerPort{ContainerPort: p, Protocol: corev1.ProtocolUDP})
	}
	return out
}

// reachEdge asks the model whether src reaches dst on each of dst's ports
// and, when it does on any, what admits it.
func (inv *Inventory) reachEdge(src, dst reachPeer) (ReachEdge, bool) {
	e := ReachEdge{From: src.name, To: dst.name}
	for _, cp := range reachPorts(dst.ep) {
		proto := portProtocol(&cp.Protocol)
		if !inv.Admits(src.ep, dst.ep, cp.ContainerPort, proto) {
			continue
		}
		p := fmt.Sprintf("%d/%s", cp.ContainerPort, proto)
		if slices.Contains(e.Ports, p) {
			continue
		}
		e.Ports = append(e.Ports, p)
		if src.ep.isPod() {
			e.Via = appendNew(e.Via, inv.admittedBy(src.ep, dirEgress, dst.ep, dst.ep, cp.ContainerPort, proto)...)
		}
		if dst.ep.isPod() {
			e.Via = appendNew(e.Via, inv.admittedBy(dst.ep, dirIngress, src.ep, dst.ep, cp.ContainerPort, proto)...)
		}
	}
	return e, len(e.Ports) > 0
}

// admittedBy names the rules of pod's policies in direction d that admit
// peer, or says the pod is not isolated in d.
func (inv *Inventory) admittedBy(pod NetEndpoint, d netDirection, peer, target NetEndpoint, port int32, proto corev1.Protocol) []string {
	iso := inv.isolation(pod, d)
	if !iso.Isolated() {
		return []string{d.String() + ": not isolated"}
	}
	var out []string
	for _, r := range iso.Rules {
		if inv.ruleAdmits(r, peer, target, port, proto) {
			out = append(out, d.String()+": "+r.Policy.Namespace+"/"+strings.TrimPrefix(r.Field(), "NetworkPolicy "))
		}
	}
	return out
}

func appendNew(list []string, items ...string) []string {
	for _, s := range items {
		if !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}
