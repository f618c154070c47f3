package cluster

import (
	"slices"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// slimmer is a Session's transform state: an intern pool, so the strings
// and resource lists that thousands of pods repeat (namespace, node, image,
// container and owner names, label values, reasons, requests) are held
// once. Pods of one Deployment differ in little more than name and status.
type slimmer struct {
	mu        sync.Mutex
	strs      map[string]string
	resources map[string]corev1.ResourceList
}

// maxInterned bounds the pool: values past it are kept as decoded.
const maxInterned = 1 << 16

func newSlimmer() *slimmer {
	return &slimmer{strs: map[string]string{}, resources: map[string]corev1.ResourceList{}}
}

// str returns the pooled copy of v. Callers hold sl.mu.
func (sl *slimmer) str(v string) string {
	if v == "" {
		return ""
	}
	if p, ok := sl.strs[v]; ok {
		return p
	}
	if len(sl.strs) < maxInterned {
		sl.strs[v] = v
	}
	return v
}

// resourceList returns a pooled ResourceList equal to l. Cached objects are
// read-only, so pods may share one; DeepCopy still copies it. Callers hold sl.mu.
func (sl *slimmer) resourceList(l corev1.ResourceList) corev1.ResourceList {
	if len(l) == 0 {
		return nil
	}
	names := make([]string, 0, len(l))
	for n := range l {
		names = append(names, string(n))
	}
	slices.Sort(names)
	var key strings.Builder
	for _, n := range names {
		q := l[corev1.ResourceName(n)]
		key.WriteString(n)
		key.WriteByte('=')
		key.WriteString(q.String())
		key.WriteByte(',')
	}
	if p, ok := sl.resources[key.String()]; ok {
		return p
	}
	if len(sl.resources) < maxInterned {
		sl.resources[key.String()] = l
	}
	return l
}

// controller is the shared value of a kept owner reference's Controller.
var controller = true

// keptPodLabels are the pod labels the snapshot reads (PodInfo.Revision).
var keptPodLabels = []string{appsv1.DefaultDeploymentUniqueLabelKey, appsv1.ControllerRevisionHashLabelKey}

// slimPod keeps of a controller-owned pod what the snapshot derives from it
// (PodFactsOf, podInfo, OOM tracking) and what the compliance checks read of
// such a pod (its controller reference: they check the template instead):
// identity and times, the controller reference, the revision labels, node,
// containers' name, image and resources, phase, the Ready and PodScheduled
// conditions, and per container status ready, restarts and the reasons and
// times of its state and last termination. Annotations, other labels,
// volumes, env, probes, IPs and messages are dropped.
func (sl *slimmer) slimPod(p *corev1.Pod) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	ref := metav1.GetControllerOfNoCopy(p)
	meta := metav1.ObjectMeta{
		Name: p.Name, Namespace: sl.str(p.Namespace), UID: p.UID, ResourceVersion: p.ResourceVersion,
		CreationTimestamp: p.CreationTimestamp, DeletionTimestamp: p.DeletionTimestamp,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: sl.str(ref.APIVersion), Kind: sl.str(ref.Kind),
			Name: sl.str(ref.Name), UID: ref.UID, Controller: &controller}},
	}
	for _, k := range keptPodLabels {
		if v, ok := p.Labels[k]; ok {
			if meta.Labels == nil {
				meta.Labels = make(map[string]string, 1)
			}
			meta.Labels[sl.str(k)] = sl.str(v)
		}
	}
	spec := corev1.PodSpec{
		NodeName:       sl.str(p.Spec.NodeName),
		InitContainers: sl.containers(p.Spec.InitContainers),
		Containers:     sl.containers(p.Spec.Containers),
	}
	status := corev1.PodStatus{
		Phase:                 corev1.PodPhase(sl.str(string(p.Status.Phase))),
		Reason:                sl.str(p.Status.Reason),
		InitContainerStatuses: sl.containerStatuses(p.Status.InitContainerStatuses),
		ContainerStatuses:     sl.containerStatuses(p.Status.ContainerStatuses),
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady || c.Type == corev1.PodScheduled {
			status.Conditions = append(status.Conditions, corev1.PodCondition{Type: corev1.PodConditionType(sl.str(string(c.Type))),
				Status: corev1.ConditionStatus(sl.str(string(c.Status))), Reason: sl.str(c.Reason)})
		}
	}
	*p = corev1.Pod{TypeMeta: p.TypeMeta, ObjectMeta: meta, Spec: spec, Status: status}
}

func (sl *slimmer) containers(cs []corev1.Container) []corev1.Container {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{Name: sl.str(c.Name), Image: sl.str(c.Image), Resources: corev1.ResourceRequirements{
			Requests: sl.resourceList(c.Resources.Requests), Limits: sl.resourceList(c.Resources.Limits)}}
	}
	return out
}

func (sl *slimmer) containerStatuses(list []corev1.ContainerStatus) []corev1.ContainerStatus {
	if len(list) == 0 {
		return nil
	}
	out := make([]corev1.ContainerStatus, len(list))
	for i, cs := range list {
		out[i] = corev1.ContainerStatus{Name: sl.str(cs.Name), Ready: cs.Ready, RestartCount: cs.RestartCount,
			State: sl.state(cs.State), LastTerminationState: sl.state(cs.LastTerminationState)}
	}
	return out
}

// state keeps whether a container runs, why it waits, and why and when it
// terminated.
func (sl *slimmer) state(s corev1.ContainerState) corev1.ContainerState {
	var out corev1.ContainerState
	if s.Running != nil {
		out.Running = &corev1.ContainerStateRunning{StartedAt: s.Running.StartedAt}
	}
	if s.Waiting != nil {
		out.Waiting = &corev1.ContainerStateWaiting{Reason: sl.str(s.Waiting.Reason)}
	}
	if t := s.Terminated; t != nil {
		out.Terminated = &corev1.ContainerStateTerminated{Reason: sl.str(t.Reason), ExitCode: t.ExitCode,
			StartedAt: t.StartedAt, FinishedAt: t.FinishedAt}
	}
	return out
}
