// Command localcluster runs real, local Kubernetes control planes for vigil's
// integration tests and demo: per cluster an embedded etcd, a kube-apiserver,
// a kube-controller-manager, a node/pod simulator standing in for the
// scheduler and kubelets, and a metrics.k8s.io server; plus one HTTP server
// of per-workload service metrics for Prometheus. See testdata/README.md for
// the contract (flags, stdout lines, seeding, simulation annotations).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// cliOptions are the command-line flags.
type cliOptions struct {
	dir       string
	clusters  int
	seed      bool
	manifests string
	scalePods int
	etcdGate  bool
}

func parseFlags(args []string) (cliOptions, error) {
	var o cliOptions
	fs := flag.NewFlagSet("localcluster", flag.ContinueOnError)
	fs.StringVar(&o.dir, "dir", "", "state directory (required); reused on restart")
	fs.IntVar(&o.clusters, "clusters", 2, "number of clusters, named local-1 … local-N")
	fs.BoolVar(&o.seed, "seed", false, "apply the manifests of --manifests")
	fs.StringVar(&o.manifests, "manifests", "", "manifests folder (default: testdata/fintech of the repository)")
	fs.BoolVar(&o.etcdGate, "etcd-gate", false, "route each apiserver's etcd traffic through a proxy that delays it by the milliseconds in DIR/local-N/"+EtcdDelayFile+" (a slow etcd, for fault tests)")
	fs.IntVar(&o.scalePods, "scale-pods", 0, "add this many simulated pods (Deployments bulk-NNN of 50 replicas) to local-1")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.dir == "":
		return o, errors.New("--dir is required")
	case o.clusters < 1:
		return o, errors.New("--clusters must be at least 1")
	case o.scalePods < 0:
		return o, errors.New("--scale-pods must not be negative")
	}
	abs, err := filepath.Abs(o.dir)
	if err != nil {
		return o, err
	}
	o.dir = abs
	if o.seed && o.manifests == "" {
		o.manifests = defaultManifests()
	}
	return o, nil
}

// defaultManifests is <dir of binary>/../testdata/fintech, else
// ./testdata/fintech.
func defaultManifests() string {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "..", "testdata", "fintech")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return filepath.Clean(p)
		}
	}
	return filepath.Join("testdata", "fintech")
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(2)
	}
	useEtcdGate = o.etcdGate
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err = run(ctx, o)
	// A signal during start-up is a clean stop too, whatever it interrupted.
	signalled := ctx.Err() != nil
	stop()
	if err != nil && !signalled {
		os.Exit(1)
	}
}

