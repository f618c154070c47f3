package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
)

// withPaymentErrors sets payment-service's error rate in snap (known only
// when rate >= 0) and stamps it at testNow+at.
func withPaymentErrors(snap estate.Snapshot, rate float64, at time.Duration) estate.Snapshot {
	snap.Taken = testNow.Add(at)
	for i := range snap.Services {
		s := &snap.Services[i]
		if s.Name == "payment-service" {
			s.ErrorRateKnown, s.ErrorRate, s.RequestRate = rate >= 0, max(rate, 0), 80
		}
	}
	return snap
}

// TestDetailErrorRateTrend: successive snapshots draw payment-service's
// 5xx share as a rising sparkline on the detail and autoscaling screens;
// when the rate query fails the line says why instead.
func TestDetailErrorRateTrend(t *testing.T) {
	m := newModelWith(t, 100, 40, &fakeBackend{}, newFakeActions())
	for i, r := range []float64{0, 0.05, 0.1, 0.25} {
		run(m, SnapshotMsg{Snapshot: withPaymentErrors(seedEstate(2), r, time.Duration(i)*5*time.Second)})
	}
	for _, k := range []string{"G", "k", "enter"} {
		run(m, press(k))
	}
	line := findLine(ansi.Strip(m.Render()), "errors ")
	if !strings.Contains(line, "▁▂▃█ 25.0% of 80 req/s") {
		t.Errorf("detail errors line = %q, want a rising sparkline and 25.0%% of 80 req/s", line)
	}

	down := withPaymentErrors(seedEstate(2), -1, 20*time.Second)
	down.Alerts.RatesErr = "bad_data: parse error"
	run(m, SnapshotMsg{Snapshot: down})
	if line := findLine(ansi.Strip(m.Render()), "errors "); !strings.Contains(line, "error rate unavailable: bad_data: parse error") {
		t.Errorf("with the query failing the errors line = %q", line)
	}
	if line := findLine(ansi.Strip(m.Render()), "alerts "); line == "" {
		t.Error("the alerts trend line is gone")
	}
}

func TestAutoscalingErrorRate(t *testing.T) {
	m := newModelWith(t, 120, 30, &fakeBackend{}, newFakeActions())
	snap := withPaymentErrors(seedEstate(2), 0.25, 0)
	for i := range snap.Services {
		if snap.Services[i].Name == "api-gateway" {
			snap.Services[i].ErrorRateKnown = false
		}
	}
	snap.Alerts.Prometheus = estate.AlertSource{}
	run(m, SnapshotMsg{Snapshot: snap})
	for _, k := range []string{":", "h", "p", "a", "enter"} {
		run(m, press(k))
	}
	got := ansi.Strip(m.Render())
	if !strings.Contains(got, "25.0% of 80 req/s") || !strings.Contains(got, "error rate unavailable: no Prometheus configured") {
		t.Errorf("autoscaling screen:\n%s", got)
	}
}

// findLine returns the first line of view starting with prefix.
func findLine(view, prefix string) string {
	for _, l := range strings.Split(view, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
