package checks

import (
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	vpav1 "k8s.io/autoscaler/vertical-pod-autoscaler/pkg/apis/autoscaling.k8s.io/v1"
)

// Source says which client family reads a kind.
type Source int

// The client families.
const (
	// Typed kinds come from client-go's typed clients and informers.
	Typed Source = iota
	// Metadata kinds are read through the metadata API: vigil never
	// receives the object's content (Secrets).
	Metadata
	// VPA is the Vertical Pod Autoscaler project's typed clientset.
	VPA
	// Dynamic kinds are custom resources, read as unstructured objects.
	Dynamic
)

// Scope says where a kind is read.
type Scope int

// The scopes.
const (
	// Namespaced kinds are read in each watched namespace.
	Namespaced Scope = iota
	// ClusterScoped kinds are read once for the cluster.
	ClusterScoped
	// AllNamespaces kinds are namespaced and read across every namespace,
	// whatever the watched ones: what the cluster-level checks look for
	// lives where the platform put it (Argo CD's Applications in argocd, a
	// log shipper in logging, the autoscaler in kube-system). A user who may
	// not list them cluster-wide gets them Forbidden, and the checks needing
	// them say unknown with the reason: the watched namespaces alone would
	// be a partial view (every workload failing ops-gitops-argocd because
	// its Application lives in argocd).
	AllNamespaces
	// InNamespace kinds are read in one namespace, Kind.Namespace (the
	// apiserver's mirror pod in kube-system), whatever the watched ones.
	InNamespace
)

// Kind is one kind of object vigil reads. Its entry in Kinds is the only
// place a kind is declared: it drives a session's informers, the headless
// LIST (cluster.ListInventory), manifest decoding (checks/load) and where
// objects land in the Inventory.
type Kind struct {
	Group, Version, Resource, Kind string
	Scope                          Scope
	Source                         Source
	// Optional kinds (CRDs) are looked up in discovery before being read;
	// Inventory.Installed is keyed by their group.
	Optional bool
	// SessionOnly kinds feed the live cockpit, not the checks: the
	// headless LIST and manifest decoding skip them.
	SessionOnly bool
	// FieldSelector narrows what a session watches ("type!=Normal"), and
	// with Namespace and LabelSelector what a targeted reading lists.
	FieldSelector string
	// LabelSelector narrows a targeted reading ("component=kube-apiserver").
	LabelSelector string
	// Namespace is where an InNamespace kind is read.
	Namespace string
	// Reading names a second reading of a kind declared above, in another
	// scope or with selectors, into its own Inventory slot (DaemonSets in
	// every namespace beside those of the watched ones). It qualifies the
	// key; manifest decoding uses the first reading only.
	Reading string

	// newObj returns an empty object to decode into; add appends a decoded
	// or cached object (a pointer of newObj's type) to its inventory slot.
	newObj func() metav1.Object
	add    func(inv *Inventory, obj any) bool
	sort   func(inv *Inventory)
}

// Key is "plural.group" ("pods" for the core group), followed by the
// reading's name for a second reading ("daemonsets.apps in all
// namespaces"): the key of Inventory.Forbidden and of the Res* constants.
func (k Kind) Key() string {
	key := k.Resource
	if k.Group != "" {
		key += "." + k.Group
	}
	if k.Reading != "" {
		key += " " + k.Reading
	}
	return key
}

// GVR is the kind's group, version and resource.
func (k Kind) GVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: k.Group, Version: k.Version, Resource: k.Resource}
}

// Namespaced reports whether objects of the kind live in namespaces.
func (k Kind) Namespaced() bool { return k.Scope != ClusterScoped }

// New returns an empty object of the kind (an *unstructured.Unstructured
// for Dynamic kinds).
func (k Kind) New() metav1.Object { return k.newObj() }

// Add appends obj, a pointer of the type New returns, to the kind's slot in
// inv. It keeps the pointer: a live session's inventory shares its objects
// with the caches. It reports false for an object of another type.
func (k Kind) Add(inv *Inventory, obj any) bool { return k.add(inv, obj) }

