package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/load"
	"github.com/vigil-k8s/vigil/checks/report"
)

// estateReport runs the catalogue over the seed estate (local-1).
func estateReport(t *testing.T) report.Report {
	t.Helper()
	root := filepath.Join("..", "..", "testdata", "fintech")
	inv, err := load.Paths([]string{filepath.Join(root, "all"), filepath.Join(root, "local-1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cat := checks.Catalogue()
	r := report.New(cat, checks.Run(cat, inv), inv)
	r.Version = "test"
	return r
}

func render(t *testing.T, format string, r report.Report, o report.Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := report.Write(&b, format, r, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSARIFValidatesAgainstSchema validates the SARIF output against the
// OASIS SARIF 2.1.0 JSON schema (testdata/schemas/sarif-schema-2.1.0.json,
// from oasis-tcs/sarif-spec), formats asserted.
func TestSARIFValidatesAgainstSchema(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "testdata", "schemas", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
	if err = c.AddResource(url, schemaDoc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}

	r := estateReport(t)
	out := render(t, "sarif", r, report.Options{})
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Fatalf("SARIF output does not validate: %v", err)
	}

	// The schema cannot check cross references: do it here.
	var doc struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string } `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Kind      string `json:"kind"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation *struct {
						ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
						Region           struct{ StartLine int } `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	run := doc.Runs[0]
	if len(run.Tool.Driver.Rules) != len(r.Checks) || len(run.Results) == 0 {
		t.Fatalf("%d rules, %d results", len(run.Tool.Driver.Rules), len(run.Results))
	}
	physical := 0
	for _, res := range run.Results {
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s: ruleIndex %d points at %s", res.RuleID, res.RuleIndex, run.Tool.Driver.Rules[res.RuleIndex].ID)
		}
		if res.Kind != "fail" && res.Level != "none" {
			t.Errorf("result %s: kind %s must have level none (SARIF §3.27.10)", res.RuleID, res.Kind)
		}
		if pl := res.Locations[0].PhysicalLocation; pl != nil {
			physical++
			if !strings.HasPrefix(pl.ArtifactLocation.URI, "../../testdata/fintech/") || pl.Region.StartLine < 1 {
				t.Errorf("result %s: physical location %+v", res.RuleID, pl)
			}
		}
	}
	if physical == 0 {
		t.Error("no result points at the manifest it came from")
	}
}

func TestJUnitParsesBack(t *testing.T) {
	r := estateReport(t)
	for _, tc := range []struct {
		failOn checks.Status
		want   int
	}{
		{checks.Fail, r.Score.Counts[checks.Fail]},
		{checks.Warn, r.Score.Counts[checks.Fail] + r.Score.Counts[checks.Warn]},
	} {
		out := render(t, "junit", r, report.Options{FailOn: tc.failOn})
		var suites report.JUnitSuites
		if err := xml.Unmarshal(out, &suites); err != nil {
			t.Fatalf("junit does not parse: %v", err)
		}
		if suites.Tests != len(r.Findings) || suites.Failures != tc.want ||
			suites.Skipped != r.Score.Counts[checks.Unknown]+r.Score.Counts[checks.NotApplicable] {
			t.Errorf("fail-on %s: tests %d failures %d skipped %d; want %d, %d", tc.failOn, suites.Tests, suites.Failures, suites.Skipped, len(r.Findings), tc.want)
		}
		if len(suites.Suites) != len(r.Checks) {
			t.Errorf("%d suites, want one per check (%d)", len(suites.Suites), len(r.Checks))
		}
		sum := 0
		for _, s := range suites.Suites {
			for _, c := range s.Cases {
				if c.Failure != nil {
					sum++
					if c.Failure.Message == "" || !strings.Contains(c.Failure.Text, "Remediation:") {
						t.Errorf("%s %s: failure without evidence or remediation", s.Name, c.Name)
					}
				}
			}
		}
		if sum != tc.want {
			t.Errorf("counted %d failing cases, want %d", sum, tc.want)
		}
	}
}

func TestMarkdownAndTable(t *testing.T) {
	r := estateReport(t)
	md := string(render(t, "markdown", r, report.Options{}))
	for _, want := range []string{"## Security", "### Pod Security Standards enforced", "**`ingress-tls`**", "| fail | Ingress/fintech-staging/api-gateway |", "| **Overall** |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	table := string(render(t, "table", r, report.Options{}))
	if strings.Contains(table, "\nPASS ") || !strings.Contains(table, "\nFAIL ") || !strings.Contains(table, "score ") {
		t.Errorf("table: want fails and a score and no passes by default")
	}
	all := string(render(t, "table", r, report.Options{ShowPassed: true}))
	if !strings.Contains(all, "\nPASS ") {
		t.Error("table --show-passed: no passes")
	}
	if err := report.Write(&bytes.Buffer{}, "yaml", r, report.Options{}); err == nil {
		t.Error("unknown format accepted")
	}
}
