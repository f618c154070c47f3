package cluster

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"
)

// A session's view of what it may and can watch is not fixed at start:
// every Rescan it asks discovery again, so a CRD installed after start is
// watched (an ExternalSecrets operator installed during an incident) and
// one removed stops being shown (its objects with it, as "not installed");
// and it tries the refused kinds again, each with its own backoff, so a
// role binding granted while vigil runs is picked up without a restart.
// A watch that answers 404 (its CRD went away) asks for a rescan at once.

// DefaultRescan is Options.Rescan's default.
const DefaultRescan = 30 * time.Second

// maxDeniedBackoff bounds the wait between two tries of a refused kind.
const maxDeniedBackoff = 5 * time.Minute

// retry is when a refused kind of a scope is tried again.
type retry struct {
	next  time.Time
	delay time.Duration
}

// informer returns w's informer of res, nil when it has none.
func (w *nsWatch) informer(res string) cache.SharedIndexInformer {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.informers[res]
}

// informersNow returns a copy of w's informers.
func (w *nsWatch) informersNow() map[string]cache.SharedIndexInformer {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]cache.SharedIndexInformer, len(w.informers))
	for k, v := range w.informers {
		out[k] = v
	}
	return out
}

// isDenied reports whether res was refused in w.
func (w *nsWatch) isDenied(res string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.denied[res]
}

// dueRetry reports whether a refused res is due to be tried again at now;
// the first try of a refusal is one rescan later.
func (w *nsWatch) dueRetry(res string, now time.Time, first time.Duration) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.retries == nil {
		w.retries = map[string]retry{}
	}
	r, ok := w.retries[res]
	if !ok {
		w.retries[res] = retry{next: now.Add(first), delay: first}
		return false
	}
	return !now.Before(r.next)
}

// backOff doubles the wait before res is tried again, up to maxDeniedBackoff.
func (w *nsWatch) backOff(res string, now time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.retries[res]
	r.delay = min(max(2*r.delay, time.Second), maxDeniedBackoff)
	r.next = now.Add(r.delay)
	w.retries[res] = r
	return r.delay
}

// grant forgets that res was refused in w.
func (w *nsWatch) grant(res string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.denied, res)
	delete(w.retries, res)
}

// park takes res's informer out of w (its kind is no longer served): the
// build no longer lists it. The informer cannot be stopped alone (its
// factory runs it until the session stops), so it is kept for the day the
// kind is served again.
func (w *nsWatch) park(res string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	inf, ok := w.informers[res]
	if !ok {
		return false
	}
	if w.parked == nil {
		w.parked = map[string]cache.SharedIndexInformer{}
	}
	w.parked[res] = inf
	delete(w.informers, res)
	delete(w.failing, res)
	return true
}

// unpark puts back res's parked informer, reporting whether there was one.
func (w *nsWatch) unpark(res string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	inf, ok := w.parked[res]
	if ok {
		w.informers[res] = inf
		delete(w.parked, res)
	}
	return ok
}

// rescanNow asks the rescan loop for a pass at once; asks made while one
// is pending are one.
func (s *Session) rescanNow() {
	select {
	case s.rescanAsk <- struct{}{}:
	default:
	}
}

// rescanLoop runs rescan every Options.Rescan and when asked.
func (s *Session) rescanLoop(ctx context.Context) {
	t := time.NewTicker(s.opts.Rescan)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.rescanAsk:
		}
		if s.rescan(ctx) {
			s.markDirty()
		}
	}
}

// rescan asks discovery again, parks the informers of kinds no longer
// served, and starts those of kinds now served or, when due, no longer
// refused. It reports whether anything changed.
func (s *Session) rescan(ctx context.Context) bool {
	if !s.conn.state().Connected {
		return false // the heartbeat says why; discovery would fail alike
	}
	s.discover()
	s.mu.Lock()
	all := append([]*nsWatch(nil), s.namespaces...)
	if s.cluster != nil {
		all = append(all, s.cluster)
	}
	s.mu.Unlock()
	changed := false
	now := s.opts.Now()
	for _, w := range all {
		if w == nil {
			continue
		}
		started := false
		for _, r := range watched {
			if !s.inScope(r, w.name) {
				continue
			}
			key := r.Key()
			served := !r.Optional || s.isServed(r)
			if w.informer(key) != nil {
				if !served && w.park(key) {
					s.log.Info("kind no longer served; not watched", "namespace", w.name, "resource", key)
					changed = true
				}
				continue
			}
			if !served {
				continue
			}
			if w.isDenied(key) {
				if !w.dueRetry(key, now, s.opts.Rescan) {
					continue
				}
				if !s.mayListNow(ctx, w.name, r) {
					d := w.backOff(key, now)
					s.log.Debug("still refused", "namespace", w.name, "resource", key, "next try in", d)
					continue
				}
				// Answers cached before the grant are stale.
				s.access.forget()
				w.grant(key)
				s.log.Info("access granted; watching", "namespace", w.name, "resource", key)
			} else if !s.allowed(ctx, readNamespace(r, w.name), r) {
				w.deny(key)
				changed = true
				continue
			}
			if w.unpark(key) || s.addInformer(w, r) {
				s.log.Info("watching", "namespace", w.name, "resource", key)
				started, changed = true, true
			}
		}
		if started {
			w.start(ctx.Done())
		}
	}
	return changed
}

// mayListNow asks the API server, not the caches, whether a refused kind
// may now be listed in ns: one LIST of one object's metadata, which the
// authorizer answers as it would the informer's.
func (s *Session) mayListNow(ctx context.Context, ns string, r resource) bool {
	if s.meta == nil {
		return false
	}
	ctx, cancel := s.request(ctx)
	defer cancel()
	err := s.listOne(ctx, r, readNamespace(r, ns))
	if err != nil && !apierrors.IsForbidden(err) {
		s.log.Debug("refused kind: try inconclusive", "namespace", ns, "resource", r.Key(), "err", err)
	}
	return err == nil
}

// forget drops every cached access answer and rules review.
func (c *accessCache) forget() {
	c.reviews.Forget()
	c.mu.Lock()
	c.rules = nil
	c.mu.Unlock()
}
