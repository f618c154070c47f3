package estate

import (
	"strings"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	kresource "k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	vpav1 "k8s.io/autoscaler/vertical-pod-autoscaler/pkg/apis/autoscaling.k8s.io/v1"

	"github.com/vigil-k8s/vigil/config"
)

func TestHPAOf(t *testing.T) {
	util := func(cur *int32) *autoscalingv2.HorizontalPodAutoscaler {
		h := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: meta("fintech-prod", "api-gateway-hpa")}
		h.Spec = autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: ptr(int32(3)), MaxReplicas: 10,
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "api-gateway"},
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(int32(70))}}}}}
		if cur != nil {
			h.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
				Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: cur}}}}
		}
		return h
	}
	atMax := util(ptr(int32(140)))
	atMax.Status.CurrentReplicas, atMax.Status.DesiredReplicas = 10, 10
	failing := util(nil)
	failing.Status.CurrentReplicas = 3
	failing.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionFalse, Reason: "FailedGetPodsMetric"}}
	ok := util(ptr(int32(64)))
	ok.Status.CurrentReplicas = 3
	tests := []struct {
		name       string
		h          *autoscalingv2.HorizontalPodAutoscaler
		reason     string
		current    string
		ratio      float64
		saturation float64
	}{
		{"at max", atMax, "HPA at max 10/10", "140%", 2, 1},
		{"metric unavailable", failing, "HPA ScalingActive=False: FailedGetPodsMetric", "<unknown>", -1, 0.3},
		{"healthy", ok, "", "64%", 64.0 / 70, 0.3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := HPAOf(tt.h)
			m := got.Metrics[0]
			if got.Reason != tt.reason || m.Current != tt.current || m.Target != "70%" || abs(m.Ratio-tt.ratio) > 1e-9 || abs(got.Saturation-tt.saturation) > 1e-9 {
				t.Errorf("HPAOf = reason %q, metric %+v, saturation %v", got.Reason, m, got.Saturation)
			}
		})
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func TestVPAOfDrift(t *testing.T) {
	mode := vpav1.UpdateModeOff
	v := &vpav1.VerticalPodAutoscaler{ObjectMeta: meta("fintech-prod", "payment-service-vpa")}
	v.Spec.TargetRef = &autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "payment-service"}
	v.Spec.UpdatePolicy = &vpav1.PodUpdatePolicy{UpdateMode: &mode}
	rl := func(cpu, mem string) corev1.ResourceList {
		return corev1.ResourceList{corev1.ResourceCPU: kresource.MustParse(cpu), corev1.ResourceMemory: kresource.MustParse(mem)}
	}
	v.Status.Recommendation = &vpav1.RecommendedPodResources{ContainerRecommendations: []vpav1.RecommendedContainerResources{{
		ContainerName: "app", Target: rl("200m", "512Mi"), LowerBound: rl("100m", "256Mi"), UpperBound: rl("300m", "1Gi")}}}
	got := VPAOf(v, []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{Requests: rl("1", "512Mi")}}})
	c := got.Containers[0]
	if got.UpdateMode != "Off" || c.Requests.CPU != 1000 || c.Target.CPU != 200 || abs(c.CPUDrift-4) > 1e-9 || c.MemoryDrift != 0 || !c.OutOfBounds || got.MaxDrift != 4 {
		t.Errorf("VPAOf = %+v", got)
	}
	if got := VPAOf(v, nil); got.Containers[0].CPUDrift != 0 || got.Containers[0].OutOfBounds {
		t.Errorf("without requests: %+v", got.Containers[0])
	}
}

func TestJoinAlerts(t *testing.T) {
	services := []Service{
		{Namespace: "fintech-prod", Name: "user-service", Kind: "Deployment"},
		{Namespace: "fintech-prod", Name: "postgres", Kind: "StatefulSet", Labels: map[string]string{"app": "postgres-db"}},
		{Namespace: "fintech-staging", Name: "user-service", Kind: "Deployment"},
	}
	v := AlertsView{Alerts: []Alert{
		{Name: "DatabaseConnectionHigh", State: "firing", Severity: "warning", Labels: map[string]string{"app": "postgres-db", "namespace": "fintech-prod"}},
		{Name: "HighErrorRate", State: "firing", Severity: "critical", Labels: map[string]string{"service": "user-service", "namespace": "fintech-prod"}},
		{Name: "Ambiguous", State: "pending", Labels: map[string]string{"service": "user-service"}},
		{Name: "Silenced", State: "firing", Labels: map[string]string{"job": "postgres", "namespace": "fintech-prod"}, SilencedBy: []string{"x"}},
	}}
	got := JoinAlerts(v, services, config.AlertLabels{})
	want := map[string]string{
		"HighErrorRate": "fintech-prod/user-service/Deployment", "DatabaseConnectionHigh": "fintech-prod/postgres/StatefulSet",
		"Ambiguous": "", "Silenced": "fintech-prod/postgres/StatefulSet",
	}
	for _, a := range got.Alerts {
		if a.Service != want[a.Name] {
			t.Errorf("%s joined to %q, want %q", a.Name, a.Service, want[a.Name])
		}
	}
	if got.Firing != 2 || got.Alerts[0].Name != "HighErrorRate" || got.Alerts[len(got.Alerts)-1].Name != "Ambiguous" {
		t.Errorf("Firing = %d, order %v", got.Firing, got.Alerts)
	}
	if got := JoinAlerts(v, services, config.AlertLabels{Service: []string{"job"}}); got.Alerts[0].Service != "" {
		t.Errorf("with only job mapped, %s joined to %q", got.Alerts[0].Name, got.Alerts[0].Service)
	}
}

