package common

import (
	"context"
	"time"

	"github.com/vigil-k8s/vigil/checks"
	evalhistory "github.com/vigil-k8s/vigil/checks/history"
	"github.com/vigil-k8s/vigil/estate"
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
	// Identity is who the API server authorizes the session's requests as
	// (history.Identity): with the watched namespaces, the scope of its
	// evaluations.
	Identity string
	// Snap is the latest snapshot; HaveSnap is false before the first.
	Snap     estate.Snapshot
	HaveSnap bool
	// Now is the UI clock (ticks once a second).
	Now time.Time
	// History holds the last minutes of per-service samples.
	History *history.Store
	// Fleet is the latest fleet summary; Contexts the kubeconfig's contexts.
	Fleet    estate.FleetSummary
	Contexts []estate.ContextInfo
	// FleetErr says why the fleet could not be summarised.
	FleetErr string
	// Down says why no session is shown (the context vigil started on
	// could not be reached); "" once one is.
	Down string
	// Logs opens a service's logs in the context on screen; nil when
	// LogsOff says why not (logs: false in the config).
	Logs    LogsOpener
	LogsOff string
	// Manifest returns an object's YAML as the API server returns it
	// (Secrets: metadata only); Events the events of every type and the
	// conditions of an object and its pods. Both block on the network:
	// call them from a tea.Cmd. Nil without a backend.
	Manifest func(ctx context.Context, ref estate.ObjectRef) (string, error)
	Events   func(ctx context.Context, ref estate.ObjectRef) (estate.ObjectEvents, error)
	// Attest lays a context's attestations (vigil attest) over its findings
	// at now; nil for none. It reads local state only, and quickly.
	Attest func(kubeContext string, cat []checks.Check, findings []checks.Finding, now time.Time) []checks.Finding
	// Evaluations are the contexts' recorded checklist evaluations (vigil
	// check's history); nil without a state directory.
	Evaluations Evaluations
	// ArgoDiff returns what a sync of an Argo CD application would change
	// (argocd-server's managed-resources API); nil when ArgoDiffOff says
	// why not (Kubernetes mode: the diff needs the Argo CD server). It
	// blocks on the network: call it from a tea.Cmd.
	ArgoDiff    ArgoDiffFunc
	ArgoDiffOff string
}

// Findings are the findings of the context on screen with its
// attestations laid over them: what the Compliance screen shows.
func (d *Data) Findings() []checks.Finding {
	f := d.Snap.Findings
	if d.Attest == nil || len(f.Findings) == 0 {
		return f.Findings
	}
	return d.Attest(d.Context, f.Catalogue, f.Findings, d.Now)
}

// Evaluations is the history of checklist evaluations in the state
// directory. Both methods read or append local files only, and quickly.
type Evaluations interface {
	// Recorded is a context's recorded evaluations, oldest first, of every
	// scope (history.Like keeps those comparable with one).
	Recorded(kubeContext string) []Run
	// Offer records a live evaluation unless the context has one recorded
	// less than an hour ago.
	Offer(e evalhistory.Entry)
}

// Run is one recorded evaluation; Here says this process recorded it.
type Run struct {
	evalhistory.Entry
	Here bool
}

// ArgoDiffFunc returns what a sync of the Argo CD application
// namespace/name would change.
type ArgoDiffFunc func(ctx context.Context, namespace, name string) (estate.ArgoDiff, error)

// Refresher is a component that rebuilds derived state (rows, lines) when
// the root's Data changed (a new snapshot, findings, a fleet summary).
type Refresher interface {
	Refresh()
}

// Clocked is a Refresher whose rendered lines carry clock-derived text
// (ages): the root refreshes it on every clock tick while it is visible.
type Clocked interface {
	Refresher
	Clocked()
}
