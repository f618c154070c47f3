package estate

import (
	"strings"
	"time"
)

// Snapshot is one immutable picture of a kube context's watched namespaces.
// It holds plain values only, never pointers into an informer cache, so a
// receiver may keep or read it from any goroutine. Maps and slices in it are
// never written after publication: treat them as read-only.
type Snapshot struct {
	// Context is the kube context the snapshot was taken from, as the kubeconfig names
	// it: a receiver matches it to the context it shows, so it is not escaped here
	// (a name holding a control character was escaped and matched no context, and
	// every snapshot was dropped); whoever displays it escapes it.
	Context string `termsafe:"-"`
	// Generation is the Session generation that produced it; a receiver
	// drops snapshots whose generation is older than the session it shows.
	Generation uint64
	// Seq numbers the snapshots of one session, starting at 1.
	Seq uint64
	// Taken is when the snapshot was built.
	Taken time.Time
	// BuildDuration is how long building it took (listing the caches and
	// deriving; a diagnostic).
	BuildDuration time.Duration
	// Synced is true once every started informer has listed once.
	Synced bool
	// Findings are the check catalogue's verdicts on the session's objects,
	// evaluated by the session on its own schedule (Options.ChecksInterval);
	// zero until the first snapshot with a model. Made terminal-safe once
	// per evaluation (cluster's findingsFor) and shared between snapshots.
	Findings Findings `termsafe:"-"`
	// Services are the Deployments and StatefulSets, unhealthy first, then
	// by namespace and name, each joined with its pods, Service, HPA, VPA,
	// PDB, Argo CD app, alerts and usage.
	Services []Service
	// DaemonSets are the watched DaemonSets with the same health model
	// (Kind "DaemonSet"); they are not in Services because they do not
	// scale and have no HPA/VPA.
	DaemonSets []Service
	// HPAs are every HorizontalPodAutoscaler, sorted by namespace and name
	// (the Autoscaling screen); the one targeting a service is also in
	// Service.HPA.
	HPAs []HPAInfo
	// VPAs are every VerticalPodAutoscaler, sorted by namespace and name;
	// empty when the VPA CRDs are not installed (see Installed).
	VPAs []VPAInfo
	// PDBs are every PodDisruptionBudget, sorted by namespace and name.
	PDBs []PDBInfo
	// Alerts are the alert sources' state and every alert, joined to
	// services where labels allow (Alert.Service).
	Alerts AlertsView
	// ArgoApps are the Argo CD Applications (any namespace vigil may list),
	// sorted by namespace and name; empty when Argo CD is not installed.
	ArgoApps []ArgoApp
	// ArgoProjects are the Argo CD AppProjects with their sync windows.
	ArgoProjects []ArgoProject
	// ExternalSecrets are ExternalSecrets and ClusterExternalSecrets (Kind
	// tells them apart), sorted by kind, namespace and name.
	ExternalSecrets []ExternalSecretInfo
	// SecretStores are SecretStores and ClusterSecretStores.
	SecretStores []SecretStoreInfo
	// SealedSecrets are the Bitnami SealedSecrets (names of encrypted keys only).
	SealedSecrets []SealedSecretInfo
	// Secrets are the Secrets' metadata only: vigil never fetches Secret
	// data, so not even the keys are known.
	Secrets []SecretMeta
	// Events are the most recent Warning and Normal events of the watched
	// namespaces, newest first, at most MaxEvents.
	Events []KubeEvent
	// Installed says, per optional API group ("argoproj.io",
	// "autoscaling.k8s.io", "external-secrets.io", "bitnami.com",
	// "security.istio.io", "networking.istio.io", "metrics.k8s.io"), whether
	// the API server serves it. A group missing from the map was not checked yet.
	Installed map[string]bool
	// Resources says, per watched resource, whether it is watched, not
	// installed, or denied, with the reason: the "not installed" / "no
	// access" notes of each screen. Sorted by Resource.
	Resources []ResourceStatus
	// Usage says whether metrics.k8s.io usage is available and how fresh it
	// is; per-pod figures are in Service.Pods[i].Usage.
	Usage UsageStatus
	// Namespaces tells, per watched namespace, whether it exists and what
	// vigil may see in it.
	Namespaces []NamespaceStatus
	// Problems are short human notes, e.g. "no access to pods in fintech-prod",
	// "alerts unavailable: connection refused".
	Problems []string
	// Conn is the connection state when the snapshot was built.
	Conn ConnState
}

// MaxEvents bounds Snapshot.Events.
const MaxEvents = 200

