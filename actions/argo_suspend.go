package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/gitops"
)

// MaxSuspension bounds a suspension: an emergency measure, not a way of living.
const MaxSuspension = 24 * time.Hour

// SuspendAutoSync returns the action that suspends an Argo CD application's automated sync
// (Object: Kind Application) the way Argo CD's own CLI turns it off — `argocd app set APP
// --sync-policy none` removes spec.syncPolicy.automated, and spec.syncPolicy too when nothing
// else is left in it (SyncPolicy.IsZero) — and keeps the automated block that was there,
// with who, why, when and until when, in annotations on the Application (gitops.Annotation*),
// so that ResumeAutoSync restores it exactly. It writes through the Kubernetes API with the
// resourceVersion it read (an update, like argocd-server's UpdateSpec).
func SuspendAutoSync(env *Env, p spec.SuspendAutoSyncParams) *Action {
	a := newAction(env, p, &Permission{Verb: "update", Group: "argoproj.io", Resource: "applications"})
	a.steps = steps{
		precheck: func(ctx context.Context, t spec.Object) (string, error) {
			if p.For <= 0 || p.For > MaxSuspension {
				return fmt.Sprintf("suspend for a duration between 1m and %s, not %s", MaxSuspension, p.For), nil
			}
			app, err := getApp(ctx, env, t)
			if err != nil {
				return "", err
			}
			return suspendRefusal(app), nil
		},
		preview: func(ctx context.Context, t spec.Object) (previewed, error) {
			app, err := getApp(ctx, env, t)
			if err != nil {
				return previewed{}, err
			}
			if r := suspendRefusal(app); r != "" {
				return previewed{}, errors.New(r)
			}
			auto, _, _ := unstructured.NestedMap(app.Object, "spec", "syncPolicy", "automated")
			b, _ := json.Marshal(auto)
			pv := previewed{Preview: spec.Preview{Summary: fmt.Sprintf("suspend automated sync of %s for %s (until about %s)", t.Name, p.For, time.Now().Add(p.For).UTC().Format("15:04 MST")),
				Details: []string{
					fmt.Sprintf("spec.syncPolicy.automated %s is removed, as `argocd app set %s --sync-policy none` removes it", b, t.Name),
					"the block is kept in annotation " + gitops.AnnotationSavedAutomated + ", with who, why and until when: re-enabling restores it exactly",
					"while suspended Argo CD neither syncs new commits nor self-heals; the header reminds until you re-enable or revert in Git",
				},
				Namespaces: appNamespaces(app)}}
			pv.plan = suspendPlan{saved: auto, generation: app.GetGeneration(), dur: p.For}
			pv.Plan = []string{"remove=spec.syncPolicy.automated", "saved=" + string(b), fmt.Sprintf("generation=%d", app.GetGeneration()), "for=" + p.For.String()}
			u, err := suspended(app, auto, "preview", "", time.Now(), p.For)
			if err != nil {
				return pv, err
			}
			return pv, dryRunApp(ctx, env, t.Namespace, u, &pv.Preview)
		},
		execute: func(ctx context.Context, tok execToken, t spec.Object, progress func(string)) (executed, error) {
			plan, ok := tok.plan.(suspendPlan)
			if !ok {
				return executed{}, errors.New("no previewed suspension to execute")
			}
			var until time.Time
			err := updateApp(ctx, env, t, progress, func(app *unstructured.Unstructured) (*unstructured.Unstructured, error) {
				auto, found, _ := unstructured.NestedMap(app.Object, "spec", "syncPolicy", "automated")
				if !found || app.GetGeneration() != plan.generation || !reflect.DeepEqual(auto, plan.saved) {
					return nil, fmt.Errorf("%w: application %s's sync policy changed since the preview (generation %d, previewed %d); look again",
						spec.ErrChangedSincePreview, t.Name, app.GetGeneration(), plan.generation)
				}
				now := time.Now().UTC()
				until = now.Add(plan.dur)
				return suspended(app, plan.saved, tok.user, tok.reason, now, plan.dur)
			})
			if err != nil {
				return executed{}, err
			}
			return executed{Result: spec.Result{Message: fmt.Sprintf("automated sync of %s suspended until %s", t.Name, until.Format(time.RFC3339))}, state: plan.saved}, nil
		},
		verify: func(ctx context.Context, t spec.Object, res executed, _ func(string)) (string, error) {
			app, err := getApp(ctx, env, t)
			if err != nil {
				return "", err
			}
			if _, found, _ := unstructured.NestedFieldNoCopy(app.Object, "spec", "syncPolicy", "automated"); found {
				return "", fmt.Errorf("application %s still has spec.syncPolicy.automated", t.Name)
			}
			s := gitops.SuspensionOf(app.GetAnnotations())
			if s == nil || !reflect.DeepEqual(s.Saved, res.state) {
				return "", fmt.Errorf("application %s does not keep the automated block vigil removed", t.Name)
			}
			return "spec.syncPolicy.automated removed; the block is kept for re-enabling", nil
		},
	}
	return a
}

