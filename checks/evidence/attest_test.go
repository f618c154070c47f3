package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/checks/attest"
	"github.com/vigil-k8s/vigil/checks/report"
)

// attestedBundle writes a bundle of context local-1 carrying one attestation chained into
// its audit log, and returns its directory and the evidence's SHA-256 (computed here).
func attestedBundle(t *testing.T) (string, string) {
	t.Helper()
	content := []byte("DR test 2026-11-20: RPO 4 min, RTO 38 min\n")
	raw := sha256.Sum256(content)
	sum := hex.EncodeToString(raw[:])
	a := attest.Attestation{Context: "local-1", Check: "ops-dr-plan", SHA256: sum, Size: int64(len(content)), File: "dr.txt",
		KubeUser: "alice", LocalUser: "bob", Expires: time.Date(2027, 5, 31, 0, 0, 0, 0, time.UTC)}
	logPath := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := l.Append(a.Record())
	if err != nil {
		t.Fatal(err)
	}
	a.At, a.AuditSeq = rec.Time, rec.Seq
	if _, err = l.Append(audit.Record{Phase: audit.PhaseRefused, Action: "scale"}); err != nil {
		t.Fatal(err)
	}
	logBytes, _ := os.ReadFile(logPath)
	dir := filepath.Join(t.TempDir(), "evidence")
	if _, err = Write(dir, Bundle{Identity: Identity{Context: "local-1"}, Report: report.Report{}, AuditLog: logBytes,
		Attestations: []Attestation{{Record: a, Content: content}}}); err != nil {
		t.Fatal(err)
	}
	return dir, sum
}

// redoManifest rewrites the manifest over the files as they are: a forger's cover.
func redoManifest(t *testing.T, dir string) {
	t.Helper()
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != ManifestFile {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return err
	})
	m, err := Manifest(dir, names)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ManifestFile), m, 0o600)
}

// TestAttestationsTravelAndVerify: a bundle carries the attestation and its evidence file,
// which sha256sum checks as any file; Verify checks each attestation against its file and the
// bundle's audit log, so a swapped evidence file, an edited attestation or a removed audit
// log fails even with the manifest redone, naming the attestation and why.
func TestAttestationsTravelAndVerify(t *testing.T) {
	dir, sum := attestedBundle(t)
	if n, err := VerifyAttestations(dir); err != nil || n != 1 {
		t.Fatalf("VerifyAttestations: %d %v", n, err)
	}
	if _, err := Verify(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command("sha256sum", "-c", "--strict", ManifestFile)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "attestations/files/"+sum+": OK") {
			t.Fatalf("sha256sum -c: %v\n%s", err, out)
		}
	}
	rec := filepath.Join(dir, "attestations", "ops-dr-plan.json")
	evidenceCopy := filepath.Join(dir, "attestations", "files", sum)
	for _, tc := range []struct {
		name   string
		change func(t *testing.T)
		want   string
	}{
		{"evidence swapped", func(t *testing.T) { os.WriteFile(evidenceCopy, []byte("no DR test\n"), 0o600) }, "was altered"},
		{"expiry edited", func(t *testing.T) {
			b, _ := os.ReadFile(rec)
			os.WriteFile(rec, []byte(strings.Replace(string(b), "2027-05-31", "2030-05-31", 1)), 0o600)
		}, "disagrees with its audit record 1 on sha256, size, file, expiry or local user"},
		{"audit log emptied", func(t *testing.T) { os.WriteFile(filepath.Join(dir, AuditLogFile), nil, 0o600) }, "the audit log has no record 1"},
		{"another context's", func(t *testing.T) {
			os.WriteFile(filepath.Join(dir, IdentityFile), []byte(`{"context":"local-2"}`), 0o600)
		}, `it was made for context "local-1", and the bundle is of "local-2"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ = attestedBundle(t)
			rec = filepath.Join(dir, "attestations", "ops-dr-plan.json")
			evidenceCopy = filepath.Join(dir, "attestations", "files", sum)
			tc.change(t)
			redoManifest(t, dir)
			_, err := Verify(dir)
			var p *Problem
			if !errors.As(err, &p) || p.File != "attestations/ops-dr-plan.json" || p.Kind != "attestation" || !strings.Contains(p.Detail, tc.want) {
				t.Errorf("Verify: %v, want an attestation problem with %q", err, tc.want)
			}
		})
	}
}
