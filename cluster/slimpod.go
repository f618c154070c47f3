package cluster

import (
	"slices"
	"strconv"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// slimmer is a Session's transform state: an intern pool, so the strings
// and resource lists that thousands of pods repeat (namespace, node, image,
// container and owner names, label values, reasons, requests) are held
// once. Pods of one Deployment differ in little more than name and status.
//
// The transform runs for every pod an informer lists, so at start-up it
// runs 10,000 times while the lists are decoded: pooled parts are looked up
// by a key built in a reused buffer, and a part is built only when it is
// not pooled yet.
type slimmer struct {
	mu        sync.Mutex
	strs      map[string]string
	resources map[string]corev1.ResourceList
	// parts are whole pieces of pods that pods of one workload repeat (the
	// kept labels, owner reference, conditions, containers, statuses of
	// healthy containers), keyed by their content.
	parts map[string]any
	key   []byte // scratch for keys; guarded by mu
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
// read-only, so pods may share one; DeepCopy still copies it. Callers hold
// sl.mu; it uses sl.key.
func (sl *slimmer) resourceList(l corev1.ResourceList) corev1.ResourceList {
	if len(l) == 0 {
		return nil
	}
	sl.key = appendResourceList(sl.key[:0], l)
	if p, ok := sl.resources[string(sl.key)]; ok {
		return p
	}
	if len(sl.resources) < maxInterned {
		sl.resources[string(sl.key)] = l
	}
	return l
}

// appendResourceList appends to key an exact key of l: its names in order,
// each with its quantity's canonical mantissa, exponent and format.
func appendResourceList(key []byte, l corev1.ResourceList) []byte {
	var buf [4]corev1.ResourceName
	names := buf[:0]
	for n := range l {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		q := l[n]
		key = append(append(key, n...), '=')
		var exp int32
		key, exp = q.AsCanonicalBytes(key)
		key = strconv.AppendInt(append(key, 'e'), int64(exp), 10)
		key = append(append(append(key, '/'), q.Format...), ',')
	}
	return key
}

// pooled returns the part stored under key, if any. Callers hold sl.mu.
func pooled[T any](sl *slimmer, key []byte) (T, bool) {
	p, ok := sl.parts[string(key)]
	if !ok {
		var zero T
		return zero, false
	}
	return p.(T), true
}

// pool stores v under key unless the pool is full. Callers hold sl.mu.
func (sl *slimmer) pool(key string, v any) {
	if len(sl.parts) < maxInterned {
		sl.parts[key] = v
	}
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
	meta := metav1.ObjectMeta{
		Name: p.Name, Namespace: sl.str(p.Namespace), UID: p.UID, ResourceVersion: p.ResourceVersion,
		CreationTimestamp: p.CreationTimestamp, DeletionTimestamp: p.DeletionTimestamp,
		OwnerReferences: sl.owner(metav1.GetControllerOfNoCopy(p)),
	}
	key := append(sl.key[:0], "labels|"...)
	for _, k := range keptPodLabels {
		if v, ok := p.Labels[k]; ok {
			key = append(append(append(append(key, k...), '='), v...), ',')
		}
	}
	sl.key = key
	if labels, ok := pooled[map[string]string](sl, key); ok {
		meta.Labels = labels
	} else {
		for _, k := range keptPodLabels {
			if v, ok := p.Labels[k]; ok {
				if meta.Labels == nil {
					meta.Labels = make(map[string]string, 1)
				}
				meta.Labels[sl.str(k)] = sl.str(v)
			}
		}
		if meta.Labels != nil {
			sl.pool(string(key), meta.Labels)
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
		Conditions:            sl.conditions(p.Status.Conditions),
	}
	*p = corev1.Pod{TypeMeta: p.TypeMeta, ObjectMeta: meta, Spec: spec, Status: status}
}

// owner returns the pooled owner references of a pod controlled by ref.
func (sl *slimmer) owner(ref *metav1.OwnerReference) []metav1.OwnerReference {
	key := append(sl.key[:0], "owner|"...)
	key = append(append(append(append(append(append(key, ref.APIVersion...), '|'), ref.Kind...), '|'), ref.Name...), '|')
	key = append(key, ref.UID...)
	sl.key = key
	if out, ok := pooled[[]metav1.OwnerReference](sl, key); ok {
		return out
	}
	out := []metav1.OwnerReference{{APIVersion: sl.str(ref.APIVersion), Kind: sl.str(ref.Kind),
		Name: sl.str(ref.Name), UID: ref.UID, Controller: &controller}}
	sl.pool(string(key), out)
	return out
}

// conditions keeps the Ready and PodScheduled conditions' type, status and
// reason, pooled.
func (sl *slimmer) conditions(list []corev1.PodCondition) []corev1.PodCondition {
	key := append(sl.key[:0], "conditions|"...)
	kept := 0
	for i := range list {
		if c := &list[i]; c.Type == corev1.PodReady || c.Type == corev1.PodScheduled {
			key = append(append(append(append(append(append(key, c.Type...), '='), c.Status...), '/'), c.Reason...), ',')
			kept++
		}
	}
	sl.key = key
	if kept == 0 {
		return nil
	}
	if out, ok := pooled[[]corev1.PodCondition](sl, key); ok {
		return out
	}
	k := string(key)
	out := make([]corev1.PodCondition, 0, kept)
	for _, c := range list {
		if c.Type == corev1.PodReady || c.Type == corev1.PodScheduled {
			out = append(out, corev1.PodCondition{Type: corev1.PodConditionType(sl.str(string(c.Type))),
				Status: corev1.ConditionStatus(sl.str(string(c.Status))), Reason: sl.str(c.Reason)})
		}
	}
	sl.pool(k, out)
	return out
}

func (sl *slimmer) containers(cs []corev1.Container) []corev1.Container {
	if len(cs) == 0 {
		return nil
	}
	key := append(sl.key[:0], "containers|"...)
	for i := range cs {
		c := &cs[i]
		key = append(append(append(append(key, c.Name...), '|'), c.Image...), '|')
		key = append(appendResourceList(key, c.Resources.Requests), '|')
		key = append(appendResourceList(key, c.Resources.Limits), ';')
	}
	sl.key = key
	if out, ok := pooled[[]corev1.Container](sl, key); ok {
		return out
	}
	k := string(key) // resourceList below reuses sl.key
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{Name: sl.str(c.Name), Image: sl.str(c.Image), Resources: corev1.ResourceRequirements{
			Requests: sl.resourceList(c.Resources.Requests), Limits: sl.resourceList(c.Resources.Limits)}}
	}
	sl.pool(k, out)
	return out
}

func (sl *slimmer) containerStatuses(list []corev1.ContainerStatus) []corev1.ContainerStatus {
	if len(list) == 0 {
		return nil
	}
	// Statuses of containers that never terminated repeat across pods
	// (running and ready, no restarts): those are shared.
	plain := true
	key := append(sl.key[:0], "statuses|"...)
	for i := range list {
		cs := &list[i]
		if cs.State.Terminated != nil || cs.LastTerminationState.Terminated != nil {
			plain = false
			break
		}
		key = append(append(key, cs.Name...), '|')
		key = append(strconv.AppendBool(key, cs.Ready), '|')
		key = append(strconv.AppendInt(key, int64(cs.RestartCount), 10), '|')
		for _, st := range []*corev1.ContainerState{&cs.State, &cs.LastTerminationState} {
			if w := st.Waiting; w != nil {
				key = append(append(key, "waiting="...), w.Reason...)
			}
			key = append(strconv.AppendBool(append(key, '|'), st.Running != nil), ';')
		}
	}
	sl.key = key
	if plain {
		if out, ok := pooled[[]corev1.ContainerStatus](sl, key); ok {
			return out
		}
	}
	k := string(key)
	out := make([]corev1.ContainerStatus, len(list))
	for i, cs := range list {
		out[i] = corev1.ContainerStatus{Name: sl.str(cs.Name), Ready: cs.Ready, RestartCount: cs.RestartCount,
			State: sl.state(cs.State), LastTerminationState: sl.state(cs.LastTerminationState)}
	}
	if plain {
		sl.pool(k, out)
	}
	return out
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
