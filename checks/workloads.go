package checks

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Workload is anything that runs pods, reduced to what the checks read: a
// Deployment, StatefulSet, DaemonSet, Job or CronJob by its pod template,
// or a Pod that no such controller owns.
type Workload struct {
	Resource
	// Labels are the workload object's own labels.
	Labels map[string]string
	// Replicas is the desired replica count; nil when the kind has none
	// (DaemonSet, Job, Pod) or it is unset (Kubernetes defaults it to 1).
	Replicas *int32
	// Template is the pod template (for a Pod: its metadata and spec).
	Template corev1.PodTemplateSpec
	// Field is the path to the pod spec within the object, for evidence.
	Field string
}

// Ref returns the workload as a finding's resource.
func (w Workload) Ref() Resource { return w.Resource }

// Spec returns the pod spec.
func (w Workload) Spec() *corev1.PodSpec { return &w.Template.Spec }

// IsPCI reports whether the workload carries the PCI label on itself or its
// pods (compliance: pci-dss), the seed's marker for cardholder-data services.
func (w Workload) IsPCI() bool {
	return w.Labels["compliance"] == "pci-dss" || w.Template.Labels["compliance"] == "pci-dss"
}

// DesiredReplicas is Replicas with Kubernetes' default of 1.
func (w Workload) DesiredReplicas() int32 {
	if w.Replicas == nil {
		return 1
	}
	return *w.Replicas
}

// derived holds what the checks of one Run share, each worked out on first use.
type derived struct {
	workloadsOnce sync.Once
	workloads     []Workload
}

// workloads returns every workload of the inventory in a stable order, worked
// out once per Run (it was 80 % of the catalogue's time at 10k pods when every
// check listed them afresh). The slice is shared by the checks: clipped, so an
// append copies it, and read only.
func (inv *Inventory) workloads() []Workload {
	d := inv.derived
	if d == nil {
		return inv.listWorkloads()
	}
	d.workloadsOnce.Do(func() { d.workloads = slices.Clip(inv.listWorkloads()) })
	return d.workloads
}

// listWorkloads returns every workload of the inventory in a stable order.
// Pods and Jobs whose controller is in the inventory are left out: their
// controller's template is evaluated instead. One whose controller is not
// (a Pod exported alone, a Job without its CronJob) is judged itself, so no
// object of the input goes unjudged.
func (inv *Inventory) listWorkloads() []Workload {
	var out []Workload
	listed := map[string]bool{}
	for _, d := range inv.Deployments {
		listed["Deployment/"+d.Namespace+"/"+d.Name] = true
		out = append(out, Workload{Resource: Resource{"Deployment", d.Namespace, d.Name}, Labels: d.Labels,
			Replicas: d.Spec.Replicas, Template: d.Spec.Template, Field: "spec.template.spec"})
	}
	for _, s := range inv.StatefulSets {
		listed["StatefulSet/"+s.Namespace+"/"+s.Name] = true
		out = append(out, Workload{Resource: Resource{"StatefulSet", s.Namespace, s.Name}, Labels: s.Labels,
			Replicas: s.Spec.Replicas, Template: s.Spec.Template, Field: "spec.template.spec"})
	}
	for _, d := range inv.DaemonSets {
		listed["DaemonSet/"+d.Namespace+"/"+d.Name] = true
		out = append(out, Workload{Resource: Resource{"DaemonSet", d.Namespace, d.Name}, Labels: d.Labels,
			Template: d.Spec.Template, Field: "spec.template.spec"})
	}
	for _, c := range inv.CronJobs {
		listed["CronJob/"+c.Namespace+"/"+c.Name] = true
	}
	for _, j := range inv.Jobs {
		listed["Job/"+j.Namespace+"/"+j.Name] = true
		if controllerListed(listed, j.Namespace, j.OwnerReferences) {
			continue
		}
		out = append(out, Workload{Resource: Resource{"Job", j.Namespace, j.Name}, Labels: j.Labels,
			Template: j.Spec.Template, Field: "spec.template.spec"})
	}
	for _, c := range inv.CronJobs {
		out = append(out, Workload{Resource: Resource{"CronJob", c.Namespace, c.Name}, Labels: c.Labels,
			Template: c.Spec.JobTemplate.Spec.Template, Field: "spec.jobTemplate.spec.template.spec"})
	}
	for _, p := range inv.Pods {
		if controllerListed(listed, p.Namespace, p.OwnerReferences) {
			continue
		}
		out = append(out, Workload{Resource: Resource{"Pod", p.Namespace, p.Name}, Labels: p.Labels,
			Template: corev1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.Spec}, Field: "spec"})
	}
	return out
}

