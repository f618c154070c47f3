package checks

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const (
	itemESO        = "External secrets operator configured"
	itemAtRest     = "Secrets encrypted at rest"
	itemRotation   = "Secret rotation implemented"
	itemNoInImages = "No secrets in container images"
)

func secretChecks() []Check {
	return []Check{
		{
			ID: "secrets-from-external-secrets", Title: "Secrets used by workloads come from a Ready ExternalSecret",
			Group: Security, Item: itemESO, PCI: []string{"3.6.1", "8.6.2"}, Severity: High,
			Rationale:   "A Secret written by hand (or kustomize's secretGenerator) lives only in the cluster and in whatever file made it; one synced by External Secrets from a vault has an owner, an audit trail and a rotation path.",
			Remediation: "Create an ExternalSecret (spec.target.name = the Secret's name, creationPolicy Owner) against the vault SecretStore, remove other producers (SealedSecret, generators), and fix its Ready condition.",
			Needs:       []string{ResExternalSecrets, ResClusterExtSecrets, ResSealedSecrets, ResDeployments, ResStatefulSets, ResDaemonSets, ResPods},
			Eval:        evalSecretSources,
		},
		{
			ID: "secrets-references-exist", Title: "Every Secret a workload references exists",
			Group: Security, Item: itemESO, Severity: High,
			Rationale:   "A missing Secret stops pods from starting (CreateContainerConfigError, or ImagePullBackOff for a missing pull secret): on a recovery cluster this is how a failover fails.",
			Remediation: "Create the Secret through its ExternalSecret in this cluster (or fix the reference), and include it in the DR runbook's checks.",
			Needs:       []string{ResSecrets, ResExternalSecrets, ResClusterExtSecrets, ResSealedSecrets, ResDeployments, ResStatefulSets, ResDaemonSets, ResPods},
			Eval:        evalSecretsExist,
		},
		{
			ID: "secrets-external-secret-ready", Title: "ExternalSecrets and SecretStores are Ready",
			Group: Security, Item: itemESO, PCI: []string{"8.6.3", "3.7.4"}, Severity: Medium,
			Rationale:   "An ExternalSecret that is not Ready stopped syncing: its Secret is stale or missing, and a rotated credential in the vault never reaches the pods.",
			Remediation: "Read the Ready condition's message (kubectl describe externalsecret), fix the remote key or the store's auth, and alert on externalsecret_status_condition{condition=\"Ready\",status=\"False\"}.",
			Needs:       []string{ResExternalSecrets, ResClusterExtSecrets, ResSecretStores, ResClusterSecretStores},
			Eval:        evalExternalSecretsReady,
		},
		{
			ID: "secrets-single-producer", Title: "Each Secret has exactly one controller producing it",
			Group: Security, Item: itemESO, PCI: []string{"3.6.1", "6.5.1"}, Severity: Medium,
			Rationale:   "When a SealedSecret and an ExternalSecret both own one Secret, each controller overwrites the other's data: which credential is live depends on who reconciled last.",
			Remediation: "Keep one producer (the ExternalSecret) and delete the other object.",
			Needs:       []string{ResExternalSecrets, ResClusterExtSecrets, ResSealedSecrets},
			Eval:        evalSingleProducer,
		},
		{
			ID: "secrets-encrypted-at-rest", Title: "Secrets are encrypted at rest in etcd",
			Group: Security, Item: itemAtRest, PCI: []string{"8.3.2", "3.6.1"}, Severity: High,
			Rationale:   "Without an EncryptionConfiguration, Secrets sit base64-encoded in etcd and in every etcd backup.",
			Remediation: "Configure the API server's --encryption-provider-config with a kms (v2) provider for secrets, or enable the managed platform's envelope encryption, and keep that as audit evidence.",
			Needs:       []string{ResAPIServerPods},
			Eval:        evalEncryptionAtRest,
		},
		{
			ID: "secrets-rotation", Title: "Synced secrets refresh on an interval; none are static",
			Group: Security, Item: itemRotation, PCI: []string{"8.6.3", "3.7.4"}, Severity: Medium,
			Rationale:   "Rotation only reaches the cluster if the ExternalSecret refreshes: refreshInterval 0 syncs once and never again, and a SealedSecret's ciphertext is static until someone re-seals it.",
			Remediation: "Set spec.refreshInterval (e.g. 1h) on every ExternalSecret, replace SealedSecrets with ExternalSecrets, and rotate in the vault on the key's cryptoperiod.",
			Needs:       []string{ResExternalSecrets, ResClusterExtSecrets, ResSealedSecrets},
			Eval:        evalRotation,
		},
		{
			ID: "secrets-no-literal-env", Title: "No environment variable holds a literal secret",
			Group: Security, Item: itemNoInImages, PCI: []string{"8.6.2"}, Severity: High,
			Rationale:   "A password, token or key written as env value is in the manifest, in Git, in every ReplicaSet revision and readable by anyone who can get the Deployment.",
			Remediation: "Move the value into a Secret (synced by an ExternalSecret) and reference it with valueFrom.secretKeyRef.",
			Needs:       []string{ResDeployments, ResStatefulSets, ResDaemonSets, ResPods},
			Eval:        evalLiteralEnv,
		},
		{
			ID: "secrets-image-scan", Title: "Container images carry no embedded secrets",
			Group: Security, Item: itemNoInImages, PCI: []string{"8.6.2"}, Severity: Medium,
			Rationale:   "Credentials baked into image layers survive any later rotation of the Secret and ship to every registry mirror.",
			Remediation: "Scan images in CI (e.g. trivy image --scanners secret, or gitleaks on the build context) and keep the report as evidence.",
			Eval:        evalImageScan,
		},
		{
			ID: "secrets-volume-permissions", Title: "Secret volume files are readable by their owner (and group) only",
			Group: Security, Item: itemNoInImages, PCI: []string{"7.2.5"}, Severity: Medium,
			Rationale:   "Secret files default to mode 0644: readable by any user in the container. The seed mounts payment-secrets with defaultMode 0400. (The kubelet mounts secret volumes read-only whatever volumeMounts[].readOnly says, so that field is not judged.)",
			Remediation: "Set defaultMode: 0400 (or 0440 with fsGroup) on the secret volume, and no items[].mode wider than that.",
			Needs:       []string{ResDeployments, ResStatefulSets, ResDaemonSets, ResPods},
			Eval:        evalSecretVolumes,
		},
	}
}

