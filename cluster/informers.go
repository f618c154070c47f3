package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	vpainformers "k8s.io/autoscaler/vertical-pod-autoscaler/pkg/client/informers/externalversions"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
)

// nsWatch is the informers of one namespace, or of the cluster scope (name
// "": cluster-scoped resources and all-namespaces ones).
type nsWatch struct {
	name string
	// factories; nil when the client family is not available.
	factory informers.SharedInformerFactory
	// filtered are the typed factories of kinds watched with a selector
	// (Warning events) or in a namespace of their own (targeted readings),
	// by "namespace|field selector|label selector".
	filtered map[string]informers.SharedInformerFactory
	meta     metadatainformer.SharedInformerFactory
	dyn      dynamicinformer.DynamicSharedInformerFactory
	vpa      vpainformers.SharedInformerFactory
	// informers maps resource key to its informer; denied or not installed
	// resources have none. A rescan adds and parks informers at run time.
	informers map[string]cache.SharedIndexInformer
	// parked are the informers of kinds no longer served (rescan.go).
	parked map[string]cache.SharedIndexInformer

	mu      sync.Mutex // guards informers, parked, missing, denied, retries and failing, which change at run time
	missing bool
	denied  map[string]bool
	// retries says when each refused kind is tried again (rescan.go).
	retries map[string]retry
	// setup serialises setting informers up: a factory's maps are not
	// safe for concurrent ForResource/InformerFor.
	setup sync.Mutex
	// failing maps a resource whose list or watch failed for another
	// reason than a refusal (a broken aggregated API: 503) to that reason,
	// until the resource is read again.
	failing map[string]string
}

// fail records why res cannot be listed and reports whether that is news.
func (w *nsWatch) fail(res, reason string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failing[res] == reason {
		return false
	}
	if w.failing == nil {
		w.failing = map[string]string{}
	}
	w.failing[res] = reason
	return true
}

// recovered forgets that res failed and reports whether it had.
func (w *nsWatch) recovered(res string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.failing[res]; !ok {
		return false
	}
	delete(w.failing, res)
	return true
}

// failingNow returns a copy of the failing resources and their reasons.
func (w *nsWatch) failingNow() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.failing)
}

func (w *nsWatch) isMissing() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.missing
}

// deny records that the API server refused a resource, so the UI can say
// "no access to X" instead of showing an empty list as if it were true.
func (w *nsWatch) deny(res string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.denied[res] {
		return false
	}
	w.denied[res] = true
	return true
}

func (w *nsWatch) start(stop <-chan struct{}) {
	w.factory.Start(stop)
	for _, f := range w.filtered {
		f.Start(stop)
	}
	if w.meta != nil {
		w.meta.Start(stop)
	}
	if w.dyn != nil {
		w.dyn.Start(stop)
	}
	if w.vpa != nil {
		w.vpa.Start(stop)
	}
}

func (w *nsWatch) shutdown() {
	w.factory.Shutdown()
	for _, f := range w.filtered {
		f.Shutdown()
	}
	if w.meta != nil {
		w.meta.Shutdown()
	}
	if w.dyn != nil {
		w.dyn.Shutdown()
	}
	if w.vpa != nil {
		w.vpa.Shutdown()
	}
}

// startInformers looks the optional resources up in discovery, sets up one
// watch per namespace plus the cluster scope and starts each as soon as it
// is set up. The requests that gate a start — discovery, each namespace's
// existence check and rules review, the cluster scope's access reviews —
// run concurrently, so start-up pays for about one round trip before the
// informers list.
func (s *Session) startInformers(ctx context.Context, begun time.Time, namespaces []string) (cluster *nsWatch, watches []*nsWatch) {
	var discovered sync.WaitGroup
	discovered.Go(func() {
		s.discover()
		s.log.Debug("start-up: discovery done", "after", time.Since(begun))
	})
	// The access reviews of the cluster scope's resources (cluster-scoped
	// ones, those read in every namespace, the targeted readings in
	// kube-system) are asked at once too, list and watch in parallel,
	// whether or not the resource is installed: a review of a missing CRD
	// costs less than waiting.
	var wide sync.WaitGroup
	for _, r := range watched {
		switch r.Scope {
		case checks.Namespaced:
		case checks.InNamespace:
			wide.Go(func() { s.rulesReview(ctx, r.Namespace) })
		default:
			wide.Go(func() { s.Allowed(ctx, "list", r.Group, r.Resource, "") })
			wide.Go(func() { s.Allowed(ctx, "watch", r.Group, r.Resource, "") })
		}
	}
	watches = make([]*nsWatch, len(namespaces))
	// Built-in resources need no discovery: their informers start as soon
	// as access is known; the optional ones (CRDs) follow discovery.
	setup := func(w *nsWatch) {
		if w.name == "" {
			wide.Wait()
		}
		s.addResources(ctx, w, false)
		w.start(ctx.Done())
		s.log.Debug("start-up: built-in informers started", "namespace", w.name, "after", time.Since(begun))
		discovered.Wait()
		wide.Wait()
		s.addResources(ctx, w, true)
		w.start(ctx.Done())
	}
	var wg sync.WaitGroup
	for i, ns := range namespaces {
		wg.Go(func() {
			var pre sync.WaitGroup
			missing := make(chan bool, 1)
			pre.Go(func() { missing <- s.namespaceMissing(ctx, ns) })
			pre.Go(func() { s.rulesReview(ctx, ns) })
			pre.Wait()
			w := s.newScope(ns)
			w.missing = <-missing
			setup(w)
			watches[i] = w
		})
	}
	wg.Go(func() {
		cluster = s.newScope("")
		setup(cluster)
	})
	wg.Wait()
	return cluster, watches
}

// discover records which optional resources and API groups the server
// serves. It asks only for the group versions vigil watches (one small
// request each, in parallel) rather than for the whole discovery document,
// which is large on clusters with many CRDs and slow to get while the
// informers list. A group version that cannot be asked about (other than
// "not found": a broken aggregated API answers 503) leaves its group's
// installation unknown and its resources failing with the reason.
func (s *Session) discover() {
	versions := map[string]bool{"metrics.k8s.io/v1beta1": true} // polled, not watched
	for _, r := range watched {
		if r.Optional {
			versions[r.Group+"/"+r.Version] = true
		}
	}
	type answer struct {
		gv        string
		resources []string
		known     bool
		reason    string // why the group version could not be asked about
	}
	answers := make(chan answer, len(versions))
	for gv := range versions {
		go func() {
			list, err := s.discovery.ServerResourcesForGroupVersion(gv)
			a := answer{gv: gv, known: err == nil || apierrors.IsNotFound(err)}
			if err != nil && !a.known {
				a.reason = Explain(err)
				s.log.Warn("discovery failed; its resources are unknown", "groupVersion", gv, "err", err)
			}
			if list != nil {
				for _, r := range list.APIResources {
					if !strings.Contains(r.Name, "/") {
						a.resources = append(a.resources, r.Name)
					}
				}
			}
			answers <- a
		}()
	}
	served := map[string]bool{}
	installed := map[string]bool{}
	unknown := map[string]bool{}
	undiscovered := map[string]string{}
	for range versions {
		a := <-answers
		group, _, _ := strings.Cut(a.gv, "/")
		for _, r := range a.resources {
			served[r+"."+group] = true
		}
		if !a.known {
			// Neither served nor not installed: the kinds of a group
			// version that cannot be discovered are failing, with the
			// reason, and get no informer (its lists would fail alike).
			unknown[group] = true
			for _, r := range watched {
				if r.Group+"/"+r.Version == a.gv {
					undiscovered[r.Key()] = "discovery of " + a.gv + " failed: " + a.reason
				}
			}
		}
		installed[group] = installed[group] || len(a.resources) > 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.served = served
	s.undiscovered = undiscovered
	s.installed = map[string]bool{}
	for _, g := range optionalGroups {
		if !unknown[g] || installed[g] {
			s.installed[g] = installed[g]
		}
	}
}

// optionalGroups are the API groups Snapshot.Installed reports.
var optionalGroups = []string{"argoproj.io", "autoscaling.k8s.io", "external-secrets.io", "bitnami.com",
	"security.istio.io", "networking.istio.io", "monitoring.coreos.com", "metrics.k8s.io"}

// isServed reports whether discovery lists an optional resource; true
// before discovery ran.
func (s *Session) isServed(r resource) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.served == nil {
		return true
	}
	return s.served[r.Resource+"."+r.Group]
}

