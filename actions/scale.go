package actions

import (
	"context"
	"fmt"

	"github.com/vigil-k8s/vigil/actions/spec"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// outsizedScale says why a scale from cur to want replicas is out of all proportion: more than
// ten times the pods and more than 50 pods more (1 → 99999, a digit too many). "" otherwise.
func outsizedScale(cur, want int32) string {
	if int64(want) <= max(10*int64(cur), int64(cur)+50) {
		return ""
	}
	return fmt.Sprintf("%d replicas is %d more pods than the %d now: check the number (it asks for the typed target)", want, int64(want)-int64(cur), cur)
}

// Scale returns the action that sets a Deployment's or StatefulSet's replicas through the
// scale subresource, as `kubectl scale` does. When a HorizontalPodAutoscaler targets the
// workload the preview warns that the HPA owns the replica count and will override it.
func Scale(env *Env, p spec.ScaleParams) *Action {
	a := newAction(env, p, &Permission{Verb: "patch", Group: "apps", Subresource: "scale"})
	patch := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, p.Replicas))
	a.steps = steps{
		precheck: func(ctx context.Context, t spec.Object) (string, error) {
			if t.Kind == spec.KindDaemonSet {
				return "a DaemonSet runs one pod per node and cannot be scaled", nil
			}
			if p.Replicas < 0 {
				return fmt.Sprintf("replicas must be 0 or more, not %d", p.Replicas), nil
			}
			_, err := getWorkload(ctx, env.Kube, t)
			return "", err
		},
		preview: func(ctx context.Context, t spec.Object) (previewed, error) {
			w, err := getWorkload(ctx, env.Kube, t)
			if err != nil {
				return previewed{}, err
			}
			cur := int32(1)
			if w.replicas != nil {
				cur = *w.replicas
			}
			pv := previewed{Preview: spec.Preview{Summary: fmt.Sprintf("scale %s from %d to %d replicas", t, cur, p.Replicas)}}
			if p.Replicas == 0 {
				pv.Warnings = append(pv.Warnings, "scaling to 0 stops every pod: the service will be down")
			}
			if why := outsizedScale(cur, p.Replicas); why != "" {
				pv.Warnings = append(pv.Warnings, why)
				pv.Outsized = why
			}
			hpas, err := env.Kube.AutoscalingV2().HorizontalPodAutoscalers(t.Namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				pv.Warnings = append(pv.Warnings, "could not list HorizontalPodAutoscalers: "+shortErr(err))
			} else {
				for _, h := range hpas.Items {
					ref := h.Spec.ScaleTargetRef
					if ref.Kind == t.Kind && ref.Name == t.Name {
						min := int32(1)
						if h.Spec.MinReplicas != nil {
							min = *h.Spec.MinReplicas
						}
						pv.Warnings = append(pv.Warnings, fmt.Sprintf(
							"HorizontalPodAutoscaler %s owns the replica count (min %d, max %d): it will override %d",
							h.Name, min, h.Spec.MaxReplicas, p.Replicas))
					}
				}
			}
			if err := patchWorkload(ctx, env.Kube, t, types.MergePatchType, patch, metav1.PatchOptions{DryRun: dryRunAll}, "scale"); err != nil {
				pv.DryRun = "server dry-run: " + err.Error()
				return pv, err
			}
			pv.DryRun = "server dry-run: ok"
			return pv, nil
		},
		execute: func(ctx context.Context, _ execToken, t spec.Object, _ func(string)) (executed, error) {
			if err := patchWorkload(ctx, env.Kube, t, types.MergePatchType, patch, metav1.PatchOptions{}, "scale"); err != nil {
				return executed{}, err
			}
			return executed{Result: spec.Result{Message: fmt.Sprintf("%s scaled to %d", t, p.Replicas)}}, nil
		},
		verify: func(ctx context.Context, t spec.Object, _ executed, _ func(string)) (string, error) {
			w, err := getWorkload(ctx, env.Kube, t)
			if err != nil {
				return "", err
			}
			if w.replicas == nil || *w.replicas != p.Replicas {
				return "", fmt.Errorf("spec.replicas is %v, want %d", w.replicas, p.Replicas)
			}
			return fmt.Sprintf("spec.replicas is %d", p.Replicas), nil
		},
	}
	return gitopsAware(env, a, gitopsMode{GitOpsParams: p.GitOpsParams}, scaleChange(env, p))
}
