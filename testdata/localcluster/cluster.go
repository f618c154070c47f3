package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/component-base/version"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"

	"github.com/vigil-k8s/vigil/testdata/localcluster/internal/kubelet"
	"github.com/vigil-k8s/vigil/testdata/localcluster/internal/sim"
)

// clusterSpec names one cluster and where its state lives.
type clusterSpec struct {
	name  string // local-N
	index int    // N
	dir   string // DIR/local-N
	pki   pki
	// kubeletAddr is where the simulated nodes' kubelet port really
	// listens (see kubeletDialer).
	kubeletAddr string
}

// cluster is one running control plane: etcd, apiserver, controller manager,
// simulator and metrics API, each stopped in reverse order by stop.
type cluster struct {
	spec      *clusterSpec
	ports     ports
	etcd      *embed.Etcd
	gate      *etcdGate // nil without --etcd-gate
	api       *apiServer
	harness   *rest.Config // user "localcluster", for the harness itself
	client    kubernetes.Interface
	informers informers.SharedInformerFactory
	sim       *sim.Simulator
	kubeletLn net.Listener

	cancelAPI      context.CancelFunc
	controlsCtx    context.Context
	cancelControls context.CancelFunc
	controls       sync.WaitGroup
}

// startCluster brings up cluster n under dir and returns once its apiserver
// answers /readyz and its controllers run. podsPerNode sizes the nodes.
func startCluster(ctx context.Context, dir string, n, podsPerNode int) (*cluster, error) {
	spec := &clusterSpec{name: "local-" + strconv.Itoa(n), index: n, dir: filepath.Join(dir, "local-"+strconv.Itoa(n))}
	var err error
	nodeIPs := make([]net.IP, 0, sim.NodeCount)
	for i := 1; i <= sim.NodeCount; i++ {
		nodeIPs = append(nodeIPs, net.ParseIP(sim.NodeIP(n, i)))
	}
	if spec.pki, err = ensurePKI(filepath.Join(spec.dir, "pki"), nodeIPs); err != nil {
		return nil, fmt.Errorf("%s certificates: %w", spec.name, err)
	}
	c := &cluster{spec: spec}
	portsFile := filepath.Join(spec.dir, "ports.json")
	saved, err := loadPorts(portsFile)
	if err != nil {
		return nil, err
	}
	apiLn, apiPort, err := listenLoopback(saved.APIServer)
	if err != nil {
		return nil, err
	}
	metricsLn, metricsPort, err := listenLoopback(saved.MetricsAPI)
	if err != nil {
		return nil, err
	}
	etcdClient, err := freePort(saved.EtcdClient)
	if err != nil {
		return nil, err
	}
	etcdPeer, err := freePort(saved.EtcdPeer)
	if err != nil {
		return nil, err
	}
	// The kubelets' port moves on every start: only the apiserver's dialer
	// needs to know it.
	if c.kubeletLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("%s: kubelet listener: %w", spec.name, err)
	}
	spec.kubeletAddr = c.kubeletLn.Addr().String()
	c.ports = ports{APIServer: apiPort, EtcdClient: etcdClient, EtcdPeer: etcdPeer, MetricsAPI: metricsPort}
	if c.ports != saved {
		if err = c.ports.save(portsFile); err != nil {
			return nil, err
		}
	}

	t0 := time.Now()
	if c.etcd, err = startEtcd(spec.name, spec.dir, etcdClient, etcdPeer); err != nil {
		return nil, err
	}
	logf("%s: etcd up on 127.0.0.1:%d in %.1fs", spec.name, etcdClient, time.Since(t0).Seconds())

	t0 = time.Now()
	apiCtx, cancelAPI := context.WithCancel(context.WithoutCancel(ctx))
	c.cancelAPI = cancelAPI
	etcdForAPI := etcdClient
	if useEtcdGate {
		if c.gate, etcdForAPI, err = startEtcdGate(spec.dir, etcdClient); err != nil {
			c.stop()
			return nil, err
		}
	}
	if c.api, err = startAPIServer(apiCtx, spec, apiLn, etcdForAPI); err != nil {
		c.stop()
		return nil, err
	}
	if _, err = componentConfig(filepath.Join(spec.dir, "controller-manager.kubeconfig"), spec, apiPort, "controller-manager"); err != nil {
		c.stop()
		return nil, err
	}
	if c.harness, err = componentConfig(filepath.Join(spec.dir, "localcluster.kubeconfig"), spec, apiPort, "localcluster"); err != nil {
		c.stop()
		return nil, err
	}
	c.harness.QPS, c.harness.Burst = 2000, 4000
	c.harness.UserAgent = "localcluster"
	// Protobuf halves the cost of watching and writing 10,000 pods.
	c.harness.ContentType = "application/vnd.kubernetes.protobuf"
	c.harness.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	if c.client, err = kubernetes.NewForConfig(c.harness); err != nil {
		c.stop()
		return nil, err
	}
	if err := c.waitReady(ctx); err != nil {
		c.stop()
		return nil, err
	}
	logf("%s: apiserver ready on https://127.0.0.1:%d in %.1fs", spec.name, apiPort, time.Since(t0).Seconds())

	if err := c.bootstrap(ctx, metricsPort); err != nil {
		c.stop()
		return nil, err
	}
	if err := c.startControls(ctx, podsPerNode, metricsLn); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// waitReady polls /readyz until it answers ok.
