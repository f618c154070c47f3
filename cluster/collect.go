package cluster

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// collect lists every synced cache into Objects and reports per-namespace
// status. It holds no lock while listing: informer stores are thread-safe.
func (s *Session) collect() (objs estate.Objects, nss []estate.NamespaceStatus, resources []estate.ResourceStatus, synced bool) {
	s.mu.Lock()
	watches, cluster := s.namespaces, s.cluster
	served, undiscovered := s.served, s.undiscovered
	s.mu.Unlock()
	synced = true
	denied := map[string][]string{}
	failing := map[string][]string{} // resource → its failing reasons, one per scope
	failingIn := map[string][]string{}
	all := watches
	if cluster != nil {
		all = append(append([]*nsWatch(nil), watches...), cluster)
	}
	for _, w := range all {
		st := estate.NamespaceStatus{Name: w.name, Synced: true}
		fails := w.failingNow()
		w.mu.Lock()
		refused := maps.Clone(w.denied)
		w.mu.Unlock()
		for key, inf := range w.informersNow() {
			if !inf.HasSynced() {
				// A failing or refused resource is reported as such ("list
				// failing", "no access"): it does not hold the rest of the
				// session in "syncing". (Refused after its informer started:
				// where the access reviews could not say, as for a user the
				// API does not let ask — system:anonymous.)
				if _, ok := fails[key]; !ok && !refused[key] {
					st.Synced = false
				}
				continue
			}
			appendObjects(&objs, key, inf.GetStore().List())
		}
		w.mu.Lock()
		st.Missing = w.missing
		for res, d := range w.denied {
			if d {
				st.Denied = append(st.Denied, res)
				denied[res] = append(denied[res], w.name)
			}
		}
		w.mu.Unlock()
		for res, reason := range fails {
			if !slices.Contains(failing[res], reason) {
				failing[res] = append(failing[res], reason)
			}
			if w.name != "" {
				failingIn[res] = append(failingIn[res], w.name)
			}
		}
		sort.Strings(st.Denied)
		synced = synced && st.Synced
		if w != cluster {
			nss = append(nss, st)
		}
	}
	for _, r := range watched {
		rs := estate.ResourceStatus{Resource: r.Key()}
		switch {
		case undiscovered[r.Key()] != "":
			rs.Access, rs.Reason = estate.AccessFailing, undiscovered[r.Key()]
		case r.Optional && served != nil && !served[r.Resource+"."+r.Group]:
			rs.Access, rs.Reason = estate.AccessNotInstalled, fmt.Sprintf("%s is not installed (no %s API)", r.Resource, r.Group)
		case len(denied[r.Key()]) > 0:
			rs.Access = estate.AccessDenied
			for _, ns := range denied[r.Key()] {
				if ns != "" {
					rs.Namespaces = append(rs.Namespaces, ns)
				}
			}
			sort.Strings(rs.Namespaces)
			rs.Reason = "list/watch of " + r.Key() + " refused"
		case len(failing[r.Key()]) > 0:
			rs.Access = estate.AccessFailing
			rs.Namespaces = failingIn[r.Key()]
			sort.Strings(rs.Namespaces)
			sort.Strings(failing[r.Key()])
			rs.Reason = strings.Join(failing[r.Key()], "; ")
		}
		resources = append(resources, rs)
	}
	sort.Slice(resources, func(i, j int) bool { return resources[i].Resource < resources[j].Resource })
	return objs, nss, resources, synced
}

