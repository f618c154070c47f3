package cluster

import (
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vigil-k8s/vigil/checks"
)

// DefaultChecksInterval is how often, at most, a Session evaluates the
// check catalogue again when objects change.
const DefaultChecksInterval = 5 * time.Second

// Findings are the check catalogue's verdicts on the objects of one build,
// published with the snapshots that follow until the next evaluation. They
// are stamped with the session's context and generation, like the snapshot.
type Findings struct {
	Context    string
	Generation uint64
	// At is when the evaluated objects were collected (the Taken of the
	// snapshot that first carried them); zero before the first evaluation.
	At time.Time
	// Took is how long evaluating the catalogue took (a diagnostic).
	Took time.Duration
	// Synced is false when some caches had not listed yet, so the
	// findings may miss objects.
	Synced bool
	// Catalogue is the checks evaluated; Findings their verdicts.
	Catalogue []checks.Check
	Findings  []checks.Finding
}

// For returns the findings about the workload namespace/name (and its
// pods' controller).
func (f Findings) For(kind, namespace, name string) []checks.Finding {
	var out []checks.Finding
	for _, fd := range f.Findings {
		r := fd.Resource
		if r.Namespace == namespace && r.Name == name && (r.Kind == kind || r.Kind == "Deployment" || r.Kind == "StatefulSet") {
			out = append(out, fd)
		}
	}
	return out
}

// findingsState schedules a Session's evaluations: after a build whose
// objects changed, at most once per Options.ChecksInterval, from the
// objects the build already collected (the caches' own, never copied).
type findingsState struct {
	// changed is set by every informer event: objects changed since the
	// last evaluation.
	changed atomic.Bool

	// Guarded by Session.buildMu (only builds touch them).
	latest    Findings
	catalogue []checks.Check
	last      time.Time // wall time of the last evaluation
	rules     string    // the loaded alert rules it saw
	armed     bool      // a wake-up build is scheduled for when it is due
	took      time.Duration
}

// findingsFor returns the findings to publish with a build of objs: a new
// evaluation when objects (or Prometheus' loaded rules) changed and the
// interval since the last one has passed, else the last one. When a change
// waits for the interval, a build is scheduled for when it is due, so the
// findings follow a change within one interval. The caller holds buildMu.
func (s *Session) findingsFor(objs Objects, resources []ResourceStatus, synced bool, taken time.Time) Findings {
	st := &s.checks
	st.took = 0
	inv := s.inventoryOf(objs, resources)
	rules := strings.Join(inv.LoadedAlertRules, "\x00")
	first := st.latest.At.IsZero()
	changed := st.changed.Load() || rules != st.rules || (synced && !st.latest.Synced)
	if !first && !changed {
		return st.latest
	}
	if wait := s.opts.ChecksInterval - time.Since(st.last); !first && wait > 0 {
		if !st.armed {
			st.armed = true
			time.AfterFunc(wait, s.markDirty)
		}
		return st.latest
	}
	st.changed.Store(false)
	st.armed, st.rules, st.last = false, rules, time.Now()
	if st.catalogue == nil {
		st.catalogue = checks.Catalogue()
	}
	inv.SortObjects() // this build's own slices: the objects stay as cached
	fs := checks.Run(st.catalogue, &inv)
	st.took = time.Since(st.last)
	st.latest = Findings{Context: s.opts.Context, Generation: s.opts.Generation, At: taken, Took: st.took,
		Synced: synced, Catalogue: st.catalogue, Findings: slices.Clip(fs)}
	s.log.Debug("checks evaluated", "findings", len(fs), "took", st.took)
	return st.latest
}
