package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigil-k8s/vigil/testdata/localcluster/internal/model"
)

// jobRunsFor is how long a pod that runs to completion (Job, CronJob, bare
// pod with restartPolicy other than Always) stays Running before it succeeds.
const jobRunsFor = 5 * time.Second

func sha(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])
}

// imageID turns "repo/name:tag" into a plausible "repo/name@sha256:..." ID.
func imageID(image string) string {
	repo := image
	if i := strings.LastIndex(repo, "@"); i >= 0 {
		return repo
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	if !strings.Contains(repo, "/") {
		repo = "docker.io/library/" + repo
	}
	return repo + "@sha256:" + sha(image)
}

// runsToCompletion reports whether the pod's containers exit by design.
func runsToCompletion(pod *corev1.Pod) bool {
	return pod.Spec.RestartPolicy == corev1.RestartPolicyNever || pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure
}

// condition returns the condition of type t in st, if any.
func condition(st *corev1.PodStatus, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

// desiredStatus computes what a kubelet would report for pod now. It also
// returns when the status will next change by itself (zero for never).
func (s *Simulator) desiredStatus(pod *corev1.Pod, now time.Time) (corev1.PodStatus, time.Time) {
	old := &pod.Status
	mnow := metav1.NewTime(now)
	st := corev1.PodStatus{
		Phase:    corev1.PodRunning,
		HostIP:   old.HostIP,
		PodIP:    old.PodIP,
		QOSClass: old.QOSClass,
	}
	if st.HostIP == "" {
		st.HostIP = s.hostIP(pod.Spec.NodeName)
	}
	st.HostIPs = []corev1.HostIP{{IP: st.HostIP}}
	switch {
	case pod.Spec.HostNetwork:
		st.PodIP = st.HostIP
	case st.PodIP == "":
		st.PodIP = s.ips.allocate(pod)
	}
	st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
	start := mnow
	if old.StartTime != nil {
		start = *old.StartTime
	}
	st.StartTime = &start

	trouble := model.TroubleOf(pod)
	// The moment the containers last stopped being ready is kept in the
	// ContainersReady condition; crash schedules count from it, so a pod
	// patched into trouble starts crashing from then, and restarts of this
	// process do not reset the count.
	origin := now
	if c := condition(old, corev1.ContainersReady); c != nil && c.Status == corev1.ConditionFalse && !c.LastTransitionTime.IsZero() {
		origin = c.LastTransitionTime.Time
	}
	var next time.Time
	ready := true
	done := false
	if runsToCompletion(pod) && trouble == model.Healthy {
		done = !now.Before(start.Add(jobRunsFor))
		if !done {
			next = start.Add(jobRunsFor)
		}
	}

	for _, c := range pod.Spec.InitContainers {
		st.InitContainerStatuses = append(st.InitContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: imageID(c.Image), Ready: true,
			ContainerID: "containerd://" + sha(string(pod.UID), c.Name),
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 0, Reason: "Completed", StartedAt: start, FinishedAt: start,
				ContainerID: "containerd://" + sha(string(pod.UID), c.Name),
			}},
		})
	}
	for _, c := range pod.Spec.Containers {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: imageID(c.Image)}
		started := true
		switch trouble {
		case model.ImagePullError:
			ready, started = false, false
			st.Phase = corev1.PodPending
			cs.ImageID = ""
			n := int(now.Sub(origin) / (10 * time.Second))
			next = origin.Add(time.Duration(n+1) * 10 * time.Second)
			w := &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: fmt.Sprintf("Back-off pulling image %q", c.Image)}
			if n%2 == 0 {
				w = &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: fmt.Sprintf("failed to pull and unpack image %q: not found", c.Image)}
			}
			cs.State.Waiting = w
		case model.CrashLoop, model.OOMKilled:
			ready = false
			count, last, nx := model.Restarts(origin, now)
			next = nx
			cs.RestartCount = count
			cs.ContainerID = "containerd://" + sha(string(pod.UID), c.Name, strconv.Itoa(int(count)))
			if count == 0 {
				cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(origin)}
				break
			}
			started = false
			reason, code := "Error", int32(1)
			if trouble == model.OOMKilled {
				reason, code = "OOMKilled", 137
			}
			backoff := nx.Sub(last)
			cs.State.Waiting = &corev1.ContainerStateWaiting{
				Reason:  "CrashLoopBackOff",
				Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", backoff, c.Name, pod.Name, pod.Namespace, pod.UID),
			}
			cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{
				ExitCode: code, Reason: reason,
				StartedAt:   metav1.NewTime(last.Add(-2 * time.Second)),
				FinishedAt:  metav1.NewTime(last),
				ContainerID: "containerd://" + sha(string(pod.UID), c.Name, strconv.Itoa(int(count-1))),
			}
		case model.NotReady:
			ready = false
			fallthrough
		default:
			cs.ContainerID = "containerd://" + sha(string(pod.UID), c.Name, "0")
			started := start
			if o := findContainer(old.ContainerStatuses, c.Name); o != nil && o.State.Running != nil && o.ContainerID == cs.ContainerID {
				started = o.State.Running.StartedAt
			}
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: started}
			if done {
				cs.State.Running = nil
				cs.State.Terminated = &corev1.ContainerStateTerminated{
					ExitCode: 0, Reason: "Completed", StartedAt: started,
					FinishedAt: metav1.NewTime(start.Add(jobRunsFor)), ContainerID: cs.ContainerID,
				}
			}
		}
		cs.Started = &started
		cs.Ready = ready && trouble != model.NotReady && !done
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	if done {
		st.Phase = corev1.PodSucceeded
		ready = false
	}

	var unready []string
	for _, cs := range st.ContainerStatuses {
		if !cs.Ready {
			unready = append(unready, cs.Name)
		}
	}
	cond := func(t corev1.PodConditionType, ok bool, reason, msg string) corev1.PodCondition {
		status := corev1.ConditionTrue
		if !ok {
			status = corev1.ConditionFalse
		} else {
			reason, msg = "", ""
		}
		transition := mnow
		if o := condition(old, t); o != nil && o.Status == status && !o.LastTransitionTime.IsZero() {
			transition = o.LastTransitionTime
		}
		return corev1.PodCondition{Type: t, Status: status, Reason: reason, Message: msg, LastTransitionTime: transition}
	}
	notReadyMsg := fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
	allReady := len(unready) == 0
	reason := "ContainersNotReady"
	if done {
		reason = "PodCompleted"
	}
	st.Conditions = []corev1.PodCondition{
		cond(corev1.PodReadyToStartContainers, !done, "", ""),
		cond(corev1.PodInitialized, true, "", ""),
		cond(corev1.PodReady, allReady, reason, notReadyMsg),
		cond(corev1.ContainersReady, allReady, reason, notReadyMsg),
		cond(corev1.PodScheduled, true, "", ""),
	}
	return st, next
}

