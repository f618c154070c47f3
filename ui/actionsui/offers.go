package actionsui

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// DefaultSilence is the duration a silence form proposes.
const DefaultSilence = 2 * time.Hour

// WorkloadObject is the object a service's actions act on.
func WorkloadObject(svc estate.Service) spec.Object {
	return spec.Object{Kind: svc.Kind, Namespace: svc.Namespace, Name: svc.Name}
}

// ServiceItems are the actions of a service's detail: restart, roll back
// to a picked revision (and, when its Argo CD application syncs
// automatically, the guided emergency rollback), scale to a typed count,
// refresh the ExternalSecrets feeding it, and its Argo CD application's.
func ServiceItems(c common.Common, p Provider, svc estate.Service, snap *estate.Snapshot, now time.Time) []Item {
	o := WorkloadObject(svc)
	rollback := actionItem("rollback", "Roll back…", spec.RollbackParams{}, o)
	rollback.Open = func() common.Component { return RevisionPicker(c, p, svc, now) }
	scale := actionItem("scale", "Scale…", spec.ScaleParams{Replicas: svc.Desired}, o)
	scale.Open = func() common.Component { return ScaleForm(c, p, svc) }
	items := []Item{actionItem("restart", "Restart", spec.RestartParams{}, o), rollback}
	var app *estate.ArgoApp
	if svc.Argo.Name != "" {
		for i, a := range snap.ArgoApps {
			if a.Namespace == svc.Argo.Namespace && a.Name == svc.Argo.Name {
				app = &snap.ArgoApps[i]
			}
		}
	}
	if app != nil && (app.AutoSync || app.Suspension != nil) {
		items = append(items, emergencyItem(c, p, svc, *app, now))
	}
	items = append(items, scale)
	for _, es := range snap.ExternalSecrets {
		if es.Kind == spec.KindExternalSecret && es.Namespace == svc.Namespace && feeds(es, svc.Name) {
			items = append(items, SecretItems(c, p, es)...)
		}
	}
	if app != nil {
		items = append(items, ArgoItems(c, p, *app)...)
	}
	return items
}

// DefaultSuspension is how long the emergency rollback's form proposes to suspend automated
// sync.
const DefaultSuspension = time.Hour

// emergencyItem is the guided emergency rollback of a workload whose Argo CD app syncs
// automatically: pick the revision, say for how long auto-sync stays suspended, then the
// pipeline shows the plan (suspend → roll back → verify healthy) and asks once, typed, with a
// reason. Under a suspension vigil made, the plain rollback is the way (nothing to suspend).
func emergencyItem(c common.Common, p Provider, svc estate.Service, app estate.ArgoApp, now time.Time) Item {
	o := WorkloadObject(svc)
	it := actionItem("emergency-rollback", "Emergency rollback…", spec.EmergencyRollbackParams{SuspendFor: DefaultSuspension}, o)
	it.Open = func() common.Component { return EmergencyPicker(c, p, svc, app.Name, now) }
	if sus := app.Suspension; sus != nil && !app.AutoSync {
		it.Disabled = "auto-sync of " + app.Name + " is already suspended (" + sus.Reminder(app.Name, now) + "): use Roll back…"
	}
	return it
}

// EmergencyPicker is the emergency rollback's first step: the revision picker of a plain
// rollback, whose pick opens EmergencyForm.
func EmergencyPicker(c common.Common, p Provider, svc estate.Service, appName string, now time.Time) *Picker {
	return revisionPicker(c, svc, now, "Emergency rollback of "+svc.Namespace+"/"+svc.Name+": 1. the revision to return to", func(n int64) tea.Cmd {
		return common.Push(EmergencyForm(c, p, svc, appName, n))
	})
}

// EmergencyForm shows the emergency rollback's plan for revision rev and asks how long
// automated sync of the app stays suspended; submitting starts the flow, whose one
// confirmation (typed, with a reason) shows every step's preview and server dry run.
func EmergencyForm(c common.Common, p Provider, svc estate.Service, appName string, rev int64) *Form {
	o := WorkloadObject(svc)
	notes := []string{
		fmt.Sprintf("plan: suspend auto-sync of %s → roll back to revision %d → verify healthy", appName, rev),
		"each step runs through the guards and is audited; the confirmation shows every step's preview and asks once, typed, with a reason",
		"auto-sync stays suspended until you re-enable it (an action) or revert in Git; the header reminds you",
	}
	return NewForm(c, fmt.Sprintf("Emergency rollback of %s/%s: 2. suspend auto-sync for", svc.Namespace, svc.Name), notes,
		[]Field{{Label: "suspend auto-sync for", Value: DefaultSuspension.String()}},
		func(v []string) (tea.Cmd, error) {
			d, err := time.ParseDuration(strings.TrimSpace(v[0]))
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("suspend auto-sync for: want a duration such as 30m or 1h, not %q", v[0])
			}
			return p.Start(spec.EmergencyRollbackParams{ToRevision: rev, SuspendFor: d}, o, fmt.Sprintf("Emergency rollback to revision %d", rev), ""), nil
		})
}

