package cmd

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/config"
)

// TestArgoServerFromConfig: argocd.mode: server in vigil's config gives the UI (the d key, the
// Argo CD actions) and the headless vigil argo a client of argocd.server with argocd.tokenFile's
// token ($ARGOCD_AUTH_TOKEN without one); flags beat the config; Kubernetes mode gives none and
// the d key says how to configure the server; a broken setting says which.
func TestArgoServerFromConfig(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-from-file" || r.URL.Path != "/api/v1/applications/fintech-app/managed-resources" || r.URL.Query().Get("appNamespace") != "argocd" {
			http.Error(w, `{"message":"no"}`, http.StatusForbidden)
			return
		}
		w.Write([]byte(`{"items":[{"kind":"ConfigMap","namespace":"fintech-prod","name":"payment-flags","normalizedLiveState":"{\"kind\":\"ConfigMap\",\"data\":{\"A\":\"1\"}}","predictedLiveState":"{\"kind\":\"ConfigMap\",\"data\":{\"A\":\"2\"}}","modified":true}]}`))
	}))
	defer srv.Close()
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "argocd-token"), []byte("tok-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOME": home, "ARGOCD_AUTH_TOKEN": "tok-from-env"}
	getenv := func(k string) string { return env[k] }

	c, err := argoServerOf(config.ArgoCD{Mode: config.ArgoServer, Server: srv.URL, TokenFile: "~/argocd-token"}, getenv, nil)
	if err != nil || c == nil || c.URL != srv.URL || c.Token != "tok-from-file" {
		t.Fatalf("server mode: %+v %v", c, err)
	}
	c, err = argoServerOf(config.ArgoCD{Mode: config.ArgoServer, Server: srv.URL}, getenv, nil)
	if err != nil || c.Token != "tok-from-env" {
		t.Fatalf("server mode without tokenFile: %+v %v", c, err)
	}
	if c, err = argoServerOf(config.ArgoCD{Mode: config.ArgoKubernetes}, getenv, nil); c != nil || err != nil {
		t.Fatalf("Kubernetes mode: %+v %v", c, err)
	}

	// The d key: through a client that refuses anything but reads.
	diff, off := argoDiffOf(config.ArgoCD{Mode: config.ArgoServer, Server: srv.URL, TokenFile: "~/argocd-token"}, getenv, readonly.WrapClient)
	if diff == nil || off != "" {
		t.Fatalf("server mode: no diff (%q)", off)
	}
	d, err := diff(context.Background(), "argocd", "fintech-app")
	if err != nil || len(d.Resources) != 1 || !strings.Contains(strings.Join(d.Text(), "\n"), "+  A: \"2\"") {
		t.Fatalf("diff %+v %v", d, err)
	}
	if diff, off = argoDiffOf(config.ArgoCD{Mode: config.ArgoKubernetes}, getenv, nil); diff != nil || off != actions.ArgoDiffNeedsServer {
		t.Fatalf("Kubernetes mode: %q", off)
	}
	if !strings.Contains(off, "argocd.mode: server") || !strings.Contains(off, "argocd.tokenFile") || !strings.Contains(off, "--argocd-server") {
		t.Errorf("the Kubernetes-mode note does not say how to configure the server: %q", off)
	}
	if diff, off = argoDiffOf(config.ArgoCD{Mode: config.ArgoServer, Server: srv.URL, TokenFile: "~/missing"}, getenv, nil); diff != nil || !strings.Contains(off, "argocd.tokenFile") {
		t.Fatalf("a missing token file: %q", off)
	}

	// Headless: without --argocd-* flags the context's config decides; the flags beat it.
	cfgPath := filepath.Join(home, "config.yaml")
	if err = os.WriteFile(cfgPath, []byte("contexts:\n  local-1:\n    argocd:\n      mode: server\n      server: "+srv.URL+"\n      tokenFile: ~/argocd-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env["VIGIL_CONFIG"] = cfgPath
	g := newGlobalFlags(getenv)
	o := &actionOptions{g: g, flags: g.kube, getenv: getenv}
	if c, err = o.argoClient(&argoFlags{}, "local-1"); err != nil || c == nil || c.URL != srv.URL || c.Token != "tok-from-file" {
		t.Fatalf("headless from the config: %+v %v", c, err)
	}
	if c, err = o.argoClient(&argoFlags{}, "local-2"); err != nil || c != nil {
		t.Fatalf("headless on a context in Kubernetes mode: %+v %v", c, err)
	}
	if c, err = o.argoClient(&argoFlags{server: "argocd.other:443", token: "flag-token"}, "local-1"); err != nil || c.URL != "https://argocd.other:443" || c.Token != "flag-token" {
		t.Fatalf("flags over the config: %+v %v", c, err)
	}
}
