package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/vigil-k8s/vigil/actions/audit"
)

func actionCmd(t *testing.T, name string) (*cobra.Command, *bytes.Buffer) {
	t.Helper()
	var out, errOut bytes.Buffer
	for _, c := range NewActionCommands(nil, strings.NewReader(""), &out, &errOut) {
		if c.Name() == name {
			c.SetOut(&out)
			c.SetErr(&errOut)
			return c, &out
		}
	}
	t.Fatalf("no %s command", name)
	return nil, nil
}

func TestActionCommandsAreAllThere(t *testing.T) {
	var names []string
	for _, c := range NewActionCommands(nil, nil, &bytes.Buffer{}, &bytes.Buffer{}) {
		names = append(names, c.Name())
		for _, s := range c.Commands() {
			names = append(names, c.Name()+" "+s.Name())
		}
	}
	want := "rollback restart scale argo argo rollback argo sync secret secret refresh silence silence create silence expire audit audit export audit log audit verify"
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
	c, out := actionCmd(t, "audit")
	c.SetArgs([]string{"verify", "--audit-log", path})
	if err := c.Execute(); err != nil || !strings.Contains(out.String(), "3 records verify; head sha256 ") {
		t.Fatalf("verify: %v %s", err, out)
	}
	c, out = actionCmd(t, "audit")
	c.SetArgs([]string{"log", "--audit-log", path})
	if err := c.Execute(); err != nil || !strings.Contains(out.String(), "deployment/fintech-prod/payment-service") ||
		!strings.Contains(out.String(), "SEQ") || strings.Count(out.String(), "INC-123") != 3 {
		t.Fatalf("log: %v\n%s", err, out)
	}
	// An edited reason breaks the chain at the next record.
	b, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.Replace(b, []byte("INC-123"), []byte("INC-999"), 1), 0o600)
	c, _ = actionCmd(t, "audit")
	c.SetArgs([]string{"verify", "--audit-log", path})
	err := c.Execute()
	if err == nil || !strings.Contains(err.Error(), "chain broken at line 2 (seq 2)") || !strings.Contains(err.Error(), "line 1 was edited") {
		t.Fatalf("tampered log: %v", err)
	}
}
