// Package services is the home screen: one row per Deployment/StatefulSet
// of the watched namespaces, unhealthy first, and the detail view of one
// service. The list renders only the rows that fit, so 10k services cost no
// more to draw than 20.
package services

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/termsafe"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/render"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Model is the Services list. It implements common.Component.
type Model struct {
	common.Nav
	common    common.Common
	data      *common.Data
	table     *widgets.Table[*estate.Service]
	filtering bool
	input     widgets.Input
	namespace string // "" = all
	// Actions lists a service's actions for the detail view; nil hides them.
	actions actionsui.Provider
	keyMap  KeyMap
	width   int
	height  int
	// unseen is, per namespace, the HPA and ARGO cells of a service with
	// none when vigil cannot tell that it has none (render.Cell): "-" only
	// where HPAs and Applications are read.
	unseen map[string][2]string
}

var _ common.Component = (*Model)(nil)

// KeyMap is the Services list's keys: the help shows them and the list
// handles them.
type KeyMap struct {
	common.KeyMap
	// Logs (l) opens the selected service's logs.
	Logs key.Binding
	// YAML (y) shows the selected workload's YAML; Events (e) the events
	// and conditions of it and its pods.
	YAML, Events key.Binding
	// KeepFilter (enter) ends typing a filter and keeps it.
	KeepFilter key.Binding
	// ClearFilter (esc) drops the filter and the namespace.
	ClearFilter key.Binding
	// filtering: a filter is being typed.
	filtering bool
}

// DefaultKeyMap returns the Services list's keys over the shared ones.
func DefaultKeyMap(shared common.KeyMap) KeyMap {
	return KeyMap{
		KeyMap:      shared,
		Logs:        keyLogs,
		YAML:        keyYAML,
		Events:      keyEvents,
		KeepFilter:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
	}
}

// ShortHelp implements common.Help.
func (k KeyMap) ShortHelp() []key.Binding {
	if k.filtering {
		return []key.Binding{k.KeepFilter, k.ClearFilter}
	}
	return []key.Binding{k.Enter, k.Filter, k.Namespace, k.Sort, k.Command, k.Help, k.Quit}
}

// FullHelp implements common.Help.
func (k KeyMap) FullHelp() [][]key.Binding {
	if k.filtering {
		return [][]key.Binding{k.ShortHelp()}
	}
	return [][]key.Binding{k.NavHelp(), {k.Enter, k.Logs, k.YAML, k.Events, k.Filter, k.Namespace, k.Sort, k.SortReverse, k.ClearFilter}, k.RootHelp(true)}
}

// keys is the key map in the list's state: typing a filter or not; Esc
// only when there is a filter or namespace to clear.
func (m *Model) keys() KeyMap {
	k := m.keyMap
	k.filtering = m.filtering
	k.ClearFilter.SetEnabled(m.filtering || m.table.Filter() != "" || m.namespace != "")
	return k
}

// New returns the Services list reading d.
func New(c common.Common, d *common.Data, al actionsui.Provider) *Model {
	m := &Model{common: c, data: d, actions: al, input: widgets.Input{Prompt: "/"}, keyMap: DefaultKeyMap(c.Keys)}
	m.table = widgets.NewTable(c.Styles, m.columns())
	m.table.Text = func(s *estate.Service) string { return s.Namespace + "/" + s.Name }
	m.table.Style = func(s *estate.Service) lipgloss.Style { return render.Health(c.Styles, s.Health.Status) }
	m.table.Keep = func(s *estate.Service) bool { return m.namespace == "" || s.Namespace == m.namespace }
	m.table.Empty = "no Deployments or StatefulSets in the watched namespaces"
	return m
}

// Title implements common.Titled.
func (m *Model) Title() string { return "Services" }

// Capturing implements common.Capturing: true while typing a filter.
func (m *Model) Capturing() bool { return m.filtering }