// Service is one workload as vigil shows it.
type Service struct {
	// Namespace and Name identify the workload.
	Namespace, Name string
	// Kind is "Deployment", "StatefulSet" or "DaemonSet".
	Kind string
	// Labels are the workload's own labels (for alert joins and the UI).
	Labels map[string]string
	// Images are the images of the pod template's containers, in order.
	Images []string
	// Desired is spec.replicas (1 when unset; desiredNumberScheduled for a DaemonSet).
	Desired int32
	// Ready counts ready pods as the controller reports them.
	Ready int32
	// UpToDate counts pods of the current revision.
	UpToDate int32
	// Available counts pods available for at least minReadySeconds.
	Available int32
	// PodCount counts the pods vigil sees for the workload (len(Pods)).
	PodCount int
	// Pods are the workload's pods, sorted by name.
	Pods []PodInfo `termsafe:"-"` // made terminal-safe in podInfo, shared between snapshots
	// Restarts is the sum of container restarts over its pods.
	Restarts int32
	// Created is the workload's creation time.
	Created time.Time
	// Health is the derived status with its reason.
	Health Health
	// Revisions are the rollout history, newest first (ReplicaSets for a
	// Deployment, ControllerRevisions for a StatefulSet/DaemonSet).
	Revisions []Revision
	// Endpoints are the Kubernetes Services whose selector matches the
	// workload's pods, with endpoint counts from EndpointSlices.
	Endpoints []ServiceEndpoint
	// HPA describes the HorizontalPodAutoscaler targeting it; Name is empty
	// when none does.
	HPA HPAInfo
	// VPA describes the VerticalPodAutoscaler targeting it; Name is empty
	// when none does.
	VPA VPAInfo
	// PDB is the PodDisruptionBudget selecting its pods; Name is empty when none does.
	PDB PDBInfo
	// Argo is the Argo CD Application managing it (by the
	// argocd.argoproj.io/instance or app.kubernetes.io/instance label, or
	// the app's resource list); Name is empty when none does.
	Argo ArgoAppRef
	// Alerts are the firing and pending alerts joined to it by labels.
	Alerts []Alert
	// Usage is ServiceUsage of Pods: the usage of the pods metrics.k8s.io has figures for,
	// against those pods' requests and limits; Usage.Available is false when it has none.
	Usage Usage
	// UsagePods counts the pods Usage sums (of PodCount).
	UsagePods int
	// ErrorRate is the share (0–1) of its HTTP requests answered with a
	// 5xx over the last two minutes, from Prometheus's http_requests_total;
	// 0 without traffic. It means nothing unless ErrorRateKnown.
	ErrorRate float64
	// ErrorRateKnown is true when Prometheus answered the rate query and
	// some series joined to the service (by config alertLabels).
	ErrorRateKnown bool
	// RequestRate is its HTTP requests per second over the last two
	// minutes, when ErrorRateKnown.
	RequestRate float64
}

// Key returns "namespace/name/kind", unique within a snapshot.
func (s Service) Key() string { return s.Namespace + "/" + s.Name + "/" + s.Kind }

// PodInfo is one pod of a service.
type PodInfo struct {
	// Name is the pod's name.
	Name string
	// Node is spec.nodeName; empty while unscheduled.
	Node string
	// Phase is status.phase ("Pending", "Running", "Succeeded", "Failed").
	Phase string
	// Ready is the pod's Ready condition.
	Ready bool
	// Terminating is true when the pod has a deletion timestamp.
	Terminating bool
	// Status is what kubectl's STATUS column would say: the most telling
	// waiting reason ("CrashLoopBackOff"), "Terminating", or the phase.
	Status string
	// Restarts sums the containers' restart counts.
	Restarts int32
	// LastTermination is the most telling last-termination reason of its
	// containers ("OOMKilled", "Error"); empty when none terminated.
	LastTermination string
	// LastTerminationAt is when that termination finished.
	LastTerminationAt time.Time
	// Revision is the pod-template-hash or controller-revision-hash label.
	Revision string
	// Created is the pod's creation time (its age is now - Created).
	Created time.Time
	// Containers are its containers (init containers excluded), in spec order.
	Containers []ContainerInfo
	// Usage is the pod's usage summed over containers, vs its requests and limits.
	Usage Usage
}

// ContainerInfo is one container of a pod.
type ContainerInfo struct {
	// Name and Image are the container's.
	Name, Image string
	// Ready is the container's ready flag.
	Ready bool
	// Restarts is its restart count.
	Restarts int32
	// State is "Running", "Terminated" or the waiting reason.
	State string
	// LastTermination is the reason of its last termination, if any.
	LastTermination string
	// Usage is its CPU/memory use vs its requests and limits.
	Usage Usage
}

