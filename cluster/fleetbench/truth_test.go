package fleetbench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
)

// workload is one Deployment or StatefulSet as the API returns it, reduced
// to what the fleet row counts.
type workload struct {
	desired, ready, updated int32
	generation, observed    int64
}

// truth is a context's Deployments and StatefulSets of the watched
// namespaces, listed by a plain typed client-go clientset (JSON, one
// request per kind and namespace): the expectation the fleet row is held
// to, computed without vigil's code.
type truth struct {
	byKey map[string]workload // "namespace/Kind/name"
}

// listTruth lists a context's workloads with client-go's typed clientset.
func listTruth(ctx context.Context, name string) (truth, error) {
	cs, err := typedClient(name)
	if err != nil {
		return truth{}, err
	}
	t := truth{byKey: map[string]workload{}}
	replicas := func(r *int32) int32 {
		if r == nil {
			return 1
		}
		return *r
	}
	for _, ns := range config.DefaultNamespaces {
		ds, dErr := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if dErr != nil {
			return truth{}, fmt.Errorf("%s: deployments in %s: %w", name, ns, dErr)
		}
		for _, d := range ds.Items {
			t.byKey[ns+"/Deployment/"+d.Name] = workload{replicas(d.Spec.Replicas), d.Status.ReadyReplicas, d.Status.UpdatedReplicas, d.Generation, d.Status.ObservedGeneration}
		}
		ss, sErr := cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
		if sErr != nil {
			return truth{}, fmt.Errorf("%s: statefulsets in %s: %w", name, ns, sErr)
		}
		for _, s := range ss.Items {
			t.byKey[ns+"/StatefulSet/"+s.Name] = workload{replicas(s.Spec.Replicas), s.Status.ReadyReplicas, s.Status.UpdatedReplicas, s.Generation, s.Status.ObservedGeneration}
		}
	}
	return t, nil
}

