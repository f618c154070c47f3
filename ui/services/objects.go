package services

import (
	"charm.land/bubbles/v2/key"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/events"
	"github.com/vigil-k8s/vigil/ui/manifest"
	"github.com/vigil-k8s/vigil/ui/objects"
)

// Keys of the object views: y the YAML of an object shown, e the events
// and conditions of the service and its pods.
var (
	keyYAML   = key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yaml"))
	keyEvents = key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "events"))
)

// workloadRef names the service's workload.
func workloadRef(s estate.Service) estate.ObjectRef {
	return estate.ObjectRef{Kind: s.Kind, Namespace: s.Namespace, Name: s.Name}
}

// shownObjects lists the objects a service's detail shows: the workload,
// its pods, autoscalers, PDB, Services and Argo CD Application.
func shownObjects(s estate.Service) []estate.ObjectRef {
	out := []estate.ObjectRef{workloadRef(s)}
	for _, p := range s.Pods {
		out = append(out, estate.ObjectRef{Kind: "Pod", Namespace: s.Namespace, Name: p.Name})
	}
	if s.HPA.Name != "" {
		out = append(out, estate.ObjectRef{Kind: "HorizontalPodAutoscaler", Namespace: or(s.HPA.Namespace, s.Namespace), Name: s.HPA.Name})
	}
	if s.VPA.Name != "" {
		out = append(out, estate.ObjectRef{Kind: "VerticalPodAutoscaler", Namespace: or(s.VPA.Namespace, s.Namespace), Name: s.VPA.Name})
	}
	if s.PDB.Name != "" {
		out = append(out, estate.ObjectRef{Kind: "PodDisruptionBudget", Namespace: or(s.PDB.Namespace, s.Namespace), Name: s.PDB.Name})
	}
	for _, e := range s.Endpoints {
		out = append(out, estate.ObjectRef{Kind: "Service", Namespace: s.Namespace, Name: e.Name})
	}
	if s.Argo.Name != "" {
		out = append(out, estate.ObjectRef{Kind: "Application", Namespace: s.Argo.Namespace, Name: s.Argo.Name})
	}
	return out
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// yamlView is the YAML view of ref in the context on screen.
func yamlView(c common.Common, d *common.Data, ref estate.ObjectRef) common.Component {
	return manifest.New(c, d.Manifest, ref)
}

// eventsView is the events view of ref and its pods.
func eventsView(c common.Common, d *common.Data, ref estate.ObjectRef) common.Component {
	return events.New(c, d, d.Events, ref)
}

// yamlChooser offers the YAML of every object the detail of s shows.
func yamlChooser(c common.Common, d *common.Data, s estate.Service) common.Component {
	return objects.NewChooser(c, "YAML of", shownObjects(s), func(ref estate.ObjectRef) common.Component { return yamlView(c, d, ref) })
}