// feeds guesses from names that an ExternalSecret feeds a workload (the
// snapshot does not carry pod specs); the refresh's preview lists the
// real consumers before anything changes.
func feeds(es estate.ExternalSecretInfo, workload string) bool {
	return strings.HasPrefix(es.Name, workload) || strings.HasPrefix(es.Target, workload)
}

// RevisionPicker lists a workload's rollout history (revision, images,
// change-cause, age) with the cursor on the previous revision; picking one
// starts the rollback, whose preview is the template diff.
func RevisionPicker(c common.Common, p Provider, svc estate.Service, now time.Time) *Picker {
	o := WorkloadObject(svc)
	return revisionPicker(c, svc, now, "Roll back "+svc.Namespace+"/"+svc.Name+" to revision", func(n int64) tea.Cmd {
		return p.Start(spec.RollbackParams{ToRevision: n}, o, fmt.Sprintf("Roll back to revision %d", n), "")
	})
}

// revisionPicker lists svc's rollout history under title; pick receives the revision chosen.
func revisionPicker(c common.Common, svc estate.Service, now time.Time, title string, pick func(rev int64) tea.Cmd) *Picker {
	var choices []Choice
	def := -1
	for i, r := range svc.Revisions {
		ch := Choice{Label: fmt.Sprintf("%-5d %-44s %-28s %s", r.Number, widgets.FitTail(shortImages(r.Images), 44),
			widgets.Fit(orDash(r.ChangeCause), 28), widgets.Since(now, r.Created))}
		if r.Current {
			ch.Disabled = "current"
		} else if def < 0 {
			def = i
		}
		choices = append(choices, ch)
	}
	revs := append([]estate.Revision(nil), svc.Revisions...)
	return NewPicker(c, title, "REV   IMAGES                                       CHANGE-CAUSE                 AGE",
		choices, max(0, def), func(i int) tea.Cmd { return pick(revs[i].Number) })
}

// ScaleForm asks for a replica count; it warns when an HPA owns them.
func ScaleForm(c common.Common, p Provider, svc estate.Service) *Form {
	var notes []string
	if h := svc.HPA; h.Name != "" {
		notes = append(notes, fmt.Sprintf("HorizontalPodAutoscaler %s owns the replica count (min %d, max %d): it will override yours", h.Name, h.Min, h.Max))
	}
	o := WorkloadObject(svc)
	return NewForm(c, fmt.Sprintf("Scale %s/%s (now %d)", svc.Namespace, svc.Name, svc.Desired), notes,
		[]Field{{Label: "replicas", Value: strconv.Itoa(int(svc.Desired))}},
		func(v []string) (tea.Cmd, error) {
			n, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 32)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("replicas: want a whole number, 0 or more, not %q", v[0])
			}
			return p.Start(spec.ScaleParams{Replicas: int32(n)}, o, fmt.Sprintf("Scale to %d", n), ""), nil
		})
}

// SecretItems are the actions of an ExternalSecret: refresh now, with the
// choice of restarting its consumers afterwards.
func SecretItems(c common.Common, p Provider, es estate.ExternalSecretInfo) []Item {
	o := spec.Object{Kind: es.Kind, Namespace: es.Namespace, Name: es.Name}
	it := actionItem("secret-refresh:"+o.String(), "Refresh secret "+es.Name+"…", spec.SecretRefreshParams{}, o)
	it.Open = func() common.Component {
		return NewForm(c, "Refresh "+o.String(), []string{"waits up to 60s for status.refreshTime to move; the preview lists the consumers"},
			[]Field{{Label: "restart consumers after", Value: "no", Toggle: true}},
			func(v []string) (tea.Cmd, error) {
				return p.Start(spec.SecretRefreshParams{RestartConsumers: v[0] == "yes"}, o, "Refresh secret", ""), nil
			})
	}
	return []Item{it}
}

// ArgoItems are an Argo CD application's actions: sync (target revision by
// default, prune off), rollback to a picked history id (disabled while
// auto-sync is on), and re-enabling the automated sync vigil suspended.
func ArgoItems(c common.Common, p Provider, app estate.ArgoApp) []Item {
	o := spec.Object{Kind: spec.KindApplication, Namespace: app.Namespace, Name: app.Name}
	sync := actionItem("argo-sync:"+o.String(), "Argo CD sync "+app.Name+"…", spec.ArgoSyncParams{}, o)
	sync.Open = func() common.Component { return ArgoSyncForm(c, p, app) }
	if app.SyncBlocked {
		sync.Disabled = "sync window closed: " + app.BlockedBy
	}
	rb := Item{ID: "argo-rollback:" + o.String(), Title: "Argo CD rollback " + app.Name + "…", Dangerous: spec.ArgoRollbackParams{}.About().Dangerous, Object: o,
		Open: func() common.Component { return ArgoHistoryPicker(c, p, app) }}
	switch {
	case app.AutoSync:
		rb.Disabled = "auto-sync is on"
	case len(app.History) < 2:
		rb.Disabled = "no earlier deployment in status.history"
	default:
		rb.Action = spec.ArgoRollbackParams{ID: app.History[1].ID}
	}
	items := []Item{sync, rb}
	if app.Suspension != nil {
		// vigil suspended its automated sync (the emergency rollback): re-enabling is an action.
		items = append(items, actionItem("argo-resume-auto-sync:"+o.String(), "Re-enable auto-sync of "+app.Name, spec.ResumeAutoSyncParams{}, o))
	}
	return items
}

