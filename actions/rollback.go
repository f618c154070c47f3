package actions

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-k8s/vigil/actions/spec"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/polymorphichelpers"
	deploymentutil "k8s.io/kubectl/pkg/util/deployment"
)

// Rollback returns the action that rolls a Deployment, StatefulSet or DaemonSet back with
// kubectl's own rollbacker (polymorphichelpers.RollbackerFor), so it behaves exactly like
// `kubectl rollout undo` — ReplicaSet history for Deployments, ControllerRevisions for the
// others — refusing a paused Deployment. The preview is the template difference between now
// and the target revision.
func Rollback(env *Env, p spec.RollbackParams) *Action { return rollback(env, p, 0) }

// rollback is Rollback, with automated sync of the managing Argo CD application suspended
// first for suspendFirst when positive (the guided emergency rollback).
func rollback(env *Env, p spec.RollbackParams, suspendFirst time.Duration) *Action {
	a := newAction(env, p, &Permission{Verb: "patch", Group: "apps"})
	a.steps = steps{
		precheck: func(ctx context.Context, t spec.Object) (string, error) {
			if why, err := pausedRefusal(ctx, env.Kube, t); why != "" || err != nil {
				return why, err
			}
			if _, _, _, err := rollbackTarget(env, t, p.ToRevision); err != nil {
				return err.Error(), nil
			}
			return "", nil
		},
		preview: func(ctx context.Context, t spec.Object) (previewed, error) {
			w, err := getWorkload(ctx, env.Kube, t)
			if err != nil {
				return previewed{}, err
			}
			rev, tmpl, cause, err := rollbackTarget(env, t, p.ToRevision)
			if err != nil {
				return previewed{}, err
			}
			pv := previewed{Preview: spec.Preview{Summary: fmt.Sprintf("roll %s back to revision %d", t, rev), Details: templateDiff(w.template, tmpl)}}
			if cause != "" {
				pv.Details = append(pv.Details, fmt.Sprintf("revision %d was: %s", rev, cause))
			}
			m := w.obj.(metav1.Object)
			pv.plan = rollbackPlan{revision: rev, from: w.template.DeepCopy()}
			pv.Plan = []string{fmt.Sprintf("to-revision=%d", rev), fmt.Sprintf("generation=%d", m.GetGeneration()), "resourceVersion=" + m.GetResourceVersion()}
			if len(pv.Details) == 0 {
				pv.Details = []string{"no difference in images, env names, resources or probes"}
			}
			if _, why := w.templateReach(); why != "" {
				pv.Warnings = append(pv.Warnings, why)
			}
			// Then the whole template, so that what the summary lines do not cover is shown too.
			if d := templateUnifiedDiff("live pod template", fmt.Sprintf("revision %d", rev), w.template, tmpl); len(d) > 0 {
				pv.Details = append(pv.Details, "pod template, in full (env values as hashes):")
				pv.Details = append(pv.Details, d...)
			} else {
				pv.Details = append(pv.Details, fmt.Sprintf("the pod template of revision %d is the one running now: nothing will change", rev))
			}
			rb, err := polymorphichelpers.RollbackerFor(groupKind(t.Kind), env.Kube)
			if err != nil {
				return pv, err
			}
			msg, err := rb.Rollback(w.obj, nil, rev, cmdutil.DryRunServer)
			if err != nil {
				pv.DryRun = "server dry-run: " + err.Error()
				return pv, err
			}
			pv.DryRun = "server dry-run: " + msg
			return pv, nil
		},
		execute: func(ctx context.Context, tok execToken, t spec.Object, progress func(string)) (executed, error) {
			plan, ok := tok.plan.(rollbackPlan)
			if !ok {
				return executed{}, fmt.Errorf("no previewed plan to execute")
			}
			w, err := getWorkload(ctx, env.Kube, t)
			if err != nil {
				return executed{}, err
			}
			if !apiequality.Semantic.DeepEqual(w.template, plan.from) {
				return executed{}, fmt.Errorf("%w: the pod template of %s changed since the preview (a rollout landed: %s); look again",
					spec.ErrChangedSincePreview, t, strings.Join(templateDiff(plan.from, w.template), "; "))
			}
			// The revision previewed, not "previous" computed again: a rollout
			// between preview and yes must not move the target.
			rev, tmpl, _, err := rollbackTarget(env, t, plan.revision)
			if err != nil {
				return executed{}, err
			}
			rb, err := polymorphichelpers.RollbackerFor(groupKind(t.Kind), env.Kube)
			if err != nil {
				return executed{}, err
			}
			progress(fmt.Sprintf("restoring revision %d", rev))
			msg, err := rb.Rollback(w.obj, nil, rev, cmdutil.DryRunNone)
			return executed{Result: spec.Result{Message: msg}, state: tmpl}, err
		},
		verify: func(ctx context.Context, t spec.Object, res executed, _ func(string)) (string, error) {
			w, err := getWorkload(ctx, env.Kube, t)
			if err != nil {
				return "", err
			}
			want, _ := res.state.(*corev1.PodTemplateSpec)
			if d := templateDiff(w.template, want); len(d) > 0 {
				return "", fmt.Errorf("the live template still differs from the target revision: %s", strings.Join(d, "; "))
			}
			return "live pod template matches the target revision", nil
		},
	}
	return gitopsAware(env, a, gitopsMode{GitOpsParams: p.GitOpsParams, suspendFirst: suspendFirst}, rollbackChange(env, p))
}

