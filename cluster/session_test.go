package cluster

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
)

// These tests use a fake clientset only to prove the Session's plumbing
// (informers → coalescing loop → subscribers → Stop); behaviour against a
// real API server is covered by the integration tests.

// allowExcept answers access reviews: everything allowed except the
// resources listed.
func allowExcept(denied ...string) k8stesting.ReactionFunc {
	return func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		allowed := true
		for _, d := range denied {
			if r.Spec.ResourceAttributes.Resource == d {
				allowed = false
			}
		}
		r.Status.Allowed = allowed
		return true, r, nil
	}
}

func newTestSession(t *testing.T, client *fake.Clientset, namespaces ...string) *Session {
	t.Helper()
	s, err := New(Options{
		Client: client, Context: "test", Namespaces: namespaces, Generation: 7,
		MinBuildInterval: 10 * time.Millisecond,
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitFor reads snapshots until ok accepts one or the deadline passes.
func waitFor(t *testing.T, ch <-chan estate.Snapshot, what string, ok func(estate.Snapshot) bool) estate.Snapshot {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s, open := <-ch:
			if !open {
				t.Fatalf("channel closed while waiting for %s", what)
			}
			if ok(s) {
				return s
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestSessionPublishesLiveSnapshots(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	client := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fintech-prod"}},
		deployment("fintech-prod", "payment-service", 2, 2, 2),
	)
	client.PrependReactor("create", "selfsubjectaccessreviews", allowExcept())
	s := newTestSession(t, client, "fintech-prod", "fintech-dr")
	ch, _ := s.Subscribe()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}

	snap := waitFor(t, ch, "a synced snapshot with payment-service", func(s estate.Snapshot) bool {
		return s.Synced && len(s.Services) == 1
	})
	if snap.Context != "test" || snap.Generation != 7 || snap.Seq == 0 {
		t.Errorf("snapshot identity = {%q %d seq %d}, want {test 7 seq>0}", snap.Context, snap.Generation, snap.Seq)
	}
	if got := snap.Services[0]; got.Name != "payment-service" || got.Health.Status != estate.StatusOK {
		t.Errorf("service = %+v", got)
	}
	if len(snap.Problems) != 1 || snap.Problems[0] != `namespace "fintech-dr" does not exist` {
		t.Errorf("Problems = %q, want the missing namespace", snap.Problems)
	}
	if !snap.Conn.Connected || snap.Conn.LastContact.IsZero() {
		t.Errorf("Conn = %+v, want connected with a last contact", snap.Conn)
	}

	// A change in the cluster reaches subscribers without anyone asking.
	d := deployment("fintech-prod", "payment-service", 2, 0, 2)
	if _, err := client.AppsV1().Deployments("fintech-prod").UpdateStatus(context.Background(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ch, "payment-service down", func(s estate.Snapshot) bool {
		return len(s.Services) == 1 && s.Services[0].Health.Status == estate.StatusDown
	})

	s.Stop()
	if _, open := <-ch; open {
		// One buffered snapshot may remain; after it the channel must be closed.
		if _, open := <-ch; open {
			t.Error("subscription channel not closed by Stop")
		}
	}
	s.Stop() // idempotent
}

func TestSessionReportsDeniedResources(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	client := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fintech-security"}})
	client.PrependReactor("create", "selfsubjectaccessreviews", allowExcept("pods"))
	s := newTestSession(t, client, "fintech-security")
	ch, unsubscribe := s.Subscribe()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()

	snap := waitFor(t, ch, "a synced snapshot", func(s estate.Snapshot) bool { return s.Synced })
	// Pods are refused everywhere: in the watched namespace and the
	// apiserver's mirror pod in kube-system (a reading of its own).
	if want := []string{"no access to pods in fintech-security", "no access to " + checks.ResAPIServerPods}; !slices.Equal(snap.Problems, want) {
		t.Errorf("Problems = %q, want %q", snap.Problems, want)
	}
	if ns := snap.Namespaces[0]; len(ns.Denied) != 1 || ns.Denied[0] != "pods" {
		t.Errorf("Namespaces[0] = %+v", ns)
	}
	unsubscribe()
	unsubscribe() // idempotent
	if err := s.Start(context.Background()); err == nil {
		t.Error("second Start succeeded, want an error")
	}
}

func TestNewRequiresAConnection(t *testing.T) {
	if _, err := New(Options{Namespaces: []string{"a"}}); err == nil {
		t.Error("New without RESTConfig or Client succeeded")
	}
	if _, err := New(Options{Client: fake.NewClientset()}); err == nil {
		t.Error("New without namespaces succeeded")
	}
}

// failPodLists makes the fake API server answer pod lists with err
// (NotFound: a cache left unlisted, as by a slow resource; a connection
// error: an outage) until release is called.
func failPodLists(client *fake.Clientset, err error) (release func()) {
	var ok atomic.Bool
	client.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if ok.Load() {
			return false, nil, nil
		}
		return true, nil, err
	})
	return func() { ok.Store(true) }
}

var notListedYet = apierrors.NewNotFound(corev1.Resource("pods"), "")

// While some cache has not listed, the session publishes its first
// ("syncing") snapshot and no model of half the data: payment-service
// without its pods would read as Down. Once everything has listed, the
// complete model follows.
func TestSessionHoldsPartialModelsUntilListed(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	client := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fintech-prod"}},
		deployment("fintech-prod", "payment-service", 1, 1, 1),
		pod("fintech-prod", "payment-service-1", ownedBy("ReplicaSet", "payment-service-1"), true),
	)
	client.PrependReactor("create", "selfsubjectaccessreviews", allowExcept())
	release := failPodLists(client, notListedYet)
	s, err := New(Options{Client: client, Context: "test", Namespaces: []string{"fintech-prod"},
		MinBuildInterval: 10 * time.Millisecond, StartGrace: time.Minute,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := s.Subscribe()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()

	first := waitFor(t, ch, "the first snapshot", func(estate.Snapshot) bool { return true })
	if first.Synced {
		t.Fatal("first snapshot says synced while pods cannot be listed")
	}
	select {
	case snap := <-ch:
		t.Fatalf("a partial model was published while pods were unlisted: synced=%v, %d services", snap.Synced, len(snap.Services))
	case <-time.After(700 * time.Millisecond): // the other informers list and mark the session dirty meanwhile
	}
	release() // the informer retries its list (client-go backs off about a second)
	snap := waitFor(t, ch, "the complete snapshot", func(s estate.Snapshot) bool { return s.Synced })
	if len(snap.Services) != 1 || snap.Services[0].Health.Status == estate.StatusDown {
		t.Errorf("complete snapshot: %+v", snap.Services)
	}
}

// A cache that does not list within the grace must not keep the rest off
// the screen: after StartGrace the session publishes what has listed,
// marked not synced.
func TestSessionShowsWhatListedAfterTheGrace(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	client := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fintech-prod"}},
		deployment("fintech-prod", "payment-service", 1, 1, 1),
	)
	client.PrependReactor("create", "selfsubjectaccessreviews", allowExcept())
	failPodLists(client, notListedYet)
	s, err := New(Options{Client: client, Context: "test", Namespaces: []string{"fintech-prod"},
		MinBuildInterval: 10 * time.Millisecond, StartGrace: 300 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := s.Subscribe()
	began := time.Now()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	snap := waitFor(t, ch, "a partial snapshot after the grace", func(s estate.Snapshot) bool { return len(s.Services) == 1 })
	if snap.Synced {
		t.Error("snapshot says synced while pods cannot be listed")
	}
	if took := time.Since(began); took < 300*time.Millisecond {
		t.Errorf("partial model published after %v, before the grace", took)
	}
}

// A resource that fails while the caches list ends the start-up at once:
// the failure shows now, not after the grace, as that resource's state with
// the API server's answer; the connection, which answers its health probe,
// stays connected.
func TestSessionShowsAFailingResourceAtOnce(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	client := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fintech-prod"}},
		deployment("fintech-prod", "payment-service", 1, 1, 1))
	client.PrependReactor("create", "selfsubjectaccessreviews", allowExcept())
	failPodLists(client, apierrors.NewServiceUnavailable("apiserver is shutting down"))
	s, err := New(Options{Client: client, Context: "test", Namespaces: []string{"fintech-prod"},
		MinBuildInterval: 10 * time.Millisecond, StartGrace: time.Minute,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := s.Subscribe()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	snap := waitFor(t, ch, "pods failing", func(s estate.Snapshot) bool {
		return len(s.Services) == 1 && resourceStatus(s, "pods").Access == estate.AccessFailing
	})
	if !snap.Conn.Connected || snap.Conn.Reason != "" {
		t.Errorf("Conn = %+v, want connected: one failing resource is not the connection", snap.Conn)
	}
	if r := resourceStatus(snap, "pods"); !strings.Contains(r.Reason, "shutting down") || !slices.Equal(r.Namespaces, []string{"fintech-prod"}) {
		t.Errorf("pods status = %+v, want failing in fintech-prod with the API server's answer", r)
	}
	if !slices.ContainsFunc(snap.Problems, func(p string) bool { return strings.HasPrefix(p, "pods unknown: ") }) {
		t.Errorf("Problems = %q, want pods unknown with the reason", snap.Problems)
	}
	if r := resourceStatus(snap, checks.ResDeployments); r.Access != estate.AccessWatched {
		t.Errorf("deployments status = %+v, want watched", r)
	}
}

func resourceStatus(snap estate.Snapshot, res string) estate.ResourceStatus {
	for _, r := range snap.Resources {
		if r.Resource == res {
			return r
		}
	}
	return estate.ResourceStatus{}
}
