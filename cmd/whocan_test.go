package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/vigil-k8s/vigil/checks"
)

// TestWhoCanOutputs: the table has one row per subject and binding, and the JSON keeps the
// field names docs/checks.md documents.
func TestWhoCanOutputs(t *testing.T) {
	inv := &checks.Inventory{
		Roles: []*rbacv1.Role{{ObjectMeta: metav1.ObjectMeta{Namespace: "fintech-prod", Name: "exec"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create"}}}}},
		RoleBindings: []*rbacv1.RoleBinding{{ObjectMeta: metav1.ObjectMeta{Namespace: "fintech-prod", Name: "oncall-exec"},
			RoleRef:  rbacv1.RoleRef{Kind: "Role", Name: "exec"},
			Subjects: []rbacv1.Subject{{Kind: "User", Name: "oncall"}, {Kind: "ServiceAccount", Name: "debugger"}}}},
	}
	run := func(args ...string) (string, string) {
		var out, errOut bytes.Buffer
		c := whoCanCommand(&whoCanOptions{IOStreams: genericiooptions.IOStreams{Out: &out, ErrOut: &errOut}, output: "text", timeout: time.Minute,
			rbac: func(context.Context, *whoCanOptions) (*checks.Inventory, string, error) { return inv, "local-1", nil }})
		c.SetArgs(args)
		if err := c.Execute(); err != nil {
			t.Fatalf("who-can %q: %v", args, err)
		}
		return out.String(), errOut.String()
	}
	text, _ := run("create", "pods/exec", "-n", "fintech-prod")
	for _, want := range []string{
		"who can create pods/exec -n fintech-prod (in namespace fintech-prod, context local-1): 2 subjects",
		"SUBJECT KIND    NAME      NAMESPACE     VIA",
		"ServiceAccount  debugger  fintech-prod  RoleBinding/fintech-prod/oncall-exec → Role/fintech-prod/exec",
		"User            oncall    -             RoleBinding/fintech-prod/oncall-exec → Role/fintech-prod/exec",
		"note: Group system:masters is allowed every request",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
	js, _ := run("create", "pods/exec", "-n", "fintech-prod", "-o", "json")
	var doc struct {
		Context  string
		Question struct{ Verb, Group, Resource, Subresource, Name, Namespace string }
		Subjects []struct {
			Kind, Name, Namespace string
			Via                   []struct {
				Binding, Role  struct{ Kind, Namespace, Name string }
				BuiltIn        bool
				AggregatedFrom string
				Rule           struct{ Verbs, APIGroups, Resources []string }
			}
		}
		Notes []string
	}
	dec := json.NewDecoder(strings.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("json output: %v\n%s", err, js)
	}
	if doc.Context != "local-1" || doc.Question.Subresource != "exec" || len(doc.Subjects) != 2 ||
		doc.Subjects[0].Namespace != "fintech-prod" || doc.Subjects[0].Via[0].Binding.Name != "oncall-exec" ||
		doc.Subjects[0].Via[0].Rule.Resources[0] != "pods/exec" {
		t.Errorf("json output: %+v\n%s", doc, js)
	}
}
