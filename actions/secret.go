package actions

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/vigil-k8s/vigil/actions/spec"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// ESO's force-sync annotations: an ExternalSecret is refreshed when `force-sync` changes, a
// ClusterExternalSecret when `external-secrets.io/force-sync` does.
const (
	ForceSyncAnnotation        = "force-sync"
	ClusterForceSyncAnnotation = "external-secrets.io/force-sync"
)

var (
	gvrExternalSecret        = schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"}
	gvrClusterExternalSecret = schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "clusterexternalsecrets"}
)

// RefreshSecret returns the action that makes the External Secrets Operator fetch an
// ExternalSecret (or ClusterExternalSecret) again now: it sets the force-sync annotation to
// the current Unix time, waits until status.refreshTime moves, then optionally restarts the
// workloads that consume the target Secret.
func RefreshSecret(env *Env, p spec.SecretRefreshParams) *Action {
	p = p.WithDefaults()
	a := newAction(env, p, &Permission{Verb: "patch", Group: "external-secrets.io"})
	res := func(t spec.Object) (gvr schema.GroupVersionResource, annotation string) {
		if t.Kind == spec.KindClusterExternalSecret {
			return gvrClusterExternalSecret, ClusterForceSyncAnnotation
		}
		return gvrExternalSecret, ForceSyncAnnotation
	}
	get := func(ctx context.Context, t spec.Object) (*unstructured.Unstructured, error) {
		gvr, _ := res(t)
		return env.Dynamic.Resource(gvr).Namespace(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
	}
	patch := func(ctx context.Context, t spec.Object, opts metav1.PatchOptions) (string, error) {
		gvr, ann := res(t)
		stamp := strconv.FormatInt(time.Now().Unix(), 10)
		body, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{ann: stamp}}})
		_, err := env.Dynamic.Resource(gvr).Namespace(t.Namespace).Patch(ctx, t.Name, types.MergePatchType, body, opts)
		return stamp, err
	}
	a.steps = steps{
		precheck: func(ctx context.Context, t spec.Object) (string, error) {
			if t.Kind != spec.KindExternalSecret && t.Kind != spec.KindClusterExternalSecret {
				return fmt.Sprintf("%s is not an ExternalSecret or ClusterExternalSecret", t), nil
			}
			es, err := get(ctx, t)
			if err != nil {
				return "", err
			}
			if !p.RestartConsumers || t.Kind != spec.KindExternalSecret {
				return "", nil
			}
			consumers, err := secretConsumers(ctx, env, t.Namespace, targetSecretName(es))
			if err != nil {
				return "", err
			}
			for _, c := range consumers { // the restarts must be allowed, and possible, too
				if r, err := env.allowed(ctx, Permission{Verb: "patch", Group: "apps", Resource: resourceOf(c.Kind)}, c); err != nil || r != "" {
					return r, err
				}
				if why, err := pausedRefusal(ctx, env.Kube, c); why != "" || err != nil {
					return why, err
				}
			}
			return "", nil
		},
		preview: func(ctx context.Context, t spec.Object) (previewed, error) {
			es, err := get(ctx, t)
			if err != nil {
				return previewed{}, err
			}
			last, _, _ := unstructured.NestedString(es.Object, "status", "refreshTime")
			pv := previewed{Preview: spec.Preview{Summary: fmt.Sprintf("force ESO to refresh %s now (last refresh %s)", t, orNone(last))}}
			if t.Kind == spec.KindClusterExternalSecret {
				// It fans out: the namespaces it provisions decide whether it is protected.
				pv.Namespaces, _, _ = unstructured.NestedStringSlice(es.Object, "status", "provisionedNamespaces")
				pv.Details = append(pv.Details, fmt.Sprintf("provisions ExternalSecrets in %v", pv.Namespaces))
			}
			if t.Kind == spec.KindExternalSecret {
				secret := targetSecretName(es)
				consumers, err := secretConsumers(ctx, env, t.Namespace, secret)
				if err != nil {
					return pv, err
				}
				pv.Details = append(pv.Details, fmt.Sprintf("target Secret %s; %d workload(s) consume it", secret, len(consumers)))
				for _, c := range consumers {
					verb := "consumes"
					if p.RestartConsumers {
						verb = "will be restarted after the refresh"
						// The restart this plan will send, dry-run now.
						w, err := getWorkload(ctx, env.Kube, c)
						if err != nil {
							return pv, err
						}
						pt, _, err := restartPatch(w.obj)
						if err == nil {
							err = patchWorkload(ctx, env.Kube, c, types.StrategicMergePatchType, pt, metav1.PatchOptions{DryRun: dryRunAll})
						}
						if err != nil {
							pv.DryRun = fmt.Sprintf("server dry-run of restarting %s: %v", c, err)
							return pv, fmt.Errorf("restarting %s: %w", c, err)
						}
						pv.Plan = append(pv.Plan, "restart="+c.String())
					}
					pv.Details = append(pv.Details, fmt.Sprintf("%s %s", c, verb))
				}
				pv.plan = consumers
				if !p.RestartConsumers && len(consumers) > 0 {
					pv.Warnings = append(pv.Warnings, "pods read env from Secrets only at start: restart the consumers to pick up new values")
				}
			}
			if _, err := patch(ctx, t, metav1.PatchOptions{DryRun: dryRunAll}); err != nil {
				pv.DryRun = "server dry-run: " + err.Error()
				return pv, err
			}
			pv.DryRun = "server dry-run: ok"
			return pv, nil
		},
		execute: func(ctx context.Context, tok execToken, t spec.Object, progress func(string)) (executed, error) {
			es, err := get(ctx, t)
			if err != nil {
				return executed{}, err
			}
			before, _, _ := unstructured.NestedString(es.Object, "status", "refreshTime")
			stamp, err := patch(ctx, t, metav1.PatchOptions{})
			if err != nil {
				return executed{}, err
			}
			_, ann := res(t)
			progress(fmt.Sprintf("%s=%s set; waiting for the controller to refresh", ann, stamp))
			if t.Kind == spec.KindExternalSecret {
				after, err := waitRefresh(ctx, p, before, func() (string, error) {
					u, err := get(ctx, t)
					if err != nil {
						return "", err
					}
					s, _, _ := unstructured.NestedString(u.Object, "status", "refreshTime")
					return s, nil
				}, progress)
				if err != nil {
					return executed{state: stamp}, fmt.Errorf("%s: %w", t, err)
				}
				progress("refreshed at " + after)
			}
			msg := fmt.Sprintf("%s refreshed", t)
			consumers, _ := tok.plan.([]spec.Object) // exactly the workloads previewed
			var next spec.FollowUps
			if !p.RestartConsumers && len(consumers) > 0 {
				next.Title = "the consumers of " + t.String() + " (restart to pick up new values)"
				for _, c := range consumers {
					next.Offers = append(next.Offers, spec.Offer{Title: "Restart " + c.Name, Params: spec.RestartParams{}, Object: c})
				}
			}
			if p.RestartConsumers && t.Kind == spec.KindExternalSecret {
				// Exactly the workloads previewed and confirmed, not a list computed again.
				for _, c := range consumers {
					w, err := getWorkload(ctx, env.Kube, c)
					if err != nil {
						return executed{state: stamp}, err
					}
					pt, _, err := restartPatch(w.obj)
					if err == nil {
						err = patchWorkload(ctx, env.Kube, c, types.StrategicMergePatchType, pt, metav1.PatchOptions{})
					}
					if err != nil {
						return executed{state: stamp}, fmt.Errorf("restarting %s: %w", c, err)
					}
					progress("restarted " + c.String())
				}
				msg += fmt.Sprintf("; %d consumer(s) restarted", len(consumers))
			}
			return executed{Result: spec.Result{Message: msg}, state: stamp, followUps: next}, nil
		},
		verify: func(ctx context.Context, t spec.Object, r executed, _ func(string)) (string, error) {
			u, err := get(ctx, t)
			if err != nil {
				return "", err
			}
			_, ann := res(t)
			if got := u.GetAnnotations()[ann]; got != r.state {
				return "", fmt.Errorf("%s has %s=%q, want %q", t, ann, got, r.state)
			}
			return fmt.Sprintf("%s=%s on %s", ann, r.state, t), nil
		},
	}
	return gitopsAware(env, a, gitopsMode{}, nil)
}

