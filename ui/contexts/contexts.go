// Package contexts is the Contexts / fleet screen: every kubeconfig
// context with its fleet summary (services by health, worst ones, firing
// alerts, reachability) and where the summary came from (FROM: the live
// session, a LIST pass, or the fleet Prometheus). Enter switches to the
// selected context.
package contexts

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/termsafe"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Row is one context with its fleet entry (Entry.Checked is zero before
// the first summary).
type Row struct {
	Info  estate.ContextInfo
	Entry estate.FleetEntry
	// Proven is the checklist's proven score: live for the context on
	// screen, else the last evaluation recorded (vigil check), with its age.
	Proven string
}

// Model is the Contexts screen.
type Model struct {
	common.Nav
	common        common.Common
	data          *common.Data
	table         *widgets.Table[*Row]
	keyMap        KeyMap
	width, height int
	// live caches the proven score of the evaluation on screen.
	live struct {
		context string
		at      time.Time
		text    string
	}
}

var _ common.Component = (*Model)(nil)

// KeyMap is the Contexts screen's keys: the help shows them and the
// screen handles them.
type KeyMap struct {
	common.KeyMap
	// Use (enter) switches to the selected context.
	Use key.Binding
	// Refresh (r) summarises every context again.
	Refresh key.Binding
}

// DefaultKeyMap returns the Contexts screen's keys over the shared ones.
func DefaultKeyMap(shared common.KeyMap) KeyMap {
	return KeyMap{
		KeyMap:  shared,
		Use:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "switch to context")),
		Refresh: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh fleet")),
	}
}

// ShortHelp implements common.Help.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Down, k.Use, k.Refresh, k.Command, k.Help, k.Quit}
}

// FullHelp implements common.Help.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{k.NavHelp(), {k.Use, k.Refresh}, k.RootHelp(true)}
}

// New returns the Contexts screen reading d.
func New(c common.Common, d *common.Data) *Model {
	m := &Model{common: c, data: d, keyMap: DefaultKeyMap(c.Keys)}
	m.table = widgets.NewTable(c.Styles, []widgets.Column[*Row]{
		{Title: " ", Width: 1, Cell: func(r *Row) string {
			if r.Info.Name == d.Context {
				return "*"
			}
			return ""
		}},
		{Title: "CONTEXT", Width: 12, Flex: true, Cell: func(r *Row) string { return termsafe.Line(r.Info.Name) },
			Compare: func(a, b *Row) int { return strings.Compare(a.Info.Name, b.Info.Name) }},
		{Title: "CLUSTER", Width: 12, MinTable: 100, Cell: func(r *Row) string { return termsafe.Line(r.Info.Cluster) }},
		{Title: "STATE", Width: 11, Cell: state},
		{Title: "FROM", Width: 10, Cell: func(r *Row) string { return r.Entry.Source }},
		{Title: "SVC", Width: 4, Right: true, Cell: func(r *Row) string { return num(r, r.Entry.Services) }},
		{Title: "OK", Width: 3, Right: true, Cell: func(r *Row) string { return num(r, r.Entry.OK) }},
		{Title: "PROG", Width: 4, Right: true, Cell: func(r *Row) string { return num(r, r.Entry.Progressing) }},
		{Title: "DEGR", Width: 4, Right: true, Cell: func(r *Row) string { return num(r, r.Entry.Degraded) }},
		{Title: "DOWN", Width: 4, Right: true, Cell: func(r *Row) string { return num(r, r.Entry.Down) }},
		{Title: "FIRING", Width: 6, Right: true, Cell: firing},
		{Title: "PROVEN", Width: 9, Right: true, MinTable: 140, Cell: func(r *Row) string { return r.Proven }},
		{Title: "CHECKED", Width: 7, Right: true, MinTable: 90, Cell: func(r *Row) string { return widgets.Since(d.Now, r.Entry.Checked) }},
		{Title: "WORST / ERROR", Width: 20, Flex: true, Cell: func(r *Row) string {
			if r.Entry.Err != "" {
				return r.Entry.Err
			}
			return strings.Join(r.Entry.Worst, ", ")
		}},
	})
	m.table.Text = func(r *Row) string { return r.Info.Name + " " + r.Info.Cluster }
	m.table.Style = func(r *Row) lipgloss.Style { return c.Styles.For(level(r)) }
	m.table.Empty = "no contexts in the kubeconfig"
	return m
}

