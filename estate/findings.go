package estate

import (
	"github.com/vigil-k8s/vigil/checks"
	"time"
)

// Findings are the check catalogue's verdicts on the objects of one build,
// published with the snapshots that follow until the next evaluation. They
// are stamped with the session's context and generation, like the snapshot.
type Findings struct {
	// Context is the kube context evaluated, as the kubeconfig names it (matched, not
	// shown: not escaped, see Snapshot.Context).
	Context    string `termsafe:"-"`
	Generation uint64
	// At is when the evaluated objects were collected (the Taken of the
	// snapshot that first carried them); zero before the first evaluation.
	At time.Time
	// Took is how long evaluating the catalogue took (a diagnostic).
	Took time.Duration
	// Synced is false when some caches had not listed yet, so the
	// findings may miss objects.
	Synced bool
	// Catalogue is the checks evaluated; Findings their verdicts.
	Catalogue []checks.Check
	Findings  []checks.Finding
	// Inventory is what was evaluated, to be read only: the who-can and
	// reachability pages ask it (nil before the first evaluation).
	Inventory *checks.Inventory
}

// For returns the findings about the workload namespace/name (and its
// pods' controller).
func (f Findings) For(kind, namespace, name string) []checks.Finding {
	var out []checks.Finding
	for _, fd := range f.Findings {
		r := fd.Resource
		if r.Namespace == namespace && r.Name == name && (r.Kind == kind || r.Kind == "Deployment" || r.Kind == "StatefulSet") {
			out = append(out, fd)
		}
	}
	return out
}
