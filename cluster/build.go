package cluster

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Objects are the typed objects one snapshot is built from, as listed from
// the informer caches. BuildServices only reads them.
type Objects struct {
	Deployments  []*appsv1.Deployment
	StatefulSets []*appsv1.StatefulSet
	ReplicaSets  []*appsv1.ReplicaSet
	Pods         []*corev1.Pod
	HPAs         []*autoscalingv2.HorizontalPodAutoscaler
}

// BuildServices turns cached objects into Services sorted unhealthy first,
// then by namespace, name and kind. It copies every value it keeps, so the
// result shares no memory with the cache.
func BuildServices(objs Objects, now time.Time) []Service {
	// Pods belong to a ReplicaSet (Deployment) or directly to a StatefulSet.
	rsOwner := make(map[string]string, len(objs.ReplicaSets)) // ns/rs -> deployment
	for _, rs := range objs.ReplicaSets {
		if ref := metav1.GetControllerOf(rs); ref != nil && ref.Kind == "Deployment" {
			rsOwner[rs.Namespace+"/"+rs.Name] = ref.Name
		}
	}
	podsOf := make(map[string][]PodFacts) // ns/name/kind -> pods
	for _, p := range objs.Pods {
		ref := metav1.GetControllerOf(p)
		if ref == nil {
			continue
		}
		var key string
		switch ref.Kind {
		case "ReplicaSet":
			dep, ok := rsOwner[p.Namespace+"/"+ref.Name]
			if !ok {
				continue
			}
			key = p.Namespace + "/" + dep + "/Deployment"
		case "StatefulSet":
			key = p.Namespace + "/" + ref.Name + "/StatefulSet"
		default:
			continue
		}
		podsOf[key] = append(podsOf[key], PodFactsOf(p))
	}
	hpaOf := make(map[string]HPAInfo, len(objs.HPAs))
	for _, h := range objs.HPAs {
		ref := h.Spec.ScaleTargetRef
		minR := int32(1)
		if h.Spec.MinReplicas != nil {
			minR = *h.Spec.MinReplicas
		}
		hpaOf[h.Namespace+"/"+ref.Name+"/"+ref.Kind] = HPAInfo{
			Name: h.Name, Min: minR, Max: h.Spec.MaxReplicas,
			Current: h.Status.CurrentReplicas, Desired: h.Status.DesiredReplicas,
		}
	}

	out := make([]Service, 0, len(objs.Deployments)+len(objs.StatefulSets))
	for _, d := range objs.Deployments {
		s := Service{Namespace: d.Namespace, Name: d.Name, Kind: "Deployment", Created: d.CreationTimestamp.Time}
		facts := DeploymentFacts(d)
		facts.Pods = podsOf[s.Key()]
		out = append(out, finish(s, facts, hpaOf[s.Key()], now))
	}
	for _, st := range objs.StatefulSets {
		s := Service{Namespace: st.Namespace, Name: st.Name, Kind: "StatefulSet", Created: st.CreationTimestamp.Time}
		facts := StatefulSetFacts(st)
		facts.Pods = podsOf[s.Key()]
		out = append(out, finish(s, facts, hpaOf[s.Key()], now))
	}
	SortServices(out)
	return out
}

func finish(s Service, f WorkloadFacts, hpa HPAInfo, now time.Time) Service {
	s.Desired, s.Ready, s.UpToDate, s.Available = f.Desired, f.Ready, f.UpToDate, f.Available
	s.PodCount = len(f.Pods)
	for _, p := range f.Pods {
		s.Restarts += p.Restarts
	}
	s.Health = DeriveHealth(f, now)
	s.HPA = hpa
	return s
}

// SortServices orders services unhealthy first (Down, Degraded, Unknown,
// Progressing, OK), then by namespace, name and kind.
func SortServices(s []Service) {
	sort.SliceStable(s, func(i, j int) bool {
		a, b := s[i], s[j]
		if a.Health.Status != b.Health.Status {
			return a.Health.Status < b.Health.Status
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Kind < b.Kind
	})
}

// DeploymentFacts copies what health needs out of a Deployment (without pods).
func DeploymentFacts(d *appsv1.Deployment) WorkloadFacts {
	f := WorkloadFacts{
		Kind:               "Deployment",
		Desired:            replicas(d.Spec.Replicas),
		Ready:              d.Status.ReadyReplicas,
		UpToDate:           d.Status.UpdatedReplicas,
		Available:          d.Status.AvailableReplicas,
		Generation:         d.Generation,
		ObservedGeneration: d.Status.ObservedGeneration,
		Paused:             d.Spec.Paused,
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
			f.ProgressDeadlineExceeded = true
		}
	}
	return f
}

// StatefulSetFacts copies what health needs out of a StatefulSet (without pods).
func StatefulSetFacts(s *appsv1.StatefulSet) WorkloadFacts {
	return WorkloadFacts{
		Kind:               "StatefulSet",
		Desired:            replicas(s.Spec.Replicas),
		Ready:              s.Status.ReadyReplicas,
		UpToDate:           s.Status.UpdatedReplicas,
		Available:          s.Status.AvailableReplicas,
		Generation:         s.Generation,
		ObservedGeneration: s.Status.ObservedGeneration,
	}
}

// PodFactsOf copies what health needs out of a Pod.
func PodFactsOf(p *corev1.Pod) PodFacts {
	f := PodFacts{
		Name:        p.Name,
		Phase:       string(p.Status.Phase),
		Terminating: p.DeletionTimestamp != nil,
		Created:     p.CreationTimestamp.Time,
	}
	for _, c := range p.Status.Conditions {
		switch c.Type {
		case corev1.PodReady:
			f.Ready = c.Status == corev1.ConditionTrue
		case corev1.PodScheduled:
			f.Unschedulable = c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable
		}
	}
	for _, cs := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		f.Restarts += cs.RestartCount
		if w := cs.State.Waiting; w != nil && w.Reason != "" && rankWaiting(w.Reason) < rankWaiting(f.Waiting) {
			f.Waiting = w.Reason
		}
		if t := cs.LastTerminationState.Terminated; t != nil && t.Reason != "" && (f.LastTerminated == "" || t.Reason == "OOMKilled") {
			f.LastTerminated = t.Reason
		}
	}
	return f
}

// rankWaiting orders waiting reasons: failures first, then anything, then none.
func rankWaiting(reason string) int {
	if reason == "" {
		return 100
	}
	if r := failingReasons[reason]; r > 0 {
		return r
	}
	return 50
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}
