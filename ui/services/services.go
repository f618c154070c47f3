// Package services is the Services pane: the Deployments and StatefulSets of
// the watched namespaces, unhealthy first. It renders only the rows that fit,
// so 10k services cost no more to draw than 20.
package services

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/ui/common"
)

// Model is the Services pane. It implements common.Component.
type Model struct {
	common        common.Common
	width, height int
	rows          []cluster.Service
	synced        bool
	now           time.Time
	cursor        int // index into rows
	offset        int // first visible row
}

// New returns an empty Services pane.
func New(c common.Common) *Model { return &Model{common: c} }

var _ common.Component = (*Model)(nil)

// SetServices replaces the rows with a snapshot's services, keeping the
// cursor on the same service when it is still there. now is the clock the
// AGE column is measured against.
func (m *Model) SetServices(svcs []cluster.Service, synced bool, now time.Time) {
	var selected string
	if m.cursor < len(m.rows) {
		selected = m.rows[m.cursor].Key()
	}
	m.rows, m.synced, m.now = svcs, synced, now
	m.cursor = 0
	for i, s := range svcs {
		if s.Key() == selected {
			m.cursor = i
			break
		}
	}
	m.clamp()
}

// SetNow sets the clock for the AGE column.
func (m *Model) SetNow(now time.Time) { m.now = now }

// Selected returns the service under the cursor; ok is false when empty.
func (m *Model) Selected() (cluster.Service, bool) {
	if m.cursor >= len(m.rows) {
		return cluster.Service{}, false
	}
	return m.rows[m.cursor], true
}

// Cursor returns the cursor's row index.
func (m *Model) Cursor() int { return m.cursor }

// SetSize implements common.Component.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.clamp()
}

// Update implements common.Component: cursor movement.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	keys := m.common.Keys
	page := max(1, m.pageSize())
	switch {
	case key.Matches(k, keys.Up):
		m.cursor--
	case key.Matches(k, keys.Down):
		m.cursor++
	case key.Matches(k, keys.PageUp):
		m.cursor -= page
	case key.Matches(k, keys.PageDown):
		m.cursor += page
	case key.Matches(k, keys.Top):
		m.cursor = 0
	case key.Matches(k, keys.Bottom):
		m.cursor = len(m.rows) - 1
	}
	m.clamp()
	return m, nil
}

// ShortHelp implements common.Component.
func (m *Model) ShortHelp() []key.Binding {
	k := m.common.Keys
	return []key.Binding{k.Up, k.Down, k.Help, k.Quit}
}

// FullHelp implements common.Component.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.common.Keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Top, k.Bottom}, {k.Help, k.Quit}}
}

// pageSize is the number of rows that fit below the column header.
func (m *Model) pageSize() int { return m.height - 1 }

// clamp keeps cursor within rows and the cursor row visible.
func (m *Model) clamp() {
	m.cursor = min(m.cursor, len(m.rows)-1)
	m.cursor = max(m.cursor, 0)
	page := max(1, m.pageSize())
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+page {
		m.offset = m.cursor - page + 1
	}
	m.offset = max(0, min(m.offset, len(m.rows)-page))
}

// column is one table column; the flex column takes the width left over.
type column struct {
	title string
	width int
	right bool
	flex  bool
	cell  func(m *Model, s cluster.Service) string
}

