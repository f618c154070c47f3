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

// TestMissingUsageIsExplained: where a poll gave no figures, the detail says why for the
// service's namespace and the Services list says so beside its columns — a namespace whose
// PodMetrics the API refused is named as refused, not as "no figures yet" (what a reviewer
// without metrics.k8s.io saw for every service), and a reason is said once ("usage
// unavailable: usage unavailable: …" before).
func TestMissingUsageIsExplained(t *testing.T) {
	cases := []struct {
		name       string
		status     estate.UsageStatus
		unmeasured func(ns string) bool
		detail     string // opened: the first fintech-staging service
		list       string
	}{
		{"refused-in-one-namespace", estate.UsageStatus{Available: true, Refused: []string{"fintech-staging"}, Taken: testNow},
			func(ns string) bool { return ns == "fintech-staging" },
			"cpu/mem  usage unavailable: forbidden to list pods.metrics.k8s.io in fintech-staging", "cpu/mem forbidden in fintech-staging"},
		{"refused-cluster-wide", estate.UsageStatus{Reason: "forbidden to list pods.metrics.k8s.io", Refused: []string{""}},
			func(string) bool { return true },
			"cpu/mem  usage unavailable: forbidden to list pods.metrics.k8s.io in fintech-staging", "cpu/mem unavailable: forbidden to list pods.metrics.k8s.io"},
		{"not-served", estate.UsageStatus{Reason: "metrics.k8s.io is not served"},
			func(string) bool { return true },
			"cpu/mem  usage unavailable: metrics.k8s.io is not served", "cpu/mem unavailable: metrics.k8s.io is not served"},
		{"not-yet", estate.UsageStatus{Available: true, Taken: testNow},
			func(ns string) bool { return ns == "fintech-staging" },
			"cpu/mem  usage unavailable: metrics.k8s.io has no figures for its pods yet", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			snap := seedEstate(2)
			snap.Usage = c.status
			for i := range snap.Services {
				if s := &snap.Services[i]; c.unmeasured(s.Namespace) {
					s.Usage = estate.Usage{}
					for j := range s.Pods {
						s.Pods[j].Usage = estate.Usage{}
					}
				}
			}
			m := newModelWith(t, 200, 60, &fakeBackend{}, newFakeActions())
			run(m, SnapshotMsg{Snapshot: snap})
			list := screenText(m)
			if c.list != "" && !strings.Contains(list, "· "+c.list) {
				t.Errorf("list: no %q beside the counts:\n%s", c.list, list)
			}
			if c.list == "" && strings.Contains(list, "cpu/mem") {
				t.Errorf("list: a usage note where every namespace was polled:\n%s", list)
			}
			// The Autoscaling screen's workloads (api-gateway and payment-service of fintech-prod)
			// say the same where they have no figures.
			run(m, press("tab"))
			auto := screenText(m)
			if want := "usage unavailable: " + c.status.Why("fintech-prod"); c.unmeasured("fintech-prod") && !strings.Contains(auto, want) {
				t.Errorf("autoscaling: want %q:\n%s", want, auto)
			}
			if strings.Contains(auto, "cpu - of request") {
				t.Errorf("autoscaling: usage drawn as dashes without why:\n%s", auto)
			}
			run(m, press("shift+tab"))
			run(m, press("/"))
			typeText(m, "fintech-staging")
			run(m, press("enter"))
			run(m, press("enter"))
			s := screenText(m)
			if !strings.Contains(s, c.detail) {
				t.Errorf("detail: want %q:\n%s", c.detail, s)
			}
			if strings.Count(s, "usage unavailable") != 1 {
				t.Errorf("detail: %d times \"usage unavailable\", want once:\n%s", strings.Count(s, "usage unavailable"), s)
			}
		})
	}
}
