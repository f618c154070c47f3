package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigInitThenValidate(t *testing.T) {
	dir := t.TempDir()
	env := func(k string) string {
		if k == "XDG_CONFIG_HOME" {
			return dir
		}
		return ""
	}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		c := NewConfigCommand(env, &out)
		c.SetArgs(args)
		c.SetOut(&out)
		c.SetErr(&out)
		err := c.Execute()
		return out.String(), err
	}
	file := filepath.Join(dir, "vigil", "config.yaml")
	if out, err := run("init"); err != nil || !strings.Contains(out, file) {
		t.Fatalf("init = %q, %v", out, err)
	}
	if _, err := run("init"); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second init = %v, want a refusal naming --force", err)
	}
	if out, err := run("validate"); err != nil || !strings.Contains(out, "valid") {
		t.Fatalf("validate = %q, %v", out, err)
	}
	if err := os.WriteFile(file, []byte("namespaces: [a]\ncontexts:\n  x:\n    readonly: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := run("validate")
	if err == nil || ExitCode(err) != 1 || !strings.Contains(err.Error(), file+":4: contexts.x.readonly") {
		t.Fatalf("validate(bad) = %v (exit %d), want file:line and field", err, ExitCode(err))
	}
}
