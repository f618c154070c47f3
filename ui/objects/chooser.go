// Package objects lets the user pick one of the objects a screen shows (a
// workload, its pods, its HPA, VPA, PDB, Services, Argo CD Application) to
// open a view of it: its YAML, its events.
package objects

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Chooser is a modal list of objects; Enter replaces it with the view open
// returns for the chosen one.
type Chooser struct {
	common.Nav
	c      common.Common
	title  string
	refs   []estate.ObjectRef
	open   func(estate.ObjectRef) common.Component
	cursor int
	width  int
}

// NewChooser returns a chooser of refs titled title.
func NewChooser(c common.Common, title string, refs []estate.ObjectRef, open func(estate.ObjectRef) common.Component) *Chooser {
	return &Chooser{c: c, title: title, refs: refs, open: open}
}

// Placement implements common.Overlay.
func (m *Chooser) Placement() string { return "center" }

// Capturing implements common.Capturing: every key is the chooser's.
func (m *Chooser) Capturing() bool { return true }

// Refs lists the objects offered; Cursor is the one selected.
func (m *Chooser) Refs() []estate.ObjectRef { return m.refs }
func (m *Chooser) Cursor() int              { return m.cursor }

// Update implements common.Component.
func (m *Chooser) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	keys := m.c.Keys
	switch {
	case key.Matches(k, keys.Back), key.Matches(k, keys.Quit) && k.String() == "q":
		m.PopSelf()
	case key.Matches(k, keys.Up):
		m.cursor = max(0, m.cursor-1)
	case key.Matches(k, keys.Down):
		m.cursor = min(len(m.refs)-1, m.cursor+1)
	case key.Matches(k, keys.Top):
		m.cursor = 0
	case key.Matches(k, keys.Bottom):
		m.cursor = len(m.refs) - 1
	case k.String() == "enter" && len(m.refs) > 0:
		m.PopSelf()
		m.PushChild(m.open(m.refs[m.cursor]))
	}
	return m, nil
}

// SetSize implements common.Component.
func (m *Chooser) SetSize(w, _ int) { m.width = w }

// View implements common.Component.
func (m *Chooser) View() string {
	st := m.c.Styles
	w := len([]rune(m.title))
	for _, r := range m.refs {
		w = max(w, len([]rune(r.String()))+2)
	}
	room := m.width
	if room <= 0 {
		room = m.c.Width
	}
	w = min(w, max(20, room-6))
	lines := []string{st.Accent.Render(widgets.Fit(m.title, w))}
	for i, r := range m.refs {
		l := widgets.Pad(widgets.Fit("  "+r.String(), w), w, false)
		if i == m.cursor {
			l = st.Selected.Render(l)
		}
		lines = append(lines, l)
	}
	lines = append(lines, st.Muted.Render(widgets.Fit("↑/↓ choose · enter open · esc cancel", w)))
	return strings.Join(lines, "\n")
}

// ShortHelp implements common.Component.
func (m *Chooser) ShortHelp() []key.Binding {
	k := m.c.Keys
	return []key.Binding{k.Up, k.Down, k.Enter, k.Back}
}

// FullHelp implements common.Component.
func (m *Chooser) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
