package checks

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	vpav1 "k8s.io/autoscaler/vertical-pod-autoscaler/pkg/apis/autoscaling.k8s.io/v1"
)

const (
	itemHPA        = "HPA configured for all services"
	itemVPA        = "VPA enabled where appropriate"
	itemAutoscaler = "Cluster autoscaler configured"
	itemLimits     = "Resource limits properly set"
)

func scalingChecks() []Check {
	return []Check{
		{
			ID: "ops-hpa", Title: "Production Deployments have an HPA with minReplicas ≥ 2",
			Group: Operations, Item: itemHPA, Severity: Medium,
			Rationale:   "The seed scales api-gateway with an HPA (3–10); a production service without one cannot absorb a surge, and minReplicas 1 lets it scale down to a single point of failure.",
			Remediation: "Add a HorizontalPodAutoscaler (autoscaling/v2) targeting the Deployment with minReplicas ≥ 2 and CPU/memory or request-rate metrics.",
			Needs:       []string{ResDeployments, ResHPAs, ResNamespaces},
			Eval:        evalHPA,
		},
		{
			ID: "ops-vpa-hpa-conflict", Title: "No VPA fights an HPA over the same resource",
			Group: Operations, Item: itemVPA, Severity: Medium,
			Rationale:   "A VPA in Auto/Recreate mode resizing cpu or memory while an HPA scales on that same utilisation makes them chase each other: every resize moves the HPA's ratio.",
			Remediation: "Either set the VPA's updateMode to Off (recommendations only) or restrict its controlledResources to what the HPA does not scale on, or scale the HPA on a custom metric (requests per second).",
			Needs:       []string{ResVPAs, ResHPAs},
			Eval:        evalVPAConflict,
		},
		{
			ID: "ops-cluster-autoscaler", Title: "A cluster autoscaler runs",
			Group: Operations, Item: itemAutoscaler, Severity: Low,
			Rationale:   "HPAs add pods; without a cluster autoscaler they stay Pending once the nodes are full.",
			Remediation: "Enable the platform's node autoscaling or deploy cluster-autoscaler (kube-system) with the node groups' bounds.",
			Needs:       []string{ResDeployments, ResConfigMaps, ResAllDeployments, ResAutoscalerStatus},
			Eval:        evalClusterAutoscaler,
		},
		{
			ID: "ops-pdb", Title: "Multi-replica services have a PodDisruptionBudget that allows drains",
			Group: Operations, Item: itemAutoscaler, Severity: Medium,
			Rationale:   "Node drains (autoscaler scale-down, upgrades) evict pods without limit unless a PDB says how many must stay; a PDB allowing zero disruptions blocks drains entirely.",
			Remediation: "Add a PodDisruptionBudget selecting the pods with minAvailable below the replica count (or maxUnavailable: 1).",
			Needs:       []string{ResDeployments, ResStatefulSets, ResPDBs, ResHPAs},
			Eval:        evalPDB,
		},
		{
			ID: "ops-resources", Title: "Containers set CPU and memory requests and limits",
			Group: Operations, Item: itemLimits, PCI: []string{"2.2.1"}, Severity: Medium,
			Rationale:   "Without requests the scheduler and the HPA are blind; without a memory limit one leaking container can OOM its neighbours on the node, including PCI workloads.",
			Remediation: "Set resources.requests.cpu/memory and resources.limits.memory (and limits.cpu where the service tolerates throttling) on every container.",
			Needs:       []string{ResDeployments, ResStatefulSets, ResDaemonSets, ResPods},
			Eval:        evalResources,
		},
	}
}

// hpaFor returns the HPA scaling the workload, if any.
func (inv *Inventory) hpaFor(w Workload) (*autoscalingv2.HorizontalPodAutoscaler, bool) {
	for _, h := range inv.HPAs {
		if h.Namespace == w.Namespace && h.Spec.ScaleTargetRef.Kind == w.Kind && h.Spec.ScaleTargetRef.Name == w.Name {
			return h, true
		}
	}
	return nil, false
}

// minReplicas is the number of replicas a workload keeps at its lowest:
// the HPA's minReplicas when one scales it, else spec.replicas.
func (inv *Inventory) minReplicas(w Workload) (int32, string) {
	if h, ok := inv.hpaFor(w); ok {
		m := int32(1)
		if h.Spec.MinReplicas != nil {
			m = *h.Spec.MinReplicas
		}
		return m, fmt.Sprintf("HorizontalPodAutoscaler %s spec.minReplicas=%d", h.Name, m)
	}
	if w.Replicas == nil {
		return 1, "spec.replicas unset (1)"
	}
	return *w.Replicas, fmt.Sprintf("spec.replicas=%d", *w.Replicas)
}

