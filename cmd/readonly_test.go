package cmd

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/config"
)

const modeConfig = `
readOnly: false
contexts:
  audit:
    readOnly: true
  prod:
    readOnlyEnforced: true
  dev:
    readOnly: false
`

func TestResolveMode(t *testing.T) {
	cfg, err := config.Parse([]byte(modeConfig))
	if err != nil {
		t.Fatal(err)
	}
	globalRO, err := config.Parse([]byte("readOnly: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	mixed, err := config.Parse([]byte("readOnly: true\ncontexts:\n  dev: {readOnly: false}\n"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		cfg     config.Config
		context string
		args    []string
		env     string
		want    bool
		source  string
		wantErr string
	}{
		{name: "default is read-write", cfg: config.Default(), context: "x", want: false, source: "default"},
		{name: "flag", cfg: config.Default(), context: "x", args: []string{"--readonly"}, want: true, source: "--readonly"},
		{name: "old spelling", cfg: config.Default(), context: "x", args: []string{"--read-only"}, want: true, source: "--readonly"},
		{name: "env", cfg: config.Default(), context: "x", env: "1", want: true, source: "VIGIL_READONLY=1"},
		{name: "env off is no opinion", cfg: globalRO, context: "x", env: "0", want: true, source: "readOnly"},
		{name: "bad env stays read-only", cfg: config.Default(), context: "x", env: "maybe", want: true, wantErr: "VIGIL_READONLY"},
		{name: "global", cfg: globalRO, context: "x", want: true, source: "readOnly"},
		{name: "context beats global", cfg: cfg, context: "audit", want: true, source: "contexts.audit.readOnly"},
		{name: "flag beats context", cfg: cfg, context: "dev", args: []string{"--readonly"}, want: true, source: "--readonly"},
		{name: "write beats context", cfg: cfg, context: "audit", args: []string{"--write"}, want: false, source: "--write"},
		{name: "write beats env", cfg: config.Default(), context: "x", args: []string{"--write"}, env: "1", want: false, source: "--write"},
		{name: "enforced", cfg: cfg, context: "prod", want: true, source: "contexts.prod.readOnlyEnforced"},
		{name: "write cannot lift enforced", cfg: cfg, context: "prod", args: []string{"--write"}, want: true, wantErr: "--write cannot override"},
		{name: "contradiction", cfg: cfg, context: "dev", args: []string{"--readonly", "--write"}, want: true, wantErr: "contradict"},
		{name: "context read-write beats global read-only", cfg: mixed, context: "dev", want: false, source: "contexts.dev.readOnly"},
		{name: "global read-only where the context says nothing", cfg: mixed, context: "other", want: true, source: "readOnly"},
		{name: "--readonly=false beats global", cfg: mixed, context: "other", args: []string{"--readonly=false"}, want: false, source: "--readonly"},
		{name: "--readonly=false cannot lift enforced", cfg: cfg, context: "prod", args: []string{"--readonly=false"}, want: true, wantErr: "--readonly cannot override"},
		{name: "env keeps enforced", cfg: cfg, context: "prod", env: "1", want: true, source: "contexts.prod.readOnlyEnforced"},
		{name: "env beats context", cfg: cfg, context: "dev", env: "true", want: true, source: "VIGIL_READONLY=true"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f ModeFlags
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			f.AddFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			m, err := ResolveMode(&f, func(k string) string {
				if k == EnvReadOnly {
					return tc.env
				}
				return ""
			}, tc.cfg, tc.context)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if m.ReadOnly != tc.want {
				t.Fatalf("ReadOnly = %v, want %v (%s)", m.ReadOnly, tc.want, m)
			}
			if tc.source != "" && !strings.HasPrefix(m.Source, tc.source) {
				t.Fatalf("Source = %q, want %q…", m.Source, tc.source)
			}
			if tc.context == "prod" && !m.Enforced {
				t.Fatalf("prod: Enforced = false")
			}
		})
	}
}

