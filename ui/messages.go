package ui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/cluster"
)

// SnapshotMsg carries a cluster snapshot into the UI. It is produced by
// WaitForSnapshot; its Snapshot carries {Context, Generation}.
type SnapshotMsg struct {
	Snapshot cluster.Snapshot
}

// SessionClosedMsg says a session's snapshot channel closed (the session stopped).
type SessionClosedMsg struct {
	// Context and Generation identify the closed session.
	Context    string
	Generation uint64
}

// tickMsg refreshes clock-derived text (data age, AGE column) once a second.
type tickMsg time.Time

// WaitForSnapshot returns a command that waits for the next snapshot on ch.
// The root model re-issues it after each SnapshotMsg, so exactly one waiter
// is outstanding per session. context and generation label the
// SessionClosedMsg.
func WaitForSnapshot(ch <-chan cluster.Snapshot, context string, generation uint64) tea.Cmd {
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