// Refresh implements common.Refresher: take the snapshot's services.
func (m *Model) Refresh() {
	svcs := m.data.Snap.Services
	rows := make([]*estate.Service, len(svcs))
	for i := range svcs {
		rows[i] = &svcs[i]
	}
	if !m.data.HaveSnap || !m.data.Snap.Synced {
		m.table.Empty = "loading… (syncing " + termsafe.Line(m.data.Context) + ")"
	} else if v := m.data.Snap.Visibility("", checks.ResDeployments, checks.ResStatefulSets); v.Access != estate.AccessWatched {
		// Not "none": vigil could not look (a user the API refuses them).
		m.table.Empty = "no Deployments or StatefulSets seen: " + render.Unseen(v)
	} else {
		m.table.Empty = "no Deployments or StatefulSets in the watched namespaces"
	}
	// NAMESPACE and NAME fit the longest values (within bounds).
	nsW, nameW := len("NAMESPACE"), 16
	for _, s := range rows {
		nsW, nameW = max(nsW, len(s.Namespace)), max(nameW, len(s.Name))
	}
	m.unseen = map[string][2]string{}
	for _, s := range rows {
		if _, ok := m.unseen[s.Namespace]; !ok {
			m.unseen[s.Namespace] = [2]string{render.Cell(m.data.Snap.Visibility(s.Namespace, checks.ResHPAs)),
				render.Cell(m.data.Snap.Visibility(s.Namespace, checks.ResApplications))}
		}
	}
	m.table.Columns[0].Width = min(nsW, 20)
	m.table.Columns[1].MaxWidth = min(nameW, 40)
	m.table.SetRows(rows, func(s *estate.Service) string { return s.Key() })
}

// SetActions sets the action provider of the context on screen.
func (m *Model) SetActions(p actionsui.Provider) { m.actions = p }

// Selected returns the service under the cursor.
func (m *Model) Selected() (estate.Service, bool) {
	s, ok := m.table.Selected()
	if !ok {
		return estate.Service{}, false
	}
	return *s, true
}

// Table exposes the table, for tests.
func (m *Model) Table() *widgets.Table[*estate.Service] { return m.table }

// Namespace returns the namespace filter ("" for all).
func (m *Model) Namespace() string { return m.namespace }

// SetNamespace sets the namespace filter ("" for all).
func (m *Model) SetNamespace(ns string) {
	m.namespace = ns
	m.table.Refresh()
}

// SetFilter sets the fuzzy filter, as if typed after "/".
func (m *Model) SetFilter(f string) {
	m.input.SetValue(f)
	m.table.SetFilter(f)
}

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.table.SetSize(w, max(0, h-statusHeight))
}

// statusHeight is the selected service's reason strip plus the filter line.
const statusHeight = 2

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	keys := m.keys()
	if m.filtering {
		switch {
		case key.Matches(k, keys.KeepFilter):
			m.filtering = false
		case key.Matches(k, keys.ClearFilter):
			m.filtering = false
			m.SetFilter("")
		case m.input.Update(k):
			m.table.SetFilter(m.input.Value())
		}
		return m, nil
	}
	switch {
	case m.table.Move(k, common.NavKeys(keys.KeyMap)):
	case key.Matches(k, keys.Filter):
		m.filtering = true
	case key.Matches(k, keys.ClearFilter):
		m.SetFilter("")
		m.SetNamespace("")
	case key.Matches(k, keys.Sort):
		m.table.NextSort()
	case key.Matches(k, keys.SortReverse):
		col, rev := m.table.Sort()
		m.table.SortBy(col, !rev)
	case key.Matches(k, keys.Namespace):
		m.nextNamespace()
	case key.Matches(k, keys.Enter):
		if s, ok := m.table.Selected(); ok {
			m.PushChild(NewDetail(m.common, m.data, s.Key(), m.actions))
		}
	case key.Matches(k, keys.Logs):
		if s, ok := m.table.Selected(); ok {
			m.openLogs(s.Namespace, s.Name, false)
		}
	case key.Matches(k, keys.YAML):
		if s, ok := m.table.Selected(); ok {
			m.PushChild(yamlView(m.common, m.data, workloadRef(*s)))
		}
	case key.Matches(k, keys.Events):
		if s, ok := m.table.Selected(); ok {
			m.PushChild(eventsView(m.common, m.data, workloadRef(*s)))
		}
	}
	return m, nil
}