// FromMetadata returns an object of the kind carrying only meta, for kinds
// read through the metadata API (Secrets: never their data).
func (k Kind) FromMetadata(meta metav1.ObjectMeta) metav1.Object {
	obj := k.newObj()
	if f := reflect.ValueOf(obj).Elem().FieldByName("ObjectMeta"); f.IsValid() && f.CanSet() {
		f.Set(reflect.ValueOf(meta))
	}
	return obj
}

// Decode reads one object of the kind from JSON (manifests).
func (k Kind) Decode(js []byte) (metav1.Object, error) {
	obj := k.newObj()
	var err error
	if u, ok := obj.(*unstructured.Unstructured); ok {
		err = u.UnmarshalJSON(js)
	} else {
		err = json.Unmarshal(js, obj)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.Kind, err)
	}
	if k.Source == Metadata {
		if s, ok := obj.(*corev1.Secret); ok {
			*s = SecretMetadataOnly(*s)
		}
	}
	return obj, nil
}

// typedKind declares a kind read into typed objects of T.
func typedKind[T any, PT interface {
	*T
	metav1.Object
}](group, version, resource, kind string, slot func(*Inventory) *[]*T) Kind {
	return Kind{Group: group, Version: version, Resource: resource, Kind: kind,
		newObj: func() metav1.Object { return PT(new(T)) },
		add: func(inv *Inventory, obj any) bool {
			o, ok := obj.(*T)
			if ok {
				s := slot(inv)
				*s = append(*s, o)
			}
			return ok
		},
		sort: func(inv *Inventory) {
			slices.SortFunc(*slot(inv), func(a, b *T) int {
				x, y := PT(a), PT(b)
				return cmp.Or(cmp.Compare(x.GetNamespace(), y.GetNamespace()), cmp.Compare(x.GetName(), y.GetName()))
			})
		}}
}

// customKind declares an optional custom resource, read unstructured.
func customKind(group, version, resource, kind string, slot func(*Inventory) *[]*unstructured.Unstructured) Kind {
	k := typedKind(group, version, resource, kind, slot)
	k.Optional, k.Source = true, Dynamic
	return k
}

func (k Kind) clusterScoped() Kind      { k.Scope = ClusterScoped; return k }
func (k Kind) allNamespaces() Kind      { k.Scope = AllNamespaces; return k }
func (k Kind) sessionOnly() Kind        { k.SessionOnly = true; return k }
func (k Kind) via(s Source) Kind        { k.Source = s; return k }
func (k Kind) optional() Kind           { k.Optional = true; return k }
func (k Kind) fields(sel string) Kind   { k.FieldSelector = sel; return k }
func (k Kind) labels(sel string) Kind   { k.LabelSelector = sel; return k }
func (k Kind) reading(name string) Kind { k.Reading = name; return k }
func (k Kind) in(ns string) Kind        { k.Scope, k.Namespace = InNamespace, ns; return k }