// secretRef is one use of a Secret by a workload.
type secretRef struct {
	Name, Field string
	Optional    bool
}

func secretRefs(w Workload) []secretRef {
	var out []secretRef
	spec := w.Spec()
	for _, c := range allContainers(spec, w.Field) {
		for i, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				out = append(out, secretRef{e.ValueFrom.SecretKeyRef.Name, fmt.Sprintf("%s.env[%d](%s)", c.Field, i, e.Name), isTrue(e.ValueFrom.SecretKeyRef.Optional)})
			}
		}
		for i, e := range c.EnvFrom {
			if e.SecretRef != nil {
				out = append(out, secretRef{e.SecretRef.Name, fmt.Sprintf("%s.envFrom[%d]", c.Field, i), isTrue(e.SecretRef.Optional)})
			}
		}
	}
	for i, v := range spec.Volumes {
		if v.Secret != nil {
			out = append(out, secretRef{v.Secret.SecretName, fmt.Sprintf("%s.volumes[%d](%s)", w.Field, i, v.Name), isTrue(v.Secret.Optional)})
		}
		if v.Projected != nil {
			for j, s := range v.Projected.Sources {
				if s.Secret != nil {
					out = append(out, secretRef{s.Secret.Name, fmt.Sprintf("%s.volumes[%d](%s).projected.sources[%d]", w.Field, i, v.Name, j), isTrue(s.Secret.Optional)})
				}
			}
		}
	}
	for i, s := range spec.ImagePullSecrets {
		out = append(out, secretRef{s.Name, fmt.Sprintf("%s.imagePullSecrets[%d]", w.Field, i), false})
	}
	return out
}

func isTrue(b *bool) bool { return b != nil && *b }

// producer is an object that writes a Secret.
type producer struct {
	Kind, Namespace, Name string
	Ready                 string // "True", "False: message", or "" if unknown
}

func (p producer) String() string { return p.Kind + " " + p.Namespace + "/" + p.Name }

// readyCondition returns "True", "False: reason: message" or "unset".
func readyCondition(u *unstructured.Unstructured, condType string) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != condType {
			continue
		}
		status, _ := m["status"].(string)
		if status == "True" {
			return "True"
		}
		reason, _ := m["reason"].(string)
		msg, _ := m["message"].(string)
		return strings.TrimRight(fmt.Sprintf("%s: %s: %s", status, reason, msg), ": ")
	}
	return "unset"
}

