package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/termsafe"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/alerts"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/services"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// askSwitch types :ctx name and returns the switch command without running it.
func askSwitch(t *testing.T, m *Model, name string) tea.Cmd {
	t.Helper()
	run(m, press(":"))
	typeText(m, "ctx "+name)
	_, cmd := m.Update(press("enter"))
	if cmd == nil {
		t.Fatalf(":ctx %s returned no command", name)
	}
	// The palette's pop and the switch come back as messages; keep the
	// switch's own command for the test to run when it chooses.
	var sw tea.Cmd
	var drain func(msg tea.Msg)
	drain = func(msg tea.Msg) {
		switch msg := msg.(type) {
		case tea.BatchMsg:
			for _, c := range msg {
				if c != nil {
					drain(c())
				}
			}
		case SwitchedMsg:
			sw = func() tea.Msg { return msg }
		case nil:
		default:
			_, c := m.Update(msg)
			if c != nil {
				drain(c())
			}
		}
	}
	drain(cmd())
	if sw == nil {
		t.Fatalf(":ctx %s started no switch", name)
	}
	return sw
}

// TestSwitchKeepsTheOldContextLiveUntilItLands: while a switch runs, the
// header says "local-1 → local-2", local-1's data stays on screen and its
// new snapshots are still shown; when the switch lands, local-2 replaces it.
func TestSwitchKeepsTheOldContextLiveUntilItLands(t *testing.T) {
	m := newModelWith(t, 120, 40, &fakeBackend{}, nil)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	sw := askSwitch(t, m, "local-2")
	s := screenText(m)
	if services.LineWith(s, "local-1 → local-2") == "" || services.LineWith(s, "notification-service") == "" {
		t.Fatalf("while switching: no 'local-1 → local-2' or local-1's data gone:\n%s", s)
	}
	later := seedEstate(2)
	later.Seq = 2
	later.Services[0].Health.Reason = "still local-1, live"
	run(m, SnapshotMsg{Snapshot: later})
	if !strings.Contains(screenText(m), "still local-1, live") {
		t.Errorf("a snapshot of the session on screen was dropped while switching:\n%s", screenText(m))
	}
	run(m, sw())
	if got := m.OnScreen(); got.Context != "local-2" || got.Generation != 3 {
		t.Fatalf("after landing: %+v", got)
	}
	run(m, SnapshotMsg{Snapshot: estate2(3)})
	if l := services.LineWith(screenText(m), "payment-service"); !strings.Contains(l, "Down") {
		t.Errorf("local-2 not shown after landing:\n%s", screenText(m))
	}
}

// TestSupersededSwitchIsIgnored: :ctx local-2 then :ctx local-1 before the
// first lands. The first's answer (superseded, or a late success of an older
// generation) changes nothing; the second's decides.
func TestSupersededSwitchIsIgnored(t *testing.T) {
	fb := &fakeBackend{}
	m := newModelWith(t, 120, 40, fb, nil)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	first := askSwitch(t, m, "local-2")
	second := askSwitch(t, m, "local-1")
	if l := services.LineWith(screenText(m), "local-1 → local-1"); l != "" {
		t.Logf("header: %s", l)
	}
	run(m, SwitchedMsg{Name: "local-2", Seq: first().(SwitchedMsg).Seq, Err: errors.New("switch to local-2 superseded by a later switch")})
	if strings.Contains(screenText(m), "superseded") || m.sess.switching != "local-1" {
		t.Fatalf("a superseded switch's answer was taken (switching %q):\n%s", m.sess.switching, screenText(m))
	}
	got := second().(SwitchedMsg)
	run(m, got)
	if m.OnScreen().Context != "local-1" || m.OnScreen().Generation != got.Feed.OnScreen.Generation || m.sess.switching != "" {
		t.Fatalf("the latest switch did not land: %+v switching %q", m.OnScreen(), m.sess.switching)
	}
	// A late success of an older generation must not take the screen back.
	run(m, SwitchedMsg{Name: "local-2", Seq: 1, Feed: Feed{OnScreen: OnScreen{Context: "local-2", Generation: 3}}})
	if m.OnScreen().Context != "local-1" {
		t.Fatalf("an older switch's late answer took the screen: %+v", m.OnScreen())
	}
}

