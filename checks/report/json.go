package report

import (
	"encoding/json"
	"io"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/history"
)

// jsonCheck is a catalogue entry as the JSON output shows it.
type jsonCheck struct {
	ID       string          `json:"id"`
	Title    string          `json:"title"`
	Group    checks.Group    `json:"group"`
	Item     string          `json:"item"`
	PCI      []string        `json:"pci"`
	Severity checks.Severity `json:"severity"`
}

// jsonReport is the JSON document: {"checks", "findings", "items", "score"}.
type jsonReport struct {
	Checks   []jsonCheck      `json:"checks"`
	Findings []checks.Finding `json:"findings"`
	// Items is the verdict per checklist item.
	Items   []checks.ItemVerdict `json:"items"`
	Score   checks.Score         `json:"score"`
	Skipped []checks.Skipped     `json:"skipped,omitempty"`
	// Reachability is who reaches the PCI workloads (NetworkPolicy).
	Reachability *checks.Reachability `json:"reachability,omitempty"`
	// Drift is what changed since --since.
	Drift *history.Drift `json:"drift,omitempty"`
}

func writeJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(newJSONReport(r))
}

// newJSONReport is r as the JSON output shows it.
func newJSONReport(r Report) jsonReport {
	doc := jsonReport{Checks: []jsonCheck{}, Findings: r.Findings, Items: r.Items, Score: r.Score, Skipped: r.Skipped, Reachability: r.Reach, Drift: r.Drift}
	if doc.Items == nil {
		doc.Items = []checks.ItemVerdict{}
	}
	if doc.Findings == nil {
		doc.Findings = []checks.Finding{}
	}
	for _, c := range r.Checks {
		pci := c.PCI
		if pci == nil {
			pci = []string{}
		}
		doc.Checks = append(doc.Checks, jsonCheck{c.ID, c.Title, c.Group, c.Item, pci, c.Severity})
	}
	return doc
}
