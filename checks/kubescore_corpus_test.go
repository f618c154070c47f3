package checks_test

// Reading kube-score's corpus for TestKubeScoreAgreement: the module from
// the module cache, the assertions from its test sources (go/parser), and
// the fixtures as the API would store them.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// kubeScoreCase is one assertion of a kube-score test: it scores Fixture
// and expects Check's grade to be Grade ("AllOK", "Warning", "Critical",
// or "Skipped" for grade 0 and wasSkipped).
type kubeScoreCase struct {
	Test, Pos, Fixture, Check, Grade string
	Config                           []string
	Skip                             bool // the test asserts kube-score's skip comment
}

func nodeExpr(n ast.Node) ast.Expr {
	e, _ := n.(ast.Expr)
	return e
}

func (c kubeScoreCase) key() string { return c.Test + " " + c.Fixture }

// kubeScoreDir downloads kube-score's module into the module cache and
// returns its directory. It runs outside vigil's module so that neither
// go.mod nor go.sum changes.
func kubeScoreDir(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", kubeScoreModule+"@"+kubeScoreVersion)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var mod struct{ Dir, Error string }
	if jsonErr := json.Unmarshal(out, &mod); jsonErr != nil && err == nil {
		err = jsonErr
	}
	if err != nil || mod.Error != "" || mod.Dir == "" {
		t.Fatalf("go mod download %s@%s (kube-score's corpus, read from the module cache): %v %s %s", kubeScoreModule, kubeScoreVersion, err, mod.Error, stderr.String())
	}
	return mod.Dir
}

// kubeScoreCases reads every assertion of kube-score's score/*_test.go
// that names a fixture, a check and the grade it expects.
func kubeScoreCases(t *testing.T, dir string) (cases []kubeScoreCase, tests []string) {
	t.Helper()
	fset := token.NewFileSet()
	files, _ := filepath.Glob(filepath.Join(dir, "score", "*_test.go"))
	if len(files) == 0 {
		t.Fatalf("no score/*_test.go in %s", dir)
	}
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || !strings.HasPrefix(fn.Name.Name, "Test") || fn.Body == nil {
				continue
			}
			tests = append(tests, fn.Name.Name)
			// A test asserting the comment kube-score adds when it skips
			// (probes.go:47, deployment.go:48,97,100) is about a skip,
			// though its asserted grade is AllOK.
			skips := false
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if s, ok := stringLit(nodeExpr(n)); ok && (strings.Contains(s, "skipping") || strings.HasPrefix(s, "Skipped ")) {
					skips = true
				}
				return true
			})
			// The one loop form kube-score uses: for _, v := range []string{...}.
			loop := map[string][]string{}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if r, ok := n.(*ast.RangeStmt); ok {
					if v, ok := r.Value.(*ast.Ident); ok {
						if lit, ok := r.X.(*ast.CompositeLit); ok {
							for _, e := range lit.Elts {
								if s, ok := stringLit(e); ok {
									loop[v.Name] = append(loop[v.Name], s)
								}
							}
						}
					}
				}
				return true
			})
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				name, ok := call.Fun.(*ast.Ident)
				if !ok {
					return true
				}
				var fixture, check, grade ast.Expr
				var config ast.Expr
				switch {
				case name.Name == "testExpectedScore" && len(call.Args) == 4:
					fixture, check, grade = call.Args[1], call.Args[2], call.Args[3]
				case name.Name == "testExpectedScoreWithConfig" && len(call.Args) == 6:
					fixture, config, check, grade = call.Args[1], call.Args[3], call.Args[4], call.Args[5]
				case name.Name == "wasSkipped" && len(call.Args) == 5:
					fixture, config, check = call.Args[1], call.Args[3], call.Args[4]
				default:
					return true
				}
				pos := fset.Position(call.Pos())
				c := kubeScoreCase{Test: fn.Name.Name, Pos: fmt.Sprintf("score/%s:%d", filepath.Base(pos.Filename), pos.Line), Grade: "Skipped"}
				c.Check, _ = stringLit(check)
				c.Skip = skips
				if grade != nil {
					switch g := grade.(type) {
					case *ast.SelectorExpr:
						c.Grade = strings.TrimPrefix(g.Sel.Name, "Grade")
					case *ast.BasicLit:
						if g.Value != "0" {
							t.Fatalf("%s: grade %s", c.Pos, g.Value)
						}
					}
				}
				if lit, ok := config.(*ast.UnaryExpr); ok {
					if cl, ok := lit.X.(*ast.CompositeLit); ok {
						for _, e := range cl.Elts {
							kv := e.(*ast.KeyValueExpr)
							if k := kv.Key.(*ast.Ident).Name; k != "KubernetesVersion" {
								c.Config = append(c.Config, k+": "+string(src[fset.Position(kv.Value.Pos()).Offset:fset.Position(kv.Value.End()).Offset]))
							}
						}
					}
				}
				fixtures := fixtureNames(fixture, loop)
				if c.Check == "" || len(fixtures) == 0 {
					t.Fatalf("%s: cannot read the assertion (check %q, fixtures %v)", c.Pos, c.Check, fixtures)
				}
				for _, fx := range fixtures {
					c.Fixture = fx
					cases = append(cases, c)
				}
				return true
			})
		}
	}
	return cases, tests
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// fixtureNames evaluates a fixture argument: "f.yaml",
// testFile("f.yaml"), []ks.NamedReader{testFile(...)}, or "a-"+v+".yaml"
// over the loop's values of v.
func fixtureNames(e ast.Expr, loop map[string][]string) []string {
	switch x := e.(type) {
	case *ast.BasicLit:
		s, _ := stringLit(x)
		return []string{s}
	case *ast.CallExpr:
		if len(x.Args) == 1 {
			return fixtureNames(x.Args[0], loop)
		}
	case *ast.CompositeLit:
		var out []string
		for _, el := range x.Elts {
			out = append(out, fixtureNames(el, loop)...)
		}
		return out
	case *ast.Ident:
		return loop[x.Name]
	case *ast.BinaryExpr:
		var out []string
		for _, l := range fixtureNames(x.X, loop) {
			for _, r := range fixtureNames(x.Y, loop) {
				out = append(out, l+r)
			}
		}
		return out
	}
	return nil
}

