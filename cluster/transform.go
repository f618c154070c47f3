package cluster

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// lastApplied is kubectl's copy of the whole object: often the largest field.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// transform slims an object before an informer stores it, so 10k pods cost
// little memory: it drops managedFields, the last-applied annotation and the
// spec fields vigil never shows, and keeps what status and health need.
// Informers hand it freshly decoded objects, so it edits them in place.
func transform(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Pod:
		slimMeta(&o.ObjectMeta)
		o.Spec = corev1.PodSpec{
			NodeName:       o.Spec.NodeName,
			InitContainers: slimContainers(o.Spec.InitContainers),
			Containers:     slimContainers(o.Spec.Containers),
		}
		o.Status.PodIPs, o.Status.HostIPs = nil, nil
	case *appsv1.Deployment:
		slimMeta(&o.ObjectMeta)
		slimTemplate(&o.Spec.Template)
	case *appsv1.StatefulSet:
		slimMeta(&o.ObjectMeta)
		slimTemplate(&o.Spec.Template)
		o.Spec.VolumeClaimTemplates = nil
	case *appsv1.ReplicaSet:
		// Only ownership and counts matter: which Deployment owns the pods.
		slimMeta(&o.ObjectMeta)
		o.Spec.Template = corev1.PodTemplateSpec{}
	case *autoscalingv2.HorizontalPodAutoscaler:
		slimMeta(&o.ObjectMeta)
	}
	return obj, nil
}

func slimMeta(m *metav1.ObjectMeta) {
	m.ManagedFields = nil
	if _, ok := m.Annotations[lastApplied]; ok {
		delete(m.Annotations, lastApplied)
	}
}

// slimTemplate keeps the template's labels and containers' identity and
// resources; volumes, env, probes and the like go.
func slimTemplate(t *corev1.PodTemplateSpec) {
	t.Annotations = nil
	t.Spec = corev1.PodSpec{
		InitContainers: slimContainers(t.Spec.InitContainers),
		Containers:     slimContainers(t.Spec.Containers),
	}
}

func slimContainers(cs []corev1.Container) []corev1.Container {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{Name: c.Name, Image: c.Image, Resources: c.Resources}
	}
	return out
}
