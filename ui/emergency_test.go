package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/services"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// suspendedEstate is seedEstate with fintech-app's automated sync suspended by vigil.
func suspendedEstate() estate.Snapshot {
	s := seedEstate(2)
	a := &s.ArgoApps[0]
	a.AutoSync, a.Prune, a.SelfHeal = false, false, false
	a.Suspension = &estate.ArgoSuspension{By: "alice", Reason: "INC-7", At: testNow.Add(-13 * time.Minute), Until: testNow.Add(47 * time.Minute)}
	return s
}

// readOnlyModel is newModelWith for a read-only context.
func readOnlyModel(t *testing.T, fa *fakeActions) *Model {
	t.Helper()
	m := New(Options{
		Common:  common.Common{Styles: theme.New(false), Keys: common.DefaultKeyMap()},
		Feed:    Feed{OnScreen: OnScreen{Context: "local-1", Server: "https://127.0.0.1:6443", User: "admin", Generation: 2}, Actions: fa, ReadOnly: true},
		Backend: &fakeBackend{},
		Now:     func() time.Time { return testNow },
	})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
	return m
}

// TestEmergencyRollback_GuidedFromTheWorkloadMenu (issue 19): payment-service belongs to
// fintech-app, which syncs automatically with self-heal: its action menu offers "Emergency
// rollback…", which picks the revision as "Roll back…" does (cursor on the previous one),
// shows the plan and asks how long auto-sync stays suspended, and starts the one guided flow
// with exactly what was picked and typed. The pipeline's confirmation follows.
func TestEmergencyRollback_GuidedFromTheWorkloadMenu(t *testing.T) {
	fa := newFakeActions()
	m := newModelWith(t, 160, 50, &fakeBackend{}, fa)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	openDetail(t, m, "payment")
	run(m, press("a"))
	if l := services.LineWith(screenText(m), "Emergency rollback…"); !strings.Contains(l, "dangerous") {
		t.Fatalf("Emergency rollback… not offered as an enabled dangerous action: %q\n%s", l, screenText(m))
	}
	menuTo(t, m, "Emergency rollback…")
	p, ok := m.Top().(*actionsui.Picker)
	if !ok {
		t.Fatalf("Emergency rollback… opened %T", m.Top())
	}
	if p.Cursor() != 1 {
		t.Errorf("cursor on row %d, want 1 (revision 2, the previous)", p.Cursor())
	}
	if s := screenText(m); !strings.Contains(s, "payment-service:v1.2.2") || !strings.Contains(s, "Emergency rollback of fintech-prod/payment-service") {
		t.Errorf("the picker is not the rollout history of payment-service:\n%s", s)
	}
	run(m, press("enter"))
	f, ok := m.Top().(*actionsui.Form)
	if !ok {
		t.Fatalf("picking a revision opened %T", m.Top())
	}
	if len(fa.ran) != 0 {
		t.Fatalf("picking the revision already ran %v", fa.ran)
	}
	s := screenText(m)
	if !strings.Contains(s, "plan: suspend auto-sync of fintech-app → roll back to revision 2 → verify healthy") {
		t.Errorf("the form does not show the plan:\n%s", s)
	}
	if v := f.Values(); v[0] != "1h0m0s" {
		t.Errorf("default suspension %q, want 1h0m0s", v[0])
	}
	for range len(f.Values()[0]) {
		run(m, press("backspace"))
	}
	typeText(m, "soon")
	run(m, press("enter"))
	if len(fa.ran) != 0 || !strings.Contains(f.Note(), "duration") {
		t.Fatalf("a bad duration ran %v (note %q)", fa.ran, f.Note())
	}
	for range 4 {
		run(m, press("backspace"))
	}
	typeText(m, "30m")
	run(m, press("enter"))
	want := []string{"emergency-rollback to-revision=2 suspend-for=30m0s deployment/fintech-prod/payment-service"}
	if !slices.Equal(fa.ran, want) {
		t.Fatalf("ran %v, want %v", fa.ran, want)
	}
}

