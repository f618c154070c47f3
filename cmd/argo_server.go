package cmd

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
)

// argoServerOf returns the client of the Argo CD server a context's settings select
// (argocd.mode: server), or nil in Kubernetes mode. The server is argocd.server, else the
// argocd CLI's; the token is argocd.tokenFile's content, else $ARGOCD_AUTH_TOKEN, else the
// argocd CLI's (after `argocd login`). wrap, when set, wraps its HTTP client (read-only mode).
func argoServerOf(s config.ArgoCD, getenv func(string) string, wrap func(*http.Client) *http.Client) (*actions.ArgoServerClient, error) {
	if s.Mode != config.ArgoServer {
		return nil, nil
	}
	server, token := s.Server, ""
	if s.TokenFile != "" {
		path := s.TokenFile
		if rest, ok := strings.CutPrefix(path, "~/"); ok {
			path = filepath.Join(getenv("HOME"), rest)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("argocd.tokenFile: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		token = getenv("ARGOCD_AUTH_TOKEN")
	}
	insecure, plain := false, false
	if server == "" || token == "" {
		cfg, err := actions.LoadArgoCLIConfig(actions.DefaultArgoCLIConfigPath(getenv), "")
		if err != nil {
			return nil, fmt.Errorf("argocd.mode server: %w", err)
		}
		if server == "" {
			server, insecure, plain = cfg.Server, cfg.Insecure, cfg.PlainText
		}
		if token == "" {
			token = cfg.Token
		}
	}
	c := actions.NewArgoServerClient(server, token, insecure, plain)
	if wrap != nil {
		c.HTTP = wrap(c.HTTP)
	}
	return c, nil
}

// argoDiffOf is what the UI's d key on an Argo CD application reads: the managed-resources
// diff from the server a context's settings select, or, in Kubernetes mode (or when the
// server's settings are broken), nil and why.
func argoDiffOf(s config.ArgoCD, getenv func(string) string, wrap func(*http.Client) *http.Client) (common.ArgoDiffFunc, string) {
	c, err := argoServerOf(s, getenv, wrap)
	switch {
	case err != nil:
		return nil, "what Argo CD would change is unavailable: " + err.Error()
	case c == nil:
		return nil, actions.ArgoDiffNeedsServer
	}
	return func(ctx context.Context, namespace, name string) (estate.ArgoDiff, error) {
		return c.AppDiff(ctx, namespace, name)
	}, ""
}
