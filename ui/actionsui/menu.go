package actionsui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Menu lists a service's actions with their disabled reasons; Enter on an
// enabled one starts it (the pipeline will ask for confirmation).
type Menu struct {
	common.Nav
	common        common.Common
	svc           cluster.Service
	states        []State
	loaded        bool
	provider      Provider
	cursor        int
	note          string
	width, height int
}

var _ common.Component = (*Menu)(nil)

// NewMenu returns the action menu of svc.
func NewMenu(c common.Common, svc cluster.Service, states []State, loaded bool, p Provider) *Menu {
	return &Menu{common: c, svc: svc, states: states, loaded: loaded, provider: p}
}

// Title implements common.Titled.
func (m *Menu) Title() string { return "actions" }

// SetSize implements common.Component.
func (m *Menu) SetSize(w, h int) { m.width, m.height = w, h }

// Update implements common.Component.
func (m *Menu) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case StatesMsg:
		if msg.Key == m.svc.Key() {
			m.states, m.loaded = msg.States, true
		}
	case tea.KeyPressMsg:
		k := m.common.Keys
		switch {
		case key.Matches(msg, k.Back):
			m.PopSelf()
		case key.Matches(msg, k.Up):
			m.cursor = max(0, m.cursor-1)
		case key.Matches(msg, k.Down):
			m.cursor = min(len(m.states)-1, m.cursor+1)
		case key.Matches(msg, k.Enter):
			if m.cursor >= len(m.states) {
				return m, nil
			}
			s := m.states[m.cursor]
			if s.Disabled != "" {
				m.note = s.Title + " is disabled: " + s.Disabled
				return m, nil
			}
			if m.common.ReadOnly {
				m.note = "read-only mode"
				return m, nil
			}
			m.PopSelf()
			return m, m.provider.Run(m.svc, s.ID)
		}
	}
	return m, nil
}

// ShortHelp implements common.Component.
func (m *Menu) ShortHelp() []key.Binding {
	k := m.common.Keys
	return []key.Binding{k.Up, k.Down, key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run")), k.Back}
}

// FullHelp implements common.Component.
func (m *Menu) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }

// View implements common.Component.
func (m *Menu) View() string {
	st := m.common.Styles
	var b []string
	b = append(b, st.Accent.Render("Actions on "+m.svc.Namespace+"/"+m.svc.Name), "")
	if !m.loaded {
		b = append(b, st.Muted.Render("checking permissions and preconditions…"))
	}
	w := max(20, min(m.width-8, 90))
	for i, s := range m.states {
		line := widgets.Pad(s.Title, 28, false)
		style := st.OK
		switch {
		case s.Disabled != "":
			line += " disabled: " + s.Disabled
			style = st.Muted
		case s.Dangerous:
			line += " dangerous"
			style = st.Crit
		}
		line = widgets.Fit(line, w)
		if i == m.cursor {
			b = append(b, st.Selected.Render(widgets.Pad("› "+line, w, false)))
		} else {
			b = append(b, style.Render("  "+line))
		}
	}
	if m.note != "" {
		b = append(b, "", st.Warn.Render(widgets.Fit(m.note, w)))
	}
	return st.Frame.Render(strings.Join(b, "\n"))
}

// Placement implements common.Overlay.
func (m *Menu) Placement() string { return "center" }
