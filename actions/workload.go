package actions

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-k8s/vigil/actions/spec"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// workload is a Deployment, StatefulSet or DaemonSet read from the API.
type workload struct {
	obj      runtime.Object
	template *corev1.PodTemplateSpec
	paused   bool
	replicas *int32 // nil for DaemonSets
}

// templateReach says how many of w's pods its controller replaces when the pod template
// changes (-1: not counted, a DaemonSet's are its nodes'), and why not all of them when it
// will not: a StatefulSet or DaemonSet updated OnDelete replaces none (each pod takes the new
// template when deleted), a StatefulSet's rollingUpdate.partition spares the ordinals below
// it. A restart or rollback would otherwise report success with the old pods running.
func (w workload) templateReach() (n int32, why string) {
	n = -1
	if w.replicas != nil {
		n = *w.replicas
	}
	switch o := w.obj.(type) {
	case *appsv1.StatefulSet:
		s := o.Spec.UpdateStrategy
		if s.Type == appsv1.OnDeleteStatefulSetStrategyType {
			return 0, "updateStrategy OnDelete: the StatefulSet controller replaces no pod; each takes the new template only when deleted (kubectl delete pod, one at a time)"
		}
		if ru := s.RollingUpdate; ru != nil && ru.Partition != nil && *ru.Partition > 0 {
			return max(0, n-*ru.Partition), fmt.Sprintf("rollingUpdate.partition %d: pods with an ordinal below %d keep the old template", *ru.Partition, *ru.Partition)
		}
	case *appsv1.DaemonSet:
		if o.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
			return 0, "updateStrategy OnDelete: the DaemonSet controller replaces no pod; each takes the new template only when deleted (kubectl delete pod)"
		}
	}
	return n, ""
}

func groupKind(kind string) schema.GroupKind {
	return schema.GroupKind{Group: "apps", Kind: kind}
}

// pausedRefusal is the precondition of restart and rollback: like kubectl,
// they refuse a paused workload. It returns the reason, "" when t may proceed.
func pausedRefusal(ctx context.Context, kube kubernetes.Interface, t spec.Object) (string, error) {
	w, err := getWorkload(ctx, kube, t)
	if err != nil {
		return "", err
	}
	if w.paused {
		return fmt.Sprintf("paused: %s is paused; resume it first (kubectl rollout resume)", t), nil
	}
	return "", nil
}

func getWorkload(ctx context.Context, kube kubernetes.Interface, t spec.Object) (workload, error) {
	switch t.Kind {
	case spec.KindDeployment:
		d, err := kube.AppsV1().Deployments(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
		if err != nil {
			return workload{}, err
		}
		d.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind(spec.KindDeployment))
		return workload{obj: d, template: &d.Spec.Template, paused: d.Spec.Paused, replicas: d.Spec.Replicas}, nil
	case spec.KindStatefulSet:
		s, err := kube.AppsV1().StatefulSets(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
		if err != nil {
			return workload{}, err
		}
		s.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind(spec.KindStatefulSet))
		return workload{obj: s, template: &s.Spec.Template, replicas: s.Spec.Replicas}, nil
	case spec.KindDaemonSet:
		d, err := kube.AppsV1().DaemonSets(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
		if err != nil {
			return workload{}, err
		}
		d.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind(spec.KindDaemonSet))
		return workload{obj: d, template: &d.Spec.Template}, nil
	}
	return workload{}, fmt.Errorf("%s is not a workload (Deployment, StatefulSet or DaemonSet)", t)
}

// patchWorkload patches a workload (or its subresource) with opts.
func patchWorkload(ctx context.Context, kube kubernetes.Interface, t spec.Object, pt types.PatchType, data []byte, opts metav1.PatchOptions, sub ...string) error {
	var err error
	switch t.Kind {
	case spec.KindDeployment:
		_, err = kube.AppsV1().Deployments(t.Namespace).Patch(ctx, t.Name, pt, data, opts, sub...)
	case spec.KindStatefulSet:
		_, err = kube.AppsV1().StatefulSets(t.Namespace).Patch(ctx, t.Name, pt, data, opts, sub...)
	case spec.KindDaemonSet:
		_, err = kube.AppsV1().DaemonSets(t.Namespace).Patch(ctx, t.Name, pt, data, opts, sub...)
	default:
		err = fmt.Errorf("%s is not a workload", t)
	}
	return err
}

var dryRunAll = []string{metav1.DryRunAll}

