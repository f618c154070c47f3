// Package integration runs vigil's guarded actions against the project's real local control
// plane (bin/localcluster via internal/clustertest): contexts local-1 (admin, Argo CD CRDs and
// the seeded fintech-app), local-2 and the view-only local-N-reviewer.
package integration

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/audit"
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

// env is an actions.Env for a kubeconfig context of the local cluster.
func env(t *testing.T, contextName string) *actions.Env {
	t.Helper()
	cfg, err := lc.RESTConfig(contextName)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &actions.Env{Context: contextName, Server: cfg.Host, Kube: kube, Dynamic: dyn}
}

// pipeline returns a pipeline over e with a private audit log, answering answer.
func pipeline(t *testing.T, e *actions.Env, answer string) (*actions.Pipeline, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	// No Argo CD controller runs here: an Argo CD operation requested gets no result, and
	// after this wait its outcome record says unknown (TestArgoSyncRecordsTheOperationResult
	// plays the controller and waits longer).
	return &actions.Pipeline{Env: e, Audit: l, Confirmer: actions.PresetConfirmer{Answer: answer}, OperationWait: 2 * time.Second}, path
}

func deployment(name string, replicas int32, image string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image,
					Env: []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}}}}},
			},
		},
	}
}

// rolledOut creates a Deployment and moves it through images (one revision each).
func rolledOut(t *testing.T, cs kubernetes.Interface, ns, name string, images ...string) *appsv1.Deployment {
	t.Helper()
	if _, err := cs.AppsV1().Deployments(ns).Create(ctxT(t, 10*time.Second), deployment(name, 2, images[0]), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	d := waitRevision(t, cs, ns, name, "1")
	for i, img := range images[1:] {
		patch := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"` + img + `"}]}}}}`)
		if _, err := cs.AppsV1().Deployments(ns).Patch(ctxT(t, 10*time.Second), name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		d = waitRevision(t, cs, ns, name, itoa(i+2))
	}
	return d
}

// waitRevision waits until the deployment controller has observed the Deployment and it
// carries revision rev.
func waitRevision(t *testing.T, cs kubernetes.Interface, ns, name, rev string) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	err := clustertest.Eventually(60*time.Second, 100*time.Millisecond, func() (bool, error) {
		var err error
		d, err = cs.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return d.Status.ObservedGeneration >= d.Generation && d.Annotations["deployment.kubernetes.io/revision"] == rev, nil
	})
	if err != nil {
		got := ""
		if d != nil {
			got = d.Annotations["deployment.kubernetes.io/revision"]
		}
		t.Fatalf("%s/%s: revision %s never observed (have %q): %v", ns, name, rev, got, err)
	}
	return d
}

func itoa(i int) string { return string(rune('0' + i)) }

func records(t *testing.T, path string) []audit.Record {
	t.Helper()
	recs, err := audit.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyFile(path)
	if err != nil || !rep.OK() {
		t.Fatalf("audit log does not verify: %+v %v", rep, err)
	}
	return recs
}
