package estate

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var testNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func meta(ns, name string, owner ...metav1.OwnerReference) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1, OwnerReferences: owner,
		CreationTimestamp: metav1.NewTime(testNow.Add(-3 * time.Hour))}
}

func ownedBy(kind, name string) metav1.OwnerReference {
	return metav1.OwnerReference{Kind: kind, Name: name, Controller: ptr(true)}
}

func deployment(ns, name string, replicas, ready, updated int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: meta(ns, name),
		Spec:       appsv1.DeploymentSpec{Replicas: ptr(replicas)},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: replicas, ReadyReplicas: ready,
			UpdatedReplicas: updated, AvailableReplicas: ready},
	}
}

func pod(ns, name string, owner metav1.OwnerReference, ready bool, cs ...corev1.ContainerStatus) *corev1.Pod {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: meta(ns, name, owner),
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: cs,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}},
	}
}

func crashing(restarts int32, last string) corev1.ContainerStatus {
	return corev1.ContainerStatus{
		Name: "app", RestartCount: restarts,
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: last, ExitCode: 1}},
	}
}

func TestBuildServices(t *testing.T) {
	rsOf := func(ns, name, dep string) *appsv1.ReplicaSet {
		return &appsv1.ReplicaSet{ObjectMeta: meta(ns, name, ownedBy("Deployment", dep))}
	}
	objs := Objects{
		Deployments: []*appsv1.Deployment{
			deployment("fintech-prod", "api-gateway", 3, 3, 3),
			deployment("fintech-prod", "notification-service", 2, 1, 2),
			deployment("fintech-staging", "api-gateway", 1, 1, 1),
		},
		StatefulSets: []*appsv1.StatefulSet{{
			ObjectMeta: meta("fintech-prod", "postgres"),
			Spec:       appsv1.StatefulSetSpec{Replicas: ptr(int32(1))},
			Status:     appsv1.StatefulSetStatus{ObservedGeneration: 1, ReadyReplicas: 0, UpdatedReplicas: 1},
		}},
		ReplicaSets: []*appsv1.ReplicaSet{
			rsOf("fintech-prod", "api-gateway-6b7c", "api-gateway"),
			rsOf("fintech-prod", "notification-service-7d9f", "notification-service"),
			rsOf("fintech-staging", "api-gateway-1a2b", "api-gateway"),
		},
		Pods: []*corev1.Pod{
			pod("fintech-prod", "api-gateway-6b7c-a", ownedBy("ReplicaSet", "api-gateway-6b7c"), true, corev1.ContainerStatus{RestartCount: 1}),
			pod("fintech-prod", "api-gateway-6b7c-b", ownedBy("ReplicaSet", "api-gateway-6b7c"), true),
			pod("fintech-prod", "api-gateway-6b7c-c", ownedBy("ReplicaSet", "api-gateway-6b7c"), true),
			pod("fintech-prod", "notification-service-7d9f-a", ownedBy("ReplicaSet", "notification-service-7d9f"), true),
			pod("fintech-prod", "notification-service-7d9f-b", ownedBy("ReplicaSet", "notification-service-7d9f"), false, crashing(12, "Error")),
			pod("fintech-prod", "postgres-0", ownedBy("StatefulSet", "postgres"), false, crashing(2, "OOMKilled")),
			// A pod of the same-named staging deployment must not count in prod.
			pod("fintech-staging", "api-gateway-1a2b-a", ownedBy("ReplicaSet", "api-gateway-1a2b"), true, corev1.ContainerStatus{RestartCount: 7}),
			// Orphans and pods of unknown ReplicaSets are ignored.
			pod("fintech-prod", "debug", metav1.OwnerReference{}, true),
			pod("fintech-prod", "stray", ownedBy("ReplicaSet", "gone"), true),
		},
		HPAs: []*autoscalingv2.HorizontalPodAutoscaler{{
			ObjectMeta: meta("fintech-prod", "api-gateway-hpa"),
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: ptr(int32(3)), MaxReplicas: 10,
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "api-gateway"}},
			Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 3, DesiredReplicas: 3},
		}},
	}

	got := BuildServices(objs, testNow)

	type row struct {
		key      string
		status   HealthStatus
		reason   string
		restarts int32
		pods     int
	}
	want := []row{
		{"fintech-prod/postgres/StatefulSet", StatusDown, "0/1 ready; postgres-0 CrashLoopBackOff (OOMKilled, 2 restarts)", 2, 1},
		{"fintech-prod/notification-service/Deployment", StatusDegraded, "1/2 ready; notification-service-7d9f-b CrashLoopBackOff (12 restarts)", 12, 2},
		{"fintech-prod/api-gateway/Deployment", StatusOK, "", 1, 3},
		{"fintech-staging/api-gateway/Deployment", StatusOK, "", 7, 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d services, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Key() != w.key || g.Health.Status != w.status || g.Health.Reason != w.reason || g.Restarts != w.restarts || g.PodCount != w.pods {
			t.Errorf("service %d = {%s %v %q restarts=%d pods=%d}, want %+v", i, g.Key(), g.Health.Status, g.Health.Reason, g.Restarts, g.PodCount, w)
		}
	}
	if hpa := got[2].HPA; hpa.Name != "api-gateway-hpa" || hpa.Min != 3 || hpa.Max != 10 || hpa.Current != 3 || hpa.Desired != 3 {
		t.Errorf("api-gateway HPA = %+v", hpa)
	}
	if got[0].Created != testNow.Add(-3*time.Hour) {
		t.Errorf("Created = %v", got[0].Created)
	}
}

