package actions

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-k8s/vigil/actions/spec"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// ArgoServerClient talks to Argo CD's REST API (argocd-server's grpc-gateway:
// /api/v1/applications/...), with a bearer token — Argo CD's own RBAC then applies, not the
// kube user's. Plain net/http: see argo_types.go for why not the argo-cd module.
type ArgoServerClient struct {
	// URL is the server's base URL, e.g. https://argocd.example.com.
	URL string
	// Token is an Argo CD session or API token.
	Token string
	// HTTP is the client used; nil means a 30-second default.
	HTTP *http.Client
}

// NewArgoServerClient returns a client for server (a URL, or host[:port] as the argocd CLI
// stores it). insecure skips TLS verification; plainText uses http.
func NewArgoServerClient(server, token string, insecure, plainText bool) *ArgoServerClient {
	base := server
	if !strings.Contains(base, "://") {
		scheme := "https://"
		if plainText {
			scheme = "http://"
		}
		base = scheme + base
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for it, as with argocd --insecure
	}
	return &ArgoServerClient{URL: strings.TrimSuffix(base, "/"), Token: token, HTTP: &http.Client{Timeout: 30 * time.Second, Transport: tr}}
}

// ArgoCLIConfig is what vigil reads of the argocd CLI's config file.
type ArgoCLIConfig struct {
	Server, Token       string
	Insecure, PlainText bool
}

// DefaultArgoCLIConfigPath is where the argocd CLI keeps its config: $ARGOCD_CONFIG_DIR/config,
// else $XDG_CONFIG_HOME/argocd/config, else ~/.config/argocd/config.
func DefaultArgoCLIConfigPath(getenv func(string) string) string {
	if d := getenv("ARGOCD_CONFIG_DIR"); d != "" {
		return filepath.Join(d, "config")
	}
	base := getenv("XDG_CONFIG_HOME")
	if base == "" {
		base = filepath.Join(getenv("HOME"), ".config")
	}
	return filepath.Join(base, "argocd", "config")
}

// LoadArgoCLIConfig reads the argocd CLI's config file and returns the server and token of
// contextName (its current-context when empty).
func LoadArgoCLIConfig(path, contextName string) (ArgoCLIConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return ArgoCLIConfig{}, fmt.Errorf("argocd CLI config: %w (log in with `argocd login`, or give --argocd-server and --argocd-token)", err)
	}
	var f struct {
		CurrentContext string `json:"current-context"`
		Contexts       []struct{ Name, Server, User string }
		Servers        []struct {
			Server    string
			Insecure  bool `json:"insecure"`
			PlainText bool `json:"plain-text"`
		}
		Users []struct {
			Name      string
			AuthToken string `json:"auth-token"`
		}
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return ArgoCLIConfig{}, fmt.Errorf("argocd CLI config %s: %w", path, err)
	}
	if contextName == "" {
		contextName = f.CurrentContext
	}
	for _, c := range f.Contexts {
		if c.Name != contextName {
			continue
		}
		cfg := ArgoCLIConfig{Server: c.Server}
		for _, s := range f.Servers {
			if s.Server == c.Server {
				cfg.Insecure, cfg.PlainText = s.Insecure, s.PlainText
			}
		}
		for _, u := range f.Users {
			if u.Name == c.User {
				cfg.Token = u.AuthToken
			}
		}
		if cfg.Token == "" {
			return cfg, fmt.Errorf("argocd CLI config %s: context %q has no auth-token (run `argocd login %s`)", path, contextName, c.Server)
		}
		return cfg, nil
	}
	return ArgoCLIConfig{}, fmt.Errorf("argocd CLI config %s: no context %q", path, contextName)
}

// do sends a request and decodes a JSON answer into out; Argo CD's errors become Go errors
// carrying the server's message.
func (c *ArgoServerClient) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	u := c.URL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("argocd server %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode/100 != 2 {
		var e struct{ Error, Message string }
		_ = json.Unmarshal(data, &e)
		msg := e.Message
		if msg == "" {
			msg = e.Error
		}
		if msg == "" {
			msg = strings.TrimSpace(string(data))
		}
		return fmt.Errorf("argocd server %s %s: %s: %s", method, path, resp.Status, msg)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("argocd server %s %s: decoding the answer: %w", method, path, err)
		}
	}
	return nil
}

func (c *ArgoServerClient) app(ctx context.Context, t spec.Object) (*argoApp, error) {
	var m map[string]any
	if err := c.do(ctx, http.MethodGet, "/api/v1/applications/"+url.PathEscape(t.Name), appNS(t), nil, &m); err != nil {
		return nil, err
	}
	return parseArgoApp(&unstructured.Unstructured{Object: m})
}

