package checks

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	vpav1 "k8s.io/autoscaler/vertical-pod-autoscaler/pkg/apis/autoscaling.k8s.io/v1"
)

// API groups of the custom resources the catalogue reads. Inventory.Installed
// is keyed by these.
const (
	GroupIstioSecurity   = "security.istio.io"
	GroupIstioNetworking = "networking.istio.io"
	GroupArgoCD          = "argoproj.io"
	GroupExternalSecrets = "external-secrets.io"
	GroupSealedSecrets   = "bitnami.com"
	GroupVPA             = "autoscaling.k8s.io"
	GroupPrometheusOp    = "monitoring.coreos.com"
)

// KnownGroups lists every custom-resource group the catalogue reads, so a
// loader can record each as installed or not.
var KnownGroups = []string{
	GroupIstioSecurity, GroupIstioNetworking, GroupArgoCD, GroupExternalSecrets,
	GroupSealedSecrets, GroupVPA, GroupPrometheusOp,
}

// Resource names used as keys of Inventory.Forbidden: the plural resource,
// with its group for anything outside the core group ("deployments.apps").
const (
	ResNamespaces          = "namespaces"
	ResPods                = "pods"
	ResServiceAccounts     = "serviceaccounts"
	ResServices            = "services"
	ResSecrets             = "secrets"
	ResConfigMaps          = "configmaps"
	ResDeployments         = "deployments.apps"
	ResStatefulSets        = "statefulsets.apps"
	ResDaemonSets          = "daemonsets.apps"
	ResJobs                = "jobs.batch"
	ResCronJobs            = "cronjobs.batch"
	ResHPAs                = "horizontalpodautoscalers.autoscaling"
	ResPDBs                = "poddisruptionbudgets.policy"
	ResNetworkPolicies     = "networkpolicies.networking.k8s.io"
	ResIngresses           = "ingresses.networking.k8s.io"
	ResRoles               = "roles.rbac.authorization.k8s.io"
	ResClusterRoles        = "clusterroles.rbac.authorization.k8s.io"
	ResRoleBindings        = "rolebindings.rbac.authorization.k8s.io"
	ResClusterRoleBindings = "clusterrolebindings.rbac.authorization.k8s.io"
	ResVPAs                = "verticalpodautoscalers.autoscaling.k8s.io"
	ResApplications        = "applications.argoproj.io"
	ResAppProjects         = "appprojects.argoproj.io"
	ResExternalSecrets     = "externalsecrets.external-secrets.io"
	ResClusterExtSecrets   = "clusterexternalsecrets.external-secrets.io"
	ResSecretStores        = "secretstores.external-secrets.io"
	ResClusterSecretStores = "clustersecretstores.external-secrets.io"
	ResSealedSecrets       = "sealedsecrets.bitnami.com"
	ResPeerAuthentications = "peerauthentications.security.istio.io"
	ResDestinationRules    = "destinationrules.networking.istio.io"
	ResPrometheusRules     = "prometheusrules.monitoring.coreos.com"
	ResStorageClasses      = "storageclasses.storage.k8s.io"
	ResNodes               = "nodes"
	// Second readings (Kind.Reading), for the cluster-level checks.
	ResAllDaemonSets    = ResDaemonSets + " " + readingAll
	ResAllDeployments   = ResDeployments + " " + readingAll
	ResAutoscalerStatus = "configmaps cluster-autoscaler-status in kube-system"
	ResAPIServerPods    = "pods component=kube-apiserver in kube-system"
)

// DefaultAllowedRegistries is the private registry the estate pulls from
// when the configuration names none.
var DefaultAllowedRegistries = []string{"registry.fintech.internal"}

// Config tunes the catalogue to an estate.
type Config struct {
	// AllowedRegistries are the registry hosts (optionally with a path
	// prefix, "registry.example.com/team") images may come from.
	AllowedRegistries []string
	// Namespaces limits namespace-level checks to these namespaces; empty
	// means every namespace in the inventory except kube-system,
	// kube-public and kube-node-lease.
	Namespaces []string
	// PCIAllowedFrom are the pod labels of the only peers outside the CDE
	// allowed to reach a PCI workload (namespace or workload labelled
	// compliance: pci-dss); each map is one peer, and the workloads matching
	// one are the CDE's entry points. The seed allows the API gateway alone.
	PCIAllowedFrom []map[string]string
}

// DefaultConfig returns the configuration matching the seed's estate.
func DefaultConfig() Config {
	return Config{
		AllowedRegistries: append([]string(nil), DefaultAllowedRegistries...),
		PCIAllowedFrom:    []map[string]string{{"app": "api-gateway"}},
	}
}

