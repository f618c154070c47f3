// Command floorlist is the benchmark's floor for `vigil check --all-contexts`: a plain client-go
// program that sends, for each context named, the LISTs one `vigil check` of the seeded estate
// sends (counted on the API server): discovery, then 20 built-in kinds across namespaces or
// cluster-wide, the Secrets of the four watched namespaces and those of the ten custom-resource
// kinds discovery says are served, every LIST of every context at once; it decodes the answers,
// built-in kinds in protobuf, the others in JSON. A refusal (403) or a kind not served (404) is
// an answer, as it is to vigil; any other error fails. It parses the kubeconfig once,
// evaluates nothing and writes nothing. What it takes for 16
// contexts against what it takes for one is what reading the same objects costs on this
// machine, before anything vigil does with them.
//
//	floorlist KUBECONFIG CONTEXT... | all
package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// custom are the custom-resource kinds vigil check lists in the seeded estate.
var custom = []schema.GroupVersionResource{
	{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"},
	{Group: "argoproj.io", Version: "v1alpha1", Resource: "appprojects"},
	{Group: "autoscaling.k8s.io", Version: "v1", Resource: "verticalpodautoscalers"},
	{Group: "bitnami.com", Version: "v1alpha1", Resource: "sealedsecrets"},
	{Group: "external-secrets.io", Version: "v1", Resource: "clusterexternalsecrets"},
	{Group: "external-secrets.io", Version: "v1", Resource: "clustersecretstores"},
	{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"},
	{Group: "external-secrets.io", Version: "v1", Resource: "secretstores"},
	{Group: "networking.istio.io", Version: "v1", Resource: "destinationrules"},
	{Group: "security.istio.io", Version: "v1", Resource: "peerauthentications"},
}

// watched are the namespaces whose Secrets vigil check lists (config.DefaultNamespaces).
var watched = []string{"fintech-prod", "fintech-staging", "fintech-monitoring", "fintech-security"}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: floorlist KUBECONFIG CONTEXT... | all")
		os.Exit(2)
	}
	raw, err := clientcmd.LoadFromFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "floorlist:", err)
		os.Exit(2)
	}
	names := os.Args[2:]
	if slices.Equal(names, []string{"all"}) {
		names = nil
		for name := range raw.Contexts {
			names = append(names, name)
		}
	}
	var mu sync.Mutex
	var failed []string
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Go(func() {
			for _, err := range list(raw, name) {
				mu.Lock()
				failed = append(failed, name+": "+err.Error())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, f := range failed {
		fmt.Fprintln(os.Stderr, "floorlist:", f)
	}
	if len(failed) > 0 {
		os.Exit(1)
	}
}

// list sends context name's LISTs, all at once, and returns their errors.
func list(raw *clientcmdapi.Config, name string) []error {
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, name, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return []error{err}
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return []error{err}
	}
	pb := *cfg
	pb.ContentType = "application/vnd.kubernetes.protobuf"
	pb.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(&pb)
	if err != nil {
		return []error{err}
	}
	_, served, err := cs.Discovery().ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return []error{err}
	}
	ctx, o := context.Background(), metav1.ListOptions{Limit: 500}
	calls := []func() error{
		func() error { _, err := cs.CoreV1().ConfigMaps("").List(ctx, o); return err },
		func() error { _, err := cs.CoreV1().Namespaces().List(ctx, o); return err },
		func() error { _, err := cs.CoreV1().Nodes().List(ctx, o); return err },
		func() error { _, err := cs.CoreV1().Pods("").List(ctx, o); return err },
		func() error { _, err := cs.CoreV1().ServiceAccounts("").List(ctx, o); return err },
		func() error { _, err := cs.CoreV1().Services("").List(ctx, o); return err },
		func() error { _, err := cs.AppsV1().DaemonSets("").List(ctx, o); return err },
		func() error { _, err := cs.AppsV1().Deployments("").List(ctx, o); return err },
		func() error { _, err := cs.AppsV1().StatefulSets("").List(ctx, o); return err },
		func() error { _, err := cs.AutoscalingV2().HorizontalPodAutoscalers("").List(ctx, o); return err },
		func() error { _, err := cs.BatchV1().CronJobs("").List(ctx, o); return err },
		func() error { _, err := cs.BatchV1().Jobs("").List(ctx, o); return err },
		func() error { _, err := cs.NetworkingV1().Ingresses("").List(ctx, o); return err },
		func() error { _, err := cs.NetworkingV1().NetworkPolicies("").List(ctx, o); return err },
		func() error { _, err := cs.PolicyV1().PodDisruptionBudgets("").List(ctx, o); return err },
		func() error { _, err := cs.RbacV1().ClusterRoleBindings().List(ctx, o); return err },
		func() error { _, err := cs.RbacV1().ClusterRoles().List(ctx, o); return err },
		func() error { _, err := cs.RbacV1().RoleBindings("").List(ctx, o); return err },
		func() error { _, err := cs.RbacV1().Roles("").List(ctx, o); return err },
		func() error { _, err := cs.StorageV1().StorageClasses().List(ctx, o); return err },
	}
	for _, ns := range watched {
		calls = append(calls, func() error { _, err := cs.CoreV1().Secrets(ns).List(ctx, o); return err })
	}
	for _, r := range custom {
		if isServed(served, r) {
			calls = append(calls, func() error { _, err := dyn.Resource(r).List(ctx, o); return err })
		}
	}
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Go(func() { errs[i] = call() })
	}
	wg.Wait()
	return slices.DeleteFunc(errs, func(err error) bool {
		return err == nil || apierrors.IsForbidden(err) || apierrors.IsNotFound(err)
	})
}

// isServed says whether discovery lists r.
func isServed(served []*metav1.APIResourceList, r schema.GroupVersionResource) bool {
	for _, l := range served {
		if l.GroupVersion != r.GroupVersion().String() {
			continue
		}
		for _, res := range l.APIResources {
			if res.Name == r.Resource {
				return true
			}
		}
	}
	return false
}