// waitRefresh polls until read returns a refreshTime other than before.
func waitRefresh(ctx context.Context, p spec.SecretRefreshParams, before string, read func() (string, error), progress func(string)) (string, error) {
	deadline := time.Now().Add(p.Timeout)
	start := time.Now()
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	lastReport := time.Now()
	for {
		now, err := read()
		if err != nil {
			return "", err
		}
		if now != "" && now != before {
			return now, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("status.refreshTime did not move within %s (still %s): is the External Secrets Operator running?", p.Timeout, orNone(before))
		}
		if time.Since(lastReport) >= 5*time.Second {
			progress(fmt.Sprintf("still waiting for the refresh (%s)", time.Since(start).Round(time.Second)))
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-tick.C:
		}
	}
}

func targetSecretName(es *unstructured.Unstructured) string {
	if n, _, _ := unstructured.NestedString(es.Object, "spec", "target", "name"); n != "" {
		return n
	}
	return es.GetName()
}

// secretConsumers lists the Deployments, StatefulSets and DaemonSets in ns whose pod template
// mounts secret (volume or projected volume) or reads it through envFrom or env valueFrom.
func secretConsumers(ctx context.Context, env *Env, ns, secret string) ([]spec.Object, error) {
	var out []spec.Object
	check := func(kind, name string, pod *corev1.PodSpec) {
		if podUsesSecret(pod, secret) {
			out = append(out, spec.Object{Kind: kind, Namespace: ns, Name: name})
		}
	}
	ds, err := env.Kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing Deployments in %s: %w", ns, err)
	}
	for i := range ds.Items {
		check(spec.KindDeployment, ds.Items[i].Name, &ds.Items[i].Spec.Template.Spec)
	}
	ss, err := env.Kube.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing StatefulSets in %s: %w", ns, err)
	}
	for i := range ss.Items {
		check(spec.KindStatefulSet, ss.Items[i].Name, &ss.Items[i].Spec.Template.Spec)
	}
	dss, err := env.Kube.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing DaemonSets in %s: %w", ns, err)
	}
	for i := range dss.Items {
		check(spec.KindDaemonSet, dss.Items[i].Name, &dss.Items[i].Spec.Template.Spec)
	}
	return out, nil
}

func podUsesSecret(pod *corev1.PodSpec, secret string) bool {
	for _, v := range pod.Volumes {
		if v.Secret != nil && v.Secret.SecretName == secret {
			return true
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.Secret != nil && s.Secret.Name == secret {
					return true
				}
			}
		}
	}
	cs := append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...)
	for _, c := range cs {
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil && e.SecretRef.Name == secret {
				return true
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == secret {
				return true
			}
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "never"
	}
	return s
}
