// Package sim stands in for the scheduler and the kubelets of a simulated
// cluster: it keeps three nodes Ready, binds pending pods to them, reports
// pod status the way a kubelet would (including the trouble asked for by
// sim.vigil.dev annotations) and finishes pod deletions.
//
// It is an informer-driven controller: every pod change enqueues the pod's
// key, a few workers reconcile it, and time-driven changes (a crash loop's
// next restart) are scheduled with AddAfter rather than sleeping goroutines,
// so 10,000 pods cost only their cache entries.
package sim

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

var everything = labels.Everything()

// Config is what a Simulator needs to run one cluster.
type Config struct {
	// Cluster is the cluster name, e.g. "local-1"; Index is its number.
	Cluster string
	Index   int
	// Client should allow a high QPS (thousands): every pod costs a binding
	// and a status write.
	Client kubernetes.Interface
	// Informers is shared with the metrics servers; the simulator registers
	// its pod and node informers on it, the caller starts it.
	Informers informers.SharedInformerFactory
	// PodsPerNode is the pods capacity each node advertises.
	PodsPerNode int
	// KubeletVersion is reported in node info.
	KubeletVersion string
	// Workers is the number of concurrent reconcilers.
	Workers int
	// Logf prints a progress or error line.
	Logf func(format string, args ...any)
}

// Simulator is the scheduler and kubelets of one cluster.
type Simulator struct {
	cfg   Config
	pods  corelisters.PodLister
	nodes corelisters.NodeLister
	queue workqueue.TypedRateLimitingInterface[string]
	acct  *accounting
	ips   *ipPool
	rec   *recorders
}

// New registers the simulator's informers on cfg.Informers.
func New(cfg Config) (*Simulator, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	s := &Simulator{
		cfg:   cfg,
		pods:  cfg.Informers.Core().V1().Pods().Lister(),
		nodes: cfg.Informers.Core().V1().Nodes().Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](200*time.Millisecond, 30*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "sim-" + cfg.Cluster}),
		acct: newAccounting(),
		ips:  newIPPool(cfg.Index),
	}
	_, err := cfg.Informers.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.onPod(obj, false) },
		UpdateFunc: func(_, obj any) { s.onPod(obj, false) },
		DeleteFunc: func(obj any) { s.onPod(obj, true) },
	})
	if err != nil {
		return nil, fmt.Errorf("pod handler: %w", err)
	}
	_ = cfg.Informers.Core().V1().Nodes().Informer()
	return s, nil
}

func (s *Simulator) onPod(obj any, gone bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	s.acct.observe(pod, gone)
	s.ips.observe(pod, gone)
	if !gone {
		key, _ := cache.MetaNamespaceKeyFunc(pod)
		s.queue.Add(key)
	}
}

// EnsureNodes creates the cluster's nodes and marks them Ready. Call it
// before workloads are created so nothing waits for a node.
func (s *Simulator) EnsureNodes(ctx context.Context) error { return s.syncNodes(ctx) }

// Run reconciles pods until ctx ends. The informers must have been started.
func (s *Simulator) Run(ctx context.Context) {
	defer s.queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), s.cfg.Informers.Core().V1().Pods().Informer().HasSynced, s.cfg.Informers.Core().V1().Nodes().Informer().HasSynced) {
		return
	}
	s.rec = newRecorders(ctx, s)
	defer s.rec.broadcaster.Shutdown()
	go s.heartbeat(ctx)
	for range s.cfg.Workers {
		go func() {
			for s.processNext(ctx) {
			}
		}()
	}
	<-ctx.Done()
}

func (s *Simulator) processNext(ctx context.Context) bool {
	key, quit := s.queue.Get()
	if quit {
		return false
	}
	defer s.queue.Done(key)
	after, err := s.reconcile(ctx, key)
	switch {
	case err != nil:
		if ctx.Err() == nil && !apierrors.IsConflict(err) {
			s.cfg.Logf("%s: pod %s: %v", s.cfg.Cluster, key, err)
		}
		s.queue.AddRateLimited(key)
	case after > 0:
		s.queue.Forget(key)
		s.queue.AddAfter(key, after)
	default:
		s.queue.Forget(key)
	}
	return true
}

// reconcile brings one pod one step closer to what a kubelet would show and
// returns when to look at it again (0: when it changes).
func (s *Simulator) reconcile(ctx context.Context, key string) (time.Duration, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, nil
	}
	pod, err := s.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	now := time.Now()
	if pod.DeletionTimestamp != nil {
		return s.finishDeletion(ctx, pod, now)
	}
	if pod.Spec.NodeName == "" {
		// Another scheduler's pods and gated pods are not ours to place.
		if (pod.Spec.SchedulerName != "" && pod.Spec.SchedulerName != corev1.DefaultSchedulerName) || len(pod.Spec.SchedulingGates) > 0 {
			return 0, nil
		}
		retry, err := s.schedule(ctx, pod)
		if err != nil {
			return 0, err
		}
		if retry {
			return 10 * time.Second, nil
		}
		return 0, nil
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0, nil
	}
	want, next := s.desiredStatus(pod, now)
	var after time.Duration
	if !next.IsZero() {
		after = max(next.Sub(now), 100*time.Millisecond)
	}
	if sameStatus(&pod.Status, &want) {
		return after, nil
	}
	p := pod.DeepCopy()
	p.Status = want
	if _, err := s.cfg.Client.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("update status: %w", err)
	}
	s.rec.statusEvents(pod, &pod.Status, &want)
	return after, nil
}

// finishDeletion removes a terminating pod, as the kubelet does once its
// containers have stopped; a second of grace keeps "Terminating" visible.
func (s *Simulator) finishDeletion(ctx context.Context, pod *corev1.Pod, now time.Time) (time.Duration, error) {
	grace := int64(0)
	if pod.DeletionGracePeriodSeconds != nil {
		grace = *pod.DeletionGracePeriodSeconds
	}
	requested := pod.DeletionTimestamp.Add(-time.Duration(grace) * time.Second)
	if wait := requested.Add(time.Second).Sub(now); wait > 0 && pod.Spec.NodeName != "" {
		return wait, nil
	}
	zero := int64(0)
	uid := pod.UID
	err := s.cfg.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return 0, nil
	}
	return 0, err
}

// hostIP returns the InternalIP of the named node.
func (s *Simulator) hostIP(node string) string {
	if n, err := s.nodes.Get(node); err == nil {
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				return a.Address
			}
		}
	}
	return NodeIP(s.cfg.Index, 9)
}
