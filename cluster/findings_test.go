package cluster

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// resourcesVerdict is the ops-resources finding on Deployment ns/name in
// snap, or "" when there is none.
func resourcesVerdict(snap estate.Snapshot, ns, name string) checks.Status {
	for _, f := range snap.Findings.Findings {
		if f.Check == "ops-resources" && f.Resource == (checks.Resource{Kind: "Deployment", Namespace: ns, Name: name}) {
			return f.Status
		}
	}
	return ""
}

func appDeployment(ns, name string, res corev1.ResourceRequirements) *appsv1.Deployment {
	d := deployment(ns, name, 1, 1, 1)
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "app", Image: "registry.fintech.internal/app:1", Resources: res}}
	return d
}

// startFake starts a session on client, watching fintech-prod, that
// evaluates the checks at most every interval, and subscribes to it until
// the test ends.
func startFake(t *testing.T, client *fake.Clientset, interval time.Duration, denied ...string) (*Session, <-chan estate.Snapshot) {
	t.Helper()
	client.PrependReactor("create", "selfsubjectaccessreviews", allowExcept(denied...))
	s := newTestSession(t, client, "fintech-prod")
	s.opts.ChecksInterval = interval
	ch, unsubscribe := s.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(); cancel(); unsubscribe() })
	return s, ch
}

// TestSessionPublishesFindings proves the findings travel with the
// snapshot: evaluated by the session from the objects it holds, stamped
// with its context and generation, again after a change (within the
// interval), and not again while nothing changes.
func TestSessionPublishesFindings(t *testing.T) {
	client := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fintech-prod"}},
		appDeployment("fintech-prod", "payment-service", corev1.ResourceRequirements{}),
	)
	s, ch := startFake(t, client, 300*time.Millisecond)
	ctx := context.Background()

	// The first complete snapshot does not wait for the catalogue: it goes
	// out unevaluated and the next build evaluates.
	complete := waitFor(t, ch, "the first complete snapshot", func(snap estate.Snapshot) bool { return snap.Synced })
	if !complete.Findings.At.IsZero() {
		t.Errorf("the first complete snapshot waited for the evaluation of %v", complete.Findings.At)
	}
	first := waitFor(t, ch, "a failing ops-resources finding", func(snap estate.Snapshot) bool {
		return resourcesVerdict(snap, "fintech-prod", "payment-service") == checks.Fail
	})
	if d := first.Taken.Sub(complete.Taken); d > time.Second {
		t.Errorf("the first evaluation came %v after the first complete snapshot, want the next build", d)
	}
	if f := first.Findings; f.Context != "test" || f.Generation != 7 || f.At.IsZero() || len(f.Catalogue) == 0 {
		t.Fatalf("findings not stamped: context %q generation %d at %v, %d checks", f.Context, f.Generation, f.At, len(f.Catalogue))
	}

	// Nothing changes: builds carry the same evaluation.
	for range 3 {
		if again := s.Rebuild(); again.Findings.At != first.Findings.At {
			t.Fatalf("re-evaluated with no change: at %v, then %v", first.Findings.At, again.Findings.At)
		}
	}

	// Fixed: the finding passes within the interval and a build.
	fixed := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: apiresource.MustParse("100m"), corev1.ResourceMemory: apiresource.MustParse("64Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: apiresource.MustParse("200m"), corev1.ResourceMemory: apiresource.MustParse("128Mi")},
	}
	changed := time.Now()
	if _, err := client.AppsV1().Deployments("fintech-prod").Update(ctx, appDeployment("fintech-prod", "payment-service", fixed), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ch, "the ops-resources finding to pass", func(snap estate.Snapshot) bool {
		return resourcesVerdict(snap, "fintech-prod", "payment-service") == checks.Pass
	})
	if d := time.Since(changed); d > s.opts.ChecksInterval+2*time.Second {
		t.Errorf("findings followed the change after %v, want within the interval (%v) and a build", d, s.opts.ChecksInterval)
	}
}