func evalHPA(inv *Inventory) []Finding {
	var out []Finding
	targets := map[string]bool{}
	for _, w := range inv.workloads() {
		targets[w.Kind+"/"+w.Namespace+"/"+w.Name] = true
	}
	for _, w := range inv.servingWorkloads() {
		if w.Kind != "Deployment" || !inv.isProduction(w.Namespace) {
			continue
		}
		h, ok := inv.hpaFor(w)
		switch {
		case !ok:
			out = append(out, finding(Fail, w.Ref(), "no HorizontalPodAutoscaler targets Deployment %s (namespace environment=production)", w.Name))
		default:
			out = append(out, judgeHPA(h, w.Ref()))
		}
	}
	// An HPA whose target is not in the inventory is judged alone: on a
	// live cluster its target does not exist (kube-score's
	// horizontalpodautoscaler-has-target); from manifests, its own bounds.
	for _, h := range inv.HPAs {
		t := h.Spec.ScaleTargetRef
		if targets[t.Kind+"/"+h.Namespace+"/"+t.Name] {
			continue
		}
		if ns, ok := inv.namespace(h.Namespace); ok && ns.Labels["environment"] != "production" {
			continue
		}
		r := Resource{Kind: "HorizontalPodAutoscaler", Namespace: h.Namespace, Name: h.Name}
		if !inv.fromManifests() {
			out = append(out, finding(Fail, r, "spec.scaleTargetRef %s/%s does not exist in namespace %s: the HPA scales nothing", t.Kind, t.Name, h.Namespace))
			continue
		}
		f := judgeHPA(h, r)
		f.Evidence += fmt.Sprintf(" (its target %s/%s is not in the input)", t.Kind, t.Name)
		out = append(out, f)
	}
	return out
}

// judgeHPA is ops-hpa's verdict on one HPA: minReplicas ≥ 2 (unset is 1,
// the API's default) and ScalingActive not False.
func judgeHPA(h *autoscalingv2.HorizontalPodAutoscaler, r Resource) Finding {
	m := int32(1)
	if h.Spec.MinReplicas != nil {
		m = *h.Spec.MinReplicas
	}
	switch {
	case m < 2:
		return finding(Fail, r, "HorizontalPodAutoscaler %s spec.minReplicas=%d (< 2)", h.Name, m)
	case hpaCondition(h, autoscalingv2.ScalingActive) != "":
		return finding(Fail, r, "HorizontalPodAutoscaler %s status.conditions[ScalingActive]=%s", h.Name, hpaCondition(h, autoscalingv2.ScalingActive))
	}
	return finding(Pass, r, "HorizontalPodAutoscaler %s spec.minReplicas=%d spec.maxReplicas=%d", h.Name, m, h.Spec.MaxReplicas)
}

// hpaCondition returns "False: reason: message" when the HPA reports the
// condition false, else "".
func hpaCondition(h *autoscalingv2.HorizontalPodAutoscaler, t autoscalingv2.HorizontalPodAutoscalerConditionType) string {
	for _, c := range h.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionFalse {
			return fmt.Sprintf("False: %s: %s", c.Reason, c.Message)
		}
	}
	return ""
}

// hpaResources returns the resources (cpu, memory) an HPA scales on.
func hpaResources(h *autoscalingv2.HorizontalPodAutoscaler) []string {
	var out []string
	for _, m := range h.Spec.Metrics {
		switch {
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil:
			out = append(out, string(m.Resource.Name))
		case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil:
			out = append(out, string(m.ContainerResource.Name))
		}
	}
	return out
}

