package load

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigil-k8s/vigil/checks"
)

// entry is one decoded object waiting to be added to the inventory.
type entry struct {
	key string
	res checks.Resource
	pos position
	add func(inv *checks.Inventory)
	// apiVersion and kind as written, for the skipped list.
	apiVersion, kind string
}

// builder accumulates decoded objects; the last object per key wins.
type builder struct {
	entries   []entry
	latest    map[string]int
	installed map[string]bool
	skipped   []checks.Skipped
}

func newBuilder() *builder {
	return &builder{latest: map[string]int{}, installed: map[string]bool{}}
}

func (b *builder) put(apiVersion, group, kind string, meta metav1.Object, namespaced bool, pos position, add func(*checks.Inventory)) {
	if namespaced && meta.GetNamespace() == "" {
		meta.SetNamespace(metav1.NamespaceDefault)
	}
	if !namespaced {
		meta.SetNamespace("")
	}
	key := strings.Join([]string{group, kind, meta.GetNamespace(), meta.GetName()}, "/")
	b.latest[key] = len(b.entries)
	b.entries = append(b.entries, entry{key: key, res: checks.Resource{Kind: kind, Namespace: meta.GetNamespace(), Name: meta.GetName()},
		pos: pos, add: add, apiVersion: apiVersion, kind: kind})
}

// decode dispatches on apiVersion and kind through checks.Kinds. It
// returns why an object is judged by no check ("" when it is read): a kind
// the catalogue does not read, a kind a live session alone reads, or an
// apiVersion the API does not serve for the kind (which the apiserver would
// reject: evaluating it as if it were served would judge an object that
// cannot exist). A CustomResourceDefinition records its group as installed.
func (b *builder) decode(apiVersion, kind string, js []byte, pos position) (string, error) {
	group, version, found := strings.Cut(apiVersion, "/")
	if !found {
		group, version = "", apiVersion
	}
	if group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition" {
		var crd struct {
			Spec struct {
				Group string `json:"group"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(js, &crd); err != nil {
			return "", fmt.Errorf("CustomResourceDefinition: %w", err)
		}
		b.installed[crd.Spec.Group] = true
		return "", nil
	}
	k, ok := checks.KindFor(group, kind)
	switch {
	case !ok:
		return unreadReason(apiVersion, kind), nil
	case k.SessionOnly:
		return "kind read from a live cluster only (the cockpit's view), judged by no check", nil
	case !k.Optional && version != k.Version && !(group == "autoscaling" && kind == "HorizontalPodAutoscaler" && version == "v1"):
		return fmt.Sprintf("apiVersion %s is not served for kind %s (the API serves %s): the apiserver would reject it, so no check judges it", apiVersion, kind, gv(k)), nil
	}
	var obj metav1.Object
	if group == "autoscaling" && kind == "HorizontalPodAutoscaler" && version == "v1" {
		var v1 autoscalingv1.HorizontalPodAutoscaler
		if err := json.Unmarshal(js, &v1); err != nil {
			return "", fmt.Errorf("%s: %w", kind, err)
		}
		obj = hpaV1ToV2(v1)
	} else {
		var err error
		if obj, err = k.Decode(js); err != nil {
			return "", err
		}
	}
	if obj.GetName() == "" && obj.GetGenerateName() == "" {
		return "", fmt.Errorf("%s: metadata.name is required", kind)
	}
	if k.Optional {
		b.installed[group] = true
	}
	applyDefaults(obj)
	b.put(apiVersion, group, kind, obj, k.Namespaced(), pos, func(inv *checks.Inventory) { k.Add(inv, obj) })
	return "", nil
}

func gv(k checks.Kind) string {
	if k.Group == "" {
		return k.Version
	}
	return k.Group + "/" + k.Version
}

// unreadReason says why a kind no entry of checks.Kinds declares is not
// judged: a known kind under the wrong apiVersion, or a kind vigil does not
// read at all.
func unreadReason(apiVersion, kind string) string {
	for _, k := range checks.Kinds {
		if k.Kind == kind && !k.Optional {
			return fmt.Sprintf("apiVersion %s does not serve kind %s (the API serves it as %s): the apiserver would reject it, so no check judges it", apiVersion, kind, gv(k))
		}
	}
	return "kind read by no check"
}

// hpaV1ToV2 carries an autoscaling/v1 HPA's fields into the v2 shape.
func hpaV1ToV2(h autoscalingv1.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	out := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: h.ObjectMeta, Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: h.Spec.ScaleTargetRef.Kind, Name: h.Spec.ScaleTargetRef.Name, APIVersion: h.Spec.ScaleTargetRef.APIVersion},
		MinReplicas:    h.Spec.MinReplicas, MaxReplicas: h.Spec.MaxReplicas,
	}}
	if h.Spec.TargetCPUUtilizationPercentage != nil {
		out.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: h.Spec.TargetCPUUtilizationPercentage},
		}}}
	}
	return out
}

// inventory assembles the decoded objects, last one per key winning.
func (b *builder) inventory() *checks.Inventory {
	inv := &checks.Inventory{
		Installed: map[string]bool{},
		Forbidden: map[string]string{},
		Sources:   map[checks.Resource]string{},
		Origin:    "manifests",
		Config:    checks.DefaultConfig(),
	}
	for i, e := range b.entries {
		if last := b.latest[e.key]; last != i {
			b.skipped = append(b.skipped, checks.Skipped{File: e.pos.file, Doc: e.pos.doc, Line: e.pos.line, Item: e.pos.item,
				APIVersion: e.apiVersion, Kind: e.kind, Namespace: e.res.Namespace, Name: e.res.Name,
				Reason: "the same object is read again at " + b.entries[last].pos.source() + ", which replaces it (the last one read wins, as with kubectl apply)"})
			continue
		}
		e.add(inv)
		inv.Sources[e.res] = e.pos.source()
	}
	for _, g := range checks.KnownGroups {
		inv.Installed[g] = b.installed[g]
	}
	slices.SortStableFunc(b.skipped, func(x, y checks.Skipped) int {
		return cmp.Or(cmp.Compare(x.File, y.File), cmp.Compare(x.Doc, y.Doc), cmp.Compare(x.Item, y.Item))
	})
	inv.Skipped = b.skipped
	return inv
}
