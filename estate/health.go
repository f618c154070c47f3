package estate

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// HealthStatus is the coarse health of a service, ordered from worst to best so
// sorting by it puts trouble first.
type HealthStatus int

// Statuses, worst first.
const (
	// StatusDown means the service wants pods but none is ready.
	StatusDown HealthStatus = iota
	// StatusDegraded means fewer pods are ready than wanted and it is not
	// just a rollout in progress, or pods are failing.
	StatusDegraded
	// StatusUnknown means vigil cannot tell, e.g. the controller has not
	// reported status yet.
	StatusUnknown
	// StatusProgressing means a rollout or scale-up is under way.
	StatusProgressing
	// StatusOK means every wanted pod is ready and up to date.
	StatusOK
)

// String returns the status as the UI shows it.
func (s HealthStatus) String() string {
	switch s {
	case StatusDown:
		return "Down"
	case StatusDegraded:
		return "Degraded"
	case StatusProgressing:
		return "Progressing"
	case StatusOK:
		return "OK"
	default:
		return "Unknown"
	}
}

// Health is a derived status with a short reason a person can act on,
// e.g. "1/2 ready; notification-service-7d9f CrashLoopBackOff (12 restarts)".
type Health struct {
	// Status is the coarse state.
	Status HealthStatus
	// Reason explains Status; empty when there is nothing to say.
	Reason string
}

// WorkloadFacts are the plain values health derivation looks at, copied out
// of a Deployment or StatefulSet and its pods.
type WorkloadFacts struct {
	// Kind is "Deployment" or "StatefulSet".
	Kind string
	// Desired, Ready, UpToDate and Available are replica counts.
	Desired, Ready, UpToDate, Available int32
	// Generation and ObservedGeneration tell whether the controller has seen
	// the latest spec.
	Generation, ObservedGeneration int64
	// Paused is a Deployment's spec.paused.
	Paused bool
	// ProgressDeadlineExceeded is true when a Deployment's Progressing
	// condition is False with reason ProgressDeadlineExceeded.
	ProgressDeadlineExceeded bool
	// Pods are the workload's pods.
	Pods []PodFacts
	// Causes maps a pod's name to the latest cause its Warning events give for its trouble
	// ("Readiness probe failed: HTTP probe failed with statuscode: 503"): what a reason
	// naming that pod adds. Nil when no events are known.
	Causes map[string]string
}

// PodFacts are the plain values of one pod that health looks at.
type PodFacts struct {
	// Name is the pod's name.
	Name string
	// Phase is status.phase ("Pending", "Running", ...).
	Phase string
	// Ready is the pod's Ready condition.
	Ready bool
	// Terminating is true when the pod has a deletion timestamp.
	Terminating bool
	// Restarts sums the containers' restart counts.
	Restarts int32
	// Waiting is the most telling waiting reason of its containers, e.g.
	// "CrashLoopBackOff"; empty when none waits.
	Waiting string
	// LastTerminated is the most telling last-termination reason, e.g.
	// "OOMKilled" or "Error".
	LastTerminated string
	// Unschedulable is true when PodScheduled is False with reason Unschedulable.
	Unschedulable bool
	// Created is the pod's creation time.
	Created time.Time
}

// Startup graces: how long a pod may be not-ready without a failure reason
// before vigil calls it a problem rather than "starting". A Running pod only
// waits for its readiness probe, so it gets less time than a Pending one
// (scheduling, image pulls).
const (
	startupGrace        = 2 * time.Minute
	runningStartupGrace = 30 * time.Second
)

// failingReasons are container waiting reasons that will not fix themselves.
var failingReasons = map[string]int{
	"CrashLoopBackOff":           1,
	"ImagePullBackOff":           2,
	"ErrImagePull":               2,
	"InvalidImageName":           2,
	"CreateContainerConfigError": 3,
	"CreateContainerError":       3,
	"RunContainerError":          3,
}

