package sim

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// load is what one pod takes from its node.
type load struct {
	cpuMilli int64
	memBytes int64
}

// accounting tracks which pods sit on which node, from informer events and
// from bindings made before the informer has seen them.
type accounting struct {
	mu     sync.Mutex
	byNode map[string]map[types.UID]load
	sums   map[string]load
	nodeOf map[types.UID]string
}

func newAccounting() *accounting {
	return &accounting{byNode: map[string]map[types.UID]load{}, sums: map[string]load{}, nodeOf: map[types.UID]string{}}
}

func podLoad(pod *corev1.Pod) load {
	var l load
	for _, c := range pod.Spec.Containers {
		l.cpuMilli += c.Resources.Requests.Cpu().MilliValue()
		l.memBytes += c.Resources.Requests.Memory().Value()
	}
	return l
}

// observe records pod's placement (or its absence when it is gone or done).
func (a *accounting) observe(pod *corev1.Pod, gone bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.removeLocked(pod.UID)
	done := pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
	if gone || done || pod.Spec.NodeName == "" {
		return
	}
	a.addLocked(pod.UID, pod.Spec.NodeName, podLoad(pod))
}

func (a *accounting) addLocked(uid types.UID, node string, l load) {
	m := a.byNode[node]
	if m == nil {
		m = map[types.UID]load{}
		a.byNode[node] = m
	}
	m[uid] = l
	a.nodeOf[uid] = node
	sum := a.sums[node]
	sum.cpuMilli += l.cpuMilli
	sum.memBytes += l.memBytes
	a.sums[node] = sum
}

func (a *accounting) removeLocked(uid types.UID) {
	if node, ok := a.nodeOf[uid]; ok {
		l := a.byNode[node][uid]
		sum := a.sums[node]
		sum.cpuMilli -= l.cpuMilli
		sum.memBytes -= l.memBytes
		a.sums[node] = sum
		delete(a.byNode[node], uid)
		delete(a.nodeOf, uid)
	}
}

// used returns the pods count and summed requests on node.
func (a *accounting) usedLocked(node string) (int, load) {
	return len(a.byNode[node]), a.sums[node]
}

// unschedulableTaint is tolerated like the real scheduler does for cordons.
var unschedulableTaint = corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}

// choose picks the least loaded feasible node for pod and records the
// placement. When none fits it returns "" and a scheduler-style message.
func (s *Simulator) choose(pod *corev1.Pod, nodes []*corev1.Node) (string, string) {
	logger := klog.Background()
	a := s.acct
	a.mu.Lock()
	defer a.mu.Unlock()
	need := podLoad(pod)
	required := nodeaffinity.GetRequiredNodeAffinity(pod)
	reasons := map[string]int{}
	best, bestCount := "", 0
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	for _, n := range nodes {
		if n.Spec.Unschedulable && !corev1helpers.TolerationsTolerateTaint(logger, pod.Spec.Tolerations, &unschedulableTaint, false) {
			reasons["node(s) were unschedulable"]++
			continue
		}
		if ok, _ := required.Match(n); !ok {
			reasons["node(s) didn't match Pod's node affinity/selector"]++
			continue
		}
		noSchedule := func(t *corev1.Taint) bool {
			return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
		}
		if t, bad := corev1helpers.FindMatchingUntoleratedTaint(logger, n.Spec.Taints, pod.Spec.Tolerations, noSchedule, false); bad {
			reasons[fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value)]++
			continue
		}
		count, used := a.usedLocked(n.Name)
		alloc := n.Status.Allocatable
		switch {
		case int64(count+1) > alloc.Pods().Value():
			reasons["Too many pods"]++
			continue
		case used.cpuMilli+need.cpuMilli > alloc.Cpu().MilliValue():
			reasons["Insufficient cpu"]++
			continue
		case used.memBytes+need.memBytes > alloc.Memory().Value():
			reasons["Insufficient memory"]++
			continue
		}
		if best == "" || count < bestCount {
			best, bestCount = n.Name, count
		}
	}
	if best != "" {
		a.addLocked(pod.UID, best, need)
		return best, ""
	}
	parts := make([]string, 0, len(reasons))
	for r, n := range reasons {
		parts = append(parts, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(parts)
	msg := fmt.Sprintf("0/%d nodes are available: %s. preemption: not eligible due to preemptionPolicy=Never.", len(nodes), strings.Join(parts, ", "))
	return "", msg
}

// schedule binds a pending pod, or marks it Unschedulable.
func (s *Simulator) schedule(ctx context.Context, pod *corev1.Pod) (retry bool, err error) {
	nodes, err := s.nodes.List(everything)
	if err != nil {
		return true, err
	}
	node, msg := s.choose(pod, nodes)
	if node == "" {
		return true, s.markUnschedulable(ctx, pod, msg)
	}
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
	err = s.cfg.Client.CoreV1().Pods(pod.Namespace).Bind(ctx, binding, metav1.CreateOptions{})
	if err != nil {
		s.acct.mu.Lock()
		s.acct.removeLocked(pod.UID)
		s.acct.mu.Unlock()
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return false, nil
		}
		return true, fmt.Errorf("bind %s/%s to %s: %w", pod.Namespace, pod.Name, node, err)
	}
	return false, nil
}

// markUnschedulable sets PodScheduled=False/Unschedulable like the scheduler.
func (s *Simulator) markUnschedulable(ctx context.Context, pod *corev1.Pod, msg string) error {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable && c.Message == msg {
			return nil
		}
	}
	s.rec.unschedulable(pod, msg)
	p := pod.DeepCopy()
	p.Status.Phase = corev1.PodPending
	conds := p.Status.Conditions[:0]
	for _, c := range p.Status.Conditions {
		if c.Type != corev1.PodScheduled {
			conds = append(conds, c)
		}
	}
	p.Status.Conditions = append(conds, corev1.PodCondition{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
		Message: msg, LastTransitionTime: metav1.Now(), LastProbeTime: metav1.Now(),
	})
	_, err := s.cfg.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}
