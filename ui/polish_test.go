package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/auditlog"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/services"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// The polish list of issue 20: each behaviour at the two sizes a k9s user
// lives in.
var polishSizes = []struct{ w, h int }{{80, 24}, {160, 45}}

func eachSize(t *testing.T, f func(t *testing.T, w, h int)) {
	for _, sz := range polishSizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) { f(t, sz.w, sz.h) })
	}
}

// watchedEstate is the seed estate with the session's namespace report:
// fintech-dr is watched but does not exist.
func watchedEstate() estate.Snapshot {
	s := seedEstate(2)
	for _, ns := range []string{"fintech-monitoring", "fintech-prod", "fintech-staging"} {
		s.Namespaces = append(s.Namespaces, estate.NamespaceStatus{Name: ns, Synced: true})
	}
	s.Namespaces = append(s.Namespaces, estate.NamespaceStatus{Name: "fintech-dr", Missing: true, Synced: true})
	return s
}

// The palette is drawn over the screen's last line: nothing of that line
// may show through after its own text.
func TestPaletteCoversTheLineBeneath(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		m := newModelWith(t, w, h, &fakeBackend{}, nil)
		run(m, SnapshotMsg{Snapshot: seedEstate(2)})
		if !strings.Contains(screenText(m), "all namespaces · sort default") {
			t.Fatalf("the services status line is not where the palette goes:\n%s", screenText(m))
		}
		run(m, press(":"))
		run(m, press("h"))
		line := services.LineWith(screenText(m), ":h█")
		if got := strings.TrimRight(line, " "); got != ":h█  hpa" {
			t.Errorf("palette line = %q, want %q (the line beneath shows through)", got, ":h█  hpa")
		}
	})
}

// Tab completes to the longest common prefix, then cycles, as a shell.
func TestPaletteTabCompletesTheCommonPrefix(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		m := newModelWith(t, w, h, &fakeBackend{}, nil)
		run(m, SnapshotMsg{Snapshot: watchedEstate()})
		run(m, press(":"))
		typeText(m, "ctx l")
		for i, want := range []string{"ctx local-", "ctx local-1", "ctx local-2", "ctx local-1"} {
			run(m, press("tab"))
			if l := services.LineWith(screenText(m), ":ctx"); !strings.HasPrefix(l, ":"+want+"█") {
				t.Fatalf("tab %d: %q, want :%s█", i+1, l, want)
			}
		}
		// The candidates are listed while cycling.
		if l := services.LineWith(screenText(m), ":ctx"); !strings.Contains(l, "ctx local-1 ctx local-2") {
			t.Errorf("candidates not listed: %q", l)
		}
		run(m, press("esc"))
		// :ns completes the watched namespaces.
		run(m, press(":"))
		typeText(m, "ns fintech-p")
		run(m, press("tab"))
		if l := services.LineWith(screenText(m), ":ns"); !strings.HasPrefix(l, ":ns fintech-prod█") {
			t.Errorf(":ns fintech-p<Tab> = %q", l)
		}
	})
}

// :ns refuses a namespace that is not watched or does not exist.
func TestNamespaceCommandRefusesUnknown(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		m := newModelWith(t, w, h, &fakeBackend{}, nil)
		run(m, SnapshotMsg{Snapshot: watchedEstate()})
		for _, tt := range []struct{ ns, want string }{
			{"bogus", "namespace bogus is not watched in local-1"},
			{"fintech-dr", "namespace fintech-dr does not exist in local-1"},
		} {
			run(m, press(":"))
			typeText(m, "ns "+tt.ns)
			run(m, press("enter"))
			if ns := m.Services().Namespace(); ns != "" {
				t.Errorf(":ns %s accepted (filter %q)", tt.ns, ns)
			}
			if !strings.Contains(m.Status(), tt.want) || !strings.Contains(screenText(m), tt.want[:min(len(tt.want), w-2)]) {
				t.Errorf(":ns %s: status %q, want %q on screen:\n%s", tt.ns, m.Status(), tt.want, screenText(m))
			}
		}
		run(m, press(":"))
		typeText(m, "ns fintech-prod")
		run(m, press("enter"))
		if ns := m.Services().Namespace(); ns != "fintech-prod" {
			t.Errorf(":ns fintech-prod: filter %q", ns)
		}
	})
}

