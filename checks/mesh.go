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
		{
			ID: "mesh-fields-known", Title: "Istio policies carry only fields Istio defines",
			Group: Security, Item: itemMeshEncryption, Severity: Low,
			Rationale:   "A misspelt or invented field in a DestinationRule or PeerAuthentication (the seed's `circuitBreaker`, a `tls.mdoe`) is not configuration: Istio's own CRD schema rejects it, and where a CRD preserves unknown fields it is silently ignored, so the policy the author meant (outlier detection, a TLS mode) is not in force.",
			Remediation: "Replace the field with Istio's (circuit breaking is trafficPolicy.connectionPool and outlierDetection) and apply Istio's CRDs with their schema so the apiserver rejects unknown fields.",
			Needs:       []string{ResDestinationRules, ResPeerAuthentications},
			Eval:        evalMeshFields,
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

// istioFields are the fields of the Istio objects vigil reads, per path
// (security.istio.io and networking.istio.io v1 reference: PeerAuthentication,
// DestinationRule, TrafficPolicy, ClientTLSSettings, Subset).
var istioFields = map[string][]string{
	"PeerAuthentication spec":           {"selector", "mtls", "portLevelMtls"},
	"PeerAuthentication spec.mtls":      {"mode"},
	"DestinationRule spec":              {"host", "trafficPolicy", "subsets", "exportTo", "workloadSelector"},
	"DestinationRule trafficPolicy":     {"loadBalancer", "connectionPool", "outlierDetection", "tls", "portLevelSettings", "tunnel", "proxyProtocol", "retryBudget"},
	"DestinationRule portLevelSettings": {"port", "loadBalancer", "connectionPool", "outlierDetection", "tls"},
	"DestinationRule tls":               {"mode", "clientCertificate", "privateKey", "caCertificates", "credentialName", "subjectAltNames", "sni", "insecureSkipVerify", "caCrl"},
	"DestinationRule subsets":           {"name", "labels", "trafficPolicy"},
}

// unknownFields lists the keys of m (at field) not in istioFields[schema].
func unknownFields(m map[string]any, schema, field string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(istioFields[schema], k) {
			out = append(out, field+"."+k)
		}
	}
	return out
}

func evalMeshFields(inv *Inventory) []Finding {
	var out []Finding
	judge := func(u *unstructured.Unstructured, bad []string) {
		if len(bad) > 0 {
			out = append(out, finding(Fail, ref(u), "%s: not %s fields (rejected by Istio's CRD schema, else ignored): the policy they were meant to set is not in force", strings.Join(bad, ", "), u.GetKind()))
		} else {
			out = append(out, finding(Pass, ref(u), "every field is one Istio defines"))
		}
	}
	sub := func(m map[string]any, key string) map[string]any {
		v, _ := m[key].(map[string]any)
		return v
	}
	trafficPolicy := func(tp map[string]any, field string) []string {
		bad := unknownFields(tp, "DestinationRule trafficPolicy", field)
		bad = append(bad, unknownFields(sub(tp, "tls"), "DestinationRule tls", field+".tls")...)
		pls, _ := tp["portLevelSettings"].([]any)
		for i, pl := range pls {
			m, _ := pl.(map[string]any)
			f := fmt.Sprintf("%s.portLevelSettings[%d]", field, i)
			bad = append(bad, unknownFields(m, "DestinationRule portLevelSettings", f)...)
			bad = append(bad, unknownFields(sub(m, "tls"), "DestinationRule tls", f+".tls")...)
		}
		return bad
	}
	for _, pa := range inv.PeerAuthentications {
		spec := sub(pa.Object, "spec")
		judge(pa, append(unknownFields(spec, "PeerAuthentication spec", "spec"), unknownFields(sub(spec, "mtls"), "PeerAuthentication spec.mtls", "spec.mtls")...))
	}
	for _, dr := range inv.DestinationRules {
		spec := sub(dr.Object, "spec")
		bad := unknownFields(spec, "DestinationRule spec", "spec")
		bad = append(bad, trafficPolicy(sub(spec, "trafficPolicy"), "spec.trafficPolicy")...)
		subsets, _ := spec["subsets"].([]any)
		for i, ss := range subsets {
			m, _ := ss.(map[string]any)
			f := fmt.Sprintf("spec.subsets[%d]", i)
			bad = append(bad, unknownFields(m, "DestinationRule subsets", f)...)
			bad = append(bad, trafficPolicy(sub(m, "trafficPolicy"), f+".trafficPolicy")...)
		}
		judge(dr, bad)
	}
	return out
}
