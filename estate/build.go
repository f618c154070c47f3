package estate

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	vpav1 "k8s.io/autoscaler/vertical-pod-autoscaler/pkg/apis/autoscaling.k8s.io/v1"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// Objects are the objects one snapshot is built from, as listed from the
// informer caches: one slice per entry of checks.Kinds. The builders and the
// compliance checks only read them.
type Objects = checks.Inventory

// Extras are the inputs of a snapshot that do not come from informers.
type Extras struct {
	// Usage is each pod's usage; nil when unavailable.
	Usage PodUsages
	// Alerts are the polled alerts, not yet joined to services.
	Alerts AlertsView
	// AlertLabels say which labels join alerts to services.
	AlertLabels config.AlertLabels
	// OOMKills maps "namespace/pod/container" to the OOM kill times seen.
	OOMKills map[string][]time.Time

	// Pods carries derived pod values from one build to the next (a
	// Session's); nil derives every pod.
	Pods *PodCache
}

// PodUsages are one poll of usage: each pod's, by namespace and then pod
// name. Two maps rather than one keyed "namespace/pod": a build looks up
// every pod, and the pod's own strings are the keys, with no key built.
type PodUsages map[string]map[string]PodUsage

// Of returns the usage of the pod namespace/name, if polled.
func (u PodUsages) Of(namespace, name string) (PodUsage, bool) {
	pu, ok := u[namespace][name]
	return pu, ok
}

// Set records the usage of the pod namespace/name.
func (u PodUsages) Set(namespace, name string, pu PodUsage) {
	byName := u[namespace]
	if byName == nil {
		byName = map[string]PodUsage{}
		u[namespace] = byName
	}
	byName[name] = pu
}

// PodUsage is one pod's polled usage.
type PodUsage struct {
	// Containers are its containers' use, in the order polled. A slice
	// rather than a map: pods have a few containers, and a build reads
	// every pod's (one slice, not a map's header, groups and keys).
	Containers []ContainerUsage
	// Window is the metrics window.
	Window time.Duration
}

// ContainerUsage is one container's polled use.
type ContainerUsage struct {
	Name string
	Resources
}

// Container returns the use of the container named name, if polled.
func (u PodUsage) Container(name string) (Resources, bool) {
	for i := range u.Containers {
		if u.Containers[i].Name == name {
			return u.Containers[i].Resources, true
		}
	}
	return Resources{}, false
}

// BuildServices turns cached objects into Services sorted unhealthy first,
// then by namespace, name and kind. It copies every value it keeps, so the
// result shares no memory with the cache.
func BuildServices(objs Objects, now time.Time) []Service {
	var snap Snapshot
	Assemble(&snap, objs, Extras{}, now)
	return snap.Services
}