// DeriveHealth is the health of a workload from plain facts at time now.
// It is pure: same facts, same answer.
func DeriveHealth(w WorkloadFacts, now time.Time) Health {
	ready := fmt.Sprintf("%d/%d ready", w.Ready, w.Desired)
	failing, failingN := worstFailingPod(w.Pods)

	switch {
	case w.Generation > 0 && w.ObservedGeneration == 0:
		return Health{StatusUnknown, "controller has not reported status yet"}
	case w.Desired == 0 && w.Ready == 0:
		if failing.Name != "" {
			return Health{StatusDegraded, "scaled to 0; " + w.describe(failing, failingN)}
		}
		return Health{StatusOK, "scaled to 0"}
	case w.Ready == 0:
		if failing.Name != "" {
			return Health{StatusDown, ready + "; " + w.describe(failing, failingN)}
		}
		if p, ok := stuckPod(w.Pods, now); ok {
			return Health{StatusDown, ready + "; " + w.describe(p, 1)}
		}
		if len(w.Pods) == 0 {
			return Health{StatusDown, ready + "; no pods"}
		}
		return Health{StatusDown, ready + "; pods starting"}
	case failing.Name != "":
		if w.Ready >= w.Desired {
			return Health{StatusDegraded, "rollout blocked; " + w.describe(failing, failingN)}
		}
		return Health{StatusDegraded, ready + "; " + w.describe(failing, failingN)}
	case w.ProgressDeadlineExceeded:
		return Health{StatusDegraded, fmt.Sprintf("%s; rollout stuck (ProgressDeadlineExceeded, %d/%d updated)", ready, w.UpToDate, w.Desired)}
	case w.Ready < w.Desired:
		if p, ok := stuckPod(w.Pods, now); ok {
			return Health{StatusDegraded, ready + "; " + w.describe(p, 1)}
		}
		if w.UpToDate < w.Desired {
			return Health{StatusProgressing, fmt.Sprintf("%s; rolling out (%d/%d updated)", ready, w.UpToDate, w.Desired)}
		}
		return Health{StatusProgressing, ready + "; pods starting"}
	case w.Paused && w.UpToDate < w.Desired:
		return Health{StatusDegraded, fmt.Sprintf("rollout paused (%d/%d updated)", w.UpToDate, w.Desired)}
	case w.ObservedGeneration < w.Generation:
		return Health{StatusProgressing, "new spec not yet observed by the controller"}
	case w.UpToDate < w.Desired:
		return Health{StatusProgressing, fmt.Sprintf("rolling out (%d/%d updated)", w.UpToDate, w.Desired)}
	case w.Ready > w.Desired:
		return Health{StatusProgressing, fmt.Sprintf("scaling down (%d ready, %d wanted)", w.Ready, w.Desired)}
	}
	return Health{StatusOK, ""}
}

// worstFailingPod returns the failing pod to name in a reason and how many
// pods fail: the one with the most serious reason, then the most restarts.
func worstFailingPod(pods []PodFacts) (PodFacts, int) {
	var worst PodFacts
	n := 0
	for _, p := range pods {
		if p.Terminating || !failing(p) {
			continue
		}
		n++
		if worst.Name == "" || podRank(p) < podRank(worst) ||
			(podRank(p) == podRank(worst) && (p.Restarts > worst.Restarts ||
				(p.Restarts == worst.Restarts && p.Name < worst.Name))) {
			worst = p
		}
	}
	return worst, n
}

func failing(p PodFacts) bool {
	return failingReasons[p.Waiting] > 0 || p.Unschedulable || p.Phase == "Failed"
}

func podRank(p PodFacts) int {
	if r := failingReasons[p.Waiting]; r > 0 {
		return r
	}
	return 4
}

// stuckPod returns a not-ready pod older than the startup grace, which is a
// problem even without a failure reason (e.g. a failing readiness probe): the newest such
// pod (the current rollout's, not one a restart is replacing), by name among equals.
func stuckPod(pods []PodFacts, now time.Time) (PodFacts, bool) {
	sorted := append([]PodFacts(nil), pods...)
	sort.Slice(sorted, func(i, j int) bool {
		if !sorted[i].Created.Equal(sorted[j].Created) {
			return sorted[i].Created.After(sorted[j].Created)
		}
		return sorted[i].Name < sorted[j].Name
	})
	for _, p := range sorted {
		grace := startupGrace
		if p.Phase == "Running" {
			grace = runningStartupGrace
		}
		if !p.Ready && !p.Terminating && p.Phase != "Succeeded" && now.Sub(p.Created) > grace {
			return p, true
		}
	}
	return PodFacts{}, false
}

// describe is describePod with the cause the pod's events give, when known:
// "user-service-6f9d not ready: Readiness probe failed: HTTP probe failed with statuscode: 503".
func (w WorkloadFacts) describe(p PodFacts, n int) string {
	s := describePod(p, n)
	if cause := w.Causes[p.Name]; cause != "" {
		s += ": " + cause
	}
	return s
}

// describePod renders a pod's trouble, e.g.
// "payment-7d9f CrashLoopBackOff (OOMKilled, 12 restarts)" and "+2 more".
func describePod(p PodFacts, n int) string {
	var what string
	switch {
	case p.Waiting != "":
		what = p.Waiting
	case p.Unschedulable:
		what = "Unschedulable"
	case p.Phase == "Failed":
		what = "Failed"
	case p.Phase == "Running":
		what = "not ready"
	default:
		what = p.Phase
		if what == "" {
			what = "Pending"
		}
	}
	var details []string
	if p.LastTerminated != "" && p.LastTerminated != "Error" && p.LastTerminated != "Completed" {
		details = append(details, p.LastTerminated)
	}
	if p.Restarts > 0 {
		details = append(details, plural(int(p.Restarts), "restart"))
	}
	s := p.Name + " " + what
	if len(details) > 0 {
		s += " (" + strings.Join(details, ", ") + ")"
	}
	if n > 1 {
		s += fmt.Sprintf(" +%d more", n-1)
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
