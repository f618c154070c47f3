package ui

import (
	"strings"
	"testing"

	"github.com/vigil-k8s/vigil/estate"
)

// TestAlertsUnknownIsSaid: with Prometheus and Alertmanager configured and neither answering,
// no alert is known to fire and none known not to: the header says alerts are unavailable
// (without it, its missing firing count reads as none, and so does every service's health),
// and the Alerts screen does not count "0 firing". One source answering, or none configured,
// is not that; with none configured the screen does not count "0 firing" either: it says
// alerts are not watched.
func TestAlertsUnknownIsSaid(t *testing.T) {
	down := estate.AlertSource{URL: "http://127.0.0.1:1", Configured: true, Err: "connection refused"}
	up := estate.AlertSource{URL: "http://127.0.0.1:19090", Configured: true, Available: true, LastSuccess: testNow}
	for _, tc := range []struct {
		name       string
		prom, am   estate.AlertSource
		wantUnsure bool
	}{
		{"both down", down, down, true},
		{"only Prometheus configured, down", down, estate.AlertSource{}, true},
		{"Alertmanager down, Prometheus up", up, down, false},
		{"none configured", estate.AlertSource{}, estate.AlertSource{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestModel(t, 160, 30)
			s := seedEstate(2)
			s.Alerts.Prometheus, s.Alerts.Alertmanager = tc.prom, tc.am
			s.Alerts.Alerts, s.Alerts.Firing = nil, 0
			run(m, SnapshotMsg{Snapshot: s})
			head := strings.Split(screenText(m), "\n")[1]
			if said := strings.Contains(head, "alerts unavailable"); said != tc.wantUnsure {
				t.Errorf("header %q: alerts unavailable said %v, want %v", head, said, tc.wantUnsure)
			}
			run(m, press(":"))
			typeText(m, "alerts")
			run(m, press("enter"))
			view := screenText(m)
			if m.Screen() != "alerts" {
				t.Fatalf("on %s, want the Alerts screen", m.Screen())
			}
			if tc.wantUnsure && (strings.Contains(view, "0 firing") || !strings.Contains(view, "alerts unknown: no alert source answers")) {
				t.Errorf("the Alerts screen counts what nobody knows:\n%s", view)
			}
			if !tc.wantUnsure && strings.Contains(view, "alerts unknown") {
				t.Errorf("alerts said unknown:\n%s", view)
			}
			unwatched := !tc.prom.Configured && !tc.am.Configured
			if said := strings.Contains(view, "alerts not watched: no alert source configured"); said != unwatched {
				t.Errorf("alerts not watched said %v, want %v:\n%s", said, unwatched, view)
			}
			if unwatched && strings.Contains(view, "0 firing") {
				t.Errorf("the Alerts screen counts alerts nothing watches:\n%s", view)
			}
		})
	}
}
