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
			Rationale:   "A host without a spec.tls entry is served over plain HTTP: credentials and cardholder data cross the network readable.",
			Remediation: "Add spec.tls with every rule host and a secretName (issued by cert-manager), and redirect HTTP to HTTPS at the ingress controller.",
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

func evalIngressTLS(inv *Inventory) []Finding {
	var out []Finding
	for _, ing := range inv.Ingresses {
		r := Resource{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
		covered := map[string]string{}
		for i, t := range ing.Spec.TLS {
			for _, h := range t.Hosts {
				covered[h] = fmt.Sprintf("spec.tls[%d] secretName=%s", i, t.SecretName)
			}
			if len(t.Hosts) == 0 {
				covered["*"] = fmt.Sprintf("spec.tls[%d] secretName=%s", i, t.SecretName)
			}
		}
		var bad, good []string
		for i, rule := range ing.Spec.Rules {
			host := rule.Host
			if host == "" {
				host = "*"
			}
			if c, ok := covered[host]; ok && !strings.HasSuffix(c, "secretName=") {
				good = append(good, fmt.Sprintf("spec.rules[%d].host=%s covered by %s", i, host, c))
			} else if ok {
				bad = append(bad, fmt.Sprintf("spec.rules[%d].host=%s in spec.tls without secretName", i, host))
			} else {
				bad = append(bad, fmt.Sprintf("spec.rules[%d].host=%s has no spec.tls entry (plain HTTP)", i, host))
			}
		}
		switch {
		case len(ing.Spec.TLS) == 0:
			out = append(out, finding(Fail, r, "spec.tls unset: served over plain HTTP (%d rules)", len(ing.Spec.Rules)))
		case len(bad) > 0:
			out = append(out, finding(Fail, r, "%s", strings.Join(bad, "; ")))
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
