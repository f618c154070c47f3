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
	"strings"
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

// Access is the Kubernetes permission an action needs, checked with a SelfSubjectAccessReview
// for the target's namespace and name.
type Access struct {
	Verb, Group, Resource, Subresource string
}

func (a Access) String() string {
	r := a.Resource
	if a.Group != "" {
		r += "." + a.Group
	}
	if a.Subresource != "" {
		r += "/" + a.Subresource
	}
	return a.Verb + " " + r
}

// Target is what an action acts on.
type Target struct {
	// Kind is Deployment, StatefulSet, DaemonSet, Application, ExternalSecret,
	// ClusterExternalSecret, Alert or Silence.
	Kind string
	// Namespace is empty for cluster-scoped objects (and for Alertmanager silences).
	Namespace string
	// Name is the object's name (an alert's alertname, a silence's ID).
	Name string
}

func (t Target) String() string {
	if t.Namespace == "" {
		return strings.ToLower(t.Kind) + "/" + t.Name
	}
	return strings.ToLower(t.Kind) + "/" + t.Namespace + "/" + t.Name
}

// ConfirmText is what an operator types to confirm an action on t in a kube context:
// `<context>/<namespace>/<name>` (`<context>/<name>` when t has no namespace).
func (t Target) ConfirmText(kubeContext string) string {
	if t.Namespace == "" {
		return kubeContext + "/" + t.Name
	}
	return kubeContext + "/" + t.Namespace + "/" + t.Name
}

// Preview is what an operator sees before confirming.
type Preview struct {
	// Summary is one line: what will happen.
	Summary string
	// Details are the lines of the difference (images, env names, resources, probes …).
	Details []string
	// Warnings are things to read twice (an HPA owns the replicas, pods will restart …).
	Warnings []string
	// DryRun is the outcome of the server-side dry run ("server dry-run: ok", or why none).
	DryRun string
	// Namespaces are other namespaces the action changes (an Argo CD application's
	// destination), considered when deciding whether the target is protected.
	Namespaces []string
	// Unpinned, when set, says why the change's reach cannot be bounded to known
	// namespaces (a silence without a namespace matcher, an Argo CD application
	// deploying to another cluster): the target is then treated as protected.
	Unpinned string
	// Plan is what execution will do, exactly as previewed and confirmed (the
	// revision, the matchers, the resourceVersion it was computed from), as
	// key=value lines for the audit record.
	Plan []string

	// plan is the same plan for the execute step, which applies it and no
	// recomputation of its own.
	plan any
}

// String renders the preview as plain text for a terminal or a runbook log.
func (p Preview) String() string {
	var b strings.Builder
	b.WriteString(p.Summary)
	b.WriteByte('\n')
	for _, d := range p.Details {
		b.WriteString("  " + d + "\n")
	}
	for _, w := range p.Warnings {
		b.WriteString("  warning: " + w + "\n")
	}
	if p.DryRun != "" {
		b.WriteString("  " + p.DryRun + "\n")
	}
	return b.String()
}

// Result is what an executed action reports.
type Result struct {
	// Message is the outcome in a line ("rolled back", "synced to 11a4ab0 requested" …).
	Message string
	// Verified says what the verify step observed.
	Verified string

	// state carries what execute knows and verify needs (the restartedAt it set …).
	state any
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
	precheck func(ctx context.Context, t Target) (reason string, err error)
	// preview describes the change and runs the server-side dry run.
	preview func(ctx context.Context, t Target) (Preview, error)
	// execute performs the change.
	execute func(ctx context.Context, tok execToken, t Target, progress func(string)) (Result, error)
	// verify checks the change landed, given what execute returned; nil means nothing more
	// to check.
	verify func(ctx context.Context, t Target, res Result, progress func(string)) (string, error)
}

// Action is one guarded operation, bound to a kube context's Env and to its parameters.
type Action struct {
	// ID is stable and used in the audit log and CLI (rollback, restart, scale, argo-sync …).
	ID string
	// Title is the human name shown in menus.
	Title string
	// Access is the Kubernetes permission it needs; nil when it does not act through the
	// Kubernetes API (Alertmanager silences). An empty Resource stands for the target's kind
	// (deployments, statefulsets, daemonsets): see AccessFor.
	Access *Access
	// Dangerous actions are highlighted and never take a default answer.
	Dangerous bool
	// Confirm is how it is confirmed.
	Confirm ConfirmKind
	// Params describes the parameters for the audit log ("to-revision=3").
	Params string

	env   *Env
	steps steps
}

// AccessFor is the exact permission the action needs on t, checked by a
// SelfSubjectAccessReview for t's namespace and name.
func (a *Action) AccessFor(t Target) *Access {
	if a.Access == nil {
		return nil
	}
	acc := *a.Access
	if acc.Resource == "" {
		acc.Resource = resourceOf(t.Kind)
	}
	return &acc
}

// Disabled returns why the action cannot run on t now, or "" when it can: "read-only mode",
// "forbidden: you cannot patch deployments in fintech-prod", "paused", "auto-sync is on",
// "sync window closed" … The UI shows a disabled action with this reason.
func (a *Action) Disabled(ctx context.Context, t Target) string {
	stage, reason, err := a.guards(ctx, t)
	if err != nil {
		return fmt.Sprintf("cannot tell (%s): %v", stage, err)
	}
	return reason
}

// guards runs the first three pipeline stages and returns the first refusal.
func (a *Action) guards(ctx context.Context, t Target) (Stage, string, error) {
	if a.env.ReadOnly {
		return StageReadOnly, "read-only mode", nil
	}
	if acc := a.AccessFor(t); acc != nil {
		reason, err := a.env.allowed(ctx, *acc, t)
		if err != nil || reason != "" {
			return StageRBAC, reason, err
		}
	}
	if a.steps.precheck != nil {
		reason, err := a.steps.precheck(ctx, t)
		if err != nil || reason != "" {
			return StagePreconditions, reason, err
		}
	}
	return "", "", nil
}
