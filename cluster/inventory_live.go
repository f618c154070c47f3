package cluster

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
)

// Inventory returns the live estate for the compliance checks: the
// objects of the session's informer caches, shared, not copied (the checks
// only read them; so must any caller). Secrets carry metadata only. Custom-
// resource groups not served are Installed=false; resources vigil may not
// list are Forbidden. Pods owned by a controller carry the slim spec the
// cache keeps; the checks read their templates from the workloads instead.
func (s *Session) Inventory() checks.Inventory {
	objs, _, resources, _ := s.collect()
	return s.inventoryOf(objs, resources)
}

// inventoryOf completes collected objects into the checks' inventory:
// installed groups, refused resources, the configuration and the alert
// rules Prometheus has loaded. It copies no object.
func (s *Session) inventoryOf(objs estate.Objects, resources []estate.ResourceStatus) checks.Inventory {
	inv := objs
	inv.Installed, inv.Forbidden, inv.Failing, inv.Config, inv.Origin = map[string]bool{}, map[string]string{}, map[string]string{}, checks.DefaultConfig(), s.opts.Context
	inv.RefusedIn = nil
	inv.Config.Namespaces = s.watchedNames()
	if len(s.opts.Settings.AllowedRegistries) > 0 {
		inv.Config.AllowedRegistries = slices.Clone(s.opts.Settings.AllowedRegistries)
	}
	s.mu.Lock()
	for _, g := range checks.KnownGroups {
		installed, known := s.installed[g]
		inv.Installed[g] = installed || !known
	}
	s.mu.Unlock()
	for _, r := range resources {
		switch r.Access {
		case estate.AccessDenied:
			inv.Forbidden[r.Resource] = r.Reason
			for _, ns := range r.Namespaces {
				if inv.RefusedIn == nil {
					inv.RefusedIn = map[string][]string{}
				}
				inv.RefusedIn[ns] = append(inv.RefusedIn[ns], r.Resource)
			}
		case estate.AccessFailing:
			inv.Failing[r.Resource] = r.Reason
		}
	}
	for _, rs := range inv.RefusedIn {
		slices.Sort(rs)
	}
	inv.Namespaces = make([]*corev1.Namespace, 0, len(inv.Config.Namespaces))
	for _, o := range objs.Namespaces {
		if slices.Contains(inv.Config.Namespaces, o.Name) {
			inv.Namespaces = append(inv.Namespaces, o)
		}
	}
	inv.LoadedAlertRules = nil
	if v := s.alerts.get(); v.Prometheus.Available {
		inv.LoadedAlertRules = make([]string, 0, len(v.Rules))
		for _, r := range v.Rules {
			inv.LoadedAlertRules = append(inv.LoadedAlertRules, r.Name)
		}
	}
	return inv
}

func (s *Session) watchedNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.namespaces))
	for _, w := range s.namespaces {
		out = append(out, w.name)
	}
	return out
}
