package ui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// updating reports -update (the flag is registered by teatest's golden
// package, which this package links).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

var testNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func newTestModel(t testing.TB, w, h int) *Model {
	t.Helper()
	return newModelWith(t, w, h, nil, nil)
}

func newModelWith(t testing.TB, w, h int, b Backend, a actionsui.Provider) *Model {
	t.Helper()
	m := New(Options{
		Common:  common.Common{Styles: theme.New(false), Keys: common.DefaultKeyMap()},
		Feed:    Feed{OnScreen: OnScreen{Context: "local-1", Server: "https://127.0.0.1:6443", User: "admin", Generation: 2}, Actions: a},
		Backend: b,
		Now:     func() time.Time { return testNow },
	})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// run sends msg and then runs the commands it returns, feeding their
// messages back, as the Bubble Tea runtime would (depth-first, in order).
func run(m *Model, msg tea.Msg) (quit bool) {
	queue := []tea.Msg{msg}
	for len(queue) > 0 && len(queue) < 1000 {
		msg, queue = queue[0], queue[1:]
		if msg == nil {
			continue
		}
		if _, ok := msg.(tea.QuitMsg); ok {
			return true
		}
		if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeFor[tea.Cmd]() {
			for i := range v.Len() {
				if c := v.Index(i).Interface().(tea.Cmd); c != nil {
					queue = append(queue, c())
				}
			}
			continue
		}
		_, cmd := m.Update(msg)
		if cmd != nil {
			queue = append(queue, cmd())
		}
	}
	return false
}

func TestSnapshotFromOtherGenerationIsDropped(t *testing.T) {
	m := newTestModel(t, 80, 24)
	m.Update(SnapshotMsg{Snapshot: seedEstate(1)}) // late snapshot of an old session
	if _, ok := m.Snapshot(); ok {
		t.Fatal("model took a snapshot from generation 1 while showing generation 2")
	}
	m.Update(SnapshotMsg{Snapshot: seedEstate(2)})
	if s, ok := m.Snapshot(); !ok || s.Generation != 2 {
		t.Fatalf("model did not take the generation-2 snapshot")
	}
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name       string
		keys       []string
		wantCursor int
		wantHelp   bool
		wantQuit   bool
	}{
		{name: "start at top", wantCursor: 0},
		{name: "j moves down", keys: []string{"j", "j"}, wantCursor: 2},
		{name: "arrows", keys: []string{"down", "down", "up"}, wantCursor: 1},
		{name: "k stops at top", keys: []string{"k", "k"}, wantCursor: 0},
		{name: "G to bottom", keys: []string{"G"}, wantCursor: 5},
		{name: "j stops at bottom", keys: []string{"G", "j"}, wantCursor: 5},
		{name: "g back to top", keys: []string{"G", "g"}, wantCursor: 0},
		{name: "page down clamps", keys: []string{"pgdown"}, wantCursor: 5},
		{name: "? opens full help", keys: []string{"?"}, wantHelp: true},
		{name: "? twice closes it", keys: []string{"?", "?"}},
		{name: "esc closes it", keys: []string{"j", "?", "esc"}, wantCursor: 1},
		{name: "esc without help keeps the cursor", keys: []string{"j", "esc"}, wantCursor: 1},
		{name: "q quits", keys: []string{"q"}, wantQuit: true},
		{name: "ctrl+c quits", keys: []string{"ctrl+c"}, wantQuit: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestModel(t, 80, 24)
			m.Update(SnapshotMsg{Snapshot: seedEstate(2)})
			var cmd tea.Cmd
			for _, k := range tt.keys {
				_, cmd = m.Update(press(k))
			}
			if got := m.Services().Table().Cursor(); got != tt.wantCursor {
				t.Errorf("cursor = %d, want %d", got, tt.wantCursor)
			}
			if m.FullHelp() != tt.wantHelp {
				t.Errorf("full help = %v, want %v", m.FullHelp(), tt.wantHelp)
			}
			quit := cmd != nil && fmt.Sprintf("%T", cmd()) == "tea.QuitMsg"
			if quit != tt.wantQuit {
				t.Errorf("quit = %v, want %v", quit, tt.wantQuit)
			}
		})
	}
}

func TestCursorFollowsServiceAcrossSnapshots(t *testing.T) {
	m := newTestModel(t, 80, 24)
	m.Update(SnapshotMsg{Snapshot: seedEstate(2)})
	m.Update(press("j")) // user-service in staging
	next := seedEstate(2)
	next.Services = append(next.Services[1:], next.Services[0]) // notification-service recovered
	m.Update(SnapshotMsg{Snapshot: next})
	if s, _ := m.Services().Selected(); s.Namespace != "fintech-staging" || s.Name != "user-service" {
		t.Errorf("selected %s/%s after re-sort, want fintech-staging/user-service", s.Namespace, s.Name)
	}
}

