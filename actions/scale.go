package actions

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ScaleParams are a scale's parameters.
type ScaleParams struct {
	// Replicas is the new replica count.
	Replicas int32
	// GitOpsParams: whether to go against an Argo CD app's self-heal.
	GitOpsParams
}

// Scale returns the action that sets a Deployment's or StatefulSet's replicas through the
// scale subresource, as `kubectl scale` does. When a HorizontalPodAutoscaler targets the
// workload the preview warns that the HPA owns the replica count and will override it.
func Scale(env *Env, p ScaleParams) *Action {
	a := &Action{ID: "scale", Title: "Scale", Dangerous: true, Confirm: ConfirmAuto,
		Access: &Access{Verb: "patch", Group: "apps", Subresource: "scale"},
		Params: fmt.Sprintf("replicas=%d", p.Replicas), env: env}
	patch := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, p.Replicas))
	a.steps = steps{
		precheck: func(ctx context.Context, t Target) (string, error) {
			if t.Kind == KindDaemonSet {
				return "a DaemonSet runs one pod per node and cannot be scaled", nil
			}
			if p.Replicas < 0 {
				return fmt.Sprintf("replicas must be 0 or more, not %d", p.Replicas), nil
			}
			_, err := getWorkload(ctx, env.Kube, t)
			return "", err
		},
		preview: func(ctx context.Context, t Target) (Preview, error) {
			w, err := getWorkload(ctx, env.Kube, t)
			if err != nil {
				return Preview{}, err
			}
			cur := int32(1)
			if w.replicas != nil {
				cur = *w.replicas
			}
			pv := Preview{Summary: fmt.Sprintf("scale %s from %d to %d replicas", t, cur, p.Replicas)}
			if p.Replicas == 0 {
				pv.Warnings = append(pv.Warnings, "scaling to 0 stops every pod: the service will be down")
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
		execute: func(ctx context.Context, _ execToken, t Target, _ func(string)) (Result, error) {
			if err := patchWorkload(ctx, env.Kube, t, types.MergePatchType, patch, metav1.PatchOptions{}, "scale"); err != nil {
				return Result{}, err
			}
			return Result{Message: fmt.Sprintf("%s scaled to %d", t, p.Replicas)}, nil
		},
		verify: func(ctx context.Context, t Target, _ Result, _ func(string)) (string, error) {
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
	return gitopsAware(env, a, p.GitOpsParams, scaleChange(env, p))
}