// TestSwitchIntoReadOnlyReplacesScreens: after a switch into a read-only
// context, S on an alert no longer opens the silence form (the screens kept
// their own read-only flag before), and a modal of the old context is gone.
func TestSwitchIntoReadOnlyReplacesScreens(t *testing.T) {
	fa := newFakeActions()
	fb := &fakeBackend{feed: func(f *Feed) { f.ReadOnly, f.Actions = true, fa }}
	m := newModelWith(t, 120, 40, fb, fa)
	run(m, SnapshotMsg{Snapshot: estateWithSilence()})
	run(m, screenMsgFor("alerts"))
	run(m, press("S"))
	if _, ok := m.Top().(*actionsui.Form); !ok {
		t.Fatalf("read-write: S opened %T, want the silence form", m.Top())
	}
	run(m, press("esc"))
	sw := askSwitch(t, m, "local-2")
	run(m, screenMsgFor("alerts"))
	run(m, press("a")) // a menu of local-1, open while the switch runs
	run(m, sw())
	if _, ok := m.Top().(*services.Model); !ok {
		t.Fatalf("after the switch %T is on top, want the services screen (old modal dropped)", m.Top())
	}
	s := estate2(3)
	s.Alerts = estateWithSilence().Alerts
	run(m, SnapshotMsg{Snapshot: s})
	run(m, screenMsgFor("alerts"))
	if al, _ := m.screens[2].comp.(*alerts.Model).Selected(); al == nil {
		t.Fatal("no alert selected on local-2")
	}
	run(m, press("S"))
	if _, ok := m.Top().(*actionsui.Form); ok {
		t.Fatal("read-only context: S opened the silence form")
	}
	if !strings.Contains(screenText(m), "READ-ONLY") {
		t.Errorf("no READ-ONLY badge after the switch:\n%s", screenText(m))
	}
}

// TestStartOnUnreachableContext: started with Connect on a context that
// cannot be reached, the UI opens the Contexts screen saying why, and
// :ctx local-2 from there lands on local-2.
func TestStartOnUnreachableContext(t *testing.T) {
	why := errors.New("cannot reach https://127.0.0.1:1 (context local-1): connection refused")
	fb := &fakeBackend{failFor: map[string]error{"local-1": why}}
	m := New(Options{
		Common:  common.Common{Styles: theme.New(false), Keys: common.DefaultKeyMap()},
		Feed:    Feed{OnScreen: OnScreen{Context: "local-1", Server: "https://127.0.0.1:1", User: "admin"}},
		Backend: fb, Connect: true,
		Now: func() time.Time { return testNow },
	})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	if l := services.LineWith(screenText(m), "connecting to local-1"); l == "" {
		t.Errorf("no 'connecting' before the first switch answered:\n%s", screenText(m))
	}
	run(m, m.connect())
	s := screenText(m)
	if m.Screen() != "ctx" || services.LineWith(s, "✖ cannot reach https://127.0.0.1:1 (context local-1): connection refused") == "" || services.LineWith(s, "no session") == "" {
		t.Fatalf("not on the Contexts screen with the reason (screen %s):\n%s", m.Screen(), s)
	}
	if services.LineWith(s, "local-2") == "" {
		t.Errorf("the Contexts screen does not list local-2:\n%s", s)
	}
	run(m, press(":"))
	typeText(m, "ctx local-2")
	run(m, press("enter"))
	run(m, SnapshotMsg{Snapshot: estate2(3)})
	s = screenText(m)
	if m.OnScreen().Context != "local-2" || m.Screen() != "svc" || !strings.Contains(services.LineWith(s, "payment-service"), "Down") {
		t.Fatalf("not on local-2's services (%+v, %s):\n%s", m.OnScreen(), m.Screen(), s)
	}
	if strings.Contains(s, "no session") || strings.Contains(s, "connection refused") {
		t.Errorf("the old reason is still shown:\n%s", s)
	}
}

// TestKeysTypedWhileConnectingAreKept: what is typed before the first
// session lands (a screen chosen, a filter begun) is still in effect on the
// screens built for the session, as if typed after it.
func TestKeysTypedWhileConnectingAreKept(t *testing.T) {
	m := connecting()
	run(m, press("/"))
	typeText(m, "payment")
	run(m, press("enter"))
	run(m, press("?"))
	run(m, m.connect())
	run(m, SnapshotMsg{Snapshot: seedEstate(m.OnScreen().Generation)})
	s := screenText(m)
	if m.Screen() != "svc" || !m.FullHelp() {
		t.Fatalf("screen %s, full help %v after the session landed, want svc with the full help", m.Screen(), m.FullHelp())
	}
	if services.LineWith(s, "payment-service") == "" || services.LineWith(s, "user-service") != "" {
		t.Errorf("the filter typed while connecting is not applied:\n%s", s)
	}

	// A screen chosen while connecting stays chosen.
	m = connecting()
	run(m, press(":"))
	typeText(m, "gitops")
	run(m, press("enter"))
	run(m, m.connect())
	if m.Screen() != "gitops" || m.OnScreen().Context != "local-1" || m.OnScreen().Generation == 0 {
		t.Fatalf("on %s (%+v) after the session landed, want gitops of local-1", m.Screen(), m.OnScreen())
	}
}