// canSync asks argocd-server's can-i whether the token's user may sync the
// application ("applications, sync, <project>/<app>", or
// "<project>/<namespace>/<app>" for an application outside Argo CD's own
// namespace); it returns "" when allowed, else the reason to show.
func (c *ArgoServerClient) canSync(ctx context.Context, app *argoApp, t spec.Object) (string, error) {
	obj := app.project + "/" + t.Name
	if t.Namespace != "" && app.ctrlNS != "" && t.Namespace != app.ctrlNS {
		obj = app.project + "/" + t.Namespace + "/" + t.Name
	}
	var ans struct {
		Value string `json:"value"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/account/can-i/applications/sync/"+obj, nil, nil, &ans); err != nil {
		return "", fmt.Errorf("asking Argo CD whether you may sync %s (can-i): %w", obj, err)
	}
	if ans.Value != "yes" {
		return "forbidden by Argo CD's RBAC: you cannot sync applications " + obj, nil
	}
	return "", nil
}

func appNS(t spec.Object) url.Values {
	if t.Namespace == "" {
		return nil
	}
	return url.Values{"appNamespace": {t.Namespace}}
}

// argoServerSteps fills a's steps for server mode: the same preconditions, Argo CD's own sync
// window answer (/syncwindows canSync), and POST /api/v1/applications/{name}/{verb}.
func argoServerSteps(a *Action, env *Env, rollback bool, id int64, build opBuilder, verb string, body map[string]any) {
	c := env.Argo
	a.Permission = nil // Argo CD's RBAC decides, for the token's user
	a.steps = steps{
		precheck: func(ctx context.Context, t spec.Object) (string, error) {
			app, err := c.app(ctx, t)
			if err != nil {
				return "", err
			}
			if r := argoChecks(app, rollback, id); r != "" {
				return r, nil
			}
			// Argo CD's own RBAC, asked as argocd-server would decide it (a rollback
			// needs the sync action too): the token's user may not.
			if r, err := c.canSync(ctx, app, t); err != nil || r != "" {
				return r, err
			}
			var w struct {
				CanSync       *bool        `json:"canSync"`
				ActiveWindows []SyncWindow `json:"activeWindows"`
			}
			if err := c.do(ctx, http.MethodGet, "/api/v1/applications/"+url.PathEscape(t.Name)+"/syncwindows", appNS(t), nil, &w); err != nil {
				return "", err
			}
			if w.CanSync != nil && !*w.CanSync {
				var names []string
				for _, aw := range w.ActiveWindows {
					names = append(names, aw.String())
				}
				return "sync window closed: " + strings.Join(names, "; "), nil
			}
			return "", nil
		},
		preview: func(ctx context.Context, t spec.Object) (previewed, error) {
			app, err := c.app(ctx, t)
			if err != nil {
				return previewed{}, err
			}
			_, summary, err := build(app, "")
			if err != nil {
				return previewed{}, err
			}
			pv := argoPreview(app, summary)
			pv.DryRun = "no side-effect-free dry run in Argo CD's API (a dryRun sync is itself an operation); the server validates the request"
			return pv, nil
		},
		execute: func(ctx context.Context, _ execToken, t spec.Object, _ func(string)) (executed, error) {
			req := map[string]any{"name": t.Name}
			for k, v := range body {
				req[k] = v
			}
			if t.Namespace != "" {
				req["appNamespace"] = t.Namespace
			}
			var out map[string]any
			if err := c.do(ctx, http.MethodPost, "/api/v1/applications/"+url.PathEscape(t.Name)+"/"+verb, nil, req, &out); err != nil {
				return executed{}, err
			}
			return executed{Result: spec.Result{Message: fmt.Sprintf("argocd server accepted the %s of %s", verb, t.Name)}}, nil
		},
		verify: func(ctx context.Context, t spec.Object, _ executed, _ func(string)) (string, error) {
			app, err := c.app(ctx, t)
			if err != nil {
				return "", err
			}
			phase, _, _ := unstructured.NestedString(app.obj.Object, "status", "operationState", "phase")
			if app.operation == nil && phase == "" {
				return "", fmt.Errorf("application %s shows no operation after the %s", t.Name, verb)
			}
			return "operation accepted by Argo CD" + map[bool]string{true: " (phase " + phase + ")", false: ""}[phase != ""], nil
		},
		outcome: argoOutcome(c.app),
	}
}
