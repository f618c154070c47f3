package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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
	schema := sarifSchema(t)
	r := estateReport(t)
	out := render(t, "sarif", r, report.Options{})
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Fatalf("SARIF output does not validate: %v", err)
	}
	checkSARIFRefs(t, r, out)
}

// sarifSchema is the OASIS SARIF 2.1.0 schema, compiled.
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
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
	return schema
}

// checkSARIFRefs checks what the schema cannot: cross references, levels, locations.
func checkSARIFRefs(t *testing.T, r report.Report, out []byte) {
	t.Helper()
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
		c := r.Score.Coverage
		if suites.Tests != len(r.Findings)+c.Items || suites.Failures != tc.want+c.NotMet ||
			suites.Skipped != r.Score.Counts[checks.Unknown]+r.Score.Counts[checks.NotApplicable]+c.Unverified {
			t.Errorf("fail-on %s: tests %d failures %d skipped %d; want %d, %d", tc.failOn, suites.Tests, suites.Failures, suites.Skipped, len(r.Findings)+c.Items, tc.want+c.NotMet)
		}
		if len(suites.Suites) != len(r.Checks)+1 || suites.Suites[len(r.Checks)].Name != "checklist" {
			t.Errorf("%d suites, want one per check (%d) and the checklist", len(suites.Suites), len(r.Checks))
		}
		sum := 0
		for _, s := range suites.Suites[:len(r.Checks)] {
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
		items := suites.Suites[len(suites.Suites)-1]
		notMet := 0
		for _, c := range items.Cases {
			if c.Failure != nil {
				notMet++
				if !strings.Contains(c.Failure.Text, "Remediation: ") || strings.HasSuffix(c.Failure.Text, "Remediation: ") {
					t.Errorf("checklist %s: not met without remediation", c.Name)
				}
			}
		}
		if len(items.Cases) != c.Items || notMet != c.NotMet {
			t.Errorf("checklist suite: %d cases, %d failures; want %d, %d", len(items.Cases), notMet, c.Items, c.NotMet)
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

// TestEveryFormatCarriesBothScoresAndCoverage parses each format back and
// finds the observed and proven scores and the coverage of the report (the
// estate's observed and proven scores differ, so one cannot stand for the
// other), and every checklist item's verdict.
func TestEveryFormatCarriesBothScoresAndCoverage(t *testing.T) {
	r := estateReport(t)
	s := r.Score
	f1 := func(p *float64) string { return strconv.FormatFloat(*p, 'f', 1, 64) }
	if s.Overall == nil || s.Proven.Overall == nil || *s.Overall == *s.Proven.Overall || s.Coverage.Percent == nil {
		t.Fatalf("estate scores observed %v proven %v: the test needs two different scores", s.Overall, s.Proven.Overall)
	}
	if len(r.Items) != s.Coverage.Items || s.Coverage.Decided == 0 || s.Coverage.Decided == s.Coverage.Items {
		t.Fatalf("estate coverage %+v over %d items: the test needs a partial coverage", s.Coverage, len(r.Items))
	}
	type tally struct {
		Overall *float64            `json:"overall"`
		Groups  map[string]*float64 `json:"groups"`
		Capped  map[string][]string `json:"capped"`
	}
	type score struct {
		tally
		Proven   tally `json:"proven"`
		Coverage struct {
			Decided, Items int
			Percent        *float64
		} `json:"coverage"`
	}
	checkScore := func(format string, got score, items []checks.ItemVerdict) {
		t.Helper()
		if got.Overall == nil || *got.Overall != *s.Overall || got.Proven.Overall == nil || *got.Proven.Overall != *s.Proven.Overall {
			t.Errorf("%s: overall observed %v proven %v, want %v %v", format, got.Overall, got.Proven.Overall, *s.Overall, *s.Proven.Overall)
		}
		for _, g := range checks.Groups {
			if o, p := got.Groups[string(g)], got.Proven.Groups[string(g)]; o == nil || p == nil || *o != *s.Groups[g] || *p != *s.Proven.Groups[g] {
				t.Errorf("%s: group %s observed %v proven %v", format, g, o, p)
			}
			if len(got.Proven.Capped[string(g)]) != len(s.Proven.Capped[g]) {
				t.Errorf("%s: group %s proven capped by %v, want %v", format, g, got.Proven.Capped[string(g)], s.Proven.Capped[g])
			}
		}
		if got.Coverage.Decided != s.Coverage.Decided || got.Coverage.Items != s.Coverage.Items || got.Coverage.Percent == nil {
			t.Errorf("%s: coverage %+v, want %+v", format, got.Coverage, s.Coverage)
		}
		if len(items) != len(r.Items) {
			t.Fatalf("%s: %d item verdicts, want %d", format, len(items), len(r.Items))
		}
		for i, it := range items {
			if it.Item != r.Items[i].Item || it.Verdict != r.Items[i].Verdict || (it.Verdict == checks.Unverified && len(it.Needed) == 0) {
				t.Errorf("%s: item %d %q %s (needed %d), want %q %s", format, i, it.Item, it.Verdict, len(it.Needed), r.Items[i].Item, r.Items[i].Verdict)
			}
		}
	}

	var doc struct {
		Items []checks.ItemVerdict `json:"items"`
		Score score                `json:"score"`
	}
	if err := json.Unmarshal(render(t, "json", r, report.Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	checkScore("json", doc.Score, doc.Items)

	var sarif struct {
		Runs []struct {
			Properties struct {
				Score     score                `json:"score"`
				Checklist []checks.ItemVerdict `json:"checklist"`
			} `json:"properties"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(render(t, "sarif", r, report.Options{}), &sarif); err != nil {
		t.Fatal(err)
	}
	checkScore("sarif", sarif.Runs[0].Properties.Score, sarif.Runs[0].Properties.Checklist)

	var suites report.JUnitSuites
	if err := xml.Unmarshal(render(t, "junit", r, report.Options{}), &suites); err != nil {
		t.Fatal(err)
	}
	props := map[string]string{}
	for _, p := range suites.Suites[len(suites.Suites)-1].Properties {
		props[p.Name] = p.Value
	}
	for k, want := range map[string]string{"score.observed": f1(s.Overall), "score.proven": f1(s.Proven.Overall),
		"coverage.decided": strconv.Itoa(s.Coverage.Decided), "coverage.items": strconv.Itoa(s.Coverage.Items),
		"score.proven.Compliance": f1(s.Proven.Groups[checks.Compliance])} {
		if props[k] != want {
			t.Errorf("junit: property %s = %q, want %q", k, props[k], want)
		}
	}

	coverage := fmt.Sprintf("%d of %d items decided", s.Coverage.Decided, s.Coverage.Items)
	md := string(render(t, "markdown", r, report.Options{}))
	table := string(render(t, "table", r, report.Options{}))
	for format, wants := range map[string][]string{
		"markdown": {fmt.Sprintf("| **Overall** | **%s** | **%s** |", f1(s.Overall), f1(s.Proven.Overall)), coverage, "## Checklist verdicts",
			fmt.Sprintf("| Compliance | %s | %s |", f1(s.Groups[checks.Compliance]), f1(s.Proven.Groups[checks.Compliance]))},
		"table": {fmt.Sprintf("observed %s, proven %s", f1(s.Overall), f1(s.Proven.Overall)), coverage,
			fmt.Sprintf("Compliance %s / %s", f1(s.Groups[checks.Compliance]), f1(s.Proven.Groups[checks.Compliance]))},
	} {
		out := map[string]string{"markdown": md, "table": table}[format]
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %q", format, w)
			}
		}
		for _, it := range r.Items {
			verdict := strings.ToUpper(strings.ReplaceAll(string(it.Verdict), "-", " "))
			if !regexp.MustCompile(regexp.QuoteMeta(verdict) + `\s+\|?\s*` + string(it.Group) + `\s+\|?\s*` + regexp.QuoteMeta(it.Item)).MatchString(out) {
				t.Errorf("%s: no verdict line %s for %s", format, verdict, it.Item)
			}
		}
	}
}