func findContainer(list []corev1.ContainerStatus, name string) *corev1.ContainerStatus {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

// sameStatus reports whether two statuses look the same to a reader, ignoring
// timestamps, so the simulator only writes when something changed.
func sameStatus(a, b *corev1.PodStatus) bool {
	if a.Phase != b.Phase || a.PodIP != b.PodIP || a.HostIP != b.HostIP || a.StartTime == nil ||
		len(a.Conditions) != len(b.Conditions) || len(a.ContainerStatuses) != len(b.ContainerStatuses) ||
		len(a.InitContainerStatuses) != len(b.InitContainerStatuses) {
		return false
	}
	for i := range a.Conditions {
		x, y := a.Conditions[i], b.Conditions[i]
		if x.Type != y.Type || x.Status != y.Status || x.Reason != y.Reason {
			return false
		}
	}
	for i := range a.ContainerStatuses {
		x, y := a.ContainerStatuses[i], b.ContainerStatuses[i]
		if x.Name != y.Name || x.Ready != y.Ready || x.RestartCount != y.RestartCount || x.ContainerID != y.ContainerID ||
			stateKey(x.State) != stateKey(y.State) || stateKey(x.LastTerminationState) != stateKey(y.LastTerminationState) ||
			x.Image != y.Image || (x.Started == nil) != (y.Started == nil) || (x.Started != nil && *x.Started != *y.Started) {
			return false
		}
	}
	return true
}

func stateKey(s corev1.ContainerState) string {
	switch {
	case s.Running != nil:
		return "running"
	case s.Waiting != nil:
		return "waiting/" + s.Waiting.Reason
	case s.Terminated != nil:
		return "terminated/" + s.Terminated.Reason
	}
	return ""
}
