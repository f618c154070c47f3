package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	utilcompatibility "k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	cacheddiscovery "k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/informers"
	v1core "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/keyutil"
	basecompatibility "k8s.io/component-base/compatibility"
	controllersmetrics "k8s.io/component-base/metrics/prometheus/controllers"
	"k8s.io/controller-manager/pkg/clientbuilder"
	controllerhealthz "k8s.io/controller-manager/pkg/healthz"
	"k8s.io/controller-manager/pkg/informerfactory"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app/config"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
	"k8s.io/kubernetes/cmd/kube-controller-manager/names"
	"k8s.io/kubernetes/pkg/controller/garbagecollector"
	serviceaccountcontroller "k8s.io/kubernetes/pkg/controller/serviceaccount"
	"k8s.io/kubernetes/pkg/serviceaccount"
)

// controllerNames are the kube-controller-manager loops a simulated cluster
// needs: workloads, autoscaling, garbage collection, namespaces, service
// accounts, endpoints, disruption budgets and the aggregated ClusterRoles
// (the built-in "view" role is empty without clusterrole-aggregation).
var controllerNames = []string{
	names.DeploymentController,
	names.ReplicaSetController,
	names.StatefulSetController,
	names.DaemonSetController,
	names.JobController,
	names.CronJobController,
	names.TTLAfterFinishedController,
	names.HorizontalPodAutoscalerController,
	names.GarbageCollectorController,
	names.NamespaceController,
	names.ServiceAccountController,
	names.EndpointsController,
	names.EndpointSliceController,
	names.DisruptionController,
	names.ResourceQuotaController,
	names.ReplicationControllerController,
	names.ClusterRoleAggregationController,
	names.RootCACertificatePublisherController,
	names.PodGarbageCollectorController,
	names.PersistentVolumeBinderController,
	names.PersistentVolumeClaimProtectionController,
	names.PersistentVolumeProtectionController,
}

// runControllerManager runs the kube-controller-manager of one cluster until
// ctx ends. It reproduces app.Run without the parts that are process-global
// (configz, the hard-coded informer name, the secure port, leader election),
// so that several controller managers can share one process.
func runControllerManager(ctx context.Context, c *clusterSpec, kubeconfigPath string) error {
	s, err := options.NewKubeControllerManagerOptions()
	if err != nil {
		return fmt.Errorf("controller-manager options: %w", err)
	}
	featureGate := utilfeature.DefaultMutableFeatureGate.DeepCopy()
	effectiveVersion := utilcompatibility.DefaultBuildEffectiveVersion()
	effectiveVersion.SetEmulationVersion(featureGate.EmulationVersion())
	effectiveVersion.SetMinCompatibilityVersion(featureGate.MinCompatibilityVersion())
	registry := basecompatibility.NewComponentGlobalsRegistry()
	if err = registry.Register(basecompatibility.DefaultKubeComponent, effectiveVersion, featureGate); err != nil {
		return err
	}
	s.ComponentGlobalsRegistry = registry

	all, disabled, aliases := app.KnownControllers(), app.ControllersDisabledByDefault(), app.ControllerAliases()
	fs := pflag.NewFlagSet("kube-controller-manager", pflag.ContinueOnError)
	for _, f := range s.Flags(all, disabled, aliases).FlagSets {
		fs.AddFlagSet(f)
	}
	flags := []string{
		"--kubeconfig=" + kubeconfigPath,
		"--secure-port=0",
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		"--controllers=" + strings.Join(controllerNames, ","),
		"--service-account-private-key-file=" + c.pki.path("sa.key"),
		"--root-ca-file=" + c.pki.CA(),
		"--kube-api-qps=500",
		"--kube-api-burst=1000",
		"--concurrent-deployment-syncs=25",
		"--concurrent-replicaset-syncs=25",
		"--concurrent-statefulset-syncs=10",
		"--concurrent-daemonset-syncs=5",
		"--concurrent-gc-syncs=40",
		"--concurrent-namespace-syncs=10",
		"--concurrent-endpoint-syncs=10",
		"--concurrent-service-endpoint-syncs=10",
		"--concurrent-horizontal-pod-autoscaler-syncs=10",
		"--horizontal-pod-autoscaler-sync-period=5s",
		"--horizontal-pod-autoscaler-downscale-stabilization=30s",
		"--controller-start-interval=0s",
	}
	if err = fs.Parse(flags); err != nil {
		return fmt.Errorf("controller-manager flags: %w", err)
	}
	if err = registry.Set(); err != nil {
		return err
	}
	cfg, err := s.Config(ctx, all, disabled, aliases)
	if err != nil {
		return fmt.Errorf("controller-manager config: %w", err)
	}
	cc := cfg.Complete()

	cc.EventBroadcaster.StartRecordingToSink(&v1core.EventSinkImpl{Interface: cc.Client.CoreV1().Events("")})
	defer cc.EventBroadcaster.Shutdown()

	root := clientbuilder.SimpleControllerClientBuilder{ClientConfig: cc.Kubeconfig}
	cctx, err := newControllerContext(ctx, cc, root, c.name)
	if err != nil {
		return err
	}
	descriptors := app.NewControllerDescriptors()
	delete(descriptors, names.ServiceAccountTokenController)
	health := controllerhealthz.NewMutableHealthzHandler()
	controllers, err := app.BuildControllers(ctx, cctx, descriptors, nil, health)
	if err != nil {
		return fmt.Errorf("build controllers: %w", err)
	}
	tokens, err := newTokensController(cctx, cc, root)
	if err != nil {
		return err
	}
	controllers = append([]app.Controller{tokens}, controllers...)

	cctx.InformerFactory.Start(ctx.Done())
	defer cctx.InformerFactory.Shutdown()
	cctx.ObjectOrMetadataInformerFactory.Start(ctx.Done())
	close(cctx.InformersStarted)
	app.RunControllers(ctx, cctx, controllers, 0, 10*time.Second)
	return nil
}

