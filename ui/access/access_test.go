package access

import (
	"testing"

	"github.com/vigil-k8s/vigil/checks"
)

// TestParseQuestion: what :who-can reads, flags anywhere, and the one-line refusals.
func TestParseQuestion(t *testing.T) {
	for text, want := range map[string]checks.WhoCanQuestion{
		"get secrets payment-secrets -n fintech-prod": {Verb: "get", Resource: "secrets", Name: "payment-secrets", Namespace: "fintech-prod"},
		"-n fintech-prod create pods/exec":            {Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "fintech-prod"},
		"patch deployments.apps --namespace=x":        {Verb: "patch", Resource: "deployments", Group: "apps", Namespace: "x"},
		"impersonate users":                           {Verb: "impersonate", Resource: "users"},
	} {
		if got, err := ParseQuestion(text); err != nil || got != want {
			t.Errorf("%q: %+v, %v; want %+v", text, got, err, want)
		}
	}
	for _, bad := range []string{"", "get", "get pods a b", "get pods -n", "g/et pods"} {
		if _, err := ParseQuestion(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	for _, p := range Presets {
		if _, err := ParseQuestion(p); err != nil {
			t.Errorf("preset %q: %v", p, err)
		}
	}
}
