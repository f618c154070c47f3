package cluster

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"testing"

	"github.com/vigil-k8s/vigil/estate"
)

func TestTransformSlimsButKeepsHealthFields(t *testing.T) {
	p := pod("fintech-prod", "a", ownedBy("ReplicaSet", "rs"), false, crashing(4, "OOMKilled"))
	p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	p.Annotations = map[string]string{lastApplied: "{...}", "keep": "me"}
	p.Spec.Containers = []corev1.Container{{Name: "app", Image: "img:1", Env: []corev1.EnvVar{{Name: "SECRET_REF"}}}}
	p.Spec.Volumes = []corev1.Volume{{Name: "v"}}
	before := estate.PodFactsOf(p)

	out, err := transform(p)
	if err != nil {
		t.Fatal(err)
	}
	slim := out.(*corev1.Pod)
	if slim.ManagedFields != nil || slim.Annotations != nil || metav1.GetControllerOf(slim) == nil {
		t.Errorf("metadata not slimmed as expected: %+v", slim.ObjectMeta)
	}
	if slim.Spec.Volumes != nil || slim.Spec.Containers[0].Env != nil || slim.Spec.Containers[0].Image != "img:1" {
		t.Errorf("spec not slimmed as expected: %+v", slim.Spec)
	}
	if after := estate.PodFactsOf(slim); after != before {
		t.Errorf("health facts changed by transform: %+v -> %+v", before, after)
	}
}
