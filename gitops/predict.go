package gitops

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Outcome is what Argo CD will do to a direct change.
type Outcome string

// The outcomes, from harmless to undone.
const (
	// Unaffected: the change touches nothing Argo CD compares (a secret refresh).
	Unaffected Outcome = "unaffected"
	// Stays: the changed fields are ignored (ignoreDifferences) or not set in Git; the app
	// stays Synced and nothing reverts the change.
	Stays Outcome = "stays"
	// OutOfSync: the app will show OutOfSync and nothing reverts the change on its own now.
	OutOfSync Outcome = "out-of-sync"
	// Reverts: self-heal will put Git's version back.
	Reverts Outcome = "reverts"
)

// Change is a direct change of one resource an Application manages.
type Change struct {
	// Action is the vigil action: rollback, scale, restart, secret-refresh.
	Action string
	// Group, Kind, Namespace and Name identify the resource.
	Group, Kind, Namespace, Name string
	// Before is the live object; After the same object with the change applied.
	Before, After map[string]any
	// Manager is the field manager vigil's write is recorded under; "" when not known.
	Manager string
	// Restores says in words what Git's version is, for "self-heal will restore …"
	// ("revision 3", "3 replicas").
	Restores string
	// Now is the clock, for a suspension's time left.
	Now time.Time
}

// Verdict is the prediction for one change.
type Verdict struct {
	// App is the Application; Mode its sync policy in words.
	App, Mode string
	Outcome   Outcome
	// Says is the line for the preview, naming the app and what Argo CD will do.
	Says string
	// Notes are the nuances: a sync that will still apply Git's value, a rule vigil could not
	// evaluate, what cannot be told from the cluster.
	Notes []string
	// Changed are the fields (JSON pointers) Argo CD will see differ; Ignored those the
	// app's ignoreDifferences hide.
	Changed, Ignored []string
	// Blocks says the guard pipeline refuses the change unless automated sync is suspended
	// first (or the operator goes against GitOps knowingly): a rollback or a scale that
	// self-heal would undo.
	Blocks bool
}

// lastApplied is the annotation client-side apply (Argo CD's default) keeps: the desired
// state of the last sync, so what Git set.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// inGit says whether Git sets a field: yes, no, or cannot tell.
type inGit int

const (
	gitUnknown inGit = iota
	gitYes
	gitNo
)

