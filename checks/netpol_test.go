package checks_test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/load"
)

// The differential test of the NetworkPolicy isolation model: for every
// source × destination × port × protocol, Inventory.Admits must agree with a
// brute-force evaluation written here from the API's documentation, which
// walks every policy for every question and shares no code with checks/
// (its own selector matching, CIDR arithmetic and port resolution).

// bruteSelects matches a LabelSelector the long way: every matchLabels
// pair and every expression must hold; nil matches nothing.
func bruteSelects(sel *metav1.LabelSelector, lbls map[string]string) bool {
	if sel == nil {
		return false
	}
	for k, v := range sel.MatchLabels {
		if got, ok := lbls[k]; !ok || got != v {
			return false
		}
	}
	for _, e := range sel.MatchExpressions {
		v, has := lbls[e.Key]
		switch e.Operator {
		case metav1.LabelSelectorOpIn:
			if !has || !slices.Contains(e.Values, v) {
				return false
			}
		case metav1.LabelSelectorOpNotIn:
			if has && slices.Contains(e.Values, v) {
				return false
			}
		case metav1.LabelSelectorOpExists:
			if !has {
				return false
			}
		case metav1.LabelSelectorOpDoesNotExist:
			if has {
				return false
			}
		default:
			return false
		}
	}
	return true
}

type bruteEndpoint struct {
	ns     string
	labels map[string]string
	ports  []corev1.ContainerPort
	ip     string // set for an address outside the cluster
}

func (e bruteEndpoint) String() string {
	if e.ip != "" {
		return e.ip
	}
	return fmt.Sprintf("%s%v", e.ns, e.labels)
}

func (e bruteEndpoint) toModel() checks.NetEndpoint {
	m := checks.NetEndpoint{Namespace: e.ns, Labels: e.labels, Ports: e.ports}
	if e.ip != "" {
		m.IP = netip.MustParseAddr(e.ip)
	}
	return m
}

func bruteNSLabels(inv *checks.Inventory, name string) map[string]string {
	out := map[string]string{}
	for _, ns := range inv.Namespaces {
		if ns.Name == name {
			for k, v := range ns.Labels {
				out[k] = v
			}
		}
	}
	out["kubernetes.io/metadata.name"] = name
	return out
}

func brutePeer(inv *checks.Inventory, peer networkingv1.NetworkPolicyPeer, policyNS string, e bruteEndpoint) bool {
	if peer.IPBlock != nil {
		if e.ip == "" {
			return false
		}
		_, cidr, err := net.ParseCIDR(peer.IPBlock.CIDR)
		ip := net.ParseIP(e.ip)
		if err != nil || !cidr.Contains(ip) {
			return false
		}
		for _, ex := range peer.IPBlock.Except {
			if _, n, err := net.ParseCIDR(ex); err == nil && n.Contains(ip) {
				return false
			}
		}
		return true
	}
	if e.ip != "" {
		return false
	}
	nsOK := false
	switch {
	case peer.NamespaceSelector != nil:
		nsOK = bruteSelects(peer.NamespaceSelector, bruteNSLabels(inv, e.ns))
	case peer.PodSelector != nil:
		nsOK = e.ns == policyNS
	}
	podOK := peer.PodSelector == nil || bruteSelects(peer.PodSelector, e.labels)
	return nsOK && podOK
}

func brutePort(ports []networkingv1.NetworkPolicyPort, dst bruteEndpoint, port int32, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		pp := corev1.ProtocolTCP
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if pp != proto {
			continue
		}
		if p.Port == nil {
			return true
		}
		if p.Port.Type == intstr.String {
			for _, c := range dst.ports {
				cp := c.Protocol
				if cp == "" {
					cp = corev1.ProtocolTCP
				}
				if c.Name == p.Port.StrVal && c.ContainerPort == port && cp == proto {
					return true
				}
			}
			continue
		}
		end := p.Port.IntVal
		if p.EndPort != nil {
			end = *p.EndPort
		}
		for q := p.Port.IntVal; q <= end; q++ {
			if q == port {
				return true
			}
		}
	}
	return false
}