// newControllerContext is app.CreateControllerContext with an informer name
// that is unique per cluster.
func newControllerContext(ctx context.Context, cc *config.CompletedConfig, root clientbuilder.ControllerClientBuilder, cluster string) (app.ControllerContext, error) {
	trim := func(obj interface{}) (interface{}, error) {
		if accessor, err := meta.Accessor(obj); err == nil && accessor.GetManagedFields() != nil {
			accessor.SetManagedFields(nil)
		}
		return obj, nil
	}
	client, err := root.Client("shared-informers")
	if err != nil {
		return app.ControllerContext{}, fmt.Errorf("controller-manager client: %w", err)
	}
	informerName, err := cache.NewInformerName("kube-controller-manager-" + cluster)
	if err != nil {
		return app.ControllerContext{}, err
	}
	go func() { <-ctx.Done(); informerName.Release() }()
	resync := app.ResyncPeriod(cc)
	shared := informers.NewSharedInformerFactoryWithOptions(client, resync(), informers.WithTransform(trim), informers.WithInformerName(informerName))
	metaConfig, err := root.Config("metadata-informers")
	if err != nil {
		return app.ControllerContext{}, err
	}
	metaClient, err := metadata.NewForConfig(metaConfig)
	if err != nil {
		return app.ControllerContext{}, fmt.Errorf("metadata client: %w", err)
	}
	metaInformers := metadatainformer.NewSharedInformerFactoryWithOptions(metaClient, resync(), metadatainformer.WithTransform(trim))
	disco, err := root.DiscoveryClient("controller-discovery")
	if err != nil {
		return app.ControllerContext{}, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(cacheddiscovery.NewMemCacheClient(disco))
	go wait.Until(mapper.Reset, 30*time.Second, ctx.Done())

	cctx := app.ControllerContext{
		ClientBuilder:                   root,
		InformerFactory:                 shared,
		ObjectOrMetadataInformerFactory: informerfactory.NewInformerFactory(shared, metaInformers),
		ComponentConfig:                 cc.ComponentConfig,
		RESTMapper:                      mapper,
		InformersStarted:                make(chan struct{}),
		ResyncPeriod:                    resync,
		ControllerManagerMetrics:        controllersmetrics.NewControllerManagerMetrics("kube-controller-manager"),
	}
	ignored := map[schema.GroupResource]struct{}{}
	for _, r := range cc.ComponentConfig.GarbageCollectorController.GCIgnoredResources {
		ignored[schema.GroupResource{Group: r.Group, Resource: r.Resource}] = struct{}{}
	}
	cctx.GraphBuilder = garbagecollector.NewDependencyGraphBuilder(ctx, metaClient, mapper, ignored, cctx.ObjectOrMetadataInformerFactory, cctx.InformersStarted)
	controllersmetrics.Register()
	return cctx, nil
}

// controllerLoop adapts a run function to app.Controller.
type controllerLoop struct {
	name string
	run  func(context.Context)
}

func (l controllerLoop) Name() string            { return l.name }
func (l controllerLoop) Run(ctx context.Context) { l.run(ctx) }

// newTokensController builds the legacy service-account token controller
// with the root client, as kube-controller-manager does before all others.
func newTokensController(cctx app.ControllerContext, cc *config.CompletedConfig, root clientbuilder.ControllerClientBuilder) (app.Controller, error) {
	key, err := keyutil.PrivateKeyFromFile(cc.ComponentConfig.SAController.ServiceAccountKeyFile)
	if err != nil {
		return nil, fmt.Errorf("read service-account key: %w", err)
	}
	rootCA, err := os.ReadFile(cc.ComponentConfig.SAController.RootCAFile)
	if err != nil {
		return nil, fmt.Errorf("read root CA: %w", err)
	}
	client, err := root.Client("tokens-controller")
	if err != nil {
		return nil, err
	}
	gen, err := serviceaccount.JWTTokenGenerator(serviceaccount.LegacyIssuer, key)
	if err != nil {
		return nil, fmt.Errorf("token generator: %w", err)
	}
	tc, err := serviceaccountcontroller.NewTokensController(
		klog.Background(),
		cctx.InformerFactory.Core().V1().ServiceAccounts(),
		cctx.InformerFactory.Core().V1().Secrets(),
		client,
		serviceaccountcontroller.TokensControllerOptions{TokenGenerator: gen, RootCA: rootCA},
	)
	if err != nil {
		return nil, fmt.Errorf("tokens controller: %w", err)
	}
	workers := int(cc.ComponentConfig.SAController.ConcurrentSATokenSyncs)
	return controllerLoop{name: names.ServiceAccountTokenController, run: func(ctx context.Context) { tc.Run(ctx, workers) }}, nil
}
