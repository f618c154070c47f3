package cluster

import (
	"context"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/vigil-k8s/vigil/estate"
)

// UsageResult is one poll of metrics.k8s.io, stamped with its session.
type UsageResult struct {
	// Context and Generation identify the session that polled.
	Context    string
	Generation uint64
	// Status says whether usage is available and when it was taken.
	Status estate.UsageStatus
	// Pods are each pod's usage.
	Pods estate.PodUsages
}

type usageState struct {
	mu     sync.Mutex
	result UsageResult
}

func (u *usageState) get() UsageResult {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.result
}

func (u *usageState) accept(r UsageResult, ctx string, gen uint64) bool {
	if r.Context != ctx || r.Generation != gen {
		return false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.result = r
	return true
}

// pollUsage lists PodMetrics of the watched namespaces every UsageInterval.
// When metrics.k8s.io is not served, usage is "unavailable" and nothing
// else is affected.
func (s *Session) pollUsage(ctx context.Context) {
	// Usage is joined to listed pods: the first poll waits for the first
	// complete snapshot (or listsBound) rather than decode every pod's
	// metrics while the informers decode the pods themselves.
	select {
	case <-ctx.Done():
		return
	case <-s.listsOver:
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r := s.fetchUsage(ctx)
		if ctx.Err() != nil {
			return
		}
		s.usage.accept(r, s.opts.Context, s.opts.Generation)
		s.markDirty()
		t.Reset(s.opts.UsageInterval)
	}
}

func (s *Session) fetchUsage(ctx context.Context) UsageResult {
	r := UsageResult{Context: s.opts.Context, Generation: s.opts.Generation}
	s.mu.Lock()
	installed, known := s.installed["metrics.k8s.io"]
	watches := s.namespaces
	s.mu.Unlock()
	if s.metrics == nil || (known && !installed) {
		r.Status.Reason = "metrics.k8s.io is not served"
		return r
	}
	r.Pods = estate.PodUsages{}
	var refused []string
	for _, w := range watches {
		list, err := s.metrics.MetricsV1beta1().PodMetricses(w.name).List(ctx, metav1.ListOptions{})
		if err != nil {
			if apierrors.IsForbidden(err) {
				refused = append(refused, w.name) // this namespace only
				continue
			}
			r.Pods = nil
			r.Status.Reason = Explain(err)
			return r
		}
		addUsage(r.Pods, list.Items)
	}
	if len(watches) > 0 && len(refused) == len(watches) {
		// Nothing to show: say so once, not "no figures yet" for every pod.
		r.Pods = nil
		r.Status.Refused = refused
		r.Status.Reason = "forbidden to list " + estate.MetricsResource
		if len(refused) > 1 || refused[0] != "" {
			r.Status.Reason += " in " + strings.Join(refused, ", ")
		}
		return r
	}
	r.Status = estate.UsageStatus{Available: true, Taken: time.Now(), Refused: refused}
	return r
}

// addUsage records the usage of items in pods. Every build looks up each
// pod's usage, and a full one looks up every pod's, so it is laid out for
// reading: the containers of the whole list in one slice and the pod names
// in one string, in the list's order (when the list is in name order, near
// the order a build reads them in: by workload, then name), and each
// container name once.
func addUsage(pods estate.PodUsages, items []metricsv1beta1.PodMetrics) {
	n, size := 0, 0
	for i := range items {
		n += len(items[i].Containers)
		size += len(items[i].Name)
	}
	containers := make([]estate.ContainerUsage, 0, n)
	var b strings.Builder
	b.Grow(size)
	for i := range items {
		b.WriteString(items[i].Name)
	}
	names, off := b.String(), 0
	interned := map[string]string{}
	for i := range items {
		pm := &items[i]
		name := names[off : off+len(pm.Name)]
		off += len(pm.Name)
		first := len(containers)
		for _, c := range pm.Containers {
			cn, ok := interned[c.Name]
			if !ok {
				cn = c.Name
				interned[cn] = cn
			}
			containers = append(containers, estate.ContainerUsage{Name: cn, Resources: estate.ResourcesOf(c.Usage)})
		}
		pods.Set(pm.Namespace, name, estate.PodUsage{Containers: containers[first:len(containers):len(containers)], Window: pm.Window.Duration})
	}
}