// Assemble derives everything a Snapshot shows from objects and extras,
// filling snap's derived fields. It is pure: same input, same snapshot.
func Assemble(snap *Snapshot, objs Objects, x Extras, now time.Time) {
	// Pods belong to a ReplicaSet (Deployment) or directly to a StatefulSet/DaemonSet.
	rsOwner := make(map[workloadID]string, len(objs.ReplicaSets)) // ReplicaSet → its Deployment
	for _, rs := range objs.ReplicaSets {
		if ref := metav1.GetControllerOfNoCopy(rs); ref != nil && ref.Kind == "Deployment" {
			rsOwner[workloadID{rs.Namespace, rs.Name, "ReplicaSet"}] = ref.Name
		}
	}
	cache := x.Pods
	if cache == nil {
		cache = NewPodCache()
	}
	podsOf := cache.build(objs.Pods, x.Usage, rsOwner)

	hpaOf := map[string]HPAInfo{}
	snap.HPAs = make([]HPAInfo, 0, len(objs.HPAs))
	for _, h := range objs.HPAs {
		info := HPAOf(h)
		hpaOf[h.Namespace+"/"+info.TargetName+"/"+info.TargetKind] = info
		snap.HPAs = append(snap.HPAs, info)
	}
	sortHPAs(snap.HPAs)

	causes := podCauses(objs.Events)
	revs := revisionsByWorkload(objs, rsOwner)
	argo := argoByWorkload(objs.Applications)
	oomBy := oomsByPod(x.OOMKills, now)

	build := func(s Service, f WorkloadFacts, template corev1.PodTemplateSpec) Service {
		if w := podsOf[workloadID{s.Namespace, s.Name, s.Kind}]; w != nil {
			f.Pods = w.facts
			f.Causes = causes[s.Namespace]
			s.Pods = w.infos // in name order, shared with earlier snapshots: read-only
			s.Restarts, s.Usage, s.UsagePods = w.restarts, w.usage, w.usagePods
		} else {
			s.Usage, s.UsagePods = ServiceUsage(nil)
		}
		s.Desired, s.Ready, s.UpToDate, s.Available = f.Desired, f.Ready, f.UpToDate, f.Available
		s.PodCount = len(s.Pods)
		s.Images = imagesOf(template.Spec.Containers)
		s.Health = DeriveHealth(f, now)
		s.HPA = hpaOf[s.Key()]
		s.Revisions = revs[s.Key()]
		if s.Kind != "Deployment" {
			countRevisionPods(s.Revisions, s.Pods)
		}
		s.Endpoints = endpointsFor(s.Namespace, template.Labels, objs.Services, objs.EndpointSlices)
		s.PDB = pdbFor(s.Namespace, template.Labels, objs.PDBs)
		s.VPA = vpaFor(s, template.Spec.Containers, objs.VPAs)
		s.Argo = argo[s.Key()]
		ooms := 0
		for i := 0; len(oomBy) > 0 && i < len(s.Pods); i++ {
			ooms += oomBy[s.Namespace+"/"+s.Pods[i].Name]
		}
		s.Health = withAutoscaling(s.Health, s.HPA, ooms)
		return s
	}

	snap.Services = make([]Service, 0, len(objs.Deployments)+len(objs.StatefulSets))
	for _, d := range objs.Deployments {
		s := Service{Namespace: d.Namespace, Name: d.Name, Kind: "Deployment", Created: d.CreationTimestamp.Time, Labels: d.Labels}
		snap.Services = append(snap.Services, build(s, DeploymentFacts(d), d.Spec.Template))
	}
	for _, st := range objs.StatefulSets {
		s := Service{Namespace: st.Namespace, Name: st.Name, Kind: "StatefulSet", Created: st.CreationTimestamp.Time, Labels: st.Labels}
		snap.Services = append(snap.Services, build(s, StatefulSetFacts(st), st.Spec.Template))
	}
	snap.DaemonSets = nil
	for _, ds := range objs.DaemonSets {
		s := Service{Namespace: ds.Namespace, Name: ds.Name, Kind: "DaemonSet", Created: ds.CreationTimestamp.Time, Labels: ds.Labels}
		snap.DaemonSets = append(snap.DaemonSets, build(s, DaemonSetFacts(ds), ds.Spec.Template))
	}
	SortServices(snap.DaemonSets)

	snap.PDBs = nil
	for _, p := range objs.PDBs {
		snap.PDBs = append(snap.PDBs, PDBOf(p))
	}
	sort.Slice(snap.PDBs, func(i, j int) bool {
		return snap.PDBs[i].Namespace+"/"+snap.PDBs[i].Name < snap.PDBs[j].Namespace+"/"+snap.PDBs[j].Name
	})
	snap.VPAs = nil
	templates := templatesByWorkload(objs)
	for _, v := range objs.VPAs {
		var tmpl []corev1.Container
		if v.Spec.TargetRef != nil {
			tmpl = templates[v.Namespace+"/"+v.Spec.TargetRef.Name+"/"+v.Spec.TargetRef.Kind]
		}
		snap.VPAs = append(snap.VPAs, VPAOf(v, tmpl))
	}
	sort.Slice(snap.VPAs, func(i, j int) bool {
		return snap.VPAs[i].Namespace+"/"+snap.VPAs[i].Name < snap.VPAs[j].Namespace+"/"+snap.VPAs[j].Name
	})

	assembleGitOps(snap, objs, now)
	snap.Secrets = secretsMeta(objs.Secrets)
	snap.Events = recentEvents(objs.Events, MaxEvents)

	snap.Alerts = JoinAlerts(x.Alerts, snap.Services, x.AlertLabels)
	byKey := make(map[string][]Alert)
	for _, a := range snap.Alerts.Alerts {
		if a.Service != "" {
			byKey[a.Service] = append(byKey[a.Service], a)
		}
	}
	for i := range snap.Services {
		svc := &snap.Services[i]
		svc.Alerts = byKey[svc.Key()]
		svc.Health = withAlerts(svc.Health, svc.Alerts)
	}
	withRates(snap.Services, x.Alerts.Rates, x.AlertLabels)
	SortServices(snap.Services)
}