// Predict says what Argo CD will do to c under p.
func Predict(p Policy, c Change) Verdict {
	v := Verdict{App: p.App, Mode: p.Mode()}
	if c.Action == "secret-refresh" {
		v.Outcome = Unaffected
		v.Says = fmt.Sprintf("Argo CD app %s: unaffected (a refresh changes only the force-sync annotation, which Git does not set; the app stays Synced)", p.App)
		return v
	}

	rules := slices.DeleteFunc(slices.Clone(p.Ignore), func(r IgnoreRule) bool {
		return !r.Matches(c.Group, c.Kind, c.Namespace, c.Name)
	})
	raw := diffPaths(specOf(deepCopy(c.Before)), specOf(deepCopy(c.After)))
	nb, nb1 := normalize(c.Before, rules)
	na, _ := normalize(c.After, rules)
	v.Notes = append(v.Notes, nb1...)
	v.Changed = diffPaths(specOf(nb), specOf(na))
	for _, r := range raw {
		if !slices.Contains(v.Changed, r) {
			v.Ignored = append(v.Ignored, r)
		}
	}
	// managedFieldsManagers: fields owned by a listed manager are ignored. vigil's write
	// makes vigil's manager the owner of what it changes.
	for _, r := range rules {
		if len(r.ManagedFieldsManagers) == 0 || len(v.Changed) == 0 {
			continue
		}
		switch {
		case c.Manager != "" && slices.Contains(r.ManagedFieldsManagers, c.Manager):
			v.Ignored = append(v.Ignored, v.Changed...)
			v.Changed = nil
		case c.Manager == "":
			v.Notes = append(v.Notes, fmt.Sprintf("ignoreDifferences (%s) ignores fields owned by %s: whether it covers this change depends on the field manager of the write, which vigil cannot tell here",
				r, strings.Join(r.ManagedFieldsManagers, ", ")))
		default:
			v.Notes = append(v.Notes, fmt.Sprintf("ignoreDifferences (%s) ignores fields owned by %s; vigil's change is owned by %q, not listed, so Argo CD compares it",
				r, strings.Join(r.ManagedFieldsManagers, ", "), c.Manager))
		}
	}

	if len(v.Changed) == 0 {
		v.Outcome = Stays
		if len(v.Ignored) == 0 {
			v.Says = fmt.Sprintf("Argo CD app %s: no field Argo CD compares changes; the app stays %s", p.App, orSynced(p.Sync))
			return v
		}
		v.Says = fmt.Sprintf("Argo CD app %s: ignored by ignoreDifferences (%s): stays; the app stays %s",
			p.App, strings.Join(v.Ignored, ", "), orSynced(p.Sync))
		if !p.RespectsIgnore() {
			v.Notes = append(v.Notes, "a sync (a new commit under auto-sync, or a manual sync) still applies Git's value of an ignored field: syncOptions has no RespectIgnoreDifferences=true")
		}
		return v
	}

	// Does Git set the changed fields? last-applied-configuration says what the last sync
	// applied; without it, a pod template's containers always come from Git, other fields
	// cannot be told.
	git := gitNo
	var desired map[string]any
	if ann, ok := get(c.Before, "metadata", "annotations").(map[string]any); ok {
		if s, ok := ann[lastApplied].(string); ok {
			_ = json.Unmarshal([]byte(s), &desired)
		}
	}
	var unknown []string
	for _, ptr := range v.Changed {
		toks, _ := pointerTokens(ptr)
		g := gitUnknown
		switch {
		case desired != nil && lookup(desired, toks):
			g = gitYes
		case desired != nil:
			g = gitNo
		case len(toks) >= 4 && toks[0] == "spec" && toks[1] == "template" && toks[2] == "spec" && toks[3] != "":
			g = gitYes
		}
		switch {
		case g == gitYes:
			git = gitYes
		case g == gitUnknown && git != gitYes:
			git = gitUnknown
		}
		if g == gitUnknown {
			unknown = append(unknown, ptr)
		}
	}
	if git == gitNo {
		v.Outcome = Stays
		v.Says = fmt.Sprintf("Argo CD app %s: %s not set in Git (last-applied-configuration): Argo CD's diff leaves it; the app stays %s",
			p.App, strings.Join(v.Changed, ", "), orSynced(p.Sync))
		return v
	}
	cond := ""
	if git == gitUnknown {
		cond = fmt.Sprintf(" if Git sets %s", strings.Join(unknown, ", "))
		v.Notes = append(v.Notes, fmt.Sprintf("whether Git sets %s cannot be told from the cluster (no last-applied-configuration): add it to the app's ignoreDifferences to keep a direct change", strings.Join(unknown, ", ")))
	}
	restores := c.Restores
	if restores == "" {
		restores = "Git's version"
	}
	if p.Sync != "" && p.Sync != "Synced" {
		v.Notes = append(v.Notes, fmt.Sprintf("the app is already %s: Git's version may differ from %s", p.Sync, restores))
	}
	switch {
	case p.Automated && p.SelfHeal && p.SyncBlocked:
		v.Outcome = OutOfSync
		v.Says = fmt.Sprintf("Argo CD app %s (%s): the app will show OutOfSync%s; a sync window blocks automated sync now (%s), and self-heal will restore %s when it opens",
			p.App, v.Mode, cond, p.BlockedBy, restores)
	case p.Automated && p.SelfHeal:
		v.Outcome = Reverts
		v.Says = fmt.Sprintf("Argo CD app %s (%s): self-heal will restore %s within %s%s",
			p.App, v.Mode, restores, p.within(), cond)
		v.Notes = append(v.Notes, fmt.Sprintf("Argo CD usually reacts within seconds (it watches the resources it manages); its reconcile interval is %s%s",
			p.Reconcile, map[bool]string{true: "", false: " (Argo CD's default; argocd-cm not read)"}[p.ReconcileKnown]))
		v.Blocks = c.Action == "rollback" || c.Action == "scale"
	case p.Automated:
		v.Outcome = OutOfSync
		v.Says = fmt.Sprintf("Argo CD app %s (%s): the app will show OutOfSync%s; without selfHeal nothing reverts it until Git moves to a new commit, whose sync restores %s",
			p.App, v.Mode, cond, restores)
	case p.Suspension != nil:
		v.Outcome = OutOfSync
		heal := ""
		if sh, _ := p.Suspension.Saved["selfHeal"].(bool); sh {
			heal = fmt.Sprintf(", and on re-enabling self-heal restores %s unless Git is changed first", restores)
		}
		v.Says = fmt.Sprintf("Argo CD app %s: the app will show OutOfSync%s; auto-sync is suspended (%s)%s",
			p.App, cond, p.Suspension.Reminder(p.App, c.Now), heal)
	default:
		v.Outcome = OutOfSync
		v.Says = fmt.Sprintf("Argo CD app %s (manual sync): the app will show OutOfSync%s; the change stays until someone syncs, which restores %s",
			p.App, cond, restores)
	}
	return v
}

// specOf is what Argo CD compares for these changes: everything but status and the
// server-managed metadata.
func specOf(o map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range o {
		switch k {
		case "status":
		case "metadata":
			m, _ := v.(map[string]any)
			out[k] = map[string]any{"labels": m["labels"], "annotations": withoutLastApplied(m["annotations"])}
		default:
			out[k] = v
		}
	}
	return out
}

func withoutLastApplied(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		if k != lastApplied && k != "deployment.kubernetes.io/revision" {
			out[k] = x
		}
	}
	return out
}

func orSynced(s string) string {
	if s == "" {
		return "Synced"
	}
	return s
}
