package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/checks"
)

// ListInventory lists, once, everything the check catalogue reads: cluster-
// scoped objects (Namespaces limited to namespaces when given, ClusterRoles,
// ClusterRoleBindings, cluster-scoped custom resources) and the namespaced
// objects of namespaces (all namespaces when empty). Secrets are listed
// through the metadata API only, so vigil never receives their data.
//
// A custom-resource group missing from discovery is recorded as
// Installed[group]=false; a list the API forbids (403) or does not serve
// (404) is recorded in Forbidden and the checks needing it report unknown.
// Any other error (unreachable server, bad credentials) is returned.
func ListInventory(ctx context.Context, cfg *rest.Config, namespaces []string) (checks.Inventory, error) {
	inv := checks.Inventory{Installed: map[string]bool{}, Forbidden: map[string]string{}, Config: checks.DefaultConfig()}
	inv.Config.Namespaces = namespaces
	if cfg == nil {
		return inv, errors.New("list inventory: no REST config")
	}
	// Every list is sent at once (listConcurrency): keep client-side throttling out of it.
	cfg = rest.CopyConfig(cfg)
	cfg.QPS = max(cfg.QPS, 100)
	cfg.Burst = max(cfg.Burst, 500)
	disc, err := discovery.NewDiscoveryClientForConfig(discoveryConfig(ctx, cfg))
	if err != nil {
		return inv, fmt.Errorf("discovery client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return inv, fmt.Errorf("dynamic client: %w", err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return inv, fmt.Errorf("metadata client: %w", err)
	}
	typed, err := newTypedLister(cfg)
	if err != nil {
		return inv, err
	}
	l := &lister{ctx: ctx, inv: &inv, namespaces: namespaces, typed: typed}
	if len(namespaces) == 0 {
		l.namespaces = []string{metav1.NamespaceAll}
	}
	versions, err := l.discover(disc)
	if err != nil {
		return inv, withCredentialsHint(cfg, err)
	}
	// Every (kind, namespace) list runs at once, bounded: the time is the slowest list's,
	// not the sum of ~100 round trips. Objects land in the inventory under l.mu; the order
	// is restored by SortObjects.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	l.ctx = gctx
	twins := readingTwins()
	for _, k := range checks.Kinds {
		if k.SessionOnly {
			continue
		}
		if _, ok := twins.of[k.Key()]; ok {
			continue // read from its twin's reading in all namespaces, below
		}
		if sib, ok := twins.in[k.Key()]; ok {
			g.Go(func() error { return l.listWithTwin(k, sib, dyn, md) })
			continue
		}
		gvr := k.GVR()
		if k.Optional {
			if gvr.Version = versions[k.Key()]; gvr.Version == "" {
				continue
			}
		}
		// Where each kind is read is its registry entry's scope, as in a
		// session: namespaced kinds in the namespaces asked for, the others
		// (cluster-scoped, all namespaces) once, targeted readings in
		// their own namespace.
		nss := []string{metav1.NamespaceAll}
		switch k.Scope {
		case checks.Namespaced:
			nss = l.namespaces
			// Istio's PeerAuthentication in the root namespace applies
			// mesh-wide, so it is listed there too.
			if k.Group == checks.GroupIstioSecurity && !slices.Contains(nss, metav1.NamespaceAll) && !slices.Contains(nss, "istio-system") {
				nss = append(slices.Clone(nss), "istio-system")
			}
		case checks.InNamespace:
			nss = []string{k.Namespace}
		}
		if len(nss) > 1 && !perNamespaceOnly[k.Key()] {
			g.Go(func() error { return l.listIn(k, gvr, nss, dyn, md) })
			continue
		}
		for _, ns := range nss {
			g.Go(func() error { _, err := l.list(k, gvr, ns, nil, dyn, md); return err })
		}
	}
	if err := g.Wait(); err != nil {
		return inv, err
	}
	inv.SortObjects()
	if len(namespaces) > 0 {
		inv.Namespaces = slices.DeleteFunc(inv.Namespaces, func(ns *corev1.Namespace) bool { return !slices.Contains(namespaces, ns.Name) })
	}
	return inv, nil
}

// discoveryConfig is cfg for the discovery client, bounded by ctx's deadline: without a
// Timeout of its own client-go's discovery asks the server for 32 s (`/api?timeout=32s`),
// which an error then quotes to someone who gave vigil check --timeout 4s.
func discoveryConfig(ctx context.Context, cfg *rest.Config) *rest.Config {
	dl, ok := ctx.Deadline()
	if !ok || cfg.Timeout > 0 {
		return cfg
	}
	c := rest.CopyConfig(cfg)
	// Whole seconds, rounded up: the query says timeout=4s, not 3.999871s.
	c.Timeout = max(time.Until(dl).Truncate(time.Second)+time.Second, time.Second)
	return c
}

// twinKinds pairs a kind's reading in all namespaces with the same kind in the listed
// namespaces (Deployments and DaemonSets: the cluster-level checks read them everywhere).
type twinKinds struct {
	in map[string]checks.Kind // key of the reading in all namespaces → the namespaced kind
	of map[string]checks.Kind // key of the namespaced kind → its reading in all namespaces
}

// readingTwins finds, in checks.Kinds, each second reading of a kind in all namespaces, without
// selectors, whose kind is also read in the listed namespaces, without selectors: one list
// serves both.
func readingTwins() twinKinds {
	t := twinKinds{in: map[string]checks.Kind{}, of: map[string]checks.Kind{}}
	plain := func(k checks.Kind) bool {
		return !k.SessionOnly && !k.Optional && k.FieldSelector == "" && k.LabelSelector == ""
	}
	for _, all := range checks.Kinds {
		if all.Scope != checks.AllNamespaces || all.Reading == "" || !plain(all) {
			continue
		}
		for _, k := range checks.Kinds {
			if k.Scope == checks.Namespaced && k.Reading == "" && plain(k) && k.GVR() == all.GVR() && k.Source == all.Source {
				t.in[all.Key()], t.of[k.Key()] = k, all
			}
		}
	}
	return t
}

// listWithTwin lists all, a reading of a kind in all namespaces, and takes sib, the same
// kind in the listed namespaces, from it: one request instead of two, or of one per
// namespace. Where the API refuses the reading in all namespaces (a user bound in some
// namespaces only), sib is listed per namespace, each namespace's refusal recorded.
func (l *lister) listWithTwin(all, sib checks.Kind, dyn dynamic.Interface, md metadata.Interface) error {
	objs, _, err := l.listObjects(all, all.GVR(), metav1.NamespaceAll, nil, dyn, md)
	if err != nil {
		return err
	}
	l.mu.Lock()
	_, refused := l.inv.Forbidden[all.Key()]
	l.mu.Unlock()
	if !refused {
		var only []string
		if !slices.Contains(l.namespaces, metav1.NamespaceAll) {
			only = l.namespaces
		}
		l.add(sib, objs, only)
		return nil
	}
	return l.listEach(sib, sib.GVR(), l.namespaces, dyn, md)
}

// perNamespaceOnly are the kinds ListInventory lists only in the namespaces asked for, never
// across namespaces (listIn's page) to keep the objects of those: Secrets, whose metadata can
// hold what should not be read (a kubectl-applied Secret's last-applied-configuration
// annotation holds its data), are not read from namespaces nobody asked about. Pods,
// ConfigMaps and ServiceAccounts, which every namespace holds, are asked for across
// namespaces like the other kinds: where they fit one page (every ServiceAccount and
// ConfigMap of most clusters, the Pods of a small one) that is one request instead of one a
// namespace; where they do not (the Pods of a large cluster), that page of listPage objects
// is read for nothing before the lists per namespace.
var perNamespaceOnly = map[string]bool{checks.ResSecrets: true}

// listPage is how many objects one list request asks for.
const listPage = 500

// listConcurrency bounds the lists in flight: enough to overlap the round trips of every
// kind in four namespaces, few enough not to queue behind the client's rate limit.
const listConcurrency = 16

// listIn lists namespaced kind k in several namespaces. It first asks for one page of
// the kind in all namespaces: when that is the whole list and the API allowed it, the
// objects of nss are kept and the rest dropped, one request instead of len(nss). A kind
// that does not fit one page (the lists per namespace page in parallel, and would not read
// the other namespaces' objects) or that the API refuses across namespaces (a user bound
// in some namespaces only) is then listed per namespace, with each namespace's own refusal
// recorded.
func (l *lister) listIn(k checks.Kind, gvr schema.GroupVersionResource, nss []string, dyn dynamic.Interface, md metadata.Interface) error {
	if whole, err := l.list(k, gvr, metav1.NamespaceAll, nss, dyn, md); whole || err != nil {
		return err
	}
	return l.listEach(k, gvr, nss, dyn, md)
}

// listEach lists kind k in each of nss, in parallel, each namespace's refusal recorded.
func (l *lister) listEach(k checks.Kind, gvr schema.GroupVersionResource, nss []string, dyn dynamic.Interface, md metadata.Interface) error {
	g, _ := errgroup.WithContext(l.ctx)
	for _, ns := range nss {
		g.Go(func() error { _, err := l.list(k, gvr, ns, nil, dyn, md); return err })
	}
	return g.Wait()
}

// add puts listed objects of k into the inventory; with only, those in its namespaces.
func (l *lister) add(k checks.Kind, objs []metav1.Object, only []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, o := range objs {
		if only == nil || slices.Contains(only, o.GetNamespace()) {
			k.Add(l.inv, o)
		}
	}
}

// list lists kind k in namespace ns ("" = all or cluster-scoped) into the
// inventory: Dynamic kinds as unstructured objects, Metadata ones through
// the metadata API, typed ones converted from the dynamic client's answer.
//
// With only (listIn's one page across namespaces), it asks for one page and
// keeps the objects of those namespaces if that page is the whole list; it
// returns false, with nothing kept or recorded, when there is more or the API
// refused. Without, it pages to the end and returns true.
func (l *lister) list(k checks.Kind, gvr schema.GroupVersionResource, ns string, only []string, dyn dynamic.Interface, md metadata.Interface) (bool, error) {
	_, whole, err := l.listObjects(k, gvr, ns, only, dyn, md)
	return whole, err
}

// listObjects is list, returning the objects it listed (before only's filter).
func (l *lister) listObjects(k checks.Kind, gvr schema.GroupVersionResource, ns string, only []string, dyn dynamic.Interface, md metadata.Interface) ([]metav1.Object, bool, error) {
	probe := only != nil
	if k.Source == checks.Metadata {
		ri := md.Resource(gvr)
		list := ri.List
		if k.Namespaced() {
			list = ri.Namespace(ns).List
		}
		v, whole, err := listAll(l, k, ns, probe, list, func(x *metav1.PartialObjectMetadataList) ([]metav1.PartialObjectMetadata, string) {
			return x.Items, x.Continue
		})
		objs := make([]metav1.Object, 0, len(v))
		for i := range v {
			obj := k.FromMetadata(v[i].ObjectMeta)
			if s, ok := obj.(*corev1.Secret); ok {
				*s = checks.SecretMetadataOnly(*s)
			}
			objs = append(objs, obj)
		}
		l.add(k, objs, only)
		return objs, whole, err
	}
	if k.Source == checks.Typed {
		v, whole, err := listAll(l, k, ns, probe, func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return l.typed.list(ctx, k, gvr, ns, opts)
		}, func(x runtime.Object) ([]runtime.Object, string) {
			items, _ := apimeta.ExtractList(x)
			lm, _ := apimeta.ListAccessor(x)
			return items, lm.GetContinue()
		})
		objs := make([]metav1.Object, 0, len(v))
		for _, o := range v {
			if m, ok := o.(metav1.Object); ok {
				objs = append(objs, m)
			}
		}
		l.add(k, objs, only)
		return objs, whole, err
	}
	ri := dyn.Resource(gvr)
	list := ri.List
	if k.Namespaced() {
		list = ri.Namespace(ns).List
	}
	v, whole, err := listAll(l, k, ns, probe, list, func(x *unstructured.UnstructuredList) ([]unstructured.Unstructured, string) {
		return x.Items, x.GetContinue()
	})
	objs := make([]metav1.Object, 0, len(v))
	for i := range v {
		if k.Source == checks.Dynamic {
			objs = append(objs, &v[i])
			continue
		}
		obj := k.New()
		// Not err: that is listAll's, returned below with whatever it did list.
		if convErr := runtime.DefaultUnstructuredConverter.FromUnstructured(v[i].Object, obj); convErr != nil {
			return nil, whole, fmt.Errorf("list %s: %s/%s: %w", k.Key(), v[i].GetNamespace(), v[i].GetName(), convErr)
		}
		objs = append(objs, obj)
	}
	l.add(k, objs, only)
	return objs, whole, err
}

