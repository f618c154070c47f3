package model

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRestartsBackOff(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		after time.Duration
		want  int32
	}{
		{5 * time.Second, 0},
		{10 * time.Second, 1},
		{29 * time.Second, 1},
		{30 * time.Second, 2},
		{70 * time.Second, 3},
		{150 * time.Second, 4},
		{310 * time.Second, 5},
		{470 * time.Second, 6}, // capped at 160 s between crashes
	}
	for _, tt := range tests {
		got, last, next := Restarts(start, start.Add(tt.after))
		if got != tt.want {
			t.Errorf("Restarts after %s = %d, want %d", tt.after, got, tt.want)
		}
		if now := start.Add(tt.after); last.After(now) || !next.After(now) {
			t.Errorf("after %s: last %s / next %s do not bracket now", tt.after, last, next)
		}
	}
}

func pod(ann map[string]string, requests corev1.ResourceList) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Annotations: ann},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app",
			Resources: corev1.ResourceRequirements{Requests: requests}}}},
	}
}

func TestContainerUsage(t *testing.T) {
	req := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")}
	tests := []struct {
		name           string
		pod            *corev1.Pod
		cpuMin, cpuMax int64 // millicores
		memory         string
	}{
		{"annotations win", pod(map[string]string{AnnCPU: "350m", AnnMemory: "700Mi"}, req), 350, 350, "700Mi"},
		{"share of requests", pod(nil, req), 360, 440, "614Mi"},
		{"no requests", pod(nil, nil), 50, 50, "128Mi"},
	}
	for _, tt := range tests {
		u := ContainerUsage(tt.pod)[0]
		if m := u.CPU.MilliValue(); m < tt.cpuMin || m > tt.cpuMax {
			t.Errorf("%s: cpu %dm not in [%d, %d]", tt.name, m, tt.cpuMin, tt.cpuMax)
		}
		if want := resource.MustParse(tt.memory); u.Memory.Value()/(1<<20) != want.Value()/(1<<20) {
			t.Errorf("%s: memory %s, want about %s", tt.name, u.Memory.String(), tt.memory)
		}
	}
}

func TestTrafficDefaults(t *testing.T) {
	p := pod(nil, nil)
	if RPS(p) != 10 || ErrorRatio(p) != 0.001 || DBConnections(p) != 20 {
		t.Errorf("defaults: rps %v, error ratio %v, db %v", RPS(p), ErrorRatio(p), DBConnections(p))
	}
	p = pod(map[string]string{AnnRPS: "40", AnnErrorRatio: "0.25", AnnDBConnections: "92"}, nil)
	if RPS(p) != 40 || ErrorRatio(p) != 0.25 || DBConnections(p) != 92 {
		t.Errorf("annotated: rps %v, error ratio %v, db %v", RPS(p), ErrorRatio(p), DBConnections(p))
	}
}
