package integration

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vigil-k8s/vigil/estate"
)

// TestObjectEventsAfterARollout: after a set-image rollout of a Deployment, ObjectEvents lists
// exactly the events client-go lists for the Deployment, its ReplicaSets and its pods, Normal
// ones included (issue 20: "RECENT EVENTS shows warnings only"), newest first, with their
// counts; and the Deployment's conditions as client-go reads them.
func TestObjectEventsAfterARollout(t *testing.T) {
	ns := lc.Namespace(t, "local-1")
	kube := lc.Client(t, "local-1")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	labels := map[string]string{"app": "ledger"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "ledger"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "ledger", Image: "registry.example.com/ledger:1.0.0"}}}}}}
	if _, err := kube.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rolled := func(image string) {
		t.Helper()
		for ctx.Err() == nil {
			cur, err := kube.AppsV1().Deployments(ns).Get(ctx, "ledger", metav1.GetOptions{})
			if err == nil && cur.Status.ObservedGeneration == cur.Generation && cur.Status.UpdatedReplicas == 2 &&
				cur.Status.Replicas == 2 && cur.Status.AvailableReplicas == 2 && cur.Spec.Template.Spec.Containers[0].Image == image {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("ledger did not roll out %s", image)
	}
	rolled("registry.example.com/ledger:1.0.0")
	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"ledger","image":"registry.example.com/ledger:1.1.0"}]}}}}`
	if _, err := kube.AppsV1().Deployments(ns).Patch(ctx, "ledger", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	rolled("registry.example.com/ledger:1.1.0")
	time.Sleep(2 * time.Second) // the controllers' last events of the rollout

	s := start(t, "local-1", nil)
	got, err := s.ObjectEvents(ctx, estate.ObjectRef{Kind: "Deployment", Namespace: ns, Name: "ledger"})
	if err != nil {
		t.Fatal(err)
	}

	// The truth, from client-go: the Deployment, the ReplicaSets it controls, the pods its
	// selector matches now.
	mine := map[string]bool{"Deployment/ledger": true}
	rss, err := kube.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range rss.Items {
		for _, o := range rs.OwnerReferences {
			if o.Kind == "Deployment" && o.Name == "ledger" && o.Controller != nil && *o.Controller {
				mine["ReplicaSet/"+rs.Name] = true
			}
		}
	}
	pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Labels["app"] == "ledger" && p.DeletionTimestamp == nil {
			mine["Pod/"+p.Name] = true
		}
	}
	evs, err := kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	normal := 0
	for _, e := range evs.Items {
		if !mine[e.InvolvedObject.Kind+"/"+e.InvolvedObject.Name] {
			continue
		}
		count := max(e.Count, 1)
		if e.Series != nil && e.Series.Count > count {
			count = e.Series.Count
		}
		want = append(want, fmt.Sprintf("%s %s/%s %s ×%d", e.Type, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, count))
		if e.Type == "Normal" && e.InvolvedObject.Kind == "Deployment" && e.Reason == "ScalingReplicaSet" {
			normal++
		}
	}
	var have []string
	for i, e := range got.Events {
		have = append(have, fmt.Sprintf("%s %s/%s %s ×%d", e.Type, e.Kind, e.Name, e.Reason, e.Count))
		if i > 0 && e.Last.After(got.Events[i-1].Last) {
			t.Errorf("event %d (%s) is newer than the one before it: not newest first", i, have[i])
		}
	}
	sort.Strings(want)
	sort.Strings(have)
	if strings.Join(have, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\nvigil\n  %s\nclient-go\n  %s", strings.Join(have, "\n  "), strings.Join(want, "\n  "))
	}
	if normal < 3 {
		t.Errorf("client-go lists %d ScalingReplicaSet events of the rollout; want at least 3 (the test's premise)", normal)
	}

	cur, err := kube.AppsV1().Deployments(ns).Get(ctx, "ledger", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wantC, haveC []string
	for _, c := range cur.Status.Conditions {
		wantC = append(wantC, fmt.Sprintf("%s=%s %s", c.Type, c.Status, c.Reason))
	}
	for _, c := range got.Conditions {
		if c.Kind == "Deployment" {
			haveC = append(haveC, fmt.Sprintf("%s=%s %s", c.Type, c.Status, c.Reason))
		}
	}
	if strings.Join(haveC, ",") != strings.Join(wantC, ",") || len(wantC) == 0 {
		t.Errorf("conditions %q, client-go %q", haveC, wantC)
	}
}
