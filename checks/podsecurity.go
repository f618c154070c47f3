package checks

import (
	"fmt"
	"strings"
	"sync"

	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

const itemPSS = "Pod Security Standards enforced"

// Pod Security Admission's namespace labels.
const (
	labelPSSEnforce        = psapi.EnforceLevelLabel
	labelPSSEnforceVersion = psapi.EnforceVersionLabel
)

func podSecurityChecks() []Check {
	return []Check{
		{
			ID: "pss-namespace-enforce-restricted", Title: "Namespaces enforce the restricted Pod Security Standard",
			Group: Security, Item: itemPSS, PCI: []string{"2.2.1", "2.2.6"}, Severity: High,
			Rationale:   "Only the enforce label makes the API server reject a non-compliant pod; warn and audit merely report it, and a namespace without labels admits privileged pods.",
			Remediation: "Label the namespace pod-security.kubernetes.io/enforce=restricted (pin enforce-version to the cluster's minor), after fixing the pods `kubectl label --dry-run=server` warns about.",
			Needs:       []string{ResNamespaces},
			Eval:        evalNamespaceEnforce,
		},
		{
			ID: "pss-pods-restricted", Title: "Pods satisfy the restricted Pod Security Standard",
			Group: Security, Item: itemPSS, PCI: []string{"2.2.1", "2.2.6", "7.2.5"}, Severity: High,
			Rationale:   "Pods evaluated with Pod Security Admission's own checks (k8s.io/pod-security-admission, restricted, latest): a namespace can only move to enforce=restricted once every pod passes.",
			Remediation: "Set runAsNonRoot: true, seccompProfile.type: RuntimeDefault, allowPrivilegeEscalation: false and capabilities.drop: [ALL] in the pod and container securityContext, and fix whatever else the evidence names.",
			Needs:       []string{ResDeployments, ResStatefulSets, ResDaemonSets, ResPods},
			Eval:        evalPodsRestricted,
		},
	}
}

func evalNamespaceEnforce(inv *Inventory) []Finding {
	var out []Finding
	for _, ns := range inv.scopedNamespaces() {
		r := Resource{Kind: "Namespace", Name: ns.Name}
		field := "metadata.labels[" + labelPSSEnforce + "]"
		level, ok := ns.Labels[labelPSSEnforce]
		switch {
		case !ok:
			out = append(out, finding(Fail, r, "%s unset: nothing enforced (privileged)", field))
		case level == string(psapi.LevelRestricted):
			out = append(out, finding(Pass, r, "%s=%s", field, level))
		default:
			ev := fmt.Sprintf("%s=%s", field, level)
			if w := ns.Labels[psapi.WarnLevelLabel]; w == string(psapi.LevelRestricted) {
				ev += ", restricted only warned (" + psapi.WarnLevelLabel + "=restricted)"
			}
			out = append(out, finding(Fail, r, "%s", ev))
		}
	}
	return out
}

var (
	pssOnce      sync.Once
	pssEvaluator policy.Evaluator
	pssErr       error
)

// evaluator returns Pod Security Admission's evaluator with its default
// checks; it is built once.
func evaluator() (policy.Evaluator, error) {
	pssOnce.Do(func() { pssEvaluator, pssErr = policy.NewEvaluator(policy.DefaultChecks(), nil) })
	return pssEvaluator, pssErr
}

func evalPodsRestricted(inv *Inventory) []Finding {
	ev, err := evaluator()
	if err != nil {
		return []Finding{finding(Unknown, clusterResource, "pod-security-admission evaluator: %v", err)}
	}
	lv := psapi.LevelVersion{Level: psapi.LevelRestricted, Version: psapi.LatestVersion()}
	var out []Finding
	for _, w := range inv.workloads() {
		agg := policy.AggregateCheckResults(ev.EvaluatePod(lv, &w.Template.ObjectMeta, w.Spec()))
		if agg.Allowed {
			out = append(out, finding(Pass, w.Ref(), "%s allowed by restricted:latest", w.Field))
			continue
		}
		var parts []string
		for i, reason := range agg.ForbiddenReasons {
			if d := agg.ForbiddenDetails[i]; d != "" {
				reason += " (" + d + ")"
			}
			parts = append(parts, reason)
		}
		out = append(out, finding(Fail, w.Ref(), "%s violates restricted:latest: %s", w.Field, strings.Join(parts, "; ")))
	}
	return out
}
