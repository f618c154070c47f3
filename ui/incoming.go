package ui

import (
	"fmt"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/termsafe"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/auditlog"
	"github.com/vigil-k8s/vigil/ui/common"
)

// onData handles what arrives from the cluster and the backend. Every
// result carries {Context, Generation}; one from a session already
// switched away from is dropped.
func (m *Model) onData(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case tickMsg:
		m.data.Now = m.nowFn()
		if !m.statusUntil.IsZero() && !m.data.Now.Before(m.statusUntil) {
			m.flash("", false)
		}
		if m.data.HaveSnap && m.data.History.AddAt(m.data.Snap, m.data.Now) {
			m.refreshAll()
		} else {
			m.retime()
		}
		return tick(), true
	case SnapshotMsg:
		return m.onSnapshot(msg), true
	case SessionClosedMsg:
		if msg.Context == m.onScreen.Context && msg.Generation == m.onScreen.Generation {
			m.closed = true
		}
		return nil, true
	case SwitchedMsg:
		return m.onSwitched(msg), true
	case FleetMsg:
		if msg.Contexts != nil {
			m.data.Contexts = msg.Contexts
		}
		if msg.Err != nil {
			m.data.FleetErr = msg.Err.Error()
		} else {
			m.data.Fleet, m.data.FleetErr = msg.Summary, ""
		}
		m.refreshAll()
		return nil, true
	case actionsui.StatesMsg:
		if msg.Context != m.onScreen.Context || msg.Generation != m.onScreen.Generation {
			return nil, true
		}
		return m.toTop(msg), true
	case actionsui.ProgressMsg:
		return m.onActionEvent(msg), true
	case spinner.TickMsg:
		return m.activity.Update(msg), true
	case auditlog.LoadedMsg:
		m.audit.Set(msg)
		return nil, true
	}
	return nil, false
}

// apply shows snapshot s, with the findings the session evaluated.
func (m *Model) apply(s estate.Snapshot) tea.Cmd {
	m.data.Now = m.nowFn()
	m.data.Snap, m.data.HaveSnap = s, true
	m.data.History.Add(s)
	m.expireStatus()
	m.refreshAll()
	return nil
}

// refreshAll tells every screen and stacked component the data changed.
func (m *Model) refreshAll() {
	for _, s := range m.screens {
		if r, ok := s.comp.(common.Refresher); ok {
			r.Refresh()
		}
	}
	for _, c := range m.stack[1:] {
		if r, ok := c.(common.Refresher); ok {
			r.Refresh()
		}
	}
}

// retime redraws what is on screen for the new clock: pages render their
// lines (ages, "polled 3s ago") ahead of View, so they are rebuilt each
// tick; tables compute their cells in View and need nothing.
func (m *Model) retime() {
	for _, c := range m.stack {
		if _, ok := c.(common.Clocked); ok {
			c.(common.Refresher).Refresh()
		}
	}
}

func (m *Model) refreshFleet() tea.Cmd {
	if m.backend == nil {
		return nil
	}
	return fleetCmd(m.backend)
}

// onActionEvent shows an action's progress (spinner and stage) and its
// outcome in the status line; a finished attempt reloads the audit pane.
func (m *Model) onActionEvent(msg actionsui.ProgressMsg) tea.Cmd {
	e := msg.Progress
	cmd := m.activity.Progress(msg)
	switch {
	case e.Done && e.Err != nil:
		m.flash(msg.Title+" "+msg.Object.String()+": "+e.Err.Error(), true)
	case e.Done && e.Outcome != nil:
		text := msg.Title + ": " + e.Outcome.Result.Message
		if e.Outcome.Result.Verified != "" {
			text += " (" + e.Outcome.Result.Verified + ")"
		}
		if op := e.Outcome.Result.Operation; op != "" {
			text += "; " + op
		}
		m.flash(text, false)
		if o := msg.Object; o.Kind == spec.KindDeployment || o.Kind == spec.KindStatefulSet {
			m.statusAbout = o.Namespace + "/" + o.Name + "/" + o.Kind
		}
	}
	switch {
	case e.Done:
		cmd = tea.Batch(cmd, m.audit.Reload(), m.offerFollowUps(msg))
	case e.Stage == spec.StageOperation:
		// The request is recorded ("requested"); its result comes later.
		cmd = tea.Batch(cmd, m.audit.Reload())
	}
	return tea.Batch(cmd, msg.Next)
}

// offerFollowUps opens a menu of what a successful attempt's outcome
// offers next (the consumers of a refreshed Secret to restart …): the
// operator picks; nothing runs by itself.
func (m *Model) offerFollowUps(msg actionsui.ProgressMsg) tea.Cmd {
	e := msg.Progress
	if e.Err != nil || e.Outcome == nil || m.actions == nil {
		return nil
	}
	f := e.Outcome.FollowUps
	items := actionsui.FollowUpItems(f)
	if len(items) == 0 {
		return nil
	}
	return m.push(actionsui.NewMenu(m.common, f.Title, "follow-ups/"+e.Attempt+"/"+msg.Object.String(), items, nil, false, m.actions))
}

func (m *Model) flash(s string, bad bool) {
	m.status, m.statusBad = termsafe.Line(s), bad // errors carry server text
	m.statusAbout, m.statusWas, m.statusUntil = "", "", time.Time{}
}

// NoteFor is how long a note (why a key did nothing) stays in the status line.
const NoteFor = 8 * time.Second

// note says in the status line why a key did nothing, until NoteFor passed.
func (m *Model) note(s string, bad bool) {
	m.flash(s, bad)
	m.statusUntil = m.nowFn().Add(NoteFor)
}

// expireStatus clears an outcome about a service once the service changed
// after it: the first snapshot after the outcome is the state it speaks
// of, any later difference makes it stale.
func (m *Model) expireStatus() {
	if m.statusAbout == "" {
		return
	}
	now := "gone"
	for _, s := range m.data.Snap.Services {
		if s.Key() == m.statusAbout {
			now = serviceState(s)
		}
	}
	switch {
	case m.statusWas == "":
		m.statusWas = now
	case m.statusWas != now:
		m.status, m.statusBad, m.statusAbout, m.statusWas = "", false, "", ""
	}
}

// serviceState is what an action outcome about s speaks of: its desired
// replicas, images, current revision.
func serviceState(s estate.Service) string {
	rev := int64(0)
	for _, r := range s.Revisions {
		if r.Current {
			rev = r.Number
		}
	}
	return fmt.Sprint(s.Desired, s.Images, rev)
}
