package actions

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/gitops"
)

// gitopsMode is how gitopsAware treats GitOps for one action: the operator's choice
// (spec.GitOpsParams), and the guided emergency rollback's suspension of automated sync.
type gitopsMode struct {
	spec.GitOpsParams
	// suspendFirst is set by the guided emergency rollback, which suspends automated sync
	// before the change: the change is then not refused, and its preview says so.
	suspendFirst time.Duration
}

// fieldManager is the field manager the API server records for vigil's writes: it names an
// update after the User-Agent's product, which vigil sets to vigil/<version>.
const fieldManager = "vigil"

// ManagingApp finds the Argo CD Application whose status.resources list t (an empty Target
// and no error when none does, or when Argo CD's CRD is not installed).
func ManagingApp(ctx context.Context, env *Env, t spec.Object) (spec.Object, error) {
	u, err := managingApp(ctx, env, t)
	if err != nil || u == nil {
		return spec.Object{}, err
	}
	return spec.Object{Kind: spec.KindApplication, Namespace: u.GetNamespace(), Name: u.GetName()}, nil
}

func managingApp(ctx context.Context, env *Env, t spec.Object) (*unstructured.Unstructured, error) {
	if env.Dynamic == nil {
		return nil, nil
	}
	list, err := env.Dynamic.Resource(gvrApplication).List(ctx, metav1.ListOptions{})
	if apierrors.IsForbidden(err) { // a namespaced user: Argo CD's own namespace
		list, err = env.Dynamic.Resource(gvrApplication).Namespace("argocd").List(ctx, metav1.ListOptions{})
	}
	if apierrors.IsNotFound(err) {
		return nil, nil // no Argo CD here
	}
	if err != nil {
		return nil, fmt.Errorf("listing Argo CD applications: %w", err)
	}
	group := "apps"
	if t.Kind == spec.KindExternalSecret || t.Kind == spec.KindClusterExternalSecret {
		group = "external-secrets.io"
	}
	for i := range list.Items {
		for _, r := range nestedMaps(list.Items[i].Object, "status", "resources") {
			g, _, _ := unstructured.NestedString(r, "group")
			k, _, _ := unstructured.NestedString(r, "kind")
			ns, _, _ := unstructured.NestedString(r, "namespace")
			n, _, _ := unstructured.NestedString(r, "name")
			if g == group && k == t.Kind && ns == t.Namespace && n == t.Name {
				return &list.Items[i], nil
			}
		}
	}
	return nil, nil
}

// appPolicy reads what an Application says about drift, with its project's sync windows
// applied to automated sync and argocd-cm's reconciliation interval when readable.
func appPolicy(ctx context.Context, env *Env, app *unstructured.Unstructured) gitops.Policy {
	parsed, err := parseArgoApp(app)
	ctrlNS := app.GetNamespace()
	if err == nil && parsed.ctrlNS != "" {
		ctrlNS = parsed.ctrlNS
	}
	var reconcile time.Duration
	if env.Kube != nil {
		if cm, cerr := env.Kube.CoreV1().ConfigMaps(ctrlNS).Get(ctx, "argocd-cm", metav1.GetOptions{}); cerr == nil {
			reconcile = reconcileOf(cm)
		}
	}
	p := gitops.PolicyOf(app.Object, reconcile)
	if err == nil && p.Automated {
		proj, perr := env.Dynamic.Resource(gvrAppProject).Namespace(ctrlNS).Get(ctx, parsed.project, metav1.GetOptions{})
		if perr == nil {
			raw, _, _ := unstructured.NestedSlice(proj.Object, "spec", "syncWindows")
			b, _ := json.Marshal(raw)
			var windows []SyncWindow
			if json.Unmarshal(b, &windows) == nil {
				ok, reason, _ := canSync(matchingWindows(windows, parsed.name, parsed.destNS, parsed.destServer, parsed.destName), false, time.Now())
				p.SyncBlocked, p.BlockedBy = !ok, reason
			}
		}
	}
	return p
}