// Usage compares CPU and memory use with requests and limits. CPU is in
// millicores, memory in bytes; a zero request or limit means unset.
type Usage struct {
	// Available is false when metrics.k8s.io has no figure for it (absent
	// API, pod too young): then CPU and Memory are 0 and mean nothing.
	Available bool
	// CPU is the measured use in millicores.
	CPU int64
	// Memory is the measured working set in bytes.
	Memory int64
	// CPURequest, CPULimit are the summed requests/limits in millicores.
	CPURequest, CPULimit int64
	// MemoryRequest, MemoryLimit are the summed requests/limits in bytes.
	MemoryRequest, MemoryLimit int64
	// Window is the metrics window the figures cover.
	Window time.Duration
}

// CPUOfRequest returns CPU/CPURequest (0.64 = 64%), or -1 when either is unknown.
func (u Usage) CPUOfRequest() float64 { return ratio(u.Available, u.CPU, u.CPURequest) }

// CPUOfLimit returns CPU/CPULimit, or -1 when either is unknown.
func (u Usage) CPUOfLimit() float64 { return ratio(u.Available, u.CPU, u.CPULimit) }

// MemoryOfRequest returns Memory/MemoryRequest, or -1 when either is unknown.
func (u Usage) MemoryOfRequest() float64 { return ratio(u.Available, u.Memory, u.MemoryRequest) }

// MemoryOfLimit returns Memory/MemoryLimit, or -1 when either is unknown.
func (u Usage) MemoryOfLimit() float64 { return ratio(u.Available, u.Memory, u.MemoryLimit) }

func ratio(ok bool, a, b int64) float64 {
	if !ok || b <= 0 {
		return -1
	}
	return float64(a) / float64(b)
}

// UsageStatus says whether usage figures are available for a snapshot.
type UsageStatus struct {
	// Available is true when the last poll of metrics.k8s.io succeeded.
	Available bool
	// Reason says why not, e.g. "metrics.k8s.io is not served".
	Reason string
	// Refused are the watched namespaces whose PodMetrics the API refused to
	// list (forbidden), in watch order; "" is all namespaces. Their pods have
	// no usage while the other namespaces' have.
	Refused []string
	// Taken is when the figures shown were polled (zero before the first).
	Taken time.Time
}

// Why says why the pods of namespace have no usage figures: the namespace's
// refusal, the poll's failure, or that metrics.k8s.io has none for them.
func (u UsageStatus) Why(namespace string) string {
	for _, ns := range u.Refused {
		if ns == namespace || ns == "" {
			return "forbidden to list " + MetricsResource + " in " + orAll(ns, namespace)
		}
	}
	if u.Reason != "" {
		return u.Reason
	}
	if u.Taken.IsZero() {
		return "metrics.k8s.io not polled yet"
	}
	return "metrics.k8s.io has no figures for its pods yet"
}

// Note is a one-line account of the usage that is missing for the whole
// snapshot or some of its namespaces ("" when none is): what the Services
// list says beside its CPU and MEM columns.
func (u UsageStatus) Note() string {
	switch {
	case !u.Available && u.Reason != "":
		return "cpu/mem unavailable: " + u.Reason
	case len(u.Refused) == 1 && u.Refused[0] == "":
		return "cpu/mem forbidden in all namespaces"
	case len(u.Refused) > 0:
		return "cpu/mem forbidden in " + strings.Join(u.Refused, ", ")
	}
	return ""
}

// MetricsResource is the resource vigil lists for usage figures.
const MetricsResource = "pods.metrics.k8s.io"

// orAll names where a refusal applies: refused's namespace, or for a
// cluster-wide refusal ("") the namespace asked about, else "all namespaces".
func orAll(refused, namespace string) string {
	switch {
	case refused != "":
		return refused
	case namespace != "":
		return namespace
	}
	return "all namespaces"
}

// Revision is one entry of a workload's rollout history.
type Revision struct {
	// Number is the revision (deployment.kubernetes.io/revision or the
	// ControllerRevision's revision).
	Number int64
	// Name is the ReplicaSet or ControllerRevision name.
	Name string
	// Images are the pod template's container images.
	Images []string
	// ChangeCause is the kubernetes.io/change-cause annotation, if any.
	ChangeCause string
	// Created is when the revision was created (its age is now - Created).
	Created time.Time
	// Current is true for the revision the workload runs now.
	Current bool
	// Replicas and Ready count the revision's pods (a ReplicaSet's status;
	// for a ControllerRevision, the pods labelled with it).
	Replicas, Ready int32
}

// ServiceEndpoint is a Kubernetes Service in front of a workload.
type ServiceEndpoint struct {
	// Name and Type ("ClusterIP", "LoadBalancer", ...) are the Service's.
	Name, Type string
	// ClusterIP is spec.clusterIP ("None" for headless).
	ClusterIP string
	// Ports are rendered "name port/protocol→targetPort", e.g. "http 80/TCP→8080".
	Ports []string
	// Ready and NotReady count endpoint addresses from its EndpointSlices.
	Ready, NotReady int
}

