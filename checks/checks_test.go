package checks_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/load"
)

var (
	idPattern  = regexp.MustCompile(`^[a-z]+(-[a-z0-9]+)+$`)
	pciPattern = regexp.MustCompile(`^(1|2|3|4|6|7|8|9|10|11|12)\.[0-9]+(\.[0-9]+){0,2}$`)
)

func TestCatalogueIsComplete(t *testing.T) {
	seed := seedChecklist(t)
	cat := checks.Catalogue()
	seen := map[string]bool{}
	served := map[string]bool{}
	for _, c := range cat {
		if !idPattern.MatchString(c.ID) || seen[c.ID] {
			t.Errorf("check ID %q: not kebab-case or duplicated", c.ID)
		}
		seen[c.ID] = true
		if c.Title == "" || c.Rationale == "" || c.Remediation == "" || c.Eval == nil || c.Severity.Weight() == 0 {
			t.Errorf("%s: title, rationale, remediation, severity and Eval are all required", c.ID)
		}
		if !slices.ContainsFunc(seed, func(it checks.ChecklistItem) bool { return it.Group == c.Group && it.Item == c.Item }) {
			t.Errorf("%s: item %q is not an item of the seed's %s checklist", c.ID, c.Item, c.Group)
		}
		served[string(c.Group)+"/"+c.Item] = true
		for _, p := range c.PCI {
			if !pciPattern.MatchString(p) {
				t.Errorf("%s: PCI reference %q is not a PCI-DSS v4.0 requirement number", c.ID, p)
			}
		}
	}
	for _, it := range seed {
		if !served[string(it.Group)+"/"+it.Item] {
			t.Errorf("seed checklist line %s / %q has no check", it.Group, it.Item)
		}
	}
}

// worst returns the most serious status among findings.
func worst(fs []checks.Finding) checks.Status {
	order := []checks.Status{checks.Fail, checks.Warn, checks.Unknown, checks.Pass, checks.NotApplicable}
	best := len(order) - 1
	for _, f := range fs {
		if i := slices.Index(order, f.Status); i < best {
			best = i
		}
	}
	return order[best]
}

// directives reads a fixture's "# status:" and "# evidence:" header lines.
func directives(t *testing.T, data []byte) (status checks.Status, evidence []string) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "#") {
			break
		}
		if v, ok := strings.CutPrefix(line, "# status: "); ok {
			status = checks.Status(v)
		}
		if v, ok := strings.CutPrefix(line, "# evidence: "); ok {
			evidence = append(evidence, v)
		}
	}
	return status, evidence
}

// TestFixtures runs every check on its fixtures in testdata/checks/<id>/:
// pass.yaml must produce only pass (or not-applicable) findings and at
// least one pass; fail.yaml at least one fail (or the "# status:" given);
// unknown.yaml (checks the API cannot decide) an unknown. pass-*.yaml,
// fail-*.yaml and unknown-*.yaml are further cases of the same kind. Every "# evidence:"
// line must appear in some finding's evidence.
func TestFixtures(t *testing.T) {
	for _, c := range checks.Catalogue() {
		dir := filepath.Join("..", "testdata", "checks", c.ID)
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		var kinds []string
		for _, f := range files {
			kinds = append(kinds, fixtureKind(f))
		}
		hasPass, hasFail, hasUnknown := slices.Contains(kinds, "pass"), slices.Contains(kinds, "fail"), slices.Contains(kinds, "unknown")
		if !(hasPass && (hasFail || hasUnknown)) && !(hasUnknown && len(kinds) == 1) {
			t.Errorf("%s: want pass.yaml and fail.yaml (or unknown.yaml) in %s, have %v", c.ID, dir, kinds)
		}
		for _, f := range files {
			kind := fixtureKind(f)
			t.Run(c.ID+"/"+strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
				inv, data := loadFixture(t, f)
				fs := checks.Evaluate(c, inv)
				want, evidence := directives(t, data)
				if want == "" {
					want = checks.Status(kind)
				}
				if got := worst(fs); got != want {
					t.Errorf("worst status %s, want %s; findings:\n%s", got, want, dump(fs))
				}
				if kind == "pass" && !slices.ContainsFunc(fs, func(f checks.Finding) bool { return f.Status == checks.Pass }) {
					t.Errorf("no pass finding:\n%s", dump(fs))
				}
				for _, e := range evidence {
					if !slices.ContainsFunc(fs, func(f checks.Finding) bool { return strings.Contains(f.Evidence, e) }) {
						t.Errorf("no evidence contains %q; findings:\n%s", e, dump(fs))
					}
				}
				for _, f := range fs {
					if f.Check != c.ID || f.Evidence == "" || f.Resource.Kind == "" {
						t.Errorf("incomplete finding %+v", f)
					}
					if (f.Status == checks.Fail || f.Status == checks.Warn || f.Status == checks.Unknown) && f.Remediation == "" {
						t.Errorf("finding without remediation: %+v", f)
					}
				}
			})
		}
	}
}

