package checks

import (
	"fmt"
	"slices"
	"strings"
)

const (
	itemIngressTLS = "Ingress properly configured with TLS"
	itemRegistry   = "Private container registry"
)

func exposureChecks() []Check {
	return []Check{
		{
			ID: "ingress-tls", Title: "Every Ingress host is served with TLS",
			Group: Security, Item: itemIngressTLS, PCI: []string{"4.2.1"}, Severity: High,
			Rationale:   "A host without a spec.tls entry is served over plain HTTP: credentials and cardholder data cross the network readable. A tls entry whose Secret does not exist makes the controller serve its default, untrusted certificate.",
			Remediation: "Add spec.tls with every rule host (a wildcard covers one label) and a secretName whose Secret exists (issued by cert-manager), and redirect HTTP to HTTPS at the ingress controller.",
			Needs:       []string{ResIngresses},
			Eval:        evalIngressTLS,
		},
		{
			ID: "images-allowed-registry", Title: "Images come from an allowed private registry",
			Group: Security, Item: itemRegistry, PCI: []string{"6.3.2"}, Severity: High,
			Rationale:   "A private registry is where images are scanned, signed and inventoried; a public registry puts an outside party's build in the cardholder-data environment.",
			Remediation: "Mirror the image into the private registry (scanned and signed there) and reference it by that name; extend the allowed list only for vetted registries.",
			Needs:       []string{ResDeployments, ResStatefulSets, ResDaemonSets, ResPods},
			Eval:        evalRegistry,
		},
		{
			ID: "images-pinned", Title: "Images are pinned by tag or digest, never :latest",
			Group: Security, Item: itemRegistry, PCI: []string{"6.5.1"}, Severity: Medium,
			Rationale:   "`:latest` (or no tag) changes under a running Deployment: a restart pulls an untested build, and a rollback cannot bring the old one back.",
			Remediation: "Reference a release tag (v1.2.3) or, better, a digest (@sha256:...) and let GitOps change it.",
			Needs:       []string{ResDeployments, ResStatefulSets, ResDaemonSets, ResPods},
			Eval:        evalPinned,
		},
	}
}

// hostCovered reports whether a certificate name (a spec.tls host) covers
// a request host per RFC 6125 §6.4.3 as TLS clients check it: names compare
// case-insensitively; a wildcard "*." stands for exactly one leftmost label
// ("*.example.com" covers "api.example.com", not "example.com" or
// "a.b.example.com"). A wildcard rule host is covered by the same wildcard.
func hostCovered(certName, host string) bool {
	certName, host = strings.ToLower(strings.TrimSuffix(certName, ".")), strings.ToLower(strings.TrimSuffix(host, "."))
	if certName == host {
		return true
	}
	suffix, ok := strings.CutPrefix(certName, "*.")
	if !ok || strings.HasPrefix(host, "*.") {
		return false
	}
	label, rest, found := strings.Cut(host, ".")
	return found && label != "" && rest == suffix
}

// certManagerIssued reports whether cert-manager's ingress-shim is asked
// to issue the Ingress's certificates (it creates the Secret).
func certManagerIssued(annotations map[string]string) bool {
	return annotations["cert-manager.io/cluster-issuer"] != "" || annotations["cert-manager.io/issuer"] != ""
}

