package estate

import (
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodCache remembers, between builds, what each pod contributes to a
// snapshot, so a build derives only the pods that changed. It is keyed by
// the cached object itself: an informer replaces an object on every change
// and never modifies one in place, so the same pointer means the same
// facts. Values also depend on the usage figures; a new usage poll (a new
// map) derives every pod again. A PodCache belongs to one builder at a time
// (the Session holds it under buildMu).
type PodCache struct {
	epoch   uint64
	usage   map[string]PodUsage
	pods    map[*corev1.Pod]*podEntry
	byOwner map[workloadID]*workloadPods // the pods of each workload at the last build
}

// workloadID names a workload without building a string per pod.
type workloadID struct{ namespace, name, kind string }

// podEntry is one pod's derived values. facts and info point either at
// values of their own (a pod new since the last build) or into the
// workloadPods that last showed the pod, so an unchanged pod costs no copy.
type podEntry struct {
	seen  uint64 // epoch of the last build that saw the pod
	owner workloadID
	facts *PodFacts
	info  *PodInfo
}

// workloadPods are one workload's pods in name order, with the facts and
// infos built from them; the slices are shared by the snapshots that show
// the same pods, and never written after a build returns.
type workloadPods struct {
	entries []*podEntry
	facts   []PodFacts
	infos   []PodInfo
}

func NewPodCache() *PodCache {
	return &PodCache{pods: map[*corev1.Pod]*podEntry{}, byOwner: map[workloadID]*workloadPods{}}
}

// begin starts a build with the given usage figures.
func (c *PodCache) begin(usage map[string]PodUsage) {
	c.epoch++
	if !sameMap(c.usage, usage) {
		clear(c.pods) // usage is part of every PodInfo: derive all again
		c.usage = usage
	}
}

// entry returns p's derived values, deriving them when p is new or changed.
func (c *PodCache) entry(p *corev1.Pod) *podEntry {
	e := c.pods[p]
	if e == nil {
		e = c.derive(p)
		c.pods[p] = e
	}
	e.seen = c.epoch
	return e
}

// derive computes p's entry. It only reads the cache, so several may run at once.
func (c *PodCache) derive(p *corev1.Pod) *podEntry {
	f := PodFactsOf(p)
	info := podInfo(p, f, c.usage)
	e := &podEntry{facts: &f, info: &info}
	if ref := metav1.GetControllerOfNoCopy(p); ref != nil {
		switch ref.Kind {
		case "ReplicaSet", "StatefulSet", "DaemonSet":
			e.owner = workloadID{p.Namespace, ref.Name, ref.Kind}
		}
	}
	return e
}

// parallelDerive is how many new pods a build must have before it derives
// them on every core: the first build, and the first after each usage poll,
// derive every pod; the builds between them a few.
const parallelDerive = 2000

// deriveNew derives, on every core, the entries of the pods not cached yet
// when there are at least parallelDerive of them; entry derives the rest.
func (c *PodCache) deriveNew(pods []*corev1.Pod) {
	var fresh []*corev1.Pod
	for _, p := range pods {
		if c.pods[p] == nil {
			fresh = append(fresh, p)
		}
	}
	workers := runtime.GOMAXPROCS(0)
	if len(fresh) < parallelDerive || workers < 2 {
		return
	}
	entries := make([]*podEntry, len(fresh))
	chunk := (len(fresh) + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(fresh); lo += chunk {
		hi := min(lo+chunk, len(fresh))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				entries[i] = c.derive(fresh[i])
			}
		})
	}
	wg.Wait()
	for i, p := range fresh {
		c.pods[p] = entries[i]
	}
}

// workload returns the workload e's pod belongs to; ok is false when it
// belongs to none shown (a bare pod, a Job's, an orphaned ReplicaSet's).
func (e *podEntry) workload(rsOwner map[workloadID]string) (id workloadID, ok bool) {
	switch e.owner.kind {
	case "":
		return id, false
	case "ReplicaSet":
		dep, ok := rsOwner[e.owner]
		return workloadID{e.owner.namespace, dep, "Deployment"}, ok
	}
	return e.owner, true
}

// end forgets pods no longer cached and keeps the workloads shown.
func (c *PodCache) end(shown map[workloadID]*workloadPods) {
	for p, e := range c.pods {
		if e.seen != c.epoch {
			delete(c.pods, p)
		}
	}
	c.byOwner = shown
}

// group returns a workload's pods in name order with their facts and infos,
// reusing the last build's when the workload's pods are the same ones.
func (c *PodCache) group(id workloadID, entries []*podEntry) *workloadPods {
	slices.SortFunc(entries, func(a, b *podEntry) int { return strings.Compare(a.info.Name, b.info.Name) })
	if prev := c.byOwner[id]; prev != nil && slices.Equal(prev.entries, entries) {
		return prev
	}
	w := &workloadPods{entries: entries, facts: make([]PodFacts, len(entries)), infos: make([]PodInfo, len(entries))}
	for i, e := range entries {
		w.facts[i], w.infos[i] = *e.facts, *e.info
		e.facts, e.info = &w.facts[i], &w.infos[i]
	}
	return w
}

// sameMap reports whether a and b are the same map (not equal contents).
func sameMap(a, b map[string]PodUsage) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
