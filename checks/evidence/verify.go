package evidence

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/vigil-k8s/vigil/checks/attest"
)

// Problem is the first thing wrong with a bundle, naming the file.
type Problem struct {
	// File is the bundle-relative name of the file at fault.
	File string
	// Kind is "modified", "missing" or "extra".
	Kind string
	// Detail says more (both hashes for a modified file).
	Detail string
}

func (p *Problem) Error() string {
	msg := p.File + ": " + p.Kind
	if p.Detail != "" {
		msg += " (" + p.Detail + ")"
	}
	return msg
}

// addedLater are the files bundles hold since a later version: a bundle written before has
// neither the file nor its manifest line, and still verifies. Each is derived from a file every
// bundle holds (report.html renders report.json), so removing one with its line hides nothing
// the bundle does not still show.
var addedLater = []string{ReportFiles["html"]}

// Verify checks dir against its MANIFEST.sha256: every file a bundle always has (Files) is
// listed, every listed file exists with its SHA-256, and no other file is there. It returns
// the number of files verified, and a *Problem for the first bad, missing or extra file in
// name order (or an error for an unreadable manifest). A bundle with a file and its manifest
// line both deleted is missing that file; a symbolic link is not a bundle file.
func Verify(dir string) (int, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return 0, fmt.Errorf("evidence bundle %s: %w", dir, err)
	}
	want, err := parseManifest(raw)
	if err != nil {
		return 0, fmt.Errorf("evidence bundle %s: %s: %w", dir, ManifestFile, err)
	}
	present := map[string]bool{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return &Problem{File: filepath.ToSlash(rel), Kind: "extra", Detail: "not a regular file (" + d.Type().String() + "): a bundle holds only regular files"}
		}
		present[filepath.ToSlash(rel)] = true
		return nil
	})
	var p *Problem
	if errors.As(err, &p) {
		return 0, p
	}
	if err != nil {
		return 0, fmt.Errorf("evidence bundle %s: %w", dir, err)
	}
	delete(present, ManifestFile)

	required := slices.DeleteFunc(Files(), func(n string) bool { return slices.Contains(addedLater, n) })
	names := make([]string, 0, len(want)+len(present)+len(required))
	for name := range want {
		names = append(names, name)
	}
	for _, name := range required {
		if _, ok := want[name]; !ok {
			names = append(names, name)
		}
	}
	for name := range present {
		if _, ok := want[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, name := range names {
		sum, listed := want[name]
		switch {
		case !listed && slices.Contains(required, name):
			return 0, &Problem{File: name, Kind: "missing", Detail: "every bundle has it, and " + ManifestFile + " does not list it"}
		case !listed:
			return 0, &Problem{File: name, Kind: "extra", Detail: "not listed in " + ManifestFile}
		case !present[name]:
			return 0, &Problem{File: name, Kind: "missing", Detail: "listed in " + ManifestFile}
		}
		got, err := fileSHA256(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return 0, &Problem{File: name, Kind: "missing", Detail: err.Error()}
		}
		if got != sum {
			return 0, &Problem{File: name, Kind: "modified", Detail: "manifest sha256 " + sum + ", file sha256 " + got}
		}
	}
	if _, err := VerifyAttestations(dir); err != nil {
		return 0, err
	}
	return len(want), nil
}

// VerifyAttestations checks each attestation of the bundle against what it vouches with and
// what chains it: its evidence file in attestations/files has its SHA-256, it was made for the
// bundle's context, and the bundle's audit log, whose hash chain verifies up to it, holds its
// record, agreeing. Expiry is not checked: the bundle shows what held when it was collected.
// It returns the number of attestations verified, or a *Problem for the first that does not.
func VerifyAttestations(dir string) (int, error) {
	names, err := filepath.Glob(filepath.Join(dir, AttestationsDir, "*.json"))
	if err != nil || len(names) == 0 {
		return 0, err
	}
	slices.Sort(names)
	logBytes, err := os.ReadFile(filepath.Join(dir, AuditLogFile))
	if err != nil {
		return 0, &Problem{File: AuditLogFile, Kind: "missing", Detail: err.Error()}
	}
	chain := attest.ChainOf(logBytes)
	var id Identity
	if b, rerr := os.ReadFile(filepath.Join(dir, IdentityFile)); rerr == nil {
		_ = json.Unmarshal(b, &id)
	}
	for _, p := range names {
		rel := AttestationsDir + "/" + filepath.Base(p)
		var s attest.Stored
		b, rerr := os.ReadFile(p)
		if rerr == nil {
			rerr = json.Unmarshal(b, &s.Attestation)
		}
		if rerr != nil {
			return 0, &Problem{File: rel, Kind: "attestation", Detail: "not an attestation: " + rerr.Error()}
		}
		if s.FileSHA256, rerr = fileSHA256(filepath.Join(dir, AttestationsDir, attest.FilesDir, s.SHA256)); rerr != nil {
			s.FileProblem = rerr.Error()
		}
		why := attest.Integrity(s, chain)
		if why == "" && id.Context != "" && s.Context != id.Context {
			why = fmt.Sprintf("it was made for context %q, and the bundle is of %q", s.Context, id.Context)
		}
		if why != "" {
			return 0, &Problem{File: rel, Kind: "attestation", Detail: why}
		}
	}
	return len(names), nil
}

// parseManifest reads sha256sum lines ("<hex>  <name>" or "<hex> *<name>"); names must be
// relative and stay inside the bundle.
func parseManifest(raw []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		sum, name, ok := strings.Cut(line, " ")
		if !ok || len(sum) != 64 || !isHex(sum) || len(name) < 2 || (name[0] != ' ' && name[0] != '*') {
			return nil, fmt.Errorf("line %d: want \"<sha256>  <file>\", got %q", n, line)
		}
		name = name[1:]
		clean := path.Clean(name)
		if clean != name || path.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") || name == ManifestFile {
			return nil, fmt.Errorf("line %d: file name %q is not a plain path inside the bundle", n, name)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("line %d: %s is listed twice", n, name)
		}
		out[name] = strings.ToLower(sum)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("lists no file")
	}
	return out, sc.Err()
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
