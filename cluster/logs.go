package cluster

import (
	"bufio"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// LogRequest says which logs of a service to stream.
type LogRequest struct {
	// Namespace and Service name the workload (Deployment, StatefulSet or
	// DaemonSet, else a Service) whose pods' logs are merged.
	Namespace, Service string
	// Container keeps one container's lines; empty means every container.
	Container string
	// Previous reads each container's previous run (a crash loop's last
	// crash) instead of the current one.
	Previous bool
	// Since keeps lines newer than this; 0 keeps all the kubelet has.
	Since time.Duration
	// TailLines keeps the last so many lines of each container's log, as
	// kubectl logs --tail does; nil keeps all. When following, it bounds
	// only what was written before the stream began.
	TailLines *int64
	// Follow keeps streaming, following pods that appear and marking pods
	// that go away, until the context ends.
	Follow bool
	// Capacity is the ring buffer's size in lines; default
	// DefaultLogCapacity.
	Capacity int
	// Holdback is how long a followed line waits so lines of several pods
	// that arrive close together leave in time order; default 500ms.
	Holdback time.Duration
}

// DefaultLogCapacity is the ring buffer's default size in lines.
const DefaultLogCapacity = 20000

// maxLogLine caps one line's length: longer lines are cut and marked.
const maxLogLine = 16 << 10

// ErrNoPods says the service's selector matches no pod.
var ErrNoPods = errors.New("no pods")

// LogStream is a service's merged log being read into an estate.LogBuffer.
type LogStream struct {
	// Buffer receives the lines, time-ordered across pods.
	Buffer *estate.LogBuffer
	// Selector is the service's pod selector, as a string.
	Selector string
	done     chan struct{}
	err      error
	leftOut  *atomic.Uint64
}

// LeftOut is how many of the oldest lines the backlog did not keep because
// the pods' logs held more than the buffer's capacity: not lines a slow
// reader lost (the buffer's Dropped), lines never buffered.
func (s *LogStream) LeftOut() uint64 { return s.leftOut.Load() }

// Done is closed when the stream has ended: every log was read (not
// following) or the context ended.
func (s *LogStream) Done() <-chan struct{} { return s.done }

// Err is the reason the stream ended early, after Done.
func (s *LogStream) Err() error { return s.err }

// ServiceLogs resolves the service's pod selector and starts reading its
// pods' logs into a new estate.LogBuffer. Errors finding the service come back
// at once; later ones per container become estate.LogNote lines.
func ServiceLogs(ctx context.Context, client kubernetes.Interface, req LogRequest) (*LogStream, error) {
	sel, err := serviceSelector(ctx, client, req.Namespace, req.Service)
	if err != nil {
		return nil, err
	}
	if req.Capacity <= 0 {
		req.Capacity = DefaultLogCapacity
	}
	if req.Holdback <= 0 {
		req.Holdback = 500 * time.Millisecond
	}
	s := &LogStream{Buffer: estate.NewLogBuffer(req.Capacity), Selector: sel.String(), done: make(chan struct{}), leftOut: new(atomic.Uint64)}
	r := &logReader{client: client, req: req, sel: sel, out: s.Buffer, seen: map[logKey]seenAt{}, leftOut: s.leftOut}
	go func() {
		defer close(s.done)
		s.err = r.run(ctx)
	}()
	return s, nil
}

// serviceSelector finds the pods' selector of the workload named name:
// a Deployment, StatefulSet or DaemonSet, else a Service.
func serviceSelector(ctx context.Context, client kubernetes.Interface, ns, name string) (labels.Selector, error) {
	var ls *metav1.LabelSelector
	apps := client.AppsV1()
	if d, err := apps.Deployments(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
		ls = d.Spec.Selector
	} else if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("deployment %s/%s: %w", ns, name, err)
	} else if st, err := apps.StatefulSets(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
		ls = st.Spec.Selector
	} else if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("statefulset %s/%s: %w", ns, name, err)
	} else if ds, err := apps.DaemonSets(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
		ls = ds.Spec.Selector
	} else if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("daemonset %s/%s: %w", ns, name, err)
	} else if svc, err := client.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
		if len(svc.Spec.Selector) == 0 {
			return nil, fmt.Errorf("service %s/%s selects no pods (no spec.selector)", ns, name)
		}
		return labels.SelectorFromSet(svc.Spec.Selector), nil
	} else if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("service %s/%s: %w", ns, name, err)
	} else {
		return nil, fmt.Errorf("service %q not found in namespace %q (no Deployment, StatefulSet, DaemonSet or Service of that name)", name, ns)
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: selector: %w", ns, name, err)
	}
	if sel.Empty() {
		return nil, fmt.Errorf("%s/%s: empty selector", ns, name)
	}
	return sel, nil
}

