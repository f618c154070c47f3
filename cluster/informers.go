package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	vpainformers "k8s.io/autoscaler/vertical-pod-autoscaler/pkg/client/informers/externalversions"
)

// nsWatch is the informers of one namespace, or of the cluster scope (name
// "": cluster-scoped resources and all-namespaces ones).
type nsWatch struct {
	name string
	// factories; nil when the client family is not available.
	factory informers.SharedInformerFactory
	events  informers.SharedInformerFactory // Warning events only
	meta    metadatainformer.SharedInformerFactory
	dyn     dynamicinformer.DynamicSharedInformerFactory
	vpa     vpainformers.SharedInformerFactory
	// informers maps resource key to its informer; denied or not installed
	// resources have none.
	informers map[string]cache.SharedIndexInformer

	mu      sync.Mutex // guards missing and denied, which change at run time
	missing bool
	denied  map[string]bool
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
	w.events.Start(stop)
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
	w.events.Shutdown()
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
// watch per namespace plus the cluster scope (in parallel, since each needs
// a namespace check and access reviews) and starts them.
func (s *Session) startInformers(ctx context.Context, namespaces []string) (cluster *nsWatch, watches []*nsWatch) {
	s.discover()
	watches = make([]*nsWatch, len(namespaces))
	var wg sync.WaitGroup
	for i, ns := range namespaces {
		wg.Go(func() { watches[i] = s.setupScope(ctx, ns) })
	}
	wg.Go(func() { cluster = s.setupScope(ctx, "") })
	wg.Wait()
	cluster.start(ctx.Done())
	for _, w := range watches {
		w.start(ctx.Done())
	}
	return cluster, watches
}

// discover records which optional API groups the server serves. A failed
// discovery leaves them unknown, and they are then tried as if installed:
// the watch error handler reports what does not work.
func (s *Session) discover() {
	_, lists, err := s.discovery.ServerGroupsAndResources()
	if err != nil && len(lists) == 0 {
		s.log.Warn("discovery failed; optional resources will be tried", "err", err)
		return
	}
	served := map[string]bool{}
	groups := map[string]bool{}
	for _, l := range lists {
		group, _, _ := strings.Cut(l.GroupVersion, "/")
		if !strings.Contains(l.GroupVersion, "/") {
			group = ""
		}
		groups[group] = true
		for _, r := range l.APIResources {
			if !strings.Contains(r.Name, "/") {
				served[r.Name+"."+group] = true
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.served = served
	s.installed = map[string]bool{}
	for _, g := range optionalGroups {
		s.installed[g] = groups[g]
	}
}

// optionalGroups are the API groups Snapshot.Installed reports.
var optionalGroups = []string{"argoproj.io", "autoscaling.k8s.io", "external-secrets.io", "bitnami.com",
	"security.istio.io", "networking.istio.io", "monitoring.coreos.com", "metrics.k8s.io"}

// isServed reports whether discovery lists an optional resource; true when
// discovery failed (unknown).
func (s *Session) isServed(r resource) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.served == nil {
		return true
	}
	return s.served[r.name+"."+r.group]
}

func (s *Session) setupScope(ctx context.Context, ns string) *nsWatch {
	w := &nsWatch{
		name:    ns,
		factory: informers.NewSharedInformerFactoryWithOptions(s.client, 0, informers.WithNamespace(ns), informers.WithTransform(transform)),
		events: informers.NewSharedInformerFactoryWithOptions(s.client, 0, informers.WithNamespace(ns), informers.WithTransform(transform),
			// Normal events outnumber pods at scale (Scheduled, Pulled,
			// Started...): keep the ones that tell of trouble.
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "type!=Normal" })),
		informers: map[string]cache.SharedIndexInformer{},
		denied:    map[string]bool{},
	}
	if s.meta != nil {
		w.meta = metadatainformer.NewFilteredSharedInformerFactory(s.meta, 0, ns, nil)
	}
	if s.dyn != nil {
		w.dyn = dynamicinformer.NewFilteredDynamicSharedInformerFactory(s.dyn, 0, ns, nil)
	}
	if s.vpa != nil {
		w.vpa = vpainformers.NewSharedInformerFactoryWithOptions(s.vpa, 0, vpainformers.WithNamespace(ns))
	}
	if ns != "" {
		s.recheckNamespace(ctx, w)
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.touch() },
		UpdateFunc: func(any, any) { s.touch() },
		DeleteFunc: func(any) { s.touch() },
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, r := range watched {
		if !s.inScope(r, ns) {
			continue
		}
		if r.optional && !s.isServed(r) {
			continue // reported as "not installed" by build
		}
		wg.Go(func() {
			ok := s.allowed(ctx, ns, r)
			mu.Lock()
			defer mu.Unlock()
			if !ok {
				w.denied[r.key()] = true
				return
			}
			inf := s.informerFor(w, r)
			if inf == nil {
				return
			}
			// Errors here mean the informer already started, which cannot be
			// since this factory is new: log rather than fail the session.
			if err := inf.SetTransform(transform); err != nil {
				s.log.Debug("set transform", "namespace", ns, "resource", r.key(), "err", err)
			}
			if err := inf.SetWatchErrorHandlerWithContext(s.watchErrorHandler(w, r.key())); err != nil {
				s.log.Error("set watch error handler", "namespace", ns, "resource", r.key(), "err", err)
			}
			if _, err := inf.AddEventHandler(handler); err != nil {
				s.log.Error("add event handler", "namespace", ns, "resource", r.key(), "err", err)
			}
			w.informers[r.key()] = inf
		})
	}
	wg.Wait()
	return w
}

// inScope says whether resource r is watched in scope ns ("" = cluster).
// All-namespaces resources go to the cluster scope when the user may list
// them cluster-wide, else to each namespace.
func (s *Session) inScope(r resource, ns string) bool {
	switch {
	case r.clusterScoped:
		return ns == ""
	case r.allNamespaces:
		wide := s.allowedWide(r)
		return (ns == "") == wide
	default:
		return ns != ""
	}
}

// allowedWide reports (and caches) whether r may be listed in all namespaces.
func (s *Session) allowedWide(r resource) bool {
	return s.allowed(context.Background(), metav1.NamespaceAll, r)
}

func (s *Session) informerFor(w *nsWatch, r resource) cache.SharedIndexInformer {
	switch r.via {
	case viaTyped:
		if r.name == "events" {
			return r.typed(w.events)
		}
		return r.typed(w.factory)
	case viaMetadata:
		if w.meta == nil {
			return nil
		}
		return w.meta.ForResource(r.gvr()).Informer()
	case viaDynamic:
		if w.dyn == nil {
			return nil
		}
		return w.dyn.ForResource(r.gvr()).Informer()
	case viaVPA:
		if w.vpa == nil {
			return nil
		}
		return w.vpa.Autoscaling().V1().VerticalPodAutoscalers().Informer()
	}
	return nil
}

// touch is every informer event: the connection is alive and data changed.
func (s *Session) touch() {
	s.conn.ok(s.opts.Now())
	s.markDirty()
}

// watchErrorHandler turns a failed list/watch into state the UI shows:
// forbidden means "no access", anything else means disconnected.
func (s *Session) watchErrorHandler(w *nsWatch, res string) cache.WatchErrorHandlerWithContext {
	return func(ctx context.Context, r *cache.Reflector, err error) {
		switch {
		case apierrors.IsForbidden(err):
			if w.deny(res) {
				s.log.Warn("list/watch forbidden", "namespace", w.name, "resource", res, "err", err)
			}
		case apierrors.IsNotFound(err):
			s.log.Debug("resource not served", "namespace", w.name, "resource", res, "err", err)
		default:
			if s.conn.fail(Explain(err)) {
				s.log.Warn("watch failed", "namespace", w.name, "resource", res, "err", err)
			}
		}
		s.markDirty()
		cache.DefaultWatchErrorHandler(ctx, r, err)
	}
}

// accessCache remembers SelfSubjectAccessReview answers for a session.
type accessCache struct {
	mu      sync.Mutex
	answers map[string]bool
}

func (c *accessCache) get(key string) (allowed, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	allowed, ok = c.answers[key]
	return allowed, ok
}

func (c *accessCache) put(key string, allowed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answers == nil {
		c.answers = map[string]bool{}
	}
	c.answers[key] = allowed
}

// Allowed asks the API server (once per session; answers are cached)
// whether this user may verb resource (plural) of group in ns ("" = all
// namespaces or cluster-scoped). If the review itself fails, it answers
// yes: the watch error handler reports a refusal later.
func (s *Session) Allowed(ctx context.Context, verb, group, resource, ns string) bool {
	key := strings.Join([]string{verb, group, resource, ns}, "|")
	if ok, cached := s.access.get(key); cached {
		return ok
	}
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: group, Resource: resource},
	}}
	client := s.reviews
	if client == nil {
		client = s.client
	}
	res, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		s.log.Warn("access review failed; assuming allowed", "namespace", ns, "resource", resource, "verb", verb, "err", err)
		return true
	}
	if !res.Status.Allowed {
		s.log.Info("access denied", "namespace", ns, "resource", resource, "verb", verb, "reason", res.Status.Reason)
	}
	s.access.put(key, res.Status.Allowed)
	return res.Status.Allowed
}