// run starts everything, prints the contract's stdout lines once ready, and
// blocks until ctx ends.
func run(ctx context.Context, o cliOptions) (err error) {
	if err = os.MkdirAll(o.dir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "localcluster: create %s: %v\n", o.dir, err)
		return err
	}
	closeLog, err := setupLogging(o.dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		return err
	}
	defer closeLog()
	// Runs before closeLog, so the failure also lands in the log file.
	defer func() {
		if err != nil && ctx.Err() == nil {
			logf("localcluster: %v", err)
		}
	}()

	start := time.Now()
	if addr := os.Getenv("LOCALCLUSTER_PPROF"); addr != "" {
		// Diagnostics only: net/http/pprof on a loopback address.
		go func() { logf("pprof: %v", http.ListenAndServe(addr, nil)) }()
	}
	// Nodes keep room for the largest --scale-pods this DIR has seen, so a
	// restart without the flag does not leave the nodes over-full.
	scaleFile := filepath.Join(o.dir, "scale-pods")
	biggest := o.scalePods
	if data, readErr := os.ReadFile(scaleFile); readErr == nil {
		if n, convErr := strconv.Atoi(string(data)); convErr == nil && n > biggest {
			biggest = n
		}
	}
	if err = writeFileAtomic(scaleFile, []byte(strconv.Itoa(biggest)), 0o644); err != nil {
		return err
	}
	podsPerNode := podsPerNodeFor(biggest)
	clusters, err := startClusters(ctx, o.dir, o.clusters, podsPerNode)
	defer func() { stopClusters(clusters) }()
	if err != nil {
		return err
	}

	kc := clientcmdapi.NewConfig()
	for _, c := range clusters {
		if err = addCluster(kc, c.spec, c.ports.APIServer); err != nil {
			return err
		}
	}
	kc.CurrentContext = clusters[0].spec.name
	kubeconfig := filepath.Join(o.dir, "kubeconfig")
	if err = writeKubeconfig(kubeconfig, kc); err != nil {
		return err
	}

	metricsAddr, err := startServiceMetrics(ctx, o.dir, clusters)
	if err != nil {
		return err
	}
	for _, c := range clusters {
		c.startInformers(ctx)
	}
	logf("%d cluster(s) up in %.1fs", len(clusters), time.Since(start).Seconds())

	if o.seed {
		if err := seedAll(ctx, o.manifests, clusters); err != nil {
			return err
		}
	}
	if o.scalePods > 0 {
		if err := scalePods(ctx, clusters[0], o.scalePods); err != nil {
			return err
		}
	}
	for _, c := range clusters {
		if err := c.waitMetricsAPI(ctx); err != nil {
			logf("%s: metrics API not available yet: %v", c.spec.name, err)
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	logf("ready in %.1fs", time.Since(start).Seconds())
	fmt.Printf("METRICS=http://%s\n", metricsAddr)
	fmt.Printf("PROMETHEUS_TARGETS=%s\n", filepath.Join(o.dir, "prometheus-targets.json"))
	fmt.Printf("KUBECONFIG=%s\n", kubeconfig)
	<-ctx.Done()
	logf("stopping")
	return nil
}

// startClusters starts n clusters concurrently. On error the clusters that
// did start are returned so the caller can stop them.
func startClusters(ctx context.Context, dir string, n, podsPerNode int) ([]*cluster, error) {
	out := make([]*cluster, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = startCluster(ctx, dir, i+1, podsPerNode)
		}()
	}
	wg.Wait()
	started := out[:0:0]
	for _, c := range out {
		if c != nil {
			started = append(started, c)
		}
	}
	return started, errors.Join(errs...)
}

func stopClusters(clusters []*cluster) {
	var wg sync.WaitGroup
	for _, c := range clusters {
		wg.Add(1)
		go func() { defer wg.Done(); c.stop() }()
	}
	wg.Wait()
}

// startServiceMetrics starts the Prometheus-facing server on the port saved
// in DIR/metrics.port (or a fresh one) and returns its host:port.
func startServiceMetrics(ctx context.Context, dir string, clusters []*cluster) (string, error) {
	portFile := filepath.Join(dir, "metrics.port")
	want := 0
	if data, err := os.ReadFile(portFile); err == nil {
		want, _ = strconv.Atoi(string(data))
	}
	ln, port, err := listenLoopback(want)
	if err != nil {
		return "", err
	}
	if port != want {
		if err := writeFileAtomic(portFile, []byte(strconv.Itoa(port)), 0o644); err != nil {
			return "", err
		}
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	sm := newServiceMetrics(addr, filepath.Join(dir, "prometheus-targets.json"))
	for _, c := range clusters {
		f := c.informers
		sm.add(&workloadSource{
			name:         c.spec.name,
			pods:         f.Core().V1().Pods().Lister(),
			replicaSets:  f.Apps().V1().ReplicaSets().Lister(),
			deployments:  f.Apps().V1().Deployments().Lister(),
			statefulSets: f.Apps().V1().StatefulSets().Lister(),
		}, f.Apps().V1().Deployments().Informer(), f.Apps().V1().StatefulSets().Informer())
	}
	return addr, sm.serve(ctx, ln)
}
