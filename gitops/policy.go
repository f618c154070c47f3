// Package gitops predicts what Argo CD will do to a direct change of a resource it manages: a
// rollback, scale or restart made with vigil rather than through Git. It is pure — a function
// of the Application object, the live object before and after the change, and the clock — so
// the action previews, the guard pipeline and the screens all say the same thing, and it is
// tested against Argo CD's documented semantics rather than against a running controller.
//
// The semantics it follows (Argo CD's user guide "Automated Sync Policy" and "Diffing
// Customization", and its normalizer code):
//   - spec.syncPolicy.automated turns on automated sync; automated.enabled=false (v3) turns it
//     off while keeping its settings. Without selfHeal, automated sync does not act on drift of
//     a commit it already synced; with selfHeal it syncs again after the self-heal timeout.
//   - spec.ignoreDifferences entries match a resource by group and kind (globs) and, when set,
//     name and namespace; their jsonPointers are removed as RFC 6902 "remove" operations (a
//     missing path is no error) and their jqPathExpressions as del(EXPR), from both the live and
//     the desired object before comparing. managedFieldsManagers ignores fields owned by the
//     listed field managers.
//   - ignoreDifferences only shapes the comparison: a sync applies the desired state as it is,
//     ignored fields included, unless syncOptions has RespectIgnoreDifferences=true.
//   - The application controller reconciles every timeout.reconciliation (argocd-cm; 180 s by
//     default) and also refreshes an application when a resource it manages changes.
package gitops

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultReconcile is Argo CD's default timeout.reconciliation.
const DefaultReconcile = 180 * time.Second

// IgnoreRule is one spec.ignoreDifferences entry.
type IgnoreRule struct {
	Group, Kind, Name, Namespace string
	JSONPointers                 []string
	JQPathExpressions            []string
	ManagedFieldsManagers        []string
}

// String names the rule as a person reads it in the Application.
func (r IgnoreRule) String() string {
	var parts []string
	if r.Group != "" {
		parts = append(parts, "group "+r.Group)
	}
	parts = append(parts, "kind "+r.Kind)
	if r.Namespace != "" {
		parts = append(parts, "namespace "+r.Namespace)
	}
	if r.Name != "" {
		parts = append(parts, "name "+r.Name)
	}
	return strings.Join(parts, " ")
}

// Policy is what an Application says about how Argo CD treats drift of its resources.
type Policy struct {
	// App and Namespace name the Application.
	App, Namespace string
	// Automated is spec.syncPolicy.automated present and not enabled=false; Prune and SelfHeal
	// are its switches.
	Automated, Prune, SelfHeal bool
	// SyncOptions are spec.syncPolicy.syncOptions.
	SyncOptions []string
	// Ignore are spec.ignoreDifferences.
	Ignore []IgnoreRule
	// Reconcile is the controller's reconciliation interval; ReconcileKnown says it was read
	// from argocd-cm rather than assumed (DefaultReconcile).
	Reconcile      time.Duration
	ReconcileKnown bool
	// SyncBlocked says a sync window forbids automated syncs now; BlockedBy says which.
	SyncBlocked bool
	BlockedBy   string
	// Sync is status.sync.status (Synced, OutOfSync …); Revision status.sync.revision.
	Sync, Revision string
	// Suspension is set when vigil suspended automated sync (see Suspension).
	Suspension *Suspension
}

// PolicyOf reads an Application object (its JSON form as a map). reconcile is argocd-cm's
// timeout.reconciliation when known, 0 otherwise.
func PolicyOf(app map[string]any, reconcile time.Duration) Policy {
	p := Policy{Reconcile: DefaultReconcile}
	if reconcile > 0 {
		p.Reconcile, p.ReconcileKnown = reconcile, true
	}
	p.App, _ = get(app, "metadata", "name").(string)
	p.Namespace, _ = get(app, "metadata", "namespace").(string)
	if auto, ok := get(app, "spec", "syncPolicy", "automated").(map[string]any); ok {
		p.Automated = auto["enabled"] != false
		p.Prune, _ = auto["prune"].(bool)
		p.SelfHeal, _ = auto["selfHeal"].(bool)
	}
	p.SyncOptions = stringsOf(get(app, "spec", "syncPolicy", "syncOptions"))
	items, _ := get(app, "spec", "ignoreDifferences").([]any)
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		r := IgnoreRule{JSONPointers: stringsOf(m["jsonPointers"]), JQPathExpressions: stringsOf(m["jqPathExpressions"]),
			ManagedFieldsManagers: stringsOf(m["managedFieldsManagers"])}
		r.Group, _ = m["group"].(string)
		r.Kind, _ = m["kind"].(string)
		r.Name, _ = m["name"].(string)
		r.Namespace, _ = m["namespace"].(string)
		p.Ignore = append(p.Ignore, r)
	}
	p.Sync, _ = get(app, "status", "sync", "status").(string)
	p.Revision, _ = get(app, "status", "sync", "revision").(string)
	if ann, ok := get(app, "metadata", "annotations").(map[string]any); ok {
		p.Suspension = suspensionOf(ann)
	}
	return p
}

// RespectsIgnore reports whether a sync leaves ignored fields alone (syncOptions
// RespectIgnoreDifferences=true).
func (p Policy) RespectsIgnore() bool {
	return slices.ContainsFunc(p.SyncOptions, func(o string) bool {
		k, v, _ := strings.Cut(o, "=")
		return strings.EqualFold(strings.TrimSpace(k), "RespectIgnoreDifferences") && strings.EqualFold(strings.TrimSpace(v), "true")
	})
}

// Mode is the sync policy in words: "automated (prune, selfHeal)", "manual".
func (p Policy) Mode() string {
	if !p.Automated {
		return "manual"
	}
	var sw []string
	if p.Prune {
		sw = append(sw, "prune")
	}
	if p.SelfHeal {
		sw = append(sw, "selfHeal")
	}
	if len(sw) == 0 {
		return "automated"
	}
	return "automated (" + strings.Join(sw, ", ") + ")"
}

// within is the reconcile interval in words ("~3 min").
func (p Policy) within() string {
	d := p.Reconcile
	if d%time.Minute == 0 {
		return fmt.Sprintf("~%d min", int(d/time.Minute))
	}
	return "~" + d.String()
}

func get(o map[string]any, fields ...string) any {
	var cur any = o
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[f]
	}
	return cur
}

func stringsOf(v any) []string {
	s, _ := v.([]any)
	var out []string
	for _, x := range s {
		if str, ok := x.(string); ok {
			out = append(out, str)
		}
	}
	if ss, ok := v.([]string); ok {
		out = append(out, ss...)
	}
	return out
}
