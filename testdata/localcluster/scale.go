package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
)

// bulkPerDeployment is the replica count of each bulk-NNN Deployment.
const bulkPerDeployment = 50

// bulkLabel marks everything --scale-pods creates.
const bulkLabel = "vigil.dev/bulk"

// fintechNamespaces receive the bulk Deployments round-robin.
var fintechNamespaces = []string{"fintech-prod", "fintech-staging", "fintech-monitoring", "fintech-security"}

// podsPerNodeFor returns the pods capacity a node needs so that n bulk pods
// fit next to the seed on the two untainted nodes.
func podsPerNodeFor(n int) int {
	if n <= 0 {
		return 500
	}
	return 500 + (n/2+99)/100*100
}

// scalePods server-side applies Deployments bulk-001… with 50 replicas each
// (the last one takes the remainder) holding n pods in total, then waits
// until they are all ready.
func scalePods(ctx context.Context, c *cluster, n int) error {
	start := time.Now()
	for _, ns := range fintechNamespaces {
		_, err := c.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("%s: namespace %s: %w", c.spec.name, ns, err)
		}
	}
	count := (n + bulkPerDeployment - 1) / bulkPerDeployment
	for i := range count {
		replicas := int32(min(bulkPerDeployment, n-i*bulkPerDeployment))
		name := fmt.Sprintf("bulk-%03d", i+1)
		ns := fintechNamespaces[i%len(fintechNamespaces)]
		if _, err := c.client.AppsV1().Deployments(ns).Apply(ctx, bulkDeployment(ns, name, replicas),
			metav1.ApplyOptions{FieldManager: seedManager, Force: true}); err != nil {
			return fmt.Errorf("%s: apply %s/%s: %w", c.spec.name, ns, name, err)
		}
	}
	logf("%s: %d bulk Deployments applied, waiting for %d pods", c.spec.name, count, n)
	dl := c.informers.Apps().V1().Deployments().Lister()
	sel := labels.SelectorFromSet(labels.Set{bulkLabel: "true"})
	lastLog := time.Now()
	err := wait.PollUntilContextTimeout(ctx, time.Second, 30*time.Minute, true, func(context.Context) (bool, error) {
		ds, err := dl.List(sel)
		if err != nil {
			return false, err
		}
		ready := 0
		for _, d := range ds {
			ready += int(min(d.Status.ReadyReplicas, *d.Spec.Replicas))
		}
		if time.Since(lastLog) > 10*time.Second {
			logf("%s: bulk pods ready %d/%d after %.0fs", c.spec.name, ready, n, time.Since(start).Seconds())
			lastLog = time.Now()
		}
		return ready >= n, nil
	})
	if err != nil {
		return fmt.Errorf("%s: waiting for bulk pods: %w", c.spec.name, err)
	}
	logf("%s: %d bulk pods Running and Ready in %.1fs", c.spec.name, n, time.Since(start).Seconds())
	return nil
}

// bulkDeployment is a tiny Deployment whose pods only take room.
func bulkDeployment(ns, name string, replicas int32) *appsv1ac.DeploymentApplyConfiguration {
	lbl := map[string]string{"app": name, bulkLabel: "true"}
	return appsv1ac.Deployment(name, ns).
		WithLabels(lbl).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(replicas).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{"app": name})).
			WithTemplate(corev1ac.PodTemplateSpec().
				WithLabels(lbl).
				WithSpec(corev1ac.PodSpec().
					WithAutomountServiceAccountToken(false).
					// Compliant with the "restricted" Pod Security level that
					// some fintech namespaces enforce.
					WithSecurityContext(corev1ac.PodSecurityContext().
						WithRunAsNonRoot(true).
						WithRunAsUser(65532).
						WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))).
					WithTerminationGracePeriodSeconds(5).
					WithContainers(corev1ac.Container().
						WithName("app").
						WithImage("registry.fintech.local/bulk/pause:3.10").
						WithSecurityContext(corev1ac.SecurityContext().
							WithAllowPrivilegeEscalation(false).
							WithCapabilities(corev1ac.Capabilities().WithDrop("ALL"))).
						WithResources(corev1ac.ResourceRequirements().
							WithRequests(corev1.ResourceList{
								corev1.ResourceCPU:    resource.MustParse("1m"),
								corev1.ResourceMemory: resource.MustParse("4Mi"),
							}))))))
}