// producers maps "namespace/secret" to the objects producing that Secret.
func (inv *Inventory) producers() map[string][]producer {
	out := map[string][]producer{}
	for _, es := range inv.ExternalSecrets {
		target := str(es, "spec", "target", "name")
		if target == "" {
			target = es.GetName()
		}
		k := es.GetNamespace() + "/" + target
		out[k] = append(out[k], producer{"ExternalSecret", es.GetNamespace(), es.GetName(), readyCondition(es, "Ready")})
	}
	for _, ces := range inv.ClusterExternalSecrets {
		target := str(ces, "spec", "externalSecretSpec", "target", "name")
		if target == "" {
			target = str(ces, "spec", "externalSecretName")
		}
		if target == "" {
			target = ces.GetName()
		}
		nss, _, _ := unstructured.NestedStringSlice(ces.Object, "status", "provisionedNamespaces")
		for _, ns := range nss {
			k := ns + "/" + target
			if slices.ContainsFunc(out[k], func(p producer) bool { return p.Kind == "ExternalSecret" }) {
				continue // the per-namespace ExternalSecret it created is listed already
			}
			out[k] = append(out[k], producer{"ClusterExternalSecret", "", ces.GetName(), readyCondition(ces, "Ready")})
		}
	}
	for _, ss := range inv.SealedSecrets {
		target := str(ss, "spec", "template", "metadata", "name")
		if target == "" {
			target = ss.GetName()
		}
		k := ss.GetNamespace() + "/" + target
		out[k] = append(out[k], producer{"SealedSecret", ss.GetNamespace(), ss.GetName(), readyCondition(ss, "Synced")})
	}
	return out
}

// secretMeta returns the listed Secret's metadata, if any.
func (inv *Inventory) secretMeta(ns, name string) (*corev1.Secret, bool) {
	for _, s := range inv.Secrets {
		if s.Namespace == ns && s.Name == name {
			return s, true
		}
	}
	return nil, false
}

func evalSecretSources(inv *Inventory) []Finding {
	prods := inv.producers()
	var out []Finding
	for _, w := range inv.workloads() {
		refs := secretRefs(w)
		if len(refs) == 0 {
			continue
		}
		status := Pass
		var notes []string
		seen := map[string]bool{}
		worse := func(s Status) {
			if s == Fail || (s == Warn && status == Pass) {
				status = s
			}
		}
		for _, r := range refs {
			if seen[r.Name] {
				continue
			}
			seen[r.Name] = true
			ps := prods[w.Namespace+"/"+r.Name]
			var es []producer
			sealed := false
			for _, p := range ps {
				if p.Kind == "SealedSecret" {
					sealed = true
				} else {
					es = append(es, p)
				}
			}
			switch {
			case len(es) > 0 && es[0].Ready != "True":
				worse(Fail)
				notes = append(notes, fmt.Sprintf("%s (%s): %s Ready=%s", r.Name, r.Field, es[0], es[0].Ready))
			case len(es) > 0 && sealed:
				worse(Warn)
				notes = append(notes, fmt.Sprintf("%s (%s): %s Ready, but a SealedSecret also produces it", r.Name, r.Field, es[0]))
			case len(es) > 0:
				notes = append(notes, fmt.Sprintf("%s: %s Ready", r.Name, es[0]))
			case sealed:
				worse(Warn)
				notes = append(notes, fmt.Sprintf("%s (%s): SealedSecret only (static ciphertext, no external source)", r.Name, r.Field))
			default:
				if s, ok := inv.secretMeta(w.Namespace, r.Name); ok && s.Annotations["cert-manager.io/certificate-name"] != "" {
					notes = append(notes, fmt.Sprintf("%s: issued by cert-manager", r.Name))
					continue
				}
				worse(Fail)
				why := "no ExternalSecret targets it"
				if !inv.installed(GroupExternalSecrets) {
					why = "External Secrets Operator not installed (no " + GroupExternalSecrets + " CRDs)"
				}
				notes = append(notes, fmt.Sprintf("%s (%s): %s", r.Name, r.Field, why))
			}
		}
		out = append(out, finding(status, w.Ref(), "%s", strings.Join(notes, "; ")))
	}
	return out
}

func evalSecretsExist(inv *Inventory) []Finding {
	prods := inv.producers()
	var out []Finding
	for _, w := range inv.workloads() {
		refs := secretRefs(w)
		if len(refs) == 0 {
			continue
		}
		var missing []string
		for _, r := range refs {
			if _, ok := inv.secretMeta(w.Namespace, r.Name); ok || len(prods[w.Namespace+"/"+r.Name]) > 0 || r.Optional {
				continue
			}
			missing = append(missing, fmt.Sprintf("%s: Secret %s/%s does not exist and nothing produces it", r.Field, w.Namespace, r.Name))
		}
		out = append(out, failOrPass(w.Ref(), missing, "all %d Secret references resolve", len(refs)))
	}
	return out
}

