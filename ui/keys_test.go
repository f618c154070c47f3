package ui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/auditlog"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// everyKey is what a brute-force pass presses: every printable ASCII
// character, space, the named keys a terminal sends, shift+tab and
// ctrl+a…ctrl+z.
func everyKey() []tea.KeyPressMsg {
	var out []tea.KeyPressMsg
	for r := rune('!'); r <= '~'; r++ {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	out = append(out, tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}, tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift})
	for _, c := range []rune{tea.KeyEnter, tea.KeyEscape, tea.KeyTab, tea.KeyBackspace, tea.KeyDelete, tea.KeyInsert,
		tea.KeyUp, tea.KeyDown, tea.KeyLeft, tea.KeyRight, tea.KeyHome, tea.KeyEnd, tea.KeyPgUp, tea.KeyPgDown,
		tea.KeyF1, tea.KeyF2, tea.KeyF3, tea.KeyF4, tea.KeyF5, tea.KeyF10} {
		out = append(out, tea.KeyPressMsg{Code: c})
	}
	for r := rune('a'); r <= 'z'; r++ {
		out = append(out, tea.KeyPressMsg{Code: r, Mod: tea.ModCtrl})
	}
	return out
}

// textKey reports whether k edits a text field (widgets.Input): a
// component that captures typing takes these without listing them.
func textKey(k tea.KeyPressMsg) bool {
	switch k.String() {
	case "space", "backspace", "ctrl+h", "ctrl+u", "ctrl+w":
		return true
	}
	return k.Text != "" && k.Mod&^tea.ModShift == 0
}

// keyScene is one place in the UI where keys are read: open builds a fresh
// root model and brings the component under test to the top, in a state
// where each of its keys has something to do (a cursor mid-list, a page
// longer than the screen).
type keyScene struct {
	name string
	open func(t *testing.T) *Model
}

// helpKeys are the keys of every enabled binding the top component's help
// shows (short and full).
func helpKeys(c common.Component) map[string]bool {
	out := map[string]bool{}
	add := func(bs []key.Binding) {
		for _, b := range bs {
			if b.Enabled() {
				for _, k := range b.Keys() {
					out[k] = true
				}
			}
		}
	}
	add(c.ShortHelp())
	for _, col := range c.FullHelp() {
		add(col)
	}
	return out
}

// handledKeys presses every key but those skip names on the scene and
// returns those that did something: changed the screen or returned a
// command. A key that did something leaves the next key a fresh scene; one
// that did nothing leaves the scene as it found it, on screen.
func handledKeys(t *testing.T, sc keyScene, skip func(tea.KeyPressMsg) bool) map[string]bool {
	handled := map[string]bool{}
	m := sc.open(t)
	before := m.Render()
	for _, k := range everyKey() {
		if skip(k) {
			continue
		}
		_, cmd := m.Update(k)
		if cmd == nil && m.Render() == before {
			continue
		}
		handled[k.String()] = true
		if m = sc.open(t); m.Render() != before {
			t.Fatalf("the scene is not the same twice:\n%s\n----\n%s", before, m.Render())
		}
	}
	return handled
}

// TestHelpAndHandlingAgree: on every screen, detail and modal, each key the
// help shows does something when pressed, and each key that does something
// is in the help. What "does something" is comes from pressing every key,
// not from the key maps.
func TestHelpAndHandlingAgree(t *testing.T) {
	for _, sc := range keyScenes() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			m := sc.open(t)
			shown := helpKeys(m.Top())
			c, ok := m.Top().(common.Capturing)
			capturing := ok && c.Capturing()
			// While typing, a text key the help does not show may do anything (type).
			typed := func(k tea.KeyPressMsg) bool { return capturing && textKey(k) && !shown[k.String()] }
			handled := handledKeys(t, sc, typed)
			var dead, hidden []string
			for k := range shown {
				if !handled[k] {
					dead = append(dead, k)
				}
			}
			for k := range handled {
				switch {
				case shown[k]:
				case k == "ctrl+c": // the root's way out, even while typing
				default:
					hidden = append(hidden, k)
				}
			}
			sort.Strings(dead)
			sort.Strings(hidden)
			if len(dead) > 0 {
				t.Errorf("%T: help shows keys that do nothing: %q", m.Top(), dead)
			}
			if len(hidden) > 0 {
				t.Errorf("%T: keys that do something but are not in the help: %q", m.Top(), hidden)
			}
		})
	}
}

// threeContexts is fakeBackend with a third context, so the Contexts
// screen's cursor can sit mid-list.
type threeContexts struct{ fakeBackend }

func (f *threeContexts) Contexts() []estate.ContextInfo {
	return append(f.fakeBackend.Contexts(), estate.ContextInfo{Name: "local-3", Cluster: "local-3", User: "admin", Server: "https://127.0.0.1:6445"})
}

