package estate

import (
	"fmt"
	"math"
	"sort"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"

	vpav1 "k8s.io/autoscaler/vertical-pod-autoscaler/pkg/apis/autoscaling.k8s.io/v1"
)

// HPAOf describes a HorizontalPodAutoscaler: bounds, each metric's current
// value vs its target, conditions and saturation. It is pure.
func HPAOf(h *autoscalingv2.HorizontalPodAutoscaler) HPAInfo {
	minR := int32(1)
	if h.Spec.MinReplicas != nil {
		minR = *h.Spec.MinReplicas
	}
	info := HPAInfo{
		Namespace: h.Namespace, Name: h.Name,
		TargetKind: h.Spec.ScaleTargetRef.Kind, TargetName: h.Spec.ScaleTargetRef.Name,
		Min: minR, Max: h.Spec.MaxReplicas, Current: h.Status.CurrentReplicas, Desired: h.Status.DesiredReplicas,
	}
	if h.Status.LastScaleTime != nil {
		info.LastScale = h.Status.LastScaleTime.Time
	}
	if info.Max > 0 {
		info.Saturation = float64(info.Current) / float64(info.Max)
	}
	info.AtMax = info.Max > 0 && info.Current >= info.Max
	for _, m := range h.Spec.Metrics {
		info.Metrics = append(info.Metrics, hpaMetric(m, h.Status.CurrentMetrics))
	}
	var notes []string
	for _, c := range h.Status.Conditions {
		info.Conditions = append(info.Conditions, Condition{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message, Since: c.LastTransitionTime.Time})
		if (c.Type == autoscalingv2.ScalingActive || c.Type == autoscalingv2.AbleToScale) && c.Status == corev1.ConditionFalse {
			notes = append(notes, fmt.Sprintf("%s=False: %s", c.Type, c.Reason))
		}
	}
	switch {
	case info.AtMax:
		info.Reason = fmt.Sprintf("HPA at max %d/%d", info.Current, info.Max)
	case len(notes) > 0:
		info.Reason = "HPA " + notes[0]
	}
	return info
}

func hpaMetric(spec autoscalingv2.MetricSpec, status []autoscalingv2.MetricStatus) HPAMetric {
	m := HPAMetric{Type: string(spec.Type), Current: "<unknown>", Ratio: -1}
	var target autoscalingv2.MetricTarget
	var current *autoscalingv2.MetricValueStatus
	switch spec.Type {
	case autoscalingv2.ResourceMetricSourceType:
		if spec.Resource == nil {
			return m
		}
		m.Name, target = string(spec.Resource.Name), spec.Resource.Target
		for _, s := range status {
			if s.Type == spec.Type && s.Resource != nil && s.Resource.Name == spec.Resource.Name {
				current = &s.Resource.Current
			}
		}
	case autoscalingv2.ContainerResourceMetricSourceType:
		if spec.ContainerResource == nil {
			return m
		}
		m.Name, target = spec.ContainerResource.Container+"/"+string(spec.ContainerResource.Name), spec.ContainerResource.Target
		for _, s := range status {
			if s.Type == spec.Type && s.ContainerResource != nil && s.ContainerResource.Name == spec.ContainerResource.Name && s.ContainerResource.Container == spec.ContainerResource.Container {
				current = &s.ContainerResource.Current
			}
		}
	case autoscalingv2.PodsMetricSourceType:
		if spec.Pods == nil {
			return m
		}
		m.Name, target = spec.Pods.Metric.Name, spec.Pods.Target
		for _, s := range status {
			if s.Type == spec.Type && s.Pods != nil && s.Pods.Metric.Name == spec.Pods.Metric.Name {
				current = &s.Pods.Current
			}
		}
	case autoscalingv2.ObjectMetricSourceType:
		if spec.Object == nil {
			return m
		}
		m.Name, target = spec.Object.Metric.Name, spec.Object.Target
		for _, s := range status {
			if s.Type == spec.Type && s.Object != nil && s.Object.Metric.Name == spec.Object.Metric.Name {
				current = &s.Object.Current
			}
		}
	case autoscalingv2.ExternalMetricSourceType:
		if spec.External == nil {
			return m
		}
		m.Name, target = spec.External.Metric.Name, spec.External.Target
		for _, s := range status {
			if s.Type == spec.Type && s.External != nil && s.External.Metric.Name == spec.External.Metric.Name {
				current = &s.External.Current
			}
		}
	}
	var tv, cv float64
	switch {
	case target.AverageUtilization != nil:
		m.Target = fmt.Sprintf("%d%%", *target.AverageUtilization)
		tv = float64(*target.AverageUtilization)
		if current != nil && current.AverageUtilization != nil {
			m.Current = fmt.Sprintf("%d%%", *current.AverageUtilization)
			cv = float64(*current.AverageUtilization)
		}
	case target.AverageValue != nil:
		m.Target = target.AverageValue.String() + " (avg)"
		tv = target.AverageValue.AsApproximateFloat64()
		if current != nil && current.AverageValue != nil {
			m.Current = current.AverageValue.String()
			cv = current.AverageValue.AsApproximateFloat64()
		}
	case target.Value != nil:
		m.Target = target.Value.String()
		tv = target.Value.AsApproximateFloat64()
		if current != nil && current.Value != nil {
			m.Current = current.Value.String()
			cv = current.Value.AsApproximateFloat64()
		}
	}
	if m.Current != "<unknown>" && tv > 0 {
		m.Ratio = cv / tv
	}
	return m
}

