// Package actions holds vigil's mutations of a cluster — rollback, restart, scale, Argo CD sync
// and rollback, secret refresh, alert silences — and the one guard pipeline every one of them
// passes: read-only → RBAC → preconditions → server-side dry run and preview → confirmation →
// audit record → execute → verify.
//
// An action is a value (Action): its ID, title, the API access it needs, whether it is
// dangerous, how it is confirmed, a Disabled reason, and unexported steps. The steps can only
// be run by Pipeline.Execute: the execute step takes a token that only the pipeline mints, so
// no caller — the TUI, the CLI, a test — can mutate a cluster around the guards.
package actions

import (
	"context"
	"fmt"
	"github.com/vigil-k8s/vigil/actions/spec"
)

// ConfirmKind is how an action is confirmed.
type ConfirmKind int

const (
	// ConfirmAuto asks for the typed target on protected targets and y/n elsewhere.
	ConfirmAuto ConfirmKind = iota
	// ConfirmTyped always asks for the typed target `<context>/<namespace>/<name>`.
	ConfirmTyped
	// ConfirmYesNo asks y/n (Enter alone still refuses).
	ConfirmYesNo
)

func (k ConfirmKind) String() string {
	switch k {
	case ConfirmTyped:
		return "typed"
	case ConfirmYesNo:
		return "y/n"
	default:
		return "auto"
	}
}

// Permission is the Kubernetes permission an action needs, checked with a
// SelfSubjectAccessReview for the object's namespace and name.
type Permission struct {
	Verb, Group, Resource, Subresource string
}

func (a Permission) String() string {
	r := a.Resource
	if a.Group != "" {
		r += "." + a.Group
	}
	if a.Subresource != "" {
		r += "/" + a.Subresource
	}
	return a.Verb + " " + r
}

// previewed is a preview and the plan behind it: the execute step applies the plan, exactly
// as previewed and confirmed, and no recomputation of its own.
type previewed struct {
	spec.Preview
	plan any
}

// executed is what an execute step reports, and what its verify step needs (the restartedAt
// it set …).
type executed struct {
	spec.Result
	state any
	// followUps are what the outcome offers next, once verified.
	followUps spec.FollowUps
}

// execToken is minted only by Pipeline.Execute (pipeline.go); an action's execute step
// requires one, so the guards cannot be bypassed from inside this package either without it
// showing up in review (TestOnlyThePipelineMintsExecTokens).
// It carries what the pipeline learned that an execute step may need.
type execToken struct {
	attempt string
	user    string // the kube user (SelfSubjectReview)
	reason  string // the operator's reason
	plan    any    // the previewed plan (Preview.plan), nil when the action has none
}

// steps are an action's unexported stages.
type steps struct {
	// precheck returns a non-empty reason when the target's state forbids the action
	// (paused, auto-sync on, sync window closed, operation in progress …).
	precheck func(ctx context.Context, t spec.Object) (reason string, err error)
	// preview describes the change and runs the server-side dry run.
	preview func(ctx context.Context, t spec.Object) (previewed, error)
	// execute performs the change.
	execute func(ctx context.Context, tok execToken, t spec.Object, progress func(string)) (executed, error)
	// verify checks the change landed, given what execute returned; nil means nothing more
	// to check.
	verify func(ctx context.Context, t spec.Object, res executed, progress func(string)) (string, error)
	// outcome, when set, says the change only requested an operation another controller
	// runs (an Argo CD sync): the finished record says "requested", and the pipeline then
	// waits with it for what became of the operation (see Pipeline.OperationWait).
	outcome func(ctx context.Context, t spec.Object, res executed, progress func(string)) (operationResult, error)
}

// operationResult is what became of a requested operation.
type operationResult struct {
	// Failed is true when the operation ended in failure (Argo CD's Failed or Error).
	Failed bool
	// Message says so, as the controller reported it.
	Message string
}

// Action is one guarded operation, bound to a kube context's Env and to its parameters.
type Action struct {
	// ID is stable and used in the audit log and CLI (rollback, restart, scale, argo-sync …).
	ID string
	// Title is the human name shown in menus.
	Title string
	// Permission is the Kubernetes permission it needs; nil when it does not act through the
	// Kubernetes API (Alertmanager silences). An empty Resource stands for the target's kind
	// (deployments, statefulsets, daemonsets): see PermissionFor.
	Permission *Permission
	// Dangerous actions are highlighted and never take a default answer.
	Dangerous bool
	// Confirm is how it is confirmed.
	Confirm ConfirmKind
	// Params describes the parameters for the audit log ("to-revision=3").
	Params string

	env   *Env
	steps steps
}

// newAction is the action p describes, bound to env and needing perm (nil when it does not
// act through the Kubernetes API): its ID, title, danger and audit parameters are p's.
func newAction(env *Env, p spec.Params, perm *Permission) *Action {
	about := p.About()
	return &Action{ID: about.ID, Title: about.Title, Dangerous: about.Dangerous, Confirm: ConfirmAuto,
		Params: p.String(), Permission: perm, env: env}
}

// New is the action p asks for, bound to env.
func New(env *Env, p spec.Params) (*Action, error) {
	switch p := p.(type) {
	case spec.RestartParams:
		return Restart(env), nil
	case spec.RollbackParams:
		return Rollback(env, p), nil
	case spec.ScaleParams:
		return Scale(env, p), nil
	case spec.SecretRefreshParams:
		return RefreshSecret(env, p), nil
	case spec.ArgoSyncParams:
		return ArgoSync(env, p), nil
	case spec.ArgoRollbackParams:
		return ArgoRollback(env, p), nil
	case spec.SilenceParams:
		return SilenceAlert(env, p), nil
	case spec.ExpireSilenceParams:
		return ExpireSilence(env), nil
	case spec.SuspendAutoSyncParams:
		return SuspendAutoSync(env, p), nil
	case spec.ResumeAutoSyncParams:
		return ResumeAutoSync(env), nil
	}
	return nil, fmt.Errorf("no action takes parameters of type %T", p)
}

// PermissionFor is the exact permission the action needs on t, checked by a
// SelfSubjectAccessReview for t's namespace and name.
func (a *Action) PermissionFor(t spec.Object) *Permission {
	if a.Permission == nil {
		return nil
	}
	acc := *a.Permission
	if acc.Resource == "" {
		acc.Resource = resourceOf(t.Kind)
	}
	return &acc
}

// Disabled returns why the action cannot run on t now, or "" when it can: "read-only mode",
// "forbidden: you cannot patch deployments in fintech-prod", "paused", "auto-sync is on",
// "sync window closed" … The UI shows a disabled action with this reason.
func (a *Action) Disabled(ctx context.Context, t spec.Object) string {
	stage, reason, err := a.guards(ctx, t)
	if err != nil {
		return fmt.Sprintf("cannot tell (%s): %v", stage, err)
	}
	return reason
}

// guards runs the first three pipeline stages and returns the first refusal.
func (a *Action) guards(ctx context.Context, t spec.Object) (spec.Stage, string, error) {
	if a.env.ReadOnly {
		return spec.StageReadOnly, "read-only mode", nil
	}
	if acc := a.PermissionFor(t); acc != nil {
		reason, err := a.env.allowed(ctx, *acc, t)
		if err != nil || reason != "" {
			return spec.StageRBAC, reason, err
		}
	}
	if a.steps.precheck != nil {
		reason, err := a.steps.precheck(ctx, t)
		if err != nil || reason != "" {
			return spec.StagePreconditions, reason, err
		}
	}
	return "", "", nil
}
