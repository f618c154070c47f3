package common

import (
	"slices"

	"charm.land/bubbles/v2/key"
)

// Help is a key map the help footer shows (bubbles' help.KeyMap): each
// screen and modal has one, and its Update handles exactly those keys
// (ui's TestHelpAndHandlingAgree presses every key to hold it to that).
type Help interface {
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
}

// NavHelp is the help column of the moving keys.
func (k KeyMap) NavHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
}

// RootHelp is the help column of the keys the root handles above a
// component: the palette, help and quit, and, on a top-level screen
// (screen true) but not in a detail or modal, tab and shift+tab.
func (k KeyMap) RootHelp(screen bool) []key.Binding {
	if screen {
		return []key.Binding{k.Command, k.NextTab, k.PrevTab, k.Help, k.Quit}
	}
	return []key.Binding{k.Command, k.Help, k.Quit}
}

// PageKeys is the key map of a Page: moving, the page's own keys (Own,
// which its Keys func handles), Esc when it was pushed, and the root's.
type PageKeys struct {
	KeyMap
	// Own are the page's own bindings, in help order.
	Own []key.Binding
	// Pushed is a drill-down: Esc pops it, tab does not switch screens.
	Pushed bool
}

// ShortHelp implements Help.
func (k PageKeys) ShortHelp() []key.Binding {
	out := append([]key.Binding{k.Down, k.PageDown}, k.Own...)
	if k.Pushed {
		out = append(out, k.Back)
	}
	return append(out, k.Command, k.Help, k.Quit)
}

// FullHelp implements Help.
func (k PageKeys) FullHelp() [][]key.Binding {
	own := slices.Clone(k.Own)
	if k.Pushed {
		own = append(own, k.Back)
	}
	return [][]key.Binding{k.NavHelp(), own, k.RootHelp(!k.Pushed)}
}
