package services

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/events"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Detail is one service in depth: pods, rollout history, autoscalers,
// events, alerts, checklist findings and actions. It follows the service
// across snapshots by key and scrolls as one page.
type Detail struct {
	common.Nav
	common   common.Common
	data     *common.Data
	key      string
	svc      estate.Service
	found    bool
	pager    widgets.Pager
	width    int
	height   int
	actions  actionsui.Provider
	states   []actionsui.State
	stateErr string
	loaded   bool  // states arrived
	sections []int // first line of each section, for tab jumps
	keyMap   DetailKeyMap

	// evs are the events of every type and the conditions of the
	// workload and its pods, fetched at evsAt (zero before they arrive);
	// evsErr says why they could not be.
	evs      estate.ObjectEvents
	evsAt    time.Time
	evsErr   string
	evsAsked time.Time
}

var _ common.Component = (*Detail)(nil)

// DetailKeyMap is the detail view's keys: the help shows them and the view
// handles them.
type DetailKeyMap struct {
	common.KeyMap
	// NextSection (tab) and PrevSection (shift+tab) jump between sections.
	NextSection, PrevSection key.Binding
	// Logs (l) opens the service's logs, the previous run's when a pod
	// crash-loops.
	Logs key.Binding
	// YAML (y) chooses an object the page shows and shows its YAML;
	// Events (e) shows the events and conditions of the workload and its
	// pods.
	YAML, Events key.Binding
}

// DefaultDetailKeyMap returns the detail view's keys over the shared ones.
func DefaultDetailKeyMap(shared common.KeyMap) DetailKeyMap {
	return DetailKeyMap{
		KeyMap:      shared,
		NextSection: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next section")),
		PrevSection: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "prev section")),
		Logs:        keyLogs,
		YAML:        keyYAML,
		Events:      keyEvents,
	}
}

// ShortHelp implements common.Help.
func (k DetailKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Down, k.NextSection, k.Actions, k.Back, k.Command, k.Help}
}

// FullHelp implements common.Help.
func (k DetailKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{k.NavHelp(), {k.NextSection, k.PrevSection, k.Actions, k.Logs, k.YAML, k.Events, k.Back}, k.RootHelp(false)}
}

// keys is the key map in the view's state: logs and actions only while the
// service exists (and actions only with a provider).
func (m *Detail) keys() DetailKeyMap {
	k := m.keyMap
	k.Logs.SetEnabled(m.found)
	k.YAML.SetEnabled(m.found)
	k.Events.SetEnabled(m.found)
	k.Actions.SetEnabled(m.found && m.actions != nil)
	return k
}

// NewDetail returns the detail view of the service with key k.
func NewDetail(c common.Common, d *common.Data, k string, ap actionsui.Provider) *Detail {
	m := &Detail{common: c, data: d, key: k, actions: ap, keyMap: DefaultDetailKeyMap(c.Keys)}
	m.Refresh()
	return m
}

// Title implements common.Titled.
func (m *Detail) Title() string { return m.svc.Namespace + "/" + m.svc.Name }

// Key returns the key of the service shown.
func (m *Detail) Key() string { return m.key }

// Service returns the service shown; ok is false once it disappeared.
func (m *Detail) Service() (estate.Service, bool) { return m.svc, m.found }

// Init implements common.Initer: ask for the actions' states and the
// events of every type.
func (m *Detail) Init() tea.Cmd {
	if !m.found {
		return nil
	}
	cmds := []tea.Cmd{m.loadEvents()}
	if m.actions != nil {
		cmds = append(cmds, m.actions.States(m.key, m.items()))
	}
	return tea.Batch(cmds...)
}

// eventsMaxAge is how old the fetched events may get before a key in the
// view fetches them again.
const eventsMaxAge = 15 * time.Second

// loadEvents fetches the events and conditions of the workload and its pods.
func (m *Detail) loadEvents() tea.Cmd {
	if m.data.Events == nil {
		return nil
	}
	m.evsAsked = m.data.Now
	return events.Load(m.data.Events, workloadRef(m.svc))
}

// items are the service's actions as of the snapshot on screen.
func (m *Detail) items() []actionsui.Item {
	return actionsui.ServiceItems(m.common, m.actions, m.svc, &m.data.Snap, m.data.Now)
}

