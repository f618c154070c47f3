package evidence

import (
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/vigil-k8s/vigil/checks"
)

// Estate is the inventory a reviewer keeps: namespaces and their labels, workloads and the
// images they run, and the names of Secrets. It carries no Secret data, no ConfigMap data and
// no environment values: only names, labels, replica counts and image references.
type Estate struct {
	// Origin says what was listed (context and namespaces).
	Origin     string      `json:"origin"`
	Namespaces []Namespace `json:"namespaces"`
	Workloads  []Workload  `json:"workloads"`
	// Images lists every image referenced by a workload or pod, with who uses it.
	Images []Image `json:"images"`
	// Secrets are names and types only.
	Secrets []SecretName `json:"secrets"`
	// Unlisted maps resources the credentials could not list to the API's reason.
	Unlisted map[string]string `json:"unlisted,omitempty"`
}

// Namespace is a namespace and its labels.
type Namespace struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

// Workload is a controller and the images of its pod template.
type Workload struct {
	Kind      string   `json:"kind"`
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	Replicas  *int32   `json:"replicas,omitempty"`
	Images    []string `json:"images"`
}

// Image is an image reference and the workloads (kind/namespace/name) that use it.
type Image struct {
	Image string   `json:"image"`
	Users []string `json:"usedBy"`
}

// SecretName names a Secret without its content.
type SecretName struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Type      string `json:"type,omitempty"`
}

// EstateOf summarises an inventory (as listed for `vigil check`) for the bundle.
func EstateOf(inv *checks.Inventory) Estate {
	e := Estate{Origin: inv.Origin, Namespaces: []Namespace{}, Workloads: []Workload{}, Images: []Image{}, Secrets: []SecretName{}}
	for _, ns := range inv.Namespaces {
		labels := maps.Clone(ns.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		e.Namespaces = append(e.Namespaces, Namespace{Name: ns.Name, Labels: labels})
	}
	add := func(kind, ns, name string, replicas *int32, spec corev1.PodSpec) {
		w := Workload{Kind: kind, Namespace: ns, Name: name, Images: podImages(spec)}
		if replicas != nil {
			r := *replicas
			w.Replicas = &r
		}
		e.Workloads = append(e.Workloads, w)
	}
	for _, d := range inv.Deployments {
		add("Deployment", d.Namespace, d.Name, d.Spec.Replicas, d.Spec.Template.Spec)
	}
	for _, s := range inv.StatefulSets {
		add("StatefulSet", s.Namespace, s.Name, s.Spec.Replicas, s.Spec.Template.Spec)
	}
	for _, d := range inv.DaemonSets {
		add("DaemonSet", d.Namespace, d.Name, nil, d.Spec.Template.Spec)
	}
	for _, c := range inv.CronJobs {
		add("CronJob", c.Namespace, c.Name, nil, c.Spec.JobTemplate.Spec.Template.Spec)
	}
	for _, j := range inv.Jobs {
		if len(j.OwnerReferences) == 0 { // a CronJob's jobs are covered by the CronJob
			add("Job", j.Namespace, j.Name, nil, j.Spec.Template.Spec)
		}
	}
	slices.SortFunc(e.Workloads, func(a, b Workload) int {
		return strings.Compare(a.Kind+"/"+a.Namespace+"/"+a.Name, b.Kind+"/"+b.Namespace+"/"+b.Name)
	})

	users := map[string]map[string]bool{}
	use := func(image, who string) {
		if users[image] == nil {
			users[image] = map[string]bool{}
		}
		users[image][who] = true
	}
	for _, w := range e.Workloads {
		for _, img := range w.Images {
			use(img, w.Kind+"/"+w.Namespace+"/"+w.Name)
		}
	}
	for _, p := range inv.Pods { // running pods may differ from templates (or have no controller)
		for _, img := range podImages(p.Spec) {
			if len(users[img]) == 0 {
				use(img, "Pod/"+p.Namespace+"/"+p.Name)
			}
		}
	}
	for _, img := range slices.Sorted(maps.Keys(users)) {
		e.Images = append(e.Images, Image{Image: img, Users: slices.Sorted(maps.Keys(users[img]))})
	}

	for _, s := range inv.Secrets {
		e.Secrets = append(e.Secrets, SecretName{Namespace: s.Namespace, Name: s.Name, Type: string(s.Type)})
	}
	slices.SortFunc(e.Secrets, func(a, b SecretName) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	if len(inv.Forbidden) > 0 {
		e.Unlisted = maps.Clone(inv.Forbidden)
	}
	return e
}

func podImages(spec corev1.PodSpec) []string {
	var out []string
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for _, c := range cs {
			if c.Image != "" && !slices.Contains(out, c.Image) {
				out = append(out, c.Image)
			}
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}
