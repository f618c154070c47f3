package load

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// applyDefaults gives a decoded manifest the values the API server's
// defaulting would give it, for every field a check reads, so that a
// manifest is judged as the object it becomes once applied (a live
// inventory is defaulted by the server already). The API's own defaulting
// functions live in k8s.io/kubernetes (pkg/apis/<group>/<version>/
// defaults.go), which the main module may not import; k8s.io/api has none.
// Each default below names the upstream function it follows, and
// cluster/integration's TestLoaderDefaultsMatchAPIServer compares them with
// what the local cluster's apiserver returns for a server-side dry-run
// create of the same manifests.
func applyDefaults(obj metav1.Object) {
	switch o := obj.(type) {
	case *corev1.Namespace:
		// core/v1 SetDefaults_Namespace: every named namespace carries
		// kubernetes.io/metadata.name=<name> (namespaceSelectors match it).
		if o.Name != "" {
			if o.Labels == nil {
				o.Labels = map[string]string{}
			}
			o.Labels[corev1.LabelMetadataName] = o.Name
		}
	case *corev1.Pod:
		defaultPodSpec(&o.Spec)
	case *appsv1.Deployment:
		defaultDeployment(o)
		defaultPodSpec(&o.Spec.Template.Spec)
	case *appsv1.StatefulSet:
		defaultStatefulSet(o)
		defaultPodSpec(&o.Spec.Template.Spec)
	case *appsv1.DaemonSet:
		defaultDaemonSet(o)
		defaultPodSpec(&o.Spec.Template.Spec)
	case *batchv1.Job:
		defaultPodSpec(&o.Spec.Template.Spec)
	case *batchv1.CronJob:
		// batch/v1 SetDefaults_CronJob: suspend false.
		if o.Spec.Suspend == nil {
			o.Spec.Suspend = ptr(false)
		}
		defaultPodSpec(&o.Spec.JobTemplate.Spec.Template.Spec)
	case *autoscalingv2.HorizontalPodAutoscaler:
		defaultHPA(o)
	case *networkingv1.NetworkPolicy:
		// networking/v1 SetDefaults_NetworkPolicy: no policyTypes means
		// Ingress, plus Egress when egress rules are given;
		// SetDefaults_NetworkPolicyPort: protocol TCP.
		if len(o.Spec.PolicyTypes) == 0 {
			o.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
			if len(o.Spec.Egress) != 0 {
				o.Spec.PolicyTypes = append(o.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
			}
		}
		for i := range o.Spec.Ingress {
			defaultNetpolPorts(o.Spec.Ingress[i].Ports)
		}
		for i := range o.Spec.Egress {
			defaultNetpolPorts(o.Spec.Egress[i].Ports)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func defaultNetpolPorts(ports []networkingv1.NetworkPolicyPort) {
	for i := range ports {
		if ports[i].Protocol == nil {
			ports[i].Protocol = ptr(corev1.ProtocolTCP)
		}
	}
}

// defaultDeployment follows apps/v1 SetDefaults_Deployment: replicas 1,
// strategy RollingUpdate with maxUnavailable and maxSurge 25%,
// revisionHistoryLimit 10.
func defaultDeployment(d *appsv1.Deployment) {
	if d.Spec.Replicas == nil {
		d.Spec.Replicas = ptr(int32(1))
	}
	s := &d.Spec.Strategy
	if s.Type == "" {
		s.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if s.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if s.RollingUpdate == nil {
			s.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		if s.RollingUpdate.MaxUnavailable == nil {
			s.RollingUpdate.MaxUnavailable = ptr(intstr.FromString("25%"))
		}
		if s.RollingUpdate.MaxSurge == nil {
			s.RollingUpdate.MaxSurge = ptr(intstr.FromString("25%"))
		}
	}
	if d.Spec.RevisionHistoryLimit == nil {
		d.Spec.RevisionHistoryLimit = ptr(int32(10))
	}
}

// defaultStatefulSet follows apps/v1 SetDefaults_StatefulSet: replicas 1,
// updateStrategy RollingUpdate (with partition 0 when the type was unset),
// revisionHistoryLimit 10.
func defaultStatefulSet(s *appsv1.StatefulSet) {
	if s.Spec.Replicas == nil {
		s.Spec.Replicas = ptr(int32(1))
	}
	u := &s.Spec.UpdateStrategy
	if u.Type == "" {
		u.Type = appsv1.RollingUpdateStatefulSetStrategyType
		if u.RollingUpdate == nil {
			u.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
	}
	if u.Type == appsv1.RollingUpdateStatefulSetStrategyType && u.RollingUpdate != nil && u.RollingUpdate.Partition == nil {
		u.RollingUpdate.Partition = ptr(int32(0))
	}
	if s.Spec.RevisionHistoryLimit == nil {
		s.Spec.RevisionHistoryLimit = ptr(int32(10))
	}
}

// defaultDaemonSet follows apps/v1 SetDefaults_DaemonSet: updateStrategy
// RollingUpdate with maxUnavailable 1 and maxSurge 0, revisionHistoryLimit 10.
func defaultDaemonSet(d *appsv1.DaemonSet) {
	u := &d.Spec.UpdateStrategy
	if u.Type == "" {
		u.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if u.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if u.RollingUpdate == nil {
			u.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if u.RollingUpdate.MaxUnavailable == nil {
			u.RollingUpdate.MaxUnavailable = ptr(intstr.FromInt32(1))
		}
		if u.RollingUpdate.MaxSurge == nil {
			u.RollingUpdate.MaxSurge = ptr(intstr.FromInt32(0))
		}
	}
	if d.Spec.RevisionHistoryLimit == nil {
		d.Spec.RevisionHistoryLimit = ptr(int32(10))
	}
}

// defaultHPA follows autoscaling/v2 SetDefaults_HorizontalPodAutoscaler:
// minReplicas 1, and with no metrics a CPU utilization target of 80%
// (autoscaling.DefaultCPUUtilization).
func defaultHPA(h *autoscalingv2.HorizontalPodAutoscaler) {
	if h.Spec.MinReplicas == nil {
		h.Spec.MinReplicas = ptr(int32(1))
	}
	if len(h.Spec.Metrics) == 0 {
		h.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(int32(80))},
		}}}
	}
}

// defaultPodSpec follows core/v1 SetDefaults_PodSpec (serviceAccount is
// an alias of serviceAccountName, restartPolicy Always, an empty
// securityContext), SetDefaults_Volume (a volume with no source is an
// emptyDir) and the volume sources' defaultMode 0644
// (SetDefaults_SecretVolumeSource, _ConfigMapVolumeSource,
// _DownwardAPIVolumeSource, _ProjectedVolumeSource).
func defaultPodSpec(s *corev1.PodSpec) {
	if s.ServiceAccountName == "" {
		s.ServiceAccountName = s.DeprecatedServiceAccount
	}
	s.DeprecatedServiceAccount = s.ServiceAccountName
	if s.RestartPolicy == "" {
		s.RestartPolicy = corev1.RestartPolicyAlways
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &corev1.PodSecurityContext{}
	}
	for i := range s.Volumes {
		v := &s.Volumes[i].VolumeSource
		if *v == (corev1.VolumeSource{}) {
			v.EmptyDir = &corev1.EmptyDirVolumeSource{}
		}
		switch {
		case v.Secret != nil && v.Secret.DefaultMode == nil:
			v.Secret.DefaultMode = ptr(corev1.SecretVolumeSourceDefaultMode)
		case v.ConfigMap != nil && v.ConfigMap.DefaultMode == nil:
			v.ConfigMap.DefaultMode = ptr(corev1.ConfigMapVolumeSourceDefaultMode)
		case v.DownwardAPI != nil && v.DownwardAPI.DefaultMode == nil:
			v.DownwardAPI.DefaultMode = ptr(corev1.DownwardAPIVolumeSourceDefaultMode)
		case v.Projected != nil && v.Projected.DefaultMode == nil:
			v.Projected.DefaultMode = ptr(corev1.ProjectedVolumeSourceDefaultMode)
		}
	}
}