// VPAOf describes a VerticalPodAutoscaler's recommendation next to the
// requests in force (template containers of its target; nil when unknown).
func VPAOf(v *vpav1.VerticalPodAutoscaler, template []corev1.Container) VPAInfo {
	info := VPAInfo{Namespace: v.Namespace, Name: v.Name, UpdateMode: "Auto"}
	if v.Spec.TargetRef != nil {
		info.TargetKind, info.TargetName = v.Spec.TargetRef.Kind, v.Spec.TargetRef.Name
	}
	if p := v.Spec.UpdatePolicy; p != nil && p.UpdateMode != nil {
		info.UpdateMode = string(*p.UpdateMode)
	}
	for _, c := range v.Status.Conditions {
		info.Conditions = append(info.Conditions, Condition{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message, Since: c.LastTransitionTime.Time})
	}
	if v.Status.Recommendation == nil {
		return info
	}
	requests := map[string]Resources{}
	for _, c := range template {
		requests[c.Name] = ResourcesOf(c.Resources.Requests)
	}
	for _, r := range v.Status.Recommendation.ContainerRecommendations {
		c := VPAContainer{
			Name: r.ContainerName, Target: ResourcesOf(r.Target), LowerBound: ResourcesOf(r.LowerBound),
			UpperBound: ResourcesOf(r.UpperBound), UncappedTarget: ResourcesOf(r.UncappedTarget), Requests: requests[r.ContainerName],
		}
		c.CPUDrift = drift(c.Requests.CPU, c.Target.CPU)
		c.MemoryDrift = drift(c.Requests.Memory, c.Target.Memory)
		c.OutOfBounds = outside(c.Requests.CPU, c.LowerBound.CPU, c.UpperBound.CPU) || outside(c.Requests.Memory, c.LowerBound.Memory, c.UpperBound.Memory)
		info.MaxDrift = math.Max(info.MaxDrift, math.Max(math.Abs(c.CPUDrift), math.Abs(c.MemoryDrift)))
		info.Containers = append(info.Containers, c)
	}
	return info
}

func drift(request, target int64) float64 {
	if request <= 0 || target <= 0 {
		return 0
	}
	return float64(request)/float64(target) - 1
}

func outside(v, lo, hi int64) bool {
	return v > 0 && ((lo > 0 && v < lo) || (hi > 0 && v > hi))
}

// ResourcesOf reads the CPU (millicores) and memory (bytes) of a resource list.
func ResourcesOf(l corev1.ResourceList) Resources {
	var r Resources
	if q, ok := l[corev1.ResourceCPU]; ok {
		r.CPU = q.MilliValue()
	}
	if q, ok := l[corev1.ResourceMemory]; ok {
		r.Memory = q.Value()
	}
	return r
}

// PDBOf describes a PodDisruptionBudget.
func PDBOf(p *policyv1.PodDisruptionBudget) PDBInfo {
	info := PDBInfo{
		Namespace: p.Namespace, Name: p.Name,
		CurrentHealthy: p.Status.CurrentHealthy, DesiredHealthy: p.Status.DesiredHealthy,
		ExpectedPods: p.Status.ExpectedPods, DisruptionsAllowed: p.Status.DisruptionsAllowed,
	}
	if p.Spec.MinAvailable != nil {
		info.MinAvailable = p.Spec.MinAvailable.String()
	}
	if p.Spec.MaxUnavailable != nil {
		info.MaxUnavailable = p.Spec.MaxUnavailable.String()
	}
	info.Blocking = p.Status.ExpectedPods > 0 && p.Status.DisruptionsAllowed == 0
	return info
}

// selects reports whether a label selector matches labels; a nil or empty
// selector matches nothing (as for PDBs and Services).
func selects(sel *metav1.LabelSelector, labels map[string]string) bool {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(k8slabels.Set(labels))
}

// mapSelects reports whether a Service-style selector (all pairs equal)
// matches labels; an empty selector matches nothing.
func mapSelects(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func sortHPAs(h []HPAInfo) {
	sort.Slice(h, func(i, j int) bool {
		if h[i].Namespace != h[j].Namespace {
			return h[i].Namespace < h[j].Namespace
		}
		return h[i].Name < h[j].Name
	})
}
