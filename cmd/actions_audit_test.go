package cmd

import (
	"bytes"
	"os"
	"path/filepath"
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
		case "check", "config", "completion", "help":
			continue
		}
		names = append(names, c.Name())
		for _, s := range c.Commands() {
			names = append(names, c.Name()+" "+s.Name())
		}
	}
	want := "argo argo rollback argo sync audit audit export audit log audit verify restart rollback scale secret secret refresh silence silence create silence expire"
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
