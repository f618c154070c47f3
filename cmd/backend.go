package cmd

import (
	"context"
	"errors"
	"time"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/common"
)

// managerBackend is the ui.Backend over a cluster.Manager: the wiring of the
// runtime into the UI, kept out of ui so that ui imports no client-go.
type managerBackend struct {
	// Manager owns the session on screen.
	Manager *cluster.Manager
	// Snapshots is the Manager's subscription (it survives switches).
	Snapshots <-chan estate.Snapshot
	// Actions builds the action provider of a context; nil hides actions.
	Actions func(t cluster.Connection, generation uint64) actionsui.Provider
	// ReadOnly says whether a context is read-only (the header badge).
	ReadOnly func(context string) bool
	// ReadOnlyWhy, when set, is why every context is read-only whatever
	// its settings (no state directory), shown beside READ-ONLY.
	ReadOnlyWhy string
	// Config says whether a context's logs are enabled (logs: false).
	Config config.Config
	// ArgoDiff returns what the d key on an Argo CD application reads in a
	// context, or why there is none (Kubernetes mode).
	ArgoDiff func(kubeContext string) (common.ArgoDiffFunc, string)
	// Start is the context vigil started on, as resolved from the flags;
	// a switch to it asks for the flags' own choice (which also holds
	// in-cluster, where the name is no kubeconfig context's).
	Start string
}

var _ ui.Backend = (*managerBackend)(nil)

// Contexts implements Backend.
func (b *managerBackend) Contexts() []estate.ContextInfo {
	cs, _ := b.Manager.Contexts()
	return cs
}

// Current returns the Feed of the context the Manager shows now.
func (b *managerBackend) Current() ui.Feed {
	t := b.Manager.Connection()
	_, gen := b.Manager.Current()
	s := ui.Feed{OnScreen: ui.OnScreen{Context: t.Context, Server: t.Server, User: t.User, As: t.As, Anonymous: t.Anonymous, Generation: gen}, Snapshots: b.Snapshots}
	if b.Actions != nil {
		s.Actions = b.Actions(t, gen)
	}
	if b.ReadOnly != nil {
		s.ReadOnly = b.ReadOnly(t.Context)
	}
	s.Logs, s.LogsOff = b.logsOpener(t.Context)
	if b.ArgoDiff != nil {
		s.ArgoDiff, s.ArgoDiffOff = b.ArgoDiff(t.Context)
	}
	if b.ReadOnlyWhy != "" {
		s.WriteWarning = b.ReadOnlyWhy
	} else if sess := b.Manager.Session(); s.ReadOnly && sess != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.WriteWarning = sess.Writes(ctx).Warning(true)
		cancel()
	}
	return s
}

// Switch implements Backend.
func (b *managerBackend) Switch(ctx context.Context, name string) (ui.Feed, error) {
	if name == b.Start {
		name = ""
	}
	if _, err := b.Manager.Switch(ctx, name); err != nil {
		return ui.Feed{}, err
	}
	return b.Current(), nil
}

// Fleet implements Backend.
func (b *managerBackend) Fleet(ctx context.Context) (estate.FleetSummary, error) {
	return b.Manager.Fleet(ctx), nil
}

// Manifest implements Backend: a GET through the session on screen.
func (b *managerBackend) Manifest(ctx context.Context, ref estate.ObjectRef) (string, error) {
	sess := b.Manager.Session()
	if sess == nil {
		return "", errors.New("no session: not connected to a context")
	}
	return sess.Manifest(ctx, ref)
}

// Events implements Backend: LISTs through the session on screen.
func (b *managerBackend) Events(ctx context.Context, ref estate.ObjectRef) (estate.ObjectEvents, error) {
	sess := b.Manager.Session()
	if sess == nil {
		return estate.ObjectEvents{}, errors.New("no session: not connected to a context")
	}
	return sess.ObjectEvents(ctx, ref)
}

// logsOpener opens services' logs through the session on screen (its
// client, read-only wrapped when the session is), unless the config turns
// logs off for the context: then it says which setting did.
func (b *managerBackend) logsOpener(kubeContext string) (common.LogsOpener, string) {
	if ls := b.Config.LogsOf(kubeContext); !ls.Enabled {
		return nil, "logs are disabled for context " + kubeContext + " by " + ls.From
	}
	sess := b.Manager.Session()
	if sess == nil {
		return nil, "logs: no session for context " + kubeContext
	}
	return func(ctx context.Context, req common.LogsRequest) (common.LogsFeed, error) {
		st, err := sess.ServiceLogs(ctx, cluster.LogRequest{Namespace: req.Namespace, Service: req.Service, Container: req.Container,
			Previous: req.Previous, Since: req.Since, Follow: !req.Previous})
		if err != nil {
			return common.LogsFeed{}, err
		}
		return common.LogsFeed{Buffer: st.Buffer, Done: st.Done(), Err: st.Err, LeftOut: st.LeftOut}, nil
	}, ""
}