// keysEstate is the seed estate with more rows: three alerts and a silence,
// three revisions of payment-service.
func keysEstate() estate.Snapshot {
	s := estateWithSilence()
	a := s.Alerts.Alerts[0]
	for _, n := range []string{"PodRestarting", "LatencyHigh"} {
		b := a
		b.Name, b.Fingerprint, b.Severity = n, "fp-"+n, "warning"
		s.Alerts.Alerts = append(s.Alerts.Alerts, b)
	}
	for i := range s.Services {
		if s.Services[i].Name == "payment-service" {
			s.Services[i].Revisions = append(s.Services[i].Revisions, estate.Revision{Number: 1, Name: "payment-service-4a2b",
				Images: []string{"payment-service:v1.2.1"}, ChangeCause: "deploy v1.2.1", Created: testNow.Add(-50 * time.Hour)})
		}
	}
	return s
}

// sceneModel is a fresh root model of w×h cells on keysEstate with actions.
func sceneModel(t *testing.T, w, h int) *Model {
	return sceneWith(t, w, h, nil)
}

// sceneWith is sceneModel with the snapshot changed by more (rows enough
// to scroll at the minimum height of 24 lines).
func sceneWith(t *testing.T, w, h int, more func(*estate.Snapshot)) *Model {
	m := newModelWith(t, w, h, &threeContexts{}, newFakeActions())
	s := withFindings(keysEstate())
	if more != nil {
		more(&s)
	}
	run(m, SnapshotMsg{Snapshot: s})
	return m
}

func pressAll(m *Model, keys ...string) {
	for _, k := range keys {
		run(m, press(k))
	}
}

// logsModel is a root model whose logs opener streams forty lines of two
// containers, each longer than the screen is wide; the logs view of
// payment-service is open, searched for "request 1", a line above the end.
func logsModel(t *testing.T) *Model {
	open := func(_ context.Context, req common.LogsRequest) (common.LogsFeed, error) {
		buf := estate.NewLogBuffer(100)
		for i := range 40 {
			buf.Append(estate.LogLine{Time: testNow.Add(time.Duration(i) * time.Second), Pod: req.Service + "-7d9f",
				Container: []string{"app", "proxy"}[i%2], Text: fmt.Sprintf("level=info msg=request %d path=/v1/payments/%s", i, strings.Repeat("x", 120))})
		}
		done := make(chan struct{})
		close(done)
		return common.LogsFeed{Buffer: buf, Done: done, Err: func() error { return nil }}, nil
	}
	m := New(Options{
		Common:  common.Common{Styles: theme.New(false), Keys: common.DefaultKeyMap()},
		Feed:    Feed{OnScreen: OnScreen{Context: "local-1", Generation: 2}, Logs: open},
		Backend: &threeContexts{},
		Now:     func() time.Time { return testNow },
	})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	run(m, SnapshotMsg{Snapshot: keysEstate()})
	openDetail(t, m, "payment")
	pressAll(m, "esc", "esc", "l", "/")
	typeText(m, "request 1")
	pressAll(m, "enter", "G", "up")
	return m
}