// fixtureKind is what a fixture file expects, from its name: pass.yaml,
// fail.yaml, unknown.yaml, or one of those followed by "-" and what the
// case is about (fail-two-pdbs.yaml).
func fixtureKind(path string) string {
	kind, _, _ := strings.Cut(strings.TrimSuffix(filepath.Base(path), ".yaml"), "-")
	return kind
}

func dump(fs []checks.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + string(f.Status) + " " + f.Resource.String() + ": " + f.Evidence + "\n")
	}
	return b.String()
}

func mustLoad(t *testing.T, yaml string) *checks.Inventory {
	t.Helper()
	inv, err := load.Bytes("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func mustCheck(t *testing.T, id string) checks.Check {
	t.Helper()
	c, ok := checks.Lookup(id)
	if !ok {
		t.Fatalf("no check %s", id)
	}
	return c
}

const rulesCM = `apiVersion: v1
kind: ConfigMap
metadata: {name: fintech-rules, namespace: fintech-monitoring}
data:
  fintech-rules.yml: |
    groups:
    - name: fintech.rules
      rules:
      - alert: HighErrorRate
        expr: vector(1)
      - alert: PaymentServiceDown
        expr: vector(1)
`

func TestAlertRulesLoaded(t *testing.T) {
	c := mustCheck(t, "monitoring-alert-rules-loaded")
	for _, tc := range []struct {
		name   string
		loaded []string
		want   checks.Status
		ev     string
	}{
		{"not queried", nil, checks.Unknown, "Prometheus was not queried"},
		{"all loaded", []string{"PaymentServiceDown", "HighErrorRate", "Other"}, checks.Pass, "all 2 defined alerts are loaded"},
		{"one missing", []string{"HighErrorRate"}, checks.Fail, "defined but not loaded in Prometheus: PaymentServiceDown"},
		{"none loaded", []string{}, checks.Fail, "HighErrorRate, PaymentServiceDown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := mustLoad(t, rulesCM)
			inv.LoadedAlertRules = tc.loaded
			fs := checks.Evaluate(c, inv)
			if len(fs) != 1 || fs[0].Status != tc.want || !strings.Contains(fs[0].Evidence, tc.ev) {
				t.Errorf("got %s, want %s with %q", dump(fs), tc.want, tc.ev)
			}
		})
	}
}

func TestForbiddenInputMakesChecksUnknown(t *testing.T) {
	inv := mustLoad(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
	inv.Forbidden = map[string]string{checks.ResNetworkPolicies: `networkpolicies.networking.k8s.io is forbidden: User "reviewer" cannot list`}
	for _, f := range checks.Evaluate(mustCheck(t, "net-default-deny"), inv) {
		if f.Status != checks.Unknown || !strings.Contains(f.Evidence, "no access to networkpolicies.networking.k8s.io") {
			t.Errorf("got %+v, want unknown naming the forbidden resource", f)
		}
	}
	// A check not reading network policies still runs.
	if fs := checks.Evaluate(mustCheck(t, "pss-namespace-enforce-restricted"), inv); fs[0].Status != checks.Fail {
		t.Errorf("got %s", dump(fs))
	}
}

func TestAbsentControllersAreDistinguished(t *testing.T) {
	const deploy = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: registry.fintech.internal/web:v1}]}