// withAlerts adds the service's firing, unsilenced critical and warning
// alerts to its health: an on-call engineer must not see "OK" beside a
// firing HighErrorRate. An OK or Progressing service becomes Degraded; a
// worse one keeps its status and gains the note.
func withAlerts(h Health, alerts []Alert) Health {
	var names []string
	for _, a := range alerts {
		if a.State != "firing" || len(a.SilencedBy) > 0 || (a.Severity != "critical" && a.Severity != "warning") {
			continue
		}
		if !slices.Contains(names, a.Name) {
			names = append(names, a.Name)
		}
	}
	if len(names) == 0 {
		return h
	}
	note := "alert " + strings.Join(names, ", ") + " firing"
	if h.Status == StatusOK || h.Status == StatusProgressing {
		return Health{Status: StatusDegraded, Reason: joinReason(h.Reason, note)}
	}
	return Health{Status: h.Status, Reason: joinReason(h.Reason, note)}
}

// withAutoscaling adds what the HPA and OOM kills say to a workload's health:
// an otherwise OK service whose HPA is at max, or whose pods were OOM-killed
// within the hour, is Degraded; otherwise the note joins the reason.
func withAutoscaling(h Health, hpa HPAInfo, ooms int) Health {
	var notes []string
	if hpa.Name != "" && hpa.Reason != "" {
		notes = append(notes, hpa.Reason)
	}
	if ooms > 0 {
		notes = append(notes, fmt.Sprintf("OOMKilled %d× in 1h", ooms))
	}
	if len(notes) == 0 {
		return h
	}
	note := strings.Join(notes, "; ")
	if h.Status == StatusOK || h.Status == StatusProgressing {
		return Health{Status: StatusDegraded, Reason: joinReason(h.Reason, note)}
	}
	return Health{Status: h.Status, Reason: joinReason(h.Reason, note)}
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// oomsByPod counts OOM kills within the last hour per "namespace/pod".
func oomsByPod(kills map[string][]time.Time, now time.Time) map[string]int {
	out := map[string]int{}
	for key, times := range kills {
		i := strings.LastIndexByte(key, '/')
		if i < 0 {
			continue
		}
		for _, t := range times {
			if now.Sub(t) <= time.Hour {
				out[key[:i]]++
			}
		}
	}
	return out
}

func templatesByWorkload(objs Objects) map[string][]corev1.Container {
	out := map[string][]corev1.Container{}
	for _, d := range objs.Deployments {
		out[d.Namespace+"/"+d.Name+"/Deployment"] = d.Spec.Template.Spec.Containers
	}
	for _, s := range objs.StatefulSets {
		out[s.Namespace+"/"+s.Name+"/StatefulSet"] = s.Spec.Template.Spec.Containers
	}
	for _, d := range objs.DaemonSets {
		out[d.Namespace+"/"+d.Name+"/DaemonSet"] = d.Spec.Template.Spec.Containers
	}
	return out
}

func vpaFor(s Service, containers []corev1.Container, vpas []*vpav1.VerticalPodAutoscaler) VPAInfo {
	for _, v := range vpas {
		if v.Namespace == s.Namespace && v.Spec.TargetRef != nil && v.Spec.TargetRef.Name == s.Name && v.Spec.TargetRef.Kind == s.Kind {
			return VPAOf(v, containers)
		}
	}
	return VPAInfo{}
}

func pdbFor(ns string, labels map[string]string, pdbs []*policyv1.PodDisruptionBudget) PDBInfo {
	for _, p := range pdbs {
		if p.Namespace == ns && selects(p.Spec.Selector, labels) {
			return PDBOf(p)
		}
	}
	return PDBInfo{}
}

func endpointsFor(ns string, labels map[string]string, svcs []*corev1.Service, slices []*discoveryv1.EndpointSlice) []ServiceEndpoint {
	var out []ServiceEndpoint
	for _, svc := range svcs {
		if svc.Namespace != ns || !mapSelects(svc.Spec.Selector, labels) {
			continue
		}
		e := ServiceEndpoint{Name: svc.Name, Type: string(svc.Spec.Type), ClusterIP: svc.Spec.ClusterIP}
		for _, p := range svc.Spec.Ports {
			port := fmt.Sprintf("%d/%s", p.Port, p.Protocol)
			if p.Name != "" {
				port = p.Name + " " + port
			}
			if t := p.TargetPort.String(); t != "" && t != "0" && t != strconv.Itoa(int(p.Port)) {
				port += "→" + t
			}
			e.Ports = append(e.Ports, port)
		}
		for _, sl := range slices {
			if sl.Namespace != ns || sl.Labels[discoveryv1.LabelServiceName] != svc.Name {
				continue
			}
			for _, ep := range sl.Endpoints {
				if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
					e.Ready += len(ep.Addresses)
				} else {
					e.NotReady += len(ep.Addresses)
				}
			}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func imagesOf(cs []corev1.Container) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Image)
	}
	return out
}

