package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/load"
)

var fintechManifests = []string{"-f", "../testdata/fintech/all", "-f", "../testdata/fintech/local-1"}

// run executes vigil check with args, returning stdout, stderr and the
// exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runVigil(t, nil, "", append([]string{"check"}, args...)...)
}

func fixture(id, kind string) string {
	return filepath.Join("..", "testdata", "checks", id, kind+".yaml")
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"estate fails", fintechManifests, ExitFindings},
		{"one passing check", []string{"-f", fixture("ops-probes", "pass"), "--check", "ops-probes"}, ExitOK},
		{"one failing check", []string{"-f", fixture("ops-probes", "fail"), "--check", "ops-probes"}, ExitFindings},
		{"warn below --fail-on fail", []string{"-f", fixture("rbac-no-stale-rules", "fail"), "--check", "rbac-no-stale-rules"}, ExitOK},
		{"warn at --fail-on warn", []string{"-f", fixture("rbac-no-stale-rules", "fail"), "--check", "rbac-no-stale-rules", "--fail-on", "warn"}, ExitFindings},
		{"unknown never fails", []string{"-f", fixture("ops-dr-plan", "unknown"), "--check", "ops-dr-plan", "--fail-on", "warn"}, ExitOK},
		{"bad output", append([]string{"-o", "xml"}, fintechManifests...), ExitUsage},
		{"bad fail-on", append([]string{"--fail-on", "unknown"}, fintechManifests...), ExitUsage},
		{"unknown check", append([]string{"--check", "nope"}, fintechManifests...), ExitUsage},
		{"unknown flag", []string{"--nope"}, ExitUsage},
		{"missing file", []string{"-f", "does-not-exist.yaml"}, ExitUsage},
		{"positional args", []string{"extra"}, ExitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, tc.args...)
			if code == ExitUsage && strings.Count(strings.TrimSpace(errOut), "\n") != 0 || code == ExitUsage && errOut == "" {
				t.Errorf("usage error: want one line on stderr, got %q", errOut)
			}
			if code != tc.want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.want, out, errOut)
			}
		})
	}
}

func TestBadInputNamesFileAndDocument(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n# second\napiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "-f", bad)
	if code != ExitUsage || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], bad+": document 2 (line 5)") {
		t.Errorf("want one line naming %s and document 2, got %q", bad, errOut)
	}
	_, errOut, code = run(t, "-f", filepath.Join(dir, "missing.yaml"))
	if code != ExitUsage || !strings.Contains(errOut, "missing.yaml: no such file or directory") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestJSONShape pins the JSON document's keys exactly.
func TestJSONShape(t *testing.T) {
	out, _, code := run(t, append([]string{"-o", "json", "--reachability"}, fintechManifests...)...)
	if code != ExitFindings {
		t.Fatalf("exit %d", code)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	assertKeys(t, "top", doc, "checks", "findings", "items", "score", "skipped", "reachability") // the estate holds kinds no check reads, and PCI workloads
	var cs []map[string]json.RawMessage
	var fs []map[string]json.RawMessage
	var score map[string]json.RawMessage
	for k, v := range map[string]any{"checks": &cs, "findings": &fs, "score": &score} {
		if err := json.Unmarshal(doc[k], v); err != nil {
			t.Fatal(err)
		}
	}
	if len(cs) != len(checks.Catalogue()) || len(fs) == 0 {
		t.Fatalf("%d checks, %d findings", len(cs), len(fs))
	}
	for _, c := range cs {
		assertKeys(t, "check", c, "id", "title", "group", "item", "pci", "severity")
	}
	for _, f := range fs {
		assertKeys(t, "finding", f, "check", "status", "resource", "evidence", "remediation")
		var r map[string]json.RawMessage
		_ = json.Unmarshal(f["resource"], &r)
		if _, ok := r["kind"]; !ok {
			t.Errorf("resource without kind: %s", f["resource"])
		}
	}
	assertKeys(t, "score", score, "overall", "groups", "capped", "proven", "coverage", "counts")
	var reach map[string]json.RawMessage
	if err := json.Unmarshal(doc["reachability"], &reach); err != nil {
		t.Fatal(err)
	}
	assertKeys(t, "reachability", reach, "scope", "ingress", "egress", "asked")
	var edges []map[string]json.RawMessage
	if err := json.Unmarshal(reach["ingress"], &edges); err != nil || len(edges) == 0 {
		t.Fatalf("reachability ingress: %v, %d edges", err, len(edges))
	}
	assertKeys(t, "edge", edges[0], "from", "to", "ports", "via")
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(doc["items"], &items); err != nil || len(items) != len(checks.Checklist) {
		t.Fatalf("items: %v, %d of %d", err, len(items), len(checks.Checklist))
	}
	for _, it := range items {
		if _, ok := it["needed"]; ok {
			assertKeys(t, "item", it, "group", "section", "item", "verdict", "checks", "why", "needed")
		} else {
			assertKeys(t, "item", it, "group", "section", "item", "verdict", "checks", "why")
		}
	}
	if strings.Contains(out, "PLACEHOLDER") || strings.Contains(out, "UExBQ0VIT0xERVI") {
		t.Error("JSON output carries Secret data")
	}
}

func assertKeys(t *testing.T, what string, m map[string]json.RawMessage, keys ...string) {
	t.Helper()
	if len(m) != len(keys) {
		t.Errorf("%s has keys %v, want exactly %v", what, mapKeys(m), keys)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s lacks %q", what, k)
		}
	}
}