type logKey struct{ pod, container string }

// seenAt is the last line read of a container: a later stream of it skips
// what it repeats (lines before at, and the first count lines at at).
type seenAt struct {
	at    time.Time
	count int
}

type logReader struct {
	client kubernetes.Interface
	req    LogRequest
	sel    labels.Selector
	out    *estate.LogBuffer

	mu   sync.Mutex
	seen map[logKey]seenAt
	// leftOut counts the backlog's lines beyond the capacity.
	leftOut *atomic.Uint64
}

func (r *logReader) run(ctx context.Context) error {
	pods, err := r.client.CoreV1().Pods(r.req.Namespace).List(ctx, metav1.ListOptions{LabelSelector: r.sel.String()})
	if err != nil {
		return fmt.Errorf("pods of %s/%s: %w", r.req.Namespace, r.req.Service, err)
	}
	if len(pods.Items) == 0 && !r.req.Follow {
		return fmt.Errorf("%s/%s (selector %s): %w", r.req.Namespace, r.req.Service, r.sel, ErrNoPods)
	}
	if err := r.backlog(ctx, pods.Items); err != nil || !r.req.Follow {
		return err
	}
	initial := map[string]bool{}
	for _, p := range pods.Items {
		initial[p.Name] = true
	}
	return r.follow(ctx, initial)
}

// containersOf lists the containers of pod the request asks for.
func (r *logReader) containersOf(pod *corev1.Pod) []string {
	var out []string
	for _, c := range pod.Spec.Containers {
		if r.req.Container == "" || c.Name == r.req.Container {
			out = append(out, c.Name)
		}
	}
	return out
}

// backlog reads what every container has logged so far and appends it
// merged in time order.
func (r *logReader) backlog(ctx context.Context, pods []corev1.Pod) error {
	type job struct{ pod, container string }
	var jobs []job
	for i := range pods {
		for _, c := range r.containersOf(&pods[i]) {
			jobs = append(jobs, job{pods[i].Name, c})
		}
	}
	if len(jobs) == 0 && r.req.Container != "" && len(pods) > 0 {
		return fmt.Errorf("no container %q in the pods of %s/%s", r.req.Container, r.req.Namespace, r.req.Service)
	}
	results := make([][]estate.LogLine, len(jobs))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			opts := r.podLogOptions(j.container)
			var lines []estate.LogLine
			kept, cut := r.req.Capacity, 0
			err := r.stream(ctx, j.pod, opts, func(l estate.LogLine) bool {
				r.markSeen(l)
				lines = append(lines, l)
				// No more than the buffer holds is kept of one container:
				// a log of millions of lines costs bounded memory.
				if len(lines) >= 2*kept {
					cut += len(lines) - kept
					lines = append(lines[:0], lines[len(lines)-kept:]...)
				}
				return true
			})
			if len(lines) > kept {
				cut += len(lines) - kept
				lines = lines[len(lines)-kept:]
			}
			r.leftOut.Add(uint64(cut))
			if err != nil {
				lines = append(lines, r.note(j.pod, j.container, err))
			}
			results[i] = lines
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	merged := mergeByTime(results)
	if extra := len(merged) - r.req.Capacity; extra > 0 {
		r.leftOut.Add(uint64(extra))
		merged = merged[extra:]
	}
	r.out.Append(merged...)
	return nil
}

