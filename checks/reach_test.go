package checks_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/load"
)

// The differential test of the reachability matrix (issue 16, part 3): every edge it lists,
// and none more, is what the brute-force evaluation of netpol_test.go (written from the API's
// documentation, sharing no code with checks/) admits, asked of every (source, PCI workload,
// port) and (PCI workload, destination, port). PCI scope is read here from the labels, the
// long way.

type namedEndpoint struct {
	name string
	bruteEndpoint
}

// bruteEstateEndpoints are the Deployments and StatefulSets, named, the stranger pod and the
// outside addresses; pci marks the workloads labelled compliance=pci-dss (on the namespace,
// the workload or its pods).
func bruteEstateEndpoints(inv *checks.Inventory) (all []namedEndpoint, pci map[string]bool) {
	pci = map[string]bool{}
	add := func(ns, name string, own map[string]string, t corev1.PodTemplateSpec) {
		var ports []corev1.ContainerPort
		for _, c := range t.Spec.InitContainers {
			ports = append(ports, c.Ports...)
		}
		for _, c := range t.Spec.Containers {
			ports = append(ports, c.Ports...)
		}
		n := ns + "/" + name
		all = append(all, namedEndpoint{n, bruteEndpoint{ns: ns, labels: t.Labels, ports: ports}})
		if bruteNSLabels(inv, ns)["compliance"] == "pci-dss" || own["compliance"] == "pci-dss" || t.Labels["compliance"] == "pci-dss" {
			pci[n] = true
		}
	}
	for _, d := range inv.Deployments {
		add(d.Namespace, d.Name, d.Labels, d.Spec.Template)
	}
	for _, s := range inv.StatefulSets {
		add(s.Namespace, s.Name, s.Labels, s.Spec.Template)
	}
	for _, d := range inv.DaemonSets {
		add(d.Namespace, d.Name, d.Labels, d.Spec.Template)
	}
	all = append(all, namedEndpoint{"a pod in another namespace, unlabelled", bruteEndpoint{ns: "-stranger-"}})
	for _, ip := range checks.ReachOutside {
		all = append(all, namedEndpoint{"outside " + ip.String(), bruteEndpoint{ip: ip.String()}})
	}
	return all, pci
}

// bruteReach lists "from → to port/proto" for every admitted question, into and out of the
// PCI workloads.
func bruteReach(inv *checks.Inventory) (ingress, egress []string) {
	all, pci := bruteEstateEndpoints(inv)
	portsOf := func(e bruteEndpoint) []corev1.ContainerPort {
		if e.ip == "" && len(e.ports) > 0 {
			return e.ports
		}
		var out []corev1.ContainerPort
		for _, p := range checks.ReachProbePorts {
			out = append(out, corev1.ContainerPort{ContainerPort: p, Protocol: corev1.ProtocolTCP}, corev1.ContainerPort{ContainerPort: p, Protocol: corev1.ProtocolUDP})
		}
		return out
	}
	ask := func(src, dst namedEndpoint) []string {
		var out []string
		for _, p := range portsOf(dst.bruteEndpoint) {
			proto := p.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			if bruteAdmits(inv, src.bruteEndpoint, dst.bruteEndpoint, p.ContainerPort, proto) {
				out = append(out, fmt.Sprintf("%s → %s %d/%s", src.name, dst.name, p.ContainerPort, proto))
			}
		}
		return out
	}
	for _, dst := range all {
		for _, src := range all {
			if pci[dst.name] && src.name != dst.name && !(src.ip != "" && dst.ip != "") {
				ingress = append(ingress, ask(src, dst)...)
			}
			if pci[src.name] && src.name != dst.name && !(src.ip != "" && dst.ip != "") {
				egress = append(egress, ask(src, dst)...)
			}
		}
	}
	slices.Sort(ingress)
	slices.Sort(egress)
	return slices.Compact(ingress), slices.Compact(egress)
}

func flatten(edges []checks.ReachEdge) []string {
	var out []string
	for _, e := range edges {
		for _, p := range e.Ports {
			out = append(out, e.From+" → "+e.To+" "+p)
		}
	}
	slices.Sort(out)
	return out
}

func compareReach(t *testing.T, name string, inv *checks.Inventory) checks.Reachability {
	t.Helper()
	r := inv.Reachability()
	wantIn, wantEg := bruteReach(inv)
	for _, c := range []struct {
		dir       string
		got, want []string
	}{{"ingress", flatten(r.Ingress), wantIn}, {"egress", flatten(r.Egress), wantEg}} {
		if !slices.Equal(c.got, c.want) {
			for _, g := range c.got {
				if !slices.Contains(c.want, g) {
					t.Errorf("%s %s: the matrix lists %s; brute force does not admit it", name, c.dir, g)
				}
			}
			for _, w := range c.want {
				if !slices.Contains(c.got, w) {
					t.Errorf("%s %s: brute force admits %s; the matrix lacks it", name, c.dir, w)
				}
			}
		}
	}
	for _, e := range append(slices.Clone(r.Ingress), r.Egress...) {
		if len(e.Via) == 0 {
			t.Errorf("%s: edge %s → %s says nothing of what admits it", name, e.From, e.To)
		}
	}
	return r
}

func TestReachabilityMatchesBruteForceOnEstate(t *testing.T) {
	for _, cluster := range []string{"local-1", "local-2"} {
		root := filepath.Join("..", "testdata", "fintech")
		inv, err := load.Paths([]string{filepath.Join(root, "all"), filepath.Join(root, cluster)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := compareReach(t, cluster, inv)
		if len(r.Scope) == 0 || len(r.Ingress) == 0 {
			t.Fatalf("%s: scope %v, %d ingress edges: the estate has PCI workloads reached by the gateway", cluster, r.Scope, len(r.Ingress))
		}
		var gw *checks.ReachEdge
		for i, e := range r.Ingress {
			if e.From == "fintech-prod/api-gateway" && e.To == "fintech-prod/payment-service" {
				gw = &r.Ingress[i]
			}
		}
		if gw == nil || !slices.ContainsFunc(gw.Via, func(v string) bool { return strings.HasPrefix(v, "ingress: fintech-prod/") }) {
			t.Errorf("%s: api-gateway → payment-service = %+v, want it admitted by an ingress rule of a fintech-prod policy", cluster, gw)
		}
		t.Logf("%s: %d in scope, %d ingress and %d egress edges", cluster, len(r.Scope), len(r.Ingress), len(r.Egress))
	}
}

func TestReachabilityMatchesBruteForceOnRandomPolicies(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 16))
	edges, scoped := 0, 0
	defer func() {
		t.Logf("150 random estates: %d in PCI scope, %d edges", scoped, edges)
		if edges == 0 || scoped == 0 {
			t.Errorf("the random estates put nothing in scope or admit nothing: the test compares nothing")
		}
	}()
	for i := range 150 {
		inv := randomInventory(r)
		// Random estates label their own namespaces; put one in PCI scope.
		if len(inv.Namespaces) > 0 {
			ns := inv.Namespaces[r.IntN(len(inv.Namespaces))].DeepCopy()
			if ns.Labels == nil {
				ns.Labels = map[string]string{}
			}
			ns.Labels["compliance"] = "pci-dss"
			for j := range inv.Namespaces {
				if inv.Namespaces[j].Name == ns.Name {
					inv.Namespaces[j] = ns
				}
			}
		}
		m := compareReach(t, fmt.Sprint("random ", i), inv)
		scoped += len(m.Scope)
		edges += len(m.Ingress) + len(m.Egress)
		if t.Failed() {
			return
		}
	}
}
