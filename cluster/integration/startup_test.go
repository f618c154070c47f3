package integration

import (
	"context"
	"net/http"
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
)

// slowLists delays the LIST of one resource until released, and records
// the watch requests sent while it waits.
type slowLists struct {
	next     http.RoundTripper
	resource string // path suffix, e.g. "/configmaps"
	listed   chan struct{}
	release  chan struct{}

	mu          sync.Mutex
	otherLists  int
	heldWatches []string // watches sent before the slow list was released
	released    bool
}

func (s *slowLists) RoundTrip(r *http.Request) (*http.Response, error) {
	watch := r.URL.Query().Get("watch") == "true"
	s.mu.Lock()
	if watch && !s.released {
		s.heldWatches = append(s.heldWatches, r.URL.Path)
	}
	s.mu.Unlock()
	if !watch && strings.HasSuffix(r.URL.Path, s.resource) {
		<-s.release
	}
	resp, err := s.next.RoundTrip(r)
	if !watch && strings.HasSuffix(r.URL.Path, "/deployments") {
		select {
		case s.listed <- struct{}{}:
		default:
		}
	}
	return resp, err
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
	labels := map[string]string{"app": "late-change"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "late-change", Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(1)), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.local/late:1"}}}}},
	}
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	slow := &slowLists{resource: "/configmaps", listed: make(chan struct{}, 1), release: make(chan struct{})}
	s := start(t, "local-1", func(o *cluster.Options) {
		o.Namespaces = []string{ns}
		o.StartGrace = time.Minute
		o.WrapConfig = func(c *rest.Config) *rest.Config {
			c.Wrap(func(rt http.RoundTripper) http.RoundTripper { slow.next = rt; return slow })
			return c
		}
	})
	select {
	case <-slow.listed:
	case <-time.After(30 * time.Second):
		t.Fatal("the session did not list deployments")
	}
	// Listed, not yet watched: scale it now.
	scale := []byte(`{"spec":{"replicas":3}}`)
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "late-change", types.MergePatchType, scale, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let a watch that was not held have started
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
	snap := waitSnap(t, s, 60*time.Second, "late-change at 3 replicas", func(snap cluster.Snapshot) bool {
		svc, ok := service(snap, ns, "late-change")
		return snap.Synced && ok && svc.Desired == 3
	})
	if svc, _ := service(snap, ns, "late-change"); svc.Desired != 3 {
		t.Errorf("late-change desired = %d, want 3", svc.Desired)
	}
}

func ptr[T any](v T) *T { return &v }