// bruteAdmits: does src's side let it out and dst's side let it in?
func bruteAdmits(inv *checks.Inventory, src, dst bruteEndpoint, port int32, proto corev1.Protocol) bool {
	side := func(pod, peer bruteEndpoint, ingress bool) bool {
		if pod.ip != "" {
			return true
		}
		selected, admitted := false, false
		for _, p := range inv.NetworkPolicies {
			if p.Namespace != pod.ns || !bruteSelects(&p.Spec.PodSelector, pod.labels) {
				continue
			}
			types := p.Spec.PolicyTypes
			if len(types) == 0 {
				types = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
				if len(p.Spec.Egress) > 0 {
					types = append(types, networkingv1.PolicyTypeEgress)
				}
			}
			if ingress && slices.Contains(types, networkingv1.PolicyTypeIngress) {
				selected = true
				for _, r := range p.Spec.Ingress {
					peerOK := len(r.From) == 0
					for _, f := range r.From {
						peerOK = peerOK || brutePeer(inv, f, p.Namespace, peer)
					}
					admitted = admitted || (peerOK && brutePort(r.Ports, dst, port, proto))
				}
			}
			if !ingress && slices.Contains(types, networkingv1.PolicyTypeEgress) {
				selected = true
				for _, r := range p.Spec.Egress {
					peerOK := len(r.To) == 0
					for _, t := range r.To {
						peerOK = peerOK || brutePeer(inv, t, p.Namespace, peer)
					}
					admitted = admitted || (peerOK && brutePort(r.Ports, dst, port, proto))
				}
			}
		}
		return !selected || admitted
	}
	return side(src, dst, false) && side(dst, src, true)
}

// endpoints returns the pods of every Deployment and StatefulSet, plus two
// addresses outside the cluster.
func endpoints(inv *checks.Inventory) []bruteEndpoint {
	var out []bruteEndpoint
	add := func(ns string, t corev1.PodTemplateSpec) {
		var ports []corev1.ContainerPort
		for _, c := range t.Spec.Containers {
			ports = append(ports, c.Ports...)
		}
		out = append(out, bruteEndpoint{ns: ns, labels: t.Labels, ports: ports})
	}
	for _, d := range inv.Deployments {
		add(d.Namespace, d.Spec.Template)
	}
	for _, s := range inv.StatefulSets {
		add(s.Namespace, s.Spec.Template)
	}
	return append(out, bruteEndpoint{ip: "10.20.30.40"}, bruteEndpoint{ip: "203.0.113.7"})
}

// compare asks every question of both evaluations; it returns how many
// questions were asked and how many were admitted.
func compare(t *testing.T, name string, inv *checks.Inventory, ports []int32) (asked, admitted int) {
	t.Helper()
	eps := endpoints(inv)
	for _, src := range eps {
		for _, dst := range eps {
			if src.ip != "" && dst.ip != "" {
				continue
			}
			for _, port := range ports {
				for _, proto := range []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP} {
					want := bruteAdmits(inv, src, dst, port, proto)
					got := inv.Admits(src.toModel(), dst.toModel(), port, proto)
					asked++
					if want {
						admitted++
					}
					if got != want {
						t.Errorf("%s: %s → %s on %d/%s: model says %t, brute force %t", name, src, dst, port, proto, got, want)
						return asked, admitted
					}
				}
			}
		}
	}
	return asked, admitted
}