func evalVPAConflict(inv *Inventory) []Finding {
	if !inv.installed(GroupVPA) {
		return []Finding{finding(NotApplicable, clusterResource, "VerticalPodAutoscaler absent: no %s CRDs", GroupVPA)}
	}
	var out []Finding
	for _, v := range inv.VPAs {
		r := Resource{Kind: "VerticalPodAutoscaler", Namespace: v.Namespace, Name: v.Name}
		var kind, name string
		if v.Spec.TargetRef != nil {
			kind, name = v.Spec.TargetRef.Kind, v.Spec.TargetRef.Name
		}
		mode := ""
		if v.Spec.UpdatePolicy != nil && v.Spec.UpdatePolicy.UpdateMode != nil {
			mode = string(*v.Spec.UpdatePolicy.UpdateMode)
		}
		if mode == "" {
			mode = "Auto (default)"
		}
		if strings.HasPrefix(mode, "Off") || mode == "Initial" {
			out = append(out, finding(Pass, r, "spec.updatePolicy.updateMode=%s: does not resize running pods", mode))
			continue
		}
		controlled := vpaControlled(v, inv.containerNames(kind, v.GetNamespace(), name))
		w := Workload{Resource: Resource{Kind: kind, Namespace: v.GetNamespace(), Name: name}}
		h, ok := inv.hpaFor(w)
		if !ok {
			out = append(out, finding(Pass, r, "spec.updatePolicy.updateMode=%s on %s/%s; no HorizontalPodAutoscaler targets it", mode, kind, name))
			continue
		}
		var clash []string
		for _, res := range hpaResources(h) {
			if controlled[res] {
				clash = append(clash, res)
			}
		}
		if len(clash) > 0 {
			out = append(out, finding(Fail, r, "spec.updatePolicy.updateMode=%s controls %s on %s/%s, which HorizontalPodAutoscaler %s also scales on", mode, strings.Join(clash, ", "), kind, name, h.Name))
		} else {
			out = append(out, finding(Pass, r, "spec.updatePolicy.updateMode=%s; HorizontalPodAutoscaler %s scales on other metrics", mode, h.Name))
		}
	}
	return out
}

var clusterAutoscalerImage = regexp.MustCompile(`cluster-autoscaler|karpenter`)

// autoscalerHealth reads the health the cluster autoscaler writes to its
// status ConfigMap: "Health: Healthy" in the text format, "health:" then
// "status: Healthy" in the YAML one (cluster-autoscaler ≥ 1.30).
var autoscalerHealth = regexp.MustCompile(`(?i)health:\s*(?:status:\s*)?([A-Za-z]+)`)

func evalClusterAutoscaler(inv *Inventory) []Finding {
	var status, statusWhere string
	for _, cm := range union(inv.ConfigMaps, inv.AutoscalerStatus) {
		if cm.Namespace == "kube-system" && cm.Name == "cluster-autoscaler-status" {
			statusWhere = "ConfigMap kube-system/cluster-autoscaler-status"
			if m := autoscalerHealth.FindStringSubmatch(cm.Data["status"]); m != nil {
				status = m[1]
			}
		}
	}
	for _, d := range union(inv.Deployments, inv.AllDeployments) {
		for _, c := range d.Spec.Template.Spec.Containers {
			if !clusterAutoscalerImage.MatchString(parseImage(c.Image).Path) {
				continue
			}
			if d.Spec.Replicas != nil && *d.Spec.Replicas == 0 {
				return []Finding{finding(Fail, clusterResource, "autoscaler Deployment/%s/%s (%s) has spec.replicas=0: no node is added or removed", d.Namespace, d.Name, c.Image)}
			}
		}
	}
	switch {
	case status != "" && !strings.EqualFold(status, "Healthy"):
		return []Finding{finding(Fail, clusterResource, "%s data[status] reports health %s: the autoscaler is not scaling nodes", statusWhere, status)}
	case status != "":
		return []Finding{finding(Pass, clusterResource, "%s data[status] reports health Healthy", statusWhere)}
	}
	if w := inv.findWorkloadByImage(clusterAutoscalerImage, "Deployment"); w != "" {
		return []Finding{finding(Pass, clusterResource, "autoscaler found: %s", w)}
	}
	if statusWhere != "" {
		return []Finding{finding(Pass, clusterResource, "%s exists (the autoscaler reports there)", statusWhere)}
	}
	return []Finding{finding(Unknown, clusterResource, "no cluster-autoscaler or Karpenter Deployment and no kube-system/cluster-autoscaler-status ConfigMap in the inventory; managed platforms run node autoscaling in their control plane, invisible to the API. Evidence would be that ConfigMap or the node pool's autoscaling setting")}
}

// pdbDisruptionsAllowed is how many of n healthy selected pods a PDB lets
// the eviction API evict, as the disruption controller computes it
// (k8s.io/kubernetes pkg/controller/disruption, getExpectedPodCount):
// a percentage of minAvailable or maxUnavailable is scaled to n rounding
// up; an integer minAvailable is taken as is. A PDB setting neither keeps
// nothing (desiredHealthy 0).
func pdbDisruptionsAllowed(p *policyv1.PodDisruptionBudget, n int) int {
	desired := 0
	switch {
	case p.Spec.MaxUnavailable != nil:
		mu, err := intstr.GetScaledValueFromIntOrPercent(p.Spec.MaxUnavailable, n, true)
		if err != nil {
			return 0
		}
		desired = max(n-mu, 0)
	case p.Spec.MinAvailable != nil:
		ma, err := intstr.GetScaledValueFromIntOrPercent(p.Spec.MinAvailable, n, true)
		if err != nil {
			return 0
		}
		desired = ma
	}
	return max(n-desired, 0)
}

