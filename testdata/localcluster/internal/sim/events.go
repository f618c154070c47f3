package sim

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/vigil-k8s/vigil/testdata/localcluster/internal/model"
)

// recorders emit the Warning events a scheduler and kubelets would, so
// troubleshooting views have something to show. Normal events (Scheduled,
// Pulled, Started…) are left out: at 10,000 pods they would double the
// write load for no test that needs them.
type recorders struct {
	broadcaster record.EventBroadcaster
	scheduler   record.EventRecorder
	mu          sync.Mutex
	kubelets    map[string]record.EventRecorder
}

func newRecorders(ctx context.Context, s *Simulator) *recorders {
	b := record.NewBroadcaster(record.WithContext(ctx))
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: s.cfg.Client.CoreV1().Events("")})
	return &recorders{
		broadcaster: b,
		scheduler:   b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: corev1.DefaultSchedulerName}),
		kubelets:    map[string]record.EventRecorder{},
	}
}

func (r *recorders) kubelet(node string) record.EventRecorder {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.kubelets[node]
	if rec == nil {
		rec = r.broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: node})
		r.kubelets[node] = rec
	}
	return rec
}

// statusEvents emits the kubelet warnings for a status change from old to
// new (a new crash, a failed pull, a failing readiness probe).
func (r *recorders) statusEvents(pod *corev1.Pod, old, new *corev1.PodStatus) {
	rec := r.kubelet(pod.Spec.NodeName)
	for _, cs := range new.ContainerStatuses {
		prev := findContainer(old.ContainerStatuses, cs.Name)
		switch {
		case cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" && (prev == nil || prev.RestartCount != cs.RestartCount):
			rec.Eventf(pod, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)", cs.Name, pod.Name, pod.Namespace, pod.UID)
		case cs.State.Waiting != nil && cs.State.Waiting.Reason == "ErrImagePull":
			rec.Eventf(pod, corev1.EventTypeWarning, "Failed", "Failed to pull image %q: %s", cs.Image, cs.State.Waiting.Message)
		case cs.State.Waiting != nil && cs.State.Waiting.Reason == "ImagePullBackOff":
			rec.Eventf(pod, corev1.EventTypeWarning, "BackOff", "Back-off pulling image %q", cs.Image)
		case model.TroubleOf(pod) == model.NotReady && cs.State.Running != nil && (prev == nil || prev.Ready || prev.State.Running == nil):
			rec.Eventf(pod, corev1.EventTypeWarning, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503")
		}
	}
}

// unschedulable emits the scheduler's FailedScheduling warning.
func (r *recorders) unschedulable(pod *corev1.Pod, msg string) {
	r.scheduler.Eventf(pod, corev1.EventTypeWarning, "FailedScheduling", "%s", msg)
}
