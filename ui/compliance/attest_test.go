package compliance

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/attest"
)

// TestAttestedItemOnScreen: with audit-apiserver-policy attested, the screen's row reads MET
// and its page "MET — attested by …" with the sha256 worked out here; the coverage counts it.
// When the clock passes the expiry, the same screen (no new findings) says UNVERIFIED and
// why, at the next refresh.
func TestAttestedItemOnScreen(t *testing.T) {
	m, d := screen(t)
	content := []byte("audit-policy.yaml of the managed control plane\n")
	raw := sha256.Sum256(content)
	sum := hex.EncodeToString(raw[:])
	a := attest.Attestation{Context: "local-1", Check: "audit-apiserver-policy", SHA256: sum, Size: int64(len(content)),
		File: "audit-policy.yaml", KubeUser: "alice", LocalUser: "bob", Expires: d.Now.Add(time.Hour)}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := l.Append(a.Record())
	if err != nil {
		t.Fatal(err)
	}
	a.At, a.AuditSeq = rec.Time, rec.Seq
	logBytes, _ := os.ReadFile(path)
	d.Attest = func(ctx string, cat []checks.Check, fs []checks.Finding, now time.Time) []checks.Finding {
		return attest.Apply(cat, fs, []attest.Stored{{Attestation: a, FileSHA256: sum}}, ctx, attest.ChainOf(logBytes), now)
	}
	m.Refresh()
	view := ansi.Strip(m.View())
	if !strings.Contains(view, "3/32 items decided: 2 met, 1 not met, 29 unverified") {
		t.Errorf("coverage does not count the attested item:\n%s", view)
	}
	if row := rowOf(view, "Audit logging enabled"); !strings.HasPrefix(strings.TrimSpace(row), "MET ") {
		t.Errorf("row %q, want MET", row)
	}
	line := "MET — attested by alice (local bob) on " + rec.Time.UTC().Format(time.DateOnly) + " until 2026-12-01T10:00:00Z (sha256 " + sum[:12] + "…)"
	if page := pageOf(t, m, "Audit logging enabled"); !strings.Contains(page, line) {
		t.Errorf("page lacks %q:\n%s", line, page)
	}

	d.Now = d.Now.Add(time.Hour) // the clock ticks past the expiry; the findings are the same
	m.Refresh()
	view = ansi.Strip(m.View())
	if row := rowOf(view, "Audit logging enabled"); !strings.HasPrefix(strings.TrimSpace(row), "UNVERIFIED ") {
		t.Errorf("after expiry, row %q", row)
	}
	if page := pageOf(t, m, "Audit logging enabled"); !strings.Contains(page, "no longer holds: it expired on 2026-12-01T10:00:00Z") {
		t.Errorf("after expiry, the page does not say why:\n%s", page)
	}
}

func rowOf(view, item string) string {
	for _, line := range strings.Split(view, "\n") {
		if strings.Contains(line, item) {
			return line
		}
	}
	return ""
}

func pageOf(t *testing.T, m *Model, item string) string {
	t.Helper()
	for _, it := range m.Items() {
		if it.Item == item {
			return ansi.Strip(strings.Join(newFindings(m.common, m.data, it).Build(300), "\n"))
		}
	}
	t.Fatalf("no row %q", item)
	return ""
}
