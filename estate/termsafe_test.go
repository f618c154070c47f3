package estate

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// BenchmarkScrubSnapshot is the sanitiser's cost per build at 10k pods in
// 200 Deployments, each with a rollout history and recent events (pods are
// made safe where they are derived, once, and skipped).
func BenchmarkScrubSnapshot(b *testing.B) {
	var objs Objects
	for d := range 200 {
		name := fmt.Sprintf("bulk-%03d", d)
		dep := deployment("fintech-prod", name, 50, 50, 50)
		dep.Annotations = map[string]string{"deployment.kubernetes.io/revision": "3"}
		objs.Deployments = append(objs.Deployments, dep)
		for r := 1; r <= 3; r++ {
			rs := fmt.Sprintf("%s-rs%d", name, r)
			objs.ReplicaSets = append(objs.ReplicaSets, &appsv1.ReplicaSet{ObjectMeta: meta("fintech-prod", rs, ownedBy("Deployment", name))})
			objs.ReplicaSets[len(objs.ReplicaSets)-1].Annotations = map[string]string{"deployment.kubernetes.io/revision": fmt.Sprint(r), changeCause: "upgrade to v1." + fmt.Sprint(r)}
		}
		for p := range 50 {
			objs.Pods = append(objs.Pods, pod("fintech-prod", fmt.Sprintf("%s-rs3-%02d", name, p), ownedBy("ReplicaSet", name+"-rs3"), true))
		}
		objs.Events = append(objs.Events, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "fintech-prod", Name: name + ".1"},
			Type: "Warning", Reason: "BackOff", Message: "Back-off restarting failed container app in pod " + name})
	}
	var snap Snapshot
	Assemble(&snap, objs, Extras{}, testNow)
	b.ReportAllocs()
	for b.Loop() {
		s := snap
		termsafe.Scrub(&s)
	}
}

// TestHostileTextIsEscapedInTheSnapshot: free text from the objects (a
// change-cause, an event message, a waiting reason, an image) reaches the
// snapshot escaped, and the cached objects keep their text.
func TestHostileTextIsEscapedInTheSnapshot(t *testing.T) {
	const evil = "\x1b]0;owned\x07\x1b[2J\u202eok"
	dep := deployment("fintech-prod", "web", 1, 0, 1)
	dep.Annotations = map[string]string{"deployment.kubernetes.io/revision": "1"}
	dep.Spec.Template.Spec.Containers = []corev1.Container{{Name: "app", Image: "img" + evil}}
	rs := &appsv1.ReplicaSet{ObjectMeta: meta("fintech-prod", "web-rs", ownedBy("Deployment", "web"))}
	rs.Annotations = map[string]string{"deployment.kubernetes.io/revision": "1", changeCause: "deploy" + evil}
	p := pod("fintech-prod", "web-rs-1", ownedBy("ReplicaSet", "web-rs"), false, corev1.ContainerStatus{Name: "app",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "Crash" + evil}}})
	p.Spec.Containers = []corev1.Container{{Name: "app", Image: "img" + evil}}
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "fintech-prod", Name: "e"}, Type: "Warning", Reason: "BackOff", Message: "msg" + evil,
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "fintech-prod", Name: "web-rs-1"}}
	objs := Objects{Deployments: []*appsv1.Deployment{dep}, ReplicaSets: []*appsv1.ReplicaSet{rs}, Pods: []*corev1.Pod{p}, Events: []*corev1.Event{ev}}
	var snap Snapshot
	Assemble(&snap, objs, Extras{}, testNow)
	termsafe.Scrub(&snap)
	dump := fmt.Sprintf("%+v", snap)
	if strings.ContainsAny(dump, "\x1b\x07\u202e") {
		t.Errorf("the snapshot holds raw control text: %q", dump)
	}
	for _, want := range []string{`deploy\x1b]0;owned\x07\x1b[2J\u202eok`, `msg\x1b]0;owned`, `Crash\x1b]0;owned`, `img\x1b]0;owned`} {
		if !strings.Contains(dump, want) {
			t.Errorf("the snapshot does not show %q escaped", want)
		}
	}
	if !strings.Contains(rs.Annotations[changeCause], "\x1b") || !strings.Contains(ev.Message, "\x1b") || !strings.Contains(dep.Spec.Template.Spec.Containers[0].Image, "\x1b") {
		t.Error("the sanitiser wrote into the cached objects")
	}
}
