package estate

import (
	"slices"
	"strings"
)

// Visibility says whether the objects of one kind a screen shows are all
// there are: an empty list of a kind vigil may not read is not "none".
type Visibility struct {
	// Access is AccessWatched when every resource of the kind is read
	// (where asked); else the state of the first one that is not, refusals
	// before failures. AccessNotInstalled only when none of them is served.
	Access Access
	// Resource is that resource ("plural.group"); empty when watched.
	Resource string
	// Namespaces are where it is refused or failing; empty when everywhere
	// (or cluster-scoped).
	Namespaces []string
	// Reason is the session's detail, e.g. "list/watch of
	// applications.argoproj.io refused".
	Reason string
	// Partial is true when some of the kind is read all the same: in other
	// namespaces, or another resource of the kind (ClusterExternalSecrets
	// beside ExternalSecrets).
	Partial bool
}

// Seen reports whether everything of the kind is read.
func (v Visibility) Seen() bool { return v.Access == AccessWatched }

// Known reports whether the objects listed are all there are: the kind is
// read, or not installed (so none exist).
func (v Visibility) Known() bool { return v.Access == AccessWatched || v.Access == AccessNotInstalled }

// Visibility says whether the kind made of resources ("plural.group" as
// in ResourceStatus.Resource, e.g. "externalsecrets.external-secrets.io"
// and "clusterexternalsecrets.external-secrets.io") is read in namespace ns
// ("" = anywhere). Every screen that shows a kind's objects or their count
// asks it, so a refusal reads as a refusal, never as "none".
func (s *Snapshot) Visibility(ns string, resources ...string) Visibility {
	var worst Visibility
	seen, missing := 0, 0
	for _, res := range resources {
		st := s.resourceStatus(res)
		if st.Access == AccessDenied || st.Access == AccessFailing {
			if ns != "" && len(st.Namespaces) > 0 && !slices.Contains(st.Namespaces, ns) {
				seen++ // refused elsewhere, read in ns
				continue
			}
			if len(st.Namespaces) > 0 && s.watchedBeyond(st.Namespaces) {
				seen++ // read in the other watched namespaces
			}
			if worst.Access == AccessWatched || (worst.Access == AccessFailing && st.Access == AccessDenied) {
				worst = Visibility{Access: st.Access, Resource: st.Resource, Reason: st.Reason}
				if ns == "" {
					worst.Namespaces = st.Namespaces
				}
			}
			continue
		}
		if st.Access == AccessNotInstalled {
			missing++
			continue
		}
		seen++
	}
	switch {
	case worst.Access != AccessWatched:
		worst.Partial = seen > 0
		return worst
	case missing > 0 && missing == len(resources):
		st := s.resourceStatus(resources[0])
		return Visibility{Access: AccessNotInstalled, Resource: st.Resource, Reason: st.Reason}
	}
	return Visibility{}
}

// resourceStatus is res's entry in s.Resources; a resource the session did
// not report is watched, unless Installed says its group is not served.
func (s *Snapshot) resourceStatus(res string) ResourceStatus {
	for _, r := range s.Resources {
		if r.Resource == res {
			return r
		}
	}
	if _, group, ok := strings.Cut(res, "."); ok {
		if installed, known := s.Installed[group]; known && !installed {
			return ResourceStatus{Resource: res, Access: AccessNotInstalled}
		}
	}
	return ResourceStatus{Resource: res}
}

// watchedBeyond reports whether a watched namespace that exists is not in
// nss: a kind refused in nss is read there.
func (s *Snapshot) watchedBeyond(nss []string) bool {
	for _, n := range s.Namespaces {
		if !n.Missing && !slices.Contains(nss, n.Name) {
			return true
		}
	}
	return false
}