// allowed reports whether the user may list and watch r in ns.
func (s *Session) allowed(ctx context.Context, ns string, r resource) bool {
	return s.Allowed(ctx, "list", r.group, r.name, ns) && s.Allowed(ctx, "watch", r.group, r.name, ns)
}

// recheckNamespace asks whether the namespace exists and reports a change.
// Only NotFound counts as missing: a forbidden or failed GET says nothing.
func (s *Session) recheckNamespace(ctx context.Context, w *nsWatch) bool {
	_, err := s.client.CoreV1().Namespaces().Get(ctx, w.name, metav1.GetOptions{})
	missing := apierrors.IsNotFound(err)
	if err != nil && !missing {
		s.log.Debug("namespace check inconclusive", "namespace", w.name, "err", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	changed := w.missing != missing
	w.missing = missing
	return changed
}

// waitSynced marks the session dirty once every cache has listed, so the
// first complete snapshot says Synced even if no event follows.
func (s *Session) waitSynced(ctx context.Context, watches []*nsWatch) {
	for _, w := range watches {
		syncs := make([]cache.InformerSynced, 0, len(w.informers))
		for _, inf := range w.informers {
			syncs = append(syncs, inf.HasSynced)
		}
		cache.WaitForCacheSync(ctx.Done(), syncs...)
		s.markDirty()
	}
}

// Problems are the human notes about namespaces: missing ones and refused
// resources, e.g. `namespace "fintech-dr" does not exist` and
// "no access to pods in fintech-security".
func Problems(nss []NamespaceStatus) []string {
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