func mapKeys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestEveryFormatRenders(t *testing.T) {
	for _, f := range []string{"table", "json", "markdown", "junit", "sarif", "html"} {
		out, _, code := run(t, append([]string{"-o", f}, fintechManifests...)...)
		if code != ExitFindings || len(out) < 1000 {
			t.Errorf("%s: exit %d, %d bytes", f, code, len(out))
		}
	}
	out, _, _ := run(t, fintechManifests...)
	if !strings.Contains(out, "score ") || !strings.Contains(out, "ingress-tls") || strings.Contains(out, "PASS ") {
		t.Errorf("table: want failing findings and the score, no passes:\n%s", out)
	}
}

func TestLiveInventoryIsUsedWithoutFiles(t *testing.T) {
	var out, errOut bytes.Buffer
	inv, err := load.Paths([]string{fixture("ingress-tls", "fail")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var gotNS []string
	o := newCheckOptions(newGlobalFlags(func(string) string { return "" }), genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
	o.listInventory = func(_ context.Context, o *CheckOptions) (*checks.Inventory, error) {
		gotNS = o.Namespaces
		return inv, nil
	}
	c := newCheckCommand(o)
	c.SetArgs([]string{"--check", "ingress-tls", "-n", "shop", "-o", "json"})
	if code := ExitCode(c.ExecuteContext(context.Background())); code != ExitFindings {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if len(gotNS) != 1 || gotNS[0] != "shop" || !strings.Contains(out.String(), `"status": "fail"`) {
		t.Errorf("namespaces %v, output %s", gotNS, out.String())
	}
}

// TestMissingNamespaceIsSaid: live check -n with a namespace the cluster lacks says so on stderr
// and in the report's input line, instead of scoring it as an empty namespace — also when no
// asked namespace exists (the inventory's Namespace list, kept to the asked ones as
// ListInventory keeps it, is then empty, and was taken for unknown: nothing said). Where the
// Namespace list is refused, nothing is claimed missing.
func TestMissingNamespaceIsSaid(t *testing.T) {
	for _, tc := range []struct {
		name, ns  string
		forbidden bool
		want      string
	}{
		{"one of two", "shop,nosuchns", false, "nosuchns"},
		{"the only one", "nosuchns", false, "nosuchns"},
		{"list refused", "nosuchns", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			o := newCheckOptions(newGlobalFlags(func(string) string { return "" }), genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
			o.listInventory = func(_ context.Context, o *CheckOptions) (*checks.Inventory, error) {
				inv := &checks.Inventory{Forbidden: map[string]string{}, Installed: map[string]bool{}, Config: checks.DefaultConfig()}
				if tc.forbidden {
					inv.Forbidden[checks.ResNamespaces] = "forbidden"
				} else {
					for _, n := range []string{"default", "kube-system", "shop"} {
						if slices.Contains(o.Namespaces, n) {
							inv.Namespaces = append(inv.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}})
						}
					}
				}
				inv.Config.Namespaces = o.Namespaces
				inv.Origin = "context local-1 (namespaces " + strings.Join(o.Namespaces, ", ") + ")"
				return inv, nil
			}
			c := newCheckCommand(o)
			c.SetArgs([]string{"-n", tc.ns, "-o", "markdown"})
			_ = c.ExecuteContext(context.Background())
			want := ""
			if tc.want != "" {
				want = `warning: namespace "` + tc.want + `" does not exist (context local-1 (namespaces ` + strings.ReplaceAll(tc.ns, ",", ", ") + `)): nothing in it was checked` + "\n"
			}
			if errOut.String() != want {
				t.Errorf("stderr = %q, want %q", errOut.String(), want)
			}
			if named := strings.Contains(out.String(), "namespaces not found: "+tc.want); tc.want != "" && !named {
				t.Errorf("report does not name the missing namespace:\n%s", out.String())
			}
		})
	}
}

// TestCheckReadsTheConfigFile: headless check takes what its flags leave unset from the same
// config file as the TUI (flags > the context's settings > global settings > defaults), and
// says which file in the report's input line.
func TestCheckReadsTheConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgFile, []byte(`namespaces: [shop]
allowedRegistries: [docker.io/fintechdev, registry.fintech.internal]
prometheus: http://prom.example:9090
contexts:
  ctx-a:
    namespaces: [team-a]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {}}]
contexts: [{name: ctx-a, context: {cluster: c, user: u}}, {name: ctx-b, context: {cluster: c, user: u}}]
current-context: ctx-b
`), 0o600); err != nil {
		t.Fatal(err)
	}
	live := func(args ...string) *CheckOptions {
		t.Helper()
		var out, errOut bytes.Buffer
		g := newGlobalFlags(func(string) string { return "" })
		o := newCheckOptions(g, genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
		var seen CheckOptions
		o.listInventory = func(_ context.Context, o *CheckOptions) (*checks.Inventory, error) {
			seen = *o
			return nil, context.Canceled // stop before Prometheus is asked
		}
		c := newCheckCommand(o)
		g.addFlags(c.PersistentFlags()) // the root's persistent flags, as on `vigil check`
		c.SetArgs(append([]string{"--kubeconfig", kubeconfig, "--config", cfgFile}, args...))
		_ = c.ExecuteContext(context.Background())
		return &seen
	}
	for _, tc := range []struct {
		name           string
		args           []string
		wantNS, wantRg []string
		wantProm       string
	}{
		{"current context: global settings", nil, []string{"shop"}, []string{"docker.io/fintechdev", "registry.fintech.internal"}, "http://prom.example:9090"},
		{"--context: its own settings over the global", []string{"--context", "ctx-a"}, []string{"team-a"}, []string{"docker.io/fintechdev", "registry.fintech.internal"}, "http://prom.example:9090"},
		{"flags win", []string{"--context", "ctx-a", "-n", "x", "--allowed-registry", "r.example", "--prometheus-url", "http://p:1"}, []string{"x"}, []string{"r.example"}, "http://p:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := live(tc.args...)
			if strings.Join(o.Namespaces, ",") != strings.Join(tc.wantNS, ",") || strings.Join(o.AllowedRegistries, ",") != strings.Join(tc.wantRg, ",") || o.PrometheusURL != tc.wantProm {
				t.Errorf("namespaces %v registries %v prometheus %q; want %v %v %q", o.Namespaces, o.AllowedRegistries, o.PrometheusURL, tc.wantNS, tc.wantRg, tc.wantProm)
			}
		})
	}

	// With -f the global allowedRegistries decide images-allowed-registry: docker.io/fintechdev
	// fails by default and passes once the config allows it.
	fail := fixture("images-allowed-registry", "fail")
	if _, _, code := run(t, "-f", fail, "--check", "images-allowed-registry"); code != ExitFindings {
		t.Fatalf("without config: exit %d, want %d", code, ExitFindings)
	}
	out, errOut, code := runVigil(t, nil, "", "--config", cfgFile, "check", "-f", fail, "--check", "images-allowed-registry", "-o", "markdown")
	if !strings.Contains(out, cfgFile) {
		t.Errorf("the report's input does not name the config file %s (exit %d, stderr %s):\n%s", cfgFile, code, errOut, out)
	}
	if strings.Contains(out, "| fail | Deployment/shop/web |") || !strings.Contains(out, "| fail | Deployment/shop/k6 |") {
		t.Errorf("config allows docker.io/fintechdev (web) but not docker.io/loadimpact (k6); got (exit %d, %s):\n%s", code, errOut, out)
	}
}