// ResumeAutoSync returns the action that re-enables the automated sync SuspendAutoSync
// suspended: it puts the kept block back as spec.syncPolicy.automated, exactly, and removes
// the suspension annotations. Argo CD then syncs to Git: drift made while suspended (a
// direct rollback) is undone unless Git was changed first, and the preview says so.
func ResumeAutoSync(env *Env) *Action {
	a := newAction(env, spec.ResumeAutoSyncParams{}, &Permission{Verb: "update", Group: "argoproj.io", Resource: "applications"})
	a.steps = steps{
		precheck: func(ctx context.Context, t spec.Object) (string, error) {
			app, err := getApp(ctx, env, t)
			if err != nil {
				return "", err
			}
			_, r := resumeState(app)
			return r, nil
		},
		preview: func(ctx context.Context, t spec.Object) (previewed, error) {
			app, err := getApp(ctx, env, t)
			if err != nil {
				return previewed{}, err
			}
			s, r := resumeState(app)
			if r != "" {
				return previewed{}, errors.New(r)
			}
			b, _ := json.Marshal(s.Saved)
			pv := previewed{Preview: spec.Preview{Summary: fmt.Sprintf("re-enable automated sync of %s: restore spec.syncPolicy.automated %s", t.Name, b),
				Details:    []string{fmt.Sprintf("suspended by %s at %s (%s)", orUnknown(s.By), s.At.Format(time.RFC3339), orUnknown(s.Reason))},
				Namespaces: appNamespaces(app)}}
			if st, _, _ := unstructured.NestedString(app.Object, "status", "sync", "status"); st != "" && st != "Synced" {
				pv.Warnings = append(pv.Warnings, fmt.Sprintf("the app is %s: Argo CD will sync it to Git, undoing direct changes made while suspended, unless Git was reverted first", st))
			} else {
				pv.Warnings = append(pv.Warnings, "Argo CD will sync the app to Git: direct changes made while suspended are undone unless Git was reverted first")
			}
			pv.plan = resumePlan{saved: s.Saved, generation: app.GetGeneration()}
			pv.Plan = []string{"restore=spec.syncPolicy.automated", "saved=" + string(b), fmt.Sprintf("generation=%d", app.GetGeneration())}
			u, err := resumed(app, s.Saved)
			if err != nil {
				return pv, err
			}
			return pv, dryRunApp(ctx, env, t.Namespace, u, &pv.Preview)
		},
		execute: func(ctx context.Context, tok execToken, t spec.Object, progress func(string)) (executed, error) {
			plan, ok := tok.plan.(resumePlan)
			if !ok {
				return executed{}, errors.New("no previewed re-enable to execute")
			}
			err := updateApp(ctx, env, t, progress, func(app *unstructured.Unstructured) (*unstructured.Unstructured, error) {
				s, r := resumeState(app)
				if r != "" {
					return nil, errors.New(r)
				}
				if app.GetGeneration() != plan.generation || !reflect.DeepEqual(s.Saved, plan.saved) {
					return nil, fmt.Errorf("%w: application %s changed since the preview; look again", spec.ErrChangedSincePreview, t.Name)
				}
				return resumed(app, plan.saved)
			})
			if err != nil {
				return executed{}, err
			}
			return executed{Result: spec.Result{Message: fmt.Sprintf("automated sync of %s re-enabled", t.Name)}, state: plan.saved}, nil
		},
		verify: func(ctx context.Context, t spec.Object, res executed, _ func(string)) (string, error) {
			app, err := getApp(ctx, env, t)
			if err != nil {
				return "", err
			}
			auto, _, _ := unstructured.NestedMap(app.Object, "spec", "syncPolicy", "automated")
			if !reflect.DeepEqual(auto, res.state) {
				return "", fmt.Errorf("application %s has spec.syncPolicy.automated %v, want %v", t.Name, auto, res.state)
			}
			if gitops.SuspensionOf(app.GetAnnotations()) != nil {
				return "", fmt.Errorf("application %s still carries the suspension annotations", t.Name)
			}
			return "spec.syncPolicy.automated restored as it was", nil
		},
	}
	return a
}

