package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// systemLayer writes a system-wide file and returns a getenv that points VIGIL_SYSTEM_CONFIG at it.
func systemLayer(t *testing.T, yaml string) func(string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "system.yaml")
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(k string) string {
		if k == EnvSystemPath {
			return f
		}
		return ""
	}
}

func userFile(t *testing.T, yaml string) Path {
	t.Helper()
	f := filepath.Join(t.TempDir(), "user.yaml")
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return Path{File: f, Explicit: true}
}

// TestSystemTightensOnly: whatever the user's file says, the system-wide layer's protections
// hold; the user may add protections of their own.
func TestSystemTightensOnly(t *testing.T) {
	getenv := systemLayer(t, `
readOnly: true
requireReason: true
protectedContexts: ["local-*"]
contexts:
  prod: {readOnlyEnforced: true}
`)
	tests := []struct {
		name, user string
	}{
		{"user loosens everything", `
readOnly: false
requireReason: false
protectedContexts: []
contexts:
  local-1: {readOnly: false, readOnlyEnforced: false, protected: false, requireReason: false}
  prod: {readOnly: false, readOnlyEnforced: false}
`},
		{"user file empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadWithSystem(userFile(t, tt.user), getenv)
			if err != nil {
				t.Fatal(err)
			}
			for _, ctx := range []string{"local-1", "prod"} {
				ro := cfg.ReadOnlySettingOf(ctx)
				if ro.ReadOnly == nil || !*ro.ReadOnly || !ro.Enforced || !strings.Contains(ro.EnforcedFrom, "system.yaml") {
					t.Errorf("%s: read-only setting %+v, want read-only enforced by the system file", ctx, ro)
				}
				if s := cfg.For(ctx); s.RequireReason == nil || !*s.RequireReason {
					t.Errorf("%s: requireReason not in force", ctx)
				}
			}
			if !cfg.IsProtected("local-1") {
				t.Error("local-1: the system's protectedContexts no longer protect it")
			}
			if cfg.IsProtected("other") {
				t.Error("other: protected though no pattern matches it")
			}
		})
	}
}

// TestDevNullCannotLoosen: --config /dev/null is the defaults, and the system-wide layer still holds.
func TestDevNullCannotLoosen(t *testing.T) {
	getenv := systemLayer(t, "readOnly: true\nprotectedContexts: [\"local-*\"]\n")
	cfg, err := LoadWithSystem(Path{File: os.DevNull, Explicit: true}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if ro := cfg.ReadOnlySettingOf("local-1"); !ro.Enforced || !cfg.IsProtected("local-1") {
		t.Fatalf("--config /dev/null loosened the system policy: %+v protected=%v", ro, cfg.IsProtected("local-1"))
	}
}

// TestUserMayTighten: without a system-wide layer the user's own protections apply.
func TestUserMayTighten(t *testing.T) {
	cfg, err := LoadWithSystem(userFile(t, "protectedContexts: [dev]\nrequireReason: true\n"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.IsProtected("dev") || cfg.For("x").RequireReason == nil || !*cfg.For("x").RequireReason {
		t.Fatal("the user's own protections were lost")
	}
}

// TestSystemOnlySafetyKeys: the system-wide file sets safety settings only; anything else is
// an error naming the field, and a broken file stops vigil.
func TestSystemOnlySafetyKeys(t *testing.T) {
	_, err := LoadSystem(systemLayer(t, "readOnly: true\nprometheus: http://p:9090\n"))
	if err == nil || !strings.Contains(err.Error(), "prometheus: not a safety setting") {
		t.Fatalf("err = %v, want prometheus named as not a safety setting", err)
	}
	if _, err = LoadSystem(systemLayer(t, "readOnly: [")); err == nil {
		t.Fatal("a broken system-wide file was ignored")
	}
	layers, err := LoadSystem(func(string) string { return filepath.Join(t.TempDir(), "absent.yaml") })
	if err != nil || len(layers) != 0 {
		t.Fatalf("absent file: %v, %d layers", err, len(layers))
	}
}

// TestMatchContext pins the pattern semantics (path.Match) shared by the config and the flag.
func TestMatchContext(t *testing.T) {
	for _, tt := range []struct {
		pat, name string
		want      bool
	}{
		{"local-*", "local-1", true},
		{"local-1", "local-1", true},
		{"local-1", "local-10", false},
		{"prod-?", "prod-eu", false},
		{"prod-[a-z][a-z]", "prod-eu", true},
		{"*", "arn:aws:eks:eu:1:cluster/prod", false},
		{"arn:aws:eks:*:*:cluster/prod*", "arn:aws:eks:eu:1:cluster/prod", true},
	} {
		if got := MatchContext([]string{tt.pat}, tt.name); got != tt.want {
			t.Errorf("MatchContext(%q, %q) = %v, want %v", tt.pat, tt.name, got, tt.want)
		}
	}
	if ValidPattern("[") == nil {
		t.Error(`"[" accepted as a pattern`)
	}
}

// TestOverriddenIdentityBorrowsNothing: a flag pointing "dev" at another server does not get
// dev's looser per-context settings.
func TestOverriddenIdentityBorrowsNothing(t *testing.T) {
	cfg, err := Parse([]byte("readOnly: true\ncontexts:\n  dev: {readOnly: false}\n"))
	if err != nil {
		t.Fatal(err)
	}
	own := Identity{Name: "dev", Server: "https://dev:6443"}
	moved := Identity{Name: "dev", Server: "https://prod:6443", Overridden: true}
	if ro := cfg.ReadOnlySettingOf(own.Key()); ro.ReadOnly == nil || *ro.ReadOnly {
		t.Fatalf("dev on its own server: %+v, want read-write", ro)
	}
	if ro := cfg.ReadOnlySettingOf(moved.Key()); ro.ReadOnly == nil || !*ro.ReadOnly {
		t.Fatalf("dev pointed at prod: %+v, want the global read-only", ro)
	}
}