func (r *logReader) podLogOptions(container string) *corev1.PodLogOptions {
	o := &corev1.PodLogOptions{Container: container, Timestamps: true, Previous: r.req.Previous, TailLines: r.req.TailLines}
	if r.req.Since > 0 {
		secs := int64((r.req.Since + time.Second - 1) / time.Second)
		o.SinceSeconds = &secs
	}
	return o
}

func (r *logReader) note(pod, container string, err error) estate.LogLine {
	msg := err.Error()
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Message != "" {
		msg = status.Status().Message
	}
	return estate.LogLine{Time: time.Now(), Pod: termsafe.Line(pod), Container: termsafe.Line(container), Previous: r.req.Previous, Kind: estate.LogNote, Text: termsafe.Line(msg)}
}

// markSeen records l as the last line read of its container.
func (r *logReader) markSeen(l estate.LogLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := logKey{l.Pod, l.Container}
	s := r.seen[k]
	switch {
	case l.Time.After(s.at):
		r.seen[k] = seenAt{at: l.Time, count: 1}
	case l.Time.Equal(s.at):
		s.count++
		r.seen[k] = s
	}
}

// stream reads one container's log and calls line for each line (with
// its timestamp parsed, text sanitised) until the log ends, ctx ends or
// line returns false.
func (r *logReader) stream(ctx context.Context, pod string, opts *corev1.PodLogOptions, line func(estate.LogLine) bool) error {
	rc, err := r.client.CoreV1().Pods(r.req.Namespace).GetLogs(pod, opts).Stream(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 32<<10)
	podName, container := termsafe.Line(pod), termsafe.Line(opts.Container)
	for {
		raw, cut, err := readLine(br)
		if len(raw) > 0 || cut {
			l := estate.LogLine{Pod: podName, Container: container, Previous: opts.Previous, Kind: estate.LogText}
			ts, text, ok := strings.Cut(string(raw), " ")
			if t, perr := time.Parse(time.RFC3339Nano, ts); ok && perr == nil {
				l.Time, l.Text = t, text
			} else {
				l.Time, l.Text = time.Now(), string(raw)
			}
			if cut {
				l.Text += " …[line cut at 16 KiB]"
			}
			l.Text = termsafe.Line(l.Text)
			if !line(l) {
				return nil
			}
		}
		if err == io.EOF || (err != nil && ctx.Err() != nil) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readLine reads one line without its newline, at most maxLogLine bytes of
// it; cut says the rest was skipped.
func readLine(br *bufio.Reader) (line []byte, cut bool, err error) {
	for {
		chunk, isPrefix, rerr := br.ReadLine()
		if len(line) < maxLogLine {
			room := maxLogLine - len(line)
			if len(chunk) > room {
				chunk, cut = chunk[:room], true
			}
			line = append(line, chunk...)
		} else if len(chunk) > 0 {
			cut = true
		}
		if rerr != nil || !isPrefix {
			return line, cut, rerr
		}
	}
}

// mergeByTime merges lists that are each in time order into one, stably:
// lines of the same instant keep the order of the lists.
func mergeByTime(lists [][]estate.LogLine) []estate.LogLine {
	var all []estate.LogLine
	for _, l := range lists {
		all = append(all, l...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	return all
}

// follow watches the service's pods and streams every running container,
// from where the backlog ended (new pods from their start), until ctx
// ends. Lines wait Holdback in a reorder queue so pods' lines leave in
// time order.
func (r *logReader) follow(ctx context.Context, initial map[string]bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lines := make(chan estate.LogLine, 1024)
	f := &follower{r: r, ctx: ctx, lines: lines, streams: map[logKey]*followed{}, known: map[string]bool{}, initial: initial}
	factory := informers.NewSharedInformerFactoryWithOptions(r.client, 0, informers.WithNamespace(r.req.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = r.sel.String() }))
	inf := factory.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { f.onPod(obj, false) },
		UpdateFunc: func(_, obj any) { f.onPod(obj, false) },
		DeleteFunc: func(obj any) { f.onPod(obj, true) },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	defer cancel()

	q := &reorder{holdback: r.req.Holdback, limit: r.req.Capacity}
	tick := time.NewTicker(r.req.Holdback / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			r.out.Append(q.drain()...)
			return nil
		case l := <-lines:
			q.push(l, time.Now())
			r.out.Append(q.overflow()...)
		case now := <-tick.C:
			r.out.Append(q.release(now)...)
		}
	}
}

// followed is one container's follow stream.
type followed struct {
	runID     string // container ID streamed; "" when none runs
	streaming bool
	cancel    context.CancelFunc
}

type follower struct {
	r       *logReader
	ctx     context.Context
	lines   chan<- estate.LogLine
	initial map[string]bool // the pods the backlog read

	mu      sync.Mutex
	streams map[logKey]*followed
	known   map[string]bool // pods present
}

func (f *follower) send(l estate.LogLine) bool {
	select {
	case f.lines <- l:
		return true
	case <-f.ctx.Done():
		return false
	}
}

func (f *follower) onPod(obj any, gone bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := termsafe.Line(pod.Name)
	if gone || pod.DeletionTimestamp != nil {
		if f.known[pod.Name] {
			delete(f.known, pod.Name)
			go f.send(estate.LogLine{Time: time.Now(), Pod: name, Kind: estate.LogPodGone, Text: "pod " + name + " is gone"})
		}
		if gone {
			for k, s := range f.streams {
				if k.pod == pod.Name && s.cancel != nil {
					// Let the stream read what the kubelet still sends.
					cancel := s.cancel
					time.AfterFunc(2*time.Second, cancel)
				}
			}
		}
		return
	}
	if !f.known[pod.Name] {
		f.known[pod.Name] = true
		if !f.initial[pod.Name] {
			go f.send(estate.LogLine{Time: time.Now(), Pod: name, Kind: estate.LogPodAdded, Text: "pod " + name + " appeared"})
		}
	}
	for _, c := range f.r.containersOf(pod) {
		runID := logRunID(pod, c)
		k := logKey{pod.Name, c}
		s := f.streams[k]
		if s == nil {
			s = &followed{}
			f.streams[k] = s
		}
		if runID == "" || s.streaming || s.runID == runID {
			continue
		}
		s.runID, s.streaming = runID, true
		sctx, cancel := context.WithCancel(f.ctx)
		s.cancel = cancel
		go f.streamContainer(sctx, pod.Name, c, s)
	}
}

// streamContainer follows one container (streamFrom), asking again after
// an error while its pod is followed.
func (f *follower) streamContainer(ctx context.Context, pod, container string, s *followed) {
	// A container the pod's status says runs may not serve its log yet
	// (the kubelet answers "waiting to start" for a moment): the same run
	// sends no further pod event, so it is asked again here (said once),
	// each time from the last line read.
	for attempt := 0; ; attempt++ {
		err := f.streamFrom(ctx, pod, container)
		if err == nil || ctx.Err() != nil {
			break
		}
		if attempt == 0 {
			f.send(f.r.note(pod, container, err))
		}
		if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) || attempt >= maxLogRetries || !f.isKnown(pod) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Duration(attempt+1)*500*time.Millisecond, 3*time.Second)):
		}
	}
	f.mu.Lock()
	s.streaming = false
	f.mu.Unlock()
}