func TestModeWraps(t *testing.T) {
	rw, ro := Mode{}, Mode{ReadOnly: true}
	cfg := &rest.Config{Host: "https://example.invalid"}
	if rw.WrapConfig(cfg) != cfg {
		t.Fatal("read-write mode must not change the config")
	}
	wrapped := ro.WrapConfig(cfg)
	if wrapped == cfg || wrapped.WrapTransport == nil {
		t.Fatal("read-only mode must wrap a copy of the config")
	}
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/api/v2/silences", nil)
	if _, err := ro.WrapClient(nil).Do(req); !errors.Is(err, readonly.ErrReadOnly) {
		t.Fatalf("read-only client POST: %v, want ErrReadOnly", err)
	}
	if c := rw.WrapClient(nil); c == nil || c.Transport != nil {
		t.Fatal("read-write client must be a plain client")
	}
}

// TestModeFlagsSharedByCommands: the headless commands share one ModeFlags; a switch given to
// the command that runs counts even though another command registered the flags later.
func TestModeFlagsSharedByCommands(t *testing.T) {
	var f ModeFlags
	run := pflag.NewFlagSet("restart", pflag.ContinueOnError)
	f.AddFlags(run)
	f.AddFlags(pflag.NewFlagSet("scale", pflag.ContinueOnError))
	if err := run.Parse([]string{"--readonly"}); err != nil {
		t.Fatal(err)
	}
	m, err := ResolveMode(&f, func(string) string { return "" }, config.Default(), "x")
	if err != nil || !m.ReadOnly || m.Source != "--readonly" {
		t.Fatalf("mode %+v, %v", m, err)
	}
}

// TestEachContextGoesByItsOwnMode: the UI resolves the mode of every context it shows (the
// first, and each after :ctx) from the flags, the environment and that context's settings.
// A read-only start-up context used to make every later context read-only too.
func TestEachContextGoesByItsOwnMode(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	kc := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: https://127.0.0.1:1}\n" +
		"contexts:\n- name: audit\n  context: {cluster: c, user: u}\n- name: dev\n  context: {cluster: c, user: u}\n" +
		"users:\n- name: u\n  user: {token: t}\ncurrent-context: dev\n"
	cfgFile := filepath.Join(dir, "vigil.yaml")
	for f, data := range map[string]string{kubeconfig: kc, cfgFile: "contexts:\n  audit: {readOnly: true}\n  dev: {readOnly: false}\n"} {
		if err := os.WriteFile(f, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		// want is the read-only state of the start-up context, then of audit, dev and other
		// after a switch.
		start                 bool
		audit, dev, otherwise bool
	}{
		{name: "each by its own setting", args: []string{"--context", "audit"}, start: true, audit: true, dev: false, otherwise: false},
		{name: "read-write start-up", args: []string{"--context", "dev"}, start: false, audit: true, dev: false, otherwise: false},
		{name: "--readonly holds for every context", args: []string{"--context", "dev", "--readonly"}, start: true, audit: true, dev: true, otherwise: true},
		{name: "$VIGIL_READONLY holds for every context", args: []string{"--context", "dev"}, env: map[string]string{EnvReadOnly: "1"}, start: true, audit: true, dev: true, otherwise: true},
		{name: "--write lifts readOnly everywhere", args: []string{"--context", "audit", "--write"}, start: false, audit: false, dev: false, otherwise: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"XDG_STATE_HOME": dir}
			for k, v := range tc.env {
				env[k] = v
			}
			g := newGlobalFlags(func(k string) string { return env[k] })
			root := newRootCommand(g, genericiooptions.NewTestIOStreamsDiscard())
			if err := root.ParseFlags(append([]string{"--kubeconfig", kubeconfig, "--config", cfgFile}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			o := &rootOptions{flags: g}
			if err := o.Complete(root); err != nil {
				t.Fatal(err)
			}
			defer o.close()
			if o.readOnly != tc.start {
				t.Errorf("start-up context %s: read-only %v (%s), want %v", o.target.Context, o.readOnly, o.readOnlyFrom, tc.start)
			}
			for kubeContext, want := range map[string]bool{"audit": tc.audit, "dev": tc.dev, "other": tc.otherwise} {
				if got := o.contextReadOnly(kubeContext); got != want {
					t.Errorf("after :ctx %s: read-only %v, want %v", kubeContext, got, want)
				}
			}
		})
	}
}