// lister carries what every list call needs.
type lister struct {
	ctx        context.Context
	namespaces []string
	typed      *typedLister

	mu  sync.Mutex // guards inv
	inv *checks.Inventory
}

// refused records a 403 or 404 in Forbidden and reports whether err was one.
// Of several namespaces' refusals, listed in parallel, the first in sort
// order is kept, so the evidence does not change from run to run; a 403 in
// namespace ns ("" for all or cluster-scoped) is recorded in RefusedIn too.
func (l *lister) refused(resource, ns string, err error) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case apierrors.IsForbidden(err):
		if cur, ok := l.inv.Forbidden[resource]; !ok || (cur != notServed && err.Error() < cur) {
			l.inv.Forbidden[resource] = err.Error()
		}
		if ns != "" {
			if l.inv.RefusedIn == nil {
				l.inv.RefusedIn = map[string][]string{}
			}
			if rs := l.inv.RefusedIn[ns]; !slices.Contains(rs, resource) {
				rs = append(rs, resource)
				slices.Sort(rs)
				l.inv.RefusedIn[ns] = rs
			}
		}
		return true
	case apierrors.IsNotFound(err):
		if _, ok := l.inv.Forbidden[resource]; !ok {
			l.inv.Forbidden[resource] = notServed
		}
		return true
	}
	return false
}

