package integration

import (
	"context"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/cluster"
)

// verdict is check's finding on Deployment ns/name in snap ("" if none).
func verdict(snap cluster.Snapshot, check, ns, name string) checks.Status {
	for _, f := range snap.Findings.Findings {
		if f.Check == check && f.Resource == (checks.Resource{Kind: "Deployment", Namespace: ns, Name: name}) {
			return f.Status
		}
	}
	return ""
}

func bareDeployment(ns, image string, res corev1.ResourceRequirements) *appsv1.Deployment {
	labels := map[string]string{"app": "bare"}
	one := int32(1)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bare"},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image, Resources: res}}}}},
	}
}

// TestFindingsFollowAChangeWithinOneBuild proves the compliance findings
// arrive with the snapshot, evaluated by the session from the objects it
// holds: a Deployment created without resource requests and limits fails
// ops-resources in the very snapshot that first shows it, and passes in
// the very snapshot that first shows it fixed (the session evaluates every
// changed build when the interval allows, as here).
func TestFindingsFollowAChangeWithinOneBuild(t *testing.T) {
	ns := lc.Namespace(t, "local-1")
	cs := lc.Client(t, "local-1")
	s := start(t, "local-1", func(o *cluster.Options) {
		o.Namespaces = []string{ns}
		o.ChecksInterval = time.Millisecond
	})
	waitSnap(t, s, 60*time.Second, "a synced snapshot with findings", func(snap cluster.Snapshot) bool {
		return snap.Synced && !snap.Findings.At.IsZero()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, bareDeployment(ns, "registry.fintech.internal/bare:1", corev1.ResourceRequirements{}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	shown := waitSnap(t, s, 30*time.Second, "the Deployment on screen", func(snap cluster.Snapshot) bool {
		_, ok := service(snap, ns, "bare")
		return ok
	})
	if got := verdict(shown, "ops-resources", ns, "bare"); got != checks.Fail {
		t.Errorf("the snapshot that first shows Deployment %s/bare has ops-resources %q, want fail (findings of %v, snapshot of %v)", ns, got, shown.Findings.At, shown.Taken)
	}
	if f := shown.Findings; f.Context != "local-1" || f.Generation != shown.Generation {
		t.Errorf("findings stamped %s/%d, snapshot %s/%d", f.Context, f.Generation, shown.Context, shown.Generation)
	}

	fixed := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: apiresource.MustParse("10m"), corev1.ResourceMemory: apiresource.MustParse("16Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: apiresource.MustParse("20m"), corev1.ResourceMemory: apiresource.MustParse("32Mi")},
	}
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, "bare", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].Image = "registry.fintech.internal/bare:2"
	d.Spec.Template.Spec.Containers[0].Resources = fixed
	if _, err := cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	shown = waitSnap(t, s, 30*time.Second, "the fixed Deployment on screen", func(snap cluster.Snapshot) bool {
		svc, ok := service(snap, ns, "bare")
		return ok && slices.Contains(svc.Images, "registry.fintech.internal/bare:2")
	})
	if got := verdict(shown, "ops-resources", ns, "bare"); got != checks.Pass {
		t.Errorf("the snapshot that first shows Deployment %s/bare fixed has ops-resources %q, want pass", ns, got)
	}
}