func keyScenes() []keyScene {
	return []keyScene{
		{"services", func(t *testing.T) *Model { m := sceneModel(t, 120, 30); pressAll(m, "j"); return m }},
		{"services-filtered", func(t *testing.T) *Model {
			m := sceneModel(t, 120, 30)
			pressAll(m, "/", "e", "enter", "j")
			return m
		}},
		{"services-filtering", func(t *testing.T) *Model { m := sceneModel(t, 120, 30); pressAll(m, "/", "e"); return m }},
		{"detail", func(t *testing.T) *Model {
			m := sceneModel(t, 100, 24)
			openDetail(t, m, "payment")
			pressAll(m, "j")
			return m
		}},
		{"logs", logsModel},
		{"logs-search", func(t *testing.T) *Model { m := logsModel(t); pressAll(m, "/", "r"); return m }},
		{"logs-containers", func(t *testing.T) *Model { m := logsModel(t); pressAll(m, "c", "down"); return m }},
		{"autoscaling", func(t *testing.T) *Model {
			m := sceneWith(t, 100, 24, func(s *estate.Snapshot) {
				for i := range 12 {
					h := s.HPAs[0]
					h.Name, h.TargetName = fmt.Sprintf("extra-%02d-hpa", i), fmt.Sprintf("extra-%02d", i)
					s.HPAs = append(s.HPAs, h)
				}
			})
			run(m, screenMsgFor("hpa"))
			pressAll(m, "j")
			return m
		}},
		{"alerts", func(t *testing.T) *Model {
			m := sceneModel(t, 120, 40)
			run(m, screenMsgFor("alerts"))
			pressAll(m, "j")
			return m
		}},
		{"alert-labels", func(t *testing.T) *Model {
			m := sceneWith(t, 120, 24, func(s *estate.Snapshot) {
				for i := range 20 {
					s.Alerts.Alerts[0].Labels[fmt.Sprintf("label_%02d", i)] = "value"
				}
			})
			run(m, screenMsgFor("alerts"))
			pressAll(m, "enter", "j")
			return m
		}},
		{"silence-form", func(t *testing.T) *Model {
			m := sceneModel(t, 120, 40)
			run(m, screenMsgFor("alerts"))
			pressAll(m, "S")
			return m
		}},
		{"compliance", func(t *testing.T) *Model {
			m := sceneModel(t, 120, 30)
			run(m, screenMsgFor("check"))
			pressAll(m, "j")
			return m
		}},
		{"findings", func(t *testing.T) *Model {
			m := sceneWith(t, 120, 24, func(s *estate.Snapshot) {
				f := s.Findings.Findings[0]
				for i := range 20 {
					f.Resource.Name = fmt.Sprintf("fintech-extra-%02d", i)
					s.Findings.Findings = append(s.Findings.Findings, f)
				}
			})
			run(m, screenMsgFor("check"))
			pressAll(m, "j", "enter", "j") // Pod Security Standards enforced: a failure and its fix
			return m
		}},
		{"gitops", func(t *testing.T) *Model {
			m := sceneModel(t, 120, 40)
			run(m, screenMsgFor("gitops"))
			pressAll(m, "j")
			return m
		}},
		{"argo-diff", func(t *testing.T) *Model {
			m := sceneModel(t, 120, 30)
			m.data.ArgoDiff = func(context.Context, string, string) (estate.ArgoDiff, error) { return longArgoDiff(), nil }
			run(m, screenMsgFor("gitops"))
			pressAll(m, "d", "n") // mid-diff: n, N and every scroll key move
			return m
		}},
		{"contexts", func(t *testing.T) *Model {
			m := sceneModel(t, 120, 30)
			run(m, screenMsgFor("ctx"))
			pressAll(m, "j")
			return m
		}},
		{"audit", func(t *testing.T) *Model {
			m := New(Options{Common: common.Common{Styles: theme.New(false), Keys: common.DefaultKeyMap()}, Feed: Feed{OnScreen: OnScreen{Context: "local-1", Generation: 2}},
				Now: func() time.Time { return testNow }, AuditPath: "/state/vigil/audit.jsonl"})
			m.Update(windowSize(120, 24))
			run(m, SnapshotMsg{Snapshot: keysEstate()})
			run(m, screenMsgFor("audit"))
			run(m, auditlog.LoadedMsg{Path: "/state/vigil/audit.jsonl", Records: manyAuditRecords(), Report: audit.Report{Records: 36}})
			pressAll(m, "j")
			return m
		}},
		{"palette", func(t *testing.T) *Model { m := sceneModel(t, 120, 30); pressAll(m, ":", "s"); return m }},
		{"action-menu", func(t *testing.T) *Model {
			m := sceneModel(t, 120, 40)
			openDetail(t, m, "payment")
			pressAll(m, "a", "j")
			return m
		}},
		{"scale-form", func(t *testing.T) *Model {
			m := sceneModel(t, 120, 40)
			openDetail(t, m, "api-gateway")
			pressAll(m, "a")
			menuTo(t, m, "Scale…")
			return m
		}},
		{"revision-picker", func(t *testing.T) *Model {
			fa := newFakeActions()
			fa.disabled = nil
			m := newModelWith(t, 120, 40, &threeContexts{}, fa)
			run(m, SnapshotMsg{Snapshot: keysEstate()})
			openDetail(t, m, "payment")
			pressAll(m, "a")
			menuTo(t, m, "Roll back…")
			return m
		}},
		{"confirm", func(t *testing.T) *Model {
			m := sceneModel(t, 120, 30)
			var details []string
			for i := range 40 {
				details = append(details, fmt.Sprintf("container %d image payment-service:v1.2.3 → v1.2.2", i))
			}
			req := spec.ConfirmRequest{ActionID: "rollback", Title: "Roll back", Dangerous: true, Context: "local-1", NeedReason: true, Reason: "INC-7",
				Object: spec.Object{Kind: "Deployment", Namespace: "fintech-prod", Name: "payment-service"},
				Typed:  true, Expect: "local-1/fintech-prod/payment-service", Preview: spec.Preview{Summary: "roll back to revision 2", Details: details}}
			run(m, actionsui.ConfirmMsg{Request: req, Reply: make(chan spec.Confirmation, 1)})
			m.Render() // the preview is taller than the modal: it scrolls
			pressAll(m, "l", "down")
			return m
		}},
	}
}

// manyAuditRecords is auditRecords twelve times over, renumbered: longer
// than the pane.
func manyAuditRecords() []audit.Record {
	var out []audit.Record
	for range 12 {
		for _, r := range auditRecords() {
			r.Seq = int64(len(out) + 1)
			out = append(out, r)
		}
	}
	return out
}
