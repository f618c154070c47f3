package report

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-k8s/vigil/checks"
)

// SARIF 2.1.0 (OASIS), the subset vigil writes.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool       sarifTool      `json:"tool"`
	Results    []sarifResult  `json:"results"`
	Properties map[string]any `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Kind                string            `json:"kind"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// securitySeverity is GitHub code scanning's 0–10 severity per level.
var securitySeverity = map[checks.Severity]string{
	checks.Critical: "9.5", checks.High: "8.0", checks.Medium: "5.5", checks.Low: "3.0",
}

func sarifLevel(s checks.Severity) string {
	if s == checks.Critical || s == checks.High {
		return "error"
	}
	return "warning"
}

// writeSARIF writes fail and warn findings as results of kind "fail"
// (level error / warning) and unknown findings as kind "review" (level
// none, as SARIF requires for non-fail kinds); pass and not-applicable are
// left out, as code-scanning tools expect.
func writeSARIF(w io.Writer, r Report) error {
	driver := sarifDriver{Name: "vigil", InformationURI: "https://github.com/vigil-k8s/vigil", Version: r.Version, Rules: []sarifRule{}}
	for _, c := range r.Checks {
		tags := []string{"security"} // GitHub code scanning shows security-severity only with this tag
		if g := strings.ToLower(string(c.Group)); g != "security" {
			tags = append(tags, g)
		}
		for _, p := range c.PCI {
			tags = append(tags, "PCI-DSS-"+p)
		}
		driver.Rules = append(driver.Rules, sarifRule{
			ID: c.ID, Name: ruleName(c.ID),
			ShortDescription:     sarifText{Text: c.Title},
			FullDescription:      sarifText{Text: c.Rationale},
			Help:                 sarifText{Text: c.Remediation, Markdown: fmt.Sprintf("**Checklist:** %s / %s\n\n%s\n\n**Remediation:** %s", c.Group, c.Item, c.Rationale, c.Remediation)},
			DefaultConfiguration: sarifConfig{Level: sarifLevel(c.Severity)},
			Properties: map[string]any{
				"tags": tags, "security-severity": securitySeverity[c.Severity], "precision": "high",
				"checklistGroup": string(c.Group), "checklistItem": c.Item, "pci": nonNil(c.PCI),
			},
		})
	}
	results := []sarifResult{}
	for _, f := range r.Findings {
		c := r.check(f.Check)
		res := sarifResult{
			RuleID: f.Check, RuleIndex: slices.IndexFunc(r.Checks, func(x checks.Check) bool { return x.ID == f.Check }),
			Message:             sarifText{Text: f.Resource.String() + ": " + f.Evidence},
			PartialFingerprints: map[string]string{"vigilFinding/v1": f.Check + "|" + f.Resource.String()},
			Properties:          map[string]any{"status": string(f.Status)},
		}
		switch f.Status {
		case checks.Fail:
			res.Kind, res.Level = "fail", sarifLevel(c.Severity)
		case checks.Warn:
			res.Kind, res.Level = "fail", "warning"
		case checks.Unknown:
			res.Kind, res.Level = "review", "none"
		case checks.Pass:
			if f.Attestation == nil {
				continue
			}
			// An attested pass is shown: the evidence came from a person, not the API.
			res.Kind, res.Level = "pass", "none"
		default:
			continue
		}
		if f.Attestation != nil {
			res.Properties["attestation"] = f.Attestation
		}
		if f.Remediation != "" {
			res.Message.Text += " Remediation: " + f.Remediation
		}
		loc := sarifLocation{LogicalLocations: []sarifLogical{{Name: f.Resource.Name, FullyQualifiedName: f.Resource.String(), Kind: "resource"}}}
		if f.Resource.Name == "" {
			loc.LogicalLocations[0].Name = f.Resource.Kind
		}
		if src, ok := r.Sources[f.Resource]; ok {
			loc.PhysicalLocation = physical(src)
		}
		res.Locations = []sarifLocation{loc}
		results = append(results, res)
	}
	doc := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs: []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results,
			Properties: sarifProperties(r)}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// physical turns "path:line" into a SARIF physical location.
func physical(src string) *sarifPhysical {
	path, line := src, 0
	if i := strings.LastIndex(src, ":"); i > 0 {
		if n, err := strconv.Atoi(src[i+1:]); err == nil {
			path, line = src[:i], n
		}
	}
	p := &sarifPhysical{ArtifactLocation: sarifArtifact{URI: filepath.ToSlash(path)}}
	if line > 0 {
		p.Region = &sarifRegion{StartLine: line}
	}
	return p
}

// ruleName turns an ID into SARIF's PascalCase rule name.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.Split(id, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func nonNilItems(s []checks.ItemVerdict) []checks.ItemVerdict {
	if s == nil {
		return []checks.ItemVerdict{}
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func sarifProperties(r Report) map[string]any {
	p := map[string]any{"score": r.Score, "checklist": nonNilItems(r.Items), "origin": r.Origin}
	if len(r.Skipped) > 0 {
		p["skipped"] = r.Skipped
	}
	return p
}