func evalExternalSecretsReady(inv *Inventory) []Finding {
	if !inv.installed(GroupExternalSecrets) {
		return []Finding{finding(NotApplicable, clusterResource, "External Secrets Operator absent: no %s CRDs", GroupExternalSecrets)}
	}
	var out []Finding
	for _, group := range [][]*unstructured.Unstructured{inv.ExternalSecrets, inv.ClusterExternalSecrets, inv.SecretStores, inv.ClusterSecretStores} {
		for _, u := range group {
			ready := readyCondition(u, "Ready")
			if ready == "True" {
				out = append(out, finding(Pass, ref(u), "status.conditions[Ready]=True"))
			} else {
				out = append(out, finding(Fail, ref(u), "status.conditions[Ready]=%s", ready))
			}
		}
	}
	return out
}

func evalSingleProducer(inv *Inventory) []Finding {
	var out []Finding
	for key, ps := range inv.producers() {
		ns, name, _ := strings.Cut(key, "/")
		r := Resource{Kind: "Secret", Namespace: ns, Name: name}
		if len(ps) > 1 {
			var names []string
			for _, p := range ps {
				names = append(names, p.String())
			}
			out = append(out, finding(Fail, r, "produced by %d controllers: %s", len(ps), strings.Join(names, ", ")))
		} else {
			out = append(out, finding(Pass, r, "produced by %s only", ps[0]))
		}
	}
	return out
}

