package ui

import (
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/services"
)

func screenText(m *Model) string { return ansi.Strip(m.Render()) }

func TestPaletteCommands(t *testing.T) {
	for _, tt := range []struct{ typed, screen, want string }{
		{"svc", "svc", "NAMESPACE"},
		{"hpa", "hpa", "api-gateway-hpa"},
		{"vpa", "hpa", "payment-service-vpa"},
		{"alerts", "alerts", "HighErrorRate"},
		{"check", "check", "Pod Security Standards enforced"},
		{"gitops", "gitops", "fintech-app"},
		{"argo", "gitops", "EXTERNAL SECRETS"},
		{"ctx", "ctx", "local-2"},
	} {
		t.Run(tt.typed, func(t *testing.T) {
			m := newModelWith(t, 120, 40, &fakeBackend{}, nil)
			run(m, SnapshotMsg{Snapshot: seedEstate(2)})
			run(m, checksNow())
			run(m, press(":"))
			typeText(m, tt.typed)
			run(m, press("enter"))
			if m.Screen() != tt.screen {
				t.Fatalf(":%s shows %q, want %q", tt.typed, m.Screen(), tt.screen)
			}
			if s := screenText(m); !strings.Contains(s, tt.want) {
				t.Errorf(":%s screen lacks %q:\n%s", tt.typed, tt.want, s)
			}
		})
	}
}

func TestPaletteQuitAndUnknown(t *testing.T) {
	m := newTestModel(t, 80, 24)
	run(m, press(":"))
	typeText(m, "nope")
	run(m, press("enter"))
	if !strings.Contains(screenText(m), "unknown command: nope") {
		t.Errorf("no word on an unknown command:\n%s", screenText(m))
	}
	run(m, press("esc"))
	if _, ok := m.Top().(*services.Model); !ok {
		t.Fatalf("Esc left %T on top", m.Top())
	}
	run(m, press(":"))
	typeText(m, "q")
	if !run(m, press("enter")) {
		t.Fatal(":q did not quit")
	}
}

func TestQWhileTypingDoesNotQuit(t *testing.T) {
	m := newTestModel(t, 80, 24)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	run(m, press("/"))
	if run(m, press("q")) {
		t.Fatal("q quit while typing a filter")
	}
	if got := m.Services().Table().Filter(); got != "q" {
		t.Errorf("filter = %q, want q", got)
	}
}

func TestFilterNamespaceSort(t *testing.T) {
	m := newTestModel(t, 120, 30)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	tbl := m.Services().Table()
	run(m, press("/"))
	typeText(m, "pay")
	if tbl.Len() != 1 {
		t.Fatalf("/pay keeps %d rows, want 1 (payment-service; no fuzzy api-gateway)", tbl.Len())
	}
	run(m, press("enter")) // keep the filter, leave typing
	if s, _ := m.Services().Selected(); s.Name != "payment-service" {
		t.Fatalf("selected %s", s.Name)
	}
	run(m, press("esc")) // clears the filter
	if tbl.Len() != 6 {
		t.Fatalf("Esc left %d rows, want 6", tbl.Len())
	}
	run(m, press("n")) // first namespace
	if ns := m.Services().Namespace(); ns == "" || tbl.Len() == 6 {
		t.Fatalf("n: namespace %q, %d rows", ns, tbl.Len())
	}
	run(m, press(":"))
	typeText(m, "ns all")
	run(m, press("enter"))
	if m.Services().Namespace() != "" || tbl.Len() != 6 {
		t.Fatalf(":ns all left namespace %q", m.Services().Namespace())
	}
	run(m, press("s")) // sort by namespace
	if col, _ := tbl.Sort(); col != 0 {
		t.Fatalf("s sorts by column %d, want 0", col)
	}
	if s, _ := tbl.Selected(); s.Namespace != "fintech-monitoring" {
		t.Errorf("first row after sorting by namespace is %s", s.Namespace)
	}
	run(m, press("S"))
	if s, _ := tbl.Selected(); s.Namespace != "fintech-staging" {
		t.Errorf("first row after reversing is %s", s.Namespace)
	}
}