// A pod's READY is ready containers / containers, as kubectl prints it.
func TestPodReadyCountsContainers(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		s := seedEstate(2)
		pay := &s.Services[4]
		pay.Pods[1].Ready = false
		pay.Pods[1].Containers[1].Ready = false
		m := newModelWith(t, w, h, &fakeBackend{}, nil)
		run(m, SnapshotMsg{Snapshot: s})
		openDetail(t, m, "payment-service")
		for _, p := range pay.Pods {
			ready := 0
			for _, c := range p.Containers {
				if c.Ready {
					ready++
				}
			}
			want := fmt.Sprintf(" %d/%d ", ready, len(p.Containers))
			if l := services.LineWith(screenText(m), p.Name); !strings.Contains(l, want) {
				t.Errorf("pod row %q lacks READY%s", l, want)
			}
		}
	})
}

// The VPA line reads requests against the recommendation as one ratio.
func TestVPALineReadsAsARatio(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		s := seedEstate(2)
		c := &s.Services[4].VPA.Containers[0]
		c.Requests.CPU, c.Target.CPU, c.LowerBound.CPU, c.UpperBound.CPU = 500, 203, 150, 400
		s.VPAs = []estate.VPAInfo{s.Services[4].VPA}
		m := newModelWith(t, w, h, &fakeBackend{}, nil)
		run(m, SnapshotMsg{Snapshot: s})
		run(m, press(":"))
		typeText(m, "hpa")
		run(m, press("enter"))
		m.Update(windowSize(max(w, 160), h)) // the VPA column is beside the HPA one
		mem := float64(c.Requests.Memory) / float64(c.Target.Memory)
		for _, want := range []string{
			fmt.Sprintf("cpu  requests 500m are %.1f× the 203m VPA recommends (range 150m–400m)", 500.0/203),
			fmt.Sprintf("vpa payment-service-vpa  mode Off  requests %.1f–%.1f× recommended", 500.0/203, mem),
		} {
			if !strings.Contains(screenText(m), want) {
				t.Errorf("no %q:\n%s", want, screenText(m))
			}
		}
	})
}

// S and a on the Alerts screen say why nothing opens.
func TestAlertsKeysSayWhyNothingOpens(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		s := seedEstate(2)
		s.Alerts.Alerts, s.Alerts.Firing = nil, 0
		m := newModelWith(t, w, h, &fakeBackend{}, newFakeActions())
		run(m, SnapshotMsg{Snapshot: s})
		run(m, press(":"))
		typeText(m, "alerts")
		run(m, press("enter"))
		for _, tt := range []struct{ key, want string }{
			{"S", "no alert selected"},
			{"a", "no alert or silence selected"},
		} {
			run(m, press(tt.key))
			if l := services.LineWith(screenText(m), tt.want); l == "" {
				t.Errorf("%s with no alert: no %q on screen:\n%s", tt.key, tt.want, screenText(m))
			}
		}
	})
}

// Enter on a disabled action says the reason, also at 80×24.
func TestDisabledActionSaysWhy(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		fa := newFakeActions()
		m := newModelWith(t, w, h, &fakeBackend{}, fa)
		run(m, SnapshotMsg{Snapshot: seedEstate(2)})
		openDetail(t, m, "payment-service")
		run(m, press("a"))
		run(m, press("down")) // Roll back: disabled (forbidden)
		run(m, press("enter"))
		if len(fa.ran) != 0 || !strings.Contains(screenText(m), "Roll back… is disabled: forbidden") {
			t.Errorf("ran %v; screen:\n%s", fa.ran, screenText(m))
		}
	})
}