// nextNamespace cycles the namespace filter through the watched namespaces.
func (m *Model) nextNamespace() {
	var names []string
	for _, ns := range m.data.Snap.Namespaces {
		names = append(names, ns.Name)
	}
	if len(names) == 0 {
		for _, s := range m.data.Snap.Services {
			if !slices.Contains(names, s.Namespace) {
				names = append(names, s.Namespace)
			}
		}
	}
	slices.Sort(names)
	i := slices.Index(names, m.namespace)
	switch {
	case m.namespace == "" && len(names) > 0:
		m.SetNamespace(names[0])
	case i >= 0 && i+1 < len(names):
		m.SetNamespace(names[i+1])
	default:
		m.SetNamespace("")
	}
}

// ShortHelp implements common.Component.
func (m *Model) ShortHelp() []key.Binding { return m.keys().ShortHelp() }

// FullHelp implements common.Component.
func (m *Model) FullHelp() [][]key.Binding { return m.keys().FullHelp() }

// View implements common.Component.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	v := m.table.View()
	return v + pad(v, m.height-statusHeight) + "\n" + m.statusLines()
}

// pad returns the newlines that fill a view of fewer than h lines.
func pad(v string, h int) string {
	n := strings.Count(v, "\n") + 1
	return strings.Repeat("\n", max(0, h-n))
}

// statusLines are the selected service's reason and the filter/sort line.
func (m *Model) statusLines() string {
	st := m.common.Styles
	line := ""
	if s, ok := m.table.Selected(); ok {
		line = render.Health(st, s.Health.Status).Render(widgets.Fit(s.Namespace+"/"+s.Name+" "+s.Health.Status.String()+reasonSuffix(s), m.width))
	}
	var parts []string
	switch {
	case m.filtering:
		parts = append(parts, st.Accent.Render(m.input.View()))
	case m.table.Filter() != "":
		parts = append(parts, st.Accent.Render("/"+m.table.Filter()))
	}
	ns := "all namespaces"
	if m.namespace != "" {
		ns = "ns " + m.namespace
	}
	counts := fmt.Sprintf("%d of %d · %s · sort %s", m.table.Len(), len(m.table.Rows()), ns, m.table.SortName())
	if note := m.data.Snap.Usage.Note(); note != "" && m.data.HaveSnap && m.data.Snap.Synced {
		counts += " · " + note
	}
	parts = append(parts, st.Muted.Render(counts))
	return line + "\n" + widgets.Fit(strings.Join(parts, "  "), m.width)
}

func reasonSuffix(s *estate.Service) string {
	if s.Health.Reason == "" {
		return ""
	}
	return ": " + s.Health.Reason
}

