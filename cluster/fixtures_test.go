package cluster

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The fixtures of cluster's tests: the same small objects as estate's
// build_test.go, repeated here because test files do not cross packages.

var testNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func meta(ns, name string, owner ...metav1.OwnerReference) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1, OwnerReferences: owner,
		CreationTimestamp: metav1.NewTime(testNow.Add(-3 * time.Hour))}
}

func ownedBy(kind, name string) metav1.OwnerReference {
	return metav1.OwnerReference{Kind: kind, Name: name, Controller: ptr(true)}
}

func deployment(ns, name string, replicas, ready, updated int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: meta(ns, name),
		Spec:       appsv1.DeploymentSpec{Replicas: ptr(replicas)},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: replicas, ReadyReplicas: ready,
			UpdatedReplicas: updated, AvailableReplicas: ready},
	}
}

func pod(ns, name string, owner metav1.OwnerReference, ready bool, cs ...corev1.ContainerStatus) *corev1.Pod {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: meta(ns, name, owner),
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: cs,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}},
	}
}

func crashing(restarts int32, last string) corev1.ContainerStatus {
	return corev1.ContainerStatus{
		Name: "app", RestartCount: restarts,
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: last, ExitCode: 1}},
	}
}
