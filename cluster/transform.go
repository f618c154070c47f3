package cluster

import (
	"encoding/json"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
)

// lastApplied is kubectl's copy of the whole object: often the largest field.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// transform slims an object before an informer stores it, with no string
// sharing across objects (tests; a Session uses its slimmer's transform).
func transform(obj any) (any, error) { return newSlimmer().transform(obj) }

// transform slims an object before an informer stores it, so 10k pods cost
// little memory: it drops managedFields, the last-applied annotation and
// what vigil never shows. Workload templates stay whole (there are few, and
// the compliance checks read them); pods owned by a controller keep only
// what the snapshot derives from them (slimPod), since the checks read
// their template from the workload. Informers hand it freshly decoded
// objects, so it edits them in place.
func (sl *slimmer) transform(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		slimMetaOf(m)
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		if metav1.GetControllerOfNoCopy(o) != nil {
			sl.slimPod(o)
			break
		}
		o.Status.PodIPs, o.Status.HostIPs = nil, nil
		for i := range o.Status.ContainerStatuses {
			cs := &o.Status.ContainerStatuses[i]
			cs.ImageID, cs.ContainerID, cs.VolumeMounts, cs.AllocatedResources, cs.Resources, cs.User = "", "", nil, nil, nil, nil
		}
		for i := range o.Status.Conditions {
			o.Status.Conditions[i].Message = ""
		}
	case *appsv1.ReplicaSet:
		// Ownership, counts, revision and images (rollout history) matter.
		o.Spec.Template = corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: slimContainers(o.Spec.Template.Spec.Containers)}}
	case *appsv1.ControllerRevision:
		o.Data = runtime.RawExtension{Raw: revisionImagesOnly(o.Data.Raw)}
	case *corev1.ConfigMap:
		checks.SlimConfigMap(o) // only what the checks read: rule files, dashboards, configurations
	case *corev1.Event:
		o.Source, o.ReportingController, o.ReportingInstance, o.Related = corev1.EventSource{}, "", "", nil
	case *autoscalingv2.HorizontalPodAutoscaler:
	case *unstructured.Unstructured:
		slimUnstructured(o)
	}
	return obj, nil
}

func slimMetaOf(m metav1.Object) {
	m.SetManagedFields(nil)
	delete(m.GetAnnotations(), lastApplied) // a no-op when the map is nil or lacks the key
}

// slimUnstructured drops the bulky parts of custom resources: Argo CD's
// per-resource sync results and SealedSecret ciphertexts (only key names are
// shown, and vigil never holds secret material, sealed or not).
func slimUnstructured(u *unstructured.Unstructured) {
	switch u.GetKind() {
	case "Application":
		unstructured.RemoveNestedField(u.Object, "status", "operationState", "syncResult", "resources")
		unstructured.RemoveNestedField(u.Object, "status", "summary")
	case "SealedSecret":
		if data, ok, _ := unstructured.NestedMap(u.Object, "spec", "encryptedData"); ok {
			keys := map[string]any{}
			for k := range data {
				keys[k] = ""
			}
			_ = unstructured.SetNestedMap(u.Object, keys, "spec", "encryptedData")
		}
		unstructured.RemoveNestedField(u.Object, "spec", "template", "data")
	}
}

// revisionImagesOnly keeps of a ControllerRevision's template patch only
// the container images.
func revisionImagesOnly(raw []byte) []byte {
	var p estate.RevisionPatch
	if len(raw) == 0 || json.Unmarshal(raw, &p) != nil {
		return nil
	}
	out, err := json.Marshal(p)
	if err != nil {
		return nil
	}
	return out
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

// slimSecondReading keeps, of a DaemonSet or Deployment read in every
// namespace for the cluster-level checks (node agents, autoscalers), what
// those checks read: the containers' names and images, the replicas and the
// status. Those of the watched namespaces are also read whole.
func slimSecondReading(obj any) {
	images := func(t *corev1.PodTemplateSpec) {
		cs := make([]corev1.Container, len(t.Spec.Containers))
		for i, c := range t.Spec.Containers {
			cs[i] = corev1.Container{Name: c.Name, Image: c.Image}
		}
		*t = corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: cs}}
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		images(&o.Spec.Template)
	case *appsv1.DaemonSet:
		images(&o.Spec.Template)
	}
}
