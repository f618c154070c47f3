package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The house rule in code: the value packages and the UI never pull
// k8s.io/client-go. cluster/ owns every client-go call for reading and
// actions/ for writing; estate/ holds the snapshot as values, checks/ and
// config/ are pure, and ui/ renders what they hold.

// clientGoFree are the packages (go list patterns) that must not depend on
// k8s.io/client-go, directly or through any import. The UI reaches the
// guarded actions through their vocabulary (actions/spec) and the audit log
// (actions/audit), both client-go-free; cmd wires the actions package in.
var clientGoFree = []string{"./estate/...", "./checks/...", "./config/...", "./ui/...", "./actions/spec/...", "./actions/audit/..."}

// noVigilImports are leaves of the UI: they know no domain package at all
// (theme maps levels to colours; what level a health or a verdict is, is
// ui/render's business).
var noVigilImports = []string{"github.com/vigil-k8s/vigil/ui/theme"}

const module = "github.com/vigil-k8s/vigil"

// importGraph runs go list -deps over patterns and returns each listed
// package's direct imports (non-test).
func importGraph(t *testing.T, patterns ...string) (roots []string, graph map[string][]string) {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, patterns...)...).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(patterns, " "), stderrOf(err))
	}
	roots = strings.Fields(string(out))
	out, err = exec.Command("go", append([]string{"list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}"}, patterns...)...).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", strings.Join(patterns, " "), stderrOf(err))
	}
	graph = map[string][]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		graph[f[0]] = f[1:]
	}
	return roots, graph
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return err.Error() + ": " + string(ee.Stderr)
	}
	return err.Error()
}

// pathTo returns an import chain from pkg to the first package for which
// hit is true, not passing through a package for which avoid is true; nil
// when there is none.
func pathTo(graph map[string][]string, pkg string, hit, avoid func(string) bool) []string {
	seen := map[string]bool{}
	var walk func(p string) []string
	walk = func(p string) []string {
		if seen[p] || avoid(p) {
			return nil
		}
		seen[p] = true
		if hit(p) {
			return []string{p}
		}
		for _, q := range graph[p] {
			if chain := walk(q); chain != nil {
				return append([]string{p}, chain...)
			}
		}
		return nil
	}
	return walk(pkg)
}

func isClientGo(p string) bool {
	return p == "k8s.io/client-go" || strings.HasPrefix(p, "k8s.io/client-go/")
}

func never(string) bool { return false }

func TestValuePackagesAndUIPullNoClientGo(t *testing.T) {
	roots, graph := importGraph(t, clientGoFree...)
	for _, p := range roots {
		if chain := pathTo(graph, p, isClientGo, never); chain != nil {
			t.Errorf("%s pulls k8s.io/client-go: %s", p, strings.Join(chain, " → "))
		}
	}
}

func TestUINeverImportsCluster(t *testing.T) {
	roots, graph := importGraph(t, "./ui/...")
	isCluster := func(p string) bool { return p == module+"/cluster" || strings.HasPrefix(p, module+"/cluster/") }
	for _, p := range roots {
		if chain := pathTo(graph, p, isCluster, never); chain != nil {
			t.Errorf("%s depends on cluster (ui reads estate values; cmd wires cluster into ui.Backend): %s", p, strings.Join(chain, " → "))
		}
	}
}

func TestThemeKnowsNoDomain(t *testing.T) {
	_, graph := importGraph(t, noVigilImports...)
	for _, p := range noVigilImports {
		isVigil := func(q string) bool { return q != p && strings.HasPrefix(q, module+"/") }
		if chain := pathTo(graph, p, isVigil, never); chain != nil {
			t.Errorf("%s imports a vigil package: %s", p, strings.Join(chain, " → "))
		}
	}
}