func evalIngressTLS(inv *Inventory) []Finding {
	prods := inv.producers()
	_, secretsForbidden := inv.Forbidden[ResSecrets]
	var out []Finding
	for _, ing := range inv.Ingresses {
		r := Resource{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
		if len(ing.Spec.TLS) == 0 {
			out = append(out, finding(Fail, r, "spec.tls unset: served over plain HTTP (%d rules)", len(ing.Spec.Rules)))
			continue
		}
		var bad, good, unknown []string
		// Every TLS entry's certificate Secret must exist (metadata only): a
		// missing one makes the controller serve its default, untrusted
		// certificate.
		for i, t := range ing.Spec.TLS {
			f := fmt.Sprintf("spec.tls[%d]", i)
			switch _, exists := inv.secretMeta(ing.Namespace, t.SecretName); {
			case t.SecretName == "":
				bad = append(bad, f+" has no secretName")
			case exists:
			case secretsForbidden:
				unknown = append(unknown, fmt.Sprintf("%s secretName=%s: Secrets cannot be listed (%s)", f, t.SecretName, inv.Forbidden[ResSecrets]))
			case inv.fromManifests() && (len(prods[ing.Namespace+"/"+t.SecretName]) > 0 || certManagerIssued(ing.Annotations)):
				// From manifests, a producer in the input stands for the Secret.
			case certManagerIssued(ing.Annotations):
				bad = append(bad, fmt.Sprintf("%s secretName=%s: Secret %s/%s does not exist (cert-manager has not issued it)", f, t.SecretName, ing.Namespace, t.SecretName))
			default:
				bad = append(bad, fmt.Sprintf("%s secretName=%s: Secret %s/%s does not exist and nothing produces it", f, t.SecretName, ing.Namespace, t.SecretName))
			}
		}
		for i, rule := range ing.Spec.Rules {
			host := rule.Host
			covering := -1
			for j, t := range ing.Spec.TLS {
				if host == "" && len(t.Hosts) == 0 || slices.ContainsFunc(t.Hosts, func(h string) bool { return hostCovered(h, host) }) {
					covering = j
					break
				}
			}
			if host == "" {
				host = "*"
			}
			if covering < 0 {
				bad = append(bad, fmt.Sprintf("spec.rules[%d].host=%s is covered by no spec.tls host (plain HTTP, or a certificate that does not name it)", i, host))
				continue
			}
			good = append(good, fmt.Sprintf("spec.rules[%d].host=%s covered by spec.tls[%d] secretName=%s", i, host, covering, ing.Spec.TLS[covering].SecretName))
		}
		switch {
		case len(bad) > 0:
			out = append(out, finding(Fail, r, "%s", strings.Join(bad, "; ")))
		case len(unknown) > 0:
			out = append(out, finding(Unknown, r, "%s; %s", strings.Join(good, "; "), strings.Join(unknown, "; ")))
		default:
			out = append(out, finding(Pass, r, "%s", strings.Join(good, "; ")))
		}
	}
	return out
}

// imageRef is a container image reference split into its parts.
type imageRef struct {
	Registry, Path, Tag, Digest string
}

// parseImage splits an image reference the way the container runtime does:
// the first component is a registry when it has a dot or a port or is
// localhost; otherwise the image is on Docker Hub.
func parseImage(image string) imageRef {
	var r imageRef
	rest := image
	if i := strings.Index(rest, "@"); i >= 0 {
		r.Digest, rest = rest[i+1:], rest[:i]
	}
	if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		r.Tag, rest = rest[i+1:], rest[:i]
	}
	first, remainder, found := strings.Cut(rest, "/")
	if found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		r.Registry, r.Path = first, remainder
	} else {
		r.Registry, r.Path = "docker.io", rest
	}
	return r
}

func allowedImage(image string, allowed []string) bool {
	ref := parseImage(image)
	full := ref.Registry + "/" + ref.Path
	return slices.ContainsFunc(allowed, func(a string) bool {
		a = strings.TrimSuffix(a, "/")
		return full == a || strings.HasPrefix(full, a+"/")
	})
}

func evalRegistry(inv *Inventory) []Finding {
	allowed := inv.Config.AllowedRegistries
	var out []Finding
	for _, w := range inv.workloads() {
		var bad, good []string
		for _, c := range allContainers(w.Spec(), w.Field) {
			if allowedImage(c.Image, allowed) {
				good = append(good, fmt.Sprintf("%s.image=%s", c.Field, c.Image))
			} else {
				bad = append(bad, fmt.Sprintf("%s.image=%s (registry %s)", c.Field, c.Image, parseImage(c.Image).Registry))
			}
		}
		if len(bad) > 0 {
			out = append(out, finding(Fail, w.Ref(), "%s not in the allowed registries [%s]", strings.Join(bad, "; "), strings.Join(allowed, ", ")))
		} else {
			out = append(out, finding(Pass, w.Ref(), "%s", strings.Join(good, "; ")))
		}
	}
	return out
}

func evalPinned(inv *Inventory) []Finding {
	var out []Finding
	for _, w := range inv.workloads() {
		var bad, good []string
		for _, c := range allContainers(w.Spec(), w.Field) {
			ref := parseImage(c.Image)
			field := fmt.Sprintf("%s.image=%s", c.Field, c.Image)
			switch {
			case ref.Digest != "":
				good = append(good, field+" (digest)")
			case ref.Tag == "":
				bad = append(bad, field+" (no tag: means latest)")
			case ref.Tag == "latest":
				bad = append(bad, field+" (mutable tag latest)")
			default:
				good = append(good, field)
			}
		}
		out = append(out, failOrPass(w.Ref(), bad, "%s", strings.Join(good, "; ")))
	}
	return out
}
