// Package evidence writes and verifies the evidence bundle a compliance reviewer takes away
// from `vigil audit export`: the compliance report in every format of `vigil check`, who
// looked at which cluster and when, the estate inventory (never Secret data), the local audit
// log, and a MANIFEST.sha256 that `sha256sum -c` and `vigil audit export --verify` both check.
//
// The package does no cluster I/O: the command collects, this package writes and verifies.
package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/vigil-k8s/vigil/checks/attest"
	"github.com/vigil-k8s/vigil/checks/report"
)

// Names of the files in a bundle.
const (
	ManifestFile = "MANIFEST.sha256"
	IdentityFile = "identity.json"
	EstateFile   = "inventory.json"
	AuditLogFile = "audit-log.jsonl"
)

// ReportFiles maps each `vigil check` output format to its file in the bundle.
var ReportFiles = map[string]string{
	"table":    "report.txt",
	"json":     "report.json",
	"markdown": "report.md",
	"junit":    "report.junit.xml",
	"sarif":    "report.sarif",
	"html":     "report.html",
}

// Files are the names every bundle holds besides its manifest: the report in each format,
// identity, inventory and the audit log (empty when there was none). Verify requires them all.
func Files() []string {
	out := []string{IdentityFile, EstateFile, AuditLogFile}
	for _, format := range report.Formats {
		if name, ok := ReportFiles[format]; ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Identity says who collected the bundle, from where, against which cluster, and when.
type Identity struct {
	// CollectedAt is when collection started (UTC).
	CollectedAt time.Time `json:"collectedAt"`
	// VigilVersion is the collecting binary's version.
	VigilVersion string `json:"vigilVersion"`
	// Context, Server and KubeconfigUser are the kube context as the kubeconfig names it.
	Context        string `json:"context"`
	Server         string `json:"server"`
	KubeconfigUser string `json:"kubeconfigUser"`
	// User, UID and Groups are the identity the API server authenticated
	// (authentication.k8s.io/v1 SelfSubjectReview).
	User   string   `json:"user"`
	UID    string   `json:"uid,omitempty"`
	Groups []string `json:"groups"`
	// ImpersonatedBy is, when the collection impersonated User (--as), who the credentials
	// themselves authenticate as; CredentialsWrites is then theirs.
	ImpersonatedBy string `json:"impersonatedBy,omitempty"`
	// KubernetesVersion is the API server's git version.
	KubernetesVersion string `json:"kubernetesVersion"`
	// Namespaces are the namespaces inventoried.
	Namespaces []string `json:"namespaces"`
	// Mode says how writes were prevented during collection.
	Mode string `json:"mode"`
	// CredentialsWrites is the SelfSubjectRulesReview verdict over Namespaces: "can write"
	// (a rule grants a write verb, or impersonate, escalate or bind), "cannot write" (every
	// review answered completely and none does) or "cannot tell" (a review failed, or the API
	// server marked it incomplete: a webhook authorizer, as on GKE and EKS, may grant more).
	// WriteEvidence is the reason: the granting rule, or why it cannot be told.
	CredentialsWrites string `json:"credentialsWrites"`
	WriteEvidence     string `json:"writeEvidence"`
	// CredentialsAllowWrites is the same verdict as a boolean for older readers: true or
	// false, and null when it cannot be told.
	CredentialsAllowWrites *bool `json:"credentialsAllowWrites"`
	// AuditLog describes the copied local audit log.
	AuditLog AuditLogInfo `json:"auditLog"`
	// Logs says whether container logs (vigil logs, the l key) were enabled for the
	// context: "enabled", or "disabled by" the config field that turned them off, so a
	// reviewer can show payload data was not on offer.
	Logs string `json:"logs"`
}

// AuditLogInfo describes the local audit log copied into the bundle.
type AuditLogInfo struct {
	// Source is the file copied; Present is false when it did not exist (the copy is empty).
	Source  string `json:"source"`
	Present bool   `json:"present"`
	// Records and ChainVerified come from actions/audit's verification of the hash chain;
	// Head is the SHA-256 of the last record.
	Records       int    `json:"records"`
	ChainVerified bool   `json:"chainVerified"`
	Head          string `json:"head,omitempty"`
	Problem       string `json:"problem,omitempty"`
}

// Bundle is everything written to a bundle directory.
type Bundle struct {
	Identity Identity
	Estate   Estate
	// Report is the catalogue run, rendered in every format with ReportOptions.
	Report        report.Report
	ReportOptions report.Options
	// AuditLog is the content of the local audit log (nil when there is none).
	AuditLog []byte
	// Attestations are the context's attestations that held at collection, with their
	// evidence files: attestations/<key>.json and attestations/files/<sha256>.
	Attestations []Attestation
}

// AttestationsDir is the bundle's directory of attestations.
const AttestationsDir = "attestations"

// Attestation is an attestation in a bundle: its record and the evidence file it vouches with.
type Attestation struct {
	Record  attest.Attestation
	Content []byte
}

// Write creates dir (which must not exist or be empty), writes the bundle's files and then
// MANIFEST.sha256, and returns the names written, manifest last.
func Write(dir string, b Bundle) ([]string, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("evidence directory %s is not empty: choose a new --out directory", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("evidence directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("evidence directory %s: %w", dir, err)
	}
	files := map[string][]byte{}
	for _, format := range report.Formats {
		name, ok := ReportFiles[format]
		if !ok {
			return nil, fmt.Errorf("vigil check format %q has no file name in the evidence bundle", format)
		}
		var buf bytes.Buffer
		if err := report.Write(&buf, format, b.Report, b.ReportOptions); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		files[name] = buf.Bytes()
	}
	var err error
	if files[IdentityFile], err = marshal(b.Identity); err != nil {
		return nil, err
	}
	if files[EstateFile], err = marshal(b.Estate); err != nil {
		return nil, err
	}
	files[AuditLogFile] = b.AuditLog
	if files[AuditLogFile] == nil {
		files[AuditLogFile] = []byte{}
	}
	for _, a := range b.Attestations {
		if sum := attest.SumHex(a.Content); sum != a.Record.SHA256 {
			return nil, fmt.Errorf("attestation of %s: the evidence file hashes to sha256 %s, attested %s", a.Record.Target(), sum, a.Record.SHA256)
		}
		if files[path.Join(AttestationsDir, a.Record.Key()+".json")], err = a.Record.Marshal(); err != nil {
			return nil, err
		}
		files[path.Join(AttestationsDir, attest.FilesDir, a.Record.SHA256)] = a.Content
	}

	names := make([]string, 0, len(files)+1)
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err = os.MkdirAll(filepath.Join(dir, filepath.Dir(filepath.FromSlash(name))), 0o700); err != nil {
			return nil, fmt.Errorf("evidence directory %s: %w", dir, err)
		}
		if err = os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), files[name], 0o600); err != nil {
			return nil, fmt.Errorf("evidence file %s: %w", name, err)
		}
	}
	manifest, err := Manifest(dir, names)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), manifest, 0o600); err != nil {
		return nil, fmt.Errorf("evidence file %s: %w", ManifestFile, err)
	}
	return append(names, ManifestFile), nil
}

// Manifest returns MANIFEST.sha256's content for names in dir: one "<sha256>  <name>" line
// per file, sorted by name, as sha256sum prints it.
func Manifest(dir string, names []string) ([]byte, error) {
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	var buf bytes.Buffer
	for _, name := range sorted {
		sum, err := fileSHA256(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("evidence file %s: %w", name, err)
		}
		fmt.Fprintf(&buf, "%s  %s\n", sum, name)
	}
	return buf.Bytes(), nil
}

func marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ReadAuditLog returns the content of the audit log at path, nil when it does not exist. It
// follows no symbolic link, neither the log's nor its directory's: a link could put any file
// into the bundle as the audit log.
func ReadAuditLog(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	if fi, err := os.Lstat(dir); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("audit log directory %s is a symbolic link, which vigil does not follow: replace it with a real directory", dir)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("audit log %s is a symbolic link, which vigil does not follow: remove the link", path)
	}
	if err != nil {
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	if fi, serr := f.Stat(); serr == nil && !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("audit log %s is not a regular file", path)
	}
	defer f.Close()
	return io.ReadAll(f)
}