// Kinds is every kind vigil reads, one entry each. Adding a kind is one
// entry here (and an Inventory field for it) plus the checks that read it.
var Kinds = []Kind{
	typedKind("", "v1", "namespaces", "Namespace", func(i *Inventory) *[]*corev1.Namespace { return &i.Namespaces }).clusterScoped(),
	typedKind("", "v1", "pods", "Pod", func(i *Inventory) *[]*corev1.Pod { return &i.Pods }),
	typedKind("", "v1", "serviceaccounts", "ServiceAccount", func(i *Inventory) *[]*corev1.ServiceAccount { return &i.ServiceAccounts }),
	typedKind("", "v1", "services", "Service", func(i *Inventory) *[]*corev1.Service { return &i.Services }),
	typedKind("", "v1", "secrets", "Secret", func(i *Inventory) *[]*corev1.Secret { return &i.Secrets }).via(Metadata),
	typedKind("", "v1", "configmaps", "ConfigMap", func(i *Inventory) *[]*corev1.ConfigMap { return &i.ConfigMaps }),
	typedKind("apps", "v1", "deployments", "Deployment", func(i *Inventory) *[]*appsv1.Deployment { return &i.Deployments }),
	typedKind("apps", "v1", "statefulsets", "StatefulSet", func(i *Inventory) *[]*appsv1.StatefulSet { return &i.StatefulSets }),
	typedKind("apps", "v1", "daemonsets", "DaemonSet", func(i *Inventory) *[]*appsv1.DaemonSet { return &i.DaemonSets }),
	typedKind("batch", "v1", "jobs", "Job", func(i *Inventory) *[]*batchv1.Job { return &i.Jobs }),
	typedKind("batch", "v1", "cronjobs", "CronJob", func(i *Inventory) *[]*batchv1.CronJob { return &i.CronJobs }),
	typedKind("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", func(i *Inventory) *[]*autoscalingv2.HorizontalPodAutoscaler { return &i.HPAs }),
	typedKind("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", func(i *Inventory) *[]*policyv1.PodDisruptionBudget { return &i.PDBs }),
	typedKind("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", func(i *Inventory) *[]*networkingv1.NetworkPolicy { return &i.NetworkPolicies }),
	typedKind("networking.k8s.io", "v1", "ingresses", "Ingress", func(i *Inventory) *[]*networkingv1.Ingress { return &i.Ingresses }),
	typedKind("rbac.authorization.k8s.io", "v1", "roles", "Role", func(i *Inventory) *[]*rbacv1.Role { return &i.Roles }),
	typedKind("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", func(i *Inventory) *[]*rbacv1.RoleBinding { return &i.RoleBindings }),
	typedKind("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", func(i *Inventory) *[]*rbacv1.ClusterRole { return &i.ClusterRoles }).clusterScoped(),
	typedKind("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", func(i *Inventory) *[]*rbacv1.ClusterRoleBinding { return &i.ClusterRoleBindings }).clusterScoped(),
	typedKind("storage.k8s.io", "v1", "storageclasses", "StorageClass", func(i *Inventory) *[]*storagev1.StorageClass { return &i.StorageClasses }).clusterScoped(),
	typedKind("autoscaling.k8s.io", "v1", "verticalpodautoscalers", "VerticalPodAutoscaler", func(i *Inventory) *[]*vpav1.VerticalPodAutoscaler { return &i.VPAs }).via(VPA).optional(),

	typedKind("apps", "v1", "replicasets", "ReplicaSet", func(i *Inventory) *[]*appsv1.ReplicaSet { return &i.ReplicaSets }).sessionOnly(),
	typedKind("apps", "v1", "controllerrevisions", "ControllerRevision", func(i *Inventory) *[]*appsv1.ControllerRevision { return &i.ControllerRevisions }).sessionOnly(),
	typedKind("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", func(i *Inventory) *[]*discoveryv1.EndpointSlice { return &i.EndpointSlices }).sessionOnly(),
	// Normal events outnumber pods at scale (Scheduled, Pulled, Started...):
	// keep the ones that tell of trouble.
	typedKind("", "v1", "events", "Event", func(i *Inventory) *[]*corev1.Event { return &i.Events }).sessionOnly().fields("type!=Normal"),

	// Second readings, cluster-wide or targeted, for the cluster-level
	// checks: node agents (log shippers, runtime detectors) and autoscalers
	// run where the platform put them, outside the watched namespaces.
	// DaemonSets and Deployments are few beside pods; no pod is read
	// cluster-wide, only the apiserver's mirror pod in kube-system.
	typedKind("apps", "v1", "daemonsets", "DaemonSet", func(i *Inventory) *[]*appsv1.DaemonSet { return &i.AllDaemonSets }).allNamespaces().reading(readingAll),
	typedKind("apps", "v1", "deployments", "Deployment", func(i *Inventory) *[]*appsv1.Deployment { return &i.AllDeployments }).allNamespaces().reading(readingAll),
	typedKind("", "v1", "configmaps", "ConfigMap", func(i *Inventory) *[]*corev1.ConfigMap { return &i.AutoscalerStatus }).
		in("kube-system").fields("metadata.name=cluster-autoscaler-status").reading("cluster-autoscaler-status in kube-system"),
	typedKind("", "v1", "pods", "Pod", func(i *Inventory) *[]*corev1.Pod { return &i.APIServerPods }).
		in("kube-system").labels("component=kube-apiserver").reading("component=kube-apiserver in kube-system"),
	typedKind("", "v1", "nodes", "Node", func(i *Inventory) *[]*corev1.Node { return &i.Nodes }).clusterScoped(),

	customKind(GroupArgoCD, "v1alpha1", "applications", "Application", func(i *Inventory) *[]*unstructured.Unstructured { return &i.Applications }).allNamespaces(),
	customKind(GroupArgoCD, "v1alpha1", "appprojects", "AppProject", func(i *Inventory) *[]*unstructured.Unstructured { return &i.AppProjects }).allNamespaces(),
	customKind(GroupExternalSecrets, "v1", "externalsecrets", "ExternalSecret", func(i *Inventory) *[]*unstructured.Unstructured { return &i.ExternalSecrets }),
	customKind(GroupExternalSecrets, "v1", "clusterexternalsecrets", "ClusterExternalSecret", func(i *Inventory) *[]*unstructured.Unstructured { return &i.ClusterExternalSecrets }).clusterScoped(),
	customKind(GroupExternalSecrets, "v1", "secretstores", "SecretStore", func(i *Inventory) *[]*unstructured.Unstructured { return &i.SecretStores }),
	customKind(GroupExternalSecrets, "v1", "clustersecretstores", "ClusterSecretStore", func(i *Inventory) *[]*unstructured.Unstructured { return &i.ClusterSecretStores }).clusterScoped(),
	customKind(GroupSealedSecrets, "v1alpha1", "sealedsecrets", "SealedSecret", func(i *Inventory) *[]*unstructured.Unstructured { return &i.SealedSecrets }),
	customKind(GroupIstioSecurity, "v1", "peerauthentications", "PeerAuthentication", func(i *Inventory) *[]*unstructured.Unstructured { return &i.PeerAuthentications }),
	customKind(GroupIstioNetworking, "v1", "destinationrules", "DestinationRule", func(i *Inventory) *[]*unstructured.Unstructured { return &i.DestinationRules }),
	customKind(GroupPrometheusOp, "v1", "prometheusrules", "PrometheusRule", func(i *Inventory) *[]*unstructured.Unstructured { return &i.PrometheusRules }),
}

