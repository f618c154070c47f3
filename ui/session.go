package ui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/alerts"
	"github.com/vigil-k8s/vigil/ui/autoscaling"
	"github.com/vigil-k8s/vigil/ui/compliance"
	"github.com/vigil-k8s/vigil/ui/contexts"
	"github.com/vigil-k8s/vigil/ui/gitops"
	"github.com/vigil-k8s/vigil/ui/services"
)

// The UI's side of a context switch. The session on screen stays on screen,
// and live, while a switch runs: the header says "old → new", snapshots of
// the old generation are still shown, and its actions still act on it (the
// header names it). When the backend reports the new session built and
// first-synced, everything derived from the old context — the feed, the
// actions, the read-only flag, the screens with their stacked details and
// modals — is replaced in one Update. A switch that fails leaves the old
// session as it was and says why; one that a later :ctx replaced is
// ignored. With no session at all (vigil started on a context it could not
// reach), the Contexts screen shows why.

// session is the switch state of the root model.
type session struct {
	// switching is the context the latest switch goes to; "" when none runs.
	switching string
	// seq numbers the switches asked for; the answer of an older one than
	// seq does not end the wait.
	seq uint64
	// early is the new session's snapshot that arrived before SwitchedMsg.
	early *estate.Snapshot
	// down says why no session is shown (the first one could not be
	// reached); "" once one is.
	down string
	// typed is what was typed while the first session was connecting
	// (recording): the screens act on it at once, and when the session
	// lands and the screens are built again for it, it is typed again on
	// them, so nothing pressed before the first snapshot is lost.
	typed     []tea.Msg
	recording bool
}

// record keeps a key or paste typed while the first session connects.
func (m *Model) record(msg tea.Msg) {
	if !m.sess.recording {
		return
	}
	switch msg.(type) {
	case tea.KeyPressMsg, tea.PasteMsg:
		m.sess.typed = append(m.sess.typed, msg)
	}
}

// stopRecording ends the recording and returns what was typed.
func (m *Model) stopRecording() []tea.Msg {
	typed := m.sess.typed
	m.sess.recording, m.sess.typed = false, nil
	return typed
}

// switchTo starts a switch to context name; the header says so at once.
func (m *Model) switchTo(name string) tea.Cmd {
	if m.backend == nil {
		m.flash("context switching is not available", true)
		return nil
	}
	known := len(m.data.Contexts) == 0
	for _, c := range m.data.Contexts {
		known = known || c.Name == name
	}
	if !known {
		m.flash("no context "+name+" in the kubeconfig (see :ctx)", true)
		return nil
	}
	// What was typed for the first context does not follow to another.
	m.stopRecording()
	m.sess.seq++
	m.sess.switching = name
	m.flash("switching to "+name+"…", false)
	return switchCmd(m.backend, name, m.sess.seq)
}

// onSnapshot shows a snapshot of the session on screen. A snapshot of a
// newer generation is the new session's, which the backend forwards only
// once it has landed: it is kept until SwitchedMsg says so.
func (m *Model) onSnapshot(msg SnapshotMsg) tea.Cmd {
	var next tea.Cmd
	if m.snapshots != nil {
		next = WaitForSnapshot(m.snapshots, m.onScreen.Context, m.onScreen.Generation)
	}
	s := msg.Snapshot
	if s.Generation > m.onScreen.Generation {
		m.sess.early = &s
		return next
	}
	if s.Generation != m.onScreen.Generation || (s.Context != "" && s.Context != m.onScreen.Context) {
		return next
	}
	return tea.Batch(next, m.apply(s))
}

// onSwitched takes the outcome of a switch. A feed of a newer generation
// than the one on screen is what the backend shows now, whichever switch
// brought it; only the latest switch's answer ends the wait.
func (m *Model) onSwitched(msg SwitchedMsg) tea.Cmd {
	latest := msg.Seq == m.sess.seq
	// Nothing on screen yet (vigil starting, or its first context unreachable): the first
	// session is connected to, not switched to.
	verb := "switched to "
	if m.onScreen.Generation == 0 {
		verb = "connected to "
	}
	var cmd tea.Cmd
	if msg.Err == nil && msg.Feed.OnScreen.Generation > m.onScreen.Generation {
		cmd = m.adopt(msg.Feed)
	}
	if !latest {
		return cmd
	}
	m.sess.switching = ""
	switch {
	case msg.Err == nil:
		m.flash(verb+m.onScreen.Context, false)
	case m.sess.down != "" || m.onScreen.Generation == 0:
		// Nothing shown yet: the Contexts screen, with why.
		m.stopRecording()
		m.sess.down = msg.Err.Error()
		m.data.Down = m.sess.down
		m.flash(msg.Err.Error()+" (choose a context: Enter, or :ctx NAME)", true)
		m.show("ctx")
		m.refreshAll()
		return tea.Batch(cmd, m.refreshFleet())
	default:
		m.flash("switch to "+msg.Name+" failed: "+msg.Err.Error()+" (still on "+m.onScreen.Context+")", true)
	}
	return cmd
}

// adopt replaces everything derived from the context on screen with the
// new feed's, at once: generation, snapshots, actions, read-only flag and
// warning, logs, the data, and the screens themselves (built again with the
// new flag and actions, dropping details and modals of the old context).
// What was typed while the first session connected is typed again on the
// new screens.
func (m *Model) adopt(f Feed) tea.Cmd {
	typed := m.stopRecording()
	sameChannel := f.Snapshots == m.snapshots
	m.onScreen, m.snapshots, m.actions = f.OnScreen, f.Snapshots, f.Actions
	m.common.ReadOnly, m.writeWarning = f.ReadOnly, f.WriteWarning
	m.closed = false
	m.sess.down = ""
	d := m.data
	d.Context, d.Generation, d.Identity, d.Down = f.OnScreen.Context, f.OnScreen.Generation, f.OnScreen.identity(), ""
	d.Logs, d.LogsOff = f.Logs, f.LogsOff
	d.ArgoDiff, d.ArgoDiffOff = f.ArgoDiff, f.ArgoDiffOff
	d.Snap, d.HaveSnap = estate.Snapshot{Context: f.OnScreen.Context, Generation: f.OnScreen.Generation}, false
	d.History.Reset()
	if m.backend != nil {
		d.Contexts = m.backend.Contexts()
	}
	m.screens = m.newScreens()
	m.fullHelp = false
	m.show("svc")
	m.refreshAll()
	var cmds []tea.Cmd
	if e := m.sess.early; e != nil && e.Generation == m.onScreen.Generation && e.Context == m.onScreen.Context {
		cmds = append(cmds, m.apply(*e))
	}
	m.sess.early = nil
	for _, msg := range typed {
		_, cmd := m.Update(msg)
		cmds = append(cmds, cmd)
	}
	// A Manager's subscription survives switches: its waiter is still
	// outstanding, and a second one would split the snapshots.
	if m.snapshots != nil && !sameChannel {
		cmds = append(cmds, WaitForSnapshot(m.snapshots, m.onScreen.Context, m.onScreen.Generation))
	}
	return tea.Batch(cmds...)
}

// newScreens builds the top-level screens for the context on screen, with
// its Common (read-only flag) and actions.
func (m *Model) newScreens() []screen {
	c, d := m.common, m.data
	return []screen{
		{"svc", services.New(c, d, m.actions)},
		{"hpa", autoscaling.New(c, d)},
		{"alerts", alerts.New(c, d, m.actions)},
		{"check", compliance.New(c, d)},
		{"gitops", gitops.New(c, d, m.actions)},
		{"ctx", contexts.New(c, d)},
		{"audit", m.audit},
	}
}
