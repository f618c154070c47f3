package actions

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/vigil-k8s/vigil/actions/spec"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeArgoServer is argocd-server's REST API for one application, recording what it is sent.
type fakeArgoServer struct {
	mu        sync.Mutex
	automated bool
	canSync   bool
	denied    bool // can-i answers no
	operation map[string]any
	posts     []map[string]any
	paths     []string
	auth      string
	managed   []byte // the managed-resources answer
}

func (f *fakeArgoServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = r.Header.Get("Authorization")
	if f.auth != "Bearer s3cret" {
		http.Error(w, `{"error":"invalid session","code":16,"message":"invalid session: token is invalid"}`, http.StatusUnauthorized)
		return
	}
	f.paths = append(f.paths, r.Method+" "+r.URL.Path)
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/applications/fintech-app":
		spec := map[string]any{"project": "fintech-project", "destination": map[string]any{"namespace": "fintech-prod", "server": "https://kubernetes.default.svc"},
			"source": map[string]any{"repoURL": "https://github.com/company/fintech-k8s-manifests", "targetRevision": "main", "path": "overlays/production"}}
		if f.automated {
			spec["syncPolicy"] = map[string]any{"automated": map[string]any{"prune": true}}
		}
		app := map[string]any{"metadata": map[string]any{"name": "fintech-app", "namespace": "argocd"}, "spec": spec,
			"status": map[string]any{"sync": map[string]any{"status": "Synced", "revision": "50ba61683d2e"}, "history": []any{
				map[string]any{"id": 1, "revision": "11a4ab0e6d65", "source": map[string]any{"repoURL": "https://github.com/company/fintech-k8s-manifests"}}}}}
		if f.operation != nil {
			app["operation"] = f.operation
		}
		json.NewEncoder(w).Encode(app)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/account/can-i/applications/sync/fintech-project/fintech-app":
		json.NewEncoder(w).Encode(map[string]any{"value": map[bool]string{true: "no", false: "yes"}[f.denied]})
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/applications/fintech-app/managed-resources" && f.managed != nil:
		w.Write(f.managed)
	case r.URL.Path == "/api/v1/applications/fintech-app/syncwindows":
		resp := map[string]any{"canSync": f.canSync}
		if !f.canSync {
			resp["activeWindows"] = []any{map[string]any{"kind": "deny", "schedule": "0 0 24 12 *", "duration": "72h"}}
		}
		json.NewEncoder(w).Encode(resp)
	case r.Method == http.MethodPost && (r.URL.Path == "/api/v1/applications/fintech-app/sync" || r.URL.Path == "/api/v1/applications/fintech-app/rollback"):
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &body)
		f.posts = append(f.posts, body)
		f.operation = map[string]any{"sync": map[string]any{"revision": "x"}, "initiatedBy": map[string]any{"username": "admin"}}
		json.NewEncoder(w).Encode(map[string]any{"metadata": map[string]any{"name": "fintech-app"}})
	default:
		http.NotFound(w, r)
	}
}

