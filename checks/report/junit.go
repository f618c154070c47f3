package report

import (
	"encoding/xml"
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
