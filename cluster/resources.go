package cluster

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// via says which client family an informer is built from.
type via int

const (
	viaTyped    via = iota // client-go's typed informers
	viaMetadata            // metadata-only informer (Secrets: never their data)
	viaVPA                 // the VPA project's typed clientset
	viaDynamic             // unstructured custom resources
)

// resource is one kind of object a Session watches.
type resource struct {
	group, version, name string // e.g. "apps", "v1", "deployments"
	// clusterScoped resources are watched once, not per namespace.
	clusterScoped bool
	// allNamespaces resources are watched in every namespace when the user
	// may list them there (Argo CD keeps Applications in its own
	// namespace), else in the watched namespaces.
	allNamespaces bool
	// optional resources (CRDs) are looked up in discovery first.
	optional bool
	via      via
	typed    func(informers.SharedInformerFactory) cache.SharedIndexInformer
}

// key is "plural.group" ("pods" for the core group), as checks.Res* name them.
func (r resource) key() string {
	if r.group == "" {
		return r.name
	}
	return r.name + "." + r.group
}

func (r resource) gvr() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: r.group, Version: r.version, Resource: r.name}
}

func typed(group, version, name string, f func(informers.SharedInformerFactory) cache.SharedIndexInformer) resource {
	return resource{group: group, version: version, name: name, typed: f}
}

func crd(group, version, name string) resource {
	return resource{group: group, version: version, name: name, optional: true, via: viaDynamic}
}

// Resource keys the builders look up.
const (
	resDeployments         = "deployments.apps"
	resStatefulSets        = "statefulsets.apps"
	resDaemonSets          = "daemonsets.apps"
	resReplicaSets         = "replicasets.apps"
	resControllerRevisions = "controllerrevisions.apps"
	resPods                = "pods"
	resServices            = "services"
	resEndpointSlices      = "endpointslices.discovery.k8s.io"
	resHPAs                = "horizontalpodautoscalers.autoscaling"
	resPDBs                = "poddisruptionbudgets.policy"
	resNetworkPolicies     = "networkpolicies.networking.k8s.io"
	resIngresses           = "ingresses.networking.k8s.io"
	resServiceAccounts     = "serviceaccounts"
	resRoles               = "roles.rbac.authorization.k8s.io"
	resRoleBindings        = "rolebindings.rbac.authorization.k8s.io"
	resClusterRoles        = "clusterroles.rbac.authorization.k8s.io"
	resClusterRoleBindings = "clusterrolebindings.rbac.authorization.k8s.io"
	resNamespaces          = "namespaces"
	resConfigMaps          = "configmaps"
	resEvents              = "events"
	resJobs                = "jobs.batch"
	resCronJobs            = "cronjobs.batch"
	resSecrets             = "secrets"
	resVPAs                = "verticalpodautoscalers.autoscaling.k8s.io"
	resApplications        = "applications.argoproj.io"
	resAppProjects         = "appprojects.argoproj.io"
	resExternalSecrets     = "externalsecrets.external-secrets.io"
	resClusterExtSecrets   = "clusterexternalsecrets.external-secrets.io"
	resSecretStores        = "secretstores.external-secrets.io"
	resClusterSecretStores = "clustersecretstores.external-secrets.io"
	resSealedSecrets       = "sealedsecrets.bitnami.com"
	resPeerAuthentications = "peerauthentications.security.istio.io"
	resDestinationRules    = "destinationrules.networking.istio.io"
	resPrometheusRules     = "prometheusrules.monitoring.coreos.com"
)

// watched are the resources a Session watches. Namespaced ones are watched
// per watched namespace unless allNamespaces says otherwise.
var watched = []resource{
	typed("apps", "v1", "deployments", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Apps().V1().Deployments().Informer()
	}),
	typed("apps", "v1", "statefulsets", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Apps().V1().StatefulSets().Informer()
	}),
	typed("apps", "v1", "daemonsets", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Apps().V1().DaemonSets().Informer()
	}),
	typed("apps", "v1", "replicasets", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Apps().V1().ReplicaSets().Informer()
	}),
	typed("apps", "v1", "controllerrevisions", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Apps().V1().ControllerRevisions().Informer()
	}),
	typed("", "v1", "pods", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().Pods().Informer()
	}),
	typed("", "v1", "services", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().Services().Informer()
	}),
	typed("discovery.k8s.io", "v1", "endpointslices", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Discovery().V1().EndpointSlices().Informer()
	}),
	typed("autoscaling", "v2", "horizontalpodautoscalers", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Autoscaling().V2().HorizontalPodAutoscalers().Informer()
	}),
	typed("policy", "v1", "poddisruptionbudgets", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Policy().V1().PodDisruptionBudgets().Informer()
	}),
	typed("networking.k8s.io", "v1", "networkpolicies", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Networking().V1().NetworkPolicies().Informer()
	}),
	typed("networking.k8s.io", "v1", "ingresses", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Networking().V1().Ingresses().Informer()
	}),
	typed("", "v1", "serviceaccounts", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().ServiceAccounts().Informer()
	}),
	typed("rbac.authorization.k8s.io", "v1", "roles", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Rbac().V1().Roles().Informer()
	}),
	typed("rbac.authorization.k8s.io", "v1", "rolebindings", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Rbac().V1().RoleBindings().Informer()
	}),
	typed("", "v1", "configmaps", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().ConfigMaps().Informer()
	}),
	typed("", "v1", "events", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().Events().Informer()
	}),
	typed("batch", "v1", "jobs", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Batch().V1().Jobs().Informer()
	}),
	typed("batch", "v1", "cronjobs", func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Batch().V1().CronJobs().Informer()
	}),
	{group: "", version: "v1", name: "secrets", via: viaMetadata},
	{group: "autoscaling.k8s.io", version: "v1", name: "verticalpodautoscalers", optional: true, via: viaVPA},
	{group: "argoproj.io", version: "v1alpha1", name: "applications", optional: true, allNamespaces: true, via: viaDynamic},
	{group: "argoproj.io", version: "v1alpha1", name: "appprojects", optional: true, allNamespaces: true, via: viaDynamic},
	crd("external-secrets.io", "v1", "externalsecrets"),
	{group: "external-secrets.io", version: "v1", name: "clusterexternalsecrets", optional: true, clusterScoped: true, via: viaDynamic},
	crd("external-secrets.io", "v1", "secretstores"),
	{group: "external-secrets.io", version: "v1", name: "clustersecretstores", optional: true, clusterScoped: true, via: viaDynamic},
	crd("bitnami.com", "v1alpha1", "sealedsecrets"),
	crd("security.istio.io", "v1", "peerauthentications"),
	crd("networking.istio.io", "v1", "destinationrules"),
	crd("monitoring.coreos.com", "v1", "prometheusrules"),
	{group: "", version: "v1", name: "namespaces", clusterScoped: true, typed: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().Namespaces().Informer()
	}},
	{group: "rbac.authorization.k8s.io", version: "v1", name: "clusterroles", clusterScoped: true, typed: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Rbac().V1().ClusterRoles().Informer()
	}},
	{group: "rbac.authorization.k8s.io", version: "v1", name: "clusterrolebindings", clusterScoped: true, typed: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Rbac().V1().ClusterRoleBindings().Informer()
	}},
}

// namespacedCount is how many resources are watched per namespace, for the
// "no access to namespace X" note.
var namespacedCount = func() int {
	n := 0
	for _, r := range watched {
		if !r.clusterScoped && !r.allNamespaces {
			n++
		}
	}
	return n
}()