`
	const ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"
	const argoCRD = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: applications.argoproj.io}\nspec: {group: argoproj.io}\n---\n"
	for _, tc := range []struct {
		name, check, yaml string
		want              checks.Status
		ev                string
	}{
		{"istio not in the manifests", "mesh-peer-authentication-strict", ns, checks.Unknown, "CRDs are not in the input"},
		{"istio DR not in the manifests", "mesh-destination-rule-istio-mutual", ns, checks.Unknown, "CRDs are not in the input"},
		{"argo absent", "ops-gitops-argocd", ns + deploy, checks.Warn, "Argo CD absent"},
		{"argo present, no app", "ops-gitops-argocd", argoCRD + ns + deploy, checks.Fail, "no Argo CD Application lists"},
		{"eso absent", "secrets-external-secret-ready", ns, checks.NotApplicable, "External Secrets Operator absent"},
		{"vpa absent", "ops-vpa-hpa-conflict", ns, checks.NotApplicable, "VerticalPodAutoscaler absent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := checks.Evaluate(mustCheck(t, tc.check), mustLoad(t, tc.yaml))
			if worst(fs) != tc.want || !strings.Contains(fs[0].Evidence, tc.ev) {
				t.Errorf("got %s, want %s with %q", dump(fs), tc.want, tc.ev)
			}
		})
	}
}

// TestIstioAbsentLiveFails: the seed's checklist requires "Service mesh
// with mTLS enabled"; a live cluster whose discovery shows no Istio CRDs
// does not meet it, so the mesh checks fail rather than leave the score as
// not-applicable.
func TestIstioAbsentLiveFails(t *testing.T) {
	inv := mustLoad(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
	inv.Origin = "context local-2 (namespaces shop)"
	for _, id := range []string{"mesh-peer-authentication-strict", "mesh-destination-rule-istio-mutual"} {
		if fs := checks.Evaluate(mustCheck(t, id), inv); worst(fs) != checks.Fail || !strings.Contains(fs[0].Evidence, "Istio absent") {
			t.Errorf("%s: got %s, want fail with \"Istio absent\"", id, dump(fs))
		}
	}
}

func TestEveryCheckYieldsAFinding(t *testing.T) {
	inv := mustLoad(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: shop}\n")
	cat := checks.Catalogue()
	fs := checks.Run(cat, inv)
	for _, c := range cat {
		if !slices.ContainsFunc(fs, func(f checks.Finding) bool { return f.Check == c.ID }) {
			t.Errorf("%s: no finding on an empty inventory", c.ID)
		}
	}
}

// TestLiteralSecretValuesNeverInEvidence: secrets-no-literal-env names the
// variable and the kind of secret found in its value, never the value.
func TestLiteralSecretValuesNeverInEvidence(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "checks", "secrets-no-literal-env", "fail-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fs := checks.Evaluate(mustCheck(t, "secrets-no-literal-env"), mustLoad(t, string(data)))
	if worst(fs) != checks.Fail {
		t.Fatalf("got %s", dump(fs))
	}
	for _, f := range fs {
		for _, v := range []string{"MIIBOgIBAAJBAKj34", "AKIAIOSFODNN7EXAMPLE", "eyJhbGciOiJIUzI1NiIs", "s3cr3t-Pa55"} {
			if strings.Contains(f.Evidence, v) || strings.Contains(f.Remediation, v) {
				t.Errorf("finding repeats a secret value: %s", f.Evidence)
			}
		}
	}
}