// SortObjects orders each kind's objects by namespace and name, so
// findings whose evidence names one of several objects (the first binding
// that grants a token, the policies selecting a pod) do not depend on the
// order a cache or the API happened to list them in. It reorders the
// slices, never the objects.
func (inv *Inventory) SortObjects() {
	for _, k := range Kinds {
		k.sort(inv)
	}
}

// KindFor returns the entry of a group and kind ("apps", "Deployment").
func KindFor(group, kind string) (Kind, bool) {
	k, ok := kindsByGroupKind[group+"/"+kind]
	return k, ok
}

var kindsByGroupKind = func() map[string]Kind {
	m := make(map[string]Kind, len(Kinds))
	for _, k := range Kinds {
		if k.Reading == "" {
			m[k.Group+"/"+k.Kind] = k
		}
	}
	return m
}()

// readingAll names the second readings of kinds in every namespace.
const readingAll = "in all namespaces"

// union returns the objects of a and then those of b that a does not hold
// (by namespace and name): a kind's reading in the watched namespaces and
// its second reading in every namespace, each object once.
func union[T metav1.Object](a, b []T) []T {
	if len(b) == 0 {
		return a
	}
	seen := make(map[string]bool, len(a))
	for _, o := range a {
		seen[o.GetNamespace()+"/"+o.GetName()] = true
	}
	out := slices.Clip(a)
	for _, o := range b {
		if !seen[o.GetNamespace()+"/"+o.GetName()] {
			out = append(out, o)
		}
	}
	return out
}
