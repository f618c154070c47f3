package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigInitThenValidate(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"XDG_CONFIG_HOME": dir}
	run := func(args ...string) (string, string, int) {
		return runVigil(t, env, "", append([]string{"config"}, args...)...)
	}
	file := filepath.Join(dir, "vigil", "config.yaml")
	if out, errOut, code := run("init"); code != 0 || !strings.Contains(out, file) {
		t.Fatalf("init = %q, %q, exit %d", out, errOut, code)
	}
	if _, errOut, code := run("init"); code != 1 || !strings.Contains(errOut, "--force") {
		t.Fatalf("second init = %q, exit %d, want a refusal naming --force", errOut, code)
	}
	if out, errOut, code := run("validate"); code != 0 || !strings.Contains(out, "valid") {
		t.Fatalf("validate = %q, %q, exit %d", out, errOut, code)
	}
	// --config before the subcommand, as after it.
	other := filepath.Join(dir, "other.yaml")
	if out, errOut, code := runVigil(t, env, "", "--config", other, "config", "init"); code != 0 || !strings.Contains(out, other) {
		t.Fatalf("--config before config init = %q, %q, exit %d", out, errOut, code)
	}
	if err := os.WriteFile(file, []byte("namespaces: [a]\ncontexts:\n  x:\n    readonly: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run("validate")
	if code != 1 || !strings.Contains(errOut, file+":4: contexts.x.readonly") {
		t.Fatalf("validate(bad) = %q (exit %d), want file:line and field", errOut, code)
	}
}