func TestSyncWindowsAndArgoApp(t *testing.T) {
	deny := SyncWindow{Kind: "deny", Schedule: "0 0 24 12 *", Duration: "72h", Applications: []string{"*"}}
	for _, tt := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 12, 25, 12, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 12, 27, 1, 0, 0, 0, time.UTC), false},
		{time.Date(2026, 12, 23, 23, 0, 0, 0, time.UTC), false},
	} {
		if got := windowActive(deny, tt.at); got != tt.want {
			t.Errorf("windowActive(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
	app := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "fintech-app", "namespace": "argocd"},
		"spec":     map[string]any{"project": "fintech-project", "syncPolicy": map[string]any{"automated": map[string]any{"prune": true}}},
		"status": map[string]any{
			"sync": map[string]any{"status": "Synced", "revision": "50ba616"}, "health": map[string]any{"status": "Healthy"},
			"history":   []any{map[string]any{"id": int64(0), "revision": "2daee16"}, map[string]any{"id": int64(1), "revision": "50ba616"}},
			"resources": []any{map[string]any{"kind": "Deployment", "namespace": "fintech-prod", "name": "payment-service", "status": "OutOfSync"}},
		},
	}}
	a := ArgoAppOf(app, []SyncWindow{deny}, time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC))
	if !a.AutoSync || !a.Prune || a.History[0].ID != 1 || a.OutOfSync != 1 || !a.SyncBlocked || !strings.HasPrefix(a.BlockedBy, "deny") ||
		len(a.Workloads) != 1 || a.Workloads[0] != "fintech-prod/payment-service/Deployment" {
		t.Errorf("ArgoAppOf = %+v", a)
	}
}

func TestExternalSecretStale(t *testing.T) {
	es := &unstructured.Unstructured{Object: map[string]any{
		"kind": "ExternalSecret", "metadata": map[string]any{"name": "x", "namespace": "fintech-prod"},
		"spec":   map[string]any{"refreshInterval": "1h", "secretStoreRef": map[string]any{"name": "vault-backend"}},
		"status": map[string]any{"refreshTime": "2026-01-01T00:00:00Z", "conditions": []any{map[string]any{"type": "Ready", "status": "False", "reason": "SecretSyncedError"}}},
	}}
	got := ExternalSecretOf(es, time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC))
	if got.Ready || got.Reason != "SecretSyncedError" || !got.Stale || got.Target != "x" || got.StoreKind != "SecretStore" {
		t.Errorf("ExternalSecretOf = %+v", got)
	}
}

func TestHealthNotesHPAAndOOM(t *testing.T) {
	h := withAutoscaling(Health{Status: StatusOK}, HPAInfo{Name: "h", Reason: "HPA at max 10/10"}, 3)
	if h.Status != StatusDegraded || h.Reason != "HPA at max 10/10; OOMKilled 3× in 1h" {
		t.Errorf("withAutoscaling = %+v", h)
	}
	ooms := oomsByPod(map[string][]time.Time{"ns/p/app": {testNow.Add(-2 * time.Hour), testNow.Add(-time.Minute)}}, testNow)
	if ooms["ns/p"] != 1 {
		t.Errorf("oomsByPod = %v", ooms)
	}
}

func TestKeepAlertsMatchesTheContextsCluster(t *testing.T) {
	alerts := []Alert{
		{Name: "PaymentServiceDown", Labels: map[string]string{"cluster": "local-2"}},
		{Name: "HighErrorRate", Labels: map[string]string{"cluster": "local-1"}},
		{Name: "Watchdog", Labels: map[string]string{}},
	}
	got := KeepAlerts(append([]Alert(nil), alerts...), config.AlertLabels{Match: map[string]string{"cluster": "local-1"}})
	if len(got) != 1 || got[0].Name != "HighErrorRate" {
		t.Fatalf("match cluster=local-1 kept %+v", got)
	}
	if got := KeepAlerts(append([]Alert(nil), alerts...), config.AlertLabels{}); len(got) != 3 {
		t.Fatalf("no match must keep every alert, kept %d", len(got))
	}
}

// TestReasonNamesTheCurrentPodsCause: a not-ready pod's reason carries the message of its
// latest trouble event (not an older one, not another pod's), and among stuck pods the newest
// (the current rollout's) is named.
func TestReasonNamesTheCurrentPodsCause(t *testing.T) {
	ev := func(pod, reason, msg string, ago time.Duration) *corev1.Event {
		e := &corev1.Event{Type: corev1.EventTypeWarning, Reason: reason, Message: msg,
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: pod}}
		e.Namespace = "ns"
		e.LastTimestamp.Time = testNow.Add(-ago)
		return e
	}
	causes := podCauses([]*corev1.Event{
		ev("b-new", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 500", 3*time.Minute),
		ev("b-new", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", time.Minute),
		ev("b-new", "Pulled", "pulled", 0), // not a cause
		ev("a-old", "Unhealthy", "Liveness probe failed: timeout", 0),
	})
	w := WorkloadFacts{Kind: "Deployment", Desired: 2, Ready: 0, Generation: 1, ObservedGeneration: 1, Causes: causes["ns"],
		Pods: []PodFacts{
			{Name: "a-old", Phase: "Running", Created: testNow.Add(-time.Hour)},
			{Name: "b-new", Phase: "Running", Created: testNow.Add(-5 * time.Minute)},
		}}
	h := DeriveHealth(w, testNow)
	want := "0/2 ready; b-new not ready: Readiness probe failed: HTTP probe failed with statuscode: 503"
	if h.Status != StatusDown || h.Reason != want {
		t.Errorf("DeriveHealth = %v %q, want Down %q", h.Status, h.Reason, want)
	}
}
