package integration

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/estate"
)

// slowLists delays the LIST of one resource until released, and records
// the watch requests sent while it waits and the other lists in flight.
type slowLists struct {
	next     http.RoundTripper
	resource string // path suffix, e.g. "/configmaps"
	// deployments is the path of the Deployments the test changes (the
	// namespaced informer's; the cluster scope lists Deployments in all
	// namespaces too, and may list them after the change).
	deployments string
	listed      chan struct{}
	release     chan struct{}
	watched     chan struct{} // closed at the first watch request

	mu            sync.Mutex
	listsInFlight int       // lists sent and not yet answered, the held one left out
	lastList      time.Time // when the last list (not the held one) was answered
	heldWatches   []string  // watches sent before the slow list was released
	heldPolls     []string  // usage polls (PodMetrics lists) sent before it was released
	released      bool
	deployWatchRV string // resourceVersion of the first deployments watch
	watchedOnce   sync.Once
}

func (s *slowLists) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	watch := q.Get("watch") == "true"
	held := !watch && strings.HasSuffix(r.URL.Path, s.resource)
	// An informer's list (limit, resourceVersion), not the heartbeat's GET /version.
	list := !watch && !held && r.Method == http.MethodGet && (q.Has("limit") || q.Has("resourceVersion"))
	s.mu.Lock()
	if strings.Contains(r.URL.Path, "/metrics.k8s.io/") && strings.HasSuffix(r.URL.Path, "/pods") && !s.released {
		s.heldPolls = append(s.heldPolls, r.URL.Path)
	}
	if watch {
		if !s.released {
			s.heldWatches = append(s.heldWatches, r.URL.Path)
		}
		if r.URL.Path == s.deployments && s.deployWatchRV == "" {
			s.deployWatchRV = r.URL.Query().Get("resourceVersion")
		}
	} else if list {
		s.listsInFlight++
	}
	s.mu.Unlock()
	if watch {
		s.watchedOnce.Do(func() { close(s.watched) })
	}
	if held {
		select {
		case <-s.release:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	resp, err := s.next.RoundTrip(r)
	if list {
		s.mu.Lock()
		s.listsInFlight--
		s.lastList = time.Now()
		s.mu.Unlock()
	}
	if !watch && r.URL.Path == s.deployments {
		select {
		case s.listed <- struct{}{}:
		default:
		}
	}
	return resp, err
}

// listsQuiet reports whether no informer list but the held one is in flight
// and none was answered for the last d.
func (s *slowLists) listsQuiet(d time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listsInFlight == 0 && time.Since(s.lastList) >= d
}

// TestChangesDuringStartUpAreNotLost: at start-up the Session lists every
// resource before any watch starts. A change made after a resource was
// listed but before the watches start (here: while one slow list holds
// them back) still reaches the snapshot, because each watch starts from
// its list's resourceVersion.
func TestChangesDuringStartUpAreNotLost(t *testing.T) {
	ns := lc.Namespace(t, "local-1")
	cs := lc.Client(t, "local-1")
	ctx := context.Background()
	createDeployment(t, ns, "late-change")
	s, slow := startHoldingConfigMaps(t, ns, func(o *cluster.Options) { o.StartGrace = time.Minute })
	select {
	case <-slow.listed:
	case <-time.After(30 * time.Second):
		t.Fatal("the session did not list deployments")
	}
	// Listed, not yet watched: scale it now.
	scale := []byte(`{"spec":{"replicas":3}}`)
	patched, err := cs.AppsV1().Deployments(ns).Patch(ctx, "late-change", types.MergePatchType, scale, metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Keep the one list held until every other list has been answered, then
	// for a while longer (holdFor): without the Session's hold, each informer
	// sends its watch as soon as its own list is in, so a watch shows up here
	// within milliseconds of the lists; a slow one within holdFor. A watch
	// ends the wait at once.
	const holdFor = 3 * time.Second
	quiet := time.NewTicker(50 * time.Millisecond)
	defer quiet.Stop()
	deadline := time.After(30 * time.Second)
wait:
	for {
		select {
		case <-slow.watched:
			break wait
		case <-deadline:
			t.Fatal("the other lists were never all answered")
		case <-quiet.C:
			if slow.listsQuiet(holdFor) {
				break wait
			}
		}
	}
	slow.mu.Lock()
	held := slow.heldWatches
	slow.released = true
	slow.mu.Unlock()
	close(slow.release)
	// The wrapper sits below the Session's hold (WrapConfig is applied
	// first): a watch it saw before the release was sent while a list was
	// still in flight.
	if len(held) > 0 {
		t.Errorf("watches sent before every cache listed: %q", held)
	}
	snap := waitSnap(t, s, 60*time.Second, "late-change at 3 replicas", func(snap estate.Snapshot) bool {
		svc, ok := service(snap, ns, "late-change")
		return snap.Synced && ok && svc.Desired == 3
	})
	if svc, _ := service(snap, ns, "late-change"); svc.Desired != 3 {
		t.Errorf("late-change desired = %d, want 3", svc.Desired)
	}
	// The deployments watch started from its list, before the patch: the
	// change reached the snapshot through the watch cache's replay, not
	// because the watch was already open when the patch was made.
	slow.mu.Lock()
	watchRV := slow.deployWatchRV
	slow.mu.Unlock()
	wrv, err1 := strconv.ParseUint(watchRV, 10, 64)
	prv, err2 := strconv.ParseUint(patched.ResourceVersion, 10, 64)
	if err1 != nil || err2 != nil || wrv == 0 || wrv >= prv {
		t.Errorf("deployments watch from resourceVersion %q, the patch made %q: want the watch to start from the list, before the patch",
			watchRV, patched.ResourceVersion)
	}
}

// TestListsKeepTheCoresAfterTheGrace: when a list outlasts the start-up
// grace, the session shows what has listed (marked not synced) but still
// holds its watches and usage polls until the last list is in: they would
// take the cores from the lists still decoding (at 30k pods the lists
// outlast the grace on two cores), and the complete snapshot waits for
// those. Once it is in, both start.
func TestListsKeepTheCoresAfterTheGrace(t *testing.T) {
	ns := lc.Namespace(t, "local-1")
	createDeployment(t, ns, "listed")
	const grace = 300 * time.Millisecond
	s, slow := startHoldingConfigMaps(t, ns, func(o *cluster.Options) {
		o.StartGrace = grace
		o.ChecksInterval = time.Minute // listsBound far away: only the list's end may release them
		o.UsageInterval = 500 * time.Millisecond
	})
	partial := waitSnap(t, s, 30*time.Second, "a partial model after the grace", func(snap estate.Snapshot) bool {
		return !snap.Synced && len(snap.Services) > 0
	})
	if partial.Synced {
		t.Fatal("synced with the configmaps list held")
	}
	// Every other list answered and a second past it, with the grace long
	// gone: a watch or a usage poll would have been sent by now.
	deadline := time.After(30 * time.Second)
	for !slow.listsQuiet(time.Second) {
		select {
		case <-deadline:
			t.Fatal("the other lists were never all answered")
		case <-time.After(50 * time.Millisecond):
		}
	}
	slow.mu.Lock()
	watches, polls := slow.heldWatches, slow.heldPolls
	slow.released = true
	slow.mu.Unlock()
	close(slow.release)
	if len(watches) > 0 {
		t.Errorf("after the grace, watches sent while a list was in flight: %q", watches)
	}
	if len(polls) > 0 {
		t.Errorf("after the grace, usage polled while a list was in flight: %q", polls)
	}
	waitSnap(t, s, 60*time.Second, "the complete snapshot, with usage", func(snap estate.Snapshot) bool {
		return snap.Synced && !snap.Usage.Taken.IsZero()
	})
	select {
	case <-slow.watched:
	case <-time.After(30 * time.Second):
		t.Error("no watch 30 s after every list was in")
	}
}

// TestWatchesStartWhenAListNeverEnds: a list that never ends holds the
// other kinds' watches and the usage polls for StartGrace + ChecksInterval
// (listsBound), not longer: changes of what has listed are late by that
// much at most.
func TestWatchesStartWhenAListNeverEnds(t *testing.T) {
	ns := lc.Namespace(t, "local-1")
	const grace, interval = 300 * time.Millisecond, 1500 * time.Millisecond
	began := time.Now()
	s, slow := startHoldingConfigMaps(t, ns, func(o *cluster.Options) {
		o.StartGrace, o.ChecksInterval = grace, interval
		o.UsageInterval = 500 * time.Millisecond
	})
	select {
	case <-slow.watched:
	case <-time.After(30 * time.Second):
		t.Fatal("no watch 30 s after start with one list held")
	}
	if took := time.Since(began); took < grace+interval {
		t.Errorf("the first watch was sent %v after start, before StartGrace + ChecksInterval (%v)", took, grace+interval)
	}
	snap := waitSnap(t, s, 30*time.Second, "usage with the list still held", func(snap estate.Snapshot) bool {
		return !snap.Usage.Taken.IsZero()
	})
	if snap.Synced {
		t.Error("synced with the configmaps list held")
	}
}

// startHoldingConfigMaps starts a session on ns whose ConfigMaps list a
// slowLists, below the Session's own hold, keeps until released.
func startHoldingConfigMaps(t *testing.T, ns string, tune func(*cluster.Options)) (*cluster.Session, *slowLists) {
	t.Helper()
	slow := &slowLists{resource: "/configmaps", deployments: "/apis/apps/v1/namespaces/" + ns + "/deployments",
		listed: make(chan struct{}, 1), release: make(chan struct{}), watched: make(chan struct{})}
	s := start(t, "local-1", func(o *cluster.Options) {
		o.Namespaces = []string{ns}
		tune(o)
		o.WrapConfig = func(c *rest.Config) *rest.Config {
			c.Wrap(func(rt http.RoundTripper) http.RoundTripper { slow.next = rt; return slow })
			return c
		}
	})
	return s, slow
}

// createDeployment makes a one-replica Deployment name in ns.
func createDeployment(t *testing.T, ns, name string) {
	t.Helper()
	labels := map[string]string{"app": name}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(1)), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.local/" + name + ":1"}}}}},
	}
	if _, err := lc.Client(t, "local-1").AppsV1().Deployments(ns).Create(context.Background(), dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }
