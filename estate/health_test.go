package estate

import (
	"testing"
	"time"
)

func TestDeriveHealth(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	old := now.Add(-time.Hour)
	fresh := now.Add(-30 * time.Second)
	ready := func(name string) PodFacts { return PodFacts{Name: name, Phase: "Running", Ready: true, Created: old} }
	settled := func(desired, readyN, utd int32, pods ...PodFacts) WorkloadFacts {
		return WorkloadFacts{Kind: "Deployment", Desired: desired, Ready: readyN, UpToDate: utd, Available: readyN,
			Generation: 2, ObservedGeneration: 2, Pods: pods}
	}
	crash := PodFacts{Name: "notification-service-7d9f", Phase: "Running", Waiting: "CrashLoopBackOff", LastTerminated: "Error", Restarts: 12, Created: old}
	oom := PodFacts{Name: "payment-service-5c4b", Phase: "Running", Waiting: "CrashLoopBackOff", LastTerminated: "OOMKilled", Restarts: 3, Created: old}
	pull := PodFacts{Name: "user-service-abc", Phase: "Pending", Waiting: "ImagePullBackOff", Created: old}

	tests := []struct {
		name string
		in   WorkloadFacts
		want Health
	}{
		{"all ready", settled(3, 3, 3, ready("a"), ready("b"), ready("c")), Health{StatusOK, ""}},
		{"scaled to zero", settled(0, 0, 0), Health{StatusOK, "scaled to 0"}},
		{"crashloop one of two", settled(2, 1, 2, ready("notification-service-1"), crash),
			Health{StatusDegraded, "1/2 ready; notification-service-7d9f CrashLoopBackOff (12 restarts)"}},
		{"oomkilled shows the termination", settled(2, 1, 2, ready("p"), oom),
			Health{StatusDegraded, "1/2 ready; payment-service-5c4b CrashLoopBackOff (OOMKilled, 3 restarts)"}},
		{"none ready, crashing", settled(1, 0, 1, crash),
			Health{StatusDown, "0/1 ready; notification-service-7d9f CrashLoopBackOff (12 restarts)"}},
		{"none ready, no pods", settled(2, 0, 0), Health{StatusDown, "0/2 ready; no pods"}},
		{"none ready, fresh pods", settled(1, 0, 1, PodFacts{Name: "x", Phase: "Pending", Created: fresh}),
			Health{StatusDown, "0/1 ready; pods starting"}},
		{"several failing: the crashloop is named", settled(3, 1, 3, ready("a"), pull, crash),
			Health{StatusDegraded, "1/3 ready; notification-service-7d9f CrashLoopBackOff (12 restarts) +1 more"}},
		{"unschedulable", settled(2, 1, 2, ready("a"), PodFacts{Name: "payment-x", Phase: "Pending", Unschedulable: true, Created: fresh}),
			Health{StatusDegraded, "1/2 ready; payment-x Unschedulable"}},
		{"rolling out", settled(3, 2, 1, ready("a"), ready("b"), PodFacts{Name: "c", Phase: "Pending", Created: fresh}),
			Health{StatusProgressing, "2/3 ready; rolling out (1/3 updated)"}},
		{"surge pod crashing blocks rollout", settled(2, 2, 1, ready("a"), ready("b"), crash),
			Health{StatusDegraded, "rollout blocked; notification-service-7d9f CrashLoopBackOff (12 restarts)"}},
		{"not ready past grace", settled(2, 1, 2, ready("a"), PodFacts{Name: "b", Phase: "Running", Created: old}),
			Health{StatusDegraded, "1/2 ready; b not ready"}},
		{"running, not ready within grace", settled(2, 1, 2, ready("a"), PodFacts{Name: "b", Phase: "Running", Created: now.Add(-10 * time.Second)}),
			Health{StatusProgressing, "1/2 ready; pods starting"}},
		{"running, not ready past the readiness grace", settled(2, 1, 2, ready("a"), PodFacts{Name: "b", Phase: "Running", Created: now.Add(-45 * time.Second)}),
			Health{StatusDegraded, "1/2 ready; b not ready"}},
		{"pending within grace", settled(2, 1, 2, ready("a"), PodFacts{Name: "b", Phase: "Pending", Created: fresh}),
			Health{StatusProgressing, "1/2 ready; pods starting"}},
		{"terminating crashing pod ignored", settled(1, 1, 1, ready("a"), func() PodFacts { p := crash; p.Terminating = true; return p }()),
			Health{StatusOK, ""}},
		{"progress deadline", func() WorkloadFacts {
			w := settled(2, 2, 1, ready("a"), ready("b"))
			w.ProgressDeadlineExceeded = true
			return w
		}(), Health{StatusDegraded, "2/2 ready; rollout stuck (ProgressDeadlineExceeded, 1/2 updated)"}},
		{"paused mid-rollout", func() WorkloadFacts {
			w := settled(2, 2, 1, ready("a"), ready("b"))
			w.Paused = true
			return w
		}(), Health{StatusDegraded, "rollout paused (1/2 updated)"}},
		{"spec not observed", func() WorkloadFacts {
			w := settled(2, 2, 2, ready("a"), ready("b"))
			w.Generation = 3
			return w
		}(), Health{StatusProgressing, "new spec not yet observed by the controller"}},
		{"no status yet", WorkloadFacts{Desired: 2, Generation: 1}, Health{StatusUnknown, "controller has not reported status yet"}},
		{"scaling down", settled(1, 2, 1, ready("a"), ready("b")), Health{StatusProgressing, "scaling down (2 ready, 1 wanted)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DeriveHealth(tt.in, now); got != tt.want {
				t.Errorf("DeriveHealth() =\n  %+v\nwant\n  %+v", got, tt.want)
			}
		})
	}
}

