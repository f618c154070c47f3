package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/vigil-k8s/vigil/actions/audit"
)

func TestActionCommandsAreAllThere(t *testing.T) {
	var names []string
	root := newCommand(genericiooptions.NewTestIOStreamsDiscard(), func(string) string { return "" })
	for _, c := range root.Commands() {
		switch c.Name() {
		case "check", "config", "logs", "attest", "who-can", "completion", "help":
			continue
		}
		names = append(names, c.Name())
		for _, s := range c.Commands() {
			names = append(names, c.Name()+" "+s.Name())
		}
	}
	want := "argo argo resume-auto-sync argo rollback argo suspend-auto-sync argo sync audit audit export audit log audit verify restart rollback scale secret secret refresh silence silence create silence expire"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("commands %q\nwant     %q", got, want)
	}
}

func TestAuditVerifyAndLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, _ := audit.Open(path)
	for _, phase := range []audit.Phase{audit.PhaseStarted, audit.PhaseFinished, audit.PhaseRefused} {
		if _, err := l.Append(audit.Record{Phase: phase, User: "oncall", Context: "local-1", Action: "rollback",
			Target: "deployment/fintech-prod/payment-service", Reason: "INC-123"}); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := runVigil(t, nil, "", "audit", "verify", "--audit-log", path)
	if code != 0 || errOut != "" || !strings.Contains(out, "3 records verify; head sha256 ") {
		t.Fatalf("verify: exit %d %s %s", code, errOut, out)
	}
	out, errOut, code = runVigil(t, nil, "", "audit", "log", "--audit-log", path)
	if code != 0 || errOut != "" || !strings.Contains(out, "deployment/fintech-prod/payment-service") ||
		!strings.Contains(out, "SEQ") || strings.Count(out, "INC-123") != 3 {
		t.Fatalf("log: exit %d %s\n%s", code, errOut, out)
	}
	// An edited reason breaks the chain at the next record.
	b, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.Replace(b, []byte("INC-123"), []byte("INC-999"), 1), 0o600)
	_, errOut, code = runVigil(t, nil, "", "audit", "verify", "--audit-log", path)
	if code != 1 || !strings.HasPrefix(errOut, "vigil audit verify: ") || strings.Count(errOut, "\n") != 1 ||
		!strings.Contains(errOut, "chain broken at line 2 (seq 2)") || !strings.Contains(errOut, "line 1 was edited") {
		t.Fatalf("tampered log: exit %d, stderr %q", code, errOut)
	}
}

// TestAuditVerifyReportsWhatIsNotThere: a missing log, a log whose final newline was cut and a
// head no longer in the log all exit non-zero with one line naming the problem; the head
// printed by one verify anchors the next.
func TestAuditVerifyReportsWhatIsNotThere(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil", "audit.jsonl")
	_, errOut, code := runVigil(t, nil, "", "audit", "verify", "--audit-log", path)
	if code != 1 || !strings.Contains(errOut, "no audit log at "+path) || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("missing log: exit %d, stderr %q", code, errOut)
	}

	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err = l.Append(audit.Record{Phase: audit.PhaseRefused, Action: "scale", Target: "deployment/fintech-prod/api-gateway"}); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := runVigil(t, nil, "", "audit", "verify", "--audit-log", path)
	m := regexp.MustCompile(`head sha256 ([0-9a-f]{64}) \(seq 3\)`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("verify: exit %d %s %s", code, errOut, out)
	}
	head := m[1]
	if _, err = l.Append(audit.Record{Phase: audit.PhaseRefused, Action: "scale"}); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runVigil(t, nil, "", "audit", "verify", "--audit-log", path, "--head", head)
	if code != 0 || !strings.Contains(out, "anchored head "+head+" is record 3 (line 3)") {
		t.Fatalf("verify --head: exit %d %s %s", code, errOut, out)
	}

	// The final newline cut: reported, not "valid".
	b, _ := os.ReadFile(path)
	if err = os.WriteFile(path, bytes.TrimSuffix(b, []byte("\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runVigil(t, nil, "", "audit", "verify", "--audit-log", path)
	if code != 1 || !strings.Contains(errOut, "the last line is incomplete") {
		t.Fatalf("cut newline: exit %d, stderr %q", code, errOut)
	}

	// Cut back to two records: the anchored head is gone.
	ls := bytes.SplitAfter(b, []byte("\n"))
	if err = os.WriteFile(path, bytes.Join(ls[:2], nil), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code = runVigil(t, nil, "", "audit", "verify", "--audit-log", path); code != 0 {
		t.Fatalf("the control: two whole records verify without an anchor: exit %d %q", code, errOut)
	}
	_, errOut, code = runVigil(t, nil, "", "audit", "verify", "--audit-log", path, "--head", head)
	if code != 1 || !strings.Contains(errOut, "anchored head "+head+" is not in the log") {
		t.Fatalf("cut log with --head: exit %d, stderr %q", code, errOut)
	}
	if _, errOut, code = runVigil(t, nil, "", "audit", "verify", "--audit-log", path, "--head", "abc"); code != 1 || !strings.Contains(errOut, "--head") {
		t.Fatalf("a malformed --head: exit %d, stderr %q", code, errOut)
	}
}

// TestAuditRefusesASymlinkedStateDirectory: a state directory that is a link is refused with
// one line, for verify and for an action's audit log.
func TestAuditRefusesASymlinkedStateDirectory(t *testing.T) {
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "elsewhere"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "elsewhere"), filepath.Join(base, "vigil")); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runVigil(t, nil, "", "audit", "verify", "--audit-log", filepath.Join(base, "vigil", "audit.jsonl"))
	if code != 1 || !strings.Contains(errOut, "is a symbolic link") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("symlinked state directory: exit %d, stderr %q", code, errOut)
	}
	for _, args := range [][]string{{"audit", "log"}, {"audit", "log", "--json"}} {
		_, errOut, code = runVigil(t, nil, "", append(args, "--audit-log", filepath.Join(base, "vigil", "audit.jsonl"))...)
		if code != 1 || !strings.Contains(errOut, "is a symbolic link") {
			t.Fatalf("vigil %v through a symlinked state directory: exit %d, stderr %q", args, code, errOut)
		}
	}
	// The TUI's vigil.log lives there too.
	if _, _, err := openLog(func(k string) string { return map[string]string{"XDG_STATE_HOME": base}[k] }); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Fatalf("vigil.log through a symlinked state directory: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(base, "elsewhere")); len(entries) != 0 {
		t.Fatalf("files were written through the link: %v", entries)
	}
}
