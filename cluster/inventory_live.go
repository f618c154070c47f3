package cluster

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vigil-k8s/vigil/checks"
)

// Inventory returns the live estate for the compliance checks, built from
// the session's informer caches (deep copies; Secrets carry metadata only),
// so the Compliance screen needs no extra LISTs. Custom-resource groups not
// served are Installed=false; resources vigil may not list are Forbidden.
// Pods owned by a controller carry the slim spec the cache keeps; the
// checks read their templates from the workloads instead.
func (s *Session) Inventory() checks.Inventory {
	objs, _, resources, _ := s.collect()
	inv := checks.Inventory{Installed: map[string]bool{}, Forbidden: map[string]string{}, Config: checks.DefaultConfig(), Origin: s.opts.Context}
	inv.Config.Namespaces = s.watchedNames()
	if len(s.opts.Settings.AllowedRegistries) > 0 {
		inv.Config.AllowedRegistries = slices.Clone(s.opts.Settings.AllowedRegistries)
	}
	s.mu.Lock()
	for _, g := range checks.KnownGroups {
		installed, known := s.installed[g]
		inv.Installed[g] = installed || !known
	}
	s.mu.Unlock()
	for _, r := range resources {
		if r.Access == AccessDenied {
			inv.Forbidden[r.Resource] = r.Reason
		}
	}
	watched := map[string]bool{}
	for _, ns := range inv.Config.Namespaces {
		watched[ns] = true
	}
	for _, o := range objs.Namespaces {
		if watched[o.Name] {
			inv.Namespaces = append(inv.Namespaces, *o.DeepCopy())
		}
	}
	inv.Pods = copyAll(objs.Pods)
	inv.ServiceAccounts = copyAll(objs.ServiceAccounts)
	inv.Services = copyAll(objs.Services)
	for _, m := range objs.Secrets {
		inv.Secrets = append(inv.Secrets, checks.SecretMetadataOnly(corev1.Secret{ObjectMeta: *m.ObjectMeta.DeepCopy()}))
	}
	inv.ConfigMaps = copyAll(objs.ConfigMaps)
	inv.Deployments = copyAll(objs.Deployments)
	inv.StatefulSets = copyAll(objs.StatefulSets)
	inv.DaemonSets = copyAll(objs.DaemonSets)
	inv.Jobs = copyAll(objs.Jobs)
	inv.CronJobs = copyAll(objs.CronJobs)
	inv.HPAs = copyAll(objs.HPAs)
	inv.PDBs = copyAll(objs.PDBs)
	inv.NetworkPolicies = copyAll(objs.NetworkPolicies)
	inv.Ingresses = copyAll(objs.Ingresses)
	inv.Roles = copyAll(objs.Roles)
	inv.RoleBindings = copyAll(objs.RoleBindings)
	inv.ClusterRoles = copyAll(objs.ClusterRoles)
	inv.ClusterRoleBindings = copyAll(objs.ClusterRoleBindings)
	for _, v := range objs.VPAs {
		if u, err := toUnstructured(v); err == nil {
			inv.VPAs = append(inv.VPAs, u)
		}
	}
	inv.Applications = copyU(objs.Custom[resApplications])
	inv.AppProjects = copyU(objs.Custom[resAppProjects])
	inv.ExternalSecrets = copyU(objs.Custom[resExternalSecrets])
	inv.ClusterExternalSecrets = copyU(objs.Custom[resClusterExtSecrets])
	inv.SecretStores = append(copyU(objs.Custom[resSecretStores]), copyU(objs.Custom[resClusterSecretStores])...)
	inv.SealedSecrets = copyU(objs.Custom[resSealedSecrets])
	inv.PeerAuthentications = copyU(objs.Custom[resPeerAuthentications])
	inv.DestinationRules = copyU(objs.Custom[resDestinationRules])
	inv.PrometheusRules = copyU(objs.Custom[resPrometheusRules])
	if v := s.alerts.get(); v.Prometheus.Available {
		for _, r := range v.Rules {
			inv.LoadedAlertRules = append(inv.LoadedAlertRules, r.Name)
		}
		if inv.LoadedAlertRules == nil {
			inv.LoadedAlertRules = []string{}
		}
	}
	return inv
}

func (s *Session) watchedNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.namespaces))
	for _, w := range s.namespaces {
		out = append(out, w.name)
	}
	return out
}

// deepCopier is any typed API object pointer.
type deepCopier[T any] interface{ DeepCopy() *T }

func copyAll[T any, P deepCopier[T]](items []P) []T {
	out := make([]T, 0, len(items))
	for _, it := range items {
		out = append(out, *it.DeepCopy())
	}
	return out
}

func copyU(items []*unstructured.Unstructured) []unstructured.Unstructured {
	out := make([]unstructured.Unstructured, 0, len(items))
	for _, u := range items {
		out = append(out, *u.DeepCopy())
	}
	return out
}

func toUnstructured(obj any) (unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return unstructured.Unstructured{}, err
	}
	u := unstructured.Unstructured{Object: m}
	u.SetAPIVersion("autoscaling.k8s.io/v1")
	u.SetKind("VerticalPodAutoscaler")
	return u, nil
}
