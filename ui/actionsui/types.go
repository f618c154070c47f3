// Package actionsui connects the actions package to the UI: action menus
// that show every action with its disabled reason, forms and pickers that
// collect an action's parameters, the runner that sends an action through
// the guard pipeline, the progress of running actions, and a confirmation
// modal that Enter alone never satisfies.
package actionsui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/ui/common"
)

// State is one action as a menu shows it.
type State struct {
	// ID and Title name the action.
	ID, Title string
	// Dangerous actions are drawn in the critical style.
	Dangerous bool
	// Disabled says why the action cannot run now; "" when it can.
	Disabled string
	// Target is what the action acts on.
	Target actions.Target
}

// StatesMsg carries the Disabled reasons of a menu's items; Context and
// Generation let the root drop a late answer, Key names the menu (a
// service's Key(), an alert's fingerprint, an application …).
type StatesMsg struct {
	Context    string
	Generation uint64
	Key        string
	States     []State
	Err        string
}

// Item is one entry of an action menu.
type Item struct {
	// ID is unique within its menu; Title is shown.
	ID, Title string
	// Dangerous items are drawn in the critical style.
	Dangerous bool
	// Probe is the action whose Disabled reason the menu shows, and the
	// one Enter starts when Open is nil.
	Probe *actions.Action
	// Target is what Probe acts on.
	Target actions.Target
	// Disabled is a reason known without asking the API server (from the
	// snapshot: "auto-sync is on"); it wins over Probe's.
	Disabled string
	// Open, when set, returns the form or picker that collects the
	// action's parameters and starts it.
	Open func() common.Component
}

// Provider builds and runs a kube context's actions. cmd wraps the actions
// package in a Pipeline; tests pass a fake.
type Provider interface {
	// Env is the context's actions environment to build actions against.
	Env() *actions.Env
	// States returns a command that asks each item's Probe why it is
	// disabled (RBAC and preconditions ask the API server, so never in
	// View); it answers a StatesMsg labelled key.
	States(key string, items []Item) tea.Cmd
	// Start returns a command that starts a on t through the guard
	// pipeline; it reports with EventMsg and asks with ConfirmMsg. title
	// names the attempt on screen; reason, when typed in a form, is the
	// operator's reason (the confirmation modal shows it).
	Start(a *actions.Action, t actions.Target, title, reason string) tea.Cmd
}
