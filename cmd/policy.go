package cmd

import (
	"fmt"
	"strings"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/config"
)

// policyFlags are the headless guard flags that add to a context's policy. They can only
// tighten it: there is no flag that removes a protection the config or the system sets.
type policyFlags struct {
	// protectedContexts is --protected-context: patterns, matched as the config's are.
	protectedContexts []string
	// requireReason is --require-reason.
	requireReason bool
}

// validate checks the flag patterns with the config's rule.
func (f policyFlags) validate() error {
	for _, p := range f.protectedContexts {
		if err := config.ValidPattern(p); err != nil {
			return fmt.Errorf("--protected-context: %w", err)
		}
	}
	return nil
}

// identityOf is the kube context name as the policy sees it (config.Identity): with server,
// the URL its clients use ("" to work it out from the flags and the kubeconfig). It is
// Overridden when --server or --cluster sends the name to another server than its kubeconfig
// gives it, and when the name is no kubeconfig context at all (--server without one); the
// in-cluster service account is overridden only by --server.
func (g *globalFlags) identityOf(name, server string) config.Identity {
	id := config.Identity{Name: name, Server: server}
	f := g.kube
	raw, err := f.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		id.Overridden = true
		return id
	}
	own, known := "", false
	if kctx, ok := raw.Contexts[name]; ok {
		known = true
		if cl, ok := raw.Clusters[kctx.Cluster]; ok {
			own = cl.Server
		}
	}
	if id.Server == "" {
		switch {
		case isSetFlag(f.APIServer):
			id.Server = *f.APIServer
		case isSetFlag(f.ClusterName):
			if cl, ok := raw.Clusters[*f.ClusterName]; ok {
				id.Server = cl.Server
			}
		default:
			id.Server = own
		}
	}
	switch {
	case known:
		id.Overridden = strings.TrimSuffix(id.Server, "/") != strings.TrimSuffix(own, "/")
	case name == config.InCluster:
		id.Overridden = isSetFlag(f.APIServer)
	default:
		id.Overridden = true
	}
	return id
}

func isSetFlag(p *string) bool { return p != nil && *p != "" }

// resolvePolicy is the one place a kube context's safety policy is decided, for the UI (each
// context, at start-up and after :ctx) and the headless actions alike: the read-only mode
// (ResolveMode), whether the whole context is protected and whether a reason is required,
// from the flags, the environment, the user's config and the system-wide config (cfg carries
// it; it only tightens). An overridden identity is protected: its name's policy belongs to
// another server. On an error the policy is read-only.
func (g *globalFlags) resolvePolicy(cfg config.Config, id config.Identity, pf policyFlags) (actions.Policy, Mode, error) {
	key := id.Key()
	mode, err := g.modeFor(cfg, key)
	s := cfg.For(key)
	p := actions.Policy{
		ReadOnly:               mode.ReadOnly || err != nil,
		RequireReason:          pf.requireReason || (s.RequireReason != nil && *s.RequireReason),
		RequireReasonProtected: true,
	}
	switch {
	case id.Overridden:
		p.Protected, p.ProtectedWhy = true, fmt.Sprintf("context %s is treated as protected: a flag points it away from its kubeconfig's server, and its policy belongs to that server", id)
	case s.Protected != nil && *s.Protected:
		p.Protected, p.ProtectedWhy = true, fmt.Sprintf("context %s is protected by the config", id.Name)
	case config.MatchContext(pf.protectedContexts, id.Name):
		p.Protected, p.ProtectedWhy = true, fmt.Sprintf("context %s is protected by --protected-context", id.Name)
	}
	return p, mode, err
}
