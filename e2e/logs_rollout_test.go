package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// TestLogsFollowARollout: l on a service follows its pods' lines; a set-image rollout while the
// view is open adds the lines of the new pods (the pod names client-go lists after the rollout)
// and marks the old ones gone, without reopening the view.
func TestLogsFollowARollout(t *testing.T) {
	ns := lc.Namespace(t, "local-1")
	cs := lc.Client(t, "local-1")
	ctx := context.Background()
	labels := map[string]string{"app": "ledger"}
	two := int32(2)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "ledger"}, Spec: appsv1.DeploymentSpec{
		Replicas: &two, Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "ledger", Image: "registry.example.com/ledger:1.0.0"}}}}}}
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	running := func(image string) []string {
		t.Helper()
		var names []string
		if err := clustertest.Eventually(90*time.Second, 300*time.Millisecond, func() (bool, error) {
			pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=ledger"})
			if err != nil {
				return false, err
			}
			names = names[:0]
			for _, p := range pods.Items {
				if p.DeletionTimestamp != nil || p.Spec.Containers[0].Image != image || p.Status.Phase != corev1.PodRunning {
					return false, nil
				}
				names = append(names, p.Name)
			}
			return len(names) == 2, nil
		}); err != nil {
			t.Fatalf("ledger's pods never ran %s alone: %v", image, err)
		}
		return names
	}
	old := running("registry.example.com/ledger:1.0.0")

	term := startVigil(t, "--context", "local-1", "-n", ns)
	if screen, ok := term.WaitFor(30*time.Second, func(s string) bool { return LineWith(s, ns, "ledger") != "" }); !ok {
		t.Fatalf("ledger never showed:\n%s", screen)
	}
	_ = term.Send("l")
	tag := func(pod string) string { return "[" + strings.TrimPrefix(pod, "ledger-") + "/ledger]" }
	if screen, ok := term.WaitFor(20*time.Second, func(s string) bool {
		return LineWith(s, "logs of "+ns+"/ledger", "following") != "" && LineWith(s, tag(old[0])) != "" && LineWith(s, tag(old[1])) != ""
	}); !ok {
		t.Fatalf("l should follow the lines of both pods %v:\n%s", old, screen)
	}

	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"ledger","image":"registry.example.com/ledger:1.1.0"}]}}}}`
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "ledger", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	fresh := running("registry.example.com/ledger:1.1.0")
	seen := map[string]bool{}
	screen, ok := term.WaitFor(30*time.Second, func(s string) bool {
		for _, p := range fresh {
			if LineWith(s, tag(p)) != "" {
				seen["lines "+p] = true
			}
		}
		for _, p := range old {
			if LineWith(s, "pod "+p+" is gone") != "" {
				seen["gone "+p] = true
			}
		}
		return seen["lines "+fresh[0]] && seen["lines "+fresh[1]] && (seen["gone "+old[0]] || seen["gone "+old[1]])
	})
	if !ok {
		t.Fatalf("after the rollout the view should show the new pods' %v lines and mark an old pod %v gone (seen %v):\n%s", fresh, old, seen, screen)
	}
	if LineWith(screen, "logs of "+ns+"/ledger", "following") == "" {
		t.Errorf("the view stopped following:\n%s", screen)
	}
}