func TestUnhealthyFirstByDefault(t *testing.T) {
	m := newTestModel(t, 120, 30)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	rows := m.Services().Table().Rows()
	if rows[0].Health.Status != estate.StatusDegraded {
		t.Errorf("first row is %s %s", rows[0].Name, rows[0].Health.Status)
	}
}

func TestDetailAndActions(t *testing.T) {
	fa := newFakeActions()
	m := newModelWith(t, 120, 60, &fakeBackend{}, fa)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	run(m, press("/"))
	typeText(m, "payment")
	run(m, press("enter"))
	run(m, press("enter"))
	d, ok := m.Top().(*services.Detail)
	if !ok {
		t.Fatalf("Enter opened %T", m.Top())
	}
	if d.Key() != "fintech-prod/payment-service/Deployment" {
		t.Fatalf("detail of %s", d.Key())
	}
	s := screenText(m)
	for _, want := range []string{"PODS (2)", "ROLLOUT HISTORY (2)", "deploy v1.2.3", "payment-service-vpa", "disabled: forbidden"} {
		if !strings.Contains(s, want) {
			t.Errorf("detail lacks %q", want)
		}
	}
	run(m, press("a"))
	run(m, press("down")) // Roll back: disabled
	run(m, press("enter"))
	if len(fa.ran) != 0 || !strings.Contains(screenText(m), "Roll back… is disabled") {
		t.Fatalf("a disabled action ran (%v) or no reason shown", fa.ran)
	}
	run(m, press("up"))
	run(m, press("enter"))
	if !slices.Equal(fa.ran, []string{"restart deployment/fintech-prod/payment-service"}) {
		t.Fatalf("ran %v, want restart", fa.ran)
	}
	run(m, press("esc"))
	if _, ok := m.Top().(*services.Model); !ok {
		t.Fatalf("Esc from the detail left %T on top", m.Top())
	}
}

func TestSwitchContext(t *testing.T) {
	fb := &fakeBackend{}
	m := newModelWith(t, 120, 40, fb, nil)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	// The switch command is not run yet: the first paint already names
	// the new context and says syncing.
	m.Update(press(":"))
	for _, r := range "ctx local-2" {
		m.Update(press(string(r)))
	}
	_, cmd := m.Update(press("enter"))
	for _, c := range []tea.Cmd{cmd} {
		if c == nil {
			t.Fatal("no command from :ctx local-2")
		}
	}
	run(m, cmd()) // palette pop + ScreenMsg; runs the switch too
	if !slices.Equal(fb.switches, []string{"local-2"}) {
		t.Fatalf("switches = %v", fb.switches)
	}
	if got := m.OnScreen(); got.Context != "local-2" || got.Generation != 3 {
		t.Fatalf("target %+v after the switch", got)
	}
	if !strings.Contains(screenText(m), "syncing local-2") {
		t.Errorf("no syncing state before the first snapshot:\n%s", screenText(m))
	}
	run(m, SnapshotMsg{Snapshot: seedEstate(2)}) // late, from local-1
	if _, ok := m.Snapshot(); ok {
		t.Fatal("took a snapshot of the old generation after the switch")
	}
	run(m, SnapshotMsg{Snapshot: estate2(3)})
	s := screenText(m)
	if !strings.Contains(s, "ctx local-2") || !strings.Contains(services.LineWith(s, "payment-service"), "Down") {
		t.Errorf("local-2 not on screen:\n%s", s)
	}
}

