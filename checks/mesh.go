package checks

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const (
	itemMTLS            = "Service mesh with mTLS enabled"
	itemMeshEncryption  = "Service mesh traffic encryption"
	istioRootNamespace  = "istio-system"
	labelIstioInjection = "istio-injection"
	labelIstioRev       = "istio.io/rev"
)

func meshChecks() []Check {
	return []Check{
		{
			ID: "mesh-peer-authentication-strict", Title: "Istio PeerAuthentication is STRICT in every namespace",
			Group: Security, Item: itemMTLS, PCI: []string{"8.3.2"}, Severity: High,
			Rationale:   "Istio's default is PERMISSIVE: sidecars accept plaintext, so a pod outside the mesh can talk to a service unencrypted and unauthenticated. STRICT makes mTLS the only way in.",
			Remediation: "Apply a PeerAuthentication named default with spec.mtls.mode: STRICT in the namespace (or mesh-wide in istio-system), and label the namespace istio-injection=enabled.",
			Needs:       []string{ResPeerAuthentications, ResNamespaces},
			Eval:        evalPeerAuthentication,
		},
		{
			ID: "mesh-destination-rule-istio-mutual", Title: "DestinationRules originate ISTIO_MUTUAL TLS",
			Group: Security, Item: itemMeshEncryption, PCI: []string{"8.3.2"}, Severity: Medium,
			Rationale:   "A DestinationRule's trafficPolicy.tls replaces auto-mTLS for its host: DISABLE or SIMPLE there sends plaintext or unauthenticated TLS between services.",
			Remediation: "Set spec.trafficPolicy.tls.mode: ISTIO_MUTUAL (and on every portLevelSettings entry).",
			Needs:       []string{ResDestinationRules},
			Eval:        evalDestinationRules,
		},
	}
}

func str(u *unstructured.Unstructured, fields ...string) string {
	s, _, _ := unstructured.NestedString(u.Object, fields...)
	return s
}

