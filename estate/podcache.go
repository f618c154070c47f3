package estate

import (
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodCache remembers, between builds, what each pod contributes to a
// snapshot, so a build derives only the pods that changed and regroups only
// the workloads whose pods changed. It is keyed by the cached object itself:
// an informer replaces an object on every change and never modifies one in
// place, so the same pointer means the same facts. Values also depend on
// the usage figures; a new usage poll (a new map) derives every pod again.
// A PodCache belongs to one builder at a time (the Session holds it under
// buildMu).
type PodCache struct {
	epoch   uint64
	usage   map[string]PodUsage
	pods    map[*corev1.Pod]*podEntry
	byOwner map[workloadID]*workloadPods // the pods of each workload at the last build
	loose   []*podEntry                  // the last build's pods of no workload
	rsOwner map[workloadID]string        // the last build's ReplicaSet → Deployment
}

// workloadID names a workload without building a string per pod.
type workloadID struct{ namespace, name, kind string }

// podEntry is one pod's derived values. facts and info point either at
// values of their own (a pod new since the last build) or into the
// workloadPods that last showed the pod, so an unchanged pod costs no copy.
type podEntry struct {
	pod   *corev1.Pod
	seen  uint64 // epoch of the last build that saw the pod
	kept  uint64 // epoch of the last build that found it in group unchanged
	owner workloadID
	facts *PodFacts
	info  *PodInfo
	group *workloadPods // the workload that showed it at the last build, if any
}

// workloadPods are one workload's pods in name order, with the facts and
// infos built from them and their sums; the slices are shared by the
// snapshots that show the same pods, and never written after a build
// returns.
type workloadPods struct {
	entries   []*podEntry
	facts     []PodFacts
	infos     []PodInfo
	restarts  int32
	usage     Usage
	usagePods int

	// This build's count of its entries found unchanged (kept).
	keptEpoch uint64
	kept      int
}

func NewPodCache() *PodCache {
	return &PodCache{pods: map[*corev1.Pod]*podEntry{}, byOwner: map[workloadID]*workloadPods{}}
}

// derive computes p's entry. It only reads the cache, so several may run at once.
func (c *PodCache) derive(p *corev1.Pod) *podEntry {
	f := PodFactsOf(p)
	info := podInfo(p, f, c.usage)
	e := &podEntry{pod: p, facts: &f, info: &info}
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

// build returns the pods of every workload shown, by workload, for a build
// of pods with the given usage figures and ReplicaSet owners. A workload
// whose pods are the same objects as at the last build keeps its
// workloadPods as they were, unsorted and uncopied; only the workloads with
// a pod new, changed or gone are grouped again. Equal to grouping every pod
// afresh (TestPodCacheEqualsAFreshOne).
func (c *PodCache) build(pods []*corev1.Pod, usage map[string]PodUsage, rsOwner map[workloadID]string) map[workloadID]*workloadPods {
	c.epoch++
	if !sameMap(c.usage, usage) {
		// usage is part of every PodInfo: derive all again
		clear(c.pods)
		c.byOwner, c.loose = map[workloadID]*workloadPods{}, nil
		c.usage = usage
	}
	// With a ReplicaSet adopted, orphaned or gone, a pod's workload may have
	// changed without the pod: then the pods of ReplicaSets are placed again.
	ownersSame := maps.Equal(c.rsOwner, rsOwner)
	c.rsOwner = rsOwner

	entries := c.entries(pods)
	changed := map[workloadID][]*podEntry{}
	var loose []*podEntry
	for _, e := range entries {
		e.seen = c.epoch
		if g := e.group; g != nil && (ownersSame || e.owner.kind != "ReplicaSet") {
			if g.keptEpoch != c.epoch {
				g.keptEpoch, g.kept = c.epoch, 0
			}
			g.kept++
			e.kept = c.epoch
			continue
		}
		if id, ok := e.workload(rsOwner); ok {
			changed[id] = append(changed[id], e)
		} else {
			e.group = nil
			loose = append(loose, e)
		}
	}

	shown := make(map[workloadID]*workloadPods, len(c.byOwner)+len(changed))
	for id, prev := range c.byOwner {
		kept := 0
		if prev.keptEpoch == c.epoch {
			kept = prev.kept
		}
		add := changed[id]
		if kept == len(prev.entries) && len(add) == 0 {
			shown[id] = prev
			continue
		}
		for _, e := range prev.entries {
			switch {
			case e.kept == c.epoch:
				add = append(add, e)
			case e.seen != c.epoch:
				delete(c.pods, e.pod) // gone, or replaced by a new object
			}
		}
		if len(add) > 0 {
			shown[id] = newWorkloadPods(add)
		}
		delete(changed, id)
	}
	for id, add := range changed {
		shown[id] = newWorkloadPods(add)
	}
	for _, e := range c.loose {
		if e.seen != c.epoch {
			delete(c.pods, e.pod)
		}
	}
	c.byOwner, c.loose = shown, loose
	return shown
}

// entries returns the entry of every pod, deriving the new ones, on every
// core when there are at least parallelDerive of them.
func (c *PodCache) entries(pods []*corev1.Pod) []*podEntry {
	entries := make([]*podEntry, len(pods))
	var fresh []int
	for i, p := range pods {
		if entries[i] = c.pods[p]; entries[i] == nil {
			fresh = append(fresh, i)
		}
	}
	workers := runtime.GOMAXPROCS(0)
	if len(fresh) < parallelDerive || workers < 2 {
		workers = 1
	}
	chunk := (len(fresh) + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(fresh); lo += chunk {
		hi := min(lo+chunk, len(fresh))
		wg.Go(func() {
			for _, i := range fresh[lo:hi] {
				entries[i] = c.derive(pods[i])
			}
		})
	}
	wg.Wait()
	for _, i := range fresh {
		c.pods[pods[i]] = entries[i]
	}
	return entries
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

// newWorkloadPods groups a workload's pods in name order with copies of
// their facts and infos, which the entries then point at, and their sums.
func newWorkloadPods(entries []*podEntry) *workloadPods {
	slices.SortFunc(entries, func(a, b *podEntry) int { return strings.Compare(a.info.Name, b.info.Name) })
	w := &workloadPods{entries: entries, facts: make([]PodFacts, len(entries)), infos: make([]PodInfo, len(entries))}
	for i, e := range entries {
		w.facts[i], w.infos[i] = *e.facts, *e.info
		e.facts, e.info, e.group = &w.facts[i], &w.infos[i], w
		w.restarts += w.infos[i].Restarts
	}
	w.usage, w.usagePods = ServiceUsage(w.infos)
	return w
}

// sameMap reports whether a and b are the same map (not equal contents).
func sameMap(a, b map[string]PodUsage) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
