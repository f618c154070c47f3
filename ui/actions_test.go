package ui

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/alerts"
	"github.com/vigil-k8s/vigil/ui/auditlog"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/gitops"
)

// estateWithSilence is estate with one active silence in Alertmanager.
func estateWithSilence() estate.Snapshot {
	s := seedEstate(2)
	s.Alerts.Alertmanager = estate.AlertSource{URL: "http://127.0.0.1:19093", Configured: true, Available: true, LastSuccess: testNow}
	s.Alerts.Alerts[0].Labels = map[string]string{"alertname": "HighErrorRate", "namespace": "fintech-prod", "service": "user-service", "severity": "critical"}
	s.Alerts.Silences = []estate.Silence{{ID: "0b1c-silence", State: "active", Matchers: []string{`alertname="DiskFull"`},
		CreatedBy: "admin", Comment: "INC-7", StartsAt: testNow.Add(-time.Hour), EndsAt: testNow.Add(time.Hour)}}
	return s
}

func openDetail(t *testing.T, m *Model, name string) {
	t.Helper()
	run(m, press("/"))
	typeText(m, name)
	run(m, press("enter"))
	run(m, press("enter"))
}

// detailAction opens the service detail of the workload matching name on a
// two-cluster estate, then its action menu, and picks the item titled
// prefix; fa is the provider that records what ran.
func detailAction(t *testing.T, fa *fakeActions, name, prefix string) *Model {
	t.Helper()
	m := newModelWith(t, 120, 50, &fakeBackend{}, fa)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	openDetail(t, m, name)
	run(m, press("a"))
	menuTo(t, m, prefix)
	return m
}

// menuTo moves the open menu's cursor to the item titled prefix and presses Enter.
func menuTo(t *testing.T, m *Model, prefix string) {
	t.Helper()
	s := screenText(m)
	for range 10 {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "› "+prefix) {
				run(m, press("enter"))
				return
			}
		}
		run(m, press("down"))
		s = screenText(m)
	}
	t.Fatalf("no menu item %q:\n%s", prefix, s)
}

func TestRevisionPicker_DefaultPreviousAndRefusesCurrent(t *testing.T) {
	fa := newFakeActions()
	fa.disabled = nil
	m := detailAction(t, fa, "payment", "Roll back…")
	p, ok := m.Top().(*actionsui.Picker)
	if !ok {
		t.Fatalf("Roll back… opened %T", m.Top())
	}
	if p.Cursor() != 1 {
		t.Errorf("cursor on row %d, want 1 (revision 2, the previous)", p.Cursor())
	}
	s := screenText(m)
	for _, want := range []string{"REV", "payment-service:v1.2.2", "deploy v1.2.2", "26h", "(current)"} {
		if !strings.Contains(s, want) {
			t.Errorf("picker lacks %q:\n%s", want, s)
		}
	}
	run(m, press("up"))
	run(m, press("enter"))
	if len(fa.ran) != 0 || !strings.Contains(p.Note(), "current") {
		t.Fatalf("picking the current revision ran %v (note %q)", fa.ran, p.Note())
	}
	run(m, press("down"))
	run(m, press("enter"))
	want := []string{"rollback to-revision=2 deployment/fintech-prod/payment-service"}
	if !slices.Equal(fa.ran, want) {
		t.Fatalf("ran %v, want %v", fa.ran, want)
	}
}

func TestScaleForm_TypedCountAndHPAWarning(t *testing.T) {
	fa := newFakeActions()
	m := detailAction(t, fa, "api-gateway", "Scale…")
	f, ok := m.Top().(*actionsui.Form)
	if !ok {
		t.Fatalf("Scale… opened %T", m.Top())
	}
	if s := screenText(m); !strings.Contains(s, "api-gateway-hpa owns the replica count") {
		t.Errorf("no HPA warning:\n%s", s)
	}
	run(m, press("backspace"))
	typeText(m, "x")
	run(m, press("enter"))
	if len(fa.ran) != 0 || !strings.Contains(f.Note(), "whole number") {
		t.Fatalf("a bad count ran %v (note %q)", fa.ran, f.Note())
	}
	run(m, press("backspace"))
	typeText(m, "5")
	run(m, press("enter"))
	if want := []string{"scale replicas=5 deployment/fintech-prod/api-gateway"}; !slices.Equal(fa.ran, want) {
		t.Fatalf("ran %v, want %v", fa.ran, want)
	}
}