// typedClient is a plain typed clientset of a context (JSON).
func typedClient(name string) (kubernetes.Interface, error) {
	cfg, err := lc.RESTConfig(name)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// counts are what a fleet row can be held to from the objects alone:
// services = Deployments + StatefulSets; down = those whose controller has
// reported, that want pods and have none ready (estate.DeriveHealth's Down,
// whatever their pods say); fullyReady = ready == desired, all updated, spec
// observed — the only ones that can be OK; ready and desired summed, for
// the printout.
type counts struct {
	services, down, fullyReady int
	ready, desired             int32
}

func (t truth) counts() counts {
	var c counts
	for _, w := range t.byKey {
		c.services++
		c.ready += w.ready
		c.desired += w.desired
		reported := w.generation == 0 || w.observed > 0
		if reported && w.desired > 0 && w.ready == 0 {
			c.down++
		}
		if w.ready == w.desired && w.updated >= w.desired && w.observed >= w.generation {
			c.fullyReady++
		}
	}
	return c
}

// checkEntry holds one Contexts-screen row to the typed LIST of the same
// context; it returns what differs, empty when nothing does.
func checkEntry(e estate.FleetEntry, want counts) []string {
	var bad []string
	if e.Err != "" || !e.Reachable {
		bad = append(bad, fmt.Sprintf("not complete: reachable=%v err=%q", e.Reachable, e.Err))
	}
	if e.Services != want.services {
		bad = append(bad, fmt.Sprintf("services %d, the LIST has %d Deployments+StatefulSets", e.Services, want.services))
	}
	if sum := e.OK + e.Progressing + e.Degraded + e.Down + e.Unknown; sum != e.Services {
		bad = append(bad, fmt.Sprintf("health counts sum to %d of %d services", sum, e.Services))
	}
	if e.Down != want.down {
		bad = append(bad, fmt.Sprintf("down %d, the LIST has %d wanting pods with none ready", e.Down, want.down))
	}
	if e.OK > want.fullyReady {
		bad = append(bad, fmt.Sprintf("OK %d, but only %d are fully ready in the LIST", e.OK, want.fullyReady))
	}
	return bad
}

// checkServices holds a snapshot's services' ready/desired, one by one, to
// the typed LIST: the snapshot the fleet row of a context is derived from
// (cluster.FleetSnapshot for a LIST row, the session's for the current one).
func checkServices(services []estate.Service, t truth) []string {
	var bad []string
	seen := map[string]bool{}
	for _, s := range services {
		key := s.Namespace + "/" + s.Kind + "/" + s.Name
		seen[key] = true
		w, ok := t.byKey[key]
		switch {
		case !ok:
			bad = append(bad, key+": not in the LIST")
		case s.Ready != w.ready || s.Desired != w.desired:
			bad = append(bad, fmt.Sprintf("%s: %d/%d ready, the LIST says %d/%d", key, s.Ready, s.Desired, w.ready, w.desired))
		}
	}
	for key := range t.byKey {
		if !seen[key] {
			bad = append(bad, key+": in the LIST, not in the snapshot")
		}
	}
	slices.Sort(bad)
	return bad
}

// verifyFleet holds every row of a summary to its context's typed LIST
// (b.Fatal on any difference) and checks the rows are exactly the
// kubeconfig's contexts, the current one from the session. It returns the
// LIST counts by context for the printout.
func verifyFleet(b *testing.B, sum estate.FleetSummary, contexts []string, current string) map[string]counts {
	b.Helper()
	var got []string
	for _, e := range sum.Entries {
		got = append(got, e.Context)
	}
	if !slices.Equal(got, contexts) {
		b.Fatalf("fleet rows %v, want the kubeconfig's contexts %v", got, contexts)
	}
	out := map[string]counts{}
	var bad []string
	for _, e := range sum.Entries {
		t, err := listTruth(b.Context(), e.Context)
		if err != nil {
			b.Fatal(err)
		}
		want := t.counts()
		out[e.Context] = want
		wantSource := estate.FleetFromList
		if e.Context == current {
			wantSource = estate.FleetFromSession
		}
		if e.Source != wantSource {
			bad = append(bad, fmt.Sprintf("%s: source %q, want %q", e.Context, e.Source, wantSource))
		}
		for _, s := range checkEntry(e, want) {
			bad = append(bad, e.Context+": "+s)
		}
	}
	if len(bad) > 0 {
		b.Fatalf("the Contexts screen's rows differ from client-go's typed LISTs:\n  %s", strings.Join(bad, "\n  "))
	}
	return out
}

// verifyReadyDesired holds, per service, the ready/desired of the
// snapshots the rows are derived from to each context's typed LIST: the
// session's latest for the current context, cluster.FleetSnapshot (what
// Manager.Fleet calls per LIST row) for the others.
func verifyReadyDesired(b *testing.B, mgr *cluster.Manager, contexts []string) {
	b.Helper()
	current, _ := mgr.Current()
	var bad []string
	for _, name := range contexts {
		t, err := listTruth(b.Context(), name)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range checkServices(derivedServices(b, mgr, name, current), t) {
			bad = append(bad, name+": "+s)
		}
	}
	if len(bad) > 0 {
		b.Fatalf("services' ready/desired differ from client-go's typed LISTs:\n  %s", strings.Join(bad, "\n  "))
	}
}

// derivedServices are the services of the snapshot a context's row is
// derived from: the session's latest for the current context, a
// cluster.FleetSnapshot (what Manager.Fleet calls per LIST row) otherwise.
func derivedServices(b *testing.B, mgr *cluster.Manager, name, current string) []estate.Service {
	b.Helper()
	if name == current {
		snap, ok := mgr.Session().Latest()
		if !ok {
			b.Fatalf("%s: the session has no snapshot", name)
		}
		return snap.Services
	}
	cfg, err := lc.RESTConfig(name)
	if err != nil {
		b.Fatal(err)
	}
	snap, err := cluster.FleetSnapshot(b.Context(), cfg, config.Default().For(name))
	if err != nil {
		b.Fatalf("%s: FleetSnapshot: %v", name, err)
	}
	return snap.Services
}