// parseInterval reads an ESO refresh interval ("1h", "5m", "0").
func parseInterval(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

func evalRotation(inv *Inventory) []Finding {
	var out []Finding
	check := func(u *unstructured.Unstructured, fields ...string) {
		field := strings.Join(fields, ".")
		v, found, _ := unstructured.NestedFieldNoCopy(u.Object, fields...)
		if !found {
			out = append(out, finding(Pass, ref(u), "%s unset: External Secrets' default 1h refresh", field))
			return
		}
		s := fmt.Sprint(v)
		d, err := parseInterval(s)
		switch {
		case err != nil:
			out = append(out, finding(Fail, ref(u), "%s=%q is not a duration", field, s))
		case d == 0:
			out = append(out, finding(Fail, ref(u), "%s=%s: refresh disabled, synced once and never rotated", field, s))
		default:
			out = append(out, finding(Pass, ref(u), "%s=%s", field, s))
		}
	}
	for _, es := range inv.ExternalSecrets {
		check(es, "spec", "refreshInterval")
	}
	for _, ces := range inv.ClusterExternalSecrets {
		check(ces, "spec", "externalSecretSpec", "refreshInterval")
	}
	for _, ss := range inv.SealedSecrets {
		out = append(out, finding(Warn, ref(ss), "SealedSecret spec.encryptedData is static: rotation needs a manual re-seal"))
	}
	return out
}

// secretLooking matches environment variable names that suggest a credential.
var secretLooking = regexp.MustCompile(`(?i)(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|_KEY$|^KEY|CREDENTIAL)`)

// secretValues are the kinds of secret recognised in a value, whatever the
// variable is called, after gitleaks' rules (private-key, aws-access-token,
// jwt, github-pat, slack tokens, stripe-access-token) plus URLs carrying a
// password. A password that is a Kubernetes $(VAR) or a ${VAR} reference is
// not a literal.
var secretValues = []struct {
	kind string
	re   *regexp.Regexp
}{
	{"a private key", regexp.MustCompile(`-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY( BLOCK)?-----`)},
	{"an AWS access key ID", regexp.MustCompile(`\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b`)},
	{"a JSON Web Token", regexp.MustCompile(`\bey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9/\\_-]{17,}\.(?:[a-zA-Z0-9/\\_-]{10,}={0,2})?`)},
	{"a GitHub token", regexp.MustCompile(`\bgh[pousr]_[0-9a-zA-Z]{36}\b`)},
	{"a Slack token", regexp.MustCompile(`\bxox[abposr]-[0-9A-Za-z-]{10,}`)},
	{"a Stripe secret key", regexp.MustCompile(`\b[rs]k_(?:live|test)_[0-9a-zA-Z]{10,99}\b`)},
	{"a connection string with a password", regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/?#@\s]+:([^@/?#\s]+)@`)},
}

// secretInValue names the kind of secret a literal holds, or "".
func secretInValue(v string) string {
	for _, sv := range secretValues {
		m := sv.re.FindStringSubmatch(v)
		if m == nil {
			continue
		}
		if len(m) > 1 && (strings.HasPrefix(m[1], "$(") || strings.HasPrefix(m[1], "${")) {
			continue // a reference to another variable, not the password
		}
		return sv.kind
	}
	return ""
}

func evalLiteralEnv(inv *Inventory) []Finding {
	var out []Finding
	for _, w := range inv.workloads() {
		var bad []string
		for _, c := range allContainers(w.Spec(), w.Field) {
			for i, e := range c.Env {
				if e.Value == "" || e.ValueFrom != nil {
					continue
				}
				// Never the value itself: evidence ends up in CI logs. The
				// variable's name and the kind of secret found are enough.
				if kind := secretInValue(e.Value); kind != "" {
					bad = append(bad, fmt.Sprintf("%s.env[%d](%s): literal value holds %s", c.Field, i, e.Name, kind))
					continue
				}
				if !secretLooking.MatchString(e.Name) || strings.HasPrefix(e.Value, "/") {
					continue // a path to a mounted file, not the secret itself
				}
				bad = append(bad, fmt.Sprintf("%s.env[%d](%s): literal value set", c.Field, i, e.Name))
			}
		}
		out = append(out, failOrPass(w.Ref(), bad, "no env var holds a literal secret (by name: password, secret, token, key; by value: keys, tokens, passwords in URLs)"))
	}
	return out
}

func evalImageScan(*Inventory) []Finding {
	return []Finding{finding(Unknown, clusterResource,
		"image layers are not visible through the Kubernetes API; evidence would be a secret scan of every deployed image digest (e.g. trivy image --scanners secret) with no findings. Literal env values are checked by secrets-no-literal-env")}
}

// restrictiveMode reports whether a file mode grants nothing to others and
// at most read to the group.
func restrictiveMode(m int32) bool { return m&0o037 == 0 }

// secretFileModes returns the modes a secret volume's files get: the
// volume's defaultMode (0644 when unset, the API's default) and each
// item's mode, which overrides it for that key, with their fields.
func secretFileModes(v corev1.Volume, field string) (modes []int32, fields []string) {
	add := func(m *int32, f string) {
		if m == nil {
			modes, fields = append(modes, corev1.SecretVolumeSourceDefaultMode), append(fields, f+" unset (0644)")
			return
		}
		modes, fields = append(modes, *m), append(fields, fmt.Sprintf("%s=%#o", f, *m))
	}
	switch {
	case v.Secret != nil:
		add(v.Secret.DefaultMode, field+".secret.defaultMode")
		for i, it := range v.Secret.Items {
			if it.Mode != nil {
				add(it.Mode, fmt.Sprintf("%s.secret.items[%d](%s).mode", field, i, it.Key))
			}
		}
	case v.Projected != nil:
		add(v.Projected.DefaultMode, field+".projected.defaultMode")
		for j, src := range v.Projected.Sources {
			if src.Secret == nil {
				continue
			}
			for i, it := range src.Secret.Items {
				if it.Mode != nil {
					add(it.Mode, fmt.Sprintf("%s.projected.sources[%d].secret.items[%d](%s).mode", field, j, i, it.Key))
				}
			}
		}
	}
	return modes, fields
}

// evalSecretVolumes judges the file modes of secret volumes. It does not
// judge volumeMounts[].readOnly: the kubelet mounts secret (and projected)
// volumes read-only whatever the mount says (pkg/volume/secret's
// GetAttributes reports ReadOnly, and kubelet_pods.go makeMounts mounts
// "mount.ReadOnly || mustMountRO"), so an unset readOnly changes nothing.
func evalSecretVolumes(inv *Inventory) []Finding {
	var out []Finding
	for _, w := range inv.workloads() {
		spec := w.Spec()
		var bad, good []string
		for i, v := range spec.Volumes {
			if v.Secret == nil && (v.Projected == nil || !slices.ContainsFunc(v.Projected.Sources, func(s corev1.VolumeProjection) bool { return s.Secret != nil })) {
				continue
			}
			modes, fields := secretFileModes(v, fmt.Sprintf("%s.volumes[%d](%s)", w.Field, i, v.Name))
			for j, m := range modes {
				if restrictiveMode(m) {
					good = append(good, fields[j])
				} else {
					bad = append(bad, fields[j]+" (readable by other users in the container)")
				}
			}
		}
		switch {
		case len(bad) > 0:
			out = append(out, finding(Fail, w.Ref(), "%s", strings.Join(bad, "; ")))
		case len(good) > 0:
			out = append(out, finding(Pass, w.Ref(), "%s (the kubelet mounts secret volumes read-only)", strings.Join(good, "; ")))
		}
	}
	return out
}