// TestFindingsCoalesce proves a burst of changes (every 10ms, more often
// than the loop builds) is evaluated at most once per interval, not once
// per build.
func TestFindingsCoalesce(t *testing.T) {
	client := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fintech-prod"}},
		appDeployment("fintech-prod", "payment-service", corev1.ResourceRequirements{}),
	)
	s, ch := startFake(t, client, 400*time.Millisecond)
	ctx := context.Background()
	waitFor(t, ch, "the first findings", func(snap estate.Snapshot) bool { return !snap.Findings.At.IsZero() })

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 100 { // 1s of changes
			d := appDeployment("fintech-prod", "payment-service", corev1.ResourceRequirements{})
			d.Labels = map[string]string{"rev": string(rune('a' + i%26))}
			if _, err := client.AppsV1().Deployments("fintech-prod").Update(ctx, d, metav1.UpdateOptions{}); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	builds, evaluations := 0, map[time.Time]bool{}
	began := time.Now()
	for wait := time.After(1500 * time.Millisecond); ; {
		select {
		case snap := <-ch:
			builds++
			evaluations[snap.Findings.At] = true
			continue
		case <-wait:
		}
		break
	}
	<-done
	t.Logf("%d builds, %d evaluations", builds, len(evaluations))
	// 1.5s at one evaluation per 400ms is at most 4 evaluations (+1 for
	// the one the window started with).
	if limit := int(time.Since(began)/s.opts.ChecksInterval) + 2; len(evaluations) > limit || len(evaluations) < 2 {
		t.Errorf("%d builds carried %d evaluations, want 2..%d (one per interval)", builds, len(evaluations), limit)
	}
	if builds <= len(evaluations) {
		t.Errorf("%d builds for %d evaluations: the burst did not outpace the interval, the test proves nothing", builds, len(evaluations))
	}
}

