package actionsui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Menu lists actions with their disabled reasons: a disabled action is
// shown, never hidden. Enter on an enabled one opens its form or starts it
// (the pipeline then asks for confirmation).
type Menu struct {
	common.Nav
	common        common.Common
	title, key    string
	items         []Item
	states        map[string]State
	loaded        bool
	provider      Provider
	cursor        int
	note          string
	keyMap        ListKeyMap
	width, height int
}

var _ common.Component = (*Menu)(nil)

// NewMenu returns the menu titled title over items; key labels the
// StatesMsg that fills in the disabled reasons (states already known may
// be passed, loaded when complete).
func NewMenu(c common.Common, title, key string, items []Item, states []State, loaded bool, p Provider) *Menu {
	m := &Menu{common: c, title: title, key: key, items: items, provider: p, loaded: loaded, states: map[string]State{}, keyMap: MenuKeyMap(c.Keys)}
	m.setStates(states)
	return m
}

func (m *Menu) setStates(states []State) {
	for _, s := range states {
		m.states[s.ID] = s
	}
}

// Init implements common.Initer: ask for the disabled reasons unless known.
func (m *Menu) Init() tea.Cmd {
	if m.loaded || m.provider == nil {
		return nil
	}
	return m.provider.States(m.key, m.items)
}

// Title implements common.Titled.
func (m *Menu) Title() string { return "actions" }

// Note returns the menu's last note (why Enter did nothing), for tests.
func (m *Menu) Note() string { return m.note }

// SetSize implements common.Component.
func (m *Menu) SetSize(w, h int) { m.width, m.height = w, h }

// disabled is the reason item i cannot run, "" when it can.
func (m *Menu) disabled(i int) string {
	it := m.items[i]
	if it.Disabled != "" {
		return it.Disabled
	}
	if m.common.ReadOnly {
		return "read-only mode"
	}
	return m.states[it.ID].Disabled
}

// Update implements common.Component.
func (m *Menu) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case StatesMsg:
		if msg.Key == m.key {
			m.setStates(msg.States)
			m.loaded = true
			if msg.Err != "" {
				m.note = "actions unavailable: " + msg.Err
			}
		}
	case tea.KeyPressMsg:
		k := m.keyMap
		switch {
		case key.Matches(msg, k.Back):
			m.PopSelf()
		case key.Matches(msg, k.Up):
			m.cursor = max(0, m.cursor-1)
		case key.Matches(msg, k.Down):
			m.cursor = max(0, min(len(m.items)-1, m.cursor+1))
		case key.Matches(msg, k.Choose):
			return m, m.choose()
		}
	}
	return m, nil
}

func (m *Menu) choose() tea.Cmd {
	if m.cursor >= len(m.items) {
		return nil
	}
	it := m.items[m.cursor]
	if why := m.disabled(m.cursor); why != "" {
		m.note = it.Title + " is disabled: " + why
		return nil
	}
	if !m.loaded && it.Action != nil {
		m.note = "still checking permissions and preconditions…"
		return nil
	}
	m.PopSelf()
	if it.Open != nil {
		m.Tell(common.PushMsg{Component: it.Open()})
		return nil
	}
	if it.Action == nil || m.provider == nil {
		return nil
	}
	return m.provider.Start(it.Action, it.Object, it.Title, "")
}

// ShortHelp implements common.Component.
func (m *Menu) ShortHelp() []key.Binding { return m.keyMap.ShortHelp() }

// FullHelp implements common.Component.
func (m *Menu) FullHelp() [][]key.Binding { return m.keyMap.FullHelp() }

// Lines renders the items with their states, for a detail page.
func Lines(c common.Common, items []Item, states []State, loaded bool) []string {
	m := NewMenu(c, "", "", items, states, loaded, nil)
	var out []string
	for i := range items {
		out = append(out, m.line(i, 100, false))
	}
	return out
}

func (m *Menu) line(i, w int, selected bool) string {
	st := m.common.Styles
	it := m.items[i]
	tw := 12
	for _, o := range m.items {
		tw = max(tw, min(44, len([]rune(o.Title))+1))
	}
	line := widgets.Pad(it.Title, tw, false)
	style := st.OK
	why := m.disabled(i)
	switch {
	case why != "":
		line += " disabled: " + why
		style = st.Muted
	case !m.loaded && it.Action != nil:
		line += " checking…"
		style = st.Muted
	case it.Dangerous:
		line += " dangerous"
		style = st.Crit
	}
	line = widgets.Fit(line, w)
	if selected {
		return st.Selected.Render(widgets.Pad("› "+line, w, false))
	}
	return style.Render("  " + line)
}

// View implements common.Component.
func (m *Menu) View() string {
	st := m.common.Styles
	w := max(20, min(m.width-8, 100))
	b := []string{st.Accent.Render(widgets.Fit("Actions on "+m.title, w)), ""}
	if !m.loaded {
		b = append(b, st.Muted.Render("checking permissions and preconditions…"))
	}
	for i := range m.items {
		b = append(b, m.line(i, w, i == m.cursor))
	}
	if m.note != "" {
		// The note is why Enter did nothing: said whole, wrapped, since the
		// item's line had no room for it (a self-heal warning names the app,
		// its sync policy, what Git restores and when).
		b = append(b, "")
		for _, l := range wrapWords(m.note, w) {
			b = append(b, st.Warn.Render(l))
		}
	}
	return st.Frame.Render(strings.Join(b, "\n"))
}

// Placement implements common.Overlay.
func (m *Menu) Placement() string { return "center" }
