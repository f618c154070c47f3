package manifest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"sigs.k8s.io/yaml"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// deployment is a manifest as cluster.Manifest returns it (sigs.k8s.io/yaml of the object),
// with n managedFields entries.
func deployment(t *testing.T, n int) string {
	t.Helper()
	var mf []any
	for i := range n {
		mf = append(mf, map[string]any{"manager": fmt.Sprintf("mgr-%d", i), "operation": "Update", "apiVersion": "apps/v1",
			"fieldsType": "FieldsV1", "fieldsV1": map[string]any{"f:spec": map[string]any{"f:replicas": map[string]any{}}}})
	}
	obj := map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "api-gateway", "namespace": "fintech-prod", "managedFields": mf, "labels": map[string]any{"app": "api-gateway"}},
		"spec":     map[string]any{"replicas": 3, "template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "api-gateway", "image": "registry.example.com/api-gateway:2.4.1"}}}}}}
	b, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func view(t *testing.T, text string) *Model {
	t.Helper()
	c := common.Common{Styles: theme.New(true), Keys: common.DefaultKeyMap(), Width: 100, Height: 40}
	m := New(c, func(context.Context, estate.ObjectRef) (string, error) { return text, nil },
		estate.ObjectRef{Kind: "Deployment", Namespace: "fintech-prod", Name: "api-gateway"})
	m.Update(m.Init()())
	return m
}

func press(m *Model, keys ...string) {
	for _, k := range keys {
		switch k {
		case "enter":
			m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
		default:
			m.Update(tea.KeyPressMsg{Code: rune(k[0]), Text: k})
		}
	}
}

// TestFoldedManagedFields: managedFields fold to one line naming as many managers as the YAML
// lists (counted by parsing it back), m shows them all, m again folds; the rest of the
// manifest is untouched either way.
func TestFoldedManagedFields(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		text := deployment(t, n)
		var parsed struct {
			Metadata struct {
				ManagedFields []any `json:"managedFields"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(text), &parsed); err != nil {
			t.Fatal(err)
		}
		want := len(parsed.Metadata.ManagedFields)
		m := view(t, text)
		folded := strings.Join(m.Lines(), "\n")
		if want > 0 && !strings.Contains(folded, fmt.Sprintf("managedFields: # %d manager", want)) {
			t.Errorf("%d managers: folded to\n%s", want, folded)
		}
		if strings.Contains(folded, "mgr-0") || strings.Contains(folded, "f:replicas") {
			t.Errorf("%d managers: the folded view shows them:\n%s", want, folded)
		}
		// What remains is the manifest without the managedFields block.
		var rest map[string]any
		if err := yaml.Unmarshal([]byte(strings.ReplaceAll(folded, "  managedFields: #", "  #")), &rest); err != nil {
			t.Fatalf("the folded view is not the rest of the YAML: %v\n%s", err, folded)
		}
		if rest["spec"].(map[string]any)["replicas"] != float64(3) || rest["metadata"].(map[string]any)["name"] != "api-gateway" {
			t.Errorf("the folded view lost the manifest's content: %v", rest)
		}
		press(m, "m")
		if got := strings.Join(m.Lines(), "\n") + "\n"; got != text {
			t.Errorf("m does not show the manifest as returned:\n%s\nwant\n%s", got, text)
		}
		press(m, "m")
		if strings.Join(m.Lines(), "\n") != folded {
			t.Error("m again does not fold")
		}
	}
}

// TestSearchAndHighlight: / finds the first line holding the query, n/N the next and
// previous; the match is highlighted, keys are styled.
func TestSearchAndHighlight(t *testing.T) {
	text := deployment(t, 2)
	m := view(t, text)
	m.SetSize(100, 8) // 6 lines of body
	press(m, "/", "a", "p", "i", "-", "g", "enter")
	var want []int
	for i, l := range m.Lines() {
		if strings.Contains(l, "api-g") {
			want = append(want, i)
		}
	}
	if len(want) < 3 {
		t.Fatalf("premise: %d lines hold api-g", len(want))
	}
	// The pager cannot scroll past its last page: expect each match's line or the last page's top.
	maxOff := max(0, len(m.Lines())-6)
	if maxOff <= want[0] {
		t.Fatalf("premise: the matches should need scrolling (%v, last page at %d)", want, maxOff)
	}
	var got []int
	for range want {
		got = append(got, m.Offset())
		press(m, "n")
	}
	for i := range want {
		if w := min(want[i], maxOff); got[i] != w {
			t.Errorf("match %d at %d, want line %d (%v, got %v)", i, got[i], w, want, got)
		}
	}
	v := m.View()
	if !strings.Contains(v, "\x1b[7mapi-g\x1b[m") && !strings.Contains(v, "\x1b[7mapi-g") {
		t.Errorf("the match is not highlighted:\n%q", v)
	}
	if !strings.Contains(ansi.Strip(v), "YAML of Deployment fintech-prod/api-gateway") || !strings.Contains(ansi.Strip(v), "managedFields: 2 managers") {
		t.Errorf("header:\n%s", ansi.Strip(v))
	}
}