// pdbBudget renders the PDB's budget field for evidence.
func pdbBudget(p *policyv1.PodDisruptionBudget) string {
	switch {
	case p.Spec.MaxUnavailable != nil:
		return "spec.maxUnavailable=" + p.Spec.MaxUnavailable.String()
	case p.Spec.MinAvailable != nil:
		return "spec.minAvailable=" + p.Spec.MinAvailable.String()
	}
	return "neither spec.minAvailable nor spec.maxUnavailable set"
}

func evalPDB(inv *Inventory) []Finding {
	var out []Finding
	used := map[*policyv1.PodDisruptionBudget]bool{}
	for _, w := range inv.workloads() {
		var pdbs []*policyv1.PodDisruptionBudget
		for _, p := range inv.PDBs {
			if p.Namespace == w.Namespace && selects(p.Spec.Selector, w.Template.Labels) {
				pdbs = append(pdbs, p)
				used[p] = true
			}
		}
		if w.Kind != "Deployment" && w.Kind != "StatefulSet" {
			continue
		}
		min, why := inv.minReplicas(w)
		var names []string
		for _, p := range pdbs {
			names = append(names, "PodDisruptionBudget "+p.Name+" "+pdbBudget(p))
		}
		if min < 2 {
			// One replica needs no budget (its count is ops-replicas'
			// concern), but a budget selecting it still decides drains:
			// minAvailable 1 of 1 blocks every drain of its node.
			switch {
			case min < 1 || len(pdbs) == 0:
			case len(pdbs) > 1:
				out = append(out, finding(Fail, w.Ref(), "%d PodDisruptionBudgets select its pods (%s): the eviction API refuses to evict a pod with more than one PodDisruptionBudget, so every drain blocks", len(pdbs), strings.Join(names, "; ")))
			case pdbs[0].Spec.MaxUnavailable == nil && pdbs[0].Spec.MinAvailable == nil:
				out = append(out, finding(Fail, w.Ref(), "%s; %s: it protects nothing (every pod may be evicted at once)", why, names[0]))
			case pdbDisruptionsAllowed(pdbs[0], int(min)) == 0:
				out = append(out, finding(Fail, w.Ref(), "%s; %s allows no disruption at %d replica: every drain of its node blocks", why, names[0], min))
			default:
				out = append(out, finding(Pass, w.Ref(), "%s; %s allows %d disruption(s) at %d replica", why, names[0], pdbDisruptionsAllowed(pdbs[0], int(min)), min))
			}
			continue
		}
		switch {
		case len(pdbs) == 0:
			out = append(out, finding(Fail, w.Ref(), "%s, but no PodDisruptionBudget selects pod labels %s", why, fmtLabels(w.Template.Labels)))
		case len(pdbs) > 1:
			out = append(out, finding(Fail, w.Ref(), "%d PodDisruptionBudgets select its pods (%s): the eviction API refuses to evict a pod with more than one PodDisruptionBudget, so every drain blocks", len(pdbs), strings.Join(names, "; ")))
		case pdbs[0].Spec.MaxUnavailable == nil && pdbs[0].Spec.MinAvailable == nil:
			out = append(out, finding(Fail, w.Ref(), "%s; %s: it protects nothing (every pod may be evicted at once)", why, names[0]))
		default:
			if n := pdbDisruptionsAllowed(pdbs[0], int(min)); n == 0 {
				out = append(out, finding(Fail, w.Ref(), "%s; %s allows no disruption at %d replicas (percentages round up): every drain blocks", why, names[0], min))
			} else {
				out = append(out, finding(Pass, w.Ref(), "%s; %s allows %d disruption(s) at %d replicas", why, names[0], n, min))
			}
		}
	}
	// A PDB whose workload is not in the input is judged alone: some
	// budgets block every drain whatever the replica count.
	for _, p := range inv.PDBs {
		if used[p] {
			continue
		}
		r := Resource{Kind: "PodDisruptionBudget", Namespace: p.Namespace, Name: p.Name}
		budget := pdbBudget(p)
		var pods int
		for _, pod := range inv.Pods {
			if pod.Namespace == p.Namespace && selects(p.Spec.Selector, pod.Labels) {
				pods++
			}
		}
		blocksAlways := pdbDisruptionsAllowed(p, 1000) == 0
		neither := p.Spec.MaxUnavailable == nil && p.Spec.MinAvailable == nil
		switch {
		case blocksAlways:
			out = append(out, finding(Fail, r, "%s allows no disruption at any replica count: every drain of a node running its pods blocks (no workload it selects is in the inventory)", budget))
		case neither:
			out = append(out, finding(Fail, r, "%s: it protects nothing (no workload it selects is in the inventory)", budget))
		case pods > 0 && pdbDisruptionsAllowed(p, pods) == 0:
			out = append(out, finding(Fail, r, "%s allows no disruption with the %d pods it selects: drains block", budget, pods))
		case pods > 0:
			out = append(out, finding(Pass, r, "%s allows %d disruption(s) with the %d pods it selects", budget, pdbDisruptionsAllowed(p, pods), pods))
		case pdbDisruptionsAllowed(p, 1) > 0:
			out = append(out, finding(Pass, r, "%s allows at least one disruption at any replica count (no workload it selects is in the inventory)", budget))
		default:
			out = append(out, finding(Unknown, r, "%s: whether it lets a drain through depends on the replica count, and no workload or pod it selects is in the inventory", budget))
		}
	}
	return out
}

