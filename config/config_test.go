package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    []string
		wantErr []string // substrings the error must contain
	}{
		{name: "empty file keeps defaults", yaml: "", want: DefaultNamespaces},
		{name: "namespaces replace defaults", yaml: "namespaces: [a, b-2]\n", want: []string{"a", "b-2"}},
		{name: "unknown key", yaml: "namspaces: [a]\n", wantErr: []string{`unknown field "namspaces"`, "known fields: alertLabels"}},
		{name: "bad namespace name", yaml: "namespaces: [ok, Not_OK]\n", wantErr: []string{"namespaces[1]", `"Not_OK" is not a valid namespace name`}},
		{name: "duplicate", yaml: "namespaces: [a, b, a]\n", wantErr: []string{"namespaces[2]", "also namespaces[0]"}},
		{name: "empty list", yaml: "namespaces: []\n", wantErr: []string{"namespaces: must list at least one"}},
		{name: "not yaml", yaml: "namespaces: [a\n", wantErr: []string{"not valid YAML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.yaml))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Parse() = %+v, want error", cfg)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if !reflect.DeepEqual(cfg.Namespaces, tt.want) {
				t.Errorf("Namespaces = %v, want %v", cfg.Namespaces, tt.want)
			}
		})
	}
}

func TestValidateFieldErrors(t *testing.T) {
	err := Config{Settings: Settings{Namespaces: []string{"-bad"}}}.Validate()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Path != "namespaces[0]" {
		t.Fatalf("Validate() = %v, want a FieldError at namespaces[0]", err)
	}
}

