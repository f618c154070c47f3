package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/checks"
)

// rbacKinds are the inventory keys a who-can question reads.
var rbacKinds = []string{checks.ResClusterRoles, checks.ResClusterRoleBindings, checks.ResRoles, checks.ResRoleBindings}

// ListRBAC lists, once, what decides who can make a request in namespace
// (cluster-wide when ""): every ClusterRole and ClusterRoleBinding, and the
// Roles and RoleBindings of namespace, the way ListInventory lists them. A
// list the API refuses is recorded in Forbidden (checks.WhoCan says so);
// any other error is returned.
func ListRBAC(ctx context.Context, cfg *rest.Config, namespace string) (checks.Inventory, error) {
	inv := checks.Inventory{Installed: map[string]bool{}, Forbidden: map[string]string{}, Config: checks.DefaultConfig()}
	if cfg == nil {
		return inv, errors.New("list RBAC: no REST config")
	}
	typed, err := newTypedLister(cfg)
	if err != nil {
		return inv, err
	}
	// The RBAC kinds are typed: neither client below is called.
	var dyn dynamic.Interface
	var md metadata.Interface
	l := &lister{ctx: ctx, inv: &inv, namespaces: []string{namespace}, typed: typed}
	g, gctx := errgroup.WithContext(ctx)
	l.ctx = gctx
	for _, k := range checks.Kinds {
		if !slices.Contains(rbacKinds, k.Key()) {
			continue
		}
		if k.Source != checks.Typed {
			return inv, fmt.Errorf("list RBAC: %s is not a typed kind", k.Key())
		}
		if k.Namespaced() && namespace == "" {
			continue // RoleBindings grant nothing cluster-wide
		}
		g.Go(func() error { _, err := l.list(k, k.GVR(), namespace, nil, dyn, md); return err })
	}
	if err := g.Wait(); err != nil {
		return inv, err
	}
	inv.SortObjects()
	return inv, nil
}

// APIResource is a resource a who-can question names, as discovery
// serves it.
type APIResource struct {
	// Group and Resource are the API group and plural resource name.
	Group, Resource string
	// Namespaced says the resource lives in namespaces.
	Namespaced bool
	// Served is false when discovery does not list the resource (users,
	// groups and other virtual resources RBAC authorizes, or a typo): the
	// name is then taken as given.
	Served bool
}

// ResolveResource finds what a command line names (plural, singular, short
// name or kind, optionally with its group as in deployments.apps) among
// the resources the API server serves, the way kubectl resolves it.
func ResolveResource(cfg *rest.Config, resource, group string) (APIResource, error) {
	given := APIResource{Group: group, Resource: resource}
	if resource == "*" {
		return given, nil
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return given, fmt.Errorf("discovery client: %w", err)
	}
	lists, err := disc.ServerPreferredResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return given, fmt.Errorf("discovery: %s: %w", Explain(err), err)
	}
	var found []APIResource
	for _, l := range lists {
		gv, perr := schema.ParseGroupVersion(l.GroupVersion)
		if perr != nil || (group != "" && gv.Group != group) {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") {
				continue
			}
			if r.Name == resource || r.SingularName == resource || slices.Contains(r.ShortNames, resource) || strings.EqualFold(r.Kind, resource) {
				found = append(found, APIResource{Group: gv.Group, Resource: r.Name, Namespaced: r.Namespaced, Served: true})
			}
		}
	}
	switch {
	case len(found) == 0:
		return given, nil
	case len(found) > 1 && group == "":
		// The core group wins, as in kubectl; else the name is ambiguous.
		if i := slices.IndexFunc(found, func(a APIResource) bool { return a.Group == "" }); i >= 0 {
			return found[i], nil
		}
		var names []string
		for _, f := range found {
			names = append(names, f.Resource+"."+f.Group)
		}
		return given, fmt.Errorf("resource %q is ambiguous: name one of %s", resource, strings.Join(names, ", "))
	}
	return found[0], nil
}
