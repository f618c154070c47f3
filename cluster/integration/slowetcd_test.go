package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// etcdDelay is how much the slow etcd holds each chunk the apiserver sends it.
const etcdDelay = 800 * time.Millisecond

// TestSlowEtcd (issue 14): a cluster of its own whose apiserver reaches etcd through
// localcluster's delaying proxy (--etcd-gate). While etcd is slow (800 ms on everything the
// apiserver sends it: every read not served from the watch cache and every write), the test
// scales a Deployment, creates one, deletes one and writes a label with client-go; a plain GET
// is timed to show the fault is real. Once etcd is fast again the session recovers by itself
// (connected, synced, every kind as before) and its Deployments equal typed LISTs (desired,
// ready, the label, their pods' names) within 45 s; after Stop no goroutine of it remains.
func TestSlowEtcd(t *testing.T) {
	slow, err := clustertest.Start(clustertest.Options{Clusters: 1, EtcdGate: true})
	if err != nil {
		t.Fatalf("local cluster: %v", err)
	}
	t.Cleanup(slow.Stop)
	cfg, err := slow.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	kc := kubernetes.NewForConfigOrDie(cfg)
	ns := slow.Namespace(t, "local-1")
	namespaces := []string{ns}
	ctx := context.Background()
	expectedDeployments(t, kc, namespaces) // the test's own connection, before goleak's snapshot
	before := goleak.IgnoreCurrent()
	conns := &connections{}
	s, err := cluster.New(cluster.Options{RESTConfig: cfg, Context: "local-1", Namespaces: namespaces, Settings: config.Default().For("local-1"),
		MinBuildInterval: 50 * time.Millisecond, Heartbeat: time.Second, UsageInterval: 2 * time.Second,
		Logger: quiet(), WrapConfig: conns.wrapConfig, WrapClient: conns.wrapClient})
	if err != nil {
		t.Fatal(err)
	}
	if err = s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			s.Stop()
		}
	}()
	const scaled, doomed, born = "etcd-scaled", "etcd-doomed", "etcd-born"
	for _, name := range []string{scaled, doomed} {
		if _, err = kc.AppsV1().Deployments(ns).Create(ctx, faultDeployment(name, 1, "etcd"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	base := waitSnap(t, s, 90*time.Second, "synced with the test's Deployments ready", func(s estate.Snapshot) bool {
		d, ok := service(s, ns, doomed)
		sc, ok2 := service(s, ns, scaled)
		return s.Synced && s.Conn.Connected && ok && ok2 && d.Ready == 1 && sc.Ready == 1
	})

	if err = slow.SetEtcdDelay(1, etcdDelay); err != nil {
		t.Fatal(err)
	}
	on := time.Now()
	time.Sleep(200 * time.Millisecond) // the gate reads its file at most every 100 ms
	t0 := time.Now()
	// A quorum read goes to etcd (resourceVersion "" is never served from the watch cache).
	if _, err = kc.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := time.Since(t0); got < etcdDelay {
		t.Fatalf("a GET took %s with etcd slowed by %s: the fault is not applied", got, etcdDelay)
	}
	scale, err := kc.AppsV1().Deployments(ns).GetScale(ctx, scaled, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 3
	if _, err = kc.AppsV1().Deployments(ns).UpdateScale(ctx, scaled, scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err = kc.AppsV1().Deployments(ns).Create(ctx, faultDeployment(born, 2, "etcd"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err = kc.AppsV1().Deployments(ns).Delete(ctx, doomed, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, faultLabel, "etcd-during")
	if _, err = kc.AppsV1().Deployments(ns).Patch(ctx, scaled, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	during := watchDuring(s, 3*time.Second)
	if err = slow.SetEtcdDelay(1, 0); err != nil {
		t.Fatal(err)
	}
	cleared := time.Now()
	t.Logf("slow etcd for %s; the session said: %s", cleared.Sub(on).Round(10*time.Millisecond), during)

	took, why := awaitRecovery(t, s, kc, base, namespaces, cleared)
	if why != "" {
		t.Fatalf("slow etcd: %s", why)
	}
	t.Logf("recovered %s after etcd was fast again; the Deployments agree with the API", took.Round(10*time.Millisecond))
	s.Stop()
	stopped = true
	conns.closeIdle(t)
	goleak.VerifyNone(t, before)
}