// reconcileOf reads timeout.reconciliation ("180s", "3m", or seconds) from argocd-cm.
func reconcileOf(cm *corev1.ConfigMap) time.Duration {
	v := cm.Data["timeout.reconciliation"]
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// changeFn builds a direct change of t for the prediction: the live object, the object as the
// action would leave it, and Git's version in words.
type changeFn func(ctx context.Context, t spec.Object) (before, after map[string]any, restores string, err error)

// predict says what Argo CD will do to the change, nil when no Application manages t.
func predict(ctx context.Context, env *Env, t spec.Object, action string, change changeFn) (*gitops.Verdict, error) {
	app, err := managingApp(ctx, env, t)
	if err != nil || app == nil {
		return nil, err
	}
	c := gitops.Change{Action: action, Group: "apps", Kind: t.Kind, Namespace: t.Namespace, Name: t.Name, Manager: fieldManager, Now: time.Now()}
	if change != nil {
		if c.Before, c.After, c.Restores, err = change(ctx, t); err != nil {
			return nil, err
		}
	}
	v := gitops.Predict(appPolicy(ctx, env, app), c)
	v.App = app.GetNamespace() + "/" + app.GetName()
	return &v, nil
}

// gitopsRefusal is the refusal of a change self-heal would undo.
func gitopsRefusal(v *gitops.Verdict) string {
	return fmt.Sprintf("%s. Suspend auto-sync first (the guided emergency rollback, or --suspend-auto-sync 30m), or pass --against-gitops to record the drift knowingly", v.Says)
}

// gitopsAware makes a a GitOps-aware direct change: its preview says what Argo CD will do to
// it, and a change self-heal would undo (v.Blocks) is refused at the preconditions unless g
// says the operator goes against GitOps knowingly.
func gitopsAware(env *Env, a *Action, g gitopsMode, change changeFn) *Action {
	if g.AgainstGitOps {
		a.Params += " against-gitops=true"
	}
	pre, prev := a.steps.precheck, a.steps.preview
	a.steps.precheck = func(ctx context.Context, t spec.Object) (string, error) {
		if pre != nil {
			if r, err := pre(ctx, t); r != "" || err != nil {
				return r, err
			}
		}
		v, err := predict(ctx, env, t, a.ID, change)
		if err != nil || v == nil || !v.Blocks || g.AgainstGitOps || g.suspendFirst > 0 {
			return "", nil // cannot tell is said in the preview, not a refusal
		}
		return gitopsRefusal(v), nil
	}
	a.steps.preview = func(ctx context.Context, t spec.Object) (previewed, error) {
		pv, err := prev(ctx, t)
		if err != nil {
			return pv, err
		}
		v, verr := predict(ctx, env, t, a.ID, change)
		switch {
		case verr != nil:
			pv.Warnings = append(pv.Warnings, "Argo CD: cannot tell whether an application manages "+t.String()+": "+shortErr(verr))
		case v == nil:
		default:
			line := "Argo CD: " + v.Says
			if v.Outcome == gitops.Reverts || v.Outcome == gitops.OutOfSync {
				pv.Warnings = append(pv.Warnings, line)
			} else {
				pv.Details = append(pv.Details, line)
			}
			for _, n := range v.Notes {
				pv.Details = append(pv.Details, "Argo CD: "+n)
			}
			if v.Blocks && g.suspendFirst > 0 {
				pv.Warnings = append(pv.Warnings, fmt.Sprintf("automated sync of %s is suspended first, for %s: self-heal does not undo this change meanwhile", v.App, g.suspendFirst))
			}
			if v.Blocks && g.AgainstGitOps {
				pv.Warnings = append(pv.Warnings, "going against GitOps (--against-gitops): the drift is recorded in the audit log, and self-heal will undo it")
			}
			pv.Plan = append(pv.Plan, "argo-app="+v.App, "argo-outcome="+string(v.Outcome))
		}
		return pv, nil
	}
	return a
}

// workloadChange is the live workload and a copy changed by mutate, as JSON maps.
func workloadChange(ctx context.Context, env *Env, t spec.Object, mutate func(obj map[string]any) (string, error)) (map[string]any, map[string]any, string, error) {
	w, err := getWorkload(ctx, env.Kube, t)
	if err != nil {
		return nil, nil, "", err
	}
	before, err := runtime.DefaultUnstructuredConverter.ToUnstructured(w.obj)
	if err != nil {
		return nil, nil, "", err
	}
	after := runtime.DeepCopyJSON(before)
	restores, err := mutate(after)
	return before, after, restores, err
}

// rollbackChange puts the target revision's pod template in place.
func rollbackChange(env *Env, p spec.RollbackParams) changeFn {
	return func(ctx context.Context, t spec.Object) (map[string]any, map[string]any, string, error) {
		return workloadChange(ctx, env, t, func(obj map[string]any) (string, error) {
			_, tmpl, _, err := rollbackTarget(env, t, p.ToRevision)
			if err != nil {
				return "", err
			}
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(tmpl)
			if err != nil {
				return "", err
			}
			cur, _, _ := unstructured.NestedString(obj, "metadata", "annotations", "deployment.kubernetes.io/revision")
			_ = unstructured.SetNestedMap(obj, m, "spec", "template")
			if cur == "" {
				return "the current pod template", nil
			}
			return "revision " + cur, nil
		})
	}
}

func scaleChange(env *Env, p spec.ScaleParams) changeFn {
	return func(ctx context.Context, t spec.Object) (map[string]any, map[string]any, string, error) {
		return workloadChange(ctx, env, t, func(obj map[string]any) (string, error) {
			cur, _, _ := unstructured.NestedInt64(obj, "spec", "replicas")
			_ = unstructured.SetNestedField(obj, int64(p.Replicas), "spec", "replicas")
			return fmt.Sprintf("%d replicas", cur), nil
		})
	}
}

func restartChange(env *Env) changeFn {
	return func(ctx context.Context, t spec.Object) (map[string]any, map[string]any, string, error) {
		return workloadChange(ctx, env, t, func(obj map[string]any) (string, error) {
			ann, _, _ := unstructured.NestedStringMap(obj, "spec", "template", "metadata", "annotations")
			if ann == nil {
				ann = map[string]string{}
			}
			ann[RestartedAtAnnotation] = time.Now().Format(time.RFC3339)
			m := map[string]any{}
			for _, k := range sets.List(sets.KeySet(ann)) {
				m[k] = ann[k]
			}
			_ = unstructured.SetNestedMap(obj, m, "spec", "template", "metadata", "annotations")
			return "the pod template without this restart (restarting the pods again)", nil
		})
	}
}
