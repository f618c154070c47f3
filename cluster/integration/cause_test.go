package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/estate"
)

// TestDownReasonNamesTheFailingProbe (issue 20): the seeded staging user-service never gets
// ready because its readiness probe answers 503. Its health reason names one of its current
// pods (not terminating, read with client-go in the test) and that pod's latest Unhealthy
// event message, as `kubectl get events` shows it — not only "pods starting".
func TestDownReasonNamesTheFailingProbe(t *testing.T) {
	const ns, name = "fintech-staging", "user-service"
	s := start(t, "local-1", nil)
	cfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	snap := waitSnap(t, s, 3*time.Minute, "user-service's reason with a probe message", func(snap estate.Snapshot) bool {
		svc, ok := service(snap, ns, name)
		return ok && strings.Contains(svc.Health.Reason, "probe failed")
	})
	svc, _ := service(snap, ns, name)
	reason := svc.Health.Reason
	ctx := context.Background()
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		t.Fatal(err)
	}
	var named *corev1.Pod
	for i, p := range pods.Items {
		if strings.Contains(reason, p.Name+" ") {
			named = &pods.Items[i]
		}
	}
	if named == nil || named.DeletionTimestamp != nil {
		t.Fatalf("reason %q names no current pod of %s/%s", reason, ns, name)
	}
	evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.AndSelectors(
		fields.OneTermEqualSelector("involvedObject.name", named.Name), fields.OneTermEqualSelector("reason", "Unhealthy")).String()})
	if err != nil {
		t.Fatal(err)
	}
	var latest *corev1.Event
	for i, e := range evs.Items {
		if latest == nil || e.LastTimestamp.After(latest.LastTimestamp.Time) {
			latest = &evs.Items[i]
		}
	}
	if latest == nil {
		t.Fatalf("no Unhealthy event for %s, yet the reason says %q", named.Name, reason)
	}
	if !strings.HasSuffix(reason, ": "+latest.Message) {
		t.Errorf("reason %q does not end with %s's latest Unhealthy event %q", reason, named.Name, latest.Message)
	}
	t.Logf("%s/%s %s: %s", ns, name, svc.Health.Status, reason)
}