// streamFrom follows one container from the last line read of it (or, the
// first time, the request's Since), skipping repeats.
func (f *follower) streamFrom(ctx context.Context, pod, container string) error {
	opts := f.r.podLogOptions(container)
	opts.Follow, opts.Previous = true, false
	f.r.mu.Lock()
	seen := f.r.seen[logKey{termsafe.Line(pod), termsafe.Line(container)}]
	f.r.mu.Unlock()
	if !f.initial[pod] {
		// A pod that appeared while following: all its lines are new.
		opts.SinceSeconds, opts.TailLines = nil, nil
	}
	if !seen.at.IsZero() {
		opts.SinceSeconds, opts.TailLines = nil, nil
		since := metav1.NewTime(seen.at)
		opts.SinceTime = &since
	}
	skip := seen.count
	return f.r.stream(ctx, pod, opts, func(l estate.LogLine) bool {
		if l.Time.Before(seen.at) {
			return true
		}
		if l.Time.Equal(seen.at) && skip > 0 {
			skip--
			return true
		}
		f.r.markSeen(l)
		return f.send(l)
	})
}

// maxLogRetries bounds how often a container's log is asked again after
// an error (about a minute).
const maxLogRetries = 25

// isKnown reports whether pod is still followed (not gone).
func (f *follower) isKnown(pod string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.known[pod]
}