func evalResources(inv *Inventory) []Finding {
	var out []Finding
	for _, w := range inv.workloads() {
		var bad, warn []string
		for _, c := range allContainers(w.Spec(), w.Field) {
			var missing []string
			for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[res]; !ok {
					if _, lim := c.Resources.Limits[res]; !lim { // a limit alone defaults the request
						missing = append(missing, "requests."+string(res))
					}
				}
			}
			if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
				missing = append(missing, "limits.memory")
			}
			if len(missing) > 0 {
				bad = append(bad, fmt.Sprintf("%s.resources: %s unset", c.Field, strings.Join(missing, ", ")))
			}
			if _, ok := c.Resources.Limits[corev1.ResourceCPU]; !ok {
				warn = append(warn, fmt.Sprintf("%s.resources.limits.cpu unset", c.Field))
			}
		}
		switch {
		case len(bad) > 0:
			out = append(out, finding(Fail, w.Ref(), "%s", strings.Join(slices.Concat(bad, warn), "; ")))
		case len(warn) > 0:
			out = append(out, finding(Warn, w.Ref(), "%s (requests and memory limits set)", strings.Join(warn, "; ")))
		default:
			out = append(out, finding(Pass, w.Ref(), "every container sets requests.cpu/memory and limits.cpu/memory"))
		}
	}
	return out
}

// containerNames lists the containers of a workload's pod template, or nil
// when the workload is not in the inventory.
func (inv *Inventory) containerNames(kind, ns, name string) []string {
	for _, w := range inv.workloads() {
		if w.Kind == kind && w.Namespace == ns && w.Name == name {
			names := []string{}
			for _, c := range w.Spec().Containers {
				names = append(names, c.Name)
			}
			return names
		}
	}
	return nil
}

// vpaControlled returns the resources a VPA resizes on some container of
// its target. A container's policy is the one naming it, else the "*"
// policy, else the VPA's default (mode Auto, cpu and memory): containers a
// containerPolicies list does not name are still controlled. With the
// target's containers unknown (nil), any container not named counts.
func vpaControlled(v *vpav1.VerticalPodAutoscaler, containers []string) map[string]bool {
	byName := map[string]*vpav1.ContainerResourcePolicy{}
	if v.Spec.ResourcePolicy != nil {
		for i := range v.Spec.ResourcePolicy.ContainerPolicies {
			p := &v.Spec.ResourcePolicy.ContainerPolicies[i]
			byName[p.ContainerName] = p
		}
	}
	controlled := map[string]bool{}
	add := func(p *vpav1.ContainerResourcePolicy) {
		if p != nil && p.Mode != nil && *p.Mode == vpav1.ContainerScalingModeOff {
			return
		}
		res := []string{"cpu", "memory"}
		if p != nil && p.ControlledResources != nil {
			res = nil
			for _, x := range *p.ControlledResources {
				res = append(res, string(x))
			}
		}
		for _, x := range res {
			controlled[x] = true
		}
	}
	policyFor := func(c string) *vpav1.ContainerResourcePolicy {
		if p, ok := byName[c]; ok {
			return p
		}
		return byName[vpav1.DefaultContainerResourcePolicy]
	}
	if containers == nil {
		for n, p := range byName {
			if n != vpav1.DefaultContainerResourcePolicy {
				add(p)
			}
		}
		add(byName[vpav1.DefaultContainerResourcePolicy]) // an unnamed container
		return controlled
	}
	for _, c := range containers {
		add(policyFor(c))
	}
	return controlled
}
