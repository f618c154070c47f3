package clustertest_test

// These tests prove the local control plane itself: that it is a real Kubernetes that the rest
// of vigil's integration tests may trust. They run against bin/localcluster with the seeded
// fintech estate in two clusters.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/polymorphichelpers"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

var lc *clustertest.Cluster

func TestMain(m *testing.M) {
	clustertest.Main(m, clustertest.Options{Clusters: 2, Seed: true}, &lc)
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func int32p(v int32) *int32 { return &v }

// deployment is a small simulated Deployment; annotations land on the pod template.
func deployment(name string, replicas int32, image string, annotations map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: int32p(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  name,
					Image: image,
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU:    resource.MustParse("100m"),
						corev1.ResourceMemory: resource.MustParse("128Mi"),
					}},
				}}},
			},
		},
	}
}

func waitObserved(t *testing.T, cs kubernetes.Interface, ns, name string) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	err := clustertest.Eventually(60*time.Second, 200*time.Millisecond, func() (bool, error) {
		var err error
		d, err = cs.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return d.Status.ObservedGeneration >= d.Generation && d.Annotations["deployment.kubernetes.io/revision"] != "", nil
	})
	if err != nil {
		t.Fatalf("deployment %s/%s not observed by the deployment controller: %v", ns, name, err)
	}
	return d
}

func setImage(t *testing.T, cs kubernetes.Interface, ns, name, image string) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":%q,"image":%q}]}}}}`, name, image)
	if _, err := cs.AppsV1().Deployments(ns).Patch(context.Background(), name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("set image %s: %v", image, err)
	}
	waitObserved(t, cs, ns, name)
}