// newScope makes the (empty) watch of namespace ns, or of the cluster scope.
func (s *Session) newScope(ns string) *nsWatch {
	w := &nsWatch{
		name:      ns,
		factory:   informers.NewSharedInformerFactoryWithOptions(listThenWatch{s.client}, 0, informers.WithNamespace(ns), informers.WithTransform(s.slim.transform)),
		filtered:  map[string]informers.SharedInformerFactory{},
		informers: map[string]cache.SharedIndexInformer{},
		denied:    map[string]bool{},
	}
	if s.meta != nil {
		w.meta = metadatainformer.NewFilteredSharedInformerFactory(metadataListThenWatch{s.meta}, 0, ns, nil)
	}
	if s.dyn != nil {
		w.dyn = dynamicinformer.NewFilteredDynamicSharedInformerFactory(dynamicListThenWatch{s.dyn}, 0, ns, nil)
	}
	if s.vpa != nil {
		w.vpa = vpainformers.NewSharedInformerFactoryWithOptions(vpaListThenWatch{s.vpa}, 0, vpainformers.WithNamespace(ns))
	}
	return w
}

// addResources adds to w, before w is published to the build, the
// informers of the built-in resources or of the optional ones that its
// scope watches and the user may list and watch, and records the refused.
func (s *Session) addResources(ctx context.Context, w *nsWatch, optional bool) {
	ns := w.name
	var wg sync.WaitGroup
	for _, r := range watched {
		if r.Optional != optional || !s.inScope(r, ns) {
			continue
		}
		if r.Optional && !s.isServed(r) {
			continue // reported as "not installed" by build
		}
		wg.Go(func() {
			if !s.allowed(ctx, readNamespace(r, ns), r) {
				w.deny(r.Key())
				return
			}
			s.addInformer(w, r)
		})
	}
	wg.Wait()
}

// addInformer sets up r's informer in w (transform, error and event
// handlers) and records it; the caller starts w. It reports whether there
// is one (a client family may be missing).
func (s *Session) addInformer(w *nsWatch, r resource) bool {
	w.setup.Lock() // a factory's informers are set up one at a time
	defer w.setup.Unlock()
	inf := s.informerFor(w, r)
	if inf == nil {
		return false
	}
	// Errors here mean the informer already started, which cannot be
	// since this factory is new: log rather than fail the session.
	if err := inf.SetTransform(s.transformFor(r)); err != nil {
		s.log.Debug("set transform", "namespace", w.name, "resource", r.Key(), "err", err)
	}
	if err := inf.SetWatchErrorHandlerWithContext(s.watchErrorHandler(w, r.Key())); err != nil {
		s.log.Error("set watch error handler", "namespace", w.name, "resource", r.Key(), "err", err)
	}
	if _, err := inf.AddEventHandler(s.eventHandler(w, r.Key())); err != nil {
		s.log.Error("add event handler", "namespace", w.name, "resource", r.Key(), "err", err)
	}
	w.mu.Lock()
	w.informers[r.Key()] = inf
	w.mu.Unlock()
	return true
}

