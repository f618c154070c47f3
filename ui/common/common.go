// Package common holds what every vigil UI component shares: the Common
// value (styles, keys, size, read-only flag), the key map, the Component
// interface and the navigation messages components send the root. It has
// no state of its own.
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
	// ReadOnly forbids every mutating action.
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

// Titled is a component with a name for the tab bar and breadcrumbs.
type Titled interface {
	Title() string
}

// Capturing is a component that is typing text (a filter, a palette, a
// confirmation): while it captures, the root sends it every key, even q.
type Capturing interface {
	Capturing() bool
}

// PushMsg asks the root to push a component on the focus stack (a detail
// view, a modal).
type PushMsg struct{ Component Component }

// PopMsg asks the root to pop the top of the focus stack (Esc).
type PopMsg struct{}

// ScreenMsg asks the root to show a top-level screen by name ("svc",
// "hpa", "alerts", "check", "gitops", "ctx"); Arg is the rest of a
// palette command (":ctx local-2").
type ScreenMsg struct{ Name, Arg string }

// Push returns a command that pushes c.
func Push(c Component) tea.Cmd { return func() tea.Msg { return PushMsg{Component: c} } }

// Pop returns a command that pops the focus stack.
func Pop() tea.Msg { return PopMsg{} }

// KeyMap is every key binding of the UI.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Enter, Back, Filter, Command            key.Binding
	Sort, SortReverse, Namespace            key.Binding
	Actions, NextTab, PrevTab               key.Binding
	Help, Quit                              key.Binding
}

// DefaultKeyMap returns vigil's default bindings: what a k9s or less user
// would try (vi and arrow keys, / to filter, : for commands, Esc back).
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:          key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		PageUp:      key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", "ctrl+f", "space"), key.WithHelp("pgdn", "page down")),
		Top:         key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:      key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
		Enter:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:        key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Command:     key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "command")),
		Sort:        key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort column")),
		SortReverse: key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "reverse sort")),
		Namespace:   key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "namespace")),
		Actions:     key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "actions")),
		NextTab:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next screen")),
		PrevTab:     key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "prev screen")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:        key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// Initer is a component with work to start when it is pushed (fetching
// action states, a first evaluation).
type Initer interface {
	Init() tea.Cmd
}

// Overlay marks a modal drawn over the component beneath it (a menu, a
// confirmation, the command palette) rather than in its place.
type Overlay interface {
	// Placement says where: "center" or "bottom".
	Placement() string
}

// SwitchContextMsg asks the root to switch to the kube context Name.
type SwitchContextMsg struct{ Name string }

// NoteMsg asks the root to say Text in the status line (why a key did
// nothing); Bad shows it as an error.
type NoteMsg struct {
	Text string
	Bad  bool
}

// RefreshFleetMsg asks the root to summarise every context again.
type RefreshFleetMsg struct{}

// Do returns a command that yields msg.
func Do(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// Nav records a component's wish to open a child or close itself. The root
// takes it right after Update, so the very next key already goes to the
// right component (a PushMsg/PopMsg command would arrive too late for a
// fast typist). Embed it in a component.
type Nav struct {
	push Component
	pop  bool
	tell []tea.Msg
}

// Tell asks the root to handle msg (a ScreenMsg, SwitchContextMsg…) right
// after this Update, before the next key.
func (n *Nav) Tell(msg tea.Msg) { n.tell = append(n.tell, msg) }

// PushChild asks the root to push c on top of this component.
func (n *Nav) PushChild(c Component) { n.push = c }

// PopSelf asks the root to pop this component.
func (n *Nav) PopSelf() { n.pop = true }

// TakeNav implements Navigator.
func (n *Nav) TakeNav() (push Component, pop bool, tell []tea.Msg) {
	push, pop, tell = n.push, n.pop, n.tell
	n.push, n.pop, n.tell = nil, false, nil
	return push, pop, tell
}

// Navigator is a component that may ask to push, pop or tell the root
// something (see Nav).
type Navigator interface {
	TakeNav() (push Component, pop bool, tell []tea.Msg)
}
