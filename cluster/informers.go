package cluster

import (
	"context"
	"fmt"
	"sort"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// resource is one kind of object a Session watches.
type resource struct {
	group, name string // for access reviews and notes, e.g. "apps", "deployments"
	informer    func(informers.SharedInformerFactory) cache.SharedIndexInformer
}

// watched are the resources a Session watches in every namespace.
var watched = []resource{
	{"apps", "deployments", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Apps().V1().Deployments().Informer()
	}},
	{"apps", "statefulsets", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Apps().V1().StatefulSets().Informer()
	}},
	{"apps", "replicasets", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Apps().V1().ReplicaSets().Informer()
	}},
	{"", "pods", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().Pods().Informer()
	}},
	{"autoscaling", "horizontalpodautoscalers", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Autoscaling().V2().HorizontalPodAutoscalers().Informer()
	}},
}

// nsWatch is the informers of one namespace.
type nsWatch struct {
	name    string
	factory informers.SharedInformerFactory
	// informers maps resource name to its informer; denied resources have none.
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

// startInformers sets up one factory per namespace (in parallel, since each
// needs a namespace check and access reviews) and starts them.
func (s *Session) startInformers(ctx context.Context) []*nsWatch {
	watches := make([]*nsWatch, len(s.opts.Namespaces))
	var wg sync.WaitGroup
	for i, ns := range s.opts.Namespaces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			watches[i] = s.setupNamespace(ctx, ns)
		}()
	}
	wg.Wait()
	for _, w := range watches {
		w.factory.Start(ctx.Done())
	}
	return watches
}

func (s *Session) setupNamespace(ctx context.Context, ns string) *nsWatch {
	w := &nsWatch{
		name:      ns,
		factory:   informers.NewSharedInformerFactoryWithOptions(s.client, 0, informers.WithNamespace(ns)),
		informers: map[string]cache.SharedIndexInformer{},
		denied:    map[string]bool{},
	}
	s.recheckNamespace(ctx, w)
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.touch() },
		UpdateFunc: func(any, any) { s.touch() },
		DeleteFunc: func(any) { s.touch() },
	}
	for _, r := range watched {
		if !s.allowed(ctx, ns, r) {
			w.denied[r.name] = true
			continue
		}
		inf := r.informer(w.factory)
		// Errors here mean the informer already started, which cannot be
		// since this factory is new: log rather than fail the session.
		if err := inf.SetTransform(transform); err != nil {
			s.log.Error("set transform", "namespace", ns, "resource", r.name, "err", err)
		}
		if err := inf.SetWatchErrorHandlerWithContext(s.watchErrorHandler(w, r.name)); err != nil {
			s.log.Error("set watch error handler", "namespace", ns, "resource", r.name, "err", err)
		}
		if _, err := inf.AddEventHandler(handler); err != nil {
			s.log.Error("add event handler", "namespace", ns, "resource", r.name, "err", err)
		}
		w.informers[r.name] = inf
	}
	return w
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
		default:
			if s.conn.fail(Explain(err)) {
				s.log.Warn("watch failed", "namespace", w.name, "resource", res, "err", err)
			}
		}
		s.markDirty()
		cache.DefaultWatchErrorHandler(ctx, r, err)
	}
}

// allowed asks the API server whether this user may list and watch r in ns.
// If the review itself fails, it assumes yes: the watch error handler will
// report a refusal later.
func (s *Session) allowed(ctx context.Context, ns string, r resource) bool {
	for _, verb := range []string{"list", "watch"} {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: r.group, Resource: r.name},
		}}
		res, err := s.client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			s.log.Warn("access review failed; assuming allowed", "namespace", ns, "resource", r.name, "verb", verb, "err", err)
			return true
		}
		if !res.Status.Allowed {
			s.log.Info("access denied", "namespace", ns, "resource", r.name, "verb", verb, "reason", res.Status.Reason)
			return false
		}
	}
	return true
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
		w.factory.WaitForCacheSync(ctx.Done())
		s.markDirty()
	}
}

// build lists every cache and derives a Snapshot.
func (s *Session) build() Snapshot {
	now := s.opts.Now()
	s.mu.Lock()
	watches := s.namespaces
	s.mu.Unlock()

	snap := Snapshot{Context: s.opts.Context, Generation: s.opts.Generation, Taken: now, Synced: true, Conn: s.conn.state()}
	var objs Objects
	for _, w := range watches {
		st := NamespaceStatus{Name: w.name, Synced: true}
		for _, r := range watched {
			inf, ok := w.informers[r.name]
			if !ok {
				continue
			}
			if !inf.HasSynced() {
				st.Synced = false
				continue
			}
			appendObjects(&objs, inf.GetStore().List())
		}
		w.mu.Lock()
		st.Missing = w.missing
		for res, d := range w.denied {
			if d {
				st.Denied = append(st.Denied, res)
			}
		}
		w.mu.Unlock()
		sort.Strings(st.Denied)
		snap.Synced = snap.Synced && st.Synced
		snap.Namespaces = append(snap.Namespaces, st)
	}
	snap.Services = BuildServices(objs, now)
	snap.Problems = Problems(snap.Namespaces)
	return snap
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
		if len(ns.Denied) == len(watched) {
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
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	out := s[0]
	for _, x := range s[1 : len(s)-1] {
		out += ", " + x
	}
	return out + " and " + s[len(s)-1]
}

// appendObjects adds a cache's items to objs by resource name.
func appendObjects(objs *Objects, items []any) {
	for _, it := range items {
		switch o := it.(type) {
		case *appsv1.Deployment:
			objs.Deployments = append(objs.Deployments, o)
		case *appsv1.StatefulSet:
			objs.StatefulSets = append(objs.StatefulSets, o)
		case *appsv1.ReplicaSet:
			objs.ReplicaSets = append(objs.ReplicaSets, o)
		case *corev1.Pod:
			objs.Pods = append(objs.Pods, o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			objs.HPAs = append(objs.HPAs, o)
		}
	}
}