// templateDiff lists what differs between two pod templates in the terms an on-call engineer
// checks before a rollback: images, env variable NAMES (never values), resources and probes.
func templateDiff(from, to *corev1.PodTemplateSpec) []string {
	var out []string
	fc, tc := containersByName(from), containersByName(to)
	names := map[string]bool{}
	for n := range fc {
		names[n] = true
	}
	for n := range tc {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		a, b := fc[n], tc[n]
		switch {
		case a == nil:
			out = append(out, fmt.Sprintf("container %s: added (image %s)", n, b.Image))
			continue
		case b == nil:
			out = append(out, fmt.Sprintf("container %s: removed (image %s)", n, a.Image))
			continue
		}
		if a.Image != b.Image {
			out = append(out, fmt.Sprintf("container %s: image %s → %s", n, a.Image, b.Image))
		}
		if add, del := setDiff(envNames(a), envNames(b)); len(add)+len(del) > 0 {
			out = append(out, fmt.Sprintf("container %s: env names %s", n, plusMinus(add, del)))
		}
		if ra, rb := resources(a.Resources), resources(b.Resources); ra != rb {
			out = append(out, fmt.Sprintf("container %s: resources %s → %s", n, ra, rb))
		}
		for _, p := range []struct {
			name string
			a, b *corev1.Probe
		}{{"liveness", a.LivenessProbe, b.LivenessProbe}, {"readiness", a.ReadinessProbe, b.ReadinessProbe}, {"startup", a.StartupProbe, b.StartupProbe}} {
			if pa, pb := probe(p.a), probe(p.b); pa != pb {
				out = append(out, fmt.Sprintf("container %s: %s probe %s → %s", n, p.name, pa, pb))
			}
		}
	}
	return out
}

func containersByName(t *corev1.PodTemplateSpec) map[string]*corev1.Container {
	m := map[string]*corev1.Container{}
	if t == nil {
		return m
	}
	for i := range t.Spec.InitContainers {
		m["init:"+t.Spec.InitContainers[i].Name] = &t.Spec.InitContainers[i]
	}
	for i := range t.Spec.Containers {
		m[t.Spec.Containers[i].Name] = &t.Spec.Containers[i]
	}
	return m
}

func envNames(c *corev1.Container) []string {
	var n []string
	for _, e := range c.Env {
		n = append(n, e.Name)
	}
	for _, e := range c.EnvFrom {
		switch {
		case e.SecretRef != nil:
			n = append(n, "envFrom secret/"+e.SecretRef.Name)
		case e.ConfigMapRef != nil:
			n = append(n, "envFrom configmap/"+e.ConfigMapRef.Name)
		}
	}
	return n
}

func setDiff(a, b []string) (added, removed []string) {
	in := func(s []string, x string) bool {
		for _, v := range s {
			if v == x {
				return true
			}
		}
		return false
	}
	for _, x := range b {
		if !in(a, x) {
			added = append(added, x)
		}
	}
	for _, x := range a {
		if !in(b, x) {
			removed = append(removed, x)
		}
	}
	return added, removed
}

func plusMinus(add, del []string) string {
	var parts []string
	for _, a := range add {
		parts = append(parts, "+"+a)
	}
	for _, d := range del {
		parts = append(parts, "-"+d)
	}
	return strings.Join(parts, " ")
}

func resources(r corev1.ResourceRequirements) string {
	q := func(l corev1.ResourceList) string {
		var parts []string
		for _, k := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if v, ok := l[k]; ok {
				parts = append(parts, string(k)+"="+v.String())
			}
		}
		if len(parts) == 0 {
			return "-"
		}
		return strings.Join(parts, ",")
	}
	return "requests " + q(r.Requests) + " limits " + q(r.Limits)
}

func probe(p *corev1.Probe) string {
	if p == nil {
		return "none"
	}
	h := "?"
	switch {
	case p.HTTPGet != nil:
		h = fmt.Sprintf("http %s:%s", p.HTTPGet.Path, p.HTTPGet.Port.String())
	case p.TCPSocket != nil:
		h = "tcp " + p.TCPSocket.Port.String()
	case p.Exec != nil:
		h = "exec " + strings.Join(p.Exec.Command, " ")
	case p.GRPC != nil:
		h = fmt.Sprintf("grpc %d", p.GRPC.Port)
	}
	return fmt.Sprintf("%s delay=%ds period=%ds", h, p.InitialDelaySeconds, p.PeriodSeconds)
}