// Ages on pages follow the clock tick, not the last snapshot.
func TestAgesFollowTheClock(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		now := testNow
		m := New(Options{
			Common:  common.Common{Styles: theme.New(false), Keys: common.DefaultKeyMap()},
			Feed:    Feed{OnScreen: OnScreen{Context: "local-1", Generation: 2}},
			Backend: &fakeBackend{},
			Now:     func() time.Time { return now },
		})
		m.Update(windowSize(w, h))
		run(m, SnapshotMsg{Snapshot: seedEstate(2)})
		run(m, press(":"))
		typeText(m, "alerts")
		run(m, press("enter"))
		// Prometheus was polled 3s before the snapshot (seedEstate).
		for _, d := range []time.Duration{0, time.Second, 2 * time.Second} {
			now = testNow.Add(d)
			m.Update(tickMsg(now))
			want := fmt.Sprintf("polled %s ago", time.Duration(3*time.Second+d).String())
			if l := services.LineWith(screenText(m), "Prometheus"); !strings.Contains(l, want) {
				t.Errorf("at +%s: %q, want %q", d, l, want)
			}
		}
	})
}

// An action's outcome about a service leaves the status line once the
// service changed after it (an HPA set the replicas back).
func TestOutcomeExpiresWhenItsServiceChanges(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		m := newModelWith(t, w, h, &fakeBackend{}, newFakeActions())
		snap := func(seq uint64, replicas int32) estate.Snapshot {
			s := seedEstate(2)
			s.Seq = seq
			s.Services[3].Desired = replicas
			return s
		}
		run(m, SnapshotMsg{Snapshot: snap(1, 2)})
		tg := spec.Object{Kind: "Deployment", Namespace: "fintech-prod", Name: "api-gateway"}
		m.Update(actionsui.ProgressMsg{ActionID: "scale", Title: "Scale", Object: tg,
			Progress: spec.Progress{Done: true, Outcome: &spec.Outcome{Result: spec.Result{Message: "scaled to 4"}}}})
		const said = "Scale: scaled to 4"
		if !strings.Contains(screenText(m), said) {
			t.Fatalf("outcome not shown:\n%s", screenText(m))
		}
		run(m, SnapshotMsg{Snapshot: snap(2, 4)}) // the scale, seen
		run(m, SnapshotMsg{Snapshot: snap(3, 4)}) // nothing new
		if !strings.Contains(screenText(m), said) {
			t.Fatalf("outcome gone while it still holds:\n%s", screenText(m))
		}
		run(m, SnapshotMsg{Snapshot: snap(4, 2)}) // the HPA set it back
		if strings.Contains(screenText(m), said) {
			t.Errorf("outcome still shown after api-gateway went back to 2:\n%s", screenText(m))
		}
	})
}

// cellAt reads the cell of header column title from a table line: the
// header is padded as the cells are, so a left-aligned cell starts where
// its title starts and a right-aligned one ends where its title ends.
func cellAt(header, line, title string, right bool) string {
	i := strings.Index(header, title)
	if i < 0 {
		return ""
	}
	r := []rune(line)
	start := len([]rune(header[:i]))
	if right {
		end := min(len(r), start+len([]rune(title)))
		j := end
		for j > 0 && r[j-1] != ' ' {
			j--
		}
		return string(r[j:end])
	}
	j := start
	for j < len(r) && r[j] != ' ' {
		j++
	}
	return string(r[start:j])
}

