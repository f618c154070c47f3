package ui

import (
	"context"
	"time"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/ui/actionsui"
)

// ManagerBackend is the Backend over a cluster.Manager.
type ManagerBackend struct {
	// Manager owns the session on screen.
	Manager *cluster.Manager
	// Snapshots is the Manager's subscription (it survives switches).
	Snapshots <-chan cluster.Snapshot
	// Actions builds the action provider of a context; nil hides actions.
	Actions func(t cluster.Target, generation uint64) actionsui.Provider
	// ReadOnly says whether a context is read-only (the header badge).
	ReadOnly func(context string) bool
}

var _ Backend = (*ManagerBackend)(nil)

// Contexts implements Backend.
func (b *ManagerBackend) Contexts() []cluster.ContextInfo {
	cs, _ := b.Manager.Contexts()
	return cs
}

// Current returns the Session of the context the Manager shows now.
func (b *ManagerBackend) Current() Session {
	t := b.Manager.Target()
	_, gen := b.Manager.Current()
	s := Session{Target: Target{Context: t.Context, Server: t.Server, User: t.User, Generation: gen}, Snapshots: b.Snapshots}
	if b.Actions != nil {
		s.Actions = b.Actions(t, gen)
	}
	if b.ReadOnly != nil {
		s.ReadOnly = b.ReadOnly(t.Context)
	}
	if sess := b.Manager.Session(); s.ReadOnly && sess != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.WriteWarning = sess.Writes(ctx).Warning(true)
		cancel()
	}
	return s
}

// Switch implements Backend.
func (b *ManagerBackend) Switch(ctx context.Context, name string) (Session, error) {
	if _, err := b.Manager.Switch(ctx, name); err != nil {
		return Session{}, err
	}
	return b.Current(), nil
}

// Fleet implements Backend.
func (b *ManagerBackend) Fleet(ctx context.Context) (cluster.FleetSummary, error) {
	return b.Manager.Fleet(ctx), nil
}
