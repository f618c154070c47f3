package sim

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/vigil-k8s/vigil/testdata/localcluster/internal/model"
)

func testSim() *Simulator {
	nodes := corelisters.NewNodeLister(cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{}))
	return &Simulator{cfg: Config{Cluster: "local-1", Index: 1}, ips: newIPPool(1), acct: newAccounting(), nodes: nodes}
}

func boundPod(ann map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1", Annotations: ann},
		Spec: corev1.PodSpec{NodeName: "local-1-node-1", RestartPolicy: corev1.RestartPolicyAlways,
			Containers: []corev1.Container{{Name: "app", Image: "ghcr.io/x/app:1.0"}}},
	}
}

// TestDesiredStatus walks a pod through two reconciles per trouble mode and
// checks what a reader of the status would see.
func TestDesiredStatus(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		ann      map[string]string
		later    time.Duration
		phase    corev1.PodPhase
		ready    bool
		state    string
		restarts int32
	}{
		{"healthy", nil, time.Minute, corev1.PodRunning, true, "running", 0},
		{"not ready", map[string]string{model.AnnNotReady: "true"}, time.Minute, corev1.PodRunning, false, "running", 0},
		{"crashloop", map[string]string{model.AnnCrashLoop: "true"}, 35 * time.Second, corev1.PodRunning, false, "waiting/CrashLoopBackOff", 2},
		{"oomkilled", map[string]string{model.AnnOOMKilled: "true"}, 12 * time.Second, corev1.PodRunning, false, "waiting/CrashLoopBackOff", 1},
		{"image pull", map[string]string{model.AnnImagePullError: "true"}, 15 * time.Second, corev1.PodPending, false, "waiting/ImagePullBackOff", 0},
	}
	for _, tt := range tests {
		s := testSim()
		p := boundPod(tt.ann)
		first, _ := s.desiredStatus(p, t0)
		p.Status = first
		got, _ := s.desiredStatus(p, t0.Add(tt.later))
		cs := got.ContainerStatuses[0]
		if got.Phase != tt.phase || model.IsReady(&corev1.Pod{Status: got}) != tt.ready ||
			stateKey(cs.State) != tt.state || cs.RestartCount != tt.restarts {
			t.Errorf("%s: phase %s ready %v state %s restarts %d; want %s %v %s %d", tt.name,
				got.Phase, model.IsReady(&corev1.Pod{Status: got}), stateKey(cs.State), cs.RestartCount,
				tt.phase, tt.ready, tt.state, tt.restarts)
		}
		if got.PodIP == "" || got.PodIP != first.PodIP || got.StartTime == nil {
			t.Errorf("%s: pod IP %q (first %q) or start time missing", tt.name, got.PodIP, first.PodIP)
		}
	}
}

func TestOOMKilledLastState(t *testing.T) {
	s := testSim()
	p := boundPod(map[string]string{model.AnnOOMKilled: "true"})
	t0 := time.Now()
	st, _ := s.desiredStatus(p, t0)
	p.Status = st
	st, next := s.desiredStatus(p, t0.Add(11*time.Second))
	last := st.ContainerStatuses[0].LastTerminationState.Terminated
	if last == nil || last.Reason != "OOMKilled" || last.ExitCode != 137 {
		t.Fatalf("last state %+v, want OOMKilled/137", last)
	}
	if !next.After(t0.Add(11 * time.Second)) {
		t.Errorf("next change %s is not in the future", next)
	}
}

func TestSameStatusIgnoresTimestamps(t *testing.T) {
	s := testSim()
	p := boundPod(nil)
	a, _ := s.desiredStatus(p, time.Now())
	p.Status = a
	b, _ := s.desiredStatus(p, time.Now().Add(time.Hour))
	if !sameStatus(&a, &b) {
		t.Error("a healthy pod's status changed with time alone")
	}
}

func TestJobPodSucceeds(t *testing.T) {
	s := testSim()
	p := boundPod(nil)
	p.Spec.RestartPolicy = corev1.RestartPolicyNever
	t0 := time.Now()
	st, next := s.desiredStatus(p, t0)
	if st.Phase != corev1.PodRunning || next.IsZero() {
		t.Fatalf("phase %s next %v, want Running with a next change", st.Phase, next)
	}
	p.Status = st
	if st, _ = s.desiredStatus(p, next); st.Phase != corev1.PodSucceeded {
		t.Errorf("phase %s after %s, want Succeeded", st.Phase, jobRunsFor)
	}
}