func TestSeededPaymentServiceHasRolloutHistory(t *testing.T) {
	cs := lc.Client(t, "local-1")
	d := waitObserved(t, cs, "fintech-prod", "payment-service")
	rev, _ := strconv.Atoi(d.Annotations["deployment.kubernetes.io/revision"])
	if rev < 3 {
		t.Fatalf("payment-service is at revision %d; the seed must give it at least 3", rev)
	}
	rss, err := cs.AppsV1().ReplicaSets("fintech-prod").List(ctxT(t, 10*time.Second), metav1.ListOptions{LabelSelector: "app=payment-service"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rss.Items) < 3 {
		t.Fatalf("payment-service has %d ReplicaSets, want >= 3 (one per revision)", len(rss.Items))
	}
}

// TestRollbackWithKubectl rolls a Deployment to revision 3, then undoes it with kubectl's own
// rollback code: the result must be revision 4 carrying revision 2's pod template.
func TestRollbackWithKubectl(t *testing.T) {
	cs := lc.Client(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	const name = "payment-service"
	if _, err := cs.AppsV1().Deployments(ns).Create(ctxT(t, 10*time.Second), deployment(name, 2, "registry.fintech.internal/payment-service:v1", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitObserved(t, cs, ns, name)
	setImage(t, cs, ns, name, "registry.fintech.internal/payment-service:v2")
	setImage(t, cs, ns, name, "registry.fintech.internal/payment-service:v3")
	d := waitObserved(t, cs, ns, name)
	if got := d.Annotations["deployment.kubernetes.io/revision"]; got != "3" {
		t.Fatalf("after two image changes revision = %s, want 3", got)
	}

	rb, err := polymorphichelpers.RollbackerFor(schema.GroupKind{Group: "apps", Kind: "Deployment"}, cs)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := rb.Rollback(d, nil, 0, cmdutil.DryRunNone)
	if err != nil {
		t.Fatalf("kubectl rollback: %v", err)
	}
	t.Logf("kubectl rollback said: %s", msg)
	err = clustertest.Eventually(60*time.Second, 200*time.Millisecond, func() (bool, error) {
		d = waitObserved(t, cs, ns, name)
		return d.Annotations["deployment.kubernetes.io/revision"] == "4", nil
	})
	if err != nil {
		t.Fatalf("revision after rollback = %s, want 4", d.Annotations["deployment.kubernetes.io/revision"])
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "registry.fintech.internal/payment-service:v2" {
		t.Fatalf("after rollback the template image is %s, want revision 2's :v2", img)
	}
}

// TestCrashLoopRestartsRise checks the simulator's CrashLoopBackOff: the restart count rises.
func TestCrashLoopRestartsRise(t *testing.T) {
	cs := lc.Client(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	d := deployment("crasher", 1, "registry.fintech.internal/crasher:v1", map[string]string{"sim.vigil.dev/crashloop": "true"})
	if _, err := cs.AppsV1().Deployments(ns).Create(ctxT(t, 10*time.Second), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	restarts := func() (int32, string, error) {
		pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=crasher"})
		if err != nil || len(pods.Items) == 0 || len(pods.Items[0].Status.ContainerStatuses) == 0 {
			return 0, "", err
		}
		st := pods.Items[0].Status.ContainerStatuses[0]
		reason := ""
		if st.State.Waiting != nil {
			reason = st.State.Waiting.Reason
		}
		return st.RestartCount, reason, nil
	}
	var first int32
	err := clustertest.Eventually(60*time.Second, 250*time.Millisecond, func() (bool, error) {
		n, reason, err := restarts()
		first = n
		return reason == "CrashLoopBackOff" && n >= 1, err
	})
	if err != nil {
		t.Fatalf("no CrashLoopBackOff with a restart: %v", err)
	}
	err = clustertest.Eventually(90*time.Second, 500*time.Millisecond, func() (bool, error) {
		n, _, rerr := restarts()
		return n > first, rerr
	})
	if err != nil {
		t.Fatalf("restart count stayed at %d: %v", first, err)
	}
}

// TestHPAScalesOnSimulatedUsage raises the simulated CPU of a Deployment's pods above the HPA's
// target; the real HPA controller must scale it up from metrics.k8s.io.
func TestHPAScalesOnSimulatedUsage(t *testing.T) {
	cs := lc.Client(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	d := deployment("api-gateway", 2, "registry.fintech.internal/api-gateway:v1", map[string]string{"sim.vigil.dev/cpu": "30m"})
	if _, err := cs.AppsV1().Deployments(ns).Create(ctxT(t, 10*time.Second), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "api-gateway"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "api-gateway"},
			MinReplicas:    int32p(2),
			MaxReplicas:    6,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: int32p(50)},
				},
			}},
		},
	}
	if _, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctxT(t, 10*time.Second), hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// At 30% of the request the HPA must settle at its minimum and report a current utilisation.
	err := clustertest.Eventually(90*time.Second, time.Second, func() (bool, error) {
		h, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(context.Background(), "api-gateway", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return len(h.Status.CurrentMetrics) > 0, fmt.Errorf("HPA has no current metrics yet: %+v", h.Status.Conditions)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Load rises: every live pod now uses 150% of its request.
	pods, err := cs.CoreV1().Pods(ns).List(ctxT(t, 10*time.Second), metav1.ListOptions{LabelSelector: "app=api-gateway"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		patch := `{"metadata":{"annotations":{"sim.vigil.dev/cpu":"150m"}}}`
		if _, err = cs.CoreV1().Pods(ns).Patch(context.Background(), p.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	err = clustertest.Eventually(150*time.Second, time.Second, func() (bool, error) {
		h, getErr := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(context.Background(), "api-gateway", metav1.GetOptions{})
		if getErr != nil {
			return false, getErr
		}
		return h.Status.DesiredReplicas > 2, fmt.Errorf("desired %d, current metrics %s", h.Status.DesiredReplicas, jsonOf(h.Status.CurrentMetrics))
	})
	if err != nil {
		t.Fatalf("HPA did not scale up on raised usage: %v", err)
	}
	err = clustertest.Eventually(60*time.Second, time.Second, func() (bool, error) {
		d, getErr := cs.AppsV1().Deployments(ns).Get(context.Background(), "api-gateway", metav1.GetOptions{})
		return getErr == nil && *d.Spec.Replicas > 2, getErr
	})
	if err != nil {
		t.Fatalf("the Deployment's replicas did not follow the HPA: %v", err)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestMetricsAPIAnswers reads pod and node usage through the aggregated metrics.k8s.io API.
func TestMetricsAPIAnswers(t *testing.T) {
	cfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	mc := metricsclient.NewForConfigOrDie(cfg)
	err = clustertest.Eventually(60*time.Second, time.Second, func() (bool, error) {
		pm, listErr := mc.MetricsV1beta1().PodMetricses("fintech-prod").List(context.Background(), metav1.ListOptions{})
		if listErr != nil {
			return false, listErr
		}
		for _, p := range pm.Items {
			for _, c := range p.Containers {
				if c.Usage.Cpu().MilliValue() > 0 && c.Usage.Memory().Value() > 0 {
					return true, nil
				}
			}
		}
		return false, fmt.Errorf("%d pod metrics, none with CPU and memory usage", len(pm.Items))
	})
	if err != nil {
		t.Fatalf("metrics.k8s.io pods: %v", err)
	}
	nm, err := mc.MetricsV1beta1().NodeMetricses().List(ctxT(t, 10*time.Second), metav1.ListOptions{})
	if err != nil || len(nm.Items) == 0 {
		t.Fatalf("metrics.k8s.io nodes: %d items, %v", len(nm.Items), err)
	}
}

// TestContextsHaveDifferentEstates: both contexts answer, with different estates.
func TestContextsHaveDifferentEstates(t *testing.T) {
	one, two := lc.Client(t, "local-1"), lc.Client(t, "local-2")
	for name, cs := range map[string]kubernetes.Interface{"local-1": one, "local-2": two} {
		if _, err := cs.AppsV1().Deployments("fintech-prod").Get(ctxT(t, 10*time.Second), "payment-service", metav1.GetOptions{}); err != nil {
			t.Errorf("%s: payment-service: %v", name, err)
		}
	}
	if _, err := one.Discovery().ServerResourcesForGroupVersion("argoproj.io/v1alpha1"); err != nil {
		t.Errorf("local-1 must serve Argo CD's API: %v", err)
	}
	if _, err := two.Discovery().ServerResourcesForGroupVersion("argoproj.io/v1alpha1"); !apierrors.IsNotFound(err) {
		t.Errorf("local-2 must not have Argo CD installed; discovery said %v", err)
	}
	v1, err1 := one.Discovery().ServerVersion()
	v2, err2 := two.Discovery().ServerVersion()
	if err1 != nil || err2 != nil || v1.GitVersion != "v1.37.2" || v2.GitVersion != "v1.37.2" {
		t.Errorf("server versions: %v %v %v %v", v1, err1, v2, err2)
	}
}

// TestReviewerIsReadOnly: the reviewer context may read but gets 403 on a patch.
func TestReviewerIsReadOnly(t *testing.T) {
	cs := lc.Client(t, "local-1-reviewer")
	if _, err := cs.CoreV1().Pods("fintech-prod").List(ctxT(t, 10*time.Second), metav1.ListOptions{}); err != nil {
		t.Fatalf("reviewer cannot list pods: %v", err)
	}
	_, err := cs.AppsV1().Deployments("fintech-prod").Patch(ctxT(t, 10*time.Second), "payment-service", types.MergePatchType,
		[]byte(`{"spec":{"replicas":5}}`), metav1.PatchOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("reviewer patch: got %v, want 403 Forbidden", err)
	}
	if _, err := cs.CoreV1().Secrets("fintech-prod").List(ctxT(t, 10*time.Second), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the view role must not read Secrets; got %v", err)
	}
}

// TestAuditLogCountsRequests: the apiserver audit log records every request with its user
// agent, which later tests use to prove vigil sent no write.
func TestAuditLogCountsRequests(t *testing.T) {
	cfg, err := lc.RESTConfig("local-2")
	if err != nil {
		t.Fatal(err)
	}
	cfg.UserAgent = "audit-probe/" + strconv.FormatInt(time.Now().UnixNano(), 36)
	cs := kubernetes.NewForConfigOrDie(cfg)
	for i := 0; i < 3; i++ {
		if _, err = cs.CoreV1().Namespaces().Get(ctxT(t, 10*time.Second), "fintech-prod", metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	err = clustertest.Eventually(10*time.Second, 100*time.Millisecond, func() (bool, error) {
		n, countErr := lc.CountAuditRequests(2, cfg.UserAgent, "get")
		return n == 3, fmt.Errorf("counted %d gets, want 3 (err %v)", n, countErr)
	})
	if err != nil {
		t.Fatal(err)
	}
}