// BenchmarkBuildServices measures one snapshot build from an empty pod cache
// over 10k pods in 200 Deployments (or VIGIL_BENCH_PODS): the first build,
// and the first after each usage poll.
func BenchmarkBuildServices(b *testing.B) {
	var objs Objects
	for d := range benchDeployments() {
		name := fmt.Sprintf("bulk-%03d", d)
		objs.Deployments = append(objs.Deployments, deployment("fintech-prod", name, 50, 50, 50))
		rs := name + "-rs"
		objs.ReplicaSets = append(objs.ReplicaSets, &appsv1.ReplicaSet{ObjectMeta: meta("fintech-prod", rs, ownedBy("Deployment", name))})
		for p := range 50 {
			objs.Pods = append(objs.Pods, pod("fintech-prod", fmt.Sprintf("%s-%02d", rs, p), ownedBy("ReplicaSet", rs), true))
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if got := BuildServices(objs, testNow); len(got) != benchDeployments() {
			b.Fatalf("got %d services", len(got))
		}
	}
}

// BenchmarkRebuildServices measures the loop's build at 10k pods (or
// VIGIL_BENCH_PODS) when 20 pods changed since the last build (200
// updates/s at 10 builds/s): pods that did not change are not derived
// again, workloads whose pods did not change not grouped again.
func BenchmarkRebuildServices(b *testing.B) {
	var objs Objects
	for d := range benchDeployments() {
		name := fmt.Sprintf("bulk-%03d", d)
		objs.Deployments = append(objs.Deployments, deployment("fintech-prod", name, 50, 50, 50))
		rs := name + "-rs"
		objs.ReplicaSets = append(objs.ReplicaSets, &appsv1.ReplicaSet{ObjectMeta: meta("fintech-prod", rs, ownedBy("Deployment", name))})
		for p := range 50 {
			objs.Pods = append(objs.Pods, pod("fintech-prod", fmt.Sprintf("%s-%02d", rs, p), ownedBy("ReplicaSet", rs), true))
		}
	}
	x := Extras{Pods: NewPodCache()}
	var snap Snapshot
	Assemble(&snap, objs, x, testNow)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		for range 20 {
			i = (i + 7919) % len(objs.Pods)
			objs.Pods[i] = objs.Pods[i].DeepCopy()
		}
		var snap Snapshot
		Assemble(&snap, objs, x, testNow)
		if len(snap.Services) != benchDeployments() {
			b.Fatalf("got %d services", len(snap.Services))
		}
	}
}

// benchDeployments is how many Deployments of 50 pods BenchmarkRebuildServices
// builds: VIGIL_BENCH_PODS/50 (as cluster/bench scales), else 200 (10k pods).
func benchDeployments() int {
	if n, err := strconv.Atoi(os.Getenv("VIGIL_BENCH_PODS")); err == nil && n >= 50 {
		return n / 50
	}
	return 200
}
