package ui

import (
	"context"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/common"
)

// Backend is what the UI needs beyond the snapshots of the context on
// screen: the kubeconfig's contexts, switching, the fleet summary and the
// check catalogue's evaluation. cmd wraps cluster's Manager in one; tests
// pass a fake. Every method may block on the network, so the root model
// calls them only from tea.Cmds.
type Backend interface {
	// Contexts lists the kubeconfig's contexts.
	Contexts() []estate.ContextInfo
	// Switch stops the current session and starts one on context name.
	Switch(ctx context.Context, name string) (Feed, error)
	// Fleet summarises every context.
	Fleet(ctx context.Context) (estate.FleetSummary, error)
	// Manifest returns the YAML of an object of the context on screen as
	// the API server returns it now; a Secret's is metadata only.
	Manifest(ctx context.Context, ref estate.ObjectRef) (string, error)
	// Events returns the events of every type, newest first, and the
	// conditions of an object of the context on screen and of its pods.
	Events(ctx context.Context, ref estate.ObjectRef) (estate.ObjectEvents, error)
}

// Feed is what the UI is fed from one context: which context it is, its
// snapshots, its actions and its mode.
type Feed struct {
	// OnScreen describes the context for the header; OnScreen.Generation
	// is the generation of Snapshots.
	OnScreen OnScreen
	// Snapshots is the session's subscription.
	Snapshots <-chan estate.Snapshot
	// Actions lists and runs the context's actions; nil hides them.
	Actions actionsui.Provider
	// ReadOnly is true when the context refuses every mutation.
	ReadOnly bool
	// WriteWarning, when not empty, is the credentials' warning: read-only mode on
	// credentials that could write (SelfSubjectRulesReview), for the header, so a reviewer
	// knows the guarantee comes from vigil and not from RBAC.
	WriteWarning string
	// Logs opens a service's logs; nil with LogsOff saying why (logs: false).
	Logs    common.LogsOpener
	LogsOff string
	// ArgoDiff returns what a sync of an Argo CD application would change;
	// nil with ArgoDiffOff saying why and how to get it (Kubernetes mode).
	ArgoDiff    common.ArgoDiffFunc
	ArgoDiffOff string
}