// TestFindingsAreSpacedByTheirCost: after an evaluation that took cost, the
// next waits ChecksSpacing times that, when it is longer than the interval,
// however often objects change; then it comes without a further change.
func TestFindingsAreSpacedByTheirCost(t *testing.T) {
	client := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fintech-prod"}},
		appDeployment("fintech-prod", "payment-service", corev1.ResourceRequirements{}),
	)
	s, ch := startFake(t, client, 100*time.Millisecond)
	ctx := context.Background()
	waitFor(t, ch, "the first complete findings", func(snap estate.Snapshot) bool { return snap.Findings.Synced })
	// As if the last evaluation had taken 50 ms (a fake's takes well under
	// 1 ms): the next is due 1.5 s after it, not 100 ms.
	const cost = 50 * time.Millisecond
	s.buildMu.Lock()
	s.checks.cost = cost
	evaluated, lastAt := s.checks.last, s.checks.latest.At
	s.buildMu.Unlock()
	due := evaluated.Add(DefaultChecksSpacing * cost)

	for i := range 10 { // changes every 100 ms, for 1 s
		d := appDeployment("fintech-prod", "payment-service", corev1.ResourceRequirements{})
		d.Labels = map[string]string{"rev": fmt.Sprint(i)}
		if _, err := client.AppsV1().Deployments("fintech-prod").Update(ctx, d, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	next := waitFor(t, ch, "the next evaluation", func(snap estate.Snapshot) bool { return snap.Findings.At != lastAt })
	s.buildMu.Lock()
	at := s.checks.last
	s.buildMu.Unlock()
	if at.Before(due) {
		t.Errorf("the next evaluation started %v after the last, want %v (%d times its %v) at least", at.Sub(evaluated).Round(time.Millisecond), DefaultChecksSpacing*cost, DefaultChecksSpacing, cost)
	}
	if late := next.Taken.Sub(due); late > time.Second {
		t.Errorf("the next evaluation came %v after it was due", late.Round(time.Millisecond))
	}
}

// TestFindingsAreMadeTerminalSafe: the snapshot's own walk skips the
// findings (they are made safe once per evaluation), so hostile text in an
// object must reach the findings and the evaluated inventory escaped.
func TestFindingsAreMadeTerminalSafe(t *testing.T) {
	hostile := "registry.fintech.internal/app:1\x1b]0;owned\x07\u202e"
	d := appDeployment("fintech-prod", "payment-service", corev1.ResourceRequirements{})
	d.Spec.Template.Spec.Containers[0].Image = hostile
	client := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fintech-prod"}}, d)
	_, ch := startFake(t, client, 300*time.Millisecond)
	snap := waitFor(t, ch, "an evaluation", func(snap estate.Snapshot) bool {
		return !snap.Findings.At.IsZero() && snap.Findings.Inventory != nil
	})
	findings := fmt.Sprintf("%+v", snap.Findings.Findings)
	if strings.ContainsAny(findings, "\x1b\x07\u202e") {
		t.Errorf("findings hold raw terminal control: %q", findings)
	}
	if !strings.Contains(findings, termsafe.Line(hostile)) {
		t.Errorf("no finding shows the image, escaped (%q): the test proves nothing", termsafe.Line(hostile))
	}
	var images []string
	for _, dep := range snap.Findings.Inventory.Deployments {
		for _, c := range dep.Spec.Template.Spec.Containers {
			images = append(images, c.Image)
		}
	}
	if got := strings.Join(images, " "); strings.ContainsAny(got, "\x1b\x07\u202e") || !strings.Contains(got, termsafe.Line(hostile)) {
		t.Errorf("the evaluated inventory's images = %q, want the image escaped", got)
	}
	cached, err := client.AppsV1().Deployments("fintech-prod").Get(context.Background(), "payment-service", metav1.GetOptions{})
	if err != nil || cached.Spec.Template.Spec.Containers[0].Image != hostile {
		t.Errorf("the object itself was changed (err %v)", err)
	}
}

// TestNoEvaluationWhileCachesList: after the start-up grace, with a cache
// still listing, builds show what has listed but the catalogue waits for
// the lists (an evaluation of part of the objects would hold the build
// loop, and the complete snapshot behind it, for nothing); the complete
// snapshot's next build evaluates. With a list that never ends it is
// evaluated ChecksInterval past the grace. The session's builds are
// played by calling findingsFor as build does, with the caches' state.
func TestNoEvaluationWhileCachesList(t *testing.T) {
	objs := estate.Objects{Deployments: []*appsv1.Deployment{appDeployment("fintech-prod", "payment-service", corev1.ResourceRequirements{})}}
	build := func(s *Session, synced bool) estate.Findings {
		s.buildMu.Lock()
		defer s.buildMu.Unlock()
		return s.findingsFor(objs, nil, synced, time.Now())
	}
	session := func(started time.Time) *Session {
		s := newTestSession(t, fake.NewClientset(), "fintech-prod")
		s.opts.StartGrace, s.opts.ChecksInterval = 100*time.Millisecond, time.Second
		s.begun = started
		return s
	}

	s := session(time.Now())
	build(s, false) // the grace's first snapshot: goes out unevaluated
	for range 3 {
		if f := build(s, false); !f.At.IsZero() {
			t.Fatalf("evaluated while a cache listed")
		}
	}
	if f := build(s, true); !f.At.IsZero() { // the complete snapshot goes out at once
		t.Fatalf("the complete snapshot waited for an evaluation")
	}
	if f := build(s, true); f.At.IsZero() || !f.Synced || len(f.Findings) == 0 {
		t.Fatalf("the build after the complete snapshot did not evaluate it: %+v", f)
	}

	// A list that never ends: evaluated once the grace and the interval
	// have passed since Start, marked not synced.
	s = session(time.Now().Add(-1200 * time.Millisecond))
	build(s, false)
	if f := build(s, false); f.At.IsZero() || f.Synced || len(f.Findings) == 0 {
		t.Fatalf("not evaluated %v after start with a cache still listing: %+v", 1200*time.Millisecond, f)
	}
}