// Condition is a status condition as shown on screen.
type Condition struct {
	// Type is e.g. "AbleToScale", "ScalingActive", "ScalingLimited", "Ready".
	Type string
	// Status is "True", "False" or "Unknown".
	Status string
	// Reason and Message are the controller's.
	Reason, Message string
	// Since is lastTransitionTime.
	Since time.Time
}

// HPAInfo is what a HorizontalPodAutoscaler says about its target.
type HPAInfo struct {
	// Namespace and Name are the HPA's; Name is empty when none targets the workload.
	Namespace, Name string
	// TargetKind and TargetName are spec.scaleTargetRef.
	TargetKind, TargetName string
	// Min, Max, Current and Desired are the HPA's replica bounds and counts.
	Min, Max, Current, Desired int32
	// Metrics are each metric's current value vs target, in spec order.
	Metrics []HPAMetric
	// Conditions are AbleToScale, ScalingActive and ScalingLimited (as reported).
	Conditions []Condition
	// AtMax is true when Current >= Max: the HPA cannot scale further up.
	AtMax bool
	// Saturation is Current/Max (1 = at max); 0 when Max is 0.
	Saturation float64
	// Reason is a one-line summary, e.g. "HPA at max 10/10" or
	// "ScalingActive=False: FailedGetPodsMetric"; empty when all is well.
	Reason string
	// LastScale is status.lastScaleTime.
	LastScale time.Time
}

// HPAMetric is one metric of an HPA.
type HPAMetric struct {
	// Type is "Resource", "ContainerResource", "Pods", "Object" or "External".
	Type string
	// Name is the metric or resource name, e.g. "cpu", "http_requests_per_second".
	Name string
	// Target is the rendered target, e.g. "70%" or "1k (avg)".
	Target string
	// Current is the rendered current value, or "<unknown>" when not reported.
	Current string
	// Ratio is current/target (1.2 = 20% over); -1 when unknown.
	Ratio float64
}

// VPAInfo is a VerticalPodAutoscaler's recommendation vs the requests in force.
type VPAInfo struct {
	// Namespace and Name are the VPA's; Name is empty when none targets the workload.
	Namespace, Name string
	// TargetKind and TargetName are spec.targetRef.
	TargetKind, TargetName string
	// UpdateMode is spec.updatePolicy.updateMode ("Off", "Initial",
	// "Recreate", "InPlaceOrRecreate", "Auto"; "Auto" when unset).
	UpdateMode string
	// Containers are the per-container recommendations.
	Containers []VPAContainer
	// Conditions are the VPA's status conditions (RecommendationProvided, ...).
	Conditions []Condition
	// MaxDrift is the largest |drift| over containers and resources, e.g.
	// 0.5 when some request is 50% off its target; 0 without recommendation.
	MaxDrift float64
}

// VPAContainer is one container's VPA recommendation next to its requests.
type VPAContainer struct {
	// Name is the container name.
	Name string
	// Target, LowerBound, UpperBound and UncappedTarget are the
	// recommendation (CPU millicores, memory bytes).
	Target, LowerBound, UpperBound, UncappedTarget Resources
	// Requests are the container's current requests in the workload's
	// template (zero when unset or the workload is not found).
	Requests Resources
	// CPUDrift and MemoryDrift are request/target - 1 (0.2 = requests 20%
	// above target, -0.5 = half of it); 0 when either side is unknown.
	CPUDrift, MemoryDrift float64
	// OutOfBounds is true when a request is outside [LowerBound, UpperBound].
	OutOfBounds bool
}

// Resources is a CPU/memory pair: CPU in millicores, memory in bytes.
type Resources struct {
	// CPU is in millicores.
	CPU int64
	// Memory is in bytes.
	Memory int64
}

// PDBInfo is a PodDisruptionBudget.
type PDBInfo struct {
	// Namespace and Name are the PDB's; Name is empty when none selects the workload.
	Namespace, Name string
	// MinAvailable and MaxUnavailable are the spec as written ("2", "50%"); empty when unset.
	MinAvailable, MaxUnavailable string
	// CurrentHealthy, DesiredHealthy, ExpectedPods and DisruptionsAllowed are its status.
	CurrentHealthy, DesiredHealthy, ExpectedPods, DisruptionsAllowed int32
	// Blocking is true when no disruption is allowed: a drain would stall.
	Blocking bool
}

// ArgoAppRef names the Argo CD Application that manages a workload.
type ArgoAppRef struct {
	// Namespace and Name are the Application's (usually namespace "argocd").
	Namespace, Name string
	// Sync is status.sync.status ("Synced", "OutOfSync", "Unknown").
	Sync string
	// Health is status.health.status ("Healthy", "Degraded", "Progressing", ...).
	Health string
}