func state(r *Row) string {
	switch {
	case r.Entry.Checked.IsZero():
		return "…"
	case r.Entry.Refused:
		return "refused" // reachable, not readable: WORST / ERROR says by whom
	case !r.Entry.Reachable && r.Entry.Source == estate.FleetFromPrometheus:
		return "no data" // the query failed, not the cluster: WORST / ERROR says why
	case !r.Entry.Reachable:
		return "unreachable"
	}
	return "reachable"
}

func num(r *Row, n int) string {
	if r.Entry.Checked.IsZero() || !r.Entry.Reachable {
		return "-"
	}
	return fmt.Sprint(n)
}

func firing(r *Row) string {
	switch {
	case r.Entry.Checked.IsZero():
		return "-"
	case r.Entry.Firing < 0:
		return "n/a"
	}
	return fmt.Sprint(r.Entry.Firing)
}

func level(r *Row) theme.Level {
	e := r.Entry
	switch {
	case e.Checked.IsZero():
		return theme.LevelMuted
	case !e.Reachable || e.Down > 0 || e.Degraded > 0 || e.Firing > 0:
		return theme.LevelCrit
	case e.Progressing > 0 || e.Unknown > 0:
		return theme.LevelWarn
	}
	return theme.LevelOK
}

// Title implements common.Titled.
func (m *Model) Title() string { return "Contexts" }

// Rows returns the rows shown.
func (m *Model) Rows() []*Row { return m.table.Rows() }

// Refresh implements common.Refresher.
func (m *Model) Refresh() {
	entries := map[string]estate.FleetEntry{}
	for _, e := range m.data.Fleet.Entries {
		entries[e.Context] = e
	}
	rows := make([]*Row, 0, len(m.data.Contexts))
	for _, c := range m.data.Contexts {
		rows = append(rows, &Row{Info: c, Entry: entries[c.Name], Proven: m.proven(c.Name)})
	}
	m.table.SetRows(rows, func(r *Row) string { return r.Info.Name })
}

// proven is a context's proven score: live for the context on screen, else
// the last one its history recorded with its age, "-" for none.
func (m *Model) proven(name string) string {
	pct := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.0f%%", *p)
	}
	if f := m.data.Snap.Findings; name == m.data.Context && !f.At.IsZero() && (f.Context == "" || f.Context == name) {
		if m.live.context != name || !m.live.at.Equal(f.At) {
			s := checks.ComputeScore(f.Catalogue, m.data.Findings())
			m.live.context, m.live.at, m.live.text = name, f.At, pct(s.Proven.Overall)+" live"
		}
		return m.live.text
	}
	if m.data.Evaluations == nil {
		return "-"
	}
	runs := m.data.Evaluations.Recorded(name)
	if len(runs) == 0 {
		return "-"
	}
	last := runs[len(runs)-1]
	return pct(last.Proven) + " " + widgets.Since(m.data.Now, last.Time)
}

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.table.SetSize(w, max(0, h-2))
}

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	switch {
	case m.table.Move(k, common.NavKeys(m.keyMap.KeyMap)):
	case key.Matches(k, m.keyMap.Refresh):
		return m, common.Do(common.RefreshFleetMsg{})
	case key.Matches(k, m.keyMap.Use):
		if r, ok := m.table.Selected(); ok {
			m.Tell(common.SwitchContextMsg{Name: r.Info.Name})
		}
	}
	return m, nil
}

// ShortHelp implements common.Component.
func (m *Model) ShortHelp() []key.Binding { return m.keyMap.ShortHelp() }

// FullHelp implements common.Component.
func (m *Model) FullHelp() [][]key.Binding { return m.keyMap.FullHelp() }

// View implements common.Component.
func (m *Model) View() string {
	st := m.common.Styles
	head := fmt.Sprintf("%d contexts · :ctx NAME switches directly", len(m.data.Contexts))
	switch {
	case m.data.FleetErr != "":
		head += " · fleet: " + m.data.FleetErr
	case !m.data.Fleet.Taken.IsZero():
		head += " · fleet summarised " + widgets.Since(m.data.Now, m.data.Fleet.Taken) + " ago"
	default:
		head += " · summarising the fleet…"
	}
	if m.data.Down != "" {
		// No session: vigil could not reach the context it started on.
		// Say why above the list to choose another from.
		down := st.Crit.Render(widgets.Fit("✖ "+m.data.Down, m.width))
		return down + "\n" + st.Muted.Render(widgets.Fit(head, m.width)) + "\n" + m.table.View()
	}
	return st.Muted.Render(widgets.Fit(head, m.width)) + "\n\n" + m.table.View()
}