// transformFor is the transform of r's informer: the slimmer's, and for
// kinds read through the metadata API a typed object carrying the metadata
// alone (a Secret with no data), so the cache holds what Objects holds.
// It also marks the objects changed for the checks: a transform runs
// before the store changes, so a build that lists a new object always
// knows the objects changed (an event handler runs after, and may be late).
func (s *Session) transformFor(r resource) cache.TransformFunc {
	return func(obj any) (any, error) {
		s.checks.changed.Store(true)
		if m, ok := obj.(metav1.Object); ok && r.Scope == checks.InNamespace {
			// A targeted reading (the apiserver's mirror pod) is read for
			// what the slimmer drops (a pod's command): metadata only.
			slimMetaOf(m)
			return obj, nil
		}
		obj, err := s.slim.transform(obj)
		if m, ok := obj.(*metav1.PartialObjectMetadata); ok && err == nil && r.Source == checks.Metadata {
			return r.FromMetadata(m.ObjectMeta), nil
		}
		if r.Reading != "" {
			slimSecondReading(obj)
		}
		return obj, err
	}
}

// inScope says whether resource r is watched in scope ns ("" = cluster):
// namespaced resources in each watched namespace, every other scope (the
// cluster, all namespaces, a namespace of its own) in the cluster scope,
// as checks.Kinds declares and cluster.ListInventory lists.
func (s *Session) inScope(r resource, ns string) bool {
	return (r.Scope == checks.Namespaced) == (ns != "")
}

// readNamespace is where resource r is read from scope ns: its own
// namespace for a targeted reading, else the scope's.
func readNamespace(r resource, ns string) string {
	if r.Scope == checks.InNamespace {
		return r.Namespace
	}
	return ns
}

func (s *Session) informerFor(w *nsWatch, r resource) cache.SharedIndexInformer {
	switch r.Source {
	case checks.Typed:
		f := w.factory
		if ns := readNamespace(r, w.name); r.FieldSelector != "" || r.LabelSelector != "" || ns != w.name {
			key := ns + "|" + r.FieldSelector + "|" + r.LabelSelector
			if f = w.filtered[key]; f == nil {
				f = informers.NewSharedInformerFactoryWithOptions(listThenWatch{s.client}, 0, informers.WithNamespace(ns), informers.WithTransform(s.slim.transform),
					informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector, o.LabelSelector = r.FieldSelector, r.LabelSelector }))
				w.filtered[key] = f
			}
		}
		gi, err := f.ForResource(r.GVR())
		if err != nil {
			s.log.Error("no typed informer", "resource", r.Key(), "err", err)
			return nil
		}
		return gi.Informer()
	case checks.Metadata:
		if w.meta == nil {
			return nil
		}
		return w.meta.ForResource(r.GVR()).Informer()
	case checks.Dynamic:
		if w.dyn == nil {
			return nil
		}
		return w.dyn.ForResource(r.GVR()).Informer()
	case checks.VPA:
		if w.vpa == nil {
			return nil
		}
		gi, err := w.vpa.ForResource(r.GVR())
		if err != nil {
			s.log.Error("no VPA informer", "resource", r.Key(), "err", err)
			return nil
		}
		return gi.Informer()
	}
	return nil
}

// eventHandler is the handler of res's informer in w: every event is
// touch, and says res is read again if it was failing.
func (s *Session) eventHandler(w *nsWatch, res string) cache.ResourceEventHandlerFuncs {
	event := func() {
		if w.recovered(res) {
			s.log.Info("resource readable again", "namespace", w.name, "resource", res)
		}
		s.touch()
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { event() },
		UpdateFunc: func(any, any) { event() },
		DeleteFunc: func(any) { event() },
	}
}

// touch is every informer event: the connection is alive and data changed.
func (s *Session) touch() {
	s.conn.ok(s.opts.Now())
	s.checks.changed.Store(true)
	s.markDirty()
}