// ArgoSyncForm asks for the revision (default the target revision) and
// prune (off).
func ArgoSyncForm(c common.Common, p Provider, app estate.ArgoApp) *Form {
	o := spec.Object{Kind: spec.KindApplication, Namespace: app.Namespace, Name: app.Name}
	target := app.TargetRevision
	return NewForm(c, "Argo CD sync "+app.Namespace+"/"+app.Name, nil,
		[]Field{{Label: "revision", Value: target}, {Label: "prune", Value: "no", Toggle: true}},
		func(v []string) (tea.Cmd, error) {
			rev := strings.TrimSpace(v[0])
			if rev == target {
				rev = "" // the application's targetRevision, as Argo CD resolves it
			}
			return p.Start(spec.ArgoSyncParams{Revision: rev, Prune: v[1] == "yes"}, o, "Argo CD sync", ""), nil
		})
}

// ArgoHistoryPicker lists status.history (newest first) with the cursor on
// the previous deployment.
func ArgoHistoryPicker(c common.Common, p Provider, app estate.ArgoApp) *Picker {
	o := spec.Object{Kind: spec.KindApplication, Namespace: app.Namespace, Name: app.Name}
	hist := append([]estate.ArgoHistory(nil), app.History...)
	var choices []Choice
	for i, h := range hist {
		ch := Choice{Label: fmt.Sprintf("%-4d %-12s %s", h.ID, shortRev(h.Revision), h.DeployedAt.UTC().Format(time.RFC3339))}
		if i == 0 {
			ch.Disabled = "deployed now"
		}
		choices = append(choices, ch)
	}
	return NewPicker(c, "Argo CD rollback "+app.Namespace+"/"+app.Name, "ID   REVISION     DEPLOYED", choices, 1, func(i int) tea.Cmd {
		return p.Start(spec.ArgoRollbackParams{ID: hist[i].ID}, o, fmt.Sprintf("Argo CD rollback to %d", hist[i].ID), "")
	})
}

// AlertObject is the object an alert's actions act on.
func AlertObject(a estate.Alert) spec.Object {
	return spec.Object{Kind: spec.KindAlert, Namespace: a.Labels["namespace"], Name: a.Name}
}

// SilenceForm asks for a silence's duration (default 2h) and reason; the
// matchers are the alert's labels and createdBy the kube user.
func SilenceForm(c common.Common, p Provider, al estate.Alert) *Form {
	o := AlertObject(al)
	labels := map[string]string{}
	var shown []string
	for k, v := range al.Labels {
		labels[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		shown = append(shown, k+"="+labels[k])
	}
	return NewForm(c, "Silence "+al.Name, []string{"matchers: " + strings.Join(shown, ", ")},
		[]Field{{Label: "duration", Value: "2h"}, {Label: "reason"}},
		func(v []string) (tea.Cmd, error) {
			d, err := time.ParseDuration(strings.TrimSpace(v[0]))
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("duration: want e.g. 30m, 2h, 24h, not %q", v[0])
			}
			if strings.TrimSpace(v[1]) == "" {
				return nil, errors.New("reason: say why (a ticket or incident); it becomes the silence's comment")
			}
			return p.Start(spec.SilenceParams{Duration: d, Labels: labels}, o, "Silence "+d.String(), strings.TrimSpace(v[1])), nil
		})
}

// AlertItems are an alert's actions.
func AlertItems(c common.Common, p Provider, al estate.Alert) []Item {
	it := actionItem("silence", "Silence alert…", spec.SilenceParams{Duration: DefaultSilence, Labels: al.Labels}, AlertObject(al))
	it.Open = func() common.Component { return SilenceForm(c, p, al) }
	if len(al.SilencedBy) > 0 {
		it.Disabled = "already silenced by " + strings.Join(al.SilencedBy, ", ")
	}
	return []Item{it}
}

// SilenceItems are a silence's actions.
func SilenceItems(s estate.Silence) []Item {
	return []Item{actionItem("silence-expire", "Expire silence", spec.ExpireSilenceParams{}, spec.Object{Kind: spec.KindSilence, Name: s.ID})}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func shortRev(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	return r
}

// FollowUpItems are the follow-ups an outcome offers, as menu items.
func FollowUpItems(f spec.FollowUps) []Item {
	var out []Item
	for _, o := range f.Offers {
		out = append(out, actionItem(o.Params.About().ID+":"+o.Object.String(), o.Title, o.Params, o.Object))
	}
	return out
}

// shortImages drops the registry and repository path: the tag is what tells
// revisions apart.
func shortImages(images []string) string {
	out := make([]string, len(images))
	for i, im := range images {
		out[i] = im[strings.LastIndex(im, "/")+1:]
	}
	return strings.Join(out, ",")
}