// logRunID is the container ID of the run container c's log shows: the
// running one, else the one that ended last (a crash loop waiting to
// restart), else "".
func logRunID(pod *corev1.Pod, c string) string {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name != c {
			continue
		}
		switch {
		case cs.State.Running != nil:
			return cs.ContainerID
		case cs.State.Terminated != nil && cs.State.Terminated.ContainerID != "":
			return cs.State.Terminated.ContainerID
		case cs.LastTerminationState.Terminated != nil:
			return cs.LastTerminationState.Terminated.ContainerID
		}
	}
	return ""
}

// reorder holds followed lines for a while so lines of several pods that
// arrive close together leave in time order.
type reorder struct {
	holdback time.Duration
	limit    int
	seq      uint64
	items    heldHeap
}

type held struct {
	line    estate.LogLine
	arrived time.Time
	seq     uint64
}

type heldHeap []held

func (h heldHeap) Len() int { return len(h) }
func (h heldHeap) Less(i, j int) bool {
	if !h[i].line.Time.Equal(h[j].line.Time) {
		return h[i].line.Time.Before(h[j].line.Time)
	}
	return h[i].seq < h[j].seq
}
func (h heldHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *heldHeap) Push(x any)   { *h = append(*h, x.(held)) }
func (h *heldHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (q *reorder) push(l estate.LogLine, now time.Time) {
	q.seq++
	heap.Push(&q.items, held{line: l, arrived: now, seq: q.seq})
}

// release pops, oldest first, the lines that have waited the holdback.
func (q *reorder) release(now time.Time) []estate.LogLine {
	var out []estate.LogLine
	for q.items.Len() > 0 && !q.items[0].arrived.After(now.Add(-q.holdback)) {
		out = append(out, heap.Pop(&q.items).(held).line)
	}
	return out
}

// overflow pops the oldest lines beyond the limit: a flood does not grow
// the queue past the buffer's size.
func (q *reorder) overflow() []estate.LogLine {
	var out []estate.LogLine
	for q.items.Len() > q.limit {
		out = append(out, heap.Pop(&q.items).(held).line)
	}
	return out
}

// drain pops every line.
func (q *reorder) drain() []estate.LogLine {
	var out []estate.LogLine
	for q.items.Len() > 0 {
		out = append(out, heap.Pop(&q.items).(held).line)
	}
	return out
}

// ServiceLogs streams a service's logs with the session's client (read-only
// wrapped when the session is: logs are reads).
func (s *Session) ServiceLogs(ctx context.Context, req LogRequest) (*LogStream, error) {
	return ServiceLogs(ctx, s.client, req)
}
