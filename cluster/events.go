package cluster

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// MaxObjectEvents bounds the events ObjectEvents returns.
const MaxObjectEvents = 100

// ObjectEvents lists, with fresh reads (LISTs, not the session's cache,
// which holds Warning events only), the events of every type of the object
// ref names, of its ReplicaSets (a Deployment's rollouts) and of its pods,
// newest first, and the status conditions of the object and its pods.
// What it returns is terminal-safe.
func ObjectEvents(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, ref estate.ObjectRef) (estate.ObjectEvents, error) {
	out := estate.ObjectEvents{Ref: ref}
	involved := map[[2]string]bool{{ref.Kind, ref.Name}: true}
	var pods []corev1.Pod
	switch ref.Kind {
	case "Pod":
		p, err := client.CoreV1().Pods(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return out, fmt.Errorf("%s: %w", ref, err)
		}
		pods = []corev1.Pod{*p}
	case "Deployment", "StatefulSet", "DaemonSet", "Service":
		sel, err := selectorOf(ctx, client, ref)
		if err != nil {
			return out, err
		}
		opts := metav1.ListOptions{LabelSelector: sel.String()}
		pl, err := client.CoreV1().Pods(ref.Namespace).List(ctx, opts)
		if err != nil {
			return out, fmt.Errorf("pods of %s: %w", ref, err)
		}
		pods = pl.Items
		if ref.Kind == "Deployment" {
			rl, err := client.AppsV1().ReplicaSets(ref.Namespace).List(ctx, opts)
			if err != nil {
				return out, fmt.Errorf("replicasets of %s: %w", ref, err)
			}
			for _, rs := range rl.Items {
				if c := metav1.GetControllerOf(&rs); c != nil && c.Kind == "Deployment" && c.Name == ref.Name {
					involved[[2]string{"ReplicaSet", rs.Name}] = true
				}
			}
		}
	}
	for _, p := range pods {
		involved[[2]string{"Pod", p.Name}] = true
	}
	el, err := client.CoreV1().Events(ref.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return out, fmt.Errorf("events of %s: %w", ref, err)
	}
	var mine []*corev1.Event
	for i := range el.Items {
		e := &el.Items[i]
		if involved[[2]string{e.InvolvedObject.Kind, e.InvolvedObject.Name}] {
			mine = append(mine, e)
		}
	}
	out.Events = estate.RecentEvents(mine, MaxObjectEvents)
	out.Conditions = objectConditions(ctx, dyn, ref)
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	for _, p := range pods {
		for _, c := range p.Status.Conditions {
			out.Conditions = append(out.Conditions, estate.ObjectCondition{Kind: "Pod", Name: p.Name,
				Condition: estate.Condition{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message, Since: c.LastTransitionTime.Time}})
		}
	}
	termsafe.Scrub(&out)
	return out, nil
}

// selectorOf is the pod selector of the workload or Service ref names.
func selectorOf(ctx context.Context, client kubernetes.Interface, ref estate.ObjectRef) (labels.Selector, error) {
	var ls *metav1.LabelSelector
	apps := client.AppsV1()
	switch ref.Kind {
	case "Deployment":
		d, err := apps.Deployments(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		ls = d.Spec.Selector
	case "StatefulSet":
		s, err := apps.StatefulSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		ls = s.Spec.Selector
	case "DaemonSet":
		d, err := apps.DaemonSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		ls = d.Spec.Selector
	default:
		s, err := client.CoreV1().Services(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		if len(s.Spec.Selector) == 0 {
			return labels.Nothing(), nil
		}
		return labels.SelectorFromSet(s.Spec.Selector), nil
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil || sel.Empty() {
		return labels.Nothing(), nil //nolint:nilerr // a bad or empty selector selects no pods here
	}
	return sel, nil
}

// objectConditions reads the status conditions of ref (any kind vigil reads
// but those read through the metadata API); none when it has none or the
// read fails (the events still show).
func objectConditions(ctx context.Context, dyn dynamic.Interface, ref estate.ObjectRef) []estate.ObjectCondition {
	k, ok := kindNamed(ref.Kind)
	if !ok || k.Source == checks.Metadata || dyn == nil || ref.Kind == "Pod" {
		return nil
	}
	u, err := dyn.Resource(k.GVR()).Namespace(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	list, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var out []estate.ObjectCondition
	for _, it := range list {
		c, ok := it.(map[string]any)
		if !ok {
			continue
		}
		str := func(f string) string { s, _ := c[f].(string); return s }
		since, _ := time.Parse(time.RFC3339, str("lastTransitionTime"))
		out = append(out, estate.ObjectCondition{Kind: ref.Kind, Name: ref.Name,
			Condition: estate.Condition{Type: str("type"), Status: str("status"), Reason: str("reason"), Message: str("message"), Since: since}})
	}
	return out
}

// ObjectEvents lists the events and conditions of ref and its pods through
// the session's clients.
func (s *Session) ObjectEvents(ctx context.Context, ref estate.ObjectRef) (estate.ObjectEvents, error) {
	return ObjectEvents(ctx, s.client, s.dyn, ref)
}
