package estate

import (
	"fmt"
	"strings"
)

// ArgoDiff is what a sync of an Argo CD application would change, resource
// by resource, as argocd-server's managed-resources API computes it (the
// live state Argo CD normalised against the state it predicts after a
// sync). Secret values are never part of it.
type ArgoDiff struct {
	// Resources are the managed resources that differ, those whose changes
	// matter most (images, replicas, env, resources) first.
	Resources []ArgoResourceDiff
	// Same counts the managed resources with no difference; Hooks the hook
	// resources left out (they run at sync, they are not diffed).
	Same, Hooks int
}

// ArgoResourceDiff is the difference of one managed resource.
type ArgoResourceDiff struct {
	// Group, Kind, Namespace and Name identify the resource.
	Group, Kind, Namespace, Name string
	// Change is "modified", "missing: a sync creates it" or "not in Git:
	// only a sync with prune deletes it".
	Change string
	// Fields are the changed field paths, those that matter most first.
	Fields []string
	// Lines are the unified diff of its YAML, live (-) to desired (+).
	Lines []string
}

// Title is "group/Kind namespace/name", as Argo CD heads a resource's diff.
func (r ArgoResourceDiff) Title() string {
	kind := r.Kind
	if r.Group != "" {
		kind = r.Group + "/" + r.Kind
	}
	if r.Namespace == "" {
		return kind + " " + r.Name
	}
	return kind + " " + r.Namespace + "/" + r.Name
}

// ArgoDiffFieldsShown is how many changed fields a resource's heading names.
const ArgoDiffFieldsShown = 6

// Text renders the diff as plain lines: a summary, then per resource a
// heading ("===== group/Kind namespace/name (change) ====="), the fields
// that changed and its unified diff.
func (d ArgoDiff) Text() []string {
	out := []string{d.Summary()}
	for _, r := range d.Resources {
		out = append(out, fmt.Sprintf("===== %s (%s) =====", r.Title(), r.Change))
		if len(r.Fields) > 0 {
			f := r.Fields
			more := ""
			if len(f) > ArgoDiffFieldsShown {
				f, more = f[:ArgoDiffFieldsShown], fmt.Sprintf(" … %d more", len(r.Fields)-ArgoDiffFieldsShown)
			}
			out = append(out, "changed: "+strings.Join(f, ", ")+more)
		}
		out = append(out, r.Lines...)
	}
	return out
}

// Summary is one line: how many resources differ and how many do not.
func (d ArgoDiff) Summary() string {
	s := fmt.Sprintf("%s would change, %d unchanged", plural(len(d.Resources), "resource"), d.Same)
	if d.Hooks > 0 {
		s += ", " + plural(d.Hooks, "hook") + " not diffed"
	}
	return s
}