func TestIsolationModelMatchesBruteForceOnEstate(t *testing.T) {
	for _, cluster := range []string{"local-1", "local-2"} {
		root := filepath.Join("..", "testdata", "fintech")
		inv, err := load.Paths([]string{filepath.Join(root, "all"), filepath.Join(root, cluster)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ports := []int32{1, 53, 443, 8080}
		for _, ep := range endpoints(inv) {
			for _, p := range ep.ports {
				ports = append(ports, p.ContainerPort)
			}
		}
		for _, p := range inv.NetworkPolicies {
			for _, r := range p.Spec.Ingress {
				for _, pp := range r.Ports {
					if pp.Port != nil && pp.Port.Type == intstr.Int {
						ports = append(ports, pp.Port.IntVal, pp.Port.IntVal+1)
					}
				}
			}
		}
		slices.Sort(ports)
		ports = slices.Compact(ports)
		asked, admitted := compare(t, cluster, inv, ports)
		if admitted == 0 || admitted == asked {
			t.Errorf("%s: %d of %d connections admitted: the estate should have both", cluster, admitted, asked)
		}
		t.Logf("%s: %d questions, %d admitted", cluster, asked, admitted)
	}
}

// randomInventory generates namespaces, workloads and policies from a small
// vocabulary, so selectors often match and often do not.
func randomInventory(r *rand.Rand) *checks.Inventory {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	lbls := func(keys ...string) map[string]string {
		m := map[string]string{}
		for _, k := range keys {
			if r.IntN(3) > 0 {
				m[k] = pick("a", "b", "pci-dss")
			}
		}
		return m
	}
	sel := func(keys ...string) *metav1.LabelSelector {
		switch r.IntN(5) {
		case 0:
			return &metav1.LabelSelector{}
		case 1:
			op := []metav1.LabelSelectorOperator{metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist}[r.IntN(4)]
			e := metav1.LabelSelectorRequirement{Key: pick(keys...), Operator: op}
			if op == metav1.LabelSelectorOpIn || op == metav1.LabelSelectorOpNotIn {
				e.Values = []string{pick("a", "b", "pci-dss")}
			}
			return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{e}}
		default:
			return &metav1.LabelSelector{MatchLabels: lbls(keys...)}
		}
	}
	inv := &checks.Inventory{Config: checks.DefaultConfig()}
	nss := []string{"ns0", "ns1", "ns2"}
	for _, n := range nss {
		inv.Namespaces = append(inv.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: lbls("team", "compliance")}})
	}
	containerPorts := []corev1.ContainerPort{{Name: "http", ContainerPort: 80}, {Name: "https", ContainerPort: 443},
		{Name: "pg", ContainerPort: 5432}, {Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}, {Name: "http", ContainerPort: 8080}}
	for i := range 2 + r.IntN(6) {
		var ports []corev1.ContainerPort
		for _, p := range containerPorts {
			if r.IntN(3) == 0 && !slices.ContainsFunc(ports, func(q corev1.ContainerPort) bool { return q.Name == p.Name }) {
				ports = append(ports, p)
			}
		}
		inv.Deployments = append(inv.Deployments, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("w%d", i), Namespace: pick(nss...)},
			Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbls("app", "tier")},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: ports}}},
			}},
		})
	}
	peers := func() []networkingv1.NetworkPolicyPeer {
		var out []networkingv1.NetworkPolicyPeer
		for range r.IntN(3) {
			switch r.IntN(4) {
			case 0:
				out = append(out, networkingv1.NetworkPolicyPeer{PodSelector: sel("app", "tier")})
			case 1:
				out = append(out, networkingv1.NetworkPolicyPeer{NamespaceSelector: sel("team", "compliance", "kubernetes.io/metadata.name")})
			case 2:
				out = append(out, networkingv1.NetworkPolicyPeer{PodSelector: sel("app", "tier"), NamespaceSelector: sel("team", "compliance")})
			default:
				b := &networkingv1.IPBlock{CIDR: pick("0.0.0.0/0", "10.0.0.0/8", "203.0.113.0/24")}
				if r.IntN(2) == 0 {
					b.Except = []string{pick("10.20.0.0/16", "203.0.113.7/32")}
				}
				out = append(out, networkingv1.NetworkPolicyPeer{IPBlock: b})
			}
		}
		return out
	}
	ports := func() []networkingv1.NetworkPolicyPort {
		var out []networkingv1.NetworkPolicyPort
		for range r.IntN(3) {
			var p networkingv1.NetworkPolicyPort
			if r.IntN(3) == 0 {
				udp := corev1.ProtocolUDP
				p.Protocol = &udp
			}
			switch r.IntN(4) {
			case 0: // every port of the protocol
			case 1:
				v := intstr.FromString(pick("http", "https", "pg", "dns"))
				p.Port = &v
			case 2:
				v := intstr.FromInt32([]int32{53, 80, 443, 5432}[r.IntN(4)])
				p.Port = &v
			default:
				v := intstr.FromInt32([]int32{50, 400, 8000}[r.IntN(3)])
				end := v.IntVal + int32(r.IntN(200))
				p.Port, p.EndPort = &v, &end
			}
			out = append(out, p)
		}
		return out
	}
	for i := range r.IntN(7) {
		p := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%d", i), Namespace: pick(nss...)}}
		p.Spec.PodSelector = *sel("app", "tier")
		switch r.IntN(4) {
		case 0: // omitted: defaulted from the rules
		case 1:
			p.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		case 2:
			p.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
		default:
			p.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
		}
		for range r.IntN(3) {
			p.Spec.Ingress = append(p.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: peers(), Ports: ports()})
		}
		for range r.IntN(3) {
			p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: peers(), Ports: ports()})
		}
		inv.NetworkPolicies = append(inv.NetworkPolicies, p)
	}
	return inv
}