func TestResolve(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	tests := []struct {
		name string
		flag string
		env  map[string]string
		want Path
	}{
		{"flag beats env", "/f.yaml", map[string]string{EnvPath: "/e.yaml"}, Path{"/f.yaml", true}},
		{"env", "", map[string]string{EnvPath: "/e.yaml"}, Path{"/e.yaml", true}},
		{"xdg", "", map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, Path{"/x/vigil/config.yaml", false}},
		{"home", "", map[string]string{"HOME": "/h"}, Path{"/h/.config/vigil/config.yaml", false}},
		{"nothing", "", map[string]string{}, Path{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Resolve(tt.flag, env(tt.env)); got != tt.want {
				t.Errorf("Resolve() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")

	cfg, err := Load(Path{File: missing})
	if err != nil || !reflect.DeepEqual(cfg, Default()) {
		t.Fatalf("Load(missing default path) = %+v, %v; want defaults", cfg, err)
	}
	if _, err = Load(Path{File: missing, Explicit: true}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("Load(missing explicit path) error = %v, want one naming %s", err, missing)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err = os.WriteFile(bad, []byte("colour: red\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(Path{File: bad})
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), `"colour"`) {
		t.Fatalf("Load(bad) error = %v, want one naming the file and the field", err)
	}
}

func TestTemplateIsDefault(t *testing.T) {
	cfg, err := Parse([]byte(Template))
	if err != nil {
		t.Fatalf("Parse(Template) = %v", err)
	}
	cfg.lines = nil
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("Parse(Template) = %+v, want Default() %+v", cfg, Default())
	}
}

func TestErrorsNameFileLineAndField(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yaml")
	data := "namespaces: [fintech-prod]\ncontexts:\n  local-1:\n    prometheus: ftp://x\n    argocd:\n      mod: server\n"
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(Path{File: file})
	if err == nil || !strings.Contains(err.Error(), file+":6: contexts.local-1.argocd.mod") || !strings.Contains(err.Error(), `unknown field "mod"`) {
		t.Fatalf("Load() = %v, want the unknown key named with file:line", err)
	}
	data = "namespaces: [fintech-prod]\ncontexts:\n  local-1:\n    prometheus: ftp://x\n"
	if err = os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(Path{File: file})
	if err == nil || !strings.Contains(err.Error(), file+":4: contexts.local-1.prometheus") {
		t.Fatalf("Load() = %v, want the bad URL named with file:line", err)
	}
	data = "namespaces: [ok, Bad]\n"
	if err = os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err = Load(Path{File: file}); err == nil || !strings.Contains(err.Error(), file+":1: namespaces[1]") {
		t.Fatalf("Load() = %v, want namespaces[1] at line 1", err)
	}
	data = "readOnly: maybe\n"
	if err = os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err = Load(Path{File: file}); err == nil || !strings.Contains(err.Error(), file+`:1: readOnly: want true or false, got the string "maybe"`) {
		t.Fatalf("Load() = %v, want the type error with file, line and field", err)
	}
}

// TestEveryMistakeInOnePass: unknown keys, values of the wrong type and semantic mistakes are
// reported together, in the file's order, each with file, line and field; none hides another.
func TestEveryMistakeInOnePass(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yaml")
	data := `namespaces: fintech-prod
prometheus: ftp://prom
readOnly: yes please
alertLabels:
  service: app
  match: [cluster]
contexts:
  local-1:
    namespces: [a]
    requireReason: 3
    namespaces: [Bad_NS]
  local-2: production
protectedContexts: ["[prod"]
`
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(Path{File: file})
	if err == nil {
		t.Fatal("Load() = nil error, want every mistake")
	}
	want := []string{
		"config " + file + `:1: namespaces: want a list of strings, e.g. [a, b], got the string "fintech-prod"`,
		"config " + file + `:2: prometheus: "ftp://prom" is not an http(s) URL`,
		"config " + file + `:3: readOnly: want true or false, got the string "yes please"`,
		"config " + file + `:5: alertLabels.service: want a list of strings, e.g. [a, b], got the string "app"`,
		"config " + file + `:6: alertLabels.match: want a mapping, got a list`,
		"config " + file + `:9: contexts.local-1.namespces: unknown field "namespces"`,
		"config " + file + `:10: contexts.local-1.requireReason: want true or false, got the number 3`,
		"config " + file + `:11: contexts.local-1.namespaces[0]: "Bad_NS" is not a valid namespace name`,
		"config " + file + `:12: contexts.local-2: want a mapping, got the string "production"`,
		"config " + file + `:13: protectedContexts[0]: "[prod" is not a valid pattern`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("%d errors, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
			got := ""
			if i < len(lines) {
				got = lines[i]
			}
			t.Errorf("error %d = %q, want prefix %q", i, got, w)
		}
	}
}

func TestFor(t *testing.T) {
	cfg, err := Parse([]byte(`
prometheus: http://global:9090
protectedContexts: ["prod-*"]
contexts:
  local-2:
    namespaceSelector: team=payments
    alertmanager: http://am:9093
    alertLabels: {service: [app]}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.For("local-2")
	if len(s.Namespaces) != 0 || s.NamespaceSelector != "team=payments" || s.Prometheus != "http://global:9090" || s.Alertmanager != "http://am:9093" || !reflect.DeepEqual(s.AlertLabels.Service, []string{"app"}) {
		t.Errorf("For(local-2) = %+v", s)
	}
	if s := cfg.For("local-1"); !reflect.DeepEqual(s.Namespaces, DefaultNamespaces) || s.Alertmanager != "" {
		t.Errorf("For(local-1) = %+v", s)
	}
	if !cfg.IsProtected("prod-eu") || cfg.IsProtected("local-1") {
		t.Error("IsProtected: want prod-eu protected by pattern, local-1 not")
	}
}

func TestReadOnlySettingOf(t *testing.T) {
	cfg, err := Parse([]byte(`
readOnly: true
contexts:
  dev: {readOnly: false}
  prod: {readOnlyEnforced: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ctx          string
		readOnly     string // "", "true" or "false"
		from         string
		enforced     bool
		enforcedFrom string
	}{
		{ctx: "other", readOnly: "true", from: "readOnly"},
		{ctx: "dev", readOnly: "false", from: "contexts.dev.readOnly"},
		{ctx: "prod", readOnly: "true", from: "readOnly", enforced: true, enforcedFrom: "contexts.prod.readOnlyEnforced"},
	}
	for _, tt := range tests {
		got := cfg.ReadOnlySettingOf(tt.ctx)
		ro := ""
		if got.ReadOnly != nil {
			ro = fmt.Sprint(*got.ReadOnly)
		}
		if ro != tt.readOnly || got.ReadOnlyFrom != tt.from || got.Enforced != tt.enforced || got.EnforcedFrom != tt.enforcedFrom {
			t.Errorf("%s: %+v (readOnly %q), want readOnly %q from %q, enforced %v from %q", tt.ctx, got, ro, tt.readOnly, tt.from, tt.enforced, tt.enforcedFrom)
		}
	}
	if got := Default().ReadOnlySettingOf("x"); got.ReadOnly != nil || got.Enforced || got.ReadOnlyFrom != "" {
		t.Errorf("default = %+v, want nothing set", got)
	}
}

func TestAlertMatchPerContext(t *testing.T) {
	c, err := Parse([]byte("prometheus: http://127.0.0.1:9090\ncontexts:\n  local-1:\n    alertLabels:\n      match: {cluster: local-1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := c.For("local-1")
	if !s.AlertLabels.Keeps(map[string]string{"cluster": "local-1", "job": "x"}) || s.AlertLabels.Keeps(map[string]string{"cluster": "local-2"}) {
		t.Fatalf("local-1 match = %v", s.AlertLabels.Match)
	}
	if len(s.AlertLabels.Service) == 0 {
		t.Fatal("a context's match must not drop the default service labels")
	}
	if m := c.For("local-2").AlertLabels.Match; len(m) != 0 {
		t.Fatalf("local-2 inherits no match, got %v", m)
	}
}
