package common

import (
	"time"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/ui/history"
)

// Data is what the screens draw: the latest snapshot of the context on
// screen and what the UI derived or fetched around it. The root model owns
// it and mutates it only in Update; components read it in Update and View
// (the UI goroutine), never from a tea.Cmd.
type Data struct {
	// Context is the kube context on screen; Generation its session's.
	Context    string
	Generation uint64
	// Snap is the latest snapshot; HaveSnap is false before the first.
	Snap     cluster.Snapshot
	HaveSnap bool
	// Now is the UI clock (ticks once a second).
	Now time.Time
	// History holds the last minutes of per-service samples.
	History *history.Store
	// Checks is the latest evaluation of the check catalogue.
	Checks Findings
	// Fleet is the latest fleet summary; Contexts the kubeconfig's contexts.
	Fleet    cluster.FleetSummary
	Contexts []cluster.ContextInfo
	// FleetErr says why the fleet could not be summarised.
	FleetErr string
}

// Findings is one evaluation of the check catalogue.
type Findings struct {
	// Catalogue is the checks evaluated; Findings their verdicts.
	Catalogue []checks.Check
	Findings  []checks.Finding
	// At is when it was evaluated; zero before the first.
	At time.Time
	// Err says why it could not be evaluated.
	Err string
	// Running is true while an evaluation is under way.
	Running bool
}

// For returns the findings about the workload namespace/name (and its
// pods' controller), failures first.
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

// Refresher is a component that rebuilds derived state (rows, lines) when
// the root's Data changed (a new snapshot, findings, a fleet summary).
type Refresher interface {
	Refresh()
}
