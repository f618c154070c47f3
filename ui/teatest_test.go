package ui

import (
	"bytes"
	"io"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
)

func waitText(t *testing.T, tm *teatest.TestModel, want string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains([]byte(ansi.Strip(string(b))), []byte(want))
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

// TestFlowFindDetailSwitch runs the real Bubble Tea program: snapshots
// arrive on a channel, the user filters to payment-service, opens its
// detail, goes back and switches to local-2 with :ctx.
func TestFlowFindDetailSwitch(t *testing.T) {
	snaps := make(chan estate.Snapshot, 1)
	fb := &fakeBackend{}
	m := New(Options{
		Common:  common.Common{Styles: theme.New(true), Keys: common.DefaultKeyMap()},
		Feed:    Feed{OnScreen: OnScreen{Context: "local-1", User: "admin", Generation: 2}, Snapshots: snaps},
		Backend: fb,
		Now:     func() time.Time { return testNow },
	})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
	snaps <- seedEstate(2)
	waitText(t, tm, "notification-service")

	tm.Type("/payment")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitText(t, tm, "ROLLOUT HISTORY")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})

	tm.Type(":ctx local-2")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	// As with cluster.Manager, the new session exists once the switch has
	// started; its first snapshot may still beat the switch's answer (the
	// root keeps it until the switch lands).
	time.Sleep(200 * time.Millisecond)
	snaps <- estate2(3)
	// The renderer sends only changed cells, so read the end state from
	// the final model rather than the byte stream.
	time.Sleep(300 * time.Millisecond)
	tm.Type("q")
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	snap, ok := final.Snapshot()
	if final.OnScreen().Context != "local-2" || !ok || snap.Context != "local-2" {
		t.Fatalf("final context %s, snapshot of %q (%v); status %q, switches %v, top %T", final.OnScreen().Context, snap.Context, ok, final.Status(), fb.switches, final.Top())
	}
	if !bytes.Contains([]byte(ansi.Strip(final.Render())), []byte("Down")) {
		t.Errorf("local-2's payment-service is not Down on screen:\n%s", ansi.Strip(final.Render()))
	}
	_, _ = io.ReadAll(tm.FinalOutput(t))
}