// columns are the list's columns; narrow terminals drop the right-hand ones.
func (m *Model) columns() []widgets.Column[*estate.Service] {
	type S = *estate.Service
	return []widgets.Column[S]{
		{Title: "NAMESPACE", Width: 15, Cell: func(s S) string { return s.Namespace },
			Compare: func(a, b S) int {
				return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
			}},
		{Title: "NAME", Width: 16, Flex: true, Cell: func(s S) string { return s.Name },
			Compare: func(a, b S) int { return strings.Compare(a.Name, b.Name) }},
		{Title: "HEALTH", Descending: true, Width: 11, Cell: func(s S) string { return s.Health.Status.String() },
			Compare: func(a, b S) int {
				return cmp.Compare(render.HealthLevel(b.Health.Status), render.HealthLevel(a.Health.Status))
			}},
		{Title: "READY", Width: 5, Right: true, Cell: func(s S) string { return fmt.Sprintf("%d/%d", s.Ready, s.Desired) },
			Compare: func(a, b S) int { return cmp.Compare(a.Desired-a.Ready, b.Desired-b.Ready) * -1 }},
		{Title: "RST", Descending: true, Width: 4, Right: true, Cell: func(s S) string { return fmt.Sprint(s.Restarts) },
			Compare: func(a, b S) int { return cmp.Compare(b.Restarts, a.Restarts) }},
		{Title: "CPU", Descending: true, Width: 4, Right: true, Cell: func(s S) string { return render.Pct(s.Usage.CPUOfRequest()) },
			Compare: func(a, b S) int { return cmp.Compare(b.Usage.CPUOfRequest(), a.Usage.CPUOfRequest()) }},
		{Title: "MEM", Descending: true, Width: 4, Right: true, Cell: func(s S) string { return render.Pct(s.Usage.MemoryOfRequest()) },
			Compare: func(a, b S) int { return cmp.Compare(b.Usage.MemoryOfRequest(), a.Usage.MemoryOfRequest()) }},
		{Title: "HPA", Descending: true, Width: 5, Right: true, Cell: func(s S) string { return hpaCell(s, m.unseen[s.Namespace][0]) },
			Compare: func(a, b S) int { return cmp.Compare(b.HPA.Saturation, a.HPA.Saturation) }},
		{Title: "ALRT", Descending: true, Width: 4, Right: true, Cell: func(s S) string { return alertCell(s) },
			Compare: func(a, b S) int { return cmp.Compare(firing(b), firing(a)) }},
		{Title: "ARGO", Width: 14, MinTable: 100, Cell: func(s S) string { return argoCell(s, m.unseen[s.Namespace][1]) },
			Compare: func(a, b S) int {
				return strings.Compare(argoCell(a, m.unseen[a.Namespace][1]), argoCell(b, m.unseen[b.Namespace][1]))
			}},
		{Title: "ROLLOUT", Width: 7, Right: true, MinTable: 100, Cell: func(s S) string { return widgets.Since(m.data.Now, lastRollout(s)) },
			Compare: func(a, b S) int { return lastRollout(b).Compare(lastRollout(a)) }},
		{Title: "REASON", Width: 12, Flex: true, MinTable: 120, Cell: func(s S) string {
			// Pods are named after their workload: the NAME column already says it.
			return strings.ReplaceAll(s.Health.Reason, s.Name+"-", "…")
		}},
	}
}

// hpaCell is the HPA's current/max replicas; none is the cell without one.
func hpaCell(s *estate.Service, none string) string {
	if s.HPA.Name == "" {
		return or(none, "-")
	}
	return fmt.Sprintf("%d/%d", s.HPA.Current, s.HPA.Max)
}

func firing(s *estate.Service) int {
	n := 0
	for _, a := range s.Alerts {
		if a.State == "firing" {
			n++
		}
	}
	return n
}

func alertCell(s *estate.Service) string {
	n, p := firing(s), len(s.Alerts)-firing(s)
	switch {
	case n > 0:
		return fmt.Sprintf("%d!", n)
	case p > 0:
		return fmt.Sprintf("%d?", p)
	}
	return "-"
}

// argoCell is the Application's sync/health; none is the cell without one.
func argoCell(s *estate.Service, none string) string {
	if s.Argo.Name == "" {
		return or(none, "-")
	}
	return s.Argo.Sync + "/" + s.Argo.Health
}

// lastRollout is when the current revision was created.
func lastRollout(s *estate.Service) (t time.Time) {
	for _, r := range s.Revisions {
		if r.Current {
			return r.Created
		}
	}
	if len(s.Revisions) > 0 {
		return s.Revisions[0].Created
	}
	return s.Created
}

// LineWith returns the first line of screen containing s (tests and e2e).
func LineWith(screen, s string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
