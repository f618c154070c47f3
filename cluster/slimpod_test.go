package cluster

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// simulatedPod is a pod as the local cluster's simulator serves one of a
// Deployment's: two containers with requests and limits, running and
// ready, five conditions, managedFields.
func simulatedPod(i int) *corev1.Pod {
	t := metav1.NewTime(time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC))
	res := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: kresource.MustParse("100m"), corev1.ResourceMemory: kresource.MustParse("128Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: kresource.MustParse("500m"), corev1.ResourceMemory: kresource.MustParse("256Mi")},
	}
	status := func(name string) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, Ready: true, Started: ptr(true), Image: "registry/" + name + ":1.2.3",
			ImageID: "sha256:0123456789abcdef", ContainerID: fmt.Sprintf("sim://%d-%s", i, name),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: t}}}
	}
	var conds []corev1.PodCondition
	for _, c := range []corev1.PodConditionType{"PodReadyToStartContainers", corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled} {
		conds = append(conds, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue, LastTransitionTime: t})
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bulk-%03d-7d9f8c6b5-%05d", i%200, i), Namespace: "fintech-prod",
			UID: types.UID(fmt.Sprintf("uid-%d", i)), ResourceVersion: fmt.Sprint(1000 + i), CreationTimestamp: t,
			Labels:      map[string]string{"app": fmt.Sprintf("bulk-%03d", i%200), appsv1.DefaultDeploymentUniqueLabelKey: "7d9f8c6b5", "tier": "backend"},
			Annotations: map[string]string{"sim.vigil.dev/cpu": "50m"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: fmt.Sprintf("bulk-%03d-7d9f8c6b5", i%200),
				UID: types.UID(fmt.Sprintf("rs-%d", i%200)), Controller: ptr(true), BlockOwnerDeletion: ptr(true)}},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, Time: &t},
				{Manager: "simulator", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", Time: &t}},
		},
		Spec: corev1.PodSpec{NodeName: fmt.Sprintf("sim-node-%d", i%20), ServiceAccountName: "default",
			Containers: []corev1.Container{{Name: "app", Image: "registry/app:1.2.3", Resources: res}, {Name: "proxy", Image: "registry/proxy:1.2.3", Resources: res}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: conds, HostIP: "10.0.0.1", PodIP: "10.1.0.1", StartTime: &t,
			ContainerStatuses: []corev1.ContainerStatus{status("app"), status("proxy")}, QOSClass: corev1.PodQOSBurstable},
	}
}

// BenchmarkSlimPod is the informers' transform of one controller-owned pod,
// the per-pod work the Session adds to a LIST at start-up.
func BenchmarkSlimPod(b *testing.B) {
	const batch = 1000
	pods := make([]*corev1.Pod, batch)
	sl := newSlimmer()
	i := 0
	for b.Loop() {
		if i%batch == 0 {
			b.StopTimer()
			for j := range pods {
				pods[j] = simulatedPod(i + j)
			}
			b.StartTimer()
		}
		if _, err := sl.transform(pods[i%batch]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