func TestRendersOnlyVisibleRows(t *testing.T) {
	m := newTestModel(t, 80, 24)
	snap := seedEstate(2)
	snap.Services = nil
	for i := range 10000 {
		snap.Services = append(snap.Services, svc("fintech-prod", fmt.Sprintf("bulk-%05d", i), estate.StatusOK, "", 1, 1))
	}
	m.Update(SnapshotMsg{Snapshot: snap})
	m.Update(press("G"))
	out := ansi.Strip(m.Render())
	if n := strings.Count(out, "\n") + 1; n != 24 {
		t.Errorf("rendered %d lines, want 24", n)
	}
	if !strings.Contains(out, "bulk-09999") || strings.Contains(out, "bulk-00000") {
		t.Errorf("bottom page does not show the last row only:\n%s", out)
	}
}

func TestStaleAndDisconnectedHeader(t *testing.T) {
	m := newTestModel(t, 100, 24)
	snap := seedEstate(2)
	snap.Conn = estate.ConnState{Connected: false, Reason: "connection refused", LastContact: testNow.Add(-45 * time.Second)}
	m.Update(SnapshotMsg{Snapshot: snap})
	out := ansi.Strip(m.Render())
	for _, want := range []string{"disconnected: connection refused", "data 45s old"} {
		if !strings.Contains(out, want) {
			t.Errorf("header lacks %q:\n%s", want, out)
		}
	}
}

func TestViewGolden(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		keys []string
		snap func() estate.Snapshot
	}{
		{name: "services_80x24", w: 80, h: 24, snap: func() estate.Snapshot { return seedEstate(2) }},
		{name: "detail_100x40", w: 100, h: 40, keys: []string{"G", "k", "enter"}, snap: func() estate.Snapshot { return seedEstate(2) }},
		{name: "autoscaling_120x30", w: 120, h: 30, keys: []string{":", "h", "p", "a", "enter"}, snap: func() estate.Snapshot { return seedEstate(2) }},
		{name: "alerts_100x24", w: 100, h: 24, keys: []string{":", "a", "l", "e", "r", "t", "s", "enter"}, snap: func() estate.Snapshot { return seedEstate(2) }},
		{name: "compliance_100x24", w: 100, h: 24, keys: []string{":", "c", "h", "e", "c", "k", "enter"}, snap: func() estate.Snapshot { return seedEstate(2) }},
		{name: "gitops_120x30", w: 120, h: 30, keys: []string{":", "g", "i", "t", "o", "p", "s", "enter"}, snap: func() estate.Snapshot { return seedEstate(2) }},
		{name: "contexts_100x24", w: 100, h: 24, keys: []string{":", "c", "t", "x", "enter"}, snap: func() estate.Snapshot { return seedEstate(2) }},
		{name: "services_120x24", w: 120, h: 24, keys: []string{"j"}, snap: func() estate.Snapshot { return seedEstate(2) }},
		{name: "loading_80x24", w: 80, h: 24, snap: func() estate.Snapshot {
			return estate.Snapshot{Context: "local-1", Generation: 2, Conn: estate.ConnState{Connected: true, LastContact: testNow}}
		}},
		{name: "help_80x24", w: 80, h: 24, keys: []string{"?"}, snap: func() estate.Snapshot { return seedEstate(2) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newModelWith(t, tt.w, tt.h, &fakeBackend{}, newFakeActions())
			run(m, SnapshotMsg{Snapshot: withFindings(tt.snap())})
			for _, k := range tt.keys {
				run(m, press(k))
			}
			got := ansi.Strip(m.Render())
			if n := strings.Count(got, "\n") + 1; n != tt.h {
				t.Errorf("rendered %d lines, want %d", n, tt.h)
			}
			for i, line := range strings.Split(got, "\n") {
				if w := ansi.StringWidth(line); w > tt.w {
					t.Errorf("line %d is %d cells wide, want <= %d: %q", i+1, w, tt.w, line)
				}
			}
			golden(t, filepath.Join("testdata", tt.name+".golden"), got)
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if updating() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui/ -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run go test ./ui/ -update if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func TestSessionClosedShowsInHeader(t *testing.T) {
	m := newTestModel(t, 80, 24)
	m.Update(SnapshotMsg{Snapshot: seedEstate(2)})
	m.Update(SessionClosedMsg{Context: "local-1", Generation: 1}) // an older session: ignored
	if strings.Contains(ansi.Strip(m.Render()), "session stopped") {
		t.Fatal("a closed older session marked the current one stopped")
	}
	m.Update(SessionClosedMsg{Context: "local-1", Generation: 2})
	if !strings.Contains(ansi.Strip(m.Render()), "session stopped") {
		t.Fatal("header does not say the session stopped")
	}
}

// checksNow is the estate's snapshot carrying the session's evaluation of
// the fake catalogue.
func checksNow() SnapshotMsg { return SnapshotMsg{Snapshot: withFindings(seedEstate(2))} }

// withFindings is s with the findings a session publishes once its caches
// have listed (none before).
func withFindings(s estate.Snapshot) estate.Snapshot {
	if s.Synced {
		s.Findings = estate.Findings{Context: s.Context, Generation: s.Generation, Synced: true, Catalogue: catalogue(), Findings: findings(), At: testNow.Add(-time.Minute)}
	}
	return s
}