func TestStatusOrderPutsTroubleFirst(t *testing.T) {
	order := []HealthStatus{StatusDown, StatusDegraded, StatusUnknown, StatusProgressing, StatusOK}
	for i := 1; i < len(order); i++ {
		if order[i-1] >= order[i] {
			t.Errorf("%v should sort before %v", order[i-1], order[i])
		}
	}
}

func TestWithAlerts(t *testing.T) {
	firing := func(name, sev string, silenced ...string) Alert {
		return Alert{Name: name, State: "firing", Severity: sev, SilencedBy: silenced}
	}
	cases := []struct {
		name   string
		in     Health
		alerts []Alert
		want   Health
	}{
		{"no alerts", Health{StatusOK, ""}, nil, Health{StatusOK, ""}},
		{"critical degrades OK", Health{StatusOK, ""}, []Alert{firing("HighErrorRate", "critical")},
			Health{StatusDegraded, "alert HighErrorRate firing"}},
		{"warning degrades progressing", Health{StatusProgressing, "rolling out (1/2 updated)"}, []Alert{firing("DatabaseConnectionHigh", "warning")},
			Health{StatusDegraded, "rolling out (1/2 updated); alert DatabaseConnectionHigh firing"}},
		{"down stays down", Health{StatusDown, "0/2 ready"}, []Alert{firing("PaymentServiceDown", "critical"), firing("PaymentServiceDown", "critical")},
			Health{StatusDown, "0/2 ready; alert PaymentServiceDown firing"}},
		{"silenced is ignored", Health{StatusOK, ""}, []Alert{firing("HighErrorRate", "critical", "s-1")}, Health{StatusOK, ""}},
		{"pending is ignored", Health{StatusOK, ""}, []Alert{{Name: "HighErrorRate", State: "pending", Severity: "critical"}}, Health{StatusOK, ""}},
		{"info is ignored", Health{StatusOK, ""}, []Alert{firing("Watchdog", "info")}, Health{StatusOK, ""}},
	}
	for _, tc := range cases {
		if got := withAlerts(tc.in, tc.alerts); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