func TestArgoServerMode(t *testing.T) {
	fake := &fakeArgoServer{canSync: true}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	env, _ := fakeEnv(t, nil)
	env.Argo = NewArgoServerClient(srv.URL, "s3cret", false, false)
	p, _ := newPipeline(t, env, PresetConfirmer{Answer: "local-1/argocd/fintech-app"})
	app := spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: "fintech-app"}
	ctx := context.Background()

	// Sync goes through POST .../sync with the token; the destination fintech-prod makes it typed.
	out, err := p.Execute(ctx, ArgoSync(env, spec.ArgoSyncParams{Revision: "11a4ab0e6d65", Prune: true}), app, spec.Request{Reason: "INC-5"})
	if err != nil {
		t.Fatal(err)
	}
	if len(fake.posts) != 1 || fake.posts[0]["revision"] != "11a4ab0e6d65" || fake.posts[0]["prune"] != true ||
		fake.posts[0]["name"] != "fintech-app" || fake.posts[0]["appNamespace"] != "argocd" {
		t.Fatalf("sync request %v", fake.posts)
	}
	if !strings.Contains(out.Preview.Summary, "sync fintech-app to 11a4ab0e6d65") {
		t.Errorf("preview %+v", out.Preview)
	}

	// An operation is now in progress: the next one is refused before any POST.
	_, err = p.Execute(ctx, ArgoSync(env, spec.ArgoSyncParams{}), app, spec.Request{})
	if err == nil || !strings.Contains(err.Error(), "operation in progress") || len(fake.posts) != 1 {
		t.Fatalf("second sync: %v (posts %d)", err, len(fake.posts))
	}
	fake.operation = nil

	// Rollback with auto-sync on is refused as argocd-server refuses it.
	fake.automated = true
	_, err = p.Execute(ctx, ArgoRollback(env, spec.ArgoRollbackParams{ID: 1}), app, spec.Request{})
	if err == nil || !strings.Contains(err.Error(), "rollback cannot be initiated when auto-sync is enabled") {
		t.Fatalf("rollback with auto-sync: %v", err)
	}
	fake.automated = false
	if _, err = p.Execute(ctx, ArgoRollback(env, spec.ArgoRollbackParams{ID: 1}), app, spec.Request{}); err != nil {
		t.Fatal(err)
	}
	if last := fake.posts[len(fake.posts)-1]; last["id"] != float64(1) {
		t.Fatalf("rollback request %v", last)
	}
	fake.operation = nil

	// A closed sync window refuses, with the window named.
	fake.canSync = false
	_, err = p.Execute(ctx, ArgoSync(env, spec.ArgoSyncParams{}), app, spec.Request{})
	var re *spec.RefusedError
	if !errors.As(err, &re) || re.Stage != spec.StagePreconditions || !strings.Contains(err.Error(), `sync window closed: deny window "0 0 24 12 *"`) {
		t.Fatalf("closed window: %v", err)
	}

	// Argo CD's RBAC says no: refused before any POST, with the object named.
	fake.canSync, fake.denied = true, true
	posts := len(fake.posts)
	_, err = p.Execute(ctx, ArgoSync(env, spec.ArgoSyncParams{}), app, spec.Request{})
	if !errors.As(err, &re) || re.Stage != spec.StagePreconditions || !strings.Contains(err.Error(), "you cannot sync applications fintech-project/fintech-app") || len(fake.posts) != posts {
		t.Fatalf("can-i no: %v (posts %d → %d)", err, posts, len(fake.posts))
	}
	fake.denied = false

	// A bad token surfaces Argo CD's message.
	env.Argo.Token = "wrong"
	if d := ArgoSync(env, spec.ArgoSyncParams{}).Disabled(ctx, app); !strings.Contains(d, "token is invalid") {
		t.Fatalf("bad token: %q", d)
	}
}

func TestLoadArgoCLIConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	os.WriteFile(path, []byte(`contexts:
- name: argocd.fintech.internal
  server: argocd.fintech.internal
  user: argocd.fintech.internal
- name: local
  server: localhost:8080
  user: local
current-context: argocd.fintech.internal
servers:
- grpc-web-root-path: ""
  server: argocd.fintech.internal
- server: localhost:8080
  insecure: true
  plain-text: true
users:
- auth-token: tok-prod
  name: argocd.fintech.internal
- auth-token: tok-local
  name: local
`), 0o600)
	c, err := LoadArgoCLIConfig(path, "")
	if err != nil || c.Server != "argocd.fintech.internal" || c.Token != "tok-prod" || c.Insecure {
		t.Fatalf("%+v %v", c, err)
	}
	c, err = LoadArgoCLIConfig(path, "local")
	if err != nil || c.Token != "tok-local" || !c.Insecure || !c.PlainText {
		t.Fatalf("%+v %v", c, err)
	}
	if NewArgoServerClient(c.Server, c.Token, c.Insecure, c.PlainText).URL != "http://localhost:8080" {
		t.Error("plain-text server URL")
	}
	if _, err := LoadArgoCLIConfig(path, "nope"); err == nil {
		t.Error("unknown context accepted")
	}
	if p := DefaultArgoCLIConfigPath(func(k string) string { return map[string]string{"HOME": "/h"}[k] }); p != "/h/.config/argocd/config" {
		t.Error(p)
	}
}