// TestSkippedInputIsSaid: a file whose only object has an apiVersion the API
// does not serve for its kind (apiVersion: v1, kind: Deployment, as found in
// real-world corpora) is not a clean file: vigil check -f names it, with
// file, document and reason, on stderr and in the report.
func TestSkippedInputIsSaid(t *testing.T) {
	f := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(f, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := f + ": document 2 (line 5): apiVersion v1 kind Deployment shop/web: apiVersion v1 does not serve kind Deployment (the API serves it as apps/v1)"
	for _, format := range []string{"table", "markdown", "json", "sarif"} {
		out, errOut, _ := run(t, "-f", f, "-o", format)
		if !strings.Contains(errOut, "skipped: "+want) {
			t.Errorf("%s: stderr %q does not name the skipped object", format, errOut)
		}
		if format == "json" || format == "sarif" {
			if !strings.Contains(out, `"reason": "apiVersion v1 does not serve kind Deployment`) || !strings.Contains(out, `"document": 2`) {
				t.Errorf("%s: report does not list the skipped object:\n%s", format, out)
			}
			continue
		}
		if !strings.Contains(out, "skipped 1 input objects") || !strings.Contains(out, want) {
			t.Errorf("%s: report does not list the skipped object:\n%s", format, out)
		}
	}
}

// TestReadableNamespacesAreHinted: a user bound in some namespaces only gets every check that
// needs a kind refused elsewhere as unknown, in every namespace; vigil check says which kinds,
// where, and which -n evaluates them where the user can read them. No hint when the refusals
// are the same everywhere (no -n helps) or when no namespace has all the kinds refused
// elsewhere, and a missing namespace is neither refused nor readable.
func TestReadableNamespacesAreHinted(t *testing.T) {
	viewOnly := []string{"roles.rbac.authorization.k8s.io", "secrets"}
	most := append([]string{"configmaps", "deployments.apps", "pods", "services"}, viewOnly...)
	for _, tc := range []struct {
		name      string
		ns        string
		refusedIn map[string][]string
		exist     []string
		want      string
	}{
		{"bound in one of three", "a,b,c", map[string][]string{"a": viewOnly, "b": most, "c": most}, []string{"a", "b", "c"},
			"warning: -n a evaluates what this identity can read: the API refuses it configmaps, deployments.apps, pods and 1 more in b, c (not in a), so the checks needing them are unknown in every namespace\n"},
		{"bound in two of three", "a,b,c", map[string][]string{"b": {"pods"}}, []string{"a", "b", "c"},
			"warning: -n a,c evaluates what this identity can read: the API refuses it pods in b (not in a, c), so the checks needing them are unknown in every namespace\n"},
		{"the same refusals everywhere", "a,b", map[string][]string{"a": viewOnly, "b": viewOnly}, []string{"a", "b"}, ""},
		{"refusals that cross", "a,b", map[string][]string{"a": {"pods"}, "b": {"secrets"}}, []string{"a", "b"}, ""},
		{"nothing refused", "a,b", nil, []string{"a", "b"}, ""},
		{"a missing namespace is not readable", "a,nosuch", map[string][]string{"a": {"pods"}}, []string{"a"},
			`warning: namespace "nosuch" does not exist (context local-1): nothing in it was checked` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			o := newCheckOptions(newGlobalFlags(func(string) string { return "" }), genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
			o.listInventory = func(_ context.Context, o *CheckOptions) (*checks.Inventory, error) {
				inv := &checks.Inventory{Forbidden: map[string]string{}, Installed: map[string]bool{}, Config: checks.DefaultConfig(), RefusedIn: tc.refusedIn}
				for _, n := range tc.exist {
					inv.Namespaces = append(inv.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}})
				}
				inv.Config.Namespaces = o.Namespaces
				inv.Origin = "context local-1"
				return inv, nil
			}
			c := newCheckCommand(o)
			c.SetArgs([]string{"-n", tc.ns, "-o", "markdown"})
			_ = c.ExecuteContext(context.Background())
			if errOut.String() != tc.want {
				t.Errorf("stderr = %q\nwant     %q", errOut.String(), tc.want)
			}
		})
	}
}

