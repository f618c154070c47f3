package ui

import (
	"strings"
	"testing"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// TestDetailUsageOneDerivation: a workload with one pod metrics.k8s.io has no figure for yet (a
// new Pending pod beside two measured ones) shows the usage its pod rows show, summed, never
// "usage unavailable"; cpu and memory each have one row.
func TestDetailUsageOneDerivation(t *testing.T) {
	snap := seedEstate(2)
	for i := range snap.Services {
		s := &snap.Services[i]
		if s.Namespace != "fintech-prod" || s.Name != "payment-service" {
			continue
		}
		pending := s.Pods[0]
		pending.Name, pending.Status, pending.Ready = "payment-service-7d9e-zzzzz", "Pending", false
		pending.Usage = estate.Usage{CPURequest: 1000, MemoryRequest: 2 << 30}
		s.Pods = append(s.Pods, pending)
		s.PodCount = len(s.Pods)
		s.Usage, s.UsagePods = estate.ServiceUsage(s.Pods)
	}
	for _, w := range []int{80, 160} {
		m := newModelWith(t, w, 60, &fakeBackend{}, newFakeActions())
		run(m, SnapshotMsg{Snapshot: snap})
		run(m, press("/"))
		typeText(m, "payment")
		run(m, press("enter"))
		run(m, press("enter"))
		s := screenText(m)
		if strings.Contains(s, "usage unavailable") {
			t.Errorf("%d columns: usage said unavailable while pods show usage:\n%s", w, s)
		}
		// The expected sum, from the pod rows' figures.
		var cpu int64
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "payment-service-5f7c-") {
				cpu += 200                                     // each measured pod row shows 200m (the fixture's)
				if w >= 160 && !strings.Contains(l, "200m/") { // at 80 the pod table cuts its last column
					t.Errorf("%d columns: pod row without its usage: %q", w, l)
				}
			}
		}
		var cpuRows []string
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "cpu ") {
				cpuRows = append(cpuRows, l)
			}
		}
		if len(cpuRows) != 1 || !strings.Contains(cpuRows[0], widgets.Milli(cpu)+" of request") {
			t.Errorf("%d columns: want one cpu row with %s of request, got %q:\n%s", w, widgets.Milli(cpu), cpuRows, s)
		}
		if !strings.Contains(s, "usage of 2 of 3 pods") {
			t.Errorf("%d columns: no word that one pod has no figure:\n%s", w, s)
		}
	}
}
