package report_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/attest"
	"github.com/vigil-k8s/vigil/checks/report"
)

// attestedReport is the seed estate's report with secrets-encrypted-at-rest (unknown from
// manifests: no apiserver pod) attested by alice until 2027-03-31, and the line every format
// must show, built here from the file's SHA-256.
func attestedReport(t *testing.T, now time.Time) (report.Report, string, string) {
	t.Helper()
	r := estateReport(t)
	content := []byte("kind: EncryptionConfiguration\n")
	raw := sha256.Sum256(content)
	sum := hex.EncodeToString(raw[:])
	a := attest.Attestation{Context: "local-1", Check: "secrets-encrypted-at-rest", SHA256: sum, Size: int64(len(content)),
		File: "enc.yaml", KubeUser: "alice", LocalUser: "bob", Expires: time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := l.Append(a.Record())
	if err != nil {
		t.Fatal(err)
	}
	// The attestation's time is its record's, as vigil attest stores it.
	a.At, a.AuditSeq = rec.Time, rec.Seq
	logBytes, _ := os.ReadFile(path)
	fs := attest.Apply(r.Checks, r.Findings, []attest.Stored{{Attestation: a, FileSHA256: sum}}, "local-1", attest.ChainOf(logBytes), now)
	out := r
	out.Findings, out.Score, out.Items = fs, checks.ComputeScore(r.Checks, fs), checks.Verdicts(r.Checks, fs)
	line := "attested by alice (local bob) on " + rec.Time.UTC().Format(time.DateOnly) + " until 2027-03-31 (sha256 " + sum[:12] + "…)"
	return out, line, sum
}

// TestEveryFormatShowsAttestations: an attested unknown reads "met — attested by X on D until
// E (sha256 …)" in table, json, markdown, junit and sarif (which still validates); once
// expired, every format says unknown and why.
func TestEveryFormatShowsAttestations(t *testing.T) {
	r, line, sum := attestedReport(t, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	const item = "Secrets encrypted at rest"

	table := string(render(t, "table", r, report.Options{}))
	if l := lineWith(table, "MET", item); !strings.HasSuffix(strings.TrimSpace(l), line) {
		t.Errorf("table: item line %q, want it to end %q", l, line)
	}

	var doc struct {
		Items []struct {
			Item, Verdict, Why string
			Attestations       []struct {
				SHA256 string
				Holds  bool
			}
		}
		Findings []struct {
			Check, Status string
			Attestation   *struct{ SHA256 string }
		}
	}
	if err := json.Unmarshal(render(t, "json", r, report.Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	for _, it := range doc.Items {
		if it.Item == item && (it.Verdict != "met" || it.Why != line || len(it.Attestations) != 1 || it.Attestations[0].SHA256 != sum || !it.Attestations[0].Holds) {
			t.Errorf("json item %+v", it)
		}
	}
	for _, f := range doc.Findings {
		if f.Check == "secrets-encrypted-at-rest" && (f.Status != "pass" || f.Attestation == nil || f.Attestation.SHA256 != sum) {
			t.Errorf("json finding %+v", f)
		}
	}

	md := string(render(t, "markdown", r, report.Options{}))
	if !strings.Contains(md, "| MET | Security | "+item+" | "+line+" |") || !strings.Contains(md, "Verdict: **MET** — "+line) {
		t.Errorf("markdown lacks the attested verdict %q", line)
	}

	var suites report.JUnitSuites
	if err := xml.Unmarshal(render(t, "junit", r, report.Options{}), &suites); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range suites.Suites {
		for _, c := range s.Cases {
			if c.Name == item && c.SystemOut == "MET: "+line {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("junit: no checklist case %q with system-out %q", item, "MET: "+line)
	}

	sarif := render(t, "sarif", r, report.Options{})
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(sarif))
	if err != nil {
		t.Fatal(err)
	}
	if err := sarifSchema(t).Validate(inst); err != nil {
		t.Fatalf("attested SARIF does not validate: %v", err)
	}
	checkSARIFRefs(t, r, sarif)
	var sd struct {
		Runs []struct {
			Results []struct {
				RuleID, Kind string
				Message      struct{ Text string }
				Properties   struct {
					Attestation struct{ SHA256 string }
				}
			}
		}
	}
	if err := json.Unmarshal(sarif, &sd); err != nil {
		t.Fatal(err)
	}
	found = false
	for _, res := range sd.Runs[0].Results {
		if res.RuleID == "secrets-encrypted-at-rest" && res.Kind == "pass" && strings.Contains(res.Message.Text, line) && res.Properties.Attestation.SHA256 == sum {
			found = true
		}
	}
	if !found {
		t.Errorf("sarif: no pass result for secrets-encrypted-at-rest carrying %q", line)
	}

	// Expired: unknown again, and every format says why.
	r, _, _ = attestedReport(t, time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC))
	why := "no longer holds: it expired on 2027-03-31"
	for _, format := range report.Formats {
		out := string(render(t, format, r, report.Options{}))
		if !strings.Contains(out, why) {
			t.Errorf("%s: an expired attestation does not say %q", format, why)
		}
		if strings.Contains(out, "MET: attested") || strings.Contains(out, "— attested by") {
			t.Errorf("%s: an expired attestation still reads met", format)
		}
	}
	if l := lineWith(string(render(t, "table", r, report.Options{})), item); !strings.HasPrefix(l, "UNVERIFIED") {
		t.Errorf("table after expiry: %q", l)
	}
}

// lineWith is the first line of s containing every part.
func lineWith(s string, parts ...string) string {
	for _, l := range strings.Split(s, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return l
		}
	}
	return ""
}
