// Package events is the events and conditions view of one object and its
// pods (through common.Data.Events, fresh LISTs in cluster/): every type of
// event, newest first, with counts and ages, filtered by type on f, then
// the conditions of the object and its pods.
package events

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Fetch returns the events and conditions of an object and its pods; it
// blocks on the network.
type Fetch func(ctx context.Context, ref estate.ObjectRef) (estate.ObjectEvents, error)

// Keys of the events view beyond the common ones.
var (
	keyFilter  = key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "all/warning/normal"))
	keyRefresh = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh"))
)

// Filters are the event types f cycles through; "" is every type.
var Filters = []string{"", "Warning", "Normal"}

// Model is the events and conditions of one object.
type Model struct {
	common.Nav
	c      common.Common
	data   *common.Data
	fetch  Fetch
	ref    estate.ObjectRef
	got    estate.ObjectEvents
	err    string
	loaded bool
	filter int
	pager  widgets.Pager
	width  int
	height int
}

// New returns the events view of ref, read with fetch; d gives the clock.
func New(c common.Common, d *common.Data, fetch Fetch, ref estate.ObjectRef) *Model {
	m := &Model{c: c, data: d, fetch: fetch, ref: ref}
	m.SetSize(c.Width, c.Height)
	return m
}

// Title implements common.Titled.
func (m *Model) Title() string { return "events " + m.ref.String() }

// FetchedMsg carries the events of Ref (or why not). The service detail
// view takes it too.
type FetchedMsg struct {
	Ref    estate.ObjectRef
	Events estate.ObjectEvents
	Err    error
}

// Load returns a command fetching ref's events with fetch.
func Load(fetch Fetch, ref estate.ObjectRef) tea.Cmd {
	if fetch == nil {
		return common.Do(FetchedMsg{Ref: ref, Err: fmt.Errorf("events are not available for this context")})
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		got, err := fetch(ctx, ref)
		return FetchedMsg{Ref: ref, Events: got, Err: err}
	}
}

// Init implements common.Initer.
func (m *Model) Init() tea.Cmd { return Load(m.fetch, m.ref) }

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case FetchedMsg:
		if msg.Ref != m.ref {
			return m, nil
		}
		m.loaded, m.err = true, ""
		if msg.Err != nil {
			m.err = msg.Err.Error()
		} else {
			m.got = msg.Events
		}
		m.rebuild()
	case tea.KeyPressMsg:
		keys := m.c.Keys
		switch {
		case m.pager.Move(msg, common.NavKeys(keys)):
		case key.Matches(msg, keys.Back):
			m.PopSelf()
		case key.Matches(msg, keyFilter):
			m.filter = (m.filter + 1) % len(Filters)
			m.rebuild()
		case key.Matches(msg, keyRefresh):
			return m, Load(m.fetch, m.ref)
		}
	}
	return m, nil
}

// Filter is the event type shown ("" for every type).
func (m *Model) Filter() string { return Filters[m.filter] }

// Shown returns the events the filter keeps.
func (m *Model) Shown() []estate.KubeEvent { return Only(m.got.Events, m.Filter()) }

