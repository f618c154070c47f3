// Package kubelet is the part of the simulated kubelets the apiserver talks
// to: GET /containerLogs/{namespace}/{pod}/{container}, over TLS, for the
// apiserver's kubelet client certificate only. It is what makes
// `kubectl logs` and `kubectl logs --previous` work against the local
// cluster.
//
// Log lines are a pure function of the container's status as the simulator
// published it (which run, when it started, how it ended) and the clock, so
// a test can compute what a log must contain from the pod it reads through
// the API. The format is the contract of testdata/README.md ("Container
// logs").
package kubelet

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Retention is how far back a container's log goes from its end (or now,
// while it runs): the kubelet's log rotation, so a container that has run
// for days answers with one hour of lines, not all of them.
const Retention = time.Hour

// Run is one run of a container: one container ID, from its start to its end.
type Run struct {
	Pod, Container string
	ID             string
	Start          time.Time
	// Finished is set once the run has ended; then End and ExitCode tell how.
	Finished bool
	End      time.Time
	ExitCode int32
	Reason   string
}

// Line is one log line of a run.
type Line struct {
	Time time.Time
	Text string
	// Stderr is true for the crash message, which a crashing process writes
	// to standard error.
	Stderr bool
}

// CrashMessage is the last line a run that exited with an error writes
// (other than OOMKilled, which the kernel ends without a word).
const CrashMessage = `level=fatal msg="unrecoverable error, exiting" error="dial tcp 10.96.0.53:5432: connect: connection refused"`

// ExitMessage is the last line of a run that exited with code 0.
const ExitMessage = `level=info msg="shutting down" reason="work complete"`

// Lines returns the lines of run r with Time in [from, to), in order. A
// running run has one line per second from its start; a finished one ends
// with its exit line at End. Only the last Retention before End (or before
// to, while it runs) is kept.
func Lines(r Run, from, to time.Time) []Line {
	end := to
	if r.Finished && r.End.Before(end) {
		end = r.End
	}
	lo := end.Add(-Retention)
	if from.After(lo) {
		lo = from
	}
	// Line times are whole seconds after Start, so they do not depend on
	// when the log is read.
	first := r.Start
	if d := lo.Sub(r.Start); d > 0 {
		first = r.Start.Add((d + time.Second - 1).Truncate(time.Second))
	}
	var out []Line
	for t := first; t.Before(end); t = t.Add(time.Second) {
		out = append(out, Line{Time: t, Text: lineText(r, t)})
	}
	if r.Finished && !r.End.Before(lo) && !r.End.After(to) && !r.End.Before(r.Start) {
		switch {
		case r.ExitCode == 0:
			out = append(out, Line{Time: r.End, Text: ExitMessage})
		case r.Reason != "OOMKilled":
			out = append(out, Line{Time: r.End, Text: CrashMessage, Stderr: true})
		}
	}
	return out
}

// lineText is the line a run writes at t: a start line at its start, then
// request-log lines chosen by the first 8 bytes (big-endian) of
// sha256("POD/CONTAINER/UNIXSECOND").
func lineText(r Run, t time.Time) string {
	if t.Equal(r.Start) {
		return fmt.Sprintf(`level=info msg="starting" container=%s pod=%s`, r.Container, r.Pod)
	}
	sum := sha256.Sum256([]byte(r.Pod + "/" + r.Container + "/" + strconv.FormatInt(t.Unix(), 10)))
	v := binary.BigEndian.Uint64(sum[:8])
	methods := [...]string{"GET", "GET", "GET", "POST", "PUT"}
	method := methods[v%5]
	status := 200
	switch v >> 20 % 100 {
	case 0:
		status = 500
	case 1:
		status = 404
	}
	return fmt.Sprintf(`level=info method=%s path=/api/v1/%s/%d status=%d duration_ms=%d request_id=%016x`,
		method, r.Container, v>>8%10000, status, v>>32%250+1, v)
}

// Which picks the run a log request reads, with the kubelet's rules
// (pkg/kubelet's validateContainerLogStatus): previous reads the last
// terminated run; otherwise the running one, else the terminated one, else
// the last terminated one; a container waiting with no past run has no log.
func Which(pod *corev1.Pod, container string, previous bool) (Run, error) {
	var cs *corev1.ContainerStatus
	for _, list := range [][]corev1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses} {
		for i := range list {
			if list[i].Name == container {
				cs = &list[i]
			}
		}
	}
	if cs == nil {
		return Run{}, fmt.Errorf("container %q in pod %q is waiting to start: ContainerCreating", container, pod.Name)
	}
	r := Run{Pod: pod.Name, Container: container}
	last := cs.LastTerminationState.Terminated
	fromTerminated := func(t *corev1.ContainerStateTerminated) Run {
		r.ID, r.Start, r.Finished, r.End, r.ExitCode, r.Reason = t.ContainerID, t.StartedAt.Time, true, t.FinishedAt.Time, t.ExitCode, t.Reason
		return r
	}
	switch {
	case previous:
		if last == nil || last.ContainerID == "" {
			return Run{}, fmt.Errorf("previous terminated container %q in pod %q not found", container, pod.Name)
		}
		return fromTerminated(last), nil
	case cs.State.Running != nil:
		r.ID, r.Start = cs.ContainerID, cs.State.Running.StartedAt.Time
		return r, nil
	case cs.State.Terminated != nil && cs.State.Terminated.ContainerID != "":
		return fromTerminated(cs.State.Terminated), nil
	case last != nil && last.ContainerID != "":
		return fromTerminated(last), nil
	case cs.State.Waiting != nil:
		switch cs.State.Waiting.Reason {
		case "ErrImagePull":
			return Run{}, fmt.Errorf("container %q in pod %q is waiting to start: image can't be pulled", container, pod.Name)
		case "ImagePullBackOff":
			return Run{}, fmt.Errorf("container %q in pod %q is waiting to start: trying and failing to pull image", container, pod.Name)
		}
		return Run{}, fmt.Errorf("container %q in pod %q is waiting to start: %s", container, pod.Name, cs.State.Waiting.Reason)
	}
	return Run{}, fmt.Errorf("container %q in pod %q is terminated", container, pod.Name)
}

// Ended returns how run r ended according to pod's current status: the
// run's ID as the running container means it still runs; as the last or
// current termination, that termination; gone from the status entirely, it
// ended when it was replaced (now).
func Ended(pod *corev1.Pod, r Run, now time.Time) (Run, bool) {
	if pod == nil || pod.DeletionTimestamp != nil {
		r.Finished, r.End, r.ExitCode, r.Reason = true, now, 0, "Completed"
		return r, true
	}
	for _, list := range [][]corev1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses} {
		for _, cs := range list {
			if cs.Name != r.Container {
				continue
			}
			if cs.State.Running != nil && cs.ContainerID == r.ID {
				return r, false
			}
			for _, t := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
				if t != nil && t.ContainerID == r.ID {
					r.Finished, r.End, r.ExitCode, r.Reason = true, t.FinishedAt.Time, t.ExitCode, t.Reason
					return r, true
				}
			}
		}
	}
	r.Finished, r.End, r.ExitCode, r.Reason = true, now, 0, "Completed"
	return r, true
}
