// Package spec is the vocabulary of vigil's guarded actions, without the machinery that runs
// them: what an action acts on (Object), what it is asked to do (Params), what the operator
// sees before confirming (Preview) and answers (ConfirmRequest, Confirmation, CheckAnswer),
// how an attempt reports (Progress, Outcome, RefusedError), and the Runner through which a
// kube context's actions are asked why they are disabled and started.
//
// The actions package implements Runner over the Kubernetes, Argo CD and Alertmanager APIs; the
// UI speaks only this package, so it never links client-go.
package spec

import "context"

// Runner is one kube context's guarded actions, as the UI reaches them. actions.Runner
// implements it over one guard pipeline, whose one-action-per-object lock spans every caller.
type Runner interface {
	// Context is the kube context the actions act on, part of every typed confirmation.
	Context() string
	// Disabled returns why the action p cannot run on o now ("read-only mode", "forbidden:
	// you cannot patch deployments in fintech-prod", "paused" …), or "" when it can. It asks
	// the API server (RBAC, preconditions): never call it while drawing.
	Disabled(ctx context.Context, p Params, o Object) string
	// Start runs p on o through the guard pipeline in the background and reports on the
	// returned channel, whose last value has Done set; it is closed after. The confirmation
	// is asked of req.Confirmer. A second attempt on a busy object is refused at once, with
	// the error returned here.
	Start(ctx context.Context, p Params, o Object, req Request) (<-chan Progress, error)
}