func TestDetail_SecretRefreshForItsExternalSecret(t *testing.T) {
	fa := newFakeActions()
	m := detailAction(t, fa, "payment", "Refresh secret payment-service-secrets")
	run(m, press(" ")) // restart consumers: yes
	run(m, press("enter"))
	want := []string{"secret-refresh restart-consumers=true timeout=1m0s externalsecret/fintech-prod/payment-service-secrets"}
	if !slices.Equal(fa.ran, want) {
		t.Fatalf("ran %v, want %v", fa.ran, want)
	}
}

// TestSilence_EnterDoesNotConfirm: S on an alert opens the silence form
// (2h by default); Enter without a reason refuses; with one it starts the
// pipeline, whose confirmation modal Enter alone never satisfies.
func TestSilence_EnterDoesNotConfirm(t *testing.T) {
	fa := newFakeActions()
	m := newModelWith(t, 120, 40, &fakeBackend{}, fa)
	run(m, SnapshotMsg{Snapshot: estateWithSilence()})
	run(m, screenMsgFor("alerts"))
	al, _ := m.screens[2].comp.(*alerts.Model).Selected()
	if al == nil || al.Name != "HighErrorRate" {
		t.Fatalf("selected %v", al)
	}
	run(m, press("S"))
	f, ok := m.Top().(*actionsui.Form)
	if !ok {
		t.Fatalf("S opened %T", m.Top())
	}
	if v := f.Values(); v[0] != "2h" {
		t.Errorf("default duration %q", v[0])
	}
	if s := screenText(m); !strings.Contains(s, "severity=critical") {
		t.Errorf("form does not show the matchers:\n%s", s)
	}
	run(m, press("enter"))
	if len(fa.ran) != 0 || !strings.Contains(f.Note(), "reason") {
		t.Fatalf("Enter without a reason ran %v (note %q)", fa.ran, f.Note())
	}
	run(m, press("tab"))
	typeText(m, "INC-42")
	run(m, press("enter"))
	if want := []string{"silence duration=2h0m0s alert/fintech-prod/HighErrorRate INC-42"}; !slices.Equal(fa.ran, want) {
		t.Fatalf("ran %v, want %v", fa.ran, want)
	}
	// The pipeline asks: Enter alone leaves the modal open and answers nothing.
	reply := make(chan spec.Confirmation, 1)
	req := spec.ConfirmRequest{ActionID: "silence", Title: "Silence alert", Context: "local-1", Object: actionsui.AlertObject(*al),
		Expect: "local-1/fintech-prod/HighErrorRate", Reason: "INC-42", Preview: spec.Preview{Summary: "silence HighErrorRate for 2h"}}
	run(m, actionsui.ConfirmMsg{Request: req, Reply: reply})
	run(m, press("enter"))
	if _, ok := m.Top().(*actionsui.Confirm); !ok || len(reply) != 0 {
		t.Fatalf("Enter alone confirmed (top %T, %d answers)", m.Top(), len(reply))
	}
	typeText(m, "y")
	run(m, press("enter"))
	if got := <-reply; got.Answer != "y" || got.Reason != "INC-42" {
		t.Fatalf("answer %+v", got)
	}
}