// watchErrorHandler turns a failed list/watch into state the UI shows:
// forbidden means "no access"; an answer of the API server with another
// error (a broken aggregated API's 503, a 500) marks this resource
// failing, never the session. Whether the connection itself is down is
// the health probe's to say: any other failure asks for one now.
func (s *Session) watchErrorHandler(w *nsWatch, res string) cache.WatchErrorHandlerWithContext {
	return func(ctx context.Context, r *cache.Reflector, err error) {
		var status apierrors.APIStatus
		switch {
		case apierrors.IsForbidden(err):
			if w.deny(res) {
				s.log.Warn("list/watch forbidden", "namespace", w.name, "resource", res, "err", err)
			}
		case apierrors.IsNotFound(err):
			s.log.Debug("resource not served", "namespace", w.name, "resource", res, "err", err)
			if w.informer(res) != nil {
				s.rescanNow() // its CRD went away: stop showing its objects
			}
		case errors.As(err, &status) && !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err):
			if w.fail(res, "list failing: "+Explain(err)) {
				s.log.Warn("list/watch failing", "namespace", w.name, "resource", res, "err", err)
			}
			// A failing resource will not list soon: show the rest now
			// rather than after the start-up grace.
			s.endStartUp()
			s.probeNow()
		default:
			s.log.Debug("watch failed; probing the connection", "namespace", w.name, "resource", res, "err", err)
			s.probeNow()
		}
		s.markDirty()
		cache.DefaultWatchErrorHandler(ctx, r, err)
	}
}

// recheckNamespace asks whether the namespace exists and reports a change.
func (s *Session) recheckNamespace(ctx context.Context, w *nsWatch) bool {
	missing := s.namespaceMissing(ctx, w.name)
	w.mu.Lock()
	defer w.mu.Unlock()
	changed := w.missing != missing
	w.missing = missing
	return changed
}

// namespaceMissing asks whether namespace ns is gone. Only NotFound counts
// as missing: a forbidden or failed GET says nothing.
func (s *Session) namespaceMissing(ctx context.Context, ns string) bool {
	ctx, cancel := s.request(ctx)
	defer cancel()
	_, err := s.client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	missing := apierrors.IsNotFound(err)
	if err != nil && !missing {
		s.log.Debug("namespace check inconclusive", "namespace", ns, "err", err)
	}
	return missing
}

// waitSynced marks the session dirty as each scope's caches have listed,
// and asks for an immediate build once all have, so the first complete
// snapshot says Synced without waiting out the build interval. It waits on
// the informers' sync channels, not by polling.
func (s *Session) waitSynced(ctx context.Context, begun time.Time, watches []*nsWatch) {
	for _, w := range watches {
		infs := w.informersNow()
		checkers := make([]cache.DoneChecker, 0, len(infs))
		last, lastAt := "", time.Duration(0) // the slowest, for the start-up diagnostics
		var mu sync.Mutex
		var timing sync.WaitGroup
		for res, inf := range infs {
			checkers = append(checkers, inf.HasSyncedChecker())
			timing.Go(func() {
				select {
				case <-inf.HasSyncedChecker().Done():
				case <-ctx.Done():
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if d := time.Since(begun); d > lastAt {
					last, lastAt = res, d
				}
			})
		}
		synced := cache.WaitFor(ctx, "", checkers...)
		timing.Wait()
		if !synced {
			return
		}
		mu.Lock()
		s.log.Debug("start-up: scope synced", "namespace", w.name, "after", time.Since(begun), "last", last, "lastAt", lastAt)
		mu.Unlock()
		s.markDirty()
	}
	s.log.Debug("start-up: caches synced", "after", time.Since(begun))
	select {
	case s.syncedNow <- struct{}{}:
	default:
	}
}

// Problems are the human notes about namespaces: missing ones and refused
// resources, e.g. `namespace "fintech-dr" does not exist` and
// "no access to pods in fintech-security".
func Problems(nss []estate.NamespaceStatus) []string {
	var out []string
	for _, ns := range nss {
		if ns.Missing {
			out = append(out, fmt.Sprintf("namespace %q does not exist", ns.Name))
		}
		if len(ns.Denied) >= namespacedCount {
			out = append(out, fmt.Sprintf("no access to namespace %s", ns.Name))
			continue
		}
		if len(ns.Denied) > 0 {
			out = append(out, fmt.Sprintf("no access to %s in %s", joinList(ns.Denied), ns.Name))
		}
	}
	return out
}

func joinList(s []string) string {
	s = slices.Clone(s)
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
