// Package common holds what every vigil UI component shares: the Common
// value (styles, keys, size, read-only flag), the key map and the Component
// interface. It has no state of its own.
package common

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/ui/theme"
)

// Common is passed by value to every component; the root model owns it and
// hands out updated copies (e.g. on resize).
type Common struct {
	// Styles is the theme.
	Styles theme.Theme
	// Keys is the key map.
	Keys KeyMap
	// Width and Height are the terminal's size in cells.
	Width, Height int
	// ReadOnly forbids every mutating action (none exist yet).
	ReadOnly bool
}

// Component is a pane of the UI. The root routes messages to the focused
// component and composes help from it.
type Component interface {
	// Update handles a message and returns the updated component.
	Update(msg tea.Msg) (Component, tea.Cmd)
	// View renders the component in the size last given to SetSize.
	View() string
	// SetSize gives the component its width and height in cells.
	SetSize(width, height int)
	// ShortHelp lists the bindings for the one-line footer.
	ShortHelp() []key.Binding
	// FullHelp lists binding columns for the full help ("?").
	FullHelp() [][]key.Binding
}

// KeyMap is every key binding of the UI.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Help, Quit                              key.Binding
}

// DefaultKeyMap returns vigil's default bindings (vi and arrow keys).
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", "space"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}
