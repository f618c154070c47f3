package load

import (
	"encoding/json"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vigil-k8s/vigil/checks"
)

// entry is one decoded object waiting to be added to the inventory.
type entry struct {
	key    string
	res    checks.Resource
	source string
	add    func(inv *checks.Inventory)
}

// builder accumulates decoded objects; the last object per key wins.
type builder struct {
	entries   []entry
	latest    map[string]int
	installed map[string]bool
}

func newBuilder() *builder {
	return &builder{latest: map[string]int{}, installed: map[string]bool{}}
}

func (b *builder) put(group, kind string, meta metav1.Object, namespaced bool, source string, add func(*checks.Inventory)) {
	if namespaced && meta.GetNamespace() == "" {
		meta.SetNamespace(metav1.NamespaceDefault)
	}
	if !namespaced {
		meta.SetNamespace("")
	}
	key := strings.Join([]string{group, kind, meta.GetNamespace(), meta.GetName()}, "/")
	b.latest[key] = len(b.entries)
	b.entries = append(b.entries, entry{key, checks.Resource{Kind: kind, Namespace: meta.GetNamespace(), Name: meta.GetName()}, source, add})
}

// typed decodes js into the API type T (whose pointer carries its
// metadata) and registers it.
func typed[T any, PT interface {
	*T
	metav1.Object
}](b *builder, group, kind string, js []byte, source string, namespaced bool, add func(*checks.Inventory, T)) error {
	var obj T
	if err := json.Unmarshal(js, &obj); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	m := PT(&obj)
	if m.GetName() == "" && m.GetGenerateName() == "" {
		return fmt.Errorf("%s: metadata.name is required", kind)
	}
	b.put(group, kind, m, namespaced, source, func(inv *checks.Inventory) { add(inv, obj) })
	return nil
}

// custom decodes a custom resource as unstructured.
func (b *builder) custom(group, kind string, js []byte, source string, namespaced bool, add func(*checks.Inventory, unstructured.Unstructured)) error {
	var u unstructured.Unstructured
	if err := u.UnmarshalJSON(js); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	if u.GetName() == "" {
		return fmt.Errorf("%s: metadata.name is required", kind)
	}
	b.installed[group] = true
	meta := metav1.ObjectMeta{Name: u.GetName(), Namespace: u.GetNamespace()}
	b.put(group, kind, &meta, namespaced, source, func(inv *checks.Inventory) {
		u.SetNamespace(meta.Namespace)
		add(inv, u)
	})
	return nil
}

