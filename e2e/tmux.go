// Package e2e drives the real vigil binary in a real terminal (tmux) against the local
// control plane, as a person would: type keys, read the screen.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// BuildVigil builds bin/vigil into dir and returns its path.
func BuildVigil(dir string) (string, error) {
	out := filepath.Join(dir, "vigil")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = clustertest.RepoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build vigil: %w\n%s", err, b)
	}
	return out, nil
}

// hermeticEnv is what Hermetic set: every vigil the tests start, headless (os.Environ) or in
// tmux (StartTerminal), runs with it unless the test gives its own value.
var hermeticEnv []string

// Hermetic points the state and config directories of every vigil the tests start into dir
// and clears the variables that change what vigil does (its config, the system policy, an
// Alertmanager, an Argo CD token): a developer's own ~/.config/vigil, history, attestations
// and audit journal are neither read nor written by the tests, and a test's findings are not
// a context's history on the developer's machine. A tmux server started before the tests
// (the developer's) hands new sessions its own environment, not the test process's, so
// StartTerminal passes these explicitly.
func Hermetic(dir string) error {
	hermeticEnv = []string{
		"XDG_STATE_HOME=" + filepath.Join(dir, "state"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"VIGIL_SYSTEM_CONFIG=" + filepath.Join(dir, "no-system-config.yaml"),
		"VIGIL_CONFIG=", "VIGIL_READONLY=", "VIGIL_ALERTMANAGER_URL=",
		"ARGOCD_AUTH_TOKEN=", "ARGOCD_CONFIG_DIR=" + filepath.Join(dir, "argocd"),
	}
	for _, kv := range hermeticEnv {
		k, v, _ := strings.Cut(kv, "=")
		var err error
		if v == "" {
			err = os.Unsetenv(k)
		} else {
			err = os.Setenv(k, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// withHermetic is env after the hermetic variables env does not set itself.
func withHermetic(env []string) []string {
	var out []string
	for _, kv := range hermeticEnv {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, k+"=") }) {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// Terminal is one tmux session running a command.
type Terminal struct {
	name string
}

// StartTerminal runs argv in a new detached tmux session of the given size with env added.
func StartTerminal(name string, width, height int, env []string, argv ...string) (*Terminal, error) {
	if _, err := exec.LookPath("tmux"); err != nil {
		return nil, fmt.Errorf("tmux is not installed (apt-get install -y tmux): %w", err)
	}
	_ = exec.Command("tmux", "kill-session", "-t", name).Run()
	args := []string{"new-session", "-d", "-s", name, "-x", fmt.Sprint(width), "-y", fmt.Sprint(height)}
	for _, e := range withHermetic(env) {
		args = append(args, "-e", e)
	}
	args = append(args, strings.Join(quoteAll(argv), " ")+"; sleep 600")
	// A session started while the tmux server is exiting (the previous test killed its last
	// session) fails with "server exited unexpectedly" (the clean-worktree CI run of 22c0b41):
	// once the old server is gone, the next try starts a new one.
	var b []byte
	var err error
	for try := 0; try < 3; try++ {
		if b, err = exec.Command("tmux", args...).CombinedOutput(); err == nil || !strings.Contains(string(b), "server exited unexpectedly") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("tmux new-session: %w: %s", err, b)
	}
	return &Terminal{name: name}, nil
}

func quoteAll(argv []string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return out
}

// Screen returns the visible text of the terminal.
func (t *Terminal) Screen() string {
	b, err := exec.Command("tmux", "capture-pane", "-p", "-t", t.name).Output()
	if err != nil {
		return "capture-pane: " + err.Error()
	}
	return string(b)
}

// Send types keys (tmux key names, e.g. "j", "Enter", "Escape", "C-c").
func (t *Terminal) Send(keys ...string) error {
	args := append([]string{"send-keys", "-t", t.name}, keys...)
	return exec.Command("tmux", args...).Run()
}

// Type types literal text.
func (t *Terminal) Type(text string) error {
	return exec.Command("tmux", "send-keys", "-t", t.name, "-l", text).Run()
}

// WaitFor polls the screen until match returns true or the timeout passes; it returns the
// last screen either way.
func (t *Terminal) WaitFor(timeout time.Duration, match func(screen string) bool) (string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		s := t.Screen()
		if match(s) {
			return s, true
		}
		if time.Now().After(deadline) {
			return s, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close kills the session.
func (t *Terminal) Close() { _ = exec.Command("tmux", "kill-session", "-t", t.name).Run() }

// LineWith returns the first screen line containing all parts.
func LineWith(screen string, parts ...string) string {
	for _, line := range strings.Split(screen, "\n") {
		ok := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				ok = false
				break
			}
		}
		if ok {
			return line
		}
	}
	return ""
}

// TempDir is a directory removed at process exit by the caller.
func TempDir() (string, error) { return os.MkdirTemp("", "vigil-e2e-") }