func TestIsolationModelMatchesBruteForceOnRandomPolicies(t *testing.T) {
	ports := []int32{1, 50, 53, 80, 120, 443, 500, 5432, 8080, 8150}
	var asked, admitted int
	for seed := range uint64(400) {
		inv := randomInventory(rand.New(rand.NewPCG(seed, 15)))
		a, ad := compare(t, fmt.Sprintf("seed %d", seed), inv, ports)
		asked, admitted = asked+a, admitted+ad
		if t.Failed() {
			t.Fatalf("seed %d: %d policies", seed, len(inv.NetworkPolicies))
		}
	}
	// The generator must exercise both answers, or the comparison proves little.
	if admitted < asked/10 || admitted > asked*9/10 {
		t.Errorf("%d of %d admitted: the generator is lopsided", admitted, asked)
	}
	t.Logf("%d questions over 400 random estates, %d admitted", asked, admitted)
}

// TestFintechNetworkVerdicts: the estate's verdicts under the isolation
// model (testdata/fintech/all/70-network-policies.yaml): fintech-prod's
// default deny isolates both directions, postgres is in PCI scope through
// its namespace's label, and the namespace-wide scrape allow admits
// fintech-monitoring to the CDE.
func TestFintechNetworkVerdicts(t *testing.T) {
	fs, _ := runEstate(t, "local-1")
	assertFindings(t, fs, []expectation{
		{"ok", "net-pods-selected", "Deployment/fintech-prod/payment-service", checks.Pass, "for egress by fintech-default-deny, payment-service-policy, allow-dns-egress"},
		{"ok", "net-pods-selected", "StatefulSet/fintech-prod/postgres", checks.Pass, "isolated for ingress by NetworkPolicy fintech-default-deny, postgres-ingress, allow-monitoring-scrape"},
		{"F6", "net-pods-selected", "Deployment/fintech-staging/api-gateway", checks.Fail, "no NetworkPolicy in fintech-staging"},
		{"scrape", "net-pci-ingress-restricted", "StatefulSet/fintech-prod/postgres", checks.Fail, "namespace fintech-prod is labelled compliance=pci-dss"},
		{"scrape", "net-pci-ingress-restricted", "StatefulSet/fintech-prod/postgres", checks.Fail, "allow-monitoring-scrape spec.ingress[0].from[0] namespaceSelector={purpose=monitoring}"},
		{"ok", "net-pci-ingress-restricted", "Deployment/fintech-prod/api-gateway", checks.Pass, "in PCI scope"},
		{"F6", "net-pci-ingress-restricted", "Deployment/fintech-staging/payment-service", checks.Fail, "may connect anywhere"},
		{"ok", "net-default-deny", "Namespace/fintech-prod", checks.Pass, "no policy reopens every peer on every port"},
	})
	for _, f := range fs {
		if f.Check == "net-pci-ingress-restricted" && f.Resource.Namespace == "fintech-monitoring" {
			t.Errorf("%s is not in PCI scope, yet judged: %s", f.Resource, f.Evidence)
		}
	}
}

