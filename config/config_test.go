package config

import (
	"errors"
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
		{name: "unknown key", yaml: "namspaces: [a]\n", wantErr: []string{`unknown field "namspaces"`, "known fields: namespaces"}},
		{name: "bad namespace name", yaml: "namespaces: [ok, Not_OK]\n", wantErr: []string{"namespaces[1]", `"Not_OK" is not a valid namespace name`}},
		{name: "duplicate", yaml: "namespaces: [a, b, a]\n", wantErr: []string{"namespaces[2]", "also namespaces[0]"}},
		{name: "empty list", yaml: "namespaces: []\n", wantErr: []string{"namespaces: must list at least one"}},
		{name: "not yaml", yaml: "namespaces: [a\n", wantErr: []string{"yaml"}},
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
	err := Config{Namespaces: []string{"-bad"}}.Validate()
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
	if _, err := Load(Path{File: missing, Explicit: true}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("Load(missing explicit path) error = %v, want one naming %s", err, missing)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("colour: red\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(Path{File: bad})
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), `"colour"`) {
		t.Fatalf("Load(bad) error = %v, want one naming the file and the field", err)
	}
}
