package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-k8s/vigil/checks"
)

// JUnitSuites is the JUnit XML root (exported so tests and tools can parse
// the output back).
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one check.
type JUnitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Properties []JUnitProperty `xml:"properties>property,omitempty"`
	Cases      []JUnitCase     `xml:"testcase"`
}

// JUnitProperty is a name/value pair on a suite.
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitCase is one finding.
type JUnitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Failure   *JUnitMessage `xml:"failure,omitempty"`
	Skipped   *JUnitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitMessage is a failure or skip with its text.
type JUnitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, r Report, o Options) error {
	root := JUnitSuites{Name: "vigil check"}
	threshold := o.FailOn
	if threshold == "" {
		threshold = checks.Fail
	}
	for _, c := range r.Checks {
		s := JUnitSuite{Name: c.ID, Properties: []JUnitProperty{
			{"title", c.Title}, {"group", string(c.Group)}, {"item", c.Item},
			{"severity", string(c.Severity)}, {"pci", strings.Join(c.PCI, ",")},
		}}
		for _, f := range r.Findings {
			if f.Check != c.ID {
				continue
			}
			tc := JUnitCase{ClassName: "vigil." + strings.ToLower(string(c.Group)) + "." + c.ID, Name: f.Resource.String()}
			text := f.Evidence
			if f.Remediation != "" {
				text += "\nRemediation: " + f.Remediation
			}
			switch {
			case AtOrAbove(f.Status, threshold):
				tc.Failure = &JUnitMessage{Message: f.Evidence, Type: string(f.Status), Text: text}
				s.Failures++
			case f.Status == checks.Unknown || f.Status == checks.NotApplicable:
				tc.Skipped = &JUnitMessage{Message: string(f.Status) + ": " + f.Evidence}
				s.Skipped++
			default:
				tc.SystemOut = strings.ToUpper(string(f.Status)) + ": " + text
			}
			s.Tests++
			s.Cases = append(s.Cases, tc)
		}
		root.Tests += s.Tests
		root.Failures += s.Failures
		root.Skipped += s.Skipped
		root.Suites = append(root.Suites, s)
	}
	items := checklistSuite(r)
	root.Tests += items.Tests
	root.Failures += items.Failures
	root.Skipped += items.Skipped
	root.Suites = append(root.Suites, items)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(root); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// checklistSuite is the suite "checklist": the scores and coverage as
// properties, and a testcase per checklist item — not met is a failure,
// unverified is skipped with the evidence needed, met passes.
func checklistSuite(r Report) JUnitSuite {
	sc := r.Score
	s := JUnitSuite{Name: "checklist", Properties: []JUnitProperty{
		{"score.observed", fmtScore(sc.Overall)}, {"score.proven", fmtScore(sc.Proven.Overall)},
		{"coverage.decided", fmt.Sprint(sc.Coverage.Decided)}, {"coverage.items", fmt.Sprint(sc.Coverage.Items)},
		{"coverage.percent", fmtScore(sc.Coverage.Percent)},
	}}
	for _, g := range checks.Groups {
		s.Properties = append(s.Properties,
			JUnitProperty{"score.observed." + string(g), fmtScore(sc.Groups[g])},
			JUnitProperty{"score.proven." + string(g), fmtScore(sc.Proven.Groups[g])})
	}
	for _, c := range capLines(r) {
		s.Properties = append(s.Properties, JUnitProperty{"capped", c})
	}
	for _, it := range r.Items {
		tc := JUnitCase{ClassName: "vigil.checklist." + strings.ToLower(string(it.Group)), Name: it.Item}
		switch it.Verdict {
		case checks.NotMet:
			tc.Failure = &JUnitMessage{Message: it.Why, Type: string(it.Verdict), Text: it.Why + "\nRemediation: " + itemRemediation(r, it)}
			s.Failures++
		case checks.Met:
			tc.SystemOut = "MET: " + it.Why
		default:
			tc.Skipped = &JUnitMessage{Message: "unverified: " + it.Why + "; needed: " + strings.Join(it.Needed, "; ")}
			s.Skipped++
		}
		s.Tests++
		s.Cases = append(s.Cases, tc)
	}
	return s
}

// itemRemediation joins the remediations of the item's failing checks.
func itemRemediation(r Report, it checks.ItemVerdict) string {
	var out []string
	for _, id := range it.Checks {
		for _, f := range r.Findings {
			if f.Check == id && f.Status == checks.Fail {
				out = append(out, id+": "+r.check(id).Remediation)
				break
			}
		}
	}
	return strings.Join(out, " ")
}