// controllerListed reports whether an object's controller is in the
// inventory (listed holds "Kind/namespace/name"). A ReplicaSet counts when
// the Deployment it is named after is (a Deployment's ReplicaSets are
// "<deployment>-<pod-template-hash>"): manifests and a headless LIST carry
// no ReplicaSets, so a live session's own ReplicaSets are not consulted
// either, and both judge the same pods.
func controllerListed(listed map[string]bool, ns string, refs []metav1.OwnerReference) bool {
	for _, r := range refs {
		if r.Controller == nil || !*r.Controller {
			continue
		}
		if listed[r.Kind+"/"+ns+"/"+r.Name] {
			return true
		}
		if i := strings.LastIndex(r.Name, "-"); r.Kind == "ReplicaSet" && i > 0 && listed["Deployment/"+ns+"/"+r.Name[:i]] {
			return true
		}
	}
	return false
}

// servingWorkloads are the long-running, replicated kinds the operations
// checks apply to: Deployments and StatefulSets.
func (inv *Inventory) servingWorkloads() []Workload {
	var out []Workload
	for _, w := range inv.workloads() {
		if w.Kind == "Deployment" || w.Kind == "StatefulSet" {
			out = append(out, w)
		}
	}
	return out
}

// systemNamespaces are left out of namespace-level checks unless the
// configuration names them.
var systemNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// scopedNamespaces returns the namespaces namespace-level checks evaluate.
func (inv *Inventory) scopedNamespaces() []*corev1.Namespace {
	var out []*corev1.Namespace
	for _, ns := range inv.Namespaces {
		if len(inv.Config.Namespaces) > 0 {
			if slices.Contains(inv.Config.Namespaces, ns.Name) {
				out = append(out, ns)
			}
			continue
		}
		if !slices.Contains(systemNamespaces, ns.Name) {
			out = append(out, ns)
		}
	}
	return out
}

// namespace returns the namespace object by name, if listed.
func (inv *Inventory) namespace(name string) (*corev1.Namespace, bool) {
	for _, ns := range inv.Namespaces {
		if ns.Name == name {
			return ns, true
		}
	}
	return nil, false
}

// isProduction reports whether the workload's namespace is labelled
// environment: production (the seed's convention).
func (inv *Inventory) isProduction(namespace string) bool {
	ns, ok := inv.namespace(namespace)
	return ok && ns.Labels["environment"] == "production"
}

// isCritical reports whether a workload is a critical service: PCI-labelled
// or in a production namespace.
func (inv *Inventory) isCritical(w Workload) bool {
	return w.IsPCI() || inv.isProduction(w.Namespace)
}

// selects reports whether a label selector matches the labels; a nil
// selector matches nothing, an empty one everything.
func selects(sel *metav1.LabelSelector, lbls map[string]string) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(lbls))
}

// allContainers returns init, regular and ephemeral containers with their
// field path prefix.
func allContainers(spec *corev1.PodSpec, field string) []fieldContainer {
	var out []fieldContainer
	for i, c := range spec.InitContainers {
		out = append(out, fieldContainer{c, fmtField(field, "initContainers", i, c.Name), true})
	}
	for i, c := range spec.Containers {
		out = append(out, fieldContainer{c, fmtField(field, "containers", i, c.Name), false})
	}
	return out
}

// fieldContainer is a container with the path it was found at.
type fieldContainer struct {
	corev1.Container
	Field string
	Init  bool
}

func fmtField(base, list string, i int, name string) string {
	return fmt.Sprintf("%s.%s[%d](%s)", base, list, i, name)
}
