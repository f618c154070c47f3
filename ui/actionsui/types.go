// Package actionsui connects the guarded actions to the UI: action menus
// that show every action with its disabled reason, forms and pickers that
// collect an action's parameters, the provider that sends an action
// through a kube context's spec.Runner, the progress of running actions,
// and a confirmation modal that Enter alone never satisfies. It speaks the
// actions' vocabulary (actions/spec), never the actions package itself.
package actionsui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/actions/spec"
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
	// Object is what the action acts on.
	Object spec.Object
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
	// Action is the action whose Disabled reason the menu shows, and the
	// one Enter starts when Open is nil.
	Action spec.Params
	// Object is what Action acts on.
	Object spec.Object
	// Disabled is a reason known without asking the API server (from the
	// snapshot: "auto-sync is on"); it wins over Action's.
	Disabled string
	// Open, when set, returns the form or picker that collects the
	// action's parameters and starts it.
	Open func() common.Component
}

// actionItem is the menu entry of the action params on o: as dangerous as
// the action is.
func actionItem(id, title string, params spec.Params, o spec.Object) Item {
	return Item{ID: id, Title: title, Dangerous: params.About().Dangerous, Action: params, Object: o}
}

// Provider runs a kube context's actions for the UI. cmd wraps the
// context's spec.Runner in a Pipeline; tests pass a fake.
type Provider interface {
	// States returns a command that asks each item's Action why it is
	// disabled (RBAC and preconditions ask the API server, so never in
	// View); it answers a StatesMsg labelled key.
	States(key string, items []Item) tea.Cmd
	// Start returns a command that starts the action params on o through
	// the guard pipeline; it reports with ProgressMsg and asks with
	// ConfirmMsg. title names the attempt on screen; reason, when typed in
	// a form, is the operator's reason (the confirmation modal shows it).
	Start(params spec.Params, o spec.Object, title, reason string) tea.Cmd
}