// TestEmergencyRollback_OnlyUnderAutoSync: a workload no Argo CD app manages (user-service)
// has no emergency rollback; under a suspension vigil made, the entry says why it is
// disabled (nothing to suspend) and Enter runs nothing.
func TestEmergencyRollback_OnlyUnderAutoSync(t *testing.T) {
	fa := newFakeActions()
	m := newModelWith(t, 160, 50, &fakeBackend{}, fa)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	openDetail(t, m, "user-service")
	run(m, press("a"))
	if s := screenText(m); strings.Contains(s, "Emergency rollback") {
		t.Errorf("user-service (no Argo CD app) offers an emergency rollback:\n%s", s)
	}

	m = newModelWith(t, 160, 50, &fakeBackend{}, fa)
	run(m, SnapshotMsg{Snapshot: suspendedEstate()})
	openDetail(t, m, "payment")
	run(m, press("a"))
	l := services.LineWith(screenText(m), "Emergency rollback…")
	if !strings.Contains(l, "disabled: auto-sync of fintech-app is already suspended") {
		t.Errorf("under a suspension: %q\n%s", l, screenText(m))
	}
	menuTo(t, m, "Emergency rollback…")
	if len(fa.ran) != 0 {
		t.Fatalf("a disabled emergency rollback ran %v", fa.ran)
	}
}

// TestReEnableAutoSync_OnBothMenus (issue 19): an app whose automated sync vigil suspended
// offers "Re-enable auto-sync" on the GitOps screen's app menu and on its workload's menu;
// Enter starts the re-enable (the pipeline previews and confirms). An app under automated
// sync does not offer it.
func TestReEnableAutoSync_OnBothMenus(t *testing.T) {
	want := []string{"argo-resume-auto-sync application/argocd/fintech-app"}

	fa := newFakeActions()
	m := newModelWith(t, 160, 50, &fakeBackend{}, fa)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	run(m, screenMsgFor("gitops"))
	run(m, press("enter"))
	if s := screenText(m); strings.Contains(s, "Re-enable auto-sync") {
		t.Errorf("an app under automated sync offers re-enabling:\n%s", s)
	}

	m = newModelWith(t, 160, 50, &fakeBackend{}, fa)
	run(m, SnapshotMsg{Snapshot: suspendedEstate()})
	run(m, screenMsgFor("gitops"))
	run(m, press("enter"))
	if l := services.LineWith(screenText(m), "Re-enable auto-sync of fintech-app"); !strings.Contains(l, "dangerous") {
		t.Fatalf("the GitOps app menu does not offer re-enabling: %q\n%s", l, screenText(m))
	}
	menuTo(t, m, "Re-enable auto-sync of fintech-app")
	if !slices.Equal(fa.ran, want) {
		t.Fatalf("GitOps menu ran %v, want %v", fa.ran, want)
	}

	fa = newFakeActions()
	m = newModelWith(t, 160, 50, &fakeBackend{}, fa)
	run(m, SnapshotMsg{Snapshot: suspendedEstate()})
	openDetail(t, m, "payment")
	run(m, press("a"))
	menuTo(t, m, "Re-enable auto-sync of fintech-app")
	if !slices.Equal(fa.ran, want) {
		t.Fatalf("workload menu ran %v, want %v", fa.ran, want)
	}
}

// TestReadOnly_EmergencyAndReEnableDisabled: in read-only mode both entries are shown,
// disabled with the reason, and Enter on them runs nothing.
func TestReadOnly_EmergencyAndReEnableDisabled(t *testing.T) {
	fa := newFakeActions()
	m := readOnlyModel(t, fa)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	openDetail(t, m, "payment")
	run(m, press("a"))
	if l := services.LineWith(screenText(m), "Emergency rollback…"); !strings.Contains(l, "disabled: read-only mode") {
		t.Errorf("read-only: %q\n%s", l, screenText(m))
	}
	menuTo(t, m, "Emergency rollback…")
	if _, ok := m.Top().(*actionsui.Menu); !ok || len(fa.ran) != 0 {
		t.Fatalf("read-only: Enter opened %T, ran %v", m.Top(), fa.ran)
	}
	if n := m.Top().(*actionsui.Menu).Note(); !strings.Contains(n, "disabled: read-only mode") {
		t.Errorf("read-only: Enter says %q", n)
	}

	m = readOnlyModel(t, fa)
	run(m, SnapshotMsg{Snapshot: suspendedEstate()})
	run(m, screenMsgFor("gitops"))
	run(m, press("enter"))
	if l := services.LineWith(screenText(m), "Re-enable auto-sync of fintech-app"); !strings.Contains(l, "disabled: read-only mode") {
		t.Errorf("read-only: %q\n%s", l, screenText(m))
	}
	menuTo(t, m, "Re-enable auto-sync of fintech-app")
	if len(fa.ran) != 0 {
		t.Fatalf("read-only: ran %v", fa.ran)
	}
}