// Only keeps the events of type typ ("" keeps all).
func Only(evs []estate.KubeEvent, typ string) []estate.KubeEvent {
	if typ == "" {
		return evs
	}
	var out []estate.KubeEvent
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func (m *Model) rebuild() {
	st := m.c.Styles
	var out []string
	evs := m.Shown()
	what := "all types"
	if f := m.Filter(); f != "" {
		what = f + " only"
	}
	out = append(out, st.Accent.Render(fmt.Sprintf("EVENTS (%d of %d, %s, newest first)", len(evs), len(m.got.Events), what)))
	if len(evs) == 0 {
		out = append(out, st.Muted.Render("no events"))
	} else {
		out = append(out, st.TableHeader.Render(widgets.Fit(EventHeader(), m.width)))
	}
	for _, e := range evs {
		out = append(out, EventLines(st, e, m.data.Now, m.width)...)
	}
	out = append(out, "", st.Accent.Render(fmt.Sprintf("CONDITIONS (%d)", len(m.got.Conditions))))
	if len(m.got.Conditions) == 0 {
		out = append(out, st.Muted.Render("no conditions"))
	} else {
		out = append(out, st.TableHeader.Render(widgets.Fit(ConditionHeader(), m.width)))
	}
	for _, c := range m.got.Conditions {
		out = append(out, ConditionLines(st, c, m.data.Now, m.width)...)
	}
	m.pager.SetLines(out)
}

// EventHeader is the column header of EventLine.
func EventHeader() string {
	return fmt.Sprintf("%5s %-7s %-22s %-40s %5s %s", "AGE", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE")
}

// EventLines draws one event in lines of at most w cells: age, type, reason, object and
// count, then its message on the same line when it fits, else wrapped under the row,
// indented; warnings in the warning colour. The message says why: it is not cut.
func EventLines(st theme.Theme, e estate.KubeEvent, now time.Time, w int) []string {
	lvl := theme.LevelMuted
	if e.Type == "Warning" {
		lvl = theme.LevelWarn
	}
	cols := fmt.Sprintf("%5s %-7s %-22s %-40s %5s", since(now, e.Last), e.Type, e.Reason, objectCell(e.Kind, e.Name, 40), fmt.Sprintf("×%d", e.Count))
	return rowThenMessage(st.For(lvl), cols, e.Message, w)
}

// ConditionHeader is the column header of ConditionLines.
func ConditionHeader() string {
	return fmt.Sprintf("%-40s %-22s %-7s %-24s %5s %s", "OBJECT", "TYPE", "STATUS", "REASON", "AGE", "MESSAGE")
}

// ConditionLines draws one object's condition as EventLines draws an event: object, type,
// status, reason and age, then the message, whole; a condition not True in the warning
// colour.
func ConditionLines(st theme.Theme, c estate.ObjectCondition, now time.Time, w int) []string {
	lvl := theme.LevelOK
	if c.Status != "True" {
		lvl = theme.LevelWarn
	}
	cols := fmt.Sprintf("%-40s %-22s %-7s %-24s %5s", objectCell(c.Kind, c.Name, 40), c.Type, c.Status, dash(c.Reason), since(now, c.Since))
	return rowThenMessage(st.For(lvl), cols, c.Message, w)
}

// messageIndent is how far a message wrapped under its row is indented.
const messageIndent = "      "

// rowThenMessage is cols followed by msg on one line when that fits in w cells, else cols
// (cut to w) and msg wrapped under it, indented.
func rowThenMessage(s lipgloss.Style, cols, msg string, w int) []string {
	if line := cols + " " + msg; msg == "" || ansi.StringWidth(line) <= w {
		return []string{s.Render(widgets.Fit(strings.TrimRight(line, " "), w))}
	}
	return append([]string{s.Render(widgets.Fit(cols, w))}, widgets.HangingStyled(messageIndent, msg, w, func(l string) string { return s.Render(l) })...)
}

// objectCell is kind/name in at most w cells; a name too long loses its middle, not its
// end: pods of one ReplicaSet differ only in their last characters.
func objectCell(kind, name string, w int) string {
	k := strings.ToLower(kind) + "/"
	if ansi.StringWidth(k+name) <= w {
		return k + name
	}
	return k + widgets.FitTail(name, w-ansi.StringWidth(k))
}

func since(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return widgets.Since(now, t)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) {
	resized := m.width != w
	m.width, m.height = w, h
	m.pager.SetSize(w, max(1, h-2))
	if resized {
		m.rebuild() // the messages wrap at the width
	}
}

// View implements common.Component.
func (m *Model) View() string {
	st := m.c.Styles
	head := "events and conditions of " + m.ref.String() + " and its pods"
	if !m.loaded {
		head += " · fetching…"
	}
	var b strings.Builder
	b.WriteString(st.Accent.Render(widgets.Fit(head, m.width)) + "\n")
	body := m.pager.View()
	b.WriteString(body)
	for n := strings.Count(body, "\n") + 1; n < m.height-1; n++ {
		b.WriteString("\n")
	}
	b.WriteString("\n")
	if m.err != "" {
		b.WriteString(st.Crit.Render(widgets.Fit(m.err, m.width)))
	} else {
		b.WriteString(st.Muted.Render(widgets.Fit("f all/warning/normal · r refresh · g/G top/bottom · esc back", m.width)))
	}
	return b.String()
}

// ShortHelp implements common.Component.
func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{keyFilter, keyRefresh, m.c.Keys.Back}
}

// FullHelp implements common.Component.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.c.Keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, m.ShortHelp()}
}