// Refresh implements common.Refresher: find the service again and rebuild.
func (m *Detail) Refresh() {
	m.found = false
	for i := range m.data.Snap.Services {
		if m.data.Snap.Services[i].Key() == m.key {
			m.svc, m.found = m.data.Snap.Services[i], true
			break
		}
	}
	m.rebuild()
}

// Clocked implements common.Clocked: the detail renders ages ahead of View.
func (m *Detail) Clocked() {}

// SetSize implements common.Component.
func (m *Detail) SetSize(w, h int) {
	m.width, m.height = w, h
	m.pager.SetSize(w, h)
	m.rebuild()
}

// Update implements common.Component.
func (m *Detail) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case actionsui.StatesMsg:
		if msg.Key == m.key {
			m.states, m.stateErr, m.loaded = msg.States, msg.Err, true
			m.rebuild()
		}
		return m, nil
	case events.FetchedMsg:
		if msg.Ref == workloadRef(m.svc) {
			m.evsErr = ""
			if msg.Err != nil {
				m.evsErr = msg.Err.Error()
			} else {
				m.evs, m.evsAt = msg.Events, m.data.Now
			}
			m.rebuild()
		}
		return m, nil
	case tea.KeyPressMsg:
		var cmd tea.Cmd
		if m.found && m.data.Events != nil && m.data.Now.Sub(m.evsAsked) > eventsMaxAge {
			cmd = m.loadEvents()
		}
		keys := m.keys()
		switch {
		case m.pager.Move(msg, common.NavKeys(keys.KeyMap)):
		case key.Matches(msg, keys.Back):
			m.PopSelf()
		case key.Matches(msg, keys.NextSection):
			m.jump(1)
		case key.Matches(msg, keys.PrevSection):
			m.jump(-1)
		case key.Matches(msg, keys.Logs):
			m.openLogs(m.svc.Namespace, m.svc.Name, crashLooping(m.svc))
		case key.Matches(msg, keys.YAML):
			m.PushChild(yamlChooser(m.common, m.data, m.svc))
		case key.Matches(msg, keys.Events):
			m.PushChild(eventsView(m.common, m.data, workloadRef(m.svc)))
		case key.Matches(msg, keys.Actions):
			m.PushChild(actionsui.NewMenu(m.common, m.svc.Namespace+"/"+m.svc.Name, m.key, m.items(), m.states, m.loaded, m.actions))
		}
		return m, cmd
	}
	return m, nil
}

// jump scrolls to the next (dir 1) or previous section.
func (m *Detail) jump(dir int) {
	off := m.pager.Offset()
	if dir > 0 {
		for _, s := range m.sections {
			if s > off {
				m.pager.ScrollTo(s)
				return
			}
		}
		return
	}
	for i := len(m.sections) - 1; i >= 0; i-- {
		if m.sections[i] < off {
			m.pager.ScrollTo(m.sections[i])
			return
		}
	}
}

// ShortHelp implements common.Component.
func (m *Detail) ShortHelp() []key.Binding { return m.keys().ShortHelp() }

// FullHelp implements common.Component.
func (m *Detail) FullHelp() [][]key.Binding { return m.keys().FullHelp() }

// View implements common.Component.
func (m *Detail) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	return m.pager.View()
}

// rebuild renders every section's lines for the current width.
func (m *Detail) rebuild() {
	if m.width <= 0 {
		return
	}
	st := m.common.Styles
	if !m.found {
		m.pager.SetLines([]string{st.Warn.Render(m.key + " is no longer in the snapshot (deleted, or filtered out by namespace)"), st.Muted.Render("esc: back to the list")})
		return
	}
	b := &lines{width: m.width}
	m.sections = m.sections[:0]
	for _, sec := range []func(*lines){m.summary, m.pods, m.history, m.autoscaling, m.alerts, m.events, m.checks, m.actionLines} {
		m.sections = append(m.sections, len(b.out))
		sec(b)
	}
	m.pager.SetLines(b.out)
}

// lines accumulates a detail page.
type lines struct {
	width int
	out   []string
}

func (l *lines) add(s ...string) { l.out = append(l.out, s...) }

func (l *lines) section(title string, d *Detail) {
	if len(l.out) > 0 {
		l.out = append(l.out, "")
	}
	st := d.common.Styles
	l.out = append(l.out, st.Accent.Render(title)+" "+st.Muted.Render(strings.Repeat("─", max(0, l.width-len([]rune(title))-1))))
}
