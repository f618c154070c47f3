package estate

import corev1 "k8s.io/api/core/v1"

// ObjectRef names one object of the cluster the UI shows (a workload, a
// pod, an HPA, an Argo CD Application…) for what is fetched about it on
// demand: its manifest, its events and conditions.
type ObjectRef struct {
	// Kind is the object's kind as the API names it ("Deployment",
	// "HorizontalPodAutoscaler", "Application").
	Kind string
	// Namespace is empty for cluster-scoped objects.
	Namespace, Name string
}

// String is "Kind namespace/name".
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// ObjectEvents is what happened to an object and its pods: their events of
// every type, newest first, and their conditions now. It is fetched on
// demand (the session watches only Warning events).
type ObjectEvents struct {
	// Ref is the object asked about.
	Ref ObjectRef
	// Events are the events of the object, its ReplicaSets (a
	// Deployment's) and its pods, newest first.
	Events []KubeEvent
	// Conditions are the object's status conditions, then its pods'.
	Conditions []ObjectCondition
}

// ObjectCondition is one status condition of an object.
type ObjectCondition struct {
	// Kind and Name are the object's that has it.
	Kind, Name string
	Condition
}

// RecentEvents returns at most max events of items, newest first, as
// the screens show them (counts of a series, the last time each happened).
func RecentEvents(items []*corev1.Event, max int) []KubeEvent { return recentEvents(items, max) }