// One meaning for the sort arrow on every column: ↑ lowest value first,
// ↓ highest first; the sorted column's title is never cut by it.
func TestSortArrowsMeanOneThing(t *testing.T) {
	// The value each checked column shows, read back from the screen.
	num := func(s string) float64 {
		if s == "-" {
			return -1
		}
		if a, b, ok := strings.Cut(s, "/"); ok { // READY: the fraction ready
			var x, y float64
			fmt.Sscan(a, &x)
			fmt.Sscan(b, &y)
			return x / max(y, 1)
		}
		var x float64
		fmt.Sscan(strings.TrimSuffix(strings.TrimSuffix(s, "%"), "!"), &x)
		return x
	}
	cols := map[string]struct {
		right   bool
		numeric bool
	}{"NAMESPACE": {}, "NAME": {}, "READY": {true, true}, "RST": {true, true}, "CPU": {true, true}, "MEM": {true, true}}
	eachSize(t, func(t *testing.T, w, h int) {
		m := newModelWith(t, w, h, &fakeBackend{}, nil)
		run(m, SnapshotMsg{Snapshot: seedEstate(2)})
		seen := map[string]bool{}
		for range 14 {
			run(m, press("s"))
			for _, rev := range []bool{false, true} {
				if rev {
					run(m, press("S"))
				}
				screen := strings.Split(screenText(m), "\n")
				hi := slices.IndexFunc(screen, func(l string) bool { return strings.HasPrefix(l, "NAMESPACE") })
				if hi < 0 {
					t.Fatalf("no table header:\n%s", screenText(m))
				}
				header := screen[hi]
				col, arrow := "", ""
				for _, f := range strings.Fields(header) {
					if a, ok := strings.CutSuffix(f, "↑"); ok {
						col, arrow = a, "↑"
					} else if a, ok := strings.CutSuffix(f, "↓"); ok {
						col, arrow = a, "↓"
					}
				}
				if strings.Contains(header, "…") {
					t.Errorf("header cut: %q", header)
				}
				if col == "" {
					continue // the input order
				}
				if st := services.LineWith(screenText(m), "sort "); !strings.Contains(st, "sort "+strings.ToLower(col)+" "+arrow) {
					t.Errorf("status line %q does not say sort %s %s", st, strings.ToLower(col), arrow)
				}
				c, ok := cols[col]
				if !ok {
					continue
				}
				seen[col+arrow] = true
				var vals []string
				for _, l := range screen[hi+1 : hi+7] {
					vals = append(vals, cellAt(header, l, col+arrow, c.right))
				}
				for i := 1; i < len(vals); i++ {
					var cmp int
					if c.numeric {
						a, b := num(vals[i-1]), num(vals[i])
						cmp = map[bool]int{true: -1, false: 1}[a < b]
						if a == b {
							cmp = 0
						}
					} else {
						cmp = strings.Compare(vals[i-1], vals[i])
					}
					if (arrow == "↑" && cmp > 0) || (arrow == "↓" && cmp < 0) {
						t.Errorf("%s%s: %q before %q (column %v)", col, arrow, vals[i-1], vals[i], vals)
					}
				}
			}
		}
		for col := range cols {
			if !seen[col+"↑"] || !seen[col+"↓"] {
				t.Errorf("%s not seen sorted both ways (%v)", col, seen)
			}
		}
	})
}

// Columns are as wide as their content where the width allows: nothing is
// cut while the line has room to spare.
func TestColumnsFitTheirContent(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		s := seedEstate(2)
		s.Services[4].Argo.Sync, s.Services[4].Argo.Health = "OutOfSync", "Degraded"
		s.Services[0].Name = "notification-service-long"
		m := newModelWith(t, w, h, &fakeBackend{}, nil)
		run(m, SnapshotMsg{Snapshot: s})
		screen := strings.Split(screenText(m), "\n")
		hi := slices.IndexFunc(screen, func(l string) bool { return strings.HasPrefix(l, "NAMESPACE") })
		for _, l := range screen[hi : hi+7] {
			if strings.Contains(l, "…") && strings.HasSuffix(l, " ") || strings.Contains(l, "…") && len([]rune(l)) < w {
				t.Errorf("a cell is cut while the line has room (%d of %d cells): %q", len([]rune(l)), w, l)
			}
		}
		if w >= 160 {
			for _, want := range []string{"OutOfSync/Degraded", "notification-service-long"} {
				if !strings.Contains(screenText(m), want) {
					t.Errorf("%q cut at %d columns:\n%s", want, w, screenText(m))
				}
			}
		}
	})
}

