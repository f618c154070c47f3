// Package model is the deterministic behaviour of simulated pods: which
// trouble they are in, how much CPU and memory they use, and how much traffic
// they serve. Everything is a pure function of the pod (its annotations,
// requests, name and start time) and the clock, so the simulator, the
// metrics.k8s.io server and the service metrics agree without sharing state.
package model

import (
	"hash/fnv"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Simulation annotations, read from the pod (see testdata/README.md).
const (
	AnnCrashLoop      = "sim.vigil.dev/crashloop"
	AnnOOMKilled      = "sim.vigil.dev/oomkilled"
	AnnImagePullError = "sim.vigil.dev/image-pull-error"
	AnnNotReady       = "sim.vigil.dev/not-ready"
	AnnCPU            = "sim.vigil.dev/cpu"
	AnnMemory         = "sim.vigil.dev/memory"
	AnnRPS            = "sim.vigil.dev/rps"
	AnnErrorRatio     = "sim.vigil.dev/error-ratio"
	AnnDBConnections  = "sim.vigil.dev/db-connections"
)

// Trouble is the failure mode a pod simulates.
type Trouble int

// The failure modes, in the order they win when several are set.
const (
	Healthy Trouble = iota
	ImagePullError
	OOMKilled
	CrashLoop
	NotReady
)

// TroubleOf returns the failure mode the pod's annotations ask for.
func TroubleOf(pod *corev1.Pod) Trouble {
	a := pod.Annotations
	switch {
	case a[AnnImagePullError] == "true":
		return ImagePullError
	case a[AnnOOMKilled] == "true":
		return OOMKilled
	case a[AnnCrashLoop] == "true":
		return CrashLoop
	case a[AnnNotReady] == "true":
		return NotReady
	}
	return Healthy
}

// crashIntervals are the seconds between two crashes: ~10 s at first, then
// backing off like the kubelet does, capped so demos keep moving.
var crashIntervals = []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second}

// Restarts returns how many times a crashing container has restarted by now
// when it started at start, when the last crash happened and when the next
// one will.
func Restarts(start, now time.Time) (count int32, last, next time.Time) {
	t := start
	for i := 0; ; i++ {
		step := crashIntervals[min(i, len(crashIntervals)-1)]
		if t.Add(step).After(now) {
			return int32(i), t, t.Add(step)
		}
		t = t.Add(step)
		if i > 1<<20 {
			return int32(i), t, t.Add(step)
		}
	}
}

// jitter returns a deterministic factor in [0.9, 1.1] from the pod name.
func jitter(name string) float64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return 0.9 + float64(h.Sum32()%2001)/10000.0
}

// Hash returns a stable hexadecimal digest of the parts, for IDs.
func Hash(parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

// Usage is the resource usage of one container.
type Usage struct {
	Name   string
	CPU    resource.Quantity
	Memory resource.Quantity
}

// ContainerUsage returns the CPU and memory each container of the pod uses:
// the annotation when set, otherwise 40% (CPU, ±10% by pod name) and 60%
// (memory) of the request, otherwise 50m and 128Mi.
func ContainerUsage(pod *corev1.Pod) []Usage {
	out := make([]Usage, 0, len(pod.Spec.Containers))
	cpuAnn, cpuErr := resource.ParseQuantity(pod.Annotations[AnnCPU])
	memAnn, memErr := resource.ParseQuantity(pod.Annotations[AnnMemory])
	j := jitter(pod.Name)
	for _, c := range pod.Spec.Containers {
		u := Usage{Name: c.Name}
		switch req, ok := c.Resources.Requests[corev1.ResourceCPU]; {
		case cpuErr == nil && pod.Annotations[AnnCPU] != "":
			u.CPU = cpuAnn
		case ok:
			u.CPU = *resource.NewMilliQuantity(int64(float64(req.MilliValue())*0.4*j), resource.DecimalSI)
		default:
			u.CPU = resource.MustParse("50m")
		}
		switch req, ok := c.Resources.Requests[corev1.ResourceMemory]; {
		case memErr == nil && pod.Annotations[AnnMemory] != "":
			u.Memory = memAnn
		case ok:
			u.Memory = *resource.NewQuantity(int64(float64(req.Value())*0.6)/1024*1024, resource.BinarySI)
		default:
			u.Memory = resource.MustParse("128Mi")
		}
		out = append(out, u)
	}
	return out
}

func floatAnn(pod *corev1.Pod, key string, def float64) float64 {
	if v, err := strconv.ParseFloat(pod.Annotations[key], 64); err == nil && v >= 0 {
		return v
	}
	return def
}

// RPS is the requests per second the pod serves (default 10).
func RPS(pod *corev1.Pod) float64 { return floatAnn(pod, AnnRPS, 10) }

// ErrorRatio is the share of requests answered with a 5xx (default 0.001).
func ErrorRatio(pod *corev1.Pod) float64 {
	return min(floatAnn(pod, AnnErrorRatio, 0.001), 1)
}

// DBConnections is the pod's database_connections_active (default 20).
func DBConnections(pod *corev1.Pod) float64 { return floatAnn(pod, AnnDBConnections, 20) }

// IsReady reports whether the pod's Ready condition is True.
func IsReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
