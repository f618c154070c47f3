package checks_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-k8s/vigil/checks"
)

// docSection returns the lines of docs/checks.md's section under heading.
func docSection(t *testing.T, heading string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "docs", "checks.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case line == heading:
			in = true
		case in && strings.HasPrefix(line, "## "):
			return out
		case in:
			out = append(out, line)
		}
	}
	if !in {
		t.Fatalf("docs/checks.md has no %q section", heading)
	}
	return out
}

// TestPCIReferencesJustified: every PCI reference of the catalogue has a
// row with its justification in docs/checks.md's "PCI-DSS v4.0 references"
// table, every row there is a reference of the catalogue, a check without
// references has a "—" row saying why, and the catalogue table's PCI
// column says the same.
func TestPCIReferencesJustified(t *testing.T) {
	type ref struct{ check, req string }
	documented := map[ref]string{}
	for _, line := range docSection(t, "## PCI-DSS v4.0 references") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) < 3 {
			t.Errorf("row %q: want | `check` | requirement | why |", line)
			continue
		}
		r := ref{strings.Trim(strings.TrimSpace(cells[0]), "`"), strings.TrimSpace(cells[1])}
		why := strings.TrimSpace(strings.Join(cells[2:], " | "))
		if _, dup := documented[r]; dup {
			t.Errorf("%s %s is justified twice", r.check, r.req)
		}
		if len(why) < 20 {
			t.Errorf("%s %s: justification %q says nothing", r.check, r.req, why)
		}
		documented[r] = why
	}
	catalogue := map[ref]bool{}
	for _, c := range checks.Catalogue() {
		if len(c.PCI) == 0 {
			catalogue[ref{c.ID, "—"}] = true
		}
		for _, p := range c.PCI {
			if catalogue[ref{c.ID, p}] {
				t.Errorf("%s lists %s twice", c.ID, p)
			}
			catalogue[ref{c.ID, p}] = true
		}
	}
	for r := range catalogue {
		if _, ok := documented[r]; !ok {
			if r.req == "—" {
				t.Errorf("%s has no PCI reference and docs/checks.md does not say why (a row | `%s` | — | …)", r.check, r.check)
			} else {
				t.Errorf("%s cites PCI-DSS %s without a justification row in docs/checks.md", r.check, r.req)
			}
		}
	}
	for r := range documented {
		if !catalogue[r] {
			t.Errorf("docs/checks.md justifies %s for %s, which the catalogue does not cite", r.req, r.check)
		}
	}

	// The catalogue table's PCI column.
	rows := 0
	for _, line := range docSection(t, "## The catalogue") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		id := strings.Split(line, "`")[1]
		cells := strings.Split(line, " | ")
		c, ok := checks.Lookup(id)
		if !ok || len(cells) < 3 {
			continue
		}
		rows++
		if got := strings.TrimSpace(cells[len(cells)-2]); got != strings.Join(c.PCI, ", ") {
			t.Errorf("catalogue table: %s PCI %q, the code says %q", id, got, strings.Join(c.PCI, ", "))
		}
	}
	if rows == 0 {
		t.Error("no catalogue table rows read")
	}
	if !slices.ContainsFunc(checks.Catalogue(), func(c checks.Check) bool { return len(c.PCI) > 0 }) {
		t.Error("no check cites PCI-DSS at all")
	}
}
