package checks

import (
	"fmt"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// apiServerPods returns the kube-apiserver mirror pods (kube-system,
// component=kube-apiserver, as kubeadm and most self-managed control planes
// label their static pods): the live reading of them, and from manifests
// any such Pod in the input. A managed control plane has none.
func (inv *Inventory) apiServerPods() []*corev1.Pod {
	var listed []*corev1.Pod
	for _, p := range inv.Pods {
		if isAPIServerPod(p) {
			listed = append(listed, p)
		}
	}
	return union(listed, inv.APIServerPods)
}

func isAPIServerPod(p *corev1.Pod) bool {
	return p.Namespace == "kube-system" && p.Labels["component"] == "kube-apiserver"
}

// apiServerFlags reads the flags the kube-apiserver container runs with,
// from its command and args ("--flag=value" or "--flag value"; a flag
// given twice keeps its last value, as pflag does). ok is false when no
// container runs kube-apiserver.
func apiServerFlags(p *corev1.Pod) (flags map[string]string, ok bool) {
	for _, c := range p.Spec.Containers {
		argv := append(slices.Clone(c.Command), c.Args...)
		i := slices.IndexFunc(argv, func(a string) bool { return path.Base(a) == "kube-apiserver" })
		if i < 0 && c.Name != "kube-apiserver" {
			continue
		}
		flags = map[string]string{}
		for j := i + 1; j < len(argv); j++ {
			name, ok := strings.CutPrefix(argv[j], "--")
			if !ok {
				continue
			}
			if n, v, eq := strings.Cut(name, "="); eq {
				flags[n] = v
			} else if j+1 < len(argv) && !strings.HasPrefix(argv[j+1], "--") {
				flags[name] = argv[j+1]
				j++
			} else {
				flags[name] = "true"
			}
		}
		return flags, true
	}
	return nil, false
}

// noAPIServerPod is the evidence when no kube-apiserver mirror pod is read.
const noAPIServerPod = "no kube-apiserver mirror pod in kube-system (component=kube-apiserver): the control plane is managed or runs outside the cluster, so its flags are not in the Kubernetes API"

// judgeAPIServers judges each kube-apiserver mirror pod by its flags; with
// none, the finding is unknown with evidence.
func (inv *Inventory) judgeAPIServers(evidence string, judge func(flags map[string]string) (Status, string)) []Finding {
	var out []Finding
	for _, p := range inv.apiServerPods() {
		r := Resource{Kind: "Pod", Namespace: p.Namespace, Name: p.Name}
		flags, ok := apiServerFlags(p)
		if !ok {
			out = append(out, finding(Unknown, r, "no container of the pod runs kube-apiserver: its flags cannot be read"))
			continue
		}
		st, why := judge(flags)
		out = append(out, finding(st, r, "%s", why))
	}
	if len(out) == 0 {
		out = append(out, finding(Unknown, clusterResource, "%s; %s", noAPIServerPod, evidence))
	}
	return out
}

func evalAPIServerAudit(inv *Inventory) []Finding {
	return inv.judgeAPIServers("the audit.kubernetes.io/level namespace annotation is a convention the apiserver does not read. Evidence would be the audit Policy and a sample of the audit log (or the cloud audit-log setting)", func(f map[string]string) (Status, string) {
		policy, file, hook := f["audit-policy-file"], f["audit-log-path"], f["audit-webhook-config-file"]
		switch {
		case policy == "":
			return Fail, "the kube-apiserver runs without --audit-policy-file: with no audit Policy it records no event"
		case file == "" && hook == "":
			return Fail, fmt.Sprintf("--audit-policy-file=%s but neither --audit-log-path nor --audit-webhook-config-file: the events have no backend to go to", policy)
		}
		where := "--audit-webhook-config-file=" + hook
		if file != "" {
			where = "--audit-log-path=" + file
			if age := f["audit-log-maxage"]; age != "" {
				where += " --audit-log-maxage=" + age
			}
		}
		return Pass, fmt.Sprintf("--audit-policy-file=%s %s: the apiserver writes an audit log (what it records is that Policy's rules)", policy, where)
	})
}

func evalEncryptionAtRest(inv *Inventory) []Finding {
	return inv.judgeAPIServers("evidence would be the EncryptionConfiguration listing a kms or aescbc/secretbox provider first for secrets, or the managed platform's envelope-encryption setting (e.g. GKE database encryption with a Cloud KMS key)", func(f map[string]string) (Status, string) {
		if cfg := f["encryption-provider-config"]; cfg != "" {
			return Pass, fmt.Sprintf("the kube-apiserver runs with --encryption-provider-config=%s: Secrets are encrypted as that EncryptionConfiguration says (its providers are in the file, not the API: kms, aescbc or secretbox must come first for secrets)", cfg)
		}
		return Fail, "the kube-apiserver runs without --encryption-provider-config: Secrets are stored in etcd, and in its backups, unencrypted (base64 only)"
	})
}