// TestPodsSelectedVerdictsHoldUnderBruteForce: what net-pods-selected says
// of a random estate's workload holds in the brute-force evaluation. "Not
// isolated for ingress" means a pod of a namespace nobody names reaches it
// on every port and protocol asked; "not isolated for egress" that it
// reaches such a pod everywhere; an isolation "undone" by a rule that the
// outsider pod or an outside address gets in (or out) on every TCP port.
func TestPodsSelectedVerdictsHoldUnderBruteForce(t *testing.T) {
	ports := []int32{1, 53, 80, 443, 5432, 8080, 8150, 65535}
	outsider := bruteEndpoint{ns: "zz-outsider", labels: map[string]string{}}
	outside := bruteEndpoint{ip: "198.51.100.9"}
	everywhere := func(inv *checks.Inventory, src, dst bruteEndpoint) bool {
		for _, port := range ports {
			for _, proto := range []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP} {
				if !bruteAdmits(inv, src, dst, port, proto) {
					return false
				}
			}
		}
		return true
	}
	everywhereTCP := func(inv *checks.Inventory, src, dst bruteEndpoint) bool {
		return !slices.ContainsFunc(ports, func(port int32) bool { return !bruteAdmits(inv, src, dst, port, corev1.ProtocolTCP) })
	}
	c := mustCheck(t, "net-pods-selected")
	counts := map[string]int{}
	for seed := range uint64(400) {
		inv := randomInventory(rand.New(rand.NewPCG(seed, 15)))
		for _, f := range checks.Evaluate(c, inv) {
			i := slices.IndexFunc(inv.Deployments, func(d *appsv1.Deployment) bool {
				return f.Resource == checks.Resource{Kind: "Deployment", Namespace: d.Namespace, Name: d.Name}
			})
			if i < 0 {
				continue
			}
			d := inv.Deployments[i]
			w := bruteEndpoint{ns: d.Namespace, labels: d.Spec.Template.Labels, ports: d.Spec.Template.Spec.Containers[0].Ports}
			claims := map[string]bool{
				"not isolated for ingress": everywhere(inv, outsider, w),
				"not isolated for egress":  everywhere(inv, w, outsider),
				"no NetworkPolicy in":      everywhere(inv, outsider, w) && everywhere(inv, w, outsider),
				"ingress isolation undone": everywhereTCP(inv, outsider, w) || everywhereTCP(inv, outside, w),
				"egress isolation undone":  everywhereTCP(inv, w, outsider) || everywhereTCP(inv, w, outside),
			}
			for claim, holds := range claims {
				if !strings.Contains(f.Evidence, claim) {
					continue
				}
				counts[claim]++
				if !holds {
					t.Fatalf("seed %d: %s says %q, the brute force disagrees: %s", seed, f.Resource, claim, f.Evidence)
				}
			}
		}
	}
	for claim := range map[string]bool{"not isolated for ingress": true, "not isolated for egress": true, "ingress isolation undone": true, "egress isolation undone": true} {
		if counts[claim] == 0 {
			t.Errorf("no random estate produced %q: the generator does not exercise it", claim)
		}
	}
	t.Logf("claims checked: %v", counts)
}