func TestSwitchFailureKeepsContext(t *testing.T) {
	fb := &fakeBackend{fail: true}
	m := newModelWith(t, 120, 40, fb, nil)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	run(m, press(":"))
	typeText(m, "ctx local-2")
	run(m, press("enter"))
	if m.OnScreen().Context != "local-1" {
		t.Fatalf("target %s after a failed switch", m.OnScreen().Context)
	}
	s := screenText(m)
	if !strings.Contains(s, "switch to local-2 failed: connection refused") || !strings.Contains(s, "notification-service") {
		t.Errorf("failed switch not reported or old data gone:\n%s", s)
	}
}

func TestUnknownContext(t *testing.T) {
	fb := &fakeBackend{}
	m := newModelWith(t, 120, 40, fb, nil)
	run(m, press(":"))
	typeText(m, "ctx nope")
	run(m, press("enter"))
	if len(fb.switches) != 0 || !strings.Contains(screenText(m), "no context nope") {
		t.Errorf("switched to an unknown context (%v)", fb.switches)
	}
}

func TestContextsScreenEnterSwitches(t *testing.T) {
	fb := &fakeBackend{}
	m := newModelWith(t, 120, 40, fb, nil)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	run(m, press(":"))
	typeText(m, "ctx")
	run(m, press("enter"))
	if !strings.Contains(screenText(m), "fintech-prod/payment-service") {
		t.Fatalf("fleet summary not shown:\n%s", screenText(m))
	}
	run(m, press("j"))
	run(m, press("enter"))
	if !slices.Equal(fb.switches, []string{"local-2"}) {
		t.Fatalf("switches = %v", fb.switches)
	}
}

func TestTabCyclesScreensAndMouseWheelScrolls(t *testing.T) {
	m := newTestModel(t, 100, 30)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	run(m, press("tab"))
	if m.Screen() != "hpa" {
		t.Fatalf("tab: %s", m.Screen())
	}
	run(m, tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift})
	if m.Screen() != "svc" {
		t.Fatalf("shift+tab: %s", m.Screen())
	}
	run(m, tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	run(m, tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if c := m.Services().Table().Cursor(); c != 2 {
		t.Errorf("wheel down twice: cursor %d", c)
	}
}

func TestReadOnlyBadge(t *testing.T) {
	m := New(Options{Common: newTestModel(t, 80, 24).common, Feed: Feed{OnScreen: OnScreen{Context: "prod"}, ReadOnly: true,
		WriteWarning: "credentials allow writes; read-only enforced by vigil"}})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 24})
	if l := services.LineWith(screenText(m), "READ-ONLY"); !strings.Contains(l, "credentials allow writes") {
		t.Errorf("no READ-ONLY badge with the credentials warning:\n%s", screenText(m))
	}
}

// addedContext is fakeBackend whose kubeconfig gains a context once added is set (a new
// cluster's credentials written by a cloud CLI while vigil runs).
type addedContext struct {
	fakeBackend
	added bool
}

func (f *addedContext) Contexts() []estate.ContextInfo {
	cs := f.fakeBackend.Contexts()
	if f.added {
		cs = append(cs, estate.ContextInfo{Name: "eks-prod", Cluster: "eks-prod", User: "admin", Server: "https://10.0.0.9:443"})
	}
	return cs
}

// TestContextAddedWhileRunning: a context added to the kubeconfig is listed on the Contexts
// screen at its next refresh, and :ctx switches to it; before, only a restart showed it.
func TestContextAddedWhileRunning(t *testing.T) {
	fb := &addedContext{}
	m := newModelWith(t, 120, 40, fb, nil)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	fb.added = true
	run(m, press(":"))
	typeText(m, "ctx")
	run(m, press("enter")) // the Contexts screen, refreshed on opening
	if s := screenText(m); services.LineWith(s, "eks-prod") == "" {
		t.Fatalf("the added context is not listed:\n%s", s)
	}
	run(m, press(":"))
	typeText(m, "ctx eks-prod")
	run(m, press("enter"))
	if !slices.Equal(fb.switches, []string{"eks-prod"}) {
		t.Fatalf("switches = %v, want eks-prod (%s)", fb.switches, screenText(m))
	}
}