// notServed is Forbidden's entry of a kind the API server does not serve.
const notServed = "not served by the API server"

// listAll pages through a list call of kind k (listPage at a time, with the
// kind's selectors), dropping managed fields. A refused list yields nothing
// and no error. With probe it asks for the first page only: whole is false,
// with nothing returned and no refusal recorded, when the list goes on or the
// API refused it.
func listAll[T any, L any](l *lister, k checks.Kind, ns string, probe bool, list func(context.Context, metav1.ListOptions) (L, error), items func(L) ([]T, string)) (_ []T, whole bool, _ error) {
	var out []T
	resource := k.Key()
	opts := metav1.ListOptions{Limit: listPage, FieldSelector: k.FieldSelector, LabelSelector: k.LabelSelector}
	for {
		page, err := list(l.ctx, opts)
		if probe && err != nil && (apierrors.IsForbidden(err) || apierrors.IsNotFound(err)) {
			return nil, false, nil
		}
		if err != nil {
			if l.refused(resource, ns, err) {
				return nil, true, nil
			}
			where := resource
			if ns != "" {
				where += " in " + ns
			}
			return nil, true, fmt.Errorf("list %s: %s: %w", where, Explain(err), err)
		}
		batch, cont := items(page)
		if probe && cont != "" {
			return nil, false, nil
		}
		for i := range batch {
			m, ok := any(&batch[i]).(metav1.Object) // items held by value
			if !ok {
				m, ok = any(batch[i]).(metav1.Object) // by pointer (typed lists' items)
			}
			if ok {
				m.SetManagedFields(nil)
			}
		}
		out = append(out, batch...)
		if cont == "" {
			return out, true, nil
		}
		opts.Continue = cont
	}
}

