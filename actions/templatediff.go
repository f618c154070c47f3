package actions

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// templateDiffContext is how many unchanged lines surround each change of a preview's diff.
const templateDiffContext = 2

// templateUnifiedDiff is the whole difference between two pod templates as a unified diff of
// their YAML, so that nothing a rollback changes is left out of its preview (a nodeSelector,
// a toleration, a volume, a label): fromLabel and toLabel name the sides. Environment variable
// values are shown as a hash of the value, never in clear: a changed value still shows as a
// changed line. Nil when the templates are the same.
func templateUnifiedDiff(fromLabel, toLabel string, from, to *corev1.PodTemplateSpec) []string {
	return unifiedYAMLDiff(fromLabel, toLabel, templateYAML(from), templateYAML(to))
}

// unifiedYAMLDiff is the unified diff of two YAML texts, with templateDiffContext lines of
// context: the one rendering of a difference every preview uses (a rollback's pod template,
// what an Argo CD sync would change). Nil when the texts are the same.
func unifiedYAMLDiff(fromLabel, toLabel, a, b string) []string {
	if a == b {
		return nil
	}
	d, err := udiff.ToUnified(fromLabel, toLabel, a, udiff.Lines(a, b), templateDiffContext)
	if err != nil {
		return []string{"diff unavailable: " + err.Error()}
	}
	return strings.Split(strings.TrimRight(d, "\n"), "\n")
}

// templateYAML renders t as YAML with environment values replaced by their hashes.
func templateYAML(t *corev1.PodTemplateSpec) string {
	if t == nil {
		return ""
	}
	c := t.DeepCopy()
	for _, list := range [][]corev1.Container{c.Spec.InitContainers, c.Spec.Containers} {
		for i := range list {
			for j := range list[i].Env {
				if v := list[i].Env[j].Value; v != "" {
					list[i].Env[j].Value = hashValue(v)
				}
			}
		}
	}
	for i := range c.Spec.EphemeralContainers {
		for j := range c.Spec.EphemeralContainers[i].Env {
			if v := c.Spec.EphemeralContainers[i].Env[j].Value; v != "" {
				c.Spec.EphemeralContainers[i].Env[j].Value = hashValue(v)
			}
		}
	}
	out, err := yaml.Marshal(c)
	if err != nil {
		return "(pod template not renderable: " + err.Error() + ")\n"
	}
	return string(out)
}

// hashValue stands for an environment value in a diff: equal values hash alike, and the
// value cannot be read back from it.
func hashValue(v string) string {
	sum := sha256.Sum256([]byte(v))
	return "(value sha256:" + hex.EncodeToString(sum[:6]) + ")"
}
