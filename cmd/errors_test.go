package cmd

import (
	"strings"
	"testing"
)

// TestOneErrorPrintedOnce: whatever fails, stderr carries the error once, on one line, from
// the one place that prints it (execute), and a check that only found failures prints no
// error at all: its report on stdout has said it.
func TestOneErrorPrintedOnce(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		wantPrefix string // the one stderr line starts with this; "" means stderr must be empty
		mention    string
	}{
		{"check finds failures", []string{"check", "-f", fixture("ops-probes", "fail"), "--check", "ops-probes"}, ExitFindings, "", ""},
		{"check passes", []string{"check", "-f", fixture("ops-probes", "pass"), "--check", "ops-probes"}, ExitOK, "", ""},
		{"check -f missing file", []string{"check", "-f", "/nonexistent"}, ExitUsage, "vigil check: ", "/nonexistent: no such file or directory"},
		{"check bad flag value", []string{"check", "-f", fixture("ops-probes", "fail"), "-o", "xml"}, ExitUsage, "vigil check: ", `--output "xml"`},
		{"check unknown flag", []string{"check", "--nope"}, ExitUsage, "vigil check: ", "unknown flag: --nope"},
		// An empty namespace was "all namespaces" to the API (Secret metadata of every one read).
		{"check empty namespace", []string{"check", "-f", fixture("ops-probes", "fail"), "-n", "fintech-prod,,fintech-staging"}, ExitUsage, "vigil check: ", `--namespaces: "" is not a valid namespace name`},
		{"check invalid namespace", []string{"check", "-f", fixture("ops-probes", "fail"), "-n", "Bad_NS"}, ExitUsage, "vigil check: ", `--namespaces: "Bad_NS" is not a valid namespace name`},
		{"check -n given empty", []string{"check", "-f", fixture("ops-probes", "fail"), "-n", ""}, ExitUsage, "vigil check: ", "--namespaces: no namespace given"},
		{"root empty namespace", []string{"-n", "a,,b"}, ExitUsage, "vigil: ", `--namespaces: "" is not a valid namespace name`},
		{"root unknown flag", []string{"--nope"}, 1, "vigil: ", "unknown flag: --nope"},
		{"unknown flag after a nested command", []string{"audit", "verify", "--nope"}, 1, "vigil audit verify: ", "unknown flag: --nope"},
		{"unknown command", []string{"nope"}, 1, "vigil: ", `unknown command "nope"`},
		// The command's name once: "vigil logs: -n NAMESPACE is required", not "vigil logs: logs: …".
		{"logs without -n", []string{"logs", "api-gateway"}, 1, "vigil logs: ", "-n NAMESPACE is required"},
		{"logs --tail negative", []string{"logs", "api-gateway", "-n", "fintech-prod", "--tail", "-2"}, 1, "vigil logs: ", "--tail -2"},
		{"config validate missing --config", []string{"config", "validate", "--config", "/nonexistent/vigil.yaml"}, 1, "vigil config validate: ", "/nonexistent/vigil.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runVigil(t, nil, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			if tc.wantPrefix == "" {
				if errOut != "" {
					t.Errorf("stderr %q, want nothing", errOut)
				}
				return
			}
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			if len(lines) != 1 || !strings.HasSuffix(errOut, "\n") {
				t.Fatalf("stderr has %d lines, want one: %q", len(lines), errOut)
			}
			if !strings.HasPrefix(lines[0], tc.wantPrefix) || !strings.Contains(lines[0], tc.mention) ||
				strings.TrimSpace(strings.TrimPrefix(lines[0], tc.wantPrefix)) == "" {
				t.Errorf("stderr %q, want %q… naming %q", lines[0], tc.wantPrefix, tc.mention)
			}
			words := strings.Fields(strings.TrimSuffix(tc.wantPrefix, ": "))
			if own := words[len(words)-1] + ": "; len(words) > 1 && strings.HasPrefix(strings.TrimPrefix(lines[0], tc.wantPrefix), own) {
				t.Errorf("stderr %q names the command twice", lines[0])
			}
		})
	}
}
