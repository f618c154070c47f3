package cluster

import (
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// DefaultChecksInterval is how often, at most, a Session evaluates the
// check catalogue again when objects change.
const DefaultChecksInterval = 5 * time.Second

// DefaultChecksSpacing is how many evaluation times pass between two
// evaluations at least, when that is longer than Options.ChecksInterval. An
// evaluation runs on every core (at 30k pods ~0.7 s, 1.4 s of CPU): one per
// ChecksInterval took 29 % of a core while pods changed, more than all else
// together. Spaced by 30 times their own time, evaluations take at most a
// fifteenth of a core on two, and the findings follow a change within about
// 20 s at 30k pods; at 10k (0.15-0.25 s) the interval is unchanged.
const DefaultChecksSpacing = 30

// checksDue is how long after the last evaluation, which took cost, the
// next may start: interval, or spacing times cost when that is longer.
func checksDue(interval time.Duration, spacing int, cost time.Duration) time.Duration {
	return max(interval, time.Duration(spacing)*cost)
}

// findingsState schedules a Session's evaluations: after a build whose
// objects changed, at most once per Options.ChecksInterval (or ChecksSpacing
// times the last evaluation's time, when longer), from the objects the
// build already collected (the caches' own, never copied).
type findingsState struct {
	// changed is set by every informer event: objects changed since the
	// last evaluation.
	changed atomic.Bool

	// Guarded by Session.buildMu (only builds touch them).
	latest    estate.Findings
	catalogue []checks.Check
	last      time.Time     // wall time of the last evaluation
	rules     string        // the loaded alert rules it saw
	armed     bool          // a wake-up build is scheduled for when it is due
	took      time.Duration // this build's evaluation, 0 when it did none
	cost      time.Duration // the last evaluation's time
	scrubbed  termsafe.Memo // the cached objects the last evaluation found terminal-safe
	// The first snapshot, and the first synced one, went out before the
	// evaluation of their objects.
	deferred, deferredSynced bool
}

// findingsFor returns the findings to publish with a build of objs: a new
// evaluation when objects (or Prometheus' loaded rules) changed and the
// interval since the last one (checksDue) has passed, else the last one.
// When a change waits for the interval, a build is scheduled for when it is
// due, so the findings follow a change within one interval. The caller
// holds buildMu.
func (s *Session) findingsFor(objs estate.Objects, resources []estate.ResourceStatus, synced bool, taken time.Time) estate.Findings {
	st := &s.checks
	st.took = 0
	first := st.latest.At.IsZero()
	if (first && !st.deferred) || (synced && !st.latest.Synced && !st.deferredSynced) {
		// The first snapshot, and the first complete one, go out with the
		// findings as they were and the next build evaluates: the screens
		// need not wait for the catalogue (250-400 ms at 10k pods, ~500 ms
		// at 30k). The Compliance screen says it is evaluating meanwhile.
		st.deferred, st.deferredSynced = true, synced
		s.markDirty()
		return st.latest
	}
	if !synced {
		// Caches still listing after the start-up grace: findings of part
		// of the objects would be replaced within moments, and an
		// evaluation holds the build loop (most of a second at 30k pods),
		// so the complete snapshot would wait for it. Evaluate once they
		// have all listed, or ChecksInterval past the grace if one never
		// does.
		if wait := time.Until(s.listsBound()); wait > 0 {
			if !st.armed {
				st.armed = true
				time.AfterFunc(wait, s.markDirty)
			}
			return st.latest
		}
	}
	inv := s.inventoryOf(objs, resources)
	rules := strings.Join(inv.LoadedAlertRules, "\x00")
	changed := st.changed.Load() || rules != st.rules || (synced && !st.latest.Synced)
	if !first && !changed {
		return st.latest
	}
	if wait := checksDue(s.opts.ChecksInterval, s.opts.ChecksSpacing, st.cost) - time.Since(st.last); !first && wait > 0 {
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
	st.cost = st.took
	st.latest = estate.Findings{Context: s.opts.Context, Generation: s.opts.Generation, At: taken, Took: st.took,
		Synced: synced, Catalogue: st.catalogue, Findings: slices.Clip(fs), Inventory: &inv}
	// Made terminal-safe here, once per evaluation, not with every snapshot
	// that carries it: the inventory holds every object evaluated (at 30k
	// pods, walking it was most of each build's time). The cached objects
	// found safe at the last evaluation and not replaced since are not
	// walked again: the walk was most of the evaluation's CPU.
	st.scrubbed.Scrub(&st.latest)
	s.log.Debug("checks evaluated", "findings", len(fs), "took", st.took)
	return st.latest
}