// cutWithRoom returns the lines of screen holding one of parts that show
// a cell cut ("…") although the line has room to spare.
func cutWithRoom(screen string, w int, parts ...string) []string {
	var bad []string
	for _, l := range strings.Split(screen, "\n") {
		for _, p := range parts {
			if strings.Contains(l, p) && strings.Contains(l, "…") && len([]rune(strings.TrimRight(l, " "))) < w {
				bad = append(bad, l)
			}
		}
	}
	return bad
}

// The GitOps secrets and stores and the audit pane's columns fit their
// content where the width allows (ARGO, secret stores, audit TARGET were
// cut at fixed widths while space sat unused).
func TestTextColumnsFitTheirContent(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		s := seedEstate(2)
		s.SecretStores = []estate.SecretStoreInfo{{Kind: "ClusterSecretStore", Name: "vault-backend-fintech-production-eu", Provider: "vault", Ready: true, Reason: "Valid", Message: "store validated"}}
		m := newModelWith(t, w, h, &fakeBackend{}, newFakeActions())
		run(m, SnapshotMsg{Snapshot: s})
		run(m, screenMsgFor("gitops"))
		for range 3 {
			run(m, press("pgdown"))
		}
		screen := screenText(m)
		if bad := cutWithRoom(screen, w, "SecretStore/", "ClusterSecretStore"); len(bad) > 0 {
			t.Errorf("cut with room to spare:\n%s", strings.Join(bad, "\n"))
		}
		if w >= 160 {
			for _, want := range []string{"SecretStore/vault-backend → notification-provider", "vault-backend-fintech-production-eu vault"} {
				if !strings.Contains(screen, want) {
					t.Errorf("%q cut at %d columns:\n%s", want, w, screen)
				}
			}
		}

		recs := auditRecords()
		recs[1].Target = "deployment/fintech-prod/payment-service-canary-eu-west-1"
		m = New(Options{Common: m.common, Feed: Feed{OnScreen: OnScreen{Context: "local-1", Generation: 2}},
			Now: func() time.Time { return testNow }, AuditPath: "/state/vigil/audit.jsonl"})
		m.Update(windowSize(w, h))
		run(m, SnapshotMsg{Snapshot: s})
		run(m, screenMsgFor("audit"))
		run(m, auditlog.LoadedMsg{Path: "/state/vigil/audit.jsonl", Records: recs, Report: audit.Report{Records: 3}})
		screen = screenText(m)
		if bad := cutWithRoom(screen, w, "admin"); len(bad) > 0 {
			t.Errorf("audit rows cut with room to spare:\n%s", strings.Join(bad, "\n"))
		}
		if w >= 160 && !strings.Contains(screen, recs[1].Target) {
			t.Errorf("TARGET %q cut at %d columns:\n%s", recs[1].Target, w, screen)
		}
	})
}

// A note on why a key did nothing leaves the status line after NoteFor.
func TestNotesExpire(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		now := testNow
		m := New(Options{
			Common:  common.Common{Styles: theme.New(false), Keys: common.DefaultKeyMap()},
			Feed:    Feed{OnScreen: OnScreen{Context: "local-1", Generation: 2}, Actions: newFakeActions()},
			Backend: &fakeBackend{},
			Now:     func() time.Time { return now },
		})
		m.Update(windowSize(w, h))
		s := seedEstate(2)
		s.Alerts.Alerts, s.Alerts.Firing = nil, 0
		run(m, SnapshotMsg{Snapshot: s})
		run(m, screenMsgFor("alerts"))
		run(m, press("S"))
		for _, tt := range []struct {
			after time.Duration
			shown bool
		}{{NoteFor - time.Second, true}, {NoteFor, false}} {
			now = testNow.Add(tt.after)
			m.Update(tickMsg(now))
			if got := services.LineWith(screenText(m), "no alert selected") != ""; got != tt.shown {
				t.Errorf("at +%s the note shown = %v, want %v", tt.after, got, tt.shown)
			}
		}
	})
}
