package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/checks"
)

// ListInventory lists, once, everything the check catalogue reads: cluster-
// scoped objects (Namespaces limited to namespaces when given, ClusterRoles,
// ClusterRoleBindings, cluster-scoped custom resources) and the namespaced
// objects of namespaces (all namespaces when empty). Secrets are listed
// through the metadata API only, so vigil never receives their data.
//
// A custom-resource group missing from discovery is recorded as
// Installed[group]=false; a list the API forbids (403) or does not serve
// (404) is recorded in Forbidden and the checks needing it report unknown.
// Any other error (unreachable server, bad credentials) is returned.
func ListInventory(ctx context.Context, cfg *rest.Config, namespaces []string) (checks.Inventory, error) {
	inv := checks.Inventory{Installed: map[string]bool{}, Forbidden: map[string]string{}, Config: checks.DefaultConfig()}
	inv.Config.Namespaces = namespaces
	if cfg == nil {
		return inv, errors.New("list inventory: no REST config")
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return inv, fmt.Errorf("kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return inv, fmt.Errorf("dynamic client: %w", err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return inv, fmt.Errorf("metadata client: %w", err)
	}
	l := &lister{ctx: ctx, inv: &inv, namespaces: namespaces}
	if len(namespaces) == 0 {
		l.namespaces = []string{metav1.NamespaceAll}
	}

	nss, err := listAll(l, checks.ResNamespaces, "", cs.CoreV1().Namespaces().List, func(x *corev1.NamespaceList) ([]corev1.Namespace, string) { return x.Items, x.Continue })
	if err != nil {
		return inv, err
	}
	for _, ns := range nss {
		if len(namespaces) == 0 || slices.Contains(namespaces, ns.Name) {
			inv.Namespaces = append(inv.Namespaces, ns)
		}
	}
	if inv.ClusterRoles, err = listAll(l, checks.ResClusterRoles, "", cs.RbacV1().ClusterRoles().List, func(x *rbacv1.ClusterRoleList) ([]rbacv1.ClusterRole, string) { return x.Items, x.Continue }); err != nil {
		return inv, err
	}
	if inv.ClusterRoleBindings, err = listAll(l, checks.ResClusterRoleBindings, "", cs.RbacV1().ClusterRoleBindings().List, func(x *rbacv1.ClusterRoleBindingList) ([]rbacv1.ClusterRoleBinding, string) {
		return x.Items, x.Continue
	}); err != nil {
		return inv, err
	}

	for _, ns := range l.namespaces {
		steps := []func(string) error{
			func(ns string) error {
				v, err := listAll(l, checks.ResPods, ns, cs.CoreV1().Pods(ns).List, func(x *corev1.PodList) ([]corev1.Pod, string) { return x.Items, x.Continue })
				inv.Pods = append(inv.Pods, v...)
				return err
			},
			func(ns string) error {
				v, err := listAll(l, checks.ResServiceAccounts, ns, cs.CoreV1().ServiceAccounts(ns).List, func(x *corev1.ServiceAccountList) ([]corev1.ServiceAccount, string) { return x.Items, x.Continue })
				inv.ServiceAccounts = append(inv.ServiceAccounts, v...)
				return err
			},
			func(ns string) error {
				v, err := listAll(l, checks.ResServices, ns, cs.CoreV1().Services(ns).List, func(x *corev1.ServiceList) ([]corev1.Service, string) { return x.Items, x.Continue })
				inv.Services = append(inv.Services, v...)
				return err
			},
			func(ns string) error {
				v, err := listAll(l, checks.ResConfigMaps, ns, cs.CoreV1().ConfigMaps(ns).List, func(x *corev1.ConfigMapList) ([]corev1.ConfigMap, string) { return x.Items, x.Continue })
				inv.ConfigMaps = append(inv.ConfigMaps, v...)
				return err
			},
			func(ns string) error {
				secrets := md.Resource(corev1.SchemeGroupVersion.WithResource("secrets")).Namespace(ns)
				v, err := listAll(l, checks.ResSecrets, ns, secrets.List, func(x *metav1.PartialObjectMetadataList) ([]metav1.PartialObjectMetadata, string) {
					return x.Items, x.Continue
				})
				for _, s := range v {
					inv.Secrets = append(inv.Secrets, checks.SecretMetadataOnly(corev1.Secret{ObjectMeta: s.ObjectMeta}))
				}
				return err
			},
			func(ns string) error {
				v, err := listAll(l, checks.ResDeployments, ns, cs.AppsV1().Deployments(ns).List, func(x *appsv1.DeploymentList) ([]appsv1.Deployment, string) { return x.Items, x.Continue })
				inv.Deployments = append(inv.Deployments, v...)
				return err
			},
			func(ns string) error {
				v, err := listAll(l, checks.ResStatefulSets, ns, cs.AppsV1().StatefulSets(ns).List, func(x *appsv1.StatefulSetList) ([]appsv1.StatefulSet, string) { return x.Items, x.Continue })
				inv.StatefulSets = append(inv.StatefulSets, v...)
				return err
			},
			func(ns string) error {
				v, err := listAll(l, checks.ResDaemonSets, ns, cs.AppsV1().DaemonSets(ns).List, func(x *appsv1.DaemonSetList) ([]appsv1.DaemonSet, string) { return x.Items, x.Continue })
				inv.DaemonSets = append(inv.DaemonSets, v...)
				return err
			},
			func(ns string) error {
				v, err := listAll(l, checks.ResJobs, ns, cs.BatchV1().Jobs(ns).List, func(x *batchv1.JobList) ([]batchv1.Job, string) { return x.Items, x.Continue })
				inv.Jobs = append(inv.Jobs, v...)
				return err
			},
			func(ns string) error {
				v, err := listAll(l, checks.ResCronJobs, ns, cs.BatchV1().CronJobs(ns).List, func(x *batchv1.CronJobList) ([]batchv1.CronJob, string) { return x.Items, x.Continue })
				inv.CronJobs = append(inv.CronJobs, v...)
				return err
			},
			func(ns string) error {
				v, err := listAll(l, checks.ResHPAs, ns, cs.AutoscalingV2().HorizontalPodAutoscalers(ns).List, func(x *autoscalingv2.HorizontalPodAutoscalerList) ([]autoscalingv2.HorizontalPodAutoscaler, string) {
					return x.Items, x.Continue
				})
				inv.HPAs = append(inv.HPAs, v...)
				return err
			},
			func(ns string) error {
				v, err := listAll(l, checks.ResPDBs, ns, cs.PolicyV1().PodDisruptionBudgets(ns).List, func(x *policyv1.PodDisruptionBudgetList) ([]policyv1.PodDisruptionBudget, string) {
					return x.Items, x.Continue
				})
				inv.PDBs = append(inv.PDBs, v...)
				return err
			},
			func(ns string) error {
				v, err := listAll(l, checks.ResNetworkPolicies, ns, cs.NetworkingV1().NetworkPolicies(ns).List, func(x *networkingv1.NetworkPolicyList) ([]networkingv1.NetworkPolicy, string) {
					return x.Items, x.Continue
				})
				inv.NetworkPolicies = append(inv.NetworkPolicies, v...)
				return err
			},
			func(ns string) error {
				v, err := listAll(l, checks.ResIngresses, ns, cs.NetworkingV1().Ingresses(ns).List, func(x *networkingv1.IngressList) ([]networkingv1.Ingress, string) { return x.Items, x.Continue })
				inv.Ingresses = append(inv.Ingresses, v...)
				return err
			},
			func(ns string) error {
				v, err := listAll(l, checks.ResRoles, ns, cs.RbacV1().Roles(ns).List, func(x *rbacv1.RoleList) ([]rbacv1.Role, string) { return x.Items, x.Continue })
				inv.Roles = append(inv.Roles, v...)
				return err
			},
			func(ns string) error {
				v, err := listAll(l, checks.ResRoleBindings, ns, cs.RbacV1().RoleBindings(ns).List, func(x *rbacv1.RoleBindingList) ([]rbacv1.RoleBinding, string) { return x.Items, x.Continue })
				inv.RoleBindings = append(inv.RoleBindings, v...)
				return err
			},
		}
		for _, step := range steps {
			if err := step(ns); err != nil {
				return inv, err
			}
		}
	}
	if err := listCustom(l, cs.Discovery(), dyn); err != nil {
		return inv, err
	}
	return inv, nil
}

// lister carries what every list call needs.
type lister struct {
	ctx        context.Context
	inv        *checks.Inventory
	namespaces []string
}

// refused records a 403 or 404 in Forbidden and reports whether err was one.
func (l *lister) refused(resource string, err error) bool {
	switch {
	case apierrors.IsForbidden(err):
		if _, ok := l.inv.Forbidden[resource]; !ok {
			l.inv.Forbidden[resource] = err.Error()
		}
		return true
	case apierrors.IsNotFound(err):
		if _, ok := l.inv.Forbidden[resource]; !ok {
			l.inv.Forbidden[resource] = "not served by the API server"
		}
		return true
	}
	return false
}

// listAll pages through a list call (500 at a time), dropping managed
// fields. A refused list yields nothing and no error.
func listAll[T any, L any](l *lister, resource, ns string, list func(context.Context, metav1.ListOptions) (L, error), items func(L) ([]T, string)) ([]T, error) {
	var out []T
	opts := metav1.ListOptions{Limit: 500}
	for {
		page, err := list(l.ctx, opts)
		if err != nil {
			if l.refused(resource, err) {
				return nil, nil
			}
			where := resource
			if ns != "" {
				where += " in " + ns
			}
			return nil, fmt.Errorf("list %s: %s: %w", where, Explain(err), err)
		}
		batch, cont := items(page)
		for i := range batch {
			if m, ok := any(&batch[i]).(metav1.Object); ok {
				m.SetManagedFields(nil)
			}
		}
		out = append(out, batch...)
		if cont == "" {
			return out, nil
		}
		opts.Continue = cont
	}
}

// customResource is a CRD-backed resource the catalogue reads.
type customResource struct {
	group, resource, key string
	namespaced           bool
	dest                 func(*checks.Inventory) *[]unstructured.Unstructured
}

var customResources = []customResource{
	{checks.GroupVPA, "verticalpodautoscalers", checks.ResVPAs, true, func(i *checks.Inventory) *[]unstructured.Unstructured { return &i.VPAs }},
	{checks.GroupArgoCD, "applications", checks.ResApplications, true, func(i *checks.Inventory) *[]unstructured.Unstructured { return &i.Applications }},
	{checks.GroupArgoCD, "appprojects", checks.ResAppProjects, true, func(i *checks.Inventory) *[]unstructured.Unstructured { return &i.AppProjects }},
	{checks.GroupExternalSecrets, "externalsecrets", checks.ResExternalSecrets, true, func(i *checks.Inventory) *[]unstructured.Unstructured { return &i.ExternalSecrets }},
	{checks.GroupExternalSecrets, "clusterexternalsecrets", checks.ResClusterExtSecrets, false, func(i *checks.Inventory) *[]unstructured.Unstructured { return &i.ClusterExternalSecrets }},
	{checks.GroupExternalSecrets, "secretstores", checks.ResSecretStores, true, func(i *checks.Inventory) *[]unstructured.Unstructured { return &i.SecretStores }},
	{checks.GroupExternalSecrets, "clustersecretstores", checks.ResClusterSecretStores, false, func(i *checks.Inventory) *[]unstructured.Unstructured { return &i.SecretStores }},
	{checks.GroupSealedSecrets, "sealedsecrets", checks.ResSealedSecrets, true, func(i *checks.Inventory) *[]unstructured.Unstructured { return &i.SealedSecrets }},
	{checks.GroupIstioSecurity, "peerauthentications", checks.ResPeerAuthentications, true, func(i *checks.Inventory) *[]unstructured.Unstructured { return &i.PeerAuthentications }},
	{checks.GroupIstioNetworking, "destinationrules", checks.ResDestinationRules, true, func(i *checks.Inventory) *[]unstructured.Unstructured { return &i.DestinationRules }},
	{checks.GroupPrometheusOp, "prometheusrules", checks.ResPrometheusRules, true, func(i *checks.Inventory) *[]unstructured.Unstructured { return &i.PrometheusRules }},
}

// listCustom discovers which custom-resource groups exist and lists the
// catalogue's resources in the first version serving them. Istio's
// PeerAuthentication in the root namespace (istio-system) applies mesh-wide,
// so it is listed there too.
func listCustom(l *lister, disc discovery.DiscoveryInterface, dyn dynamic.Interface) error {
	groups, err := disc.ServerGroups()
	if err != nil {
		return fmt.Errorf("discovery: %s: %w", Explain(err), err)
	}
	versions := map[string][]string{}
	for _, g := range groups.Groups {
		var vs []string
		if g.PreferredVersion.Version != "" {
			vs = append(vs, g.PreferredVersion.Version)
		}
		for _, v := range g.Versions {
			if !slices.Contains(vs, v.Version) {
				vs = append(vs, v.Version)
			}
		}
		versions[g.Name] = vs
	}
	for _, g := range checks.KnownGroups {
		l.inv.Installed[g] = len(versions[g]) > 0
	}
	served := map[string]bool{} // "group/version/resource"
	for _, cr := range customResources {
		if !l.inv.Installed[cr.group] {
			continue
		}
		version := ""
		for _, v := range versions[cr.group] {
			gv := cr.group + "/" + v
			if _, ok := served[gv]; !ok {
				rl, err := disc.ServerResourcesForGroupVersion(gv)
				if err != nil && !apierrors.IsNotFound(err) {
					return fmt.Errorf("discovery %s: %s: %w", gv, Explain(err), err)
				}
				served[gv] = true
				if rl != nil {
					for _, r := range rl.APIResources {
						served[gv+"/"+r.Name] = true
					}
				}
			}
			if served[gv+"/"+cr.resource] {
				version = v
				break
			}
		}
		if version == "" {
			continue
		}
		ri := dyn.Resource(schema.GroupVersionResource{Group: cr.group, Version: version, Resource: cr.resource})
		nss := []string{metav1.NamespaceAll}
		if cr.namespaced {
			nss = l.namespaces
			if cr.group == checks.GroupIstioSecurity && !slices.Contains(nss, metav1.NamespaceAll) && !slices.Contains(nss, "istio-system") {
				nss = append(slices.Clone(nss), "istio-system")
			}
		}
		for _, ns := range nss {
			list := ri.List
			if cr.namespaced {
				list = ri.Namespace(ns).List
			}
			v, err := listAll(l, cr.key, ns, list, func(x *unstructured.UnstructuredList) ([]unstructured.Unstructured, string) {
				return x.Items, x.GetContinue()
			})
			if err != nil {
				return err
			}
			dest := cr.dest(l.inv)
			*dest = append(*dest, v...)
		}
	}
	return nil
}