type suspendPlan struct {
	saved      map[string]any
	generation int64
	dur        time.Duration
}

type resumePlan struct {
	saved      map[string]any
	generation int64
}

func getApp(ctx context.Context, env *Env, t spec.Object) (*unstructured.Unstructured, error) {
	if t.Kind != spec.KindApplication {
		return nil, fmt.Errorf("%s is not an Argo CD application", t)
	}
	if env.Dynamic == nil {
		return nil, errors.New("no dynamic client for Argo CD applications")
	}
	return env.Dynamic.Resource(gvrApplication).Namespace(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
}

// updateApp reads the application, lets change build the object to write, and updates it
// with the resourceVersion read, again on a conflict (change re-checks the plan each time).
func updateApp(ctx context.Context, env *Env, t spec.Object, progress func(string), change func(*unstructured.Unstructured) (*unstructured.Unstructured, error)) error {
	for attempt := 1; ; attempt++ {
		app, err := getApp(ctx, env, t)
		if err != nil {
			return err
		}
		u, err := change(app)
		if err != nil {
			return err
		}
		_, err = env.Dynamic.Resource(gvrApplication).Namespace(t.Namespace).Update(ctx, u, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) && attempt < 5 {
			progress(fmt.Sprintf("update conflict, retrying (%d)", attempt))
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if err != nil {
			return fmt.Errorf("updating application %s: %w", t.Name, err)
		}
		return nil
	}
}

// suspendRefusal is why automated sync of app cannot be suspended, "" when it can.
func suspendRefusal(app *unstructured.Unstructured) string {
	if s := gitops.SuspensionOf(app.GetAnnotations()); s != nil {
		return fmt.Sprintf("auto-sync of %s is already suspended: %s", app.GetName(), s.Reminder(app.GetName(), time.Now()))
	}
	parsed, err := parseArgoApp(app)
	if err != nil {
		return err.Error()
	}
	if !parsed.automated {
		return fmt.Sprintf("automated sync of %s is off: nothing to suspend", app.GetName())
	}
	return ""
}

// resumeState reads vigil's suspension, or says why there is nothing to re-enable.
func resumeState(app *unstructured.Unstructured) (*gitops.Suspension, string) {
	s := gitops.SuspensionOf(app.GetAnnotations())
	_, found, _ := unstructured.NestedFieldNoCopy(app.Object, "spec", "syncPolicy", "automated")
	switch {
	case s == nil && found:
		return nil, fmt.Sprintf("automated sync of %s is on: nothing to re-enable", app.GetName())
	case s == nil:
		return nil, fmt.Sprintf("automated sync of %s was not suspended by vigil, so there is no kept policy to restore: set it in Git or with argocd app set %s --sync-policy automated", app.GetName(), app.GetName())
	case s.Broken != "":
		return nil, fmt.Sprintf("the suspension record on %s cannot be read (%s): restore spec.syncPolicy.automated by hand", app.GetName(), s.Broken)
	case found:
		return nil, fmt.Sprintf("spec.syncPolicy.automated of %s was set again outside vigil while suspended: look at it before re-enabling (remove the %s annotations by hand)", app.GetName(), gitops.AnnotationSavedAutomated)
	}
	return s, ""
}

// suspended is app with automated sync removed as `argocd app set --sync-policy none`
// removes it, and the suspension annotations set.
func suspended(app *unstructured.Unstructured, saved map[string]any, by, reason string, now time.Time, d time.Duration) (*unstructured.Unstructured, error) {
	u := app.DeepCopy()
	unstructured.RemoveNestedField(u.Object, "spec", "syncPolicy", "automated")
	if sp, found, _ := unstructured.NestedMap(u.Object, "spec", "syncPolicy"); found && syncPolicyIsZero(sp) {
		unstructured.RemoveNestedField(u.Object, "spec", "syncPolicy")
	}
	b, err := json.Marshal(saved)
	if err != nil {
		return nil, err
	}
	ann := u.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[gitops.AnnotationSavedAutomated] = string(b)
	ann[gitops.AnnotationSuspendedBy] = by
	ann[gitops.AnnotationSuspendReason] = reason
	ann[gitops.AnnotationSuspendedAt] = now.UTC().Format(time.RFC3339)
	ann[gitops.AnnotationSuspendedUntil] = now.Add(d).UTC().Format(time.RFC3339)
	u.SetAnnotations(ann)
	return u, nil
}

// resumed is app with the kept automated block back in spec.syncPolicy and the suspension
// annotations removed.
func resumed(app *unstructured.Unstructured, saved map[string]any) (*unstructured.Unstructured, error) {
	u := app.DeepCopy()
	if err := unstructured.SetNestedField(u.Object, runtimeCopy(saved), "spec", "syncPolicy", "automated"); err != nil {
		return nil, err
	}
	ann := u.GetAnnotations()
	for _, k := range gitops.SuspensionAnnotations {
		delete(ann, k)
	}
	u.SetAnnotations(ann)
	return u, nil
}

// syncPolicyIsZero is Argo CD's SyncPolicy.IsZero: no automated, syncOptions, retry or
// managedNamespaceMetadata.
func syncPolicyIsZero(sp map[string]any) bool {
	for _, k := range []string{"automated", "retry", "managedNamespaceMetadata"} {
		if v, ok := sp[k]; ok && v != nil {
			return false
		}
	}
	opts, _ := sp["syncOptions"].([]any)
	return len(opts) == 0
}

func runtimeCopy(m map[string]any) map[string]any {
	out, err := toUnstructured(m)
	if err != nil || out == nil {
		return map[string]any{}
	}
	return out
}

// appNamespaces are the namespaces an application deploys to, for the protection check.
func appNamespaces(app *unstructured.Unstructured) []string {
	parsed, err := parseArgoApp(app)
	if err != nil {
		return nil
	}
	return append([]string{parsed.destNS}, parsed.resourceNS...)
}

// dryRunApp sends the Application update u as a server dry run and records the answer in pv.
func dryRunApp(ctx context.Context, env *Env, namespace string, u *unstructured.Unstructured, pv *spec.Preview) error {
	if _, err := env.Dynamic.Resource(gvrApplication).Namespace(namespace).Update(ctx, u, metav1.UpdateOptions{DryRun: dryRunAll}); err != nil {
		pv.DryRun = "server dry-run: " + err.Error()
		return err
	}
	pv.DryRun = "server dry-run: ok"
	return nil
}