func TestExpireSilenceFromTheList(t *testing.T) {
	fa := newFakeActions()
	m := newModelWith(t, 120, 40, &fakeBackend{}, fa)
	run(m, SnapshotMsg{Snapshot: estateWithSilence()})
	run(m, screenMsgFor("alerts"))
	run(m, press("j"))
	if _, sil := m.screens[2].comp.(*alerts.Model).Selected(); sil == nil || sil.ID != "0b1c-silence" {
		t.Fatalf("j did not select the silence")
	}
	run(m, press("enter"))
	menuTo(t, m, "Expire silence")
	if want := []string{"silence-expire silence/0b1c-silence"}; !slices.Equal(fa.ran, want) {
		t.Fatalf("ran %v, want %v", fa.ran, want)
	}
}

func TestReadOnly_SilenceShownDisabled(t *testing.T) {
	fa := newFakeActions()
	m := newModelWith(t, 120, 40, &fakeBackend{}, fa)
	m.common.ReadOnly = true
	m.screens[2].comp = alerts.New(m.common, m.data, fa)
	m.resize()
	run(m, SnapshotMsg{Snapshot: estateWithSilence()})
	run(m, screenMsgFor("alerts"))
	run(m, press("S"))
	run(m, press("enter"))
	s := screenText(m)
	if len(fa.ran) != 0 || !strings.Contains(s, "disabled: read-only mode") {
		t.Fatalf("read-only: ran %v\n%s", fa.ran, s)
	}
}

func TestGitOps_ArgoRollbackDisabledAndSyncDefaults(t *testing.T) {
	fa := newFakeActions()
	m := newModelWith(t, 120, 40, &fakeBackend{}, fa)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	run(m, screenMsgFor("gitops"))
	if app, _ := m.screens[4].comp.(*gitops.Model).Selected(); app == nil || app.Name != "fintech-app" {
		t.Fatalf("selected %v", app)
	}
	run(m, press("enter"))
	if s := screenText(m); !strings.Contains(s, "disabled: auto-sync is on") {
		t.Fatalf("Argo CD rollback not shown disabled:\n%s", s)
	}
	menuTo(t, m, "Argo CD rollback")
	if len(fa.ran) != 0 {
		t.Fatalf("a disabled rollback ran %v", fa.ran)
	}
	run(m, press("up"))
	run(m, press("enter")) // sync form: revision HEAD, prune no
	f, ok := m.Top().(*actionsui.Form)
	if !ok {
		t.Fatalf("sync opened %T", m.Top())
	}
	if v := f.Values(); v[0] != "HEAD" || v[1] != "no" {
		t.Errorf("defaults %v, want [HEAD no]", v)
	}
	run(m, press("enter"))
	if want := []string{"argo-sync revision= prune=false application/argocd/fintech-app"}; !slices.Equal(fa.ran, want) {
		t.Fatalf("ran %v, want %v", fa.ran, want)
	}
	run(m, press("j"))
	if _, es := m.screens[4].comp.(*gitops.Model).Selected(); es == nil || es.Name != "payment-service-secrets" {
		t.Fatalf("j selected %v", es)
	}
}

// TestActionProgressAndBusy: a running action shows a spinner with its
// stage; a refusal (the pipeline's busy lock) is shown with its reason and
// reloads the audit pane.
func TestActionProgressAndBusy(t *testing.T) {
	m := newModelWith(t, 120, 30, &fakeBackend{}, newFakeActions())
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	tg := spec.Object{Kind: "Deployment", Namespace: "fintech-prod", Name: "payment-service"}
	m.Update(actionsui.ProgressMsg{ActionID: "restart", Title: "Restart", Object: tg, Progress: spec.Progress{Stage: spec.StageDryRun, Message: "previewing (server-side dry run)"}})
	if !m.Activity().Busy() || !strings.Contains(screenText(m), "Restart deployment/fintech-prod/payment-service [dry-run] previewing") {
		t.Fatalf("no progress shown:\n%s", screenText(m))
	}
	busy := &spec.RefusedError{Stage: spec.StageBusy, Reason: "deployment/fintech-prod/payment-service is busy: restart started 2s ago; one action per target at a time"}
	m.Update(actionsui.ProgressMsg{ActionID: "rollback", Title: "Roll back", Object: tg, Progress: spec.Progress{Done: true, Err: busy}})
	if !strings.Contains(m.Status(), "one action per target at a time") {
		t.Errorf("status %q", m.Status())
	}
	m.Update(actionsui.ProgressMsg{ActionID: "restart", Title: "Restart", Object: tg, Progress: spec.Progress{Done: true, Err: errors.New("boom")}})
	if m.Activity().Busy() {
		t.Error("still busy after Done")
	}
}