// Inventory is everything vigil reads from an estate, one slice per kind of
// Kinds: listed from a cluster (cluster.ListInventory), held by a live
// session's informer caches (estate.Objects is this type) or read from
// manifests (checks/load). Its objects are pointers a live session shares
// with its caches: the checks read them and never write to them. Secrets
// carry metadata only; their data is dropped on load. Kinds marked
// SessionOnly (ReplicaSets, Events...) are filled by a live session alone.
type Inventory struct {
	Namespaces          []*corev1.Namespace
	Pods                []*corev1.Pod
	ServiceAccounts     []*corev1.ServiceAccount
	Services            []*corev1.Service
	Secrets             []*corev1.Secret // metadata and type only, never data
	ConfigMaps          []*corev1.ConfigMap
	Deployments         []*appsv1.Deployment
	StatefulSets        []*appsv1.StatefulSet
	DaemonSets          []*appsv1.DaemonSet
	Jobs                []*batchv1.Job
	CronJobs            []*batchv1.CronJob
	HPAs                []*autoscalingv2.HorizontalPodAutoscaler
	PDBs                []*policyv1.PodDisruptionBudget
	NetworkPolicies     []*networkingv1.NetworkPolicy
	Ingresses           []*networkingv1.Ingress
	Roles               []*rbacv1.Role
	ClusterRoles        []*rbacv1.ClusterRole
	RoleBindings        []*rbacv1.RoleBinding
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding
	StorageClasses      []*storagev1.StorageClass
	VPAs                []*vpav1.VerticalPodAutoscaler
	Nodes               []*corev1.Node

	// Read for the cluster-level checks whatever the watched namespaces
	// (second readings): node agents and autoscalers in every namespace,
	// the autoscaler's status ConfigMap and the apiserver's mirror pod in
	// kube-system. From manifests they stay empty: the checks read the
	// slots above as well. A session keeps of AllDaemonSets and
	// AllDeployments only the containers' names and images, the replicas
	// and the status: all the checks read of them.
	AllDaemonSets    []*appsv1.DaemonSet
	AllDeployments   []*appsv1.Deployment
	AutoscalerStatus []*corev1.ConfigMap
	APIServerPods    []*corev1.Pod

	// Read by a live session only (SessionOnly kinds).
	ReplicaSets         []*appsv1.ReplicaSet
	ControllerRevisions []*appsv1.ControllerRevision
	EndpointSlices      []*discoveryv1.EndpointSlice
	Events              []*corev1.Event // Warning events only

	// Custom resources, as the API returns them.
	Applications           []*unstructured.Unstructured // Argo CD
	AppProjects            []*unstructured.Unstructured // Argo CD
	ExternalSecrets        []*unstructured.Unstructured
	ClusterExternalSecrets []*unstructured.Unstructured
	SecretStores           []*unstructured.Unstructured
	ClusterSecretStores    []*unstructured.Unstructured
	SealedSecrets          []*unstructured.Unstructured
	PeerAuthentications    []*unstructured.Unstructured
	DestinationRules       []*unstructured.Unstructured
	PrometheusRules        []*unstructured.Unstructured

	// Installed says, per API group in KnownGroups, whether its CRDs exist.
	// A group missing from the map is treated as not installed.
	Installed map[string]bool
	// Forbidden maps a resource (Res* constants) to why it could not be
	// listed; checks that need it report unknown with that reason.
	Forbidden map[string]string
	// RefusedIn maps a namespace to the resources (Res* keys, sorted) the API
	// refused to list in it, for a live inventory read per namespace: an
	// identity bound in some namespaces only is refused in the others.
	RefusedIn map[string][]string
	// Failing maps a resource to why reading it failed for another reason
	// than a refusal (a broken aggregated API); checks that need it report
	// unknown with that reason.
	Failing map[string]string
	// LoadedAlertRules are the alert names Prometheus reports as loaded
	// (/api/v1/rules); nil means not known.
	LoadedAlertRules []string
	// Sources maps a resource to where it was read from ("path:line"),
	// when it came from a file.
	Sources map[Resource]string
	// Origin says where the inventory came from, e.g. a context name or
	// "manifests", for reports.
	Origin string
	// Skipped lists the input objects no check judges, each with where it
	// was read and why (manifests only: a live cluster's kinds are chosen).
	Skipped []Skipped

	Config Config

	// derived is what Run works out from the slots above once for all the
	// checks of its pass; nil outside Run, where each call works it out afresh.
	derived *derived
}

// Skipped is one input object that was read but is judged by no check: a
// kind vigil does not read, an apiVersion the API does not serve for its
// kind, or an object replaced by a later document.
type Skipped struct {
	File       string `json:"file"`
	Doc        int    `json:"document"` // 1-based index of the YAML document in File
	Line       int    `json:"line"`
	Item       int    `json:"item,omitempty"` // 1-based index within a List document, else 0
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name,omitempty"`
	Reason     string `json:"reason"`
}

// String renders the skipped object on one line: where, what and why.
func (s Skipped) String() string {
	where := fmt.Sprintf("%s: document %d (line %d)", s.File, s.Doc, s.Line)
	if s.Item > 0 {
		where += fmt.Sprintf(" items[%d]", s.Item-1)
	}
	what := fmt.Sprintf("apiVersion %s kind %s", s.APIVersion, s.Kind)
	if s.Name != "" {
		what += " " + strings.TrimPrefix(s.Namespace+"/"+s.Name, "/")
	}
	return where + ": " + what + ": " + s.Reason
}

// fromManifests reports whether the inventory was read from files, where
// an object missing from the input may exist in the cluster.
func (inv *Inventory) fromManifests() bool { return strings.HasPrefix(inv.Origin, "manifests") }

// installed reports whether a custom-resource group's CRDs exist.
func (inv *Inventory) installed(group string) bool { return inv.Installed[group] }

// SecretMetadataOnly returns the Secret without its content: data,
// stringData, and kubectl's last-applied-configuration annotation (which
// holds a copy of the data when the Secret was created by kubectl apply).
// vigil reads a Secret's name, type, labels and annotations, never its data.
func SecretMetadataOnly(s corev1.Secret) corev1.Secret {
	s.Data, s.StringData = nil, nil
	if _, ok := s.Annotations[corev1.LastAppliedConfigAnnotation]; ok {
		a := make(map[string]string, len(s.Annotations))
		for k, v := range s.Annotations {
			if k != corev1.LastAppliedConfigAnnotation {
				a[k] = v
			}
		}
		s.Annotations = a
	}
	s.ManagedFields = nil
	return s
}
