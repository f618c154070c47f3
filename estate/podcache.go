package estate

import (
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

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
	usage   PodUsages
	pods    map[*corev1.Pod]*podEntry
	byOwner map[workloadID]*workloadPods // the pods of each workload at the last build
	loose   []*podEntry                  // the last build's pods of no workload
	rsOwner map[workloadID]string        // the last build's ReplicaSet → Deployment
}

// workloadID names a workload without building a string per pod.
type workloadID struct{ namespace, name, kind string }

// podEntry is one pod's derived values. facts and info point into the
// workloadPods that last showed the pod, so an unchanged pod costs no copy;
// they are nil until a workload shows it.
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

// newEntry is p's entry with its workload owner. Its facts and info are
// derived when it is first grouped into a workload (newWorkloadPods),
// straight into that workload's slices; a pod of no workload shown is
// never derived, as nothing reads its values.
func newEntry(p *corev1.Pod) *podEntry {
	e := &podEntry{}
	e.init(p)
	return e
}

func (e *podEntry) init(p *corev1.Pod) {
	e.pod = p
	if ref := metav1.GetControllerOfNoCopy(p); ref != nil {
		switch ref.Kind {
		case "ReplicaSet", "StatefulSet", "DaemonSet":
			e.owner = workloadID{p.Namespace, ref.Name, ref.Kind}
		}
	}
}

// forget removes e, whose pod is gone or replaced, from the cache. It is
// cleared too: entries made together share one allocation (fresh), and
// one still in use must not keep the others' pods and workloads alive.
func (c *PodCache) forget(e *podEntry) {
	delete(c.pods, e.pod)
	*e = podEntry{}
}

// parallelDerive is how many pods a build must derive before it derives
// them on every core: the first build, and the first after each usage poll,
// derive every pod; the builds between them a few.
const parallelDerive = 2000

// build returns the pods of every workload shown, by workload, for a build
// of pods with the given usage figures and ReplicaSet owners. A workload
// whose pods are the same objects as at the last build keeps its
// workloadPods as they were, unsorted and uncopied; only the workloads with
// a pod new, changed or gone are grouped again. Equal to grouping every pod
// afresh (TestPodCacheEqualsAFreshOne).
func (c *PodCache) build(pods []*corev1.Pod, usage PodUsages, rsOwner map[workloadID]string) map[workloadID]*workloadPods {
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

	var changed map[workloadID][]*podEntry
	var loose []*podEntry
	var entries []*podEntry
	if len(c.pods) == 0 {
		changed, loose = c.fresh(pods, rsOwner)
	} else {
		changed, entries = map[workloadID][]*podEntry{}, c.entries(pods)
	}
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
	var regroup []group // the workloads grouped again, with their pods
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
				c.forget(e) // gone, or replaced by a new object
			}
		}
		if len(add) > 0 {
			regroup = append(regroup, group{id: id, entries: add})
		}
		delete(changed, id)
	}
	for id, add := range changed {
		regroup = append(regroup, group{id: id, entries: add})
	}
	c.group(regroup)
	for _, g := range regroup {
		shown[g.id] = g.pods
	}
	for _, e := range c.loose {
		if e.seen != c.epoch {
			c.forget(e)
		}
	}
	c.byOwner, c.loose = shown, loose
	return shown
}

// entries returns the entry of every pod, new ones for the pods not seen
// at the last build.
func (c *PodCache) entries(pods []*corev1.Pod) []*podEntry {
	entries := make([]*podEntry, len(pods))
	for i, p := range pods {
		if entries[i] = c.pods[p]; entries[i] == nil {
			entries[i] = newEntry(p)
			c.pods[p] = entries[i]
		}
	}
	return entries
}

// fresh makes the entries of a cache that has none (the first build, the
// first after a usage poll) and places them as build's loop does: every
// pod is new, so there is nothing to look up or keep. The entries are made
// in one allocation, and on every core when there are many: each part of
// pods placed apart, then the parts joined. The allocation lives while one
// of its entries does (forget clears the others): at most an entry's 96
// bytes per pod of that build, until the next usage poll.
func (c *PodCache) fresh(pods []*corev1.Pod, rsOwner map[workloadID]string) (changed map[workloadID][]*podEntry, loose []*podEntry) {
	slab := make([]podEntry, len(pods))
	parts := 1
	if workers := runtime.GOMAXPROCS(0); len(pods) >= parallelDerive && workers > 1 {
		parts = workers
	}
	// The pods of each part by owner (one map lookup a pod); then each
	// owner's workload, once an owner.
	out := make([]map[workloadID][]*podEntry, parts)
	place := func(part int) {
		lo, hi := len(pods)*part/parts, len(pods)*(part+1)/parts
		byOwner := map[workloadID][]*podEntry{}
		for i := lo; i < hi; i++ {
			e := &slab[i]
			e.init(pods[i])
			e.seen = c.epoch
			byOwner[e.owner] = append(byOwner[e.owner], e)
		}
		out[part] = byOwner
	}
	var wg sync.WaitGroup
	for part := 1; part < parts; part++ {
		wg.Go(func() { place(part) })
	}
	place(0)
	c.pods = make(map[*corev1.Pod]*podEntry, len(pods))
	for i, p := range pods { // while the other parts are placed
		c.pods[p] = &slab[i]
	}
	wg.Wait()
	changed = make(map[workloadID][]*podEntry, len(out[0]))
	for _, byOwner := range out {
		for _, es := range byOwner {
			if id, ok := es[0].workload(rsOwner); ok {
				changed[id] = append(changed[id], es...)
			} else {
				loose = append(loose, es...)
			}
		}
	}
	return changed, loose
}

// group is a workload to group again, and its pods.
type group struct {
	id      workloadID
	entries []*podEntry
	pods    *workloadPods
}

// group groups each workload of gs (newWorkloadPods), on every core when
// they have at least parallelDerive pods to derive between them. Each
// writes only its own workloadPods and entries; the cache is only read.
func (c *PodCache) group(gs []group) {
	fresh := 0
	for _, g := range gs {
		for _, e := range g.entries {
			if e.facts == nil {
				fresh++
			}
		}
	}
	workers := runtime.GOMAXPROCS(0)
	if fresh < parallelDerive || workers < 2 {
		for i := range gs {
			gs[i].pods = c.newWorkloadPods(gs[i].entries)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(gs); i = int(next.Add(1) - 1) {
				gs[i].pods = c.newWorkloadPods(gs[i].entries)
			}
		})
	}
	wg.Wait()
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

// newWorkloadPods groups a workload's pods in name order with their facts
// and infos, which the entries then point at, and their sums: a pod
// derived before is copied, a new one derived in place.
func (c *PodCache) newWorkloadPods(entries []*podEntry) *workloadPods {
	slices.SortFunc(entries, func(a, b *podEntry) int { return strings.Compare(a.pod.Name, b.pod.Name) })
	w := &workloadPods{entries: entries, facts: make([]PodFacts, len(entries)), infos: make([]PodInfo, len(entries))}
	for i, e := range entries {
		if e.facts != nil {
			w.facts[i], w.infos[i] = *e.facts, *e.info
		} else {
			w.facts[i] = PodFactsOf(e.pod)
			w.infos[i] = podInfo(e.pod, w.facts[i], c.usage)
		}
		e.facts, e.info, e.group = &w.facts[i], &w.infos[i], w
		w.restarts += w.infos[i].Restarts
	}
	w.usage, w.usagePods = ServiceUsage(w.infos)
	return w
}

// sameMap reports whether a and b are the same map (not equal contents).
func sameMap(a, b PodUsages) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
