package attest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/vigil-k8s/vigil/actions/audit"
)

// DirName is the attestations' directory in vigil's state directory (beside audit.jsonl).
const DirName = "attestations"

// FilesDir holds the stored copies of the evidence files, each named by its SHA-256.
const FilesDir = "files"

// Store is one kube context's attestations: <state>/vigil/attestations/<context>/, one
// <key>.json per attested check or item and files/<sha256> per evidence file.
type Store struct {
	// Dir is the context's directory.
	Dir string
}

// StateDir is vigil's state directory, the audit log's: $XDG_STATE_HOME/vigil, else
// ~/.local/state/vigil. getenv is os.Getenv outside tests.
func StateDir(getenv func(string) string) (string, error) {
	p, err := audit.DefaultPath(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Dir(p), nil
}

// ForContext is the store of kubeContext under the state directory.
func ForContext(stateDir, kubeContext string) Store {
	return Store{Dir: filepath.Join(stateDir, DirName, ContextDir(kubeContext))}
}

// ContextDir is a context's directory name: the name with every byte but letters, digits,
// '-', '_' and an inner '.' written %XX, so that "arn:aws:eks:…/prod" or ".." stays one
// plain directory and no two names share one.
func ContextDir(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.' && i > 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	if b.Len() == 0 {
		return "%00"
	}
	return b.String()
}

// SumHex is the hex SHA-256 of b.
func SumHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// FilePath is where the copy of the evidence file with this SHA-256 is stored.
func (s Store) FilePath(sum string) string { return filepath.Join(s.Dir, FilesDir, sum) }

// RecordPath is where the attestation of key is stored.
func (s Store) RecordPath(key string) string { return filepath.Join(s.Dir, key+".json") }

// SaveFile stores a copy of an evidence file under its SHA-256 (kept if already there) and
// returns the SHA-256.
func (s Store) SaveFile(content []byte) (string, error) {
	sum := SumHex(content)
	if err := s.mkdirs(); err != nil {
		return "", err
	}
	p := s.FilePath(sum)
	if got, err := hashFile(p); err == nil && got == sum {
		return sum, nil
	}
	return sum, writeAtomic(p, content)
}

// SaveRecord writes the attestation, replacing an earlier one of the same target.
func (s Store) SaveRecord(a Attestation) error {
	if err := s.mkdirs(); err != nil {
		return err
	}
	b, err := a.Marshal()
	if err != nil {
		return err
	}
	return writeAtomic(s.RecordPath(a.Key()), b)
}

func (s Store) mkdirs() error {
	for _, d := range []string{filepath.Dir(filepath.Dir(s.Dir)), filepath.Dir(s.Dir), s.Dir, filepath.Join(s.Dir, FilesDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("attestations: %w", err)
		}
		if err := audit.CheckDir(d); err != nil { // never followed through a link, as the audit log's
			return fmt.Errorf("attestations: %w", err)
		}
	}
	return nil
}

// writeAtomic writes b to a temporary file beside p and renames it over p: a reader sees
// the old content or the new, never half.
func writeAtomic(p string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("attestations: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("attestations: writing %s: %w", p, err)
	}
	return nil
}

// Load reads the context's attestations, each with its stored copy hashed now, sorted by
// target. A record that cannot be read is left out and named in problems. No store yet is
// none.
func (s Store) Load() (atts []Stored, problems []string, err error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("attestations %s: %w", s.Dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		b, rerr := readNoFollow(filepath.Join(s.Dir, name))
		var a Attestation
		if rerr == nil {
			rerr = json.Unmarshal(b, &a)
		}
		if rerr == nil && (a.SHA256 == "" || a.Key()+".json" != name) {
			rerr = errors.New("not an attestation of this name")
		}
		if rerr != nil {
			problems = append(problems, fmt.Sprintf("attestation %s: %v", filepath.Join(s.Dir, name), rerr))
			continue
		}
		st := Stored{Attestation: a}
		if st.FileSHA256, rerr = hashFile(s.FilePath(a.SHA256)); rerr != nil {
			st.FileProblem = rerr.Error()
		}
		atts = append(atts, st)
	}
	slices.SortFunc(atts, func(a, b Stored) int { return strings.Compare(a.Target(), b.Target()) })
	return atts, problems, nil
}

func readNoFollow(p string) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	return io.ReadAll(f)
}

func hashFile(p string) (string, error) {
	b, err := readNoFollow(p)
	if err != nil {
		return "", err
	}
	return SumHex(b), nil
}

var jsonUnmarshal = json.Unmarshal
