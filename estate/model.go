package estate

import (
	"time"

	"github.com/vigil-k8s/vigil/gitops"
)

// NamespaceStatus is what vigil knows about one watched namespace.
type NamespaceStatus struct {
	// Name is the namespace.
	Name string
	// Missing is true when the API server says the namespace does not exist.
	Missing bool
	// Denied lists the resources vigil may not list/watch there, e.g. "pods".
	Denied []string
	// Synced is true once its informers have listed once.
	Synced bool
}

// ConnState is the session's view of its connection to the API server.
type ConnState struct {
	// Connected is false after a failed request or watch until the next success.
	Connected bool
	// LastContact is the last time a request or watch event succeeded; the
	// age of the data shown is measured from it.
	LastContact time.Time
	// Reason says why the session is disconnected, e.g. "connection refused".
	Reason string
}

// Access is the state of one watched resource.
type Access int

// Access states.
const (
	// AccessWatched means the informer runs (it may not have synced yet).
	AccessWatched Access = iota
	// AccessNotInstalled means discovery does not list the resource (a CRD
	// that is not installed): screens say "not installed".
	AccessNotInstalled
	// AccessDenied means a SelfSubjectAccessReview or the API refused
	// list/watch: screens say "forbidden" with the reason.
	AccessDenied
	// AccessFailing means the resource could be neither discovered nor
	// listed for another reason than a refusal (a broken aggregated API
	// answering 503, say): screens say "failing" and checks "unknown", with
	// the reason, while the rest of the session carries on.
	AccessFailing
)

// String returns "watched", "not installed", "forbidden" or "failing":
// the words every screen uses for a kind it cannot show.
func (a Access) String() string {
	switch a {
	case AccessNotInstalled:
		return "not installed"
	case AccessDenied:
		return "forbidden"
	case AccessFailing:
		return "failing"
	}
	return "watched"
}

// ResourceStatus is whether vigil can watch one resource.
type ResourceStatus struct {
	// Resource is "plural.group" as in checks' Res* names, e.g.
	// "applications.argoproj.io", "pods", "clusterroles.rbac.authorization.k8s.io".
	Resource string
	// Access is watched, not installed, denied or failing.
	Access Access
	// Namespaces lists where access was denied; empty when denied
	// cluster-wide or not applicable.
	Namespaces []string
	// Reason is the detail, e.g. the access review's reason.
	Reason string
}

// AlertsView is everything vigil knows about alerts for one context.
type AlertsView struct {
	// Prometheus is the Prometheus source's state.
	Prometheus AlertSource
	// Alertmanager is the Alertmanager source's state.
	Alertmanager AlertSource
	// Alerts are the firing and pending alerts: from Alertmanager when it is
	// available (with silence state), else from Prometheus. Firing first,
	// then by severity (critical, warning, info, other), name, labels.
	Alerts []Alert
	// Rules are Prometheus's alerting rules (/api/v1/rules), by group and name.
	Rules []AlertRule
	// Silences are Alertmanager's active and pending silences, soonest end first.
	Silences []Silence
	// Firing counts alerts in state "firing" that are not silenced.
	Firing int
	// Rates are Prometheus's HTTP request and 5xx rates over the last two
	// minutes, one per label set, not yet joined to services; nil when the
	// query failed or Prometheus is not configured.
	Rates []RateSeries
	// RatesErr is why the last rate query failed; empty when it answered.
	RatesErr string
}

// RateSeries is one label set's HTTP traffic from http_requests_total.
type RateSeries struct {
	// Labels are the series' grouping labels (namespace and service labels).
	Labels map[string]string
	// Requests is all requests per second; Errors the 5xx ones.
	Requests, Errors float64
}

// AlertSource is the health of an alert endpoint.
type AlertSource struct {
	// URL is the configured endpoint; empty when none is configured.
	URL string
	// Configured is false when the config names no URL for this context.
	Configured bool
	// Available is true when the last poll succeeded.
	Available bool
	// Err is the reason of the last failure, e.g. "connection refused";
	// the screen shows "alerts unavailable: <Err>".
	Err string
	// LastSuccess is when the last poll succeeded (age of the data shown).
	LastSuccess time.Time
	// NextRetry is when the next poll is due (after a failure, with backoff).
	NextRetry time.Time
}

