package cluster

import (
	"fmt"
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
	// parts are whole pieces of pods that pods of one workload repeat (the
	// kept labels, owner reference, conditions, containers, statuses of
	// healthy containers), keyed by their content.
	parts map[string]any
}

// maxInterned bounds the pool: values past it are kept as decoded.
const maxInterned = 1 << 16

func newSlimmer() *slimmer {
	return &slimmer{strs: map[string]string{}, resources: map[string]corev1.ResourceList{}, parts: map[string]any{}}
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
	key := resourceListKey(l)
	if p, ok := sl.resources[key]; ok {
		return p
	}
	if len(sl.resources) < maxInterned {
		sl.resources[key] = l
	}
	return l
}

func resourceListKey(l corev1.ResourceList) string {
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
	return key.String()
}

// shared returns the pooled value stored under key, or stores and returns v.
// Callers hold sl.mu and never modify what it returns.
func shared[T any](sl *slimmer, key string, v T) T {
	if p, ok := sl.parts[key]; ok {
		return p.(T)
	}
	if len(sl.parts) < maxInterned {
		sl.parts[key] = v
	}
	return v
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
// conditions (type, status, reason), and per container status ready,
// restarts, whether it runs, why it waits, and why and when it terminated.
// Annotations, other labels, volumes, env, probes, IPs, messages and
// transition times are dropped. Parts that pods of one workload repeat are
// shared between them (cached objects are never modified).
func (sl *slimmer) slimPod(p *corev1.Pod) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	ref := metav1.GetControllerOfNoCopy(p)
	meta := metav1.ObjectMeta{
		Name: p.Name, Namespace: sl.str(p.Namespace), UID: p.UID, ResourceVersion: p.ResourceVersion,
		CreationTimestamp: p.CreationTimestamp, DeletionTimestamp: p.DeletionTimestamp,
		OwnerReferences: shared(sl, "owner|"+ref.APIVersion+"|"+ref.Kind+"|"+ref.Name+"|"+string(ref.UID),
			[]metav1.OwnerReference{{APIVersion: sl.str(ref.APIVersion), Kind: sl.str(ref.Kind),
				Name: sl.str(ref.Name), UID: ref.UID, Controller: &controller}}),
	}
	var key strings.Builder
	key.WriteString("labels|")
	for _, k := range keptPodLabels {
		if v, ok := p.Labels[k]; ok {
			if meta.Labels == nil {
				meta.Labels = make(map[string]string, 1)
			}
			meta.Labels[sl.str(k)] = sl.str(v)
			key.WriteString(k + "=" + v + ",")
		}
	}
	if meta.Labels != nil {
		meta.Labels = shared(sl, key.String(), meta.Labels)
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
	key.Reset()
	key.WriteString("conditions|")
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady || c.Type == corev1.PodScheduled {
			status.Conditions = append(status.Conditions, corev1.PodCondition{Type: corev1.PodConditionType(sl.str(string(c.Type))),
				Status: corev1.ConditionStatus(sl.str(string(c.Status))), Reason: sl.str(c.Reason)})
			key.WriteString(string(c.Type) + "=" + string(c.Status) + "/" + c.Reason + ",")
		}
	}
	if status.Conditions != nil {
		status.Conditions = shared(sl, key.String(), status.Conditions)
	}
	*p = corev1.Pod{TypeMeta: p.TypeMeta, ObjectMeta: meta, Spec: spec, Status: status}
}

func (sl *slimmer) containers(cs []corev1.Container) []corev1.Container {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	var key strings.Builder
	key.WriteString("containers|")
	for i, c := range cs {
		out[i] = corev1.Container{Name: sl.str(c.Name), Image: sl.str(c.Image), Resources: corev1.ResourceRequirements{
			Requests: sl.resourceList(c.Resources.Requests), Limits: sl.resourceList(c.Resources.Limits)}}
		key.WriteString(c.Name + "|" + c.Image + "|" + resourceListKey(c.Resources.Requests) + "|" + resourceListKey(c.Resources.Limits) + ";")
	}
	return shared(sl, key.String(), out)
}

func (sl *slimmer) containerStatuses(list []corev1.ContainerStatus) []corev1.ContainerStatus {
	if len(list) == 0 {
		return nil
	}
	out := make([]corev1.ContainerStatus, len(list))
	// Statuses of containers that never terminated repeat across pods
	// (running and ready, no restarts): those are shared.
	plain := true
	var key strings.Builder
	key.WriteString("statuses|")
	for i, cs := range list {
		out[i] = corev1.ContainerStatus{Name: sl.str(cs.Name), Ready: cs.Ready, RestartCount: cs.RestartCount,
			State: sl.state(cs.State), LastTerminationState: sl.state(cs.LastTerminationState)}
		if cs.State.Terminated != nil || cs.LastTerminationState.Terminated != nil {
			plain = false
			continue
		}
		fmt.Fprintf(&key, "%s|%t|%d|%t|", cs.Name, cs.Ready, cs.RestartCount, cs.State.Running != nil)
		for _, st := range []corev1.ContainerState{cs.State, cs.LastTerminationState} {
			if w := st.Waiting; w != nil {
				key.WriteString("waiting=" + w.Reason)
			}
			fmt.Fprintf(&key, "|%t;", st.Running != nil)
		}
	}
	if !plain {
		return out
	}
	return shared(sl, key.String(), out)
}

// running is the shared state of a running container: when it started is
// not shown.
var running = &corev1.ContainerStateRunning{}

// state keeps whether a container runs, why it waits, and why and when it
// terminated.
func (sl *slimmer) state(s corev1.ContainerState) corev1.ContainerState {
	var out corev1.ContainerState
	if s.Running != nil {
		out.Running = running
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