// SortServices orders services unhealthy first (Down, Degraded, Unknown,
// Progressing, OK), then by namespace, name and kind.
func SortServices(s []Service) {
	sort.SliceStable(s, func(i, j int) bool {
		a, b := &s[i], &s[j] // not copies: a Service is hundreds of bytes
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

// DaemonSetFacts copies what health needs out of a DaemonSet (without pods).
func DaemonSetFacts(d *appsv1.DaemonSet) WorkloadFacts {
	return WorkloadFacts{
		Kind:               "DaemonSet",
		Desired:            d.Status.DesiredNumberScheduled,
		Ready:              d.Status.NumberReady,
		UpToDate:           d.Status.UpdatedNumberScheduled,
		Available:          d.Status.NumberAvailable,
		Generation:         d.Generation,
		ObservedGeneration: d.Status.ObservedGeneration,
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
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range list {
			f.Restarts += cs.RestartCount
			if w := cs.State.Waiting; w != nil && w.Reason != "" && rankWaiting(w.Reason) < rankWaiting(f.Waiting) {
				f.Waiting = w.Reason
			}
			if t := cs.LastTerminationState.Terminated; t != nil && t.Reason != "" && (f.LastTerminated == "" || t.Reason == "OOMKilled") {
				f.LastTerminated = t.Reason
			}
		}
	}
	return f
}

// PodInfoOf copies what the screens show of a Pod, with its usage when known.
func PodInfoOf(p *corev1.Pod, usage PodUsages) PodInfo {
	return podInfo(p, PodFactsOf(p), usage)
}

func podInfo(p *corev1.Pod, f PodFacts, usage PodUsages) PodInfo {
	info := PodInfo{
		Name: p.Name, Node: p.Spec.NodeName, Phase: f.Phase, Ready: f.Ready, Terminating: f.Terminating,
		Restarts: f.Restarts, LastTermination: f.LastTerminated, Created: f.Created,
		Revision: p.Labels[appsv1.DefaultDeploymentUniqueLabelKey],
	}
	if info.Revision == "" {
		info.Revision = p.Labels[appsv1.ControllerRevisionHashLabelKey]
	}
	switch {
	case f.Terminating:
		info.Status = "Terminating"
	case f.Waiting != "":
		info.Status = f.Waiting
	case f.Unschedulable:
		info.Status = "Unschedulable"
	default:
		info.Status = f.Phase
	}
	u, haveUsage := usage.Of(p.Namespace, p.Name)
	info.Containers = make([]ContainerInfo, 0, len(p.Spec.Containers))
	info.Usage.Available = haveUsage
	info.Usage.Window = u.Window
	for _, c := range p.Spec.Containers {
		ci := ContainerInfo{Name: c.Name, Image: c.Image}
		if cs := containerStatus(p.Status.ContainerStatuses, c.Name); cs != nil {
			ci.Ready, ci.Restarts = cs.Ready, cs.RestartCount
			switch {
			case cs.State.Running != nil:
				ci.State = "Running"
			case cs.State.Waiting != nil:
				ci.State = cs.State.Waiting.Reason
			case cs.State.Terminated != nil:
				ci.State = "Terminated"
			}
			if t := cs.LastTerminationState.Terminated; t != nil {
				ci.LastTermination = t.Reason
				if t.FinishedAt.After(info.LastTerminationAt) {
					info.LastTerminationAt = t.FinishedAt.Time
				}
			}
		}
		req, lim := ResourcesOf(c.Resources.Requests), ResourcesOf(c.Resources.Limits)
		ci.Usage = Usage{CPURequest: req.CPU, MemoryRequest: req.Memory, CPULimit: lim.CPU, MemoryLimit: lim.Memory, Window: u.Window}
		if use, ok := u.Container(c.Name); ok {
			ci.Usage.Available, ci.Usage.CPU, ci.Usage.Memory = true, use.CPU, use.Memory
		}
		info.Usage = addUsage(info.Usage, ci.Usage)
		info.Usage.Available = haveUsage
		// Free text of the pod's status and spec: terminal-safe here, as
		// pod infos are shared between snapshots and skipped by Scrub.
		ci.Image, ci.State, ci.LastTermination = termsafe.Line(ci.Image), termsafe.Line(ci.State), termsafe.Line(ci.LastTermination)
		info.Containers = append(info.Containers, ci)
	}
	info.Phase, info.Status, info.LastTermination = termsafe.Line(info.Phase), termsafe.Line(info.Status), termsafe.Line(info.LastTermination)
	return info
}

func containerStatus(list []corev1.ContainerStatus, name string) *corev1.ContainerStatus {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

// addUsage sums b into a; the sum is available while every part is.
// ServiceUsage is the one derivation of a workload's usage from its pods' rows (the figures
// the detail's pod rows show): the sum over the pods metrics.k8s.io has figures for, with the
// requests and limits of those same pods so that ratios compare like with like, and how many
// pods that is. A pod too young for a figure (or Pending) leaves the others' usage shown. With
// no pod measured the usage is unavailable and the requests and limits are all pods'.
func ServiceUsage(pods []PodInfo) (Usage, int) {
	var all, measured Usage
	n := 0
	for _, p := range pods {
		all = addUsage(all, p.Usage)
		if p.Usage.Available {
			measured = addUsage(measured, p.Usage)
			n++
		}
	}
	if n == 0 {
		all.Available = false
		return all, 0
	}
	return measured, n
}

func addUsage(a, b Usage) Usage {
	empty := a == (Usage{})
	a.CPU += b.CPU
	a.Memory += b.Memory
	a.CPURequest += b.CPURequest
	a.CPULimit += b.CPULimit
	a.MemoryRequest += b.MemoryRequest
	a.MemoryLimit += b.MemoryLimit
	a.Available = (empty || a.Available) && b.Available
	if b.Window > a.Window {
		a.Window = b.Window
	}
	return a
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

// causeReasons are the Warning event reasons that say why a pod is in trouble, with the
// kubelet's and the scheduler's own words: a failing probe, a back-off, a scheduling failure.
var causeReasons = map[string]bool{"Unhealthy": true, "BackOff": true, "FailedScheduling": true, "Failed": true, "FailedMount": true, "FailedCreatePodSandBox": true}

// podCauses maps namespace → pod name → the message of the pod's latest Warning event among
// causeReasons. Events name pods, so a replaced pod's events never describe its successor.
func podCauses(events []*corev1.Event) map[string]map[string]string {
	type latest struct {
		at  time.Time
		msg string
	}
	by := map[string]map[string]latest{}
	for _, e := range events {
		if e.Type != corev1.EventTypeWarning || e.InvolvedObject.Kind != "Pod" || !causeReasons[e.Reason] {
			continue
		}
		at := eventTime(e)
		m := by[e.Namespace]
		if m == nil {
			m = map[string]latest{}
			by[e.Namespace] = m
		}
		if cur, ok := m[e.InvolvedObject.Name]; !ok || at.After(cur.at) {
			m[e.InvolvedObject.Name] = latest{at, strings.TrimSpace(e.Message)}
		}
	}
	out := make(map[string]map[string]string, len(by))
	for ns, m := range by {
		out[ns] = make(map[string]string, len(m))
		for pod, l := range m {
			out[ns][pod] = l.msg
		}
	}
	return out
}
