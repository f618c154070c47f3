package actions

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/termsafe"
	"sigs.k8s.io/yaml"
)

// ArgoDiffNeedsServer says, in Kubernetes mode, why there is no per-resource diff and how to
// get one: the desired state is what Argo CD renders from Git, which only argocd-server has.
const ArgoDiffNeedsServer = "what Argo CD would change needs the Argo CD server: in Kubernetes mode vigil reads the Applications, " +
	"not the desired state Argo CD renders from Git. Set argocd.mode: server with argocd.server (its URL) and argocd.tokenFile " +
	"(a file holding an Argo CD API token) in vigil's config, globally or per context under contexts:; " +
	"headless, vigil argo takes --argocd-server-mode --argocd-server URL --argocd-token TOKEN " +
	"(the token defaults to $ARGOCD_AUTH_TOKEN, server and token to the argocd CLI's config after `argocd login`)"

// argoResourceDiff mirrors Argo CD's v1alpha1.ResourceDiff (pkg/apis/application/v1alpha1/
// types.go), one item of GET /api/v1/applications/{name}/managed-resources. The states are JSON
// documents in strings; "null" (or empty) is a side that does not exist.
type argoResourceDiff struct {
	Group     string `json:"group,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// TargetState is the manifest from Git; LiveState the object in the cluster.
	TargetState string `json:"targetState,omitempty"`
	LiveState   string `json:"liveState,omitempty"`
	Hook        bool   `json:"hook,omitempty"`
	// NormalizedLiveState is the live state after Argo CD's normalisations (ignoreDifferences …);
	// PredictedLiveState the state Argo CD predicts after a sync. Argo CD's UI diffs these two.
	NormalizedLiveState string `json:"normalizedLiveState,omitempty"`
	PredictedLiveState  string `json:"predictedLiveState,omitempty"`
	Modified            bool   `json:"modified,omitempty"`
}

// AppDiff returns what a sync of the application namespace/name would change, from
// argocd-server's managed-resources API, rendered as Argo CD's UI renders it (normalised live
// state against predicted live state, hooks left out), with Secret values masked whatever the
// server sent and every line passed through the terminal sanitiser.
func (c *ArgoServerClient) AppDiff(ctx context.Context, namespace, name string) (estate.ArgoDiff, error) {
	var resp struct {
		Items []argoResourceDiff `json:"items"`
	}
	t := spec.Object{Kind: spec.KindApplication, Namespace: namespace, Name: name}
	if err := c.do(ctx, http.MethodGet, "/api/v1/applications/"+url.PathEscape(name)+"/managed-resources", appNS(t), nil, &resp); err != nil {
		return estate.ArgoDiff{}, fmt.Errorf("reading what Argo CD would change for %s: %w", name, err)
	}
	return argoDiff(resp.Items)
}

// argoDiff renders the managed resources' differences.
func argoDiff(items []argoResourceDiff) (estate.ArgoDiff, error) {
	var d estate.ArgoDiff
	type ranked struct {
		r    estate.ArgoResourceDiff
		rank int
		key  string
	}
	var out []ranked
	for _, it := range items {
		if it.Hook {
			d.Hooks++
			continue
		}
		live, desired := it.NormalizedLiveState, it.PredictedLiveState
		if live == "" && desired == "" { // an Argo CD before v2.4 sends only the raw states
			live, desired = it.LiveState, it.TargetState
		}
		lo, err := argoState(live)
		if err != nil {
			return d, fmt.Errorf("%s %s: live state: %w", it.Kind, it.Name, err)
		}
		do, err := argoState(desired)
		if err != nil {
			return d, fmt.Errorf("%s %s: desired state: %w", it.Kind, it.Name, err)
		}
		if lo == nil && do == nil {
			continue
		}
		if it.Group == "" && it.Kind == "Secret" {
			maskSecrets(lo, do)
		}
		a, b := yamlOf(lo), yamlOf(do)
		if a == b {
			d.Same++
			continue
		}
		r := estate.ArgoResourceDiff{Group: line(it.Group), Kind: line(it.Kind), Namespace: line(it.Namespace), Name: line(it.Name), Change: "modified"}
		rank := fieldRank("spec")
		switch {
		case lo == nil:
			r.Change = "missing: a sync creates it"
		case do == nil:
			r.Change = "not in Git: only a sync with prune deletes it"
		default:
			var fields []string
			changedPaths(lo, do, "", &fields)
			sort.SliceStable(fields, func(i, j int) bool { return fieldRank(fields[i]) < fieldRank(fields[j]) })
			for _, f := range fields {
				r.Fields = append(r.Fields, line(f))
			}
			if len(fields) > 0 {
				rank = fieldRank(fields[0])
			}
		}
		for _, l := range unifiedYAMLDiff("live "+it.Name, "desired "+it.Name, a, b) {
			r.Lines = append(r.Lines, line(l))
		}
		// Argo CD's UI orders by group/kind/namespace/name; the changes that matter come first here.
		out = append(out, ranked{r: r, rank: rank, key: it.Group + "/" + it.Kind + "/" + it.Namespace + "/" + it.Name})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].rank != out[j].rank {
			return out[i].rank < out[j].rank
		}
		return out[i].key < out[j].key
	})
	for _, o := range out {
		d.Resources = append(d.Resources, o.r)
	}
	return d, nil
}

// line is text from Argo CD made terminal-safe: data, never terminal control.
func line(s string) string { return termsafe.Line(s) }

// argoState parses one side's JSON; nil when the side does not exist. Fields the API server
// sets and a sync never changes (status, managedFields, resourceVersion …) are left out.
func argoState(s string) (map[string]any, error) {
	if s == "" || s == "null" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, nil
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		for _, k := range []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"} {
			delete(md, k)
		}
	}
	return m, nil
}

// lastApplied is kubectl's annotation, which on a Secret holds its data in clear.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// maskSecrets replaces every value of the Secrets' data and stringData (and the last-applied
// annotation) by a placeholder, whatever the server sent: Argo CD redacts them to "++++++++",
// a server or proxy that does not must still show nothing. A value that differs between the
// sides gets a different placeholder on each, so that the change still shows as a line.
func maskSecrets(live, desired map[string]any) {
	for _, field := range []string{"data", "stringData"} {
		l, _ := live[field].(map[string]any)
		d, _ := desired[field].(map[string]any)
		for k, v := range l {
			w, both := d[k]
			switch {
			case both && !reflect.DeepEqual(v, w):
				l[k], d[k] = "(hidden live value)", "(hidden desired value)"
			case both:
				l[k], d[k] = "(hidden)", "(hidden)"
			default:
				l[k] = "(hidden)"
			}
		}
		for k := range d {
			if _, ok := l[k]; !ok {
				d[k] = "(hidden)"
			}
		}
	}
	for _, o := range []map[string]any{live, desired} {
		if md, ok := o["metadata"].(map[string]any); ok {
			if an, ok := md["annotations"].(map[string]any); ok {
				if _, ok := an[lastApplied]; ok {
					an[lastApplied] = "(hidden, it holds the Secret's data)"
				}
			}
		}
	}
}

// yamlOf renders an object as YAML (keys sorted); "" for a side that does not exist.
func yamlOf(m map[string]any) string {
	if m == nil {
		return ""
	}
	b, err := yaml.Marshal(m)
	if err != nil {
		return "(not renderable: " + err.Error() + ")\n"
	}
	return string(b)
}

// changedPaths appends the paths of the leaves that differ between a and b, lists of named
// items (containers, env, ports) matched by name, as "spec.template.spec.containers[api].image".
func changedPaths(a, b any, path string, out *[]string) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			*out = append(*out, path)
			return
		}
		keys := make([]string, 0, len(av)+len(bv))
		for k := range av {
			keys = append(keys, k)
		}
		for k := range bv {
			if _, ok := av[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			changedPaths(av[k], bv[k], p, out)
		}
	case []any:
		bv, ok := b.([]any)
		if !ok {
			*out = append(*out, path)
			return
		}
		an, bn := byName(av), byName(bv)
		if an != nil && bn != nil {
			var names []string
			for _, it := range av {
				names = append(names, it.(map[string]any)["name"].(string))
			}
			for _, it := range bv {
				if n := it.(map[string]any)["name"].(string); !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
			for _, n := range names {
				changedPaths(an[n], bn[n], path+"["+n+"]", out)
			}
			return
		}
		if len(av) != len(bv) {
			*out = append(*out, path)
			return
		}
		for i := range av {
			changedPaths(av[i], bv[i], fmt.Sprintf("%s[%d]", path, i), out)
		}
	default:
		if !reflect.DeepEqual(a, b) {
			*out = append(*out, path)
		}
	}
}

// byName indexes a list whose items are all maps with a distinct string name; nil otherwise.
func byName(list []any) map[string]any {
	m := make(map[string]any, len(list))
	for _, it := range list {
		o, ok := it.(map[string]any)
		if !ok {
			return nil
		}
		n, ok := o["name"].(string)
		if _, dup := m[n]; !ok || dup {
			return nil
		}
		m[n] = o
	}
	return m
}

// fieldRank orders changed fields by how much they matter to an operator about to sync: the
// images first, then replica counts, environment, resource requests and limits, the rest of
// the spec and data, and labels and annotations last.
func fieldRank(path string) int {
	last := path[strings.LastIndex(path, ".")+1:]
	switch {
	case last == "image" || strings.HasSuffix(path, ".image"):
		return 0
	case last == "replicas":
		return 1
	case strings.Contains(path, ".env[") || strings.HasSuffix(path, ".env") || strings.Contains(path, ".envFrom"):
		return 2
	case strings.Contains(path, ".resources"):
		return 3
	case strings.HasPrefix(path, "spec"), strings.HasPrefix(path, "data"), strings.HasPrefix(path, "stringData"):
		return 4
	case strings.HasPrefix(path, "metadata"):
		return 6
	}
	return 5
}

// argoSyncDiff adds to a sync's preview what Argo CD would change: the per-resource diff in
// server mode, or in Kubernetes mode why there is none and how to get it. A diff that cannot be
// read is a warning, never a refusal: the sync itself does not depend on it.
func argoSyncDiff(a *Action, env *Env, revision string) {
	preview := a.steps.preview
	a.steps.preview = func(ctx context.Context, t spec.Object) (previewed, error) {
		pv, err := preview(ctx, t)
		if err != nil {
			return pv, err
		}
		if env.Argo == nil {
			pv.Details = append(pv.Details, ArgoDiffNeedsServer)
			return pv, nil
		}
		d, derr := env.Argo.AppDiff(ctx, t.Namespace, t.Name)
		if derr != nil {
			pv.Warnings = append(pv.Warnings, "what Argo CD would change is unavailable: "+derr.Error())
			return pv, nil
		}
		head := "what Argo CD would change (managed resources, live → desired): " + d.Summary()
		if revision != "" {
			head += "; against the application's target revision, not " + revision + " (Argo CD diffs its target revision only)"
		}
		pv.Details = append(pv.Details, head)
		pv.Details = append(pv.Details, d.Text()[1:]...)
		return pv, nil
	}
}