// Alert is one alert instance.
type Alert struct {
	// Name is the alertname label.
	Name string
	// State is "firing", "pending" (Prometheus), or "suppressed"
	// (Alertmanager: silenced or inhibited).
	State string
	// Severity is the severity label ("critical", "warning", ...).
	Severity string
	// Summary and Description are the annotations of the same names.
	Summary, Description string
	// Labels are all its labels.
	Labels map[string]string
	// Since is activeAt (Prometheus) or startsAt (Alertmanager).
	Since time.Time
	// Value is the expression's value when Prometheus reports it.
	Value string
	// Source is "prometheus" or "alertmanager".
	Source string
	// Fingerprint is Alertmanager's fingerprint (empty from Prometheus).
	Fingerprint string
	// SilencedBy are the silence IDs muting it.
	SilencedBy []string
	// Service is the Key() of the service it joins to, "" when none matches.
	Service string
}

// AlertRule is one Prometheus alerting rule.
type AlertRule struct {
	// Group is the rule group's name; File its file.
	Group, File string
	// Name is the alert name.
	Name string
	// Query is the PromQL expression.
	Query string
	// For is the pending duration.
	For time.Duration
	// State is "inactive", "pending" or "firing".
	State string
	// Health is "ok", "err" or "unknown"; LastError says why for "err".
	Health, LastError string
	// Active counts its active alerts.
	Active int
}

// Silence is an Alertmanager silence.
type Silence struct {
	// ID is the silence's UUID.
	ID string
	// State is "active", "pending" or "expired".
	State string
	// Matchers are rendered `name="value"`, `name=~"re"`, ...
	Matchers []string
	// CreatedBy and Comment are as entered.
	CreatedBy, Comment string
	// StartsAt and EndsAt bound it.
	StartsAt, EndsAt time.Time
}

// ArgoApp is an Argo CD Application.
type ArgoApp struct {
	// Namespace and Name are the Application's.
	Namespace, Name string
	// Project is spec.project.
	Project string
	// RepoURL, Path, Chart and TargetRevision are spec.source's.
	RepoURL, Path, Chart, TargetRevision string
	// DestServer and DestNamespace are spec.destination's.
	DestServer, DestNamespace string
	// AutoSync is true with spec.syncPolicy.automated; Prune and SelfHeal its flags.
	AutoSync, Prune, SelfHeal bool
	// Sync is status.sync.status; Revision is status.sync.revision.
	Sync, Revision string
	// Health and HealthMessage are status.health's.
	Health, HealthMessage string
	// Operation is the current or last operation; Phase is empty when none.
	Operation ArgoOperation
	// History is status.history, newest first.
	History []ArgoHistory
	// Conditions are status.conditions (type: message), e.g. "SyncError: ...".
	Conditions []Condition
	// Resources counts status.resources; OutOfSync how many are not Synced.
	Resources, OutOfSync int
	// Windows are the sync windows of its project that apply to it.
	Windows []SyncWindow
	// SyncBlocked is true when a window forbids syncing now; BlockedBy says which.
	SyncBlocked bool
	// BlockedBy describes the window, e.g. "deny 0 0 24 12 * for 72h".
	BlockedBy string
	// Suspension is set while vigil has suspended its automated sync (the
	// vigil-k8s.io/suspended-* annotations gitops.SuspendAutoSync writes).
	Suspension *ArgoSuspension
	// Workloads are the Keys of services it manages.
	Workloads []string
}

// ArgoOperation is an Application's operation state.
type ArgoOperation struct {
	// Phase is "Running", "Succeeded", "Failed", "Error" or "Terminating"
	// (status.operationState.phase), or ArgoPhaseRequested.
	Phase string
	// Pending is true while the operation is requested or running: the
	// Application's .operation is set (Argo CD's controller removes it when
	// the operation has finished).
	Pending bool
	// Message is the operation's message.
	Message string
	// Revision is the revision it syncs to.
	Revision string
	// StartedAt and FinishedAt bound it (FinishedAt zero while running).
	StartedAt, FinishedAt time.Time
	// InitiatedBy is the user, or "automated".
	InitiatedBy string
}

