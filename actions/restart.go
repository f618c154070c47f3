package actions

import (
	"context"
	"fmt"

	"github.com/vigil-k8s/vigil/actions/spec"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/kubectl/pkg/polymorphichelpers"
	"k8s.io/kubectl/pkg/scheme"
)

// RestartedAtAnnotation is the pod-template annotation `kubectl rollout restart` sets.
const RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// Restart returns the action that restarts a workload's pods the way `kubectl rollout restart`
// does: kubectl's own ObjectRestarterFn stamps kubectl.kubernetes.io/restartedAt on the pod
// template, and the difference is sent as a strategic merge patch. A paused Deployment is
// refused (kubectl refuses it too).
func Restart(env *Env) *Action {
	a := newAction(env, spec.RestartParams{}, &Permission{Verb: "patch", Group: "apps"})
	a.steps = steps{
		precheck: func(ctx context.Context, t spec.Object) (string, error) {
			return pausedRefusal(ctx, env.Kube, t)
		},
		preview: func(ctx context.Context, t spec.Object) (previewed, error) {
			pv := previewed{Preview: spec.Preview{Summary: fmt.Sprintf("restart the pods of %s (rolling, like kubectl rollout restart)", t)}}
			w, err := getWorkload(ctx, env.Kube, t)
			if err != nil {
				return pv, err
			}
			n, why := w.templateReach()
			if n >= 0 {
				pv.Details = append(pv.Details, fmt.Sprintf("%d replica(s) will be replaced", n))
			}
			if why != "" {
				pv.Warnings = append(pv.Warnings, why)
			}
			patch, _, err := restartPatch(w.obj)
			if err != nil {
				return pv, err
			}
			if err := patchWorkload(ctx, env.Kube, t, types.StrategicMergePatchType, patch, metav1.PatchOptions{DryRun: dryRunAll}); err != nil {
				pv.DryRun = "server dry-run: " + err.Error()
				return pv, err
			}
			pv.DryRun = "server dry-run: ok"
			return pv, nil
		},
		execute: func(ctx context.Context, _ execToken, t spec.Object, _ func(string)) (executed, error) {
			w, err := getWorkload(ctx, env.Kube, t)
			if err != nil {
				return executed{}, err
			}
			patch, stamp, err := restartPatch(w.obj)
			if err != nil {
				return executed{}, err
			}
			if err := patchWorkload(ctx, env.Kube, t, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
				return executed{}, err
			}
			return executed{Result: spec.Result{Message: fmt.Sprintf("%s restarted (restartedAt %s)", t, stamp)}, state: stamp}, nil
		},
		verify: func(ctx context.Context, t spec.Object, res executed, _ func(string)) (string, error) {
			w, err := getWorkload(ctx, env.Kube, t)
			if err != nil {
				return "", err
			}
			if got := w.template.Annotations[RestartedAtAnnotation]; got != res.state {
				return "", fmt.Errorf("pod template has %s=%q, want %q", RestartedAtAnnotation, got, res.state)
			}
			return "pod template carries the new restartedAt", nil
		},
	}
	return gitopsAware(env, a, gitopsMode{}, restartChange(env))
}

// restartPatch runs kubectl's ObjectRestarterFn on a copy of obj and returns the strategic
// merge patch from obj to the result, and the restartedAt value it set.
func restartPatch(obj runtime.Object) ([]byte, string, error) {
	before, err := runtime.Encode(scheme.DefaultJSONEncoder(), obj)
	if err != nil {
		return nil, "", err
	}
	after, err := polymorphichelpers.ObjectRestarterFn(obj.DeepCopyObject())
	if err != nil {
		return nil, "", err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(before, after, obj)
	if err != nil {
		return nil, "", err
	}
	w, err := workloadTemplate(after)
	if err != nil {
		return nil, "", err
	}
	return patch, w, nil
}

// workloadTemplate reads the restartedAt annotation back out of an encoded workload.
func workloadTemplate(encoded []byte) (string, error) {
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(encoded, nil, nil)
	if err != nil {
		return "", err
	}
	tmpl := templateOf(obj)
	if tmpl == nil {
		return "", fmt.Errorf("restarted object has no pod template")
	}
	return tmpl.Annotations[RestartedAtAnnotation], nil
}