// discover records, per custom-resource group the catalogue reads, whether
// it is installed, and returns the version serving each optional kind (by
// key): the kind's own when served, else the first the group serves it in.
//
// A server with aggregated discovery (Kubernetes 1.30 on) answers the two
// requests for the groups with every group version's resources as well, and
// those are used; a group version it could not describe (a stale aggregated
// API), and every one a server without it serves, is asked about on its own.
func (l *lister) discover(disc discovery.DiscoveryInterface) (map[string]string, error) {
	var groups *metav1.APIGroupList
	var resources map[schema.GroupVersion]*metav1.APIResourceList
	var stale map[schema.GroupVersion]error
	var err error
	if ad, ok := disc.(discovery.AggregatedDiscoveryInterfaceWithContext); ok {
		groups, resources, stale, err = ad.GroupsAndMaybeResourcesWithContext(l.ctx)
	} else {
		groups, err = disc.ServerGroups()
	}
	if err != nil {
		if err.Error() == "unknown" { // client-go's word for a refusal without a Status body
			return nil, &hinted{err: err, msg: "discovery: " + Explain(err)}
		}
		return nil, fmt.Errorf("discovery: %s: %w", Explain(err), err)
	}
	resourcesOf := func(gv string) (*metav1.APIResourceList, error) {
		if parsed, perr := schema.ParseGroupVersion(gv); perr == nil && resources != nil && stale[parsed] == nil {
			return resources[parsed], nil // nil: the version serves no resource
		}
		return disc.ServerResourcesForGroupVersion(gv)
	}
	versions := map[string][]string{}
	for _, g := range groups.Groups {
		var vs []string
		if g.PreferredVersion.Version != "" {
			vs = append(vs, g.PreferredVersion.Version)
		}
		for _, v := range g.Versions {
			if !slices.Contains(vs, v.Version) {
				vs = append(vs, v.Version)
			}
		}
		versions[g.Name] = vs
	}
	for _, g := range checks.KnownGroups {
		l.inv.Installed[g] = len(versions[g]) > 0
	}
	served := map[string]bool{} // "group/version" asked, "group/version/resource" served
	out := map[string]string{}
	for _, k := range checks.Kinds {
		if !k.Optional || k.SessionOnly || !l.inv.Installed[k.Group] {
			continue
		}
		for _, v := range versions[k.Group] {
			gv := k.Group + "/" + v
			if !served[gv] {
				rl, err := resourcesOf(gv)
				if err != nil && !apierrors.IsNotFound(err) {
					return nil, fmt.Errorf("discovery %s: %s: %w", gv, Explain(err), err)
				}
				served[gv] = true
				if rl != nil {
					for _, r := range rl.APIResources {
						served[gv+"/"+r.Name] = true
					}
				}
			}
			if served[gv+"/"+k.Resource] {
				out[k.Key()] = v
				break
			}
		}
	}
	return out, nil
}
