package cluster

import "time"

// Snapshot is one immutable picture of a kube context's watched namespaces.
// It holds plain values only, never pointers into an informer cache, so a
// receiver may keep or read it from any goroutine.
type Snapshot struct {
	// Context is the kube context the snapshot was taken from.
	Context string
	// Generation is the Session generation that produced it; a receiver
	// drops snapshots whose generation is older than the session it shows.
	Generation uint64
	// Seq numbers the snapshots of one session, starting at 1.
	Seq uint64
	// Taken is when the snapshot was built.
	Taken time.Time
	// Synced is true once every started informer has listed once.
	Synced bool
	// Services are the Deployments and StatefulSets, unhealthy first, then
	// by namespace and name.
	Services []Service
	// Namespaces tells, per watched namespace, whether it exists and what
	// vigil may see in it.
	Namespaces []NamespaceStatus
	// Problems are short human notes, e.g. "no access to pods in fintech-prod".
	Problems []string
	// Conn is the connection state when the snapshot was built.
	Conn ConnState
}

// Service is one workload as vigil shows it.
type Service struct {
	// Namespace and Name identify the workload.
	Namespace, Name string
	// Kind is "Deployment" or "StatefulSet".
	Kind string
	// Desired is spec.replicas (1 when unset).
	Desired int32
	// Ready counts ready pods as the controller reports them.
	Ready int32
	// UpToDate counts pods of the current revision.
	UpToDate int32
	// Available counts pods available for at least minReadySeconds.
	Available int32
	// Pods counts the pods vigil sees for the workload.
	Pods int
	// Restarts is the sum of container restarts over its pods.
	Restarts int32
	// Created is the workload's creation time.
	Created time.Time
	// Health is the derived status with its reason.
	Health Health
	// HPA describes the HorizontalPodAutoscaler targeting it, if any.
	HPA HPAInfo
}

// Key returns "namespace/name/kind", unique within a snapshot.
func (s Service) Key() string { return s.Namespace + "/" + s.Name + "/" + s.Kind }

// HPAInfo is what a HorizontalPodAutoscaler says about its target.
type HPAInfo struct {
	// Name is the HPA's name; empty when none targets the workload.
	Name string
	// Min, Max, Current and Desired are the HPA's replica bounds and counts.
	Min, Max, Current, Desired int32
}

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