// decode dispatches on apiVersion and kind. Kinds the catalogue does not
// read are skipped.
func (b *builder) decode(apiVersion, kind string, js []byte, src string) error {
	group, version, found := strings.Cut(apiVersion, "/")
	if !found {
		group, version = "", apiVersion
	}
	gk := group + "/" + kind
	ns := true
	switch gk {
	case "/Namespace":
		return typed(b, group, kind, js, src, false, func(inv *checks.Inventory, o corev1.Namespace) { inv.Namespaces = append(inv.Namespaces, o) })
	case "/Pod":
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o corev1.Pod) { inv.Pods = append(inv.Pods, o) })
	case "/ServiceAccount":
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o corev1.ServiceAccount) {
			inv.ServiceAccounts = append(inv.ServiceAccounts, o)
		})
	case "/Service":
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o corev1.Service) { inv.Services = append(inv.Services, o) })
	case "/Secret":
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o corev1.Secret) {
			inv.Secrets = append(inv.Secrets, checks.SecretMetadataOnly(o))
		})
	case "/ConfigMap":
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o corev1.ConfigMap) { inv.ConfigMaps = append(inv.ConfigMaps, o) })
	case "apps/Deployment":
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o appsv1.Deployment) { inv.Deployments = append(inv.Deployments, o) })
	case "apps/StatefulSet":
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o appsv1.StatefulSet) { inv.StatefulSets = append(inv.StatefulSets, o) })
	case "apps/DaemonSet":
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o appsv1.DaemonSet) { inv.DaemonSets = append(inv.DaemonSets, o) })
	case "batch/Job":
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o batchv1.Job) { inv.Jobs = append(inv.Jobs, o) })
	case "batch/CronJob":
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o batchv1.CronJob) { inv.CronJobs = append(inv.CronJobs, o) })
	case "autoscaling/HorizontalPodAutoscaler":
		if version == "v1" {
			return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o autoscalingv1.HorizontalPodAutoscaler) {
				inv.HPAs = append(inv.HPAs, hpaV1ToV2(o))
			})
		}
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o autoscalingv2.HorizontalPodAutoscaler) { inv.HPAs = append(inv.HPAs, o) })
	case "policy/PodDisruptionBudget":
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o policyv1.PodDisruptionBudget) { inv.PDBs = append(inv.PDBs, o) })
	case "networking.k8s.io/NetworkPolicy":
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o networkingv1.NetworkPolicy) {
			inv.NetworkPolicies = append(inv.NetworkPolicies, o)
		})
	case "networking.k8s.io/Ingress":
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o networkingv1.Ingress) { inv.Ingresses = append(inv.Ingresses, o) })
	case "rbac.authorization.k8s.io/Role":
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o rbacv1.Role) { inv.Roles = append(inv.Roles, o) })
	case "rbac.authorization.k8s.io/ClusterRole":
		return typed(b, group, kind, js, src, false, func(inv *checks.Inventory, o rbacv1.ClusterRole) { inv.ClusterRoles = append(inv.ClusterRoles, o) })
	case "rbac.authorization.k8s.io/RoleBinding":
		return typed(b, group, kind, js, src, ns, func(inv *checks.Inventory, o rbacv1.RoleBinding) { inv.RoleBindings = append(inv.RoleBindings, o) })
	case "rbac.authorization.k8s.io/ClusterRoleBinding":
		return typed(b, group, kind, js, src, false, func(inv *checks.Inventory, o rbacv1.ClusterRoleBinding) {
			inv.ClusterRoleBindings = append(inv.ClusterRoleBindings, o)
		})
	case "apiextensions.k8s.io/CustomResourceDefinition":
		var crd struct {
			Spec struct {
				Group string `json:"group"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(js, &crd); err != nil {
			return fmt.Errorf("CustomResourceDefinition: %w", err)
		}
		b.installed[crd.Spec.Group] = true
		return nil
	}
	if add, namespaced, ok := customKinds(gk); ok {
		return b.custom(group, kind, js, src, namespaced, add)
	}
	return nil
}

// customKinds maps group/kind of the custom resources the catalogue reads
// to where they go in the inventory.
func customKinds(gk string) (func(*checks.Inventory, unstructured.Unstructured), bool, bool) {
	type target = func(*checks.Inventory, unstructured.Unstructured)
	kinds := map[string]struct {
		add        target
		namespaced bool
	}{
		checks.GroupVPA + "/VerticalPodAutoscaler": {func(i *checks.Inventory, u unstructured.Unstructured) { i.VPAs = append(i.VPAs, u) }, true},
		checks.GroupArgoCD + "/Application":        {func(i *checks.Inventory, u unstructured.Unstructured) { i.Applications = append(i.Applications, u) }, true},
		checks.GroupArgoCD + "/AppProject":         {func(i *checks.Inventory, u unstructured.Unstructured) { i.AppProjects = append(i.AppProjects, u) }, true},
		checks.GroupExternalSecrets + "/ExternalSecret": {func(i *checks.Inventory, u unstructured.Unstructured) {
			i.ExternalSecrets = append(i.ExternalSecrets, u)
		}, true},
		checks.GroupExternalSecrets + "/ClusterExternalSecret": {func(i *checks.Inventory, u unstructured.Unstructured) {
			i.ClusterExternalSecrets = append(i.ClusterExternalSecrets, u)
		}, false},
		checks.GroupExternalSecrets + "/SecretStore":        {func(i *checks.Inventory, u unstructured.Unstructured) { i.SecretStores = append(i.SecretStores, u) }, true},
		checks.GroupExternalSecrets + "/ClusterSecretStore": {func(i *checks.Inventory, u unstructured.Unstructured) { i.SecretStores = append(i.SecretStores, u) }, false},
		checks.GroupSealedSecrets + "/SealedSecret":         {func(i *checks.Inventory, u unstructured.Unstructured) { i.SealedSecrets = append(i.SealedSecrets, u) }, true},
		checks.GroupIstioSecurity + "/PeerAuthentication": {func(i *checks.Inventory, u unstructured.Unstructured) {
			i.PeerAuthentications = append(i.PeerAuthentications, u)
		}, true},
		checks.GroupIstioNetworking + "/DestinationRule": {func(i *checks.Inventory, u unstructured.Unstructured) {
			i.DestinationRules = append(i.DestinationRules, u)
		}, true},
		checks.GroupPrometheusOp + "/PrometheusRule": {func(i *checks.Inventory, u unstructured.Unstructured) {
			i.PrometheusRules = append(i.PrometheusRules, u)
		}, true},
	}
	k, ok := kinds[gk]
	return k.add, k.namespaced, ok
}

// hpaV1ToV2 carries an autoscaling/v1 HPA's fields into the v2 shape.
func hpaV1ToV2(h autoscalingv1.HorizontalPodAutoscaler) autoscalingv2.HorizontalPodAutoscaler {
	out := autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: h.ObjectMeta, Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: h.Spec.ScaleTargetRef.Kind, Name: h.Spec.ScaleTargetRef.Name, APIVersion: h.Spec.ScaleTargetRef.APIVersion},
		MinReplicas:    h.Spec.MinReplicas, MaxReplicas: h.Spec.MaxReplicas,
	}}
	if h.Spec.TargetCPUUtilizationPercentage != nil {
		out.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: h.Spec.TargetCPUUtilizationPercentage},
		}}}
	}
	return out
}

// inventory assembles the decoded objects, last one per key winning.
func (b *builder) inventory() *checks.Inventory {
	inv := &checks.Inventory{
		Installed: map[string]bool{},
		Forbidden: map[string]string{},
		Sources:   map[checks.Resource]string{},
		Origin:    "manifests",
		Config:    checks.DefaultConfig(),
	}
	for i, e := range b.entries {
		if b.latest[e.key] != i {
			continue
		}
		e.add(inv)
		inv.Sources[e.res] = e.source
	}
	for _, g := range checks.KnownGroups {
		inv.Installed[g] = b.installed[g]
	}
	return inv
}