// ArgoPhaseRequested is the phase of an operation requested (.operation
// set) that Argo CD's application controller has not taken up yet.
const ArgoPhaseRequested = "Requested"

// Finished reports whether the operation has ended: Succeeded, Failed or
// Error, the phases Argo CD's controller ends an operation in.
func (o ArgoOperation) Finished() bool {
	switch o.Phase {
	case "Succeeded", "Failed", "Error":
		return true
	}
	return false
}

// ArgoHistory is one deployment of an Application.
type ArgoHistory struct {
	// ID is the history id (what a rollback names).
	ID int64
	// Revision is the Git revision deployed.
	Revision string
	// DeployedAt is when.
	DeployedAt time.Time
	// Source is the repo URL deployed from.
	Source string
}

// ArgoProject is an Argo CD AppProject.
type ArgoProject struct {
	// Namespace and Name are the AppProject's.
	Namespace, Name string
	// Windows are its sync windows.
	Windows []SyncWindow
}

// SyncWindow is an AppProject sync window.
type SyncWindow struct {
	// Kind is "allow" or "deny".
	Kind string
	// Schedule is the cron expression; Duration e.g. "72h".
	Schedule, Duration string
	// TimeZone is the window's time zone ("" = UTC).
	TimeZone string
	// Applications, Namespaces and Clusters are the window's match patterns.
	Applications, Namespaces, Clusters []string
	// ManualSync is true when manual syncs are allowed during the window.
	ManualSync bool
	// Active is true when the window is open at snapshot time.
	Active bool
}

// ExternalSecretInfo is an ExternalSecret or ClusterExternalSecret.
type ExternalSecretInfo struct {
	// Kind is "ExternalSecret" or "ClusterExternalSecret".
	Kind string
	// Namespace (empty for ClusterExternalSecret) and Name identify it.
	Namespace, Name string
	// Store and StoreKind are spec.secretStoreRef (StoreKind "SecretStore"
	// or "ClusterSecretStore").
	Store, StoreKind string
	// Target is the Secret it writes (spec.target.name, default its name).
	Target string
	// RefreshInterval is spec.refreshInterval as written ("1h"; "0" = never).
	RefreshInterval string
	// LastRefresh is status.refreshTime (zero when never).
	LastRefresh time.Time
	// Ready is the Ready condition; Reason and Message explain it.
	Ready           bool
	Reason, Message string
	// Namespaces are a ClusterExternalSecret's provisioned namespaces.
	Namespaces []string
	// Stale is true when LastRefresh is older than twice RefreshInterval.
	Stale bool
}

// SecretStoreInfo is a SecretStore or ClusterSecretStore.
type SecretStoreInfo struct {
	// Kind is "SecretStore" or "ClusterSecretStore".
	Kind string
	// Namespace (empty for cluster stores) and Name identify it.
	Namespace, Name string
	// Provider is the provider key under spec.provider, e.g. "vault", "aws".
	Provider string
	// Ready is the Ready condition; Reason and Message explain it.
	Ready           bool
	Reason, Message string
}

// SealedSecretInfo is a Bitnami SealedSecret.
type SealedSecretInfo struct {
	// Namespace and Name identify it.
	Namespace, Name string
	// Keys are the names under spec.encryptedData (never the values).
	Keys []string
	// Synced is the Synced condition; Reason and Message explain it.
	Synced          bool
	Reason, Message string
}

// SecretMeta is a Secret's metadata: vigil never holds Secret data.
type SecretMeta struct {
	// Namespace and Name identify it.
	Namespace, Name string
	// Type is the Secret type when the API reports it in metadata (often
	// empty: metadata-only lists carry no type).
	Type string
	// OwnerKind and OwnerName are its controller (e.g. "ExternalSecret",
	// "SealedSecret"); empty when it has none.
	OwnerKind, OwnerName string
	// Created is its creation time.
	Created time.Time
}