// TestTimeoutIsNamed: a listing cut by --timeout says which limit cut it and how to raise it;
// one that fails on its own (a refused connection) does not blame the limit.
func TestTimeoutIsNamed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		list  func(ctx context.Context) error
		named bool
	}{
		{"cut by --timeout", func(ctx context.Context) error {
			<-ctx.Done()
			return fmt.Errorf("discovery: timed out: %w", ctx.Err())
		}, true},
		{"failed on its own", func(context.Context) error { return errors.New("discovery: connection refused") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			o := newCheckOptions(newGlobalFlags(func(string) string { return "" }), genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
			o.listInventory = func(ctx context.Context, _ *CheckOptions) (*checks.Inventory, error) { return nil, tc.list(ctx) }
			c := newCheckCommand(o)
			c.SetArgs([]string{"--timeout", "20ms"})
			err := c.ExecuteContext(context.Background())
			if ExitCode(err) != ExitUsage {
				t.Fatalf("exit %d (%v), want %d", ExitCode(err), err, ExitUsage)
			}
			const hint = "(after --timeout 20ms: raise it for a large or distant cluster)"
			if got := strings.Contains(err.Error(), hint); got != tc.named {
				t.Errorf("error %q: names --timeout %v, want %v", err, got, tc.named)
			}
		})
	}
}