// servedVersion rewrites an object declared under an apiVersion Kubernetes
// no longer serves to the served one, where the two schemas are the same
// for every field the compared checks read: policy/v1beta1 →
// policy/v1 PodDisruptionBudgets (only with a non-empty selector: an
// empty one selects nothing in v1beta1 and everything in v1) and
// batch/v1beta1 → batch/v1 CronJobs. Without it vigil lists the object as
// skipped (TestKubeScoreAgreement asserts that too), which says nothing
// about the rule kube-score's test is about.
func servedVersion(t *testing.T, data []byte) (out []byte, converted bool) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if doc == nil {
			continue
		}
		switch av, kind := doc["apiVersion"], doc["kind"]; {
		case av == "policy/v1beta1" && kind == "PodDisruptionBudget":
			spec, _ := doc["spec"].(map[string]any)
			if sel, _ := spec["selector"].(map[string]any); len(sel) == 0 {
				t.Fatalf("a policy/v1beta1 PodDisruptionBudget with an empty selector means something else in policy/v1")
			}
			doc["apiVersion"], converted = "policy/v1", true
		case av == "batch/v1beta1" && kind == "CronJob":
			doc["apiVersion"], converted = "batch/v1", true
		}
		if err := enc.Encode(doc); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), converted
}

// productionNamespaces adds, for each namespace the fixture's objects are
// in (default when unset), a Namespace labelled environment=production,
// unless the fixture declares it.
func productionNamespaces(t *testing.T, data []byte) []byte {
	t.Helper()
	seen, declared := map[string]bool{}, map[string]bool{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if doc.Kind == "Namespace" {
			declared[doc.Metadata.Name] = true
			continue
		}
		if doc.Kind == "" {
			continue
		}
		ns := doc.Metadata.Namespace
		if ns == "" {
			ns = "default"
		}
		seen[ns] = true
	}
	out := bytes.Clone(data)
	for _, ns := range slices.Sorted(maps.Keys(seen)) {
		if !declared[ns] {
			out = fmt.Appendf(out, "\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels: {environment: production}\n", ns)
		}
	}
	return out
}

// kubeScoreDeliberate reads the deliberate differences docs/checks.md
// lists in its kube-score section: table rows "| `Test` | `fixture` | …".
func kubeScoreDeliberate(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "checks.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "<!-- kube-score differences -->")
	if !ok {
		t.Fatal("docs/checks.md has no <!-- kube-score differences --> table")
	}
	section, _, _ = strings.Cut(section, "<!-- end kube-score differences -->")
	out := map[string]string{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`Test") {
			continue
		}
		test := strings.Trim(strings.TrimSpace(cells[1]), "`")
		fixture := strings.Trim(strings.TrimSpace(cells[2]), "`")
		out[test+" "+fixture] = line
	}
	return out
}
