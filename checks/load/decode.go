package load

import (
	"encoding/json"
	"fmt"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigil-k8s/vigil/checks"
)

// entry is one decoded object waiting to be added to the inventory.
type entry struct {
	key    string
	res    checks.Resource
	source string
	add    func(inv *checks.Inventory)
}

// builder accumulates decoded objects; the last object per key wins.
type builder struct {
	entries   []entry
	latest    map[string]int
	installed map[string]bool
}

func newBuilder() *builder {
	return &builder{latest: map[string]int{}, installed: map[string]bool{}}
}

func (b *builder) put(group, kind string, meta metav1.Object, namespaced bool, source string, add func(*checks.Inventory)) {
	if namespaced && meta.GetNamespace() == "" {
		meta.SetNamespace(metav1.NamespaceDefault)
	}
	if !namespaced {
		meta.SetNamespace("")
	}
	key := strings.Join([]string{group, kind, meta.GetNamespace(), meta.GetName()}, "/")
	b.latest[key] = len(b.entries)
	b.entries = append(b.entries, entry{key, checks.Resource{Kind: kind, Namespace: meta.GetNamespace(), Name: meta.GetName()}, source, add})
}

// decode dispatches on apiVersion and kind through checks.Kinds. Kinds the
// catalogue does not read are skipped; a CustomResourceDefinition records
// its group as installed.
func (b *builder) decode(apiVersion, kind string, js []byte, src string) error {
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
			return fmt.Errorf("CustomResourceDefinition: %w", err)
		}
		b.installed[crd.Spec.Group] = true
		return nil
	}
	k, ok := checks.KindFor(group, kind)
	if !ok || k.SessionOnly {
		return nil
	}
	var obj metav1.Object
	if group == "autoscaling" && kind == "HorizontalPodAutoscaler" && version == "v1" {
		var v1 autoscalingv1.HorizontalPodAutoscaler
		if err := json.Unmarshal(js, &v1); err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		obj = hpaV1ToV2(v1)
	} else {
		var err error
		if obj, err = k.Decode(js); err != nil {
			return err
		}
	}
	if obj.GetName() == "" && obj.GetGenerateName() == "" {
		return fmt.Errorf("%s: metadata.name is required", kind)
	}
	if k.Optional {
		b.installed[group] = true
	}
	b.put(group, kind, obj, k.Namespaced(), src, func(inv *checks.Inventory) { k.Add(inv, obj) })
	return nil
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
		if b.latest[e.key] != i {
			continue
		}
		e.add(inv)
		inv.Sources[e.res] = e.source
	}
	for _, g := range checks.KnownGroups {
		inv.Installed[g] = b.installed[g]
	}
	return inv
}