func (c *cluster) waitReady(ctx context.Context) error {
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		select {
		case <-c.api.done:
			return false, fmt.Errorf("%s: apiserver exited: %w", c.spec.name, c.api.err)
		default:
		}
		status := 0
		c.client.CoreV1().RESTClient().Get().AbsPath("/readyz").Do(ctx).StatusCode(&status)
		return status == 200, nil
	})
}

// bootstrap creates what every cluster has before any workload: the
// reviewer's binding and the metrics API registration.
func (c *cluster) bootstrap(ctx context.Context, metricsPort int) error {
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "vigil-reviewer-view"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
		Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "reviewer"}},
	}
	_, err := c.client.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("%s: reviewer binding: %w", c.spec.name, err)
	}
	agg, err := aggregator.NewForConfig(c.harness)
	if err != nil {
		return err
	}
	return registerMetricsAPI(ctx, c.client, agg, metricsPort)
}

// startControls starts the controller manager, the simulator and the metrics
// API; they stop when stop cancels them.
func (c *cluster) startControls(ctx context.Context, podsPerNode int, metricsLn net.Listener) error {
	ctrlCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.controlsCtx, c.cancelControls = ctrlCtx, cancel
	trim := func(obj any) (any, error) {
		if a, err := meta.Accessor(obj); err == nil {
			a.SetManagedFields(nil)
		}
		return obj, nil
	}
	c.informers = informers.NewSharedInformerFactoryWithOptions(c.client, 0, informers.WithTransform(trim))
	simCfg := rest.CopyConfig(c.harness)
	simCfg.UserAgent = "localcluster-simulator"
	simClient, err := kubernetes.NewForConfig(simCfg)
	if err != nil {
		return err
	}
	c.sim, err = sim.New(sim.Config{
		Cluster: c.spec.name, Index: c.spec.index, Client: simClient, Informers: c.informers,
		PodsPerNode: podsPerNode, KubeletVersion: version.Get().GitVersion, Workers: 16, Logf: logf,
	})
	if err != nil {
		return err
	}
	if err := c.sim.EnsureNodes(ctx); err != nil {
		return fmt.Errorf("%s: nodes: %w", c.spec.name, err)
	}
	// Register every informer the metrics servers use before starting.
	c.informers.Apps().V1().Deployments().Informer()
	c.informers.Apps().V1().StatefulSets().Informer()
	c.informers.Apps().V1().ReplicaSets().Informer()
	m := &metricsAPI{pods: c.informers.Core().V1().Pods().Lister(), nodes: c.informers.Core().V1().Nodes().Lister()}
	if err := serveMetricsAPI(ctrlCtx, metricsLn, c.spec, m); err != nil {
		return err
	}
	kubeletTLS, tlsErr := c.spec.kubeletTLS()
	if tlsErr != nil {
		return tlsErr
	}
	kubelet.Serve(ctrlCtx, c.kubeletLn, kubeletTLS, c.informers.Core().V1().Pods().Lister(), logf)

	c.controls.Add(2)
	go func() {
		defer c.controls.Done()
		if err := runControllerManager(ctrlCtx, c.spec, filepath.Join(c.spec.dir, "controller-manager.kubeconfig")); err != nil && ctrlCtx.Err() == nil {
			logf("%s: controller manager stopped: %v", c.spec.name, err)
		}
	}()
	go func() {
		defer c.controls.Done()
		c.sim.Run(ctrlCtx)
	}()
	return nil
}

// startInformers starts the shared informers, which live as long as the
// controls, and waits for their caches (or for ctx).
func (c *cluster) startInformers(ctx context.Context) {
	c.informers.Start(c.controlsCtx.Done())
	c.informers.WaitForCacheSync(ctx.Done())
}

// stop shuts the cluster down: controls, then apiserver, then etcd.
func (c *cluster) stop() {
	if c.cancelControls != nil {
		c.cancelControls()
		done := make(chan struct{})
		go func() { c.controls.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			logf("%s: controllers still stopping after 15s", c.spec.name)
		}
		if c.informers != nil {
			c.informers.Shutdown()
		}
	}
	if c.cancelAPI != nil {
		c.cancelAPI()
		if c.api != nil {
			select {
			case <-c.api.done:
				if c.api.err != nil && !errors.Is(c.api.err, context.Canceled) {
					logf("%s: apiserver: %v", c.spec.name, c.api.err)
				}
			case <-time.After(30 * time.Second):
				logf("%s: apiserver still stopping after 30s", c.spec.name)
			}
		}
	}
	if c.gate != nil {
		c.gate.close()
	}
	if c.etcd != nil {
		c.etcd.Close()
	}
	if c.kubeletLn != nil {
		_ = c.kubeletLn.Close()
	}
}

// waitMetricsAPI waits (up to 30 s) until the aggregator reports the
// metrics APIService Available, so tests can query metrics right away.
func (c *cluster) waitMetricsAPI(ctx context.Context) error {
	agg, err := aggregator.NewForConfig(c.harness)
	if err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		as, err := agg.ApiregistrationV1().APIServices().Get(ctx, "v1beta1.metrics.k8s.io", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, cond := range as.Status.Conditions {
			if cond.Type == "Available" {
				return cond.Status == "True", nil
			}
		}
		return false, nil
	})
}
