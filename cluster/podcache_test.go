package cluster

import (
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	kresource "k8s.io/apimachinery/pkg/api/resource"

	"github.com/vigil-k8s/vigil/estate"
)

func TestRulesAllow(t *testing.T) {
	rules := []authorizationv1.ResourceRule{
		{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{"apps"}, Resources: []string{"deployments"}},
		{Verbs: []string{"*"}, APIGroups: []string{""}, Resources: []string{"pods"}},
		{Verbs: []string{"list", "watch"}, APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"one"}},
		{Verbs: []string{"list"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
	}
	for _, c := range []struct {
		verb, group, res string
		want             bool
	}{
		{"watch", "apps", "deployments", true},
		{"watch", "", "pods", true},
		{"watch", "", "secrets", false}, // by name only
		{"list", "", "secrets", true},   // the wildcard list rule
		{"watch", "apps", "replicasets", false},
	} {
		if got := rulesAllow(rules, c.verb, c.group, c.res); got != c.want {
			t.Errorf("rulesAllow(%s %s.%s) = %v, want %v", c.verb, c.res, c.group, got, c.want)
		}
	}
}

func TestSlimPodKeepsWhatTheSnapshotReads(t *testing.T) {
	p := pod("fintech-prod", "a", ownedBy("ReplicaSet", "rs"), false, crashing(4, "OOMKilled"))
	p.Labels = map[string]string{"app": "a", appsv1.DefaultDeploymentUniqueLabelKey: "7d9f"}
	p.Spec.NodeName = "node-1"
	p.Spec.Containers = []corev1.Container{{Name: "app", Image: "img:1", Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: kresource.MustParse("100m")}}}}
	before := estate.PodInfoOf(p, nil)
	bare := pod("fintech-prod", "bare", ownedBy("Job", "j"), true)
	bare.OwnerReferences = nil
	bare.Annotations = map[string]string{"keep": "me"}

	sl := newSlimmer()
	out, _ := sl.transform(p.DeepCopy())
	if after := estate.PodInfoOf(out.(*corev1.Pod), nil); !reflect.DeepEqual(after, before) {
		t.Errorf("PodInfo changed by the slim transform:\n%+v\n%+v", before, after)
	}
	out, _ = sl.transform(bare.DeepCopy())
	if got := out.(*corev1.Pod); got.Annotations["keep"] != "me" {
		t.Errorf("a pod without controller lost its annotations: %+v", got.ObjectMeta)
	}
}

// TestSlimPodSharesOnlyEqualParts: pods of one workload share the parts
// they repeat, and a pod that differs keeps its own.
func TestSlimPodSharesOnlyEqualParts(t *testing.T) {
	running := corev1.ContainerStatus{Name: "app", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	a := pod("fintech-prod", "a", ownedBy("ReplicaSet", "rs"), true, running)
	b := pod("fintech-prod", "b", ownedBy("ReplicaSet", "rs"), true, running)
	restarted := running
	restarted.RestartCount = 2
	c := pod("fintech-prod", "c", ownedBy("ReplicaSet", "rs"), false, restarted)
	sl := newSlimmer()
	for _, p := range []*corev1.Pod{a, b, c} {
		if _, err := sl.transform(p); err != nil {
			t.Fatal(err)
		}
	}
	if &a.Status.ContainerStatuses[0] != &b.Status.ContainerStatuses[0] || &a.Status.Conditions[0] != &b.Status.Conditions[0] {
		t.Error("equal statuses or conditions are not shared")
	}
	if &a.Status.ContainerStatuses[0] == &c.Status.ContainerStatuses[0] || c.Status.ContainerStatuses[0].RestartCount != 2 {
		t.Errorf("a different status was shared: %+v", c.Status.ContainerStatuses)
	}
	if &a.Status.Conditions[0] == &c.Status.Conditions[0] {
		t.Error("different conditions were shared")
	}
	if estate.PodFactsOf(c).Ready || estate.PodFactsOf(c).Restarts != 2 || !estate.PodFactsOf(a).Ready {
		t.Errorf("facts after slimming: a %+v, c %+v", estate.PodFactsOf(a), estate.PodFactsOf(c))
	}
}
