package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/events"
)

// TestEventsAndConditionsSayWhyWhole: an event's message and a condition's, and a service's
// health reason, are what tell the on-call why; at 80 to 200 columns the detail and the events
// screen (e) show each whole (wrapped under its row when the row leaves no room), every line
// fits, and a pod's name keeps its end (two pods of one ReplicaSet differ only there).
func TestEventsAndConditionsSayWhyWhole(t *testing.T) {
	const pod = "api-gateway-7c4d9f8b6d-x2kq9-with-a-long-generated-suffix"
	probe := "Readiness probe failed: Get \"http://10.244.1.17:8080/healthz\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
	backoff := "Back-off restarting failed container api-gateway in pod " + pod + "_fintech-prod(5f0e1c2a-9d7b-4c1e-8a3f-2b6d4e9f0a11)"
	unavailable := "Deployment does not have minimum availability."
	notReady := "containers with unready status: [api-gateway istio-proxy]"
	reason := "0/3 ready; " + pod + " CrashLoopBackOff (12 restarts), the other two Pending: 0/4 nodes are available"
	b := &fakeBackend{events: func(ref estate.ObjectRef) (estate.ObjectEvents, error) {
		return estate.ObjectEvents{Ref: ref, Events: []estate.KubeEvent{
			{Namespace: "fintech-prod", Kind: "Pod", Name: pod, Type: "Warning", Reason: "Unhealthy", Message: probe, Count: 14, Last: testNow.Add(-20 * time.Second)},
			{Namespace: "fintech-prod", Kind: "Pod", Name: pod, Type: "Warning", Reason: "BackOff", Message: backoff, Count: 3, Last: testNow.Add(-time.Minute)},
		}, Conditions: []estate.ObjectCondition{
			{Kind: "Deployment", Name: "api-gateway", Condition: estate.Condition{Type: "Available", Status: "False", Reason: "MinimumReplicasUnavailable", Message: unavailable}},
			{Kind: "Pod", Name: pod, Condition: estate.Condition{Type: "Ready", Status: "False", Reason: "ContainersNotReady", Message: notReady}},
		}}, nil
	}}
	s := seedEstate(2)
	for i := range s.Services {
		if s.Services[i].Name == "api-gateway" {
			s.Services[i].Health = estate.Health{Status: estate.StatusDown, Reason: reason}
		}
	}
	bare := func(s string) string { return strings.Join(strings.Fields(s), "") }
	want := []string{"Down: " + reason, probe, backoff, unavailable, notReady, "-with-a-long-generated-suffix"}
	for _, width := range []int{80, 100, 120, 160, 200} {
		m := newModelWith(t, width, 30, b, nil)
		run(m, SnapshotMsg{Snapshot: s})
		openDetail(t, m, "api-gateway")
		var detail []string
		for range 12 {
			detail = append(detail, fitting(t, m, width)...)
			run(m, press("pgdown"))
		}
		all := bare(strings.Join(detail, " "))
		for _, w := range want {
			if !strings.Contains(all, bare(w)) {
				t.Errorf("%d columns: the detail does not say %q whole:\n%s", width, w, strings.Join(detail, "\n"))
			}
		}
		run(m, press("e"))
		if _, ok := m.Top().(*events.Model); !ok {
			t.Fatalf("e opened %T", m.Top())
		}
		var screen []string
		for range 6 {
			screen = append(screen, fitting(t, m, width)...)
			run(m, press("pgdown"))
		}
		all = bare(strings.Join(screen, " "))
		for _, w := range want[1:] {
			if !strings.Contains(all, bare(w)) {
				t.Errorf("%d columns: the events screen does not say %q whole:\n%s", width, w, strings.Join(screen, "\n"))
			}
		}
	}
}

// fitting is the screen's lines, each checked to fit in width cells.
func fitting(t *testing.T, m *Model, width int) []string {
	t.Helper()
	lines := strings.Split(screenText(m), "\n")
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > width {
			t.Fatalf("a line of %d cells at %d columns: %q", w, width, l)
		}
	}
	return lines
}

// TestPDBLineSaysWhatItsFiguresAre: the detail's budget line said "2/1 healthy", which reads
// as two of one; the second figure is the least the budget requires.
func TestPDBLineSaysWhatItsFiguresAre(t *testing.T) {
	for _, tc := range []struct {
		pdb  estate.PDBInfo
		want string
	}{
		{estate.PDBInfo{Name: "payment-service-pdb", MinAvailable: "1", CurrentHealthy: 2, DesiredHealthy: 1, ExpectedPods: 2, DisruptionsAllowed: 1},
			"pdb payment-service-pdb min 1 max-unavail - · 2 healthy, 1 required · 1 disruption allowed"},
		{estate.PDBInfo{Name: "payment-service-pdb", MinAvailable: "2", CurrentHealthy: 2, DesiredHealthy: 2, ExpectedPods: 2, Blocking: true},
			"pdb payment-service-pdb min 2 max-unavail - · 2 healthy, 2 required · 0 disruptions allowed (a drain would stall)"},
	} {
		s := seedEstate(2)
		for i := range s.Services {
			if s.Services[i].Name == "payment-service" {
				s.Services[i].PDB = tc.pdb
			}
		}
		m := newModelWith(t, 120, 30, &fakeBackend{}, nil)
		run(m, SnapshotMsg{Snapshot: s})
		openDetail(t, m, "payment-service")
		if screen := screenText(m); lineWith(screen, tc.want) == "" {
			t.Errorf("no %q in the detail:\n%s", tc.want, screen)
		}
	}
}

// TestServicesColumnsWholeOrAbsent: at 100 and 101 columns, with the longest namespace's width
// taken by NAMESPACE, the Services screen cut ROLLOUT at the edge ("ROLLO", an age "21m" shown
// as "2"); a column is now whole or left out.
func TestServicesColumnsWholeOrAbsent(t *testing.T) {
	for _, w := range []int{99, 100, 101, 102, 120} {
		m := newModelWith(t, w, 30, &fakeBackend{}, nil)
		run(m, SnapshotMsg{Snapshot: seedEstate(2)})
		head := strings.Fields(strings.Split(screenText(m), "\n")[3])
		if head[0] != "NAMESPACE" {
			t.Fatalf("%d columns: %q is not the header", w, head)
		}
		for _, title := range head {
			if !slices.Contains([]string{"NAMESPACE", "NAME", "HEALTH", "READY", "RST", "CPU", "MEM", "HPA", "ALRT", "ARGO", "ROLLOUT", "REASON"}, title) {
				t.Errorf("%d columns: header %q cuts %q", w, head, title)
			}
		}
	}
}