// changeCauseAnnotation is the annotation `kubectl rollout history` shows.
const changeCauseAnnotation = "kubernetes.io/change-cause"

// rollbackPlan is what a confirmed rollback applies: the revision previewed,
// and the live pod template the preview was computed from. The template,
// not the resourceVersion or generation: controllers write a workload's
// status every few seconds and an HPA its replicas, but only a change of the
// template (a rollout) moves what the rollback would do.
type rollbackPlan struct {
	revision int64
	from     *corev1.PodTemplateSpec
}

// rollbackTarget finds the revision a rollback goes to, and its pod template, from kubectl's
// history viewer: the highest revision but one when toRevision is 0, as kubectl does.
func rollbackTarget(env *Env, t spec.Object, toRevision int64) (rev int64, tmpl *corev1.PodTemplateSpec, cause string, err error) {
	hv, err := polymorphichelpers.HistoryViewerFor(groupKind(t.Kind), env.Kube)
	if err != nil {
		return 0, nil, "", err
	}
	hist, err := hv.GetHistory(t.Namespace, t.Name)
	if err != nil {
		return 0, nil, "", fmt.Errorf("reading the revision history of %s: %w", t, err)
	}
	revs := make([]int64, 0, len(hist))
	for r := range hist {
		revs = append(revs, r)
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i] < revs[j] })
	rev = toRevision
	if rev == 0 {
		if len(revs) < 2 {
			return 0, nil, "", fmt.Errorf("no previous revision: %s has %d revision(s) in its history", t, len(revs))
		}
		rev = revs[len(revs)-2]
	}
	obj, ok := hist[rev]
	if !ok {
		return 0, nil, "", fmt.Errorf("revision %d not found in the history of %s (have %v)", rev, t, revs)
	}
	if tmpl = templateOf(obj); tmpl == nil {
		return 0, nil, "", fmt.Errorf("revision %d of %s has no pod template", rev, t)
	}
	if m, ok := obj.(metav1.Object); ok {
		cause = m.GetAnnotations()[changeCauseAnnotation]
	}
	return rev, tmpl, cause, nil
}

func templateOf(obj runtime.Object) *corev1.PodTemplateSpec {
	switch o := obj.(type) {
	case *appsv1.ReplicaSet:
		t := o.Spec.Template.DeepCopy()
		delete(t.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
		return t
	case *appsv1.Deployment:
		return o.Spec.Template.DeepCopy()
	case *appsv1.StatefulSet:
		return o.Spec.Template.DeepCopy()
	case *appsv1.DaemonSet:
		return o.Spec.Template.DeepCopy()
	}
	return nil
}

// RevisionOf is a Deployment's current revision annotation (deployment.kubernetes.io/revision).
func RevisionOf(d *appsv1.Deployment) string {
	return d.Annotations[deploymentutil.RevisionAnnotation]
}
