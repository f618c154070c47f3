package integration

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/estate"
)

// verdict is check's finding on Deployment ns/name in snap ("" if none).
func verdict(snap estate.Snapshot, check, ns, name string) checks.Status {
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
// changed build when the interval and the spacing allow, as here).
func TestFindingsFollowAChangeWithinOneBuild(t *testing.T) {
	ns := lc.Namespace(t, "local-1")
	cs := lc.Client(t, "local-1")
	s := start(t, "local-1", func(o *cluster.Options) {
		o.Namespaces = []string{ns}
		o.ChecksInterval = time.Millisecond
		o.ChecksSpacing = -1 // every changed build evaluates, however long evaluations take
	})
	waitSnap(t, s, 60*time.Second, "a synced snapshot with findings", func(snap estate.Snapshot) bool {
		return snap.Synced && !snap.Findings.At.IsZero()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, bareDeployment(ns, "registry.fintech.internal/bare:1", corev1.ResourceRequirements{}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	shown := waitSnap(t, s, 30*time.Second, "the Deployment on screen", func(snap estate.Snapshot) bool {
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
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error { // the controller writes its status meanwhile
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "bare", metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].Image = "registry.fintech.internal/bare:2"
		d.Spec.Template.Spec.Containers[0].Resources = fixed
		_, err = cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	shown = waitSnap(t, s, 30*time.Second, "the fixed Deployment on screen", func(snap estate.Snapshot) bool {
		svc, ok := service(snap, ns, "bare")
		return ok && slices.Contains(svc.Images, "registry.fintech.internal/bare:2")
	})
	if got := verdict(shown, "ops-resources", ns, "bare"); got != checks.Pass {
		t.Errorf("the snapshot that first shows Deployment %s/bare fixed has ops-resources %q, want pass", ns, got)
	}
}

// TestHeadlessListMatchesSessionFindings is differential: the findings a
// session evaluates from its informer caches equal those of the catalogue
// run over a headless LIST of the same namespaces (cluster.ListInventory,
// what `vigil check` does), on both clusters. The two read the API through
// different clients (typed informers and the metadata API; the dynamic
// client converted to typed objects) driven by the same registry entries.
func TestHeadlessListMatchesSessionFindings(t *testing.T) {
	for _, name := range []string{"local-1", "local-2"} {
		t.Run(name, func(t *testing.T) {
			s := start(t, name, nil)
			cfg, err := lc.RESTConfig(name)
			if err != nil {
				t.Fatal(err)
			}
			var diff []string
			for attempt := 0; attempt < 5; attempt++ { // the seed's pods may still be moving
				snap := waitSnap(t, s, 90*time.Second, "a synced snapshot with findings", func(snap estate.Snapshot) bool {
					return snap.Synced && snap.Findings.Synced
				})
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				inv, err := cluster.ListInventory(ctx, cfg, s.Inventory().Config.Namespaces)
				cancel()
				if err != nil {
					t.Fatal(err)
				}
				inv.LoadedAlertRules = s.Inventory().LoadedAlertRules // polled by the session, fetched apart by `vigil check`
				diff = findingsDiff(snap.Findings.Findings, checks.Run(checks.Catalogue(), &inv))
				if len(diff) == 0 {
					t.Logf("%d findings agree", len(snap.Findings.Findings))
					return
				}
				time.Sleep(2 * time.Second)
			}
			t.Errorf("session and headless findings differ:\n%s", strings.Join(diff, "\n"))
		})
	}
}

func findingsDiff(session, headless []checks.Finding) []string {
	key := func(f checks.Finding) string {
		return f.Check + " " + f.Resource.String() + " " + string(f.Status) + ": " + f.Evidence
	}
	count := map[string]int{}
	for _, f := range session {
		count[key(f)]++
	}
	for _, f := range headless {
		count[key(f)]--
	}
	var out []string
	for k, n := range count {
		switch {
		case n > 0:
			out = append(out, "session only:  "+k)
		case n < 0:
			out = append(out, "headless only: "+k)
		}
	}
	slices.Sort(out)
	return out
}