// connecting is a root model at 120×40 that connects to local-1 (Options.Connect) through a
// fake backend; its first switch has not answered yet.
func connecting() *Model {
	m := New(Options{
		Common:  common.Common{Styles: theme.New(false), Keys: common.DefaultKeyMap()},
		Feed:    Feed{OnScreen: OnScreen{Context: "local-1", Server: "https://127.0.0.1:1", User: "admin"}},
		Backend: &fakeBackend{}, Connect: true,
		Now: func() time.Time { return testNow },
	})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	return m
}

// TestFirstSessionIsConnectedTo: vigil starting on a context says it connected to it; only a
// later change of context is a switch (every start said "switched to local-1" before).
func TestFirstSessionIsConnectedTo(t *testing.T) {
	m := connecting()
	run(m, m.connect())
	run(m, SnapshotMsg{Snapshot: seedEstate(m.OnScreen().Generation)})
	if s := screenText(m); services.LineWith(s, "connected to local-1") == "" || strings.Contains(s, "switched to") {
		t.Errorf("after the start, want \"connected to local-1\", not a switch:\n%s", s)
	}
	run(m, press(":"))
	typeText(m, "ctx local-2")
	run(m, press("enter"))
	run(m, SnapshotMsg{Snapshot: estate2(m.OnScreen().Generation)})
	if s := screenText(m); m.OnScreen().Context != "local-2" || services.LineWith(s, "switched to local-2") == "" {
		t.Errorf("after :ctx local-2 (on %+v), want \"switched to local-2\":\n%s", m.OnScreen(), s)
	}
}

// TestHostileContextName: a kubeconfig context, cluster and user whose names hold control
// characters. The session's snapshots are scrubbed (termsafe) on their way out; the scrub
// escaped the snapshot's context name, which then matched no context, so every snapshot was
// dropped and vigil said "syncing" forever. And the names went to the terminal raw, in the
// header, the window title and the Contexts screen (the status line alone escaped them). Now
// the snapshot lands and every place shows the names escaped, visible, never interpreted.
func TestHostileContextName(t *testing.T) {
	const name, cluster, user = "evil\x1b[31mred", "c\x1b]0;pwned\x07", "u\x1b[2J"
	fb := &fakeBackend{extra: []estate.ContextInfo{{Name: name, Cluster: cluster, User: user, Server: "https://127.0.0.1:6445"}}}
	fb.feed = func(f *Feed) { f.OnScreen.User = user }
	m := New(Options{
		Common:  common.Common{Styles: theme.New(false), Keys: common.DefaultKeyMap()},
		Feed:    Feed{OnScreen: OnScreen{Context: name, Server: "https://127.0.0.1:6445", User: user}},
		Backend: fb, Connect: true,
		Now: func() time.Time { return testNow },
	})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 40})
	raw := func() string { return m.Render() + m.View().WindowTitle }
	unescaped := func(where string) {
		t.Helper()
		for _, bad := range []string{"\x1b[31mred", "\x1b]0;", "\x07", "\x1b[2J"} {
			if strings.Contains(raw(), bad) {
				t.Errorf("%s: %q reaches the terminal unescaped", where, bad)
			}
		}
	}
	unescaped("connecting")
	run(m, m.connect())
	snap := seedEstate(m.OnScreen().Generation)
	snap.Context = name
	termsafe.Scrub(&snap) // as the session publishes it
	run(m, SnapshotMsg{Snapshot: snap})
	s := screenText(m)
	if services.LineWith(s, "payment-service") == "" {
		t.Fatalf("the session's snapshot was not shown (on %q):\n%s", m.OnScreen().Context, s)
	}
	for _, want := range []string{termsafe.Line(name), termsafe.Line(cluster), termsafe.Line(user)} {
		if !strings.Contains(services.LineWith(s, "vigil "), want) {
			t.Errorf("header: no %q:\n%s", want, s)
		}
	}
	if got := m.View().WindowTitle; got != "vigil "+termsafe.Line(name) {
		t.Errorf("window title %q", got)
	}
	unescaped("services")
	run(m, press(":"))
	typeText(m, "contexts")
	run(m, press("enter"))
	if s := screenText(m); m.Screen() != "ctx" || services.LineWith(s, termsafe.Line(name)) == "" {
		t.Errorf("Contexts screen (%s): no row with the name escaped:\n%s", m.Screen(), s)
	}
	unescaped("contexts")
}