func ref(u *unstructured.Unstructured) Resource {
	return Resource{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
}

// namespaceWidePA returns the mode of the selector-less PeerAuthentication in
// ns, and its name, if there is one.
func namespaceWidePA(pas []*unstructured.Unstructured, ns string) (mode, name string, ok bool) {
	for _, pa := range pas {
		if pa.GetNamespace() != ns {
			continue
		}
		if sel, found, _ := unstructured.NestedMap(pa.Object, "spec", "selector"); found && len(sel) > 0 {
			continue
		}
		m := str(pa, "spec", "mtls", "mode")
		if m == "" {
			m = "UNSET"
		}
		return m, pa.GetName(), true
	}
	return "", "", false
}

// istioAbsent is the verdict of a mesh check when Istio's CRDs are not
// installed. The seed's checklist requires "Service mesh with mTLS enabled"
// and "Service mesh traffic encryption": a cluster without a mesh does not
// meet them, so live it fails (never not-applicable, which would leave the
// score). Manifests may simply not carry the CRDs: unknown.
func istioAbsent(inv *Inventory, group string) []Finding {
	if inv.fromManifests() {
		return []Finding{finding(Unknown, clusterResource, "Istio's %s CRDs are not in the input: whether the cluster runs the mesh the seed's checklist requires cannot be told from these manifests", group)}
	}
	return []Finding{finding(Fail, clusterResource, "Istio absent: no %s CRDs, so no service mesh and no mTLS between services, which the seed's checklist requires", group)}
}

// meshDefault is the mode that applies where nothing sets one: the
// mesh-wide PeerAuthentication's, unless it is unset too (Istio's default
// is PERMISSIVE).
func meshDefault(pas []*unstructured.Unstructured) (mode, src string) {
	m, name, ok := namespaceWidePA(pas, istioRootNamespace)
	switch {
	case !ok:
		return "PERMISSIVE", "no mesh-wide PeerAuthentication: Istio's default PERMISSIVE"
	case m == "UNSET":
		return "PERMISSIVE", fmt.Sprintf("mesh-wide PeerAuthentication %s/%s spec.mtls.mode unset: Istio's default PERMISSIVE", istioRootNamespace, name)
	}
	return m, fmt.Sprintf("mesh-wide PeerAuthentication %s/%s spec.mtls.mode=%s", istioRootNamespace, name, m)
}

func evalPeerAuthentication(inv *Inventory) []Finding {
	if !inv.installed(GroupIstioSecurity) {
		return istioAbsent(inv, GroupIstioSecurity)
	}
	meshMode, meshSrc := meshDefault(inv.PeerAuthentications)
	var out []Finding
	for _, ns := range inv.scopedNamespaces() {
		if ns.Name == istioRootNamespace {
			continue
		}
		r := Resource{Kind: "Namespace", Name: ns.Name}
		mode, name, ok := namespaceWidePA(inv.PeerAuthentications, ns.Name)
		src := fmt.Sprintf("PeerAuthentication %s/%s spec.mtls.mode=%s", ns.Name, name, mode)
		switch {
		case !ok:
			mode, src = meshMode, meshSrc
		case mode == "UNSET":
			// UNSET inherits from the parent: the mesh-wide policy.
			mode, src = meshMode, fmt.Sprintf("PeerAuthentication %s/%s spec.mtls.mode unset (inherits), %s", ns.Name, name, meshSrc)
		}
		var loose []string
		for _, pa := range inv.PeerAuthentications {
			if pa.GetNamespace() != ns.Name {
				continue
			}
			if m := str(pa, "spec", "mtls", "mode"); m != "" && m != "STRICT" && m != "UNSET" && pa.GetName() != name {
				loose = append(loose, fmt.Sprintf("PeerAuthentication %s spec.mtls.mode=%s for a workload selector", pa.GetName(), m))
			}
			if pl, found, _ := unstructured.NestedMap(pa.Object, "spec", "portLevelMtls"); found {
				for _, port := range slices.Sorted(maps.Keys(pl)) {
					if m, _, _ := unstructured.NestedString(pl, port, "mode"); m != "" && m != "STRICT" && m != "UNSET" {
						loose = append(loose, fmt.Sprintf("PeerAuthentication %s spec.portLevelMtls[%s].mode=%s", pa.GetName(), port, m))
					}
				}
			}
		}
		injected := ns.Labels[labelIstioInjection] == "enabled" || ns.Labels[labelIstioRev] != ""
		switch {
		case mode != "STRICT":
			out = append(out, finding(Fail, r, "%s (plaintext accepted)", src))
		case len(loose) > 0:
			out = append(out, finding(Fail, r, "%s, but %s", src, strings.Join(loose, "; ")))
		case !injected:
			out = append(out, finding(Warn, r, "%s, but the namespace has no %s=enabled or %s label: its pods get no sidecar, so their traffic is not mTLS", src, labelIstioInjection, labelIstioRev))
		default:
			out = append(out, finding(Pass, r, "%s, namespace labelled for sidecar injection", src))
		}
	}
	return out
}

func evalDestinationRules(inv *Inventory) []Finding {
	if !inv.installed(GroupIstioNetworking) {
		return istioAbsent(inv, GroupIstioNetworking)
	}
	var out []Finding
	for _, dr := range inv.DestinationRules {
		r := ref(dr)
		mode := str(dr, "spec", "trafficPolicy", "tls", "mode")
		var bad []string
		ports, _, _ := unstructured.NestedSlice(dr.Object, "spec", "trafficPolicy", "portLevelSettings")
		for i, p := range ports {
			if m, _, _ := unstructured.NestedString(map[string]any{"p": p}, "p", "tls", "mode"); m != "" && m != "ISTIO_MUTUAL" {
				bad = append(bad, fmt.Sprintf("spec.trafficPolicy.portLevelSettings[%d].tls.mode=%s", i, m))
			}
		}
		switch {
		case mode == "ISTIO_MUTUAL" && len(bad) == 0:
			out = append(out, finding(Pass, r, "spec.trafficPolicy.tls.mode=ISTIO_MUTUAL (host %s)", str(dr, "spec", "host")))
		case mode == "" && len(bad) == 0:
			out = append(out, finding(Warn, r, "spec.trafficPolicy.tls.mode unset: relies on Istio auto-mTLS (host %s)", str(dr, "spec", "host")))
		case mode != "ISTIO_MUTUAL" && mode != "":
			out = append(out, finding(Fail, r, "spec.trafficPolicy.tls.mode=%s (host %s) %s", mode, str(dr, "spec", "host"), strings.Join(bad, "; ")))
		default:
			out = append(out, finding(Fail, r, "spec.trafficPolicy.tls.mode=%s, but %s", mode, strings.Join(bad, "; ")))
		}
	}
	return out
}
