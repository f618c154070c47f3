// Package actionsui connects the actions package to the UI: it lists a
// service's actions with their disabled reasons, runs one through the
// guard pipeline, and asks the operator through a confirmation modal that
// Enter alone never satisfies.
package actionsui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/cluster"
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

// StatesMsg carries the actions of one service with their disabled
// reasons; Context and Generation let the root drop a late answer.
type StatesMsg struct {
	Context    string
	Generation uint64
	// Key is the service's Key().
	Key    string
	States []State
	Err    string
}

// Provider lists and runs a context's actions. The root model wraps the
// actions package in one; tests pass a fake.
type Provider interface {
	// States returns a command that evaluates the actions of svc (RBAC and
	// preconditions ask the API server, so never in View).
	States(svc cluster.Service) tea.Cmd
	// Run returns a command that starts action id on svc through the guard
	// pipeline; it reports with EventMsg and asks with ConfirmMsg.
	Run(svc cluster.Service, id string) tea.Cmd
}