// layout picks the columns for the width: NAME fits the visible names,
// REASON appears when there is room and takes the rest.
func (m *Model) layout() []column {
	visible := m.rows[m.offset:min(len(m.rows), m.offset+max(1, m.pageSize()))]
	nsWidth, nameWidth := len("NAMESPACE"), 16
	for _, s := range visible {
		nsWidth = max(nsWidth, len(s.Namespace))
		nameWidth = max(nameWidth, len(s.Name))
	}
	nsWidth, nameWidth = min(nsWidth, 20), min(nameWidth, 40)
	cols := []column{
		{title: "NAMESPACE", width: nsWidth, cell: func(_ *Model, s cluster.Service) string { return s.Namespace }},
		{title: "NAME", width: 16, flex: true, cell: func(_ *Model, s cluster.Service) string { return s.Name }},
		{title: "KIND", width: 6, cell: func(_ *Model, s cluster.Service) string { return shortKind(s.Kind) }},
		{title: "READY", width: 5, right: true, cell: func(_ *Model, s cluster.Service) string { return fmt.Sprintf("%d/%d", s.Ready, s.Desired) }},
		{title: "UTD", width: 3, right: true, cell: func(_ *Model, s cluster.Service) string { return fmt.Sprint(s.UpToDate) }},
		{title: "RST", width: 4, right: true, cell: func(_ *Model, s cluster.Service) string { return fmt.Sprint(s.Restarts) }},
		{title: "AGE", width: 4, right: true, cell: func(m *Model, s cluster.Service) string { return Age(m.now.Sub(s.Created)) }},
		{title: "STATUS", width: 11, cell: func(_ *Model, s cluster.Service) string { return s.Health.Status.String() }},
	}
	used := len(cols) - 1 // separators
	for _, c := range cols {
		used += c.width
	}
	left := max(0, m.width-used)
	const reasonMin = 20
	if grow := nameWidth - cols[1].width; left-grow-1 >= reasonMin {
		// Room for every visible name and a REASON column.
		cols[1].width += grow
		cols = append(cols, column{title: "REASON", width: left - grow - 1, cell: func(_ *Model, s cluster.Service) string {
			// Pods are named after their workload: the NAME column already says it.
			return strings.ReplaceAll(s.Health.Reason, s.Name+"-", "…")
		}})
		return cols
	}
	cols[1].width += left
	return cols
}

// View implements common.Component.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	st := m.common.Styles
	cols := m.layout()
	var b strings.Builder
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = pad(c.title, c.width, c.right)
	}
	b.WriteString(st.TableHeader.Render(ansi.Truncate(strings.Join(header, " "), m.width, "")))

	if len(m.rows) == 0 {
		b.WriteString("\n")
		msg := "no Deployments or StatefulSets in the watched namespaces"
		if !m.synced {
			msg = "loading…"
		}
		b.WriteString(st.Muted.Render(ansi.Truncate(msg, m.width, "…")))
		return b.String()
	}
	end := min(len(m.rows), m.offset+m.pageSize())
	for i := m.offset; i < end; i++ {
		s := m.rows[i]
		b.WriteString("\n")
		cells := make([]string, len(cols))
		for j, c := range cols {
			cells[j] = pad(c.cell(m, s), c.width, c.right)
		}
		line := strings.Join(cells, " ")
		if i == m.cursor {
			b.WriteString(st.Selected.Render(pad(line, m.width, false)))
			continue
		}
		b.WriteString(m.statusStyle(s.Health.Status).Render(line))
	}
	return b.String()
}

// statusStyle maps health to the theme: the one place that decision is made.
func (m *Model) statusStyle(s cluster.Status) interface{ Render(...string) string } {
	st := m.common.Styles
	switch s {
	case cluster.StatusDown, cluster.StatusDegraded:
		return st.Crit
	case cluster.StatusProgressing, cluster.StatusUnknown:
		return st.Warn
	default:
		return st.OK
	}
}

// pad fits s into exactly w cells, truncating with "…".
func pad(s string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "…")
	gap := strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
	if right {
		return gap + s
	}
	return s + gap
}

func shortKind(k string) string {
	switch k {
	case "Deployment":
		return "deploy"
	case "StatefulSet":
		return "sts"
	}
	return strings.ToLower(k)
}

// Age renders a duration kubectl-style: 45s, 12m, 5h, 3d, 2y.
func Age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d < 2*365*24*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return fmt.Sprintf("%dy", int(d.Hours()/24/365))
}