// KubeEvent is a Kubernetes event (core/v1 Event) as the detail pane shows it.
type KubeEvent struct {
	// Namespace, Kind and Name are the involved object's.
	Namespace, Kind, Name string
	// Type is "Normal" or "Warning".
	Type string
	// Reason and Message are the event's.
	Reason, Message string
	// Count is how often it happened (1 at least).
	Count int32
	// Last is when it last happened.
	Last time.Time
}

// ContextInfo is one context of the merged kubeconfig.
type ContextInfo struct {
	// Name is the context's name.
	Name string
	// Cluster, User and Namespace are the context's fields.
	Cluster, User, Namespace string
	// Server is the cluster's API server URL.
	Server string
	// Current is true for the context the Manager watches now.
	Current bool
	// Protected is true when config lists it as a protected context.
	Protected bool
}

// Fleet sources: where a FleetEntry's figures come from.
const (
	// FleetFromSession is the running session's snapshot (the current context).
	FleetFromSession = "session"
	// FleetFromList is one LIST pass against the context's API server.
	FleetFromList = "LIST"
	// FleetFromPrometheus is PromQL over kube-state-metrics series in the
	// fleet Prometheus (config fleet.prometheus).
	FleetFromPrometheus = "prometheus"
)

// FleetEntry is one context's summary in the fleet view. It comes from
// short LISTs or a fleet Prometheus, not informers, so it is only as fresh
// as Checked.
type FleetEntry struct {
	// Context is the kube context; Server its API server URL.
	Context, Server string
	// Source says what produced the entry: FleetFromSession, FleetFromList
	// or FleetFromPrometheus.
	Source string
	// Current is true for the context the Manager watches now.
	Current bool
	// Reachable is false when the LISTs or the queries failed; Err says why
	// ("connection refused", "forbidden", "timed out", "no series").
	Reachable bool
	// Refused is true when the API server answered and refused the LISTs (forbidden,
	// unauthorized): reachable, not readable by this context's user.
	Refused bool
	// Err is the reason the context could not be summarised; empty when Reachable.
	Err string
	// Services counts the Deployments and StatefulSets seen.
	Services int
	// OK, Progressing, Degraded, Down and Unknown count services by health.
	OK, Progressing, Degraded, Down, Unknown int
	// Worst names the worst services, e.g. "fintech-prod/payment-service Down", at most 3.
	Worst []string
	// Firing counts firing, unsilenced alerts; -1 when alerts are unavailable.
	Firing int
	// AlertsErr says why alerts are unavailable ("no Prometheus configured", ...).
	AlertsErr string
	// Checked is when this entry was taken; its age is now - Checked.
	Checked time.Time
	// Took is how long the summary took.
	Took time.Duration
}

// Age returns how old the entry is at now.
func (e FleetEntry) Age(now time.Time) time.Duration {
	if e.Checked.IsZero() {
		return 0
	}
	return now.Sub(e.Checked)
}

// FleetSummary is one pass over every context.
type FleetSummary struct {
	// Generation is the Manager generation when the pass started; the UI
	// drops a summary older than the generation it shows.
	Generation uint64
	// Taken is when the pass finished.
	Taken time.Time
	// Entries are sorted by context name.
	Entries []FleetEntry
}

// ArgoSuspension is an Argo CD application's automated sync suspended by vigil: by whom, why,
// since and until when (zero when no expiry was given); Broken says why its annotations could
// not be read, when they could not.
type ArgoSuspension struct {
	By, Reason, Broken string
	At, Until          time.Time
}

// Reminder is the header's line for it: "fintech-app auto-sync suspended by alice for 47 more
// minutes: re-enable or revert in Git", or that its time is up.
func (s ArgoSuspension) Reminder(app string, now time.Time) string {
	g := gitops.Suspension{By: s.By, Reason: s.Reason, At: s.At, Until: s.Until}
	return g.Reminder(app, now)
}
