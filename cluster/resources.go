package cluster

import "github.com/vigil-k8s/vigil/checks"

// resource is one kind of object a Session watches: an entry of
// checks.Kinds, the one registry of kinds (group/version/resource, scope,
// client family, where it lands in Objects).
type resource = checks.Kind

// watched are the resources a Session watches: every kind vigil reads.
// Namespaced ones are watched per watched namespace unless their scope is
// AllNamespaces.
var watched = checks.Kinds

// namespacedCount is how many resources are watched per namespace, for the
// "no access to namespace X" note.
var namespacedCount = func() int {
	n := 0
	for _, r := range watched {
		if r.Scope == checks.Namespaced {
			n++
		}
	}
	return n
}()
