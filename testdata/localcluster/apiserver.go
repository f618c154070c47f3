package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/pflag"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/tools/cache"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
)

// auditPolicy records every request at Metadata level, so tests can count
// exactly which calls vigil made.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
`

// apiServer is a running kube-apiserver; done is closed when it has stopped.
type apiServer struct {
	done <-chan struct{}
	err  error
}

// startAPIServer builds a kube-apiserver from its options, the way
// cmd/kube-apiserver/app/testing does, and runs it until ctx ends. It does
// not wait for readiness. NewAPIServerCommand is avoided because it installs
// the process signal handler, which may only happen once per process.
func startAPIServer(ctx context.Context, c *clusterSpec, ln net.Listener, etcdPort int) (*apiServer, error) {
	policy := filepath.Join(c.dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return nil, fmt.Errorf("write audit policy: %w", err)
	}
	p := c.pki
	flags := []string{
		"--etcd-servers=http://127.0.0.1:" + strconv.Itoa(etcdPort),
		"--etcd-prefix=/registry",
		"--authorization-mode=Node,RBAC",
		"--client-ca-file=" + p.CA(),
		"--tls-cert-file=" + p.path("serving.crt"),
		"--tls-private-key-file=" + p.path("serving.key"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.path("sa.pub"),
		"--service-account-signing-key-file=" + p.path("sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--requestheader-client-ca-file=" + p.FrontProxyCA(),
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + p.path("front-proxy-client.crt"),
		"--proxy-client-key-file=" + p.path("front-proxy-client.key"),
		"--audit-log-path=" + filepath.Join(c.dir, "audit.log"),
		"--audit-policy-file=" + policy,
		"--audit-log-format=json",
		"--audit-log-mode=blocking",
		"--audit-log-maxsize=0",
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
		"--max-requests-inflight=2000",
		"--max-mutating-requests-inflight=1000",
		"--profiling=false",
		"--event-ttl=1h",
		"--allow-privileged=true",
	}
	flags = append(flags, c.kubeletFlags()...)

	featureGate := utilfeature.DefaultMutableFeatureGate.DeepCopy()
	effectiveVersion := compatibility.DefaultBuildEffectiveVersion()
	effectiveVersion.SetEmulationVersion(featureGate.EmulationVersion())
	effectiveVersion.SetMinCompatibilityVersion(featureGate.MinCompatibilityVersion())
	registry := basecompatibility.NewComponentGlobalsRegistry()
	if err := registry.Register(basecompatibility.DefaultKubeComponent, effectiveVersion, featureGate); err != nil {
		return nil, fmt.Errorf("register component globals: %w", err)
	}

	s := options.NewServerRunOptions()
	s.GenericServerRunOptions.ComponentGlobalsRegistry = registry
	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	for _, f := range s.Flags().FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(flags); err != nil {
		return nil, fmt.Errorf("apiserver flags: %w", err)
	}
	if err := registry.Set(); err != nil {
		return nil, fmt.Errorf("apply component globals: %w", err)
	}
	s.SecureServing.Listener = ln
	s.SecureServing.BindPort = ln.Addr().(*net.TCPAddr).Port
	s.SecureServing.ExternalAddress = net.ParseIP("127.0.0.1")
	informerName, err := cache.NewInformerName("kube-apiserver-" + c.name)
	if err != nil {
		return nil, err
	}
	s.InformerName = informerName

	completed, err := s.Complete(ctx)
	if err != nil {
		return nil, fmt.Errorf("complete apiserver options: %w", err)
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return nil, fmt.Errorf("validate apiserver options: %w", utilerrors.NewAggregate(errs))
	}
	config, err := app.NewConfig(completed)
	if err != nil {
		return nil, fmt.Errorf("apiserver config: %w", err)
	}
	config.KubeAPIs.Extra.KubeletClientConfig.Lookup = c.kubeletDialer()
	cc, err := config.Complete()
	if err != nil {
		return nil, fmt.Errorf("complete apiserver config: %w", err)
	}
	server, err := app.CreateServerChain(cc)
	if err != nil {
		return nil, fmt.Errorf("create apiserver chain: %w", err)
	}
	prepared, err := server.PrepareRun()
	if err != nil {
		return nil, fmt.Errorf("prepare apiserver: %w", err)
	}
	done := make(chan struct{})
	as := &apiServer{done: done}
	go func() {
		defer close(done)
		defer informerName.Release()
		as.err = prepared.Run(ctx)
	}()
	return as, nil
}