// build lists every cache and derives a Snapshot.
func (s *Session) build() estate.Snapshot {
	began := time.Now()
	now := s.opts.Now()
	objs, nss, resources, synced := s.collect()
	usage := s.usage.get()
	s.mu.Lock()
	installed := make(map[string]bool, len(s.installed))
	for k, v := range s.installed {
		installed[k] = v
	}
	nsNote := s.nsNote
	s.mu.Unlock()

	snap := estate.Snapshot{Context: s.opts.Context, Generation: s.opts.Generation, Taken: now, Synced: synced,
		Conn: s.conn.state(), Namespaces: nss, Resources: resources, Installed: installed, Usage: usage.Status}
	// During start-up a snapshot of caches that have not all listed says
	// only where the lists stand: a model of half of them would show
	// services without their pods, i.e. wrong health. After the start-up
	// grace, what has listed is shown (marked not synced).
	if synced || s.isStartedUp() {
		estate.Assemble(&snap, objs, estate.Extras{
			Usage: usage.Pods, Alerts: s.alerts.get(), AlertLabels: s.opts.Settings.AlertLabels,
			OOMKills: s.trackOOMs(objs.Pods, now), Pods: s.podCache,
		}, now)
	}
	if nsNote != "" {
		snap.Problems = append(snap.Problems, nsNote)
	}
	snap.Problems = append(snap.Problems, Problems(snap.Namespaces)...)
	for _, r := range resources {
		if r.Access == estate.AccessDenied && len(r.Namespaces) == 0 {
			snap.Problems = append(snap.Problems, "no access to "+r.Resource)
		}
		if r.Access == estate.AccessFailing {
			snap.Problems = append(snap.Problems, r.Resource+" unknown: "+r.Reason)
		}
	}
	snap.Problems = append(snap.Problems, estate.AlertProblems(snap.Alerts)...)
	snap.BuildDuration = time.Since(began)
	if synced || s.isStartedUp() {
		// After BuildDuration: an evaluation is not part of every build.
		snap.Findings = s.findingsFor(objs, resources, synced, now)
	}
	// Cluster, Prometheus and Argo CD text is data, never terminal control.
	termsafe.Scrub(&snap)
	return snap
}

// trackOOMs remembers OOM kills across builds (a container shows only its
// last termination) so health can say "OOMKilled 3× in 1h". Only the loop
// goroutine calls it.
func (s *Session) trackOOMs(pods []*corev1.Pod, now time.Time) map[string][]time.Time {
	if s.ooms == nil {
		s.ooms = map[string][]time.Time{}
	}
	recentOOMKills(pods, now, func(key string, at time.Time) {
		seen := s.ooms[key]
		if len(seen) == 0 || !seen[len(seen)-1].Equal(at) {
			s.ooms[key] = append(seen, at)
		}
	})
	for key, times := range s.ooms {
		i := 0
		for i < len(times) && now.Sub(times[i]) > time.Hour {
			i++
		}
		if i == len(times) {
			delete(s.ooms, key)
		} else {
			s.ooms[key] = times[i:]
		}
	}
	return s.ooms
}

// kindByKey finds a watched kind by its key ("deployments.apps").
var kindByKey = func() map[string]resource {
	m := make(map[string]resource, len(watched))
	for _, r := range watched {
		m[r.Key()] = r
	}
	return m
}()

// appendObjects adds a cache's items to their kind's slice in objs: the
// pointers the cache holds, not copies.
func appendObjects(objs *estate.Objects, key string, items []any) {
	k, ok := kindByKey[key]
	if !ok {
		return
	}
	for _, it := range items {
		k.Add(objs, it)
	}
}

// recentOOMKills calls seen with "namespace/pod/container" and the time for every container of
// pods whose last run, ended within the hour before now, was killed for running out of memory.
func recentOOMKills(pods []*corev1.Pod, now time.Time, seen func(key string, at time.Time)) {
	for _, p := range pods {
		for _, cs := range p.Status.ContainerStatuses {
			t := cs.LastTerminationState.Terminated
			if t == nil || t.Reason != "OOMKilled" || now.Sub(t.FinishedAt.Time) > time.Hour {
				continue
			}
			seen(p.Namespace+"/"+p.Name+"/"+cs.Name, t.FinishedAt.Time)
		}
	}
}