func auditRecords() []audit.Record {
	at := testNow.Add(-10 * time.Minute)
	return []audit.Record{
		{Seq: 1, Time: at, Phase: audit.PhaseStarted, User: "admin", Context: "local-1", Action: "rollback", Target: "deployment/fintech-prod/payment-service", Reason: "INC-7"},
		{Seq: 2, Time: at.Add(5 * time.Second), Phase: audit.PhaseFinished, User: "admin", Context: "local-1", Action: "rollback", Target: "deployment/fintech-prod/payment-service", Reason: "INC-7", Result: "succeeded"},
		{Seq: 3, Time: at.Add(time.Minute), Phase: audit.PhaseRefused, User: "admin", Context: "local-1", Action: "scale", Target: "deployment/fintech-prod/api-gateway", Result: "refused", Stage: "confirm", Error: "not confirmed: empty answer (Enter alone never confirms)"},
	}
}

func TestAuditPaneGolden(t *testing.T) {
	for _, tt := range []struct {
		name   string
		report audit.Report
	}{
		{"audit_120x24", audit.Report{Records: 3}},
		{"audit_broken_120x24", audit.Report{Records: 1, Broken: &audit.BrokenRecord{Line: 2, Seq: 2, Reason: "prev does not match the SHA-256 of line 1 (edited or removed)"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{Common: newModelWith(t, 120, 24, nil, nil).common, Feed: Feed{OnScreen: OnScreen{Context: "local-1", Server: "https://127.0.0.1:6443", User: "admin", Generation: 2}},
				Now: func() time.Time { return testNow }, AuditPath: "/state/vigil/audit.jsonl"})
			m.Update(windowSize(120, 24))
			run(m, SnapshotMsg{Snapshot: seedEstate(2)})
			run(m, screenMsgFor("audit"))
			run(m, auditlog.LoadedMsg{Path: "/state/vigil/audit.jsonl", Records: auditRecords(), Report: tt.report})
			got := ansi.Strip(m.Render())
			if !strings.Contains(got, "Audit") {
				t.Errorf("the tab bar lacks Audit")
			}
			golden(t, filepath.Join("testdata", tt.name+".golden"), got)
		})
	}
}

func TestSelectionGoldens(t *testing.T) {
	for _, tt := range []struct {
		name, screen string
		keys         []string
	}{
		{"alerts_selected_120x30", "alerts", []string{"j"}},
		{"gitops_selected_120x30", "gitops", []string{"j", "j"}},
		{"gitops_menu_120x30", "gitops", []string{"enter"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := newModelWith(t, 120, 30, &fakeBackend{}, newFakeActions())
			run(m, SnapshotMsg{Snapshot: estateWithSilence()})
			run(m, screenMsgFor(tt.screen))
			for _, k := range tt.keys {
				run(m, press(k))
			}
			golden(t, filepath.Join("testdata", tt.name+".golden"), ansi.Strip(m.Render()))
		})
	}
}

// screenMsgFor is the palette command that shows screen name.
func screenMsgFor(name string) common.ScreenMsg { return common.ScreenMsg{Name: name} }

func windowSize(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }

// TestOutcomeFollowUpsAreOffered: what a finished attempt's outcome declares
// next (a secret refresh's consumers to restart) opens as a menu; picking an
// offer starts that action; a failed attempt offers nothing.
func TestOutcomeFollowUpsAreOffered(t *testing.T) {
	fa := newFakeActions()
	m := newModelWith(t, 120, 30, &fakeBackend{}, fa)
	run(m, SnapshotMsg{Snapshot: seedEstate(2)})
	es := spec.Object{Kind: spec.KindExternalSecret, Namespace: "fintech-prod", Name: "payment-service-secrets"}
	consumer := spec.Object{Kind: spec.KindDeployment, Namespace: "fintech-prod", Name: "payment-service"}
	out := &spec.Outcome{Attempt: "a1", Result: spec.Result{Message: "refreshed"}, FollowUps: spec.FollowUps{
		Title:  "the consumers of externalsecret/fintech-prod/payment-service-secrets (restart to pick up new values)",
		Offers: []spec.Offer{{Title: "Restart payment-service", Params: spec.RestartParams{}, Object: consumer}}}}
	failed := actionsui.ProgressMsg{ActionID: "secret-refresh", Title: "Refresh secret", Object: es,
		Progress: spec.Progress{Done: true, Outcome: out, Err: errors.New("verify: annotation missing")}}
	run(m, failed)
	if _, ok := m.Top().(*actionsui.Menu); ok {
		t.Fatalf("a failed attempt offered its follow-ups:\n%s", screenText(m))
	}
	run(m, actionsui.ProgressMsg{ActionID: "secret-refresh", Title: "Refresh secret", Object: es, Progress: spec.Progress{Done: true, Outcome: out}})
	if _, ok := m.Top().(*actionsui.Menu); !ok {
		t.Fatalf("no follow-up menu (top %T):\n%s", m.Top(), screenText(m))
	}
	if s := screenText(m); !strings.Contains(s, "the consumers of externalsecret/fintech-prod/payment-service-secrets") {
		t.Errorf("the menu is not titled by the outcome:\n%s", s)
	}
	menuTo(t, m, "Restart payment-service")
	if want := []string{"restart deployment/fintech-prod/payment-service"}; !slices.Equal(fa.ran, want) {
		t.Fatalf("ran %v, want %v", fa.ran, want)
	}
}

// TestDetailShowsTheWholeFinding: on an 80-column terminal the service detail's checklist
// findings are wrapped, not cut: paging through the detail reads each finding's evidence and
// fix whole.
func TestDetailShowsTheWholeFinding(t *testing.T) {
	const evidence = "spec.template.spec violates restricted:latest: allowPrivilegeEscalation != false (container \"user-service\" must set securityContext.allowPrivilegeEscalation=false); seccompProfile (pod or container \"user-service\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
	const fix = "Set runAsNonRoot: true, seccompProfile.type: RuntimeDefault, allowPrivilegeEscalation: false and capabilities.drop: [ALL] in the pod and container securityContext"
	m := newModelWith(t, 80, 30, &fakeBackend{}, newFakeActions())
	s := withFindings(seedEstate(2))
	s.Findings.Findings[1].Evidence, s.Findings.Findings[1].Remediation = evidence, fix
	s.Findings.Findings[1].Resource.Namespace = "fintech-staging" // the user-service the filter opens
	run(m, SnapshotMsg{Snapshot: s})
	openDetail(t, m, "user-service")
	var seen []string
	for range 20 {
		for _, l := range strings.Split(screenText(m), "\n") {
			if w := ansi.StringWidth(l); w > 80 {
				t.Fatalf("a line of %d cells: %q", w, l)
			}
			seen = append(seen, l)
		}
		run(m, press("pgdown"))
	}
	bare := func(s string) string { return strings.Join(strings.Fields(s), "") }
	all := bare(strings.Join(seen, " "))
	for _, want := range []string{evidence, "fix: " + fix} {
		if !strings.Contains(all, bare(want)) {
			t.Errorf("the detail does not say %q whole:\n%s", want, strings.Join(seen, "\n"))
		}
	}
}
