package actions

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// TestTemplateDiffShowsEveryChange: for random changes to a pod template, the preview's diff
// has a removed line with the old value and an added line with the new one, for fields the
// summary lines do not cover too (a nodeSelector, a toleration, a label); an env value never
// appears in clear, and equal templates give no diff.
func TestTemplateDiffShowsEveryChange(t *testing.T) {
	base := func() *corev1.PodTemplateSpec {
		return &corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:v1",
				Env:       []corev1.EnvVar{{Name: "DB_URL", Value: "postgres://u:hunter2@db/x"}},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}}}}}}
	}
	type change struct {
		name     string
		apply    func(*corev1.PodTemplateSpec, int)
		old, new func(int) string // the text a removed and an added line carry
	}
	changes := []change{
		{"nodeSelector", func(p *corev1.PodTemplateSpec, i int) {
			p.Spec.NodeSelector = map[string]string{"disk": fmt.Sprint("ssd-", i)}
		},
			func(int) string { return "" }, func(i int) string { return fmt.Sprint("disk: ssd-", i) }},
		{"label", func(p *corev1.PodTemplateSpec, i int) { p.Labels = map[string]string{"tier": fmt.Sprint("t", i)} },
			func(int) string { return "" }, func(i int) string { return fmt.Sprint("tier: t", i) }},
		{"toleration", func(p *corev1.PodTemplateSpec, i int) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: fmt.Sprint("k", i), Operator: corev1.TolerationOpExists}}
		}, func(int) string { return "" }, func(i int) string { return fmt.Sprint("key: k", i) }},
		{"image", func(p *corev1.PodTemplateSpec, i int) {
			p.Spec.Containers[0].Image = fmt.Sprint("registry.example/app:v", i+2)
		},
			func(int) string { return "image: registry.example/app:v1" }, func(i int) string { return fmt.Sprint("image: registry.example/app:v", i+2) }},
		{"env value", func(p *corev1.PodTemplateSpec, i int) {
			p.Spec.Containers[0].Env[0].Value = fmt.Sprint("postgres://u:pw", i, "@db/x")
		},
			func(int) string { return "value: (value sha256:" }, func(int) string { return "value: (value sha256:" }},
		{"cpu", func(p *corev1.PodTemplateSpec, i int) {
			p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse(fmt.Sprint(300+i, "m"))
		}, func(int) string { return "cpu: 250m" }, func(i int) string { return fmt.Sprint("cpu: ", 300+i, "m") }},
	}
	if d := templateUnifiedDiff("a", "b", base(), base()); d != nil {
		t.Fatalf("equal templates: diff %q", d)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		from, to := base(), base()
		var applied []change
		for _, c := range changes {
			if r.IntN(2) == 0 {
				c.apply(to, i)
				applied = append(applied, c)
			}
		}
		d := templateUnifiedDiff("live", "revision", from, to)
		if len(applied) == 0 {
			if d != nil {
				t.Fatalf("case %d: no change, diff %q", i, d)
			}
			continue
		}
		text := strings.Join(d, "\n")
		if strings.Contains(text, "hunter2") || strings.Contains(text, fmt.Sprint("pw", i, "@")) {
			t.Fatalf("case %d: an env value in clear:\n%s", i, text)
		}
		has := func(prefix, s string) bool {
			for _, l := range d {
				if strings.HasPrefix(l, prefix) && !strings.HasPrefix(l, prefix+prefix+prefix) && strings.Contains(l, s) {
					return true
				}
			}
			return false
		}
		for _, c := range applied {
			if o := c.old(i); o != "" && !has("-", o) {
				t.Errorf("case %d %s: no removed line with %q:\n%s", i, c.name, o, text)
			}
			if !has("+", c.new(i)) {
				t.Errorf("case %d %s: no added line with %q:\n%s", i, c.name, c.new(i), text)
			}
		}
	}
}
