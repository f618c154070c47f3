package ui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/estate"
)

// SnapshotMsg carries a cluster snapshot into the UI. It is produced by
// WaitForSnapshot; its Snapshot carries {Context, Generation}.
type SnapshotMsg struct {
	Snapshot estate.Snapshot
}

// SessionClosedMsg says a session's snapshot channel closed (the session stopped).
type SessionClosedMsg struct {
	// Context and Generation identify the closed session.
	Context    string
	Generation uint64
}

// SwitchedMsg is the outcome of a context switch started by the root.
type SwitchedMsg struct {
	// Name is the context asked for.
	Name string
	// Seq numbers the switch: only the latest one's answer ends the wait.
	Seq uint64
	// Feed is the new context's, when Err is nil.
	Feed Feed
	Err  error
}

// FleetMsg is one fleet summary, with the kubeconfig's contexts read again for it.
type FleetMsg struct {
	Summary estate.FleetSummary
	Err     error
	// Contexts are the kubeconfig's contexts as read for this summary: one added
	// while vigil runs is listed (and :ctx accepts it) from the next refresh on.
	// Nil when the kubeconfig could not be read; the list shown stays.
	Contexts []estate.ContextInfo
}

// tickMsg refreshes clock-derived text (data age, AGE column) once a second.
type tickMsg time.Time

// WaitForSnapshot returns a command that waits for the next snapshot on ch.
// The root model re-issues it after each SnapshotMsg, so exactly one waiter
// is outstanding per session. context and generation label the
// SessionClosedMsg.
func WaitForSnapshot(ch <-chan estate.Snapshot, context string, generation uint64) tea.Cmd {
	return func() tea.Msg {
		snap, ok := <-ch
		if !ok {
			return SessionClosedMsg{Context: context, Generation: generation}
		}
		return SnapshotMsg{Snapshot: snap}
	}
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// SwitchTimeout bounds a whole context switch: reaching the server,
// starting the session and its first sync.
const SwitchTimeout = 15 * time.Second

// switchCmd switches b to name as switch seq; it copies what it needs.
func switchCmd(b Backend, name string, seq uint64) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), SwitchTimeout)
		defer cancel()
		s, err := b.Switch(ctx, name)
		return SwitchedMsg{Name: name, Seq: seq, Feed: s, Err: err}
	}
}

// fleetCmd summarises every context.
func fleetCmd(b Backend) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		contexts := b.Contexts()
		s, err := b.Fleet(ctx)
		return FleetMsg{Summary: s, Err: err, Contexts: contexts}
	}
}
