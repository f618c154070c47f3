package cluster

import (
	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
	"testing"
)

func allNamespaced() []string {
	var out []string
	for _, r := range watched {
		if r.Scope == checks.Namespaced {
			out = append(out, r.Key())
		}
	}
	return out
}

func TestProblems(t *testing.T) {
	got := Problems([]estate.NamespaceStatus{
		{Name: "fintech-dr", Missing: true},
		{Name: "fintech-security", Denied: []string{"pods", "replicasets"}},
		{Name: "kube-system", Denied: allNamespaced()},
		{Name: "fintech-prod"},
	})
	want := []string{
		`namespace "fintech-dr" does not exist`,
		"no access to pods and replicasets in fintech-security",
		"no access to namespace kube-system",
	}
	if len(got) != len(want) {
		t.Fatalf("Problems() = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Problems()[%d] = %q, want %q", i, got[i], want[i])
		}
	}
}
