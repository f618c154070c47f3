package actions

import (
	"context"
	"fmt"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
)

// Runner is spec.Runner over one kube context's Env: it builds the action each spec.Params
// asks for and sends it through one Pipeline, so the one-attempt-per-object lock spans
// every screen of the TUI. Confirmations are asked of each request's Confirmer.
type Runner struct {
	pl *Pipeline
}

var _ spec.Runner = (*Runner)(nil)

// NewRunner returns the runner of env's context, recording every attempt in log.
func NewRunner(env *Env, log *audit.Log) *Runner {
	return &Runner{pl: &Pipeline{Env: env, Audit: log}}
}

// Context implements spec.Runner.
func (r *Runner) Context() string { return r.pl.Env.Context }

// Disabled implements spec.Runner.
func (r *Runner) Disabled(ctx context.Context, p spec.Params, o spec.Object) string {
	if ep, ok := p.(spec.EmergencyRollbackParams); ok {
		return r.pl.EmergencyDisabled(ctx, o, ep)
	}
	a, err := New(r.pl.Env, p)
	if err != nil {
		return fmt.Sprintf("cannot tell: %v", err)
	}
	return a.Disabled(ctx, o)
}

// Start implements spec.Runner.
// The guided emergency rollback (spec.EmergencyRollbackParams) is a flow of three actions
// behind one confirmation: Pipeline.StartEmergencyRollback.
func (r *Runner) Start(ctx context.Context, p spec.Params, o spec.Object, req spec.Request) (<-chan spec.Progress, error) {
	if ep, ok := p.(spec.EmergencyRollbackParams); ok {
		return r.pl.StartEmergencyRollback(ctx, o, ep, req)
	}
	a, err := New(r.pl.Env, p)
	if err != nil {
		return nil, err
	}
	return r.pl.Start(ctx, a, o, req)
}
