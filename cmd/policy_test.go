package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/vigil-k8s/vigil/config"
)

// policyEnv writes a kubeconfig with contexts dev (https://dev:6443) and prod
// (https://prod:6443), a user config and a system-wide one, and returns flags over them.
func policyEnv(t *testing.T, user, system string) (*globalFlags, config.Config) {
	t.Helper()
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	write := func(f, s string) {
		if err := os.WriteFile(f, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(kc, `apiVersion: v1
kind: Config
clusters:
- {name: dev, cluster: {server: "https://dev:6443"}}
- {name: prod, cluster: {server: "https://prod:6443"}}
contexts:
- {name: dev, context: {cluster: dev, user: u}}
- {name: prod, context: {cluster: prod, user: u}}
users:
- {name: u, user: {token: t}}
current-context: dev
`)
	write(filepath.Join(dir, "user.yaml"), user)
	write(filepath.Join(dir, "system.yaml"), system)
	env := map[string]string{config.EnvPath: filepath.Join(dir, "user.yaml"), config.EnvSystemPath: filepath.Join(dir, "system.yaml")}
	g := newGlobalFlags(func(k string) string { return env[k] })
	g.kube.KubeConfig = &kc
	cfg, err := g.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	return g, cfg
}

// TestPolicyFlagsCannotLoosen: the system-wide readOnly holds against --write and
// --config /dev/null, and its protected pattern against a user's protected: false.
func TestPolicyFlagsCannotLoosen(t *testing.T) {
	g, _ := policyEnv(t, "contexts:\n  dev: {readOnly: false, protected: false, requireReason: false}\n",
		"readOnly: true\nrequireReason: true\nprotectedContexts: [\"de?\"]\n")
	g.configFile = os.DevNull
	cfg, err := g.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("vigil", pflag.ContinueOnError)
	g.mode.AddFlags(fs)
	if err = fs.Parse([]string{"--write"}); err != nil {
		t.Fatal(err)
	}
	p, mode, err := g.resolvePolicy(cfg, g.identityOf("dev", ""), policyFlags{})
	if err == nil || !strings.Contains(err.Error(), "system.yaml") || !p.ReadOnly || !mode.ReadOnly {
		t.Fatalf("--write under a system readOnly: %+v, %v, %v; want read-only and an error naming the system file", p, mode, err)
	}
	if !p.Protected || !p.RequireReason || !p.RequireReasonProtected {
		t.Fatalf("policy %+v: the system's protection or reason is gone", p)
	}
}

// TestProtectedContextFlagIsAPattern: --protected-context matches as the config's
// protectedContexts do.
func TestProtectedContextFlagIsAPattern(t *testing.T) {
	g, cfg := policyEnv(t, "", "")
	p, _, err := g.resolvePolicy(cfg, g.identityOf("prod", ""), policyFlags{protectedContexts: []string{"pro*"}})
	if err != nil || !p.Protected || !strings.Contains(p.ProtectedWhy, "--protected-context") {
		t.Fatalf("--protected-context pro* on prod: %+v, %v", p, err)
	}
	if p, _, _ = g.resolvePolicy(cfg, g.identityOf("dev", ""), policyFlags{protectedContexts: []string{"pro*"}}); p.Protected {
		t.Fatalf("dev protected by pro*: %+v", p)
	}
	if err = (policyFlags{protectedContexts: []string{"["}}).validate(); err == nil {
		t.Fatal("a bad pattern was accepted")
	}
}

// TestServerOverrideBorrowsNoPolicy: --server (or --cluster) pointing the unprotected,
// read-write dev context at prod's server gets neither dev's settings nor prod's looseness:
// it is protected, and read-only when the global setting says so.
func TestServerOverrideBorrowsNoPolicy(t *testing.T) {
	for _, tt := range []struct{ flag, value string }{{"server", "https://prod:6443"}, {"cluster", "prod"}} {
		t.Run(tt.flag, func(t *testing.T) {
			g, cfg := policyEnv(t, "readOnly: true\ncontexts:\n  dev: {readOnly: false}\n", "")
			v := tt.value
			if tt.flag == "server" {
				g.kube.APIServer = &v
			} else {
				g.kube.ClusterName = &v
			}
			id := g.identityOf("dev", "")
			if !id.Overridden || id.Server != "https://prod:6443" {
				t.Fatalf("identity %+v, want dev overridden to prod's server", id)
			}
			p, _, err := g.resolvePolicy(cfg, id, policyFlags{})
			if err != nil || !p.Protected || !p.ReadOnly {
				t.Fatalf("dev --%s prod: %+v, %v; want protected and read-only", tt.flag, p, err)
			}
		})
	}
	g, cfg := policyEnv(t, "readOnly: true\ncontexts:\n  dev: {readOnly: false}\n", "")
	if p, _, _ := g.resolvePolicy(cfg, g.identityOf("dev", ""), policyFlags{}); p.Protected || p.ReadOnly {
		t.Fatalf("dev on its own server: %+v, want its own (read-write, unprotected) policy", p)
	}
	if id := g.identityOf(config.InCluster, "https://10.0.0.1:443"); id.Overridden {
		t.Fatalf("in-cluster without --server: %+v", id)
	}
}
